package realtime

import (
	"bufio"
	"net"
	"net/http"
)

// The buffers a WebSocket connection reads and writes through. The HTTP
// server hands over 4 KiB of each on upgrade, and an idle connection keeps
// them for its whole life: 8 KiB of its ~20. Chat frames are small, a
// message larger than a buffer is read or written past it (bufio does that
// by itself), so smaller ones cost a system call only on the rare large
// frame.
const (
	readBufferSize  = 1 << 10
	writeBufferSize = 1 << 10
)

// smallBuffers is the ResponseWriter given to websocket.Accept: its Hijack
// swaps the HTTP server's buffers for smaller ones. The reader stays when
// it holds bytes the client sent right behind its upgrade request
// (websocket.Accept reads them from there).
type smallBuffers struct {
	http.ResponseWriter
}

func (w smallBuffers) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	if err := brw.Writer.Flush(); err != nil {
		nc.Close()
		return nil, nil, err
	}
	br := brw.Reader
	if br.Buffered() == 0 { // else the client wrote on behind its request: keep what was read
		br = bufio.NewReaderSize(nc, readBufferSize)
	}
	return nc, bufio.NewReadWriter(br, bufio.NewWriterSize(nc, writeBufferSize)), nil
}
