package web

import (
	"net/url"
	"strings"

	"regulars"
	"regulars/app"
)

// MenuSection is a titled group of links in the drawer.
type MenuSection struct {
	Title string
	Links []MenuLink
}

// MenuLink is one drawer entry.
type MenuLink struct {
	Label string
	Href  string
	Icon  string
	Count int64 // a badge: the chat's unanswered conversations
}

// Icons are characters that common system fonts have (no emoji font needed),
// so they never show as empty boxes.
type menuEntry struct {
	label, href, icon string
	feature           regulars.Feature
}

// The partner admin: the main sections, then the drawer menu of the seed.
var partnerMenu = []struct {
	title   string
	entries []menuEntry
}{
	{"Engage", []menuEntry{
		{"Dashboard", "/admin", "◧", regulars.FeatureDashboard},
		{"Chat", "/admin/chat", "✉", regulars.FeatureChat},
		{"Channels", "/admin/channels", "▤", regulars.FeatureChannels},
		{"Messages", "/admin/messages", "✎", regulars.FeatureMessages},
		{"Coupons", "/admin/coupons", "✂", regulars.FeatureCoupons},
		{"Loyalty programs", "/admin/loyalty", "★", regulars.FeatureLoyalty},
	}},
	{"Targeting", []menuEntry{
		{"Segmentations", "/admin/segmentations", "◑", regulars.FeatureSegmentations},
		{"Custom lists", "/admin/lists", "☰", regulars.FeatureCustomLists},
		{"Locations", "/admin/locations", "◎", regulars.FeatureLocations},
	}},
	{"Settings", []menuEntry{
		{"Account settings", "/account", "☺", regulars.FeatureAccount},
		{"Users", "/admin/users", "☻", regulars.FeatureUsers},
		{"Roles", "/admin/roles", "⚙", regulars.FeatureRoles},
		{"Canned responses", "/admin/canned", "❝", regulars.FeatureCanned},
		{"Partnership settings", "/admin/partnership", "◈", regulars.FeaturePartnership},
		{"Support", "/admin/support", "?", regulars.FeatureSupport},
	}},
}

var tenantMenu = []struct {
	title   string
	entries []menuEntry
}{
	{"Console", []menuEntry{
		{"Overview", "/tenant", "◧", ""},
		{"Partners", "/tenant/partners", "▤", regulars.FeatureTenantPartners},
		{"Requests", "/tenant/requests", "⇄", regulars.FeatureTenantRequests},
		{"Packages", "/tenant/packages", "◈", regulars.FeatureTenantPackages},
		{"Support inbox", "/tenant/support", "✉", regulars.FeatureTenantSupport},
		{"Email outbox", "/tenant/outbox", "✈", regulars.FeatureTenantOutbox},
	}},
	{"Chat", []menuEntry{
		{"Canned response defaults", "/tenant/canned", "❝", regulars.FeatureTenantCanned},
	}},
	{"Settings", []menuEntry{
		{"Account settings", "/account", "☺", regulars.FeatureAccount},
		{"Staff", "/tenant/users", "☻", regulars.FeatureTenantStaff},
		{"Staff roles", "/tenant/roles", "⚙", regulars.FeatureTenantStaff},
	}},
}

// menuFor lists what the actor's role and package allow, nothing more.
func menuFor(a *app.Actor) []MenuSection {
	src := partnerMenu
	if a.Partner == nil {
		src = tenantMenu
	}
	var out []MenuSection
	for _, s := range src {
		sec := MenuSection{Title: s.title}
		for _, e := range s.entries {
			if e.feature == "" || a.Can(e.feature, regulars.LevelView) || (e.href == "/admin" && a.Partner != nil) {
				sec.Links = append(sec.Links, MenuLink{Label: e.label, Href: e.href, Icon: e.icon})
			}
		}
		if len(sec.Links) > 0 {
			out = append(out, sec)
		}
	}
	return out
}

// activeEntry picks the longest menu href that prefixes path.
func activeEntry(menu []MenuSection, path string) string {
	best := ""
	for _, s := range menu {
		for _, l := range s.Links {
			if (path == l.Href || strings.HasPrefix(path, l.Href+"/")) && len(l.Href) > len(best) {
				best = l.Href
			}
		}
	}
	return best
}

func urlQuery(s string) string { return url.QueryEscape(s) }
