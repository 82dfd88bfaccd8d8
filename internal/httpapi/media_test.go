package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/wagate/wagate/internal/provider/providertest"
	"github.com/wagate/wagate/internal/server/servertest"
	"github.com/wagate/wagate/internal/simulate"
	"github.com/wagate/wagate/internal/wa"
)

var testJPEG = append([]byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 'J', 'F', 'I', 'F', 0}, bytes.Repeat([]byte{9}, 500)...)

type msgMedia struct {
	ID    string `json:"id"`
	Type  string `json:"type"`
	Media *struct {
		Status, URL, Error, Filename string
	} `json:"media"`
	Status string `json:"status"`
}

func upload(t *testing.T, base, kind, name, ctype string, data []byte) (int, map[string]any) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if kind != "" {
		_ = mw.WriteField("kind", kind)
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="file"; filename="`+name+`"`)
	h.Set("Content-Type", ctype)
	pw, _ := mw.CreatePart(h)
	_, _ = pw.Write(data)
	_ = mw.Close()
	req, _ := http.NewRequest("POST", base+"/v1/media", &buf)
	req.Header.Set("Authorization", "Bearer api-token")
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestMedia_InboundFetchedServedAndOutboundSentByFile(t *testing.T) {
	t.Parallel()
	fake := providertest.New(t, providertest.Options{Kind: providertest.Kind360Dialog, APIKey: "d360-media-key"})
	inst := servertest.Start(t, servertest.Listen(t), "sqlite", map[string]string{"WAGATE_WINDOW_CHECK": "false",
		"WAGATE_PROVIDER": "360dialog", "WHATSAPP_API_KEY": "d360-media-key", "WAGATE_PROVIDER_BASE_URL": fake.URL(),
		"WAGATE_API_TOKEN": "api-token", "WAGATE_WEBHOOK_SECRET": "hook-secret"})

	// Inbound: a webhook names an image; wagate fetches it through the host rewrite and serves it.
	fake.AddMedia("777001", testJPEG, "image/jpeg")
	body, err := simulate.Message(wa.ShapeCloud, simulate.MessageOptions{Type: "image", MediaID: "777001", MimeType: "image/jpeg"})
	if err != nil {
		t.Fatal(err)
	}
	status, resp, err := simulate.Post(context.Background(), http.DefaultClient,
		simulate.Target{URL: inst.URL + "/webhooks/whatsapp/default", Secret: "hook-secret"}, body)
	if err != nil || status != 200 {
		t.Fatalf("webhook: %d %s %v", status, resp, err)
	}
	var convs struct{ Items []struct{ ID string } }
	deadline := time.Now().Add(15 * time.Second)
	var m msgMedia
	for {
		if code := call(t, inst.URL, "GET", "/v1/conversations", "", &convs); code == 200 && len(convs.Items) == 1 {
			var page struct{ Items []msgMedia }
			call(t, inst.URL, "GET", "/v1/conversations/"+convs.Items[0].ID+"/messages", "", &page)
			if len(page.Items) == 1 && page.Items[0].Media != nil && page.Items[0].Media.Status == "ready" {
				m = page.Items[0]
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("inbound media never became ready: %+v", m)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if m.Media.URL != "/v1/media/"+m.ID {
		t.Fatalf("media url = %q", m.Media.URL)
	}
	req, _ := http.NewRequest("GET", inst.URL+m.Media.URL, nil)
	if r, err := http.DefaultClient.Do(req); err != nil || r.StatusCode != 401 {
		t.Fatalf("unauthenticated media GET: %v %v", r.StatusCode, err)
	}
	req.Header.Set("Authorization", "Bearer api-token")
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != 200 || !bytes.Equal(got, testJPEG) || r.Header.Get("Content-Type") != "image/jpeg" ||
		r.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.HasPrefix(r.Header.Get("Content-Disposition"), "inline; filename=") {
		t.Fatalf("GET media: %d %v (%d bytes)", r.StatusCode, r.Header, len(got))
	}
	var e struct{ Error struct{ Code string } }
	if code := call(t, inst.URL, "POST", "/v1/messages/"+m.ID+"/media/retry", "", &e); code != 409 || e.Error.Code != "media_not_retryable" {
		t.Fatalf("retry of ready media: %d %+v", code, e)
	}

	// Outbound: hostile uploads are refused with a reason.
	if code, out := upload(t, inst.URL, "document", "invoice.pdf", "application/pdf", []byte("<html><script>x</script></html>")); code != 422 {
		t.Fatalf("html disguised as pdf: %d %v", code, out)
	}
	if code, out := upload(t, inst.URL, "image", "a.jpg", "image/jpeg", nil); code != 422 {
		t.Fatalf("empty file: %d %v", code, out)
	}
	// A good upload is stored, uploaded to the provider, and sendable by file id.
	code, out := upload(t, inst.URL, "", "../../x/photo.png", "application/octet-stream", testJPEG)
	if code != 201 || out["file"] == nil || out["id"] == nil || out["filename"] != "photo.jpg" || out["mime_type"] != "image/jpeg" {
		t.Fatalf("upload: %d %v", code, out)
	}
	file := out["file"].(string)
	if n := len(fake.Uploaded()); n != 1 {
		t.Fatalf("provider got %d uploads, want 1", n)
	}
	var sent struct{ Status string }
	code = call(t, inst.URL, "POST", "/v1/messages?wait=5s", `{"to":"+34600111222","type":"image","image":{"file":"`+file+`"}}`, &sent)
	if code != 200 || sent.Status == "failed" {
		t.Fatalf("send by file: %d %+v", code, sent)
	}
	if n := len(fake.Uploaded()); n != 1 {
		t.Fatalf("provider got %d uploads after the send, want the cached id reused", n)
	}
	var bad struct {
		Error struct{ Code, Message string }
	}
	if code := call(t, inst.URL, "POST", "/v1/messages", `{"to":"+34600111222","type":"image","image":{"file":"nope"}}`, &bad); code != 422 ||
		!strings.Contains(bad.Error.Message, "image.file") {
		t.Fatalf("send of unknown file: %d %+v", code, bad)
	}
	var metrics []byte
	if r, err := http.Get(inst.URL + "/metrics"); err == nil {
		metrics, _ = io.ReadAll(r.Body)
		r.Body.Close()
	}
	if !bytes.Contains(metrics, []byte("wagate_media_stored_bytes ")) || !bytes.Contains(metrics, []byte("wagate_media_fetched_total 1")) {
		t.Fatalf("metrics lack media usage:\n%s", metrics)
	}
}
