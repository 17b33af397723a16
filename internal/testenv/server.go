package testenv

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"

	"regulars"
	"regulars/app"
	"regulars/config"
	"regulars/server"
	"regulars/store"
)

// Server is the whole product served on a loopback port for a test.
type Server struct {
	*server.Product
	URL string
}

// ServerOption changes the configuration of a test server.
type ServerOption func(*config.Config)

// WithSMTP delivers the server's email to a real SMTP server.
func WithSMTP(s *SMTP) ServerOption { return func(c *config.Config) { c.SMTPURL = s.URL() } }

// NewServer serves the product on db at a random loopback port. It trusts
// X-Forwarded-For so tests can act from several addresses.
func NewServer(t testing.TB, db *store.DB, opts ...ServerOption) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	cfg := &config.Config{Addr: ln.Addr().String(), DataDir: t.TempDir(), DatabaseURL: db.URL(), BaseURL: base, TrustProxy: true, MailFrom: "Regulars <no-reply@regulars.test>"}
	for _, o := range opts {
		o(cfg)
	}
	p, err := server.Assemble(context.Background(), cfg, Logger(t), db, func(a *app.App) { a.Password = FastPasswords })
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(p.Handler)
	hs.Listener.Close()
	hs.Listener = ln
	hs.Start()
	t.Cleanup(hs.Close)
	// Chat events reach WebSocket clients while the test runs.
	rtCtx, stopRealtime := context.WithCancel(context.Background())
	go p.RunRealtime(rtCtx)
	t.Cleanup(stopRealtime)
	return &Server{Product: p, URL: base}
}

// Logger returns a logger that writes to the test log when REGULARS_TEST_LOG
// is set, and nowhere otherwise.
func Logger(t testing.TB) *slog.Logger {
	if os.Getenv("REGULARS_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(testWriter{t}, nil))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// Client is a cookie-keeping HTTP client that does not follow redirects,
// so tests see the 303s the pages answer with.
type Client struct {
	*http.Client
	t    testing.TB
	base string
	// From is sent as X-Forwarded-For: the client's address as the server sees it.
	From string
}

// Client returns a new anonymous client of the server.
func (s *Server) Client(t testing.TB) *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{t: t, base: s.URL, From: "127.0.0.1", Client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// SignedIn returns a client with a fresh session of the user (password
// Password), failing the test if sign-in fails.
func (s *Server) SignedIn(t testing.TB, email string) *Client {
	t.Helper()
	c := s.Client(t)
	resp := c.PostForm("/login", url.Values{"email": {email}, "password": {Password}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in as %s: status %d: %s", email, resp.StatusCode, resp.Body)
	}
	return c
}

// Response is a read response.
type Response struct {
	StatusCode int
	Header     http.Header
	Body       string
}

// Location returns the redirect target.
func (r *Response) Location() string { return r.Header.Get("Location") }

// Do sends a request and reads the whole response.
func (c *Client) Do(method, path string, body io.Reader, header http.Header) *Response {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if c.From != "" {
		req.Header.Set("X-Forwarded-For", c.From)
	}
	resp, err := c.Client.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return &Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: string(b)}
}

// Get fetches a page.
func (c *Client) Get(path string) *Response {
	c.t.Helper()
	return c.Do(http.MethodGet, path, nil, nil)
}

// PostForm submits a form.
func (c *Client) PostForm(path string, v url.Values) *Response {
	c.t.Helper()
	return c.Do(http.MethodPost, path, strings.NewReader(v.Encode()), http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
}

// EachDB runs fn on a fresh migrated SQLite database and, when available,
// on a fresh PostgreSQL database, as parallel subtests.
func EachDB(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		fn(t, OpenSQLite(t))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		fn(t, OpenPostgres(t))
	})
}

// LastMailTo returns the newest outbox email to an address.
func LastMailTo(t testing.TB, db *store.DB, to string) *regulars.Mail {
	t.Helper()
	mails, err := db.OutboxTo(context.Background(), to)
	if err != nil {
		t.Fatal(err)
	}
	if len(mails) == 0 {
		t.Fatalf("no email to %s in the outbox", to)
	}
	return mails[0]
}

// LinkIn returns the first URL in text that starts with prefix.
func LinkIn(t testing.TB, text, prefix string) string {
	t.Helper()
	i := strings.Index(text, prefix)
	if i < 0 {
		t.Fatalf("no link starting %s in:\n%s", prefix, text)
	}
	end := strings.IndexAny(text[i:], " \r\n\t")
	if end < 0 {
		return text[i:]
	}
	return text[i : i+end]
}
