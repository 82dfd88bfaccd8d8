package store

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Store is wagate's persistence. Methods that change state take the Tx they run in, so that callers compose
// several changes (and the enqueueing of jobs) into one transaction; reads run on the read pool.
type Store struct {
	drv  Driver
	now  func() time.Time
	emit Emitter // nil: no domain events are recorded (see emit.go)
	// changes hears of committed changes (see changes.go); nil: nobody follows them.
	changes ChangeSink
}

// New returns a Store over drv. now is the clock (time.Now when nil).
func New(drv Driver, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{drv: drv, now: now}
}

// Driver returns the database driver underneath.
func (s *Store) Driver() Driver { return s.drv }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.drv.Ping(ctx) }

// Unavailable reports whether err, from a store call, means that the database cannot take work now (down,
// restarting, read-only, full, locked) rather than that the request was wrong: the driver's reading of err, or
// else a ping that fails within a second. Callers answer 503, so that clients retry.
func (s *Store) Unavailable(ctx context.Context, err error) bool {
	if err == nil {
		return false
	}
	if r, ok := s.drv.(UnavailabilityReporter); ok && r.Unavailable(err) {
		return true
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	return s.drv.Ping(pctx) != nil
}

// Close releases the database.
func (s *Store) Close() error { return s.drv.Close() }

// InTx runs fn in a write transaction, running it again (up to 5 times) when the database reports a transient
// conflict. fn must therefore have no effects outside the transaction.
func (s *Store) InTx(ctx context.Context, fn func(Tx) error) error {
	return s.retry(ctx, func() error { return s.inTx(ctx, fn, s.drv.InTx) })
}

// InTxDeferred is InTx, except that it returns as soon as the transaction committed, with a function that
// returns once the commit is durable. On a driver that cannot defer (PostgreSQL), the commit is durable when
// InTxDeferred returns and the function returns nil at once.
func (s *Store) InTxDeferred(ctx context.Context, fn func(Tx) error) (func() error, error) {
	dc, ok := s.drv.(DeferredCommitter)
	if !ok {
		return durableNow, s.InTx(ctx, fn)
	}
	var durable func() error
	commit := func(ctx context.Context, fn func(Tx) error) error {
		var err error
		durable, err = dc.InTxDeferred(ctx, fn)
		return err
	}
	if err := s.retry(ctx, func() error { return s.inTx(ctx, fn, commit) }); err != nil {
		return nil, err
	}
	return durable, nil
}

func durableNow() error { return nil }

// retry runs try again (up to 5 times in all) while it fails with a transient conflict.
func (s *Store) retry(ctx context.Context, try func() error) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		err = try()
		if err == nil || !s.drv.Retryable(err) || ctx.Err() != nil {
			return err
		}
		time.Sleep(time.Duration(attempt+1) * 5 * time.Millisecond)
	}
	return err
}

// NewID returns a new time-ordered id (UUIDv7).
func NewID() string {
	return uuid.Must(uuid.NewV7()).String()
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func rawText(r json.RawMessage) string {
	if len(r) == 0 {
		return ""
	}
	return string(r)
}

func textRaw(s string) json.RawMessage {
	if s == "" {
		return nil
	}
	return json.RawMessage(s)
}

func joinList(l []string) string { return strings.Join(l, ",") }

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
