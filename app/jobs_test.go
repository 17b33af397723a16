package app_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"regulars"
	"regulars/app"
	"regulars/internal/testenv"
	"regulars/store"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// An engagement finishes at its end date by the background job, also when
// the process restarted in between (a fresh App on the same database), and
// a message run reaches every follower exactly once however often the job
// runs or restarts.
func TestJobsFinishOnTimeAndDeliverOnce(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a, w, owner := newApp(t, db)
		start := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC) // a Monday
		clk := &clock{t: start}
		a.Clock = clk
		db.Clock = clk
		var followers []*regulars.Follower
		for _, euid := range []string{"JOBS2222", "JOBS3333", "JOBS4444"} {
			followers = append(followers, w.AddFollower(t, euid, []*regulars.Channel{w.Channel}))
		}
		coupon := publish(t, a, owner, w, regulars.KindCoupon, app.EngagementInput{Name: "Week only", RedemptionType: regulars.RedeemClick, EndsAt: "2026-03-08T20:00"})
		weekly := publish(t, a, owner, w, regulars.KindMessage, app.EngagementInput{Name: "Weekly", Text: "Specials", Recurring: regulars.RecurWeekly, TimeOfDay: "09:00"})
		once := publish(t, a, owner, w, regulars.KindMessage, app.EngagementInput{Name: "Hello", Text: "Hi all"})

		// A fresh process (new App) runs the jobs twice at 08:30: the
		// one-off message goes out once; the weekly one is not due yet.
		restarted := app.New(db, nil, a.Log, "http://regulars.test")
		restarted.Clock = clk
		clk.set(start.Add(30 * time.Minute))
		restarted.RunJobsOnce(ctx)
		restarted.RunJobsOnce(ctx)
		count := func(e *regulars.Engagement, key string) int64 {
			n, err := db.CountDeliveries(ctx, e.ID, key)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := count(once, "once"); n != 3 {
			t.Fatalf("one-off message reached %d followers, want 3", n)
		}
		if runs, _ := db.DeliveryRuns(ctx, weekly.ID); len(runs) != 0 {
			t.Fatalf("the weekly message ran before 09:00: %+v", runs[0])
		}
		// 09:05 the same Monday: the weekly run; again at 09:10 changes nothing.
		clk.set(start.Add(65 * time.Minute))
		restarted.RunJobsOnce(ctx)
		clk.set(start.Add(70 * time.Minute))
		a.RunJobsOnce(ctx)
		if n := count(weekly, "2026-W10"); n != 3 {
			t.Fatalf("weekly run reached %d, want 3", n)
		}
		runs, _ := db.DeliveryRuns(ctx, weekly.ID)
		if len(runs) != 1 || runs[0].Status != "done" || runs[0].Done != 3 || runs[0].Total != 3 {
			t.Fatalf("runs: %+v", runs)
		}
		// Tuesday 10:00: no weekly run; next Monday 09:00: the next one.
		clk.set(start.Add(26 * time.Hour))
		a.RunJobsOnce(ctx)
		if runs, _ := db.DeliveryRuns(ctx, weekly.ID); len(runs) != 1 {
			t.Fatalf("a weekly message ran on Tuesday: %d runs", len(runs))
		}
		// Each follower's thread and feed hold each delivered message once.
		fa := &app.FollowerActor{Follower: followers[0], Tenant: w.Tenant}
		msgs, err := a.ChannelMessages(ctx, fa, w.Channel.ID)
		if err != nil || len(msgs) != 2 {
			t.Fatalf("thread: %d messages (%v), want 2", len(msgs), err)
		}

		// Sunday 20:00 passes: the coupon finishes, recorded at its end.
		clk.set(time.Date(2026, 3, 8, 20, 0, 1, 0, time.UTC))
		fresh := app.New(db, nil, a.Log, "http://regulars.test")
		fresh.Clock = clk
		fresh.RunJobsOnce(ctx)
		got, err := db.Engagement(ctx, w.Partner.ID, coupon.ID)
		if err != nil || got.Status != regulars.EngagementFinished || !got.FinishedAt.Equal(time.Date(2026, 3, 8, 20, 0, 0, 0, time.UTC)) {
			t.Fatalf("coupon after its end: %s finished %v (%v)", got.Status, got.FinishedAt, err)
		}
		if _, err := a.EnableCoupon(ctx, fa, coupon.ID); err == nil {
			t.Fatal("a finished coupon was enabled")
		}
	})
}

// Points expire first in, first out: what was spent came from the oldest
// points, and only the rest of an old entry expires.
func TestPointsExpireFirstInFirstOut(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a, w, owner := newApp(t, db)
		clk := &clock{t: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
		a.Clock, db.Clock = clk, clk
		prog := publish(t, a, owner, w, regulars.KindLoyalty, app.EngagementInput{Name: "Expiring", ProgramKind: regulars.ProgramPoints, ExpiryDays: "30"})
		f := w.AddFollower(t, "EXP22222", []*regulars.Channel{w.Channel})
		fa := &app.FollowerActor{Follower: f, Tenant: w.Tenant}
		if _, err := a.JoinProgram(ctx, fa, prog.ID); err != nil {
			t.Fatal(err)
		}
		award := func(n int64) {
			if _, err := a.AdjustPoints(ctx, owner, prog.ID, f.ID, n, "Award", true); err != nil {
				t.Fatal(err)
			}
		}
		award(100) // 1 Jan, expires 31 Jan
		clk.set(time.Date(2026, 1, 20, 12, 0, 0, 0, time.UTC))
		award(50) // expires 19 Feb
		if _, err := a.AdjustPoints(ctx, owner, prog.ID, f.ID, -70, "Spent at the till", false); err != nil {
			t.Fatal(err)
		}
		// 1 Feb: of the first 100, 70 were spent; 30 expire. 50 remain.
		clk.set(time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC))
		if n, err := a.ExpirePoints(ctx); err != nil || n != 1 {
			t.Fatalf("expired %d entries (%v)", n, err)
		}
		if n, _ := a.ExpirePoints(ctx); n != 0 {
			t.Fatal("an entry expired twice")
		}
		m, _ := db.Membership(ctx, prog.ID, f.ID)
		cur, total, _ := db.LedgerTotals(ctx, prog.ID, f.ID)
		if m.CurrentPoints != 50 || cur != 50 || m.TotalPoints != 150 || total != 150 {
			t.Fatalf("after expiry: %d (ledger %d), total %d (ledger %d); want 50 and 150", m.CurrentPoints, cur, m.TotalPoints, total)
		}
		clk.set(time.Date(2026, 2, 20, 12, 0, 0, 0, time.UTC))
		a.ExpirePoints(ctx)
		if m, _ := db.Membership(ctx, prog.ID, f.ID); m.CurrentPoints != 0 {
			t.Fatalf("all expired: %d left", m.CurrentPoints)
		}
	})
}
