package app_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"regulars"
	"regulars/app"
	"regulars/events"
	"regulars/files"
	"regulars/internal/testenv"
	"regulars/mail"
	"regulars/store"
)

// chatEnv is an app over a small world with a follower of partner A's
// channel; it records the chat events published to A's agents.
type chatEnv struct {
	t        testing.TB
	ctx      context.Context
	db       *store.DB
	w        *testenv.World
	a        *app.App
	follower *app.FollowerActor

	mu     sync.Mutex
	events []app.ChatEvent
}

func newChatEnv(t testing.TB, db *store.DB) *chatEnv {
	t.Helper()
	log := testenv.Logger(t)
	mailer, err := mail.New(db, "", "", log)
	if err != nil {
		t.Fatal(err)
	}
	a := app.New(db, mailer, log, "http://regulars.test")
	a.Password = testenv.FastPasswords
	a.Files = files.NewDisk(t.TempDir())
	w := testenv.NewWorld(t, db)
	f := w.AddFollower(t, "MIA123", []*regulars.Channel{w.Channel}, func(f *regulars.Follower) { f.Name = "Mia" })
	e := &chatEnv{t: t, ctx: context.Background(), db: db, w: w, a: a, follower: &app.FollowerActor{Follower: f, Tenant: w.Tenant}}
	stop := a.Bus.Subscribe(app.PartnerTopic(w.Partner.ID), func(ev events.Event) {
		ce, err := events.Decode[app.ChatEvent](ev)
		if err != nil {
			t.Errorf("event: %v", err)
			return
		}
		e.mu.Lock()
		e.events = append(e.events, *ce)
		e.mu.Unlock()
	})
	t.Cleanup(stop)
	return e
}

// agent signs in a new user of partnerID whose role has level on chat
// (and everything on canned responses).
func (e *chatEnv) agent(partnerID int64, name string, level regulars.Level) *app.Actor {
	e.t.Helper()
	u := e.w.AddUser(e.t, partnerID, strings.ToLower(name)+"@agents.example", regulars.Permissions{regulars.FeatureChat: level, regulars.FeatureCanned: regulars.LevelManage})
	u.Name = name
	if err := e.db.UpdateUser(e.ctx, u); err != nil {
		e.t.Fatal(err)
	}
	res, err := e.a.SignIn(e.ctx, u.Email, testenv.Password, "127.0.0.1", "test")
	if err != nil {
		e.t.Fatal(err)
	}
	return res.Actor
}

// write sends a follower message and returns the conversation.
// switchChat switches the chat of partner A's channel on or off.
func (e *chatEnv) switchChat(on bool) {
	e.t.Helper()
	ch := *e.w.Channel
	ch.ChatEnabled = on
	if err := e.db.UpdateChannel(e.ctx, &ch); err != nil {
		e.t.Fatal(err)
	}
}

func (e *chatEnv) write(text string) *regulars.Conversation {
	e.t.Helper()
	c, _, err := e.a.FollowerSend(e.ctx, e.follower, e.w.Channel.ID, app.FollowerMessage{Text: text})
	if err != nil {
		e.t.Fatalf("follower writes %q: %v", text, err)
	}
	return c
}

func (e *chatEnv) conversation(actor *app.Actor, id int64) *regulars.Conversation {
	e.t.Helper()
	c, err := e.a.Conversation(e.ctx, actor, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// thread returns the conversation's lines as "author: text" for messages
// and "[event] text" for system lines, checking that the sequence numbers
// run 1, 2, 3 … without a gap.
func (e *chatEnv) thread(actor *app.Actor, id int64) []string {
	e.t.Helper()
	msgs, err := e.a.ChatMessages(e.ctx, actor, id, app.ChatPage{})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for i, m := range msgs {
		if m.Seq != int64(i+1) {
			e.t.Fatalf("message %d has seq %d: numbers must run without gaps", i+1, m.Seq)
		}
		if m.Kind == regulars.MessageSystem {
			out = append(out, "["+m.Event+"] "+m.Text)
		} else {
			out = append(out, m.Author+": "+m.Text)
		}
	}
	return out
}

func wantCode(t *testing.T, err error, code string) *regulars.Error {
	t.Helper()
	var e *regulars.Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("error = %v, want code %s", err, code)
	}
	return e
}

func TestChatSeedFlow(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := newChatEnv(t, db)
		ann := e.agent(e.w.Partner.ID, "Ann", regulars.LevelUpdate)
		bob := e.agent(e.w.Partner.ID, "Bob", regulars.LevelUpdate)

		c := e.write("Hello, is the shop open on Sunday?")
		if c.Status != regulars.ConversationUnanswered || c.OwnerID != 0 {
			t.Fatalf("a follower's first message: status %s owner %d, want unanswered without owner", c.Status, c.OwnerID)
		}
		list, counts, err := e.a.Conversations(e.ctx, bob, app.ConversationQuery{Tab: app.TabUnanswered})
		if err != nil || len(list) != 1 || list[0].Unread != 1 || counts.Unanswered != 1 {
			t.Fatalf("Bob's unanswered tab: %d conversations (unread %v), counts %+v, err %v", len(list), list, counts, err)
		}

		// Ann answers: she takes it.
		if _, err := e.a.SendAgentMessage(e.ctx, ann, c.ID, app.AgentMessage{Text: "Yes, 9 to 5!"}); err != nil {
			t.Fatal(err)
		}
		if got := e.conversation(bob, c.ID); got.Status != regulars.ConversationActive || got.OwnerID != ann.User.ID || got.OwnerName != "Ann" {
			t.Fatalf("after Ann's answer: %s owned by %q, want active owned by Ann", got.Status, got.OwnerName)
		}

		// Bob is warned with Ann's name, confirms and overtakes.
		_, err = e.a.SendAgentMessage(e.ctx, bob, c.ID, app.AgentMessage{Text: "Hi, Bob here"})
		warn := wantCode(t, err, regulars.ECONFLICT)
		if oc, ok := warn.Detail.(app.OwnerConflict); !ok || oc.OwnerID != ann.User.ID || !strings.Contains(warn.Message, "Ann") {
			t.Fatalf("warning %q detail %+v, want it to name Ann", warn.Message, warn.Detail)
		}
		if _, err := e.a.SendAgentMessage(e.ctx, bob, c.ID, app.AgentMessage{Text: "Hi, Bob here", OvertakeFrom: ann.User.ID}); err != nil {
			t.Fatal(err)
		}
		if got := e.conversation(ann, c.ID); got.OwnerID != bob.User.ID {
			t.Fatalf("after the overtake the owner is %q, want Bob", got.OwnerName)
		}
		// Ann, no longer the owner, cannot finish it.
		_, err = e.a.FinishConversation(e.ctx, ann, c.ID)
		if warn := wantCode(t, err, regulars.EFORBIDDEN); !strings.Contains(warn.Message, "Bob") {
			t.Fatalf("refusal %q should name the owner", warn.Message)
		}
		if _, err := e.a.FinishConversation(e.ctx, bob, c.ID); err != nil {
			t.Fatal(err)
		}
		if got := e.conversation(ann, c.ID); got.Status != regulars.ConversationFinished || got.OwnerID != 0 || got.FinishedBy != bob.User.ID {
			t.Fatalf("after finishing: %+v", got)
		}

		// The follower writes again: unanswered until someone takes it.
		c = e.write("One more question")
		if c.Status != regulars.ConversationUnanswered || c.OwnerID != 0 {
			t.Fatalf("a message after finishing: %s owner %d, want unanswered", c.Status, c.OwnerID)
		}

		want := []string{
			"follower: Hello, is the shop open on Sunday?",
			"[take] Ann took the conversation",
			"agent: Yes, 9 to 5!",
			"[overtake] Bob took over the conversation from Ann",
			"agent: Hi, Bob here",
			"[finish] Bob finished the conversation",
			"[reopen] Mia wrote again: the conversation is unanswered",
			"follower: One more question",
		}
		if got := e.thread(ann, c.ID); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("thread:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		// Every line reached the agents, in order, each with the
		// conversation as it stood after the change.
		e.mu.Lock()
		defer e.mu.Unlock()
		var seqs []int64
		for _, ev := range e.events {
			if ev.Type == app.EventMessage {
				seqs = append(seqs, ev.Message.Seq)
				if ev.Conversation.LastSeq < ev.Message.Seq {
					t.Errorf("event of message %d carries the conversation at %d", ev.Message.Seq, ev.Conversation.LastSeq)
				}
			}
		}
		if fmt.Sprint(seqs) != "[1 2 3 4 5 6 7 8]" {
			t.Fatalf("published messages %v, want 1 to 8 in order", seqs)
		}
	})
}

// Agents racing to take the same unanswered conversation: exactly one
// becomes the owner, every other one gets the warning naming the winner.
func TestTakeRaceHasExactlyOneWinner(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := newChatEnv(t, db)
		const n = 8
		agents := make([]*app.Actor, n)
		for i := range agents {
			agents[i] = e.agent(e.w.Partner.ID, fmt.Sprintf("Agent%d", i), regulars.LevelUpdate)
		}
		for round := 0; round < 3; round++ {
			c := e.write(fmt.Sprintf("Round %d", round))
			var wg sync.WaitGroup
			start := make(chan struct{})
			errs := make([]error, n)
			for i, ag := range agents {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					_, errs[i] = e.a.SendAgentMessage(e.ctx, ag, c.ID, app.AgentMessage{Text: "Mine!"})
				}()
			}
			close(start)
			wg.Wait()
			winner := -1
			for i, err := range errs {
				if err == nil {
					if winner >= 0 {
						t.Fatalf("round %d: both %s and %s took the conversation", round, agents[winner].User.Name, agents[i].User.Name)
					}
					winner = i
				}
			}
			if winner < 0 {
				t.Fatalf("round %d: nobody won: %v", round, errs)
			}
			for i, err := range errs {
				if i == winner {
					continue
				}
				warn := wantCode(t, err, regulars.ECONFLICT)
				if oc, _ := warn.Detail.(app.OwnerConflict); oc.OwnerID != agents[winner].User.ID {
					t.Fatalf("round %d: %s's warning names %+v, want the winner %s", round, agents[i].User.Name, warn.Detail, agents[winner].User.Name)
				}
			}
			got := e.conversation(agents[0], c.ID)
			if got.OwnerID != agents[winner].User.ID {
				t.Fatalf("round %d: owner %d, want the winner", round, got.OwnerID)
			}
			takes := 0
			for _, line := range e.thread(agents[0], c.ID) {
				if strings.HasPrefix(line, "[take]") {
					takes++
				}
			}
			if takes != round+1 {
				t.Fatalf("round %d: %d take lines, want one per round", round, takes)
			}
			if _, err := e.a.FinishConversation(e.ctx, agents[winner], c.ID); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func TestChatRolesAndSwitch(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := newChatEnv(t, db)
		viewer := e.agent(e.w.Partner.ID, "Vera", regulars.LevelView)
		ann := e.agent(e.w.Partner.ID, "Ann", regulars.LevelUpdate)
		manager := e.agent(e.w.Partner.ID, "Max", regulars.LevelManage)
		other := e.agent(e.w.OtherPartner.ID, "Otto", regulars.LevelManage)
		c := e.write("Hi")

		// View only: reads, neither sends nor takes nor finishes.
		if got := e.thread(viewer, c.ID); len(got) != 1 {
			t.Fatalf("the viewer reads %v", got)
		}
		_, err := e.a.SendAgentMessage(e.ctx, viewer, c.ID, app.AgentMessage{Text: "x"})
		wantCode(t, err, regulars.EFORBIDDEN)
		_, err = e.a.TakeConversation(e.ctx, viewer, c.ID, 0)
		wantCode(t, err, regulars.EFORBIDDEN)
		_, err = e.a.FinishConversation(e.ctx, viewer, c.ID)
		wantCode(t, err, regulars.EFORBIDDEN)

		// Another partner: the conversation does not exist.
		_, err = e.a.Conversation(e.ctx, other, c.ID)
		wantCode(t, err, regulars.ENOTFOUND)
		_, err = e.a.SendAgentMessage(e.ctx, other, c.ID, app.AgentMessage{Text: "x"})
		wantCode(t, err, regulars.ENOTFOUND)
		if list, _, err := e.a.Conversations(e.ctx, other, app.ConversationQuery{}); err != nil || len(list) != 0 {
			t.Fatalf("partner B lists %d conversations of A (err %v)", len(list), err)
		}

		// Taking without a message, then a manager finishes someone else's.
		if got, err := e.a.TakeConversation(e.ctx, ann, c.ID, 0); err != nil || got.OwnerID != ann.User.ID {
			t.Fatalf("take: %v %v", got, err)
		}
		_, err = e.a.TakeConversation(e.ctx, manager, c.ID, 0)
		wantCode(t, err, regulars.ECONFLICT)
		if _, err := e.a.FinishConversation(e.ctx, manager, c.ID); err != nil {
			t.Fatalf("a chat manager finishes anyone's conversation: %v", err)
		}

		// Chat switched off: the follower cannot send, agents cannot answer,
		// everyone reads.
		e.switchChat(false)
		_, _, err = e.a.FollowerSend(e.ctx, e.follower, e.w.Channel.ID, app.FollowerMessage{Text: "Anyone?"})
		wantCode(t, err, regulars.ECONFLICT)
		_, err = e.a.SendAgentMessage(e.ctx, ann, c.ID, app.AgentMessage{Text: "Still here"})
		wantCode(t, err, regulars.ECONFLICT)
		if got := e.thread(ann, c.ID); len(got) != 3 {
			t.Fatalf("history with chat off: %v", got)
		}
		if _, err := e.a.FollowerChatMessages(e.ctx, e.follower, c.ID, app.ChatPage{}); err != nil {
			t.Fatalf("the follower reads history with chat off: %v", err)
		}

		// A follower who does not follow the channel cannot start a chat.
		stranger := e.w.AddFollower(t, "STRANGER", nil)
		_, _, err = e.a.FollowerSend(e.ctx, &app.FollowerActor{Follower: stranger, Tenant: e.w.Tenant}, e.w.OtherChannel.ID, app.FollowerMessage{Text: "Hi"})
		wantCode(t, err, regulars.ECONFLICT)
		// … nor read someone else's conversation.
		_, err = e.a.FollowerConversation(e.ctx, &app.FollowerActor{Follower: stranger, Tenant: e.w.Tenant}, c.ID)
		wantCode(t, err, regulars.ENOTFOUND)
	})
}

// Sending into an existing conversation (what the app's WebSocket does):
// everything is checked under the conversation's lock, and a refusal
// stores nothing.
func TestFollowerSendToAConversation(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := newChatEnv(t, db)
		ann := e.agent(e.w.Partner.ID, "Ann", regulars.LevelUpdate)
		c := e.write("Hi")
		if _, err := e.a.SendAgentMessage(e.ctx, ann, c.ID, app.AgentMessage{Text: "Hello, Ann here"}); err != nil {
			t.Fatal(err)
		}
		conv, m, err := e.a.FollowerSendTo(e.ctx, e.follower, c.ID, app.FollowerMessage{Text: "Is it open on Sunday?", ClientID: "s-1"})
		if err != nil {
			t.Fatal(err)
		}
		// 1 Hi, 2 Ann takes it, 3 Ann's answer, 4 this one.
		if m.Seq != 4 || conv.Status != regulars.ConversationActive || conv.OwnerName != "Ann" || conv.FollowerName != "Mia" || conv.ChannelName != e.w.Channel.Name || conv.LastSeq != 4 {
			t.Fatalf("after sending: message %d, conversation %+v", m.Seq, conv)
		}
		again, _, err := e.a.FollowerSendTo(e.ctx, e.follower, c.ID, app.FollowerMessage{Text: "Is it open on Sunday?", ClientID: "s-1"})
		if err != nil || again.LastSeq != 4 {
			t.Fatalf("a resend: %v, last seq %d", err, again.LastSeq)
		}

		// Finished: a new message reopens it, with a line saying so.
		if _, err := e.a.FinishConversation(e.ctx, ann, c.ID); err != nil {
			t.Fatal(err)
		}
		conv, _, err = e.a.FollowerSendTo(e.ctx, e.follower, c.ID, app.FollowerMessage{Text: "One more thing"})
		if err != nil {
			t.Fatal(err)
		}
		if conv.Status != regulars.ConversationUnanswered || conv.OwnerID != 0 || conv.OwnerName != "" {
			t.Fatalf("after writing again: %+v", conv)
		}
		got := e.thread(ann, c.ID)
		if n := len(got); n != 7 || !strings.Contains(got[n-2], "Mia wrote again") || got[n-1] != "follower: One more thing" {
			t.Fatalf("thread %q", got)
		}

		// Refusals change nothing: another follower's conversation, chat
		// switched off, no longer following.
		stranger := &app.FollowerActor{Follower: e.w.AddFollower(t, "STRANGER2", []*regulars.Channel{e.w.Channel}), Tenant: e.w.Tenant}
		_, _, err = e.a.FollowerSendTo(e.ctx, stranger, c.ID, app.FollowerMessage{Text: "Hijack"})
		wantCode(t, err, regulars.ENOTFOUND)
		_, _, err = e.a.FollowerSendTo(e.ctx, e.follower, c.ID, app.FollowerMessage{Text: "  "})
		wantCode(t, err, regulars.EINVALID)
		e.switchChat(false)
		_, _, err = e.a.FollowerSendTo(e.ctx, e.follower, c.ID, app.FollowerMessage{Text: "Anyone?"})
		wantCode(t, err, regulars.ECONFLICT)
		e.switchChat(true)
		if err := e.a.Unfollow(e.ctx, e.follower, e.w.Channel.ID); err != nil {
			t.Fatal(err)
		}
		_, _, err = e.a.FollowerSendTo(e.ctx, e.follower, c.ID, app.FollowerMessage{Text: "Bye"})
		wantCode(t, err, regulars.ECONFLICT)
		if after := e.thread(ann, c.ID); len(after) != len(got) {
			t.Fatalf("refused messages were stored: %q", after)
		}
	})
}

func TestChatResendIsStoredOnce(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := newChatEnv(t, db)
		ann := e.agent(e.w.Partner.ID, "Ann", regulars.LevelUpdate)
		c, m1, err := e.a.FollowerSend(e.ctx, e.follower, e.w.Channel.ID, app.FollowerMessage{Text: "Hi", ClientID: "f-1"})
		if err != nil {
			t.Fatal(err)
		}
		_, m2, err := e.a.FollowerSend(e.ctx, e.follower, e.w.Channel.ID, app.FollowerMessage{Text: "Hi", ClientID: "f-1"})
		if err != nil || m2.ID != m1.ID {
			t.Fatalf("resend: %v, message %d vs %d", err, m2.ID, m1.ID)
		}
		a1, err := e.a.SendAgentMessage(e.ctx, ann, c.ID, app.AgentMessage{Text: "Hello", ClientID: "a-1"})
		if err != nil {
			t.Fatal(err)
		}
		a2, err := e.a.SendAgentMessage(e.ctx, ann, c.ID, app.AgentMessage{Text: "Hello", ClientID: "a-1"})
		if err != nil || a2.ID != a1.ID {
			t.Fatalf("agent resend: %v, message %d vs %d", err, a2.ID, a1.ID)
		}
		if got := e.thread(ann, c.ID); len(got) != 3 {
			t.Fatalf("thread after resends: %v", got)
		}
		_, _, err = e.a.FollowerSend(e.ctx, e.follower, e.w.Channel.ID, app.FollowerMessage{Text: "x", ClientID: "no spaces please"})
		if fe := regulars.FieldErrors(err); fe["client_id"] == "" {
			t.Fatalf("a bad client id: %v", err)
		}
		_, _, err = e.a.FollowerSend(e.ctx, e.follower, e.w.Channel.ID, app.FollowerMessage{Text: "   "})
		if fe := regulars.FieldErrors(err); fe["text"] == "" {
			t.Fatalf("an empty message: %v", err)
		}
	})
}

func TestUnreadCountsAndReads(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := newChatEnv(t, db)
		ann := e.agent(e.w.Partner.ID, "Ann", regulars.LevelUpdate)
		bob := e.agent(e.w.Partner.ID, "Bob", regulars.LevelUpdate)
		c := e.write("one")
		e.write("two")
		if got := e.conversation(ann, c.ID); got.Unread != 2 {
			t.Fatalf("Ann's unread = %d, want 2", got.Unread)
		}
		if err := e.a.MarkConversationRead(e.ctx, ann, c.ID, 2); err != nil {
			t.Fatal(err)
		}
		if got := e.conversation(ann, c.ID); got.Unread != 0 {
			t.Fatalf("after reading, Ann's unread = %d", got.Unread)
		}
		if got := e.conversation(bob, c.ID); got.Unread != 2 {
			t.Fatalf("Bob's unread = %d, want 2: each agent reads for themselves", got.Unread)
		}
		// Reads never go back.
		if err := e.a.MarkConversationRead(e.ctx, ann, c.ID, 1); err != nil {
			t.Fatal(err)
		}
		if got := e.conversation(ann, c.ID); got.Unread != 0 {
			t.Fatalf("a stale read moved Ann back: unread %d", got.Unread)
		}
		// The follower's side counts the agents' messages.
		if _, err := e.a.SendAgentMessage(e.ctx, bob, c.ID, app.AgentMessage{Text: "hello"}); err != nil {
			t.Fatal(err)
		}
		list, err := e.a.FollowerConversations(e.ctx, e.follower)
		if err != nil || len(list) != 1 || list[0].Unread != 1 || list[0].ChannelName != e.w.Channel.Name {
			t.Fatalf("the follower's list: %+v %v", list, err)
		}
		if err := e.a.FollowerRead(e.ctx, e.follower, c.ID, list[0].LastSeq); err != nil {
			t.Fatal(err)
		}
		if list, _ := e.a.FollowerConversations(e.ctx, e.follower); list[0].Unread != 0 {
			t.Fatalf("after reading the follower has %d unread", list[0].Unread)
		}
	})
}

// png is the smallest PNG header the sniffer recognises, padded.
func png(size int) []byte {
	b := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, max(0, size-8))...)
	return b[:max(size, 8)]
}

func TestChatAttachments(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := newChatEnv(t, db)
		e.a.ChatMaxAttachment = 1000
		ann := e.agent(e.w.Partner.ID, "Ann", regulars.LevelUpdate)
		other := e.agent(e.w.OtherPartner.ID, "Otto", regulars.LevelManage)

		c, m, err := e.a.FollowerSendAttachment(e.ctx, e.follower, e.w.Channel.ID, app.Upload{Name: "../../etc/photo.png", Body: bytes.NewReader(png(600))}, "")
		if err != nil {
			t.Fatal(err)
		}
		if m.Attachment == nil || m.Attachment.Name != "photo.png" || m.Attachment.ContentType != "image/png" || m.Attachment.Size != 600 {
			t.Fatalf("attachment %+v", m.Attachment)
		}
		if c.LastPreview != "📎 photo.png" {
			t.Fatalf("preview %q", c.LastPreview)
		}
		att, f, err := e.a.AgentAttachment(e.ctx, ann, m.AttachmentID)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		if att.ID != m.AttachmentID {
			t.Fatal("wrong attachment")
		}
		// Only those who may see the conversation open it.
		_, _, err = e.a.AgentAttachment(e.ctx, other, m.AttachmentID)
		wantCode(t, err, regulars.ENOTFOUND)
		stranger := &app.FollowerActor{Follower: e.w.AddFollower(t, "STRANGER", []*regulars.Channel{e.w.Channel}), Tenant: e.w.Tenant}
		_, _, err = e.a.FollowerAttachment(e.ctx, stranger, m.AttachmentID)
		wantCode(t, err, regulars.ENOTFOUND)
		if _, f, err := e.a.FollowerAttachment(e.ctx, e.follower, m.AttachmentID); err != nil {
			t.Fatal(err)
		} else {
			f.Close()
		}

		// Too large, or not a picture or PDF: refused on the file field.
		_, _, err = e.a.FollowerSendAttachment(e.ctx, e.follower, e.w.Channel.ID, app.Upload{Name: "big.png", Body: bytes.NewReader(png(1001))}, "")
		if fe := regulars.FieldErrors(err); !strings.Contains(fe["file"], "larger than the 1 kB limit") || regulars.ErrorMessage(err) != fe["file"] {
			t.Fatalf("too large: %v (the message says why, as the field does)", err)
		}
		_, err = e.a.SendAgentAttachment(e.ctx, ann, c.ID, app.Upload{Name: "x.exe", Body: strings.NewReader("MZ\x90\x00 not a picture")}, app.AgentMessage{})
		if fe := regulars.FieldErrors(err); fe["file"] == "" {
			t.Fatalf("an executable: %v", err)
		}
		pdf, err := e.a.SendAgentAttachment(e.ctx, ann, c.ID, app.Upload{Name: "menu.pdf", Body: strings.NewReader("%PDF-1.4 menu")}, app.AgentMessage{Text: "Our menu"})
		if err != nil || pdf.Attachment.ContentType != "application/pdf" || pdf.Text != "Our menu" {
			t.Fatalf("pdf: %+v %v", pdf, err)
		}
		if used, _ := db.ChatAttachmentBytes(e.ctx, e.w.Partner.ID); used != 600+13 {
			t.Fatalf("stored bytes %d", used)
		}
		if used, _ := db.StorageBytes(e.ctx, e.w.Partner.ID); used != 600+13 {
			t.Fatalf("the partner's storage counts %d bytes, want the attachments' 613", used)
		}

		// Over the partner's storage allowance: a clear refusal, nothing stored.
		pkg := *e.w.Package
		pkg.Limits = map[string]int64{"storage_gb": 1}
		if err := db.UpdatePackage(e.ctx, &pkg); err != nil {
			t.Fatal(err)
		}
		if _, err := db.AddStorageBytes(e.ctx, e.w.Partner.ID, regulars.GB-613-100, false, 0); err != nil {
			t.Fatal(err)
		}
		_, _, err = e.a.FollowerSendAttachment(e.ctx, e.follower, e.w.Channel.ID, app.Upload{Name: "more.png", Body: bytes.NewReader(png(600))}, "")
		if full := wantCode(t, err, regulars.ELIMIT); full.Message != e.w.Channel.Name+" cannot take files at the moment: write your message instead, or try again later." {
			t.Fatalf("the follower's refusal %q, want one without the partner's plan", full.Message)
		}
		_, err = e.a.SendAgentAttachment(e.ctx, ann, c.ID, app.Upload{Name: "more.png", Body: bytes.NewReader(png(600))}, app.AgentMessage{})
		if full := wantCode(t, err, regulars.ELIMIT); !strings.Contains(full.Message, "Not enough storage") {
			t.Fatalf("the agent's refusal %q", full.Message)
		}
		if got := e.thread(ann, c.ID); len(got) != 3 {
			t.Fatalf("a refused file left a message: %v", got)
		}
	})
}

func TestCannedResponses(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := newChatEnv(t, db)
		ann := e.agent(e.w.Partner.ID, "Ann", regulars.LevelUpdate)
		other := e.agent(e.w.OtherPartner.ID, "Otto", regulars.LevelManage)
		// A tenant default every partner sees.
		def := &regulars.CannedCategory{TenantID: e.w.Tenant.ID, Name: "Platform"}
		if err := db.CreateCannedCategory(e.ctx, def); err != nil {
			t.Fatal(err)
		}
		if err := db.CreateCanned(e.ctx, &regulars.CannedResponse{TenantID: e.w.Tenant.ID, CategoryID: def.ID, Title: "Privacy", Text: "See our privacy policy."}); err != nil {
			t.Fatal(err)
		}
		cat, err := e.a.CreateCannedCategory(e.ctx, ann, "Opening hours")
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.a.CreateCannedCategory(e.ctx, ann, "opening HOURS")
		if fe := regulars.FieldErrors(err); fe["name"] == "" {
			t.Fatalf("duplicate name: %v", err)
		}
		r, err := e.a.CreateCanned(e.ctx, ann, app.CannedInput{CategoryID: cat.ID, Title: "Sunday", Text: "We open 10 to 4 on Sundays."})
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.a.CreateCanned(e.ctx, ann, app.CannedInput{CategoryID: def.ID, Title: "x", Text: "y"})
		if fe := regulars.FieldErrors(err); fe["category_id"] == "" {
			t.Fatalf("a response in the tenant's category: %v", err)
		}
		// Another partner sees the defaults, not A's responses, and cannot
		// change them.
		cats, err := e.a.CannedResponses(e.ctx, other)
		if err != nil || len(cats) != 1 || cats[0].Name != "Platform" {
			t.Fatalf("partner B sees %v (%v)", cats, err)
		}
		_, err = e.a.UpdateCanned(e.ctx, other, r.ID, app.CannedInput{CategoryID: cat.ID, Title: "x", Text: "y"})
		wantCode(t, err, regulars.ENOTFOUND)
		cats, _ = e.a.CannedResponses(e.ctx, ann)
		if len(cats) != 2 || cats[0].Name != "Opening hours" || len(cats[0].Responses) != 1 || cats[1].Name != "Platform" {
			t.Fatalf("Ann sees %+v", cats)
		}
		err = e.a.DeleteCannedCategory(e.ctx, ann, cat.ID)
		wantCode(t, err, regulars.ECONFLICT)
		if err := e.a.DeleteCanned(e.ctx, ann, r.ID); err != nil {
			t.Fatal(err)
		}
		if err := e.a.DeleteCannedCategory(e.ctx, ann, cat.ID); err != nil {
			t.Fatal(err)
		}
	})
}

// An agent sends a coupon card; the follower enables it from the chat and
// the agents see that in the thread and in the history panel.
func TestEngagementCard(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := newChatEnv(t, db)
		ann := e.agent(e.w.Partner.ID, "Ann", regulars.LevelUpdate)
		coupon := &regulars.Engagement{TenantID: e.w.Tenant.ID, PartnerID: e.w.Partner.ID, ChannelID: e.w.Channel.ID, Kind: regulars.KindCoupon,
			Name: "Free coffee", Coupon: &regulars.CouponSpec{RedemptionType: regulars.RedeemClick, PerFollower: 1}}
		if err := db.CreateEngagement(e.ctx, coupon); err != nil {
			t.Fatal(err)
		}
		c := e.write("Any offers?")
		list, _, err := e.a.AvailableEngagements(e.ctx, ann, c.ID, "")
		if err != nil || len(list) != 0 {
			t.Fatalf("a draft coupon is available: %v %v", list, err)
		}
		if _, err := db.SetEngagementStatus(e.ctx, coupon.ID, regulars.EngagementDraft, regulars.EngagementActive, db.Clock.Now()); err != nil {
			t.Fatal(err)
		}
		list, enabled, err := e.a.AvailableEngagements(e.ctx, ann, c.ID, regulars.KindCoupon)
		if err != nil || len(list) != 1 || list[0].ID != coupon.ID || enabled[coupon.ID] {
			t.Fatalf("available: %v %v %v", list, enabled, err)
		}
		card, err := e.a.SendAgentMessage(e.ctx, ann, c.ID, app.AgentMessage{EngagementID: coupon.ID, Text: "Here you go"})
		if err != nil || card.Kind != regulars.MessageEngagement {
			t.Fatalf("card: %+v %v", card, err)
		}
		// Another partner's engagement cannot be sent.
		_, err = e.a.SendAgentMessage(e.ctx, ann, c.ID, app.AgentMessage{EngagementID: 999999})
		wantCode(t, err, regulars.ENOTFOUND)

		cards, err := e.a.MessageCards(e.ctx, e.w.Tenant.ID, []*regulars.ChatMessage{card})
		if err != nil || cards[coupon.ID] == nil {
			t.Fatalf("cards %v %v", cards, err)
		}
		if got, err := e.a.CardsDone(e.ctx, e.follower.Follower.ID, 0, cards); err != nil || got[coupon.ID] {
			t.Fatalf("done before enabling: %v %v", got, err)
		}
		done, err := e.a.ActOnCard(e.ctx, e.follower, c.ID, card.Seq)
		if err != nil || done.Activation == nil {
			t.Fatalf("enable from the chat: %+v %v", done, err)
		}
		if got, err := e.a.CardsDone(e.ctx, e.follower.Follower.ID, 0, cards); err != nil || !got[coupon.ID] {
			t.Fatalf("done after enabling: %v %v", got, err)
		}
		if got := e.thread(ann, c.ID); got[len(got)-1] != "[activity] Mia enabled the coupon Free coffee" {
			t.Fatalf("thread ends %q", got[len(got)-1])
		}
		// Enabled and not used yet: still offered (sent again, it reminds
		// them), marked as enabled.
		if list, enabled, err := e.a.AvailableEngagements(e.ctx, ann, c.ID, ""); err != nil || len(list) != 1 || !enabled[coupon.ID] {
			t.Fatalf("available after enabling: %v %v %v", list, enabled, err)
		}
		panel, err := e.a.ConversationPanel(e.ctx, ann, c.ID, regulars.KindCoupon)
		if err != nil {
			t.Fatal(err)
		}
		if len(panel.Activity) != 1 || panel.Activity[0].Kind != regulars.ActCouponEnabled || len(panel.Channels) != 1 {
			t.Fatalf("panel: %+v", panel)
		}
		// A text-only card action on a text message is not found.
		_, err = e.a.ActOnCard(e.ctx, e.follower, c.ID, 1)
		wantCode(t, err, regulars.ENOTFOUND)
		// A card without words shows in the conversation lists by its name.
		if _, err := e.a.SendAgentMessage(e.ctx, ann, c.ID, app.AgentMessage{EngagementID: coupon.ID}); err != nil {
			t.Fatal(err)
		}
		if conv, err := db.FollowerConversation(e.ctx, e.follower.Follower.ID, c.ID); err != nil || conv.LastPreview != "🎁 Free coffee" {
			t.Fatalf("preview %q %v", conv.LastPreview, err)
		}
	})
}

// The size limit is said as file managers show sizes: 10 MiB is "10 MB",
// not the "10.5 MB" a decimal rendering gives, which a 10.5 MB file would
// read as its own size.
func TestAttachmentTooLargeSaysTheLimit(t *testing.T) {
	for _, tc := range []struct {
		max  int64
		want string
	}{
		{0, "The file is larger than the 10 MB limit: send a smaller one."},
		{25 << 20, "The file is larger than the 25 MB limit: send a smaller one."},
		{1500, "The file is larger than the 1.5 kB limit: send a smaller one."},
	} {
		a := &app.App{ChatMaxAttachment: tc.max}
		err := a.AttachmentTooLarge()
		if regulars.ErrorMessage(err) != tc.want || regulars.FieldErrors(err)["file"] != tc.want {
			t.Errorf("limit %d: %v, file %q; want %q", tc.max, err, regulars.FieldErrors(err)["file"], tc.want)
		}
	}
}

// Agents find a follower by name whatever the accents and case they type:
// "muller" finds Lena Müller, "LENA MÜLLER" too.
func TestChatSearchIgnoresAccents(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := newChatEnv(t, db)
		ann := e.agent(e.w.Partner.ID, "Ann", regulars.LevelUpdate)
		lena := e.w.AddFollower(t, "LENA01", []*regulars.Channel{e.w.Channel}, func(f *regulars.Follower) { f.Name = "Lena Müller" })
		if _, _, err := e.a.FollowerSend(e.ctx, &app.FollowerActor{Follower: lena, Tenant: e.w.Tenant}, e.w.Channel.ID, app.FollowerMessage{Text: "Hallo!"}); err != nil {
			t.Fatal(err)
		}
		e.write("Hi") // Mia's, which no search below finds
		for _, q := range []string{"muller", "Müller", "LENA MÜLLER", "lena01"} {
			list, _, err := e.a.Conversations(e.ctx, ann, app.ConversationQuery{Tab: "unanswered", Search: q})
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != 1 || list[0].FollowerID != lena.ID {
				t.Errorf("searching %q found %d conversations, want Lena's", q, len(list))
			}
		}
	})
}

// A message card opens as often as the follower likes: the thread says
// once that they opened it, not once per tap (nor does a script tapping
// it fill the thread past the chat's rate).
func TestMessageCardOpensOnce(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := newChatEnv(t, db)
		ann := e.agent(e.w.Partner.ID, "Ann", regulars.LevelUpdate)
		msg := &regulars.Engagement{TenantID: e.w.Tenant.ID, PartnerID: e.w.Partner.ID, ChannelID: e.w.Channel.ID, Kind: regulars.KindMessage,
			Name: "Autumn menu", Message: &regulars.MessageSpec{Text: "Pumpkin spice is back.", Link: "https://example.com/menu", Recurring: regulars.RecurOnce}}
		if err := db.CreateEngagement(e.ctx, msg); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SetEngagementStatus(e.ctx, msg.ID, regulars.EngagementDraft, regulars.EngagementActive, db.Clock.Now()); err != nil {
			t.Fatal(err)
		}
		c := e.write("What's new?")
		card, err := e.a.SendAgentMessage(e.ctx, ann, c.ID, app.AgentMessage{EngagementID: msg.ID})
		if err != nil {
			t.Fatal(err)
		}
		cards := map[int64]*regulars.Engagement{msg.ID: msg}
		if got, err := e.a.CardsDone(e.ctx, e.follower.Follower.ID, c.ID, cards); err != nil || got[msg.ID] {
			t.Fatalf("done before opening: %v %v", got, err)
		}
		for range 3 {
			done, err := e.a.ActOnCard(e.ctx, e.follower, c.ID, card.Seq)
			if err != nil || done == nil || done.Engagement.ID != msg.ID {
				t.Fatalf("open: %+v %v", done, err)
			}
		}
		lines := 0
		for _, l := range e.thread(ann, c.ID) {
			if l == "[activity] Mia opened Autumn menu" {
				lines++
			}
		}
		if lines != 1 {
			t.Errorf("%d lines say Mia opened the message, want 1: %q", lines, e.thread(ann, c.ID))
		}
		// Opened, its cards in this thread show it open (after a reload
		// too); a thread where it was not opened still offers it.
		if got, err := e.a.CardsDone(e.ctx, e.follower.Follower.ID, c.ID, cards); err != nil || !got[msg.ID] {
			t.Fatalf("done after opening: %v %v", got, err)
		}
		if got, err := e.a.CardsDone(e.ctx, e.follower.Follower.ID, c.ID+1000, cards); err != nil || got[msg.ID] {
			t.Fatalf("done in another conversation: %v %v", got, err)
		}
	})
}

// A follower's message sent again with its client_id is stored once and
// answered with what was stored; the same client_id on another message is
// refused, rather than answered as if that one had been sent.
func TestFollowerClientIDNamesOneMessage(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := newChatEnv(t, db)
		c, first, err := e.a.FollowerSend(e.ctx, e.follower, e.w.Channel.ID, app.FollowerMessage{Text: "Hello", ClientID: "k1"})
		if err != nil {
			t.Fatal(err)
		}
		_, again, err := e.a.FollowerSendTo(e.ctx, e.follower, c.ID, app.FollowerMessage{Text: "Hello", ClientID: "k1"})
		if err != nil || again.Seq != first.Seq {
			t.Fatalf("the same message again: %+v %v", again, err)
		}
		_, _, err = e.a.FollowerSendTo(e.ctx, e.follower, c.ID, app.FollowerMessage{Text: "Something else", ClientID: "k1"})
		wantCode(t, err, regulars.ECONFLICT)
		_, _, err = e.a.FollowerSend(e.ctx, e.follower, e.w.Channel.ID, app.FollowerMessage{Text: "Something else", ClientID: "k1"})
		wantCode(t, err, regulars.ECONFLICT)
		if after, err := db.FollowerConversation(e.ctx, e.follower.Follower.ID, c.ID); err != nil || after.LastSeq != first.Seq {
			t.Fatalf("last seq %d, want %d: %v", after.LastSeq, first.Seq, err)
		}
	})
}
