package outbound

import (
	"encoding/json"
	"errors"
	"testing"
)

// FuzzFindInlineFile checks that FindInlineFile never panics on any body, that its problems are Errors, and
// that a found file attaches into a body that is one JSON object naming the file and no data.
func FuzzFindInlineFile(f *testing.F) {
	for _, s := range []string{
		`{"to":"+34696247355","type":"image","image":{"data":"/9j/4A==","filename":"x.jpg"}}`,
		`{"to":"+34696247355","document":{"data":"JVBERi0=","caption":"c"}}`,
		`{"to":"+34696247355","type":"image"}`, `{"type":"text","text":{"body":"data\""}}`,
		`{"image":{"data":"a","data":"b"}}`, `{"image":{"d\u0061ta":"QQ"}}`, `[]`, ``, `{"type":7}`,
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, body []byte, beside bool) {
		file, ok, err := FindInlineFile(body, beside)
		if err != nil {
			var es Errors
			if !errors.As(err, &es) || ok {
				t.Fatalf("error %v is not Errors (ok %v)", err, ok)
			}
			return
		}
		if !ok {
			return
		}
		out := file.Attach("abc")
		var any map[string]json.RawMessage
		if json.Unmarshal(out, &any) != nil {
			t.Fatalf("attached body is not an object: %s", out)
		}
		if json.Unmarshal(any[file.Kind], new(map[string]json.RawMessage)) != nil {
			t.Fatalf("attached media is not an object: %s", out)
		}
		var media map[string]json.RawMessage
		_ = json.Unmarshal(any[file.Kind], &media)
		if string(media["file"]) != `"abc"` || media["data"] != nil {
			t.Fatalf("attached media = %s", any[file.Kind])
		}
	})
}
