package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"regulars"
	"regulars/internal/testenv"
	"regulars/store"
)

func TestFollowPeriods(t *testing.T) {
	eachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := testenv.NewWorld(t, db)
		f := w.AddFollower(t, "AB12CD", nil)
		t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
		if _, created, err := db.Follow(ctx, w.Tenant.ID, w.Channel.ID, f.ID, t0); err != nil || !created {
			t.Fatalf("first follow: created=%v err=%v", created, err)
		}
		if _, created, err := db.Follow(ctx, w.Tenant.ID, w.Channel.ID, f.ID, t0.Add(time.Hour)); err != nil || created {
			t.Fatalf("following again while following must not start a period: created=%v err=%v", created, err)
		}
		if ok, err := db.Unfollow(ctx, w.Channel.ID, f.ID, t0.Add(2*time.Hour)); err != nil || !ok {
			t.Fatalf("unfollow: %v %v", ok, err)
		}
		if _, created, err := db.Follow(ctx, w.Tenant.ID, w.Channel.ID, f.ID, t0.Add(3*time.Hour)); err != nil || !created {
			t.Fatalf("re-follow starts a new period: created=%v err=%v", created, err)
		}
		hist, err := db.FollowHistory(ctx, f.ID)
		if err != nil || len(hist) != 2 {
			t.Fatalf("history: %d periods, err %v", len(hist), err)
		}
		if !hist[1].UnfollowedAt.Equal(t0.Add(2 * time.Hour)) {
			t.Fatalf("first period ended at %v", hist[1].UnfollowedAt)
		}
	})
}

// Many concurrent spends of the same points: the balance never goes below
// zero and the ledger agrees with the stored balances.
func TestLedgerNeverNegativeUnderConcurrency(t *testing.T) {
	eachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := testenv.NewWorld(t, db)
		f := w.AddFollower(t, "SPEND1", []*regulars.Channel{w.Channel})
		prog := &regulars.Engagement{TenantID: w.Tenant.ID, PartnerID: w.Partner.ID, ChannelID: w.Channel.ID, Kind: regulars.KindLoyalty, Name: "Points",
			Loyalty: &regulars.LoyaltySpec{ProgramKind: regulars.ProgramAdvanced, Levels: []regulars.ProgramLevel{{Position: 1, Name: "Bronze", Threshold: 0}, {Position: 2, Name: "Silver", Threshold: 100}}}}
		if err := db.CreateEngagement(ctx, prog); err != nil {
			t.Fatal(err)
		}
		if err := db.Join(ctx, w.Tenant.ID, prog.ID, f.ID, time.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := db.AddLedgerEntry(ctx, &regulars.LedgerEntry{TenantID: w.Tenant.ID, ProgramID: prog.ID, FollowerID: f.ID, Kind: regulars.LedgerEarn, Points: 100}); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok, refused := 0, 0
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := db.AddLedgerEntry(ctx, &regulars.LedgerEntry{TenantID: w.Tenant.ID, ProgramID: prog.ID, FollowerID: f.ID, Kind: regulars.LedgerSpend, Points: -30})
				mu.Lock()
				defer mu.Unlock()
				switch regulars.ErrorCode(err) {
				case "":
					ok++
				case regulars.ECONFLICT:
					refused++
				default:
					t.Errorf("spend: %v", err)
				}
			}()
		}
		wg.Wait()
		if ok != 3 || refused != 17 {
			t.Fatalf("100 points, 20 spends of 30: %d succeeded, %d refused; want 3 and 17", ok, refused)
		}
		m, err := db.Membership(ctx, prog.ID, f.ID)
		if err != nil {
			t.Fatal(err)
		}
		cur, total, err := db.LedgerTotals(ctx, prog.ID, f.ID)
		if err != nil {
			t.Fatal(err)
		}
		if m.CurrentPoints != 10 || m.TotalPoints != 100 || cur != 10 || total != 100 {
			t.Fatalf("balances: stored %d/%d, ledger %d/%d; want 10/100", m.CurrentPoints, m.TotalPoints, cur, total)
		}
		got, err := db.Engagement(ctx, w.Partner.ID, prog.ID)
		if err != nil || len(got.Loyalty.Levels) != 2 || got.Loyalty.Levels[1].Threshold != 100 {
			t.Fatalf("levels round trip: %+v %v", got, err)
		}
	})
}
