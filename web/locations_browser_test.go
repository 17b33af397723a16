package web_test

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"regulars"
	"regulars/app"
	"regulars/internal/testenv"
	"regulars/store"
)

func fieldValue(t *testing.T, ctx context.Context, id string) string {
	t.Helper()
	return testenv.Run(t, ctx, chromedp.Evaluate[string](`document.getElementById("`+id+`").value`))
}

// A 50 m targeting location is saved with the radius advice; a negative
// radius is refused on the field and changes nothing.
func TestBrowserLocationRadiusWarningAndRefusal(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := testenv.NewWorld(t, db)
		srv := testenv.NewServer(t, db)
		ctx := testenv.Browser(t)
		browserSignIn(t, ctx, srv, w.Owner.Email, testenv.Password)

		// From the drawer, like a person would.
		testenv.Do(t, ctx, chromedp.Click(chromedp.CSS(`#drawer a[href="/admin/locations"]`)))
		testenv.WaitText(t, ctx, ".empty h2", "No locations yet")
		testenv.Do(t, ctx,
			chromedp.Click(chromedp.CSS(`.empty a[href="/admin/locations/new"]`)),
			chromedp.WaitVisible(chromedp.CSS("#location-form")),
			chromedp.SendKeys(chromedp.CSS("#f-name"), "Station entrance"),
			chromedp.SendKeys(chromedp.CSS("#f-lat"), "51.5033"),
			chromedp.SendKeys(chromedp.CSS("#f-lng"), "-0.1195"),
			chromedp.SendKeys(chromedp.CSS("#f-radius"), "50"),
		)
		// The advice shows while typing…
		waitTrue(t, ctx, `!document.getElementById("radius-warning").hidden`, "the live radius warning")
		testenv.Do(t, ctx, chromedp.Click(chromedp.CSS("#save-location")))
		// …and after saving.
		flash := testenv.WaitText(t, ctx, ".flash-warning", "minimum recommended radius is 100 metres")
		if !strings.Contains(flash, "Station entrance created") {
			t.Errorf("flash %q does not say the location was saved", flash)
		}
		if !testenv.Run(t, ctx, chromedp.Evaluate[bool](`!document.getElementById("radius-warning").hidden`)) {
			t.Error("the edit page of a 50 m location does not show the radius warning")
		}
		list, err := db.Locations(context.Background(), w.Partner.ID)
		if err != nil || len(list) != 1 || list[0].Radius != 50 {
			t.Fatalf("saved: %v %v", list, err)
		}
		testenv.Screenshot(t, ctx, "radius-warning")

		// A negative radius: refused on the field, nothing saved.
		testenv.Run(t, ctx, chromedp.Evaluate[bool](`(document.getElementById("f-radius").value = "") === ""`))
		testenv.Do(t, ctx,
			chromedp.SendKeys(chromedp.CSS("#f-radius"), "-20"),
			chromedp.Click(chromedp.CSS("#save-location")),
		)
		msg := testenv.WaitText(t, ctx, "#e-radius", "cannot be negative")
		if got := fieldValue(t, ctx, "f-radius"); got != "-20" {
			t.Errorf("the refused form shows radius %q, want what was typed", got)
		}
		testenv.Screenshot(t, ctx, "negative-radius")
		l, err := db.Location(context.Background(), w.Partner.ID, list[0].ID)
		if err != nil || l.Radius != 50 {
			t.Fatalf("after the refusal (%q) the radius is %v (%v), want 50 unchanged", msg, l.Radius, err)
		}
	})
}

// Dragging the pin with the mouse writes its position into the coordinate
// fields; typing coordinates moves the pin.
func TestBrowserDraggingThePinChangesTheCoordinates(t *testing.T) {
	t.Parallel()
	db := testenv.OpenSQLite(t)
	w := testenv.NewWorld(t, db)
	srv := testenv.NewServer(t, db)
	ctx := testenv.Browser(t)
	browserSignIn(t, ctx, srv, w.Owner.Email, testenv.Password)
	testenv.Do(t, ctx,
		chromedp.Navigate(srv.URL+"/admin/locations/new"),
		chromedp.WaitVisible(chromedp.CSS(`#location-map[data-ready="true"]`)),
		chromedp.SendKeys(chromedp.CSS("#f-lat"), "48.8584"),
		chromedp.SendKeys(chromedp.CSS("#f-lng"), "2.2945"),
		chromedp.WaitVisible(chromedp.CSS("#location-map .leaflet-marker-icon")),
	)
	// Typing placed the pin where the coordinates say.
	waitTrue(t, ctx, `(() => { const p = document.getElementById("location-map").markerPosition(); return p && Math.abs(p.lat - 48.8584) < 1e-9 && Math.abs(p.lng - 2.2945) < 1e-9 })()`, "the pin following typed coordinates")
	// Zoom in so that a drag of 80 pixels is a few hundred metres.
	testenv.Run(t, ctx, chromedp.Evaluate[bool](`document.getElementById("location-map").leafletMap.setView([48.8584, 2.2945], 16, {animate: false}) && true`))
	waitTrue(t, ctx, `(() => { const r = document.querySelector("#location-map .leaflet-marker-icon").getBoundingClientRect(); const m = document.getElementById("location-map").getBoundingClientRect(); return r.left > m.left && r.right < m.right })()`, "the pin in view")

	box := testenv.Run(t, ctx, chromedp.Evaluate[[]float64](`(() => { const r = document.querySelector("#location-map .leaflet-marker-icon").getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2] })()`))
	x, y := box[0], box[1]
	steps := []chromedp.Action[chromedp.Void]{
		chromedp.MouseEvent(chromedp.MouseMoved, x, y),
		chromedp.MouseEvent(chromedp.MousePressed, x, y, chromedp.ButtonLeft, chromedp.ClickCount(1)),
	}
	for i := 1; i <= 8; i++ {
		steps = append(steps, chromedp.MouseEvent(chromedp.MouseMoved, x+float64(i*10), y+float64(i*5), chromedp.ButtonLeft))
	}
	steps = append(steps, chromedp.MouseEvent(chromedp.MouseReleased, x+80, y+40, chromedp.ButtonLeft, chromedp.ClickCount(1)))
	testenv.Do(t, ctx, steps...)

	waitTrue(t, ctx, `document.getElementById("f-lat").value !== "48.8584"`, "the coordinates following the dragged pin")
	lat, err1 := strconv.ParseFloat(fieldValue(t, ctx, "f-lat"), 64)
	lng, err2 := strconv.ParseFloat(fieldValue(t, ctx, "f-lng"), 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("coordinates after the drag: %q %q", fieldValue(t, ctx, "f-lat"), fieldValue(t, ctx, "f-lng"))
	}
	// Right and down on the screen: east and south.
	if !(lng > 2.2945 && lat < 48.8584) || math.Abs(lng-2.2945) > 0.01 || math.Abs(lat-48.8584) > 0.01 {
		t.Errorf("after dragging right and down the pin is at %v, %v: want a little east and south of 48.8584, 2.2945", lat, lng)
	}
	testenv.Screenshot(t, ctx, "dragged-pin")

	// The dragged position is what gets saved.
	testenv.Do(t, ctx,
		chromedp.SendKeys(chromedp.CSS("#f-name"), "Tower"),
		chromedp.Click(chromedp.CSS("#save-location")),
	)
	testenv.WaitText(t, ctx, ".flash-success", "Tower created")
	list, err := db.Locations(context.Background(), w.Partner.ID)
	if err != nil || len(list) != 1 {
		t.Fatalf("saved: %v %v", list, err)
	}
	if math.Abs(list[0].Lat-lat) > 1e-6 || math.Abs(list[0].Lng-lng) > 1e-6 || !list[0].IsStore() {
		t.Errorf("saved %+v, want the dragged position %v, %v as a store location", list[0], lat, lng)
	}
}

// The follower's side: a store location typed in the admin shows on the
// channel page of the follower app, nearest first with its distance once
// the follower sends a position; a typed position inside a targeting
// location delivers the message that targets it.
func TestBrowserStoreLocationOnTheFollowersChannelPage(t *testing.T) {
	t.Parallel()
	db := testenv.OpenSQLite(t)
	w := testenv.NewWorld(t, db)
	srv := testenv.NewServer(t, db)
	staff := testenv.Browser(t, testenv.BrowserName("staff"))
	fan := testenv.Browser(t, testenv.BrowserName("follower"))

	browserSignIn(t, staff, srv, w.Owner.Email, testenv.Password)
	testenv.Do(t, staff,
		chromedp.Navigate(srv.URL+"/admin/locations/new"),
		chromedp.WaitVisible(chromedp.CSS("#location-form")),
		chromedp.SendKeys(chromedp.CSS("#f-name"), "Alpha Riverside"),
		chromedp.SendKeys(chromedp.CSS("#f-address"), "1 River Walk"),
		chromedp.SendKeys(chromedp.CSS("#f-lat"), "51.5080"),
		chromedp.SendKeys(chromedp.CSS("#f-lng"), "-0.0990"),
		chromedp.Click(chromedp.CSS("#save-location")),
	)
	testenv.WaitText(t, staff, ".flash-success", "Alpha Riverside created")
	testenv.WaitText(t, staff, ".page-header", "Store location")

	// A targeting location a little way off, with a live message.
	ctx := context.Background()
	owner, err := srv.App.SignIn(ctx, w.Owner.Email, testenv.Password, "127.0.0.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	zone, err := srv.App.CreateLocation(ctx, owner.Actor, regulars.LocationInput{Name: "Bridge", Lat: "51.5100", Lng: "-0.0900", Radius: "150"})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := srv.App.CreateEngagement(ctx, owner.Actor, regulars.KindMessage, app.EngagementInput{ChannelID: w.Channel.ID, Name: "Coffee on the bridge", Text: "Two minutes away: 10% off!"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.App.PublishEngagement(ctx, owner.Actor, regulars.KindMessage, msg.ID); err != nil {
		t.Fatal(err)
	}
	if err := srv.App.TargetLocation(ctx, owner.Actor, msg.ID, zone.ID); err != nil {
		t.Fatal(err)
	}

	// The follower signs up, opens the channel: the shop is listed and on the map.
	testenv.Do(t, fan, chromedp.Navigate(srv.URL+"/app/?tenant=test#/signup"),
		chromedp.WaitVisible(chromedp.CSS(`#signup-form`)),
		chromedp.SendKeys(chromedp.CSS(`#signup-form input[name=email]`), "walker@fans.example"),
		chromedp.SendKeys(chromedp.CSS(`#signup-form input[name=password]`), "a long walker passphrase"),
		chromedp.Click(chromedp.CSS(`#signup-form button[type=submit]`)))
	testenv.WaitText(t, fan, "#channel-list", w.Channel.Name)
	testenv.Do(t, fan, chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-channel="%d"]`, w.Channel.ID))))
	testenv.WaitText(t, fan, "#shops", "Alpha Riverside")
	waitTrue(t, fan, `document.querySelector("#shop-map")?.dataset.ready === "true" && document.querySelectorAll("#shop-map .leaflet-marker-icon").length === 1`, "the shop on the map")
	if text := testenv.Text(t, fan, "#places"); strings.Contains(text, "Bridge") || strings.Contains(text, "null") {
		t.Error("the follower sees a targeting location's internal name")
	}
	testenv.Do(t, fan, chromedp.Click(chromedp.CSS(`#follow`)))
	testenv.WaitText(t, fan, "#unfollow", "Following")

	// A typed position on the bridge: the message arrives.
	testenv.Do(t, fan, chromedp.Navigate(srv.URL+"/app/#/me"),
		chromedp.WaitVisible(chromedp.CSS(`#typed-position`)),
		chromedp.SendKeys(chromedp.CSS(`#typed-lat`), "51.5101"),
		chromedp.SendKeys(chromedp.CSS(`#typed-lng`), "-0.0902"),
		chromedp.Click(chromedp.CSS(`#typed-position button[type=submit]`)))
	testenv.WaitText(t, fan, "#position-status", "New message: Coffee on the bridge")
	testenv.Do(t, fan, chromedp.Navigate(srv.URL+fmt.Sprintf("/app/#/channel/%d", w.Channel.ID)))
	testenv.WaitText(t, fan, "#thread", "Two minutes away")
	// The shop now shows how far it is (about 700 m from the bridge).
	testenv.WaitText(t, fan, "#shops .pill", " m")
	if d := testenv.Run(t, fan, chromedp.Evaluate[float64](`Number(document.querySelector("#shops [data-distance]").dataset.distance)`)); d < 600 || d > 800 {
		t.Errorf("distance to the shop: %v m, want about 700", d)
	}
	testenv.Screenshot(t, fan, "channel-page")
}
