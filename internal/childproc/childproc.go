// Package childproc runs servers as child processes for the harnesses that measure and break wagate from the
// outside (wagate-bench, wagate-faults): each child writes its output to a log file, can be stopped politely
// (SIGTERM) or killed (SIGKILL, as a crash or the OOM killer would), and is killed by the kernel if the harness
// itself dies (on Linux).
package childproc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// StopTimeout is how long Stop waits after SIGTERM before it kills the process.
const StopTimeout = 15 * time.Second

// Proc is a server started as a child process. Its stdout and stderr go to a log file.
type Proc struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed when the process has exited
	waitErr error

	stopOnce sync.Once
}

// Start starts name (a label for messages) from the binary at path with args and env (the whole environment of
// the child), writing its output to a new log file in the temporary directory.
func Start(name, path string, args, env []string) (*Proc, error) {
	logf, err := os.CreateTemp("", "wagate-"+name+"-*.log")
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
	p := &Proc{name: name, cmd: cmd, logPath: logf.Name(), done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Name is the label the process was started with.
func (p *Proc) Name() string { return p.name }

// Pid is the process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// LogPath is the file holding the process's output.
func (p *Proc) LogPath() string { return p.logPath }

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Err is how the process ended (exec.Cmd.Wait's result); nil while it runs.
func (p *Proc) Err() error {
	if !p.Exited() {
		return nil
	}
	return p.waitErr
}

// Stop asks the process to shut down (SIGTERM), and kills it when it has not exited after StopTimeout. It
// returns an error when the process had to be killed or had already died. Only the first Stop or Kill acts.
func (p *Proc) Stop() error {
	var err error
	p.stopOnce.Do(func() {
		if p.Exited() {
			err = fmt.Errorf("%s had exited before it was stopped: %v", p.name, p.waitErr)
			return
		}
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(StopTimeout):
			_ = p.cmd.Process.Kill()
			<-p.done
			err = fmt.Errorf("%s did not stop within %v of SIGTERM and was killed", p.name, StopTimeout)
		}
	})
	return err
}

// Kill sends SIGKILL and waits until the process is gone (at most 10 seconds). It returns an error when the
// process had already exited or did not die.
func (p *Proc) Kill() error {
	err := fmt.Errorf("%s was already stopped", p.name)
	p.stopOnce.Do(func() {
		if p.Exited() {
			err = fmt.Errorf("%s had exited before it was killed: %v", p.name, p.waitErr)
			return
		}
		err = nil
		if kerr := p.cmd.Process.Signal(syscall.SIGKILL); kerr != nil && !p.Exited() {
			err = fmt.Errorf("kill %s: %w", p.name, kerr)
			return
		}
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			err = fmt.Errorf("%s still running 10s after SIGKILL", p.name)
		}
	})
	return err
}

// LogText returns the process's output so far.
func (p *Proc) LogText() string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return fmt.Sprintf("(cannot read the log of %s: %v)", p.name, err)
	}
	return string(b)
}

// LogTail returns the last n lines of the process's output.
func (p *Proc) LogTail(n int) string {
	lines := strings.Split(strings.TrimRight(p.LogText(), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// RemoveLog deletes the log file.
func (p *Proc) RemoveLog() { _ = os.Remove(p.logPath) }

// Set is a set of running children, stopped together when the harness ends (also on an error or an
// interrupt).
type Set struct {
	mu   sync.Mutex
	list []*Proc
}

// Start starts a child (see Start) and adds it to the set.
func (s *Set) Start(name, path string, args, env []string) (*Proc, error) {
	p, err := Start(name, path, args, env)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.list = append(s.list, p)
	s.mu.Unlock()
	return p, nil
}

// StopAll stops every child still running and removes the log files.
func (s *Set) StopAll() {
	s.mu.Lock()
	list := s.list
	s.list = nil
	s.mu.Unlock()
	for _, p := range list {
		_ = p.Stop()
		p.RemoveLog()
	}
}

// FreeAddr returns a loopback address with a port that was free a moment ago.
func FreeAddr() (string, error) {
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

// WaitReady polls url until it answers 200, the process exits, ctx ends or timeout passes.
func WaitReady(ctx context.Context, p *Proc, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{Proxy: nil}}
	defer client.CloseIdleConnections()
	last := "no answer yet"
	for {
		if p.Exited() {
			return fmt.Errorf("%s exited while starting (%v); its last output:\n%s", p.name, p.waitErr, Indent(p.LogTail(20), "    "))
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
		resp, err := client.Do(req)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("HTTP %d %s", resp.StatusCode, strings.TrimSpace(string(body)))
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("%s not ready after %v (%s): last answer %s; its last output:\n%s", p.name, timeout, url, last,
					Indent(p.LogTail(20), "    "))
			}
			return fmt.Errorf("%s: %w", p.name, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Env returns this process's environment without the variables that configure wagate (so that a developer's
// own WAGATE_* or provider credentials cannot leak into a child), plus extra ("NAME=value" each).
func Env(extra ...string) []string {
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

// Indent prefixes every line of s with prefix.
func Indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}

// Attach wraps a running process that was not started by Start (for example the harness itself), so that code
// reading a Proc's figures can read its. Such a Proc never reports Exited, and has no log.
func Attach(name string, process *os.Process) *Proc {
	return &Proc{name: name, cmd: &exec.Cmd{Process: process}, logPath: os.DevNull, done: make(chan struct{})}
}
