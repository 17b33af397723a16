package web_test

import (
	"context"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"regulars/internal/testenv"
	"regulars/store"
)

// locSignIn signs a browser in through the sign-in page.
func locSignIn(t *testing.T, ctx context.Context, srv *testenv.Server, email string) {
	t.Helper()
	testenv.Do(t, ctx,
		chromedp.Navigate(srv.URL+"/login"),
		chromedp.SendKeys(chromedp.CSS("#f-email"), email),
		chromedp.SendKeys(chromedp.CSS("#f-password"), testenv.Password),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#drawer")),
	)
}

// waitJS polls a JavaScript condition until it holds.
func waitJS(t *testing.T, ctx context.Context, js, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !testenv.Run(t, ctx, chromedp.Evaluate[bool](js)) {
		if time.Now().After(deadline) {
			t.Fatalf("browser: %s did not happen", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

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
		locSignIn(t, ctx, srv, w.Owner.Email)

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
		waitJS(t, ctx, `!document.getElementById("radius-warning").hidden`, "the live radius warning")
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
	locSignIn(t, ctx, srv, w.Owner.Email)
	testenv.Do(t, ctx,
		chromedp.Navigate(srv.URL+"/admin/locations/new"),
		chromedp.WaitVisible(chromedp.CSS(`#location-map[data-ready="true"]`)),
		chromedp.SendKeys(chromedp.CSS("#f-lat"), "48.8584"),
		chromedp.SendKeys(chromedp.CSS("#f-lng"), "2.2945"),
		chromedp.WaitVisible(chromedp.CSS("#location-map .leaflet-marker-icon")),
	)
	// Typing placed the pin where the coordinates say.
	waitJS(t, ctx, `(() => { const p = document.getElementById("location-map").markerPosition(); return p && Math.abs(p.lat - 48.8584) < 1e-9 && Math.abs(p.lng - 2.2945) < 1e-9 })()`, "the pin following typed coordinates")
	// Zoom in so that a drag of 80 pixels is a few hundred metres.
	testenv.Run(t, ctx, chromedp.Evaluate[bool](`document.getElementById("location-map").leafletMap.setView([48.8584, 2.2945], 16, {animate: false}) && true`))
	waitJS(t, ctx, `(() => { const r = document.querySelector("#location-map .leaflet-marker-icon").getBoundingClientRect(); const m = document.getElementById("location-map").getBoundingClientRect(); return r.left > m.left && r.right < m.right })()`, "the pin in view")

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

	waitJS(t, ctx, `document.getElementById("f-lat").value !== "48.8584"`, "the coordinates following the dragged pin")
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
