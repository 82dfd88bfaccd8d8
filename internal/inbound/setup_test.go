package inbound_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/riverqueue/river"

	"github.com/wagate/wagate/internal/inbound"
	"github.com/wagate/wagate/internal/metrics"
	"github.com/wagate/wagate/internal/queue"
	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/store/postgres"
	"github.com/wagate/wagate/internal/store/postgres/pgtest"
	"github.com/wagate/wagate/internal/store/sqlite"
)

// bundle is one receiver on a real database behind a real HTTP server on loopback.
type bundle struct {
	st   *store.Store
	q    *queue.Queue
	proc *inbound.Processor
	url  string
	srv  *httptest.Server
	ing  *inbound.Ingester
}

var databases = []string{"sqlite", "postgres"}

// forEachDB runs fn as a parallel subtest on each database.
func forEachDB(t *testing.T, fn func(t *testing.T, db string)) {
	for _, db := range databases {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			fn(t, db)
		})
	}
}

func demoChannels() []*inbound.Channel {
	return []*inbound.Channel{{Name: "default"}}
}

// setup opens a migrated database of the given kind and serves a receiver for channels. The job queue is built
// but not started unless startQueue.
func setup(t testing.TB, db string, channels []*inbound.Channel, startQueue bool) *bundle {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var st *store.Store
	var q *queue.Queue
	workers := river.NewWorkers()
	b := &bundle{}
	qcfg := queue.Config{Workers: workers, FetchCooldown: 50e6, FetchPollInterval: 100e6}
	switch db {
	case "sqlite":
		lite, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "wagate.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { lite.Close() })
		if err := lite.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		if q, err = queue.NewSQLite(lite.WriteDB(), qcfg); err != nil {
			t.Fatal(err)
		}
		if err := q.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		st = store.New(lite, nil)
	case "postgres":
		pg, err := postgres.Open(ctx, pgtest.NewDatabase(t), 8)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { pg.Close() })
		if q, err = queue.NewPostgres(pg.Pool(), qcfg); err != nil {
			t.Fatal(err)
		}
		if err := pg.Migrate(ctx, q.Migrate); err != nil {
			t.Fatal(err)
		}
		st = store.New(pg, nil)
	}
	b.st, b.q = st, q
	b.proc = inbound.NewProcessor(st, channels)
	river.AddWorker(workers, inbound.NewProcessWorker(st, b.proc, nil, log))
	ing := inbound.NewIngester(st, q, b.proc, metrics.New(), log, inbound.IngesterConfig{Writers: map[string]int{"sqlite": 1, "postgres": 2}[db]})
	ing.Start()
	b.ing = ing
	mux := http.NewServeMux()
	inbound.NewReceiver(b.proc, ing, 64<<10, nil, log).Register(mux)
	b.srv = httptest.NewServer(mux)
	b.url = b.srv.URL
	t.Cleanup(func() {
		b.srv.Close()
		ing.Stop()
		_ = q.Stop(context.Background())
	})
	if startQueue {
		if err := q.Start(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// ack is a decoded webhook answer.
type ack struct {
	Status   int
	OK       bool   `json:"ok"`
	Received *int   `json:"received"`
	Stored   *int   `json:"stored"`
	Statuses *int   `json:"statuses"`
	Updated  *int   `json:"updated"`
	Queued   bool   `json:"queued"`
	Error    string `json:"error"`
	Warning  string `json:"warning"`
	EventID  string
	Raw      string
}

func (b *bundle) post(t testing.TB, path string, body []byte, header map[string]string) ack {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.url+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := ack{Status: resp.StatusCode, EventID: resp.Header.Get("X-Wagate-Event-Id"), Raw: string(raw)}
	if err := json.Unmarshal(raw, &a); err != nil {
		t.Fatalf("answer %d is not JSON: %q", resp.StatusCode, raw)
	}
	return a
}

func (b *bundle) get(t *testing.T, path string) (int, string, string) {
	t.Helper()
	resp, err := http.Get(b.url + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(raw)
}

func (b *bundle) eventCount(t *testing.T) int {
	t.Helper()
	counts, err := b.st.EventCounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range counts {
		n += c
	}
	return n
}

func n(p *int) int {
	if p == nil {
		return -1
	}
	return *p
}
