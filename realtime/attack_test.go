package realtime_test

import (
	"net/url"
	"testing"
	"time"

	"regulars"
	"regulars/app"
	"regulars/internal/testenv"
	"regulars/store"
)

func isHello(f frame) bool { return f.Type == "hello" }

// refusal sends req and returns the error frame answering it (by its ref).
func (c *client) refusal(req map[string]any) frame {
	c.t.Helper()
	c.send(req)
	ref := req["ref"].(string)
	f := c.await("the answer to "+ref, func(f frame) bool { return f.Ref == ref })
	if f.Type != "error" {
		c.t.Fatalf("%s: %s was answered %+v, want a refusal", c.name, ref, f)
	}
	return f
}

// A role lowered, or a user moved to a role without chat, takes effect on
// their open connections at once: no send slips through on the identity
// checked at connect, and no event reaches an agent who lost the chat.
func TestRoleChangesReachOpenConnections(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ann, annHeader := w.agent(w.w.Partner.ID, "ann@alpha.example", regulars.LevelUpdate)
		bob, bobHeader := w.agent(w.w.Partner.ID, "bob@alpha.example", regulars.LevelUpdate)
		fa, _ := w.follower("mia@example.com")
		conv, _, err := w.srv.App.FollowerSend(w.ctx, fa, w.w.Channel.ID, app.FollowerMessage{Text: "Hi"})
		if err != nil {
			t.Fatal(err)
		}
		owner, _ := w.session(w.w.Owner.Email)
		a := dial(t, "ann", w.srv.URL, annHeader, "")
		a.await("hello", isHello)
		b := dial(t, "bob", w.srv.URL, bobHeader, "")
		b.await("hello", isHello)

		// Ann's role lowered to view only: her next send is refused.
		if _, err := w.srv.App.UpdateRole(w.ctx, owner, ann.RoleID, app.RoleInput{Name: "Role for " + ann.Email, Permissions: regulars.Permissions{regulars.FeatureChat: regulars.LevelView}}); err != nil {
			t.Fatal(err)
		}
		if e := a.refusal(map[string]any{"type": "send", "conversation_id": conv.ID, "text": "Still mine?", "ref": "s1"}); e.Code != regulars.EFORBIDDEN {
			t.Fatalf("a send after the role was lowered: %+v", e)
		}
		if e := a.refusal(map[string]any{"type": "take", "conversation_id": conv.ID, "ref": "t1"}); e.Code != regulars.EFORBIDDEN {
			t.Fatalf("a take after the role was lowered: %+v", e)
		}
		// … and still reads.
		a.send(map[string]any{"type": "sync", "conversation_id": conv.ID, "ref": "r1"})
		a.await("history", func(f frame) bool { return f.Type == "synced" && f.Ref == "r1" })

		// Her role loses the chat: the connection closes.
		if _, err := w.srv.App.UpdateRole(w.ctx, owner, ann.RoleID, app.RoleInput{Name: "Role for " + ann.Email, Permissions: regulars.Permissions{}}); err != nil {
			t.Fatal(err)
		}
		a.closedWith(4403)

		// Bob moved to a role without chat: his closes too.
		noChat := &regulars.Role{TenantID: w.w.Tenant.ID, PartnerID: w.w.Partner.ID, Name: "Books only", Permissions: regulars.Permissions{regulars.FeatureDashboard: regulars.LevelView}}
		if err := db.CreateRole(w.ctx, noChat); err != nil {
			t.Fatal(err)
		}
		if _, err := w.srv.App.UpdateUser(w.ctx, owner, bob.ID, app.UserInput{Name: bob.Name, Email: bob.Email, RoleID: noChat.ID}); err != nil {
			t.Fatal(err)
		}
		b.closedWith(4403)
	})
}

// A password change ends the user's other sessions, and their live
// connections with them; the session that changed it goes on.
func TestPasswordChangeClosesOtherConnections(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ann, _ := w.agent(w.w.Partner.ID, "ann@alpha.example", regulars.LevelUpdate)
		here, hereHeader := w.session(ann.Email)
		_, otherHeader := w.session(ann.Email)
		c := dial(t, "here", w.srv.URL, hereHeader, "")
		c.await("hello", isHello)
		o := dial(t, "other", w.srv.URL, otherHeader, "")
		o.await("hello", isHello)
		if err := w.srv.App.ChangeOwnPassword(w.ctx, here, testenv.Password, "a new long passphrase 42", "a new long passphrase 42"); err != nil {
			t.Fatal(err)
		}
		o.closedWith(4403)
		c.send(map[string]any{"type": "ping", "ref": "p"})
		c.await("pong", func(f frame) bool { return f.Type == "pong" })
	})
}

// Over the WebSocket, another partner's agent and another follower of the
// same tenant find nothing of a conversation: every request naming it is
// not found, and none of its events reach them. A view-only agent is
// refused every change.
func TestWebSocketRequestsStayInTheirScope(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ann, annHeader := w.agent(w.w.Partner.ID, "ann@alpha.example", regulars.LevelUpdate)
		_, veraHeader := w.agent(w.w.Partner.ID, "vera@alpha.example", regulars.LevelView)
		_, ottoHeader := w.agent(w.w.OtherPartner.ID, "otto@beta.example", regulars.LevelManage)
		fa, _ := w.follower("mia@example.com")
		_, leoToken := w.follower("leo@example.com")
		conv, _, err := w.srv.App.FollowerSend(w.ctx, fa, w.w.Channel.ID, app.FollowerMessage{Text: "Hi"})
		if err != nil {
			t.Fatal(err)
		}
		otto := dial(t, "otto", w.srv.URL, ottoHeader, "")
		otto.await("hello", isHello)
		leo := dial(t, "leo", w.srv.URL, nil, "?token="+url.QueryEscape(leoToken))
		leo.await("hello", isHello)
		vera := dial(t, "vera", w.srv.URL, veraHeader, "")
		vera.await("hello", isHello)

		for _, c := range []*client{otto, leo} {
			for _, req := range []map[string]any{
				{"type": "sync", "conversation_id": conv.ID},
				{"type": "send", "conversation_id": conv.ID, "text": "Gotcha", "client_id": "x1"},
				{"type": "read", "conversation_id": conv.ID, "seq": 1},
				{"type": "typing", "conversation_id": conv.ID},
			} {
				req["ref"] = c.name + "-" + req["type"].(string)
				if e := c.refusal(req); e.Code != regulars.ENOTFOUND {
					t.Fatalf("%s: %s of another's conversation: %+v, want not_found", c.name, req["type"], e)
				}
			}
		}
		for _, typ := range []string{"take", "finish"} {
			if e := otto.refusal(map[string]any{"type": typ, "conversation_id": conv.ID, "ref": "otto-" + typ}); e.Code != regulars.ENOTFOUND {
				t.Fatalf("otto: %s of another partner's conversation: %+v, want not_found", typ, e)
			}
		}
		for _, req := range []map[string]any{
			{"type": "take", "conversation_id": conv.ID},
			{"type": "finish", "conversation_id": conv.ID},
			{"type": "typing", "conversation_id": conv.ID},
			{"type": "send", "conversation_id": conv.ID, "text": "x", "overtake_from": ann.ID},
		} {
			req["ref"] = "vera-" + req["type"].(string)
			if e := vera.refusal(req); e.Code != regulars.EFORBIDDEN {
				t.Fatalf("view only: %s: %+v, want forbidden", req["type"], e)
			}
		}

		// Ann answers Mia: neither Otto nor Leo hears of it.
		a := dial(t, "ann", w.srv.URL, annHeader, "")
		a.await("hello", isHello)
		a.send(map[string]any{"type": "send", "conversation_id": conv.ID, "text": "Hello Mia", "ref": "a1"})
		a.await("ack", func(f frame) bool { return f.Type == "ack" && f.Ref == "a1" })
		vera.await("Ann's answer", isMessage("Hello Mia"))
		for _, c := range []*client{otto, leo} {
			c.quiet(300*time.Millisecond, "another's message", func(f frame) bool { return f.Type == "message" || f.Type == "typing" })
		}
	})
}

// A follower who unfollowed the channel can no longer write or type into
// their conversation with it over the WebSocket (they still read it).
func TestUnfollowedChannelTakesNoMessages(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		fa, token := w.follower("mia@example.com")
		conv, _, err := w.srv.App.FollowerSend(w.ctx, fa, w.w.Channel.ID, app.FollowerMessage{Text: "Hi"})
		if err != nil {
			t.Fatal(err)
		}
		m := dial(t, "mia", w.srv.URL, nil, "?token="+url.QueryEscape(token))
		m.await("hello", isHello)
		if err := w.srv.App.Unfollow(w.ctx, fa, w.w.Channel.ID); err != nil {
			t.Fatal(err)
		}
		for _, req := range []map[string]any{
			{"type": "send", "conversation_id": conv.ID, "text": "Still there?", "client_id": "u1"},
			{"type": "send", "channel_id": w.w.Channel.ID, "text": "Still there?", "client_id": "u2"},
			{"type": "typing", "conversation_id": conv.ID},
		} {
			req["ref"] = req["client_id"]
			if req["ref"] == nil {
				req["ref"] = "typing"
			}
			if e := m.refusal(req); e.Code != regulars.ECONFLICT {
				t.Fatalf("%v after unfollowing: %+v, want conflict", req, e)
			}
		}
		m.send(map[string]any{"type": "sync", "conversation_id": conv.ID, "ref": "s"})
		m.await("history", func(f frame) bool { return f.Type == "synced" && len(f.Messages) == 1 })
	})
}
