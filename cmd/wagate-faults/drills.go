package main

import (
	"context"
	"fmt"
	"time"

	"github.com/wagate/wagate/internal/loadgen"
)

// drill is one failure drill, run once per database it names.
type drill struct {
	key, name string
	dbs       []string
	run       func(ctx context.Context, e *env, db string, r *result)
}

func drills() []drill {
	both := []string{"sqlite", "postgres"}
	return []drill{
		{"kill-webhooks", "SIGKILL under webhook load", both, drillKillWebhooks},
		{"kill-sends", "SIGKILL under send load", both, drillKillSends},
		{"pg-restart", "PostgreSQL restarted under load", []string{"postgres"}, drillPGRestart},
		{"provider-down", "the provider down", []string{"sqlite"}, drillProviderDown},
		{"subscriber-down", "a subscriber down", []string{"sqlite"}, drillSubscriberDown},
		{"disk-readonly", "the SQLite file made read-only", []string{"sqlite"}, drillDiskReadOnly},
	}
}

func drillKeys() []string {
	var out []string
	for _, d := range drills() {
		out = append(out, d.key)
	}
	return out
}

// Shape of the SIGKILL webhook drill: webhooks at hookRate per second for hookFlood; wagate is killed
// hookKillAt into it and restarted at once on the same database and address, while the load keeps going.
const (
	hookRate   = 300
	hookFlood  = 12 * time.Second
	hookKillAt = 4 * time.Second
	// minAcked guards the drill's own validity: a flood that acknowledged almost nothing before the kill
	// proves nothing.
	minAcked = 200
)

// drillKillWebhooks: a webhook flood, SIGKILL in the middle, restart, and every webhook answered 200 must be
// stored with its effect applied once.
func drillKillWebhooks(ctx context.Context, e *env, db string, r *result) {
	r.Allowed = "0"
	n, err := e.startNode(ctx, db)
	if err != nil {
		r.fail(err)
		return
	}
	defer n.close()
	g := newHookGen()
	wait := inBackground(func() (loadgen.Result, error) { return g.load(ctx, n, hookRate, hookFlood, 0) })
	if err := sleepCtx(ctx, hookKillAt); err != nil {
		r.fail(err)
		return
	}
	before := g.ackedCount()
	if err := n.kill(); err != nil {
		r.fail(err)
		return
	}
	killed := time.Now()
	if err := n.start(ctx); err != nil {
		r.fail(fmt.Errorf("restart after SIGKILL: %w", err))
		return
	}
	down := time.Since(killed)
	res, lerr := wait()
	if lerr != nil {
		r.fail(lerr)
		return
	}
	r.figure("%d webhooks/s for %s, SIGKILL after %s (%d answered 200 by then), back in %s; %s", hookRate, hookFlood, hookKillAt,
		before, down.Round(time.Millisecond), loadFigure(res))
	if before < minAcked {
		r.fail(fmt.Errorf("only %d webhooks acknowledged before the kill: the flood exercised nothing", before))
	}
	c, err := verifyHooks(ctx, n, g, 0, res.Issued)
	if err != nil {
		r.fail(err)
		return
	}
	c.apply(r, "webhooks", true)
	if err := n.stop(); err != nil {
		r.fail(err)
	}
}

// inBackground runs load in a goroutine of its own; wait returns its result once it has ended.
func inBackground(load func() (loadgen.Result, error)) (wait func() (loadgen.Result, error)) {
	var res loadgen.Result
	var err error
	done := make(chan struct{})
	go func() {
		res, err = load()
		close(done)
	}()
	return func() (loadgen.Result, error) {
		<-done
		return res, err
	}
}
