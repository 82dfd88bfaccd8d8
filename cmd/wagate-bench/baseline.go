package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// baselineCommand is the hidden subcommand that runs the baseline server: wagate-bench re-executes itself with
// it, so that the baseline is a process of its own, like wagate, and both pay the same for process separation.
const baselineCommand = "baseline"

// baselineHandler is the least any webhook receiver does: read the body, decode its JSON and answer 200.
func baselineHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var v map[string]any
		if _, ok := decodeBody(w, r, &v); !ok {
			return
		}
		answerOK(w)
	})
}

// decodeBody reads r's body and decodes its JSON into v; on failure it answers 400 and returns false.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) ([]byte, bool) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, `{"ok":false,"error":"could not read the body"}`, http.StatusBadRequest)
		return nil, false
	}
	if err := json.Unmarshal(body, v); err != nil {
		http.Error(w, `{"ok":false,"error":"body is not a JSON object"}`, http.StatusBadRequest)
		return nil, false
	}
	return body, true
}

// answerOK writes the baseline's answer.
func answerOK(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"ok":true}`+"\n")
}

// runBaseline serves baselineHandler on 127.0.0.1:0 (or the address given as the only argument), prints
// "listening <addr>" on stdout and serves until SIGTERM or SIGINT.
func runBaseline(args []string, stdout, stderr io.Writer) int {
	if len(args) > 1 {
		fmt.Fprintln(stderr, "usage: wagate-bench baseline [addr]")
		return 2
	}
	return serveChild("baseline", baselineHandler(), args, stdout, stderr)
}

// serveChild serves h for a child server named name on 127.0.0.1:0 (or the address args[0]), prints
// "listening <addr>" on stdout and serves until SIGTERM or SIGINT.
func serveChild(name string, h http.Handler, args []string, stdout, stderr io.Writer) int {
	addr := "127.0.0.1:0"
	if len(args) == 1 {
		addr = args[0]
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The same server timeouts as wagate's, so that the servers differ only in what their handlers do.
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "listening %s\n", ln.Addr())
	select {
	case <-ctx.Done():
	case err := <-errc:
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		fmt.Fprintf(stderr, "%s: shutdown: %v\n", name, err)
		return 1
	}
	return 0
}

// startBaseline starts the baseline server as a child process and returns it with its base URL.
func (e *Env) startBaseline(ctx context.Context) (*proc, string, error) {
	return e.startChild(ctx, "baseline", []string{baselineCommand})
}

// startChild starts wagate-bench itself with args (a hidden subcommand that serves HTTP) as the child process
// name, and returns it with its base URL once it listens.
func (e *Env) startChild(ctx context.Context, name string, args []string) (*proc, string, error) {
	p, err := e.procs.start(name, e.Self, args, childEnv())
	if err != nil {
		return nil, "", err
	}
	// The child writes to its log file; wait for its "listening" line there.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if addr, ok := listeningAddr(p.logText()); ok {
			// It listens before it prints the line: it is ready.
			return p, "http://" + addr, nil
		}
		if p.exited() {
			return nil, "", fmt.Errorf("%s exited while starting (%v): %s", name, p.Err(), p.logTail(20))
		}
		if time.Now().After(deadline) {
			_ = p.stop()
			return nil, "", fmt.Errorf("%s did not print its address within 10s", name)
		}
		select {
		case <-ctx.Done():
			_ = p.stop()
			return nil, "", fmt.Errorf("%s: %w", name, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func listeningAddr(out string) (string, bool) {
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if a, ok := strings.CutPrefix(sc.Text(), "listening "); ok {
			return strings.TrimSpace(a), true
		}
	}
	return "", false
}
