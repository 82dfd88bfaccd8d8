package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/wagate/wagate/internal/store"
)

// testTextAndUploadReuse covers text that PostgreSQL would refuse (a NUL byte, invalid UTF-8), stored the same
// way on both databases, and the lookup of an identical earlier upload.
func testTextAndUploadReuse(t *testing.T, st *store.Store) {
	ctx := context.Background()
	var m store.Message
	tx(t, st, func(tx store.Tx) error {
		c, err := st.ContactResolve(ctx, tx, store.ContactInput{Phone: "+34600000009", WAID: "34600000009", Name: "A\x00na"})
		if err != nil {
			return err
		}
		conv, err := st.ConversationEnsure(ctx, tx, "default", c.ID)
		if err != nil {
			return err
		}
		m = store.Message{Channel: "default", ConversationID: conv, ContactID: c.ID, Direction: store.DirectionIn,
			ProviderID: "wamid.nul", Type: "document", Text: "hola\x00mundo \xff", ProviderTime: time.Now(),
			MediaID: "mid", MediaFilename: "inv\x00oice.pdf", MediaStatus: store.MediaPending,
			Raw: json.RawMessage(`{"id":"wamid.nul","text":{"body":"hola\u0000mundo"}}`)}
		_, err = st.MessageInsert(ctx, tx, &m)
		return err
	})
	got, err := st.MessageGet(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Text != "hola\uFFFDmundo \uFFFD" || got.MediaFilename != "inv\uFFFDoice.pdf" {
		t.Fatalf("stored text %q, filename %q", got.Text, got.MediaFilename)
	}
	if !strings.Contains(string(got.Raw), `\u0000`) {
		t.Fatalf("raw JSON changed: %s", got.Raw)
	}
	c, err := st.ContactGetByPhone(ctx, "+34600000009")
	if err != nil || c.Name != "A\uFFFDna" {
		t.Fatalf("contact = %+v, %v", c, err)
	}
	if got, err := st.MessageGetByProviderID(ctx, "default", "wamid.nul"); err != nil || got.ID != m.ID {
		t.Fatalf("by provider id = %+v, %v", got.ID, err)
	}

	sha := strings.Repeat("cd", 32)
	if _, err := st.MediaUploadFind(ctx, sha, "image/png", "image", "a.png"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("find before upload = %v", err)
	}
	first := store.MediaUpload{SHA256: sha, Mime: "image/png", Kind: "image", Filename: "a.png", Size: 10, CreatedAt: time.Now().Add(-time.Hour)}
	second := store.MediaUpload{SHA256: sha, Mime: "image/png", Kind: "image", Filename: "a.png", Size: 10, CreatedAt: time.Now()}
	other := store.MediaUpload{SHA256: sha, Mime: "image/png", Kind: "sticker", Filename: "a.png", Size: 10}
	for _, u := range []*store.MediaUpload{&first, &second, &other} {
		tx(t, st, func(tx store.Tx) error { return st.MediaUploadInsert(ctx, tx, u) })
	}
	u, err := st.MediaUploadFind(ctx, sha, "image/png", "image", "a.png")
	if err != nil || u.ID != second.ID || u.Kind != "image" || u.Size != 10 {
		t.Fatalf("find = %+v, %v; want the newest, %s", u, err, second.ID)
	}
	for _, q := range [][4]string{{sha, "image/jpeg", "image", "a.png"}, {sha, "image/png", "image", "b.png"}, {strings.Repeat("ef", 32), "image/png", "image", "a.png"}} {
		if _, err := st.MediaUploadFind(ctx, q[0], q[1], q[2], q[3]); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("find %v = %v, want not found", q, err)
		}
	}
}
