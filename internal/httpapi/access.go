package httpapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wagate/wagate/internal/auth"
	"github.com/wagate/wagate/internal/store"
)

// The access part of the error catalogue.
var (
	ErrForbidden = &Error{Status: http.StatusForbidden, Code: "forbidden", Message: "this API token lacks the scope the endpoint needs",
		Fix: "use a token with the scope named here, or create one: wagate token create --name NAME --scopes send,read"}
	ErrRateLimited = &Error{Status: http.StatusTooManyRequests, Code: "rate_limited", Message: "this API token made too many requests",
		Fix: "wait the seconds in the Retry-After header; spread requests out or ask for a token with higher limits"}
	ErrAuthThrottled = &Error{Status: http.StatusTooManyRequests, Code: "auth_throttled", Message: "too many failed authentication attempts from this address",
		Fix: "wait the seconds in the Retry-After header and check the API token you send"}
)

// SetRetryAfter sets the Retry-After header (whole seconds) when e carries a wait; endpoints that translate
// authorize's *Error into their own envelope call it before writing.
func SetRetryAfter(w http.ResponseWriter, e *Error) {
	if e != nil && e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
}

// withWait copies a catalogue error with a wait, rounded up to whole seconds (at least 1).
func withWait(e *Error, d time.Duration) *Error {
	c := *e
	c.RetryAfter = int((d + time.Second - 1) / time.Second)
	if c.RetryAfter < 1 {
		c.RetryAfter = 1
	}
	return &c
}

// tokenCacheTTL is how long a verified token is trusted without reading the database again: a token revoked
// on another instance stops working within this time (on the instance that revoked it, at once).
const tokenCacheTTL = time.Second

// touchEvery is how often a token's last_used_at is written at most.
const touchEvery = time.Minute

// failedAuthLimit is how many failed authentications one client address may make: 20 at once, then one
// every 3 seconds. A token has 256 random bits; this limit keeps logs and the database quiet under a guesser.
var failedAuthLimit = auth.Limit{N: 20, Per: time.Minute}

// AccessOptions configure authentication and request limits.
type AccessOptions struct {
	// RequireTokens, with no Token configured, requires a stored API token on every request; without it and
	// without Token the API is open (demo mode, or the operator's explicit choice).
	RequireTokens bool
	// RatePerMinute and RatePerHour limit each stored token's requests (0: no limit); a token's own figures
	// replace them. The configured Token is the operator's and is not limited.
	RatePerMinute, RatePerHour int
	// TrustedProxies are the peers whose X-Forwarded-For names the client address.
	TrustedProxies []netip.Prefix
}

// access checks API tokens: the configured one (all scopes) and the stored ones (hashed, cached briefly).
type access struct {
	st         *store.Store
	log        *slog.Logger
	now        func() time.Time
	open       bool
	configured [32]byte
	hasConfig  bool
	defaults   []auth.Limit
	limiter    *auth.Limiter
	failures   *auth.FailureLimiter
	trusted    []netip.Prefix

	mu    sync.Mutex
	cache map[string]*cachedToken // by hash
}

type cachedToken struct {
	tok     store.APIToken
	scopes  []auth.Scope
	until   time.Time // trusted until
	touched time.Time // last write of last_used_at
}

func newAccess(st *store.Store, log *slog.Logger, token string, o AccessOptions, now func() time.Time) *access {
	a := &access{st: st, log: log, now: now, open: token == "" && !o.RequireTokens, configured: sha256.Sum256([]byte(token)),
		hasConfig: token != "", trusted: o.TrustedProxies, cache: map[string]*cachedToken{},
		defaults: []auth.Limit{{N: o.RatePerMinute, Per: time.Minute}, {N: o.RatePerHour, Per: time.Hour}}}
	a.limiter = auth.NewLimiter(now, a.defaults...)
	a.failures = auth.NewFailureLimiter(failedAuthLimit, now)
	return a
}

// check is authorize's work: nil admits the request.
func (a *access) check(r *http.Request, scope Scope) *Error {
	if a.open {
		return nil
	}
	ip := a.clientIP(r)
	if wait := a.failures.Blocked(ip); wait > 0 {
		return withWait(ErrAuthThrottled, wait)
	}
	given, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	given = strings.TrimSpace(given)
	if !ok || given == "" {
		return ErrUnauthorized
	}
	if a.hasConfig {
		sum := sha256.Sum256([]byte(given))
		if subtle.ConstantTimeCompare(sum[:], a.configured[:]) == 1 {
			return nil // the operator's token: every scope, no request limit
		}
	}
	ct, err := a.lookup(r.Context(), given)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			a.log.Error("api token lookup failed", "err", err)
			return ErrInternal
		}
		a.failures.Fail(ip)
		return ErrUnauthorized
	}
	if !auth.Allows(ct.scopes, auth.Scope(scope)) {
		e := *ErrForbidden
		e.Message = "this API token lacks the " + string(scope) + " scope"
		e.Fix = "use a token with the " + string(scope) + " scope, or create one: wagate token create --name NAME --scopes " + string(scope)
		return &e
	}
	var own []auth.Limit
	if ct.tok.RatePerMinute > 0 || ct.tok.RatePerHour > 0 {
		own = []auth.Limit{a.defaults[0], a.defaults[1]}
		if ct.tok.RatePerMinute > 0 {
			own[0].N = ct.tok.RatePerMinute
		}
		if ct.tok.RatePerHour > 0 {
			own[1].N = ct.tok.RatePerHour
		}
	}
	if wait := a.limiter.Allow(ct.tok.ID, own...); wait > 0 {
		return withWait(ErrRateLimited, wait)
	}
	a.touch(r.Context(), ct)
	return nil
}

// lookup finds a presented stored token: from the cache while it is fresh, else from the database. Revoked and
// unknown tokens are ErrNotFound.
func (a *access) lookup(ctx context.Context, given string) (*cachedToken, error) {
	if !auth.Looks(given) {
		return nil, store.ErrNotFound
	}
	hash := auth.Hash(given)
	now := a.now()
	a.mu.Lock()
	ct, ok := a.cache[hash]
	a.mu.Unlock()
	if ok && now.Before(ct.until) {
		return ct, nil
	}
	tok, err := a.st.TokenGetByHash(ctx, hash)
	if err != nil {
		a.mu.Lock()
		delete(a.cache, hash)
		a.mu.Unlock()
		return nil, err
	}
	if !auth.Equal(tok.Hash, hash) || tok.Revoked() {
		a.mu.Lock()
		delete(a.cache, hash)
		a.mu.Unlock()
		return nil, store.ErrNotFound
	}
	scopes, err := auth.ScopesFrom(tok.Scopes)
	if err != nil {
		return nil, store.ErrNotFound // a record this version cannot read admits nothing
	}
	fresh := &cachedToken{tok: tok, scopes: scopes, until: now.Add(tokenCacheTTL), touched: tok.LastUsedAt}
	a.mu.Lock()
	if ok {
		fresh.touched = later(fresh.touched, ct.touched)
	}
	if len(a.cache) > 10_000 {
		clear(a.cache)
	}
	a.cache[hash] = fresh
	a.mu.Unlock()
	return fresh, nil
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// touch records the token's use, at most once per touchEvery.
func (a *access) touch(ctx context.Context, ct *cachedToken) {
	now := a.now()
	a.mu.Lock()
	due := now.Sub(ct.touched) >= touchEvery
	if due {
		ct.touched = now
	}
	a.mu.Unlock()
	if !due {
		return
	}
	if err := a.st.TokenTouch(context.WithoutCancel(ctx), ct.tok.ID, now); err != nil {
		a.log.Warn("api token last use not recorded", "token_id", ct.tok.ID, "err", err)
	}
}

// forget drops a token from the cache and the limiter at once (on revocation).
func (a *access) forget(id string) {
	a.mu.Lock()
	for h, ct := range a.cache {
		if ct.tok.ID == id {
			delete(a.cache, h)
		}
	}
	a.mu.Unlock()
	a.limiter.Forget(id)
}

// clientIP is the request's client address (auth.ClientIP with the trusted proxies).
func (a *access) clientIP(r *http.Request) string { return auth.ClientIP(r, a.trusted) }
