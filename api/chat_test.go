package api_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"regulars"
	"regulars/api"
	"regulars/app"
	"regulars/internal/testenv"
	"regulars/store"
)

// conversation is the fixture follower's conversation with partner A's
// channel, with a fresh message from the follower.
func conversation(e *env) map[string]int64 {
	followedChannel(e)
	c, _, err := e.app.FollowerSend(e.ctx, e.followerActor(), e.w.Channel.ID, app.FollowerMessage{Text: fmt.Sprintf("Fixture %d", e.next())})
	if err != nil {
		e.t.Fatal(err)
	}
	return map[string]int64{"id": c.ID}
}

func conversationChannel(e *env) map[string]int64 {
	conversation(e)
	return map[string]int64{"id": e.w.Channel.ID}
}

// ownerAnswers makes partner A's owner answer (and own) the conversation.
func ownerAnswers(e *env, id int64, in app.AgentMessage) *regulars.ChatMessage {
	c, err := e.app.Conversation(e.ctx, e.owner(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	in.OvertakeFrom = c.OwnerID
	m, err := e.app.SendAgentMessage(e.ctx, e.owner(), id, in)
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

// finishedConversation is finished, so finishing it again is a conflict
// for anyone allowed to try.
func finishedConversation(e *env) map[string]int64 {
	id := conversation(e)["id"]
	ownerAnswers(e, id, app.AgentMessage{Text: "Done"})
	if _, err := e.app.FinishConversation(e.ctx, e.owner(), id); err != nil {
		e.t.Fatal(err)
	}
	return map[string]int64{"id": id}
}

func engagementCard(e *env) map[string]int64 {
	coupon := liveCoupon(e)["id"]
	id := conversation(e)["id"]
	m := ownerAnswers(e, id, app.AgentMessage{EngagementID: coupon})
	return map[string]int64{"id": id, "seq": m.Seq}
}

var pngBytes = append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{1}, 100)...)

func attachment(e *env) map[string]int64 {
	conversation(e)
	_, m, err := e.app.FollowerSendAttachment(e.ctx, e.followerActor(), e.w.Channel.ID, app.Upload{Name: "fixture.png", Body: bytes.NewReader(pngBytes)}, "")
	if err != nil {
		e.t.Fatal(err)
	}
	return map[string]int64{"id": m.AttachmentID}
}

func cannedCategory(e *env) map[string]int64 { return cannedCategoryOf(e, e.w.Partner.ID) }

func cannedResponse(e *env) map[string]int64 { return cannedResponseOf(e, e.w.Partner.ID) }

// The tenant's defaults (partner 0).
func defaultCannedCategory(e *env) map[string]int64 { return cannedCategoryOf(e, 0) }

func defaultCannedResponse(e *env) map[string]int64 { return cannedResponseOf(e, 0) }

func cannedCategoryOf(e *env, partnerID int64) map[string]int64 {
	c := &regulars.CannedCategory{TenantID: e.w.Tenant.ID, PartnerID: partnerID, Name: fmt.Sprintf("Fixture %d", e.next())}
	if err := e.db.CreateCannedCategory(e.ctx, c); err != nil {
		e.t.Fatal(err)
	}
	return map[string]int64{"id": c.ID}
}

func cannedResponseOf(e *env, partnerID int64) map[string]int64 {
	cat := cannedCategoryOf(e, partnerID)["id"]
	r := &regulars.CannedResponse{TenantID: e.w.Tenant.ID, PartnerID: partnerID, CategoryID: cat, Title: "Fixture", Text: "Hello"}
	if err := e.db.CreateCanned(e.ctx, r); err != nil {
		e.t.Fatal(err)
	}
	return map[string]int64{"id": r.ID}
}

// upload posts a file body as is, the way the attachment routes take it.
func (e *env) upload(token, path, contentType string, body []byte) *response {
	e.t.Helper()
	req, err := http.NewRequestWithContext(e.ctx, "POST", e.url+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return &response{Response: res, body: data}
}

// The chat through the JSON API, both sides; every answer is checked
// against the OpenAPI document.
func TestChatAPI(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		followedChannel(e)
		fan := e.followerToken()
		ann := e.token(e.userWith(e.w.Partner.ID, regulars.Permissions{regulars.FeatureChat: regulars.LevelUpdate}))
		bobUser := e.userWith(e.w.Partner.ID, regulars.Permissions{regulars.FeatureChat: regulars.LevelUpdate, regulars.FeatureCanned: regulars.LevelView})
		bob := e.token(bobUser)
		annUser := e.userWith(e.w.Partner.ID, regulars.Permissions{regulars.FeatureChat: regulars.LevelUpdate})

		var sent api.Sent
		r := e.must(http.StatusCreated, fan, "POST", fmt.Sprintf("/api/v1/follower/channels/%d/chat", e.w.Channel.ID), map[string]any{"text": "Hello", "client_id": "c1"})
		r.decode(t, &sent)
		if sent.Conversation.Status != regulars.ConversationUnanswered || sent.Message.Seq != 1 || r.Header.Get("Location") == "" {
			t.Fatalf("first message: %+v (Location %q)", sent, r.Header.Get("Location"))
		}
		conv := fmt.Sprintf("/api/v1/chat/conversations/%d", sent.Conversation.ID)
		var list api.ConversationList
		e.must(http.StatusOK, bob, "GET", "/api/v1/chat/conversations?tab=unanswered", nil).decode(t, &list)
		if len(list.Items) != 1 || list.Items[0].Unread != 1 || list.Counts.Unanswered != 1 || list.Items[0].Follower == nil {
			t.Fatalf("unanswered tab: %+v", list)
		}
		e.must(http.StatusBadRequest, bob, "GET", conv+"/messages?after=x", nil)

		e.must(http.StatusCreated, ann, "POST", conv+"/messages", map[string]any{"text": "Hi, Ann here"})
		p := e.must(http.StatusConflict, bob, "POST", conv+"/messages", map[string]any{"text": "Bob here"}).problem(t)
		if p.Owner == nil || p.Owner.ID != annUser.ID {
			t.Fatalf("409 problem %+v, want the owner", p)
		}
		e.must(http.StatusCreated, bob, "POST", conv+"/messages", map[string]any{"text": "Bob here", "overtake_from": annUser.ID})

		// A picture up and down; only those who see the conversation get it.
		img := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{7}, 300)...)
		var att api.Sent
		e.upload(bob, conv+"/attachments?name=map.png&text=Here", "image/png", img).decode(t, &att)
		if att.Message.Attachment == nil || att.Message.Attachment.ContentType != "image/png" || att.Message.Text != "Here" {
			t.Fatalf("attachment: %+v", att.Message)
		}
		path := fmt.Sprintf("/attachments/%d", att.Message.Attachment.ID)
		got := e.must(http.StatusOK, ann, "GET", "/api/v1/chat"+path, nil)
		if !bytes.Equal(got.body, img) || got.Header.Get("Content-Type") != "image/png" || got.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("download: %d bytes, %s", len(got.body), got.Header.Get("Content-Type"))
		}
		e.must(http.StatusOK, fan, "GET", "/api/v1/follower"+path, nil)
		e.must(http.StatusNotFound, e.token(e.w.OtherOwner), "GET", "/api/v1/chat"+path, nil)
		e.must(http.StatusUnprocessableEntity, bob, "POST", conv+"/attachments?name=x.txt", "just text")

		// The follower reads it all, system lines in their words.
		var msgs api.ChatMessageList
		e.must(http.StatusOK, fan, "GET", fmt.Sprintf("/api/v1/follower/conversations/%d/messages", sent.Conversation.ID), nil).decode(t, &msgs)
		var texts []string
		for _, m := range msgs.Items {
			texts = append(texts, m.Text)
		}
		want := []string{"Hello", annUser.Name + " joined the conversation", "Hi, Ann here", bobUser.Name + " joined the conversation", "Bob here", "Here"}
		if strings.Join(texts, "|") != strings.Join(want, "|") {
			t.Fatalf("the follower reads %q, want %q", texts, want)
		}
		// A coupon card: once the follower has enabled it, their list of
		// messages says so (a reload shows it done, not offered again).
		coupon := liveCoupon(e)["id"]
		var card api.Sent
		e.must(http.StatusCreated, bob, "POST", conv+"/messages", map[string]any{"engagement_id": coupon}).decode(t, &card)
		cardDone := func() bool {
			t.Helper()
			var msgs api.ChatMessageList
			e.must(http.StatusOK, fan, "GET", fmt.Sprintf("/api/v1/follower/conversations/%d/messages", sent.Conversation.ID), nil).decode(t, &msgs)
			for _, m := range msgs.Items {
				if m.Seq == card.Message.Seq {
					if m.Engagement == nil || m.Engagement.ID != coupon {
						t.Fatalf("the card: %+v", m)
					}
					return m.Engagement.Done
				}
			}
			t.Fatal("the card is not listed")
			return false
		}
		if cardDone() {
			t.Fatal("a card not acted on is done")
		}
		act := fmt.Sprintf("/api/v1/follower/conversations/%d/cards/%d/act", sent.Conversation.ID, card.Message.Seq)
		e.must(http.StatusOK, fan, "POST", act, nil)
		if !cardDone() {
			t.Fatal("the enabled coupon's card is not done")
		}
		// Still offered to send (a reminder), marked done.
		var offer api.EngagementCardList
		e.must(http.StatusOK, bob, "GET", conv+"/engagements?kind=coupon", nil).decode(t, &offer)
		if len(offer.Items) != 1 || offer.Items[0].ID != coupon || !offer.Items[0].Done {
			t.Fatalf("engagements to send after enabling: %+v", offer.Items)
		}
		// Pressed again: it says the coupon is enabled, and the agents'
		// thread gets no second activity line for nothing new.
		lines := func() (n int) {
			var msgs api.ChatMessageList
			e.must(http.StatusOK, fan, "GET", fmt.Sprintf("/api/v1/follower/conversations/%d/messages", sent.Conversation.ID), nil).decode(t, &msgs)
			for _, m := range msgs.Items {
				if m.Event == regulars.ChatActivity {
					n++
				}
			}
			return n
		}
		before := lines()
		var again api.CardResult
		e.must(http.StatusOK, fan, "POST", act, nil).decode(t, &again)
		if again.MyActivation == nil || lines() != before || before != 1 {
			t.Fatalf("acting again: %+v, activity lines %d then %d, want the activation and one line", again, before, lines())
		}

		e.must(http.StatusOK, bob, "POST", conv+"/finish", nil)
		e.must(http.StatusConflict, bob, "POST", conv+"/finish", nil)
	})
}

// Agents racing to answer the same unanswered conversation with real
// concurrent requests: exactly one takes it, every other one gets the 409
// naming the winner.
func TestChatTakeRaceOverHTTP(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		const n = 6
		agents := make([]*regulars.User, n)
		tokens := make([]string, n)
		for i := range agents {
			agents[i] = e.userWith(e.w.Partner.ID, regulars.Permissions{regulars.FeatureChat: regulars.LevelUpdate, regulars.FeatureMessages: regulars.Level(i % 2), regulars.FeatureDashboard: regulars.Level(i / 2)})
			tokens[i] = e.token(agents[i])
		}
		id := conversation(e)["id"]
		path := fmt.Sprintf("/api/v1/chat/conversations/%d/messages", id)
		start := make(chan struct{})
		results := make([]*response, n)
		var wg sync.WaitGroup
		for i := range agents {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				results[i] = e.call(tokens[i], "POST", path, map[string]any{"text": "Mine"})
			}()
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, r := range results {
			if r.StatusCode == http.StatusCreated {
				if winner >= 0 {
					t.Fatalf("two agents took the conversation")
				}
				winner = i
			}
		}
		if winner < 0 {
			t.Fatal("nobody took the conversation")
		}
		for i, r := range results {
			if i == winner {
				continue
			}
			if r.StatusCode != http.StatusConflict {
				t.Fatalf("agent %d: %d %s", i, r.StatusCode, r.body)
			}
			if p := r.problem(t); p.Owner == nil || p.Owner.ID != agents[winner].ID {
				t.Fatalf("agent %d's warning names %+v, want the winner", i, p.Owner)
			}
		}
	})
}

// The platform's default canned responses over the API: the tenant's
// operator manages them under /api/v1/tenant, every partner's agents list
// them (marked default) and cannot change them, another tenant does not
// find them, and bad input stores nothing.
func TestTenantCannedDefaults(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		op := e.token(e.w.Operator)
		r := e.call(op, "POST", "/api/v1/tenant/canned-categories", map[string]string{"name": "Greetings"})
		var cat api.CannedCategory
		r.decode(t, &cat)
		if r.StatusCode != http.StatusCreated || !cat.Default || r.Header.Get("Location") != fmt.Sprintf("/api/v1/tenant/canned-categories/%d", cat.ID) {
			t.Fatalf("create category: %d %+v at %q", r.StatusCode, cat, r.Header.Get("Location"))
		}
		if r := e.call(op, "POST", "/api/v1/tenant/canned-responses", map[string]any{"category_id": cat.ID, "title": "", "text": "Hi"}); r.StatusCode != http.StatusUnprocessableEntity || r.problem(t).Errors["title"] == "" {
			t.Fatalf("an empty title: %d %s", r.StatusCode, r.body)
		}
		r = e.call(op, "POST", "/api/v1/tenant/canned-responses", map[string]any{"category_id": cat.ID, "title": "Welcome", "text": "Welcome! How can we help?"})
		var resp api.CannedResponse
		r.decode(t, &resp)
		if r.StatusCode != http.StatusCreated || !resp.Default || r.Header.Get("Location") != fmt.Sprintf("/api/v1/tenant/canned-responses/%d", resp.ID) {
			t.Fatalf("create response: %d %+v at %q", r.StatusCode, resp, r.Header.Get("Location"))
		}
		var list api.CannedList
		e.call(op, "GET", "/api/v1/tenant/canned-responses", nil).decode(t, &list)
		if len(list.Items) != 1 || len(list.Items[0].Responses) != 1 {
			t.Fatalf("the operator lists %+v, want the one default (the empty title stored nothing)", list)
		}

		// A partner's agents see it, marked default, and cannot change it.
		owner := e.token(e.w.Owner)
		e.call(owner, "GET", "/api/v1/canned-responses", nil).decode(t, &list)
		found := false
		for _, c := range list.Items {
			for _, x := range c.Responses {
				found = found || (x.ID == resp.ID && x.Default && c.Default)
			}
		}
		if !found {
			t.Fatalf("the partner's list lacks the default: %+v", list)
		}
		if r := e.call(owner, "PATCH", fmt.Sprintf("/api/v1/canned-responses/%d", resp.ID), map[string]string{"text": "Mine now"}); r.StatusCode != http.StatusNotFound {
			t.Fatalf("a partner changing a default: %d", r.StatusCode)
		}
		if r := e.call(owner, "POST", "/api/v1/canned-responses", map[string]any{"category_id": cat.ID, "title": "Sneak", "text": "x"}); r.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("a partner filing into a default category: %d", r.StatusCode)
		}
		// Another tenant's operator does not find it.
		other := e.token(e.w.OtherTenantOperator)
		if r := e.call(other, "DELETE", fmt.Sprintf("/api/v1/tenant/canned-responses/%d", resp.ID), nil); r.StatusCode != http.StatusNotFound {
			t.Fatalf("another tenant deleting it: %d", r.StatusCode)
		}
		// The operator changes and deletes it; a category with responses stays.
		r = e.call(op, "PATCH", fmt.Sprintf("/api/v1/tenant/canned-responses/%d", resp.ID), map[string]string{"text": "Hello there!"})
		r.decode(t, &resp)
		if r.StatusCode != http.StatusOK || resp.Text != "Hello there!" {
			t.Fatalf("change: %d %+v", r.StatusCode, resp)
		}
		if r := e.call(op, "DELETE", fmt.Sprintf("/api/v1/tenant/canned-categories/%d", cat.ID), nil); r.StatusCode != http.StatusConflict {
			t.Fatalf("deleting a category with a response: %d", r.StatusCode)
		}
		if r := e.call(op, "DELETE", fmt.Sprintf("/api/v1/tenant/canned-responses/%d", resp.ID), nil); r.StatusCode != http.StatusNoContent {
			t.Fatalf("delete: %d", r.StatusCode)
		}
		e.call(owner, "GET", "/api/v1/canned-responses", nil).decode(t, &list)
		for _, c := range list.Items {
			for _, x := range c.Responses {
				if x.ID == resp.ID {
					t.Fatal("a deleted default is still listed to partners")
				}
			}
		}
	})
}

// Pages of a conversation's messages, both sides: catching up from a
// number, oldest first, or the newest ones and paging back, each saying
// whether there are more.
func TestChatMessagePages(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		followedChannel(e)
		fa := e.followerActor()
		c, _, err := e.app.FollowerSend(e.ctx, fa, e.w.Channel.ID, app.FollowerMessage{Text: "1"})
		if err != nil {
			t.Fatal(err)
		}
		for i := 2; i <= 130; i++ {
			if _, _, err := e.app.FollowerSendTo(e.ctx, fa, c.ID, app.FollowerMessage{Text: fmt.Sprint(i)}); err != nil {
				t.Fatal(err)
			}
		}
		agent := e.token(e.userWith(e.w.Partner.ID, regulars.Permissions{regulars.FeatureChat: regulars.LevelView}))
		for _, side := range []struct{ token, path string }{
			{e.followerToken(), fmt.Sprintf("/api/v1/follower/conversations/%d/messages", c.ID)},
			{agent, fmt.Sprintf("/api/v1/chat/conversations/%d/messages", c.ID)},
		} {
			for _, tc := range []struct {
				query       string
				first, last int64
				more        bool
			}{
				{"?after=0&limit=3", 1, 3, true},
				{"?after=127", 128, 130, false},
				{"?after=0&limit=5000", 1, 130, false},
				{"", 31, 130, true},
				{"?before=31", 1, 30, false},
				{"?before=101&limit=50", 51, 100, true},
				{"?limit=5000", 1, 130, false},
			} {
				var page api.ChatMessageList
				e.must(http.StatusOK, side.token, "GET", side.path+tc.query, nil).decode(t, &page)
				n := len(page.Items)
				if n == 0 || page.Items[0].Seq != tc.first || page.Items[n-1].Seq != tc.last || int64(n) != tc.last-tc.first+1 || page.More != tc.more {
					var first, last int64
					if n > 0 {
						first, last = page.Items[0].Seq, page.Items[n-1].Seq
					}
					t.Errorf("%s%s: %d messages %d–%d, more %v; want %d–%d, more %v", side.path, tc.query, n, first, last, page.More, tc.first, tc.last, tc.more)
				}
			}
			e.must(http.StatusBadRequest, side.token, "GET", side.path+"?limit=-1", nil)
		}
	})
}

// Retries: a message or file sent again with its client_id gets what was
// stored the first time, even when the chat has been switched off or the
// channel unfollowed since (the app retries after a dropped connection),
// and an agent's file retried is stored once.
func TestChatRetriesGetWhatWasStored(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		followedChannel(e)
		fan := e.followerToken()
		chat := fmt.Sprintf("/api/v1/follower/channels/%d/chat", e.w.Channel.ID)
		var first, again api.Sent
		e.must(http.StatusCreated, fan, "POST", chat, map[string]any{"text": "Table for two?", "client_id": "r1"}).decode(t, &first)
		e.must(http.StatusCreated, fan, "POST", chat+"/attachments?name=p.png&client_id=r2", pngBytes)
		conv := first.Conversation.ID

		ch := *e.w.Channel
		ch.ChatEnabled = false
		if err := db.UpdateChannel(e.ctx, &ch); err != nil {
			t.Fatal(err)
		}
		e.must(http.StatusCreated, fan, "POST", chat, map[string]any{"text": "Table for two?", "client_id": "r1"}).decode(t, &again)
		if again.Message.ID != first.Message.ID {
			t.Fatalf("the retry with the chat off got message %d, want the stored %d", again.Message.ID, first.Message.ID)
		}
		e.must(http.StatusCreated, fan, "POST", chat+"/attachments?name=p.png&client_id=r2", pngBytes)
		e.must(http.StatusConflict, fan, "POST", chat, map[string]any{"text": "Something new", "client_id": "r3"})
		e.must(http.StatusConflict, fan, "POST", chat, map[string]any{"text": "Something new"})
		ch.ChatEnabled = true
		if err := db.UpdateChannel(e.ctx, &ch); err != nil {
			t.Fatal(err)
		}
		if err := e.app.Unfollow(e.ctx, e.followerActor(), e.w.Channel.ID); err != nil {
			t.Fatal(err)
		}
		e.must(http.StatusCreated, fan, "POST", chat, map[string]any{"text": "Table for two?", "client_id": "r1"}).decode(t, &again)
		if again.Message.ID != first.Message.ID {
			t.Fatalf("the retry after unfollowing got message %d, want the stored %d", again.Message.ID, first.Message.ID)
		}
		e.must(http.StatusConflict, fan, "POST", chat, map[string]any{"text": "Something new", "client_id": "r4"})

		// The agent's file, twice: one message, one stored file.
		followedChannel(e)
		agent := e.token(e.userWith(e.w.Partner.ID, regulars.Permissions{regulars.FeatureChat: regulars.LevelUpdate}))
		path := fmt.Sprintf("/api/v1/chat/conversations/%d/attachments?name=menu.png&client_id=a1", conv)
		var one, two api.Sent
		e.upload(agent, path, "image/png", pngBytes).decode(t, &one)
		r := e.upload(agent, path, "image/png", pngBytes)
		if r.StatusCode != http.StatusCreated {
			t.Fatalf("the agent's retry: %d %s", r.StatusCode, r.body)
		}
		r.decode(t, &two)
		if one.Message.ID == 0 || two.Message.ID != one.Message.ID || two.Message.Attachment == nil || two.Message.Attachment.ID != one.Message.Attachment.ID {
			t.Fatalf("the agent's file and its retry: %+v, %+v", one.Message, two.Message)
		}
		if got := e.must(http.StatusOK, agent, "GET", fmt.Sprintf("/api/v1/chat/attachments/%d", one.Message.Attachment.ID), nil); !bytes.Equal(got.body, pngBytes) {
			t.Fatal("the agent's file is not there after its retry")
		}
		var msgs api.ChatMessageList
		e.must(http.StatusOK, agent, "GET", fmt.Sprintf("/api/v1/chat/conversations/%d/messages?after=0", conv), nil).decode(t, &msgs)
		files := 0
		for _, m := range msgs.Items {
			if m.Attachment != nil {
				files++
			}
		}
		if files != 2 {
			t.Fatalf("%d files in the conversation, want the follower's and the agent's", files)
		}
	})
}

// The follower's view of a conversation counts what they have not read
// the same way wherever it is read: the list, the conversation with a
// channel, the answer to a message they send.
func TestFollowerUnreadAgrees(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		followedChannel(e)
		fan := e.followerToken()
		var sent api.Sent
		e.must(http.StatusCreated, fan, "POST", fmt.Sprintf("/api/v1/follower/channels/%d/chat", e.w.Channel.ID), map[string]any{"text": "Hi"}).decode(t, &sent)
		id := sent.Conversation.ID
		if sent.Conversation.ReadSeq != 1 || sent.Conversation.Unread != 0 {
			t.Fatalf("after sending: read_seq %d, unread %d; want 1, 0", sent.Conversation.ReadSeq, sent.Conversation.Unread)
		}
		ownerAnswers(e, id, app.AgentMessage{Text: "Hello!"}) // a system line (joined), then the answer
		ownerAnswers(e, id, app.AgentMessage{Text: "How can I help?"})
		if _, err := e.app.FinishConversation(e.ctx, e.owner(), id); err != nil { // a system line
			t.Fatal(err)
		}
		var list api.ConversationList
		e.must(http.StatusOK, fan, "GET", "/api/v1/follower/conversations", nil).decode(t, &list)
		var one api.Conversation
		e.must(http.StatusOK, fan, "GET", fmt.Sprintf("/api/v1/follower/channels/%d/conversation", e.w.Channel.ID), nil).decode(t, &one)
		if len(list.Items) != 1 || list.Items[0].Unread != 2 || list.Items[0].ReadSeq != 1 || one.Unread != 2 || one.ReadSeq != 1 {
			t.Fatalf("list %+v, conversation %+v: want read_seq 1 and the 2 answers unread", list.Items, one)
		}
		e.must(http.StatusNoContent, fan, "POST", fmt.Sprintf("/api/v1/follower/conversations/%d/read", id), map[string]any{"seq": one.LastSeq})
		e.must(http.StatusOK, fan, "GET", fmt.Sprintf("/api/v1/follower/channels/%d/conversation", e.w.Channel.ID), nil).decode(t, &one)
		if one.Unread != 0 || one.ReadSeq != one.LastSeq {
			t.Fatalf("after reading: %+v", one)
		}
		for _, body := range []any{map[string]any{}, map[string]any{"seq": -3}} {
			e.must(http.StatusUnprocessableEntity, fan, "POST", fmt.Sprintf("/api/v1/follower/conversations/%d/read", id), body)
		}
	})
}

// A NUL character in a JSON body, which no stored text can hold
// (PostgreSQL refuses it), is refused as bad input and changes nothing;
// the six characters \u0000 typed as text are just text. (Queries and
// forms: server.TestNULRefused.)
func TestNULRefused(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		followedChannel(e)
		fan := e.followerToken()
		chat := fmt.Sprintf("/api/v1/follower/channels/%d/chat", e.w.Channel.ID)
		e.must(http.StatusBadRequest, fan, "POST", chat, map[string]any{"text": "nul \x00 char"})
		if _, err := db.ConversationOf(e.ctx, e.w.Channel.ID, e.followerActor().Follower.ID); err == nil {
			t.Fatal("a refused message started a conversation")
		}
		var sent api.Sent
		e.must(http.StatusCreated, fan, "POST", chat, map[string]any{"text": `typed \u0000`}).decode(t, &sent)
		if sent.Message.Text != `typed \u0000` {
			t.Fatalf("stored %q", sent.Message.Text)
		}
	})
}

// What the follower reads of cards: a message card brings the message
// itself, and the lines about what they did with cards speak to them
// ("You …"), whatever their name was or is.
func TestFollowerReadsCardsInTheirWords(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		followedChannel(e)
		fan := e.followerToken()
		coupon := liveCoupon(e)["id"]
		note := e.publish(regulars.KindMessage, app.EngagementInput{Name: "Autumn menu", Text: "Pumpkin spice is back.", Link: "https://example.com/menu", Recurring: regulars.RecurOnce})
		id := conversation(e)["id"]
		couponCard := ownerAnswers(e, id, app.AgentMessage{EngagementID: coupon})
		noteCard := ownerAnswers(e, id, app.AgentMessage{EngagementID: note.ID})
		for _, seq := range []int64{couponCard.Seq, noteCard.Seq} {
			e.must(http.StatusOK, fan, "POST", fmt.Sprintf("/api/v1/follower/conversations/%d/cards/%d/act", id, seq), nil)
		}
		var msgs api.ChatMessageList
		e.must(http.StatusOK, fan, "GET", fmt.Sprintf("/api/v1/follower/conversations/%d/messages", id), nil).decode(t, &msgs)
		var lines []string
		for _, m := range msgs.Items {
			if m.Seq == noteCard.Seq && (m.Engagement == nil || m.Engagement.Text != "Pumpkin spice is back." || m.Engagement.Link != "https://example.com/menu") {
				t.Errorf("the message card: %+v", m.Engagement)
			}
			if m.Event == regulars.ChatActivity {
				lines = append(lines, m.Text)
			}
		}
		c, err := e.app.DB.TenantEngagement(e.ctx, e.w.Tenant.ID, coupon)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"You enabled the coupon " + c.Name, "You opened Autumn menu"}
		if strings.Join(lines, "|") != strings.Join(want, "|") {
			t.Errorf("the follower reads %q, want %q", lines, want)
		}
	})
}
