package web_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"

	"regulars/files"
	"regulars/internal/testenv"
	"regulars/store"
)

// The engagement form's picture: kept only when the form is saved, shown
// on the form and served, and the form comes back with what was typed
// when something else in it is wrong.
func TestEngagementFormPicture(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := testenv.NewWorld(t, db)
		srv := testenv.NewServer(t, db)
		disk, ok := srv.App.Media.(*files.Disk)
		if !ok {
			t.Fatalf("pictures are stored in a %T, not the data folder", srv.App.Media)
		}
		dir := disk.Dir
		stored := func() int {
			entries, err := os.ReadDir(dir)
			if err != nil && !os.IsNotExist(err) { // made with the first picture
				t.Fatal(err)
			}
			return len(entries)
		}
		o := srv.SignedIn(t, w.Owner.Email)
		png := "\x89PNG\r\n\x1a\n" + strings.Repeat("\x00", 2000)
		fields := []string{"channel", fmt.Sprint(w.Channel.ID), "name", "Spring menu", "text", ""}
		// The partner's one channel is chosen already.
		wantText(t, o.Get("/admin/messages/new"), fmt.Sprintf(`<option value="%d" selected>`, w.Channel.ID))

		r := uploadAs(t, o, "/admin/messages", "image", "menu.png", png, fields...)
		wantStatus(t, r, http.StatusUnprocessableEntity)
		wantFieldError(t, r, "text", "Write the message")
		wantText(t, r, `required aria-invalid="true" aria-describedby="e-text">`)
		wantText(t, r, `value="Spring menu"`)
		if n := stored(); n != 0 {
			t.Fatalf("a refused form kept %d pictures", n)
		}
		r = uploadAs(t, o, "/admin/messages", "image", "menu.pdf", "%PDF-1.4", append(fields[:4:4], "text", "New dishes")...)
		wantFieldError(t, r, "image", "PNG, JPEG, GIF or WebP")

		r = uploadAs(t, o, "/admin/messages", "image", "menu.png", png, append(fields[:4:4], "text", "New dishes")...)
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("saving: %d\n%s", r.StatusCode, excerpt(r))
		}
		page := follow(t, o, r)
		list, err := db.Engagements(context.Background(), w.Partner.ID, "message", "")
		if err != nil || len(list) != 1 || list[0].Image == "" {
			t.Fatalf("engagements %v, %v", list, err)
		}
		wantText(t, page, `src="/media/`+list[0].Image+`"`)
		if n := stored(); n != 1 {
			t.Fatalf("%d pictures stored, want 1", n)
		}
		pic := o.Get("/media/" + list[0].Image)
		if pic.StatusCode != http.StatusOK || pic.Body != png || pic.Header.Get("Content-Type") != "image/png" {
			t.Fatalf("the picture: %d, %d bytes, %s", pic.StatusCode, len(pic.Body), pic.Header.Get("Content-Type"))
		}

		// A picture that does not fit the storage: the form comes back
		// with the reason and what was typed, and nothing is stored.
		ctx := context.Background()
		pkg := *w.Package
		pkg.Limits = map[string]int64{"storage_gb": 1}
		if err := db.UpdatePackage(ctx, &pkg); err != nil {
			t.Fatal(err)
		}
		st, err := srv.App.PartnerStorage(ctx, w.Tenant.ID, w.Partner.ID)
		if err != nil || !st.Limited {
			t.Fatalf("storage %+v, %v", st, err)
		}
		if err := srv.App.ReserveStorage(ctx, w.Tenant.ID, w.Partner.ID, st.Free()-100); err != nil {
			t.Fatal(err)
		}
		r = uploadAs(t, o, "/admin/messages", "image", "menu.png", png, append(fields[:4:4], "text", "Autumn dishes")...)
		wantStatus(t, r, http.StatusConflict)
		wantText(t, r, "Not enough storage", "Autumn dishes")
		if n := stored(); n != 1 {
			t.Fatalf("%d pictures stored after a refusal, want 1", n)
		}
	})
}
