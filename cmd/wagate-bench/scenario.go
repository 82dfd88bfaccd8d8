package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/wagate/wagate/internal/loadgen"
)

// Scenario is one benchmark: it starts the servers it measures as child processes, loads them and returns its
// rows of the table (a baseline row first, then one row per measured target). A scenario returns an error when
// it could not measure honestly: a server that would not start, requests that failed, data that was not stored.
type Scenario struct {
	// Name is the benchmark column, e.g. "webhook ingest".
	Name string
	// Key names the scenario for -only.
	Key string
	// Targets are the names of its targets for -only, e.g. baseline, sqlite, postgres.
	Targets []string
	// Goals states the goals its rows are checked against, e.g. "goal: ratio >= 0.50; peak RSS < 150 MB".
	Goals string
	// About describes what it measures, as markdown list items for the report.
	About string
	// Run measures the selected targets (see Env.Want).
	Run func(ctx context.Context, env *Env) ([]Row, error)
}

// scenarios lists every benchmark, in the order of the table.
func scenarios() []Scenario {
	return []Scenario{ingestScenario(), scalingScenario(), sendScenario(), governorScenario(), templatesScenario(), mediaScenario(),
		eventsScenario(), pagesScenario()}
}

func (s Scenario) selected(only []string) bool {
	return slices.ContainsFunc(s.Targets, func(t string) bool { return wanted(only, s, t) })
}

// Row is one line of the table.
type Row struct {
	Benchmark string
	Target    string
	// Rate is the highest rate sustained (closed loop), in OK requests per second.
	Rate float64
	// Ratio compares Rate with the baseline's (see Env.interleave); 1 for the baseline, NaN when there is none.
	Ratio float64
	// P50 and P99 are latencies at the fixed rate (open loop), from each request's scheduled time.
	P50, P99 time.Duration
	// PeakRSS is the server process's peak resident set (VmHWM) in bytes; 0 when unknown.
	PeakRSS int64
	// Skipped says why the row was not measured; the figures are then empty.
	Skipped string
	// Goals are the goals checked on this row.
	Goals []Goal
}

// Goal is one goal checked on a row.
type Goal struct {
	// Desc shows the figure against the goal, e.g. "ratio 0.62 ≥ 0.50".
	Desc string
	Pass bool
}

// Env is what scenarios share: the options, the child processes and the notes for the report.
type Env struct {
	Opts options
	// Self is this binary, re-executed as the baseline server.
	Self string
	// Log receives progress lines (stderr).
	Log   io.Writer
	procs *procs
	notes []string
}

// Logf prints a progress line.
func (e *Env) Logf(format string, args ...any) {
	fmt.Fprintf(e.Log, format+"\n", args...)
}

// Note adds a line to the report's notes, below the table.
func (e *Env) Note(format string, args ...any) {
	e.notes = append(e.notes, fmt.Sprintf(format, args...))
}

// Want reports whether target of scenario s was selected by -only.
func (e *Env) Want(s Scenario, target string) bool { return wanted(e.Opts.Only, s, target) }

// wanted reports whether -only names select target of scenario s. Scenario names and target names combine:
// "ingest" selects every target of the ingest scenario, "sqlite" the SQLite target of every scenario, and
// "ingest,sqlite" the SQLite target of the ingest scenario and its baseline.
func wanted(only []string, s Scenario, target string) bool {
	var scenarioNames, targetNames []string
	for _, n := range only {
		if slices.ContainsFunc(scenarios(), func(sc Scenario) bool { return sc.Key == n }) {
			scenarioNames = append(scenarioNames, n)
		} else {
			targetNames = append(targetNames, n)
		}
	}
	if len(scenarioNames) > 0 && !slices.Contains(scenarioNames, s.Key) {
		return false
	}
	return len(targetNames) == 0 || slices.Contains(targetNames, target) || target == "baseline" && len(scenarioNames) > 0
}

// needsWagate reports whether any selected target runs wagate (every target but a baseline or a floor does).
func (e *Env) needsWagate(sel []Scenario) bool {
	for _, s := range sel {
		for _, t := range s.Targets {
			if t != "baseline" && !strings.HasPrefix(t, "floor-") && e.Want(s, t) {
				return true
			}
		}
	}
	return false
}

// Load describes the requests of a target.
type Load struct {
	// Path is appended to the server's base URL.
	Path   string
	Header http.Header
	Body   loadgen.BodyFunc
	Check  loadgen.CheckFunc
}

// Target is one server under load: its process, its requests and what was measured on it. Its request indexes
// run on across every loop, so that every body it gets is distinct; its connections are kept across rounds.
type Target struct {
	Label  string
	proc   *proc
	url    string
	urls   []string // several servers sharing the load (url is the first)
	load   Load
	client *http.Client
	next   int

	rounds    []loadgen.Result
	serverCPU time.Duration // during the closed-loop rounds
	loadCPU   time.Duration
	open      loadgen.Result
	peakRSS   int64
}

// newTarget describes the server p, reached at base, loaded with load.
func (e *Env) newTarget(label string, p *proc, base string, load Load) *Target {
	return &Target{Label: label, proc: p, url: base + load.Path, load: load,
		client: loadgen.NewClient(e.maxInFlight())}
}

// maxInFlight bounds the open loop's outstanding requests, and sizes each target's connection pool.
func (e *Env) maxInFlight() int { return max(e.Opts.Clients, 1024) }

// close releases the target's connections.
func (t *Target) close() { t.client.CloseIdleConnections() }

func (t *Target) config(e *Env, warmup, d time.Duration) loadgen.Config {
	return loadgen.Config{URL: t.url, URLs: t.urls, Header: t.load.Header, Body: t.load.Body, Check: t.load.Check, First: t.next,
		Clients: e.Opts.Clients, MaxInFlight: e.maxInFlight(), Warmup: warmup, Duration: d, Client: t.client}
}

// closedRound runs one round of the closed loop (-clients workers, as fast as the server answers) on t.
func (e *Env) closedRound(ctx context.Context, t *Target, warmup, d time.Duration) (loadgen.Result, error) {
	cpu0, _ := t.proc.cpuTime()
	gen0 := selfCPU()
	r, err := loadgen.ClosedLoop(ctx, t.config(e, warmup, d))
	if err != nil {
		return r, fmt.Errorf("%s: %w", t.Label, err)
	}
	t.next += r.Issued
	if cpu1, err := t.proc.cpuTime(); err == nil {
		t.serverCPU += cpu1 - cpu0
	}
	t.loadCPU += selfCPU() - gen0
	t.rounds = append(t.rounds, r)
	if !r.AllOK() {
		return r, fmt.Errorf("%s: closed loop: %d of %d requests failed (warm-up included):\n%s", t.Label,
			r.Errors+r.WarmupErrors, r.Issued, indent(r.ErrorSummary(), "    "))
	}
	return r, nil
}

// openLoop runs the fixed-rate loop (-rate requests per second for -warmup and -duration) on t.
func (e *Env) openLoop(ctx context.Context, t *Target) error {
	o := e.Opts
	cfg := t.config(e, o.Warmup, o.Duration)
	cfg.Rate = o.Rate
	e.Logf("   %s: open loop at %s req/s, %v warm-up + %v", t.Label, formatRate(o.Rate), o.Warmup, o.Duration)
	r, err := loadgen.OpenLoop(ctx, cfg)
	if err != nil {
		return fmt.Errorf("%s: %w", t.Label, err)
	}
	t.next += r.Issued
	t.open = r
	e.Logf("   %s: %s req/s, p50 %s p99 %s max %s, %d late sends, %d ok, %d errors", t.Label, formatRate(r.Rate),
		formatLatency(r.P50), formatLatency(r.P99), formatLatency(r.Max), r.Late, r.OK, r.Errors+r.WarmupErrors)
	if r.Rate < 0.95*o.Rate {
		e.Note("%s could not sustain %s req/s at the fixed rate (%s req/s answered): its latencies there include the growing backlog.",
			t.Label, formatRate(o.Rate), formatRate(r.Rate))
	} else if r.Late > r.Requests/20 {
		e.Note("%s: %s of %s fixed-rate requests were sent more than 1 ms late (the load generator did not get a CPU in time); the delay counts in their latency.",
			t.Label, formatRate(float64(r.Late)), formatRate(float64(r.Requests)))
	}
	if !r.AllOK() {
		return fmt.Errorf("%s: open loop: %d of %d requests failed (warm-up included):\n%s", t.Label,
			r.Errors+r.WarmupErrors, r.Issued, indent(r.ErrorSummary(), "    "))
	}
	return nil
}

// readPeakRSS records the server's peak RSS; call it after the loads, before stopping the server.
func (t *Target) readPeakRSS() error {
	n, err := t.proc.peakRSS()
	if err != nil {
		return fmt.Errorf("%s: %w", t.Label, err)
	}
	t.peakRSS = n
	return nil
}

// Measurement is what was measured on a target.
type Measurement struct {
	// Closed merges the closed-loop rounds (maximum rate); Open is the open loop at -rate (latency), zero when
	// it was not run.
	Closed, Open loadgen.Result
	// PeakRSS is the server's VmHWM after the loads, in bytes.
	PeakRSS int64
	// ServerCPU and LoadCPU are the CPU time the server and this process (the load generator) used per request
	// of the closed loop, warm-ups included: a figure less sensitive than a rate to other work on the machine.
	ServerCPU, LoadCPU time.Duration
}

// measurement summarizes what was measured on t.
func (t *Target) measurement() Measurement {
	m := Measurement{Closed: loadgen.Merge(t.rounds...), Open: t.open, PeakRSS: t.peakRSS}
	if n := m.Closed.Issued; n > 0 {
		m.ServerCPU = t.serverCPU / time.Duration(n)
		m.LoadCPU = t.loadCPU / time.Duration(n)
	}
	return m
}

// OK is the number of requests answered successfully, warm-ups included: what the server must have stored.
func (m Measurement) OK() int {
	return m.Closed.OK + m.Closed.WarmupOK + m.Open.OK + m.Open.WarmupOK
}

// roundWarmup is the warm-up of every closed-loop round after a target's first, which gets -warmup: enough for
// the server's pipeline to fill again, the connections being kept.
func (e *Env) roundWarmup() time.Duration { return min(e.Opts.Warmup, 500*time.Millisecond) }

// interleave measures t's maximum rate against base's, alternating closed-loop rounds so that both see the
// same machine: base, t, base, t, ..., base, with -rounds rounds of t sharing -duration. Each round of t is
// compared with the mean of the base rounds just before and after it, and the ratio is the median of those:
// other work on a shared machine comes and goes over seconds, and a slow spell then spoils one round, not the
// ratio. It returns the ratio and the per-round ratios.
func (e *Env) interleave(ctx context.Context, base, t *Target) (float64, []float64, error) {
	n := e.Opts.Rounds
	d := e.Opts.Duration / time.Duration(n)
	warm := func(x *Target) time.Duration {
		if len(x.rounds) == 0 {
			return e.Opts.Warmup
		}
		return e.roundWarmup()
	}
	e.Logf("   closed loop: %d rounds of %v, %d clients, alternating %s and %s", n, d, e.Opts.Clients, base.Label, t.Label)
	prev, err := e.closedRound(ctx, base, warm(base), d)
	if err != nil {
		return math.NaN(), nil, err
	}
	var ratios []float64
	for i := range n {
		r, err := e.closedRound(ctx, t, warm(t), d)
		if err != nil {
			return math.NaN(), ratios, err
		}
		after, err := e.closedRound(ctx, base, warm(base), d)
		if err != nil {
			return math.NaN(), ratios, err
		}
		ratio := r.Rate / ((prev.Rate + after.Rate) / 2)
		ratios = append(ratios, ratio)
		e.Logf("   round %d/%d: %s %s req/s (p50 %s, p99 %s); %s %s then %s req/s; ratio %.3f", i+1, n,
			t.Label, formatRate(r.Rate), formatLatency(r.P50), formatLatency(r.P99),
			base.Label, formatRate(prev.Rate), formatRate(after.Rate), ratio)
		prev = after
	}
	return median(ratios), ratios, nil
}

// median returns the median of xs (NaN for none), without changing xs.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// row makes the table row of a measurement, with the given ratio (NaN for none).
func row(benchmark, target string, m Measurement, ratio float64) Row {
	return Row{Benchmark: benchmark, Target: target, Rate: m.Closed.Rate, P50: m.Open.P50, P99: m.Open.P99, PeakRSS: m.PeakRSS, Ratio: ratio}
}

func indent(s, prefix string) string {
	if s == "" {
		return s
	}
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}
