package storetest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/wagate/wagate/internal/store"
)

// testMedia covers a message's media life: pending, an attempt, failed, retried, fetched, shared content,
// uploads with their provider id cache, and retention.
func testMedia(t *testing.T, st *store.Store) {
	ctx := context.Background()
	m, _ := inbound(t, st, "default", "+34600000001", "wamid.media1", time.Now())
	tx(t, st, func(tx store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE messages SET media_status = 'pending', media_id = 'mid1' WHERE id = $1`, m.ID)
		return err
	})
	tx(t, st, func(tx store.Tx) error { return st.MediaAttempted(ctx, tx, m.ID, "provider down") })
	tx(t, st, func(tx store.Tx) error { return st.MediaFailed(ctx, tx, m.ID, "gave up") })
	mm, err := st.MessageMediaGet(ctx, m.ID)
	if err != nil || mm.Status != store.MediaFailed || mm.Error != "gave up" || mm.Attempts != 2 || mm.MediaID != "mid1" {
		t.Fatalf("failed media = %+v, %v", mm, err)
	}
	tx(t, st, func(tx store.Tx) error { return st.MediaRetry(ctx, tx, m.ID) })
	sha := strings.Repeat("ab", 32)
	tx(t, st, func(tx store.Tx) error {
		if err := st.MediaBlobPut(ctx, tx, sha, 10, "image/png"); err != nil {
			return err
		}
		ok, err := st.MediaFetched(ctx, tx, m.ID, sha, 10, "image/png")
		if err == nil && !ok {
			t.Error("pending media not marked fetched")
		}
		return err
	})
	if err := st.InTx(ctx, func(tx store.Tx) error { return st.MediaRetry(ctx, tx, m.ID) }); !errors.Is(err, store.ErrMediaNotRetryable) {
		t.Fatalf("retry of ready media = %v", err)
	}
	mm, _ = st.MessageMediaGet(ctx, m.ID)
	if mm.Status != store.MediaReady || mm.SHA256 != sha || mm.Size != 10 || mm.Mime != "image/png" || mm.FetchedAt.IsZero() {
		t.Fatalf("fetched media = %+v", mm)
	}
	u := store.MediaUpload{SHA256: sha, Mime: "image/png", Kind: "image", Filename: "a.png", Size: 10}
	tx(t, st, func(tx store.Tx) error { return st.MediaUploadInsert(ctx, tx, &u) })
	if got, err := st.MediaUploadGet(ctx, u.ID); err != nil || got.SHA256 != sha {
		t.Fatalf("upload = %+v, %v", got, err)
	}
	if use, _ := st.MediaUsageGet(ctx); use.Files != 1 || use.Bytes != 10 {
		t.Fatalf("usage = %+v, want one shared copy", use)
	}
	now := time.Now()
	tx(t, st, func(tx store.Tx) error {
		return st.MediaProviderIDPut(ctx, tx, "default", sha, "image/png", "pid1", now.Add(time.Hour))
	})
	if id, _ := st.MediaProviderIDGet(ctx, "default", sha, "image/png", now); id != "pid1" {
		t.Fatalf("cached id = %q", id)
	}
	if id, _ := st.MediaProviderIDGet(ctx, "default", sha, "image/png", now.Add(2*time.Hour)); id != "" {
		t.Fatalf("expired id still given: %q", id)
	}
	var gone []string
	var n int64
	tx(t, st, func(tx store.Tx) error {
		var err error
		n, gone, err = st.MediaExpire(ctx, tx, time.Now().Add(time.Minute), "deleted by retention")
		return err
	})
	mm, _ = st.MessageMediaGet(ctx, m.ID)
	if n != 1 || len(gone) != 1 || gone[0] != sha || mm.Status != store.MediaDeleted || mm.Note != "deleted by retention" {
		t.Fatalf("expire = %d %v, media %+v", n, gone, mm)
	}
	if _, err := st.MediaUploadGet(ctx, u.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("expired upload = %v", err)
	}
}
