package inbound_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/wagate/wagate/internal/store"
)

// FuzzReceive posts arbitrary bodies to the receiver. Whatever the bytes, the answer is 200 or a documented
// refusal (400 empty, 413 too large), never a crash; and every body answered 200 is stored byte for byte.
func FuzzReceive(f *testing.F) {
	files, _ := filepath.Glob("../webhook/testdata/*.json")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{textBody, "", "{", "[]", "null", `{"entry":null}`, `{"messages":[{"id":1}]}`, "\xff\xfe", `{"entry":[{"changes":[{"value":{"statuses":[{"id":"x","status":"read"}]}}]}]}`} {
		f.Add([]byte(s))
	}
	b := setup(f, "sqlite", demoChannels(), false)
	f.Fuzz(func(t *testing.T, body []byte) {
		a := b.post(t, "/webhooks/whatsapp", body, nil)
		switch a.Status {
		case 200:
			ev, err := b.st.EventGet(context.Background(), nil, a.EventID)
			if err != nil {
				t.Fatalf("answered 200 but event %q not stored: %v", a.EventID, err)
			}
			if !bytes.Equal(ev.Body, body) {
				t.Fatalf("stored body differs from the posted one")
			}
			if ev.State == store.EventFailed && a.OK {
				t.Fatalf("failed event answered ok")
			}
		case 400:
			if len(bytes.TrimSpace(body)) != 0 {
				t.Fatalf("400 for a non-empty body: %s", a.Raw)
			}
		case 413:
		default:
			t.Fatalf("unexpected answer %d %s", a.Status, a.Raw)
		}
	})
}
