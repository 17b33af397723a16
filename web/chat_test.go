package web_test

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"regulars"
	"regulars/app"
	"regulars/internal/testenv"
	"regulars/store"
)

// Without JavaScript the chat still works: the thread, answering, the
// owner's warning with its "Yes" form, finishing, files.
func TestChatWithoutJavaScript(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := testenv.NewWorld(t, db)
		srv := testenv.NewServer(t, db)
		ctx := context.Background()
		ann := w.AddUser(t, w.Partner.ID, "ann@alpha.example", regulars.Permissions{regulars.FeatureChat: regulars.LevelUpdate})
		bob := w.AddUser(t, w.Partner.ID, "bob@alpha.example", regulars.Permissions{regulars.FeatureChat: regulars.LevelUpdate})
		vera := w.AddUser(t, w.Partner.ID, "vera@alpha.example", regulars.Permissions{regulars.FeatureChat: regulars.LevelView})
		fl := w.AddFollower(t, "MIA123", []*regulars.Channel{w.Channel}, func(f *regulars.Follower) { f.Name = "Mia" })
		c, _, err := srv.App.FollowerSend(ctx, &app.FollowerActor{Follower: fl, Tenant: w.Tenant}, w.Channel.ID, app.FollowerMessage{Text: "Is the terrace open?"})
		if err != nil {
			t.Fatal(err)
		}
		thread := fmt.Sprintf("/admin/chat/%d", c.ID)
		a, b, v := srv.SignedIn(t, ann.Email), srv.SignedIn(t, bob.Email), srv.SignedIn(t, vera.Email)

		r := a.Get("/admin/chat")
		wantStatus(t, r, http.StatusOK)
		wantText(t, r, "Mia", "Is the terrace open?")
		wantRedirect(t, submit(srv, a, thread, thread+"/messages", form("text", "Yes, until 10 pm.")), thread+"#composer")
		wantText(t, a.Get(thread), "Owner: <strong>User ann@alpha.example</strong>", "Yes, until 10 pm.", "took the conversation")

		// Bob is warned with Ann's name and confirms with the form's Yes.
		r = submit(srv, b, thread, thread+"/messages", form("text", "Bob here"))
		wantStatus(t, r, http.StatusConflict)
		wantText(t, r, "<strong>User ann@alpha.example</strong> is answering this conversation. Take it over?", "Yes, take it over")
		wantRedirect(t, submit(srv, b, thread, thread+"/messages", form("text", "Bob here", "overtake_from", fmt.Sprint(ann.ID))), thread+"#composer")
		wantText(t, b.Get(thread), "Owner: <strong>User bob@alpha.example</strong>", "took over the conversation from User ann@alpha.example")

		// The view-only agent reads, without a composer.
		r = v.Get(thread)
		wantText(t, r, "Your role lets you read conversations, not answer them.")
		noText(t, r, `id="composer"`)
		wantStatus(t, submit(srv, v, thread, thread+"/messages", form("text", "x")), http.StatusForbidden)

		// A file through the plain form; an empty message is refused.
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		fw, _ := mw.CreateFormFile("file", "menu.pdf")
		fw.Write([]byte("%PDF-1.4 the menu"))
		mw.Close()
		r = b.Do(http.MethodPost, thread+"/attachments", &body, http.Header{"Content-Type": {mw.FormDataContentType()}, "Referer": {srv.URL + thread}})
		wantRedirect(t, r, thread+"#composer")
		r = b.Get(thread)
		wantText(t, r, "menu.pdf")
		msgs, _ := db.ChatMessagesAfter(ctx, c.ID, 0, 100)
		att := msgs[len(msgs)-1].AttachmentID
		file := b.Get(fmt.Sprintf("/admin/chat-files/%d", att))
		if file.StatusCode != http.StatusOK || file.Body != "%PDF-1.4 the menu" || file.Header.Get("Content-Type") != "application/pdf" {
			t.Fatalf("the file: %d %q %s", file.StatusCode, file.Body, file.Header.Get("Content-Type"))
		}
		wantStatus(t, srv.SignedIn(t, w.OtherOwner.Email).Get(fmt.Sprintf("/admin/chat-files/%d", att)), http.StatusNotFound)
		// A file past the request's limit is refused with the limit, as
		// one just past the file's limit is (app tests).
		body.Reset()
		mw = multipart.NewWriter(&body)
		fw, _ = mw.CreateFormFile("file", "big.png")
		fw.Write(bytes.Repeat([]byte("x"), app.DefaultChatMaxAttachment+2<<20))
		mw.Close()
		r = b.Do(http.MethodPost, thread+"/attachments", &body, http.Header{"Content-Type": {mw.FormDataContentType()}, "Referer": {srv.URL + thread}, "Accept": {"application/json"}})
		wantStatus(t, r, http.StatusUnprocessableEntity)
		wantText(t, r, "The file is larger than the 10 MB limit: send a smaller one.")
		wantStatus(t, submit(srv, b, thread, thread+"/messages", form("text", "  ")), http.StatusUnprocessableEntity)

		// Finishing; the finished tab lists it.
		wantRedirect(t, submit(srv, b, thread, thread+"/finish", form()), thread)
		wantText(t, b.Get("/admin/chat?tab=finished"), "Mia")
		wantText(t, b.Get(thread), "finished the conversation")
		// Searched for in another tab, it is pointed to.
		r = b.Get("/admin/chat?q=mia")
		wantText(t, r, "Nothing in this tab matches “mia”", `<a href="/admin/chat?tab=finished&q=mia" id="elsewhere-finished">Finished (1)</a>`)
		noText(t, r, `id="elsewhere-active"`)
		// Another partner does not see it.
		wantStatus(t, srv.SignedIn(t, w.OtherOwner.Email).Get(thread), http.StatusNotFound)
	})
}

// Canned responses in settings: categories and responses, with the
// reasons for refusals next to the fields.
func TestCannedResponsesSettings(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := testenv.NewWorld(t, db)
		srv := testenv.NewServer(t, db)
		o := srv.SignedIn(t, w.Owner.Email)
		wantText(t, o.Get("/admin/canned"), "No canned responses yet")
		wantRedirect(t, submit(srv, o, "/admin/canned", "/admin/canned-categories", form("name", "Opening hours")), "/admin/canned#category-1")
		wantFieldError(t, submit(srv, o, "/admin/canned", "/admin/canned-categories", form("name", "opening hours")), "name", "already exists")
		cats, err := db.CannedCategories(context.Background(), w.Tenant.ID, w.Partner.ID)
		if err != nil || len(cats) != 1 {
			t.Fatalf("categories %v %v", cats, err)
		}
		cat := fmt.Sprint(cats[0].ID)
		wantFieldError(t, submit(srv, o, "/admin/canned", "/admin/canned", form("category_id", cat, "title", "", "text", "x")), "title", "required")
		r := follow(t, o, submit(srv, o, "/admin/canned", "/admin/canned", form("category_id", cat, "title", "Sunday", "text", "10 to 4.")))
		wantText(t, r, "“Sunday” is ready", "10 to 4.")
		cats, _ = db.CannedCategories(context.Background(), w.Tenant.ID, w.Partner.ID)
		resp := fmt.Sprintf("/admin/canned/%d", cats[0].Responses[0].ID)
		wantRedirect(t, submit(srv, o, resp, resp, form("category_id", cat, "title", "Sundays", "text", "9 to 4.")), "/admin/canned#response-"+fmt.Sprint(cats[0].Responses[0].ID))
		wantText(t, o.Get(resp), "Sundays", "9 to 4.")
		// A category with responses stays; once empty it goes.
		r = follow(t, o, submit(srv, o, "/admin/canned", "/admin/canned-categories/"+cat+"/delete", form()))
		wantText(t, r, "still holds a response. Move or delete it first.")
		wantRedirect(t, submit(srv, o, resp, resp+"/delete", form()), "/admin/canned")
		wantRedirect(t, submit(srv, o, "/admin/canned", "/admin/canned-categories/"+cat+"/delete", form()), "/admin/canned")
		wantText(t, o.Get("/admin/canned"), "No canned responses yet")
	})
}

// The tenant's defaults: managed in the console, listed to every partner
// (who cannot change them) and insertable by agents; a partner's own
// responses stay out of the console.
func TestTenantCannedResponseDefaults(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := testenv.NewWorld(t, db)
		srv := testenv.NewServer(t, db)
		op := srv.SignedIn(t, w.Operator.Email)
		wantText(t, op.Get("/tenant"), "Canned response defaults")
		wantText(t, op.Get("/tenant/canned"), "Canned response defaults", "No canned responses yet")
		wantRedirectPrefix(t, submit(srv, op, "/tenant/canned", "/tenant/canned-categories", form("name", "Greetings")), "/tenant/canned#category-")
		cats, err := db.CannedCategories(ctx, w.Tenant.ID, 0)
		if err != nil || len(cats) != 1 || cats[0].PartnerID != 0 {
			t.Fatalf("defaults %v %v", cats, err)
		}
		cat := fmt.Sprint(cats[0].ID)
		wantFieldError(t, submit(srv, op, "/tenant/canned", "/tenant/canned", form("category_id", cat, "title", "", "text", "Hi")), "title", "required")
		r := follow(t, op, submit(srv, op, "/tenant/canned", "/tenant/canned", form("category_id", cat, "title", "Welcome", "text", "Welcome! How can we help?")))
		wantText(t, r, "“Welcome” is ready", "Welcome! How can we help?")
		cats, _ = db.CannedCategories(ctx, w.Tenant.ID, 0)
		def := cats[0].Responses[0]

		// The partner sees it among the platform's defaults and may not
		// change it; its own category stays out of the console.
		o := srv.SignedIn(t, w.Owner.Email)
		wantText(t, o.Get("/admin/canned"), "From the platform", "Welcome! How can we help?")
		if resp := o.Get(fmt.Sprintf("/admin/canned/%d", def.ID)); resp.StatusCode != http.StatusNotFound {
			t.Errorf("a partner opening a default: %d, want 404", resp.StatusCode)
		}
		if resp := o.PostForm(fmt.Sprintf("/admin/canned/%d/delete", def.ID), form()); resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusForbidden {
			t.Errorf("a partner deleting a default: %d", resp.StatusCode)
		}
		wantRedirectPrefix(t, submit(srv, o, "/admin/canned", "/admin/canned-categories", form("name", "Partner only")), "/admin/canned#category-")
		if body := op.Get("/tenant/canned").Body; strings.Contains(body, "Partner only") {
			t.Error("the console lists a partner's own category")
		}
		// Agents insert it from the chat like their own.
		res, err := srv.App.SignIn(ctx, w.Owner.Email, testenv.Password, "127.0.0.1", "test")
		if err != nil {
			t.Fatal(err)
		}
		all, err := srv.App.CannedResponses(ctx, res.Actor)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, c := range all {
			for _, r := range c.Responses {
				found = found || r.ID == def.ID
			}
		}
		if !found {
			t.Error("the agent's canned responses lack the tenant's default")
		}
		// Another tenant's operator does not reach it.
		other := srv.SignedIn(t, w.OtherTenantOperator.Email)
		if resp := other.Get(fmt.Sprintf("/tenant/canned/%d", def.ID)); resp.StatusCode != http.StatusNotFound {
			t.Errorf("another tenant's operator: %d, want 404", resp.StatusCode)
		}
		// The operator edits and deletes it.
		path := fmt.Sprintf("/tenant/canned/%d", def.ID)
		wantRedirectPrefix(t, submit(srv, op, path, path, form("category_id", cat, "title", "Welcome", "text", "Hello there!")), "/tenant/canned#response-")
		wantText(t, o.Get("/admin/canned"), "Hello there!")
		wantRedirect(t, submit(srv, op, path, path+"/delete", form()), "/tenant/canned")
		if body := o.Get("/admin/canned").Body; strings.Contains(body, "Hello there!") {
			t.Error("a deleted default is still listed to partners")
		}
	})
}

func wantRedirectPrefix(t *testing.T, r *testenv.Response, prefix string) {
	t.Helper()
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Location(), prefix) {
		t.Fatalf("got %d to %q, want 303 to %s…\n%s", r.StatusCode, r.Location(), prefix, excerpt(r))
	}
}
