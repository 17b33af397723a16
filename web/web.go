// Package web serves the partner admin (/admin), the tenant console
// (/tenant), the sign-in pages and account settings as server-rendered HTML.
package web

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"regulars"
	"regulars/app"
	"regulars/config"
	"regulars/httpx"
)

//go:embed templates
var templateFS embed.FS

// Options configure the web surface.
type Options struct {
	TrustProxy    bool   // take client addresses from X-Forwarded-For
	SecureCookies bool   // set when served over HTTPS
	StaticDir     string // development: read static files from disk
	ProductName   string // white-label name shown in the UI
	// Map tiles of the locations pages (see config.Config).
	TileURL, TileAttribution string
}

// Handler serves the HTML surface.
type Handler struct {
	app    *app.App
	log    *slog.Logger
	opts   Options
	static *Static
	pages  map[string]*template.Template
	routes []httpx.Route
	// pageMux holds the GET routes, to tell pages from form actions.
	pageMux *http.ServeMux
	mux     *http.ServeMux // the product's mux, for telling 404 from 405
}

// New parses every template and indexes the static files; a broken template
// fails here, at start-up, not on a page view.
func New(a *app.App, log *slog.Logger, opts Options) (*Handler, error) {
	if opts.ProductName == "" {
		opts.ProductName = "Regulars"
	}
	if opts.TileURL == "" {
		opts.TileURL, opts.TileAttribution = config.DefaultTileURL, config.DefaultTileAttribution
	}
	st, err := NewStatic(opts.StaticDir)
	if err != nil {
		return nil, err
	}
	h := &Handler{app: a, log: log, opts: opts, static: st}
	if err := h.parseTemplates(); err != nil {
		return nil, err
	}
	h.routes = h.buildRoutes()
	h.pageMux = http.NewServeMux()
	for _, rt := range h.routes {
		if rt.Method == http.MethodGet {
			h.pageMux.Handle(rt.Method+" "+rt.Pattern, http.NotFoundHandler())
		}
	}
	return h, nil
}

// Static returns the static file server (mounted at /static/).
func (h *Handler) Static() *Static { return h.static }

// Routes returns the routes table of the HTML surface.
func (h *Handler) Routes() []httpx.Route { return h.routes }

// Register adds every route to mux, each behind the authorization the table
// gives it.
func (h *Handler) Register(mux *http.ServeMux) {
	h.mux = mux
	for _, rt := range h.routes {
		pattern := rt.Pattern
		if rt.Method != "" {
			pattern = rt.Method + " " + pattern
		}
		mux.Handle(pattern, h.authorize(rt))
	}
	mux.Handle("GET /static/", h.static)
}

func (h *Handler) parseTemplates() error {
	h.pages = map[string]*template.Template{}
	base, err := template.New("").Funcs(h.funcs()).Funcs(chatFuncs).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return err
	}
	pages, err := fs.Glob(templateFS, "templates/pages/*.html")
	if err != nil {
		return err
	}
	for _, p := range pages {
		t, err := base.Clone()
		if err != nil {
			return err
		}
		if _, err := t.ParseFS(templateFS, p); err != nil {
			return err
		}
		name := strings.TrimSuffix(strings.TrimPrefix(p, "templates/pages/"), ".html")
		if t.Lookup("content") == nil {
			return fmt.Errorf("template %s: no \"content\" block", name)
		}
		h.pages[name] = t
	}
	return nil
}

func (h *Handler) funcs() template.FuncMap {
	m := template.FuncMap{
		"static":  func(name string) string { return h.static.URL(name) },
		"product": func() string { return h.opts.ProductName },
		"date": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.Format("2 Jan 2006")
		},
		"datetime": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.Format("2 Jan 2006 15:04 UTC")
		},
		"ago":       ago,
		"money":     regulars.FormatMoney,
		"radius":    regulars.FormatRadius,
		"levelName": func(l regulars.Level) string { return l.String() },
		"levelKey":  levelKey,
		"levels":    func() []regulars.Level { return regulars.Levels },
		"eq64":      func(a, b int64) bool { return a == b },
		"hasRole": func(roles []*regulars.Role, id int64) bool {
			for _, r := range roles {
				if r.ID == id {
					return true
				}
			}
			return false
		},
		"title": func(s string) string {
			if s == "" {
				return ""
			}
			return strings.ToUpper(s[:1]) + s[1:]
		},
		"chart":           chart,
		"list":            func(s ...string) []string { return s },
		"inc":             func(i int) int { return i + 1 },
		"redemptionLabel": func(s string) string { return redemptionTypes[s].long },
		"redemptionShort": func(s string) string { return redemptionTypes[s].short },
		"levelOf": func(p *regulars.Engagement, pos int) string {
			if pos == 0 || p.Loyalty == nil {
				return "—"
			}
			for _, l := range p.Loyalty.Levels {
				if l.Position == pos {
					return l.Name
				}
			}
			return ""
		},
		"runStatus": func(s string) string {
			if s == "done" {
				return "active"
			}
			return "pending"
		},
		"can": func(a *app.Actor, f string, l int) bool {
			return a != nil && a.Can(regulars.Feature(f), regulars.Level(l))
		},
		"kindBars": kindBars,
		"fmtInput": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format("2006-01-02T15:04")
		},
		"pct": func(a, b int64) int64 {
			if b <= 0 {
				return 0
			}
			return min(100, a*100/b)
		},
		"qr": func(s string) template.HTML {
			svg, err := app.QRCodeSVG(s)
			if err != nil {
				return ""
			}
			return template.HTML(svg)
		},
		"dict": func(kv ...any) map[string]any {
			m := map[string]any{}
			for i := 0; i+1 < len(kv); i += 2 {
				m[kv[i].(string)] = kv[i+1]
			}
			return m
		},
	}
	for k, v := range partnershipFuncs() {
		m[k] = v
	}
	return m
}

// redemptionTypes name the ways a coupon is redeemed: short in lists,
// long on the form.
var redemptionTypes = map[string]struct{ short, long string }{
	regulars.RedeemClick:     {"Click", "Click to redeem: the follower taps Redeem in the app"},
	regulars.RedeemCode:      {"Code / QR", "Code / QR: staff redeem it with the follower's end-user ID or QR code"},
	regulars.RedeemTimed:     {"Time-based", "Time-based: a 3-minute proof screen the follower shows"},
	regulars.RedeemAutoPoint: {"Automatic: points", "Automatic at a points threshold"},
	regulars.RedeemAutoVisit: {"Automatic: visit", "Automatic on a location visit"},
}

func levelKey(l regulars.Level) string {
	return [...]string{"none", "view", "update", "manage"}[l]
}

func ago(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := time.Since(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d.Hours()))
	}
	return fmt.Sprintf("%d days ago", int(d.Hours()/24))
}

// Page is what every template receives.
type Page struct {
	Title  string
	Actor  *app.Actor
	Menu   []MenuSection
	Active string // path prefix of the active menu entry
	Flash  *Flash
	Form   *Form
	Data   any
	Path   string
	// Unanswered counts the partner's unanswered conversations, for
	// those who see the chat: the menu's badge and the window's title.
	// A page that has counted them already (the chat) sets counted.
	Unanswered int64
	counted    bool
}

// Form carries submitted values and per-field errors back to a form.
type Form struct {
	Values  url.Values
	Errors  map[string]string
	Message string
}

// Get returns a submitted value.
func (f *Form) Get(k string) string {
	if f == nil {
		return ""
	}
	return f.Values.Get(k)
}

// Submitted reports whether the form carries submitted values.
func (f *Form) Submitted() bool { return f != nil && f.Values != nil }

// Err returns the message for a field.
func (f *Form) Err(k string) string {
	if f == nil {
		return ""
	}
	return f.Errors[k]
}

// Invalid marks the input of a field that has a message: aria-invalid,
// and aria-describedby naming the message ErrorFor writes.
func (f *Form) Invalid(k string) template.HTMLAttr {
	if f.Err(k) == "" {
		return ""
	}
	return template.HTMLAttr(` aria-invalid="true" aria-describedby="e-` + template.HTMLEscapeString(k) + `"`)
}

// ErrorFor writes a field's message, with the id Invalid points to.
func (f *Form) ErrorFor(k string) template.HTML {
	msg := f.Err(k)
	if msg == "" {
		return ""
	}
	return template.HTML(`<p class="field-error" id="e-` + template.HTMLEscapeString(k) + `">` + template.HTMLEscapeString(msg) + `</p>`)
}

// Flash is a one-time message shown after a redirect.
type Flash struct {
	Kind string // success, error, warning, info
	Text string
}

const flashCookie = "rg_flash"

func (h *Handler) setFlash(w http.ResponseWriter, kind, text string) {
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: url.QueryEscape(kind + "|" + text), Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: h.opts.SecureCookies, MaxAge: 60})
}

func (h *Handler) takeFlash(w http.ResponseWriter, r *http.Request) *Flash {
	c, err := r.Cookie(flashCookie)
	if err != nil {
		return nil
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: h.opts.SecureCookies})
	v, err := url.QueryUnescape(c.Value)
	if err != nil {
		return nil
	}
	kind, text, ok := strings.Cut(v, "|")
	switch kind {
	case "success", "error", "warning", "info":
	default:
		ok = false
	}
	if !ok || text == "" {
		return nil
	}
	return &Flash{Kind: kind, Text: text}
}

// render writes a page with status.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, p *Page) {
	t, ok := h.pages[name]
	if !ok {
		h.serverError(w, r, fmt.Errorf("no page template %q", name))
		return
	}
	p.Actor = actorFrom(r.Context())
	p.Path = r.URL.Path
	if p.Actor != nil {
		p.Menu = menuFor(p.Actor)
		if p.Active == "" {
			p.Active = activeEntry(p.Menu, r.URL.Path)
		}
		h.countUnanswered(r, p)
	}
	if p.Flash == nil {
		p.Flash = h.takeFlash(w, r)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		h.serverError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// redirect answers a form post with 303 See Other and an optional flash.
// A boosted form (htmx) follows the redirect by XMLHttpRequest, which
// drops the address's #fragment: the page would stay at its top instead
// of at what was just saved. Such a redirect goes as HX-Location, for
// htmx to load the page and scroll to the fragment.
func (h *Handler) redirect(w http.ResponseWriter, r *http.Request, to, kind, text string) {
	if text != "" {
		h.setFlash(w, kind, text)
	}
	if strings.Contains(to, "#") && r.Header.Get("HX-Boosted") == "true" {
		w.Header().Set("HX-Location", to)
		w.WriteHeader(http.StatusOK)
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// fail is the one place where domain errors become HTML responses. A form
// (page != "") is re-rendered with the field messages; other errors get
// the error page with the right status.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error, page string, p *Page) {
	code := regulars.ErrorCode(err)
	if code == regulars.EINVALID && page != "" {
		if p == nil {
			p = &Page{}
		}
		r.ParseForm()
		p.Form = &Form{Values: r.PostForm, Errors: regulars.FieldErrors(err), Message: regulars.ErrorMessage(err)}
		h.render(w, r, http.StatusUnprocessableEntity, page, p)
		return
	}
	status := statusOf(code)
	if status == http.StatusInternalServerError {
		h.serverError(w, r, err)
		return
	}
	if status == http.StatusUnauthorized {
		h.toLogin(w, r)
		return
	}
	if (code == regulars.ECONFLICT || code == regulars.EINVALID || code == regulars.ELIMIT) && r.Method == http.MethodPost {
		// A refused action goes back to the page it came from with the
		// reason. Without such a page (no Referer, another site, or an
		// address that is only a form action) the reason is shown here.
		back := r.Header.Get("Referer")
		if u, perr := url.Parse(back); perr == nil && back != "" && (u.Host == "" || u.Host == r.Host) && h.isPage(u.Path) {
			h.redirect(w, r, u.RequestURI(), "error", regulars.ErrorMessage(err))
			return
		}
	}
	h.render(w, r, status, "error", &Page{Title: http.StatusText(status), Data: errorData{Status: status, Message: regulars.ErrorMessage(err)}})
}

// isPage reports whether path answers GET (is a page, not only a form action).
func (h *Handler) isPage(path string) bool {
	_, pattern := h.pageMux.Handler(&http.Request{Method: http.MethodGet, URL: &url.URL{Path: path}})
	return pattern != ""
}

type errorData struct {
	Status  int
	Message string
}

func statusOf(code string) int {
	switch code {
	case regulars.ENOTFOUND:
		return http.StatusNotFound
	case regulars.EINVALID:
		return http.StatusUnprocessableEntity
	case regulars.ECONFLICT, regulars.ELIMIT:
		return http.StatusConflict
	case regulars.EFORBIDDEN:
		return http.StatusForbidden
	case regulars.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case regulars.ETOOMANY:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}

func (h *Handler) serverError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		// The browser went away (left the page, pressed stop): nobody
		// reads the answer, and nothing went wrong on our side.
		h.log.Debug("request abandoned", "method", r.Method, "path", r.URL.Path)
		return
	}
	h.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	fmt.Fprint(w, `<!doctype html><title>Error</title><p>Something went wrong on our side. Please try again.</p>`)
}

// unmatched answers what no route matches: 405 with Allow when the path
// exists for other methods, else the styled "not found" page.
func (h *Handler) unmatched(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if m == r.Method {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, p := h.mux.Handler(probe); p != "" && p != "/" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	h.notFound(w, r)
}

func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	h.fail(w, r, regulars.ErrNotFound("page"), "", nil)
}

func (h *Handler) toLogin(w http.ResponseWriter, r *http.Request) {
	to := "/login"
	if r.Method == http.MethodGet && r.URL.Path != "/" {
		to += "?next=" + url.QueryEscape(r.URL.RequestURI())
	}
	if r.Header.Get("HX-Request") == "true" {
		// A boosted request would follow a 303 inside the page and put the
		// sign-in form into the shell: have htmx load it as a whole page.
		w.Header().Set("HX-Redirect", to)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// loadByID reads the {id} object with get, scoped to the signed-in actor. A
// malformed id is a 404 like a missing (or another partner's) object; on any
// error the response is written and nil is returned.
func loadByID[T any](h *Handler, w http.ResponseWriter, r *http.Request, get func(context.Context, *app.Actor, int64) (*T, error)) *T {
	id, ok := pathID(r, "id")
	if !ok {
		h.notFound(w, r)
		return nil
	}
	v, err := get(r.Context(), actorFrom(r.Context()), id)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return nil
	}
	return v
}

// pathID parses the {id} wildcard; a malformed id is a 404 like a missing one.
func pathID(r *http.Request, name string) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	return id, err == nil && id > 0
}

func formInt(r *http.Request, name string) int64 {
	v, _ := strconv.ParseInt(strings.TrimSpace(r.PostFormValue(name)), 10, 64)
	return v
}

type actorKey struct{}

func actorFrom(ctx context.Context) *app.Actor {
	a, _ := ctx.Value(actorKey{}).(*app.Actor)
	return a
}

// side returns the base path of the actor's side: /admin or /tenant.
func base(a *app.Actor) string {
	if a.Partner == nil {
		return "/tenant"
	}
	return "/admin"
}
