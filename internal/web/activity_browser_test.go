package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/wagate/wagate/internal/server/servertest"
	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/web/webtest"
)

const (
	activityHookSecret = "activity-hook-secret"
	activityAPIToken   = "activity-api-token-0123456789abcdef"
)

// activitySetup starts wagate in demo mode on SQLite with a webhook secret and an API token, a director and an
// agent.
func activitySetup(t *testing.T) *servertest.Instance {
	t.Helper()
	inst := servertest.Start(t, servertest.Listen(t), "sqlite", map[string]string{
		"WAGATE_WEBHOOK_SECRET": activityHookSecret, "WAGATE_API_TOKEN": activityAPIToken, "WAGATE_WINDOW_CHECK": "false"})
	webtest.AddUser(t, inst.Store, "dora@example.com", "director", "director-password")
	webtest.AddUser(t, inst.Store, "alex@example.com", "agent", "agent-password")
	return inst
}

// activityFailedWebhook posts an authenticated body that is not JSON; wagate stores it as a failed event.
func activityFailedWebhook(t *testing.T, inst *servertest.Instance) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, inst.URL+"/webhooks/whatsapp", strings.NewReader("this is <not> json"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Wagate-Webhook-Secret", activityHookSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	id := resp.Header.Get("X-Wagate-Event-Id")
	if resp.StatusCode != http.StatusOK || id == "" {
		t.Fatalf("webhook: HTTP %d, event id %q", resp.StatusCode, id)
	}
	ev, err := inst.Store.EventGet(context.Background(), nil, id)
	if err != nil || ev.State != store.EventFailed {
		t.Fatalf("stored event: %+v %v", ev, err)
	}
	return id
}

// activityFailedDelivery stores a subscription whose receiver is unreachable and a delivery of it that was
// given up.
func activityFailedDelivery(t *testing.T, st *store.Store) string {
	t.Helper()
	ctx := context.Background()
	var id string
	err := st.InTx(ctx, func(tx store.Tx) error {
		sub := store.Subscription{URL: "http://127.0.0.1:9/hooks", Format: "wagate", Secret: "s", Description: "CRM timeline", Enabled: true}
		if err := st.SubscriptionInsert(ctx, tx, &sub); err != nil {
			return err
		}
		ev := store.AppEvent{Type: "message.received", Data: []byte(`{}`)}
		if err := st.AppEventInsert(ctx, tx, &ev); err != nil {
			return err
		}
		d := store.Delivery{SubscriptionID: sub.ID, EventID: ev.ID}
		if err := st.DeliveryInsert(ctx, tx, &d); err != nil {
			return err
		}
		id = d.ID
		return st.DeliveryRecord(ctx, tx, d.ID, store.DeliveryAttempt{State: store.DeliveryFailed, Status: 500,
			Error: "receiver answered HTTP 500", Latency: 12 * time.Millisecond, At: time.Now()})
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestBrowser_ActivityDirectorReplaysFailedWebhookAndDelivery(t *testing.T) {
	t.Parallel()
	inst := activitySetup(t)
	// Some traffic first: the demo provider's receipts arrive as webhooks that are processed.
	activitySend(t, inst.URL, "+34696247350", "hello")
	activitySend(t, inst.URL, "+34696247351", "hello again")
	deadline := time.Now().Add(30 * time.Second)
	for {
		n, err := inst.Store.EventCounts(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n[store.EventProcessed] >= 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("receipts did not arrive: %v", n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	evID := activityFailedWebhook(t, inst)
	dlID := activityFailedDelivery(t, inst.Store)
	ctx := webtest.Tab(t, 90*time.Second)
	webtest.SignIn(t, ctx, inst.URL, "dora@example.com", "director-password")

	row := `#ev-` + evID
	if err := chromedp.Do(ctx,
		chromedp.Navigate(inst.URL+"/activity"),
		chromedp.WaitVisible(chromedp.CSS(row+` .badge.red`)),
		chromedp.Click(chromedp.CSS(row+` td.actions button:not(.replay)`)),
		chromedp.WaitVisible(chromedp.CSS(`#evbody-`+evID+` pre.raw`)),
	); err != nil {
		t.Fatal(err)
	}
	body, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#evbody-`+evID+` pre.raw`)))
	if err != nil || !strings.Contains(body, "this is <not> json") {
		t.Fatalf("raw body: %q %v", body, err)
	}
	reason, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(row+` td.reason`)))
	if err != nil || strings.TrimSpace(reason) == "" {
		t.Fatalf("failure reason: %q %v", reason, err)
	}
	webtest.Screenshot(t, ctx, "activity")
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(row+` button.replay`)),
		chromedp.WaitVisible(chromedp.CSS(row+` .replayed`)),
	); err != nil {
		t.Fatal(err)
	}
	replayed, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(row+` .replayed`)))
	if err != nil || !strings.Contains(replayed, "failed") {
		t.Fatalf("after replay: %q %v", replayed, err)
	}
	ev, err := inst.Store.EventGet(context.Background(), nil, evID)
	if err != nil || ev.Attempts < 2 {
		t.Fatalf("the replay did not process the event again: %+v %v", ev, err)
	}

	drow := `#dl-` + dlID
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`.activity-tabs a[href="/activity/deliveries"]`)),
		chromedp.WaitVisible(chromedp.CSS(drow+` button.replay`)),
	); err != nil {
		t.Fatal(err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(drow)))
	if err != nil || !strings.Contains(text, "CRM timeline") || !strings.Contains(text, "HTTP 500") || !strings.Contains(text, "message.received") {
		t.Fatalf("delivery row: %q %v", text, err)
	}
	webtest.Screenshot(t, ctx, "deliveries")
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(drow+` button.replay`)),
		chromedp.WaitVisible(chromedp.CSS(drow+` .replayed`)),
	); err != nil {
		t.Fatal(err)
	}
	d, err := inst.Store.DeliveryGet(context.Background(), dlID)
	if err != nil || d.State == store.DeliveryFailed && d.Attempts < 2 {
		t.Fatalf("the replay did not requeue the delivery: %+v %v", d, err)
	}
}

func TestBrowser_ActivityAgentSeesNoReplay(t *testing.T) {
	t.Parallel()
	inst := activitySetup(t)
	evID := activityFailedWebhook(t, inst)
	activityFailedDelivery(t, inst.Store)
	ctx := webtest.Tab(t, time.Minute)
	webtest.SignIn(t, ctx, inst.URL, "alex@example.com", "agent-password")
	for _, page := range []string{"/activity", "/activity/deliveries"} {
		if err := chromedp.Do(ctx,
			chromedp.Navigate(inst.URL+page),
			chromedp.WaitVisible(chromedp.CSS(`.activity-list .badge.red`)),
		); err != nil {
			t.Fatalf("%s: %v", page, err)
		}
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("button.replay").length`))
		if err != nil || n != 0 {
			t.Fatalf("%s: an agent sees %d replay buttons (%v)", page, n, err)
		}
	}
	if n := activityPostAs(t, inst.URL, "alex@example.com", "agent-password", "/activity/webhooks/"+evID+"/replay"); n != http.StatusForbidden {
		t.Fatalf("agent replay: HTTP %d, want 403", n)
	}
}

// TestActivity_ReplayNeedsDirectorAndCSRF checks the replay endpoints without a browser: agents are refused,
// directors without the CSRF token too.
func TestActivity_ReplayNeedsDirectorAndCSRF(t *testing.T) {
	t.Parallel()
	inst := activitySetup(t)
	evID := activityFailedWebhook(t, inst)
	dlID := activityFailedDelivery(t, inst.Store)
	for _, path := range []string{"/activity/webhooks/" + evID + "/replay", "/activity/deliveries/" + dlID + "/replay"} {
		if n := activityPostAs(t, inst.URL, "alex@example.com", "agent-password", path); n != http.StatusForbidden {
			t.Fatalf("agent POST %s: HTTP %d, want 403", path, n)
		}
	}
	c := activityClient(t, inst.URL, "dora@example.com", "director-password")
	resp, err := c.Post(inst.URL+"/activity/webhooks/"+evID+"/replay", "application/x-www-form-urlencoded", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("director POST without CSRF: HTTP %d, want 403", resp.StatusCode)
	}
	if n := activityPostAs(t, inst.URL, "dora@example.com", "director-password", "/activity/webhooks/"+evID+"/replay"); n != http.StatusOK {
		t.Fatalf("director replay: HTTP %d", n)
	}
	if n := activityPostAs(t, inst.URL, "dora@example.com", "director-password", "/activity/webhooks/nope/replay"); n != http.StatusNotFound {
		t.Fatalf("director replay of an unknown event: HTTP %d, want 404", n)
	}
}

var activityCSRF = regexp.MustCompile(`"X-CSRF-Token":"([^"]+)"`)

// activityClient signs in over HTTP and returns a client that carries the session cookie.
func activityClient(t *testing.T, base, email, password string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 20 * time.Second}
	resp, err := c.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF field on the sign-in page")
	}
	resp, err = c.PostForm(base+"/login", url.Values{"csrf": {string(m[1])}, "email": {email}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Path == "/login" {
		t.Fatalf("sign in as %s failed", email)
	}
	return c
}

// activityPostAs signs in and posts to path with the session's CSRF token, as htmx does; it returns the status.
func activityPostAs(t *testing.T, base, email, password, path string) int {
	t.Helper()
	c := activityClient(t, base, email, password)
	resp, err := c.Get(base + "/activity")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := activityCSRF.FindSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token on /activity (HTTP %d)", resp.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodPost, base+path, nil)
	req.Header.Set("X-CSRF-Token", string(m[1]))
	req.Header.Set("HX-Request", "true")
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// activitySend sends a text message through the API and returns its id.
func activitySend(t *testing.T, base, to, text string) string {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"messaging_product": "whatsapp", "to": to, "type": "text", "text": map[string]any{"body": text}})
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/messages", bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+activityAPIToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		ID string `json:"id"`
	}
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusAccepted || json.Unmarshal(raw, &out) != nil || out.ID == "" {
		t.Fatalf("send to %s: HTTP %d %s", to, resp.StatusCode, raw)
	}
	return out.ID
}

func TestBrowser_DashboardChartsWithRealTraffic(t *testing.T) {
	t.Parallel()
	inst := activitySetup(t)
	const sent = 4
	for i := 0; i < sent; i++ {
		activitySend(t, inst.URL, fmt.Sprintf("+3469624735%d", i), fmt.Sprintf("hello %d", i))
	}
	// The demo provider fails every message to this number with 131026.
	activitySend(t, inst.URL, "+34600131026", "this one fails")
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for {
		counts, err := inst.Store.MessageStatusCounts(ctx, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if counts["read"] == sent && counts["failed"] == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("receipts did not arrive: %v", counts)
		}
		time.Sleep(100 * time.Millisecond)
	}

	tab := webtest.Tab(t, time.Minute)
	webtest.SignIn(t, tab, inst.URL, "alex@example.com", "agent-password")
	if err := chromedp.Do(tab,
		chromedp.Navigate(inst.URL+"/dashboard?days=7"),
		chromedp.WaitVisible(chromedp.CSS(`#chart-daily svg rect.bar-out`)),
	); err != nil {
		t.Fatal(err)
	}
	desc, err := chromedp.Run(tab, chromedp.Evaluate[string](`document.querySelector("#daily-desc").textContent`))
	if err != nil || !strings.Contains(desc, fmt.Sprintf("%d messages out", sent+1)) {
		t.Fatalf("daily chart description: %q %v", desc, err)
	}
	funnel, err := chromedp.Run(tab, chromedp.Evaluate[string](`document.querySelector("#funnel-desc").textContent`))
	if err != nil || !strings.Contains(funnel, fmt.Sprintf("%d read, 1 failed", sent)) {
		t.Fatalf("funnel: %q %v", funnel, err)
	}
	failures, err := chromedp.Run(tab, chromedp.Text(chromedp.CSS(`#chart-failures`)))
	if err != nil || !strings.Contains(failures, "131026") {
		t.Fatalf("failure reasons: %q %v", failures, err)
	}
	spend, err := chromedp.Run(tab, chromedp.Text(chromedp.CSS(`#chart-spend .spend-lines`)))
	if err != nil || !strings.Contains(spend, "utility") || !strings.Contains(spend, "PMP") {
		t.Fatalf("spend: %q %v", spend, err)
	}
	// Bars have a height drawn from the data: the tallest outbound bar reaches the top of the scale.
	h, err := chromedp.Run(tab, chromedp.Evaluate[float64](`Math.max(...[...document.querySelectorAll("#chart-daily rect.bar-out")].map(r => +r.getAttribute("height")))`))
	if err != nil || h <= 0 {
		t.Fatalf("outbound bars: tallest %v %v", h, err)
	}
	webtest.Screenshot(t, tab, "dashboard")
}
