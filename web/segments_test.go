package web_test

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"regulars"
	"regulars/internal/testenv"
	"regulars/store"
)

// segmentPath fills the wildcards of the segmentation and list routes
// (some have two) with fresh objects of partner A.
func (f *fixtures) segmentPath(p string) (string, bool) {
	ctx := context.Background()
	id := func(n int64) string { return strconv.FormatInt(n, 10) }
	newSeg := func() int64 {
		s := &regulars.Segmentation{TenantID: f.w.Tenant.ID, PartnerID: f.w.Partner.ID, Name: fmt.Sprintf("Fixture %d", f.seq()),
			Rule: regulars.Rule{Conditions: []regulars.Condition{{Type: regulars.CondGender, Genders: []string{regulars.GenderFemale}}}}}
		if err := f.db.CreateSegmentation(ctx, s, 0); err != nil {
			f.t.Fatal(err)
		}
		return s.ID
	}
	newMessage := func() *regulars.Engagement {
		e := &regulars.Engagement{TenantID: f.w.Tenant.ID, PartnerID: f.w.Partner.ID, ChannelID: f.w.Channel.ID, Name: fmt.Sprintf("Fixture %d", f.seq()),
			Kind: regulars.KindMessage, Message: &regulars.MessageSpec{Text: "Hello", Recurring: regulars.RecurOnce}}
		if err := f.db.CreateEngagement(ctx, e); err != nil {
			f.t.Fatal(err)
		}
		return e
	}
	newList := func() *regulars.CustomList {
		l := &regulars.CustomList{TenantID: f.w.Tenant.ID, PartnerID: f.w.Partner.ID, Name: fmt.Sprintf("Fixture %d", f.seq())}
		if err := f.db.CreateList(ctx, l); err != nil {
			f.t.Fatal(err)
		}
		return l
	}
	switch {
	case strings.HasPrefix(p, "/admin/segmentations/{id}/engagements/{eid}"):
		s, e := newSeg(), newMessage()
		if err := f.db.AttachSegmentation(ctx, e, s); err != nil {
			f.t.Fatal(err)
		}
		return strings.NewReplacer("{id}", id(s), "{eid}", id(e.ID)).Replace(p), true
	case strings.HasPrefix(p, "/admin/segmentations/{id}"):
		return strings.Replace(p, "{id}", id(newSeg()), 1), true
	case strings.HasPrefix(p, "/admin/engagements/{id}/targeting/{sid}"):
		s, e := newSeg(), newMessage()
		if err := f.db.AttachSegmentation(ctx, e, s); err != nil {
			f.t.Fatal(err)
		}
		return strings.NewReplacer("{id}", id(e.ID), "{sid}", id(s)).Replace(p), true
	case strings.HasPrefix(p, "/admin/engagements/{id}"):
		return strings.Replace(p, "{id}", id(newMessage().ID), 1), true
	case strings.HasPrefix(p, "/admin/lists/uploads/{id}"):
		l := newList()
		u := &regulars.ListUpload{TenantID: l.TenantID, PartnerID: l.PartnerID, ListID: l.ID, FileName: "x.csv", Mode: regulars.UploadReplace, MatchBy: regulars.MatchEmail}
		if err := f.db.CreateUpload(ctx, u); err != nil {
			f.t.Fatal(err)
		}
		if _, err := f.db.FinishUpload(ctx, u, regulars.UploadDone, ""); err != nil {
			f.t.Fatal(err)
		}
		return strings.Replace(p, "{id}", id(u.ID), 1), true
	case strings.HasPrefix(p, "/admin/lists/{id}"):
		return strings.Replace(p, "{id}", id(newList().ID), 1), true
	}
	return "", false
}

// upload posts a multipart form with a file.
func upload(t *testing.T, c *testenv.Client, path, fileName, content string, fields ...string) *testenv.Response {
	t.Helper()
	return uploadAs(t, c, path, "file", fileName, content, fields...)
}

// uploadAs posts a multipart form with a file in the named field.
func uploadAs(t *testing.T, c *testenv.Client, path, field, fileName, content string, fields ...string) *testenv.Response {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for i := 0; i+1 < len(fields); i += 2 {
		mw.WriteField(fields[i], fields[i+1])
	}
	if fileName != "" {
		fw, err := mw.CreateFormFile(field, fileName)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write([]byte(content))
	}
	mw.Close()
	return c.Do(http.MethodPost, path, &body, http.Header{"Content-Type": {mw.FormDataContentType()}})
}

// waitUpload polls an upload's page until it finished, and returns it.
func waitUpload(t *testing.T, c *testenv.Client, path string) *testenv.Response {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		r := c.Get(path)
		wantStatus(t, r, http.StatusOK)
		if !strings.Contains(r.Body, `hx-trigger="every 1s"`) {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("the upload did not finish\n%s", excerpt(r))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// segForm is the editor's form for a rule given as rows of field pairs.
func segForm(name string, rows ...[]string) url.Values {
	v := url.Values{"name": {name}}
	for i, row := range rows {
		k := strconv.Itoa(i)
		v.Add("c", k)
		for j := 0; j+1 < len(row); j += 2 {
			v.Add("c."+k+"."+row[j], row[j+1])
		}
	}
	return v
}

// A segmentation made in the editor is saved with its conditions, counts
// the followers that match, and shows each wrong condition under itself.
func TestSegmentationEditor(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := testenv.NewWorld(t, db)
		srv := testenv.NewServer(t, db)
		c := srv.SignedIn(t, w.Owner.Email)
		young := func(f *regulars.Follower) {
			f.BirthDate, f.Gender, f.Language = "2004-06-01", regulars.GenderFemale, "en"
		}
		older := func(f *regulars.Follower) {
			f.BirthDate, f.Gender, f.Language = "1960-06-01", regulars.GenderFemale, "de"
		}
		for i := range 3 {
			w.AddFollower(t, fmt.Sprintf("YOUNG%d", i), []*regulars.Channel{w.Channel}, young)
		}
		w.AddFollower(t, "OLDER1", []*regulars.Channel{w.Channel}, older)
		w.AddFollower(t, "UNKNWN", []*regulars.Channel{w.Channel})
		w.AddFollower(t, "OTHER1", []*regulars.Channel{w.OtherChannel}, young) // the other partner's follower

		// The live count: three young women, not the other partner's.
		r := c.PostForm("/admin/segmentations/editor/count", segForm("", []string{"type", "age", "min_age", "16", "max_age", "30"}, []string{"type", "gender", "gender", "female"}))
		wantStatus(t, r, http.StatusOK)
		wantText(t, r, `data-count="3"`, "of 5 followers", "YOUNG0")
		noText(t, r, "OLDER1", "OTHER1")

		// Wrong conditions are named, also while editing.
		bad := segForm("Bad", []string{"type", "age", "min_age", "40", "max_age", "20"}, []string{"type", "level", "program", "999999", "min_level", "1", "max_level", "1"})
		r = c.PostForm("/admin/segmentations/editor/count", bad)
		wantText(t, r, "Condition 1 (Age): from 40 is above to 20.")
		r = c.PostForm("/admin/segmentations", bad)
		wantStatus(t, r, http.StatusUnprocessableEntity)
		wantText(t, r, "Condition 1 (Age): from 40 is above to 20.", "Condition 2 (Level): choose one of your gamification or advanced programs")

		r = c.PostForm("/admin/segmentations", segForm("Young women", []string{"type", "age", "min_age", "16", "max_age", "30"}, []string{"type", "gender", "gender", "female"}))
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("create: %d\n%s", r.StatusCode, excerpt(r))
		}
		page := follow(t, c, r)
		wantText(t, page, "Segmentation Young women saved.", `value="16"`, `data-count="3"`)
		segs, err := db.Segmentations(context.Background(), w.Partner.ID)
		if err != nil || len(segs) != 1 || len(segs[0].Rule.Conditions) != 2 || *segs[0].Rule.Conditions[0].MaxAge != 30 {
			t.Fatalf("saved %+v %v", segs, err)
		}
		// The list shows it with its size (loaded by htmx).
		wantText(t, c.Get("/admin/segmentations"), "Young women", "Age 16 to 30")
		wantText(t, c.Get(idPath("/admin/segmentations", segs[0].ID, "/size")), "3")

		// The CSV export lists exactly the matching followers.
		csv := c.Get(idPath("/admin/segmentations", segs[0].ID, "/export"))
		wantStatus(t, csv, http.StatusOK)
		if ct := csv.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
			t.Fatalf("export content type %q", ct)
		}
		lines := strings.Split(strings.TrimSpace(csv.Body), "\n")
		if len(lines) != 4 || !strings.HasPrefix(lines[0], "name,end_user_id,age,gender,language") || !strings.Contains(lines[1], "YOUNG0") {
			t.Fatalf("export:\n%s", csv.Body)
		}

		// Another partner's segmentation is not found.
		other := srv.SignedIn(t, w.OtherOwner.Email)
		wantStatus(t, other.Get(idPath("/admin/segmentations", segs[0].ID, "")), http.StatusNotFound)
	})
}

// A segmentation that a message uses cannot be deleted; the refusal names
// the message. Detached, it can.
func TestSegmentationInUseIsNotDeleted(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := testenv.NewWorld(t, db)
		srv := testenv.NewServer(t, db)
		c := srv.SignedIn(t, w.Owner.Email)
		s := &regulars.Segmentation{TenantID: w.Tenant.ID, PartnerID: w.Partner.ID, Name: "Germans",
			Rule: regulars.Rule{Conditions: []regulars.Condition{{Type: regulars.CondLanguage, Languages: []string{"de"}}}}}
		if err := db.CreateSegmentation(ctx, s, 0); err != nil {
			t.Fatal(err)
		}
		m := &regulars.Engagement{TenantID: w.Tenant.ID, PartnerID: w.Partner.ID, ChannelID: w.Channel.ID, Kind: regulars.KindMessage, Name: "Oktoberfest",
			Message: &regulars.MessageSpec{Text: "Prost", Recurring: regulars.RecurOnce}}
		if err := db.CreateEngagement(ctx, m); err != nil {
			t.Fatal(err)
		}
		segPage := idPath("/admin/segmentations", s.ID, "")
		r := submit(srv, c, segPage, segPage+"/engagements", form("engagement", strconv.FormatInt(m.ID, 10)))
		wantRedirect(t, r, segPage)
		wantText(t, follow(t, c, r), "Oktoberfest now targets Germans.")

		// The engagement page's panel lists it.
		wantText(t, c.Get(idPath("/admin/engagements", m.ID, "/targeting")), "Germans", "Only followers in this segmentation get Oktoberfest")

		r = submit(srv, c, segPage, segPage+"/delete", nil)
		wantRedirect(t, r, segPage)
		wantText(t, follow(t, c, r), "The segmentation Germans is used by Oktoberfest (message). Detach it from it first.")
		if _, err := db.Segmentation(ctx, w.Partner.ID, s.ID); err != nil {
			t.Fatalf("the segmentation is gone: %v", err)
		}

		r = submit(srv, c, idPath("/admin/messages", m.ID, ""), idPath("/admin/engagements", m.ID, "/targeting/"+strconv.FormatInt(s.ID, 10)+"/detach"), nil)
		wantRedirect(t, r, idPath("/admin/messages", m.ID, ""))
		wantRedirect(t, submit(srv, c, segPage, segPage+"/delete", nil), "/admin/segmentations")
		if _, err := db.Segmentation(ctx, w.Partner.ID, s.ID); regulars.ErrorCode(err) != regulars.ENOTFOUND {
			t.Fatalf("after detaching, delete left it: %v", err)
		}
	})
}

// An upload reports every row: matched, duplicate, unknown, invalid, with
// the rejected rows downloadable; append adds, replace replaces; bad files
// are refused and leave the list as it was; a list in use is not deleted.
func TestListUpload(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := testenv.NewWorld(t, db)
		srv := testenv.NewServer(t, db)
		c := srv.SignedIn(t, w.Owner.Email)
		for i := range 4 {
			w.AddFollower(t, fmt.Sprintf("LST%03d", i), []*regulars.Channel{w.Channel}, func(f *regulars.Follower) { f.Email = fmt.Sprintf("l%d@x.example", i) })
		}
		w.AddFollower(t, "BEE001", []*regulars.Channel{w.OtherChannel}, func(f *regulars.Follower) { f.Email = "theirs@x.example" })

		file := "name;email\nAna;l0@x.example\nBen;L1@X.example\nAna again;l0@x.example\nNobody;nobody@x.example\nTheirs;theirs@x.example\nBroken;not-an-email\n"
		r := upload(t, c, "/admin/lists", "guests.csv", file, "name", "Tasting evening")
		if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Location(), "/admin/lists/uploads/") {
			t.Fatalf("create with a file: %d %q\n%s", r.StatusCode, r.Location(), excerpt(r))
		}
		report := waitUpload(t, c, r.Location())
		wantText(t, report, "Done: the list has 2 followers", `id="r-rows">6<`, `id="r-matched">2<`, `id="r-duplicates">1<`, `id="r-unknown">2<`, `id="r-invalid">1<`)
		rejected := c.Get(r.Location() + "/rejected.csv")
		wantStatus(t, rejected, http.StatusOK)
		want := "line,email,reason,detail\n" +
			"4,l0@x.example,duplicate,Already on line 2.\n" +
			"5,nobody@x.example,unknown,No follower of yours has this email.\n" +
			"6,theirs@x.example,unknown,No follower of yours has this email.\n" +
			"7,not-an-email,invalid,Not an email address like name@example.com.\n"
		if rejected.Body != want {
			t.Fatalf("rejected rows:\n%s\nwant:\n%s", rejected.Body, want)
		}
		lists, _ := db.Lists(ctx, w.Partner.ID)
		l := lists[0]
		listPage := idPath("/admin/lists", l.ID, "")

		// Append by end-user ID: one new, one already in the list.
		r = upload(t, c, listPage+"/upload", "more.txt", "end_user_id\nLST002\nlst000\n", "mode", "append")
		report = waitUpload(t, c, r.Location())
		wantText(t, report, "Done: the list has 3 followers", `id="r-matched">1<`, `id="r-duplicates">1<`)
		if got, _ := db.List(ctx, w.Partner.ID, l.ID); got.MemberCount != 3 {
			t.Fatalf("after append: %d members", got.MemberCount)
		}

		// Refused files change nothing.
		for _, tc := range []struct{ name, content, want string }{
			{"empty.csv", "", "The file is empty."},
			{"photo.png", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "Upload a CSV or plain text file (.csv or .txt); .png files are not lists."},
			{"photo.csv", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "This file is not a CSV or text file (it looks like image/png)."},
			{"sheet.xlsx", "PK\x03\x04", "This is a spreadsheet file."},
			{"nohead.csv", "someone@x.example\n", "The first line must name the identifier column"},
			{"header-only.csv", "email\n", "The file has no rows after the header line."},
		} {
			r := upload(t, c, listPage+"/upload", tc.name, tc.content, "mode", "replace")
			if r.StatusCode == http.StatusSeeOther {
				r = waitUpload(t, c, r.Location())
			}
			wantText(t, r, tc.want)
			if got, _ := db.List(ctx, w.Partner.ID, l.ID); got.MemberCount != 3 || got.Generation != l.Generation && got.MemberCount != 3 {
				t.Fatalf("%s changed the list: %+v", tc.name, got)
			}
		}

		// Replace: the list is exactly the file's followers.
		r = upload(t, c, listPage+"/upload", "new.csv", "email\nl3@x.example\n", "mode", "replace")
		wantText(t, waitUpload(t, c, r.Location()), "Done: the list has 1 follower")
		ids, _ := db.ListMemberIDs(ctx, l.ID, 0, 10)
		if len(ids) != 1 {
			t.Fatalf("after replace: %v", ids)
		}

		// Rename, and the refusal to delete while a segmentation uses it.
		wantRedirect(t, submit(srv, c, listPage, listPage, form("name", "Tasting, March")), listPage)
		s := &regulars.Segmentation{TenantID: w.Tenant.ID, PartnerID: w.Partner.ID, Name: "Tasters", Rule: regulars.Rule{Conditions: []regulars.Condition{{Type: regulars.CondList, ListIDs: []int64{l.ID}}}}}
		if err := db.CreateSegmentation(ctx, s, 0); err != nil {
			t.Fatal(err)
		}
		r = submit(srv, c, listPage, listPage+"/delete", nil)
		wantText(t, follow(t, c, r), "The list Tasting, March is used by the segmentation Tasters. Remove it from it first.")
		other := srv.SignedIn(t, w.OtherOwner.Email)
		wantStatus(t, other.Get(listPage), http.StatusNotFound)
	})
}
