// Command bench measures Regulars against same-run baselines and prints
// Markdown rows for docs/benchmarks.md. Every target is on loopback.
//
//	go run ./cmd/bench foundation [-d 10s] [-c 16] [-db postgres://…]
//
// Each subcommand starts what it measures in-process, then a bare net/http
// handler serving the same bytes, and loads both with internal/loadgen one
// after the other.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"sort"
	"time"
)

// suite is one benchmark subcommand.
type suite struct {
	doc string
	run func(ctx context.Context, o options) error
}

var suites = map[string]suite{}

type options struct {
	Duration    time.Duration
	Concurrency int
	DatabaseURL string // "" = SQLite in a temp folder
}

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	s, ok := suites[os.Args[1]]
	if !ok {
		usage()
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	var o options
	fs.DurationVar(&o.Duration, "d", 10*time.Second, "duration of each measurement")
	fs.IntVar(&o.Concurrency, "c", 16, "concurrent connections")
	fs.StringVar(&o.DatabaseURL, "db", "", "database URL (default: SQLite in a temporary folder)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file")
	fs.Parse(os.Args[2:])
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	if err := s.run(context.Background(), o); err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: bench <suite> [-d 10s] [-c 16] [-db URL]\nsuites:")
	names := make([]string, 0, len(suites))
	for n := range suites {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %-12s %s\n", n, suites[n].doc)
	}
}
