package store

import (
	"context"
	"fmt"
)

// Change kinds: what a live view needs to redraw.
const (
	ChangeMessage = "message" // a message was stored in a conversation (inbound or outbound)
	ChangeStatus  = "status"  // an outbound message's status moved forward
	ChangeRead    = "read"    // a conversation was marked read
)

// Change is one committed change that live views (the web UI) follow. It names what changed, not how: a view
// reads the current state again.
type Change struct {
	Kind           string `json:"k"`
	Channel        string `json:"ch,omitempty"`
	ConversationID string `json:"c,omitempty"`
	MessageID      string `json:"m,omitempty"`
}

// ChangeSink hears of the changes each transaction makes. BeforeCommit runs inside the transaction, after the
// changes were made and before the commit (PostgreSQL's NOTIFY sent there reaches listeners only if the
// transaction commits); AfterCommit runs once it has committed. Neither is called for a transaction that
// changed nothing it follows.
type ChangeSink interface {
	BeforeCommit(ctx context.Context, tx Tx, changes []Change) error
	AfterCommit(changes []Change)
}

// SetChangeSink installs the sink of committed changes; call it before the store is used concurrently.
func (s *Store) SetChangeSink(c ChangeSink) { s.changes = c }

// changed records c for the sink, when tx was begun by Store.InTx with a sink installed.
func (s *Store) changed(tx Tx, c Change) {
	if t, ok := tx.(*emitTx); ok && s.changes != nil {
		t.changes = append(t.changes, c)
	}
}

const sqlNotify = `SELECT pg_notify($1, $2)`

// Notify sends payload to the listeners of channel when tx commits (PostgreSQL only: LISTEN/NOTIFY).
func (s *Store) Notify(ctx context.Context, tx Tx, channel, payload string) error {
	if _, err := tx.Exec(ctx, sqlNotify, channel, payload); err != nil {
		return fmt.Errorf("notify %s: %w", channel, err)
	}
	return nil
}
