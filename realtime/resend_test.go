package realtime_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"regulars"
	"regulars/httpx"
	"regulars/internal/testenv"
	"regulars/store"
)

// A send over the sender's rate that retries a message stored before (its
// client_id, its answer lost to a dropped connection) is answered with
// that message, as it would be within the rate, over the WebSocket and
// the API, for followers and agents; a new message over the rate is still
// refused, and nothing is stored twice.
func TestResendOverTheRateGetsTheStoredMessage(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		// Five sends, then none for minutes: no token comes back while
		// the test runs.
		w.srv.App.ChatSends = httpx.NewLimiter(0.001, 5)
		_, annHeader := w.agent(w.w.Partner.ID, "ann@alpha.example", regulars.LevelUpdate)
		_, token := w.follower("mia@example.com")
		f := dial(t, "mia", w.srv.URL, nil, "?token="+url.QueryEscape(token))
		a := dial(t, "ann", w.srv.URL, annHeader, "")
		f.await("hello", isHello)
		a.await("hello", isHello)

		send := func(c *client, req map[string]any) frame {
			t.Helper()
			ref, _ := req["client_id"].(string)
			req["type"], req["ref"] = "send", ref+"-ref"
			c.send(req)
			return c.await("the answer to "+ref, func(f frame) bool { return f.Ref == ref+"-ref" })
		}
		stored := func(got frame) int64 {
			t.Helper()
			if got.Type != "ack" || got.Message == nil {
				t.Fatalf("%+v, want an ack with the message", got)
			}
			return got.Message.Seq
		}
		tooMany := func(got frame) {
			t.Helper()
			if got.Type != "error" || got.Code != regulars.ETOOMANY {
				t.Fatalf("%+v, want too many", got)
			}
		}
		api := func(tok, path, body string) (int, int64) {
			t.Helper()
			req, err := http.NewRequest("POST", w.srv.URL+path, strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("Content-Type", "application/json")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var sent struct{ Message struct{ Seq int64 } }
			json.NewDecoder(res.Body).Decode(&sent)
			return res.StatusCode, sent.Message.Seq
		}

		// The follower: five sent, the sixth refused.
		first := send(f, map[string]any{"channel_id": w.w.Channel.ID, "text": "m1", "client_id": "f1"})
		conv := first.Conversation.ID
		seq1 := stored(first)
		seq := map[int]int64{1: seq1}
		for i := 2; i <= 5; i++ {
			seq[i] = stored(send(f, map[string]any{"conversation_id": conv, "text": fmt.Sprint("m", i), "client_id": fmt.Sprint("f", i)}))
		}
		tooMany(send(f, map[string]any{"channel_id": w.w.Channel.ID, "text": "m6", "client_id": "f6"}))
		// Retries of stored ones get them, by channel or by conversation;
		// the refused one is refused again.
		if got := stored(send(f, map[string]any{"channel_id": w.w.Channel.ID, "text": "m1", "client_id": "f1"})); got != seq1 {
			t.Fatalf("the retry of m1 got message %d, want %d", got, seq1)
		}
		if got := stored(send(f, map[string]any{"conversation_id": conv, "text": "m3", "client_id": "f3"})); got != seq[3] {
			t.Fatalf("the retry of m3 got message %d, want %d", got, seq[3])
		}
		tooMany(send(f, map[string]any{"channel_id": w.w.Channel.ID, "text": "m6", "client_id": "f6"}))
		tooMany(send(f, map[string]any{"channel_id": w.w.Channel.ID, "text": "No key"}))
		chat := fmt.Sprintf("/api/v1/follower/channels/%d/chat", w.w.Channel.ID)
		if code, got := api(token, chat, `{"text":"m1","client_id":"f1"}`); code != http.StatusCreated || got != seq1 {
			t.Fatalf("the API's retry of m1: %d, message %d; want 201, %d", code, got, seq1)
		}
		if code, _ := api(token, chat, `{"text":"m6","client_id":"f6"}`); code != http.StatusTooManyRequests {
			t.Fatalf("the API's new message over the rate: %d, want 429", code)
		}
		// The look-ups have a rate of their own (here five too): a flood
		// of retries over the rate does not reach the database each.
		tooMany(send(f, map[string]any{"conversation_id": conv, "text": "m2", "client_id": "f2"}))

		// The agent: the same.
		a1 := stored(send(a, map[string]any{"conversation_id": conv, "text": "a1", "client_id": "a1"}))
		for i := 2; i <= 5; i++ {
			stored(send(a, map[string]any{"conversation_id": conv, "text": fmt.Sprint("a", i), "client_id": fmt.Sprint("a", i)}))
		}
		tooMany(send(a, map[string]any{"conversation_id": conv, "text": "a6", "client_id": "a6"}))
		if got := stored(send(a, map[string]any{"conversation_id": conv, "text": "a1", "client_id": "a1"})); got != a1 {
			t.Fatalf("the agent's retry got message %d, want %d", got, a1)
		}
		// Not theirs to retry: the follower's message.
		tooMany(send(a, map[string]any{"conversation_id": conv, "text": "m1", "client_id": "f1"}))
		annIn, _ := w.session("ann@alpha.example")
		_, annToken, err := w.srv.App.CreateAPIToken(w.ctx, annIn, "retries")
		if err != nil {
			t.Fatal(err)
		}
		if code, got := api(annToken, fmt.Sprintf("/api/v1/chat/conversations/%d/messages", conv), `{"text":"a1","client_id":"a1"}`); code != http.StatusCreated || got != a1 {
			t.Fatalf("the agent's API retry: %d, message %d; want 201, %d", code, got, a1)
		}

		msgs, err := db.ChatMessagesAfter(w.ctx, conv, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		var texts []string
		for _, m := range msgs {
			if m.Kind != regulars.MessageSystem {
				texts = append(texts, m.Text)
			}
		}
		if got := strings.Join(texts, ", "); got != "m1, m2, m3, m4, m5, a1, a2, a3, a4, a5" {
			t.Fatalf("stored: %s", got)
		}
	})
}
