package loadgen

import (
	"context"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// The echo baseline and the meter: every message paced out comes back,
// is timed once, and nothing is lost.
func TestEchoAndMeter(t *testing.T) {
	srv := httptest.NewServer(EchoHandler())
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	conns, err := DialMany(t.Context(), 10, 4, func(int) string { return url }, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := NewMeter()
	done := make(chan struct{}, 200)
	for _, c := range conns {
		go func() {
			for {
				_, data, err := c.Read(context.Background())
				if err != nil {
					return
				}
				if m.Received(string(data), time.Now()) {
					done <- struct{}{}
				}
			}
		}()
	}
	elapsed := Pace(t.Context(), 400, 250*time.Millisecond, func(i int) {
		id := strconv.Itoa(i)
		m.Sent(id, time.Now())
		conns[i%len(conns)].Write(context.Background(), websocket.MessageText, []byte(id))
	})
	for range 100 {
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("messages did not come back")
		}
	}
	r := m.Result(elapsed)
	if r.Messages != 100 || r.Lost != 0 || r.P99 <= 0 || r.Rate < 200 {
		t.Fatalf("result %s", r)
	}
	if m.Received("0", time.Now()) {
		t.Fatal("a message counted twice")
	}
	for _, c := range conns {
		c.CloseNow()
	}
	if _, err := DialWS(t.Context(), "ws://example.com/", nil); err == nil {
		t.Fatal("dialled a host that is not loopback")
	}
}
