// Command loadgen sends closed-loop HTTP load to a server on the local host
// and prints throughput and latency. It refuses any target that is not a
// loopback address (localhost, 127.0.0.0/8, ::1).
//
// Usage:
//
//	go run ./cmd/loadgen -url URL [-method M] [-c N] [-d DURATION] [-n MAX] [-warmup D] [-timeout D]
//	                     [-H 'Name: value']... [-cookie 'name=value']... [-body DATA|@FILE] [-json]
//
// Examples:
//
//	# 16 connections for 10 seconds (the defaults)
//	loadgen -url http://127.0.0.1:8080/
//
//	# a signed-in page, 64 connections, 30 s after a 2 s warmup, as JSON
//	loadgen -url http://localhost:8080/home -c 64 -d 30s -warmup 2s \
//	    -cookie 'session=TOKEN' -json
//
//	# exactly 10000 POSTs with a JSON body read from a file
//	loadgen -url http://127.0.0.1:8080/api/x -n 10000 -d 0 \
//	    -H 'Content-Type: application/json' -body @req.json
//
// The run stops after -d or -n requests, whichever comes first (-d 0 means
// no time limit, -n 0 no count limit; one of them must be set). Redirects
// are not followed; they show up under their status code. Interrupting
// the run prints the results so far. The exit status is 1 when any
// request failed without a response (non-2xx responses are only reported).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"time"

	"regulars/internal/loadgen"
)

// multiFlag collects a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ", ") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: loadgen -url URL [flags]\n\nSends closed-loop HTTP load to a loopback address and reports throughput and latency.\n\n")
		fs.PrintDefaults()
	}
	var (
		target  = fs.String("url", "", "target `URL` (must be localhost, 127.0.0.0/8 or ::1)")
		method  = fs.String("method", "", "HTTP `method` (default GET, or POST when -body is set)")
		conc    = fs.Int("c", 16, "concurrency: number of connections, each with one request in flight")
		dur     = fs.Duration("d", 10*time.Second, "measured `duration`; 0 for no time limit")
		maxReq  = fs.Int("n", 0, "stop after this many measured requests; 0 for no count limit")
		warmup  = fs.Duration("warmup", 0, "unmeasured warmup `duration` before measuring")
		timeout = fs.Duration("timeout", loadgen.DefaultTimeout, "per-request `timeout`")
		body    = fs.String("body", "", "request body `data`, or @file to read it from a file")
		asJSON  = fs.Bool("json", false, "print the result as JSON")
		headers multiFlag
		cookies multiFlag
	)
	fs.Var(&headers, "H", "request header as 'Name: value' (repeatable)")
	fs.Var(&cookies, "cookie", "cookie as 'name=value' (repeatable; joined into one Cookie header)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		return usageError(fs, "unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if *target == "" {
		return usageError(fs, "-url is required")
	}

	cfg := loadgen.HTTPConfig{
		Method:      *method,
		URL:         *target,
		Header:      http.Header{},
		Concurrency: *conc,
		Duration:    *dur,
		MaxRequests: *maxReq,
		Warmup:      *warmup,
		Timeout:     *timeout,
	}
	for _, h := range headers {
		name, value, ok := strings.Cut(h, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return usageError(fs, "-H %q: want 'Name: value'", h)
		}
		cfg.Header.Add(name, strings.TrimSpace(value))
	}
	for _, c := range cookies {
		if name, _, ok := strings.Cut(c, "="); !ok || strings.TrimSpace(name) == "" {
			return usageError(fs, "-cookie %q: want 'name=value'", c)
		}
	}
	if len(cookies) > 0 {
		all := append(cfg.Header.Values("Cookie"), cookies...)
		cfg.Header.Set("Cookie", strings.Join(all, "; "))
	}
	if file, ok := strings.CutPrefix(*body, "@"); ok {
		b, err := os.ReadFile(file)
		if err != nil {
			fmt.Fprintln(os.Stderr, "loadgen:", err)
			return 1
		}
		cfg.Body = b
	} else if *body != "" {
		cfg.Body = []byte(*body)
	}
	if cfg.Method == "" && len(cfg.Body) > 0 {
		cfg.Method = http.MethodPost
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := loadgen.RunHTTP(ctx, cfg)
	interrupted := err != nil && ctx.Err() != nil && res.Status != nil
	if err != nil && !interrupted {
		fmt.Fprintln(os.Stderr, err) // already prefixed "loadgen:"
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			fmt.Fprintln(os.Stderr, "loadgen:", err)
			return 1
		}
	} else {
		fmt.Println(res)
	}
	if interrupted {
		fmt.Fprintln(os.Stderr, "loadgen: interrupted; results are partial")
		return 130
	}
	if res.Errors > 0 || res.Requests == 0 {
		fmt.Fprintf(os.Stderr, "loadgen: %d of %d requests failed\n", res.Errors, res.Requests)
		return 1
	}
	return 0
}

func usageError(fs *flag.FlagSet, format string, args ...any) int {
	fmt.Fprintf(os.Stderr, "loadgen: "+format+"\n", args...)
	fs.Usage()
	return 2
}
