package cli

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/wagate/wagate/internal/config"
	"github.com/wagate/wagate/internal/queue"
	"github.com/wagate/wagate/internal/server"
	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/store/postgres"
	"github.com/wagate/wagate/internal/store/sqlite"
)

const migrateDataUsage = `Usage:
  wagate migrate-data --to postgres://USER:PASSWORD@HOST/DB   (or WAGATE_TARGET_DATABASE_URL[_FILE])

Copies everything from the SQLite database in the data directory into an empty PostgreSQL database: contacts,
conversations, messages with their receipts, raw webhooks, and every job still waiting (queued sends among
them). The target is migrated first, the copy is one transaction (all or nothing), and each table's rows are
counted on both sides. Stop wagate before you run it; then set WAGATE_DATABASE_URL to the target and start it.
`

// batchRows is how many rows go to PostgreSQL in one COPY.
const batchRows = 1000

func (e Env) migrateData(ctx context.Context, args []string) int {
	var to string
	cfg := e.load(args, func(fs *flagSet) {
		fs.StringVar(&to, "to", "", "the PostgreSQL database to copy into (postgres://...)")
	})
	if cfg == nil {
		return 2
	}
	if to == "" {
		to = e.Getenv("WAGATE_TARGET_DATABASE_URL")
	}
	if to == "" {
		if f := e.Getenv("WAGATE_TARGET_DATABASE_URL_FILE"); f != "" {
			b, err := e.ReadFile(f)
			if err != nil {
				fmt.Fprintf(e.Stderr, "wagate migrate-data: WAGATE_TARGET_DATABASE_URL_FILE: %v\n", err)
				return 2
			}
			to = strings.TrimSpace(string(b))
		}
	}
	if !strings.HasPrefix(to, "postgres://") && !strings.HasPrefix(to, "postgresql://") {
		fmt.Fprint(e.Stderr, "wagate migrate-data: the target must be a postgres:// URL (--to or WAGATE_TARGET_DATABASE_URL)\n\n"+migrateDataUsage)
		return 2
	}
	if !cfg.SQLite() {
		fmt.Fprintln(e.Stderr, "wagate migrate-data: the source is the SQLite database; unset WAGATE_DATABASE_URL (the source is read from WAGATE_DATA_DIR)")
		return 2
	}
	src, err := server.OpenBackend(ctx, cfg)
	if err != nil {
		fmt.Fprintf(e.Stderr, "wagate migrate-data: %v\n", err)
		return 1
	}
	defer src.Close()
	if pending, err := src.Pending(ctx); err != nil || pending {
		fmt.Fprintln(e.Stderr, "wagate migrate-data: the SQLite database is not migrated to this version: run 'wagate migrate' first")
		return 1
	}
	tcfg := *cfg
	tcfg.DatabaseURL = config.Secret(to)
	dst, err := server.OpenBackend(ctx, &tcfg)
	if err != nil {
		fmt.Fprintf(e.Stderr, "wagate migrate-data: target: %v\n", err)
		return 1
	}
	defer dst.Close()
	if err := dst.Migrate(ctx); err != nil {
		fmt.Fprintf(e.Stderr, "wagate migrate-data: target: %v\n", err)
		return 1
	}
	rep, err := copyData(ctx, src, dst)
	if err != nil {
		fmt.Fprintf(e.Stderr, "wagate migrate-data: nothing was copied: %v\n", err)
		return 1
	}
	tw := tabwriter.NewWriter(e.Stdout, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "TABLE\tSQLITE\tPOSTGRESQL\t")
	for _, t := range rep.tables {
		fmt.Fprintf(tw, "%s\t%d\t%d\t\n", t.name, t.read, t.written)
	}
	fmt.Fprintf(tw, "waiting jobs\t%d\t%d\t\n", rep.jobs, rep.jobs)
	_ = tw.Flush()
	fmt.Fprintln(e.Stdout, "copied. Now set WAGATE_DATABASE_URL to the target and start wagate; keep the SQLite file as a backup.")
	return 0
}

type tableReport struct {
	name          string
	read, written int64
}

type copyReport struct {
	tables []tableReport
	jobs   int
}

// copyData copies every table and waiting job of src (SQLite) into dst (PostgreSQL) in one transaction of dst.
func copyData(ctx context.Context, src, dst *server.Backend) (copyReport, error) {
	srcQ, err := src.NewQueue(queue.Config{})
	if err != nil {
		return copyReport{}, err
	}
	dstQ, err := dst.NewQueue(queue.Config{})
	if err != nil {
		return copyReport{}, err
	}
	jobs, err := srcQ.WaitingJobs(ctx)
	if err != nil {
		return copyReport{}, err
	}
	pg, ok := dst.Store.Driver().(*postgres.DB)
	if !ok {
		return copyReport{}, fmt.Errorf("the target is not PostgreSQL")
	}
	var rep copyReport
	err = dst.Store.InTx(ctx, func(tx store.Tx) error {
		rep = copyReport{}
		im, err := pg.Importer(tx)
		if err != nil {
			return err
		}
		err = src.SQLite().Snapshot(ctx, func(s *sqlite.Snapshot) error {
			tables, err := s.Tables(ctx)
			if err != nil {
				return err
			}
			for _, t := range tables {
				n, err := im.Count(ctx, t)
				if err != nil {
					return err
				}
				if n > 0 {
					return fmt.Errorf("the target's table %s already has %d rows: copy into an empty database", t, n)
				}
			}
			for _, t := range tables {
				tr := tableReport{name: t}
				var cols []string
				var batch [][]any
				flush := func() error {
					if len(batch) == 0 {
						return nil
					}
					n, err := im.Copy(ctx, t, cols, batch)
					tr.written += n
					batch = batch[:0]
					return err
				}
				err := s.Rows(ctx, t, func(c []string, row []any) error {
					cols = c
					tr.read++
					batch = append(batch, row)
					if len(batch) == batchRows {
						return flush()
					}
					return nil
				})
				if err == nil {
					err = flush()
				}
				if err != nil {
					return err
				}
				if n, err := im.Count(ctx, t); err != nil {
					return err
				} else if n != tr.read || tr.written != tr.read {
					return fmt.Errorf("table %s: read %d rows, wrote %d, the target holds %d", t, tr.read, tr.written, n)
				}
				rep.tables = append(rep.tables, tr)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, j := range jobs {
			if err := dstQ.InsertCopyTx(ctx, tx, j); err != nil {
				return err
			}
		}
		rep.jobs = len(jobs)
		return nil
	})
	return rep, err
}
