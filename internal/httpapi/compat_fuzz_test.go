package httpapi

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/wagate/wagate/internal/outbound"
	"github.com/wagate/wagate/internal/phone"
)

// The decoders of the compatible endpoints take untrusted bodies and paths: they must answer every input with a
// request that passes the send rules or a clear error, and never panic. Seeds are below and in testdata/fuzz.

func FuzzDecodeNotify(f *testing.F) {
	for _, s := range []string{
		`{"phoneNumber":"+972525551234","templateName":"visit","languageCode":"en_US","headerParameters":{"type":"image","image":{"link":"https://example.com/a.jpg"}},"templateParameters":[{"type":"text","text":"Dana"}]}`,
		`{"templateName":"hello_world"}`,
		`{"phoneNumber":"972525551234","templateName":"x"}`,
		`{"templateName":"x","templateParameters":["a",{"type":"text","text":"b"},3]}`,
		`{"templateName":"x","headerParameters":[{"type":"document","document":{"link":"https://example.com/a.pdf"}}]}`,
		`{"templateName":"x","extra":1}`, `[]`, `null`, ``, `{"templateName":"x"} {}`, `{"templateName":"\u0000"}`,
	} {
		f.Add([]byte(s), "+34696247355")
		f.Add([]byte(s), "")
	}
	f.Fuzz(func(t *testing.T, body []byte, def string) {
		req, e := decodeNotify(body, def)
		if e != nil {
			if e.status != http.StatusBadRequest || e.message == "" || e.detail == "" {
				t.Fatalf("unclear error %+v", e)
			}
			return
		}
		if req.Message.Type != "template" {
			t.Fatalf("type %q", req.Message.Type)
		}
		if n, err := phone.Normalize(req.Message.To); err != nil || n != req.Message.To {
			t.Fatalf("recipient %q is not E.164", req.Message.To)
		}
		if err := outbound.Validate(req.Message); err != nil {
			t.Fatalf("decoded a message the send rules refuse: %v", err)
		}
	})
}

func FuzzDecodeCompat(f *testing.F) {
	for _, s := range []string{
		`{"messaging_product":"whatsapp","to":"34696247355","type":"text","text":{"body":"Hola"}}`,
		`{"messaging_product":"whatsapp","recipient_type":"individual","to":"+34696247355","type":"template","template":{"name":"t","language":{"policy":"deterministic","code":"en"}}}`,
		`{"messaging_product":"whatsapp","to":"+34696247355","type":"image","image":{"link":"https://example.com/a.jpg"}}`,
		`{"messaging_product":"whatsapp","status":"read","message_id":"wamid.X"}`,
		`{"to":["+34696247355"],"text":"x"}`, `{"to":34696247355,"text":"x"}`, `{`, ``, `"x"`,
	} {
		f.Add([]byte(s), "")
		f.Add([]byte(s), "key-1")
	}
	f.Fuzz(func(t *testing.T, body []byte, key string) {
		req, input, e := decodeCompat(body, key)
		if e != nil {
			if e.Code == 0 || e.status < 400 || !strings.HasPrefix(e.Message, "(#") {
				t.Fatalf("unclear error %+v", e)
			}
			return
		}
		if req.Message.Type == "read" {
			return
		}
		if input == "" {
			t.Fatal("no input to echo")
		}
		if err := outbound.Validate(req.Message); err != nil {
			t.Fatalf("decoded a message the send rules refuse: %v", err)
		}
	})
}

func FuzzCompatPaths(f *testing.F) {
	for _, p := range []string{"/v23.0/123/messages", "//v17.0/123/messages", "/v17.0//123/messages", "/messages", "//messages",
		"/v1/messages", "/v1//messages/x/retry", "/v23.0/123/messages/", "/v23.0/a%2Fb/messages", "///", "/webhooks//whatsapp"} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p string) {
		u, err := url.Parse("http://h" + p)
		if err != nil || !strings.HasPrefix(u.Path, "/") {
			return
		}
		var got string
		h := CompatPaths(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.URL.Path }))
		r := httptest.NewRequest("POST", "/", nil)
		r.URL = u
		h.ServeHTTP(httptest.NewRecorder(), r)
		if strings.Contains(got, "//") {
			t.Fatalf("%q reached the mux as %q", u.Path, got)
		}
		if graphPathRE.MatchString(collapseSlashes(u.Path)) != strings.HasPrefix(got, graphPrefix) && !strings.HasPrefix(collapseSlashes(u.Path), graphPrefix) {
			t.Fatalf("%q reached the mux as %q", u.Path, got)
		}
	})
}

func TestCloudFromAPI_MapsCatalogueCodes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		e            *Error
		code, status int
	}{
		{&Error{Status: 422, Code: "window_closed"}, 131047, 400},
		{&Error{Status: 422, Code: "template_not_found"}, 132001, 404},
		{&Error{Status: 422, Code: "template_not_approved"}, 132001, 404},
		{&Error{Status: 422, Code: "template_param_count"}, 132000, 400},
		{&Error{Status: 422, Code: "template_paused"}, 132015, 400},
		{&Error{Status: 422, Code: "recipient_unreachable"}, 131026, 400},
		{&Error{Status: 422, Code: "validation_failed"}, 100, 400},
		{&Error{Status: 422, Code: "provider_rejected", ProviderCode: 131053}, 131053, 400},
		{&Error{Status: 502, Code: "provider_unavailable", ProviderCode: 131016}, 131016, 500},
		{ErrUnauthorized, 190, 401},
		{&Error{Status: 403, Code: "forbidden"}, 10, 403},
		{&Error{Status: 429, Code: "rate_limited"}, 4, 400},
		{ErrIdempotencyConflict, 100, 409},
		{ErrInternal, 131000, 500},
		{&Error{Status: 503, Code: "unavailable"}, 2, 503},
	}
	for _, c := range cases {
		ce := cloudFromAPI(c.e)
		if ce.Code != c.code || ce.status != c.status || ce.FBTraceID == "" || ce.ErrorData == nil {
			t.Errorf("%s: code %d status %d, want %d %d", c.e.Code, ce.Code, ce.status, c.code, c.status)
		}
	}
}
