package app_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"

	"regulars"
	"regulars/app"
	"regulars/internal/testenv"
	"regulars/store"
)

// newApp is an App over a fresh world, signed in as partner A's owner.
func newApp(t *testing.T, db *store.DB) (*app.App, *testenv.World, *app.Actor) {
	t.Helper()
	a := app.New(db, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), "http://regulars.test")
	a.Password = testenv.FastPasswords
	w := testenv.NewWorld(t, db)
	res, err := a.SignIn(context.Background(), w.Owner.Email, testenv.Password, "127.0.0.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	return a, w, res.Actor
}

func publish(t *testing.T, a *app.App, owner *app.Actor, w *testenv.World, kind string, in app.EngagementInput) *regulars.Engagement {
	t.Helper()
	ctx := context.Background()
	in.ChannelID = w.Channel.ID
	e, err := a.CreateEngagement(ctx, owner, kind, in)
	if err != nil {
		t.Fatalf("create %s: %v", kind, err)
	}
	if e, err = a.PublishEngagement(ctx, owner, kind, e.ID); err != nil {
		t.Fatalf("publish %s: %v", kind, err)
	}
	return e
}

// Many goroutines redeem the same coupon at once, some of them the same
// activation several times: exactly the stock is redeemed, each follower at
// most once, points are spent exactly once per redemption, and the stored
// balances agree with the ledger. Another follower races two coupons for
// the same points: only one wins.
func TestConcurrentRedemptionsAreExact(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a, w, owner := newApp(t, db)
		prog := publish(t, a, owner, w, regulars.KindLoyalty, app.EngagementInput{Name: "Beans", ProgramKind: regulars.ProgramPoints})
		coupon := publish(t, a, owner, w, regulars.KindCoupon, app.EngagementInput{Name: "Free coffee", RedemptionType: regulars.RedeemClick,
			ProgramID: prog.ID, PointCost: "30", Stock: "5", PerFollower: "1"})

		const followers, tries = 12, 4
		type member struct {
			fa  *app.FollowerActor
			act int64
		}
		var ms []member
		for i := range followers {
			f := w.AddFollower(t, fmt.Sprintf("RACE%04d", i), []*regulars.Channel{w.Channel})
			fa := &app.FollowerActor{Follower: f, Tenant: w.Tenant}
			if _, err := a.JoinProgram(ctx, fa, prog.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := a.AdjustPoints(ctx, owner, prog.ID, f.ID, 50, "Starting balance", true); err != nil {
				t.Fatal(err)
			}
			act, err := a.EnableCoupon(ctx, fa, coupon.ID)
			if err != nil {
				t.Fatal(err)
			}
			ms = append(ms, member{fa, act.ID})
		}

		var wg sync.WaitGroup
		var mu sync.Mutex
		won := map[int64]int{}
		refused := 0
		start := make(chan struct{})
		for _, m := range ms {
			for range tries {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					_, _, err := a.RedeemCoupon(ctx, m.fa, m.act)
					mu.Lock()
					defer mu.Unlock()
					switch regulars.ErrorCode(err) {
					case "":
						won[m.fa.Follower.ID]++
					case regulars.ECONFLICT:
						refused++
					default:
						t.Errorf("redeem: %v", err)
					}
				}()
			}
		}
		close(start)
		wg.Wait()

		total := 0
		for id, n := range won {
			if n != 1 {
				t.Errorf("follower %d redeemed %d times", id, n)
			}
			total += n
		}
		if total != 5 || refused != followers*tries-5 {
			t.Fatalf("stock 5: %d redeemed, %d refused", total, refused)
		}
		got, err := db.Engagement(ctx, w.Partner.ID, coupon.ID)
		if err != nil || got.Coupon.Redeemed != 5 {
			t.Fatalf("coupon redeemed counter %d (%v), want 5", got.Coupon.Redeemed, err)
		}
		for _, m := range ms {
			mem, err := db.Membership(ctx, prog.ID, m.fa.Follower.ID)
			if err != nil {
				t.Fatal(err)
			}
			want := int64(50)
			if won[m.fa.Follower.ID] == 1 {
				want = 20
			}
			cur, tot, err := db.LedgerTotals(ctx, prog.ID, m.fa.Follower.ID)
			if err != nil {
				t.Fatal(err)
			}
			if mem.CurrentPoints != want || cur != want || mem.TotalPoints != 50 || tot != 50 {
				t.Errorf("follower %s: balance %d (ledger %d), total %d (ledger %d); want %d and 50", m.fa.Follower.EndUserID, mem.CurrentPoints, cur, mem.TotalPoints, tot, want)
			}
		}

		// Two coupons of 40 points race for a balance of 60: one wins.
		c1 := publish(t, a, owner, w, regulars.KindCoupon, app.EngagementInput{Name: "Muffin", RedemptionType: regulars.RedeemClick, ProgramID: prog.ID, PointCost: "40"})
		c2 := publish(t, a, owner, w, regulars.KindCoupon, app.EngagementInput{Name: "Bagel", RedemptionType: regulars.RedeemClick, ProgramID: prog.ID, PointCost: "40"})
		f := w.AddFollower(t, "RICH0001", []*regulars.Channel{w.Channel})
		fa := &app.FollowerActor{Follower: f, Tenant: w.Tenant}
		if _, err := a.JoinProgram(ctx, fa, prog.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := a.AdjustPoints(ctx, owner, prog.ID, f.ID, 60, "Gift", true); err != nil {
			t.Fatal(err)
		}
		var acts []int64
		for _, c := range []*regulars.Engagement{c1, c2} {
			act, err := a.EnableCoupon(ctx, fa, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			acts = append(acts, act.ID)
		}
		errs := make([]error, 2)
		for i, id := range acts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _, errs[i] = a.RedeemCoupon(ctx, fa, id)
			}()
		}
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) {
			t.Fatalf("60 points, two coupons of 40: %v / %v; want exactly one refused", errs[0], errs[1])
		}
		if mem, _ := db.Membership(ctx, prog.ID, f.ID); mem.CurrentPoints != 20 {
			t.Fatalf("balance %d, want 20", mem.CurrentPoints)
		}
	})
}
