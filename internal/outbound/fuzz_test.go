package outbound

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/wagate/wagate/internal/phone"
)

// FuzzDecode checks that Decode never panics, that it fails with a non-empty Errors and a zero Request, and
// that a request it accepts is valid: an E.164 To (except "read"), Content that is JSON, a message Validate
// accepts, and a Cloud body that decodes back to the same message. Seeds: testdata/good and testdata/bad.
func FuzzDecode(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds: %v", err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		``, `null`, `{}`, `{"to":"+34696247355","text":"x","text":"y"}`,
		`{"to":"+34696247355","image":{"link":"http://[::ffff:10.0.0.1]/a.jpg"}}`,
		`{"status":"read","message_id":"wamid.X","typing_indicator":{"type":"text"}}`,
		`{"to":"+34696247355","reaction":{"message_id":"w","emoji":"1️⃣"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := Decode(body)
		if err != nil {
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("error %#v is not a non-empty Errors", err)
			}
			if !reflect.DeepEqual(req, Request{}) {
				t.Fatalf("request %+v returned with an error", req)
			}
			return
		}
		m := req.Message
		if m.Type != "read" {
			if n, err := phone.Normalize(m.To); err != nil || n != m.To {
				t.Fatalf("To %q is not E.164 (%q, %v)", m.To, n, err)
			}
		}
		if !json.Valid(m.Content) {
			t.Fatalf("content %q is not JSON", m.Content)
		}
		if err := Validate(m); err != nil {
			t.Fatalf("Validate(%+v) with content %s: %v", m, m.Content, err)
		}
		if m.Type != "read" {
			roundTrip(t, "fuzz", m)
		}
	})
}
