package loadgen

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Result summarises one load-generation run. Durations are encoded in JSON
// as integer nanoseconds (the field names say so).
//
// Requests counts the measured requests that finished, successfully or not;
// Errors counts those that got no complete response (connection refused,
// timeout, truncated body); Status counts the responses by status code, so
// the Status counts add up to Requests-Errors. Latency quantiles cover the
// successful requests only. Requests cut short by the end of the run are
// not counted at all.
type Result struct {
	Requests int           `json:"requests"`
	Errors   int           `json:"errors"`
	Status   map[int]int   `json:"status"`
	Elapsed  time.Duration `json:"elapsed_ns"`
	RPS      float64       `json:"rps"`
	P50      time.Duration `json:"p50_ns"`
	P90      time.Duration `json:"p90_ns"`
	P99      time.Duration `json:"p99_ns"`
	Max      time.Duration `json:"max_ns"`
	Mean     time.Duration `json:"mean_ns"`
	Bytes    int64         `json:"bytes"`
	// FirstError is the text of one error from the run, as an example;
	// empty when Errors is 0.
	FirstError string `json:"first_error,omitempty"`
}

// setLatency fills the latency fields from h.
func (r *Result) setLatency(h *Histogram) {
	r.P50 = h.Quantile(0.50)
	r.P90 = h.Quantile(0.90)
	r.P99 = h.Quantile(0.99)
	r.Max = h.Max()
	r.Mean = h.Mean()
}

// setElapsed sets Elapsed and the derived RPS.
func (r *Result) setElapsed(d time.Duration) {
	r.Elapsed = d
	r.RPS = 0
	if d > 0 {
		r.RPS = float64(r.Requests) / d.Seconds()
	}
}

// String returns a one-line human-readable summary.
func (r Result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d requests in %.2fs, %.1f req/s, %s read; latency p50 %s p90 %s p99 %s max %s; status %s; %d errors",
		r.Requests, r.Elapsed.Seconds(), r.RPS, formatBytes(r.Bytes),
		formatDuration(r.P50), formatDuration(r.P90), formatDuration(r.P99), formatDuration(r.Max),
		r.statusString(), r.Errors)
	if r.FirstError != "" {
		fmt.Fprintf(&b, " (first: %s)", r.FirstError)
	}
	return b.String()
}

func (r Result) statusString() string {
	if len(r.Status) == 0 {
		return "none"
	}
	codes := slices.Sorted(maps.Keys(r.Status))
	parts := make([]string, len(codes))
	for i, c := range codes {
		parts[i] = fmt.Sprintf("%d×%d", c, r.Status[c])
	}
	return strings.Join(parts, " ")
}

// Check reports whether r is usable as a measurement of a working
// endpoint: at least one request completed, none failed, and every
// response had a 2xx status. A redirect to a login page, for instance,
// makes Check fail.
func (r Result) Check() error {
	var errs []error
	if r.Requests == 0 {
		errs = append(errs, errors.New("no requests completed"))
	}
	if r.Errors > 0 {
		errs = append(errs, fmt.Errorf("%d of %d requests failed (first: %s)", r.Errors, r.Requests, r.FirstError))
	}
	var bad []string
	for _, c := range slices.Sorted(maps.Keys(r.Status)) {
		if c < 200 || c > 299 {
			bad = append(bad, fmt.Sprintf("%d×%d", c, r.Status[c]))
		}
	}
	if len(bad) > 0 {
		errs = append(errs, fmt.Errorf("non-2xx responses: %s", strings.Join(bad, " ")))
	}
	return errors.Join(errs...)
}

// formatDuration prints d with about three significant digits.
func formatDuration(d time.Duration) string {
	switch {
	case d < time.Microsecond:
		return fmt.Sprintf("%dns", d)
	case d < time.Millisecond:
		return fmt.Sprintf("%.1fµs", float64(d)/float64(time.Microsecond))
	case d < time.Second:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
}

func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n)/unit, 0
	for v >= unit && i < 4 {
		v /= unit
		i++
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMGTP"[i])
}
