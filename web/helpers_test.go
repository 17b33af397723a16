package web_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"regulars"
	"regulars/internal/testenv"
	"regulars/store"
)

// form builds form values from pairs: form("email", e, "password", p).
func form(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

// text is the body with HTML entities decoded, so tests look for messages
// the way people read them.
func text(r *testenv.Response) string { return html.UnescapeString(r.Body) }

func wantStatus(t *testing.T, r *testenv.Response, code int) {
	t.Helper()
	if r.StatusCode != code {
		t.Fatalf("status %d, want %d (location %q)\n%s", r.StatusCode, code, r.Location(), excerpt(r))
	}
}

func wantRedirect(t *testing.T, r *testenv.Response, to string) {
	t.Helper()
	if r.StatusCode != http.StatusSeeOther || r.Location() != to {
		t.Fatalf("got %d to %q, want 303 to %q\n%s", r.StatusCode, r.Location(), to, excerpt(r))
	}
}

// wantSignInPage checks that r sends the browser to the sign-in page.
func wantSignInPage(t *testing.T, r *testenv.Response) {
	t.Helper()
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Location(), "/login") {
		t.Fatalf("got %d to %q, want 303 to /login", r.StatusCode, r.Location())
	}
}

func wantText(t *testing.T, r *testenv.Response, want ...string) {
	t.Helper()
	body := text(r)
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("the page does not say %q\n%s", w, excerpt(r))
		}
	}
}

func noText(t *testing.T, r *testenv.Response, unwanted ...string) {
	t.Helper()
	body := text(r)
	for _, w := range unwanted {
		if strings.Contains(body, w) {
			t.Errorf("the page says %q but should not", w)
		}
	}
}

// excerpt is the main part of a page for failure messages.
func excerpt(r *testenv.Response) string {
	b := r.Body
	if i := strings.Index(b, `<main`); i >= 0 {
		b = b[i:]
	} else if i := strings.Index(b, `<body`); i >= 0 {
		b = b[i:]
	}
	if len(b) > 3000 {
		b = b[:3000] + "…"
	}
	return b
}

// follow fetches the target of a redirect with the same client, which
// shows the flash message the redirect set.
func follow(t *testing.T, c *testenv.Client, r *testenv.Response) *testenv.Response {
	t.Helper()
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("status %d, want a 303 redirect\n%s", r.StatusCode, excerpt(r))
	}
	return c.Get(r.Location())
}

var fieldErrorRE = regexp.MustCompile(`id="e-([^"]+)">([^<]*)<`)

// fieldErrors returns the message under each form field of the page.
func fieldErrors(r *testenv.Response) map[string]string {
	out := map[string]string{}
	for _, m := range fieldErrorRE.FindAllStringSubmatch(r.Body, -1) {
		out[m[1]] = html.UnescapeString(m[2])
	}
	return out
}

// wantFieldError checks that the form came back (422) with msg under field.
func wantFieldError(t *testing.T, r *testenv.Response, field, msg string) {
	t.Helper()
	if r.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422 with a message on %s\n%s", r.StatusCode, field, excerpt(r))
	}
	got := fieldErrors(r)
	if !strings.Contains(got[field], msg) {
		t.Fatalf("message on %s = %q, want %q (all: %v)", field, got[field], msg, got)
	}
}

var drawerLinkRE = regexp.MustCompile(`<a class="drawer-link[^"]*"[^>]*href="([^"]+)"`)

// drawerLinks lists the hrefs of the drawer menu of a page.
func drawerLinks(r *testenv.Response) []string {
	var out []string
	for _, m := range drawerLinkRE.FindAllStringSubmatch(r.Body, -1) {
		out = append(out, m[1])
	}
	return out
}

// setCookie returns the Set-Cookie of name in r, or nil.
func setCookie(r *testenv.Response, name string) *http.Cookie {
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// sessionOf returns the session cookie value the client holds.
func sessionOf(t *testing.T, srv *testenv.Server, c *testenv.Client) string {
	t.Helper()
	u, _ := url.Parse(srv.URL)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == "rg_session" {
			return ck.Value
		}
	}
	t.Fatal("the client holds no session cookie")
	return ""
}

// withSession returns a fresh client that presents a session cookie value,
// as someone who copied the cookie would.
func withSession(t *testing.T, srv *testenv.Server, value string) *testenv.Client {
	c := srv.Client(t)
	u, _ := url.Parse(srv.URL)
	c.Jar.SetCookies(u, []*http.Cookie{{Name: "rg_session", Value: value, Path: "/"}})
	return c
}

// submit posts a form from page with the Referer a browser sends, so a
// refused action comes back to page with the reason.
func submit(srv *testenv.Server, c *testenv.Client, page, action string, v url.Values) *testenv.Response {
	return c.Do(http.MethodPost, action, strings.NewReader(v.Encode()), http.Header{
		"Content-Type": {"application/x-www-form-urlencoded"}, "Referer": {srv.URL + page}})
}

// signIn posts the sign-in form from the client's address.
func signIn(c *testenv.Client, email, password string) *testenv.Response {
	return c.PostForm("/login", form("email", email, "password", password))
}

// users lists a partner's users (0 = tenant staff) straight from the database.
func users(t *testing.T, db *store.DB, w *testenv.World, partnerID int64) []*regulars.User {
	t.Helper()
	us, err := db.Users(context.Background(), w.Tenant.ID, partnerID)
	if err != nil {
		t.Fatal(err)
	}
	return us
}

func user(t *testing.T, db *store.DB, id int64) *regulars.User {
	t.Helper()
	u, err := db.User(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func sessions(t *testing.T, db *store.DB, userID int64) []*regulars.Session {
	t.Helper()
	ss, err := db.Sessions(context.Background(), userID)
	if err != nil {
		t.Fatal(err)
	}
	return ss
}

// addRole stores a custom role of partner A.
func addRole(t *testing.T, w *testenv.World, name string, perms regulars.Permissions) *regulars.Role {
	t.Helper()
	r := &regulars.Role{TenantID: w.Tenant.ID, PartnerID: w.Partner.ID, Name: name, Permissions: perms}
	if err := w.DB.CreateRole(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return r
}

// manager adds a user of partner A who manages users and roles and may only
// view coupons: the actor of the "above your own level" tests.
func manager(t *testing.T, w *testenv.World) *regulars.User {
	return w.AddUser(t, w.Partner.ID, "manager@alpha.example", regulars.Permissions{
		regulars.FeatureUsers: regulars.LevelManage, regulars.FeatureRoles: regulars.LevelManage, regulars.FeatureCoupons: regulars.LevelView,
	})
}

// idPath joins a path prefix, an id and a suffix: idPath("/admin/users", 7, "/disable").
func idPath(prefix string, id int64, suffix string) string {
	return prefix + "/" + strconv.FormatInt(id, 10) + suffix
}
