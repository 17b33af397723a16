package realtime_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"regulars"
	"regulars/app"
	"regulars/events"
	"regulars/internal/testenv"
	"regulars/realtime"
	"regulars/store"
	"regulars/web"

	"github.com/coder/websocket"
)

// frame is what the server pushes, decoded loosely for assertions.
type frame struct {
	Type         string              `json:"type"`
	Ref          string              `json:"ref"`
	Role         string              `json:"role"`
	Code         string              `json:"code"`
	Detail       string              `json:"detail"`
	Author       string              `json:"author"`
	Name         string              `json:"name"`
	FollowerID   int64               `json:"follower_id"`
	More         bool                `json:"more"`
	Owner        *struct{ ID int64 } `json:"owner"`
	Conversation *struct {
		ID     int64  `json:"id"`
		Status string `json:"status"`
		Owner  *struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
		} `json:"owner"`
		LastSeq int64 `json:"last_seq"`
	} `json:"conversation"`
	Message  *message  `json:"message"`
	Messages []message `json:"messages"`
	Channel  *struct {
		ID          int64 `json:"id"`
		ChatEnabled bool  `json:"chat_enabled"`
		Following   *bool `json:"following"`
	} `json:"channel"`
}

type message struct {
	Seq    int64  `json:"seq"`
	Author string `json:"author"`
	Kind   string `json:"kind"`
	Text   string `json:"text"`
	Event  string `json:"event"`
	// Engagement cards.
	Engagement *struct {
		ID   int64 `json:"id"`
		Done bool  `json:"done"`
	} `json:"engagement"`
}

// client is a WebSocket connection of a test, with the frames it received.
type client struct {
	t      *testing.T
	name   string
	ws     *websocket.Conn
	frames chan frame
	done   chan error // the close error, once closed
}

func dial(t *testing.T, name, base string, header http.Header, query string) *client {
	t.Helper()
	u := "ws" + strings.TrimPrefix(base, "http") + realtime.Path + query
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: header})
	if err != nil {
		t.Fatalf("%s: dial: %v", name, err)
	}
	ws.SetReadLimit(1 << 20) // a sync of long messages is larger than the library's 32 KiB default
	c := &client{t: t, name: name, ws: ws, frames: make(chan frame, 256), done: make(chan error, 1)}
	go func() {
		for {
			_, data, err := ws.Read(context.Background())
			if err != nil {
				c.done <- err
				close(c.frames)
				return
			}
			// Frames that waited together come in one message, a line each.
			for line := range bytes.SplitSeq(data, []byte("\n")) {
				var f frame
				if err := json.Unmarshal(line, &f); err != nil {
					t.Errorf("%s: %s: %v", name, line, err)
				}
				c.frames <- f
			}
		}
	}()
	t.Cleanup(func() { ws.Close(websocket.StatusNormalClosure, "") })
	return c
}

func (c *client) send(v any) {
	c.t.Helper()
	b, _ := json.Marshal(v)
	if err := c.ws.Write(context.Background(), websocket.MessageText, b); err != nil {
		c.t.Fatalf("%s: write: %v", c.name, err)
	}
}

// await returns the first frame matching ok, failing after 5 seconds.
func (c *client) await(what string, ok func(frame) bool) frame {
	c.t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case f, open := <-c.frames:
			if !open {
				c.t.Fatalf("%s: closed while waiting for %s: %v", c.name, what, <-c.done)
			}
			if ok(f) {
				return f
			}
		case <-timeout:
			c.t.Fatalf("%s: no %s within 5 s", c.name, what)
		}
	}
}

// quiet fails if a frame matching bad arrives within d.
func (c *client) quiet(d time.Duration, what string, bad func(frame) bool) {
	c.t.Helper()
	timeout := time.After(d)
	for {
		select {
		case f, open := <-c.frames:
			if !open {
				return
			}
			if bad(f) {
				c.t.Fatalf("%s: received %s: %+v", c.name, what, f)
			}
		case <-timeout:
			return
		}
	}
}

// closedWith waits for the server to close the connection with code.
func (c *client) closedWith(code websocket.StatusCode) {
	c.t.Helper()
	for {
		select {
		case _, open := <-c.frames:
			if open {
				continue
			}
			err := <-c.done
			if got := websocket.CloseStatus(err); got != code {
				c.t.Fatalf("%s: closed with %v (%v), want %d", c.name, got, err, code)
			}
			return
		case <-time.After(5 * time.Second):
			c.t.Fatalf("%s: still open, want it closed with %d", c.name, code)
		}
	}
}

func isMessage(text string) func(frame) bool {
	return func(f frame) bool { return f.Type == "message" && f.Message != nil && f.Message.Text == text }
}

// world is a server with a follower token and signed-in agents.
type world struct {
	t   *testing.T
	srv *testenv.Server
	w   *testenv.World
	ctx context.Context
}

func newWorld(t *testing.T, db *store.DB) *world {
	w := testenv.NewWorld(t, db)
	return &world{t: t, srv: testenv.NewServer(t, db), w: w, ctx: context.Background()}
}

// agent adds a user of partnerID with level on chat and returns the
// session cookie header of a browser signed in as them (same origin).
func (w *world) agent(partnerID int64, email string, level regulars.Level) (*regulars.User, http.Header) {
	w.t.Helper()
	u := w.w.AddUser(w.t, partnerID, email, regulars.Permissions{regulars.FeatureChat: level})
	c := w.srv.SignedIn(w.t, email)
	base, _ := url.Parse(w.srv.URL)
	for _, ck := range c.Jar.Cookies(base) {
		if ck.Name == web.SessionCookie {
			return u, http.Header{"Cookie": {ck.Name + "=" + ck.Value}, "Origin": {w.srv.URL}}
		}
	}
	w.t.Fatal("no session cookie")
	return nil, nil
}

// session signs email in as a browser does: its actor, and the session
// cookie header of a same-origin connection.
func (w *world) session(email string) (*app.Actor, http.Header) {
	w.t.Helper()
	res, err := w.srv.App.SignIn(w.ctx, email, testenv.Password, "127.0.0.1", "test")
	if err != nil {
		w.t.Fatal(err)
	}
	return res.Actor, http.Header{"Cookie": {web.SessionCookie + "=" + res.Secret}, "Origin": {w.srv.URL}}
}

// follower signs a new follower up, following partner A's channel.
func (w *world) follower(email string) (*app.FollowerActor, string) {
	w.t.Helper()
	s, err := w.srv.App.SignUpFollower(w.ctx, app.SignUpInput{Tenant: "test", Password: testenv.Password, ProfileInput: app.ProfileInput{Name: "Mia", Email: email}})
	if err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.srv.App.Follow(w.ctx, s.Actor, w.w.Channel.ID); err != nil {
		w.t.Fatal(err)
	}
	return s.Actor, s.Token
}

func TestLiveChatAcrossAgentsAndFollower(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ann, annHeader := w.agent(w.w.Partner.ID, "ann@alpha.example", regulars.LevelUpdate)
		bob, bobHeader := w.agent(w.w.Partner.ID, "bob@alpha.example", regulars.LevelUpdate)
		_, otherHeader := w.agent(w.w.OtherPartner.ID, "otto@beta.example", regulars.LevelManage)
		_, token := w.follower("mia@example.com")

		a := dial(t, "ann", w.srv.URL, annHeader, "")
		b := dial(t, "bob", w.srv.URL, bobHeader, "")
		other := dial(t, "otto", w.srv.URL, otherHeader, "")
		f := dial(t, "mia", w.srv.URL, nil, "")
		f.send(map[string]any{"type": "auth", "token": token})
		for _, c := range []*client{a, b, other, f} {
			c.await("hello", func(f frame) bool { return f.Type == "hello" })
		}

		// The follower writes: both agents see an unanswered conversation.
		f.send(map[string]any{"type": "send", "channel_id": w.w.Channel.ID, "text": "Hello?", "client_id": "m1", "ref": "1"})
		ack := f.await("ack", func(f frame) bool { return f.Type == "ack" && f.Ref == "1" })
		convID := ack.Conversation.ID
		for _, c := range []*client{a, b} {
			got := c.await("the follower's message", isMessage("Hello?"))
			if got.Conversation.Status != regulars.ConversationUnanswered {
				t.Fatalf("%s sees %s", c.name, got.Conversation.Status)
			}
		}

		// Typing reaches the agents.
		f.send(map[string]any{"type": "typing", "conversation_id": convID})
		a.await("typing", func(f frame) bool { return f.Type == "typing" && f.Author == "follower" })

		// Ann answers and owns it; the follower sees her join, then the answer.
		a.send(map[string]any{"type": "send", "conversation_id": convID, "text": "Hi, Ann here", "ref": "a1"})
		a.await("ack", func(f frame) bool { return f.Type == "ack" && f.Ref == "a1" })
		f.await("Ann joined", func(f frame) bool {
			return f.Type == "message" && f.Message.Kind == regulars.MessageSystem && f.Message.Text == "User ann@alpha.example joined the conversation"
		})
		f.await("Ann's answer", isMessage("Hi, Ann here"))
		b.await("the owner change", func(f frame) bool {
			return f.Type == "message" && f.Conversation.Owner != nil && f.Conversation.Owner.ID == ann.ID
		})

		// Bob is warned with Ann as the owner, confirms, and Ann sees it move.
		b.send(map[string]any{"type": "send", "conversation_id": convID, "text": "Bob here", "ref": "b1"})
		warn := b.await("the warning", func(f frame) bool { return f.Type == "error" && f.Ref == "b1" })
		if warn.Code != regulars.ECONFLICT || warn.Owner == nil || warn.Owner.ID != ann.ID || !strings.Contains(warn.Detail, "ann@alpha.example") {
			t.Fatalf("warning %+v", warn)
		}
		b.send(map[string]any{"type": "send", "conversation_id": convID, "text": "Bob here", "ref": "b2", "overtake_from": ann.ID})
		b.await("ack", func(f frame) bool { return f.Type == "ack" && f.Ref == "b2" })
		a.await("the overtake", func(f frame) bool {
			return f.Type == "message" && f.Message.Event == regulars.ChatOvertake && f.Conversation.Owner.ID == bob.ID
		})

		// Another partner's agent heard nothing of it.
		other.quiet(200*time.Millisecond, "another partner's event", func(f frame) bool { return f.Type == "message" || f.Type == "typing" })
	})
}

// Typing goes where it means something: the follower hears of the agent
// who answers them, not of a colleague writing in another's conversation;
// a follower who cannot send (the chat is off) is not heard typing.
func TestTypingReachesWhoItShould(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ann, annHeader := w.agent(w.w.Partner.ID, "ann@alpha.example", regulars.LevelUpdate)
		bob, bobHeader := w.agent(w.w.Partner.ID, "bob@alpha.example", regulars.LevelUpdate)
		fa, token := w.follower("mia@example.com")
		conv, _, err := w.srv.App.FollowerSend(w.ctx, fa, w.w.Channel.ID, app.FollowerMessage{Text: "Hello?"})
		if err != nil {
			t.Fatal(err)
		}
		a := dial(t, "ann", w.srv.URL, annHeader, "")
		b := dial(t, "bob", w.srv.URL, bobHeader, "")
		f := dial(t, "mia", w.srv.URL, nil, "?token="+url.QueryEscape(token))
		for _, c := range []*client{a, b, f} {
			c.await("hello", func(f frame) bool { return f.Type == "hello" })
		}
		a.send(map[string]any{"type": "send", "conversation_id": conv.ID, "text": "Hi, Ann here", "ref": "a1"})
		a.await("ack", func(f frame) bool { return f.Type == "ack" && f.Ref == "a1" })
		typing := func(name string) func(frame) bool {
			return func(f frame) bool { return f.Type == "typing" && f.Name == name }
		}

		b.send(map[string]any{"type": "typing", "conversation_id": conv.ID})
		a.await("Bob typing, to his colleague", typing(bob.Name))
		f.quiet(300*time.Millisecond, "a non-owner's typing", typing(bob.Name))
		a.send(map[string]any{"type": "typing", "conversation_id": conv.ID})
		f.await("the owner typing", typing(ann.Name))

		ch := *w.w.Channel
		ch.ChatEnabled = false
		if err := db.UpdateChannel(w.ctx, &ch); err != nil {
			t.Fatal(err)
		}
		f.send(map[string]any{"type": "typing", "conversation_id": conv.ID, "ref": "t"})
		refused := f.await("the refusal", func(f frame) bool { return f.Type == "error" && f.Ref == "t" })
		if refused.Code != regulars.ECONFLICT {
			t.Fatalf("typing with the chat off: %+v", refused)
		}
		a.quiet(300*time.Millisecond, "typing of a follower who cannot send", func(f frame) bool { return f.Type == "typing" && f.Author == "follower" })
	})
}

// A follower's new name reaches the agents of the partners they talk to,
// and only them; the same name again says nothing.
func TestRenameReachesAgents(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		_, annHeader := w.agent(w.w.Partner.ID, "ann@alpha.example", regulars.LevelView)
		_, otherHeader := w.agent(w.w.OtherPartner.ID, "otto@beta.example", regulars.LevelManage)
		fa, _ := w.follower("mia@example.com")
		if _, _, err := w.srv.App.FollowerSend(w.ctx, fa, w.w.Channel.ID, app.FollowerMessage{Text: "Hello?"}); err != nil {
			t.Fatal(err)
		}
		a := dial(t, "ann", w.srv.URL, annHeader, "")
		other := dial(t, "otto", w.srv.URL, otherHeader, "")
		for _, c := range []*client{a, other} {
			c.await("hello", func(f frame) bool { return f.Type == "hello" })
		}
		profile := func(f frame) bool { return f.Type == "profile" }
		rename := func(name string) {
			t.Helper()
			if _, err := w.srv.App.UpdateFollowerProfile(w.ctx, fa, app.ProfileInput{Name: name, Email: fa.Follower.Email}); err != nil {
				t.Fatal(err)
			}
		}
		rename("Mia Rossi")
		got := a.await("the new name", profile)
		if got.FollowerID != fa.Follower.ID || got.Name != "Mia Rossi" {
			t.Fatalf("profile frame %+v", got)
		}
		other.quiet(200*time.Millisecond, "another partner's follower's name", profile)
		rename("Mia Rossi")
		a.quiet(200*time.Millisecond, "an unchanged name", profile)
		rename("")
		if got := a.await("the name removed", profile); got.Name != fa.Follower.EndUserID {
			t.Fatalf("a removed name is sent as %q, want the end-user ID %q", got.Name, fa.Follower.EndUserID)
		}
	})
}

// A client that drops and comes back catches up from the last message it
// holds: nothing lost, nothing twice.
func TestResumeAfterDrop(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		_, annHeader := w.agent(w.w.Partner.ID, "ann@alpha.example", regulars.LevelUpdate)
		fa, token := w.follower("mia@example.com")
		conv, _, err := w.srv.App.FollowerSend(w.ctx, fa, w.w.Channel.ID, app.FollowerMessage{Text: "one"})
		if err != nil {
			t.Fatal(err)
		}
		f := dial(t, "mia", w.srv.URL, nil, "?token="+url.QueryEscape(token))
		f.await("hello", func(f frame) bool { return f.Type == "hello" && f.Role == "follower" })
		a := dial(t, "ann", w.srv.URL, annHeader, "")
		a.await("hello", func(f frame) bool { return f.Type == "hello" && f.Role == "agent" })
		a.send(map[string]any{"type": "send", "conversation_id": conv.ID, "text": "two", "ref": "x"})
		last := f.await("two", isMessage("two")).Message.Seq // 1 one, 2 take, 3 two

		f.ws.Close(websocket.StatusNormalClosure, "network drop")
		for _, text := range []string{"three", "four", "five"} {
			a.send(map[string]any{"type": "send", "conversation_id": conv.ID, "text": text})
		}
		a.await("five", isMessage("five"))

		f2 := dial(t, "mia again", w.srv.URL, nil, "?token="+url.QueryEscape(token))
		f2.await("hello", func(f frame) bool { return f.Type == "hello" })
		f2.send(map[string]any{"type": "sync", "conversation_id": conv.ID, "after_seq": last, "ref": "s"})
		got := f2.await("synced", func(f frame) bool { return f.Type == "synced" })
		var texts []string
		for i, m := range got.Messages {
			if m.Seq != last+int64(i)+1 {
				t.Fatalf("sync gave seq %d at %d", m.Seq, i)
			}
			texts = append(texts, m.Text)
		}
		if strings.Join(texts, ",") != "three,four,five" || got.More {
			t.Fatalf("caught up with %v (more %v), want three,four,five", texts, got.More)
		}
	})
}

// Catching up from the start on a long backlog of long messages comes in
// pages the client's queue holds, from the first message, each saying
// whether more follow, until the client has every message once.
func TestSyncPagesALongBacklog(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		fa, token := w.follower("mia@example.com")
		long := strings.Repeat("é", regulars.MaxChatText-4)
		conv, _, err := w.srv.App.FollowerSend(w.ctx, fa, w.w.Channel.ID, app.FollowerMessage{Text: "0001" + long})
		if err != nil {
			t.Fatal(err)
		}
		const total = 520
		for i := 2; i <= total; i++ {
			if _, _, err := w.srv.App.FollowerSendTo(w.ctx, fa, conv.ID, app.FollowerMessage{Text: fmt.Sprintf("%04d", i) + long}); err != nil {
				t.Fatal(err)
			}
		}
		f := dial(t, "mia", w.srv.URL, nil, "?token="+url.QueryEscape(token))
		f.await("hello", func(f frame) bool { return f.Type == "hello" })
		after, pages := int64(0), 0
		for {
			ref := fmt.Sprint("page", pages)
			f.send(map[string]any{"type": "sync", "conversation_id": conv.ID, "after_seq": after, "ref": ref})
			got := f.await("synced "+ref, func(f frame) bool { return f.Type == "synced" && f.Ref == ref })
			pages++
			if len(got.Messages) == 0 {
				t.Fatalf("page %d after %d is empty (more %v)", pages, after, got.More)
			}
			for _, m := range got.Messages {
				if m.Seq != after+1 || !strings.HasPrefix(m.Text, fmt.Sprintf("%04d", m.Seq)) {
					t.Fatalf("page %d: seq %d (%.4s…) after %d", pages, m.Seq, m.Text, after)
				}
				after = m.Seq
			}
			if !got.More {
				break
			}
		}
		if after != total || pages < 4 {
			t.Fatalf("caught up to %d of %d in %d pages, want all in several pages", after, total, pages)
		}
		select {
		case err := <-f.done:
			t.Fatalf("the connection closed while catching up: %v", err)
		default:
		}
	})
}

// A follower catching up on a conversation sees which cards they have
// acted on: the coupon they enabled is done, not offered again.
func TestSyncedCardsDone(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		_, annHeader := w.agent(w.w.Partner.ID, "ann@alpha.example", regulars.LevelUpdate)
		fa, token := w.follower("mia@example.com")
		conv, _, err := w.srv.App.FollowerSend(w.ctx, fa, w.w.Channel.ID, app.FollowerMessage{Text: "Any offers?"})
		if err != nil {
			t.Fatal(err)
		}
		var coupons []int64
		for _, name := range []string{"Free coffee", "Free cake"} {
			c := &regulars.Engagement{TenantID: w.w.Tenant.ID, PartnerID: w.w.Partner.ID, ChannelID: w.w.Channel.ID, Kind: regulars.KindCoupon,
				Name: name, Status: regulars.EngagementActive, Coupon: &regulars.CouponSpec{RedemptionType: regulars.RedeemClick}}
			if err := db.CreateEngagement(w.ctx, c); err != nil {
				t.Fatal(err)
			}
			coupons = append(coupons, c.ID)
		}
		a := dial(t, "ann", w.srv.URL, annHeader, "")
		a.await("hello", func(f frame) bool { return f.Type == "hello" })
		var seqs []int64
		for i, id := range coupons {
			ref := fmt.Sprint("card", i)
			a.send(map[string]any{"type": "send", "conversation_id": conv.ID, "engagement_id": id, "ref": ref})
			seqs = append(seqs, a.await("ack", func(f frame) bool { return f.Type == "ack" && f.Ref == ref }).Message.Seq)
		}
		if _, err := w.srv.App.ActOnCard(w.ctx, fa, conv.ID, seqs[0]); err != nil {
			t.Fatal(err)
		}
		f := dial(t, "mia", w.srv.URL, nil, "?token="+url.QueryEscape(token))
		f.await("hello", func(f frame) bool { return f.Type == "hello" })
		f.send(map[string]any{"type": "sync", "conversation_id": conv.ID, "after_seq": 0, "ref": "s"})
		got := f.await("synced", func(f frame) bool { return f.Type == "synced" })
		done := map[int64]bool{}
		for _, m := range got.Messages {
			if m.Engagement != nil {
				done[m.Engagement.ID] = m.Engagement.Done
			}
		}
		if len(done) != 2 || !done[coupons[0]] || done[coupons[1]] {
			t.Fatalf("cards done %v, want only the enabled coupon %d", done, coupons[0])
		}

		// Cards sent while the follower is connected arrive marked the
		// same way; agents' copies carry no follower state.
		_, bobHeader := w.agent(w.w.Partner.ID, "bob@alpha.example", regulars.LevelUpdate)
		b := dial(t, "bob", w.srv.URL, bobHeader, "")
		b.await("hello", func(f frame) bool { return f.Type == "hello" })
		for i, id := range coupons {
			ref := fmt.Sprint("live", i)
			a.send(map[string]any{"type": "send", "conversation_id": conv.ID, "engagement_id": id, "ref": ref})
			seq := a.await("ack", func(f frame) bool { return f.Type == "ack" && f.Ref == ref }).Message.Seq
			card := func(f frame) bool { return f.Type == "message" && f.Message != nil && f.Message.Seq == seq }
			live := f.await("live card", card)
			if live.Message.Engagement == nil || live.Message.Engagement.Done != (i == 0) {
				t.Fatalf("live card for coupon %d: %+v, want done %v", id, live.Message.Engagement, i == 0)
			}
			if staff := b.await("agent's card", card); staff.Message.Engagement == nil || staff.Message.Engagement.Done {
				t.Fatalf("another agent's copy of the card: %+v, want the card without follower state", staff.Message.Engagement)
			}
		}
	})
}

func TestConnectionAuthorization(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		_, annHeader := w.agent(w.w.Partner.ID, "ann@alpha.example", regulars.LevelUpdate)
		vera, veraHeader := w.agent(w.w.Partner.ID, "vera@alpha.example", regulars.LevelView)
		_, noChat := w.agent(w.w.Partner.ID, "nochat@alpha.example", regulars.LevelNone)
		fa, _ := w.follower("mia@example.com")
		conv, _, err := w.srv.App.FollowerSend(w.ctx, fa, w.w.Channel.ID, app.FollowerMessage{Text: "Hi"})
		if err != nil {
			t.Fatal(err)
		}

		// The session cookie from another site signs nobody in (the
		// connection then waits for a token, and anything else closes it).
		evil := annHeader.Clone()
		evil.Set("Origin", "https://evil.example")
		c := dial(t, "cross-site", w.srv.URL, evil, "")
		c.send(map[string]any{"type": "sync", "conversation_id": conv.ID})
		c.closedWith(realtime.CodeUnauthorized)

		// A bad token, and a role without chat, are refused.
		dial(t, "bad token", w.srv.URL, nil, "?token=rgf_nope").closedWith(realtime.CodeUnauthorized)
		dial(t, "no chat", w.srv.URL, noChat, "").closedWith(realtime.CodeRevoked)

		// View only: reads live, cannot answer.
		v := dial(t, "vera", w.srv.URL, veraHeader, "")
		v.await("hello", func(f frame) bool { return f.Type == "hello" })
		v.send(map[string]any{"type": "send", "conversation_id": conv.ID, "text": "x", "ref": "v"})
		if e := v.await("refusal", func(f frame) bool { return f.Type == "error" }); e.Code != regulars.EFORBIDDEN {
			t.Fatalf("view-only send: %+v", e)
		}
		v.send(map[string]any{"type": "sync", "conversation_id": conv.ID, "ref": "s"})
		v.await("history", func(f frame) bool { return f.Type == "synced" && len(f.Messages) == 1 })

		// Disabling a user closes their connections at once.
		a := dial(t, "ann", w.srv.URL, annHeader, "")
		a.await("hello", func(f frame) bool { return f.Type == "hello" })
		owner, _ := w.session(w.w.Owner.Email)
		if err := w.srv.App.SetUserEnabled(w.ctx, owner, vera.ID, false); err != nil {
			t.Fatal(err)
		}
		v.closedWith(realtime.CodeRevoked)
		a.send(map[string]any{"type": "ping", "ref": "p"})
		a.await("pong", func(f frame) bool { return f.Type == "pong" })
	})
}

// Two buses on one PostgreSQL database stand for two app nodes: an event
// published on one reaches the other's subscribers, large ones too.
func TestPGBusAcrossNodes(t *testing.T) {
	db1 := testenv.OpenPostgres(t)
	db2, err := store.Open(context.Background(), db1.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	log := testenv.Logger(t)
	n1, n2 := realtime.NewPGBus(db1, log), realtime.NewPGBus(db2, log)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go n1.Run(ctx)
	go n2.Run(ctx)
	for _, n := range []*realtime.PGBus{n1, n2} {
		select {
		case <-n.Ready():
		case <-time.After(10 * time.Second):
			t.Fatal("a node does not listen")
		}
	}
	got1, got2 := make(chan string, 10), make(chan string, 10)
	n1.Subscribe("partner:1", func(ev events.Event) { got1 <- string(ev.Data) })
	n2.Subscribe("partner:1", func(ev events.Event) { got2 <- string(ev.Data) })
	big := fmt.Sprintf(`{"text":%q}`, strings.Repeat("é", 9000))
	for _, data := range []string{`{"n":1}`, big, `{"n":3}`} {
		if err := n1.Publish(ctx, events.Event{Topic: "partner:1", Data: []byte(data)}); err != nil {
			t.Fatal(err)
		}
	}
	for i, want := range []string{`{"n":1}`, big, `{"n":3}`} {
		for _, ch := range []chan string{got1, got2} {
			select {
			case got := <-ch:
				if got != want {
					t.Fatalf("event %d: got %d bytes, want %d", i, len(got), len(want))
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("event %d did not arrive", i)
			}
		}
	}
	// Each node delivers each event once: its own notifications are skipped.
	select {
	case got := <-got1:
		t.Fatalf("node 1 got an event twice: %.40s", got)
	case <-time.After(300 * time.Millisecond):
	}
	if err := n1.Publish(ctx, events.Event{Topic: "partner:1", Data: []byte("not json")}); err == nil {
		t.Fatal("a non-JSON event was published")
	}
}

// A connection that never signs in is closed after the time to sign in,
// with the protocol's code, so that the client knows to sign in.
func TestUnsignedConnectionClosesWith4401(t *testing.T) {
	w := newWorld(t, testenv.OpenSQLite(t))
	hub := realtime.NewHub(w.srv.App, testenv.Logger(t), realtime.Options{AuthTimeout: 200 * time.Millisecond})
	mux := http.NewServeMux()
	hub.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c := dial(t, "nobody", srv.URL, nil, "")
	c.closedWith(realtime.CodeUnauthorized)
}

// A client that floods the chat is slowed down, with a reason it can show.
func TestSendingIsRateLimited(t *testing.T) {
	w := newWorld(t, testenv.OpenSQLite(t))
	_, token := w.follower("mia@example.com")
	f := dial(t, "mia", w.srv.URL, nil, "?token="+url.QueryEscape(token))
	f.await("hello", func(f frame) bool { return f.Type == "hello" })
	for i := range 30 {
		f.send(map[string]any{"type": "send", "channel_id": w.w.Channel.ID, "text": fmt.Sprint("flood ", i), "ref": fmt.Sprint(i)})
	}
	acks, refused := 0, 0
	for acks+refused < 30 {
		got := f.await("an answer", func(f frame) bool { return f.Type == "ack" || f.Type == "error" })
		if got.Type == "ack" {
			acks++
		} else if got.Code == regulars.ETOOMANY {
			refused++
		} else {
			t.Fatalf("error %+v", got)
		}
	}
	if acks < 20 || refused == 0 {
		t.Fatalf("%d sent and %d refused of 30 at once, want the burst of 20 through and the rest refused", acks, refused)
	}
	// The limit is the follower's, not the connection's: a second
	// connection and the API are refused too.
	f2 := dial(t, "mia again", w.srv.URL, nil, "?token="+url.QueryEscape(token))
	f2.await("hello", func(f frame) bool { return f.Type == "hello" })
	f2.send(map[string]any{"type": "send", "channel_id": w.w.Channel.ID, "text": "from a second tab", "ref": "x"})
	if got := f2.await("an answer", func(f frame) bool { return f.Ref == "x" }); got.Code != regulars.ETOOMANY {
		t.Fatalf("a second connection's send: %+v, want too many", got)
	}
	req, err := http.NewRequest("POST", fmt.Sprintf("%s/api/v1/follower/channels/%d/chat", w.srv.URL, w.w.Channel.ID), strings.NewReader(`{"text":"from the API"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("the API's send after the flood: %d, want 429", res.StatusCode)
	}
}

// Ending a session or a token closes the connections it signed in, at
// once and only those: signing out other sessions, revoking a token, a
// follower signing out.
func TestEndedSignInsCloseTheirConnections(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ann, _ := w.agent(w.w.Partner.ID, "ann@alpha.example", regulars.LevelUpdate)
		_, laptopHeader := w.session(ann.Email)
		phone, phoneHeader := w.session(ann.Email)
		tok, secret, err := w.srv.App.CreateAPIToken(w.ctx, phone, "script")
		if err != nil {
			t.Fatal(err)
		}
		hello := func(f frame) bool { return f.Type == "hello" }
		laptop := dial(t, "laptop", w.srv.URL, laptopHeader, "")
		laptop.await("hello", hello)
		onPhone := dial(t, "phone", w.srv.URL, phoneHeader, "")
		onPhone.await("hello", hello)
		script := dial(t, "script", w.srv.URL, nil, "?token="+url.QueryEscape(secret))
		script.await("hello", hello)
		alive := func(c *client) {
			t.Helper()
			c.send(map[string]any{"type": "ping", "ref": "alive"})
			c.await("pong", func(f frame) bool { return f.Type == "pong" && f.Ref == "alive" })
		}

		if err := w.srv.App.SignOutOthers(w.ctx, phone); err != nil {
			t.Fatal(err)
		}
		laptop.closedWith(realtime.CodeRevoked)
		alive(onPhone)
		alive(script)

		if err := w.srv.App.DeleteAPIToken(w.ctx, phone, tok.ID); err != nil {
			t.Fatal(err)
		}
		script.closedWith(realtime.CodeRevoked)
		alive(onPhone)

		_, token := w.follower("mia@example.com")
		mia := dial(t, "mia", w.srv.URL, nil, "?token="+url.QueryEscape(token))
		mia.await("hello", hello)
		fa, err := w.srv.App.AuthenticateFollower(w.ctx, token) // as the API signs her out
		if err != nil {
			t.Fatal(err)
		}
		if err := w.srv.App.SignOutFollower(w.ctx, fa); err != nil {
			t.Fatal(err)
		}
		mia.closedWith(realtime.CodeRevoked)

		// Suspending the partner closes its agents' connections.
		op, _ := w.session(w.w.Operator.Email)
		if _, err := w.srv.App.SetPartnerSuspended(w.ctx, op, w.w.Partner.ID, true); err != nil {
			t.Fatal(err)
		}
		onPhone.closedWith(realtime.CodeRevoked)
	})
}

// A request with a member of the wrong type is answered with its ref and
// the member named, so that the client waiting for it learns why at once;
// it changes nothing.
func TestMalformedRequestsAreAnsweredWithTheirRef(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		fa, token := w.follower("mia@example.com")
		conv, _, err := w.srv.App.FollowerSend(w.ctx, fa, w.w.Channel.ID, app.FollowerMessage{Text: "Hi"})
		if err != nil {
			t.Fatal(err)
		}
		f := dial(t, "mia", w.srv.URL, nil, "?token="+token)
		f.await("hello", func(f frame) bool { return f.Type == "hello" })

		for _, tc := range []struct {
			raw, ref, detail string
		}{
			{fmt.Sprintf(`{"type":"send","conversation_id":"%d","text":"Hello","client_id":"c1","ref":"r1"}`, conv.ID), "r1", "Member conversation_id must be an integer."},
			{fmt.Sprintf(`{"type":"send","conversation_id":%d,"text":12,"ref":"r2"}`, conv.ID), "r2", "Member text must be a string."},
			{fmt.Sprintf(`{"type":"read","conversation_id":%d,"seq":"1","ref":"r3"}`, conv.ID), "r3", "Member seq must be an integer."},
		} {
			if err := f.ws.Write(w.ctx, websocket.MessageText, []byte(tc.raw)); err != nil {
				t.Fatal(err)
			}
			got := f.await("the refusal of "+tc.ref, func(f frame) bool { return f.Type == "error" })
			if got.Ref != tc.ref || got.Code != "bad_request" || got.Detail != tc.detail {
				t.Errorf("%s: %+v, want ref %s and %q", tc.raw, got, tc.ref, tc.detail)
			}
		}
		// A conversation and a channel: which was meant is not guessed.
		f.send(map[string]any{"type": "send", "conversation_id": conv.ID, "channel_id": w.w.OtherChannel.ID, "text": "Where?", "ref": "both"})
		if got := f.await("the answer to both ids", func(f frame) bool { return f.Ref == "both" }); got.Type != "error" || got.Code != regulars.EINVALID {
			t.Errorf("a send naming a conversation and a channel: %+v, want it refused", got)
		}
		// Not an object: refused without a ref to give.
		f.ws.Write(w.ctx, websocket.MessageText, []byte(`[1,2]`))
		if got := f.await("the refusal of an array", func(f frame) bool { return f.Type == "error" }); got.Detail != `Send a JSON object, such as {"type":"ping"}.` {
			t.Errorf("array: %+v", got)
		}
		after, err := w.srv.App.FollowerConversation(w.ctx, fa, conv.ID)
		if err != nil {
			t.Fatal(err)
		}
		if after.LastSeq != conv.LastSeq {
			t.Errorf("last seq %d after malformed requests, want %d", after.LastSeq, conv.LastSeq)
		}
	})
}

// "typing" is answered like the other requests when it carries a ref: an
// ack, also when it is not passed on again so soon, or the refusal.
func TestTypingIsAnswered(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		fa, token := w.follower("mia@example.com")
		conv, _, err := w.srv.App.FollowerSend(w.ctx, fa, w.w.Channel.ID, app.FollowerMessage{Text: "Hello?"})
		if err != nil {
			t.Fatal(err)
		}
		f := dial(t, "mia", w.srv.URL, nil, "?token="+url.QueryEscape(token))
		f.await("hello", func(f frame) bool { return f.Type == "hello" })
		for _, ref := range []string{"t1", "t2"} {
			f.send(map[string]any{"type": "typing", "conversation_id": conv.ID, "ref": ref})
			if got := f.await("the answer to "+ref, func(f frame) bool { return f.Ref == ref }); got.Type != "ack" {
				t.Errorf("typing %s: %+v, want an ack", ref, got)
			}
		}
		f.send(map[string]any{"type": "typing", "conversation_id": conv.ID + 1000, "ref": "t3"})
		if got := f.await("the answer to t3", func(f frame) bool { return f.Ref == "t3" }); got.Type != "error" || got.Code != regulars.ENOTFOUND {
			t.Errorf("typing in another's conversation: %+v, want not found", got)
		}
	})
}

// A connection flooding requests other than sends (each reads the
// database) is refused past its burst, with the refusal answering the
// request; pings and sends, held to their own limits, still go through.
func TestRequestFloodIsRefused(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		fa, token := w.follower("mia@example.com")
		conv, msg, err := w.srv.App.FollowerSend(w.ctx, fa, w.w.Channel.ID, app.FollowerMessage{Text: "Hello?"})
		if err != nil {
			t.Fatal(err)
		}
		f := dial(t, "mia", w.srv.URL, nil, "?token="+url.QueryEscape(token))
		f.await("hello", func(f frame) bool { return f.Type == "hello" })
		const n = 300
		for i := range n {
			f.send(map[string]any{"type": "read", "conversation_id": conv.ID, "seq": msg.Seq, "ref": fmt.Sprint("r", i)})
		}
		acks, refused := 0, 0
		for acks+refused < n {
			got := f.await("an answer to a read", func(f frame) bool { return strings.HasPrefix(f.Ref, "r") })
			switch {
			case got.Type == "ack":
				acks++
			case got.Type == "error" && got.Code == regulars.ETOOMANY:
				refused++
			default:
				t.Fatalf("answer %+v", got)
			}
		}
		if acks < 200 || refused == 0 {
			t.Fatalf("%d reads answered, %d refused: want the burst of 200 answered and the rest refused", acks, refused)
		}
		f.send(map[string]any{"type": "ping", "ref": "p"})
		f.await("the pong", func(f frame) bool { return f.Type == "pong" && f.Ref == "p" })
		f.send(map[string]any{"type": "send", "conversation_id": conv.ID, "text": "Still here", "ref": "s"})
		if got := f.await("the send's answer", func(f frame) bool { return f.Ref == "s" }); got.Type != "ack" {
			t.Fatalf("a send after the flood: %+v", got)
		}
	})
}
