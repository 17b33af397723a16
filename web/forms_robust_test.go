package web_test

import (
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"regulars"
	"regulars/httpx"
	"regulars/internal/testenv"
	"regulars/store"
)

// TestOddFormInputIsNeverAServerError opens every page of the partner
// admin, the tenant console and the account settings as a user who may
// use it, and submits each of its forms with one field at a time set to
// what a person or a tampered page could send: nothing, a negative or
// huge number or a fraction, a word where a number belongs, a NUL
// character, a very long text. The hidden fields (ids, versions) are
// tampered with too. Nothing may answer with a server error; refusals are
// the pages' business (their own tests check what they say).
func TestOddFormInputIsNeverAServerError(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := testenv.NewWorld(t, db)
		srv := testenv.NewServer(t, db)
		fx := &fixtures{t: t, w: w, db: db, a: srv.App}
		odd := []string{"", "-1", "1.5", "99999999999999999999", "abc", "a\x00b", strings.Repeat("é<b>", 2000)}

		clients := map[httpx.Side]*testenv.Client{}
		actor := func(side httpx.Side) (*regulars.User, *testenv.Client) {
			u := w.Owner
			if side == httpx.Tenant {
				u = w.Operator
			}
			if clients[side] == nil {
				clients[side] = srv.SignedIn(t, u.Email)
			}
			return u, clients[side]
		}
		tried := map[string]bool{}
		requests := 0
		for _, rt := range srv.Web.Routes() {
			if rt.Method != http.MethodGet || rt.Side == httpx.Public || rt.Side == httpx.Follower {
				continue
			}
			u, c := actor(rt.Side)
			page := fx.path(rt, u)
			r := c.Get(page)
			if r.StatusCode != http.StatusOK || !strings.Contains(r.Header.Get("Content-Type"), "text/html") {
				continue
			}
			for _, f := range postForms(t, page, r.Body) {
				if sessionEnding(f.action) {
					continue
				}
				key := f.action + "?" + strings.Join(f.names(), "&")
				if tried[key] {
					continue
				}
				tried[key] = true
				for _, name := range f.names() {
					for _, v := range odd {
						values := f.with(name, v)
						res := submit(srv, c, page, f.action, values)
						requests++
						if res.StatusCode >= 500 {
							t.Errorf("%s from %s with %s=%.30q: status %d: %s", f.action, page, name, v, res.StatusCode, excerpt(res))
						}
						if res.StatusCode == http.StatusSeeOther && strings.HasPrefix(res.Location(), "/login") {
							t.Fatalf("%s from %s with %s=%.30q signed the user out: exclude it from this test", f.action, page, name, v)
						}
					}
				}
			}
		}
		if len(tried) < 40 {
			t.Errorf("only %d forms found on the pages: the form scan is broken", len(tried))
		}
		t.Logf("%d forms, %d submissions", len(tried), requests)
	})
}

// sessionEnding reports whether a form's action signs out or ends
// sessions, which would end this test's own.
func sessionEnding(action string) bool {
	for _, s := range []string{"/logout", "/signout", "/sessions", "/password"} {
		if strings.Contains(action, s) {
			return true
		}
	}
	return false
}

// htmlForm is a POST form of a page: where it goes and the values its
// controls send as the page stands.
type htmlForm struct {
	action string
	values url.Values
}

func (f htmlForm) names() []string {
	var out []string
	for k := range f.values {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// with is the form's values with name set to v.
func (f htmlForm) with(name, v string) url.Values {
	out := url.Values{}
	for k, vs := range f.values {
		out[k] = append([]string(nil), vs...)
	}
	out.Set(name, v)
	return out
}

// postForms finds a page's POST forms and their controls' values: what
// a browser would send without changing anything.
func postForms(t *testing.T, page, body string) []htmlForm {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatalf("%s: %v", page, err)
	}
	attr := func(n *html.Node, key string) (string, bool) {
		for _, a := range n.Attr {
			if a.Key == key {
				return a.Val, true
			}
		}
		return "", false
	}
	var forms []htmlForm
	var controls func(n *html.Node, f *htmlForm)
	controls = func(n *html.Node, f *htmlForm) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type != html.ElementNode {
				continue
			}
			name, named := attr(c, "name")
			_, disabled := attr(c, "disabled")
			if named && !disabled {
				switch c.Data {
				case "input":
					typ, _ := attr(c, "type")
					value, _ := attr(c, "value")
					_, checked := attr(c, "checked")
					switch typ {
					case "submit", "button", "image", "file", "reset":
					case "checkbox", "radio":
						if checked || (typ == "radio" && f.values.Get(name) == "") {
							f.values.Set(name, value)
						}
					default:
						f.values.Set(name, value)
					}
				case "textarea":
					text := ""
					if c.FirstChild != nil {
						text = c.FirstChild.Data
					}
					f.values.Set(name, text)
				case "select":
					value, first := "", true
					for o := range c.Descendants() {
						if o.Type != html.ElementNode || o.Data != "option" {
							continue
						}
						v, _ := attr(o, "value")
						if _, sel := attr(o, "selected"); sel || first {
							value, first = v, false
						}
					}
					f.values.Set(name, value)
				}
			}
			controls(c, f)
		}
	}
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode || n.Data != "form" {
			continue
		}
		if method, _ := attr(n, "method"); !strings.EqualFold(method, "post") {
			continue
		}
		action, _ := attr(n, "action")
		u, err := url.Parse(action)
		if err != nil || u.Host != "" {
			continue
		}
		if action == "" {
			action = page
		} else {
			u.Fragment = ""
			action = u.String()
		}
		f := htmlForm{action: action, values: url.Values{}}
		controls(n, &f)
		forms = append(forms, f)
	}
	return forms
}
