package provider

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const testKey = "s3cr3t-key-value"

func testCaller(srv *httptest.Server) *Caller {
	return &Caller{
		Kind:    Kind360Dialog,
		HTTP:    NewHTTPClient(srv.Client()),
		Auth:    func(h http.Header) { h.Set("D360-API-KEY", testKey) },
		Secrets: []string{testKey},
	}
}

func TestCaller_JSONSendsHeadersAndDecodes(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("D360-API-KEY") != testKey || r.Header.Get("Content-Type") != "application/json" ||
			r.Header.Get("Accept") != "application/json" || r.Method != http.MethodPost {
			http.Error(w, "bad headers", http.StatusTeapot)
			return
		}
		b, _ := io.ReadAll(r.Body)
		if string(b) != `{"a":"b"}` {
			http.Error(w, "bad body "+string(b), http.StatusTeapot)
			return
		}
		w.Write([]byte(`{"ok":true}`))
	}))
	defer srv.Close()
	var out struct{ OK bool }
	if err := testCaller(srv).JSON(context.Background(), OpSend, http.MethodPost, srv.URL+"/x", map[string]string{"a": "b"}, &out); err != nil || !out.OK {
		t.Fatalf("err %v out %+v", err, out)
	}
}

func TestCaller_UnreadableAnswer(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{not json`)) }))
	defer srv.Close()
	c := testCaller(srv)
	var out struct{}
	err := c.JSON(context.Background(), OpSend, http.MethodPost, srv.URL, nil, &out)
	var pe *Error
	if !errors.As(err, &pe) || pe.Class != ClassInvalid || pe.Class.Retryable() {
		t.Fatalf("send: %v", err)
	}
	err = c.JSON(context.Background(), OpHealth, http.MethodGet, srv.URL, nil, &out)
	if !errors.As(err, &pe) || pe.Class != ClassRetry {
		t.Fatalf("health: %v", err)
	}
}

func TestCaller_BoundsTheAnswer(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(bytes.Repeat([]byte("a"), 2048))
	}))
	defer srv.Close()
	c := testCaller(srv)
	_, err := c.Do(context.Background(), OpDownloadMedia, http.MethodGet, srv.URL, "", nil, 1024)
	var pe *Error
	if !errors.As(err, &pe) || !errors.Is(err, ErrResponseTooLarge) || pe.Class != ClassInvalid {
		t.Fatalf("err = %v", err)
	}
	if r, err := c.Do(context.Background(), OpDownloadMedia, http.MethodGet, srv.URL, "", nil, 2048); err != nil || len(r.Body) != 2048 {
		t.Fatalf("exact limit: %v", err)
	}
}

func TestNewHTTPClient_RefusesRedirectToAnotherHost(t *testing.T) {
	t.Parallel()
	var leaked bool
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked = r.Header.Get("D360-API-KEY") != ""
		w.Write([]byte(`{}`))
	}))
	defer other.Close()
	// Same port, other host name: "localhost" instead of 127.0.0.1.
	otherURL := strings.Replace(other.URL, "127.0.0.1", "localhost", 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/away":
			http.Redirect(w, r, otherURL+"/steal", http.StatusFound)
		case "/here":
			http.Redirect(w, r, "/final", http.StatusTemporaryRedirect)
		case "/final":
			w.Write([]byte(`{"ok":true}`))
		}
	}))
	defer srv.Close()
	c := testCaller(srv)
	_, err := c.Do(context.Background(), OpHealth, http.MethodGet, srv.URL+"/away", "", nil, 0)
	var pe *Error
	if !errors.As(err, &pe) || pe.Class != ClassAuth || pe.HTTPStatus != http.StatusFound || !strings.Contains(pe.Message, "redirect") {
		t.Fatalf("err = %v", err)
	}
	if leaked {
		t.Fatal("the key was sent to another host")
	}
	r, err := c.Do(context.Background(), OpHealth, http.MethodGet, srv.URL+"/here", "", nil, 0)
	if err != nil || string(r.Body) != `{"ok":true}` {
		t.Fatalf("same-host redirect: %v", err)
	}
	// The caller's own client is untouched.
	if srv.Client().CheckRedirect != nil {
		t.Error("NewHTTPClient changed its argument")
	}
}

func TestCaller_NetworkErrors(t *testing.T) {
	t.Parallel()
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(hang)
	c := testCaller(srv)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.Do(ctx, OpSend, http.MethodPost, srv.URL, "application/json", []byte(`{}`), 0)
	var pe *Error
	if !errors.As(err, &pe) || !pe.Timeout || pe.Network || pe.Class != ClassRetry || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("timeout: %#v", err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = c.Do(context.Background(), OpSend, http.MethodPost, "http://"+addr+"/messages", "application/json", []byte(`{}`), 0)
	if !errors.As(err, &pe) || !pe.Network || pe.Timeout || pe.Message != "Couldn't reach the WhatsApp service." {
		t.Fatalf("closed port: %#v", err)
	}
}

func TestCaller_ScrubsSecrets(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"error":"key ` + r.Header.Get("D360-API-KEY") + ` is disabled"}`))
	}))
	defer srv.Close()
	_, err := testCaller(srv).Do(context.Background(), OpSend, http.MethodPost, srv.URL, "", nil, 0)
	var pe *Error
	if !errors.As(err, &pe) {
		t.Fatal(err)
	}
	if strings.Contains(err.Error(), testKey) || strings.Contains(pe.Details, testKey) || strings.Contains(pe.Message, testKey) {
		t.Fatalf("secret leaked: %q / %q", err.Error(), pe.Details)
	}
	if pe.Message != "key [redacted] is disabled" {
		t.Errorf("message = %q", pe.Message)
	}
	// An underlying error keeps its identity but loses the secret.
	c := &Caller{Kind: KindMeta, Secrets: []string{testKey}}
	e := c.Scrub(&Error{Err: errors.Join(io.EOF, errors.New("token "+testKey))})
	if strings.Contains(e.Err.Error(), testKey) || !errors.Is(e, io.EOF) {
		t.Errorf("err = %v", e.Err)
	}
}

func TestMediaMultipart(t *testing.T) {
	t.Parallel()
	body, ctype, err := MediaMultipart(MediaFile{Data: []byte("%PDF-1.4 hi"), MimeType: "application/pdf", Filename: `../dir/"quoted" ñ.pdf`})
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(ctype)
	if err != nil || mt != "multipart/form-data" {
		t.Fatalf("content type %q", ctype)
	}
	r := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	form, err := r.ReadForm(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	if form.Value["messaging_product"][0] != "whatsapp" || form.Value["type"][0] != "application/pdf" {
		t.Errorf("fields %v", form.Value)
	}
	fh := form.File["file"][0]
	if fh.Filename != "_quoted_ _.pdf" || fh.Header.Get("Content-Type") != "application/pdf" {
		t.Errorf("file %q %v", fh.Filename, fh.Header)
	}
	// Without a MIME type or name: sniffed, and named by type.
	png := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 16)...)
	body, ctype, _ = MediaMultipart(MediaFile{Data: png})
	_, params, _ = mime.ParseMediaType(ctype)
	form, err = multipart.NewReader(bytes.NewReader(body), params["boundary"]).ReadForm(1 << 20)
	if err != nil || form.Value["type"][0] != "image/png" || form.File["file"][0].Filename != "file.png" {
		t.Errorf("sniffed: %v %v", err, form)
	}
}

func TestCheckSHA256(t *testing.T) {
	t.Parallel()
	data := []byte("media bytes")
	sum := sha256.Sum256(data)
	hexSum := hex.EncodeToString(sum[:])
	for _, want := range []string{"", hexSum, strings.ToUpper(hexSum), base64.StdEncoding.EncodeToString(sum[:]),
		base64.RawURLEncoding.EncodeToString(sum[:]), "a1b2c3d4e5f6...", "4654+8g="} {
		got, err := CheckSHA256(data, want)
		if err != nil || got != hexSum {
			t.Errorf("want %q: %q %v", want, got, err)
		}
	}
	other := sha256.Sum256([]byte("else"))
	if _, err := CheckSHA256(data, hex.EncodeToString(other[:])); !errors.Is(err, ErrMediaChecksum) {
		t.Errorf("mismatch: %v", err)
	}
}

func TestParsePhoneInfo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		body    string
		canSend bool
		details int
		check   func(Health) bool
	}{
		{"meta full", `{"verified_name":"Acme","display_phone_number":"+1 555 0100","quality_rating":"green","throughput":{"level":"STANDARD"},
			"health_status":{"can_send_message":"AVAILABLE","entities":[{"entity_type":"PHONE_NUMBER","id":"1","can_send_message":"AVAILABLE"}]},"id":"1"}`,
			true, 0, func(h Health) bool {
				return h.VerifiedName == "Acme" && h.DisplayPhone == "+1 555 0100" && h.QualityRating == "GREEN" && h.Throughput == "STANDARD"
			}},
		{"no health_status", `{"verified_name":"Acme","throughput":"HIGH"}`, true, 0, func(h Health) bool { return h.Throughput == "HIGH" }},
		{"blocked", `{"health_status":{"can_send_message":"BLOCKED","entities":[{"entity_type":"WABA","id":"9","can_send_message":"BLOCKED",
			"errors":[{"error_code":141006,"error_description":"Payment method missing.","possible_solution":"Add one."}]}]},"id":"1"}`,
			false, 1, func(h Health) bool { return h.Details[0] == "WABA 9: Payment method missing. Add one. (code 141006)" }},
		{"limited", `{"health_status":{"can_send_message":"LIMITED","entities":[{"entity_type":"PHONE_NUMBER","id":"1","additional_info":["Low tier."]}]}}`,
			true, 2, nil},
		{"bool", `{"health_status":{"can_send_message":false}}`, false, 0, nil},
		{"entities only", `{"health_status":{"entities":[{"entity_type":"APP","id":"2","can_send_message":"BLOCKED"}]}}`, false, 0, nil},
		{"bare", `{"can_send_message":"AVAILABLE","entities":[]}`, true, 0, nil},
		{"odd types", `{"verified_name":5,"quality_rating":{},"health_status":"weird"}`, true, 0, nil},
	}
	for _, tc := range tests {
		var h Health
		if err := ParsePhoneInfo([]byte(tc.body), &h); err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if h.CanSend != tc.canSend || len(h.Details) != tc.details || (tc.check != nil && !tc.check(h)) {
			t.Errorf("%s: %+v", tc.name, h)
		}
	}
	for _, bad := range []string{``, `[]`, `null`, `{`} {
		var h Health
		if ParsePhoneInfo([]byte(bad), &h) == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestParseSendResponse(t *testing.T) {
	t.Parallel()
	r, err := ParseSendResponse([]byte(`{"messaging_product":"whatsapp","contacts":[{"input":"+34 600","wa_id":"34600"}],"messages":[{"id":"wamid.X","message_status":"accepted"}]}`))
	if err != nil || r != (SendResult{ProviderID: "wamid.X", WAID: "34600", Status: "accepted"}) {
		t.Errorf("cloud: %+v %v", r, err)
	}
	r, err = ParseSendResponse([]byte(`{"messages":[{"id":"gBEGkYiEB1VXAglK1ZEqA1YKPrU"}],"meta":{"api_status":"stable","version":"2.45.1"}}`))
	if err != nil || r.ProviderID != "gBEGkYiEB1VXAglK1ZEqA1YKPrU" {
		t.Errorf("on-premise: %+v %v", r, err)
	}
	for _, bad := range []string{`{}`, `{"messages":[]}`, `{"messages":[{"id":""}]}`, `nope`} {
		if _, err := ParseSendResponse([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestParseMediaInfo(t *testing.T) {
	t.Parallel()
	for _, body := range []string{
		`{"messaging_product":"whatsapp","url":"https://l/x","mime_type":"image/jpeg","sha256":"abc","file_size":"303833","id":"1"}`,
		`{"url":"https://l/x","mime_type":"image/jpeg","sha256":"abc","file_size":303833,"id":"1"}`,
	} {
		mi, err := ParseMediaInfo([]byte(body))
		if err != nil || mi != (MediaInfo{ID: "1", URL: "https://l/x", MimeType: "image/jpeg", SHA256: "abc", FileSize: 303833}) {
			t.Errorf("%s: %+v %v", body, mi, err)
		}
	}
	if _, err := ParseMediaInfo([]byte(`{"id":"1"}`)); err == nil {
		t.Error("no url: no error")
	}
}
