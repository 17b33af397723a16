package realtime

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// Frames queued together leave as few WebSocket messages, a frame per
// line, in order, none over maxCoalesced unless one frame alone is larger.
func TestQueuedFramesShareMessages(t *testing.T) {
	queued := make(chan *conn, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			t.Error(err)
			return
		}
		ctx, cancel := context.WithCancel(context.Background())
		c := &conn{hub: &Hub{opts: Options{MaxQueued: 1 << 20}}, ws: ws, ctx: ctx, cancel: cancel}
		// Queue everything before the writer starts, as when frames pile
		// up while it writes.
		c.writing = true
		for i := range 300 {
			c.send(fmt.Appendf(nil, `{"type":"message","n":%d,"pad":%q}`, i, strings.Repeat("x", i%7*40)))
		}
		c.send([]byte(`{"type":"big","pad":"` + strings.Repeat("y", maxCoalesced) + `"}`))
		c.send([]byte(`{"type":"last"}`))
		queued <- c
		c.writeLoop()
		<-ctx.Done()
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	ws.SetReadLimit(1 << 20)
	c := <-queued
	defer c.cancel()
	var frames []string
	messages := 0
	for len(frames) < 302 {
		_, data, err := ws.Read(ctx)
		if err != nil {
			t.Fatalf("after %d frames: %v", len(frames), err)
		}
		messages++
		lines := bytes.Split(data, []byte("\n"))
		if len(data) > maxCoalesced && len(lines) > 1 {
			t.Errorf("a message of %d bytes holds %d frames", len(data), len(lines))
		}
		for _, l := range lines {
			frames = append(frames, string(l))
		}
	}
	for i := range 300 {
		if want := fmt.Sprintf(`{"type":"message","n":%d,`, i); !strings.HasPrefix(frames[i], want) {
			t.Fatalf("frame %d is %.40s…, want %s…", i, frames[i], want)
		}
	}
	if !strings.HasPrefix(frames[300], `{"type":"big"`) || frames[301] != `{"type":"last"}` {
		t.Fatalf("the last frames: %.20s…, %s", frames[300], frames[301])
	}
	if messages > 20 {
		t.Errorf("%d frames came in %d messages: not joined", len(frames), messages)
	}
	t.Logf("%d frames in %d messages", len(frames), messages)
}
