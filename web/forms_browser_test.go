package web_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"regulars"
	"regulars/internal/testenv"
)

// A boosted form whose redirect names a place on the page (a canned
// response just added) lands there, scrolled to and focused, instead of
// at the top of the page with the focus on <body>; a refused one puts the
// keyboard on the first field refused; one without a place puts it on
// the page's content, where the flash is.
func TestBrowserBoostedFormsLandWhereTheyPoint(t *testing.T) {
	t.Parallel()
	db := testenv.OpenSQLite(t)
	w := testenv.NewWorld(t, db)
	srv := testenv.NewServer(t, db)
	ctx := context.Background()
	w.AddUser(t, w.Partner.ID, "canny@alpha.example", regulars.Permissions{regulars.FeatureCanned: regulars.LevelManage, regulars.FeatureChat: regulars.LevelView})
	var last *regulars.CannedCategory
	for i := range 12 {
		last = &regulars.CannedCategory{TenantID: w.Tenant.ID, PartnerID: w.Partner.ID, Name: fmt.Sprintf("Category %02d", i)}
		if err := db.CreateCannedCategory(ctx, last); err != nil {
			t.Fatal(err)
		}
		for j := range 3 {
			if err := db.CreateCanned(ctx, &regulars.CannedResponse{TenantID: w.Tenant.ID, PartnerID: w.Partner.ID, CategoryID: last.ID,
				Title: fmt.Sprintf("Answer %d.%d", i, j), Text: "A prepared answer, long enough to take a line or two of the page."}); err != nil {
				t.Fatal(err)
			}
		}
	}
	b := testenv.Browser(t, testenv.BrowserName("canny"))
	testenv.Do(t, b, chromedp.EmulateViewport(1280, 800))
	signInBrowser(t, b, srv.URL, "canny@alpha.example")
	testenv.Do(t, b, chromedp.Navigate(srv.URL+"/admin/canned"), chromedp.WaitVisible(`#canned-new`))

	// Refused (the text is only spaces): the text field has the keyboard.
	testenv.Do(t, b, chromedp.SetValue(`#f-category`, fmt.Sprint(last.ID)), chromedp.SendKeys(`#canned-new input[name=title]`, "Late opening"),
		chromedp.SendKeys(`#f-text`, "   "), chromedp.Click(`#canned-new button[type=submit]`))
	waitTrue(t, b, `document.querySelector("#f-text[aria-invalid=true]") && document.activeElement?.id === "f-text"`, "the refused field focused")

	// Added: the page is at the new response, which has the keyboard.
	testenv.Do(t, b, chromedp.SetValue(`#f-text`, "We open late on Thursdays, until 9."), chromedp.Click(`#canned-new button[type=submit]`))
	waitTrue(t, b, `(() => {
	  const li = [...document.querySelectorAll(".canned-category li[id^=response-]")].find((li) => li.textContent.includes("Late opening"));
	  if (!li) return false;
	  const r = li.getBoundingClientRect();
	  return location.hash === "#" + li.id && scrollY > 300 && r.top >= 0 && r.bottom <= innerHeight && document.activeElement === li &&
	    document.querySelector(".flash")?.textContent.includes("Late opening");
	})()`, "the new response in view and focused, with its flash")
}
