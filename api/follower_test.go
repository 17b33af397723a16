package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"regulars"
	"regulars/api"
	"regulars/app"
	"regulars/internal/testenv"
	"regulars/store"
)

// followerFixtures are the followers the API tests act as: one of the
// world's tenant, following partner A's channel, and one of the other
// tenant.
type followerFixtures struct {
	once       sync.Once
	token      string
	id         int64
	otherToken string
	owner      *app.Actor
}

func (e *env) initFollowers() {
	e.followers.once.Do(func() {
		s, err := e.app.SignUpFollower(e.ctx, app.SignUpInput{Tenant: "test", Password: testenv.Password, ProfileInput: app.ProfileInput{Name: "Fran Follower", Email: "fran@follower.example"}})
		if err != nil {
			e.t.Fatal(err)
		}
		e.followers.token, e.followers.id = s.Token, s.Actor.Follower.ID
		o, err := e.app.SignUpFollower(e.ctx, app.SignUpInput{Tenant: "other", Password: testenv.Password, ProfileInput: app.ProfileInput{Email: "otto@other.example"}})
		if err != nil {
			e.t.Fatal(err)
		}
		e.followers.otherToken = o.Token
		res, err := e.app.SignIn(e.ctx, e.w.Owner.Email, testenv.Password, "127.0.0.1", "test")
		if err != nil {
			e.t.Fatal(err)
		}
		e.followers.owner = res.Actor
	})
}

func (e *env) followerToken() string      { e.initFollowers(); return e.followers.token }
func (e *env) otherFollowerToken() string { e.initFollowers(); return e.followers.otherToken }
func (e *env) owner() *app.Actor          { e.initFollowers(); return e.followers.owner }

// freshFollowerToken signs the fixture follower in again.
func (e *env) freshFollowerToken() string {
	e.initFollowers()
	s, err := e.app.SignInFollower(e.ctx, "test", "fran@follower.example", testenv.Password, "127.0.0.1")
	if err != nil {
		e.t.Fatal(err)
	}
	return s.Token
}

func (e *env) followerActor() *app.FollowerActor {
	fa, err := e.app.AuthenticateFollower(e.ctx, e.followerToken())
	if err != nil {
		e.t.Fatal(err)
	}
	return fa
}

// publish creates and publishes an engagement of partner A's channel.
func (e *env) publish(kind string, in app.EngagementInput) *regulars.Engagement {
	e.t.Helper()
	in.ChannelID = e.w.Channel.ID
	if in.Name == "" {
		in.Name = fmt.Sprintf("Fixture %s %d", kind, e.next())
	}
	x, err := e.app.CreateEngagement(e.ctx, e.owner(), kind, in)
	if err != nil {
		e.t.Fatalf("create %s: %v", kind, err)
	}
	if x, err = e.app.PublishEngagement(e.ctx, e.owner(), kind, x.ID); err != nil {
		e.t.Fatalf("publish %s: %v", kind, err)
	}
	return x
}

func followedChannel(e *env) map[string]int64 {
	if _, err := e.app.Follow(e.ctx, e.followerActor(), e.w.Channel.ID); err != nil {
		e.t.Fatal(err)
	}
	return map[string]int64{"id": e.w.Channel.ID}
}

func liveCoupon(e *env) map[string]int64 {
	followedChannel(e)
	c := e.publish(regulars.KindCoupon, app.EngagementInput{RedemptionType: regulars.RedeemClick})
	return map[string]int64{"id": c.ID}
}

func enabledCoupon(e *env) map[string]int64 {
	id := liveCoupon(e)["id"]
	act, err := e.app.EnableCoupon(e.ctx, e.followerActor(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return map[string]int64{"id": act.ID}
}

func liveProgram(e *env) map[string]int64 {
	followedChannel(e)
	p := e.publish(regulars.KindLoyalty, app.EngagementInput{ProgramKind: regulars.ProgramPoints})
	return map[string]int64{"id": p.ID}
}

func joinedProgram(e *env) map[string]int64 {
	id := liveProgram(e)["id"]
	if _, err := e.app.JoinProgram(e.ctx, e.followerActor(), id); err != nil {
		e.t.Fatal(err)
	}
	return map[string]int64{"id": id}
}

func deliveredMessage(e *env) map[string]int64 {
	followedChannel(e)
	m := e.publish(regulars.KindMessage, app.EngagementInput{Text: "Hello"})
	if err := e.app.DeliverDue(e.ctx); err != nil {
		e.t.Fatal(err)
	}
	return map[string]int64{"id": m.ID}
}

func ownNotification(e *env) map[string]int64 {
	e.initFollowers()
	n := &regulars.Notification{FollowerID: e.followers.id, Kind: "test", Title: "Fixture"}
	if err := e.db.AddNotification(e.ctx, e.w.Tenant.ID, n); err != nil {
		e.t.Fatal(err)
	}
	return map[string]int64{"id": n.ID}
}

// The follower API end to end: sign up, profile with unknown attributes,
// code, browse, follow, the channel page, coupons with every refusal,
// programs, ledger, activity, notifications, unfollow and history.
func TestFollowerAPI(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()

		// Sign up: unknown attributes are null.
		var s api.FollowerSession
		e.must(http.StatusCreated, "", "POST", "/api/v1/follower/signup", map[string]any{"tenant": "test", "email": "Sam@Example.com", "password": testenv.Password, "name": "Sam"}).decode(t, &s)
		if s.Token == "" || len(s.Follower.EndUserID) != 8 || s.Follower.BirthDate != nil || s.Follower.Gender != nil || s.Follower.Age != nil || s.Follower.Email != "sam@example.com" {
			t.Fatalf("sign up: %+v", s)
		}
		tok := s.Token
		p := e.must(http.StatusUnprocessableEntity, "", "POST", "/api/v1/follower/signup", map[string]any{"tenant": "test", "email": "sam@example.com", "password": "short", "gender": "robot", "birth_date": "1990-13-01"}).problem(t)
		for _, f := range []string{"email", "password", "gender", "birth_date"} {
			if p.Errors[f] == "" {
				t.Errorf("sign-up refusal: no message for %s: %+v", f, p.Errors)
			}
		}
		e.must(http.StatusUnauthorized, "", "POST", "/api/v1/follower/signin", map[string]any{"tenant": "test", "email": "sam@example.com", "password": "wrong password!"})
		e.must(http.StatusOK, "", "POST", "/api/v1/follower/signin", map[string]any{"tenant": "test", "email": "sam@example.com", "password": testenv.Password})

		// Profile: known, then unknown again.
		var prof api.FollowerProfile
		e.must(http.StatusOK, tok, "PUT", "/api/v1/follower/me", map[string]any{"email": "sam@example.com", "name": "Sam", "birth_date": "1990-05-04", "gender": "female", "language": "de"}).decode(t, &prof)
		if prof.Age == nil || *prof.Gender != "female" || *prof.Language != "de" {
			t.Fatalf("profile: %+v", prof)
		}
		e.must(http.StatusOK, tok, "PUT", "/api/v1/follower/me", map[string]any{"email": "sam@example.com", "gender": nil}).decode(t, &prof)
		if prof.Gender != nil || prof.BirthDate != nil || prof.Language != nil {
			t.Fatalf("unknown again: %+v", prof)
		}
		var code api.EndUserCode
		e.must(http.StatusOK, tok, "GET", "/api/v1/follower/me/code", nil).decode(t, &code)
		if code.EndUserID != s.Follower.EndUserID || !strings.HasPrefix(code.QRSVG, "<svg") {
			t.Fatalf("code: %+v", code.EndUserID)
		}

		// Browse and search: only active channels of the tenant.
		draft := &regulars.Channel{TenantID: e.w.Tenant.ID, PartnerID: e.w.Partner.ID, Name: "Secret draft", Status: regulars.ChannelDraft}
		if err := db.CreateChannel(ctx, draft); err != nil {
			t.Fatal(err)
		}
		var list api.ChannelList
		e.must(http.StatusOK, tok, "GET", "/api/v1/follower/channels", nil).decode(t, &list)
		if len(list.Items) != 2 {
			t.Fatalf("browse: %+v", list)
		}
		e.must(http.StatusOK, tok, "GET", "/api/v1/follower/channels?q=beta", nil).decode(t, &list)
		if len(list.Items) != 1 || list.Items[0].ID != e.w.OtherChannel.ID {
			t.Fatalf("search: %+v", list)
		}
		e.must(http.StatusNotFound, tok, "GET", fmt.Sprintf("/api/v1/follower/channels/%d", draft.ID), nil)

		// A points program with a coupon that costs points and needs a level.
		owner := e.owner()
		prog := e.publish(regulars.KindLoyalty, app.EngagementInput{ProgramKind: regulars.ProgramAdvanced, PointSingular: "bean", PointsOnJoin: "10",
			PointsPerVisit: "5", PointsPerAmount: "2", Levels: []app.LevelInput{{Name: "Bronze", Threshold: "0"}, {Name: "Silver", Threshold: "50"}}})
		costly := e.publish(regulars.KindCoupon, app.EngagementInput{Name: "Free cake", RedemptionType: regulars.RedeemClick, ProgramID: prog.ID, PointCost: "30", MinLevel: "2", Stock: "1"})
		base := fmt.Sprintf("/api/v1/follower/channels/%d", e.w.Channel.ID)

		// Not following yet: the page shows what following brings; enabling is refused.
		var page api.ChannelPage
		e.must(http.StatusOK, tok, "GET", base, nil).decode(t, &page)
		if page.Channel.Following || len(page.Engagements) != 2 {
			t.Fatalf("visitor page: %+v", page)
		}
		if p := e.must(http.StatusConflict, tok, "POST", fmt.Sprintf("/api/v1/follower/coupons/%d/enable", costly.ID), nil).problem(t); !strings.Contains(p.Detail, "Follow") {
			t.Errorf("enable without following: %s", p.Detail)
		}
		e.must(http.StatusOK, tok, "POST", base+"/follow", nil).decode(t, &page)
		if !page.Channel.Following || !page.Channel.Notifications {
			t.Fatalf("follow: %+v", page.Channel)
		}
		e.must(http.StatusNoContent, tok, "PUT", base+"/notifications", map[string]any{"enabled": false})

		refusal := func(path, want string) {
			t.Helper()
			p := e.must(http.StatusConflict, tok, "POST", path, nil).problem(t)
			if !strings.Contains(p.Detail, want) {
				t.Errorf("POST %s: %q, want it to say %q", path, p.Detail, want)
			}
		}
		enable := fmt.Sprintf("/api/v1/follower/coupons/%d/enable", costly.ID)
		refusal(enable, "Join")
		var m api.Membership
		e.must(http.StatusOK, tok, "POST", fmt.Sprintf("/api/v1/follower/programs/%d/join", prog.ID), nil).decode(t, &m)
		if m.CurrentPoints != 10 || m.Level != 1 || m.LevelName != "Bronze" {
			t.Fatalf("join: %+v", m)
		}
		refusal(fmt.Sprintf("/api/v1/follower/programs/%d/join", prog.ID), "already joined")
		refusal(enable, "level is too low")

		// Staff record a purchase: 5 per visit + 2 per unit of 20.00 = 45.
		f, _ := db.FollowerByEndUserID(ctx, e.w.Tenant.ID, s.Follower.EndUserID)
		if _, pts, err := e.app.RecordPurchase(ctx, owner, prog.ID, app.PurchaseInput{EndUserID: strings.ToLower(f.EndUserID), Amount: "20.00"}); err != nil || pts != 45 {
			t.Fatalf("purchase: %d %v", pts, err)
		}
		var progs api.MyProgramList
		e.must(http.StatusOK, tok, "GET", "/api/v1/follower/programs", nil).decode(t, &progs)
		if len(progs.Items) != 1 || progs.Items[0].Membership.CurrentPoints != 55 || progs.Items[0].Membership.TotalPoints != 55 || progs.Items[0].Membership.LevelName != "Silver" {
			t.Fatalf("programs: %+v", progs)
		}
		var act api.Activation
		e.must(http.StatusOK, tok, "POST", enable, nil).decode(t, &act)
		redeem := fmt.Sprintf("/api/v1/follower/activations/%d/redeem", act.ID)
		e.must(http.StatusOK, tok, "POST", redeem, nil).decode(t, &act)
		if act.Status != "redeemed" {
			t.Fatalf("redeem: %+v", act)
		}
		refusal(redeem, "already redeemed")
		refusal(enable, "already redeemed")

		// Beyond stock: a second follower at Silver with points finds none left.
		other := e.w.AddFollower(t, "OTHER234", []*regulars.Channel{e.w.Channel})
		ofa := &app.FollowerActor{Follower: other, Tenant: e.w.Tenant}
		if _, err := e.app.JoinProgram(ctx, ofa, prog.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.app.AdjustPoints(ctx, owner, prog.ID, other.ID, 100, "Welcome gift", true); err != nil {
			t.Fatal(err)
		}
		if _, err := e.app.EnableCoupon(ctx, ofa, costly.ID); err == nil || !strings.Contains(err.Error(), "out of stock") {
			t.Errorf("beyond stock: %v", err)
		}

		// Not enough points, after expiry: more coupons.
		pricey := e.publish(regulars.KindCoupon, app.EngagementInput{Name: "Big prize", RedemptionType: regulars.RedeemClick, ProgramID: prog.ID, PointCost: "1000"})
		refusal(fmt.Sprintf("/api/v1/follower/coupons/%d/enable", pricey.ID), "Not enough points")
		short := e.publish(regulars.KindCoupon, app.EngagementInput{Name: "Flash", RedemptionType: regulars.RedeemClick})
		var sact api.Activation
		e.must(http.StatusOK, tok, "POST", fmt.Sprintf("/api/v1/follower/coupons/%d/enable", short.ID), nil).decode(t, &sact)
		if _, err := e.app.FinishEngagement(ctx, owner, regulars.KindCoupon, short.ID); err != nil {
			t.Fatal(err)
		}
		refusal(fmt.Sprintf("/api/v1/follower/activations/%d/redeem", sact.ID), "expired")
		code4 := e.publish(regulars.KindCoupon, app.EngagementInput{Name: "Till only", RedemptionType: regulars.RedeemCode})
		var cact api.Activation
		e.must(http.StatusOK, tok, "POST", fmt.Sprintf("/api/v1/follower/coupons/%d/enable", code4.ID), nil).decode(t, &cact)
		refusal(fmt.Sprintf("/api/v1/follower/activations/%d/redeem", cact.ID), "till")
		if _, _, err := e.app.RedeemAtTill(ctx, owner, code4.ID, f.EndUserID); err != nil {
			t.Fatalf("redeem at the till: %v", err)
		}
		timed := e.publish(regulars.KindCoupon, app.EngagementInput{Name: "Timed", RedemptionType: regulars.RedeemTimed})
		var tact api.Activation
		e.must(http.StatusOK, tok, "POST", fmt.Sprintf("/api/v1/follower/coupons/%d/enable", timed.ID), nil).decode(t, &tact)
		e.must(http.StatusOK, tok, "POST", fmt.Sprintf("/api/v1/follower/activations/%d/redeem", tact.ID), nil).decode(t, &tact)
		if tact.ProofUntil == nil || tact.ProofUntil.Sub(*tact.RedeemedAt).Seconds() != 180 {
			t.Fatalf("timed coupon: proof screen %+v", tact)
		}

		var coupons api.MyCouponList
		e.must(http.StatusOK, tok, "GET", "/api/v1/follower/coupons", nil).decode(t, &coupons)
		if len(coupons.Items) != 4 {
			t.Fatalf("my coupons: %d", len(coupons.Items))
		}
		var ledger api.LedgerList
		e.must(http.StatusOK, tok, "GET", fmt.Sprintf("/api/v1/follower/programs/%d/ledger", prog.ID), nil).decode(t, &ledger)
		if len(ledger.Items) != 3 || ledger.Items[0].Points != -30 || ledger.Items[0].Kind != "spend" {
			t.Fatalf("ledger: %+v", ledger)
		}

		// A message reaches the thread; notifications are off for this channel.
		msg := e.publish(regulars.KindMessage, app.EngagementInput{Name: "News", Text: "Pumpkin latte is back"})
		if err := e.app.DeliverDue(ctx); err != nil {
			t.Fatal(err)
		}
		var thread api.ThreadMessageList
		e.must(http.StatusOK, tok, "GET", base+"/messages", nil).decode(t, &thread)
		if len(thread.Items) != 1 || thread.Items[0].Text != "Pumpkin latte is back" || thread.Items[0].OpenedAt != nil {
			t.Fatalf("thread: %+v", thread)
		}
		e.must(http.StatusNoContent, tok, "POST", fmt.Sprintf("/api/v1/follower/messages/%d/open", msg.ID), nil)
		var notes api.NotificationList
		e.must(http.StatusOK, tok, "GET", "/api/v1/follower/notifications", nil).decode(t, &notes)
		for _, n := range notes.Items {
			if n.Kind == "message" {
				t.Errorf("a message notified although notifications are off: %+v", n)
			}
		}
		if notes.Unread == 0 {
			t.Fatalf("notifications: %+v", notes)
		}
		e.must(http.StatusNoContent, tok, "POST", fmt.Sprintf("/api/v1/follower/notifications/%d/read", notes.Items[0].ID), nil)

		var acts api.ActivityList
		e.must(http.StatusOK, tok, "GET", "/api/v1/follower/activity", nil).decode(t, &acts)
		kinds := map[string]bool{}
		for _, a := range acts.Items {
			kinds[a.Kind] = true
		}
		for _, k := range []string{"channel_followed", "program_joined", "points_earned", "level_reached", "coupon_enabled", "coupon_redeemed", "points_spent", "message_received", "message_opened"} {
			if !kinds[k] {
				t.Errorf("activity feed lacks %s", k)
			}
		}

		// Unfollow and follow again: two periods.
		e.must(http.StatusNoContent, tok, "POST", base+"/unfollow", nil)
		if p := e.must(http.StatusConflict, tok, "POST", base+"/unfollow", nil).problem(t); !strings.Contains(p.Detail, "do not follow") {
			t.Errorf("unfollow twice: %s", p.Detail)
		}
		e.must(http.StatusOK, tok, "POST", base+"/follow", nil)
		var follows api.FollowList
		e.must(http.StatusOK, tok, "GET", "/api/v1/follower/follows", nil).decode(t, &follows)
		if len(follows.Items) != 1 || len(follows.Items[0].Periods) != 2 || follows.Items[0].Periods[1].UnfollowedAt == nil {
			t.Fatalf("history: %+v", follows)
		}
		e.must(http.StatusNoContent, tok, "POST", "/api/v1/follower/signout", nil)
		e.must(http.StatusUnauthorized, tok, "GET", "/api/v1/follower/me", nil)
	})
}
