// Command regulars runs the Regulars platform: the partner admin, the tenant
// console, the follower app, the JSON API and realtime, in one binary.
//
//	regulars serve [--demo]     run the server (SQLite in ./data by default)
//	regulars migrate            apply database migrations and exit
//	regulars demo               load the demo data and exit
//	regulars create-operator    create a tenant and its first operator
//	regulars version            print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"regulars/app"
	"regulars/config"
	"regulars/demo"
	"regulars/server"
	"regulars/store"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "regulars:", err)
		os.Exit(1)
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Usage: regulars <command> [flags]

Commands:
  serve            run the server; --demo loads demo data first
  migrate          apply database migrations and exit (safe to run twice or from several nodes)
  demo             load demo data and exit
  create-operator  create a tenant and its first operator, and print the set-password link
  version          print the version

Run 'regulars <command> -h' for the flags of a command. Every flag also
reads a REGULARS_* environment variable.
`)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		usage(stderr)
		return errors.New("no command given")
	}
	cmd, args := args[0], args[1:]
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg config.Config
	cfg.Flags(fs)
	switch cmd {
	case "serve":
		withDemo := fs.Bool("demo", false, "load demo data (once) before serving")
		followers := fs.Int("followers", 5000, "followers in the demo data")
		if err := parse(fs, args, &cfg); err != nil {
			return err
		}
		return serve(ctx, &cfg, stdout, *withDemo, demo.Options{Followers: *followers})
	case "migrate":
		if err := parse(fs, args, &cfg); err != nil {
			return err
		}
		log := newLogger(&cfg, stderr)
		db, err := store.Open(ctx, cfg.DatabaseURL)
		if err != nil {
			return err
		}
		defer db.Close()
		applied, err := db.Migrate(ctx)
		if err != nil {
			return err
		}
		log.Info("migrations done", "applied", len(applied), "database", db.Dialect())
		return db.CheckQueries(ctx)
	case "demo":
		followers := fs.Int("followers", 5000, "followers to generate")
		if err := parse(fs, args, &cfg); err != nil {
			return err
		}
		p, err := server.Build(ctx, &cfg, newLogger(&cfg, stderr))
		if err != nil {
			return err
		}
		defer p.DB.Close()
		start := time.Now()
		res, err := demo.Load(ctx, p.DB, app.DefaultPasswordParams, demo.Options{Followers: *followers, Progress: stdout})
		if err != nil {
			return err
		}
		if res.Loyalty != nil {
			fmt.Fprintf(stdout, "Demo data: %d followers, %d rows in %s (%s in all).\n", res.Loyalty.Followers, res.Loyalty.Rows, res.Loyalty.Took.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
		}
		printDemo(stdout, &cfg, res)
		return nil
	case "create-operator":
		tenantName := fs.String("tenant", "", "tenant (platform) name; created when it does not exist")
		slug := fs.String("slug", "main", "tenant slug")
		name := fs.String("name", "", "operator's name")
		email := fs.String("email", "", "operator's email")
		if err := parse(fs, args, &cfg); err != nil {
			return err
		}
		p, err := server.Build(ctx, &cfg, newLogger(&cfg, stderr))
		if err != nil {
			return err
		}
		defer p.DB.Close()
		link, err := p.App.CreateOperator(ctx, *tenantName, *slug, *name, *email)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Operator %s created. Set the password here (valid 72 hours):\n  %s\n", *email, link)
		return nil
	case "version":
		fmt.Fprintln(stdout, version())
		return nil
	case "help", "-h", "--help":
		usage(stdout)
		return nil
	}
	usage(stderr)
	return fmt.Errorf("unknown command %q", cmd)
}

func parse(fs *flag.FlagSet, args []string, cfg *config.Config) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	return cfg.Finish()
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func serve(ctx context.Context, cfg *config.Config, stdout io.Writer, withDemo bool, demoOpts demo.Options) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := newLogger(cfg, os.Stderr)
	p, err := server.Build(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer p.DB.Close()
	var demoRes *demo.Result
	if withDemo {
		demoOpts.Progress = stdout
		if demoRes, err = demo.Load(ctx, p.DB, app.DefaultPasswordParams, demoOpts); err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
	}
	go p.App.RunMaintenance(ctx)
	go p.App.RunJobs(ctx)
	go p.RunRealtime(ctx)
	return server.Run(ctx, log, cfg.Addr, p.Handler, func(addr string) {
		log.Info("serving", "addr", addr, "url", cfg.BaseURL, "database", p.DB.Dialect())
		fmt.Fprintf(stdout, "\nRegulars is running at %s\n", cfg.BaseURL)
		if demoRes != nil {
			printDemo(stdout, cfg, demoRes)
		}
	})
}

func printDemo(w io.Writer, cfg *config.Config, res *demo.Result) {
	if res.Created {
		fmt.Fprintln(w, "Demo data loaded.")
	}
	fmt.Fprintf(w, "Demo sign-in (password for every account: %s):\n", demo.Password)
	for _, a := range res.Accounts {
		fmt.Fprintf(w, "  %-34s %-28s %s%s\n", a.Email, a.Role, cfg.BaseURL, a.Where)
	}
}

func version() string {
	v := "regulars (development build)"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				v = "regulars " + s.Value
			}
		}
	}
	return v
}
