package api_test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"regulars"
	"regulars/httpx"
	"regulars/internal/testenv"
	"regulars/store"
)

// fixture makes a fresh object of partner A for a route's wildcards and
// returns the value of each.
type fixture func(e *env) map[string]int64

// fixtures fills the wildcards of every route pattern that has one. Each
// route gets fresh objects: its last check may change or delete them.
var fixtures = map[string]fixture{
	"/api/v1/users/{id}":               plainUser,
	"/api/v1/users/{id}/disable":       plainUser,
	"/api/v1/users/{id}/enable":        plainUser,
	"/api/v1/users/{id}/resend-invite": plainUser,
	"/api/v1/users/{id}/password":      plainUser,
	"/api/v1/roles/{id}":               unusedRole,

	"/api/v1/follower/channels/{id}":               followedChannel,
	"/api/v1/follower/channels/{id}/follow":        followedChannel,
	"/api/v1/follower/channels/{id}/unfollow":      followedChannel,
	"/api/v1/follower/channels/{id}/notifications": followedChannel,
	"/api/v1/follower/channels/{id}/messages":      followedChannel,
	"/api/v1/follower/messages/{id}/open":          deliveredMessage,
	"/api/v1/follower/coupons/{id}/enable":         liveCoupon,
	"/api/v1/follower/activations/{id}/redeem":     enabledCoupon,
	"/api/v1/follower/programs/{id}/join":          liveProgram,
	"/api/v1/follower/programs/{id}/ledger":        joinedProgram,
	"/api/v1/follower/notifications/{id}/read":     ownNotification,
	"/api/v1/follower/channels/{id}/locations":     followedChannel,
	"/api/v1/locations/{id}":                       targetingLocation,
	"/api/v1/locations/{id}/engagements":           targetingLocation,
	"/api/v1/locations/{id}/engagements/{engagement_id}": func(e *env) map[string]int64 {
		ids := targetingLocation(e)
		m := &regulars.Engagement{TenantID: e.w.Tenant.ID, PartnerID: e.w.Partner.ID, ChannelID: e.w.Channel.ID, Kind: regulars.KindMessage,
			Name: "Fixture message " + strconv.Itoa(e.next()), Message: &regulars.MessageSpec{Text: "Hi", Recurring: regulars.RecurOnce}}
		if err := e.db.CreateEngagement(e.ctx, m); err != nil {
			e.t.Fatal(err)
		}
		ids["engagement_id"] = m.ID
		return ids
	},

	"/api/v1/chat/conversations/{id}":                     conversation,
	"/api/v1/chat/conversations/{id}/messages":            conversation,
	"/api/v1/chat/conversations/{id}/attachments":         conversation,
	"/api/v1/chat/conversations/{id}/take":                conversation,
	"/api/v1/chat/conversations/{id}/finish":              finishedConversation,
	"/api/v1/chat/conversations/{id}/read":                conversation,
	"/api/v1/chat/conversations/{id}/history":             conversation,
	"/api/v1/chat/conversations/{id}/engagements":         conversation,
	"/api/v1/chat/attachments/{id}":                       attachment,
	"/api/v1/canned-responses/{id}":                       cannedResponse,
	"/api/v1/canned-categories/{id}":                      cannedCategory,
	"/api/v1/tenant/canned-responses/{id}":                defaultCannedResponse,
	"/api/v1/tenant/canned-categories/{id}":               defaultCannedCategory,
	"/api/v1/follower/channels/{id}/conversation":         conversationChannel,
	"/api/v1/follower/channels/{id}/chat":                 followedChannel,
	"/api/v1/follower/channels/{id}/chat/attachments":     followedChannel,
	"/api/v1/follower/conversations/{id}/messages":        conversation,
	"/api/v1/follower/conversations/{id}/read":            conversation,
	"/api/v1/follower/conversations/{id}/cards/{seq}/act": engagementCard,
	"/api/v1/follower/attachments/{id}":                   attachment,
}

// plainUser is an invited user of partner A whose role grants nothing, so
// that anyone with user management may change them.
func plainUser(e *env) map[string]int64 {
	role, n := unusedRole(e)["id"], e.next()
	u := &regulars.User{TenantID: e.w.Tenant.ID, PartnerID: e.w.Partner.ID, RoleID: role, Name: "Fixture " + strconv.Itoa(n),
		Email: fmt.Sprintf("fixture%d@alpha.example", n), Status: regulars.UserInvited}
	if err := e.db.CreateUser(e.ctx, u, false); err != nil {
		e.t.Fatal(err)
	}
	return map[string]int64{"id": u.ID}
}

// targetingLocation is a 150 m targeting location of partner A.
func targetingLocation(e *env) map[string]int64 {
	l := &regulars.Location{TenantID: e.w.Tenant.ID, PartnerID: e.w.Partner.ID, Name: "Fixture place " + strconv.Itoa(e.next()), Lat: 51.5, Lng: -0.12, Radius: 150}
	if err := e.db.CreateLocation(e.ctx, l); err != nil {
		e.t.Fatal(err)
	}
	return map[string]int64{"id": l.ID}
}

// unusedRole is a role of partner A that grants nothing and nobody holds.
func unusedRole(e *env) map[string]int64 {
	r := &regulars.Role{TenantID: e.w.Tenant.ID, PartnerID: e.w.Partner.ID, Name: "Fixture role " + strconv.Itoa(e.next())}
	if err := e.db.CreateRole(e.ctx, r); err != nil {
		e.t.Fatal(err)
	}
	return map[string]int64{"id": r.ID}
}

// fill replaces the wildcards of pattern with the fixture's values.
func fill(t *testing.T, e *env, pattern string) string {
	t.Helper()
	if !strings.Contains(pattern, "{") {
		return pattern
	}
	fx, ok := fixtures[pattern]
	if !ok {
		t.Fatalf("%s has a wildcard: add a fixture for it to the fixtures map", pattern)
	}
	values := fx(e)
	path := pattern
	for _, name := range pathParamsOf(pattern) {
		v, ok := values[name]
		if !ok {
			t.Fatalf("%s: the fixture gives no {%s}: add a fixture value for it", pattern, name)
		}
		path = strings.Replace(path, "{"+name+"}", strconv.FormatInt(v, 10), 1)
	}
	return path
}

func pathParamsOf(pattern string) []string {
	var out []string
	for _, part := range strings.Split(pattern, "/") {
		if strings.HasPrefix(part, "{") && strings.HasSuffix(part, "}") {
			out = append(out, strings.TrimSuffix(strings.Trim(part, "{}"), "..."))
		}
	}
	return out
}

// TestRouteTableAuthorization checks every route of the table: anonymous
// callers, the other partner, the other side, a role one level short and a
// role at exactly the level the table names.
func TestRouteTableAuthorization(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		for _, rt := range e.api.Routes() {
			t.Run(rt.Method+" "+rt.Pattern, func(t *testing.T) {
				e.t = t
				if rt.Handler == nil || rt.Doc == "" {
					t.Fatal("a route needs a handler and a Doc line")
				}
				if rt.Side == httpx.Public {
					return
				}
				path := fill(t, e, rt.Pattern)
				if rt.Side == httpx.Follower {
					checkFollowerRoute(t, e, rt, path)
					return
				}
				var body any
				if rt.Method == http.MethodPost || rt.Method == http.MethodPatch || rt.Method == http.MethodPut {
					body = "{}"
				}
				expect := func(who, token string, ok func(int) bool, want string) {
					t.Helper()
					r := e.call(token, rt.Method, path, body)
					if !ok(r.StatusCode) {
						t.Errorf("%s: status %d, want %s: %s", who, r.StatusCode, want, r.body)
					}
				}
				is := func(s int) func(int) bool { return func(got int) bool { return got == s } }

				expect("anonymous", "", is(http.StatusUnauthorized), "401")
				expect("bad token", "rgs_not-a-token", is(http.StatusUnauthorized), "401")

				if strings.Contains(rt.Pattern, "{") {
					expect("the other partner's owner", e.token(e.w.OtherOwner), is(http.StatusNotFound), "404")
				}
				switch rt.Side {
				case httpx.Partner:
					expect("a tenant operator", e.token(e.w.Operator), is(http.StatusNotFound), "404")
				case httpx.Tenant:
					expect("a partner's owner", e.token(e.w.Owner), is(http.StatusNotFound), "404")
				}

				partner := e.w.Partner.ID
				if rt.Side == httpx.Tenant {
					partner = 0
				}
				if rt.Feature != "" && rt.Level > regulars.LevelNone {
					below := e.userWith(partner, regulars.Permissions{rt.Feature: rt.Level - 1})
					expect("one level below", e.token(below), is(http.StatusForbidden), "403")
				}
				// Last, as it may change or delete the fixture.
				exact := e.userWith(partner, regulars.Permissions{})
				if rt.Feature != "" {
					exact = e.userWith(partner, regulars.Permissions{rt.Feature: rt.Level})
				}
				if rt.OwnerOnly {
					features := regulars.PartnerFeatures
					if rt.Side == httpx.Tenant {
						features = regulars.TenantFeatures
					}
					all := regulars.Permissions{}
					for _, f := range features {
						all[f.Feature] = regulars.LevelManage
					}
					expect("a non-owner with every level", e.token(e.userWith(partner, all)), is(http.StatusForbidden), "403")
					exact = e.w.Owner
					if rt.Side == httpx.Tenant {
						exact = e.w.Operator
					}
				}
				expect("exactly the level", e.token(exact), func(s int) bool {
					return s != http.StatusUnauthorized && s != http.StatusForbidden && s != http.StatusNotFound && s < 500
				}, "neither 401, 403, 404 nor 5xx")
			})
		}
	})
}

// checkFollowerRoute checks a follower route: no token or a bad one is
// 401; a staff token, even the partner owner's, finds no such route; a
// follower of another tenant does not find the object; the follower does.
func checkFollowerRoute(t *testing.T, e *env, rt httpx.Route, path string) {
	t.Helper()
	var body any
	switch {
	case strings.HasSuffix(rt.Pattern, "/notifications") && rt.Method == http.MethodPut:
		body = map[string]any{"enabled": false}
	case rt.Pattern == "/api/v1/follower/me" && rt.Method == http.MethodPut:
		body = map[string]any{"email": "fixture.follower@example.com", "gender": nil}
	case rt.Method == http.MethodPost || rt.Method == http.MethodPut:
		body = "{}"
	}
	if rt.Method == http.MethodPost && !strings.Contains(rt.Pattern, "{") && rt.Pattern != "/api/v1/follower/signout" {
		body = "{}"
	}
	expect := func(who, token string, ok func(int) bool, want string) {
		t.Helper()
		r := e.call(token, rt.Method, path, body)
		if !ok(r.StatusCode) {
			t.Errorf("%s: status %d, want %s: %s", who, r.StatusCode, want, r.body)
		}
	}
	is := func(s int) func(int) bool { return func(got int) bool { return got == s } }
	expect("anonymous", "", is(http.StatusUnauthorized), "401")
	expect("bad token", "rgf_not-a-token", is(http.StatusUnauthorized), "401")
	expect("a partner's owner (staff token)", e.token(e.w.Owner), is(http.StatusNotFound), "404")
	if strings.Contains(rt.Pattern, "{") {
		expect("a follower of another tenant", e.otherFollowerToken(), is(http.StatusNotFound), "404")
	}
	if rt.Pattern == "/api/v1/follower/signout" {
		// Last: it ends the token.
		expect("the follower", e.freshFollowerToken(), is(http.StatusNoContent), "204")
		return
	}
	expect("the follower", e.followerToken(), func(s int) bool {
		return s != http.StatusUnauthorized && s != http.StatusForbidden && s != http.StatusNotFound && s < 500
	}, "neither 401, 403, 404 nor 5xx")
}
