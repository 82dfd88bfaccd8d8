package templates_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/wagate/wagate/internal/provider"
	"github.com/wagate/wagate/internal/provider/demo"
	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/store/sqlite"
	"github.com/wagate/wagate/internal/templates"
	"github.com/wagate/wagate/internal/wa"
)

// openStore opens a fresh, migrated SQLite database.
func openStore(t testing.TB) *store.Store {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "wagate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return store.New(db, nil)
}

// demoCatalogue is a catalogue of one channel "default" on the demo provider, synced.
func demoCatalogue(t testing.TB) *templates.Catalogue {
	t.Helper()
	p := demo.New(demo.Config{})
	t.Cleanup(p.Close)
	cat := templates.New(openStore(t), []string{"default"}, map[string]provider.Provider{"default": p}, nil)
	if _, err := cat.Sync(context.Background(), "default"); err != nil {
		t.Fatal(err)
	}
	// Loaded now: no background reload races the test's cleanup.
	if err := cat.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return cat
}

func tmpl(content string) wa.Outbound {
	return wa.Outbound{To: "+34600111222", Type: "template", Content: json.RawMessage(content)}
}
