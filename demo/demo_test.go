package demo_test

import (
	"context"
	"testing"

	"regulars/app"
	"regulars/demo"
	"regulars/internal/testenv"
	"regulars/store"
)

// The demo world is consistent: every member's balances agree with the
// ledger, nobody is below zero, and loading twice changes nothing.
func TestDemoIsConsistent(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		res, err := demo.Load(ctx, db, testenv.FastPasswords, demo.Options{Followers: 300})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Created || res.Loyalty.Followers != 300 {
			t.Fatalf("demo: %+v", res)
		}
		for _, p := range []int64{res.Loyalty.Points.ID, res.Loyalty.Club.ID} {
			members, err := db.Members(ctx, p, "", 1000)
			if err != nil || len(members) == 0 {
				t.Fatalf("members of %d: %d (%v)", p, len(members), err)
			}
			for _, m := range members {
				cur, total, err := db.LedgerTotals(ctx, p, m.FollowerID)
				if err != nil || cur != m.CurrentPoints || total != m.TotalPoints || cur < 0 {
					t.Fatalf("member %s: stored %d/%d, ledger %d/%d (%v)", m.EndUserID, m.CurrentPoints, m.TotalPoints, cur, total, err)
				}
			}
		}
		// Feeds read newest first, by id: the demo's ids follow time.
		for _, f := range []int64{1, 2, 150, 300} {
			acts, err := db.Activities(ctx, f, store.ActivityFilter{Limit: 500})
			if err != nil || len(acts) == 0 {
				t.Fatalf("follower %d's feed: %d lines, %v", f, len(acts), err)
			}
			for i := 1; i < len(acts); i++ {
				if acts[i].CreatedAt.After(acts[i-1].CreatedAt) {
					t.Fatalf("follower %d's feed: %q at %v comes after %q at %v", f, acts[i].Text, acts[i].CreatedAt, acts[i-1].Text, acts[i-1].CreatedAt)
				}
			}
		}
		if again, err := demo.Load(ctx, db, testenv.FastPasswords, demo.Options{Followers: 300}); err != nil || again.Created {
			t.Fatalf("second load: created=%v err=%v", again.Created, err)
		}
		a := app.New(db, nil, testenv.Logger(t), "http://regulars.test")
		a.Password = testenv.FastPasswords
		if _, err := a.SignInFollower(ctx, "demo", demo.FollowerEmail, demo.Password, "127.0.0.1"); err != nil {
			t.Fatalf("the demo follower signs in: %v", err)
		}
	})
}

// BenchmarkDemoFollowers measures loading a demo world of 20,000
// followers into SQLite (one op = one world).
//
//	go test ./demo -run x -bench DemoFollowers -benchtime 1x
func BenchmarkDemoFollowers(b *testing.B) {
	for b.Loop() {
		db := testenv.OpenSQLite(b)
		if _, err := demo.Load(context.Background(), db, testenv.FastPasswords, demo.Options{Followers: 20000}); err != nil {
			b.Fatal(err)
		}
	}
}
