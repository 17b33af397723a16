package realtime_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"regulars"
	"regulars/app"
	"regulars/internal/testenv"
	"regulars/store"
)

// TestOddRequestsAreAnswered sends an agent's and a follower's
// connection every request type with members a client could get wrong:
// ids that name nothing, another partner's conversation, negative or
// huge numbers, empty, blank, over-long and NUL-holding text. Each must
// be answered with its ref (an ack or a refusal saying why, never an
// internal error), the connection must stay open, and nothing refused may
// add a message to the conversation.
func TestOddRequestsAreAnswered(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		_, agentHeader := w.agent(w.w.Partner.ID, "ann@alpha.example", regulars.LevelManage)
		fa, token := w.follower("mia@example.com")
		conv, _, err := w.srv.App.FollowerSend(w.ctx, fa, w.w.Channel.ID, app.FollowerMessage{Text: "Hello?"})
		if err != nil {
			t.Fatal(err)
		}
		// A conversation of the other partner, which neither may reach.
		otherFA, _ := w.follower("otto@example.com")
		if _, err := w.srv.App.Follow(w.ctx, otherFA, w.w.OtherChannel.ID); err != nil {
			t.Fatal(err)
		}
		foreign, _, err := w.srv.App.FollowerSend(w.ctx, otherFA, w.w.OtherChannel.ID, app.FollowerMessage{Text: "Elsewhere"})
		if err != nil {
			t.Fatal(err)
		}

		ids := []int64{0, -1, 1 << 62, foreign.ID}
		texts := []string{"", "   ", strings.Repeat("x", 4001), "a\x00b"}
		numbers := []int64{-1, 1 << 62}
		var requests []map[string]any
		for _, typ := range []string{"sync", "send", "take", "finish", "read", "typing", "auth", "", "SEND", "subscribe"} {
			for _, id := range ids {
				requests = append(requests, map[string]any{"type": typ, "conversation_id": id})
			}
			for _, n := range numbers {
				requests = append(requests, map[string]any{"type": typ, "channel_id": n})
			}
			if typ == "take" || typ == "finish" {
				continue // of the follower's conversation, they would rightly take or finish it
			}
			for _, n := range numbers {
				requests = append(requests, map[string]any{"type": typ, "conversation_id": conv.ID, "seq": n, "after_seq": n, "engagement_id": n, "overtake_from": n})
			}
			for _, text := range texts {
				requests = append(requests, map[string]any{"type": typ, "conversation_id": conv.ID, "text": text, "client_id": text})
			}
		}

		for _, side := range []struct {
			name string
			dial func() *client
		}{
			{"agent", func() *client { return dial(t, "ann", w.srv.URL, agentHeader, "") }},
			{"follower", func() *client { return dial(t, "mia", w.srv.URL, nil, "?token="+url.QueryEscape(token)) }},
		} {
			c := side.dial()
			c.await("hello", func(f frame) bool { return f.Type == "hello" })
			for i, req := range requests {
				ref := fmt.Sprintf("%s-%d", side.name, i)
				req["ref"] = ref
				c.send(req)
				got := c.await("the answer to "+ref, func(f frame) bool { return f.Ref == ref })
				raw, _ := json.Marshal(req)
				if len(raw) > 200 {
					raw = append(raw[:200], "…"...)
				}
				switch {
				case got.Type == "error" && (got.Code == regulars.EINTERNAL || got.Detail == ""):
					t.Errorf("%s %s: %+v, want a refusal saying why", side.name, raw, got)
				case got.Type != "error" && got.Type != "ack" && got.Type != "synced":
					t.Errorf("%s %s: answered %q", side.name, raw, got.Type)
				}
			}
			c.send(map[string]any{"type": "ping", "ref": "still"})
			c.await("pong after the odd requests", func(f frame) bool { return f.Type == "pong" && f.Ref == "still" })
		}

		// None of them stored a message, nor changed either conversation.
		for _, tc := range []struct {
			c    *regulars.Conversation
			name string
		}{{conv, "the follower's"}, {foreign, "the other partner's"}} {
			after, err := db.Conversation(w.ctx, tc.c.PartnerID, tc.c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if after.LastSeq != tc.c.LastSeq || after.Status != tc.c.Status || after.OwnerID != tc.c.OwnerID {
				t.Errorf("%s conversation after odd requests: seq %d, %s, owner %d; want seq %d, %s, owner %d",
					tc.name, after.LastSeq, after.Status, after.OwnerID, tc.c.LastSeq, tc.c.Status, tc.c.OwnerID)
			}
		}
	})
}
