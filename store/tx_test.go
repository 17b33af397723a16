package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"regulars"
	"regulars/app"
	"regulars/internal/testenv"
	"regulars/store"
)

func TestAfterCommitRunsOnlyForACommittedTransaction(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var ran []string
		note := func(what string) func(context.Context) {
			return func(ctx context.Context) {
				// The transaction is over: the store is usable again.
				if _, err := db.OutboxTo(ctx, "nobody@example.com"); err != nil {
					t.Errorf("%s: the store fails after commit: %v", what, err)
				}
				ran = append(ran, what)
			}
		}

		db.AfterCommit(ctx, note("outside a transaction"))
		err := db.InTx(ctx, func(ctx context.Context) error {
			db.AfterCommit(ctx, note("committed"))
			if len(ran) != 1 {
				t.Error("AfterCommit ran inside the transaction")
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		boom := errors.New("boom")
		err = db.InTx(ctx, func(ctx context.Context) error {
			db.AfterCommit(ctx, note("rolled back"))
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx returned %v", err)
		}
		if want := []string{"outside a transaction", "committed"}; len(ran) != 2 || ran[0] != want[0] || ran[1] != want[1] {
			t.Errorf("ran %v, want %v", ran, want)
		}
	})
}

func TestAPasswordLinkWorksOnceEvenWhenUsedTwiceAtOnce(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := testenv.NewWorld(t, db)
		hash := app.HashSecret("the secret of the link")
		if err := db.CreateUserToken(ctx, w.Owner.ID, regulars.TokenResetPassword, hash, time.Hour); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		results := make([]error, 8)
		for i := range results {
			wg.Go(func() {
				results[i] = db.InTx(ctx, func(ctx context.Context) error {
					_, _, err := db.UseUserToken(ctx, hash)
					return err
				})
			})
		}
		wg.Wait()
		used := 0
		for _, err := range results {
			switch {
			case err == nil:
				used++
			case regulars.ErrorCode(err) != regulars.ENOTFOUND:
				t.Errorf("a second use failed with %v, want the invalid-link answer", err)
			}
		}
		if used != 1 {
			t.Errorf("the link was used %d times", used)
		}
	})
}

func TestANewLinkSupersedesTheOldOne(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := testenv.NewWorld(t, db)
		old, fresh := app.HashSecret("old"), app.HashSecret("fresh")
		for _, h := range []string{old, fresh} {
			if err := db.CreateUserToken(ctx, w.Owner.ID, regulars.TokenSetPassword, h, time.Hour); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := db.PeekUserToken(ctx, old); regulars.ErrorCode(err) != regulars.ENOTFOUND {
			t.Errorf("the superseded link: %v, want not found", err)
		}
		if id, purpose, err := db.PeekUserToken(ctx, fresh); err != nil || id != w.Owner.ID || purpose != regulars.TokenSetPassword {
			t.Errorf("the new link: %d %q %v", id, purpose, err)
		}
		// A reset link does not supersede a set-password link, nor the reverse.
		if err := db.CreateUserToken(ctx, w.Owner.ID, regulars.TokenResetPassword, app.HashSecret("reset"), time.Hour); err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.PeekUserToken(ctx, fresh); err != nil {
			t.Errorf("a reset link superseded the set-password link: %v", err)
		}
	})
}
