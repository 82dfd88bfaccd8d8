package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Listen receives the notifications sent on channel (PostgreSQL's LISTEN/NOTIFY) on a connection of its own, and
// calls fn with each payload, until ctx ends. A lost connection is opened again after a short wait; reconnected
// is then called (notifications sent meanwhile are lost, so the caller redraws whatever it shows), and failed
// with each connection error.
func (db *DB) Listen(ctx context.Context, channel string, fn func(payload string), reconnected func(), failed func(error)) {
	wait := 100 * time.Millisecond
	first := true
	for ctx.Err() == nil {
		err := db.listenOnce(ctx, channel, fn, func() {
			wait = 100 * time.Millisecond
			if !first && reconnected != nil {
				reconnected()
			}
			first = false
		})
		if ctx.Err() != nil {
			break
		}
		if err != nil && failed != nil {
			failed(fmt.Errorf("postgres: listen %s: %w", channel, err))
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}

func (db *DB) listenOnce(ctx context.Context, channel string, fn func(string), ready func()) error {
	conn, err := pgx.ConnectConfig(ctx, db.pool.Config().ConnConfig.Copy())
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	ready()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			if errors.Is(err, context.Canceled) || ctx.Err() != nil {
				return nil
			}
			return err
		}
		fn(n.Payload)
	}
}
