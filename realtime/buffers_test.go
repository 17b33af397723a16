package realtime_test

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"regulars"
	"regulars/internal/testenv"
	"regulars/realtime"
)

// The connection reads and writes through buffers smaller than the HTTP
// server's (realtime/buffers.go): frames larger than them pass whole both
// ways, and bytes a client sends right behind its upgrade request are not
// lost in the swap. Transport only, so SQLite alone.
func TestFramesPastTheBuffers(t *testing.T) {
	w := newWorld(t, testenv.OpenSQLite(t))
	_, annHeader := w.agent(w.w.Partner.ID, "ann@alpha.example", regulars.LevelUpdate)
	_, token := w.follower("mia@example.com")

	t.Run("auth sent with the upgrade request", func(t *testing.T) {
		u, _ := url.Parse(w.srv.URL)
		nc, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(10 * time.Second))
		auth, _ := json.Marshal(map[string]string{"type": "auth", "token": token})
		req := "GET " + realtime.Path + " HTTP/1.1\r\nHost: " + u.Host +
			"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
		if _, err := nc.Write(append([]byte(req), clientFrame(auth)...)); err != nil { // one write: the server reads both at once
			t.Fatal(err)
		}
		br := bufio.NewReader(nc)
		res, err := http.ReadResponse(br, nil)
		if err != nil || res.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("upgrade: %v %v", res, err)
		}
		payload := serverFrame(t, br)
		if !strings.Contains(payload, `"type":"hello"`) || !strings.Contains(payload, `"role":"follower"`) {
			t.Fatalf("after an auth sent with the upgrade: %s", payload)
		}
	})

	t.Run("messages larger than the buffers", func(t *testing.T) {
		a := dial(t, "ann", w.srv.URL, annHeader, "")
		f := dial(t, "mia", w.srv.URL, nil, "?token="+url.QueryEscape(token))
		for _, c := range []*client{a, f} {
			c.await("hello", func(f frame) bool { return f.Type == "hello" })
		}
		long := strings.Repeat("é", regulars.MaxChatText) // 8,000 bytes
		f.send(map[string]any{"type": "send", "channel_id": w.w.Channel.ID, "text": long, "client_id": "l1", "ref": "1"})
		conv := f.await("ack", func(f frame) bool { return f.Type == "ack" && f.Ref == "1" }).Conversation.ID
		a.await("the long message, whole", isMessage(long))
		for i := range 4 {
			a.send(map[string]any{"type": "send", "conversation_id": conv, "text": fmt.Sprint(i) + long[2:], "ref": fmt.Sprint(i)})
			a.await("ack", func(f frame) bool { return f.Type == "ack" && f.Ref == fmt.Sprint(i) })
		}
		f.send(map[string]any{"type": "sync", "conversation_id": conv, "after_seq": 0, "ref": "s"})
		got := f.await("synced", func(f frame) bool { return f.Type == "synced" })
		var chars int
		for _, m := range got.Messages {
			if m.Kind == regulars.MessageText && m.Text != long && !strings.HasSuffix(m.Text, long[2:]) {
				t.Fatalf("a message came back cut: %d bytes", len(m.Text))
			}
			chars += len(m.Text)
		}
		if chars < 5*len(long)-5 {
			t.Fatalf("sync gave %d messages, %d bytes of text", len(got.Messages), chars)
		}
	})
}

// clientFrame is a final masked text frame, as a client must send it.
func clientFrame(payload []byte) []byte {
	b := []byte{0x81}
	switch n := len(payload); {
	case n < 126:
		b = append(b, 0x80|byte(n))
	default:
		b = append(b, 0x80|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	}
	key := [4]byte{1, 2, 3, 4}
	b = append(b, key[:]...)
	for i, c := range payload {
		b = append(b, c^key[i%4])
	}
	return b
}

// serverFrame reads one unmasked text frame.
func serverFrame(t *testing.T, br *bufio.Reader) string {
	t.Helper()
	var h [2]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		t.Fatal(err)
	}
	if h[0] != 0x81 {
		t.Fatalf("frame header %x", h)
	}
	n := int(h[1] & 0x7f)
	switch n {
	case 126:
		var l [2]byte
		io.ReadFull(br, l[:])
		n = int(binary.BigEndian.Uint16(l[:]))
	case 127:
		var l [8]byte
		io.ReadFull(br, l[:])
		n = int(binary.BigEndian.Uint64(l[:]))
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(br, p); err != nil {
		t.Fatal(err)
	}
	return string(p)
}
