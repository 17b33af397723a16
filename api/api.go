// Package api is the JSON API under /api/v1, described by the OpenAPI 3.1
// document it serves at /api/openapi.json.
//
// Every route is one entry of the table in routes.go: method, pattern, who
// may call it (side, feature, level) and a typed handler. One middleware
// authorizes from that table, the OpenAPI document is generated from it and
// the authorization tests are generated from it too.
//
// To add a route: write a handler func (x *API) name(r *http.Request, in
// In) (Out, error) with request and response structs (noBody for none), add
// an entry with handle(x, status, x.name) to the table, and, if its pattern
// has a wildcard, a fixture to the fixtures map of authz_test.go.
package api

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"

	"regulars"
	"regulars/app"
	"regulars/httpx"
)

// API serves the JSON API.
type API struct {
	app        *app.App
	log        *slog.Logger
	trustProxy bool

	endpoints []endpoint
	doc       []byte         // the OpenAPI document, built once
	probe     *http.ServeMux // the route patterns alone, to tell 404 from 405
}

// New builds the API. It panics when the routes table cannot be described
// (a bug that must stop the start, not a request).
func New(a *app.App, log *slog.Logger, trustProxy bool) *API {
	x := &API{app: a, log: log, trustProxy: trustProxy}
	x.endpoints = x.table()
	x.probe = http.NewServeMux()
	for _, e := range x.endpoints {
		x.probe.HandleFunc(e.Method+" "+e.Pattern, func(http.ResponseWriter, *http.Request) {})
	}
	doc, err := json.MarshalIndent(x.openAPI(), "", "  ")
	if err != nil {
		panic(fmt.Sprintf("api: OpenAPI document: %v", err))
	}
	x.doc = append(doc, '\n')
	return x
}

// Routes returns the routes table of the API.
func (x *API) Routes() []httpx.Route {
	out := make([]httpx.Route, len(x.endpoints))
	for i, e := range x.endpoints {
		out[i] = e.route()
	}
	return out
}

// Register adds every route, the OpenAPI document and a problem+json
// answer for every other path under /api/ to mux.
func (x *API) Register(mux *http.ServeMux) {
	for _, e := range x.endpoints {
		mux.Handle(e.Method+" "+e.Pattern, x.authorize(e.route()))
	}
	mux.HandleFunc("GET /api/openapi.json", x.serveDoc)
	mux.HandleFunc("/api/", x.noRoute)
}

func (x *API) serveDoc(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Access-Control-Allow-Origin", "*") // public, so API tools can load it
	w.Write(x.doc)
}

// errNoRoute answers unknown paths, and routes of the other side, alike.
var errNoRoute = regulars.Errorf(regulars.ENOTFOUND, "There is no such API endpoint.")

// noRoute answers 405 for a known path with another method, 404 otherwise.
func (x *API) noRoute(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if _, pattern := x.probe.Handler(&http.Request{Method: m, URL: r.URL, Host: r.Host}); pattern != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) == 0 {
		x.fail(w, r, errNoRoute)
		return
	}
	for _, m := range allow {
		w.Header().Add("Allow", m)
	}
	x.fail(w, r, &regulars.Error{Code: codeMethodNotAllowed, Message: "This endpoint does not answer " + r.Method + "."})
}

// recoverPanic turns a panic of a handler into a problem, so that API clients
// get JSON even from a bug. Handlers write only once they are done, so
// nothing has been sent yet.
func (x *API) recoverPanic(w http.ResponseWriter, r *http.Request) {
	v := recover()
	if v == nil {
		return
	}
	if v == http.ErrAbortHandler {
		panic(v)
	}
	x.fail(w, r, fmt.Errorf("panic: %v\n%s", v, debug.Stack()))
}

type actorKey struct{}

// actorOf returns the staff user the middleware authenticated.
func actorOf(r *http.Request) *app.Actor {
	return r.Context().Value(actorKey{}).(*app.Actor)
}

var errNoToken = regulars.Errorf(regulars.EUNAUTHORIZED, "Send a personal access token: Authorization: Bearer <token>.")

// authorize applies the route's table entry: a valid bearer token, the
// right side (the other side's routes do not exist for the caller), the
// Account owner where required, and the feature level. API calls carry no
// cookies, so there is nothing to forge across sites.
func (x *API) authorize(rt httpx.Route) http.Handler {
	var staff bool
	switch rt.Side {
	case httpx.Public:
	case httpx.Follower:
		return x.authorizeFollower(rt)
	case httpx.Partner, httpx.Tenant, httpx.Staff:
		staff = true
	default:
		panic(fmt.Sprintf("api: %s %s: no authentication for %s routes", rt.Method, rt.Pattern, rt.Side))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		defer x.recoverPanic(w, r)
		if !staff {
			rt.Handler(w, r)
			return
		}
		token := httpx.BearerToken(r)
		if token == "" {
			x.fail(w, r, errNoToken)
			return
		}
		if app.IsFollowerToken(token) {
			// A follower's token never works on staff routes: for them
			// the staff API does not exist.
			if _, err := x.app.AuthenticateFollower(r.Context(), token); err == nil {
				x.fail(w, r, errNoRoute)
				return
			}
		}
		actor, err := x.app.AuthenticateToken(r.Context(), token)
		if err != nil {
			x.fail(w, r, err)
			return
		}
		switch {
		case rt.Side == httpx.Partner && actor.Partner == nil, rt.Side == httpx.Tenant && actor.Partner != nil:
			x.fail(w, r, errNoRoute)
			return
		case rt.OwnerOnly && !actor.IsOwner():
			x.fail(w, r, regulars.Errorf(regulars.EFORBIDDEN, "Only the Account owner can do this."))
			return
		case rt.Feature != "":
			if err := actor.Require(rt.Feature, rt.Level); err != nil {
				x.fail(w, r, err)
				return
			}
		}
		rt.Handler(w, r.WithContext(context.WithValue(r.Context(), actorKey{}, actor)))
	})
}

var errNoFollowerToken = regulars.Errorf(regulars.EUNAUTHORIZED, "Sign in to the app first: send Authorization: Bearer <token> from /api/v1/follower/signin.")

// authorizeFollower admits a follower's bearer token. A staff token finds
// no such route, like the other side's routes.
func (x *API) authorizeFollower(rt httpx.Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		defer x.recoverPanic(w, r)
		token := httpx.BearerToken(r)
		if token == "" {
			x.fail(w, r, errNoFollowerToken)
			return
		}
		if !app.IsFollowerToken(token) {
			if _, err := x.app.AuthenticateToken(r.Context(), token); err == nil {
				x.fail(w, r, errNoRoute)
				return
			}
		}
		fa, err := x.app.AuthenticateFollower(r.Context(), token)
		if err != nil {
			x.fail(w, r, err)
			return
		}
		rt.Handler(w, withFollower(r, fa))
	})
}
