// Package server puts the surfaces together into one http.Handler: pages,
// API, static files, health checks and metrics, behind the middleware every
// request goes through (recovery, metrics, security headers, CSRF).
package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"regulars/httpx"
	"regulars/store"
)

// Surface is a part of the product that adds its routes to the mux.
type Surface interface {
	Register(mux *http.ServeMux)
}

// New returns the handler of the whole product.
func New(db *store.DB, log *slog.Logger, metrics *httpx.Metrics, surfaces ...Surface) http.Handler {
	mux := http.NewServeMux()
	for _, s := range surfaces {
		s.Register(mux)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		if err := db.Ping(r.Context()); err != nil {
			log.Warn("not ready", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "database unreachable\n")
			return
		}
		io.WriteString(w, "ready\n")
	})
	mux.Handle("GET /metrics", metrics)
	metrics.AddGauges(func(w io.Writer) {
		fmt.Fprintln(w, "# HELP regulars_db_connections Database pool connections by state.")
		fmt.Fprintln(w, "# TYPE regulars_db_connections gauge")
		for pool, st := range db.PoolStats() {
			fmt.Fprintf(w, "regulars_db_connections{pool=%q,state=\"in_use\"} %d\n", pool, st.InUse)
			fmt.Fprintf(w, "regulars_db_connections{pool=%q,state=\"idle\"} %d\n", pool, st.Idle)
			fmt.Fprintf(w, "regulars_db_wait_count_total{pool=%q} %d\n", pool, st.WaitCount)
		}
	})
	csrf := http.NewCrossOriginProtection()
	// The API authenticates with bearer tokens only, never cookies, so a
	// cross-site request cannot act as anyone: no CSRF check there.
	csrf.AddInsecureBypassPattern("/api/")
	var h http.Handler = mux
	h = csrf.Handler(h)
	h = refuseNUL(h)
	h = securityHeaders(h)
	h = metrics.Middleware(h)
	h = recoverer(log, h)
	return h
}

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob: https:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self' ws: wss: https:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
		next.ServeHTTP(w, r)
	})
}

func recoverer(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.Error("panic", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
				http.Error(w, "Internal Server Error", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// Run serves h on addr until ctx ends, then shuts down gracefully.
func Run(ctx context.Context, log *slog.Logger, addr string, h http.Handler, ready func(addr string)) error {
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	ln, err := listen(addr)
	if err != nil {
		return err
	}
	if ready != nil {
		ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}
