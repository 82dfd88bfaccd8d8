package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wagate/wagate/internal/loadgen"
	"github.com/wagate/wagate/internal/provider/providertest"
)

// Goals and parameters of the governor scenario.
const (
	governorBenchmark = "governor precision"
	// governorRate is WAGATE_RATE_PER_SECOND: Meta's default throughput of a number.
	governorRate = 80
	// governorTolerance is how far below the configured rate the mean may be.
	governorTolerance = 0.05
	// governorJitter is the share by which the mean may exceed the rate before it counts as above: the mean
	// is measured between two sends' timestamps, each a little late by scheduling (0.1% is 1 ms over 1 s).
	governorJitter = 0.001
)

func governorScenario() Scenario {
	s := Scenario{Name: governorBenchmark, Key: "governor", Targets: []string{"sqlite"},
		Goals: fmt.Sprintf("goal (%s): at WAGATE_RATE_PER_SECOND=%d the mean rate is within %.0f%% of %d/s and never above; no 1 s window holds more than %d sends",
			governorBenchmark, governorRate, 100*governorTolerance, governorRate, governorRate),
		About: governorAbout}
	s.Run = func(ctx context.Context, env *Env) ([]Row, error) { return runGovernor(ctx, env, s) }
	return s
}

var governorAbout = `
- **` + governorBenchmark + `**: wagate on SQLite with ` + "`WAGATE_RATE_PER_SECOND=" + strconv.Itoa(governorRate) + "`" + ` and the same
  fake provider. API clients first queue a backlog of messages to distinct recipients (more than the governor lets
  through during the whole measurement), then the fake's own timestamps of the sends it accepted are read over
  ` + "`-duration`" + `, from ` + "`-warmup`" + ` after the first send (and not before the backlog is queued). **rate**:
  the mean, (sends − 1) / (last − first timestamp) in the window; **ratio**: the mean over the configured rate.
  The goal lines give the most sends in any 1 s window (every window starting at a send and lying in the
  measured span) against the configured rate. A real provider counts at its end too, so the network's jitter
  between wagate and the fake is in the figure.
`

// runGovernor measures the governor's precision on SQLite.
func runGovernor(ctx context.Context, env *Env, s Scenario) ([]Row, error) {
	const key = "sqlite"
	label := fmt.Sprintf("wagate, SQLite, WAGATE_RATE_PER_SECOND=%d", governorRate)
	if !env.Want(s, key) {
		return nil, nil
	}
	env.Logf("-- %s", label)
	row := Row{Benchmark: governorBenchmark, Target: label, Ratio: math.NaN()}
	fake, err := startFake(0)
	if err != nil {
		return nil, err
	}
	defer fake.Close()
	w, err := env.startSendWagate(ctx, key, label, fake.URL(), strconv.Itoa(governorRate))
	if err != nil {
		return nil, err
	}
	defer w.close(env)

	o := env.Opts
	n := int(governorRate * (o.Warmup + o.Duration + 5*time.Second).Seconds())
	gen := newSendGen()
	var errs []error
	enq, err := postBacklog(ctx, w.url+"/v1/messages", gen, n, min(o.Clients, 16))
	if err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", label, err))
	}
	queued := time.Now()
	var st governorStats
	if len(errs) == 0 {
		env.Logf("   %s: %d messages queued in %v; measuring the sends over %v", label, n, enq.Round(time.Millisecond), o.Duration)
		st, err = measureGovernor(ctx, env, fake, n, queued)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", label, err))
		}
	}
	if ctx.Err() == nil {
		if row.PeakRSS, err = w.p.peakRSS(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", label, err))
		}
	}
	errs = append(errs, w.finish(env, len(errs) > 0)...)
	if st.sends == 0 {
		return []Row{row}, errors.Join(errs...)
	}
	row.Rate = st.mean
	row.Ratio = st.mean / governorRate
	lo := governorRate * (1 - governorTolerance)
	row.Goals = []Goal{
		{Desc: fmt.Sprintf("mean %.2f/s within %.0f%% of %d/s (%.1f–%d)", st.mean, 100*governorTolerance, governorRate, lo, governorRate),
			Pass: st.mean >= lo && st.mean <= governorRate*(1+governorJitter)},
		{Desc: fmt.Sprintf("at most %d sends in any 1 s window ≤ %d", st.max1s, governorRate), Pass: st.max1s <= governorRate},
	}
	env.Logf("   %s: %d sends, mean %.2f/s, at most %d and at least %d in a 1 s window (%d windows above %d); gaps p50 %s min %s max %s",
		label, st.sends, st.mean, st.max1s, st.min1s, st.above, governorRate, formatLatency(st.gapP50), formatLatency(st.gapMin), formatLatency(st.gapMax))
	env.Note("%s: %d sends in %v: mean %.2f/s; between %d and %d sends in a 1 s window (windows starting at each send); "+
		"%d windows above %d. Gap between consecutive sends: p50 %s, min %s, max %s (%s at exactly %d/s). The %d messages were queued in %v.",
		governorBenchmark, st.sends, st.span.Round(time.Millisecond), st.mean, st.min1s, st.max1s, st.above, governorRate,
		formatLatency(st.gapP50), formatLatency(st.gapMin), formatLatency(st.gapMax), formatLatency(time.Second/governorRate), governorRate,
		n, enq.Round(time.Millisecond))
	return []Row{row}, errors.Join(errs...)
}

// postBacklog posts messages 0 to n-1 with the given number of clients and returns how long it took; any
// failed request is an error.
func postBacklog(ctx context.Context, url string, gen *sendGen, n, clients int) (time.Duration, error) {
	client := loadgen.NewClient(clients)
	defer client.CloseIdleConnections()
	header := apiHeader()
	var next atomic.Int64
	var errs errorTally
	var wg sync.WaitGroup
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				status, body, err := post(ctx, client, url, header, gen.apiBody(i))
				if err != nil {
					errs.add("transport", err.Error())
				} else if _, err := checkQueued(status, body); err != nil {
					errs.add(fmt.Sprintf("HTTP %d", status), err.Error()+": "+string(body))
				}
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if c := errs.count(); c > 0 {
		return 0, fmt.Errorf("%d of %d API requests failed:\n%s", c, n, indent(errs.summary(), "    "))
	}
	return time.Since(start), nil
}

// governorStats describes the sends of the measured window.
type governorStats struct {
	sends                  int
	span                   time.Duration // from the first to the last send of the window
	mean                   float64       // (sends-1)/span
	max1s, min1s, above    int           // most and fewest sends in a 1 s window; windows above the rate
	gapP50, gapMin, gapMax time.Duration
}

// measureGovernor waits for the window (from -warmup after the first send, and not before queued, for
// -duration), checks that the backlog lasted through it, and computes the statistics of the sends the fake
// recorded in it.
func measureGovernor(ctx context.Context, env *Env, fake *providertest.Server, n int, queued time.Time) (governorStats, error) {
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err := fake.WaitSent(wctx, 1)
	cancel()
	if err != nil {
		return governorStats{}, fmt.Errorf("no send reached the provider: %w", err)
	}
	// The fake's clock is time.Now: its timestamps compare with this process's.
	sent := sentTimes(fake)
	from := sent[0].Add(env.Opts.Warmup)
	if queued.After(from) {
		from = queued
	}
	to := from.Add(env.Opts.Duration)
	if err := sleepCtx(ctx, time.Until(to)+200*time.Millisecond); err != nil {
		return governorStats{}, err
	}
	sent = sentTimes(fake)
	if len(sent) >= n {
		return governorStats{}, fmt.Errorf("the backlog of %d messages ran out before the end of the window", n)
	}
	var ts []time.Time
	for _, t := range sent {
		if !t.Before(from) && t.Before(to) {
			ts = append(ts, t)
		}
	}
	if len(ts) < 2 {
		return governorStats{}, fmt.Errorf("%d sends in the window", len(ts))
	}
	return governorStatsOf(ts, governorRate), nil
}

// sentTimes returns the fake's send timestamps, sorted.
func sentTimes(fake *providertest.Server) []time.Time {
	var ts []time.Time
	for _, s := range fake.Sent() {
		ts = append(ts, s.At)
	}
	slices.SortFunc(ts, time.Time.Compare)
	return ts
}

// governorStatsOf computes the statistics of sorted send times ts against rate.
func governorStatsOf(ts []time.Time, rate int) governorStats {
	st := governorStats{sends: len(ts), span: ts[len(ts)-1].Sub(ts[0]), min1s: math.MaxInt}
	st.mean = float64(len(ts)-1) / st.span.Seconds()
	// Windows [t, t+1s) starting at each send and ending within the span.
	end := ts[len(ts)-1]
	k := 0
	for j := range ts {
		if ts[j].Add(time.Second).After(end) {
			break
		}
		for k < len(ts) && ts[k].Before(ts[j].Add(time.Second)) {
			k++
		}
		c := k - j
		st.max1s = max(st.max1s, c)
		st.min1s = min(st.min1s, c)
		if c > rate {
			st.above++
		}
	}
	if st.min1s == math.MaxInt {
		st.min1s = 0
	}
	gaps := make([]time.Duration, 0, len(ts)-1)
	for j := 1; j < len(ts); j++ {
		gaps = append(gaps, ts[j].Sub(ts[j-1]))
	}
	slices.Sort(gaps)
	st.gapP50, st.gapMin, st.gapMax = loadgen.Percentile(gaps, 50), gaps[0], gaps[len(gaps)-1]
	return st
}
