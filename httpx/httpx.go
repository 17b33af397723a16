// Package httpx holds what the HTTP surfaces (web pages, JSON API) share:
// the route table entry, client addresses and request metrics.
package httpx

import (
	"net"
	"net/http"
	"strings"

	"regulars"
)

// Side says who may use a route.
type Side int

// The sides of the product.
const (
	Public   Side = iota // anyone, signed in or not
	Partner              // partner staff
	Tenant               // tenant (operator) staff
	Staff                // any signed-in staff user (own account)
	Follower             // followers (end users) of the tenant's app
)

func (s Side) String() string {
	return [...]string{"public", "partner", "tenant", "staff", "follower"}[s]
}

// Route is one entry of a surface's routes table: the method and pattern,
// who may call it and the feature level it needs. Authorization is applied
// from the table, and the authorization tests are generated from it.
type Route struct {
	Method  string
	Pattern string // net/http pattern path, e.g. /admin/users/{id}
	Side    Side
	Feature regulars.Feature // "" = none beyond Side
	Level   regulars.Level
	// OwnerOnly restricts the route to the Account owner.
	OwnerOnly bool
	Handler   http.HandlerFunc
	// Doc is a one-line summary (used by the OpenAPI document on the API).
	Doc string
}

// ClientIP returns the caller's address: the first X-Forwarded-For entry
// when trustProxy is set (behind a load balancer), else the peer address.
func ClientIP(r *http.Request, trustProxy bool) string {
	if trustProxy {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			ip, _, _ := strings.Cut(xff, ",")
			return strings.TrimSpace(ip)
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// BearerToken returns the token of an "Authorization: Bearer …" header.
func BearerToken(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}
