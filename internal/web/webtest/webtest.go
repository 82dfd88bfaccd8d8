// Package webtest drives the web UI in a real headless Chromium (Debian's chromium package) for tests: one
// browser process per test binary, a fresh incognito-like tab per test, helpers to sign in and to save
// screenshots as test artifacts.
package webtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/wagate/wagate/internal/auth"
	"github.com/wagate/wagate/internal/store"
)

// ScreenshotDir is where Screenshot saves its files, relative to the repository root; WAGATE_SCREENSHOTS
// overrides it.
const ScreenshotDir = "artifacts/screenshots"

var (
	once     sync.Once
	allocCtx context.Context
	browser  context.Context
	stop     context.CancelFunc
	startErr error
)

// ChromiumPath finds the browser: WAGATE_TEST_CHROMIUM, else chromium, chromium-browser or google-chrome on PATH.
func ChromiumPath() (string, error) {
	if p := os.Getenv("WAGATE_TEST_CHROMIUM"); p != "" {
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("webtest: no Chromium found: install Debian's chromium package (the test command does) or set WAGATE_TEST_CHROMIUM")
}

func start() {
	path, err := ChromiumPath()
	if err != nil {
		startErr = err
		return
	}
	dir, err := os.MkdirTemp("", "wagate-chromium-")
	if err != nil {
		startErr = err
		return
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(dir),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 860),
	)
	var cancelAlloc context.CancelFunc
	allocCtx, cancelAlloc = chromedp.NewExecAllocator(context.Background(), opts...)
	var cancelBrowser context.CancelFunc
	browser, cancelBrowser = chromedp.NewContext(allocCtx)
	// Start the browser now, so that the first test's timeout does not pay for it.
	if err := chromedp.Do(browser); err != nil {
		startErr = fmt.Errorf("webtest: start %s: %w", path, err)
	}
	stop = func() {
		cancelBrowser()
		cancelAlloc()
		_ = os.RemoveAll(dir)
	}
}

// Main runs the tests of a package that uses Tab, then stops the browser. Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if stop != nil {
		stop()
	}
	os.Exit(code)
}

// Tab opens a new tab, with cookies of its own, in the shared browser; it closes when the test ends. Every
// action on it fails after timeout.
func Tab(t testing.TB, timeout time.Duration) context.Context {
	t.Helper()
	once.Do(start)
	if startErr != nil {
		t.Fatal(startErr)
	}
	// A new browser context per tab keeps each test's cookies apart.
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	ctx, cancelT := context.WithTimeout(ctx, timeout)
	if err := chromedp.Do(ctx); err != nil {
		cancelT()
		cancel()
		t.Fatalf("webtest: new tab: %v", err)
	}
	t.Cleanup(func() {
		cancelT()
		cancel()
	})
	return ctx
}

// AddUser creates a user who signs in with password. The hash is cheap (1,000 rounds) to keep tests fast;
// the stored format is the production one.
func AddUser(t testing.TB, st *store.Store, email, role, password string) store.User {
	t.Helper()
	hash, err := auth.HashPassword(password, 1000)
	if err != nil {
		t.Fatal(err)
	}
	u := store.User{Email: email, Name: strings.Split(email, "@")[0], Role: role, PasswordHash: hash}
	if err := st.UserInsert(context.Background(), &u); err != nil {
		t.Fatal(err)
	}
	return u
}

// SignIn signs in on the sign-in page of base and waits for the inbox.
func SignIn(t testing.TB, ctx context.Context, base, email, password string) {
	t.Helper()
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="email"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), email),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), password),
		chromedp.Submit(chromedp.CSS(`input[name="password"]`)),
		chromedp.WaitVisible(chromedp.CSS(`header.top`)),
	)
	if err != nil {
		t.Fatalf("webtest: sign in as %s: %v", email, err)
	}
}

// SignInDemo signs in as the demo director (demo mode only).
func SignInDemo(t testing.TB, ctx context.Context, base string) {
	t.Helper()
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/login"),
		chromedp.Click(chromedp.CSS(`#demo-login`)),
		chromedp.WaitVisible(chromedp.CSS(`header.top`)),
	)
	if err != nil {
		t.Fatalf("webtest: demo sign in: %v", err)
	}
}

// WaitLive waits until the page's live-update stream is connected.
func WaitLive(t testing.TB, ctx context.Context) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.WaitReady(chromedp.CSS(`body[data-live-state="open"]`))); err != nil {
		t.Fatalf("webtest: live updates never connected: %v", err)
	}
}

// Screenshot saves a PNG of the whole page as <ScreenshotDir>/<name>.png.
func Screenshot(t testing.TB, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("webtest: screenshot %s: %v", name, err)
	}
	dir := os.Getenv("WAGATE_SCREENSHOTS")
	if dir == "" {
		root, err := repoRoot()
		if err != nil {
			t.Fatal(err)
		}
		dir = filepath.Join(root, ScreenshotDir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("webtest: go.mod not found above the working directory")
		}
		dir = parent
	}
}
