package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"

	"regulars"
	"regulars/api"
	"regulars/app"
	"regulars/files"
	"regulars/internal/testenv"
	"regulars/mail"
	"regulars/store"
)

// env is a running API over a small world. Every response its client
// receives is checked against the OpenAPI document.
type env struct {
	t      *testing.T
	ctx    context.Context
	w      *testenv.World
	db     *store.DB
	app    *app.App
	api    *api.API
	url    string
	client *http.Client
	doc    *document

	mu     sync.Mutex
	seq    int
	tokens map[int64]string
	users  map[string]*regulars.User

	followers followerFixtures // see follower_test.go
}

// next returns a number not returned before, for unique names.
func (e *env) next() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.seq++
	return e.seq
}

func newEnv(t *testing.T, db *store.DB) *env {
	t.Helper()
	log := testenv.Logger(t)
	mailer, err := mail.New(db, "", "", log)
	if err != nil {
		t.Fatal(err)
	}
	a := app.New(db, mailer, log, "http://regulars.test")
	a.Password = testenv.FastPasswords
	a.Files = files.NewDisk(t.TempDir())
	x := api.New(a, log, false)
	mux := http.NewServeMux()
	x.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	e := &env{t: t, ctx: context.Background(), w: testenv.NewWorld(t, db), db: db, app: a, api: x, url: srv.URL,
		tokens: map[int64]string{}, users: map[string]*regulars.User{}}
	e.doc = loadDocument(t, srv.URL+"/api/openapi.json")
	e.client = &http.Client{Transport: &checker{env: e, next: srv.Client().Transport}}
	return e
}

// token returns a personal access token of u, made once.
func (e *env) token(u *regulars.User) string {
	e.t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	if tok, ok := e.tokens[u.ID]; ok {
		return tok
	}
	res, err := e.app.SignIn(e.ctx, u.Email, testenv.Password, "127.0.0.1", "api test")
	if err != nil {
		e.t.Fatalf("sign in %s: %v", u.Email, err)
	}
	_, tok, err := e.app.CreateAPIToken(e.ctx, res.Actor, "test")
	if err != nil {
		e.t.Fatal(err)
	}
	e.tokens[u.ID] = tok
	return tok
}

// userWith returns an active user of partnerID (0 = tenant staff) whose own
// role grants exactly perms, made once per partner and perms.
func (e *env) userWith(partnerID int64, perms regulars.Permissions) *regulars.User {
	e.t.Helper()
	key := fmt.Sprintf("p%d-%s", partnerID, regulars.EncodePermissions(perms))
	e.mu.Lock()
	defer e.mu.Unlock()
	if u, ok := e.users[key]; ok {
		return u
	}
	u := e.w.AddUser(e.t, partnerID, fmt.Sprintf("user%d@test.example", len(e.users)+1), perms)
	e.users[key] = u
	return u
}

// response is a received response with its body read.
type response struct {
	*http.Response
	body []byte
}

// decode reads the body into v (zeroed first, so that nothing of an
// earlier response stays), failing the test on malformed JSON.
func (r *response) decode(t testing.TB, v any) {
	t.Helper()
	reflect.ValueOf(v).Elem().SetZero()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("%s %s: decoding %s: %v", r.Request.Method, r.Request.URL.Path, r.body, err)
	}
}

// problem decodes a problem body.
func (r *response) problem(t testing.TB) api.Problem {
	t.Helper()
	var p api.Problem
	r.decode(t, &p)
	return p
}

// call sends a request as token's user ("" = anonymous). body is
// marshalled unless it is a string or []byte, which is sent as is.
func (e *env) call(token, method, path string, body any) *response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(e.ctx, method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return &response{Response: res, body: data}
}

// must sends a request and fails the test unless the status is want.
func (e *env) must(want int, token, method, path string, body any) *response {
	e.t.Helper()
	r := e.call(token, method, path, body)
	if r.StatusCode != want {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.StatusCode, want, r.body)
	}
	return r
}

// checker validates every response against the OpenAPI document: the
// status must be documented for the operation, and the body must match its
// schema. A password hash in any body fails the test too.
type checker struct {
	env  *env // reports to the env's current test
	next http.RoundTripper
}

func (c *checker) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := c.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(body))
	t := c.env.t
	if bytes.Contains(body, []byte("$argon2")) {
		t.Errorf("%s %s: the response holds a password hash: %s", req.Method, req.URL.Path, body)
	}
	for _, problem := range c.env.doc.checkResponse(req.Method, req.URL.Path, res.StatusCode, res.Header.Get("Content-Type"), body) {
		t.Errorf("%s %s → %d does not match the OpenAPI document: %s\nbody: %s", req.Method, req.URL.Path, res.StatusCode, problem, body)
	}
	return res, nil
}
