package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"regulars"
	"regulars/config"
	"regulars/internal/testenv"
	"regulars/store"
)

// Every rule of the locations form: each refusal names its field and saves
// nothing; radius 0 or empty is a store location; under 100 m is saved
// with the advice.
func TestLocationFormRules(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := testenv.NewWorld(t, db)
		srv := testenv.NewServer(t, db)
		c := srv.SignedIn(t, w.Owner.Email)
		ctx := context.Background()
		form := func(name, lat, lng, radius string) url.Values {
			return url.Values{"name": {name}, "address": {"1 Test Street"}, "lat": {lat}, "lng": {lng}, "radius": {radius}}
		}
		refusals := []struct {
			name  string
			form  url.Values
			field string
			msg   string
		}{
			{"missing name", form("  ", "51.5", "-0.1", ""), "name", "required"},
			{"negative radius", form("Shop", "51.5", "-0.1", "-5"), "radius", "cannot be negative"},
			{"non-numeric radius", form("Shop", "51.5", "-0.1", "ten"), "radius", "must be a number"},
			{"radius over 50 km", form("Shop", "51.5", "-0.1", "50001"), "radius", "at most 50 km"},
			{"latitude over 90", form("Shop", "90.5", "-0.1", ""), "lat", "between -90 and 90"},
			{"latitude under -90", form("Shop", "-91", "-0.1", ""), "lat", "between -90 and 90"},
			{"longitude over 180", form("Shop", "51.5", "181", ""), "lng", "between -180 and 180"},
			{"non-numeric latitude", form("Shop", "north", "-0.1", ""), "lat", "must be a number"},
			{"missing longitude", form("Shop", "51.5", "", ""), "lng", "required"},
		}
		for _, r := range refusals {
			res := c.PostForm("/admin/locations", r.form)
			if res.StatusCode != http.StatusUnprocessableEntity {
				t.Errorf("%s: status %d, want 422", r.name, res.StatusCode)
				continue
			}
			i := strings.Index(res.Body, `id="e-`+r.field+`"`)
			if i < 0 && r.field == "name" {
				i = strings.Index(res.Body, `id="e-name"`)
			}
			if i < 0 || !strings.Contains(res.Body[i:min(len(res.Body), i+300)], r.msg) {
				t.Errorf("%s: no message %q on the %s field", r.name, r.msg, r.field)
			}
		}
		if list, err := db.Locations(ctx, w.Partner.ID); err != nil || len(list) != 0 {
			t.Fatalf("refused forms saved %d locations (%v)", len(list), err)
		}

		// Empty and 0 are store locations; 50 m is saved with the advice.
		for _, radius := range []string{"", "0"} {
			res := c.PostForm("/admin/locations", form("Shop "+radius, "51.5", "-0.1", radius))
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("store location with radius %q: %d", radius, res.StatusCode)
			}
		}
		res := c.PostForm("/admin/locations", form("Tiny zone", "51,5", "-0,1", "50"))
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("50 m: status %d: %s", res.StatusCode, res.Body)
		}
		page := c.Get(res.Location())
		if !strings.Contains(page.Body, "flash-warning") || !strings.Contains(page.Body, "minimum recommended radius is 100 metres") {
			t.Error("a 50 m location is saved without the radius warning")
		}
		list, err := db.Locations(ctx, w.Partner.ID)
		if err != nil || len(list) != 3 {
			t.Fatalf("saved %d locations (%v), want 3", len(list), err)
		}
		for _, l := range list {
			if l.Name == "Tiny zone" && (l.Radius != 50 || l.Lat != 51.5 || l.Lng != -0.1) {
				t.Errorf("decimal commas: saved %+v", l)
			}
			if strings.HasPrefix(l.Name, "Shop") && !l.IsStore() {
				t.Errorf("%s: radius %v, want a store location", l.Name, l.Radius)
			}
		}

		// The list shows them all; another partner sees none of them.
		if body := c.Get("/admin/locations").Body; !strings.Contains(body, "Tiny zone") || !strings.Contains(body, "⚠ small radius") {
			t.Error("the list does not show the small-radius location with its mark")
		}
		other := srv.SignedIn(t, w.OtherOwner.Email)
		if body := other.Get("/admin/locations").Body; strings.Contains(body, "Tiny zone") {
			t.Error("another partner sees the location")
		}
		if r := other.Get(fmt.Sprintf("/admin/locations/%d", list[0].ID)); r.StatusCode != http.StatusNotFound {
			t.Errorf("another partner's location: %d, want 404", r.StatusCode)
		}
	})
}

// A location that an active engagement targets cannot be deleted; the
// refusal names the engagement. Once it is finished, delete works.
func TestLocationDeleteRefusedWhileTargeted(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := testenv.NewWorld(t, db)
		srv := testenv.NewServer(t, db)
		c := srv.SignedIn(t, w.Owner.Email)
		zone := &regulars.Location{TenantID: w.Tenant.ID, PartnerID: w.Partner.ID, Name: "Market square", Lat: 52.2, Lng: 0.12, Radius: 200}
		if err := db.CreateLocation(ctx, zone); err != nil {
			t.Fatal(err)
		}
		msg := &regulars.Engagement{TenantID: w.Tenant.ID, PartnerID: w.Partner.ID, ChannelID: w.Channel.ID, Kind: regulars.KindMessage, Name: "Market day hello",
			Message: &regulars.MessageSpec{Text: "Hello!", Recurring: regulars.RecurOnce}}
		if err := db.CreateEngagement(ctx, msg); err != nil {
			t.Fatal(err)
		}
		path := fmt.Sprintf("/admin/locations/%d", zone.ID)
		if r := c.PostForm(path+"/target", url.Values{"engagement_id": {fmt.Sprint(msg.ID)}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("target: %d", r.StatusCode)
		}
		if body := c.Get(path).Body; !strings.Contains(body, "Market day hello") {
			t.Fatal("the location page does not list the engagement that targets it")
		}
		if _, err := db.SetEngagementStatus(ctx, msg.ID, regulars.EngagementDraft, regulars.EngagementActive, time.Now()); err != nil {
			t.Fatal(err)
		}
		r := c.PostForm(path+"/delete", nil)
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("delete: %d", r.StatusCode)
		}
		flash := c.Get(r.Location()).Body
		if !strings.Contains(flash, "cannot be deleted") || !strings.Contains(flash, "Market day hello") {
			t.Errorf("the refusal does not name the engagement")
		}
		if _, err := db.Location(ctx, w.Partner.ID, zone.ID); err != nil {
			t.Fatalf("the location was deleted anyway: %v", err)
		}
		// A store location cannot be targeted, and a targeted location
		// cannot become one.
		if r := c.PostForm(path, url.Values{"name": {"Market square"}, "lat": {"52.2"}, "lng": {"0.12"}, "radius": {""}}); r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "Market day hello") {
			t.Errorf("turning a targeted location into a store location: %d", r.StatusCode)
		}

		if _, err := db.SetEngagementStatus(ctx, msg.ID, regulars.EngagementActive, regulars.EngagementFinished, time.Now()); err != nil {
			t.Fatal(err)
		}
		if r := c.PostForm(path+"/delete", nil); r.StatusCode != http.StatusSeeOther || r.Location() != "/admin/locations" {
			t.Fatalf("delete after finishing: %d %s", r.StatusCode, r.Location())
		}
		if _, err := db.Location(ctx, w.Partner.ID, zone.ID); regulars.ErrorCode(err) != regulars.ENOTFOUND {
			t.Fatalf("after delete: %v", err)
		}
	})
}

// fakeNominatim answers like a Nominatim server: coordinates as strings.
func fakeNominatim(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("format") != "jsonv2" || !strings.HasPrefix(r.Header.Get("User-Agent"), "Regulars") {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if strings.Contains(strings.ToLower(r.URL.Query().Get("q")), "baker street") {
			fmt.Fprint(w, `[{"display_name":"221B Baker Street, London NW1 6XE","lat":"51.5237629","lon":"-0.1584743"},{"display_name":"Baker Street, Portman Square, London","lat":"51.5178","lon":"-0.1563"}]`)
			return
		}
		fmt.Fprint(w, `[]`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// The address search lists places; choosing one places the pin and fills
// the coordinates. Without a reachable geocoder the form says so and still
// works with typed coordinates.
func TestBrowserAddressSearch(t *testing.T) {
	t.Parallel()
	db := testenv.OpenSQLite(t)
	w := testenv.NewWorld(t, db)
	geocoder := fakeNominatim(t)
	srv := testenv.NewServer(t, db, func(c *config.Config) { c.GeocoderURL = geocoder.URL + "/search" })
	ctx := testenv.Browser(t)
	browserSignIn(t, ctx, srv, w.Owner.Email, testenv.Password)
	testenv.Do(t, ctx,
		chromedp.Navigate(srv.URL+"/admin/locations/new"),
		chromedp.WaitVisible(chromedp.CSS(`#location-map[data-ready="true"]`)),
		chromedp.SendKeys(chromedp.CSS("#f-address"), "221b baker street\r"), // Enter searches, it does not submit
	)
	testenv.WaitText(t, ctx, "#search-status", "2 places found")
	testenv.Do(t, ctx, chromedp.Click(chromedp.CSS("#address-results li:first-child button")))
	waitTrue(t, ctx, `document.getElementById("f-lat").value === "51.523763"`, "the chosen place's latitude in the field")
	if got := fieldValue(t, ctx, "f-lng"); got != "-0.158474" {
		t.Errorf("longitude %q", got)
	}
	if got := fieldValue(t, ctx, "f-address"); got != "221B Baker Street, London NW1 6XE" {
		t.Errorf("address %q", got)
	}
	waitTrue(t, ctx, `(() => { const p = document.getElementById("location-map").markerPosition(); return p && Math.abs(p.lat - 51.5237629) < 1e-6 })()`, "the pin on the chosen place")
	testenv.Screenshot(t, ctx, "search")

	// The geocoder goes away: the search says so, typing still works.
	geocoder.Close()
	testenv.Do(t, ctx,
		chromedp.Click(chromedp.CSS("#f-address")),
		chromedp.SendKeys(chromedp.CSS("#f-address"), " London\r"),
	)
	testenv.WaitText(t, ctx, "#search-status", "unavailable")
	testenv.Do(t, ctx,
		chromedp.SendKeys(chromedp.CSS("#f-name"), "Detective museum"),
		chromedp.Click(chromedp.CSS("#save-location")),
	)
	testenv.WaitText(t, ctx, ".flash-success", "Detective museum created")
}

// The locations panel of an engagement page: attach a targeting location,
// set the cooldown, remove it; a store location is not offered.
func TestEngagementLocationsPanel(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := testenv.NewWorld(t, db)
		srv := testenv.NewServer(t, db)
		c := srv.SignedIn(t, w.Owner.Email)
		zone := &regulars.Location{TenantID: w.Tenant.ID, PartnerID: w.Partner.ID, Name: "Station square", Lat: 52.2, Lng: 0.12, Radius: 300}
		shop := &regulars.Location{TenantID: w.Tenant.ID, PartnerID: w.Partner.ID, Name: "The shop", Lat: 52.2, Lng: 0.12}
		for _, l := range []*regulars.Location{zone, shop} {
			if err := db.CreateLocation(ctx, l); err != nil {
				t.Fatal(err)
			}
		}
		msg := &regulars.Engagement{TenantID: w.Tenant.ID, PartnerID: w.Partner.ID, ChannelID: w.Channel.ID, Kind: regulars.KindMessage, Name: "Train is late?",
			Message: &regulars.MessageSpec{Text: "Coffee while you wait.", Recurring: regulars.RecurOnce}}
		if err := db.CreateEngagement(ctx, msg); err != nil {
			t.Fatal(err)
		}
		page := fmt.Sprintf("/admin/messages/%d", msg.ID)
		if body := c.Get(page).Body; !strings.Contains(body, fmt.Sprintf(`hx-get="/admin/engagements/%d/locations`, msg.ID)) {
			t.Fatal("the engagement page does not load the locations panel")
		}
		panel := fmt.Sprintf("/admin/engagements/%d/locations", msg.ID)
		body := c.Get(panel + "?back=" + url.QueryEscape(page)).Body
		if !strings.Contains(body, "Station square") || strings.Contains(body, "The shop") {
			t.Fatalf("the panel offers: %s", body)
		}
		r := c.PostForm(panel, url.Values{"location_id": {fmt.Sprint(zone.ID)}, "back": {page}})
		if r.StatusCode != http.StatusSeeOther || r.Location() != page {
			t.Fatalf("attach: %d %s", r.StatusCode, r.Location())
		}
		if ids, _ := db.TargetedLocationIDs(ctx, msg.ID); len(ids) != 1 || ids[0] != zone.ID {
			t.Fatalf("targets after attaching: %v", ids)
		}
		r = c.PostForm(fmt.Sprintf("/admin/engagements/%d/cooldown", msg.ID), url.Values{"cooldown_hours": {"6"}, "back": {page}})
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("cooldown: %d", r.StatusCode)
		}
		if e, _ := db.Engagement(ctx, w.Partner.ID, msg.ID); e.CooldownSeconds != 6*3600 {
			t.Fatalf("cooldown saved: %d s", e.CooldownSeconds)
		}
		r = c.PostForm(fmt.Sprintf("/admin/engagements/%d/cooldown", msg.ID), url.Values{"cooldown_hours": {"0"}, "back": {page}})
		if flash := c.Get(r.Location()).Body; !strings.Contains(flash, "1 or more") {
			t.Errorf("a 0 h cooldown is not refused with a reason")
		}
		if e, _ := db.Engagement(ctx, w.Partner.ID, msg.ID); e.CooldownSeconds != 6*3600 {
			t.Fatalf("a refused cooldown changed it: %d s", e.CooldownSeconds)
		}
		// A store location cannot be attached; another partner's engagement is not found.
		r = c.PostForm(panel, url.Values{"location_id": {fmt.Sprint(shop.ID)}, "back": {page}})
		if flash := c.Get(r.Location()).Body; !strings.Contains(flash, "store location") {
			t.Errorf("attaching a store location is not refused with a reason")
		}
		if r := srv.SignedIn(t, w.OtherOwner.Email).Get(panel); r.StatusCode != http.StatusNotFound {
			t.Errorf("another partner's panel: %d", r.StatusCode)
		}
		r = c.PostForm(panel+"/remove", url.Values{"location_id": {fmt.Sprint(zone.ID)}, "back": {page}})
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("remove: %d", r.StatusCode)
		}
		if ids, _ := db.TargetedLocationIDs(ctx, msg.ID); len(ids) != 0 {
			t.Fatalf("targets after removing: %v", ids)
		}
	})
}
