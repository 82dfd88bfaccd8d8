package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wagate/wagate/internal/server/servertest"
	"github.com/wagate/wagate/internal/simulate"
	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/wa"
	"github.com/wagate/wagate/internal/web/webtest"
)

// inboxForm builds a multipart composer form.
func inboxForm(fields map[string]string, file, name, mimeType string) (string, *bytes.Buffer) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		_ = w.WriteField(k, v)
	}
	if file != "" {
		h := make(map[string][]string)
		h["Content-Disposition"] = []string{`form-data; name="file"; filename="` + name + `"`}
		h["Content-Type"] = []string{mimeType}
		p, _ := w.CreatePart(h)
		_, _ = p.Write([]byte(file))
	}
	_ = w.Close()
	return w.FormDataContentType(), &buf
}

// inboxSetup starts wagate in demo mode with an agent signed in over HTTP and one conversation whose contact
// wrote evil text; it returns the client, the instance and the conversation.
func inboxSetup(t *testing.T) (*client, *servertest.Instance, string) {
	t.Helper()
	inst := servertest.Start(t, servertest.Listen(t), "sqlite", nil)
	webtest.AddUser(t, inst.Store, "alex@example.com", "agent", "agent-password")
	wamid := inboxInbound(t, inst, simulate.MessageOptions{From: "+34600333444", Name: `<script>alert(1)</script>Eve`,
		Text: `<img src=x onerror=alert(2)> hi`})
	conv := inboxConversationOf(t, inst.Store, wamid)
	return signIn(t, inst.URL, "alex@example.com", "agent-password"), inst, conv
}

func TestInbox_AgentReadsEscapedAndSendsOnce(t *testing.T) {
	t.Parallel()
	c, inst, conv := inboxSetup(t)
	status, page := c.get("/inbox/" + conv)
	if status != 200 {
		t.Fatalf("agent opening the inbox: %d %s", status, page)
	}
	for _, evil := range []string{"<script>alert(1)</script>", "<img src=x onerror"} {
		if strings.Contains(page, evil) {
			t.Fatalf("unescaped %q in the page", evil)
		}
	}
	if !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;Eve") || !strings.Contains(page, "&lt;img src=x onerror=alert(2)&gt; hi") {
		t.Fatalf("the contact's name and text are not shown escaped:\n%s", page)
	}
	// Opening the thread marked it read.
	if cv, err := inst.Store.ConversationGet(context.Background(), conv); err != nil || cv.UnreadCount != 0 {
		t.Fatalf("not marked read: %+v %v", cv, err)
	}
	in, err := inst.Store.MessageSearch(context.Background(), store.MessageQuery{ConversationID: conv})
	if err != nil || len(in.Items) != 1 {
		t.Fatal(in, err)
	}
	if status, out := c.htmx(http.MethodGet, "/inbox/"+conv+"/reply?to="+in.Items[0].ID, "", nil, false); status != 200 ||
		!strings.Contains(out, `name="reply_to" value="`+in.Items[0].ID+`"`) || !strings.Contains(out, "&lt;img src=x onerror=alert(2)&gt; hi") {
		t.Fatalf("reply slot: %d %s", status, out)
	}
	key := regexp.MustCompile(`name="key" value="([^"]+)"`).FindStringSubmatch(page)
	if key == nil {
		t.Fatal("no idempotency key in the composer")
	}
	// The same form submitted twice sends one message.
	for range 2 {
		ct, body := inboxForm(map[string]string{"key": key[1], "body": "<b>bold</b> reply"}, "", "", "")
		if status, out := c.htmx(http.MethodPost, "/inbox/"+conv+"/send", ct, body, true); status != 200 || !strings.Contains(out, `id="composer"`) {
			t.Fatalf("send: %d %s", status, out)
		}
	}
	p, err := inst.Store.MessageSearch(context.Background(), store.MessageQuery{ConversationID: conv, Direction: "out"})
	if err != nil || len(p.Items) != 1 || p.Items[0].Text != "<b>bold</b> reply" {
		t.Fatalf("a double submit sent %d messages: %+v %v", len(p.Items), p.Items, err)
	}
	_, msgs := c.htmx(http.MethodGet, "/inbox/"+conv+"/messages", "", nil, false)
	if strings.Contains(msgs, "<b>bold</b>") || !strings.Contains(msgs, "&lt;b&gt;bold&lt;/b&gt; reply") {
		t.Fatalf("own text not escaped: %s", msgs)
	}
	// A fresh form gets a fresh key.
	_, page2 := c.get("/inbox/" + conv)
	if k2 := regexp.MustCompile(`name="key" value="([^"]+)"`).FindStringSubmatch(page2); k2 == nil || k2[1] == key[1] {
		t.Fatal("the composer's key did not change")
	}
}

func TestInbox_RefusesPostWithoutCSRF(t *testing.T) {
	t.Parallel()
	c, inst, conv := inboxSetup(t)
	ct, body := inboxForm(map[string]string{"key": "k1", "body": "hello"}, "", "", "")
	status, out := c.htmx(http.MethodPost, "/inbox/"+conv+"/send", ct, body, false)
	if status != http.StatusForbidden || !strings.Contains(out, "This form expired") {
		t.Fatalf("send without CSRF token: %d %s", status, out)
	}
	// Nor does a token of the wrong session pass, as a form field.
	ct, body = inboxForm(map[string]string{"key": "k1", "body": "hello", "csrf": "not-the-token"}, "", "", "")
	req, _ := http.NewRequest(http.MethodPost, c.base+"/inbox/"+conv+"/send", body)
	req.Header.Set("Content-Type", ct)
	if status, _ := c.do(req); status != http.StatusForbidden {
		t.Fatalf("send with a wrong token: %d", status)
	}
	if p, _ := inst.Store.MessageSearch(context.Background(), store.MessageQuery{ConversationID: conv, Direction: "out"}); len(p.Items) != 0 {
		t.Fatalf("a refused form sent: %+v", p.Items)
	}
	if status, _ := c.htmx(http.MethodPost, "/inbox/"+conv+"/retry/x", "", nil, false); status != http.StatusForbidden {
		t.Fatalf("retry without CSRF token: %d", status)
	}
}

func TestInbox_UnknownConversationAndMessage(t *testing.T) {
	t.Parallel()
	c, _, conv := inboxSetup(t)
	for _, path := range []string{"/inbox/01900000-0000-7000-8000-000000000000", "/inbox/nope/messages",
		"/inbox/" + conv + "/file/nope", "/inbox/" + conv + "/media/nope", "/inbox/" + conv + "/reply?to=nope"} {
		if status, out := c.get(path); status != http.StatusNotFound || !strings.Contains(out, "There is nothing here") {
			t.Errorf("GET %s: %d", path, status)
		}
	}
	if status, _ := c.get("/inbox/list?cursor=garbage"); status != http.StatusBadRequest {
		t.Errorf("bad cursor: %d", status)
	}
	// Signed out, the inbox sends to the sign-in page.
	resp, err := http.Get(c.base + "/inbox/" + conv)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Path != "/login" {
		t.Fatalf("signed out: ended at %s", resp.Request.URL)
	}
}

func TestInbox_SearchFiltersAndWindowState(t *testing.T) {
	t.Parallel()
	c, inst, conv := inboxSetup(t)
	old := inboxInbound(t, inst, simulate.MessageOptions{From: "+447911123456", Name: "Olga Old", Text: "invoice please",
		Timestamp: time.Now().Add(-30 * time.Hour)})
	oldConv := inboxConversationOf(t, inst.Store, old)
	cases := []struct {
		query     string
		want, not []string
	}{
		{"q=olga", []string{oldConv}, []string{conv}},
		{"q=INVOICE", []string{oldConv}, []string{conv}},
		{"q=600+333", []string{conv}, []string{oldConv}},
		{"window=1", []string{conv}, []string{oldConv}},
		{"", []string{conv, oldConv}, nil},
	}
	for _, tc := range cases {
		status, out := c.htmx(http.MethodGet, "/inbox/list?"+tc.query, "", nil, false)
		if status != 200 {
			t.Fatalf("list %s: %d", tc.query, status)
		}
		for _, id := range tc.want {
			if !strings.Contains(out, `data-conversation="`+id+`"`) {
				t.Errorf("list %s lacks %s", tc.query, id)
			}
		}
		for _, id := range tc.not {
			if strings.Contains(out, `data-conversation="`+id+`"`) {
				t.Errorf("list %s shows %s", tc.query, id)
			}
		}
		if key, _, _ := strings.Cut(tc.query, "="); key != "" && !strings.Contains(out, `hx-get="/inbox/list?`+key+`=`) {
			t.Errorf("the live refresh of %s forgets the filter: %s", tc.query, out)
		}
	}
	_, out := c.get("/inbox")
	if !strings.Contains(out, "window open, 23 h left") || !strings.Contains(out, "template required") {
		t.Fatalf("window states missing: %s", out)
	}
	// The closed conversation's composer asks for a template and includes the picker.
	_, out = c.get("/inbox/" + oldConv)
	if !strings.Contains(out, "Template required: the 24-hour window closed at") ||
		!strings.Contains(out, `hx-get="/inbox/`+oldConv+`/templates"`) || strings.Contains(out, "<textarea") {
		t.Fatalf("closed composer: %s", out)
	}
	// Free text to a closed window is refused with what to do.
	ct, body := inboxForm(map[string]string{"key": "k-closed", "body": "hello?"}, "", "", "")
	status, out := c.htmx(http.MethodPost, "/inbox/"+oldConv+"/send", ct, body, true)
	if status != http.StatusUnprocessableEntity || !strings.Contains(out, "Not sent:") || !strings.Contains(out, "What to do: send one of the approved templates") {
		t.Fatalf("send to a closed window: %d %s", status, out)
	}
}

func TestInbox_AttachmentUsesTheMediaChecks(t *testing.T) {
	t.Parallel()
	c, inst, conv := inboxSetup(t)
	// A file whose bytes are not the image it claims is refused with the media check's reason.
	ct, body := inboxForm(map[string]string{"key": "k-bad"}, "<html><script>alert(1)</script></html>", "cat.jpg", "image/jpeg")
	status, out := c.htmx(http.MethodPost, "/inbox/"+conv+"/send", ct, body, true)
	if status != http.StatusUnprocessableEntity || !strings.Contains(out, "Not sent:") {
		t.Fatalf("fake image: %d %s", status, out)
	}
	// A PDF with an evil name is sent as a document with its caption, and served back with a safe name.
	pdf := "%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
	ct, body = inboxForm(map[string]string{"key": "k-pdf", "body": "the contract"}, pdf, `<img src=x onerror=alert(3)>.pdf`, "application/pdf")
	if status, out := c.htmx(http.MethodPost, "/inbox/"+conv+"/send", ct, body, true); status != 200 {
		t.Fatalf("pdf: %d %s", status, out)
	}
	p, err := inst.Store.MessageSearch(context.Background(), store.MessageQuery{ConversationID: conv, Direction: "out"})
	if err != nil || len(p.Items) != 1 || p.Items[0].Type != "document" {
		t.Fatalf("document message: %+v %v", p.Items, err)
	}
	var content map[string]any
	_ = json.Unmarshal(p.Items[0].Payload, &content)
	if content["caption"] != "the contract" || content["file"] == nil {
		t.Fatalf("document content: %s", p.Items[0].Payload)
	}
	_, msgs := c.htmx(http.MethodGet, "/inbox/"+conv+"/messages", "", nil, false)
	if strings.Contains(msgs, "<img src=x") {
		t.Fatalf("file name not escaped: %s", msgs)
	}
	resp, err := c.hc.Get(c.base + "/inbox/" + conv + "/file/" + p.Items[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(got) != pdf || resp.Header.Get("Content-Type") != "application/pdf" ||
		resp.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") ||
		strings.Contains(resp.Header.Get("Content-Disposition"), "<") {
		t.Fatalf("served file: %d %v", resp.StatusCode, resp.Header)
	}
	// The file of a message is not served under another conversation.
	other := inboxConversationOf(t, inst.Store, inboxInbound(t, inst, simulate.MessageOptions{From: "+34600999888", Text: "x"}))
	if status, _ := c.get("/inbox/" + other + "/file/" + p.Items[0].ID); status != http.StatusNotFound {
		t.Fatalf("file under another conversation: %d", status)
	}
	_ = wa.StatusFailed
}

// A form posted without JavaScript carries its CSRF token in the body, so the body is read before the handler
// runs: it is bounded there too. An oversized upload is refused with 413 after the limit, not spooled whole to
// disk, and nothing is sent.
func TestInbox_OversizedFormRefusedBeforeTheHandler(t *testing.T) {
	t.Parallel()
	c, inst, conv := inboxSetup(t)
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	written := make(chan int, 1) // MiB of the file written before wagate stopped reading
	go func() {
		_ = mw.WriteField("csrf", c.csrf)
		_ = mw.WriteField("key", "k-big")
		part, _ := mw.CreateFormFile("file", "big.pdf")
		chunk := bytes.Repeat([]byte("x"), 1<<20)
		n := 0
		for ; n < 110; n++ { // 110 MiB, more than any form takes
			if _, err := part.Write(chunk); err != nil {
				break
			}
		}
		written <- n
		pw.CloseWithError(mw.Close())
	}()
	req, _ := http.NewRequest(http.MethodPost, c.base+"/inbox/"+conv+"/send", pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if status, out := c.do(req); status != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized form: %d %.300s", status, out)
	}
	pr.Close()
	if n := <-written; n >= 110 {
		t.Fatalf("wagate read the whole %d MiB form before refusing it", n)
	}
	if p, _ := inst.Store.MessageSearch(context.Background(), store.MessageQuery{ConversationID: conv, Direction: "out"}); len(p.Items) != 0 {
		t.Fatalf("an oversized form sent: %+v", p.Items)
	}
}

// Retry sends a failed message again once: a second click, or a second agent, finds the retry already made.
func TestInbox_RetrySendsOnce(t *testing.T) {
	t.Parallel()
	c, inst, conv := inboxSetup(t)
	failed := inboxFailedReply(t, inst.Store, "+34600333444", "Confirmado para el martes")
	for range 2 {
		if status, out := c.htmx(http.MethodPost, "/inbox/"+conv+"/retry/"+failed.ID, "", nil, true); status != http.StatusOK {
			t.Fatalf("retry: %d %.300s", status, out)
		}
	}
	p, err := inst.Store.MessageSearch(context.Background(), store.MessageQuery{ConversationID: conv, Direction: "out"})
	if err != nil || len(p.Items) != 2 {
		t.Fatalf("two retries of one failed message: %d outbound messages, want the failed one and one retry (%v)", len(p.Items), err)
	}
}

// htmx restoring a page from history sends HX-Request too; every page answers it with the whole page.
func TestPages_HistoryRestoreGetsTheWholePage(t *testing.T) {
	t.Parallel()
	c, _, conv := inboxSetup(t)
	for _, path := range []string{"/inbox/" + conv, "/templates", "/contacts"} {
		req, _ := http.NewRequest(http.MethodGet, c.base+path, nil)
		req.Header.Set("HX-Request", "true")
		req.Header.Set("HX-History-Restore-Request", "true")
		if status, out := c.do(req); status != http.StatusOK || !strings.Contains(out, "<html") {
			t.Errorf("history restore of %s: %d, no layout: %.200s", path, status, out)
		}
	}
}
