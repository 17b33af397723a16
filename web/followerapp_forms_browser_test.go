package web_test

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"regulars/internal/testenv"
)

// The follower app's forms show a refusal where it belongs: each field's
// message under its field, marked invalid and focused, the summary once
// above the button; correcting it clears them.
func TestBrowserFollowerFormsShowFieldErrors(t *testing.T) {
	t.Parallel()
	c := newChatUX(t)
	ctx := testenv.Browser(t, testenv.BrowserName("follower"))
	testenv.Do(t, ctx, chromedp.EmulateViewport(390, 844), chromedp.Navigate(c.srv.URL+"/app/"),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`localStorage.setItem("regulars.token", %q)`, c.fan.Token)),
		chromedp.Navigate(c.srv.URL+"/app/#/me"), chromedp.WaitVisible(`#profile [name="birth_date"]`))

	testenv.Do(t, ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector('#profile [name="birth_date"]').value = "2999-01-01"`),
		chromedp.Evaluate[chromedp.Void](`document.querySelector("#profile").requestSubmit()`))
	birth := `#profile [name="birth_date"]`
	waitTrue(t, ctx, `document.querySelector('`+birth+`').getAttribute("aria-invalid") === "true"`, "the birth date marked invalid")
	if got := testenv.Text(t, ctx, `#profile .field:has([name="birth_date"]) > .error`); got != "The birth date cannot be in the future." {
		t.Errorf("message under the birth date %q", got)
	}
	if got := testenv.Text(t, ctx, `#profile p.error`); got != "Please correct the highlighted fields." {
		t.Errorf("summary above the button %q, want the detail alone (the field's message is under the field)", got)
	}
	if !testenv.Run(t, ctx, chromedp.Evaluate[bool](`document.activeElement === document.querySelector('`+birth+`')`)) {
		t.Error("the invalid field does not have the focus")
	}
	testenv.Screenshot(t, ctx, "profile-error")

	testenv.Do(t, ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector('`+birth+`').value = "1990-05-17"`),
		chromedp.Evaluate[chromedp.Void](`document.querySelector("#profile").requestSubmit()`))
	testenv.WaitText(t, ctx, "#toast", "Saved.")
	if n := testenv.Run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("#profile .field > .error, #profile [aria-invalid]").length + document.querySelector("#profile p.error").textContent.length`)); n != 0 {
		t.Error("the corrected form still shows errors")
	}
}
