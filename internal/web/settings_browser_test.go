package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/wagate/wagate/internal/server/servertest"
	"github.com/wagate/wagate/internal/web/webtest"
)

// postInbound posts a provider webhook with a text message from phone (E.164 digits without +) by name, as
// 360dialog's Cloud API sends it, and waits until wagate has stored the contact.
func postInbound(t *testing.T, inst *servertest.Instance, digits, name, wamid string) {
	t.Helper()
	profile, _ := json.Marshal(name)
	body := fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"34600000000","phone_number_id":"1"},"contacts":[{"profile":{"name":%s},"wa_id":"%s"}],"messages":[{"from":"%s","id":"%s","timestamp":"%d","type":"text","text":{"body":"hola"}}]}}]}]}`,
		profile, digits, digits, wamid, time.Now().Unix())
	resp, err := http.Post(inst.URL+"/webhooks/whatsapp", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("webhook: %d", resp.StatusCode)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if c, err := inst.Store.ContactGetByPhone(t.Context(), "+"+digits); err == nil && c.ProfileName == name {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the webhook from %s was never processed", digits)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

func count(t *testing.T, ctx context.Context, sel string) int {
	t.Helper()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](fmt.Sprintf("document.querySelectorAll(%q).length", sel)))
	if err != nil {
		t.Fatalf("count %s: %v", sel, err)
	}
	return n
}

func TestBrowser_SettingsCheckConnectionAndTestMessage(t *testing.T) {
	t.Parallel()
	inst := setup(t)
	postInbound(t, inst, "34600000002", "Tess", "wamid.settings-test-1")
	ctx := webtest.Tab(t, time.Minute)
	webtest.SignIn(t, ctx, inst.URL, "dora@example.com", "director-password")
	if err := chromedp.Do(ctx,
		chromedp.Navigate(inst.URL+"/settings"),
		chromedp.WaitVisible(chromedp.CSS(`#webhook-url-0`)),
	); err != nil {
		t.Fatal(err)
	}
	hook, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(`#webhook-url-0`)))
	if err != nil || !strings.HasPrefix(hook, inst.URL+"/webhooks/whatsapp") {
		t.Fatalf("webhook URL field: %q %v", hook, err)
	}
	if n := count(t, ctx, `button[data-copy="#webhook-url-0"]`); n != 1 {
		t.Fatalf("copy buttons: %d", n)
	}
	if p := text(t, ctx, `#channel-0 .provider`); p != "Demo" {
		t.Fatalf("provider: %q", p)
	}
	if w := text(t, ctx, `#channel-0 .warn-secret`); !strings.Contains(w, "WAGATE_WEBHOOK_SECRET") {
		t.Fatalf("secret warning: %q", w)
	}
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#channel-0 button.check-connection`)),
		chromedp.WaitVisible(chromedp.CSS(`#check-0 .report`)),
	); err != nil {
		t.Fatal(err)
	}
	if got := text(t, ctx, `#check-0 .report-title`); !strings.Contains(got, "Demo mode") {
		t.Fatalf("check result: %q", got)
	}
	// A number that wrote a minute ago: the demo provider accepts the message.
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS(`#channel-0 .test-send input[name="to"]`), "+34 600 000 002"),
		chromedp.Click(chromedp.CSS(`#channel-0 .test-send button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#test-0 .test-outcome`)),
	); err != nil {
		t.Fatal(err)
	}
	if got := text(t, ctx, `#test-0 .test-outcome`); !strings.Contains(got, "Accepted by the provider") || !strings.Contains(got, "wamid.") {
		t.Fatalf("test message: %q", got)
	}
	webtest.Screenshot(t, ctx, "settings")
	// A number that never wrote: the window check refuses, with the API's explanation and fix.
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS(`#channel-0 .test-send input[name="to"]`), "+34600000003"),
		chromedp.Click(chromedp.CSS(`#channel-0 .test-send button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#test-0 .test-failed`)),
	); err != nil {
		t.Fatal(err)
	}
	if got := text(t, ctx, `#test-0 .test-failed`); !strings.Contains(got, "window_closed") || !strings.Contains(got, "template") {
		t.Fatalf("refused test message: %q", got)
	}
}

func TestBrowser_SettingsAgentHasNoCheckButton(t *testing.T) {
	t.Parallel()
	inst := setup(t)
	ctx := webtest.Tab(t, time.Minute)
	webtest.SignIn(t, ctx, inst.URL, "alex@example.com", "agent-password")
	if err := chromedp.Do(ctx,
		chromedp.Navigate(inst.URL+"/settings"),
		chromedp.WaitVisible(chromedp.CSS(`#webhook-url-0`)),
	); err != nil {
		t.Fatal(err)
	}
	if n := count(t, ctx, `.check-connection, .test-send, a[href="/settings/users"]`); n != 0 {
		t.Fatalf("an agent sees %d director controls", n)
	}
	hook, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(`#webhook-url-0`)))
	if err != nil || !strings.Contains(hook, "/webhooks/whatsapp") || strings.Contains(hook, "token=") {
		t.Fatalf("agent's webhook URL: %q %v", hook, err)
	}
}

func TestBrowser_DirectorAddsAgentWhoSignsIn(t *testing.T) {
	t.Parallel()
	inst := setup(t)
	ctx := webtest.Tab(t, time.Minute)
	webtest.SignIn(t, ctx, inst.URL, "dora@example.com", "director-password")
	if err := chromedp.Do(ctx,
		chromedp.Navigate(inst.URL+"/settings/users"),
		chromedp.WaitVisible(chromedp.CSS(`form.user-add`)),
		chromedp.SendKeys(chromedp.CSS(`form.user-add input[name="email"]`), "ana@example.com"),
		chromedp.SendKeys(chromedp.CSS(`form.user-add input[name="name"]`), "Ana Agent"),
		chromedp.SetValue(chromedp.CSS(`form.user-add select[name="role"]`), "agent"),
		chromedp.SendKeys(chromedp.CSS(`form.user-add input[name="password"]`), "ana-initial-password"),
		chromedp.Click(chromedp.CSS(`form.user-add button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.notice.done`)),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-user="ana@example.com"]`)),
	); err != nil {
		t.Fatal(err)
	}
	if row := text(t, ctx, `tr[data-user="ana@example.com"]`); !strings.Contains(row, "Ana Agent") || !strings.Contains(row, "never") {
		t.Fatalf("new user's row: %q", row)
	}
	webtest.Screenshot(t, ctx, "users")
	ctx2 := webtest.Tab(t, time.Minute)
	webtest.SignIn(t, ctx2, inst.URL, "ana@example.com", "ana-initial-password")
	if who := text(t, ctx2, `header .who`); !strings.Contains(who, "Ana Agent") || !strings.Contains(who, "agent") {
		t.Fatalf("signed in as: %q", who)
	}
}
