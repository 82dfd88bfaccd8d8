package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/wagate/wagate/internal/childproc"
)

// proc is a server started as a child process (see childproc), under the names this command uses.
type proc struct {
	*childproc.Proc
	name string
}

// procs is the set of running children, stopped when the command ends (also on an error or an interrupt).
type procs struct {
	set childproc.Set
}

// start starts name with args and env (the whole environment of the child), writing its output to a new log
// file. The child is killed if this process dies without stopping it.
func (ps *procs) start(name, path string, args, env []string) (*proc, error) {
	p, err := ps.set.Start(name, path, args, env)
	if err != nil {
		return nil, err
	}
	return &proc{Proc: p, name: name}, nil
}

// stopAll stops every child still running.
func (ps *procs) stopAll() { ps.set.StopAll() }

// exited reports whether the process has ended.
func (p *proc) exited() bool { return p.Exited() }

// stop asks the process to shut down (SIGTERM), and kills it when it has not exited after 15 seconds. It
// returns an error when the process had to be killed or had already died.
func (p *proc) stop() error { return p.Stop() }

// logText returns the process's output so far.
func (p *proc) logText() string { return p.LogText() }

// logTail returns the last n lines of the process's output.
func (p *proc) logTail(n int) string { return p.LogTail(n) }

// peakRSS returns the process's peak resident set size (VmHWM of /proc/<pid>/status) in bytes.
func (p *proc) peakRSS() (int64, error) {
	if p.exited() {
		return 0, fmt.Errorf("%s exited before its peak RSS could be read", p.name)
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.Pid()))
	if err != nil {
		return 0, fmt.Errorf("peak RSS of %s: %w", p.name, err)
	}
	return parseVmHWM(b)
}

// parseVmHWM reads the VmHWM line ("VmHWM:     12345 kB") of a /proc/<pid>/status file, in bytes.
func parseVmHWM(status []byte) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("peak RSS: unexpected line %q", sc.Text())
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("peak RSS: %w", err)
		}
		return kb * 1024, nil
	}
	return 0, errors.New("peak RSS: no VmHWM line in /proc/<pid>/status")
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr() (string, error) { return childproc.FreeAddr() }

// waitReady polls url until it answers 200, the process exits, ctx ends or timeout passes.
func waitReady(ctx context.Context, p *proc, url string, timeout time.Duration) error {
	return childproc.WaitReady(ctx, p.Proc, url, timeout)
}

// childEnv returns this process's environment without the variables that configure wagate (so that a
// developer's own WAGATE_* or provider credentials cannot leak into the measured server), plus extra.
func childEnv(extra ...string) []string { return childproc.Env(extra...) }

// clockTick is the unit of the CPU times in /proc/<pid>/stat (USER_HZ, 100 on every Linux architecture Go
// supports).
const clockTick = 10 * time.Millisecond

// cpuTime returns the user plus system CPU time the process has used (from /proc/<pid>/stat).
func (p *proc) cpuTime() (time.Duration, error) {
	if p.exited() {
		return 0, fmt.Errorf("%s has exited", p.name)
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.Pid()))
	if err != nil {
		return 0, fmt.Errorf("CPU time of %s: %w", p.name, err)
	}
	return parseStatCPU(b)
}

// parseStatCPU reads utime and stime (fields 14 and 15) of a /proc/<pid>/stat line. The command name (field 2)
// is in parentheses and may contain spaces, so fields are counted after its closing parenthesis.
func parseStatCPU(stat []byte) (time.Duration, error) {
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("CPU time: malformed /proc/<pid>/stat")
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, errors.New("CPU time: short /proc/<pid>/stat")
	}
	var ticks int64
	for _, v := range f[11:13] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("CPU time: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * clockTick, nil
}

// selfCPU returns the CPU time this process has used, 0 when it cannot be read.
func selfCPU() time.Duration {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0
	}
	d, err := parseStatCPU(b)
	if err != nil {
		return 0
	}
	return d
}
