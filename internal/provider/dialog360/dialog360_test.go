package dialog360

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wagate/wagate/internal/provider"
	"github.com/wagate/wagate/internal/wa"
)

const testKey = "D360-test-key-Zx81"

// fake is a 360dialog stand-in on 127.0.0.1; tests swap its handler between calls.
type fake struct {
	srv     *httptest.Server
	cloud   *Client
	onPrem  *Client
	mu      sync.Mutex
	handler http.HandlerFunc
	hits    int
}

func setup(t *testing.T, h http.HandlerFunc) *fake {
	t.Helper()
	f := &fake{handler: h}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.hits++
		h := f.handler
		f.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(f.srv.Close)
	f.cloud = NewCloud(Config{BaseURL: f.srv.URL, APIKey: testKey, HTTP: f.srv.Client()})
	f.onPrem = NewOnPremise(Config{BaseURL: f.srv.URL + "/", APIKey: testKey, Namespace: "c8ae5f90_307a_ca4c_b8f6_d1e2a2573574", HTTP: f.srv.Client()})
	return f
}

func (f *fake) set(h http.HandlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.handler = h
}

func (f *fake) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits
}

// expect reports (and answers 418) a request whose method, path or key is not the wanted one.
func expect(t *testing.T, w http.ResponseWriter, r *http.Request, method, path string) bool {
	t.Helper()
	if r.Method != method || r.URL.Path != path || r.Header.Get("D360-API-KEY") != testKey || r.Header.Get("Authorization") != "" {
		t.Errorf("got %s %s key %q, want %s %s", r.Method, r.URL.Path, r.Header.Get("D360-API-KEY"), method, path)
		w.WriteHeader(http.StatusTeapot)
		return false
	}
	return true
}

// bodyIs compares a JSON body with want, ignoring key order. It runs in handlers: Errorf only.
func bodyIs(t *testing.T, r *http.Request, want string) {
	t.Helper()
	got, _ := io.ReadAll(r.Body)
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Errorf("body %q: %v", got, err)
		return
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Errorf("want %q: %v", want, err)
		return
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("body = %s\nwant   %s", got, want)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("content type %q", ct)
	}
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func asError(t *testing.T, err error) *provider.Error {
	t.Helper()
	var pe *provider.Error
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T) is not a *provider.Error", err, err)
	}
	return pe
}

var (
	textMsg     = wa.Outbound{To: "+49 151 2345 6789", Type: "text", Content: json.RawMessage(`{"body":"Hallo"}`), ReplyTo: "wamid.q"}
	templateMsg = wa.Outbound{To: "+491512345678", Type: "template", Content: json.RawMessage(
		`{"name":"order_update","language":{"code":"de"},"components":[{"type":"body","parameters":[{"type":"text","text":"Ana"}]}]}`)}
)

func TestCloud_Send(t *testing.T) {
	t.Parallel()
	f := setup(t, func(w http.ResponseWriter, r *http.Request) {
		if !expect(t, w, r, http.MethodPost, "/messages") {
			return
		}
		bodyIs(t, r, `{"messaging_product":"whatsapp","recipient_type":"individual","to":"4915123456789","type":"text",
			"text":{"body":"Hallo"},"context":{"message_id":"wamid.q"}}`)
		writeJSON(w, 200, `{"messaging_product":"whatsapp","contacts":[{"input":"4915123456789","wa_id":"4915123456789"}],"messages":[{"id":"wamid.HBgN"}]}`)
	})
	res, err := f.cloud.Send(context.Background(), textMsg)
	if err != nil || res != (provider.SendResult{ProviderID: "wamid.HBgN", WAID: "4915123456789"}) {
		t.Fatalf("%+v %v", res, err)
	}
	if f.cloud.Kind() != "360dialog" || f.onPrem.Kind() != "360dialog-onpremise" {
		t.Errorf("kinds %q %q", f.cloud.Kind(), f.onPrem.Kind())
	}
}

func TestCloud_SendErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		body   string
		class  provider.Class
		code   int
		msg    string
	}{
		{"meta throughput with 400", 400, `{"error":{"message":"(#130429) Rate limit hit","type":"OAuthException","code":130429,"error_data":{"messaging_product":"whatsapp","details":"Cloud API message throughput has been reached."},"fbtrace_id":"AxY"}}`,
			provider.ClassRate, 130429, "Meta's throughput limit for this number was reached. wagate pauses the channel and retries. Provider says: Cloud API message throughput has been reached."},
		{"meta window", 400, `{"error":{"message":"(#131047) Re-engagement message","code":131047}}`,
			provider.ClassWindow, 131047, "More than 24 hours have passed since the contact last wrote: free-form messages are refused. Send an approved template instead."},
		{"gateway 401", 401, `{"error":"Invalid api key"}`, provider.ClassAuth, 0,
			"360dialog rejected the API key. Check WHATSAPP_API_KEY (or WAGATE_360DIALOG_API_KEY) and that the key belongs to this number."},
		{"gateway 403", 403, `Path blocked`, provider.ClassAuth, 0,
			"360dialog rejected the API key. Check WHATSAPP_API_KEY (or WAGATE_360DIALOG_API_KEY) and that the key belongs to this number."},
		{"gateway 404", 404, ``, provider.ClassAuth, 0,
			"WhatsApp number not found on 360dialog. Check that the API key belongs to a provisioned number."},
		{"gateway 429", 429, `{"error":"Too many requests"}`, provider.ClassRate, 0,
			"360dialog is rate-limiting WhatsApp messages right now. wagate will retry; slow down bulk sends."},
		{"gateway 400 detail", 400, `{"error":"Phone number is not verified"}`, provider.ClassAuth, 0, "Phone number is not verified"},
		{"gateway 400 bare", 400, ``, provider.ClassAuth, 0,
			"360dialog refused the message (400). The number may be unverified, or the recipient is outside the 24-hour window (send an approved template)."},
		{"gateway 500", 500, `{"error":"Internal Server Error"}`, provider.ClassRetry, 0, "The WhatsApp service is temporarily unavailable. wagate will retry."},
		{"gateway 502", 502, `WhatsApp API not available`, provider.ClassRetry, 0, "The WhatsApp service is temporarily unavailable. wagate will retry."},
		{"gateway 503", 503, ``, provider.ClassRetry, 0, "The WhatsApp service is temporarily unavailable. wagate will retry."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, tc.status, tc.body) })
			_, err := f.cloud.Send(context.Background(), textMsg)
			e := asError(t, err)
			if e.Class != tc.class || e.Code != tc.code || e.Message != tc.msg || e.Provider != "360dialog" || e.HTTPStatus != tc.status {
				t.Errorf("got %+v\nwant class %q code %d message %q", e, tc.class, tc.code, tc.msg)
			}
		})
	}
}

func TestCloud_MarkRead(t *testing.T) {
	t.Parallel()
	f := setup(t, func(w http.ResponseWriter, r *http.Request) {
		if !expect(t, w, r, http.MethodPost, "/messages") {
			return
		}
		bodyIs(t, r, `{"messaging_product":"whatsapp","status":"read","message_id":"wamid.in"}`)
		writeJSON(w, 200, `{"success":true}`)
	})
	if err := f.cloud.MarkRead(context.Background(), "wamid.in"); err != nil {
		t.Fatal(err)
	}
}

func TestCloud_UploadMedia(t *testing.T) {
	t.Parallel()
	data := []byte("%PDF-1.7 contract")
	f := setup(t, func(w http.ResponseWriter, r *http.Request) {
		if !expect(t, w, r, http.MethodPost, "/media") {
			return
		}
		_, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		form, err := multipart.NewReader(r.Body, params["boundary"]).ReadForm(1 << 20)
		if err != nil {
			t.Error(err)
			w.WriteHeader(http.StatusTeapot)
			return
		}
		file, _ := form.File["file"][0].Open()
		got, _ := io.ReadAll(file)
		if form.Value["messaging_product"][0] != "whatsapp" || form.Value["type"][0] != "application/pdf" || !bytes.Equal(got, data) ||
			form.File["file"][0].Filename != "contract.pdf" {
			t.Errorf("form %v %q", form.Value, got)
		}
		writeJSON(w, 200, `{"id":"1215316826203395"}`)
	})
	id, err := f.cloud.UploadMedia(context.Background(), provider.MediaFile{Data: data, MimeType: "application/pdf", Filename: "contract.pdf"})
	if err != nil || id != "1215316826203395" {
		t.Fatalf("%q %v", id, err)
	}
}

func TestCloud_DownloadMediaRewritesLookaside(t *testing.T) {
	t.Parallel()
	data := []byte("voice note bytes")
	sum := sha256.Sum256(data)
	f := setup(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/1037543291543636":
			if !expect(t, w, r, http.MethodGet, r.URL.Path) {
				return
			}
			// Meta's base64 digest, as webhooks carry it.
			writeJSON(w, 200, `{"messaging_product":"whatsapp","url":"https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1037543291543636&ext=1693400000&hash=ATuQ%2Bx",
				"mime_type":"audio/ogg","sha256":"`+base64.StdEncoding.EncodeToString(sum[:])+`","file_size":16,"id":"1037543291543636"}`)
		case "/whatsapp_business/attachments/":
			if !expect(t, w, r, http.MethodGet, r.URL.Path) {
				return
			}
			if r.URL.RawQuery != "mid=1037543291543636&ext=1693400000&hash=ATuQ%2Bx" {
				t.Errorf("query %q", r.URL.RawQuery)
			}
			w.Header().Set("Content-Type", "audio/ogg")
			w.Write(data)
		default:
			t.Errorf("unexpected %s", r.URL)
			w.WriteHeader(http.StatusTeapot)
		}
	})
	mf, err := f.cloud.DownloadMedia(context.Background(), "1037543291543636")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(mf.Data, data) || mf.MimeType != "audio/ogg" || len(mf.SHA256) != 64 {
		t.Errorf("%+v", mf)
	}
}

func TestCloud_DownloadMediaErrors(t *testing.T) {
	t.Parallel()
	f := setup(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 404, `{"error":"Not Found"}`) })
	_, err := f.cloud.DownloadMedia(context.Background(), "gone")
	if e := asError(t, err); e.Class != provider.ClassInvalid || e.Class.Retryable() {
		t.Errorf("404 lookup: %+v", e)
	}
	f.set(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/m" {
			writeJSON(w, 200, `{"url":"https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=m","sha256":"`+strings.Repeat("0", 64)+`"}`)
			return
		}
		w.Write([]byte("bytes"))
	})
	_, err = f.cloud.DownloadMedia(context.Background(), "m")
	if e := asError(t, err); e.Class != provider.ClassRetry || !errors.Is(err, provider.ErrMediaChecksum) {
		t.Errorf("checksum: %+v", e)
	}
}

func TestCloud_Health(t *testing.T) {
	t.Parallel()
	f := setup(t, func(w http.ResponseWriter, r *http.Request) {
		if !expect(t, w, r, http.MethodGet, "/health_status") {
			return
		}
		writeJSON(w, 200, `{"health_status":{"can_send_message":"BLOCKED","entities":[
			{"entity_type":"PHONE_NUMBER","id":"1","can_send_message":"AVAILABLE"},
			{"entity_type":"BUSINESS","id":"2","can_send_message":"BLOCKED","errors":[{"error_code":141010,"error_description":"The Business has not passed business verification.","possible_solution":"Verify the business."}]}]},"id":"1"}`)
	})
	h, err := f.cloud.Health(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if h.CanSend || len(h.Details) != 1 || h.Details[0] != "BUSINESS 2: The Business has not passed business verification. Verify the business. (code 141010)" {
		t.Errorf("%+v", h)
	}
}

func TestCloud_Webhook(t *testing.T) {
	t.Parallel()
	f := setup(t, func(w http.ResponseWriter, r *http.Request) {
		if !expect(t, w, r, http.MethodGet, "/v1/configs/webhook") {
			return
		}
		writeJSON(w, 200, `{"url":"https://wagate.example.com/webhooks/whatsapp/main","headers":{"X-Wagate-Secret":"abc"}}`)
	})
	wc, err := f.cloud.Webhook(context.Background())
	if err != nil || wc.URL != "https://wagate.example.com/webhooks/whatsapp/main" || wc.Headers["X-Wagate-Secret"] != "abc" {
		t.Fatalf("%+v %v", wc, err)
	}
	f.set(func(w http.ResponseWriter, r *http.Request) {
		if !expect(t, w, r, http.MethodPost, "/v1/configs/webhook") {
			return
		}
		bodyIs(t, r, `{"url":"https://wagate.example.com/webhooks/whatsapp/main","headers":{"X-Wagate-Secret":"s3cr3t-hook"}}`)
		writeJSON(w, 200, `{"url":"https://wagate.example.com/webhooks/whatsapp/main"}`)
	})
	if err := f.cloud.SetWebhook(context.Background(), provider.WebhookConfig{URL: "https://wagate.example.com/webhooks/whatsapp/main",
		Headers: map[string]string{"X-Wagate-Secret": "s3cr3t-hook"}}); err != nil {
		t.Fatal(err)
	}
	// Without headers the field is left out.
	f.set(func(w http.ResponseWriter, r *http.Request) {
		bodyIs(t, r, `{"url":"https://wagate.example.com/w"}`)
		w.WriteHeader(200)
	})
	if err := f.cloud.SetWebhook(context.Background(), provider.WebhookConfig{URL: "https://wagate.example.com/w"}); err != nil {
		t.Fatal(err)
	}
	// A bad URL never reaches 360dialog, and its secret query stays out of the error.
	before := f.count()
	err = f.cloud.SetWebhook(context.Background(), provider.WebhookConfig{URL: "/relative?token=hush-hush"})
	if e := asError(t, err); e.Class != provider.ClassInvalid || strings.Contains(err.Error(), "hush-hush") || strings.Contains(errText(e.Err), "hush-hush") || f.count() != before {
		t.Errorf("%+v", e)
	}
	// 360dialog echoing the header secret back in an error does not leak it either.
	f.set(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		writeJSON(w, 400, `{"error":"rejected `+strings.ReplaceAll(string(b), `"`, `'`)+`"}`)
	})
	err = f.cloud.SetWebhook(context.Background(), provider.WebhookConfig{URL: "https://wagate.example.com/w?token=hush-hush", Headers: map[string]string{"X-S": "hidden-value"}})
	e := asError(t, err)
	if strings.Contains(e.Message, "hidden-value") || strings.Contains(e.Message, "hush-hush") || !strings.Contains(e.Message, "rejected") {
		t.Errorf("%q", e.Message)
	}
}

func TestOnPremise_SendText(t *testing.T) {
	t.Parallel()
	f := setup(t, func(w http.ResponseWriter, r *http.Request) {
		if !expect(t, w, r, http.MethodPost, "/v1/messages") {
			return
		}
		bodyIs(t, r, `{"to":"4915123456789","type":"text","text":{"body":"Hallo"},"context":{"message_id":"wamid.q"}}`)
		writeJSON(w, 201, `{"messages":[{"id":"gBEGSRUjRWeJAgkPMEsDn7iHhnc"}],"meta":{"api_status":"stable","version":"2.45.2"}}`)
	})
	res, err := f.onPrem.Send(context.Background(), textMsg)
	if err != nil || res.ProviderID != "gBEGSRUjRWeJAgkPMEsDn7iHhnc" {
		t.Fatalf("%+v %v", res, err)
	}
}

func TestOnPremise_SendTemplate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		namespace string
		content   string
		want      string
	}{
		{"adds policy and namespace", "c8ae5f90_307a_ca4c_b8f6_d1e2a2573574", string(templateMsg.Content),
			`{"namespace":"c8ae5f90_307a_ca4c_b8f6_d1e2a2573574","name":"order_update","language":{"code":"de","policy":"deterministic"},
			"components":[{"type":"body","parameters":[{"type":"text","text":"Ana"}]}]}`},
		{"keeps the template's own", "configured", `{"name":"x","namespace":"own","language":{"code":"en","policy":"fallback"}}`,
			`{"name":"x","namespace":"own","language":{"code":"en","policy":"fallback"}}`},
		{"no namespace configured", "", `{"name":"x","language":{"code":"en"}}`,
			`{"name":"x","language":{"code":"en","policy":"deterministic"}}`},
		{"bare language code", "", `{"name":"x","language":"es"}`,
			`{"name":"x","language":{"code":"es","policy":"deterministic"}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, func(w http.ResponseWriter, r *http.Request) {
				if !expect(t, w, r, http.MethodPost, "/v1/messages") {
					return
				}
				bodyIs(t, r, `{"to":"491512345678","type":"template","template":`+tc.want+`}`)
				writeJSON(w, 201, `{"messages":[{"id":"gBEG1"}]}`)
			})
			c := NewOnPremise(Config{BaseURL: f.srv.URL, APIKey: testKey, Namespace: tc.namespace})
			msg := templateMsg
			msg.Content = json.RawMessage(tc.content)
			if _, err := c.Send(context.Background(), msg); err != nil {
				t.Fatal(err)
			}
		})
	}
	// A template that is not an object is refused before any call.
	f := setup(t, func(w http.ResponseWriter, r *http.Request) { t.Errorf("unexpected call") })
	_, err := f.onPrem.Send(context.Background(), wa.Outbound{To: "+1", Type: "template", Content: json.RawMessage(`[1]`)})
	if e := asError(t, err); e.Class != provider.ClassInvalid {
		t.Errorf("%+v", e)
	}
}

func TestOnPremise_SendErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		body   string
		class  provider.Class
		code   int
	}{
		{"missing parameter", 400, `{"errors":[{"code":1008,"title":"Required parameter is missing","details":"Parameter 'to' is required"}],"meta":{"api_status":"stable","version":"2.45.2"}}`, provider.ClassInvalid, 1008},
		{"window", 400, `{"errors":[{"code":470,"title":"Message failed to send because more than 24 hours have passed"}]}`, provider.ClassWindow, 470},
		{"too many requests", 429, `{"errors":[{"code":1015,"title":"Too many requests"}]}`, provider.ClassRate, 1015},
		{"blocked", 400, `{"errors":[{"code":1007,"title":"Recipient blocked"}]}`, provider.ClassRecipient, 1007},
		{"template", 400, `{"errors":[{"code":2001,"title":"Template missing"}]}`, provider.ClassTemplate, 2001},
		{"errors in a 200", 200, `{"errors":[{"code":1011,"title":"Service not ready"}],"meta":{"api_status":"stable"}}`, provider.ClassRetry, 1011},
		{"gateway 401", 401, `{"meta":{"success":false,"http_code":401,"developer_message":"Invalid api key"}}`, provider.ClassAuth, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, tc.status, tc.body) })
			_, err := f.onPrem.Send(context.Background(), textMsg)
			e := asError(t, err)
			if e.Class != tc.class || e.Code != tc.code || e.Provider != "360dialog-onpremise" {
				t.Errorf("%+v", e)
			}
		})
	}
}

func TestOnPremise_MarkRead(t *testing.T) {
	t.Parallel()
	f := setup(t, func(w http.ResponseWriter, r *http.Request) {
		if !expect(t, w, r, http.MethodPut, "/v1/messages/gBEGkYiEB1VXAglK1ZEqA1YKPrU") {
			return
		}
		bodyIs(t, r, `{"status":"read"}`)
		w.WriteHeader(200)
	})
	if err := f.onPrem.MarkRead(context.Background(), "gBEGkYiEB1VXAglK1ZEqA1YKPrU"); err != nil {
		t.Fatal(err)
	}
}

func TestOnPremise_Media(t *testing.T) {
	t.Parallel()
	data := []byte("\x89PNG\r\n\x1a\n fake png")
	f := setup(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodPost:
			if !expect(t, w, r, http.MethodPost, "/v1/media") {
				return
			}
			got, _ := io.ReadAll(r.Body)
			if !bytes.Equal(got, data) || r.Header.Get("Content-Type") != "image/png" {
				t.Errorf("upload %q %q", got, r.Header.Get("Content-Type"))
			}
			writeJSON(w, 201, `{"media":[{"id":"f043afd0-f0ae-4b9c-ab3d-696fb4c8cd68"}],"meta":{"api_status":"stable","version":"2.45.2"}}`)
		case http.MethodGet:
			if !expect(t, w, r, http.MethodGet, "/v1/media/f043afd0-f0ae-4b9c-ab3d-696fb4c8cd68") {
				return
			}
			w.Header().Set("Content-Type", "image/png")
			w.Header().Set("Content-Disposition", `attachment; filename="pic.png"`)
			w.Write(data)
		}
	})
	id, err := f.onPrem.UploadMedia(context.Background(), provider.MediaFile{Data: data})
	if err != nil || id != "f043afd0-f0ae-4b9c-ab3d-696fb4c8cd68" {
		t.Fatalf("%q %v", id, err)
	}
	mf, err := f.onPrem.DownloadMedia(context.Background(), id)
	if err != nil || !bytes.Equal(mf.Data, data) || mf.MimeType != "image/png" || mf.Filename != "pic.png" || len(mf.SHA256) != 64 {
		t.Fatalf("%+v %v", mf, err)
	}
	f.set(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 404, `{"errors":[{"code":1006,"title":"Resource not found","details":"unknown media"}]}`)
	})
	_, err = f.onPrem.DownloadMedia(context.Background(), "x")
	if e := asError(t, err); e.Class != provider.ClassInvalid || e.Code != 1006 {
		t.Errorf("%+v", e)
	}
}

func TestOnPremise_Health(t *testing.T) {
	t.Parallel()
	tests := []struct {
		body    string
		canSend bool
		details []string
	}{
		{`{"health":{"gateway_status":"connected"},"meta":{"api_status":"stable"}}`, true, nil},
		{`{"health":{"gateway_status":"unregistered"}}`, false, []string{"gateway_status: unregistered"}},
		{`{"health":{"host1:c1":{"gateway_status":"connected","role":"primary_master"},"host2:c2":{"gateway_status":"disconnected","role":"coreapp"}}}`,
			true, []string{"host2:c2 gateway_status: disconnected"}},
	}
	for _, tc := range tests {
		f := setup(t, func(w http.ResponseWriter, r *http.Request) {
			if !expect(t, w, r, http.MethodGet, "/v1/health") {
				return
			}
			writeJSON(w, 200, tc.body)
		})
		h, err := f.onPrem.Health(context.Background())
		if err != nil || h.CanSend != tc.canSend || !reflect.DeepEqual(h.Details, tc.details) || h.CheckedAt.IsZero() {
			t.Errorf("%s: %+v %v", tc.body, h, err)
		}
	}
	f := setup(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, `{"meta":{}}`) })
	if _, err := f.onPrem.Health(context.Background()); asError(t, err).Class != provider.ClassRetry {
		t.Errorf("no health object: %v", err)
	}
}

func TestOnPremise_Webhook(t *testing.T) {
	t.Parallel()
	f := setup(t, func(w http.ResponseWriter, r *http.Request) {
		if !expect(t, w, r, http.MethodGet, "/v1/configs/webhook") {
			return
		}
		writeJSON(w, 200, `{"settings":{"application":{"webhooks":{"url":"https://wagate.example.com/webhooks/whatsapp/legacy"}}},"meta":{"api_status":"stable"}}`)
	})
	wc, err := f.onPrem.Webhook(context.Background())
	if err != nil || wc.URL != "https://wagate.example.com/webhooks/whatsapp/legacy" {
		t.Fatalf("%+v %v", wc, err)
	}
	f.set(func(w http.ResponseWriter, r *http.Request) {
		if !expect(t, w, r, http.MethodPost, "/v1/configs/webhook") {
			return
		}
		bodyIs(t, r, `{"url":"https://wagate.example.com/webhooks/whatsapp/legacy","headers":{"X-Secret":"v"}}`)
		w.WriteHeader(200)
	})
	if err := f.onPrem.SetWebhook(context.Background(), provider.WebhookConfig{URL: "https://wagate.example.com/webhooks/whatsapp/legacy", Headers: map[string]string{"X-Secret": "v"}}); err != nil {
		t.Fatal(err)
	}
}

// Every operation of both modes answers a missing key with MissingKey, without calling 360dialog.
func TestMissingKey(t *testing.T) {
	t.Parallel()
	f := setup(t, func(w http.ResponseWriter, r *http.Request) { t.Errorf("unexpected call %s", r.URL) })
	for _, c := range []*Client{NewCloud(Config{BaseURL: f.srv.URL}), NewOnPremise(Config{BaseURL: f.srv.URL})} {
		ctx := context.Background()
		calls := map[string]func() error{
			"send":      func() error { _, err := c.Send(ctx, textMsg); return err },
			"read":      func() error { return c.MarkRead(ctx, "x") },
			"upload":    func() error { _, err := c.UploadMedia(ctx, provider.MediaFile{Data: []byte("x")}); return err },
			"download":  func() error { _, err := c.DownloadMedia(ctx, "x"); return err },
			"health":    func() error { _, err := c.Health(ctx); return err },
			"webhook":   func() error { _, err := c.Webhook(ctx); return err },
			"sethook":   func() error { return c.SetWebhook(ctx, provider.WebhookConfig{URL: "https://x.example/w"}) },
			"emptyfile": func() error { _, err := c.UploadMedia(ctx, provider.MediaFile{}); return err },
		}
		for name, call := range calls {
			e := asError(t, call())
			if e.Class != provider.ClassAuth || e.Message != "WhatsApp isn't configured (missing API key)." || e.Provider != c.Kind() {
				t.Errorf("%s %s: %+v", c.Kind(), name, e)
			}
		}
	}
}

func TestTimeoutAndClosedPort(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	f := setup(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	for _, c := range []*Client{f.cloud, f.onPrem} {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		_, err := c.Send(ctx, textMsg)
		cancel()
		e := asError(t, err)
		if !e.Timeout || e.Network || e.Class != provider.ClassRetry || e.Message != "The WhatsApp service timed out. Try again." {
			t.Errorf("%s timeout: %+v", c.Kind(), e)
		}
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	for _, c := range []*Client{NewCloud(Config{BaseURL: "http://" + addr, APIKey: testKey}), NewOnPremise(Config{BaseURL: "http://" + addr, APIKey: testKey})} {
		_, err := c.Send(context.Background(), textMsg)
		e := asError(t, err)
		if !e.Network || e.Timeout || e.Class != provider.ClassRetry || e.Message != "Couldn't reach the WhatsApp service." || e.Error() != c.Kind()+" send: Couldn't reach the WhatsApp service." {
			t.Errorf("%s closed port: %+v", c.Kind(), e)
		}
	}
}

// A gateway that echoes the key back in any field cannot make it appear in an error's text.
func TestKeyNeverInErrors(t *testing.T) {
	t.Parallel()
	bodies := []struct {
		status int
		body   string
	}{
		{400, `{"error":"key KEY is disabled"}`},
		{401, `{"error":"Invalid api key KEY"}`},
		{400, `{"error":{"message":"(#100) KEY","code":100,"error_data":{"details":"KEY"},"fbtrace_id":"KEY"}}`},
		{400, `{"errors":[{"code":1008,"title":"KEY","details":"KEY"}]}`},
		{400, `KEY plain`},
		{200, `{"messages":"KEY"}`},
	}
	for _, b := range bodies {
		f := setup(t, func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, b.status, strings.ReplaceAll(b.body, "KEY", r.Header.Get("D360-API-KEY")))
		})
		for _, c := range []*Client{f.cloud, f.onPrem} {
			ctx := context.Background()
			errs := []error{
				func() error { _, err := c.Send(ctx, textMsg); return err }(),
				c.MarkRead(ctx, "wamid.x"),
				func() error {
					_, err := c.UploadMedia(ctx, provider.MediaFile{Data: []byte("x"), MimeType: "text/plain"})
					return err
				}(),
				func() error { _, err := c.Health(ctx); return err }(),
				func() error { _, err := c.Webhook(ctx); return err }(),
				c.SetWebhook(ctx, provider.WebhookConfig{URL: "https://x.example/w"}),
			}
			if b.status >= 300 {
				_, err := c.DownloadMedia(ctx, "m")
				errs = append(errs, err)
			}
			for i, err := range errs {
				if err == nil {
					continue // a 200 the operation accepts (webhook reads, mark read)
				}
				e := asError(t, err)
				for _, s := range []string{err.Error(), e.Message, e.Title, e.Details, e.FBTraceID, errText(e.Err)} {
					if strings.Contains(s, testKey) {
						t.Errorf("%s %d (%s): key leaked in %q", c.Kind(), i, b.body, s)
					}
				}
			}
		}
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
