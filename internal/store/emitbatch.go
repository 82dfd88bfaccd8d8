package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
)

// EventDeliveries is a domain event to record with the subscriptions it goes to: one pending delivery each.
type EventDeliveries struct {
	Event         AppEvent
	Subscriptions []string
}

// DeliveryEnqueuer is implemented by an Emitter that defers its events (see EmitDefer): after the events and
// their deliveries of a transaction are written, EnqueueDeliveries enqueues the delivery jobs in the same
// transaction.
type DeliveryEnqueuer interface {
	EnqueueDeliveries(ctx context.Context, tx Tx, deliveryIDs []string) error
}

// emitTx is the transaction Store.InTx hands out while an emitter or a change sink is installed. It collects the domain events
// emitted in it, which are written together, with multi-row statements, just before the transaction commits:
// a webhook batch of hundreds of messages costs a handful of round trips instead of several per message. On a
// Pipeliner it also holds the statements whose results nobody reads (execLater) until the next statement.
type emitTx struct {
	Tx
	pending []EventDeliveries
	changes []Change // for the change sink
	// later holds statements whose results nobody reads (see execLater), for a Pipeliner: they go to the
	// database with the next statement run in the transaction, or before it commits.
	later []Stmt
	// err is the error of sending later when the caller could not be told (Raw), returned before the commit.
	err error
}

// Exec runs the statements waiting in t.later and q in one round trip.
func (t *emitTx) Exec(ctx context.Context, q string, args ...any) (int64, error) {
	if len(t.later) == 0 || strings.HasPrefix(q, PlanPerCall) {
		if err := t.flush(ctx); err != nil {
			return 0, err
		}
		return t.Tx.Exec(ctx, q, args...)
	}
	stmts := append(t.later, Stmt{SQL: q, Args: args})
	t.later = nil
	n, err := t.Tx.(Pipeliner).ExecAll(ctx, stmts)
	if err != nil {
		return 0, err
	}
	return n[len(n)-1], nil
}

// Query runs the statements waiting in t.later, then q.
func (t *emitTx) Query(ctx context.Context, q string, args ...any) (Rows, error) {
	if err := t.flush(ctx); err != nil {
		return nil, err
	}
	return t.Tx.Query(ctx, q, args...)
}

// QueryRow runs the statements waiting in t.later, then q.
func (t *emitTx) QueryRow(ctx context.Context, q string, args ...any) Row {
	if err := t.flush(ctx); err != nil {
		return errRow{err}
	}
	return t.Tx.QueryRow(ctx, q, args...)
}

// Raw runs the statements waiting in t.later, since the caller is about to use the transaction directly.
func (t *emitTx) Raw() any {
	if err := t.flush(context.Background()); err != nil && t.err == nil {
		t.err = err
	}
	return t.Tx.Raw()
}

// flush runs the statements waiting in t.later.
func (t *emitTx) flush(ctx context.Context) error {
	if len(t.later) == 0 {
		return nil
	}
	stmts := t.later
	t.later = nil
	_, err := t.Tx.(Pipeliner).ExecAll(ctx, stmts)
	return err
}

// errRow is a Row whose Scan returns err.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// execLater runs stmts in tx, in order, whose results (rows affected, errors aside) the caller does not need. In a
// transaction begun by Store.InTx on a Pipeliner they wait, and go to the database in one round trip with the
// next statement the transaction runs (or before it commits); an error then fails that statement, and with it the
// transaction. Otherwise they run now, in one round trip on a Pipeliner.
func execLater(ctx context.Context, tx Tx, stmts ...Stmt) error {
	if t, ok := tx.(*emitTx); ok {
		if _, ok := t.Tx.(Pipeliner); ok {
			t.later = append(t.later, stmts...)
			return nil
		}
		tx = t.Tx
	}
	if p, ok := tx.(Pipeliner); ok && len(stmts) > 1 {
		_, err := p.ExecAll(ctx, stmts)
		return err
	}
	for _, st := range stmts {
		if _, err := tx.Exec(ctx, st.SQL, st.Args...); err != nil {
			return err
		}
	}
	return nil
}

// EmitDefer queues e to be written, with its deliveries and their jobs, at the end of tx (before it commits),
// and reports whether it did; it does not when tx was not begun by Store.InTx with a DeliveryEnqueuer
// emitter installed, and the caller then writes e itself (AppEventsInsert).
func (s *Store) EmitDefer(tx Tx, e EventDeliveries) bool {
	t, ok := tx.(*emitTx)
	if _, enq := s.emit.(DeliveryEnqueuer); !ok || !enq {
		return false
	}
	t.pending = append(t.pending, e)
	return true
}

// inTx runs fn in the driver's transaction. With an emitter that enqueues deliveries, the events fn emitted
// are written after fn returns and before the commit; with a change sink, it hears of fn's changes before and
// after the commit.
func (s *Store) inTx(ctx context.Context, fn func(Tx) error, commit func(context.Context, func(Tx) error) error) error {
	enq, _ := s.emit.(DeliveryEnqueuer)
	if enq == nil && s.changes == nil {
		return commit(ctx, fn)
	}
	var changes []Change
	err := commit(ctx, func(tx Tx) error {
		t := &emitTx{Tx: tx}
		changes = nil
		if err := fn(t); err != nil {
			return err
		}
		if len(t.pending) > 0 {
			ids, err := s.AppEventsInsert(ctx, t, t.pending)
			if err != nil {
				return err
			}
			if err := enq.EnqueueDeliveries(ctx, t, ids); err != nil {
				return err
			}
		}
		if len(t.changes) > 0 {
			changes = t.changes
			if err := s.changes.BeforeCommit(ctx, t, changes); err != nil {
				return err
			}
		}
		if err := t.flush(ctx); err != nil {
			return err
		}
		return t.err
	})
	if err == nil && len(changes) > 0 {
		s.changes.AfterCommit(changes)
	}
	return err
}

// Rows per multi-row statement: far below both databases' limits on bound parameters.
const emitChunk = 200

const (
	sqlAppEventInsertHead = `INSERT INTO app_events (id, type, channel, conversation_id, sequence, source_event_id, data, created_at) VALUES `
	sqlDeliveryInsertHead = `INSERT INTO deliveries (id, subscription_id, event_id, state, started_at, created_at, updated_at) VALUES `
	sqlConvSeqAddHead     = `INSERT INTO subscriber_conversations (conversation_id, sequence) VALUES `
	sqlConvSeqAddTail     = ` ON CONFLICT (conversation_id) DO UPDATE SET sequence = subscriber_conversations.sequence + excluded.sequence
	RETURNING conversation_id, sequence`
)

// AppEventsInsert records events and one pending delivery per event and subscription, with a few multi-row
// statements, and returns the deliveries' ids in order (event by event, subscription by subscription). Ids
// and times left empty are assigned; events of a conversation take its next sequence numbers in the order
// given.
func (s *Store) AppEventsInsert(ctx context.Context, tx Tx, evs []EventDeliveries) ([]string, error) {
	if len(evs) == 0 {
		return nil, nil
	}
	now := s.now()
	if err := s.assignSequences(ctx, tx, evs); err != nil {
		return nil, err
	}
	for i := range evs {
		e := &evs[i].Event
		if e.ID == "" {
			e.ID = NewID()
		}
		if e.CreatedAt.IsZero() {
			e.CreatedAt = now
		}
	}
	for chunk := range slices.Chunk(evs, emitChunk) {
		args := make([]any, 0, len(chunk)*8)
		for i := range chunk {
			e := &chunk[i].Event
			data := e.Data
			if data == nil {
				data = []byte("{}")
			}
			args = append(args, e.ID, e.Type, e.Channel, e.ConversationID, e.Sequence, e.SourceEventID, string(data), ms(e.CreatedAt))
		}
		if _, err := tx.Exec(ctx, sqlAppEventInsertHead+valuesList(len(chunk), 8), args...); err != nil {
			return nil, fmt.Errorf("app events insert: %w", err)
		}
	}
	type row struct{ id, sub, event string }
	var rows []row
	for i := range evs {
		for _, sub := range evs[i].Subscriptions {
			rows = append(rows, row{NewID(), sub, evs[i].Event.ID})
		}
	}
	ids := make([]string, 0, len(rows))
	for chunk := range slices.Chunk(rows, emitChunk) {
		var q strings.Builder
		q.WriteString(sqlDeliveryInsertHead)
		args := make([]any, 0, len(chunk)*5)
		for i, r := range chunk {
			if i > 0 {
				q.WriteString(", ")
			}
			n := len(args)
			fmt.Fprintf(&q, "($%d, $%d, $%d, $%d, $%d, $%d, $%d)", n+1, n+2, n+3, n+4, n+5, n+5, n+5)
			args = append(args, r.id, r.sub, r.event, DeliveryPending, ms(now))
			ids = append(ids, r.id)
		}
		if _, err := tx.Exec(ctx, q.String(), args...); err != nil {
			return nil, fmt.Errorf("deliveries insert: %w", err)
		}
	}
	return ids, nil
}

// assignSequences gives the events that belong to a conversation and have no sequence yet their
// conversation's next numbers, with one upsert per chunk of conversations. Conversations are locked in id
// order, so that concurrent transactions cannot deadlock on them.
func (s *Store) assignSequences(ctx context.Context, tx Tx, evs []EventDeliveries) error {
	counts := map[string]int64{}
	for i := range evs {
		if e := &evs[i].Event; e.ConversationID != "" && e.Sequence == 0 {
			counts[e.ConversationID]++
		}
	}
	if len(counts) == 0 {
		return nil
	}
	convs := make([]string, 0, len(counts))
	for c := range counts {
		convs = append(convs, c)
	}
	slices.SortFunc(convs, cmp.Compare[string])
	next := make(map[string]int64, len(convs)) // the first number each conversation's events take
	for chunk := range slices.Chunk(convs, emitChunk) {
		args := make([]any, 0, len(chunk)*2)
		for _, c := range chunk {
			args = append(args, c, counts[c])
		}
		rows, err := tx.Query(ctx, sqlConvSeqAddHead+valuesList(len(chunk), 2)+sqlConvSeqAddTail, args...)
		if err != nil {
			return fmt.Errorf("event sequences: %w", err)
		}
		for rows.Next() {
			var c string
			var last int64
			if err := rows.Scan(&c, &last); err != nil {
				rows.Close()
				return fmt.Errorf("event sequences scan: %w", err)
			}
			next[c] = last - counts[c] + 1
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("event sequences: %w", err)
		}
	}
	for i := range evs {
		if e := &evs[i].Event; e.ConversationID != "" && e.Sequence == 0 {
			n, ok := next[e.ConversationID]
			if !ok {
				return fmt.Errorf("event sequences: conversation %s was not numbered", e.ConversationID)
			}
			e.Sequence = n
			next[e.ConversationID] = n + 1
		}
	}
	return nil
}
