package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is a server started as a child process. Its stdout and stderr go to a log file.
type proc struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed when the process has exited
	waitErr error

	stopOnce sync.Once
}

// procs is the set of running children, stopped when the command ends (also on an error or an interrupt).
type procs struct {
	mu   sync.Mutex
	list []*proc
}

// start starts name with args and env (the whole environment of the child), writing its output to a new log
// file. The child is killed if this process dies without stopping it (see sysProcAttr).
func (ps *procs) start(name, path string, args, env []string) (*proc, error) {
	logf, err := os.CreateTemp("", "wagate-bench-"+name+"-*.log")
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	cmd := exec.Command(path, args...)
	cmd.Env = env
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		logf.Close()
		_ = os.Remove(logf.Name())
		return nil, fmt.Errorf("start %s (%s): %w", name, path, err)
	}
	logf.Close() // the child holds its own descriptor
	p := &proc{name: name, cmd: cmd, logPath: logf.Name(), done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	ps.mu.Lock()
	ps.list = append(ps.list, p)
	ps.mu.Unlock()
	return p, nil
}

// stopAll stops every child still running.
func (ps *procs) stopAll() {
	ps.mu.Lock()
	list := ps.list
	ps.list = nil
	ps.mu.Unlock()
	for _, p := range list {
		_ = p.stop()
		_ = os.Remove(p.logPath)
	}
}

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop asks the process to shut down (SIGTERM), and kills it when it has not exited after 15 seconds. It
// returns an error when the process had to be killed or had already died.
func (p *proc) stop() error {
	var err error
	p.stopOnce.Do(func() {
		if p.exited() {
			err = fmt.Errorf("%s had exited before it was stopped: %v", p.name, p.waitErr)
			return
		}
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(15 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
			err = fmt.Errorf("%s did not stop within 15s of SIGTERM and was killed", p.name)
		}
	})
	return err
}

// logText returns the process's output so far.
func (p *proc) logText() string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return fmt.Sprintf("(cannot read the log of %s: %v)", p.name, err)
	}
	return string(b)
}

// logTail returns the last n lines of the process's output.
func (p *proc) logTail(n int) string {
	lines := strings.Split(strings.TrimRight(p.logText(), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// peakRSS returns the process's peak resident set size (VmHWM of /proc/<pid>/status) in bytes.
func (p *proc) peakRSS() (int64, error) {
	if p.exited() {
		return 0, fmt.Errorf("%s exited before its peak RSS could be read", p.name)
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
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
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	return addr, nil
}

// waitReady polls url until it answers 200, the process exits, ctx ends or timeout passes.
func waitReady(ctx context.Context, p *proc, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{Proxy: nil}}
	defer client.CloseIdleConnections()
	last := "no answer yet"
	for {
		if p.exited() {
			return fmt.Errorf("%s exited while starting (%v); its last output:\n%s", p.name, p.waitErr, indent(p.logTail(20), "    "))
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
		resp, err := client.Do(req)
		if err == nil {
			body := readSome(resp)
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("HTTP %d %s", resp.StatusCode, body)
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("%s not ready after %v (%s): last answer %s; its last output:\n%s", p.name, timeout, url, last,
					indent(p.logTail(20), "    "))
			}
			return fmt.Errorf("%s: %w", p.name, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// childEnv returns this process's environment without the variables that configure wagate (so that a
// developer's own WAGATE_* or provider credentials cannot leak into the measured server), plus extra.
func childEnv(extra ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "WAGATE_") || strings.HasPrefix(k, "WHATSAPP_") || strings.HasPrefix(k, "THREESIXTY_") || k == "PORT" {
			continue
		}
		out = append(out, kv)
	}
	return append(out, extra...)
}

// clockTick is the unit of the CPU times in /proc/<pid>/stat (USER_HZ, 100 on every Linux architecture Go
// supports).
const clockTick = 10 * time.Millisecond

// cpuTime returns the user plus system CPU time the process has used (from /proc/<pid>/stat).
func (p *proc) cpuTime() (time.Duration, error) {
	if p.exited() {
		return 0, fmt.Errorf("%s has exited", p.name)
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
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
