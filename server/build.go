package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"

	"regulars/api"
	"regulars/app"
	"regulars/config"
	"regulars/geo"
	"regulars/httpx"
	"regulars/mail"
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
	a.MediaDir = filepath.Join(cfg.DataDir, "media")
	if cfg.GeocoderURL != "" {
		a.Geocoder = geo.NewNominatim(cfg.GeocoderURL, "Regulars (+"+cfg.BaseURL+")")
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
	p := &Product{Config: cfg, DB: db, App: a, Web: w, Metrics: metrics, Log: log}
	p.API = api.New(a, log, cfg.TrustProxy)
	p.Handler = New(db, log, metrics, w, p.API)
	return p, nil
}
