// Package loadgen is an HTTP load generator for benchmarks over loopback. It posts a distinct body per request
// to one URL, either in a closed loop (a fixed number of clients, each sending its next request as soon as the
// previous one is answered: the highest rate the server sustains) or in an open loop (requests sent on a fixed
// schedule whatever the server does, with latency measured from each request's scheduled time, so that a
// server that stalls is charged for the requests it delayed: no coordinated omission).
//
// Every answer that is not 2xx, every answer a Check rejects and every transport error is counted as an error
// and reported by kind, with an example; nothing is dropped silently.
package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// BodyFunc returns the body of the request with index i. Indexes are distinct within a run (from Config.First
// up), so a BodyFunc that derives unique ids from i makes every request distinct.
type BodyFunc func(i int) []byte

// CheckFunc inspects a 2xx answer to the request with index i; a non-nil error counts the request as an error.
type CheckFunc func(i int, status int, body []byte) error

// Config describes a run.
type Config struct {
	// URL receives every request, by POST.
	URL string
	// URLs, when set, spread the requests over several servers instead: request i goes to URLs[i%len(URLs)].
	URLs []string
	// ContentType is the Content-Type of the requests; default "application/json".
	ContentType string
	// Header holds extra request headers; may be nil.
	Header http.Header
	// Body produces each request's body. Required.
	Body BodyFunc
	// Check, when set, validates each 2xx answer.
	Check CheckFunc
	// First is the index of the first request (warm-up included); Result.Issued says how many were used.
	First int
	// Clients is the number of concurrent workers of a closed loop (default 1), and the connection pool size.
	Clients int
	// Rate is the open loop's request rate per second. Required by OpenLoop.
	Rate float64
	// MaxInFlight bounds the open loop's concurrent requests (default 1024). When it is reached, sending waits;
	// the wait counts in the latency, which is measured from the scheduled time.
	MaxInFlight int
	// Warmup is run first and not measured (its errors are still counted in Result.WarmupErrors).
	Warmup time.Duration
	// Duration is the measured time. Required.
	Duration time.Duration
	// Timeout bounds one request (default 30s).
	Timeout time.Duration
	// Client sends the requests; default a client from NewClient(Clients or MaxInFlight), closed at the end.
	Client *http.Client

	ownClient bool
}

// ErrorCount is one kind of error and how often it occurred.
type ErrorCount struct {
	Kind    string // e.g. "HTTP 503", "check", "transport"
	Count   int
	Example string // the first answer body or error message of this kind, shortened
}

// Result is what a run measured. Rates and latencies cover the measured part only.
type Result struct {
	// Requests, OK and Errors count the measured requests: Requests = OK + Errors.
	Requests, OK, Errors int
	// WarmupOK and WarmupErrors count the warm-up's requests.
	WarmupOK, WarmupErrors int
	// Issued is the number of indexes used (warm-up included): the next run can start at First+Issued.
	Issued int
	// Elapsed is the measured wall time: from the end of the warm-up to the last measured answer.
	Elapsed time.Duration
	// Rate is OK requests per second over Elapsed.
	Rate float64
	// TargetRate is the open loop's configured rate (0 for a closed loop).
	TargetRate float64
	// P50, P99 and Max are latencies of the measured OK requests; in an open loop measured from each request's
	// scheduled send time.
	P50, P99, Max time.Duration
	// Late counts open-loop requests sent more than 1ms after their scheduled time (the generator or the
	// in-flight bound could not keep up); their delay is included in the latencies.
	Late int
	// ErrorKinds lists the measured and warm-up errors by kind, most frequent first.
	ErrorKinds []ErrorCount
	// Latencies are the latencies of the measured OK requests, sorted: P50, P99 and Max come from them, and
	// Merge combines them exactly.
	Latencies []time.Duration
}

// Merge combines the results of several runs (e.g. rounds of one closed loop) as if they were one: counts and
// measured times add up, the rate is the OK requests over the total measured time, and the percentiles are
// those of all the latencies together.
func Merge(rs ...Result) Result {
	var m Result
	kinds := map[string]*ErrorCount{}
	for _, r := range rs {
		m.Requests += r.Requests
		m.OK += r.OK
		m.Errors += r.Errors
		m.WarmupOK += r.WarmupOK
		m.WarmupErrors += r.WarmupErrors
		m.Issued += r.Issued
		m.Elapsed += r.Elapsed
		m.Late += r.Late
		m.TargetRate = r.TargetRate
		m.Latencies = append(m.Latencies, r.Latencies...)
		for _, e := range r.ErrorKinds {
			if k := kinds[e.Kind]; k != nil {
				k.Count += e.Count
			} else {
				c := e
				kinds[e.Kind] = &c
			}
		}
	}
	if m.Elapsed > 0 {
		m.Rate = float64(m.OK) / m.Elapsed.Seconds()
	}
	slices.Sort(m.Latencies)
	m.setLatencies()
	m.ErrorKinds = sortKinds(kinds)
	return m
}

func (r *Result) setLatencies() {
	r.P50, r.P99, r.Max = Percentile(r.Latencies, 50), Percentile(r.Latencies, 99), 0
	if n := len(r.Latencies); n > 0 {
		r.Max = r.Latencies[n-1]
	}
}

func sortKinds(kinds map[string]*ErrorCount) []ErrorCount {
	var out []ErrorCount
	for _, e := range kinds {
		out = append(out, *e)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		return a.Kind < b.Kind
	})
	return out
}

// AllOK reports whether every request, warm-up included, succeeded.
func (r Result) AllOK() bool { return r.Errors == 0 && r.WarmupErrors == 0 }

// ErrorSummary describes the errors in one line per kind, or "" when there were none.
func (r Result) ErrorSummary() string {
	var b strings.Builder
	for _, e := range r.ErrorKinds {
		fmt.Fprintf(&b, "%d × %s", e.Count, e.Kind)
		if e.Example != "" {
			fmt.Fprintf(&b, " (e.g. %s)", e.Example)
		}
		b.WriteByte('\n')
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// NewClient returns a client whose transport keeps up to conns idle connections to one host, so that conns
// concurrent workers reuse their connections instead of opening new ones.
func NewClient(conns int) *http.Client {
	if conns < 1 {
		conns = 1
	}
	tr := &http.Transport{
		Proxy:               nil, // loopback only: never through a proxy from the environment
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	return &http.Client{Transport: tr}
}

func (c *Config) defaults(open bool) error {
	if c.URL == "" && len(c.URLs) == 0 {
		return errors.New("loadgen: no URL")
	}
	if c.Body == nil {
		return errors.New("loadgen: no Body func")
	}
	if c.Duration <= 0 {
		return errors.New("loadgen: Duration must be positive")
	}
	if c.Warmup < 0 {
		return errors.New("loadgen: Warmup must not be negative")
	}
	if c.ContentType == "" {
		c.ContentType = "application/json"
	}
	if c.Clients < 1 {
		c.Clients = 1
	}
	if c.MaxInFlight < 1 {
		c.MaxInFlight = 1024
	}
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
	if open && !(c.Rate > 0) {
		return errors.New("loadgen: Rate must be positive for an open loop")
	}
	if c.Client == nil {
		n := c.Clients
		if open {
			n = c.MaxInFlight
		}
		c.Client = NewClient(n)
		c.ownClient = true
	}
	return nil
}

// release closes the idle connections of a client the run made itself.
func (c *Config) release() {
	if c.ownClient {
		c.Client.CloseIdleConnections()
	}
}

// outcome is one request's result.
type outcome struct {
	ok      bool
	kind    string
	example string
}

// do sends request i and classifies the answer.
func (c *Config) do(ctx context.Context, i int) outcome {
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	body := c.Body(i)
	url := c.URL
	if len(c.URLs) > 0 {
		url = c.URLs[i%len(c.URLs)]
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return outcome{kind: "request", example: err.Error()}
	}
	req.Header.Set("Content-Type", c.ContentType)
	for k, v := range c.Header {
		req.Header[k] = v
	}
	resp, err := c.Client.Do(req)
	if err != nil {
		return outcome{kind: "transport", example: err.Error()}
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return outcome{kind: "transport", example: "reading the answer: " + err.Error()}
	}
	_, _ = io.Copy(io.Discard, resp.Body) // drain any rest so the connection is reused
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return outcome{kind: fmt.Sprintf("HTTP %d", resp.StatusCode), example: shorten(answer)}
	}
	if c.Check != nil {
		if err := c.Check(i, resp.StatusCode, answer); err != nil {
			return outcome{kind: "check", example: err.Error() + ": " + shorten(answer)}
		}
	}
	return outcome{ok: true}
}

func shorten(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// tally collects outcomes; one per worker, merged at the end, so that workers do not contend.
type tally struct {
	ok, errs         int
	warmOK, warmErrs int
	late             int
	lat              []time.Duration
	kinds            map[string]*ErrorCount
	lastDone         time.Time
}

func (t *tally) add(o outcome, warm bool, lat time.Duration, done time.Time) {
	if !o.ok {
		if t.kinds == nil {
			t.kinds = map[string]*ErrorCount{}
		}
		e := t.kinds[o.kind]
		if e == nil {
			e = &ErrorCount{Kind: o.kind, Example: o.example}
			t.kinds[o.kind] = e
		}
		e.Count++
	}
	if warm {
		if o.ok {
			t.warmOK++
		} else {
			t.warmErrs++
		}
		return
	}
	if done.After(t.lastDone) {
		t.lastDone = done
	}
	if o.ok {
		t.ok++
		t.lat = append(t.lat, lat)
	} else {
		t.errs++
	}
}

func merge(ts []*tally, measureStart time.Time, issued int) Result {
	var r Result
	kinds := map[string]*ErrorCount{}
	var lat []time.Duration
	var last time.Time
	for _, t := range ts {
		r.OK += t.ok
		r.Errors += t.errs
		r.WarmupOK += t.warmOK
		r.WarmupErrors += t.warmErrs
		r.Late += t.late
		lat = append(lat, t.lat...)
		if t.lastDone.After(last) {
			last = t.lastDone
		}
		for k, e := range t.kinds {
			if m := kinds[k]; m != nil {
				m.Count += e.Count
			} else {
				c := *e
				kinds[k] = &c
			}
		}
	}
	r.Requests = r.OK + r.Errors
	r.Issued = issued
	if !last.IsZero() && last.After(measureStart) {
		r.Elapsed = last.Sub(measureStart)
		r.Rate = float64(r.OK) / r.Elapsed.Seconds()
	}
	slices.Sort(lat)
	r.Latencies = lat
	r.setLatencies()
	r.ErrorKinds = sortKinds(kinds)
	return r
}

// Percentile returns the p-th percentile (0 < p <= 100) of sorted by the nearest-rank method, 0 when sorted is
// empty.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	rank := int(p/100*float64(n) + 0.999999999)
	rank = max(1, min(n, rank))
	return sorted[rank-1]
}

// ClosedLoop runs cfg.Clients workers, each posting its next request as soon as the previous one is answered,
// for cfg.Warmup and then cfg.Duration. A request counts in the measurement when it was started after the
// warm-up; the measured time runs from the end of the warm-up to the last measured answer. It returns an error
// only for a bad configuration or a cancelled ctx; failed requests are counted in the Result.
func ClosedLoop(ctx context.Context, cfg Config) (Result, error) {
	if err := cfg.defaults(false); err != nil {
		return Result{}, err
	}
	defer cfg.release()
	start := time.Now()
	measureStart := start.Add(cfg.Warmup)
	end := measureStart.Add(cfg.Duration)
	var next atomic.Int64
	next.Store(int64(cfg.First))
	tallies := make([]*tally, cfg.Clients)
	var wg sync.WaitGroup
	for w := range tallies {
		t := &tally{lat: make([]time.Duration, 0, 1024)}
		tallies[w] = t
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				sent := time.Now()
				if !sent.Before(end) {
					return
				}
				i := int(next.Add(1) - 1)
				o := cfg.do(ctx, i)
				done := time.Now()
				if ctx.Err() != nil {
					return
				}
				t.add(o, sent.Before(measureStart), done.Sub(sent), done)
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("loadgen: closed loop interrupted: %w", err)
	}
	return merge(tallies, measureStart, int(next.Load())-cfg.First), nil
}

// OpenLoop sends requests at cfg.Rate per second on a fixed schedule for cfg.Warmup and then cfg.Duration,
// whatever the server does, with at most cfg.MaxInFlight outstanding. Each latency runs from the request's
// scheduled time to its answer, so delays caused by a slow server are charged even to the requests it held
// back. Requests scheduled after the warm-up are measured. Errors are as for ClosedLoop.
func OpenLoop(ctx context.Context, cfg Config) (Result, error) {
	if err := cfg.defaults(true); err != nil {
		return Result{}, err
	}
	defer cfg.release()
	interval := time.Duration(float64(time.Second) / cfg.Rate)
	if interval <= 0 {
		return Result{}, fmt.Errorf("loadgen: rate %g is too high", cfg.Rate)
	}
	total := int((cfg.Warmup + cfg.Duration) / interval)
	start := time.Now().Add(time.Millisecond)
	measureStart := start.Add(cfg.Warmup)

	// Each in-flight slot owns a tally, handed out through the semaphore channel, so no tally is shared.
	slots := make(chan *tally, cfg.MaxInFlight)
	all := make([]*tally, cfg.MaxInFlight)
	for k := range all {
		all[k] = &tally{}
		slots <- all[k]
	}
	var wg sync.WaitGroup
	issued := 0
loop:
	for n := 0; n < total; n++ {
		sched := start.Add(time.Duration(n) * interval)
		if d := time.Until(sched); d > 0 {
			timer := time.NewTimer(d)
			select {
			case <-timer.C:
			case <-ctx.Done():
				timer.Stop()
				break loop
			}
		}
		var t *tally
		select {
		case t = <-slots:
		case <-ctx.Done():
			break loop
		}
		if time.Since(sched) > time.Millisecond && !sched.Before(measureStart) {
			t.late++
		}
		i := cfg.First + n
		issued++
		wg.Add(1)
		go func() {
			defer wg.Done()
			o := cfg.do(ctx, i)
			done := time.Now()
			if ctx.Err() == nil {
				t.add(o, sched.Before(measureStart), done.Sub(sched), done)
			}
			slots <- t
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("loadgen: open loop interrupted: %w", err)
	}
	r := merge(all, measureStart, issued)
	r.TargetRate = cfg.Rate
	return r, nil
}
