package web_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/wagate/wagate/internal/server/servertest"
	"github.com/wagate/wagate/internal/simulate"
	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/wa"
	"github.com/wagate/wagate/internal/web/webtest"
)

// inboxInbound posts a simulated inbound message to inst's webhook as the provider does (Cloud shape), and returns
// its wamid.
func inboxInbound(t *testing.T, inst *servertest.Instance, o simulate.MessageOptions) string {
	t.Helper()
	if o.ID == "" {
		o.ID = simulate.NewWAMID(wa.Digits(o.From))
	}
	body, err := simulate.Message(wa.ShapeCloud, o)
	if err != nil {
		t.Fatal(err)
	}
	ch := inst.Config.DefaultChannel()
	status, resp, err := simulate.Post(context.Background(), nil,
		simulate.Target{URL: inst.URL + "/webhooks/whatsapp", Secret: ch.WebhookSecret.Reveal()}, body)
	if err != nil || status != 200 {
		t.Fatalf("webhook: %d %s %v", status, resp, err)
	}
	return o.ID
}

// inboxConversationOf waits until the message with wamid is stored and returns its conversation.
func inboxConversationOf(t *testing.T, st *store.Store, wamid string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		m, err := st.MessageGetByProviderID(context.Background(), "default", wamid)
		if err == nil {
			return m.ConversationID
		}
		if time.Now().After(deadline) {
			t.Fatalf("message %s never stored: %v", wamid, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// inboxText returns the text of the first element sel matches.
func inboxText(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// inboxNoDialogs fails the test when the page opens any JavaScript dialog (an injected alert()).
func inboxNoDialogs(t *testing.T, ctx context.Context) {
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			t.Errorf("a dialog opened: %q", ev.Message)
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
}

func TestBrowser_InboxLiveInboundAndReplyTicks(t *testing.T) {
	t.Parallel()
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			inst := servertest.Start(t, servertest.Listen(t), db, nil)
			first := inboxInbound(t, inst, simulate.MessageOptions{From: "+34600111222", Name: "Lucía Gómez", Text: "Hola, ¿tenéis cita el lunes?"})
			conv := inboxConversationOf(t, inst.Store, first)
			ctx := webtest.Tab(t, time.Minute)
			webtest.SignInDemo(t, ctx, inst.URL)
			if err := chromedp.Do(ctx, chromedp.Navigate(inst.URL+"/inbox/"+conv),
				chromedp.WaitVisible(chromedp.CSS(`#thread-messages .bubble-row.in`))); err != nil {
				t.Fatal(err)
			}
			webtest.WaitLive(t, ctx)
			if got := inboxText(t, ctx, `#conv-list .inbox-row .inbox-name`); got != "Lucía Gómez" {
				t.Fatalf("list row: %q", got)
			}
			if got := inboxText(t, ctx, `#conv-list .inbox-window`); !strings.Contains(got, "window open, 23 h left") {
				t.Fatalf("window state: %q", got)
			}

			// (a) A new inbound message appears in the open thread and, from a new contact, in the list.
			second := inboxInbound(t, inst, simulate.MessageOptions{From: "+34600111222", Name: "Lucía Gómez", Text: "A las 10 me va bien"})
			if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`#thread-messages .bubble-row.in:first-child`))); err != nil {
				t.Fatal(err)
			}
			inboxWaitText(t, ctx, `#thread-messages`, "A las 10 me va bien")
			other := inboxInbound(t, inst, simulate.MessageOptions{From: "+447700900123", Name: "Bob Stone", Text: "Is the shop open?"})
			inboxWaitText(t, ctx, `#conv-list`, "Bob Stone")
			inboxWaitText(t, ctx, `#conv-list`, "Is the shop open?")
			if got := inboxText(t, ctx, `#conv-list .inbox-row.unread .inbox-unread`); got != "1" {
				t.Fatalf("Bob's unread badge: %q", got)
			}
			_ = other
			// The open conversation was marked read as the message arrived.
			inboxWaitFor(t, func() bool {
				c, err := inst.Store.ConversationGet(context.Background(), conv)
				return err == nil && c.UnreadCount == 0
			}, "the open conversation marked read")
			_ = second

			// (b) A reply from the composer goes sent -> delivered -> read as the demo receipts arrive.
			inboxClickUntil(t, ctx, `#msg-`+inboxMessageID(t, inst.Store, second)+` .bubble-actions button`, `#reply-slot blockquote`)
			if err := chromedp.Do(ctx,
				chromedp.SendKeys(chromedp.CSS(`#composer textarea`), "Perfecto, te apunto a las 10."),
				chromedp.Click(chromedp.CSS(`#composer button[type="submit"]`)),
			); err != nil {
				t.Fatal(err)
			}
			inboxWaitElement(t, ctx, `#thread-messages .bubble-row.out .tick-read`)
			inboxWaitText(t, ctx, `#thread-messages .bubble-row.out .bubble-quote`, "A las 10 me va bien")
			label, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(`#thread-messages .bubble-row.out .tick-read`), "aria-label"))
			if err != nil || label.Value != "Read" {
				t.Fatalf("read tick label: %q %v", label.Value, err)
			}
			if got := inboxText(t, ctx, `#composer textarea`); got != "" {
				t.Fatalf("composer not cleared: %q", got)
			}
			// The receipts went through delivered before read.
			out, err := inst.Store.MessageSearch(context.Background(), store.MessageQuery{ConversationID: conv, Direction: "out"})
			if err != nil || len(out.Items) != 1 {
				t.Fatalf("one reply: %v %v", out.Items, err)
			}
			m, err := inst.Store.MessageGet(context.Background(), out.Items[0].ID)
			if err != nil || m.ReplyTo != second || m.Status != wa.StatusRead {
				t.Fatalf("reply: %+v %v", m, err)
			}
			if db == "sqlite" {
				webtest.Screenshot(t, ctx, "inbox")
			}
		})
	}
}

func inboxMessageID(t *testing.T, st *store.Store, wamid string) string {
	t.Helper()
	m, err := st.MessageGetByProviderID(context.Background(), "default", wamid)
	if err != nil {
		t.Fatal(err)
	}
	return m.ID
}

// inboxWaitText waits until the element sel matches contains want.
func inboxWaitText(t *testing.T, ctx context.Context, sel, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err == nil && strings.Contains(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never showed %q: %q %v", sel, want, got, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// inboxWaitElement waits until an element matches sel; on a timeout it shows the thread and the message area.
func inboxWaitElement(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(`+strconv.Quote(sel)+`).length`))
		if err == nil && n > 0 {
			return
		}
		if time.Now().After(deadline) {
			page, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector("#flash")||{}).outerHTML + "\n" + (document.querySelector("#composer")||{}).outerHTML + "\n" + (document.querySelector("#thread")||{}).outerHTML`))
			t.Fatalf("no %s: %v\n%s", sel, err, page)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// inboxClickUntil clicks sel until an element matches want: a live redraw may replace what was clicked before htmx
// handled the click.
func inboxClickUntil(t *testing.T, ctx context.Context, sel, want string) {
	t.Helper()
	for range 10 {
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(2 * time.Second)
		for time.Now().Before(deadline) {
			if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(`+strconv.Quote(want)+`).length`)); err == nil && n > 0 {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	inboxWaitElement(t, ctx, want)
}

func inboxWaitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// inboxFailedReply stores an outbound text to phone that the provider refused, as the send worker records it.
func inboxFailedReply(t *testing.T, st *store.Store, phone, text string) store.Message {
	t.Helper()
	ctx := context.Background()
	content, _ := json.Marshal(map[string]string{"body": text})
	req, _ := json.Marshal(wa.Outbound{To: phone, Type: "text", Content: content})
	m := store.Message{Channel: "default", Type: "text", Text: text, Payload: content, Request: req}
	err := st.InTx(ctx, func(tx store.Tx) error {
		out, _, err := st.OutboundCreate(ctx, tx, &m, phone)
		if err != nil {
			return err
		}
		m = out
		return st.MessageFailed(ctx, tx, m.ID, 131026, "Message undeliverable", "The recipient's phone number is not on WhatsApp", "recipient")
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestBrowser_InboxFailedReasonAndRetry(t *testing.T) {
	t.Parallel()
	inst := servertest.Start(t, servertest.Listen(t), "sqlite", nil)
	conv := inboxConversationOf(t, inst.Store, inboxInbound(t, inst, simulate.MessageOptions{From: "+34600555666", Name: "Marta", Text: "¿Me confirmas?"}))
	failed := inboxFailedReply(t, inst.Store, "+34600555666", "Confirmado para el martes")
	ctx := webtest.Tab(t, time.Minute)
	webtest.SignInDemo(t, ctx, inst.URL)
	sel := `#msg-` + failed.ID
	if err := chromedp.Do(ctx, chromedp.Navigate(inst.URL+"/inbox/"+conv), chromedp.WaitVisible(chromedp.CSS(sel+` .tick-failed`))); err != nil {
		t.Fatal(err)
	}
	webtest.WaitLive(t, ctx)
	title, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(sel+` .tick-failed`), "title"))
	if err != nil || !strings.Contains(title.Value, "Message undeliverable") || !strings.Contains(title.Value, "not on WhatsApp") ||
		!strings.Contains(title.Value, "131026") {
		t.Fatalf("failure reason on hover: %q %v", title.Value, err)
	}
	// Retry really sends again: a new message, which the demo provider delivers and reads.
	inboxClickUntil(t, ctx, sel+` .inbox-retry`, sel+` .bubble-actions .muted`)
	inboxWaitText(t, ctx, sel+` .bubble-actions`, "Sent again")
	inboxWaitElement(t, ctx, `#thread-messages .bubble-row.out[data-status="read"]`)
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(".inbox-retry").length`)); err != nil || n != 0 {
		t.Fatalf("a retried message still offers Retry: %d %v", n, err)
	}
	p, err := inst.Store.MessageSearch(context.Background(), store.MessageQuery{ConversationID: conv, Direction: "out"})
	if err != nil || len(p.Items) != 2 || p.Items[0].RetryOf != failed.ID || p.Items[0].Text != "Confirmado para el martes" {
		t.Fatalf("retry: %+v %v", p.Items, err)
	}
}

func TestBrowser_InboxShowsHostileTextAsText(t *testing.T) {
	t.Parallel()
	inst := servertest.Start(t, servertest.Listen(t), "sqlite", nil)
	const evil = `<script>alert(1)</script><img src=x onerror=alert(2)>`
	conv := inboxConversationOf(t, inst.Store, inboxInbound(t, inst, simulate.MessageOptions{From: "+34600777888", Name: evil, Text: evil}))
	inboxInbound(t, inst, simulate.MessageOptions{From: "+34600777888", Name: evil, Type: "document", Caption: "doc " + evil,
		Filename: `<img src=x onerror=alert(3)>.pdf`})
	ctx := webtest.Tab(t, time.Minute)
	inboxNoDialogs(t, ctx)
	webtest.SignInDemo(t, ctx, inst.URL)
	if err := chromedp.Do(ctx, chromedp.Navigate(inst.URL+"/inbox/"+conv),
		chromedp.WaitVisible(chromedp.CSS(`#thread-messages .bubble-row[data-type="document"]`))); err != nil {
		t.Fatal(err)
	}
	if got := inboxText(t, ctx, `#conv-list .inbox-name`); got != evil {
		t.Fatalf("contact name shown as %q", got)
	}
	if got := inboxText(t, ctx, `.inbox-thread-name`); got != evil {
		t.Fatalf("thread name shown as %q", got)
	}
	inboxWaitText(t, ctx, `#thread-messages .bubble-row[data-type="text"] .bubble-text`, evil)
	inboxWaitText(t, ctx, `#thread-messages .bubble-row[data-type="document"]`, "doc "+evil)
	// Let the pending document settle (fetched or failed), then look for anything injected.
	time.Sleep(4 * time.Second)
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#main script, img[src="x"], img[onerror], [onerror]').length`))
	if err != nil || n != 0 {
		t.Fatalf("%d injected elements in the page: %v", n, err)
	}
}

func TestBrowser_InboxSpanish(t *testing.T) {
	t.Parallel()
	inst := servertest.Start(t, servertest.Listen(t), "sqlite", nil)
	conv := inboxConversationOf(t, inst.Store, inboxInbound(t, inst, simulate.MessageOptions{From: "+34600123123", Name: "Pilar", Text: "Buenas"}))
	ctx := webtest.Tab(t, time.Minute)
	webtest.SignInDemo(t, ctx, inst.URL)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(inst.URL+"/lang/es?back=/inbox/"+conv),
		chromedp.WaitVisible(chromedp.CSS(`html[lang="es"] #composer textarea`)),
	); err != nil {
		t.Fatal(err)
	}
	side := inboxText(t, ctx, `.inbox-side`)
	for _, want := range []string{"Buscar", "Solo no leídas", "Ventana abierta", "ventana abierta, quedan 23 h"} {
		if !strings.Contains(side, want) {
			t.Errorf("list lacks %q: %q", want, side)
		}
	}
	thread := inboxText(t, ctx, `#thread`)
	for _, want := range []string{"Responder", "Enviar", "Intro envía"} {
		if !strings.Contains(thread, want) {
			t.Errorf("thread lacks %q: %q", want, thread)
		}
	}
	if strings.Contains(side+thread, "Unread only") || strings.Contains(thread, "Reply") {
		t.Errorf("English left in the Spanish inbox: %q %q", side, thread)
	}
}

func TestBrowser_InboxMediaBubbles(t *testing.T) {
	t.Parallel()
	inst := servertest.Start(t, servertest.Listen(t), "sqlite", nil)
	from := simulate.MessageOptions{From: "+34600246810", Name: "Jorge Ruiz"}
	with := func(o simulate.MessageOptions) simulate.MessageOptions {
		o.From, o.Name = from.From, from.Name
		return o
	}
	first := inboxInbound(t, inst, with(simulate.MessageOptions{Text: "Te paso la foto del recibo"}))
	conv := inboxConversationOf(t, inst.Store, first)
	img := inboxInbound(t, inst, with(simulate.MessageOptions{Type: "image", MimeType: "image/png", Caption: "Recibo de marzo"}))
	inboxInbound(t, inst, with(simulate.MessageOptions{Type: "reaction", Emoji: "👍", ReactTo: first}))
	inboxInbound(t, inst, with(simulate.MessageOptions{Type: "location", Text: "Oficina", Latitude: 40.4168, Longitude: -3.7038}))
	inboxInbound(t, inst, with(simulate.MessageOptions{Type: "contacts", Text: "Ana Torres"}))
	inboxInbound(t, inst, with(simulate.MessageOptions{Type: "button_reply", Text: "Sí, confirmo"}))
	inboxInbound(t, inst, with(simulate.MessageOptions{Type: "text", Text: "¿Lo ves bien?", ReplyTo: img}))
	last := inboxInbound(t, inst, with(simulate.MessageOptions{Type: "unsupported"}))
	inboxConversationOf(t, inst.Store, last)
	ctx := webtest.Tab(t, time.Minute)
	webtest.SignInDemo(t, ctx, inst.URL)
	if err := chromedp.Do(ctx, chromedp.Navigate(inst.URL+"/inbox/"+conv),
		chromedp.WaitVisible(chromedp.CSS(`#thread-messages .bubble-row[data-type="location"]`))); err != nil {
		t.Fatal(err)
	}
	// The image arrives pending and shows once fetched, by polling.
	inboxWaitElement(t, ctx, `#thread-messages .bubble-media img`)
	src, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(`#thread-messages .bubble-media img`), "src"))
	if err != nil || !strings.HasPrefix(src.Value, "/inbox/"+conv+"/file/") {
		t.Fatalf("image src: %q %v", src.Value, err)
	}
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(function(){var i=document.querySelector("#thread-messages .bubble-media img");return i.complete && i.naturalWidth > 0})()`))
	if err != nil || !loaded {
		inboxWaitFor(t, func() bool {
			ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(function(){var i=document.querySelector("#thread-messages .bubble-media img");return i.complete && i.naturalWidth > 0})()`))
			return err == nil && ok
		}, "the image loads")
	}
	thread := inboxText(t, ctx, `#thread-messages`)
	for _, want := range []string{"Recibo de marzo", "40.4168, -3.7038", "Ana Torres", "Sí, confirmo", "[unsupported: ", "¿Lo ves bien?"} {
		if !strings.Contains(thread, want) {
			t.Errorf("thread lacks %q: %q", want, thread)
		}
	}
	// The reaction sits on the message it reacts to; the reply quotes the image's caption.
	inboxWaitText(t, ctx, `#msg-`+inboxMessageID(t, inst.Store, first)+` .bubble-reactions`, "👍")
	inboxWaitText(t, ctx, `#thread-messages .bubble-quote`, "Recibo de marzo")
	href, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(`.bubble-location a`), "href"))
	if err != nil || !strings.HasPrefix(href.Value, "https://www.openstreetmap.org/?mlat=40.4168&mlon=-3.7038") {
		t.Fatalf("map link: %q %v", href.Value, err)
	}
	// A tall window shows the whole thread in the screenshot.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 1500)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	webtest.Screenshot(t, ctx, "thread-media")
}
