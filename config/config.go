// Package config reads the settings of the regulars binary from flags and
// REGULARS_* environment variables (flags win).
package config

import (
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Config is everything main needs to build the product.
type Config struct {
	Addr        string // listen address
	DataDir     string // SQLite database and uploaded files
	DatabaseURL string // postgres://… or a SQLite path; default: DataDir/regulars.db
	BaseURL     string // public URL used in emails and links
	SMTPURL     string // smtp://user:pass@host:587; empty keeps mail in the outbox
	MailFrom    string
	TrustProxy  bool   // behind a load balancer: trust X-Forwarded-For
	StaticDir   string // development: serve static files from this folder
	LogFormat   string // text or json
	LogLevel    string
	// Maps of the locations pages. The geocoder is called by the server;
	// tiles are loaded by browsers, so their URL must be https:// (the
	// Content-Security-Policy allows https images) or a same-origin path.
	GeocoderURL     string // Nominatim-compatible search endpoint; empty = no address search
	TileURL         string // Leaflet tile URL template with {z}, {x}, {y} (and optional {s})
	TileAttribution string // HTML credit shown on the maps
	// ChatMaxAttachmentMB is the largest chat attachment, in MiB.
	ChatMaxAttachmentMB int
	// Each sender (a follower, an agent) may send ChatSendBurst messages at once
	// and ChatSendRate a second after that.
	ChatSendRate  float64
	ChatSendBurst int
	// Uploaded files go to this S3-compatible bucket
	// (https://host/bucket[/prefix]) instead of the data folder; its keys
	// come from the environment only (not flags, which other users of the
	// machine can see).
	FilesS3URL       string
	FilesS3Region    string
	FilesS3AccessKey string
	FilesS3SecretKey string
}

// Map defaults: OpenStreetMap's tiles and Nominatim. Heavy use of either
// needs your own servers or a provider (see their usage policies).
const (
	DefaultGeocoderURL     = "https://nominatim.openstreetmap.org/search"
	DefaultTileURL         = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
	DefaultTileAttribution = `&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors`
)

// Chat send rate defaults: a sender's burst, then messages a second.
const (
	DefaultChatSendRate  = 5
	DefaultChatSendBurst = 20
)

// ChatSendLimits are the chat send rate and burst, the defaults for 0.
func (c *Config) ChatSendLimits() (rate float64, burst int) {
	rate, burst = c.ChatSendRate, c.ChatSendBurst
	if rate == 0 {
		rate = DefaultChatSendRate
	}
	if burst == 0 {
		burst = DefaultChatSendBurst
	}
	return rate, burst
}

// Flags registers the flags on fs with defaults taken from the environment.
func (c *Config) Flags(fs *flag.FlagSet) {
	fs.StringVar(&c.Addr, "addr", env("REGULARS_ADDR", "127.0.0.1:8080"), "listen address (REGULARS_ADDR)")
	fs.StringVar(&c.DataDir, "data", env("REGULARS_DATA_DIR", "data"), "data folder for the SQLite database and files (REGULARS_DATA_DIR)")
	fs.StringVar(&c.DatabaseURL, "database", env("REGULARS_DATABASE_URL", ""), "postgres://… URL or SQLite file; default <data>/regulars.db (REGULARS_DATABASE_URL)")
	fs.StringVar(&c.BaseURL, "base-url", env("REGULARS_BASE_URL", ""), "public URL for links in emails; default http://<addr> (REGULARS_BASE_URL)")
	fs.StringVar(&c.SMTPURL, "smtp", env("REGULARS_SMTP_URL", ""), "SMTP server URL, e.g. smtp://user:pass@mail.example.com:587 (REGULARS_SMTP_URL)")
	fs.StringVar(&c.MailFrom, "mail-from", env("REGULARS_MAIL_FROM", "Regulars <no-reply@localhost>"), "From address of emails (REGULARS_MAIL_FROM)")
	fs.BoolVar(&c.TrustProxy, "trust-proxy", envBool("REGULARS_TRUST_PROXY"), "trust X-Forwarded-For from a load balancer (REGULARS_TRUST_PROXY)")
	fs.StringVar(&c.StaticDir, "dev-static", env("REGULARS_DEV_STATIC", ""), "development: serve static files from this folder (REGULARS_DEV_STATIC)")
	fs.StringVar(&c.LogFormat, "log-format", env("REGULARS_LOG_FORMAT", "text"), "log format: text or json (REGULARS_LOG_FORMAT)")
	fs.StringVar(&c.LogLevel, "log-level", env("REGULARS_LOG_LEVEL", "info"), "log level: debug, info, warn, error (REGULARS_LOG_LEVEL)")
	fs.StringVar(&c.GeocoderURL, "geocoder-url", env("REGULARS_GEOCODER_URL", DefaultGeocoderURL), "Nominatim-compatible address search endpoint; empty turns search off (REGULARS_GEOCODER_URL)")
	fs.StringVar(&c.TileURL, "tile-url", env("REGULARS_TILE_URL", DefaultTileURL), "map tile URL template, https:// or a same-origin /path (REGULARS_TILE_URL)")
	fs.StringVar(&c.TileAttribution, "tile-attribution", env("REGULARS_TILE_ATTRIBUTION", DefaultTileAttribution), "HTML credit of the map tiles (REGULARS_TILE_ATTRIBUTION)")
	fs.IntVar(&c.ChatMaxAttachmentMB, "chat-max-attachment", envInt("REGULARS_CHAT_MAX_ATTACHMENT_MB", 10), "largest chat attachment (picture or PDF) in MiB (REGULARS_CHAT_MAX_ATTACHMENT_MB)")
	fs.Float64Var(&c.ChatSendRate, "chat-send-rate", envFloat("REGULARS_CHAT_SEND_RATE", DefaultChatSendRate), "chat messages a follower or agent may send per second after their burst, over the WebSocket and the API together; 0 is the default (REGULARS_CHAT_SEND_RATE)")
	fs.StringVar(&c.FilesS3URL, "files-s3", env("REGULARS_FILES_S3_URL", ""), "store uploaded files in this S3-compatible bucket, https://host/bucket[/prefix], instead of the data folder; keys in REGULARS_FILES_S3_ACCESS_KEY and REGULARS_FILES_S3_SECRET_KEY (REGULARS_FILES_S3_URL)")
	fs.StringVar(&c.FilesS3Region, "files-s3-region", env("REGULARS_FILES_S3_REGION", "us-east-1"), "region of the S3 bucket (REGULARS_FILES_S3_REGION)")
	c.FilesS3AccessKey = env("REGULARS_FILES_S3_ACCESS_KEY", os.Getenv("AWS_ACCESS_KEY_ID"))
	c.FilesS3SecretKey = env("REGULARS_FILES_S3_SECRET_KEY", os.Getenv("AWS_SECRET_ACCESS_KEY"))
	fs.IntVar(&c.ChatSendBurst, "chat-send-burst", envInt("REGULARS_CHAT_SEND_BURST", DefaultChatSendBurst), "chat messages a follower or agent may send at once; 0 is the default (REGULARS_CHAT_SEND_BURST)")
}

// Finish fills derived defaults and validates.
func (c *Config) Finish() error {
	if c.DatabaseURL == "" {
		c.DatabaseURL = filepath.Join(c.DataDir, "regulars.db")
	}
	if c.BaseURL == "" {
		host, port, err := net.SplitHostPort(c.Addr)
		if err != nil {
			return fmt.Errorf("config: -addr %q: %w", c.Addr, err)
		}
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "localhost"
		}
		c.BaseURL = "http://" + net.JoinHostPort(host, port)
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.TileURL == "" {
		c.TileURL = DefaultTileURL
	}
	if !strings.HasPrefix(c.TileURL, "https://") && !strings.HasPrefix(c.TileURL, "/") {
		return fmt.Errorf("config: the tile URL must start with https:// or / (browsers load tiles and the Content-Security-Policy allows only those), got %q", c.TileURL)
	}
	if !strings.Contains(c.TileURL, "{z}") || !strings.Contains(c.TileURL, "{x}") || !strings.Contains(c.TileURL, "{y}") {
		return fmt.Errorf("config: the tile URL needs {z}, {x} and {y}, got %q", c.TileURL)
	}
	if c.GeocoderURL != "" && !strings.HasPrefix(c.GeocoderURL, "https://") && !strings.HasPrefix(c.GeocoderURL, "http://") {
		return fmt.Errorf("config: the geocoder URL must start with https:// or http://, got %q", c.GeocoderURL)
	}
	if c.ChatSendRate < 0 || c.ChatSendBurst < 0 {
		return fmt.Errorf("config: the chat send rate and burst cannot be negative")
	}
	if !strings.HasPrefix(c.BaseURL, "http://") && !strings.HasPrefix(c.BaseURL, "https://") {
		return fmt.Errorf("config: base URL must start with http:// or https://, got %q", c.BaseURL)
	}
	return nil
}

// Secure reports whether the product is served over HTTPS.
func (c *Config) Secure() bool { return strings.HasPrefix(c.BaseURL, "https://") }

// IsPostgres reports whether the database is PostgreSQL.
func (c *Config) IsPostgres() bool {
	return strings.HasPrefix(c.DatabaseURL, "postgres://") || strings.HasPrefix(c.DatabaseURL, "postgresql://")
}

func env(k, def string) string {
	if v, ok := os.LookupEnv(k); ok {
		return v
	}
	return def
}

func envBool(k string) bool {
	b, _ := strconv.ParseBool(os.Getenv(k))
	return b
}

func envInt(k string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(k)); err == nil {
		return v
	}
	return def
}

func envFloat(k string, def float64) float64 {
	if v, err := strconv.ParseFloat(os.Getenv(k), 64); err == nil {
		return v
	}
	return def
}
