package api_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"regulars"
	"regulars/api"
	"regulars/app"
	"regulars/events"
	"regulars/internal/testenv"
	"regulars/mail"
	"regulars/store"
)

// clock is a settable clock for the cooldown window.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// position is a body of POST /api/v1/follower/position.
func position(lat, lng float64) map[string]any {
	return map[string]any{"lat": lat, "lng": lng, "accuracy": 12}
}

// The market square: a 200 m targeting location, and points in and out.
const (
	squareLat, squareLng = 52.2053, 0.1218
	insideLat, insideLng = 52.2060, 0.1225 // about 90 m from the centre
	outsideLat           = 52.2100         // about 520 m north
)

// proximity sets up partner A with a targeting location that an active
// message targets, and a follower of A's channel (the env's follower).
type proximity struct {
	e       *env
	clock   *clock
	zone    *regulars.Location
	message *regulars.Engagement
}

func newProximity(t *testing.T, db *store.DB) *proximity {
	e := newEnv(t, db)
	c := &clock{t: time.Now().UTC()}
	e.app.Clock = c
	p := &proximity{e: e, clock: c}
	var err error
	p.zone, err = e.app.CreateLocation(e.ctx, e.owner(), regulars.LocationInput{Name: "Market square", Lat: fmt.Sprint(squareLat), Lng: fmt.Sprint(squareLng), Radius: "200"})
	if err != nil {
		t.Fatal(err)
	}
	followedChannel(e)
	p.message = e.publish(regulars.KindMessage, app.EngagementInput{Name: "Market day", Text: "Fresh coffee at the market stall today!"})
	if err := e.app.TargetLocation(e.ctx, e.owner(), p.message.ID, p.zone.ID); err != nil {
		t.Fatal(err)
	}
	return p
}

// report sends a position as the follower with token and returns what fired.
func (p *proximity) report(token string, lat, lng float64) api.PositionResult {
	p.e.t.Helper()
	var res api.PositionResult
	p.e.must(http.StatusOK, token, "POST", "/api/v1/follower/position", position(lat, lng)).decode(p.e.t, &res)
	return res
}

// received counts the times the follower got the message in the channel.
func (p *proximity) received(followerID int64) int {
	p.e.t.Helper()
	n := 0
	ds, err := p.e.db.Deliveries(p.e.ctx, followerID, p.e.w.Channel.ID, 100)
	if err != nil {
		p.e.t.Fatal(err)
	}
	for _, d := range ds {
		if d.EngagementID == p.message.ID {
			n++
		}
	}
	return n
}

func (p *proximity) visits(followerID int64) int {
	p.e.t.Helper()
	acts, err := p.e.db.Activities(p.e.ctx, followerID, store.ActivityFilter{})
	if err != nil {
		p.e.t.Fatal(err)
	}
	n := 0
	for _, a := range acts {
		if a.Kind == regulars.ActLocationVisited && a.EngagementID == p.message.ID {
			n++
		}
	}
	return n
}

func TestEnteringATargetingLocationDeliversTheMessageOncePerCooldown(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		p := newProximity(t, db)
		e := p.e
		follower := e.followerToken()

		// Outside: nothing.
		if res := p.report(follower, outsideLat, squareLng); len(res.Fired) != 0 {
			t.Fatalf("outside the area: fired %+v", res.Fired)
		}
		// Entering: the message arrives, once, with a visit in the history.
		res := p.report(follower, insideLat, insideLng)
		if len(res.Fired) != 1 || res.Fired[0].EngagementID != p.message.ID || res.Fired[0].Outcome != "message_delivered" {
			t.Fatalf("entering: fired %+v", res.Fired)
		}
		if n := p.received(e.followers.id); n != 1 {
			t.Fatalf("the follower received the message %d times, want 1", n)
		}
		if n := p.visits(e.followers.id); n != 1 {
			t.Fatalf("%d location_visited activities, want 1", n)
		}
		// Staying, leaving and entering again within the cooldown: nothing.
		p.clock.add(time.Hour)
		for _, at := range [][2]float64{{insideLat, insideLng}, {outsideLat, squareLng}, {squareLat, squareLng}} {
			if res := p.report(follower, at[0], at[1]); len(res.Fired) != 0 {
				t.Fatalf("within the cooldown at %v: fired %+v", at, res.Fired)
			}
		}
		if n := p.received(e.followers.id); n != 1 {
			t.Fatalf("within the cooldown the message arrived again (%d)", n)
		}
		// After the cooldown (24 h by default) it fires again.
		p.clock.add(23 * time.Hour)
		if res := p.report(follower, insideLat, insideLng); len(res.Fired) != 1 {
			t.Fatalf("after the cooldown: fired %+v", res.Fired)
		}
		if n := p.received(e.followers.id); n != 2 {
			t.Fatalf("after the cooldown: received %d times, want 2", n)
		}
	})
}

func TestANonFollowerGetsNothing(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		p := newProximity(t, db)
		e := p.e
		s, err := e.app.SignUpFollower(e.ctx, app.SignUpInput{Tenant: "test", Password: testenv.Password, ProfileInput: app.ProfileInput{Email: "passer.by@example.com"}})
		if err != nil {
			t.Fatal(err)
		}
		if res := p.report(s.Token, insideLat, insideLng); len(res.Fired) != 0 {
			t.Fatalf("a non-follower: fired %+v", res.Fired)
		}
		if n := p.received(s.Actor.Follower.ID); n != 0 {
			t.Fatalf("a non-follower received the message")
		}
		if n := p.visits(s.Actor.Follower.ID); n != 0 {
			t.Fatalf("a non-follower has %d visits recorded", n)
		}
		// Following later makes them part of it.
		if _, err := e.app.Follow(e.ctx, s.Actor, e.w.Channel.ID); err != nil {
			t.Fatal(err)
		}
		if res := p.report(s.Token, insideLat, insideLng); len(res.Fired) != 1 {
			t.Fatalf("after following: fired %+v", res.Fired)
		}
	})
}

// What a position update refuses, each with a message on its field.
func TestPositionRefusals(t *testing.T) {
	p := newProximity(t, testenv.OpenSQLite(t))
	e := p.e
	token := e.followerToken()
	now := p.clock.Now()
	cases := []struct {
		name  string
		body  any
		field string
	}{
		{"latitude over 90", map[string]any{"lat": 90.5, "lng": 0}, "lat"},
		{"longitude under -180", map[string]any{"lat": 0, "lng": -180.01}, "lng"},
		{"no latitude", map[string]any{"lng": 0}, "lat"},
		{"negative accuracy", map[string]any{"lat": 1, "lng": 1, "accuracy": -3}, "accuracy"},
		{"an hour in the future", map[string]any{"lat": insideLat, "lng": insideLng, "time": now.Add(time.Hour)}, "time"},
		{"two days old", map[string]any{"lat": insideLat, "lng": insideLng, "time": now.Add(-48 * time.Hour)}, "time"},
	}
	for _, c := range cases {
		r := e.must(http.StatusUnprocessableEntity, token, "POST", "/api/v1/follower/position", c.body)
		if pr := r.problem(t); pr.Errors[c.field] == "" {
			t.Errorf("%s: no message on %s: %s", c.name, c.field, r.body)
		}
	}
	e.must(http.StatusBadRequest, token, "POST", "/api/v1/follower/position", `{"lat": "north", "lng": 0}`)
	// A device clock slightly ahead is fine; a vague position fires nothing.
	var res api.PositionResult
	e.must(http.StatusOK, token, "POST", "/api/v1/follower/position", map[string]any{"lat": insideLat, "lng": insideLng, "accuracy": 5000, "time": now.Add(time.Minute)}).decode(t, &res)
	if len(res.Fired) != 0 || res.Note == "" {
		t.Errorf("a 5 km accurate position: %+v", res)
	}
	if n := p.received(e.followers.id); n != 0 {
		t.Fatal("a refused position fired")
	}
	// A disabled follower's token stops working; an unknown one never did.
	if err := e.db.SetFollowerStatus(e.ctx, e.w.Tenant.ID, e.followers.id, regulars.FollowerDisabled); err != nil {
		t.Fatal(err)
	}
	e.must(http.StatusUnauthorized, token, "POST", "/api/v1/follower/position", position(insideLat, insideLng))
	e.must(http.StatusUnauthorized, "rgf_unknown", "POST", "/api/v1/follower/position", position(insideLat, insideLng))
	e.must(http.StatusUnauthorized, "", "POST", "/api/v1/follower/position", position(insideLat, insideLng))
	if n := p.received(e.followers.id); n != 0 {
		t.Fatal("a disabled follower received the message")
	}
}

// The geofence follows every change: moving the location, detaching,
// finishing the engagement; a coupon that auto-activates on a visit and
// visit points for members fire too.
func TestGeofenceFollowsChanges(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		p := newProximity(t, db)
		e := p.e
		token := e.followerToken()
		owner := e.owner()

		// Move the square 5 km east: the old spot fires nothing, the new one does.
		if _, err := e.app.UpdateLocation(e.ctx, owner, p.zone.ID, regulars.LocationInput{Name: "Market square", Lat: fmt.Sprint(squareLat), Lng: fmt.Sprint(squareLng + 0.07), Radius: "200"}); err != nil {
			t.Fatal(err)
		}
		if res := p.report(token, insideLat, insideLng); len(res.Fired) != 0 {
			t.Fatalf("the old spot after moving: fired %+v", res.Fired)
		}
		if res := p.report(token, squareLat, squareLng+0.07); len(res.Fired) != 1 {
			t.Fatalf("the new spot: fired %+v", res.Fired)
		}

		// A coupon that auto-activates on a visit, and a program with
		// visit points the follower is a member of, at a second place.
		stall, err := e.app.CreateLocation(e.ctx, owner, regulars.LocationInput{Name: "Stall", Lat: "52.3", Lng: "0.2", Radius: "150"})
		if err != nil {
			t.Fatal(err)
		}
		coupon := e.publish(regulars.KindCoupon, app.EngagementInput{Name: "Free cookie", RedemptionType: regulars.RedeemAutoVisit})
		program := e.publish(regulars.KindLoyalty, app.EngagementInput{Name: "Stall points", ProgramKind: regulars.ProgramPoints, PointsOnLocation: "5"})
		if _, err := e.app.JoinProgram(e.ctx, e.followerActor(), program.ID); err != nil {
			t.Fatal(err)
		}
		for _, id := range []int64{coupon.ID, program.ID} {
			if err := e.app.TargetLocation(e.ctx, owner, id, stall.ID); err != nil {
				t.Fatal(err)
			}
		}
		res := p.report(token, 52.3, 0.2)
		got := map[string]string{}
		for _, f := range res.Fired {
			got[f.Name] = f.Outcome
		}
		if got["Free cookie"] != "coupon_enabled" || got["Stall points"] != "points_awarded" || len(got) != 2 {
			t.Fatalf("at the stall: %+v", res.Fired)
		}
		if act, err := e.db.ActiveActivation(e.ctx, coupon.ID, e.followers.id); err != nil || act == nil {
			t.Fatalf("the coupon is not enabled: %v", err)
		}
		if m, err := e.db.Membership(e.ctx, program.ID, e.followers.id); err != nil || m.CurrentPoints != 5 {
			t.Fatalf("membership after the visit: %+v %v", m, err)
		}

		// Detaching and finishing take effect at once.
		if err := e.app.UntargetLocation(e.ctx, owner, coupon.ID, stall.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.app.FinishEngagement(e.ctx, owner, regulars.KindLoyalty, program.ID); err != nil {
			t.Fatal(err)
		}
		p.clock.add(25 * time.Hour)
		if res := p.report(token, 52.3, 0.2); len(res.Fired) != 0 {
			t.Fatalf("after detaching the coupon and finishing the program: fired %+v", res.Fired)
		}
	})
}

// Two nodes share the database and the event bus: a location created on
// one node fires on the other, which had built its geofence before.
func TestGeofenceUpdatesEveryNode(t *testing.T) {
	db := testenv.OpenSQLite(t)
	p := newProximity(t, db)
	e := p.e
	log := testenv.Logger(t)
	mailer, err := mail.New(db, "", "", log)
	if err != nil {
		t.Fatal(err)
	}
	bus := events.NewLocal()
	e.app.Bus = bus
	other := app.New(db, mailer, log, "http://regulars.test")
	other.Bus, other.Clock = bus, p.clock
	fa := e.followerActor()

	// The other node builds its geofence: nothing at the stall yet.
	res, err := other.ReportPosition(context.Background(), fa, app.PositionInput{Lat: ptr(52.3), Lng: ptr(0.2)})
	if err != nil || len(res.Fired) != 0 {
		t.Fatalf("before: %+v %v", res, err)
	}
	// This node adds a location targeted by the message.
	stall, err := e.app.CreateLocation(e.ctx, e.owner(), regulars.LocationInput{Name: "Stall", Lat: "52.3", Lng: "0.2", Radius: "150"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.app.TargetLocation(e.ctx, e.owner(), p.message.ID, stall.ID); err != nil {
		t.Fatal(err)
	}
	res, err = other.ReportPosition(context.Background(), fa, app.PositionInput{Lat: ptr(52.3), Lng: ptr(0.2)})
	if err != nil || len(res.Fired) != 1 || res.Fired[0].Engagement.ID != p.message.ID {
		t.Fatalf("the other node after the change: %+v %v", res, err)
	}
}

func ptr[T any](v T) *T { return &v }

// Store locations on the channel page: every store location of the
// channel's partner (not targeting ones, not another partner's), nearest
// first with distances when the follower says where they are.
func TestChannelStoreLocations(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		p := newProximity(t, db)
		e := p.e
		for _, in := range []regulars.LocationInput{
			{Name: "Bean bar north", Lat: "52.2200", Lng: "0.1218"},
			{Name: "Bean bar south", Lat: "52.1900", Lng: "0.1218"},
		} {
			if _, err := e.app.CreateLocation(e.ctx, e.owner(), in); err != nil {
				t.Fatal(err)
			}
		}
		other := &regulars.Location{TenantID: e.w.Tenant.ID, PartnerID: e.w.OtherPartner.ID, Name: "Beta shop", Lat: 52.2, Lng: 0.12}
		if err := db.CreateLocation(e.ctx, other); err != nil {
			t.Fatal(err)
		}
		token := e.followerToken()
		var list api.StoreLocationList
		path := fmt.Sprintf("/api/v1/follower/channels/%d/locations", e.w.Channel.ID)
		e.must(http.StatusOK, token, "GET", path, nil).decode(t, &list)
		if len(list.Items) != 2 || list.Items[0].Name != "Bean bar north" || list.Items[0].Distance != nil {
			t.Fatalf("without a position: %+v", list.Items)
		}
		e.must(http.StatusOK, token, "GET", path+"?lat=52.1910&lng=0.1218", nil).decode(t, &list)
		if len(list.Items) != 2 || list.Items[0].Name != "Bean bar south" || list.Items[0].Distance == nil || *list.Items[0].Distance != 111 {
			t.Fatalf("near the south bar: %+v", list.Items)
		}
		e.must(http.StatusUnprocessableEntity, token, "GET", path+"?lat=95&lng=0", nil)
		e.must(http.StatusUnprocessableEntity, token, "GET", path+"?lat=52", nil)
		e.must(http.StatusNotFound, e.otherFollowerToken(), "GET", path, nil)
	})
}

// A node that missed an event (its index still has the old circle) never
// fires from it: the location as stored decides.
func TestAStaleGeofenceDoesNotFire(t *testing.T) {
	db := testenv.OpenSQLite(t)
	p := newProximity(t, db)
	e := p.e
	log := testenv.Logger(t)
	mailer, err := mail.New(db, "", "", log)
	if err != nil {
		t.Fatal(err)
	}
	deaf := app.New(db, mailer, log, "http://regulars.test")
	deaf.Bus, deaf.Clock = events.NewLocal(), p.clock // hears nothing from e.app
	fa := e.followerActor()
	if res, err := deaf.ReportPosition(e.ctx, fa, app.PositionInput{Lat: ptr(0.0), Lng: ptr(0.0)}); err != nil || len(res.Fired) != 0 {
		t.Fatalf("building the geofence: %+v %v", res, err)
	}
	if _, err := e.app.UpdateLocation(e.ctx, e.owner(), p.zone.ID, regulars.LocationInput{Name: "Market square", Lat: "52.5", Lng: fmt.Sprint(squareLng), Radius: "200"}); err != nil {
		t.Fatal(err)
	}
	if res, err := deaf.ReportPosition(e.ctx, fa, app.PositionInput{Lat: ptr(insideLat), Lng: ptr(insideLng)}); err != nil || len(res.Fired) != 0 {
		t.Fatalf("the old spot on a node that missed the move: %+v %v", res, err)
	}
	if n := p.received(e.followers.id); n != 0 {
		t.Fatalf("the message was delivered from a stale index")
	}
}

// Proximity respects the engagement's segmentations through the shared
// audience test: a follower outside them gets nothing, inside them the
// message.
func TestProximityRespectsSegmentations(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		p := newProximity(t, db)
		e := p.e
		seg, err := e.app.CreateSegmentation(e.ctx, e.owner(), app.SegmentationInput{Name: "Women",
			Rule: regulars.Rule{Conditions: []regulars.Condition{{Type: regulars.CondGender, Genders: []string{regulars.GenderFemale}}}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.app.AttachSegmentation(e.ctx, e.owner(), p.message.ID, seg.ID); err != nil {
			t.Fatal(err)
		}
		token := e.followerToken()
		if res := p.report(token, insideLat, insideLng); len(res.Fired) != 0 {
			t.Fatalf("a follower of unknown gender: fired %+v", res.Fired)
		}
		if _, err := e.app.UpdateFollowerProfile(e.ctx, e.followerActor(), app.ProfileInput{Email: "fran@follower.example", Gender: regulars.GenderFemale}); err != nil {
			t.Fatal(err)
		}
		if res := p.report(token, insideLat, insideLng); len(res.Fired) != 1 {
			t.Fatalf("a follower in the segmentation: fired %+v", res.Fired)
		}
	})
}
