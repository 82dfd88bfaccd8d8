package web_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/wagate/wagate/internal/web/webtest"
)

// waitText waits until the text of the element sel contains want, and returns that text.
func tplWaitText(t *testing.T, ctx context.Context, sel, want string) string {
	t.Helper()
	q, _ := json.Marshal(sel)
	deadline := time.Now().Add(15 * time.Second)
	var got string
	for {
		var err error
		got, err = chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector(`+string(q)+`) || {}).textContent || ""`))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		if strings.Contains(got, want) {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("the text of %s is %q, without %q", sel, got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// choose selects value in the select sel as a person does (the change event fires).
func tplChoose(t *testing.T, ctx context.Context, sel, value string) {
	t.Helper()
	q, _ := json.Marshal(sel)
	v, _ := json.Marshal(value)
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector(`+string(q)+`); s.value = `+string(v)+
		`; s.dispatchEvent(new Event("change", {bubbles: true})); })()`)); err != nil {
		t.Fatalf("choose %s in %s: %v", value, sel, err)
	}
}

func TestBrowser_TemplatePickerSendsATemplate(t *testing.T) {
	t.Parallel()
	inst := tplSetup(t)
	conv := tplOldConversation(t, inst, "+34600777888")
	ctx := webtest.Tab(t, 2*time.Minute)
	webtest.SignIn(t, ctx, inst.URL, "alex@example.com", "agent-password")
	if err := chromedp.Do(ctx,
		chromedp.Navigate(inst.URL+"/inbox/"+conv.ID+"/templates"),
		chromedp.WaitVisible(chromedp.CSS(`#tpl-select`)),
	); err != nil {
		t.Fatal(err)
	}
	tplWaitText(t, ctx, `.tpl-window`, "window is closed")
	tplChoose(t, ctx, `#tpl-select`, "order_update|en_US")
	if err := chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.CSS(`#tpl-form input[name="p.3"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="p.1"]`), "Ana"),
		chromedp.SendKeys(chromedp.CSS(`input[name="p.2"]`), "A-1234"),
	); err != nil {
		t.Fatal(err)
	}
	// The preview follows the typing: the values given are in, the missing one is marked.
	tplWaitText(t, ctx, `#tpl-preview-body`, "Hi Ana, your order A-1234 has left the warehouse and arrives on {{3}}.")
	tplWaitText(t, ctx, `#tpl-preview .tpl-ready`, "1 value is still missing")
	// Sent with a value missing: refused before anything is queued, next to the field.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#tpl-send`)),
		chromedp.WaitVisible(chromedp.CSS(`.tpl-error`)),
	); err != nil {
		t.Fatal(err)
	}
	tplWaitText(t, ctx, `.tpl-error`, "1 value is wrong or missing")
	tplWaitText(t, ctx, `.tpl-field.invalid`, "Fill this in")
	if n := tplMessages(t, inst, conv.ID); len(n) != 0 {
		t.Fatalf("a refused send stored %d messages", len(n))
	}
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(`input[name="p.3"]`), "Friday")); err != nil {
		t.Fatal(err)
	}
	want := "Hi Ana, your order A-1234 has left the warehouse and arrives on Friday.\nReply STOP to opt out"
	tplWaitText(t, ctx, `#tpl-preview-text`, want)
	tplWaitText(t, ctx, `#tpl-preview .tpl-ready`, "Ready to send")
	webtest.Screenshot(t, ctx, "template-picker")
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#tpl-send`)),
		chromedp.WaitVisible(chromedp.CSS(`.tpl-sent`)),
	); err != nil {
		t.Fatal(err)
	}
	tplWaitText(t, ctx, `.tpl-sent`, "Template sent to +34600777888")
	msgs := tplMessages(t, inst, conv.ID)
	if len(msgs) != 1 || msgs[0].Text != want || msgs[0].Type != "template" {
		t.Fatalf("stored: %+v", msgs)
	}
	var content struct {
		Name     string `json:"name"`
		Language struct {
			Code string `json:"code"`
		} `json:"language"`
	}
	var req struct {
		Content json.RawMessage `json:"content"`
	}
	if err := json.Unmarshal(msgs[0].Request, &req); err != nil || json.Unmarshal(req.Content, &content) != nil ||
		content.Name != "order_update" || content.Language.Code != "en_US" {
		t.Fatalf("stored request: %s %v", msgs[0].Request, err)
	}
}

func TestBrowser_TemplatesPageAndSync(t *testing.T) {
	t.Parallel()
	inst := setup(t)
	agent := webtest.Tab(t, 2*time.Minute)
	webtest.SignIn(t, agent, inst.URL, "alex@example.com", "agent-password")
	if err := chromedp.Do(agent,
		chromedp.Navigate(inst.URL+"/templates"),
		chromedp.WaitVisible(chromedp.CSS(`#tpl-sync[disabled]`)),
	); err != nil {
		t.Fatalf("an agent's sync button is not disabled: %v", err)
	}
	tplWaitText(t, agent, `#tpl-sync-why`, "Only directors")

	ctx := webtest.Tab(t, 2*time.Minute)
	webtest.SignIn(t, ctx, inst.URL, "dora@example.com", "director-password")
	if err := chromedp.Do(ctx,
		chromedp.Navigate(inst.URL+"/templates"),
		chromedp.WaitVisible(chromedp.CSS(`#tpl-sync:not([disabled])`)),
		chromedp.Click(chromedp.CSS(`#tpl-sync`)),
		chromedp.WaitVisible(chromedp.CSS(`#tpl-results`)),
	); err != nil {
		t.Fatal(err)
	}
	tplWaitText(t, ctx, `#tpl-results`, "default: 8 templates read, 6 of them approved.")
	tplWaitText(t, ctx, `.tpl-channel[data-channel="default"] .tpl-synced`, "Last synced")
	for name, want := range map[string]string{
		`hello_world"][data-language="en_US`:   "badge green tpl-status|Approved",
		`spring_sale"][data-language="en_US`:   "badge red tpl-status|Paused",
		`winback_offer"][data-language="en_US`: "badge red tpl-status|Rejected",
	} {
		class, label, _ := strings.Cut(want, "|")
		sel := `tr[data-name="` + name + `"] .tpl-status`
		got, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(sel), "class"))
		if err != nil || got.Value != class {
			t.Fatalf("%s: class %+v %v", sel, got, err)
		}
		tplWaitText(t, ctx, sel, label)
	}
	tplWaitText(t, ctx, `tr[data-name="winback_offer"]`, "Reason: PROMOTIONAL")
	tplWaitText(t, ctx, `tr[data-name="appointment_reminder"] .tpl-header`, "Appointment on {{date}}")
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("tr.tpl-row").length`))
	if err != nil || n != 8 {
		t.Fatalf("rows: %d %v", n, err)
	}
	webtest.Screenshot(t, ctx, "templates")
	// The filter narrows the list without leaving the page.
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(`input[name="q"]`), "order")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("tr.tpl-row").length`))
		if err != nil {
			t.Fatal(err)
		}
		if n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("rows after filtering by name: %d", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
