package inbound_test

import (
	"context"
	"sync"
	"testing"

	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/store/sqlite"
	"github.com/wagate/wagate/internal/webhook"
)

// TestIngest_AnswersOnlyOnceDurable checks, on SQLite, that the ingester answers a webhook only after the log
// holding its commit was fsynced: the writer moves on to the next batch at commit, and the acknowledgement waits.
func TestIngest_AnswersOnlyOnceDurable(t *testing.T) {
	t.Parallel()
	bd := setup(t, "sqlite", demoChannels(), false)
	db := bd.st.Driver().(*sqlite.DB)
	ctx := context.Background()
	for i := int64(0); i < 5; i++ {
		before := db.Fsyncs()
		body := benchBody(i)
		hook, perr := webhook.Parse(body)
		res, err := bd.ing.Accept(ctx, &store.Event{AuthChannels: []string{"default"}, Body: body}, hook, perr)
		if err != nil || res.State != store.EventProcessed {
			t.Fatalf("accept: %+v, %v", res, err)
		}
		if db.Fsyncs() <= before {
			t.Fatalf("webhook %d answered before any fsync of its commit", i)
		}
	}
	// Many at once: each answered, and far fewer fsyncs than webhooks (commits share them).
	before := db.Fsyncs()
	var wg sync.WaitGroup
	const n = 200
	for i := int64(100); i < 100+n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := benchBody(i)
			hook, perr := webhook.Parse(body)
			if _, err := bd.ing.Accept(ctx, &store.Event{AuthChannels: []string{"default"}, Body: body}, hook, perr); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got := db.Fsyncs() - before; got == 0 || got >= n {
		t.Errorf("%d concurrent webhooks took %d fsyncs", n, got)
	}
}
