package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// front is an HTTP server on a fixed loopback address in front of a handler (the fake provider, a
// subscriber), which a drill takes down in two ways: answering 503 to everything, or refusing connections (its
// listener closed, as when the service is not running), and brings back up on the same address.
type front struct {
	addr     string
	h        http.Handler
	failing  atomic.Bool
	inflight atomic.Int64 // requests being answered by h

	mu  sync.Mutex
	srv *http.Server // nil while refusing
}

// frontState names the states of a front.
const (
	frontUp      = "up"
	frontFailing = "answering 503"
	frontRefused = "refusing connections"
)

func newFront(h http.Handler) (*front, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("front: %w", err)
	}
	f := &front{addr: ln.Addr().String(), h: h}
	f.serve(ln)
	return f, nil
}

// URL is the front's base URL.
func (f *front) URL() string { return "http://" + f.addr }

func (f *front) serve(ln net.Listener) {
	srv := &http.Server{Handler: http.HandlerFunc(f.handle), ReadHeaderTimeout: 10 * time.Second}
	f.srv = srv
	go func() { _ = srv.Serve(ln) }()
}

func (f *front) handle(w http.ResponseWriter, r *http.Request) {
	if f.failing.Load() {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"error":"Service Unavailable"}`))
		return
	}
	f.inflight.Add(1)
	defer f.inflight.Add(-1)
	f.h.ServeHTTP(w, r)
}

// set moves the front to state: frontUp, frontFailing or frontRefused.
func (f *front) set(state string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch state {
	case frontFailing:
		f.failing.Store(true)
		return f.listenLocked()
	case frontRefused:
		f.failing.Store(false)
		if f.srv != nil {
			err := f.srv.Close() // closes the listener and every connection
			f.srv = nil
			if err != nil {
				return fmt.Errorf("front: close: %w", err)
			}
		}
		return nil
	case frontUp:
		f.failing.Store(false)
		return f.listenLocked()
	}
	return fmt.Errorf("front: unknown state %q", state)
}

// listenLocked listens on the front's address again after a refusal (retrying for a while: the port may be in
// a short TIME_WAIT state).
func (f *front) listenLocked() error {
	if f.srv != nil {
		return nil
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		ln, err := net.Listen("tcp", f.addr)
		if err == nil {
			f.serve(ln)
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("front: listen on %s again: %w", f.addr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (f *front) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.srv != nil {
		_ = f.srv.Close()
		f.srv = nil
	}
}

// outage takes f down for d: answering 503 for the first half, refusing connections for the second, then up
// again. It returns when f is back up.
func (f *front) outage(stop <-chan struct{}, d time.Duration) error {
	if err := f.set(frontFailing); err != nil {
		return err
	}
	wait := func(d time.Duration) error {
		select {
		case <-time.After(d):
			return nil
		case <-stop:
			return errors.New("interrupted")
		}
	}
	werr := wait(d / 2)
	if err := f.set(frontRefused); err != nil {
		return err
	}
	if werr == nil {
		werr = wait(d - d/2)
	}
	if err := f.set(frontUp); err != nil {
		return err
	}
	return werr
}
