package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
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

// Group commit: many callers at once, some failing, over a few
// conversations. Each failing caller alone gets its error and leaves
// nothing behind; the others' messages are all there with gapless
// sequence numbers, and only theirs AfterCommit functions ran.
func TestInBatchIsolatesEachCallersFunction(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := testenv.NewWorld(t, db)
		_, convs := addConversations(t, db, w, "BATCH", 3)
		boom := errors.New("boom")
		const callers = 150
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			results = make([]error, callers)
			after   = map[int]int{}
		)
		for i := range callers {
			wg.Go(func() {
				conv := convs[i%len(convs)]
				results[i] = db.InBatch(ctx, conv.ID, func(ctx context.Context) error {
					c, err := db.LockConversation(ctx, conv.ID)
					if err != nil {
						return err
					}
					if _, err := db.AddChatMessage(ctx, c, &regulars.ChatMessage{Author: regulars.AuthorFollower, Kind: regulars.MessageText,
						Text: fmt.Sprintf("message %d", i)}); err != nil {
						return err
					}
					db.AfterCommit(ctx, func(context.Context) {
						mu.Lock()
						after[i]++
						mu.Unlock()
					})
					switch i % 10 {
					case 3:
						return boom
					case 7:
						panic("a bad function")
					}
					return nil
				})
			})
		}
		wg.Wait()
		want := map[int64][]string{}
		for i, err := range results {
			switch i % 10 {
			case 3:
				if !errors.Is(err, boom) {
					t.Errorf("caller %d: %v, want its own error", i, err)
				}
			case 7:
				if err == nil || !strings.Contains(err.Error(), "panicked") {
					t.Errorf("caller %d: %v, want the panic as its error", i, err)
				}
			default:
				if err != nil {
					t.Errorf("caller %d: %v", i, err)
				}
				if after[i] != 1 {
					t.Errorf("caller %d: AfterCommit ran %d times", i, after[i])
				}
				conv := convs[i%len(convs)]
				want[conv.ID] = append(want[conv.ID], fmt.Sprintf("message %d", i))
				continue
			}
			if after[i] != 0 {
				t.Errorf("failed caller %d: AfterCommit ran", i)
			}
		}
		for _, conv := range convs {
			msgs, err := db.ChatMessagesAfter(ctx, conv.ID, 0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for j, m := range msgs {
				if m.Seq != int64(j+1) {
					t.Errorf("conversation %d: message %d has seq %d", conv.ID, j+1, m.Seq)
				}
				got = append(got, m.Text)
			}
			slices.Sort(got)
			slices.Sort(want[conv.ID])
			if !slices.Equal(got, want[conv.ID]) {
				t.Errorf("conversation %d holds %d messages, want %d: %v", conv.ID, len(got), len(want[conv.ID]), got)
			}
			c, err := db.LockConversation(ctx, conv.ID)
			if err != nil {
				t.Fatal(err)
			}
			if c.LastSeq != int64(len(msgs)) {
				t.Errorf("conversation %d: last seq %d, %d messages", conv.ID, c.LastSeq, len(msgs))
			}
		}
		// A caller that gave up before its turn changes nothing.
		gone, cancel := context.WithCancel(ctx)
		cancel()
		ran := false
		if err := db.InBatch(gone, convs[0].ID, func(context.Context) error { ran = true; return nil }); !errors.Is(err, context.Canceled) || ran {
			t.Errorf("cancelled caller: %v, ran %v", err, ran)
		}
	})
}
