package web_test

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"

	"regulars"
	"regulars/app"
	"regulars/internal/testenv"
)

// chatFixture makes the object a chat or canned-responses route needs.
func (f *fixtures) chatFixture(pattern string) string {
	f.t.Helper()
	ctx := context.Background()
	switch {
	case strings.HasPrefix(pattern, "/admin/chat/{id}/finish"):
		// Finished: finishing again is a conflict for anyone allowed to try.
		c := f.conversation()
		owner := f.ownerActor()
		if _, err := f.a.TakeConversation(ctx, owner, c.ID, c.OwnerID); err != nil {
			f.t.Fatal(err)
		}
		if _, err := f.a.FinishConversation(ctx, owner, c.ID); err != nil {
			f.t.Fatal(err)
		}
		return strconv.FormatInt(c.ID, 10)
	case strings.HasPrefix(pattern, "/admin/chat/{id}"):
		return strconv.FormatInt(f.conversation().ID, 10)
	case strings.HasPrefix(pattern, "/admin/chat-files/{id}"):
		f.conversation()
		_, m, err := f.a.FollowerSendAttachment(ctx, f.followerActor(), f.w.Channel.ID,
			app.Upload{Name: "photo.png", Body: bytes.NewReader([]byte("\x89PNG\r\n\x1a\nfixture"))}, "")
		if err != nil {
			f.t.Fatal(err)
		}
		return strconv.FormatInt(m.AttachmentID, 10)
	case strings.HasPrefix(pattern, "/admin/canned-categories/{id}"), strings.HasPrefix(pattern, "/tenant/canned-categories/{id}"):
		return strconv.FormatInt(f.cannedCategory(pattern).ID, 10)
	case strings.HasPrefix(pattern, "/admin/canned/{id}"), strings.HasPrefix(pattern, "/tenant/canned/{id}"):
		c := f.cannedCategory(pattern)
		r := &regulars.CannedResponse{TenantID: f.w.Tenant.ID, PartnerID: c.PartnerID, CategoryID: c.ID, Title: "Fixture", Text: "Hello"}
		if err := f.db.CreateCanned(ctx, r); err != nil {
			f.t.Fatal(err)
		}
		return strconv.FormatInt(r.ID, 10)
	}
	f.t.Fatalf("no chat fixture for %s", pattern)
	return ""
}

// cannedCategory is a category of partner A, or of tenant A's defaults
// for a tenant console route.
func (f *fixtures) cannedCategory(pattern string) *regulars.CannedCategory {
	partnerID := f.w.Partner.ID
	if strings.HasPrefix(pattern, "/tenant/") {
		partnerID = 0
	}
	c := &regulars.CannedCategory{TenantID: f.w.Tenant.ID, PartnerID: partnerID, Name: fmt.Sprintf("Fixture %d", f.seq())}
	if err := f.db.CreateCannedCategory(context.Background(), c); err != nil {
		f.t.Fatal(err)
	}
	return c
}

// followerActor is a fresh follower of partner A's channel.
func (f *fixtures) followerActor() *app.FollowerActor {
	fl := f.w.AddFollower(f.t, fmt.Sprintf("CH%06d", f.seq()), []*regulars.Channel{f.w.Channel})
	return &app.FollowerActor{Follower: fl, Tenant: f.w.Tenant}
}

// conversation is an unanswered conversation of partner A.
func (f *fixtures) conversation() *regulars.Conversation {
	c, _, err := f.a.FollowerSend(context.Background(), f.followerActor(), f.w.Channel.ID, app.FollowerMessage{Text: "Hello"})
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

func (f *fixtures) ownerActor() *app.Actor {
	res, err := f.a.SignIn(context.Background(), f.w.Owner.Email, testenv.Password, "127.0.0.9", "fixture")
	if err != nil {
		f.t.Fatal(err)
	}
	return res.Actor
}
