package httpx

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Metrics counts requests and latencies by route pattern and writes them in
// the Prometheus text format.
type Metrics struct {
	mu     sync.Mutex
	series map[seriesKey]*series
	gauges []func(w io.Writer)
}

type seriesKey struct {
	method, route string
	class         int // status / 100
}

var buckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}

type series struct {
	count  atomic.Int64
	sumNS  atomic.Int64
	bucket [12]atomic.Int64
}

// NewMetrics returns an empty registry.
func NewMetrics() *Metrics { return &Metrics{series: map[seriesKey]*series{}} }

// AddGauges registers a function that writes extra metrics (e.g. DB pools).
func (m *Metrics) AddGauges(fn func(w io.Writer)) { m.gauges = append(m.gauges, fn) }

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer
// (flushing, hijacking for WebSockets).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Middleware records each request under its matched route pattern.
func (m *Metrics) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		m.observe(seriesKey{r.Method, route, sw.status / 100}, time.Since(start))
	})
}

func (m *Metrics) observe(k seriesKey, d time.Duration) {
	m.mu.Lock()
	s := m.series[k]
	if s == nil {
		s = &series{}
		m.series[k] = s
	}
	m.mu.Unlock()
	s.count.Add(1)
	s.sumNS.Add(int64(d))
	sec := d.Seconds()
	for i, b := range buckets {
		if sec <= b {
			s.bucket[i].Add(1)
		}
	}
}

// ServeHTTP writes the metrics.
func (m *Metrics) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	m.mu.Lock()
	keys := make([]seriesKey, 0, len(m.series))
	for k := range m.series {
		keys = append(keys, k)
	}
	m.mu.Unlock()
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.route != b.route {
			return a.route < b.route
		}
		if a.method != b.method {
			return a.method < b.method
		}
		return a.class < b.class
	})
	fmt.Fprintln(w, "# HELP regulars_http_requests_total HTTP requests by route, method and status class.")
	fmt.Fprintln(w, "# TYPE regulars_http_requests_total counter")
	for _, k := range keys {
		m.mu.Lock()
		s := m.series[k]
		m.mu.Unlock()
		fmt.Fprintf(w, "regulars_http_requests_total{method=%q,route=%q,status=\"%dxx\"} %d\n", k.method, esc(k.route), k.class, s.count.Load())
	}
	fmt.Fprintln(w, "# HELP regulars_http_request_duration_seconds HTTP request latency by route.")
	fmt.Fprintln(w, "# TYPE regulars_http_request_duration_seconds histogram")
	for _, k := range keys {
		m.mu.Lock()
		s := m.series[k]
		m.mu.Unlock()
		labels := fmt.Sprintf("method=%q,route=%q,status=\"%dxx\"", k.method, esc(k.route), k.class)
		for i, b := range buckets {
			fmt.Fprintf(w, "regulars_http_request_duration_seconds_bucket{%s,le=\"%g\"} %d\n", labels, b, s.bucket[i].Load())
		}
		fmt.Fprintf(w, "regulars_http_request_duration_seconds_bucket{%s,le=\"+Inf\"} %d\n", labels, s.count.Load())
		fmt.Fprintf(w, "regulars_http_request_duration_seconds_sum{%s} %g\n", labels, time.Duration(s.sumNS.Load()).Seconds())
		fmt.Fprintf(w, "regulars_http_request_duration_seconds_count{%s} %d\n", labels, s.count.Load())
	}
	for _, g := range m.gauges {
		g(w)
	}
}

func esc(s string) string { return strings.ReplaceAll(s, `"`, `'`) }
