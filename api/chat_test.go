package api_test

import (
	"bytes"
	"fmt"

	"regulars"
	"regulars/app"
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

func cannedCategory(e *env) map[string]int64 {
	c := &regulars.CannedCategory{TenantID: e.w.Tenant.ID, PartnerID: e.w.Partner.ID, Name: fmt.Sprintf("Fixture %d", e.next())}
	if err := e.db.CreateCannedCategory(e.ctx, c); err != nil {
		e.t.Fatal(err)
	}
	return map[string]int64{"id": c.ID}
}

func cannedResponse(e *env) map[string]int64 {
	cat := cannedCategory(e)["id"]
	r := &regulars.CannedResponse{TenantID: e.w.Tenant.ID, PartnerID: e.w.Partner.ID, CategoryID: cat, Title: "Fixture", Text: "Hello"}
	if err := e.db.CreateCanned(e.ctx, r); err != nil {
		e.t.Fatal(err)
	}
	return map[string]int64{"id": r.ID}
}
