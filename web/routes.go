package web

import (
	"net/http"

	"regulars"
	"regulars/httpx"
)

// buildRoutes is THE routes table of the HTML surface: every page and form
// with who may use it. The authorization tests walk this table.
func (h *Handler) buildRoutes() []httpx.Route {
	const (
		pub     = httpx.Public
		partner = httpx.Partner
		tenant  = httpx.Tenant
		staff   = httpx.Staff
		none    = regulars.LevelNone
		view    = regulars.LevelView
		update  = regulars.LevelUpdate
		manage  = regulars.LevelManage
	)
	r := func(method, pattern string, side httpx.Side, f regulars.Feature, l regulars.Level, fn http.HandlerFunc) httpx.Route {
		return httpx.Route{Method: method, Pattern: pattern, Side: side, Feature: f, Level: l, Handler: fn}
	}
	routes := []httpx.Route{
		r("GET", "/{$}", pub, "", none, h.home),
		// Anything no other route matches: the styled "not found" page.
		r("", "/", pub, "", none, h.unmatched),
		r("GET", "/login", pub, "", none, h.loginForm),
		r("POST", "/login", pub, "", none, h.login),
		r("POST", "/logout", staff, "", none, h.logout),
		r("GET", "/forgot", pub, "", none, h.forgotForm),
		r("POST", "/forgot", pub, "", none, h.forgot),
		r("GET", "/password/{token}", pub, "", none, h.passwordForm),
		r("POST", "/password/{token}", pub, "", none, h.setPassword),

		// Own account: both sides.
		r("GET", "/account", staff, regulars.FeatureAccount, none, h.account),
		r("POST", "/account/profile", staff, regulars.FeatureAccount, none, h.accountProfile),
		r("POST", "/account/password", staff, regulars.FeatureAccount, none, h.accountPassword),
		r("POST", "/account/sessions/end-others", staff, regulars.FeatureAccount, none, h.accountEndOthers),
		r("POST", "/account/tokens", staff, regulars.FeatureAccount, none, h.accountCreateToken),
		r("POST", "/account/tokens/{id}/delete", staff, regulars.FeatureAccount, none, h.accountDeleteToken),
		ownerOnly(r("POST", "/account/transfer", staff, regulars.FeatureAccount, none, h.accountTransfer)),

		// Partner admin.
		r("GET", "/admin", partner, "", none, h.dashboard),
		r("GET", "/admin/support", partner, regulars.FeatureSupport, none, h.supportForm),
		r("POST", "/admin/support", partner, regulars.FeatureSupport, none, h.sendSupport),
	}
	routes = append(routes, h.loyaltyRoutes()...)
	routes = append(routes, h.chatRoutes()...)
	routes = append(routes, h.chatBadgeRoutes()...)
	routes = append(routes, h.segmentRoutes()...)
	routes = append(routes, h.userRoutes("/admin", partner, regulars.FeatureUsers)...)
	routes = append(routes, h.roleRoutes("/admin", partner, regulars.FeatureRoles)...)
	routes = append(routes, h.locationRoutes()...)
	for _, s := range upcomingSections {
		routes = append(routes, r("GET", s.Path, partner, s.Feature, view, h.section(s)))
	}

	// Tenant console.
	routes = append(routes,
		r("GET", "/tenant", tenant, "", none, h.tenantHome),
		r("GET", "/tenant/outbox", tenant, regulars.FeatureTenantOutbox, view, h.tenantOutbox),
		r("GET", "/tenant/support", tenant, regulars.FeatureTenantSupport, view, h.tenantSupport),
	)
	routes = append(routes, h.userRoutes("/tenant", tenant, regulars.FeatureTenantStaff)...)
	routes = append(routes, h.roleRoutes("/tenant", tenant, regulars.FeatureTenantStaff)...)
	for _, s := range upcomingTenantSections {
		routes = append(routes, r("GET", s.Path, tenant, s.Feature, view, h.section(s)))
	}
	routes = append(routes, h.partnershipRoutes()...)
	return routes
}

// featureRoutes returns a maker of the routes of one feature on one side,
// their patterns under prefix.
func featureRoutes(prefix string, side httpx.Side, f regulars.Feature) func(method, pattern string, l regulars.Level, fn http.HandlerFunc) httpx.Route {
	return func(method, pattern string, l regulars.Level, fn http.HandlerFunc) httpx.Route {
		return httpx.Route{Method: method, Pattern: prefix + pattern, Side: side, Feature: f, Level: l, Handler: fn}
	}
}

func (h *Handler) userRoutes(prefix string, side httpx.Side, f regulars.Feature) []httpx.Route {
	r := featureRoutes(prefix, side, f)
	return []httpx.Route{
		r("GET", "/users", regulars.LevelView, h.users),
		r("GET", "/users/new", regulars.LevelManage, h.newUser),
		r("POST", "/users", regulars.LevelManage, h.createUser),
		r("GET", "/users/{id}", regulars.LevelView, h.editUser),
		r("POST", "/users/{id}", regulars.LevelUpdate, h.updateUser),
		r("POST", "/users/{id}/disable", regulars.LevelUpdate, h.disableUser),
		r("POST", "/users/{id}/enable", regulars.LevelUpdate, h.enableUser),
		r("POST", "/users/{id}/resend", regulars.LevelUpdate, h.resendInvite),
		r("POST", "/users/{id}/password", regulars.LevelUpdate, h.setUserPassword),
	}
}

func (h *Handler) roleRoutes(prefix string, side httpx.Side, f regulars.Feature) []httpx.Route {
	r := featureRoutes(prefix, side, f)
	return []httpx.Route{
		r("GET", "/roles", regulars.LevelView, h.roles),
		r("GET", "/roles/new", regulars.LevelManage, h.newRole),
		r("POST", "/roles", regulars.LevelManage, h.createRole),
		r("GET", "/roles/{id}", regulars.LevelView, h.editRole),
		r("POST", "/roles/{id}", regulars.LevelUpdate, h.updateRole),
		r("POST", "/roles/{id}/delete", regulars.LevelManage, h.deleteRole),
	}
}

// section describes an area whose pages arrive with a later feature; until
// then it says what will come there.
type section struct {
	Path, Title, Text, Next string
	Feature                 regulars.Feature
}

var upcomingSections = []section{}

var upcomingTenantSections = []section{}

func (h *Handler) section(s section) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h.render(w, r, http.StatusOK, "section", &Page{Title: s.Title, Data: s})
	}
}

func ownerOnly(rt httpx.Route) httpx.Route {
	rt.OwnerOnly = true
	return rt
}
