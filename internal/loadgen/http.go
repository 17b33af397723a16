package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultTimeout bounds a single request when HTTPConfig.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// HTTPConfig describes one closed-loop HTTP run: Concurrency workers each
// send a request, wait for the whole response, and immediately send the
// next, over keep-alive connections.
//
// At least one of Duration and MaxRequests must be set; the run stops at
// whichever comes first. Warmup, if set, runs the same workload for that
// long before measuring; warmup requests are neither counted nor charged
// against MaxRequests, and their connections are reused by the measured
// phase.
type HTTPConfig struct {
	Method string // default GET
	URL    string // must be http or https on a loopback host
	// Header is sent with every request. A "Host" entry sets the request's
	// Host. Go's transport adds no Accept-Encoding, so responses arrive
	// uncompressed unless Header asks otherwise.
	Header      http.Header
	Body        []byte
	Concurrency int           // number of workers; 0 means 1
	Duration    time.Duration // measured time; 0 means no time limit
	MaxRequests int           // measured requests; 0 means no count limit
	Warmup      time.Duration // unmeasured run before measuring
	// Timeout bounds each request, from sending to the end of the body;
	// 0 means DefaultTimeout. A request that exceeds it counts as an error.
	Timeout time.Duration
}

func (c *HTTPConfig) validate() error {
	switch {
	case c.Duration < 0, c.MaxRequests < 0, c.Warmup < 0, c.Timeout < 0, c.Concurrency < 0:
		return errors.New("loadgen: Concurrency, Duration, MaxRequests, Warmup and Timeout must not be negative")
	case c.Duration == 0 && c.MaxRequests == 0:
		return errors.New("loadgen: set Duration or MaxRequests (or both) so the run is bounded")
	case c.URL == "":
		return errors.New("loadgen: URL is required")
	}
	if strings.HasPrefix(c.URL, "ws:") || strings.HasPrefix(c.URL, "wss:") {
		return fmt.Errorf("loadgen: %q is a WebSocket URL; RunHTTP needs http or https", c.URL)
	}
	return nil
}

// newTransport returns a transport tuned for conns concurrent keep-alive
// connections to one host. It never uses a proxy and refuses to dial any
// non-loopback address.
func newTransport(conns int) *http.Transport {
	d := &net.Dialer{
		Timeout:   5 * time.Second,
		KeepAlive: 30 * time.Second,
		Control:   loopbackOnly,
	}
	return &http.Transport{
		Proxy:               nil, // never send traffic through a proxy
		DialContext:         d.DialContext,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 5 * time.Second,
		DisableCompression:  true,
	}
}

// newClient returns a client over t that does not follow redirects, so a
// redirect (for example to a login page) is counted under its own status
// and cannot lead elsewhere.
func newClient(t *http.Transport, timeout time.Duration) *http.Client {
	return &http.Client{
		Transport: t,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// RunHTTP runs the load described by cfg and returns its measurements.
//
// It refuses, without sending anything, a config with neither Duration nor
// MaxRequests, and a URL whose host is not loopback (see CheckTarget).
// Requests still in flight when Duration expires are abandoned and not
// counted, so the run ends on time even against a stalled server.
//
// If ctx is cancelled during the measured phase, RunHTTP returns the
// partial Result together with ctx.Err().
func RunHTTP(ctx context.Context, cfg HTTPConfig) (Result, error) {
	if err := cfg.validate(); err != nil {
		return Result{}, err
	}
	if err := CheckTarget(ctx, cfg.URL); err != nil {
		return Result{}, err
	}
	if cfg.Method == "" {
		cfg.Method = http.MethodGet
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = 1
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	// Build one request up front so a bad method or URL fails here rather
	// than as an error on every request.
	if _, err := http.NewRequestWithContext(ctx, cfg.Method, cfg.URL, nil); err != nil {
		return Result{}, fmt.Errorf("loadgen: %w", err)
	}

	tr := newTransport(cfg.Concurrency)
	defer tr.CloseIdleConnections()
	r := &httpRun{cfg: &cfg, client: newClient(tr, cfg.Timeout)}

	if cfg.Warmup > 0 {
		r.phase(ctx, time.Now().Add(cfg.Warmup), false)
		if err := ctx.Err(); err != nil {
			return Result{}, err
		}
	}

	runCtx := ctx
	if cfg.Duration > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, cfg.Duration)
		defer cancel()
	}
	start := time.Now()
	workers := r.phase(runCtx, time.Time{}, true)
	elapsed := time.Since(start)

	res := Result{Status: make(map[int]int)}
	var hist Histogram
	for _, w := range workers {
		res.Requests += w.requests
		res.Errors += w.errors
		res.Bytes += w.bytes
		for code, n := range w.status {
			res.Status[code] += n
		}
		if res.FirstError == "" && w.firstErr != nil {
			res.FirstError = w.firstErr.Error()
		}
		hist.Merge(&w.hist)
	}
	res.setLatency(&hist)
	res.setElapsed(elapsed)
	return res, ctx.Err()
}

// httpRun holds what the workers of one RunHTTP call share.
type httpRun struct {
	cfg    *HTTPConfig
	client *http.Client
}

// workerStats is one worker's private tally, merged after the run.
type workerStats struct {
	requests, errors int
	bytes            int64
	status           map[int]int
	firstErr         error
	hist             Histogram
}

// phase runs cfg.Concurrency workers until ctx is done, or, if until is
// non-zero, until that time has passed (requests in flight then are
// allowed to finish), or, when measuring, until MaxRequests have been
// sent. It returns the workers' tallies.
func (r *httpRun) phase(ctx context.Context, until time.Time, measure bool) []*workerStats {
	var tickets atomic.Int64
	limit := int64(0)
	if measure {
		limit = int64(r.cfg.MaxRequests)
	}
	workers := make([]*workerStats, r.cfg.Concurrency)
	var wg sync.WaitGroup
	for i := range workers {
		w := &workerStats{status: make(map[int]int)}
		workers[i] = w
		wg.Go(func() {
			header := r.cfg.Header.Clone()
			host := header.Get("Host")
			header.Del("Host")
			for ctx.Err() == nil {
				if !until.IsZero() && !time.Now().Before(until) {
					return
				}
				if limit > 0 && tickets.Add(1) > limit {
					return
				}
				if !r.do(ctx, w, header, host) {
					return
				}
			}
		})
	}
	wg.Wait()
	return workers
}

// do sends one request and records it in w. It returns false if the
// request was cut short by ctx, in which case nothing is recorded.
func (r *httpRun) do(ctx context.Context, w *workerStats, header http.Header, host string) bool {
	var body io.Reader
	if len(r.cfg.Body) > 0 {
		body = bytes.NewReader(r.cfg.Body)
	}
	req, err := http.NewRequestWithContext(ctx, r.cfg.Method, r.cfg.URL, body)
	if err != nil { // validated in RunHTTP; cannot happen
		w.fail(err)
		return false
	}
	if header != nil {
		req.Header = header
	}
	if host != "" {
		req.Host = host
	}

	t0 := time.Now()
	resp, err := r.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return false
		}
		w.fail(err)
		return true
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	latency := time.Since(t0)
	if err != nil {
		if ctx.Err() != nil {
			return false
		}
		w.fail(fmt.Errorf("reading body: %w", err))
		return true
	}
	w.requests++
	w.bytes += n
	w.status[resp.StatusCode]++
	w.hist.Record(latency)
	return true
}

func (w *workerStats) fail(err error) {
	w.requests++
	w.errors++
	if w.firstErr == nil {
		w.firstErr = err
	}
}
