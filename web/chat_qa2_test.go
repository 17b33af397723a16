package web_test

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"regulars"
)

// convRow is the list's row of conversation id in a chat page.
func convRow(t *testing.T, body string, id int64) string {
	t.Helper()
	row := regexp.MustCompile(fmt.Sprintf(`(?s)<li class="conv[^"]*" data-id="%d".*?</li>`, id)).FindString(body)
	if row == "" {
		t.Fatalf("no row of conversation %d in the list", id)
	}
	return row
}

// Opening a conversation reads it: its row beside the thread does not
// count the messages the agent is reading as unread, even before the
// page's script connects (or without it).
func TestChatOpenConversationRowIsNotUnread(t *testing.T) {
	t.Parallel()
	x := newAgentChat(t, 2)
	ann := x.srv.SignedIn(t, x.ann.Email)
	row := convRow(t, ann.Get("/admin/chat").Body, x.conv.ID)
	if !regexp.MustCompile(`<span class="unread" title="Unread messages">3</span>`).MatchString(row) {
		t.Fatalf("the list before opening: want 3 unread, row %s", row)
	}
	row = convRow(t, ann.Get(x.thread()).Body, x.conv.ID)
	if !regexp.MustCompile(`<span class="unread" hidden title="Unread messages">0</span>`).MatchString(row) {
		t.Fatalf("the open conversation's row counts unread messages: %s", row)
	}
}

// A follower who gave no name is called by their end-user ID in the
// engagement picker's heading too, not "Send an engagement to ".
func TestChatEngagementPickerNamesAnUnnamedFollower(t *testing.T) {
	t.Parallel()
	x := newAgentChat(t, 0)
	anon := x.follower(t, "ANON42", "")
	c := x.followerSays(t, anon, "Hi")
	r := x.srv.SignedIn(t, x.ann.Email).Get(fmt.Sprintf("/admin/chat/%d/engagements", c.ID))
	wantStatus(t, r, http.StatusOK)
	wantText(t, r, "Send an engagement to ANON42</h2>")
}

// Without JavaScript, the owner's warning after sending a card or a file
// sends that card (or the file, chosen again) on "Yes", not a bare take
// that drops it.
func TestChatOvertakeWithoutJavaScriptKeepsTheCardAndTheFile(t *testing.T) {
	t.Parallel()
	x := newAgentChat(t, 0)
	ctx := context.Background()
	coupon := &regulars.Engagement{TenantID: x.w.Tenant.ID, PartnerID: x.w.Partner.ID, ChannelID: x.w.Channel.ID, Kind: regulars.KindCoupon, Status: regulars.EngagementActive,
		Name: "Free coffee", Coupon: &regulars.CouponSpec{RedemptionType: regulars.RedeemClick, PerFollower: 1}}
	if err := x.db.CreateEngagement(ctx, coupon); err != nil {
		t.Fatal(err)
	}
	x.agentSays(t, x.ann, x.conv.ID, "Ann here")
	bob := x.srv.SignedIn(t, x.bob.Email)
	thread := x.thread()

	r := submit(x.srv, bob, thread, thread+"/messages", form("engagement_id", fmt.Sprint(coupon.ID)))
	wantStatus(t, r, http.StatusConflict)
	wantText(t, r, fmt.Sprintf(`action="%s/messages"`, thread), fmt.Sprintf(`name="engagement_id" value="%d"`, coupon.ID), `name="overtake_from" value="`+fmt.Sprint(x.ann.ID))
	wantRedirect(t, submit(x.srv, bob, thread, thread+"/messages", form("engagement_id", fmt.Sprint(coupon.ID), "overtake_from", fmt.Sprint(x.ann.ID))), thread+"#composer")
	msgs, err := x.db.ChatMessagesAfter(ctx, x.conv.ID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if last := msgs[len(msgs)-1]; last.Kind != regulars.MessageEngagement || last.EngagementID != coupon.ID {
		t.Fatalf("after Yes, the last message is %+v, want the card", last)
	}

	// Ann takes it back; Bob's file is refused with the warning, whose
	// form asks for the file again and sends it.
	x.agentSays(t, x.ann, x.conv.ID, "Ann again")
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "menu.pdf")
	fw.Write([]byte("%PDF-1.4 the menu"))
	mw.Close()
	r = bob.Do(http.MethodPost, thread+"/attachments", &body, http.Header{"Content-Type": {mw.FormDataContentType()}, "Referer": {x.srv.URL + thread}})
	wantStatus(t, r, http.StatusConflict)
	wantText(t, r, fmt.Sprintf(`action="%s/attachments"`, thread), `enctype="multipart/form-data"`, `id="overtake-file" name="file" type="file" required`)
}

// Canned responses in settings: each category offers to add a response
// to it (the form then has it chosen), says why a category with
// responses has no Delete, and a refused edit keeps the category chosen.
func TestCannedSettingsCategoryFlow(t *testing.T) {
	t.Parallel()
	x := newAgentChat(t, 0)
	ctx := context.Background()
	o := x.srv.SignedIn(t, x.w.Owner.Email)
	var cats []*regulars.CannedCategory
	for _, name := range []string{"Opening hours", "Parking"} {
		c := &regulars.CannedCategory{TenantID: x.w.Tenant.ID, PartnerID: x.w.Partner.ID, Name: name}
		if err := x.db.CreateCannedCategory(ctx, c); err != nil {
			t.Fatal(err)
		}
		cats = append(cats, c)
	}
	resp := &regulars.CannedResponse{TenantID: x.w.Tenant.ID, PartnerID: x.w.Partner.ID, CategoryID: cats[0].ID, Title: "Sunday", Text: "9 to 4."}
	if err := x.db.CreateCanned(ctx, resp); err != nil {
		t.Fatal(err)
	}

	r := o.Get("/admin/canned")
	wantText(t, r, fmt.Sprintf(`href="/admin/canned?category=%d#new-response"`, cats[1].ID), "Add a response to Parking",
		"1 response · to delete the category, delete or move its response first")
	noText(t, r, "0 responses · to delete")
	r = o.Get(fmt.Sprintf("/admin/canned?category=%d", cats[1].ID))
	wantText(t, r, fmt.Sprintf(`<option value="%d" selected>Parking</option>`, cats[1].ID))

	// A refused save of the response keeps the category the agent chose.
	page := fmt.Sprintf("/admin/canned/%d", resp.ID)
	r = submit(x.srv, o, page, page, form("category_id", fmt.Sprint(cats[1].ID), "title", "", "text", "9 to 4."))
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantText(t, r, fmt.Sprintf(`<option value="%d" selected>Parking</option>`, cats[1].ID))
	noText(t, r, fmt.Sprintf(`<option value="%d" selected>Opening hours</option>`, cats[0].ID))

	// Deleting the empty category says which one went.
	r = follow(t, o, submit(x.srv, o, "/admin/canned", fmt.Sprintf("/admin/canned-categories/%d/delete", cats[1].ID), form()))
	wantText(t, r, "The category Parking is deleted.")
}

// On a channel whose chat is off, the thread says so where the composer
// would be (not in a flash one can dismiss, leaving no reason), with a
// way to switch it on for those who may.
func TestChatSwitchedOffSaysSoInPlaceOfTheComposer(t *testing.T) {
	t.Parallel()
	x := newAgentChat(t, 0)
	ch := *x.w.Channel
	ch.ChatEnabled = false
	if err := x.db.UpdateChannel(context.Background(), &ch); err != nil {
		t.Fatal(err)
	}
	want := "Chat is switched off on " + ch.Name + ": you can read this conversation, not answer it."
	r := x.srv.SignedIn(t, x.ann.Email).Get(x.thread())
	wantText(t, r, `<p class="composer-off muted" id="chat-off">`+want)
	noText(t, r, `id="composer"`, "Switch it on", `class="flash flash-info"`)
	r = x.srv.SignedIn(t, x.w.Owner.Email).Get(x.thread())
	wantText(t, r, want+fmt.Sprintf(` <a href="/admin/channels/%d">Switch it on</a>`, ch.ID))
}

// A tab lists the 100 conversations with the newest activity; when it
// holds more, the end of the list says so and how to find the others,
// rather than ending as if there were no more.
func TestChatListSaysWhenItStopsShort(t *testing.T) {
	t.Parallel()
	x := newAgentChat(t, 0) // one unanswered conversation
	ann := x.srv.SignedIn(t, x.ann.Email)
	for i := 1; i < 100; i++ {
		x.followerSays(t, x.follower(t, fmt.Sprintf("F%05d", i), fmt.Sprintf("Follower %d", i)), "Hello")
	}
	noText(t, ann.Get("/admin/chat"), `id="list-more"`)
	x.followerSays(t, x.follower(t, "F00100", "Follower 100"), "Hello")
	r := ann.Get("/admin/chat")
	wantText(t, r, `<li class="list-more" id="list-more">The 100 with the newest activity are shown. Search by name or end-user ID to find older ones.</li>`)
	if n := len(regexp.MustCompile(`<li class="conv `).FindAllString(r.Body, -1)); n != 100 {
		t.Errorf("%d rows, want 100", n)
	}
	x.followerSays(t, x.follower(t, "F00101", "Follower 101"), "Hello") // 101 match the search
	r = ann.Get("/admin/chat?q=Follower")
	wantText(t, r, "100+ matches for “Follower”", "The 100 with the newest activity are shown. Add to the search to narrow it down.")
}

// Finishing a conversation keeps the agent in the tab (and search) they
// worked in, its row kept there saying where it went, rather than moving
// them to Finished.
func TestChatFinishKeepsTheAgentInTheirTab(t *testing.T) {
	t.Parallel()
	x := newAgentChat(t, 0)
	x.agentSays(t, x.ann, x.conv.ID, "Done?")
	ann := x.srv.SignedIn(t, x.ann.Email)
	page := x.thread() + "?tab=mine&q=mia"
	r := ann.Get(page)
	wantText(t, r, `<input type="hidden" name="tab" value="mine"><input type="hidden" name="q" value="mia">`)
	r = submit(x.srv, ann, page, x.thread()+"/finish", form("tab", "mine", "q", "mia"))
	wantRedirect(t, r, x.thread()+"?q=mia&tab=mine")
	r = ann.Get(x.thread() + "?q=mia&tab=mine")
	wantText(t, r, `data-tab="mine" aria-current="page"`, "Now in Finished", "The conversation is finished.")
	// A tab that is not one is left out.
	other := x.followerSays(t, x.follower(t, "LEO001", "Leo"), "Hi")
	x.agentSays(t, x.ann, other.ID, "Hi Leo")
	thread := fmt.Sprintf("/admin/chat/%d", other.ID)
	wantRedirect(t, submit(x.srv, ann, thread, thread+"/finish", form("tab", "nope")), thread)
}

// A coupon the follower has enabled and not used yet stays in the picker
// (sending it again reminds them) and says so; over the API its card is
// done. One not enabled says nothing.
func TestChatEngagementPickerMarksEnabledCoupons(t *testing.T) {
	t.Parallel()
	x := newAgentChat(t, 0)
	ctx := context.Background()
	coupon := func(name string) *regulars.Engagement {
		e := &regulars.Engagement{TenantID: x.w.Tenant.ID, PartnerID: x.w.Partner.ID, ChannelID: x.w.Channel.ID, Kind: regulars.KindCoupon, Status: regulars.EngagementActive,
			Name: name, Coupon: &regulars.CouponSpec{RedemptionType: regulars.RedeemClick, PerFollower: 1}}
		if err := x.db.CreateEngagement(ctx, e); err != nil {
			t.Fatal(err)
		}
		return e
	}
	enabled, other := coupon("Free coffee"), coupon("Free cake")
	if _, err := x.srv.App.EnableCoupon(ctx, x.mia, enabled.ID); err != nil {
		t.Fatal(err)
	}
	r := x.srv.SignedIn(t, x.ann.Email).Get(fmt.Sprintf("/admin/chat/%d/engagements", x.conv.ID))
	wantStatus(t, r, http.StatusOK)
	picks := regexp.MustCompile(`(?s)<form [^>]*class="pick" data-engagement="(\d+)">.*?</form>`).FindAllStringSubmatch(r.Body, -1)
	notes := map[string]bool{}
	for _, p := range picks {
		notes[p[1]] = strings.Contains(p[0], "Already enabled, not used yet")
	}
	if len(picks) != 2 || !notes[fmt.Sprint(enabled.ID)] || notes[fmt.Sprint(other.ID)] {
		t.Fatalf("picker notes %v, want only %d marked as enabled", notes, enabled.ID)
	}
}
