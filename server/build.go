package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"

	"io"
	"net/url"

	"regulars/api"
	"regulars/app"
	"regulars/config"
	"regulars/files"
	"regulars/geo"
	"regulars/httpx"
	"regulars/mail"
	"regulars/realtime"
	"regulars/store"
	"regulars/web"
)

// Product is the whole product wired together.
type Product struct {
	Config  *config.Config
	DB      *store.DB
	App     *app.App
	Web     *web.Handler
	API     *api.API
	Metrics *httpx.Metrics
	Handler http.Handler
	Log     *slog.Logger
	// Realtime is the chat's WebSocket endpoint; pgBus carries its events
	// between nodes on PostgreSQL (nil on SQLite).
	Realtime *realtime.Hub
	pgBus    *realtime.PGBus
}

// Build opens the database, applies migrations, checks every query and
// template, and assembles the surfaces. Close the DB when done.
func Build(ctx context.Context, cfg *config.Config, log *slog.Logger) (*Product, error) {
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	p, err := Assemble(ctx, cfg, log, db)
	if err != nil {
		db.Close()
		return nil, err
	}
	return p, nil
}

// Assemble builds the product on an open database (tests pass their own).
func Assemble(ctx context.Context, cfg *config.Config, log *slog.Logger, db *store.DB, opts ...func(*app.App)) (*Product, error) {
	applied, err := db.Migrate(ctx)
	if err != nil {
		return nil, err
	}
	for _, m := range applied {
		log.Info("migration applied", "name", m)
	}
	if err := db.CheckQueries(ctx); err != nil {
		return nil, fmt.Errorf("checking queries: %w", err)
	}
	mailer, err := mail.New(db, cfg.SMTPURL, cfg.MailFrom, log)
	if err != nil {
		return nil, err
	}
	a := app.New(db, mailer, log, cfg.BaseURL)
	a.Media = files.NewDisk(filepath.Join(cfg.DataDir, "media"))
	a.MapTiles = app.MapTiles{URL: cfg.TileURL, Attribution: cfg.TileAttribution}
	if a.MapTiles.URL == "" {
		a.MapTiles = app.MapTiles{URL: config.DefaultTileURL, Attribution: config.DefaultTileAttribution}
	}
	if cfg.GeocoderURL != "" {
		a.Geocoder = geo.NewNominatim(cfg.GeocoderURL, "Regulars (+"+cfg.BaseURL+")")
	}
	a.Files = files.NewDisk(filepath.Join(cfg.DataDir, "files"))
	if cfg.FilesS3URL != "" {
		s3, err := files.NewS3(files.S3Config{URL: cfg.FilesS3URL, Region: cfg.FilesS3Region, AccessKey: cfg.FilesS3AccessKey, SecretKey: cfg.FilesS3SecretKey})
		if err == nil {
			err = s3.Check(ctx)
		}
		if err != nil {
			return nil, err
		}
		a.Files, a.Media = s3, s3.Sub("media")
	}
	a.ChatMaxAttachment = int64(cfg.ChatMaxAttachmentMB) << 20
	a.ChatSends = httpx.NewLimiter(cfg.ChatSendLimits())
	var pgBus *realtime.PGBus
	if db.Dialect() == "postgres" {
		// Several nodes share events through LISTEN/NOTIFY.
		pgBus = realtime.NewPGBus(db, log)
		a.Bus = pgBus
	}
	for _, o := range opts {
		o(a)
	}
	w, err := web.New(a, log, web.Options{TrustProxy: cfg.TrustProxy, SecureCookies: cfg.Secure(), StaticDir: cfg.StaticDir,
		TileURL: cfg.TileURL, TileAttribution: cfg.TileAttribution})
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	metrics := httpx.NewMetrics()
	p := &Product{Config: cfg, DB: db, App: a, Web: w, Metrics: metrics, Log: log, pgBus: pgBus}
	p.API = api.New(a, log, cfg.TrustProxy)
	var hosts []string
	if u, err := url.Parse(cfg.BaseURL); err == nil && u.Host != "" {
		hosts = append(hosts, u.Host)
	}
	p.Realtime = realtime.NewHub(a, log, realtime.Options{SessionCookie: web.SessionCookie, Hosts: hosts})
	if pgBus != nil {
		pgBus.OnGap = p.Realtime.Resync
	}
	metrics.AddGauges(func(w io.Writer) {
		fmt.Fprintln(w, "# HELP regulars_realtime_connections Open WebSocket connections of this node.")
		fmt.Fprintln(w, "# TYPE regulars_realtime_connections gauge")
		fmt.Fprintf(w, "regulars_realtime_connections %d\n", p.Realtime.Connections())
		b := db.BatchStats()
		for _, c := range []struct {
			name, help string
			n          int64
		}{
			{"batches", "Group-commit transactions (chat messages of many callers committed together).", b.Batches},
			{"batched_functions", "Callers' writes in group-commit transactions.", b.Functions},
			{"batch_reruns", "Group-commit transactions run again write by write because one failed.", b.Reruns},
			{"batch_text_fallbacks", "Group-commit transactions whose followers' messages could not be stored together and ran write by write.", b.TextFallbacks},
			{"batched_texts", "Followers' chat messages stored together by group commit.", b.TextsStored},
		} {
			fmt.Fprintf(w, "# HELP regulars_store_%s_total %s\n# TYPE regulars_store_%s_total counter\nregulars_store_%s_total %d\n", c.name, c.help, c.name, c.name, c.n)
		}
		if pgBus != nil {
			listening := 0
			if pgBus.Listening() {
				listening = 1
			}
			fmt.Fprintln(w, "# HELP regulars_realtime_bus_listening Whether this node receives the other nodes' events (PostgreSQL LISTEN).")
			fmt.Fprintln(w, "# TYPE regulars_realtime_bus_listening gauge")
			fmt.Fprintf(w, "regulars_realtime_bus_listening %d\n", listening)
		}
	})
	p.Handler = New(db, log, metrics, w, p.API, p.Realtime)
	return p, nil
}

// RunRealtime delivers chat events to this node's WebSocket clients until
// ctx ends: on PostgreSQL it listens for the other nodes' events too.
func (p *Product) RunRealtime(ctx context.Context) {
	if p.pgBus != nil {
		go p.pgBus.Run(ctx)
	}
	p.Realtime.Run(ctx)
}

// RealtimeReady is closed once the node receives the other nodes' events
// (at once on SQLite, which runs one node).
func (p *Product) RealtimeReady() <-chan struct{} {
	if p.pgBus != nil {
		return p.pgBus.Ready()
	}
	ready := make(chan struct{})
	close(ready)
	return ready
}
