package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// WebSocket mode: dial loopback WebSocket servers, hold many connections
// open, and time messages from the moment they are written to the moment
// a connection of this process reads them (same clock, so no skew). The
// bare baseline is EchoHandler, built with the same library.

// DialWS opens a WebSocket to a ws:// URL on a loopback host; like the
// HTTP mode it never dials anything else and uses no proxy.
func DialWS(ctx context.Context, rawURL string, header http.Header) (*websocket.Conn, error) {
	if !strings.HasPrefix(rawURL, "ws://") {
		return nil, fmt.Errorf("loadgen: %q is not a ws:// URL", rawURL)
	}
	if err := CheckTarget(ctx, rawURL); err != nil {
		return nil, err
	}
	c, _, err := websocket.Dial(ctx, rawURL, &websocket.DialOptions{
		HTTPClient: &http.Client{Transport: newTransport(1)},
		HTTPHeader: header,
	})
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(1 << 20)
	return c, nil
}

// DialMany opens n connections, at most parallel at a time, each with the
// URL url(i) gives, and calls ready(i, conn) for each; ready may wait for
// a first message. It returns the connections in order.
func DialMany(ctx context.Context, n, parallel int, url func(i int) string, ready func(i int, c *websocket.Conn) error) ([]*websocket.Conn, error) {
	conns := make([]*websocket.Conn, n)
	errs := make(chan error, n)
	sem := make(chan struct{}, max(parallel, 1))
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := DialWS(ctx, url(i), nil)
			if err == nil && ready != nil {
				err = ready(i, c)
			}
			if err != nil {
				errs <- fmt.Errorf("connection %d: %w", i, err)
				return
			}
			conns[i] = c
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		for _, c := range conns {
			if c != nil {
				c.CloseNow()
			}
		}
		return nil, err
	}
	return conns, nil
}

// EchoHandler is the bare baseline: it accepts a WebSocket and writes back
// every message it reads, from the reading goroutine.
func EchoHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx := context.Background()
		for {
			typ, data, err := c.Read(ctx)
			if err != nil {
				return
			}
			if err := c.Write(ctx, typ, data); err != nil {
				return
			}
		}
	})
}

// MemStats is a server's memory as MemStatsHandler reports it.
type MemStats struct {
	HeapInuse  uint64 `json:"heap_inuse"`
	StackInuse uint64 `json:"stack_inuse"`
	Goroutines int    `json:"goroutines"`
}

// InUse is the memory that live objects and goroutine stacks hold.
func (m MemStats) InUse() uint64 { return m.HeapInuse + m.StackInuse }

// MemStatsHandler collects garbage and reports the memory in use, so that
// a benchmark can compute the memory per connection of the process that
// serves it. Mount it only in benchmark servers.
func MemStatsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		json.NewEncoder(w).Encode(MemStats{HeapInuse: ms.HeapInuse, StackInuse: ms.StackInuse, Goroutines: runtime.NumGoroutine()})
	})
}

// ReadMemStats asks a MemStatsHandler.
func ReadMemStats(ctx context.Context, url string) (MemStats, error) {
	if err := CheckTarget(ctx, url); err != nil {
		return MemStats{}, err
	}
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	res, err := newClient(newTransport(1), 30*time.Second).Do(req)
	if err != nil {
		return MemStats{}, err
	}
	defer res.Body.Close()
	var m MemStats
	return m, json.NewDecoder(res.Body).Decode(&m)
}

// Meter times messages by id from Sent to Received. It is safe for
// concurrent use. A message received twice counts once; Lost counts those
// sent and never received.
type Meter struct {
	mu       sync.Mutex
	sent     map[string]time.Time
	h        Histogram
	received int
	start    time.Time
	last     time.Time
}

// NewMeter starts a measurement now.
func NewMeter() *Meter { return &Meter{sent: map[string]time.Time{}, start: time.Now()} }

// Sent records that message id was written at at.
func (m *Meter) Sent(id string, at time.Time) {
	m.mu.Lock()
	m.sent[id] = at
	m.mu.Unlock()
}

// Received records that message id was read at at; it reports whether id
// was waiting (false for an unknown or repeated id).
func (m *Meter) Received(id string, at time.Time) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.sent[id]
	if !ok {
		return false
	}
	delete(m.sent, id)
	m.h.Record(at.Sub(t))
	m.received++
	if at.After(m.last) {
		m.last = at
	}
	return true
}

// WSResult summarises a WebSocket run.
type WSResult struct {
	Messages int           `json:"messages"` // received, once each
	Lost     int           `json:"lost"`     // sent, never received
	Elapsed  time.Duration `json:"elapsed_ns"`
	Rate     float64       `json:"rate"` // messages received per second
	P50      time.Duration `json:"p50_ns"`
	P90      time.Duration `json:"p90_ns"`
	P99      time.Duration `json:"p99_ns"`
	Max      time.Duration `json:"max_ns"`
}

// Result summarises the run so far; elapsed is the sending time (the
// rate divides by it).
func (m *Meter) Result(elapsed time.Duration) WSResult {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := WSResult{Messages: m.received, Lost: len(m.sent), Elapsed: elapsed,
		P50: m.h.Quantile(0.5), P90: m.h.Quantile(0.9), P99: m.h.Quantile(0.99), Max: m.h.Max()}
	if elapsed > 0 {
		r.Rate = float64(m.received) / elapsed.Seconds()
	}
	return r
}

// String is a one-line summary.
func (r WSResult) String() string {
	return fmt.Sprintf("%d messages in %.1fs, %.0f msg/s; send→receipt p50 %s p90 %s p99 %s max %s; %d lost",
		r.Messages, r.Elapsed.Seconds(), r.Rate, formatDuration(r.P50), formatDuration(r.P90), formatDuration(r.P99), formatDuration(r.Max), r.Lost)
}

// Pace calls send(i) for i = 0, 1, 2 … at rate calls per second (open
// loop: the pace does not wait for answers), until d has passed or ctx
// ends. Calls run in their own goroutines when they would fall behind.
func Pace(ctx context.Context, rate int, d time.Duration, send func(i int)) time.Duration {
	start := time.Now()
	interval := time.Second / time.Duration(max(rate, 1))
	var wg sync.WaitGroup
	for i := 0; ; i++ {
		due := start.Add(time.Duration(i) * interval)
		if due.Sub(start) >= d || ctx.Err() != nil {
			break
		}
		if wait := time.Until(due); wait > 0 {
			time.Sleep(wait)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			send(i)
		}()
	}
	wg.Wait()
	return time.Since(start)
}
