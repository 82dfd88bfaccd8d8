package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// server starts an httptest server on 127.0.0.1 with h, and counts the TCP connections it accepts.
func server(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(h)
	srv.Listener = ln
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

// seen records the request ids a handler received, failing on a duplicate.
type seen struct {
	mu  sync.Mutex
	ids map[int]bool
	dup int
}

func (s *seen) handler(delay time.Duration) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var v struct{ ID int }
		b, err := io.ReadAll(r.Body)
		if err == nil {
			err = json.Unmarshal(b, &v)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		if s.ids == nil {
			s.ids = map[int]bool{}
		}
		if s.ids[v.ID] {
			s.dup++
		}
		s.ids[v.ID] = true
		s.mu.Unlock()
		if delay > 0 {
			time.Sleep(delay)
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"ok":true,"id":%d}`, v.ID)
	}
}

func body(i int) []byte { return []byte(`{"id":` + strconv.Itoa(i) + `}`) }

func TestClosedLoop(t *testing.T) {
	var s seen
	srv, conns := server(t, s.handler(0))
	const clients = 8
	res, err := ClosedLoop(context.Background(), Config{
		URL: srv.URL, Body: body, Clients: clients, Warmup: 100 * time.Millisecond, Duration: 300 * time.Millisecond,
		First: 1000,
		Check: func(i, status int, b []byte) error {
			if want := fmt.Sprintf(`{"ok":true,"id":%d}`, i); string(b) != want {
				return fmt.Errorf("answer %s, want %s", b, want)
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !res.AllOK() {
		t.Fatalf("errors: %s", res.ErrorSummary())
	}
	if res.OK < 50 || res.Rate <= 0 {
		t.Fatalf("implausible result: %+v", res)
	}
	if res.WarmupOK == 0 {
		t.Errorf("no warm-up requests: %+v", res)
	}
	if got := res.OK + res.WarmupOK; got != res.Issued {
		t.Errorf("ok %d + warm-up %d != issued %d", res.OK, res.WarmupOK, res.Issued)
	}
	if s.dup != 0 || len(s.ids) != res.Issued {
		t.Errorf("server saw %d distinct ids and %d duplicates, want %d distinct", len(s.ids), s.dup, res.Issued)
	}
	for id := range s.ids {
		if id < 1000 || id >= 1000+res.Issued {
			t.Errorf("id %d outside [1000, %d)", id, 1000+res.Issued)
			break
		}
	}
	if res.Elapsed < 250*time.Millisecond || res.Elapsed > time.Second {
		t.Errorf("elapsed %v, want about 300ms", res.Elapsed)
	}
	if !(res.P50 > 0 && res.P50 <= res.P99 && res.P99 <= res.Max) {
		t.Errorf("latencies out of order: p50 %v p99 %v max %v", res.P50, res.P99, res.Max)
	}
	// The transport may dial a spare connection at the start (a dial that loses the race to a freed one), but
	// thousands of requests must not open more than a few per client.
	if n := conns.Load(); n > 2*clients {
		t.Errorf("%d connections for %d clients: connections were not reused", n, clients)
	}
}

func TestClosedLoopCountsErrors(t *testing.T) {
	var n atomic.Int64
	srv, _ := server(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		switch n.Add(1) % 4 {
		case 0:
			w.Header().Set("Retry-After", "5")
			http.Error(w, `{"error":"busy"}`, http.StatusServiceUnavailable)
		case 1:
			fmt.Fprint(w, `{"ok":false}`)
		default:
			fmt.Fprint(w, `{"ok":true}`)
		}
	})
	res, err := ClosedLoop(context.Background(), Config{
		URL: srv.URL, Body: body, Clients: 4, Duration: 300 * time.Millisecond,
		Check: func(_, _ int, b []byte) error {
			if !strings.Contains(string(b), `"ok":true`) {
				return errors.New(`no "ok":true`)
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors == 0 || res.AllOK() {
		t.Fatalf("errors not counted: %+v", res)
	}
	kinds := map[string]ErrorCount{}
	for _, e := range res.ErrorKinds {
		kinds[e.Kind] = e
	}
	if kinds["HTTP 503"].Count == 0 || !strings.Contains(kinds["HTTP 503"].Example, "busy") {
		t.Errorf("503s not reported with an example: %+v", res.ErrorKinds)
	}
	if kinds["check"].Count == 0 {
		t.Errorf("check failures not reported: %+v", res.ErrorKinds)
	}
	if sum := kinds["HTTP 503"].Count + kinds["check"].Count; sum != res.Errors+res.WarmupErrors {
		t.Errorf("error kinds add up to %d, want %d", sum, res.Errors)
	}
	// About half the answers are errors.
	if res.OK == 0 || res.Errors < res.Requests/4 {
		t.Errorf("ok %d errors %d of %d", res.OK, res.Errors, res.Requests)
	}
	if !strings.Contains(res.ErrorSummary(), "HTTP 503") {
		t.Errorf("summary: %q", res.ErrorSummary())
	}
}

func TestClosedLoopTransportErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there now
	res, err := ClosedLoop(context.Background(), Config{URL: url, Body: body, Clients: 2, Duration: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.OK != 0 || res.Errors == 0 || len(res.ErrorKinds) != 1 || res.ErrorKinds[0].Kind != "transport" {
		t.Fatalf("refused connections not reported as transport errors: %+v", res)
	}
}

func TestOpenLoop(t *testing.T) {
	var s seen
	srv, _ := server(t, s.handler(2*time.Millisecond))
	const rate = 500
	res, err := OpenLoop(context.Background(), Config{
		URL: srv.URL, Body: body, Rate: rate, Warmup: 100 * time.Millisecond, Duration: 300 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !res.AllOK() {
		t.Fatalf("errors: %s", res.ErrorSummary())
	}
	// 400ms at 500/s: 200 requests, 150 of them measured.
	if res.Issued != 200 || res.OK != 150 || res.WarmupOK != 50 {
		t.Errorf("issued %d ok %d warm-up %d, want 200, 150, 50", res.Issued, res.OK, res.WarmupOK)
	}
	if s.dup != 0 || len(s.ids) != res.Issued {
		t.Errorf("server saw %d distinct ids and %d duplicates", len(s.ids), s.dup)
	}
	if res.Rate < rate*0.8 || res.Rate > rate*1.2 {
		t.Errorf("rate %.0f/s, want about %d/s", res.Rate, rate)
	}
	if res.TargetRate != rate {
		t.Errorf("target rate %v", res.TargetRate)
	}
	if res.P50 < 2*time.Millisecond || res.P50 > res.P99 {
		t.Errorf("p50 %v p99 %v: want p50 at least the handler's 2ms", res.P50, res.P99)
	}
}

// TestOpenLoopNoCoordinatedOmission stalls the server once for 200ms: requests scheduled during the stall must
// be charged for it, so the p99 shows the stall even though few requests were sent during it.
func TestOpenLoopNoCoordinatedOmission(t *testing.T) {
	var stalled atomic.Bool
	gate := make(chan struct{})
	srv, _ := server(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if stalled.CompareAndSwap(false, true) {
			time.Sleep(200 * time.Millisecond)
			close(gate)
		}
		<-gate
		fmt.Fprint(w, `{"ok":true}`)
	})
	res, err := OpenLoop(context.Background(), Config{
		URL: srv.URL, Body: body, Rate: 200, Duration: 500 * time.Millisecond, MaxInFlight: 4,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !res.AllOK() {
		t.Fatalf("errors: %s", res.ErrorSummary())
	}
	// With 4 in flight the generator itself is held back: the requests it could not send on time are late, and
	// the ~40 requests scheduled in the first 200ms saw latencies from ~0 to 200ms.
	if res.Late == 0 {
		t.Errorf("no late sends reported while the server stalled: %+v", res)
	}
	if res.P99 < 150*time.Millisecond {
		t.Errorf("p99 %v hides the 200ms stall (coordinated omission)", res.P99)
	}
	if res.P50 > 150*time.Millisecond {
		t.Errorf("p50 %v: most requests came after the stall", res.P50)
	}
}

func TestCancel(t *testing.T) {
	srv, _ := server(t, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "{}") })
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := ClosedLoop(ctx, Config{URL: srv.URL, Body: body, Duration: 10 * time.Second}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("closed loop: err %v", err)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel2()
	if _, err := OpenLoop(ctx2, Config{URL: srv.URL, Body: body, Rate: 100, Duration: 10 * time.Second}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("open loop: err %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	for name, cfg := range map[string]Config{
		"no url":      {Body: body, Duration: time.Second, Rate: 1},
		"no body":     {URL: "http://127.0.0.1:1", Duration: time.Second, Rate: 1},
		"no duration": {URL: "http://127.0.0.1:1", Body: body, Rate: 1},
	} {
		if _, err := ClosedLoop(context.Background(), cfg); err == nil {
			t.Errorf("%s: closed loop accepted it", name)
		}
		if _, err := OpenLoop(context.Background(), cfg); err == nil {
			t.Errorf("%s: open loop accepted it", name)
		}
	}
	if _, err := OpenLoop(context.Background(), Config{URL: "http://127.0.0.1:1", Body: body, Duration: time.Second}); err == nil {
		t.Error("open loop without a rate accepted")
	}
}

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i))
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{50, 50}, {99, 99}, {100, 100}, {1, 1}, {0.5, 1}} {
		if got := Percentile(d, c.p); got != c.want {
			t.Errorf("p%v = %v, want %v", c.p, got, c.want)
		}
	}
	if Percentile(nil, 50) != 0 {
		t.Error("empty")
	}
	if got := Percentile([]time.Duration{7}, 99); got != 7 {
		t.Errorf("single: %v", got)
	}
}

func TestMerge(t *testing.T) {
	a := Result{Requests: 3, OK: 2, Errors: 1, Issued: 4, WarmupOK: 1, Elapsed: time.Second,
		Latencies: []time.Duration{1, 5}, ErrorKinds: []ErrorCount{{Kind: "HTTP 503", Count: 1, Example: "a"}}}
	b := Result{Requests: 2, OK: 2, Issued: 2, Elapsed: time.Second, Latencies: []time.Duration{2, 100},
		ErrorKinds: []ErrorCount{{Kind: "HTTP 503", Count: 2, Example: "b"}, {Kind: "check", Count: 1}}}
	m := Merge(a, b)
	if m.Requests != 5 || m.OK != 4 || m.Errors != 1 || m.Issued != 6 || m.WarmupOK != 1 || m.Elapsed != 2*time.Second || m.Rate != 2 {
		t.Errorf("%+v", m)
	}
	if fmt.Sprint(m.Latencies) != "[1ns 2ns 5ns 100ns]" || m.P50 != 2 || m.P99 != 100 || m.Max != 100 {
		t.Errorf("latencies %v p50 %v p99 %v max %v", m.Latencies, m.P50, m.P99, m.Max)
	}
	if len(m.ErrorKinds) != 2 || m.ErrorKinds[0] != (ErrorCount{Kind: "HTTP 503", Count: 3, Example: "a"}) {
		t.Errorf("kinds %+v", m.ErrorKinds)
	}
	if a.ErrorKinds[0].Count != 1 {
		t.Error("Merge modified its input")
	}
}

func TestClosedLoopSpreadsOverURLs(t *testing.T) {
	t.Parallel()
	var a, b atomic.Int64
	srvA, _ := server(t, func(w http.ResponseWriter, r *http.Request) { a.Add(1) })
	srvB, _ := server(t, func(w http.ResponseWriter, r *http.Request) { b.Add(1) })
	res, err := ClosedLoop(context.Background(), Config{URLs: []string{srvA.URL, srvB.URL}, Body: body, Clients: 4,
		Duration: 200 * time.Millisecond})
	if err != nil || !res.AllOK() {
		t.Fatalf("%v %s", err, res.ErrorSummary())
	}
	if a.Load() == 0 || b.Load() == 0 || a.Load()-b.Load() > 4 || b.Load()-a.Load() > 4 {
		t.Fatalf("requests not spread evenly: %d and %d", a.Load(), b.Load())
	}
}

func TestMarkerIndex(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		body string
		want int
		ok   bool
	}{
		{`{"text":{"body":"Ref. wgb-ab12-417 ok"}}`, 417, true},
		{`{"text":{"body":"Ref. wgb-ab12-0"}}`, 0, true},
		{`{"text":{"body":"Ref. wgb-ab12-"}}`, 0, false},
		{`{"text":{"body":"Ref. wgb-cd34-417"}}`, 0, false},
	} {
		got, ok := MarkerIndex([]byte(c.body), "wgb-ab12-")
		if got != c.want || ok != c.ok {
			t.Errorf("MarkerIndex(%s) = %d, %v; want %d, %v", c.body, got, ok, c.want, c.ok)
		}
	}
	if a, b := RunID(), RunID(); len(a) != 8 || a == b {
		t.Errorf("RunID gave %q and %q: want two different 8-digit ids", a, b)
	}
}
