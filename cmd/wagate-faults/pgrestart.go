package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/wagate/wagate/internal/childproc"
	"github.com/wagate/wagate/internal/config"
	"github.com/wagate/wagate/internal/loadgen"
	"github.com/wagate/wagate/internal/queue"
)

// Shape of the PostgreSQL restart drill: webhooks and sends flow for pgLoad; pgStopAt into it PostgreSQL is
// stopped in immediate mode (a crash: no shutdown checkpoint, recovery at the next start) and started again
// pgDown later.
const (
	pgLoad      = 25 * time.Second
	pgStopAt    = 5 * time.Second
	pgDown      = 5 * time.Second
	pgHookRate  = 100
	pgSendRate  = 20
	pgCtlTimout = 2 * time.Minute
)

// pgCluster controls the throwaway PostgreSQL server through its pg_ctl.
type pgCluster struct {
	ctl, data string
	opts      []string // the server's command-line options, from postmaster.opts
}

var quotedRE = regexp.MustCompile(`"((?:[^"\\]|\\.)*)"`)

func newPGCluster(ctl, data string) (*pgCluster, error) {
	b, err := os.ReadFile(filepath.Join(data, "postmaster.opts"))
	if err != nil {
		return nil, fmt.Errorf("the server's options: %w", err)
	}
	c := &pgCluster{ctl: ctl, data: data}
	args := quotedRE.FindAllStringSubmatch(string(b), -1)
	for k := 0; k < len(args); k++ {
		if args[k][1] == "-D" {
			k++ // the data directory is given to pg_ctl itself
			continue
		}
		c.opts = append(c.opts, args[k][1])
	}
	return c, nil
}

// run runs pg_ctl with args, as the postgres user when this process is root (PostgreSQL refuses to run as
// root).
func (c *pgCluster) run(ctx context.Context, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, pgCtlTimout)
	defer cancel()
	name, full := c.ctl, append([]string{"-D", c.data}, args...)
	if os.Geteuid() == 0 {
		name, full = "runuser", append([]string{"-u", "postgres", "--", c.ctl}, full...)
	}
	out, err := exec.CommandContext(ctx, name, full...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// crash stops the server in immediate mode.
func (c *pgCluster) crash(ctx context.Context) error {
	return c.run(ctx, "-m", "immediate", "-w", "stop")
}

// start starts the server with the options it had, logging next to its data directory.
func (c *pgCluster) start(ctx context.Context) error {
	quoted := make([]string, len(c.opts))
	for k, o := range c.opts {
		quoted[k] = "'" + strings.ReplaceAll(o, "'", `'\''`) + "'"
	}
	return c.run(ctx, "-l", filepath.Join(filepath.Dir(c.data), "server.log"), "-w", "-t", "60",
		"-o", strings.Join(quoted, " "), "start")
}

// drillPGRestart: PostgreSQL crashes and comes back while webhooks and sends flow. Every request is answered
// with an acknowledgement, a 5xx or not at all (never a 4xx or a 200 for something then lost), and once
// PostgreSQL is back everything acknowledged is present and every accepted send reaches the provider.
//
// A send whose provider call succeeded while PostgreSQL went away cannot record that, and its job runs again:
// for the send jobs in flight, losing the database is a crash, and the README's bound for crashes applies
// (duplicates at most the send jobs running, at most WAGATE_QUEUE_WORKERS).
func drillPGRestart(ctx context.Context, e *env, db string, r *result) {
	workers := config.DefaultQueueWorkers
	r.Allowed = fmt.Sprintf("≤ %d sends", workers)
	if e.opts.PGCtl == "" || e.opts.PGData == "" {
		r.Skipped = EnvPGCtl + " and " + EnvPGData + " are not set (scripts/faults.sh sets them)"
		return
	}
	cluster, err := newPGCluster(e.opts.PGCtl, e.opts.PGData)
	if err != nil {
		r.fail(err)
		return
	}
	rig, err := e.startSendRig(ctx, db, 20*time.Millisecond)
	if err != nil {
		r.fail(err)
		return
	}
	defer rig.close()
	fake, n := rig.fake, rig.n
	hooks, sends := newHookGen(), newSendGen()
	var hres, sres loadgen.Result
	var herr, serr error
	done := make(chan struct{}, 2)
	go func() { hres, herr = hooks.load(ctx, n, pgHookRate, pgLoad, 0); done <- struct{}{} }()
	go func() { sres, serr = sends.load(ctx, n, pgSendRate, pgLoad, 0); done <- struct{}{} }()
	if err := sleepCtx(ctx, pgStopAt); err != nil {
		r.fail(err)
		return
	}
	if err := cluster.crash(ctx); err != nil {
		r.fail(err)
		<-done
		<-done
		return
	}
	_ = sleepCtx(ctx, pgDown)
	if err := cluster.start(ctx); err != nil {
		r.fail(fmt.Errorf("PostgreSQL did not come back: %w", err))
		<-done
		<-done
		return
	}
	pgBack := time.Now()
	ready := "not ready within 60s"
	if err := childproc.WaitReady(ctx, n.p, n.url+"/readyz", time.Minute); err == nil {
		ready = "ready " + time.Since(pgBack).Round(time.Millisecond).String() + " after PostgreSQL came back"
	}
	<-done
	<-done
	if err := errors.Join(herr, serr); err != nil {
		r.fail(err)
		return
	}
	r.figure("%d webhooks/s and %d sends/s for %s; PostgreSQL stopped in immediate mode after %s and started %s later; wagate %s; webhooks: %s; sends: %s",
		pgHookRate, pgSendRate, pgLoad, pgStopAt, pgDown, ready, loadFigure(hres), loadFigure(sres))
	if n.p.Exited() {
		r.violate("wagate exited while PostgreSQL was down: %v", n.p.Err())
		if err := n.start(ctx); err != nil {
			r.fail(err)
			return
		}
	}
	for _, x := range []struct {
		what string
		res  loadgen.Result
	}{{"webhooks", hres}, {"sends", sres}} {
		if bad, kinds := badAnswers(x.res); bad > 0 {
			r.violate("%s: %d answers were neither an acknowledgement, a 5xx nor a dropped connection:%s", x.what, bad, kinds)
		}
	}
	posted, again, err := sends.retryUnanswered(ctx, n, sres.Issued)
	if err != nil {
		r.fail(err)
		return
	}
	r.figure("%d unanswered sends posted again with their idempotency keys, %d accepted", posted, again)
	c, err := verifyHooks(ctx, n, hooks, 0, hres.Issued)
	if err != nil {
		r.fail(err)
		return
	}
	c.apply(r, "webhooks", true)
	sc, err := verifySends(ctx, fake, sends, queue.RescueAfter+time.Minute, 3*time.Second)
	if err != nil {
		r.fail(err)
		return
	}
	sc.apply(r, workers)
	if err := n.stop(); err != nil {
		r.fail(err)
	}
}
