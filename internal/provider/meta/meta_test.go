package meta

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
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

const (
	testToken = "EAAG-test-token-1234567890"
	testPNID  = "109876543210987"
	testWABA  = "102290129340398"
)

// fake is a Graph API stand-in: each test installs a handler and reads back what the client sent.
type fake struct {
	t       *testing.T
	srv     *httptest.Server
	client  *Client
	mu      sync.Mutex
	handler http.HandlerFunc
	hits    int
}

func setup(t *testing.T, h http.HandlerFunc) *fake {
	t.Helper()
	f := &fake{t: t, handler: h}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.hits++
		f.mu.Unlock()
		f.handler(w, r)
	}))
	t.Cleanup(f.srv.Close)
	f.client = New(Config{BaseURL: f.srv.URL + "/", PhoneNumberID: testPNID, WABAID: testWABA, AccessToken: testToken, HTTP: f.srv.Client()})
	return f
}

func (f *fake) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits
}

// expect fails the request (with a 418 the client reports) unless method, path and auth match.
func expect(t *testing.T, w http.ResponseWriter, r *http.Request, method, path string) bool {
	t.Helper()
	if r.Method != method || r.URL.Path != path || r.Header.Get("Authorization") != "Bearer "+testToken {
		t.Errorf("got %s %s auth %q, want %s %s", r.Method, r.URL.Path, r.Header.Get("Authorization"), method, path)
		w.WriteHeader(http.StatusTeapot)
		return false
	}
	return true
}

func jsonEqual(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	// Called from handlers: Errorf, never Fatal, off the test goroutine.
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

var textMsg = wa.Outbound{To: "+34 696 247 355", Type: "text", Content: json.RawMessage(`{"body":"Hola","preview_url":false}`), ReplyTo: "wamid.prev"}

func TestMeta_Send(t *testing.T) {
	t.Parallel()
	f := setup(t, func(w http.ResponseWriter, r *http.Request) {
		if !expect(t, w, r, http.MethodPost, "/v23.0/"+testPNID+"/messages") {
			return
		}
		if r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("content type %q", r.Header.Get("Content-Type"))
		}
		b, _ := io.ReadAll(r.Body)
		jsonEqual(t, b, `{"messaging_product":"whatsapp","recipient_type":"individual","to":"34696247355","type":"text",
			"text":{"body":"Hola","preview_url":false},"context":{"message_id":"wamid.prev"}}`)
		writeJSON(w, 200, `{"messaging_product":"whatsapp","contacts":[{"input":"34696247355","wa_id":"34696247355"}],
			"messages":[{"id":"wamid.HBgL","message_status":"accepted"}]}`)
	})
	res, err := f.client.Send(context.Background(), textMsg)
	if err != nil {
		t.Fatal(err)
	}
	if res != (provider.SendResult{ProviderID: "wamid.HBgL", WAID: "34696247355", Status: "accepted"}) {
		t.Errorf("result %+v", res)
	}
	if f.client.Kind() != "meta" {
		t.Errorf("kind %q", f.client.Kind())
	}
}

func TestMeta_SendErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		body   string
		header map[string]string
		class  provider.Class
		code   int
		check  func(*provider.Error) bool
	}{
		{"throughput with 400", 400, `{"error":{"message":"(#130429) Rate limit hit","type":"OAuthException","code":130429,
			"error_data":{"messaging_product":"whatsapp","details":"Cloud API message throughput has been reached."},"fbtrace_id":"Az"}}`,
			map[string]string{"Retry-After": "7"}, provider.ClassRate, 130429,
			func(e *provider.Error) bool {
				return e.RetryAfter == 7*time.Second && e.FBTraceID == "Az" && e.HTTPStatus == 400
			}},
		{"pair rate", 400, `{"error":{"message":"(#131056) (Business Account, Consumer Account) pair rate limit hit","code":131056}}`, nil,
			provider.ClassPairRate, 131056, nil},
		{"window", 400, `{"error":{"message":"(#131047) Re-engagement message","code":131047,"error_data":{"details":"Message failed to send because more than 24 hours have passed since the customer last replied to this number."}}}`, nil,
			provider.ClassWindow, 131047, func(e *provider.Error) bool { return strings.HasPrefix(e.Message, "More than 24 hours have passed") }},
		{"expired token", 401, `{"error":{"message":"Error validating access token: Session has expired","type":"OAuthException","code":190,"error_subcode":463}}`, nil,
			provider.ClassAuth, 190, func(e *provider.Error) bool {
				return e.Subcode == 463 && strings.Contains(e.Message, "WHATSAPP_ACCESS_TOKEN")
			}},
		{"template missing", 404, `{"error":{"message":"(#132001) Template name does not exist in the translation","code":132001,"error_data":{"details":"template name (x) does not exist in en_US"}}}`, nil,
			provider.ClassTemplate, 132001, func(e *provider.Error) bool {
				return strings.HasSuffix(e.Message, "Provider says: template name (x) does not exist in en_US")
			}},
		{"undeliverable", 400, `{"error":{"message":"(#131026) Message Undeliverable.","code":131026}}`, nil, provider.ClassRecipient, 131026, nil},
		{"unknown", 500, `{"error":{"message":"(#131000) Something went wrong","code":131000}}`, nil, provider.ClassRetry, 131000, nil},
		{"gateway", 502, `<html>Bad gateway</html>`, nil, provider.ClassRetry, 0,
			func(e *provider.Error) bool {
				return e.Message == "The WhatsApp service is temporarily unavailable. wagate will retry."
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				writeJSON(w, tc.status, tc.body)
			})
			_, err := f.client.Send(context.Background(), textMsg)
			e := asError(t, err)
			if e.Class != tc.class || e.Code != tc.code || e.Provider != "meta" || e.Op != provider.OpSend || (tc.check != nil && !tc.check(e)) {
				t.Errorf("%+v", e)
			}
		})
	}
}

func TestMeta_SendUnreadableAnswerIsNotRetried(t *testing.T) {
	t.Parallel()
	f := setup(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, `{"messaging_product":"whatsapp"}`) })
	_, err := f.client.Send(context.Background(), textMsg)
	if e := asError(t, err); e.Class.Retryable() {
		t.Errorf("a 200 without id must not be retried: %+v", e)
	}
}

func TestMeta_MarkRead(t *testing.T) {
	t.Parallel()
	f := setup(t, func(w http.ResponseWriter, r *http.Request) {
		if !expect(t, w, r, http.MethodPost, "/v23.0/"+testPNID+"/messages") {
			return
		}
		b, _ := io.ReadAll(r.Body)
		jsonEqual(t, b, `{"messaging_product":"whatsapp","status":"read","message_id":"wamid.in"}`)
		if strings.Contains(string(b), "wamid.bad") {
			writeJSON(w, 400, `{"error":{"message":"(#131009) Parameter value is not valid","code":131009}}`)
			return
		}
		writeJSON(w, 200, `{"success":true}`)
	})
	if err := f.client.MarkRead(context.Background(), "wamid.in"); err != nil {
		t.Fatal(err)
	}
	f.handler = func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 400, `{"error":{"message":"(#131009) Parameter value is not valid","code":131009}}`)
	}
	if e := asError(t, f.client.MarkRead(context.Background(), "wamid.bad")); e.Class != provider.ClassInvalid || e.Code != 131009 {
		t.Errorf("%+v", e)
	}
	if e := asError(t, f.client.MarkRead(context.Background(), "")); e.Class != provider.ClassInvalid {
		t.Errorf("empty id: %+v", e)
	}
}

func TestMeta_UploadMedia(t *testing.T) {
	t.Parallel()
	data := []byte("\xff\xd8\xff\xe0 jpeg bytes")
	f := setup(t, func(w http.ResponseWriter, r *http.Request) {
		if !expect(t, w, r, http.MethodPost, "/v23.0/"+testPNID+"/media") {
			return
		}
		mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "multipart/form-data" {
			t.Errorf("content type %q", r.Header.Get("Content-Type"))
		}
		form, err := multipart.NewReader(r.Body, params["boundary"]).ReadForm(1 << 20)
		if err != nil {
			t.Error(err)
			w.WriteHeader(http.StatusTeapot)
			return
		}
		if form.Value["messaging_product"][0] != "whatsapp" || form.Value["type"][0] != "image/jpeg" {
			t.Errorf("fields %v", form.Value)
		}
		fh := form.File["file"][0]
		file, _ := fh.Open()
		got, _ := io.ReadAll(file)
		if !bytes.Equal(got, data) || fh.Filename != "photo.jpg" || fh.Header.Get("Content-Type") != "image/jpeg" {
			t.Errorf("file %q %q %v", got, fh.Filename, fh.Header)
		}
		writeJSON(w, 200, `{"id":"1037543291543636"}`)
	})
	id, err := f.client.UploadMedia(context.Background(), provider.MediaFile{Data: data, MimeType: "image/jpeg", Filename: "photo.jpg"})
	if err != nil || id != "1037543291543636" {
		t.Fatalf("%q %v", id, err)
	}
	if e := asError(t, func() error { _, err := f.client.UploadMedia(context.Background(), provider.MediaFile{}); return err }()); e.Class != provider.ClassInvalid {
		t.Errorf("empty: %+v", e)
	}
}

func TestMeta_DownloadMedia(t *testing.T) {
	t.Parallel()
	data := []byte("the image bytes")
	sum := sha256.Sum256(data)
	digest := hex.EncodeToString(sum[:])
	var lookups int
	f := setup(t, nil)
	f.handler = func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v23.0/4490709327384033":
			if !expect(t, w, r, http.MethodGet, r.URL.Path) {
				return
			}
			lookups++
			writeJSON(w, 200, `{"messaging_product":"whatsapp","url":"`+f.srv.URL+`/whatsapp_business/attachments/?mid=4490709327384033&ext=1&hash=ATs","mime_type":"image/jpeg","sha256":"`+digest+`","file_size":"15","id":"4490709327384033"}`)
		case "/whatsapp_business/attachments/":
			if !expect(t, w, r, http.MethodGet, r.URL.Path) {
				return
			}
			if q := r.URL.Query(); q.Get("mid") != "4490709327384033" || q.Get("hash") != "ATs" {
				t.Errorf("query %v", q)
			}
			w.Header().Set("Content-Type", "image/jpeg")
			w.Write(data)
		default:
			t.Errorf("unexpected %s", r.URL)
			w.WriteHeader(404)
		}
	}
	mf, err := f.client.DownloadMedia(context.Background(), "4490709327384033")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(mf.Data, data) || mf.MimeType != "image/jpeg" || mf.SHA256 != digest || lookups != 1 {
		t.Errorf("%+v", mf)
	}
}

func TestMeta_DownloadMediaChecksumMismatch(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	f.handler = func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v23.0/") {
			writeJSON(w, 200, `{"url":"`+f.srv.URL+`/dl?x=1","mime_type":"image/jpeg","sha256":"`+strings.Repeat("ab", 32)+`"}`)
			return
		}
		w.Write([]byte("other bytes"))
	}
	_, err := f.client.DownloadMedia(context.Background(), "1")
	e := asError(t, err)
	if e.Class != provider.ClassRetry || !errors.Is(err, provider.ErrMediaChecksum) {
		t.Errorf("%+v", e)
	}
}

func TestMeta_DownloadMediaRefusesPlainHTTPElsewhere(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	var other int
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { other++ }))
	t.Cleanup(elsewhere.Close)
	f.handler = func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"url":"`+strings.Replace(elsewhere.URL, "127.0.0.1", "localhost", 1)+`/dl","mime_type":"image/jpeg"}`)
	}
	_, err := f.client.DownloadMedia(context.Background(), "1")
	if e := asError(t, err); e.Class != provider.ClassInvalid || other != 0 {
		t.Errorf("%+v, other host hit %d times", e, other)
	}
}

func TestMeta_DownloadMediaNotFound(t *testing.T) {
	t.Parallel()
	f := setup(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 400, `{"error":{"message":"(#100) Invalid parameter","code":100,"error_subcode":33}}`)
	})
	_, err := f.client.DownloadMedia(context.Background(), "nope")
	if e := asError(t, err); e.Class != provider.ClassInvalid || e.Code != 100 || e.Subcode != 33 {
		t.Errorf("%+v", e)
	}
}

func TestMeta_Health(t *testing.T) {
	t.Parallel()
	f := setup(t, func(w http.ResponseWriter, r *http.Request) {
		if !expect(t, w, r, http.MethodGet, "/v23.0/"+testPNID) {
			return
		}
		if got := r.URL.Query().Get("fields"); got != "verified_name,display_phone_number,quality_rating,throughput,health_status" {
			t.Errorf("fields %q", got)
		}
		writeJSON(w, 200, `{"verified_name":"Despacho Ruiz","display_phone_number":"+34 696 24 73 55","quality_rating":"GREEN",
			"throughput":{"level":"STANDARD"},"health_status":{"can_send_message":"LIMITED","entities":[
			{"entity_type":"PHONE_NUMBER","id":"`+testPNID+`","can_send_message":"AVAILABLE"},
			{"entity_type":"WABA","id":"`+testWABA+`","can_send_message":"LIMITED","additional_info":["Messaging limit tier 250."]}]},"id":"`+testPNID+`"}`)
	})
	h, err := f.client.Health(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !h.CanSend || h.VerifiedName != "Despacho Ruiz" || h.DisplayPhone != "+34 696 24 73 55" || h.QualityRating != "GREEN" ||
		h.Throughput != "STANDARD" || h.CheckedAt.IsZero() || len(h.Details) != 2 || h.Details[0] != "WABA "+testWABA+": Messaging limit tier 250." {
		t.Errorf("%+v", h)
	}
}

func TestMeta_HealthFallsBackWhenFieldsRefused(t *testing.T) {
	t.Parallel()
	var calls []string
	f := setup(t, func(w http.ResponseWriter, r *http.Request) {
		fields := r.URL.Query().Get("fields")
		calls = append(calls, fields)
		if strings.Contains(fields, "health_status") {
			writeJSON(w, 400, `{"error":{"message":"(#100) Tried accessing nonexisting field (health_status)","code":100}}`)
			return
		}
		writeJSON(w, 200, `{"verified_name":"X","quality_rating":"YELLOW"}`)
	})
	h, err := f.client.Health(context.Background())
	if err != nil || !h.CanSend || h.QualityRating != "YELLOW" || len(calls) != 2 || calls[1] != "verified_name,display_phone_number,quality_rating" {
		t.Errorf("%+v %v %v", h, err, calls)
	}
}

func TestMeta_Webhook(t *testing.T) {
	t.Parallel()
	body := `{"data":[{"whatsapp_business_api_data":{"id":"6784","link":"https://www.facebook.com/games/?app_id=6784","name":"wagate"}}]}`
	f := setup(t, func(w http.ResponseWriter, r *http.Request) {
		if !expect(t, w, r, http.MethodGet, "/v23.0/"+testWABA+"/subscribed_apps") {
			return
		}
		writeJSON(w, 200, body)
	})
	wc, err := f.client.Webhook(context.Background())
	if err != nil || wc.URL != "" {
		t.Fatalf("%+v %v", wc, err)
	}
	body = `{"data":[{"whatsapp_business_api_data":{"id":"6784","name":"wagate"},"override_callback_uri":"https://wagate.example.com/webhooks/whatsapp"}]}`
	if wc, err := f.client.Webhook(context.Background()); err != nil || wc.URL != "https://wagate.example.com/webhooks/whatsapp" {
		t.Errorf("override: %+v %v", wc, err)
	}
	body = `{"data":[]}`
	_, err = f.client.Webhook(context.Background())
	if e := asError(t, err); e.Class != provider.ClassAuth || !strings.Contains(e.Message, "subscribed") || !errors.Is(err, ErrNotSubscribed) {
		t.Errorf("%+v", e)
	}
	noWABA := New(Config{BaseURL: f.srv.URL, PhoneNumberID: testPNID, AccessToken: testToken})
	_, err = noWABA.Webhook(context.Background())
	if e := asError(t, err); e.Class != provider.ClassAuth || !strings.Contains(e.Message, "WAGATE_WABA_ID") {
		t.Errorf("%+v", e)
	}
}

func TestMeta_SetWebhookUnsupported(t *testing.T) {
	t.Parallel()
	f := setup(t, func(w http.ResponseWriter, r *http.Request) { t.Errorf("unexpected call %s", r.URL) })
	err := f.client.SetWebhook(context.Background(), provider.WebhookConfig{URL: "https://x.example/webhooks/whatsapp"})
	if e := asError(t, err); e.Class != provider.ClassUnsupported || !strings.Contains(e.Message, "app dashboard") {
		t.Errorf("%+v", e)
	}
}

func TestMeta_Timeout(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	f := setup(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := f.client.Send(ctx, textMsg)
	e := asError(t, err)
	if !e.Timeout || e.Class != provider.ClassRetry || e.Message != "The WhatsApp service timed out. Try again." {
		t.Errorf("%+v", e)
	}
}

func TestMeta_ClosedPort(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := New(Config{BaseURL: "http://" + addr, PhoneNumberID: testPNID, AccessToken: testToken})
	_, err = c.Send(context.Background(), textMsg)
	e := asError(t, err)
	if !e.Network || e.Timeout || e.Class != provider.ClassRetry || e.Message != "Couldn't reach the WhatsApp service." {
		t.Errorf("%+v", e)
	}
}

func TestMeta_MissingConfiguration(t *testing.T) {
	t.Parallel()
	f := setup(t, func(w http.ResponseWriter, r *http.Request) { t.Errorf("unexpected call %s", r.URL) })
	noToken := New(Config{BaseURL: f.srv.URL, PhoneNumberID: testPNID})
	_, err := noToken.Send(context.Background(), textMsg)
	if e := asError(t, err); e.Class != provider.ClassAuth || e.Message != "WhatsApp isn't configured (missing API key)." {
		t.Errorf("%+v", e)
	}
	noNumber := New(Config{BaseURL: f.srv.URL, AccessToken: testToken})
	_, err = noNumber.Health(context.Background())
	if e := asError(t, err); e.Class != provider.ClassAuth || !strings.Contains(e.Message, "WHATSAPP_PHONE_NUMBER_ID") {
		t.Errorf("%+v", e)
	}
	_, err = f.client.Send(context.Background(), wa.Outbound{To: "+1"})
	if e := asError(t, err); e.Class != provider.ClassInvalid {
		t.Errorf("%+v", e)
	}
}

// A provider that echoes the token back cannot make it appear in any error text.
func TestMeta_TokenNeverInErrors(t *testing.T) {
	t.Parallel()
	for _, status := range []int{400, 401, 500} {
		f := setup(t, func(w http.ResponseWriter, r *http.Request) {
			tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
			writeJSON(w, status, `{"error":{"message":"(#190) bad token `+tok+`","code":190,"error_data":{"details":"token `+tok+` expired"},"error_user_msg":"`+tok+`","fbtrace_id":"`+tok+`"}}`)
		})
		calls := []func() error{
			func() error { _, err := f.client.Send(context.Background(), textMsg); return err },
			func() error { return f.client.MarkRead(context.Background(), "wamid.x") },
			func() error {
				_, err := f.client.UploadMedia(context.Background(), provider.MediaFile{Data: []byte("x"), MimeType: "text/plain"})
				return err
			},
			func() error { _, err := f.client.DownloadMedia(context.Background(), "1"); return err },
			func() error { _, err := f.client.Health(context.Background()); return err },
			func() error { _, err := f.client.Webhook(context.Background()); return err },
		}
		for i, call := range calls {
			err := call()
			e := asError(t, err)
			for _, s := range []string{err.Error(), e.Message, e.Title, e.Details, e.FBTraceID, errText(e.Err)} {
				if strings.Contains(s, testToken) {
					t.Errorf("status %d call %d leaked the token: %q", status, i, s)
				}
			}
		}
		if f.count() == 0 {
			t.Error("no call reached the server")
		}
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
