package api_test

import (
	"bytes"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"testing"

	"regulars/api"
	"regulars/app"
	"regulars/internal/testenv"
	"regulars/store"
)

// secondFollower signs up another follower of the fixture tenant, following
// the same channel, and returns their token.
func secondFollower(e *env) string {
	e.t.Helper()
	s, err := e.app.SignUpFollower(e.ctx, app.SignUpInput{Tenant: "test", Password: testenv.Password, ProfileInput: app.ProfileInput{Name: "Leo", Email: fmt.Sprintf("leo%d@follower.example", e.next())}})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.app.Follow(e.ctx, s.Actor, e.w.Channel.ID); err != nil {
		e.t.Fatal(err)
	}
	return s.Token
}

// Another follower of the same tenant, following the same channel, finds
// nothing of a follower's conversation: its messages, read mark, cards and
// attachments are all 404.
func TestFollowerCannotReachAnothersConversation(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		card := engagementCard(e)
		att := attachment(e)["id"]
		leo := secondFollower(e)
		conv := fmt.Sprintf("/api/v1/follower/conversations/%d", card["id"])
		e.must(http.StatusNotFound, leo, "GET", conv+"/messages", nil)
		e.must(http.StatusNotFound, leo, "POST", conv+"/read", map[string]any{"seq": 1})
		e.must(http.StatusNotFound, leo, "POST", fmt.Sprintf("%s/cards/%d/act", conv, card["seq"]), nil)
		e.must(http.StatusNotFound, leo, "GET", fmt.Sprintf("/api/v1/follower/attachments/%d", att), nil)
		var list api.ConversationList
		e.must(http.StatusOK, leo, "GET", "/api/v1/follower/conversations", nil).decode(t, &list)
		if len(list.Items) != 0 {
			t.Fatalf("Leo lists %d conversations of someone else", len(list.Items))
		}
		// The fixture follower does reach them.
		e.must(http.StatusOK, e.followerToken(), "GET", fmt.Sprintf("/api/v1/follower/attachments/%d", att), nil)
	})
}

// An attachment is served as what its bytes are, never as what its name
// or the upload's Content-Type claim: HTML is refused whatever it is
// called, a PDF named .html downloads as a .pdf attachment, and nothing
// is sniffed by the browser.
func TestAttachmentsAreServedAsTheirBytes(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		followedChannel(e)
		fan := e.followerToken()
		up := fmt.Sprintf("/api/v1/follower/channels/%d/chat/attachments", e.w.Channel.ID)

		html := []byte("<!doctype html><html><script>alert(document.cookie)</script></html>")
		for _, name := range []string{"menu.pdf", "photo.png", "page.html"} {
			e.upload(fan, up+"?name="+name, "application/pdf", html).mustStatus(t, http.StatusUnprocessableEntity)
		}
		pdf := []byte("%PDF-1.4\n<html><script>alert(1)</script></html>")
		cases := []struct{ name, ctype, want, disposition string }{
			{"menu.html", "text/html", "menu.html.pdf", "attachment"},
			{"menu.PDF", "application/pdf", "menu.PDF", "attachment"},
			{"..%2F..%2Fetc%2Fpasswd", "application/pdf", "passwd.pdf", "attachment"},
			{"invoice%E2%80%AEfdp.html", "application/pdf", "invoicefdp.html.pdf", "attachment"},
		}
		for _, c := range cases {
			var sent api.Sent
			e.upload(fan, up+"?name="+c.name, c.ctype, pdf).mustStatus(t, http.StatusCreated).decode(t, &sent)
			if sent.Message.Attachment == nil || sent.Message.Attachment.Name != c.want {
				t.Fatalf("%s: stored as %+v, want %q", c.name, sent.Message.Attachment, c.want)
			}
			got := e.must(http.StatusOK, fan, "GET", fmt.Sprintf("/api/v1/follower/attachments/%d", sent.Message.Attachment.ID), nil)
			disp, params, err := mime.ParseMediaType(got.Header.Get("Content-Disposition"))
			if err != nil || disp != c.disposition || params["filename"] != c.want {
				t.Fatalf("%s: Content-Disposition %q, want %s; filename=%q", c.name, got.Header.Get("Content-Disposition"), c.disposition, c.want)
			}
			if got.Header.Get("Content-Type") != "application/pdf" || got.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(got.Header.Get("Content-Security-Policy"), "sandbox") {
				t.Fatalf("%s: served with %v", c.name, got.Header)
			}
		}
		// A PNG sent as text/html is a PNG, shown inline.
		png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{1}, 50)...)
		var sent api.Sent
		e.upload(fan, up+"?name=x.html", "text/html", png).mustStatus(t, http.StatusCreated).decode(t, &sent)
		got := e.must(http.StatusOK, fan, "GET", fmt.Sprintf("/api/v1/follower/attachments/%d", sent.Message.Attachment.ID), nil)
		if got.Header.Get("Content-Type") != "image/png" || !strings.HasPrefix(got.Header.Get("Content-Disposition"), "inline") || sent.Message.Attachment.Name != "x.html.png" {
			t.Fatalf("a PNG called x.html: %q, %v", sent.Message.Attachment.Name, got.Header)
		}

		// Over the size limit: 422 saying the limit, nothing stored.
		e.app.ChatMaxAttachment = 1000
		p := e.upload(fan, up+"?name=big.png", "image/png", append(png, bytes.Repeat([]byte{1}, 1000)...)).mustStatus(t, http.StatusUnprocessableEntity).problem(t)
		if !strings.Contains(p.Detail, "larger than the 1 kB limit") {
			t.Fatalf("too large: %+v", p)
		}
	})
}

// mustStatus fails the test unless the response has status want.
func (r *response) mustStatus(t testing.TB, want int) *response {
	t.Helper()
	if r.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d: %s", r.Request.Method, r.Request.URL, r.StatusCode, want, r.body)
	}
	return r
}
