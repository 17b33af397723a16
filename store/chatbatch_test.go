package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"regulars"
	"regulars/internal/testenv"
	"regulars/store"
)

// Followers' text messages stored together (InBatchFollowerText): many
// callers at once over a few conversations, one of them finished, with
// refusals, a conversation of another follower and resends. On PostgreSQL
// the batch stores them (handled) except the message that reopens the
// finished conversation; on SQLite every one runs its slow function. Either
// way the outcome is the same: gapless sequence numbers, each successful
// caller's message once, refused callers' not at all, each conversation's
// last message and read mark moved on.
func TestInBatchFollowerText(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := testenv.NewWorld(t, db)
		batched := db.Dialect() == "postgres"
		followers, convs := addConversations(t, db, w, "TEXT", 4)
		finished := convs[3]
		finished.Status = regulars.ConversationFinished
		if err := db.SetConversationState(ctx, finished); err != nil {
			t.Fatal(err)
		}
		stranger := w.AddFollower(t, "STRANGER", []*regulars.Channel{w.Channel})
		refused := errors.New("refused")

		// slow is what the app runs when the batch does not store the
		// message: lock, reopen a finished conversation, store once.
		slow := func(f *regulars.Follower, id int64, m *regulars.ChatMessage, out **regulars.ChatMessage, check func(*store.ChatContext) error) func(context.Context) error {
			return func(ctx context.Context) error {
				cc, err := db.LockFollowerChatContext(ctx, f, id)
				if err != nil {
					return err
				}
				if err := check(cc); err != nil {
					return err
				}
				c := cc.Conversation
				if c.Status == regulars.ConversationFinished {
					c.Status = regulars.ConversationUnanswered
					if err := db.SetConversationState(ctx, c); err != nil {
						return err
					}
				}
				msg := *m
				stored, _, err := db.AddChatMessageOnce(ctx, c, &msg)
				*out = stored
				return err
			}
		}
		type result struct {
			text    *store.FollowerText
			stored  *regulars.ChatMessage // by the slow function
			handled bool
			err     error
		}
		send := func(callers int, message func(i int) (*regulars.Follower, int64, string, error)) []result {
			results := make([]result, callers)
			var wg sync.WaitGroup
			for i := range callers {
				wg.Go(func() {
					f, id, clientID, refuse := message(i)
					check := func(*store.ChatContext) error { return refuse }
					m := &regulars.ChatMessage{Author: regulars.AuthorFollower, Kind: regulars.MessageText, Text: "text " + clientID, ClientID: clientID}
					r := &results[i]
					r.text = &store.FollowerText{Follower: f, ConversationID: id, Message: m, Check: check}
					r.handled, r.err = db.InBatchFollowerText(ctx, r.text, slow(f, id, m, &r.stored, check))
				})
			}
			wg.Wait()
			return results
		}

		const callers = 200
		want := map[int64][]string{}
		results := send(callers, func(i int) (*regulars.Follower, int64, string, error) {
			k := i % len(convs)
			switch i % 10 {
			case 3:
				return followers[k], convs[k].ID, fmt.Sprint("c", i), refused
			case 5:
				return stranger, convs[k].ID, fmt.Sprint("c", i), nil
			}
			return followers[k], convs[k].ID, fmt.Sprint("c", i), nil
		})
		reopened := 0
		for i, r := range results {
			conv := convs[i%len(convs)]
			switch i % 10 {
			case 3:
				if !errors.Is(r.err, refused) {
					t.Errorf("refused caller %d: %v", i, r.err)
				}
				continue
			case 5:
				if regulars.ErrorCode(r.err) != regulars.ENOTFOUND {
					t.Errorf("another follower's conversation, caller %d: %v, want not found", i, r.err)
				}
				continue
			}
			if r.err != nil {
				t.Errorf("caller %d: %v", i, r.err)
				continue
			}
			want[conv.ID] = append(want[conv.ID], fmt.Sprint("text c", i))
			if !r.handled {
				if r.stored == nil {
					t.Errorf("caller %d: neither the batch nor the slow function stored the message", i)
				}
				if conv.ID == finished.ID {
					reopened++
				} else if batched {
					t.Errorf("caller %d: the batch did not store a message to an open conversation", i)
				}
				continue
			}
			if !batched {
				t.Errorf("caller %d: handled on %s", i, db.Dialect())
			}
			s, c := r.text.Stored, r.text.Context.Conversation
			if s.ID == 0 || s.ConversationID != conv.ID || s.Text != fmt.Sprint("text c", i) || r.text.Dup {
				t.Errorf("caller %d: stored %+v dup %v", i, s, r.text.Dup)
			}
			if c.LastSeq != s.Seq || c.FollowerReadSeq != s.Seq || c.FollowerName != followers[i%len(convs)].Name || c.Status == regulars.ConversationFinished {
				t.Errorf("caller %d: conversation after it %+v, message seq %d", i, c, s.Seq)
			}
		}
		handled := 0
		for _, r := range results {
			if r.handled {
				handled++
			}
		}
		if got := db.BatchStats().TextsStored; got != int64(handled) {
			t.Errorf("BatchStats counts %d messages stored together, %d callers were told so", got, handled)
		}
		if batched && reopened != 1 {
			t.Errorf("%d messages to the finished conversation ran the slow function, want the one that reopened it", reopened)
		}

		// Resends of stored messages store nothing and return the stored
		// message.
		firsts := map[string]int64{}
		for _, conv := range convs {
			msgs, err := db.ChatMessagesAfter(ctx, conv.ID, 0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range msgs {
				firsts[m.ClientID] = m.ID
			}
		}
		again := send(40, func(i int) (*regulars.Follower, int64, string, error) {
			k := i % len(convs)
			return followers[k], convs[k].ID, fmt.Sprint("c", i), nil // ids 3 and 5 … were refused: stored now
		})
		for i, r := range again {
			conv := convs[i%len(convs)]
			if r.err != nil {
				t.Errorf("resend %d: %v", i, r.err)
				continue
			}
			id, resent := firsts[fmt.Sprint("c", i)]
			if !resent {
				want[conv.ID] = append(want[conv.ID], fmt.Sprint("text c", i))
				continue
			}
			got := r.stored
			if r.handled {
				if !r.text.Dup {
					t.Errorf("resend %d: not a duplicate", i)
				}
				got = r.text.Stored
			}
			if got == nil || got.ID != id {
				t.Errorf("resend %d: returned %+v, want message %d", i, got, id)
			}
		}

		// A message PostgreSQL cannot store (a NUL byte) fails the batch's
		// statement: the batch runs again function by function, and only
		// that caller fails. (SQLite stores it.)
		before := db.BatchStats()
		bad := send(30, func(i int) (*regulars.Follower, int64, string, error) {
			k := i % len(convs)
			if i == 13 {
				return followers[k], convs[k].ID, "nul\x00", nil
			}
			return followers[k], convs[k].ID, fmt.Sprint("d", i), nil
		})
		for i, r := range bad {
			conv := convs[i%len(convs)]
			if i == 13 && batched {
				if r.err == nil {
					t.Error("a message with a NUL byte was stored on PostgreSQL")
				}
				continue
			}
			if r.err != nil {
				t.Errorf("sender %d next to the bad message: %v", i, r.err)
				continue
			}
			want[conv.ID] = append(want[conv.ID], "text "+r.text.Message.ClientID)
		}
		if after := db.BatchStats(); batched && after.TextFallbacks == before.TextFallbacks {
			t.Error("the batch with the NUL byte did not fall back to function by function (BatchStats)")
		}

		// A message the batched statement would not store as it is (here
		// one naming an event) goes to its slow function.
		odd := &regulars.ChatMessage{Author: regulars.AuthorFollower, Kind: regulars.MessageText, Text: "text odd", Event: "odd", ClientID: "odd"}
		var oddStored *regulars.ChatMessage
		noCheck := func(*store.ChatContext) error { return nil }
		oddHandled, err := db.InBatchFollowerText(ctx, &store.FollowerText{Follower: followers[0], ConversationID: convs[0].ID, Message: odd, Check: noCheck},
			slow(followers[0], convs[0].ID, odd, &oddStored, noCheck))
		if err != nil || oddHandled || oddStored == nil || oddStored.Event != "odd" {
			t.Errorf("a message with an event: handled %v, slow stored %+v, %v", oddHandled, oddStored, err)
		}
		want[convs[0].ID] = append(want[convs[0].ID], "text odd")

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
				t.Errorf("conversation %d holds %v, want %v", conv.ID, got, want[conv.ID])
			}
			c, err := db.LockConversation(ctx, conv.ID)
			if err != nil {
				t.Fatal(err)
			}
			last := msgs[len(msgs)-1]
			if c.LastSeq != last.Seq || c.FollowerReadSeq != last.Seq || c.LastPreview != last.Text || c.LastAuthor != regulars.AuthorFollower ||
				!c.LastMessageAt.Equal(last.CreatedAt) || c.Status == regulars.ConversationFinished {
				t.Errorf("conversation %d after its messages: %+v, last message %+v", conv.ID, c, last)
			}
		}
	})
}

// addConversations adds n followers of w's channel, each with a
// conversation with it.
func addConversations(t *testing.T, db *store.DB, w *testenv.World, prefix string, n int) (followers []*regulars.Follower, convs []*regulars.Conversation) {
	for i := range n {
		f := w.AddFollower(t, fmt.Sprintf("%s%d", prefix, i), []*regulars.Channel{w.Channel})
		c, err := db.EnsureConversation(context.Background(), w.Tenant.ID, w.Partner.ID, w.Channel.ID, f.ID)
		if err != nil {
			t.Fatal(err)
		}
		followers, convs = append(followers, f), append(convs, c)
	}
	return followers, convs
}

// Who wrote a conversation's newest message, for the conversation list:
// the agent of the newest message that is not a system line, and nobody
// when a follower wrote it (or nobody has).
func TestLastWriters(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := testenv.NewWorld(t, db)
		ann := w.AddUser(t, w.Partner.ID, "ann@alpha.example", regulars.Permissions{regulars.FeatureChat: regulars.LevelUpdate})
		bob := w.AddUser(t, w.Partner.ID, "bob@alpha.example", regulars.Permissions{regulars.FeatureChat: regulars.LevelUpdate})
		_, convs := addConversations(t, db, w, "LAST", 4)
		add := func(c *regulars.Conversation, m *regulars.ChatMessage) {
			t.Helper()
			if m.Kind == "" {
				m.Kind = regulars.MessageText
			}
			if _, err := db.AddChatMessage(ctx, c, m); err != nil {
				t.Fatal(err)
			}
		}
		follower := func(text string) *regulars.ChatMessage {
			return &regulars.ChatMessage{Author: regulars.AuthorFollower, Text: text}
		}
		agent := func(u *regulars.User, text string) *regulars.ChatMessage {
			return &regulars.ChatMessage{Author: regulars.AuthorAgent, UserID: u.ID, Text: text}
		}
		add(convs[0], follower("hi"))
		add(convs[0], agent(ann, "hello"))
		// Bob takes over and the line says so; Ann's message is still the newest.
		add(convs[0], &regulars.ChatMessage{Author: regulars.AuthorSystem, Kind: regulars.MessageSystem, UserID: bob.ID, Event: regulars.ChatOvertake, Text: "took over"})
		add(convs[1], agent(ann, "one"))
		add(convs[1], agent(bob, "two"))
		add(convs[2], agent(bob, "hi"))
		add(convs[2], follower("thanks"))
		got, err := db.LastWriters(ctx, []int64{convs[0].ID, convs[1].ID, convs[2].ID, convs[3].ID})
		if err != nil {
			t.Fatal(err)
		}
		want := map[int64]store.LastWriter{convs[0].ID: {ann.ID, ann.Name}, convs[1].ID: {bob.ID, bob.Name}}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("last writers %v, want %v", got, want)
		}
		if got, err := db.LastWriters(ctx, nil); err != nil || len(got) != 0 {
			t.Fatalf("none: %v %v", got, err)
		}
	})
}
