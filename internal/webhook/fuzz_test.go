package webhook

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wagate/wagate/internal/wa"
)

// fuzzSeeds are FuzzParse's seeds besides the testdata bodies: edge cases of the lenient rules.
var fuzzSeeds = []string{
	``, `{}`, `null`, `[]`, `"x"`, `{"entry":null}`, `{"entry":[{}]}`, `{"entry":[{"changes":[{}]}]}`,
	`{"entry":[{"id":1,"changes":[{"field":"messages","value":{"messages":[{"type":"image","image":{"voice":"true"}}]}}]}]}`,
	`{"entry":[{"changes":[{"field":"template_x","value":{"message_template_id":1e3}}]}]}`,
	`{"entry":[{"changes":[{"value":{"contacts":[{"user_id":"US.1"}],"messages":[{"id":"m","timestamp":1e99}]}}]}]}`,
	`{"messages":[{"type":"location","location":{"latitude":"1.5","longitude":-2}}]}`,
	`{"messages":[{"type":"order","order":{"product_items":{}}}],"statuses":[{"status":"deleted"}],"errors":[{"code":"470"}]}`,
	`{"messages":[{"type":"interactive","interactive":{"type":"nfm_reply","nfm_reply":[]}}]}`,
	`{"contacts":[{"profile":"x"}],"messages":[{"type":"contacts","contacts":[{"name":"x"},1]}]}`,
	cloudBody(`{"id":"m","type":"reaction","reaction":{"emoji":""}}`),
	// Bodies where the fast path must decline or agree with the lenient rules to the byte.
	`{"entry":[{"id":"1","changes":[{"value":{"messages":[{"id":"m","type":"text","t\u0065xt":{"body":"x"}}]},"field":"messages"}]}]}`,
	`{"entry":[{"changes":[{"value":{"messages":[{"type":"text","text":{"body":"a"},"text":{"body":"b"}}]}}],"changes":[]}]}`,
	"{\"messages\":[{\"id\":\"m\",\"type\":\"\xef\xbf\xbd\",\"\xff\":1}],\"contacts\":[{\"wa_id\":\"1\"," +
		`"profile":{"name":"\u00e9\ud800"}}]}`,
	`{"messages":[1,"x",null,{"type":"id","id":"\n"}],"statuses":[{"id":7,"status":"read","timestamp":" 1"},[]],"errors":null}`,
	`{"contacts":null,"messages":[{"type":"button","button":{"text":"ok"},"context":{"forwarded":"true","id":5}}],"metadata":[]}`,
	`{"entry":[{"changes":[{"field":"","value":{"statuses":{},"messages":[{"type":"interactive","interactive":{"type":"list_reply","list_reply":{"title":"t"}}}]}}]}]}`,
	` {"object":"whatsapp_business_account","entry":[{"changes":[{"field":"account_update","value":{"event":"X"}},{"value":null},{"value":7}]}]} `,
}

// FuzzParse checks that Parse never panics, that its errors are always one of the two sentinels, that a nil
// error comes with a shape, that all raw JSON it returns is valid, and that whenever the fast path takes a body
// it returns exactly what the lenient parser returns.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		checkFastPath(t, body)
		w, err := Parse(body)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnrecognized) {
				t.Fatalf("error %v wraps neither sentinel", err)
			}
			if w.Shape != "" || w.Changes != nil {
				t.Fatalf("data returned with error: %+v", w)
			}
			return
		}
		if w.Shape != wa.ShapeCloud && w.Shape != wa.ShapeOnPremise {
			t.Fatalf("nil error with shape %q", w.Shape)
		}
		if w.Shape == wa.ShapeOnPremise && len(w.Changes) != 1 {
			t.Fatalf("On-Premise body gave %d changes", len(w.Changes))
		}
		valid := func(what string, raw json.RawMessage) {
			if raw != nil && !json.Valid(raw) {
				t.Fatalf("%s is not valid JSON: %q", what, raw)
			}
		}
		for _, c := range w.Changes {
			if c.Field == "" {
				t.Fatal("empty Field")
			}
			valid("Unhandled", c.Unhandled)
			for _, m := range c.Messages {
				if m.Raw == nil {
					t.Fatal("message without Raw")
				}
				valid("message Raw", m.Raw)
				valid("Payload", m.Payload)
				valid("Referral", m.Referral)
				if m.Context != nil {
					valid("ReferredProduct", m.Context.ReferredProduct)
				}
				if !m.Timestamp.IsZero() && m.Timestamp.Location() != time.UTC {
					t.Fatalf("timestamp not UTC: %v", m.Timestamp)
				}
			}
			for _, r := range c.Statuses {
				if r.Raw == nil {
					t.Fatal("status without Raw")
				}
				valid("status Raw", r.Raw)
				valid("Conversation", r.Conversation)
				valid("Pricing", r.Pricing)
			}
			for _, tu := range c.Templates {
				valid("template Raw", tu.Raw)
			}
		}
	})
}

// FuzzVerifySignature checks that VerifySignature never panics, accepts what Sign produces, and accepts a
// header only when it carries the body's true HMAC.
func FuzzVerifySignature(f *testing.F) {
	f.Add([]byte(`{"entry":[]}`), []byte("secret"), "sha256=00")
	f.Add([]byte(``), []byte("s"), "")
	f.Add([]byte(`{}`), []byte{}, Sign([]byte(`{}`), nil))
	f.Add([]byte("body"), []byte("key"), Sign([]byte("body"), []byte("key")))
	f.Add([]byte("body"), []byte("key"), "SHA256="+strings.ToUpper(Sign([]byte("body"), []byte("key"))[7:]))
	f.Fuzz(func(t *testing.T, body, secret []byte, header string) {
		err := VerifySignature(body, header, secret)
		if len(secret) == 0 {
			if !errors.Is(err, ErrNoAppSecret) {
				t.Fatalf("empty secret: %v", err)
			}
			return
		}
		if err == nil {
			want := Sign(body, secret)
			if !strings.EqualFold(strings.TrimSpace(header), want) {
				t.Fatalf("accepted %q, true signature is %q", header, want)
			}
		} else if !errors.Is(err, ErrSignatureMissing) && !errors.Is(err, ErrSignatureMalformed) &&
			!errors.Is(err, ErrSignatureMismatch) {
			t.Fatalf("unexpected error %v", err)
		}
		if err := VerifySignature(body, Sign(body, secret), secret); err != nil {
			t.Fatalf("own signature rejected: %v", err)
		}
	})
}
