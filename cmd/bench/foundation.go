package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"regulars/app"
	"regulars/config"
	"regulars/demo"
	"regulars/internal/loadgen"
	"regulars/server"
	"regulars/store"
)

func init() {
	suites["foundation"] = suite{"authenticated admin page and API call vs a bare handler", foundation}
}

// product starts the whole product with demo data on a loopback port.
func product(ctx context.Context, o options) (*server.Product, string, func(), error) {
	dir, err := os.MkdirTemp("", "regulars-bench-")
	if err != nil {
		return nil, "", nil, err
	}
	url := o.DatabaseURL
	if url == "" {
		url = filepath.Join(dir, "bench.db")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", nil, err
	}
	base := "http://" + ln.Addr().String()
	cfg := &config.Config{Addr: ln.Addr().String(), DataDir: dir, DatabaseURL: url, BaseURL: base}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := store.Open(ctx, url)
	if err != nil {
		return nil, "", nil, err
	}
	p, err := server.Assemble(ctx, cfg, log, db)
	if err != nil {
		return nil, "", nil, err
	}
	if _, err := demo.Load(ctx, db, app.DefaultPasswordParams, demo.Options{Followers: 1000}); err != nil {
		return nil, "", nil, err
	}
	srv := &http.Server{Handler: p.Handler}
	go srv.Serve(ln)
	return p, base, func() { srv.Close(); db.Close(); os.RemoveAll(dir) }, nil
}

// bare serves body with the same content type on a loopback port: the
// ceiling a handler of ours could reach on this machine.
func bare(body []byte, contentType string) (string, func()) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Write(body)
	})}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String() + "/", func() { srv.Close() }
}

func fetch(url string, h http.Header) ([]byte, string, error) {
	req, _ := http.NewRequest("GET", url, nil)
	req.Header = h
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return nil, "", fmt.Errorf("GET %s: %d", url, resp.StatusCode)
	}
	return b, resp.Header.Get("Content-Type"), err
}

func foundation(ctx context.Context, o options) error {
	p, base, stop, err := product(ctx, o)
	if err != nil {
		return err
	}
	defer stop()
	signIn, err := p.App.SignIn(ctx, "owner@beanandleaf.example", demo.Password, "127.0.0.1", "bench")
	if err != nil {
		return err
	}
	_, token, err := p.App.CreateAPIToken(ctx, signIn.Actor, "bench")
	if err != nil {
		return err
	}
	cases := []struct {
		name, path string
		header     http.Header
	}{
		{"Partner admin page `GET /admin/users` (session cookie)", "/admin/users", http.Header{"Cookie": {"rg_session=" + signIn.Secret}}},
		{"API call `GET /api/v1/me` (bearer token)", "/api/v1/me", http.Header{"Authorization": {"Bearer " + token}}},
	}
	fmt.Printf("Database: %s. Duration %s per run, %d connections.\n\n", p.DB.Dialect(), o.Duration, o.Concurrency)
	fmt.Println(loadgen.MarkdownHeader())
	for _, c := range cases {
		body, ctype, err := fetch(base+c.path, c.header)
		if err != nil {
			return err
		}
		if strings.Contains(string(body), "Sign in") && strings.HasPrefix(c.path, "/admin") {
			return fmt.Errorf("%s: not signed in", c.path)
		}
		bareURL, stopBare := bare(body, ctype)
		cmp, err := loadgen.Compare(ctx,
			loadgen.HTTPConfig{Method: "GET", URL: bareURL, Concurrency: o.Concurrency, Duration: o.Duration, Warmup: o.Duration / 10},
			loadgen.HTTPConfig{Method: "GET", URL: base + c.path, Header: c.header, Concurrency: o.Concurrency, Duration: o.Duration, Warmup: o.Duration / 10})
		stopBare()
		if err != nil {
			return err
		}
		fmt.Println(cmp.MarkdownRow(c.name))
	}
	return nil
}
