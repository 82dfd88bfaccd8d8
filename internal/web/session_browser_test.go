package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/wagate/wagate/internal/server/servertest"
	"github.com/wagate/wagate/internal/web/webtest"
)

// setup starts wagate in demo mode on SQLite with a director and an agent.
func setup(t *testing.T) *servertest.Instance {
	t.Helper()
	inst := servertest.Start(t, servertest.Listen(t), "sqlite", nil)
	webtest.AddUser(t, inst.Store, "dora@example.com", "director", "director-password")
	webtest.AddUser(t, inst.Store, "alex@example.com", "agent", "agent-password")
	return inst
}

func TestBrowser_SignInSignOutAndWrongPassword(t *testing.T) {
	t.Parallel()
	inst := setup(t)
	ctx := webtest.Tab(t, time.Minute)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(inst.URL+"/inbox"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="email"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), "alex@example.com"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "not-the-password"),
		chromedp.Submit(chromedp.CSS(`input[name="password"]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.error`)),
	); err != nil {
		t.Fatal(err)
	}
	msg, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`p.error`)))
	if err != nil || !strings.Contains(msg, "Wrong email or password") {
		t.Fatalf("wrong password: %q %v", msg, err)
	}
	webtest.SignIn(t, ctx, inst.URL, "alex@example.com", "agent-password")
	who, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`header .who`)))
	if err != nil || !strings.Contains(who, "alex") || !strings.Contains(who, "agent") {
		t.Fatalf("signed in as: %q %v", who, err)
	}
	banner, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`.demo-banner`)))
	if err != nil || !strings.Contains(banner, "Demo mode") {
		t.Fatalf("demo banner: %q %v", banner, err)
	}
	webtest.WaitLive(t, ctx)
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`header form[action="/logout"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`input[name="password"]`)),
		chromedp.Navigate(inst.URL+"/inbox"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="password"]`)),
	); err != nil {
		t.Fatalf("after sign-out the inbox still opens: %v", err)
	}
}

func TestBrowser_SpanishLabels(t *testing.T) {
	t.Parallel()
	inst := setup(t)
	ctx := webtest.Tab(t, time.Minute)
	webtest.SignInDemo(t, ctx, inst.URL)
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`header .langs a[hreflang="es"]`)),
		chromedp.WaitVisible(chromedp.CSS(`html[lang="es"] header.top`)),
	); err != nil {
		t.Fatal(err)
	}
	nav, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`header nav`)))
	if err != nil || !strings.Contains(nav, "Bandeja") || !strings.Contains(nav, "Ajustes") || strings.Contains(nav, "Settings") {
		t.Fatalf("Spanish menu: %q %v", nav, err)
	}
	webtest.Screenshot(t, ctx, "inbox-es")
}
