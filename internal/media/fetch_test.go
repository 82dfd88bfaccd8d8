package media_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/wagate/wagate/internal/config"
	"github.com/wagate/wagate/internal/media"
	"github.com/wagate/wagate/internal/provider"
	"github.com/wagate/wagate/internal/provider/dialog360"
	"github.com/wagate/wagate/internal/provider/meta"
	"github.com/wagate/wagate/internal/provider/providertest"
	"github.com/wagate/wagate/internal/queue"
	"github.com/wagate/wagate/internal/server"
	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/store/postgres/pgtest"
)

// bundle is a running fetch stack: a real database, River with the fetch worker, a fake provider over HTTP.
type bundle struct {
	st     *store.Store
	svc    *media.Service
	fake   *providertest.Server
	worker *media.FetchWorker
	dir    string
}

func databases(t *testing.T) []string {
	if os.Getenv("WAGATE_TEST_POSTGRES_URL") == "" {
		return []string{"sqlite"}
	}
	return []string{"sqlite", "postgres"}
}

func setup(t *testing.T, db string, kind providertest.Kind, retention time.Duration) *bundle {
	t.Helper()
	dir := t.TempDir()
	env := map[string]string{"WAGATE_DATA_DIR": dir}
	if db == "postgres" {
		env["WAGATE_DATABASE_URL"] = pgtest.NewDatabase(t)
	}
	cfg, err := config.Load(nil, func(k string) string { return env[k] }, os.ReadFile)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	b, err := server.OpenBackend(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	if err := b.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	fake := providertest.New(t, providertest.Options{Kind: kind, APIKey: "k360", AccessToken: "tok"})
	var p provider.Provider
	switch kind {
	case providertest.KindMeta:
		p = meta.New(meta.Config{BaseURL: fake.URL(), PhoneNumberID: providertest.DefaultPhoneNumberID, AccessToken: "tok"})
	case providertest.Kind360Dialog:
		p = dialog360.NewCloud(dialog360.Config{BaseURL: fake.URL(), APIKey: "k360"})
	default:
		p = dialog360.NewOnPremise(dialog360.Config{BaseURL: fake.URL(), APIKey: "k360"})
	}
	blobs, err := media.NewBlobs(filepath.Join(dir, "media"))
	if err != nil {
		t.Fatal(err)
	}
	svc := media.NewService(b.Store, blobs, nil, nil)
	workers := river.NewWorkers()
	w := media.NewFetchWorker(svc, map[string]provider.Provider{"main": p}, media.FetchConfig{Backoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond}, nil)
	river.AddWorker(workers, w)
	river.AddWorker(workers, media.NewPurgeWorker(svc, retention, nil))
	q, err := b.NewQueue(queue.Config{Workers: workers, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	svc.SetQueue(q)
	qctx, cancel := context.WithCancel(ctx)
	if err := q.Start(qctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, c := context.WithTimeout(context.Background(), 10*time.Second)
		defer c()
		_ = q.Stop(sctx)
		cancel()
	})
	return &bundle{st: b.Store, svc: svc, fake: fake, worker: w, dir: dir}
}

// inbound stores an inbound message naming mediaID and enqueues its fetch in the same transaction.
func (b *bundle) inbound(t *testing.T, providerID, mediaID, sha string) string {
	t.Helper()
	ctx := context.Background()
	var id string
	err := b.st.InTx(ctx, func(tx store.Tx) error {
		c, err := b.st.ContactResolve(ctx, tx, store.ContactInput{Phone: "+34600111222", WAID: "34600111222"})
		if err != nil {
			return err
		}
		conv, err := b.st.ConversationEnsure(ctx, tx, "main", c.ID)
		if err != nil {
			return err
		}
		m := store.Message{Channel: "main", ConversationID: conv, ContactID: c.ID, Direction: store.DirectionIn, ProviderID: providerID,
			Type: "image", MediaID: mediaID, MediaMime: "image/jpeg", MediaSHA256: sha, MediaFilename: "../../etc/passwd\x07\u202e.jpg",
			MediaStatus: store.MediaPending}
		if _, err := b.st.MessageInsert(ctx, tx, &m); err != nil {
			return err
		}
		id = m.ID
		return b.svc.EnqueueFetchTx(ctx, tx, m.ID)
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// wait polls until the message's media leaves pending (or the deadline), and returns it.
func (b *bundle) wait(t *testing.T, id string, want string) store.MessageMedia {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		mm, err := b.st.MessageMediaGet(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if mm.Status == want {
			return mm
		}
		if time.Now().After(deadline) {
			t.Fatalf("media of %s is %q (error %q), want %q", id, mm.Status, mm.Error, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var jpeg = append([]byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 'J', 'F', 'I', 'F', 0}, bytes.Repeat([]byte{7}, 300)...)

func TestFetch_EveryProviderStoresVerifiedBytes(t *testing.T) {
	t.Parallel()
	for _, db := range databases(t) {
		for _, kind := range []providertest.Kind{providertest.KindMeta, providertest.Kind360Dialog, providertest.Kind360DialogOnPremise} {
			t.Run(db+"/"+string(kind), func(t *testing.T) {
				t.Parallel()
				b := setup(t, db, kind, 0)
				b.fake.AddMedia("m1", jpeg, "image/jpeg")
				b.fake.AddMedia("m2", jpeg, "image/jpeg") // identical content: stored once
				id1 := b.inbound(t, "wamid.1", "m1", media.Digest(jpeg))
				id2 := b.inbound(t, "wamid.2", "m2", "")
				mm := b.wait(t, id1, store.MediaReady)
				b.wait(t, id2, store.MediaReady)
				if mm.SHA256 != media.Digest(jpeg) || mm.Size != int64(len(jpeg)) || mm.Mime != "image/jpeg" {
					t.Fatalf("media = %+v", mm)
				}
				served, err := b.svc.Open(context.Background(), id1)
				if err != nil {
					t.Fatal(err)
				}
				defer served.File.Close()
				if strings.ContainsAny(served.Filename, `/\`+"\x00") || !strings.HasSuffix(served.Filename, ".jpg") {
					t.Fatalf("served filename %q is not neutralised", served.Filename)
				}
				u, err := b.svc.Usage(context.Background())
				if err != nil || u.Files != 1 || u.Bytes != int64(len(jpeg)) {
					t.Fatalf("usage = %+v, %v; want one copy", u, err)
				}
			})
		}
	}
}

func TestFetch_FaultsEndInRetryOrFailedWithReason(t *testing.T) {
	t.Parallel()
	for _, db := range databases(t) {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			b := setup(t, db, providertest.KindMeta, 0)
			ctx := context.Background()

			// Provider down twice, then up: retried and stored.
			b.fake.AddMedia("down", jpeg, "image/jpeg")
			b.fake.FailNext(providertest.EndpointMedia, 2, providertest.Fault{Status: 503})
			down := b.inbound(t, "wamid.down", "down", "")
			if mm := b.wait(t, down, store.MediaReady); mm.Attempts < 2 {
				t.Fatalf("attempts = %d, want the failures recorded", mm.Attempts)
			}

			// The URL expired between lookup and download: looked up again and stored.
			b.fake.AddMedia("exp", jpeg, "image/jpeg")
			b.fake.ExpireNextMediaURLs(1)
			exp := b.inbound(t, "wamid.exp", "exp", "")
			b.wait(t, exp, store.MediaReady)

			// Unknown media id: failed at once with the reason; the message stays.
			gone := b.inbound(t, "wamid.gone", "nope", "")
			mm := b.wait(t, gone, store.MediaFailed)
			if mm.Error == "" || mm.Attempts != 1 {
				t.Fatalf("404 media = %+v, want failed after one attempt with a reason", mm)
			}
			if _, err := b.st.MessageGet(ctx, gone); err != nil {
				t.Fatalf("message lost: %v", err)
			}

			// Checksum never matches: retried, then failed with the reason.
			b.fake.AddMediaWithDigest("bad", jpeg, "image/jpeg", media.Digest([]byte("other")))
			bad := b.inbound(t, "wamid.bad", "bad", "")
			mm = b.wait(t, bad, store.MediaFailed)
			if !strings.Contains(mm.Error, "SHA-256") || mm.Attempts != media.FetchAttempts {
				t.Fatalf("checksum media = %+v, want failed after %d attempts naming the checksum", mm, media.FetchAttempts)
			}

			// Retry by API once the provider has the right file: stored.
			b.fake.AddMedia("bad", jpeg, "image/jpeg")
			if _, err := b.svc.Retry(ctx, bad); err != nil {
				t.Fatal(err)
			}
			b.wait(t, bad, store.MediaReady)
			if _, err := b.svc.Retry(ctx, bad); err == nil {
				t.Fatal("retry of ready media was accepted")
			}
		})
	}
}

func TestFetch_360DialogLookupPenaltyIsRespected(t *testing.T) {
	t.Parallel()
	b := setup(t, "sqlite", providertest.Kind360Dialog, 0)
	var ids []string
	for i := range 8 {
		ids = append(ids, b.inbound(t, "wamid.p"+string(rune('a'+i)), "missing-"+string(rune('a'+i)), ""))
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		failed, _ := b.fake.FailedLookups()
		if failed >= media.LookupLimit {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // let any further lookup happen, if wagate made one
	failed, blocked := b.fake.FailedLookups()
	if failed != media.LookupLimit || blocked != 0 {
		t.Fatalf("failed lookups = %d, blocked = %d; want %d and none blocked", failed, blocked, media.LookupLimit)
	}
	pending := 0
	for _, id := range ids {
		mm, err := b.st.MessageMediaGet(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if mm.Status == store.MediaPending {
			pending++
		}
	}
	if pending != len(ids)-media.LookupLimit {
		t.Fatalf("%d media still pending, want %d held back for later", pending, len(ids)-media.LookupLimit)
	}
}

func TestPurge_DeletesOldMediaKeepsNoteAndSharedBytes(t *testing.T) {
	t.Parallel()
	for _, db := range databases(t) {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			b := setup(t, db, providertest.KindMeta, time.Hour)
			ctx := context.Background()
			b.fake.AddMedia("old", jpeg, "image/jpeg")
			old := b.inbound(t, "wamid.old", "old", "")
			b.wait(t, old, store.MediaReady)
			other := append([]byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}, bytes.Repeat([]byte{1}, 64)...)
			u, err := b.svc.Upload(ctx, "", other, "", "pic.png")
			if err != nil {
				t.Fatal(err)
			}
			// Nothing is old enough yet.
			w := media.NewPurgeWorker(b.svc, time.Hour, nil)
			if n, removed, err := w.Purge(ctx); err != nil || n != 0 || removed != 0 {
				t.Fatalf("purge = %d, %d, %v; want nothing", n, removed, err)
			}
			// With a retention shorter than the media's age, everything goes.
			later := media.NewService(b.st, b.svc.Blobs(), func() time.Time { return time.Now().Add(2 * time.Hour) }, nil)
			n, removed, err := media.NewPurgeWorker(later, time.Hour, nil).Purge(ctx)
			if err != nil || n != 1 || removed != 2 {
				t.Fatalf("purge = %d messages, %d files, %v; want 1 and 2", n, removed, err)
			}
			mm, err := b.st.MessageMediaGet(ctx, old)
			if err != nil || mm.Status != store.MediaDeleted || !strings.Contains(mm.Note, "retention") {
				t.Fatalf("purged media = %+v, %v", mm, err)
			}
			if _, err := b.svc.Open(ctx, old); err == nil {
				t.Fatal("purged media still served")
			}
			if _, err := b.svc.Open(ctx, u.ID); err == nil {
				t.Fatal("purged upload still served")
			}
			if got, _ := b.svc.Usage(ctx); got.Files != 0 || got.Bytes != 0 {
				t.Fatalf("usage after purge = %+v", got)
			}
		})
	}
}
