package httpapi_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"testing"

	"github.com/wagate/wagate/internal/provider/providertest"
	"github.com/wagate/wagate/internal/server/servertest"
)

var testPDF = []byte("%PDF-1.7\n1 0 obj\n<<>>\nendobj\n")

// sendMultipart posts a multipart send: message (when not "") and file parts (when data is not nil).
func sendMultipart(t *testing.T, base, query, key, message, name, ctype string, data []byte, extra ...string) (int, map[string]any) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if message != "" {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="message"`)
		h.Set("Content-Type", "application/json")
		pw, _ := mw.CreatePart(h)
		_, _ = pw.Write([]byte(message))
	}
	if data != nil {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="file"; filename="`+name+`"`)
		h.Set("Content-Type", ctype)
		pw, _ := mw.CreatePart(h)
		_, _ = pw.Write(data)
	}
	for _, f := range extra {
		_ = mw.WriteField(f, "x")
	}
	_ = mw.Close()
	req, _ := http.NewRequest("POST", base+"/v1/messages"+query, &buf)
	req.Header.Set("Authorization", "Bearer api-token")
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func errCode(out map[string]any) string {
	e, _ := out["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

// sentMedia returns the media object of the n-th message the fake provider accepted.
func sentMedia(t *testing.T, fake *providertest.Server, n int, kind string) map[string]any {
	t.Helper()
	sent := fake.Sent()
	if len(sent) <= n {
		t.Fatalf("provider accepted %d messages, want more than %d", len(sent), n)
	}
	var body map[string]any
	if err := json.Unmarshal(sent[n].Body, &body); err != nil {
		t.Fatal(err)
	}
	m, _ := body[kind].(map[string]any)
	return m
}

func TestMediaSend_MultipartAndInlineFilesAreCheckedStoredAndSentByID(t *testing.T) {
	t.Parallel()
	fake := providertest.New(t, providertest.Options{Kind: providertest.KindMeta, AccessToken: "meta-token"})
	inst := servertest.Start(t, servertest.Listen(t), "sqlite", map[string]string{
		"WAGATE_WINDOW_CHECK": "false", "WAGATE_PROVIDER": "meta", "WHATSAPP_ACCESS_TOKEN": "meta-token", "WHATSAPP_PHONE_NUMBER_ID": providertest.DefaultPhoneNumberID,
		"WAGATE_WABA_ID": providertest.DefaultWABAID, "WAGATE_PROVIDER_BASE_URL": fake.URL(), "WAGATE_API_TOKEN": "api-token"})

	// A multipart send: the file is stored, uploaded, and the message sent by the provider's id.
	code, out := sendMultipart(t, inst.URL, "?wait=5s", "key-1", `{"to":"+34600111222","type":"image","image":{"caption":"hi"}}`,
		"../photo.png", "image/jpeg", testJPEG)
	if code != 200 || out["status"] == "failed" {
		t.Fatalf("multipart send: %d %v", code, out)
	}
	if n := len(fake.Uploaded()); n != 1 {
		t.Fatalf("provider got %d uploads, want 1", n)
	}
	img := sentMedia(t, fake, 0, "image")
	if img["id"] == nil || img["id"] == "" || img["caption"] != "hi" || img["file"] != nil || img["filename"] != nil {
		t.Fatalf("sent image = %v", img)
	}
	id := out["id"]
	// The same request with the same key is the same message, sent once.
	code, out = sendMultipart(t, inst.URL, "", "key-1", `{"to":"+34600111222","type":"image","image":{"caption":"hi"}}`,
		"../photo.png", "image/jpeg", testJPEG)
	if code != 200 && code != 202 || out["id"] != id || out["duplicate"] != true {
		t.Fatalf("repeated multipart send: %d %v, want message %v again", code, out, id)
	}
	if n := len(fake.Sent()); n != 1 {
		t.Fatalf("provider accepted %d messages, want 1", n)
	}

	// A document takes its name from the part; the type is inferred from the one media object.
	code, out = sendMultipart(t, inst.URL, "?wait=5s", "", `{"to":"+34600111222","document":{}}`, "report.pdf", "application/octet-stream", testPDF)
	if code != 200 {
		t.Fatalf("document send: %d %v", code, out)
	}
	if doc := sentMedia(t, fake, 1, "document"); doc["filename"] != "report.pdf" || doc["id"] == nil {
		t.Fatalf("sent document = %v", doc)
	}

	// Base64 in JSON.
	body := `{"to":"+34600111222","type":"image","image":{"data":"` + base64.StdEncoding.EncodeToString(testJPEG) + `","filename":"x.jpg"}}`
	var sent map[string]any
	if code := call(t, inst.URL, "POST", "/v1/messages?wait=5s", body, &sent); code != 200 || sent["status"] == "failed" {
		t.Fatalf("base64 send: %d %v", code, sent)
	}
	if img := sentMedia(t, fake, 2, "image"); img["id"] == nil || img["data"] != nil || img["filename"] != nil {
		t.Fatalf("sent image = %v", img)
	}

	// Refusals, with the codes POST /v1/media answers.
	uploads := len(fake.Uploaded())
	for _, c := range []struct {
		name, message, file, ctype string
		data                       []byte
		extra                      []string
		status                     int
		code, mentions             string
	}{
		{"html as pdf", `{"to":"+34600111222","type":"document"}`, "a.pdf", "application/pdf", []byte("<html><script>x</script></html>"), nil, 422, "media_refused", ""},
		{"empty file", `{"to":"+34600111222","type":"image"}`, "a.jpg", "image/jpeg", []byte{}, nil, 422, "media_refused", ""},
		{"image over 5 MB", `{"to":"+34600111222","type":"image"}`, "big.jpg", "image/jpeg", append(bytes.Clone(testJPEG), make([]byte, 5<<20)...), nil, 422, "media_refused", ""},
		{"gif image", `{"to":"+34600111222","type":"image"}`, "a.gif", "image/gif", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), nil, 422, "media_refused", ""},
		{"no file part", `{"to":"+34600111222","type":"image"}`, "", "", nil, nil, 400, "invalid_upload", "file part"},
		{"no message part", "", "a.jpg", "image/jpeg", testJPEG, nil, 400, "invalid_upload", "message part"},
		{"unknown part", `{"to":"+34600111222","type":"image"}`, "a.jpg", "image/jpeg", testJPEG, []string{"channel"}, 400, "invalid_upload", "channel"},
		{"text message", `{"to":"+34600111222","type":"text","text":{"body":"x"}}`, "a.jpg", "image/jpeg", testJPEG, nil, 422, "validation_failed", "type"},
		{"id and a file", `{"to":"+34600111222","type":"image","image":{"id":"123"}}`, "a.jpg", "image/jpeg", testJPEG, nil, 422, "validation_failed", "image.id"},
		{"bad number", `{"to":"12","type":"image"}`, "a.jpg", "image/jpeg", testJPEG, nil, 422, "validation_failed", "to"},
		{"not JSON", `{"to":`, "a.jpg", "image/jpeg", testJPEG, nil, 422, "validation_failed", "JSON"},
	} {
		code, out := sendMultipart(t, inst.URL, "", "", c.message, c.file, c.ctype, c.data, c.extra...)
		raw, _ := json.Marshal(out)
		if code != c.status || errCode(out) != c.code || !strings.Contains(string(raw), c.mentions) {
			t.Errorf("%s: %d %s, want %d %s mentioning %q", c.name, code, raw, c.status, c.code, c.mentions)
		}
	}
	var bad map[string]any
	for _, c := range []struct{ body, field string }{
		{`{"to":"+34600111222","type":"image","image":{"data":"***"}}`, "image.data"},
		{`{"to":"+34600111222","type":"image","image":{"data":7}}`, "image.data"},
		{`{"to":"+34600111222","type":"image","image":{"data":"","filename":"x.jpg"}}`, "image.data"},
		{`{"to":"+34600111222","type":"image","image":{"data":"/9j/","link":"https://example.com/a.jpg"}}`, "image.link"},
	} {
		if code := call(t, inst.URL, "POST", "/v1/messages", c.body, &bad); code != 422 || !strings.Contains(mustJSON(bad), c.field) {
			t.Errorf("%s: %d %v, want 422 naming %s", c.body, code, bad, c.field)
		}
	}
	if n := len(fake.Uploaded()); n != uploads {
		t.Fatalf("refused sends uploaded %d files", n-uploads)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
