package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countingServer serves body with status 200 and counts the requests it
// receives.
func countingServer(t *testing.T, body string) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func TestRunHTTPCountsMatch(t *testing.T) {
	const body = "hello, regulars\n"
	srv, hits := countingServer(t, body)
	res, err := RunHTTP(t.Context(), HTTPConfig{URL: srv.URL, Concurrency: 8, MaxRequests: 500})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 500 || hits.Load() != 500 {
		t.Fatalf("Requests = %d, server saw %d, want 500 each", res.Requests, hits.Load())
	}
	if res.Errors != 0 || res.Status[200] != 500 || len(res.Status) != 1 {
		t.Fatalf("Errors = %d, Status = %v; want 0 and 200×500", res.Errors, res.Status)
	}
	if res.Bytes != int64(500*len(body)) {
		t.Fatalf("Bytes = %d, want %d", res.Bytes, 500*len(body))
	}
	if res.RPS <= 0 || res.Elapsed <= 0 || res.P50 <= 0 || res.P50 > res.P90 || res.P90 > res.P99 || res.P99 > res.Max {
		t.Fatalf("implausible timings: %+v", res)
	}
	if err := res.Check(); err != nil {
		t.Fatalf("Check: %v", err)
	}
	if s := res.String(); !strings.Contains(s, "500 requests") || !strings.Contains(s, "200×500") {
		t.Fatalf("String() = %q", s)
	}
	t.Log(res)
}

func TestRunHTTPStatusesCounted(t *testing.T) {
	var mu sync.Mutex
	seen := map[int]int{}
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code := []int{200, 404, 500, 303}[n.Add(1)%4]
		mu.Lock()
		seen[code]++
		mu.Unlock()
		if code == 303 {
			// Must not be followed, let alone to another host.
			http.Redirect(w, r, "http://192.0.2.1/login", code)
			return
		}
		w.WriteHeader(code)
	}))
	defer srv.Close()

	res, err := RunHTTP(t.Context(), HTTPConfig{URL: srv.URL, Concurrency: 4, MaxRequests: 203})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(res.Status) != len(seen) {
		t.Fatalf("Status = %v, server sent %v", res.Status, seen)
	}
	for code, want := range seen {
		if res.Status[code] != want {
			t.Fatalf("Status = %v, server sent %v", res.Status, seen)
		}
	}
	if res.Errors != 0 || res.Requests != 203 {
		t.Fatalf("Requests = %d, Errors = %d (%s)", res.Requests, res.Errors, res.FirstError)
	}
	if err := res.Check(); err == nil || !strings.Contains(err.Error(), "303×") {
		t.Fatalf("Check should flag non-2xx statuses, got %v", err)
	}
}

func TestRunHTTPRefusesNonLoopback(t *testing.T) {
	for _, u := range []string{
		"http://192.0.2.1/",
		"http://10.0.0.1:8080/x",
		"https://[2001:db8::1]/",
		"http://0.0.0.0:8080/",
		"http://[::ffff:192.0.2.1]/",
	} {
		_, err := RunHTTP(t.Context(), HTTPConfig{URL: u, MaxRequests: 1})
		if !errors.Is(err, ErrNotLoopback) {
			t.Errorf("RunHTTP(%s) error = %v, want ErrNotLoopback", u, err)
		}
	}
	for _, u := range []string{"ftp://127.0.0.1/", "127.0.0.1:8080", "http:///path"} {
		if _, err := RunHTTP(t.Context(), HTTPConfig{URL: u, MaxRequests: 1}); err == nil {
			t.Errorf("RunHTTP(%s) succeeded, want an error", u)
		}
	}
	for _, u := range []string{"http://localhost:1/", "http://LOCALHOST.:1/", "http://127.1.2.3/", "http://[::1]:9/", "ws://127.0.0.1/"} {
		if err := CheckTarget(t.Context(), u); err != nil {
			t.Errorf("CheckTarget(%s) = %v, want nil", u, err)
		}
	}
}

func TestTransportRefusesNonLoopbackDial(t *testing.T) {
	// Even if a check were bypassed, the transport must not connect.
	c := newClient(newTransport(1), time.Second)
	_, err := c.Get("http://192.0.2.1:9/")
	if !errors.Is(err, ErrNotLoopback) {
		t.Fatalf("dial error = %v, want ErrNotLoopback", err)
	}
}

func TestRunHTTPNeedsABound(t *testing.T) {
	srv, hits := countingServer(t, "x")
	if _, err := RunHTTP(t.Context(), HTTPConfig{URL: srv.URL, Concurrency: 4}); err == nil {
		t.Fatal("config with neither Duration nor MaxRequests was accepted")
	}
	if _, err := RunHTTP(t.Context(), HTTPConfig{URL: srv.URL, MaxRequests: -1, Duration: time.Second}); err == nil {
		t.Fatal("negative MaxRequests was accepted")
	}
	if hits.Load() != 0 {
		t.Fatalf("refused configs sent %d requests", hits.Load())
	}
}

func TestRunHTTPMaxRequestsExact(t *testing.T) {
	for _, tc := range []struct{ c, n int }{{1, 1}, {16, 37}, {64, 10}, {7, 1000}} {
		srv, hits := countingServer(t, "ok")
		res, err := RunHTTP(t.Context(), HTTPConfig{URL: srv.URL, Concurrency: tc.c, MaxRequests: tc.n, Duration: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		if res.Requests != tc.n || hits.Load() != int64(tc.n) {
			t.Errorf("c=%d n=%d: Requests = %d, server saw %d", tc.c, tc.n, res.Requests, hits.Load())
		}
	}
}

func TestRunHTTPWarmupNotCounted(t *testing.T) {
	srv, hits := countingServer(t, "ok")
	res, err := RunHTTP(t.Context(), HTTPConfig{URL: srv.URL, Concurrency: 2, MaxRequests: 50, Warmup: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 50 || hits.Load() <= 50 {
		t.Fatalf("Requests = %d, server saw %d; want 50 measured plus warmup", res.Requests, hits.Load())
	}
}

func TestRunHTTPDurationRespected(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Millisecond)
	}))
	defer srv.Close()
	const d = 300 * time.Millisecond
	start := time.Now()
	res, err := RunHTTP(t.Context(), HTTPConfig{URL: srv.URL, Concurrency: 4, Duration: d})
	wall := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if res.Elapsed < d || res.Elapsed > d+500*time.Millisecond || wall > d+time.Second {
		t.Fatalf("Elapsed = %v (wall %v), want about %v", res.Elapsed, wall, d)
	}
	if res.Requests == 0 || res.Errors != 0 {
		t.Fatalf("Requests = %d, Errors = %d (%s)", res.Requests, res.Errors, res.FirstError)
	}
}

func TestRunHTTPDurationStalledServer(t *testing.T) {
	// A server that never answers must not hold the run past Duration, and
	// the abandoned requests are neither successes nor errors.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	defer srv.Close()
	start := time.Now()
	res, err := RunHTTP(t.Context(), HTTPConfig{URL: srv.URL, Concurrency: 4, Duration: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if wall := time.Since(start); wall > 2*time.Second {
		t.Fatalf("run took %v, want about 200ms", wall)
	}
	if res.Requests != 0 || res.Errors != 0 {
		t.Fatalf("Requests = %d, Errors = %d; want 0, 0", res.Requests, res.Errors)
	}
}

func TestRunHTTPErrorsCounted(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	res, err := RunHTTP(t.Context(), HTTPConfig{URL: url, Concurrency: 2, MaxRequests: 20})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 20 || res.Errors != 20 || res.FirstError == "" || len(res.Status) != 0 {
		t.Fatalf("got %+v; want 20 failed requests", res)
	}
	if res.Check() == nil {
		t.Fatal("Check should fail for a run with errors")
	}
}

func TestRunHTTPRequestShape(t *testing.T) {
	type seen struct{ method, host, cookie, xtest, body, ae string }
	got := make(chan seen, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.Method, r.Host, r.Header.Get("Cookie"), r.Header.Get("X-Test"), string(b), r.Header.Get("Accept-Encoding")}
	}))
	defer srv.Close()
	_, err := RunHTTP(t.Context(), HTTPConfig{
		Method:      http.MethodPost,
		URL:         srv.URL + "/submit",
		Header:      http.Header{"Cookie": {"session=abc"}, "X-Test": {"1"}, "Host": {"regulars.test"}},
		Body:        []byte(`{"a":1}`),
		Concurrency: 2,
		MaxRequests: 10,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := seen{"POST", "regulars.test", "session=abc", "1", `{"a":1}`, ""}
	for range 10 {
		if s := <-got; s != want {
			t.Fatalf("server saw %+v, want %+v", s, want)
		}
	}
}

func TestRunHTTPCancelReturnsPartial(t *testing.T) {
	srv, _ := countingServer(t, "ok")
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	res, err := RunHTTP(ctx, HTTPConfig{URL: srv.URL, Concurrency: 2, Duration: time.Minute})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
	if res.Requests == 0 || res.Errors != 0 {
		t.Fatalf("partial result %+v", res)
	}
}

func TestResultJSON(t *testing.T) {
	r := Result{Requests: 3, Status: map[int]int{200: 3}, Elapsed: time.Second, RPS: 3, P50: time.Millisecond}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"requests":3`, `"status":{"200":3}`, `"elapsed_ns":1000000000`, `"p50_ns":1000000`, `"rps":3`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON %s lacks %s", b, want)
		}
	}
	if strings.Contains(string(b), "first_error") {
		t.Errorf("JSON %s should omit an empty first_error", b)
	}
}
