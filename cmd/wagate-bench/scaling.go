package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

const scalingBenchmark = "ingest scaling (PostgreSQL)"

func scalingScenario() Scenario {
	s := Scenario{Name: scalingBenchmark, Key: "scaling", Targets: []string{"postgres"},
		Goals: "reported: the rate of two instances on one database over the rate of one", About: scalingAbout}
	s.Run = func(ctx context.Context, env *Env) ([]Row, error) { return runScaling(ctx, env, s) }
	return s
}

var scalingAbout = `
- **ingest scaling (PostgreSQL)**: the webhook ingest load (same bodies, same checks) against one wagate instance on
  a fresh PostgreSQL database, and against two instances sharing another fresh database, the requests alternating
  between the two instances (as a load balancer would spread them). Closed-loop rounds alternate between the two
  set-ups; the ratio is the median of each two-instance round's rate over the one-instance rounds around it. The
  load generator, PostgreSQL and every instance share this machine's cores, so the ratio shows what a second
  instance adds here, not on separate machines. Peak RSS is the first instance's.
`

// runScaling measures the ingest rate of one instance and of two on PostgreSQL, alternating rounds.
func runScaling(ctx context.Context, env *Env, s Scenario) ([]Row, error) {
	if env.Opts.PostgresURL == "" {
		why := "skipped: " + EnvPostgresURL + " not set"
		env.Logf("-- %s: %s", scalingBenchmark, why)
		return []Row{{Benchmark: scalingBenchmark, Target: "one instance", Skipped: why}}, nil
	}
	one, stopOne, err := startIngestInstances(ctx, env, 1)
	if err != nil {
		return nil, err
	}
	defer stopOne()
	two, stopTwo, err := startIngestInstances(ctx, env, 2)
	if err != nil {
		return nil, err
	}
	defer stopTwo()
	defer one.close()
	defer two.close()
	env.Logf("-- %s", scalingBenchmark)
	ratio, ratios, err := env.interleave(ctx, one, two)
	if err == nil {
		err = env.openLoop(ctx, one)
	}
	if err == nil {
		err = env.openLoop(ctx, two)
	}
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	for _, t := range []*Target{one, two} {
		if ctx.Err() == nil {
			if err := t.readPeakRSS(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	var rs []string
	for _, x := range ratios {
		rs = append(rs, fmt.Sprintf("%.3f", x))
	}
	env.Note("%s: two instances over one, per round %s; median %.3f.", scalingBenchmark, strings.Join(rs, ", "), ratio)
	rows := []Row{row(scalingBenchmark, one.Label, one.measurement(), 1), row(scalingBenchmark, two.Label, two.measurement(), ratio)}
	return rows, errors.Join(errs...)
}

// startIngestInstances starts n demo-mode instances of wagate on one fresh PostgreSQL database, and returns
// the target spreading the ingest load over them, and a func that stops them and drops the database.
func startIngestInstances(ctx context.Context, env *Env, n int) (*Target, func(), error) {
	var cleanup []func()
	stop := func() {
		for i := len(cleanup) - 1; i >= 0; i-- {
			cleanup[i]()
		}
	}
	fail := func(err error) (*Target, func(), error) {
		stop()
		return nil, nil, err
	}
	dbURL, drop, err := createDatabase(ctx, env.Opts.PostgresURL)
	if err != nil {
		return fail(err)
	}
	cleanup = append(cleanup, func() {
		if err := drop(); err != nil {
			env.Logf("   %s: %v", scalingBenchmark, err)
		}
	})
	label := "one instance"
	if n > 1 {
		label = fmt.Sprintf("%d instances, one database", n)
	}
	var first *proc
	var urls []string
	for i := range n {
		dataDir, err := os.MkdirTemp("", "wagate-bench-data-*")
		if err != nil {
			return fail(err)
		}
		cleanup = append(cleanup, func() { os.RemoveAll(dataDir) })
		addr, err := freeAddr()
		if err != nil {
			return fail(err)
		}
		vars := []string{"WAGATE_LISTEN=" + addr, "WAGATE_DATA_DIR=" + dataDir, "WAGATE_LOG_LEVEL=warn", "WAGATE_DATABASE_URL=" + dbURL}
		p, err := env.procs.start(fmt.Sprintf("wagate-scaling-%d-%d", n, i), env.Opts.Wagate, []string{"serve"}, childEnv(vars...))
		if err != nil {
			return fail(err)
		}
		cleanup = append(cleanup, func() { _ = p.stop() })
		if err := waitReady(ctx, p, "http://"+addr+"/readyz", 2*time.Minute); err != nil {
			return fail(err)
		}
		if first == nil {
			first = p
		}
		urls = append(urls, "http://"+addr+webhookPath)
	}
	gen := newWebhookGen()
	t := env.newTarget(label, first, strings.TrimSuffix(urls[0], webhookPath), Load{Path: webhookPath, Header: webhookHeader(), Body: gen.body, Check: gen.checkWagate})
	if n > 1 {
		t.urls = urls
	}
	return t, stop, nil
}
