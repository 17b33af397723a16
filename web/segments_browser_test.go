package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"regulars"
	"regulars/internal/testenv"
	"regulars/store"
)

// countIs waits until the live count shows want, and returns it.
func countIs(t *testing.T, ctx context.Context, want string) {
	t.Helper()
	waitTrue(t, ctx, fmt.Sprintf(`document.querySelector("#segment-count")?.dataset.count === %q`, want), "the live count showing "+want)
}

// TestBrowserSegmentationTargetsAMessage is the seed's path: upload a list
// (with bad rows, and download them), build a segmentation of four
// criteria watching the count change at each, use it in a message, and see
// that only the matching followers receive the message.
func TestBrowserSegmentationTargetsAMessage(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := testenv.NewWorld(t, db)
		srv := testenv.NewServer(t, db)
		now := time.Now().UTC()
		young := now.AddDate(-25, 0, 0).Format("2006-01-02")
		old := now.AddDate(-60, 0, 0).Format("2006-01-02")
		type who struct {
			euid, birth, gender, lang string
		}
		people := []who{
			{"ANNA01", young, "female", "en"}, // all four criteria
			{"BEA002", young, "female", "de"}, // all four criteria
			{"CARL03", young, "male", "en"},   // not a woman
			{"DORA04", old, "female", "en"},   // too old
			{"EMMA05", young, "female", "fr"}, // speaks French
			{"FAYE06", young, "female", "en"}, // not on the list
			{"GINA07", "", "female", "en"},    // age unknown
		}
		byEUID := map[string]*regulars.Follower{}
		for i, p := range people {
			byEUID[p.euid] = w.AddFollower(t, p.euid, []*regulars.Channel{w.Channel}, func(f *regulars.Follower) {
				f.BirthDate, f.Gender, f.Language, f.Email = p.birth, p.gender, p.lang, fmt.Sprintf("p%d@guests.example", i)
			})
		}
		msg := &regulars.Engagement{TenantID: w.Tenant.ID, PartnerID: w.Partner.ID, ChannelID: w.Channel.ID, Kind: regulars.KindMessage, Name: "Tasting invitation",
			Message: &regulars.MessageSpec{Text: "You are invited to our spring tasting.", Recurring: regulars.RecurOnce}}
		if err := db.CreateEngagement(ctx, msg); err != nil {
			t.Fatal(err)
		}

		b := testenv.Browser(t, testenv.BrowserTimeout(90*time.Second))
		browserSignIn(t, b, srv, w.Owner.Email, testenv.Password)

		// A list from a CSV with a duplicate, an unknown and an invalid row.
		dir := t.TempDir()
		file := filepath.Join(dir, "guests.csv")
		csv := "name,email\nAnna,p0@guests.example\nBea,p1@guests.example\nCarl,p2@guests.example\nDora,p3@guests.example\n" +
			"Emma,p4@guests.example\nGina,p6@guests.example\nAnna twice,P0@guests.example\nStranger,nobody@guests.example\nTypo,p7-at-guests\n"
		if err := os.WriteFile(file, []byte(csv), 0o600); err != nil {
			t.Fatal(err)
		}
		testenv.Do(t, b,
			chromedp.Click(`#drawer a[href="/admin/lists"]`),
			chromedp.Click(`#new-list`),
			chromedp.SendKeys(`#f-name`, "Spring tasting guests"),
			chromedp.SetUploadFiles(`#f-file`, []string{file}),
			chromedp.Click(`#create-list`),
		)
		testenv.WaitText(t, b, "#upload-report h2", "Done: the list has 6 followers")
		for sel, want := range map[string]string{"#r-rows": "9", "#r-matched": "6", "#r-duplicates": "1", "#r-unknown": "1", "#r-invalid": "1"} {
			if got := testenv.Text(t, b, sel); got != want {
				t.Errorf("report %s = %q, want %q", sel, got, want)
			}
		}
		// The rejected rows, downloaded the way the link does.
		rejected := testenv.Run(t, b, chromedp.Evaluate[string](`fetch(document.querySelector("#rejected-csv").href).then(r => r.text())`, chromedp.EvalAwaitPromise))
		wantRejected := "line,email,reason,detail\n8,P0@guests.example,duplicate,Already on line 2.\n9,nobody@guests.example,unknown,No follower of yours has this email.\n10,p7-at-guests,invalid,Not an email address like name@example.com.\n"
		if rejected != wantRejected {
			t.Errorf("rejected rows CSV:\n%s\nwant:\n%s", rejected, wantRejected)
		}

		// The segmentation, condition by condition, the count following.
		testenv.Do(t, b,
			chromedp.Click(`#drawer a[href="/admin/segmentations"]`),
			chromedp.Click(`#new-segmentation`),
			chromedp.WaitVisible(`#segment-count`),
			chromedp.SendKeys(`#f-name`, "Young English or German speaking guests"),
		)
		countIs(t, b, "6") // the default condition, age 18 to 99: everyone with a known age
		testenv.Do(t, b,
			chromedp.SetValue(`input[name$=".max_age"]`, ""),
			chromedp.SendKeys(`input[name$=".max_age"]`, "40"),
		)
		countIs(t, b, "5") // 1. age 18 to 40
		testenv.Do(t, b,
			chromedp.SetValue(`#add-type`, "gender"),
			chromedp.Click(`#add-condition`),
			chromedp.WaitVisible(`input[name$=".gender"][value="female"]`),
			chromedp.Click(`input[name$=".gender"][value="female"]`),
		)
		countIs(t, b, "4") // 2. women
		testenv.Do(t, b,
			chromedp.SetValue(`#add-type`, "language"),
			chromedp.Click(`#add-condition`),
			chromedp.WaitVisible(`input[name$=".language"][value="en"]`),
			chromedp.Click(`input[name$=".language"][value="en"]`),
			chromedp.Click(`input[name$=".language"][value="de"]`),
		)
		countIs(t, b, "3") // 3. English or German
		testenv.Do(t, b,
			chromedp.SetValue(`#add-type`, "list"),
			chromedp.Click(`#add-condition`),
			chromedp.WaitVisible(`input[name$=".list"]`),
			chromedp.Click(`input[name$=".list"]`),
		)
		countIs(t, b, "2") // 4. on the list
		preview := testenv.Text(t, b, "#preview")
		if !strings.Contains(preview, "ANNA01") || !strings.Contains(preview, "BEA002") || strings.Contains(preview, "FAYE06") {
			t.Errorf("the preview shows:\n%s", preview)
		}
		testenv.Do(t, b, chromedp.Click(`#save-segmentation`))
		testenv.WaitText(t, b, ".flash", "Segmentation Young English or German speaking guests saved.")

		// Used in the message, which is then published and delivered.
		testenv.Do(t, b,
			chromedp.SetValue(`#f-attach`, fmt.Sprint(msg.ID)),
			chromedp.Click(`#attach`),
		)
		testenv.WaitText(t, b, ".flash", "Tasting invitation now targets Young English or German speaking guests.")
		testenv.Do(t, b, chromedp.Navigate(srv.URL+fmt.Sprintf("/admin/messages/%d", msg.ID)))
		testenv.WaitText(t, b, "#targeting", "Only followers in this segmentation get Tasting invitation")
		testenv.Do(t, b, chromedp.Click(`#publish`))
		confirm(t, b)
		testenv.WaitText(t, b, ".flash", "")
		if err := srv.App.DeliverDue(ctx); err != nil {
			t.Fatal(err)
		}
		var got []string
		for euid, f := range byEUID {
			n, err := db.CountDeliveredTo(ctx, msg.ID, f.ID)
			if err != nil {
				t.Fatal(err)
			}
			if n > 0 {
				got = append(got, euid)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, []string{"ANNA01", "BEA002"}) {
			t.Fatalf("the message reached %v, want exactly ANNA01 and BEA002", got)
		}
		testenv.Do(t, b, chromedp.Navigate(srv.URL+fmt.Sprintf("/admin/messages/%d", msg.ID)))
		testenv.WaitText(t, b, "#runs", "2 / 2")
	})
}
