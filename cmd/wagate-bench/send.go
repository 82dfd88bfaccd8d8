package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wagate/wagate/internal/loadgen"
	"github.com/wagate/wagate/internal/provider/providertest"
)

// Goals and parameters of the send scenario.
const (
	sendBenchmark     = "sends through the queue"
	sendTargetBase    = "baseline: direct loop of provider calls"
	sendMinRateSQLite = 2000.0 // messages per second on SQLite: twice Meta's highest per-number throughput
	// sendLatencyRate is the open loop's rate for the accept-to-provider latency, in messages per second.
	sendLatencyRate = 100
	// sendLatencyGovernor is WAGATE_RATE_PER_SECOND while the latency is measured: far above sendLatencyRate,
	// so that the governor paces nothing.
	sendLatencyGovernor = "1000"
	// sendBacklog is how many messages the API clients keep waiting in wagate's queue during the throughput
	// rounds: enough that the queue never runs dry, few enough that the API does not take the database from
	// the sender for long.
	sendBacklog = 500
	// sendFakeHistory caps the fake's records during the throughput rounds (only its counter is read).
	sendFakeHistory = 16
)

func sendScenario() Scenario {
	s := Scenario{Name: sendBenchmark, Key: "send", Targets: []string{"baseline", "sqlite", "postgres"},
		Goals: fmt.Sprintf("goal (%s): at least %s messages/s on SQLite", sendBenchmark, formatRate(sendMinRateSQLite)),
		About: sendAbout}
	s.Run = func(ctx context.Context, env *Env) ([]Row, error) { return runSend(ctx, env, s) }
	return s
}

var sendAbout = `
- **` + sendBenchmark + `**: wagate with one 360dialog Cloud channel whose base URL is a fake provider
  (internal/provider/providertest, in the benchmark process on 127.0.0.1; it validates every send body, answers
  like 360dialog and posts no receipts). API clients post distinct text messages (a realistic text, each to a
  recipient of its own) to ` + "`POST /v1/messages`" + ` with the API token; every answer must be 202 with the
  message's id and ` + "`\"status\":\"queued\"`" + `. wagate commits the message and its send job, and its queue
  workers (` + strconv.Itoa(sendWorkers) + `, the default) send each one to the fake and record the outcome.
  **rate**: messages accepted by the fake per second with the governor off (` + "`WAGATE_RATE_PER_SECOND=0`" + `),
  counted by the fake over each round, while ` + "`-clients`" + ` API clients keep up to
  ` + formatRate(sendBacklog) + ` messages waiting in the queue (they post only while fewer are waiting, so that the
  queue does not run dry and the API takes no more of the database than the sender needs; a note says when a round
  held fewer messages than there are workers). Between rounds the API
  clients stop and the queue drains; the fake must then have received exactly as many messages as wagate accepted,
  and ` + "`GET /v1/messages/{id}`" + ` must show sampled messages accepted with the provider's wamid. (Under this load
  a message waits in the queue about backlog / rate, so no latency is given for it.)
  **p50 / p99**: accept-to-provider latency at a fixed ` + strconv.Itoa(sendLatencyRate) + ` messages/s (open loop,
  on a fresh wagate with ` + "`WAGATE_RATE_PER_SECOND=" + sendLatencyGovernor + "`" + `, so that the governor delays
  nothing): from the start of each ` + "`POST /v1/messages`" + ` to the moment the fake records the send, matched by a
  marker in the text; every message must reach the fake exactly once. **peak RSS**: the higher of the two
  wagate processes'.
- **baseline** (of ` + sendBenchmark + `): a direct loop of provider calls without wagate, in a process of its
  own: as many workers as wagate has queue workers, each posting the same Cloud API send bodies (the bodies wagate
  sends for the same messages) straight to the fake's ` + "`POST /messages`" + ` with the D360-API-KEY header, the
  next as soon as the last is answered. Its rounds alternate with wagate's on the same fake, and its rate is
  counted by the fake the same way. Its p50 / p99 are those of the same direct calls at ` + strconv.Itoa(sendLatencyRate) + `
  messages/s, from the start of the request to the fake's record, measured the same way.
`

// sendTargets are the wagate targets of the scenario: -only name and table label.
var sendTargets = []struct{ key, label string }{
	{"sqlite", "wagate, SQLite"},
	{"postgres", "wagate, PostgreSQL"},
}

// sendRound is one measured round: messages the fake accepted over a window.
type sendRound struct {
	sent    int
	elapsed time.Duration
	rate    float64
	cpu     time.Duration // CPU time of the sending process over the window
	// minBacklog is the fewest messages waiting in wagate's queue at any check of the window (wagate rounds).
	minBacklog int64
	// drainRate is the rate at which the queue drained after the round with the API idle, 0 when unknown.
	drainRate float64
}

// mergeRounds returns the messages over the total time of the rounds, and the CPU time per message.
func mergeRounds(rs []sendRound) (rate float64, cpuPerMsg time.Duration) {
	var n int
	var el, cpu time.Duration
	for _, r := range rs {
		n += r.sent
		el += r.elapsed
		cpu += r.cpu
	}
	if el <= 0 || n == 0 {
		return math.NaN(), 0
	}
	return float64(n) / el.Seconds(), cpu / time.Duration(n)
}

// sendBase is the scenario's baseline: its rounds across every target, and its next message index.
type sendBase struct {
	gen    *sendGen
	next   int
	rounds []sendRound
}

// baselineRound runs one round of the direct loop against fake: a fresh child process, warm-up, then the
// fake's count over d.
func (e *Env) sendBaselineRound(ctx context.Context, fake *providertest.Server, base *sendBase, warmup, d time.Duration) (sendRound, error) {
	p, err := e.procs.start("sendloop", e.Self, []string{sendLoopCommand, fake.URL() + "/messages", strconv.Itoa(sendWorkers),
		base.gen.run, strconv.Itoa(base.next)}, childEnv())
	if err != nil {
		return sendRound{}, err
	}
	defer p.stop()
	if _, err := waitLine(ctx, p, "ready", 10*time.Second); err != nil {
		return sendRound{}, err
	}
	r, err := measureWindow(ctx, fake, p, warmup, d, nil)
	if err != nil {
		return r, err
	}
	if err := p.stop(); err != nil {
		return r, fmt.Errorf("baseline loop: %w", err)
	}
	ok, nerr, found := parseSendLoopSummary(p.logText())
	base.next += ok + nerr
	if !found {
		return r, fmt.Errorf("baseline loop printed no summary: %s", p.logTail(10))
	}
	if nerr > 0 {
		return r, fmt.Errorf("baseline loop: %d of %d provider calls failed:\n%s", nerr, ok+nerr, indent(p.logTail(10), "    "))
	}
	base.rounds = append(base.rounds, r)
	return r, nil
}

// measureWindow waits warmup, then counts the fake's accepted sends over d, with the CPU time of p over the
// same window. during, when set, runs at the window's start and end (true, then false).
func measureWindow(ctx context.Context, fake *providertest.Server, p *proc, warmup, d time.Duration, during func(bool)) (sendRound, error) {
	if err := sleepCtx(ctx, warmup); err != nil {
		return sendRound{}, err
	}
	if during != nil {
		during(true)
	}
	cpu0, _ := p.cpuTime()
	s0, t0 := fake.SentCount(), time.Now()
	err := sleepCtx(ctx, d)
	s1, t1 := fake.SentCount(), time.Now()
	cpu1, _ := p.cpuTime()
	if during != nil {
		during(false)
	}
	if err != nil {
		return sendRound{}, err
	}
	r := sendRound{sent: s1 - s0, elapsed: t1.Sub(t0), cpu: cpu1 - cpu0}
	r.rate = float64(r.sent) / r.elapsed.Seconds()
	return r, nil
}

// intake is the API clients of the throughput rounds: while open, each posts its next message as soon as the
// last is answered, as long as fewer than high accepted messages are still waiting to reach the fake.
type intake struct {
	url    string
	gen    *sendGen
	client *http.Client
	fake   *providertest.Server
	high   int64

	next     atomic.Int64
	accepted atomic.Int64
	// base is the fake's count minus the accepted messages when the intake last opened: the backlog is
	// accepted - (count - base). Baseline rounds add to the count only while the intake is closed and drained.
	base       atomic.Int64
	measuring  atomic.Bool
	minBacklog atomic.Int64
	errs       errorTally

	// The gate: clients post while it is open (the round runs and the backlog is below high); they wait on
	// cond otherwise, so that a closed gate costs no CPU.
	mu       sync.Mutex
	cond     *sync.Cond
	open     bool // a round runs
	below    bool // the backlog is below high
	stopped  bool
	inflight int      // requests under way
	ids      []string // a sample of accepted message ids: every 997th, for the check through the API

	stop     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
}

func newIntake(url string, gen *sendGen, fake *providertest.Server, clients int, high int) *intake {
	in := &intake{url: url, gen: gen, client: loadgen.NewClient(clients), fake: fake, high: int64(high), stop: make(chan struct{})}
	in.cond = sync.NewCond(&in.mu)
	in.wg.Add(1)
	go in.control()
	for range clients {
		in.wg.Add(1)
		go in.poster()
	}
	return in
}

// setOpen opens or closes the gate for the rounds.
func (in *intake) setOpen(open bool) {
	in.mu.Lock()
	in.open = open
	in.below = true
	in.cond.Broadcast()
	in.mu.Unlock()
}

// backlog is the number of accepted messages the fake has not received yet.
func (in *intake) backlog() int64 {
	return in.accepted.Load() - (int64(in.fake.SentCount()) - in.base.Load())
}

// control recomputes the backlog every millisecond: it opens and closes the clients' gate, and records the
// window's lowest backlog.
func (in *intake) control() {
	defer in.wg.Done()
	t := time.NewTicker(time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-in.stop:
			return
		case <-t.C:
		}
		b := in.backlog()
		in.mu.Lock()
		if below := b < in.high; below != in.below {
			in.below = below
			in.cond.Broadcast()
		}
		in.mu.Unlock()
		// A message can reach the fake before its client has counted the API's answer, which makes the
		// backlog negative: the queue was empty then.
		if b := max(b, 0); in.measuring.Load() && b < in.minBacklog.Load() {
			in.minBacklog.Store(b)
		}
	}
}

// poster is one API client: it posts its next message whenever the gate is open.
func (in *intake) poster() {
	defer in.wg.Done()
	header := apiHeader()
	for {
		in.mu.Lock()
		for !in.stopped && !(in.open && in.below) {
			in.cond.Wait()
		}
		if in.stopped {
			in.mu.Unlock()
			return
		}
		in.inflight++
		in.mu.Unlock()

		i := int(in.next.Add(1) - 1)
		status, body, err := post(context.Background(), in.client, in.url, header, in.gen.apiBody(i))
		var id string
		if err == nil {
			id, err = checkQueued(status, body)
			if err != nil {
				in.errs.add(fmt.Sprintf("HTTP %d", status), err.Error()+": "+strings.TrimSpace(string(body)))
			}
		} else {
			in.errs.add("transport", err.Error())
		}
		n := int64(0)
		if err == nil {
			n = in.accepted.Add(1)
		}
		in.mu.Lock()
		if n > 0 && n%997 == 0 {
			in.ids = append(in.ids, id)
		}
		in.inflight--
		in.cond.Broadcast()
		in.mu.Unlock()
	}
}

// settle closes the gate and waits for the requests under way.
func (in *intake) settle() {
	in.setOpen(false)
	in.mu.Lock()
	for in.inflight > 0 {
		in.cond.Wait()
	}
	in.mu.Unlock()
}

// close stops the clients; it may be called more than once.
func (in *intake) close() {
	in.stopOnce.Do(func() {
		close(in.stop)
		in.mu.Lock()
		in.stopped = true
		in.cond.Broadcast()
		in.mu.Unlock()
		in.wg.Wait()
		in.client.CloseIdleConnections()
	})
}

// round runs one throughput round on wagate w: the clients post for warmup and d, the fake's count over d is
// the round's rate; then the clients stop and the queue drains. It fails when a request failed, or when the
// fake did not receive every accepted message exactly once.
func (in *intake) round(ctx context.Context, w *wagateRun, warmup, d time.Duration) (sendRound, error) {
	in.base.Store(int64(in.fake.SentCount()) - in.accepted.Load())
	in.setOpen(true)
	r, err := measureWindow(ctx, in.fake, w.p, warmup, d, func(start bool) {
		if start {
			in.minBacklog.Store(math.MaxInt64)
		}
		in.measuring.Store(start)
	})
	r.minBacklog = in.minBacklog.Load()
	in.settle()
	if err != nil {
		return r, err
	}
	if n := in.errs.count(); n > 0 {
		return r, fmt.Errorf("%s: %d API requests failed:\n%s", w.label, n, indent(in.errs.summary(), "    "))
	}
	// Drain: every accepted message must reach the fake, once. The first four fifths of the drain, with the
	// API idle and the queue still full enough, give the sender's rate alone.
	deadline := time.Now().Add(time.Minute)
	b0, t0 := in.backlog(), time.Now()
	for b := in.backlog(); b > 0; b = in.backlog() {
		if r.drainRate == 0 && b0 >= int64(sendWorkers) && b <= b0/5 {
			r.drainRate = float64(b0-b) / time.Since(t0).Seconds()
		}
		if w.p.exited() {
			return r, fmt.Errorf("%s exited", w.label)
		}
		if time.Now().After(deadline) {
			return r, fmt.Errorf("%s: %d accepted messages did not reach the provider within a minute of the end of the round", w.label, in.backlog())
		}
		if err := sleepCtx(ctx, 5*time.Millisecond); err != nil {
			return r, err
		}
	}
	if err := sleepCtx(ctx, 20*time.Millisecond); err != nil {
		return r, err
	}
	if b := in.backlog(); b < 0 {
		return r, fmt.Errorf("%s: the provider received %d messages more than wagate accepted (sent twice?)", w.label, -b)
	}
	return r, nil
}

// sample returns the sampled accepted message ids, and the last one's.
func (in *intake) sample() []string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return slices.Clone(in.ids)
}

// sendResult is what was measured on one wagate target.
type sendResult struct {
	label   string
	row     Row
	ratios  []float64
	rounds  []sendRound
	skipped string
}

// runSend measures sends: the baseline's latency at the fixed rate, then for each wagate target its latency on
// a wagate of its own, and its throughput in rounds alternating with the baseline's.
func runSend(ctx context.Context, env *Env, s Scenario) ([]Row, error) {
	gen := newSendGen()
	base := &sendBase{gen: gen, next: 1 << 30}
	var errs []error

	env.Logf("-- %s", sendTargetBase)
	baseRow := Row{Benchmark: sendBenchmark, Target: sendTargetBase, Ratio: 1}
	if lat, err := directLatency(ctx, env, gen); err != nil {
		errs = append(errs, err)
	} else {
		baseRow.P50, baseRow.P99 = lat.p50, lat.p99
	}

	var results []sendResult
	for _, t := range sendTargets {
		if !env.Want(s, t.key) || ctx.Err() != nil || len(errs) > 0 {
			continue
		}
		if t.key == "postgres" && env.Opts.PostgresURL == "" {
			why := "skipped: " + EnvPostgresURL + " not set"
			env.Logf("-- %s: %s (scripts/bench.sh starts PostgreSQL and sets it)", t.label, why)
			results = append(results, sendResult{label: t.label, skipped: why})
			continue
		}
		env.Logf("-- %s", t.label)
		r, err := sendWagate(ctx, env, base, t.key, t.label)
		if r != nil {
			results = append(results, *r)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(base.rounds) == 0 && ctx.Err() == nil && len(errs) == 0 {
		// No wagate target ran (-only baseline): measure the baseline's rate alone.
		if err := sendBaselineAlone(ctx, env, base); err != nil {
			errs = append(errs, err)
		}
	}

	baseRow.Rate, _ = mergeRounds(base.rounds)
	var runs []string
	lo, hi := math.Inf(1), 0.0
	for _, r := range base.rounds {
		runs = append(runs, formatRate(r.rate))
		lo, hi = min(lo, r.rate), max(hi, r.rate)
	}
	if len(runs) > 1 {
		env.Note("%s: the baseline's rounds: %s messages/s (the slowest %.0f%% below the fastest).", sendBenchmark, strings.Join(runs, ", "), 100*(1-lo/hi))
	}
	rows := []Row{baseRow}
	_, baseCPU := mergeRounds(base.rounds)
	cpu := []string{"baseline " + formatMicros(baseCPU)}
	for _, r := range results {
		if r.skipped != "" {
			rows = append(rows, Row{Benchmark: sendBenchmark, Target: r.label, Skipped: r.skipped})
			continue
		}
		rows = append(rows, r.row)
		_, c := mergeRounds(r.rounds)
		cpu = append(cpu, r.label+" "+formatMicros(c))
		var rs, bl, dr []string
		for i, x := range r.ratios {
			rs = append(rs, fmt.Sprintf("%.3f", x))
			bl = append(bl, formatRate(float64(r.rounds[i].minBacklog)))
			if d := r.rounds[i].drainRate; d > 0 {
				dr = append(dr, formatRate(d))
			}
		}
		drained := "the queue drained at " + strings.Join(dr, ", ") + " messages/s (the sender alone)"
		if len(dr) == 0 {
			drained = fmt.Sprintf("the queue never held the %d workers' worth needed to time the sender alone", sendWorkers)
		}
		env.Note("%s, %s: ratio per round %s; median %.3f. Fewest messages waiting in the queue during each round: %s. "+
			"After each round, with the API idle, %s.",
			sendBenchmark, r.label, strings.Join(rs, ", "), r.row.Ratio, strings.Join(bl, ", "), drained)
	}
	if len(base.rounds) > 0 {
		env.Note("%s: CPU time per message of the sending process in the throughput rounds (wagate: the API request, "+
			"the queue and the provider call; baseline: the provider call): %s.", sendBenchmark, strings.Join(cpu, "; "))
	}
	return rows, errors.Join(errs...)
}

// sendBaselineAlone runs -rounds rounds of the direct loop with no wagate target to alternate with.
func sendBaselineAlone(ctx context.Context, env *Env, base *sendBase) error {
	fake, err := startFake(sendFakeHistory)
	if err != nil {
		return err
	}
	defer fake.Close()
	d := env.Opts.Duration / time.Duration(env.Opts.Rounds)
	env.Logf("   direct loop: %d rounds of %v, %d workers, alone", env.Opts.Rounds, d, sendWorkers)
	for i := range env.Opts.Rounds {
		warm := env.roundWarmup()
		if i == 0 {
			warm = env.Opts.Warmup
		}
		r, err := env.sendBaselineRound(ctx, fake, base, warm, d)
		if err != nil {
			return err
		}
		env.Logf("   round %d/%d: baseline %s messages/s", i+1, env.Opts.Rounds, formatRate(r.rate))
	}
	return nil
}

// sendWagate runs one wagate target: the latency on one fresh wagate, then the throughput on another, in rounds
// alternating with the baseline's. It returns the result whenever something was measured, also together with
// an error.
func sendWagate(ctx context.Context, env *Env, base *sendBase, key, label string) (*sendResult, error) {
	res := &sendResult{label: label, row: Row{Benchmark: sendBenchmark, Target: label, Ratio: math.NaN()}}
	lat, rss, err := wagateLatency(ctx, env, base.gen, key, label)
	if err != nil {
		return nil, err
	}
	res.row.P50, res.row.P99, res.row.PeakRSS = lat.p50, lat.p99, rss
	env.Note("%s, %s: accept-to-provider latency at %d messages/s from wagate's 202 answer instead of the request's start: p50 %s, p99 %s (the API answered in p50 %s, p99 %s).",
		sendBenchmark, label, sendLatencyRate, formatLatency(lat.p50Answer), formatLatency(lat.p99Answer), formatLatency(lat.apiP50), formatLatency(lat.apiP99))

	fake, err := startFake(sendFakeHistory)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", label, err)
	}
	defer fake.Close()
	w, err := env.startSendWagate(ctx, key, label, fake.URL(), "0")
	if err != nil {
		return nil, err
	}
	defer w.close(env)
	in := newIntake(w.url+"/v1/messages", base.gen, fake, env.Opts.Clients, sendBacklog)
	defer in.close()

	n := env.Opts.Rounds
	d := env.Opts.Duration / time.Duration(n)
	env.Logf("   throughput: %d rounds of %v, alternating the baseline (%d workers) and wagate (%d API clients, up to %s messages waiting)",
		n, d, sendWorkers, env.Opts.Clients, formatRate(sendBacklog))
	warm := func(first bool) time.Duration {
		if first {
			return env.Opts.Warmup
		}
		return env.roundWarmup()
	}
	var errs []error
	prev, err := env.sendBaselineRound(ctx, fake, base, warm(len(base.rounds) == 0), d)
	if err != nil {
		errs = append(errs, err)
	}
	for i := 0; i < n && len(errs) == 0; i++ {
		r, err := in.round(ctx, w, warm(i == 0), d)
		if err != nil {
			errs = append(errs, err)
			break
		}
		after, err := env.sendBaselineRound(ctx, fake, base, warm(false), d)
		if err != nil {
			errs = append(errs, err)
			break
		}
		ratio := r.rate / ((prev.rate + after.rate) / 2)
		res.rounds = append(res.rounds, r)
		res.ratios = append(res.ratios, ratio)
		drained := "then drained at " + formatRate(r.drainRate) + "/s"
		if r.drainRate == 0 {
			drained = "too few left to time the drain"
		}
		env.Logf("   round %d/%d: %s %s messages/s (at least %s waiting; %s); baseline %s then %s messages/s; ratio %.3f",
			i+1, n, label, formatRate(r.rate), formatRate(float64(r.minBacklog)), drained, formatRate(prev.rate),
			formatRate(after.rate), ratio)
		if r.minBacklog < int64(sendWorkers) {
			env.Note("%s, %s: in round %d the queue held as few as %d messages (fewer than the %d workers): the API clients, not the sender, limited that round.",
				sendBenchmark, label, i+1, r.minBacklog, sendWorkers)
		}
		prev = after
	}
	if len(errs) == 0 && ctx.Err() == nil {
		if err := w.checkMessages(ctx, in.sample()); err != nil {
			errs = append(errs, fmt.Errorf("%s: sanity check: %w", label, err))
		} else {
			env.Logf("   %s: %s messages accepted, all received by the provider once; %d sampled through GET /v1/messages/{id}",
				label, formatRate(float64(in.accepted.Load())), len(in.sample()))
		}
	}
	if ctx.Err() == nil {
		if n, err := w.p.peakRSS(); err == nil {
			res.row.PeakRSS = max(res.row.PeakRSS, n)
		} else {
			errs = append(errs, fmt.Errorf("%s: %w", label, err))
		}
	}
	in.close()
	errs = append(errs, w.finish(env, len(errs) > 0)...)
	if len(res.rounds) == 0 {
		return nil, errors.Join(errs...)
	}
	res.row.Rate, _ = mergeRounds(res.rounds)
	res.row.Ratio = median(res.ratios)
	if key == "sqlite" {
		res.row.Goals = []Goal{{Desc: fmt.Sprintf("%s messages/s ≥ %s", formatRate(res.row.Rate), formatRate(sendMinRateSQLite)),
			Pass: res.row.Rate >= sendMinRateSQLite}}
	}
	return res, errors.Join(errs...)
}

// latency is an accept-to-provider latency measurement.
type latency struct {
	p50, p99             time.Duration // from the request's start to the fake's record
	p50Answer, p99Answer time.Duration // from the answer (202) to the fake's record
	apiP50, apiP99       time.Duration // of the requests themselves
}

// openLoopToFake runs an open loop at sendLatencyRate posting body(i) to url, and matches every measured
// request with the send the fake recorded for it (by the marker in its text): the latencies run from the
// request's start (and from its answer) to the fake's record. Every OK request must reach the fake exactly
// once.
func openLoopToFake(ctx context.Context, env *Env, label, url string, header http.Header, fake *providertest.Server, gen *sendGen,
	first int, body func(int) []byte, check func(int, []byte) error) (latency, error) {
	o := env.Opts
	interval := time.Second / sendLatencyRate
	total := int((o.Warmup + o.Duration) / interval)
	warmN := int((o.Warmup + interval - 1) / interval)
	started := make([]time.Time, total)
	answered := make([]time.Time, total)
	before := fake.SentCount()
	cfg := loadgen.Config{URL: url, Header: header, First: first, Rate: sendLatencyRate, Warmup: o.Warmup, Duration: o.Duration,
		Client: loadgen.NewClient(64),
		Body: func(i int) []byte {
			b := body(i)
			if k := i - first; k >= 0 && k < total {
				started[k] = time.Now()
			}
			return b
		},
		Check: func(i int, status int, b []byte) error {
			if err := check(status, b); err != nil {
				return err
			}
			if k := i - first; k >= 0 && k < total {
				answered[k] = time.Now()
			}
			return nil
		}}
	defer cfg.Client.CloseIdleConnections()
	env.Logf("   %s: open loop at %d messages/s, %v warm-up + %v", label, sendLatencyRate, o.Warmup, o.Duration)
	r, err := loadgen.OpenLoop(ctx, cfg)
	if err != nil {
		return latency{}, fmt.Errorf("%s: %w", label, err)
	}
	if !r.AllOK() {
		return latency{}, fmt.Errorf("%s: open loop: %d of %d requests failed (warm-up included):\n%s", label,
			r.Errors+r.WarmupErrors, r.Issued, indent(r.ErrorSummary(), "    "))
	}
	if r.Rate < 0.95*sendLatencyRate {
		env.Note("%s could not sustain %d messages/s at the fixed rate (%s answered per second).", label, sendLatencyRate, formatRate(r.Rate))
	}
	want := r.OK + r.WarmupOK
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err = fake.WaitSent(wctx, before+want)
	cancel()
	if err != nil {
		return latency{}, fmt.Errorf("%s: %d accepted messages did not all reach the provider within 30 s: %w", label, want, err)
	}
	if err := sleepCtx(ctx, 50*time.Millisecond); err != nil {
		return latency{}, err
	}
	seen := make([]bool, total)
	var lat, latAns []time.Duration
	for _, s := range fake.Sent() {
		i, ok := gen.index(s.Body)
		k := i - first
		if !ok || k < 0 || k >= total {
			continue
		}
		if seen[k] {
			return latency{}, fmt.Errorf("%s: message %d reached the provider twice", label, i)
		}
		seen[k] = true
		if k < warmN {
			continue
		}
		if started[k].IsZero() || answered[k].IsZero() {
			return latency{}, fmt.Errorf("%s: the provider received message %d, which was not answered successfully", label, i)
		}
		lat = append(lat, s.At.Sub(started[k]))
		latAns = append(latAns, s.At.Sub(answered[k]))
	}
	if len(lat) != r.OK {
		return latency{}, fmt.Errorf("%s: the provider received %d of the %d measured messages", label, len(lat), r.OK)
	}
	slices.Sort(lat)
	slices.Sort(latAns)
	out := latency{p50: loadgen.Percentile(lat, 50), p99: loadgen.Percentile(lat, 99),
		p50Answer: loadgen.Percentile(latAns, 50), p99Answer: loadgen.Percentile(latAns, 99), apiP50: r.P50, apiP99: r.P99}
	env.Logf("   %s: start to provider p50 %s p99 %s max %s; answer to provider p50 %s p99 %s; requests p50 %s p99 %s, %d late sends",
		label, formatLatency(out.p50), formatLatency(out.p99), formatLatency(lat[len(lat)-1]), formatLatency(out.p50Answer),
		formatLatency(out.p99Answer), formatLatency(r.P50), formatLatency(r.P99), r.Late)
	return out, nil
}

// directLatency measures the baseline's latency: the same messages posted straight to a fake at the fixed rate.
func directLatency(ctx context.Context, env *Env, gen *sendGen) (latency, error) {
	fake, err := startFake(0)
	if err != nil {
		return latency{}, err
	}
	defer fake.Close()
	return openLoopToFake(ctx, env, "baseline", fake.URL()+"/messages", http.Header{"D360-API-KEY": {sendAPIKey}}, fake, gen, 1<<29,
		gen.cloudBody, func(status int, b []byte) error { return checkProviderAnswer(status, b) })
}

// wagateLatency measures wagate's accept-to-provider latency on a fresh wagate whose governor paces nothing,
// and returns it with the process's peak RSS.
func wagateLatency(ctx context.Context, env *Env, gen *sendGen, key, label string) (latency, int64, error) {
	fake, err := startFake(0)
	if err != nil {
		return latency{}, 0, fmt.Errorf("%s: %w", label, err)
	}
	defer fake.Close()
	w, err := env.startSendWagate(ctx, key, label, fake.URL(), sendLatencyGovernor)
	if err != nil {
		return latency{}, 0, err
	}
	defer w.close(env)
	var errs []error
	lat, err := openLoopToFake(ctx, env, label, w.url+"/v1/messages", apiHeader(), fake, gen, 0, gen.apiBody,
		func(status int, b []byte) error { _, err := checkQueued(status, b); return err })
	if err != nil {
		errs = append(errs, err)
	}
	var rss int64
	if ctx.Err() == nil {
		if rss, err = w.p.peakRSS(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", label, err))
		}
	}
	errs = append(errs, w.finish(env, len(errs) > 0)...)
	return lat, rss, errors.Join(errs...)
}
