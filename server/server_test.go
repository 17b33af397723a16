package server_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"regulars/internal/testenv"
	"regulars/store"
)

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		srv := testenv.NewServer(t, db)
		c := srv.Client(t)
		if r := c.Get("/healthz"); r.StatusCode != http.StatusOK {
			t.Errorf("/healthz: %d", r.StatusCode)
		}
		if r := c.Get("/readyz"); r.StatusCode != http.StatusOK {
			t.Errorf("/readyz with the database up: %d", r.StatusCode)
		}
		db.Close()
		if r := c.Get("/readyz"); r.StatusCode != http.StatusServiceUnavailable || !strings.Contains(r.Body, "database unreachable") {
			t.Errorf("/readyz with the database closed: %d %q, want 503", r.StatusCode, r.Body)
		}
		// Alive is not ready: the process still answers.
		if r := c.Get("/healthz"); r.StatusCode != http.StatusOK {
			t.Errorf("/healthz with the database closed: %d", r.StatusCode)
		}
	})
}

func TestMetricsCountRequestsByRoute(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := testenv.NewWorld(t, db)
		srv := testenv.NewServer(t, db)
		c := srv.SignedIn(t, w.Owner.Email)
		for range 3 {
			c.Get("/admin/users")
		}
		c.Get("/admin/users/999999") // another partner's or missing: 404
		srv.Client(t).Get("/no/such/page")

		m := srv.Client(t).Get("/metrics")
		if m.StatusCode != http.StatusOK || !strings.HasPrefix(m.Header.Get("Content-Type"), "text/plain") {
			t.Fatalf("/metrics: %d %s", m.StatusCode, m.Header.Get("Content-Type"))
		}
		for _, want := range []string{
			`regulars_http_requests_total{method="GET",route="GET /admin/users",status="2xx"} 3`,
			`regulars_http_requests_total{method="GET",route="GET /admin/users/{id}",status="4xx"} 1`,
			`regulars_http_requests_total{method="POST",route="POST /login",status="3xx"} 1`,
			`regulars_http_requests_total{method="GET",route="/",status="4xx"} 1`, // the catch-all: unknown paths never become labels
			`regulars_http_request_duration_seconds_count{method="GET",route="GET /admin/users",status="2xx"} 3`,
			`regulars_http_request_duration_seconds_bucket{method="GET",route="GET /admin/users",status="2xx",le="+Inf"} 3`,
		} {
			if !strings.Contains(m.Body, want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
		if !regexp.MustCompile(`regulars_db_connections\{pool="[a-z]+",state="idle"\} \d+`).MatchString(m.Body) {
			t.Error("/metrics lacks the database pool gauges")
		}
		// Request paths never become labels: ids would make endless series.
		if strings.Contains(m.Body, "999999") || strings.Contains(m.Body, "/no/such/page") {
			t.Error("/metrics labels series with raw paths")
		}
	})
}
