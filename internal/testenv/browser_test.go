package testenv

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

func testServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><title>Hello page</title>
<h1 id="greeting">Hello, regulars</h1>
<p id="later">waiting</p>
<script>
console.log("page loaded");
setTimeout(() => { document.getElementById("later").textContent = "arrived"; }, 300);
</script>`)
	})
	mux.HandleFunc("/set", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "who", Value: r.URL.Query().Get("who"), Path: "/"})
		fmt.Fprint(w, `<p id="done">set</p><script>localStorage.setItem("who", "`+r.URL.Query().Get("who")+`")</script>`)
	})
	mux.HandleFunc("/get", func(w http.ResponseWriter, r *http.Request) {
		who := "nobody"
		if c, err := r.Cookie("who"); err == nil {
			who = c.Value
		}
		fmt.Fprintf(w, `<p id="cookie">%s</p><p id="storage"></p>
<script>document.getElementById("storage").textContent = localStorage.getItem("who") || "empty"</script>`, who)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestBrowserReadsPage(t *testing.T) {
	t.Parallel()
	srv := testServer(t)
	start := time.Now()
	ctx := Browser(t)
	t.Logf("Browser took %v", time.Since(start))

	Do(t, ctx, chromedp.Navigate(srv.URL))
	if got := Text(t, ctx, "#greeting"); got != "Hello, regulars" {
		t.Errorf("greeting = %q", got)
	}
	if got := Run(t, ctx, chromedp.Title()); got != "Hello page" {
		t.Errorf("title = %q", got)
	}
	if got := WaitText(t, ctx, "#later", "arrived"); got != "arrived" {
		t.Errorf("later = %q", got)
	}
}

func TestBrowserContextsAreIsolated(t *testing.T) {
	t.Parallel()
	srv := testServer(t)
	start := time.Now()
	a := Browser(t, BrowserName("a"))
	b := Browser(t, BrowserName("b"))
	t.Logf("two Browser calls took %v", time.Since(start))

	Do(t, a, chromedp.Navigate(srv.URL+"/set?who=a"), chromedp.WaitVisible(chromedp.ID("done")))
	Do(t, a, chromedp.Navigate(srv.URL+"/get"))
	if got := Text(t, a, "#cookie"); got != "a" {
		t.Errorf("a: cookie = %q, want a", got)
	}
	WaitText(t, a, "#storage", "a")

	Do(t, b, chromedp.Navigate(srv.URL+"/get"))
	if got := Text(t, b, "#cookie"); got != "nobody" {
		t.Errorf("b: cookie = %q, want nobody", got)
	}
	if got := WaitText(t, b, "#storage", "empty"); got != "empty" {
		t.Errorf("b: storage = %q, want empty", got)
	}
}

func TestBrowserSavesFailure(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(ArtifactsEnv, dir)
	srv := testServer(t)
	ctx := Browser(t)
	Do(t, ctx, chromedp.Navigate(srv.URL))
	WaitText(t, ctx, "#later", "arrived")

	if path := Screenshot(t, ctx, "hello"); path != filepath.Join(dir, "TestBrowserSavesFailure.hello.png") {
		t.Errorf("Screenshot saved %q", path)
	}
	// What the cleanup of a failed test does.
	var log strings.Builder
	saveFailure(logTB{t, &log}, ctx, "", collectConsole(ctx))
	png, err := os.ReadFile(filepath.Join(dir, "TestBrowserSavesFailure.png"))
	if err != nil || !strings.HasPrefix(string(png), "\x89PNG") {
		t.Errorf("screenshot: %v", err)
	}
	html, err := os.ReadFile(filepath.Join(dir, "TestBrowserSavesFailure.html"))
	if err != nil || !strings.Contains(string(html), `<p id="later">arrived</p>`) {
		t.Errorf("HTML: %v\n%s", err, html)
	}
	if !strings.Contains(log.String(), srv.URL) {
		t.Errorf("the log does not name the page:\n%s", log.String())
	}
}

// logTB keeps the log of a test.
type logTB struct {
	*testing.T
	log *strings.Builder
}

func (l logTB) Logf(format string, args ...any) {
	fmt.Fprintf(l.log, format+"\n", args...)
	l.T.Logf(format, args...)
}
