package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"

	"github.com/wagate/wagate/internal/config"
	"github.com/wagate/wagate/internal/media"
	"github.com/wagate/wagate/internal/provider"
	"github.com/wagate/wagate/internal/provider/meta"
	"github.com/wagate/wagate/internal/provider/providertest"
	"github.com/wagate/wagate/internal/queue"
	"github.com/wagate/wagate/internal/server"
	"github.com/wagate/wagate/internal/store"
)

// Parameters of the media scenario.
const (
	mediaBenchmark = "media fetch"
	mediaFileSize  = 64 << 10 // a typical compressed phone photo is larger; 64 KB keeps the run short
	mediaWorkers   = 20       // River workers, and the baseline's concurrent downloads
)

func mediaScenario() Scenario {
	s := Scenario{Name: mediaBenchmark, Key: "media", Targets: []string{"sqlite"},
		Goals: "goal (" + mediaBenchmark + "): every file stored and verified; ratio reported (storing costs an fsync per file)",
		About: mediaAbout}
	s.Run = func(ctx context.Context, env *Env) ([]Row, error) { return runMedia(ctx, env, s) }
	return s
}

var mediaAbout = `
- **` + mediaBenchmark + `**: inbound media fetched from the fake provider (Meta protocol: lookup, then download with
  the token, SHA-256 checked), in process on SQLite. **baseline**: the same provider client downloading the same
  files with ` + strconv.Itoa(mediaWorkers) + ` concurrent downloads, storing nothing. **wagate**: messages with
  pending media and their fetch jobs are committed together, then ` + strconv.Itoa(mediaWorkers) + ` River workers
  fetch, verify, store content-addressed (temporary file, fsync, rename) and mark each ready; the rate counts files
  from the commit until the last is ready. Files of ` + strconv.Itoa(mediaFileSize>>10) + ` KB, distinct.
`

// runMedia measures media fetch throughput against the bare download.
func runMedia(ctx context.Context, env *Env, s Scenario) ([]Row, error) {
	if !env.Want(s, "sqlite") {
		return nil, nil
	}
	fake, err := providertest.Start(providertest.Options{Kind: providertest.KindMeta, AccessToken: "bench-token"})
	if err != nil {
		return nil, err
	}
	defer fake.Close()
	p := meta.New(meta.Config{BaseURL: fake.URL(), PhoneNumberID: providertest.DefaultPhoneNumberID, AccessToken: "bench-token"})
	// As many files as the baseline downloads in about -duration, bounded.
	n := 200
	data := make([]byte, mediaFileSize)
	newFile := func(i int) string {
		_, _ = rand.Read(data)
		id := fmt.Sprintf("bench-%d", i)
		fake.AddMedia(id, data, "image/jpeg")
		return id
	}
	ids := make([]string, 0, n)
	for i := range n {
		ids = append(ids, newFile(i))
	}
	env.Logf("-- %s: baseline, %d downloads", mediaBenchmark, n)
	start := time.Now()
	if err := downloadAll(ctx, p, ids); err != nil {
		return nil, fmt.Errorf("%s baseline: %w", mediaBenchmark, err)
	}
	baseRate := float64(n) / time.Since(start).Seconds()
	// Size the measured run to about -duration at the baseline's pace (the fetch path is slower).
	n = max(200, min(5000, int(baseRate*env.Opts.Duration.Seconds()/2)))
	ids = ids[:0]
	for i := range n {
		ids = append(ids, newFile(1000000+i))
	}
	start = time.Now()
	if err := downloadAll(ctx, p, ids); err != nil {
		return nil, fmt.Errorf("%s baseline: %w", mediaBenchmark, err)
	}
	baseRate = float64(n) / time.Since(start).Seconds()
	base := Row{Benchmark: mediaBenchmark, Target: "baseline: provider client download only", Rate: baseRate, Ratio: 1}

	env.Logf("-- %s: wagate fetch path, %d files", mediaBenchmark, n)
	rate, err := fetchAll(ctx, p, ids)
	row := Row{Benchmark: mediaBenchmark, Target: "wagate fetch job, SQLite", Rate: rate, Ratio: rate / baseRate}
	row.Goals = []Goal{{Desc: fmt.Sprintf("%d of %d files stored and verified", map[bool]int{true: n, false: 0}[err == nil], n), Pass: err == nil}}
	env.Note("%s: %d files of %d KB; baseline %.0f files/s, wagate %.0f files/s (%d workers).", mediaBenchmark, n, mediaFileSize>>10, baseRate, rate, mediaWorkers)
	return []Row{base, row}, err
}

// downloadAll downloads every id with mediaWorkers concurrent calls.
func downloadAll(ctx context.Context, p provider.Provider, ids []string) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, mediaWorkers)
	for range mediaWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(ids) || ctx.Err() != nil {
					return
				}
				if _, err := p.DownloadMedia(ctx, ids[i]); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return errors.Join(<-errs)
}

// fetchAll runs wagate's fetch path over ids on a fresh SQLite database and returns files per second.
func fetchAll(ctx context.Context, p provider.Provider, ids []string) (float64, error) {
	dir, err := os.MkdirTemp("", "wagate-bench-media-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	env := map[string]string{"WAGATE_DATA_DIR": dir}
	cfg, err := config.Load(nil, func(k string) string { return env[k] }, os.ReadFile)
	if err != nil {
		return 0, err
	}
	b, err := server.OpenBackend(ctx, cfg)
	if err != nil {
		return 0, err
	}
	defer b.Close()
	if err := b.Migrate(ctx); err != nil {
		return 0, err
	}
	blobs, err := media.NewBlobs(cfg.MediaDir())
	if err != nil {
		return 0, err
	}
	svc := media.NewService(b.Store, blobs, nil, nil)
	var done atomic.Int64
	workers := river.NewWorkers()
	river.AddWorker(workers, media.NewFetchWorker(svc, map[string]provider.Provider{"bench": p},
		media.FetchConfig{Fetched: func(int64) { done.Add(1) }}, nil))
	q, err := b.NewQueue(queue.Config{Workers: workers, MaxWorkers: mediaWorkers, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return 0, err
	}
	svc.SetQueue(q)
	st := b.Store
	// Messages with pending media and their fetch jobs, committed before the workers start.
	err = st.InTx(ctx, func(tx store.Tx) error {
		c, err := st.ContactResolve(ctx, tx, store.ContactInput{Phone: "+34600111222", WAID: "34600111222"})
		if err != nil {
			return err
		}
		conv, err := st.ConversationEnsure(ctx, tx, "bench", c.ID)
		if err != nil {
			return err
		}
		for i, id := range ids {
			m := store.Message{Channel: "bench", ConversationID: conv, ContactID: c.ID, Direction: store.DirectionIn,
				ProviderID: "wamid.bench." + strconv.Itoa(i), Type: "image", MediaID: id, MediaStatus: store.MediaPending}
			if _, err := st.MessageInsert(ctx, tx, &m); err != nil {
				return err
			}
			if err := svc.EnqueueFetchTx(ctx, tx, m.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	qctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	if err := q.Start(qctx); err != nil {
		return 0, err
	}
	defer func() {
		sctx, c := context.WithTimeout(context.Background(), 10*time.Second)
		defer c()
		_ = q.Stop(sctx)
	}()
	deadline := start.Add(5 * time.Minute)
	for done.Load() < int64(len(ids)) {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return 0, fmt.Errorf("only %d of %d files stored", done.Load(), len(ids))
		}
		time.Sleep(5 * time.Millisecond)
	}
	rate := float64(len(ids)) / time.Since(start).Seconds()
	if u, err := svc.Usage(ctx); err != nil || u.Files != int64(len(ids)) {
		return rate, fmt.Errorf("stored %d files, want %d (%v)", u.Files, len(ids), err)
	}
	return rate, nil
}
