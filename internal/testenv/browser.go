package testenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Environment variables of the browser tests.
const (
	// ChromiumEnv names the browser binary. Without it, Browser looks for
	// chromium, chromium-browser and google-chrome on PATH.
	ChromiumEnv = "REGULARS_TEST_CHROMIUM"
	// BrowserEnv set to 1 makes a missing browser fail the test, as in CI.
	// Set to 0, it skips the browser tests.
	BrowserEnv = "REGULARS_TEST_BROWSER"
	// ArtifactsEnv names the folder for the screenshots and the HTML of failed
	// browser tests. The default is regulars-test-artifacts in os.TempDir().
	ArtifactsEnv = "REGULARS_TEST_ARTIFACTS"
)

// DefaultBrowserTimeout is how long a browser context of Browser lives,
// unless BrowserTimeout sets another time.
const DefaultBrowserTimeout = 60 * time.Second

// WaitTimeout is how long WaitText waits at most.
const WaitTimeout = 15 * time.Second

// browserStartTimeout is how long the start of the browser process may take.
const browserStartTimeout = 60 * time.Second

// profilePrefix starts the name of the profile folder of each browser
// process. The name goes on with the process id of the test binary, so that a
// later test binary can remove the folders of binaries that have ended.
const profilePrefix = "regulars-chromium-"

// browserFlags are the command line flags of the browser.
var browserFlags = []chromedp.ExecAllocatorOption{
	chromedp.Flag("headless", true),
	chromedp.Flag("no-sandbox", true),
	chromedp.Flag("disable-gpu", true),
	chromedp.Flag("disable-background-networking", true),
	chromedp.Flag("disable-component-update", true),
	chromedp.Flag("disable-sync", true),
	chromedp.Flag("disable-quic", true),
	chromedp.Flag("no-first-run", true),
	chromedp.Flag("no-default-browser-check", true),
	// Small /dev/shm in containers makes the browser crash.
	chromedp.Flag("disable-dev-shm-usage", true),
	chromedp.Flag("disable-extensions", true),
	chromedp.Flag("disable-default-apps", true),
	chromedp.Flag("disable-breakpad", true),
	chromedp.Flag("disable-hang-monitor", true),
	chromedp.Flag("disable-features", "Translate,MediaRouter,OptimizationHints"),
	// Several users of one test each have a window, and only one of them
	// can be in front. Keep the others at full speed.
	chromedp.Flag("disable-background-timer-throttling", true),
	chromedp.Flag("disable-backgrounding-occluded-windows", true),
	chromedp.Flag("disable-renderer-backgrounding", true),
	chromedp.Flag("password-store", "basic"),
	chromedp.Flag("use-mock-keychain", true),
	chromedp.Flag("hide-scrollbars", true),
	chromedp.Flag("mute-audio", true),
	chromedp.Flag("force-color-profile", "srgb"),
	chromedp.WindowSize(1280, 900),
}

// BrowserOption changes a browser context of Browser.
type BrowserOption func(*browserConfig)

type browserConfig struct {
	timeout time.Duration
	name    string
}

// BrowserTimeout sets how long the browser context lives. After it, every
// action on the context fails.
func BrowserTimeout(d time.Duration) BrowserOption {
	return func(c *browserConfig) { c.timeout = d }
}

// BrowserName names the browser context in the names of the files that a
// failure saves, such as "agent-a". By default the files of the first context
// of a test have no such name, and the others are called browser2, browser3
// and so on.
func BrowserName(name string) BrowserOption {
	return func(c *browserConfig) { c.name = name }
}

// Browser returns a chromedp context for a new, isolated browser context of a
// headless browser: it has its own cookies and storage, like a private
// window. Several calls in one test give independent users:
//
//	agent := testenv.Browser(t, testenv.BrowserName("agent"))
//	follower := testenv.Browser(t, testenv.BrowserName("follower"))
//	testenv.Do(t, agent, chromedp.Navigate(srv.URL))
//	title := testenv.Run(t, agent, chromedp.Title())
//
// chromedp.NewContext(ctx) opens a second tab of the same user. All the calls
// of one test binary share one browser process, which starts at the first
// call. The context ends after DefaultBrowserTimeout. When the test
// has failed, a cleanup saves a full-page screenshot, the HTML and the console
// messages of the page in the artifacts folder (see ArtifactsEnv), and logs
// where.
//
// Without a browser, the test is skipped, or it fails when CI is true or
// REGULARS_TEST_BROWSER=1.
func Browser(t testing.TB, opts ...BrowserOption) context.Context {
	t.Helper()
	cfg := browserConfig{timeout: DefaultBrowserTimeout}
	for _, o := range opts {
		o(&cfg)
	}
	switch os.Getenv(BrowserEnv) {
	case "0", "false":
		if _, dup := warned.LoadOrStore("browser off", true); !dup {
			fmt.Fprintf(os.Stderr, "\n!!! WARNING: browser tests are SKIPPED: %s=0\n\n", BrowserEnv)
		}
		t.Skipf("SKIPPING: browser tests are off (%s=0)", BrowserEnv)
	}

	b, err := sharedBrowser()
	var notFound *chromiumNotFoundError
	switch {
	case errors.As(err, &notFound):
		if os.Getenv(BrowserEnv) == "1" {
			t.Fatalf("%v (%s=1: a missing browser is a failure)", err, BrowserEnv)
		}
		missing(t, "Chromium", "browser tests need Chromium: "+err.Error())
	case err != nil:
		t.Fatalf("testenv: starting the browser: %v", err)
	}

	tabCtx, tabCancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	if err := chromedp.Do(tabCtx); err != nil {
		tabCancel()
		t.Fatalf("testenv: opening a browser context: %v", err)
	}
	console := collectConsole(tabCtx)

	label := cfg.name
	if n := browserCount(t); label == "" && n > 1 {
		label = "browser" + strconv.Itoa(n)
	}
	ctx, cancel := context.WithTimeout(tabCtx, cfg.timeout)
	t.Cleanup(func() {
		cancel()
		if t.Failed() {
			saveFailure(t, tabCtx, label, console)
		}
		tabCancel()
	})
	return ctx
}

// Do runs the actions in the browser context ctx, and fails the test on the
// first error.
func Do(t testing.TB, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("browser: %v", explain(err))
	}
}

// Click waits until an element matches the CSS selector and is visible,
// and clicks it. An element that a live update replaced between the two
// (the page redrew a list) is looked up again and clicked, a few times,
// rather than failing the test with "Could not find node".
func Click(t testing.TB, ctx context.Context, css string) {
	t.Helper()
	var err error
	for range 5 {
		err = chromedp.Do(ctx, chromedp.WaitVisible(css), chromedp.Click(css, chromedp.NodeVisible))
		if err == nil || !replaced(err) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("browser: clicking %s: %v", css, explain(err))
	}
}

// replaced reports whether err says the node acted on left the document
// while the action ran.
func replaced(err error) bool {
	s := err.Error()
	return strings.Contains(s, "Could not find node") || strings.Contains(s, "not attached") || strings.Contains(s, "detached")
}

// explain adds a hint to the error of an action that ran out of time.
func explain(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w (the browser context ended; testenv.Browser gives it %v unless BrowserTimeout says otherwise)", err, DefaultBrowserTimeout)
	}
	return err
}

// Run runs one action in the browser context ctx and returns its value. It
// fails the test on an error.
//
//	html := testenv.Run(t, ctx, chromedp.OuterHTML(chromedp.CSS("main")))
func Run[T any](t testing.TB, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("browser: %v", explain(err))
	}
	return v
}

// Text waits until an element matches the CSS selector, and returns its
// visible text.
func Text(t testing.TB, ctx context.Context, css string) string {
	t.Helper()
	return Run(t, ctx, chromedp.Text(chromedp.CSS(css)))
}

// WaitText waits until the visible text of the first element that matches
// the CSS selector contains want, and returns the text. It fails the test
// after WaitTimeout, with the last text that it saw.
func WaitText(t testing.TB, ctx context.Context, css, want string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, WaitTimeout)
	defer cancel()
	type state struct {
		Found bool   `json:"found"`
		Text  string `json:"text"`
	}
	js := fmt.Sprintf(`(() => { const e = document.querySelector(%s); return e ? {found: true, text: e.innerText} : {found: false, text: ""}; })()`,
		strconv.Quote(css))
	var last state
	var lastErr error
	for {
		s, err := chromedp.Run(ctx, chromedp.Evaluate[state](js))
		if err == nil {
			last, lastErr = s, nil
			if s.Found && strings.Contains(s.Text, want) {
				return s.Text
			}
		} else if ctx.Err() == nil {
			// The page can be between two documents.
			lastErr = err
		}
		select {
		case <-ctx.Done():
			switch {
			case lastErr != nil:
				t.Fatalf("browser: waiting for %q in %s: %v", want, css, lastErr)
			case !last.Found:
				t.Fatalf("browser: waiting for %q in %s: no element matches", want, css)
			default:
				t.Fatalf("browser: waiting for %q in %s: the text is %q", want, css, last.Text)
			}
			return ""
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Screenshot saves a full-page PNG screenshot of the page of ctx in the
// artifacts folder, logs the path and returns it. The file name is made of
// the test name and name. An error is logged, and does not fail the test.
func Screenshot(t testing.TB, ctx context.Context, name string) string {
	t.Helper()
	path, err := screenshot(ctx, artifactBase(t, name)+".png")
	if err != nil {
		t.Logf("testenv: screenshot %s: %v", name, err)
		return ""
	}
	t.Logf("screenshot: %s", path)
	return path
}

// ArtifactsDir returns the folder for the files of failed tests, and creates
// it.
func ArtifactsDir() (string, error) {
	dir := os.Getenv(ArtifactsEnv)
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "regulars-test-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	return filepath.Abs(dir)
}

// artifactBase returns the path of the files of the test, without extension.
// It returns "" when there is no artifacts folder.
func artifactBase(t testing.TB, label string) string {
	dir, err := ArtifactsDir()
	if err != nil {
		t.Logf("testenv: artifacts folder: %v", err)
		return ""
	}
	base := fileSafe(t.Name())
	if label != "" {
		base += "." + fileSafe(label)
	}
	return filepath.Join(dir, base)
}

func screenshot(ctx context.Context, path string) (string, error) {
	if path == ".png" {
		return "", errors.New("no artifacts folder")
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return "", err
	}
	return path, os.WriteFile(path, png, 0o644)
}

// saveFailure saves what the page of a failed test shows.
func saveFailure(t testing.TB, tabCtx context.Context, label string, console *consoleLog) {
	base := artifactBase(t, label)
	if base == "" {
		return
	}
	ctx, cancel := context.WithTimeout(tabCtx, 10*time.Second)
	defer cancel()
	what := "browser"
	if label != "" {
		what = label
	}
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err == nil {
		t.Logf("%s: the page was %s", what, loc)
	}
	if path, err := screenshot(ctx, base+".png"); err != nil {
		t.Logf("%s: no screenshot: %v", what, err)
	} else {
		t.Logf("%s: screenshot: %s", what, path)
	}
	if html, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement ? document.documentElement.outerHTML : ""`)); err != nil {
		t.Logf("%s: no HTML: %v", what, err)
	} else if err := os.WriteFile(base+".html", []byte(html), 0o644); err != nil {
		t.Logf("%s: saving the HTML: %v", what, err)
	} else {
		t.Logf("%s: HTML: %s", what, base+".html")
	}
	if lines := console.lines(); len(lines) > 0 {
		text := strings.Join(lines, "\n") + "\n"
		if err := os.WriteFile(base+".console.txt", []byte(text), 0o644); err == nil {
			t.Logf("%s: console: %s", what, base+".console.txt")
		}
		const show = 20
		if len(lines) > show {
			lines = lines[len(lines)-show:]
		}
		t.Logf("%s: last console messages:\n\t%s", what, strings.Join(lines, "\n\t"))
	}
}

// consoleLog keeps the console messages of a page.
type consoleLog struct {
	mu   sync.Mutex
	msgs []string
}

func (c *consoleLog) lines() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.msgs...)
}

// collectConsole keeps the console messages of the page of ctx until ctx ends.
func collectConsole(ctx context.Context) *consoleLog {
	c := new(consoleLog)
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			line := m.String()
			if m.URL != "" {
				line += fmt.Sprintf(" (%s:%d)", m.URL, m.Line+1)
			}
			c.mu.Lock()
			if len(c.msgs) < 1000 {
				c.msgs = append(c.msgs, line)
			}
			c.mu.Unlock()
		}
	}()
	return c
}

// browserCounts counts the calls of Browser of each test.
var browserCounts sync.Map // test name -> *int

var browserCountMu sync.Mutex

func browserCount(t testing.TB) int {
	name := t.Name()
	v, loaded := browserCounts.LoadOrStore(name, new(int))
	if !loaded {
		t.Cleanup(func() { browserCounts.Delete(name) })
	}
	browserCountMu.Lock()
	defer browserCountMu.Unlock()
	n := v.(*int)
	*n++
	return *n
}

// chromiumNotFoundError says that no browser binary was found.
type chromiumNotFoundError struct{ msg string }

func (e *chromiumNotFoundError) Error() string { return e.msg }

// findChromium returns the path of the browser binary.
func findChromium() (string, error) {
	if p := os.Getenv(ChromiumEnv); p != "" {
		path, err := exec.LookPath(p)
		if err != nil {
			return "", &chromiumNotFoundError{fmt.Sprintf("%s=%s: %v", ChromiumEnv, p, err)}
		}
		return path, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "/usr/bin/chromium"} {
		if path, err := exec.LookPath(name); err == nil {
			return skipLauncher(path), nil
		}
	}
	return "", &chromiumNotFoundError{"no chromium, chromium-browser or google-chrome on PATH; install Chromium or set " + ChromiumEnv}
}

// skipLauncher returns the browser binary behind the shell script that
// Debian installs as chromium. The script only adds flags for a desktop, and
// it takes about 0.3 seconds of each start.
func skipLauncher(path string) string {
	const binary = "/usr/lib/chromium/chromium"
	if filepath.Base(path) != "chromium" {
		return path
	}
	f, err := os.Open(path)
	if err != nil {
		return path
	}
	defer f.Close()
	head := make([]byte, 2)
	if _, err := io.ReadFull(f, head); err != nil || string(head) != "#!" {
		return path
	}
	if info, err := os.Stat(binary); err != nil || info.Mode()&0o111 == 0 {
		return path
	}
	return binary
}

// browserProcess is the browser process of the test binary.
type browserProcess struct {
	ctx         context.Context // the first tab, which owns the process
	cancel      context.CancelFunc
	allocCancel context.CancelFunc
	dir         string
}

var (
	browserMu  sync.Mutex
	browserCur *browserProcess
	browserErr error // the start failed; do not try again
)

// sharedBrowser returns the browser process of the test binary, and starts
// it when there is none or when it has died.
func sharedBrowser() (*browserProcess, error) {
	browserMu.Lock()
	defer browserMu.Unlock()
	if browserErr != nil {
		return nil, browserErr
	}
	if browserCur != nil {
		if browserCur.ctx.Err() == nil {
			return browserCur, nil
		}
		go browserCur.close()
		browserCur = nil
	}
	browserCur, browserErr = startBrowser()
	return browserCur, browserErr
}

func startBrowser() (*browserProcess, error) {
	path, err := findChromium()
	if err != nil {
		return nil, err
	}
	removeStaleProfiles()
	dir, err := os.MkdirTemp("", profilePrefix+strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		return nil, err
	}
	opts := append([]chromedp.ExecAllocatorOption{chromedp.ExecPath(path), chromedp.UserDataDir(dir)}, browserFlags...)
	allocCtx, allocCancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx,
		// The protocol errors of pages that a test leaves are noise.
		chromedp.WithErrorf(func(string, ...any) {}))
	b := &browserProcess{ctx: ctx, cancel: cancel, allocCancel: allocCancel, dir: dir}

	// The first Run starts the process and binds it to ctx, so it must not
	// get a context with a deadline. Stop it from outside instead.
	timedOut := false
	timer := time.AfterFunc(browserStartTimeout, func() {
		timedOut = true
		cancel()
	})
	err = chromedp.Do(ctx)
	if !timer.Stop() {
		// The timer func may still run; wait for it to finish.
		<-ctx.Done()
	}
	if err != nil {
		b.close()
		if timedOut {
			return nil, fmt.Errorf("%s did not start within %v", path, browserStartTimeout)
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}

func (b *browserProcess) close() {
	b.cancel()
	b.allocCancel()
	os.RemoveAll(b.dir)
}

// removeStaleProfiles removes the profile folders of test binaries that have
// ended. A test binary does not stop its browser at its exit: the kernel does
// that, so the folder stays.
func removeStaleProfiles() {
	entries, err := os.ReadDir(os.TempDir())
	if err != nil {
		return
	}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), profilePrefix)
		if !ok || !e.IsDir() {
			continue
		}
		pidText, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid == os.Getpid() || processAlive(pid) {
			continue
		}
		os.RemoveAll(filepath.Join(os.TempDir(), e.Name()))
	}
}

func processAlive(pid int) bool {
	if runtime.GOOS == "windows" {
		return true // no signal 0 there; keep the folder
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, syscall.EPERM)
}
