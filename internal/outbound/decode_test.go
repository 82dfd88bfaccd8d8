package outbound

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/wagate/wagate/internal/wa"
)

// goodBodies returns the request bodies in testdata/good by file name.
func goodBodies(t testing.TB) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "good", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no good bodies: %v", err)
	}
	bodies := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		bodies[strings.TrimSuffix(filepath.Base(f), ".json")] = b
	}
	return bodies
}

// fields returns the Field of every error in err, which must be an Errors.
func fields(t *testing.T, err error) []string {
	t.Helper()
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("error %v (%T) is not an Errors", err, err)
	}
	if len(es) == 0 {
		t.Fatal("empty Errors returned as an error")
	}
	out := make([]string, len(es))
	for i, e := range es {
		if e.Message == "" {
			t.Errorf("error for %q has no message", e.Field)
		}
		out[i] = e.Field
	}
	return out
}

// sameJSON reports whether a and b hold the same JSON value.
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatalf("%s: %v", a, err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return reflect.DeepEqual(va, vb)
}

func TestDecode_GoodBodiesOfEveryType(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for name, body := range goodBodies(t) {
		req, err := Decode(body)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		typ, _, _ := strings.Cut(name, "_")
		if req.Message.Type != typ {
			t.Errorf("%s: Type = %q; want %q", name, req.Message.Type, typ)
		}
		seen[typ] = true
		if err := Validate(req.Message); err != nil {
			t.Errorf("%s: Validate: %v", name, err)
		}
	}
	for _, typ := range append(messageTypes, "read") {
		if !seen[typ] {
			t.Errorf("no good body of type %s in testdata/good", typ)
		}
	}
}

func TestDecode_CloudBody(t *testing.T) {
	t.Parallel()
	req, err := Decode(goodBodies(t)["text_cloud"])
	if err != nil {
		t.Fatal(err)
	}
	want := Request{Message: wa.Outbound{
		To: "+34696247355", Type: "text", Content: json.RawMessage(`{"body":"Hola","preview_url":true}`), ReplyTo: "wamid.X",
	}}
	if !reflect.DeepEqual(req, want) {
		t.Errorf("got %+v (content %s)\nwant %+v", req, req.Message.Content, want)
	}
}

func TestDecode_WithoutEnvelopeFields(t *testing.T) {
	t.Parallel()
	bodies := []string{
		`{"to":"+34696247355","type":"text","text":{"body":"Hola"}}`,
		`{"messaging_product":"whatsapp","to":"+34696247355","type":"text","text":{"body":"Hola"}}`,
		`{"recipient_type":"individual","to":"+34696247355","type":"text","text":{"body":"Hola"}}`,
		`{"to":"+34696247355","text":{"body":"Hola"}}`,
		`{"to":"+34696247355","text":"Hola"}`,
		`{"to":"+34696247355","type":"text","text":"Hola","context":null,"channel":null}`,
	}
	for _, b := range bodies {
		req, err := Decode([]byte(b))
		if err != nil {
			t.Errorf("%s: %v", b, err)
			continue
		}
		want := wa.Outbound{To: "+34696247355", Type: "text", Content: json.RawMessage(`{"body":"Hola"}`)}
		if !reflect.DeepEqual(req.Message, want) || req.Channel != "" || req.IdempotencyKey != "" {
			t.Errorf("%s: got %+v (content %s)", b, req, req.Message.Content)
		}
	}
}

func TestDecode_TypeInference(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		`{"to":"+34696247355","image":{"id":"123"}}`:                                          "image",
		`{"to":"+34696247355","reaction":{"message_id":"wamid.X","emoji":"👍"}}`:               "reaction",
		`{"to":"+34696247355","contacts":[{"name":{"formatted_name":"Ana"}}]}`:                "contacts",
		`{"to":"+34696247355","location":{"latitude":1,"longitude":2}}`:                       "location",
		`{"to":"+34696247355","text":"Hola","image":null}`:                                    "text",
		`{"to":"+34696247355","template":{"name":"hello_world","language":{"code":"en_US"}}}`: "template",
	}
	for body, want := range cases {
		req, err := Decode([]byte(body))
		if err != nil || req.Message.Type != want {
			t.Errorf("%s: type %q, %v; want %q", body, req.Message.Type, err, want)
		}
	}
}

func TestDecode_WagateFields(t *testing.T) {
	t.Parallel()
	req, err := Decode(goodBodies(t)["text_wagate"])
	if err != nil {
		t.Fatal(err)
	}
	if req.Channel != "sales" || req.IdempotencyKey != "0b6f3c1e-8f1a-4c55-9a57-7c1d1f0b2a9e" ||
		req.Message.To != "+34696247355" || !strings.HasPrefix(req.Message.ReplyTo, "wamid.HBg") {
		t.Errorf("got %+v", req)
	}
	// reply_to and context may both be given when they agree.
	req, err = Decode([]byte(`{"to":"+34696247355","text":"x","reply_to":"wamid.A","context":{"message_id":"wamid.A"}}`))
	if err != nil || req.Message.ReplyTo != "wamid.A" {
		t.Errorf("got %+v, %v", req, err)
	}
}

func TestDecode_ShorthandTextIsNotHTMLEscaped(t *testing.T) {
	t.Parallel()
	req, err := Decode(goodBodies(t)["text_shorthand"])
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(req.Message.Content), `{"body":"Hola <b>&</b>"}`; got != want {
		t.Errorf("content %s; want %s", got, want)
	}
}

func TestDecode_KeepsUnknownInnerFieldsCompactly(t *testing.T) {
	t.Parallel()
	body := `{"to":"+34696247355","type":"image","image":{ "id" : "123",
		"caption":"a <b>",  "future": {"x": [1, 2]} }}`
	req, err := Decode([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(req.Message.Content), `{"id":"123","caption":"a <b>","future":{"x":[1,2]}}`; got != want {
		t.Errorf("content %s; want %s", got, want)
	}
}

func TestDecode_Read(t *testing.T) {
	t.Parallel()
	req, err := Decode([]byte(`{"messaging_product":"whatsapp","status":"read","message_id":"wamid.X"}`))
	if err != nil {
		t.Fatal(err)
	}
	want := Request{Message: wa.Outbound{Type: "read", Content: json.RawMessage(`{"message_id":"wamid.X"}`)}}
	if !reflect.DeepEqual(req, want) {
		t.Errorf("got %+v; want %+v", req, want)
	}
	req, err = Decode([]byte(`{"status":"read","message_id":"wamid.X","typing_indicator":{"type":"text"},"channel":"sales","idempotency_key":"k1"}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(req.Message.Content); got != `{"message_id":"wamid.X","typing_indicator":{"type":"text"}}` ||
		req.Channel != "sales" || req.IdempotencyKey != "k1" {
		t.Errorf("got %+v (content %s)", req, got)
	}
	if err := Validate(req.Message); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if _, err := Decode([]byte(`{"type":"read","message_id":"wamid.X"}`)); err != nil {
		t.Errorf(`"type":"read" without status: %v`, err)
	}
}

func TestDecode_ErrorsInOrder(t *testing.T) {
	t.Parallel()
	body := `{"zzz":1,"aaa":2,"messaging_product":"sms","to":"12","text":{"body":"","preview_url":"yes"},"channel":"Sales!"}`
	_, err := Decode([]byte(body))
	got := fields(t, err)
	want := []string{"aaa", "zzz", "messaging_product", "to", "channel", "text.body", "text.preview_url"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("fields %q; want %q", got, want)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "aaa: is not a field of a send request") ||
		!strings.Contains(msg, `; to: "12" is not a valid phone number: write it with the country code, like +34696247355; `) ||
		!strings.HasSuffix(msg, "; text.body: is empty; text.preview_url: must be true or false, not a string") {
		t.Errorf("Error() = %s", msg)
	}
}

func TestDecode_TextLimitMessage(t *testing.T) {
	t.Parallel()
	_, err := Decode([]byte(`{"to":"+34696247355","text":"` + strings.Repeat("ñ", 5000) + `"}`))
	if got, want := err.Error(), "text.body: is 5,000 characters; the limit is 4,096"; got != want {
		t.Errorf("error %q; want %q", got, want)
	}
	// Characters, not bytes: 4,096 two-byte characters fit.
	if _, err := Decode([]byte(`{"to":"+34696247355","text":"` + strings.Repeat("ñ", 4096) + `"}`)); err != nil {
		t.Error(err)
	}
}

func TestDecode_ErrorsAreErrorsAndRequestIsZero(t *testing.T) {
	t.Parallel()
	req, err := Decode([]byte(`{"to":"+34696247355","text":""}`))
	if !reflect.DeepEqual(req, Request{}) {
		t.Errorf("request %+v; want zero", req)
	}
	var es Errors
	if !errors.As(err, &es) || len(es) != 1 || es[0] != (ValidationError{Field: "text.body", Message: "is empty"}) {
		t.Errorf("error %#v", err)
	}
	var ve ValidationError
	if errors.As(err, &ve) {
		t.Errorf("Errors unexpectedly unwraps to a ValidationError")
	}
}

func TestDecode_DeepNesting(t *testing.T) {
	t.Parallel()
	body := `{"to":"+34696247355","text":{"body":"x","deep":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}}`
	_, err := Decode([]byte(body))
	f := fields(t, err)
	if len(f) != 1 || !strings.HasPrefix(f[0], "text.deep[0][0]") {
		t.Errorf("fields %q", f)
	}
	// 60 levels are fine.
	body = `{"to":"+34696247355","text":{"body":"x","deep":` + strings.Repeat("[", 60) + strings.Repeat("]", 60) + `}}`
	if _, err := Decode([]byte(body)); err != nil {
		t.Error(err)
	}
}

func TestValidationError_Error(t *testing.T) {
	t.Parallel()
	if got := (ValidationError{Message: "the request body is empty"}).Error(); got != "the request body is empty" {
		t.Errorf("got %q", got)
	}
	if got := (ValidationError{Field: "to", Message: "is required"}).Error(); got != "to: is required" {
		t.Errorf("got %q", got)
	}
	if got := (Errors{{"a", "x"}, {"b", "y"}}).Error(); got != "a: x; b: y" {
		t.Errorf("got %q", got)
	}
}

func TestCheckIdempotencyKey(t *testing.T) {
	t.Parallel()
	for _, k := range []string{"0b6f3c1e-8f1a-4c55-9a57-7c1d1f0b2a9e", "order-77:retry", strings.Repeat("k", 255)} {
		if err := CheckIdempotencyKey(k); err != nil {
			t.Errorf("%q: %v", k, err)
		}
	}
	for _, k := range []string{"", "with space", "ñ", strings.Repeat("k", 256), "tab\t"} {
		var ve ValidationError
		if err := CheckIdempotencyKey(k); !errors.As(err, &ve) || ve.Field != "idempotency_key" {
			t.Errorf("%q: %v", k, err)
		}
	}
}

func TestDecode_CloudBodyRoundTrip(t *testing.T) {
	t.Parallel()
	for name, body := range goodBodies(t) {
		req, err := Decode(body)
		if err != nil || req.Message.Type == "read" {
			continue
		}
		roundTrip(t, name, req.Message)
	}
}

// roundTrip checks that the Cloud body wa.Outbound builds from m decodes back to m.
func roundTrip(t *testing.T, name string, m wa.Outbound) {
	t.Helper()
	cloud, err := m.CloudBody()
	if err != nil {
		t.Fatalf("%s: CloudBody: %v", name, err)
	}
	again, err := Decode(cloud)
	if err != nil {
		t.Fatalf("%s: decoding its Cloud body %s: %v", name, cloud, err)
	}
	got := again.Message
	if got.To != m.To || got.Type != m.Type || got.ReplyTo != m.ReplyTo || !sameJSON(t, got.Content, m.Content) {
		t.Fatalf("%s: round trip gave %+v (%s); want %+v (%s)", name, got, got.Content, m, m.Content)
	}
}

func TestDecode_ListsAtMost50Problems(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString(`{"to":"+34696247355","text":"x"`)
	for i := range 200 {
		fmt.Fprintf(&b, `,"unknown_%d":1`, i)
	}
	b.WriteString(`}`)
	_, err := Decode([]byte(b.String()))
	f := fields(t, err)
	if len(f) != 51 || f[50] != "" {
		t.Errorf("%d errors, last %q", len(f), f[len(f)-1])
	}
}

func TestDecode_LongKeysAreShortenedInFields(t *testing.T) {
	t.Parallel()
	key := strings.Repeat("k", 1000)
	for _, body := range []string{
		`{"to":"+34696247355","text":"x","` + key + `":1}`,
		`{"to":"+34696247355","text":{"body":"x","` + key + `":1,"` + key + `":2}}`,
	} {
		_, err := Decode([]byte(body))
		for _, f := range fields(t, err) {
			if len(f) > 100 {
				t.Errorf("field of %d bytes", len(f))
			}
		}
	}
}

// TestDecode_LargeBody decodes a 1 MiB body of many small values under a long key: with work quadratic in
// the body size (a field path built for every value) it would allocate over 100 GB. Speed itself is measured
// by BenchmarkDecode, not checked here.
func TestDecode_LargeBody(t *testing.T) {
	t.Parallel()
	key := strings.Repeat("k", 512<<10)
	body := `{"to":"+34696247355","text":{"body":"x","` + key + `":[` + strings.TrimSuffix(strings.Repeat("0,", 256<<10), ",") + `]}}`
	if _, err := Decode([]byte(body)); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, name := range []string{"text_cloud", "template", "interactive_list"} {
		body := goodBodies(b)[name]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if _, err := Decode(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
