package auth

import (
	"sync"
	"time"
)

// Limit is a request budget: N requests per Per, all of which may come at once (a burst of N), after which
// they are admitted at the steady rate N/Per.
type Limit struct {
	N   int
	Per time.Duration
}

// interval is the steady spacing between requests; 0 for a limit that admits everything.
func (l Limit) interval() time.Duration {
	if l.N <= 0 || l.Per <= 0 {
		return 0
	}
	return l.Per / time.Duration(l.N)
}

// gcra is the state of the generic cell rate algorithm for one limit: the theoretical arrival time of the next
// request. A request at now is admitted when tat - now <= Per - interval; admitting it moves tat on by one
// interval. It is a token bucket with exact waits and one timestamp of state.
type gcra struct{ tat time.Time }

// wait returns how long a request at now must wait to fit l (0: it fits now), and the new tat if admitted.
func (g gcra) wait(l Limit, now time.Time) (time.Duration, time.Time) {
	iv := l.interval()
	if iv == 0 {
		return 0, g.tat
	}
	tat := g.tat
	if tat.Before(now) {
		tat = now
	}
	allowAt := tat.Add(iv - l.Per)
	if allowAt.After(now) {
		return allowAt.Sub(now), g.tat
	}
	return 0, tat.Add(iv)
}

// window is the sliding log of one limit for one key: the times of the requests admitted within the last Per,
// oldest first (times[head:]). Exact: at most N requests in any span of Per, and the wait is known precisely.
type window struct {
	times []time.Time
	head  int
}

// expire drops admissions older than per before now.
func (w *window) expire(now time.Time, per time.Duration) {
	for w.head < len(w.times) && !w.times[w.head].After(now.Add(-per)) {
		w.head++
	}
	if w.head > 64 && w.head*2 > len(w.times) {
		w.times = append(w.times[:0], w.times[w.head:]...)
		w.head = 0
	}
}

// wait returns how long until one more request fits l (0: now).
func (w *window) wait(l Limit, now time.Time) time.Duration {
	if l.N <= 0 || l.Per <= 0 {
		return 0
	}
	w.expire(now, l.Per)
	if n := len(w.times) - w.head; n < l.N {
		return 0
	}
	// The request fits once the admission N places back leaves the window.
	oldest := w.times[len(w.times)-l.N]
	return oldest.Add(l.Per).Sub(now)
}

// Limiter admits requests per key (a token id) under every one of its limits (per minute and per hour), each
// a sliding window: at most N requests in any span of Per. A request is counted only when all of them admit
// it. Memory per key grows with the requests admitted in the longest window. Safe for concurrent use.
type Limiter struct {
	mu     sync.Mutex
	limits []Limit
	state  map[string][]window
	now    func() time.Time
}

// NewLimiter returns a limiter with the given limits; limits with N <= 0 admit everything. now is the clock
// (time.Now when nil).
func NewLimiter(now func() time.Time, limits ...Limit) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{limits: limits, state: map[string][]window{}, now: now}
}

// Allow counts a request for key and returns 0, or, when a limit is reached, how long until the request
// would be admitted (it is then not counted). override, when it has entries, replaces the limiter's limits for
// this key (a token with its own figures).
func (l *Limiter) Allow(key string, override ...Limit) time.Duration {
	limits := l.limits
	if len(override) > 0 {
		limits = override
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.state[key]
	if len(st) != len(limits) {
		st = make([]window, len(limits))
		l.state[key] = st
	}
	var longest time.Duration
	for i, lim := range limits {
		longest = max(longest, st[i].wait(lim, now))
	}
	if longest > 0 {
		return longest
	}
	for i, lim := range limits {
		if lim.N > 0 && lim.Per > 0 {
			st[i].times = append(st[i].times, now)
		}
	}
	return 0
}

// Forget drops the state of key (a revoked token).
func (l *Limiter) Forget(key string) {
	l.mu.Lock()
	delete(l.state, key)
	l.mu.Unlock()
}

// FailureLimiter limits failed authentication attempts per client address, so that tokens cannot be guessed
// quickly: each address may fail Limit.N times at once, then once per Limit.Per/N. Addresses that have
// failed are remembered only until their budget is whole again; at most maxKeys are kept (when more fail at
// once, some are forgotten early, which favours an attacker only when they hold that many addresses).
type FailureLimiter struct {
	mu      sync.Mutex
	limit   Limit
	state   map[string]gcra
	now     func() time.Time
	maxKeys int
}

// NewFailureLimiter returns a limiter of failures per address; now is the clock (time.Now when nil).
func NewFailureLimiter(limit Limit, now func() time.Time) *FailureLimiter {
	if now == nil {
		now = time.Now
	}
	return &FailureLimiter{limit: limit, state: map[string]gcra{}, now: now, maxKeys: 100_000}
}

// Blocked returns how long addr must wait before its next attempt is even checked; 0 when it may try now.
func (f *FailureLimiter) Blocked(addr string) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	g, ok := f.state[addr]
	if !ok {
		return 0
	}
	w, _ := g.wait(f.limit, f.now())
	return w
}

// Fail records a failed attempt from addr.
func (f *FailureLimiter) Fail(addr string) {
	now := f.now()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.state) >= f.maxKeys {
		f.sweep(now)
	}
	g := f.state[addr]
	// A failure counts even when over the budget: pushing tat on keeps a persistent guesser blocked.
	iv := f.limit.interval()
	if iv == 0 {
		return
	}
	if g.tat.Before(now) {
		g.tat = now
	}
	g.tat = g.tat.Add(iv)
	if max := now.Add(f.limit.Per); g.tat.After(max) {
		g.tat = max // never blocked for longer than one period after the last failure
	}
	f.state[addr] = g
}

// sweep forgets addresses whose budget is whole again, and when that frees nothing, half of the rest.
func (f *FailureLimiter) sweep(now time.Time) {
	for k, g := range f.state {
		if !g.tat.After(now) {
			delete(f.state, k)
		}
	}
	if len(f.state) < f.maxKeys {
		return
	}
	n := 0
	for k := range f.state {
		if n >= f.maxKeys/2 {
			break
		}
		delete(f.state, k)
		n++
	}
}

// Size is how many addresses are remembered (for tests and metrics).
func (f *FailureLimiter) Size() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.state)
}
