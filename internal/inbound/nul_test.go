package inbound_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/wagate/wagate/internal/store"
)

// TestInbound_NULInTextIsStored sends a webhook whose text, document file name and profile name hold "\u0000"
// (which PostgreSQL refuses in text): both messages are stored with U+FFFD in its place, the event is processed,
// and the raw body is kept byte for byte.
func TestInbound_NULInTextIsStored(t *testing.T) {
	t.Parallel()
	body, err := os.ReadFile(filepath.Join("..", "webhook", "testdata", "cloud_nul_text.json"))
	if err != nil {
		t.Fatal(err)
	}
	forEachDB(t, func(t *testing.T, db string) {
		b := setup(t, db, demoChannels(), false)
		ctx := context.Background()
		a := b.post(t, "/webhooks/whatsapp", body, nil)
		if a.Status != 200 || n(a.Stored) != 2 {
			t.Fatalf("answer %d %s", a.Status, a.Raw)
		}
		ev, err := b.st.EventGet(ctx, nil, a.EventID)
		if err != nil || ev.State != store.EventProcessed || !bytes.Equal(ev.Body, body) {
			t.Fatalf("event state %q error %q (body kept: %v), %v", ev.State, ev.Error, bytes.Equal(ev.Body, body), err)
		}
		text, err := b.st.MessageGetByProviderID(ctx, "default", "wamid.NUL1")
		if err != nil || text.Text != "hello\uFFFDworld" {
			t.Fatalf("text message = %q, %v", text.Text, err)
		}
		doc, err := b.st.MessageGetByProviderID(ctx, "default", "wamid.NUL2")
		if err != nil || doc.MediaFilename != "inv\uFFFDoice.pdf" {
			t.Fatalf("document = %q, %v", doc.MediaFilename, err)
		}
		c, err := b.st.ContactGetByPhone(ctx, "+16315551234")
		if err != nil || c.Name != "Ke\uFFFDrry" {
			t.Fatalf("contact = %q, %v", c.Name, err)
		}
	})
}
