package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// RateAsk is one bucket a send needs a slot of, under the generic cell rate algorithm: slots are Interval
// apart with bursts of Burst; a request is granted at once while the burst lasts, or with a wait of at most Hold
// for its slot, and refused otherwise.
type RateAsk struct {
	Key      string
	Interval time.Duration
	Burst    int
	Hold     time.Duration
}

func (a RateAsk) burstSpan() time.Duration { return time.Duration(max(1, a.Burst)) * a.Interval }

// RateGrant is the answer to a reservation.
type RateGrant struct {
	Granted bool
	// Delay is how long a granted request waits for its slot; for a refused one, how long until asking again
	// makes sense.
	Delay time.Duration
	// Paused is set when a refusal is a pause (PauseSet) rather than the rate.
	Paused bool
}

const (
	// The upsert moves tat only when the request fits; the row comes back in either case.
	sqlRateEnsure = `INSERT INTO rate_buckets (key, tat, paused_until, strikes) VALUES ($1, 0, 0, 0) ON CONFLICT (key) DO NOTHING`
	sqlRateTake   = `UPDATE rate_buckets SET tat = (CASE WHEN tat > $2 THEN tat ELSE $2 END) + $3
	WHERE key = $1 AND paused_until <= $2 AND (CASE WHEN tat > $2 THEN tat ELSE $2 END) + $3 - $2 <= $4
	RETURNING tat`
	sqlRateRead   = `SELECT tat, paused_until FROM rate_buckets WHERE key = $1`
	sqlRateStrike = `UPDATE rate_buckets SET strikes = strikes + 1 WHERE key = $1 RETURNING strikes`
	sqlRatePause  = `UPDATE rate_buckets SET paused_until = CASE WHEN paused_until > $2 THEN paused_until ELSE $2 END WHERE key = $1`
	sqlRateClear  = `UPDATE rate_buckets SET strikes = 0 WHERE key = $1 AND strikes > 0`
	sqlRateSweep  = `DELETE FROM rate_buckets WHERE tat < $1 AND paused_until < $1`
)

func micros(t time.Time) int64 { return t.UnixMicro() }

// RateReserve takes one slot of every bucket in asks, all or none, in one transaction: a refusal by any bucket
// (its rate, or a pause) leaves every bucket as it was. Buckets are taken in the order given, so callers that
// share buckets must order them alike (recipient, then channel).
func (s *Store) RateReserve(ctx context.Context, now time.Time, asks ...RateAsk) (RateGrant, error) {
	var g RateGrant
	refused := errors.New("refused")
	err := s.drv.InTx(ctx, func(tx Tx) error {
		g = RateGrant{Granted: true}
		nowUS := micros(now)
		for _, a := range asks {
			if _, err := tx.Exec(ctx, sqlRateEnsure, a.Key); err != nil {
				return err
			}
			var tat int64
			err := tx.QueryRow(ctx, sqlRateTake, a.Key, nowUS, a.Interval.Microseconds(), (a.burstSpan() + a.Hold).Microseconds()).Scan(&tat)
			if errors.Is(err, ErrNoRows) {
				var cur, paused int64
				if err := tx.QueryRow(ctx, sqlRateRead, a.Key).Scan(&cur, &paused); err != nil {
					return err
				}
				g = RateGrant{}
				if paused > nowUS {
					g.Paused, g.Delay = true, time.Duration(paused-nowUS)*time.Microsecond
				} else {
					// The request fits once tat + Interval - now <= burst span + Hold.
					g.Delay = max(time.Duration(cur-nowUS)*time.Microsecond+a.Interval-a.burstSpan()-a.Hold, time.Millisecond)
				}
				return refused
			}
			if err != nil {
				return err
			}
			// Past the burst, the request waits for its slot.
			g.Delay = max(g.Delay, time.Duration(tat-nowUS)*time.Microsecond-a.burstSpan())
		}
		return nil
	})
	if errors.Is(err, refused) {
		return g, nil
	}
	if err != nil {
		return RateGrant{}, fmt.Errorf("rate reserve: %w", err)
	}
	return g, nil
}

// RateStrike counts a throttle of key and returns how many there have been since the last RateClear.
func (s *Store) RateStrike(ctx context.Context, key string) (int, error) {
	var n int
	err := s.drv.InTx(ctx, func(tx Tx) error {
		if _, err := tx.Exec(ctx, sqlRateEnsure, key); err != nil {
			return err
		}
		return tx.QueryRow(ctx, sqlRateStrike, key).Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("rate strike: %w", err)
	}
	return n, nil
}

// RatePause refuses every reservation of key until until (a pause only ever grows).
func (s *Store) RatePause(ctx context.Context, key string, until time.Time) error {
	err := s.drv.InTx(ctx, func(tx Tx) error {
		if _, err := tx.Exec(ctx, sqlRateEnsure, key); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, sqlRatePause, key, micros(until))
		return err
	})
	if err != nil {
		return fmt.Errorf("rate pause: %w", err)
	}
	return nil
}

// RateClear forgets the throttles of key (after a success).
func (s *Store) RateClear(ctx context.Context, key string) error {
	err := s.drv.InTx(ctx, func(tx Tx) error {
		_, err := tx.Exec(ctx, sqlRateClear, key)
		return err
	})
	if err != nil {
		return fmt.Errorf("rate clear: %w", err)
	}
	return nil
}

// RateSweep deletes the buckets idle and unpaused since before, and returns how many.
func (s *Store) RateSweep(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.drv.InTx(ctx, func(tx Tx) error {
		var err error
		n, err = tx.Exec(ctx, sqlRateSweep, micros(before))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("rate sweep: %w", err)
	}
	return n, nil
}
