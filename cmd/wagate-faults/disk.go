package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/wagate/wagate/internal/loadgen"
)

// Shape of the read-only disk drill: webhooks at diskRate per second in three phases: diskBefore with the
// database writable, diskReadOnly with the SQLite file and its write-ahead log immutable, diskAfter writable
// again.
const (
	diskRate     = 100
	diskBefore   = 5 * time.Second
	diskReadOnly = 10 * time.Second
	diskAfter    = 10 * time.Second
)

// chattr sets or clears the immutable attribute of files. Root ignores file permissions, so chmod cannot make
// a file read-only for a root process; an immutable file refuses every write, even root's, even through a
// descriptor opened before (ext4, xfs and btrfs support the attribute; tmpfs and overlayfs do not).
func chattr(ctx context.Context, flag string, files ...string) error {
	out, err := exec.CommandContext(ctx, "chattr", append([]string{flag}, files...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("chattr %s: %w: %s", flag, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// drillDiskReadOnly: the SQLite database and its write-ahead log become immutable (chattr +i) under webhook
// load. Webhooks must then be refused (5xx), never acknowledged and lost; once the files are writable again
// wagate must take webhooks again, and the drill says whether it needed a restart for that.
func drillDiskReadOnly(ctx context.Context, e *env, db string, r *result) {
	r.Allowed = "0"
	if os.Geteuid() != 0 {
		r.Skipped = "needs root for chattr +i (as another user, nothing makes an open file read-only)"
		return
	}
	if _, err := exec.LookPath("chattr"); err != nil {
		r.Skipped = "chattr is not installed (Debian package e2fsprogs)"
		return
	}
	n, err := e.startNode(ctx, db)
	if err != nil {
		r.fail(err)
		return
	}
	defer n.close()
	files := []string{filepath.Join(n.dataDir, "wagate.db"), filepath.Join(n.dataDir, "wagate.db-wal")}
	g := newHookGen()
	phase := func(d time.Duration, first int) (loadgen.Result, error) { return g.load(ctx, n, diskRate, d, first) }

	before, err := phase(diskBefore, 0)
	if err != nil {
		r.fail(err)
		return
	}
	if err := chattr(ctx, "+i", files...); err != nil {
		r.Skipped = err.Error() + " (the filesystem may not support the immutable attribute)"
		return
	}
	during, err := phase(diskReadOnly, before.Issued)
	if cerr := chattr(context.Background(), "-i", files...); cerr != nil {
		r.fail(cerr)
		return
	}
	writable := time.Now()
	if err != nil {
		r.fail(err)
		return
	}
	exited := n.p.Exited()
	restarted := false
	if exited {
		r.figure("wagate exited while the database was read-only (%v); restarted", n.p.Err())
		if err := n.start(ctx); err != nil {
			r.fail(err)
			return
		}
		restarted = true
	}
	after, err := phase(diskAfter, before.Issued+during.Issued)
	if err != nil {
		r.fail(err)
		return
	}
	recovered := "did not take webhooks again within " + diskAfter.String()
	if at, ok := g.firstAckAfter(writable); ok {
		recovered = fmt.Sprintf("took webhooks again %s after the files became writable", at.Sub(writable).Round(time.Millisecond))
		if !restarted {
			recovered += ", without a restart"
		}
	} else if !restarted {
		r.violate("wagate did not recover within %s of the database becoming writable again without a restart", diskAfter)
		if err := n.stop(); err != nil {
			r.figure("stopping it: %v", err)
		}
		if err := n.start(ctx); err != nil {
			r.fail(err)
			return
		}
		recovered += "; restarted"
	}
	r.figure("%d webhooks/s: %s writable (%s), %s read-only with chattr +i on wagate.db and wagate.db-wal (%s), %s writable again (%s); wagate %s",
		diskRate, diskBefore, loadFigure(before), diskReadOnly, loadFigure(during), diskAfter, loadFigure(after), recovered)
	if during.OK+during.WarmupOK > 0 {
		r.figure("%d webhooks were acknowledged while the files were read-only (the check below says whether they are stored)", during.OK+during.WarmupOK)
	}
	for _, res := range []loadgen.Result{before, during, after} {
		if bad, kinds := badAnswers(res); bad > 0 {
			r.violate("%d answers were neither an acknowledgement, a 5xx nor a dropped connection:%s", bad, kinds)
		}
	}
	c, err := verifyHooks(ctx, n, g, 0, before.Issued+during.Issued+after.Issued)
	if err != nil {
		r.fail(err)
		return
	}
	c.apply(r, "webhooks", true)
	if err := n.stop(); err != nil {
		r.fail(err)
	}
}
