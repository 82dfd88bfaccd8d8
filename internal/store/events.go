package store

import (
	"context"
	"errors"
	"fmt"
)

const (
	sqlEventInsertHead = `INSERT INTO events (id, channel, auth_channels, received_at, remote_addr, content_type, body,
	shape, state, error, attempts, processed_at, received_count, stored_count, status_count, updated_count, notice_count)
	VALUES `
	sqlEventInsert = sqlEventInsertHead + `($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`
	sqlEventFinish = `UPDATE events SET shape = $2, state = $3, error = $4, attempts = attempts + 1, processed_at = $5,
	received_count = $6, stored_count = $7, status_count = $8, updated_count = $9, notice_count = $10 WHERE id = $1`
	sqlEventColumns = `id, channel, auth_channels, received_at, remote_addr, content_type, shape, state, error,
	attempts, processed_at, received_count, stored_count, status_count, updated_count, notice_count`
	sqlEventGet          = `SELECT ` + sqlEventColumns + `, body FROM events WHERE id = $1`
	sqlEventMarkRetry    = `UPDATE events SET state = 'pending', error = $2 WHERE id = $1`
	sqlEventCountByState = `SELECT state, COUNT(*) FROM events GROUP BY state`
)

// EventInsert stores a raw webhook in tx. ev.ID is assigned when empty.
func (s *Store) EventInsert(ctx context.Context, tx Tx, ev *Event) error {
	_, err := tx.Exec(ctx, sqlEventInsert, s.eventArgs(ev)...)
	if err != nil {
		return fmt.Errorf("event insert: %w", err)
	}
	return nil
}

// eventInsertChunk bounds the rows of one multi-row insert (17 parameters each, well under both databases'
// limits).
const eventInsertChunk = 100

// EventInsertMany stores events in tx with multi-row inserts: one statement per hundred events instead of one
// each. IDs and times are assigned like EventInsert's.
func (s *Store) EventInsertMany(ctx context.Context, tx Tx, evs []*Event) error {
	for start := 0; start < len(evs); start += eventInsertChunk {
		chunk := evs[start:min(start+eventInsertChunk, len(evs))]
		args := make([]any, 0, len(chunk)*17)
		for _, ev := range chunk {
			args = append(args, s.eventArgs(ev)...)
		}
		// Nothing reads what the insert returns: on PostgreSQL it goes with the transaction's next statement.
		if err := execLater(ctx, tx, Stmt{Op: "event insert", SQL: sqlEventInsertHead + valuesList(len(chunk), 17), Args: args}); err != nil {
			return fmt.Errorf("event insert: %w", err)
		}
	}
	return nil
}

func (s *Store) eventArgs(ev *Event) []any {
	if ev.ID == "" {
		ev.ID = NewID()
	}
	if ev.ReceivedAt.IsZero() {
		ev.ReceivedAt = s.now()
	}
	if ev.State == "" {
		ev.State = EventPending
	}
	body := ev.Body
	if body == nil {
		body = []byte{}
	}
	c := ev.Counts
	return []any{ev.ID, ev.Channel, joinList(ev.AuthChannels), ms(ev.ReceivedAt), ev.RemoteAddr, ev.ContentType, body,
		ev.Shape, ev.State, ev.Error, ev.Attempts, ms(ev.ProcessedAt), c.Received, c.Stored, c.Statuses, c.Updated, c.Notices}
}

// EventFinish records the outcome of processing an event: state processed or failed, the reason, and counts.
func (s *Store) EventFinish(ctx context.Context, tx Tx, id, shape, state, reason string, c Counts) error {
	n, err := tx.Exec(ctx, sqlEventFinish, id, shape, state, reason, ms(s.now()), c.Received, c.Stored, c.Statuses, c.Updated, c.Notices)
	if err != nil {
		return fmt.Errorf("event finish %s: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("event finish %s: %w", id, ErrNotFound)
	}
	return nil
}

// EventMarkRetry puts an event back to pending with the reason of the last failure.
func (s *Store) EventMarkRetry(ctx context.Context, tx Tx, id, reason string) error {
	n, err := tx.Exec(ctx, sqlEventMarkRetry, id, reason)
	if err != nil {
		return fmt.Errorf("event mark retry %s: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("event mark retry %s: %w", id, ErrNotFound)
	}
	return nil
}

// EventGet returns one event with its raw body. With a Tx it reads inside it.
func (s *Store) EventGet(ctx context.Context, q Conn, id string) (Event, error) {
	if q == nil {
		q = s.drv.Read()
	}
	var ev Event
	var auth string
	var recv, proc int64
	c := &ev.Counts
	err := q.QueryRow(ctx, sqlEventGet, id).Scan(&ev.ID, &ev.Channel, &auth, &recv, &ev.RemoteAddr, &ev.ContentType,
		&ev.Shape, &ev.State, &ev.Error, &ev.Attempts, &proc, &c.Received, &c.Stored, &c.Statuses, &c.Updated, &c.Notices, &ev.Body)
	if errors.Is(err, ErrNoRows) {
		return Event{}, fmt.Errorf("event %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Event{}, fmt.Errorf("event get %s: %w", id, err)
	}
	ev.AuthChannels = splitList(auth)
	ev.ReceivedAt, ev.ProcessedAt = fromMS(recv), fromMS(proc)
	return ev, nil
}

// EventFilter selects events for EventList.
type EventFilter struct {
	State  string // "" for all
	Cursor string
	Limit  int
}

// EventList lists events newest first, without bodies.
func (s *Store) EventList(ctx context.Context, f EventFilter) (Page[Event], error) {
	return s.EventSearch(ctx, EventQuery{State: f.State, Cursor: f.Cursor, Limit: f.Limit})
}

// EventCounts returns how many events are in each state.
func (s *Store) EventCounts(ctx context.Context) (map[string]int, error) {
	return s.countByState(ctx, sqlEventCountByState, "event counts")
}

// countByState runs a query of (state, count) rows.
func (s *Store) countByState(ctx context.Context, q, what string) (map[string]int, error) {
	rows, err := s.drv.Read().Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("%s scan: %w", what, err)
		}
		out[st] = n
	}
	return out, rows.Err()
}

func clampLimit(n int) int {
	switch {
	case n <= 0:
		return 50
	case n > 500:
		return 500
	}
	return n
}
