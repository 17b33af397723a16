package app_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"regulars"
	"regulars/app"
	"regulars/internal/testenv"
	"regulars/store"
)

// BenchmarkChatFollowerMessage is the store and app side of a follower's
// chat message, without WebSocket: many senders at once (so that messages
// commit together) over 256 conversations. "store-write" is the baseline:
// only the durable write (the message row and the conversation's last
// message, group-committed), one message after the other in the batch's
// transaction. "batched-write" is what InBatchFollowerText does with no
// checks: on PostgreSQL the batch's messages locked, read and stored in two
// statements (on SQLite the same as store-write with the lock). "follower-send"
// is the whole of app.FollowerSendTo: the chat-context read, validation, the
// locked write with the resend check, and publishing the event. The msgs/s of one process on this machine
// bound what a chat node can deliver, whatever its WebSocket layer does.
func BenchmarkChatFollowerMessage(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			var db *store.DB
			if dialect == "sqlite" {
				db = testenv.OpenSQLite(b)
			} else {
				db = testenv.OpenPostgres(b)
			}
			benchFollowerMessages(b, db)
		})
	}
}

func benchFollowerMessages(b *testing.B, db *store.DB) {
	ctx := context.Background()
	e := newChatEnv(b, db)
	const conversations = 256
	type sender struct {
		fa   *app.FollowerActor
		conv *regulars.Conversation
	}
	senders := make([]sender, conversations)
	for i := range senders {
		f := e.w.AddFollower(b, fmt.Sprintf("BENCH%04d", i), []*regulars.Channel{e.w.Channel})
		fa := &app.FollowerActor{Follower: f, Tenant: e.w.Tenant}
		c, _, err := e.a.FollowerSend(ctx, fa, e.w.Channel.ID, app.FollowerMessage{Text: "Hello"})
		if err != nil {
			b.Fatal(err)
		}
		senders[i] = sender{fa, c}
	}
	var ids atomic.Int64
	run := func(b *testing.B, send func(s *sender, text string) error) {
		var next atomic.Int64
		b.SetParallelism(conversations / 8) // goroutines: this × GOMAXPROCS, at most 256
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			s := &senders[int(next.Add(1)-1)%conversations]
			for pb.Next() {
				if err := send(s, fmt.Sprint("m", ids.Add(1))); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	}
	b.Run("store-write", func(b *testing.B) {
		run(b, func(s *sender, text string) error {
			return db.InBatch(ctx, s.conv.ID, func(ctx context.Context) error {
				// The sender is the conversation's only writer here: its
				// copy holds the last seq.
				c := *s.conv
				if _, err := db.AddChatMessage(ctx, &c, &regulars.ChatMessage{Author: regulars.AuthorFollower, Kind: regulars.MessageText, Text: text}); err != nil {
					return err
				}
				db.AfterCommit(ctx, func(context.Context) { *s.conv = c })
				return nil
			})
		})
	})
	b.Run("batched-write", func(b *testing.B) {
		run(b, func(s *sender, text string) error {
			m := &regulars.ChatMessage{Author: regulars.AuthorFollower, Kind: regulars.MessageText, Text: text}
			t := &store.FollowerText{Follower: s.fa.Follower, ConversationID: s.conv.ID, Message: m, Check: func(*store.ChatContext) error { return nil }}
			_, err := db.InBatchFollowerText(ctx, t, func(ctx context.Context) error {
				c, err := db.LockConversation(ctx, s.conv.ID)
				if err == nil {
					_, err = db.AddChatMessage(ctx, c, m)
				}
				return err
			})
			return err
		})
	})
	b.Run("follower-send", func(b *testing.B) {
		run(b, func(s *sender, text string) error {
			_, _, err := e.a.FollowerSendTo(ctx, s.fa, s.conv.ID, app.FollowerMessage{Text: text, ClientID: text})
			return err
		})
	})
}
