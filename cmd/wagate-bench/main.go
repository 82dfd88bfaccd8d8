// Command wagate-bench measures wagate's performance goals and writes the figures as one markdown table
// (docs/benchmarks.md). Every figure is compared with a baseline measured in the same run on the same machine,
// because the machines are shared and noisy: a ratio is meaningful where an absolute rate is not.
//
// Run it through scripts/bench.sh (`make bench`), which builds bin/wagate and this command and starts a
// throwaway PostgreSQL:
//
//	wagate-bench [-duration 10s] [-warmup 2s] [-clients 64] [-rounds 5] [-rate 1000] [-out docs/benchmarks.md]
//	             [-wagate ./bin/wagate] [-only sqlite,postgres] [-pages-messages 100000] [-pages-requests 50]
//
// The harness is a list of scenarios (see scenarios), each starting the servers it needs as child processes
// and producing rows of the one table. A scenario whose requests fail makes the command exit 1 after printing
// what it measured and why the requests failed; a missed goal is reported in the table, not by the exit code.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// EnvPostgresURL names the variable holding the admin URL of the PostgreSQL server to create databases on.
const EnvPostgresURL = "WAGATE_TEST_POSTGRES_URL"

func main() {
	if code, ok := runChild(os.Args[1:]); ok {
		os.Exit(code)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// runChild runs the hidden subcommands wagate-bench re-executes itself with (the baseline server, the direct
// send loop), and reports whether args named one.
func runChild(args []string) (int, bool) {
	if len(args) == 0 {
		return 0, false
	}
	switch args[0] {
	case baselineCommand:
		return runBaseline(args[1:], os.Stdout, os.Stderr), true
	case floorCommand:
		return runFloor(args[1:], os.Stdout, os.Stderr), true
	case sendLoopCommand:
		return runSendLoop(args[1:], os.Stdout, os.Stderr), true
	}
	return 0, false
}

// options are the command's flags.
type options struct {
	Duration time.Duration
	Warmup   time.Duration
	Clients  int
	Rounds   int
	Rate     float64
	Out      string
	Wagate   string
	Only     []string
	// PageMessages and PageRequests shape the pages scenario: the messages seeded, the requests timed per page.
	PageMessages int
	PageRequests int
	// Args is the command line as given, for the report.
	Args string
	// PostgresURL is the admin URL from WAGATE_TEST_POSTGRES_URL, "" when unset.
	PostgresURL string
}

func parseFlags(args []string, stderr io.Writer, getenv func(string) string) (options, error) {
	var o options
	fs := flag.NewFlagSet("wagate-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.DurationVar(&o.Duration, "duration", 10*time.Second, "measured `time` of each load phase")
	fs.DurationVar(&o.Warmup, "warmup", 2*time.Second, "unmeasured warm-up `time` before each load phase")
	fs.IntVar(&o.Clients, "clients", 64, "concurrent `clients` of the closed loop (maximum rate)")
	fs.IntVar(&o.Rounds, "rounds", 5, "closed-loop `rounds` per target, alternating with the baseline's, sharing -duration")
	fs.Float64Var(&o.Rate, "rate", 1000, "fixed request `rate` per second of the open loop (latency)")
	fs.StringVar(&o.Out, "out", "docs/benchmarks.md", "markdown `file` to write the table to (\"\" for none)")
	fs.StringVar(&o.Wagate, "wagate", "./bin/wagate", "wagate `binary` to measure")
	fs.IntVar(&o.PageMessages, "pages-messages", 100_000, "`messages` seeded for the pages scenario")
	fs.IntVar(&o.PageRequests, "pages-requests", 50, "`requests` timed per page in the pages scenario")
	only := fs.String("only", "", "comma-separated `names` of scenarios or targets to run (e.g. sqlite,postgres); default all")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: wagate-bench [flags]\n\n"+
			"Measures wagate against a baseline in the same run and writes one markdown table.\n"+
			"Scenarios and targets: %s.\n"+
			"PostgreSQL rows need %s (scripts/bench.sh starts a server and sets it).\n\nFlags:\n",
			strings.Join(knownNames(), ", "), EnvPostgresURL)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	switch {
	case o.Duration <= 0:
		return o, errors.New("-duration must be positive")
	case o.Warmup < 0:
		return o, errors.New("-warmup must not be negative")
	case o.Clients < 1 || o.Clients > 10000:
		return o, errors.New("-clients must be between 1 and 10000")
	case !(o.Rate > 0 && o.Rate <= 1e6):
		return o, errors.New("-rate must be between 0 and 1000000")
	case o.PageMessages < 1000 || o.PageMessages > 10_000_000:
		return o, errors.New("-pages-messages must be between 1000 and 10000000")
	case o.PageRequests < 1 || o.PageRequests > 100_000:
		return o, errors.New("-pages-requests must be between 1 and 100000")
	case o.Rounds < 1 || o.Duration/time.Duration(o.Rounds) < 100*time.Millisecond:
		return o, errors.New("-rounds must be at least 1, with rounds of at least 100ms (-duration / -rounds)")
	}
	known := knownNames()
	for _, n := range strings.Split(*only, ",") {
		n = strings.TrimSpace(strings.ToLower(n))
		if n == "" {
			continue
		}
		if !slices.Contains(known, n) {
			return o, fmt.Errorf("-only: unknown name %q (known: %s)", n, strings.Join(known, ", "))
		}
		o.Only = append(o.Only, n)
	}
	o.Args = strings.Join(args, " ")
	o.PostgresURL = strings.TrimSpace(getenv(EnvPostgresURL))
	return o, nil
}

// knownNames lists the names -only accepts: every scenario's and every target's.
func knownNames() []string {
	var out []string
	for _, s := range scenarios() {
		out = append(out, s.Key)
		for _, t := range s.Targets {
			if !slices.Contains(out, t) {
				out = append(out, t)
			}
		}
	}
	return out
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	opts, err := parseFlags(args, stderr, getenv)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "wagate-bench: %v\n", err)
		return 2
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "wagate-bench: cannot find my own binary to start the baseline: %v\n", err)
		return 1
	}
	env := &Env{Opts: opts, Self: self, Log: stderr, procs: &procs{}}
	defer env.procs.stopAll()

	var selected []Scenario
	for _, s := range scenarios() {
		if s.selected(opts.Only) {
			selected = append(selected, s)
		}
	}
	if env.needsWagate(selected) {
		if err := checkExecutable(opts.Wagate); err != nil {
			fmt.Fprintf(stderr, "wagate-bench: -wagate %s: %v (build it with go build -o bin/wagate ./cmd/wagate, or run scripts/bench.sh)\n", opts.Wagate, err)
			return 1
		}
	}

	rep := &report{Started: time.Now(), Opts: opts, Wagate: opts.Wagate, LoadStart: loadAvg()}
	failed := false
	for _, s := range selected {
		fmt.Fprintf(stderr, "== %s\n", s.Name)
		rep.Goals = append(rep.Goals, s.Goals)
		rep.About = append(rep.About, s.About)
		rows, err := s.Run(ctx, env)
		rep.Rows = append(rep.Rows, rows...)
		if err != nil {
			failed = true
			rep.Errors = append(rep.Errors, fmt.Sprintf("%s: %v", s.Name, err))
			fmt.Fprintf(stderr, "wagate-bench: %s: %v\n", s.Name, err)
		}
		if ctx.Err() != nil {
			break
		}
	}
	rep.Notes = env.notes
	rep.Finished = time.Now()
	rep.LoadEnd = loadAvg()

	fmt.Fprintln(stdout, rep.text())
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "wagate-bench: interrupted; nothing written")
		return 1
	}
	if failed {
		if opts.Out != "" {
			fmt.Fprintf(stderr, "wagate-bench: the run had errors; %s not written\n", opts.Out)
		}
		return 1
	}
	if opts.Out != "" {
		if err := writeFile(opts.Out, []byte(rep.markdown())); err != nil {
			fmt.Fprintf(stderr, "wagate-bench: %v\n", err)
			return 1
		}
		fmt.Fprintf(stderr, "wagate-bench: wrote %s (%s)\n", opts.Out, rep.Finished.Sub(rep.Started).Round(time.Second))
	}
	return 0
}

func checkExecutable(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("not found: %w", err)
	}
	if fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
		return errors.New("not an executable file")
	}
	return nil
}

// writeFile writes data to path through a temporary file in the same directory, so that an interrupted write
// never leaves a truncated report.
func writeFile(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	f, err := os.CreateTemp(dir, ".benchmarks-*.md")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
