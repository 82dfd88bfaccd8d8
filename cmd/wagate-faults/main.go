// Command wagate-faults runs failure drills against real `wagate serve` processes and checks wagate's
// promises after each: nothing acknowledged is lost, effects are applied once, and duplicates stay within what
// the README allows. Each drill starts the servers it needs as child processes on 127.0.0.1 (wagate, a fake
// provider, a subscriber), breaks something (SIGKILL, a PostgreSQL restart, a provider or subscriber outage, a
// read-only database file) while load runs, lets wagate recover, and counts.
//
// Run it through scripts/faults.sh (`make faults`), which builds bin/wagate and starts a throwaway PostgreSQL:
//
//	wagate-faults [-wagate ./bin/wagate] [-outage 60s] [-only kill-webhooks,kill-sends,...]
//
// It prints one line per drill as it ends and a summary table, and exits 1 when any drill found a violation
// (or could not run), 2 on bad flags. docs/faults.md describes the drills.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/wagate/wagate/internal/childproc"
)

// Variables read from the environment (scripts/postgres.sh exports them).
const (
	// EnvPostgresURL is the admin URL of the PostgreSQL server to create databases on.
	EnvPostgresURL = "WAGATE_TEST_POSTGRES_URL"
	// EnvPGCtl is the path of that server's pg_ctl.
	EnvPGCtl = "WAGATE_TEST_PG_CTL"
	// EnvPGData is that server's data directory.
	EnvPGData = "WAGATE_TEST_PG_DATA"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// options are the command's flags and environment.
type options struct {
	Wagate string
	Outage time.Duration
	Only   []string
	// PostgresURL, PGCtl and PGData come from the environment; "" when unset.
	PostgresURL, PGCtl, PGData string
}

func parseFlags(args []string, stderr io.Writer, getenv func(string) string) (options, error) {
	var o options
	fs := flag.NewFlagSet("wagate-faults", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.Wagate, "wagate", "./bin/wagate", "wagate `binary` to drill")
	fs.DurationVar(&o.Outage, "outage", 60*time.Second, "how long the provider and the subscriber stay down")
	only := fs.String("only", "", "comma-separated drill `names` to run (default all): "+strings.Join(drillKeys(), ", "))
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: wagate-faults [flags]\n\nRuns failure drills against real wagate processes.\n"+
			"PostgreSQL drills need %s, and the restart drill %s and %s (scripts/faults.sh sets them).\n\nFlags:\n",
			EnvPostgresURL, EnvPGCtl, EnvPGData)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if o.Outage < time.Second {
		return o, errors.New("-outage must be at least 1s")
	}
	for _, n := range strings.Split(*only, ",") {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if !slices.Contains(drillKeys(), n) {
			return o, fmt.Errorf("-only: unknown drill %q (known: %s)", n, strings.Join(drillKeys(), ", "))
		}
		o.Only = append(o.Only, n)
	}
	o.PostgresURL = strings.TrimSpace(getenv(EnvPostgresURL))
	o.PGCtl = strings.TrimSpace(getenv(EnvPGCtl))
	o.PGData = strings.TrimSpace(getenv(EnvPGData))
	return o, nil
}

// env is what every drill gets.
type env struct {
	opts  options
	log   io.Writer
	procs *childproc.Set
}

// logf writes a progress line.
func (e *env) logf(format string, args ...any) {
	fmt.Fprintf(e.log, "   "+format+"\n", args...)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	opts, err := parseFlags(args, stderr, getenv)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "wagate-faults: %v\n", err)
		return 2
	}
	if fi, err := os.Stat(opts.Wagate); err != nil || fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
		fmt.Fprintf(stderr, "wagate-faults: -wagate %s is not an executable file (build it with make build)\n", opts.Wagate)
		return 1
	}
	e := &env{opts: opts, log: stderr, procs: &childproc.Set{}}
	defer e.procs.StopAll()

	started := time.Now()
	var results []result
	for _, d := range drills() {
		if len(opts.Only) > 0 && !slices.Contains(opts.Only, d.key) {
			continue
		}
		for _, db := range d.dbs {
			fmt.Fprintf(stderr, "== %s (%s)\n", d.name, db)
			r := result{Drill: d.key, DB: db}
			if db == "postgres" && opts.PostgresURL == "" {
				r.Skipped = EnvPostgresURL + " is not set"
			} else {
				t0 := time.Now()
				d.run(ctx, e, db, &r)
				r.Took = time.Since(t0)
			}
			fmt.Fprintln(stdout, r.line())
			results = append(results, r)
			if ctx.Err() != nil {
				break
			}
		}
		if ctx.Err() != nil {
			break
		}
	}
	fmt.Fprintln(stdout)
	fmt.Fprint(stdout, table(results))
	fmt.Fprintf(stdout, "\n%d drills in %s; %s\n", len(results), time.Since(started).Round(time.Second), verdict(results))
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "wagate-faults: interrupted")
		return 1
	}
	for _, r := range results {
		if r.failed() {
			return 1
		}
	}
	return 0
}
