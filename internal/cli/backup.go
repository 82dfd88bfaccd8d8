package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/wagate/wagate/internal/server"
	"github.com/wagate/wagate/internal/store/sqlite"
)

const backupUsage = `Usage:
  wagate backup --out FILE [--force]

Writes a consistent copy of the SQLite database to FILE while wagate keeps running, then checks the copy
(SQLite's integrity check) and prints its row counts. To restore: stop wagate, put the copy in place of
<data dir>/wagate.db (removing wagate.db-wal and wagate.db-shm), start wagate.
On PostgreSQL use pg_dump; docs/operations.md shows how.
`

func (e Env) backup(ctx context.Context, args []string) int {
	var out string
	var force bool
	cfg := e.load(args, func(fs *flagSet) {
		fs.StringVar(&out, "out", "", "the file to write the copy to")
		fs.BoolVar(&force, "force", false, "replace FILE when it exists")
	})
	if cfg == nil {
		return 2
	}
	if out == "" {
		fmt.Fprint(e.Stderr, "wagate backup: --out is required\n\n"+backupUsage)
		return 2
	}
	if !cfg.SQLite() {
		fmt.Fprint(e.Stderr, "wagate backup: the database is PostgreSQL; back it up with pg_dump, e.g.\n"+
			"  pg_dump --format=custom --file=wagate.dump \"$WAGATE_DATABASE_URL\"\n"+
			"and restore with pg_restore (docs/operations.md).\n")
		return 1
	}
	abs, err := filepath.Abs(out)
	if err != nil {
		fmt.Fprintf(e.Stderr, "wagate backup: %v\n", err)
		return 1
	}
	if abs == cfg.SQLitePath() {
		fmt.Fprintln(e.Stderr, "wagate backup: --out names the live database itself; choose another file")
		return 2
	}
	if _, err := os.Stat(abs); err == nil && !force {
		fmt.Fprintf(e.Stderr, "wagate backup: %s exists; choose another file or pass --force\n", abs)
		return 1
	}
	if _, err := os.Stat(cfg.SQLitePath()); errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(e.Stderr, "wagate backup: no database at %s: check WAGATE_DATA_DIR\n", cfg.SQLitePath())
		return 1
	}
	b, err := server.OpenBackend(ctx, cfg)
	if err != nil {
		fmt.Fprintf(e.Stderr, "wagate backup: %v\n", err)
		return 1
	}
	defer b.Close()
	// The copy is written beside the target and renamed into place once checked, so that FILE is never a
	// half-written database.
	tmp := abs + ".partial"
	_ = os.Remove(tmp)
	start := time.Now()
	if err := b.SQLite().Backup(ctx, tmp); err != nil {
		_ = os.Remove(tmp)
		fmt.Fprintf(e.Stderr, "wagate backup: %v\n", err)
		return 1
	}
	counts, err := sqlite.Verify(ctx, tmp)
	if err != nil {
		_ = os.Remove(tmp)
		fmt.Fprintf(e.Stderr, "wagate backup: the copy failed its check: %v\n", err)
		return 1
	}
	if err := os.Rename(tmp, abs); err != nil {
		_ = os.Remove(tmp)
		fmt.Fprintf(e.Stderr, "wagate backup: %v\n", err)
		return 1
	}
	info, _ := os.Stat(abs)
	fmt.Fprintf(e.Stdout, "backup written: %s (%d bytes in %s; integrity check ok)\n", abs, info.Size(), time.Since(start).Round(time.Millisecond))
	for _, c := range counts {
		fmt.Fprintf(e.Stdout, "  %-14s %d rows\n", c.Table, c.Rows)
	}
	return 0
}
