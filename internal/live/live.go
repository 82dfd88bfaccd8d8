// Package live carries committed changes (store.Change) to the views that follow them, such as the web inbox's
// server-sent events: in-process on SQLite, and through PostgreSQL's LISTEN/NOTIFY between instances, so that a
// browser connected to any instance sees a change committed on any other.
package live

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/wagate/wagate/internal/store"
)

// Channel is the PostgreSQL notification channel of changes.
const Channel = "wagate_changes"

// Reset is the kind of change that tells a view to redraw everything: changes were lost (a slow reader, a
// reconnection) or too many to name.
const Reset = "reset"

// maxPayload keeps a notification under PostgreSQL's 8,000-byte limit; larger batches become one Reset.
const maxPayload = 7000

// subBuffer is how many changes a subscriber may fall behind before it gets a Reset instead.
const subBuffer = 256

// Hub fans changes out to its subscribers. The zero value is not usable; call NewHub.
type Hub struct {
	mu   sync.Mutex
	subs map[*Sub]struct{}
}

// NewHub returns a hub with no subscribers.
func NewHub() *Hub { return &Hub{subs: map[*Sub]struct{}{}} }

// Sub is one follower of the changes. Read C; call Close when done.
type Sub struct {
	C   <-chan store.Change
	c   chan store.Change
	hub *Hub
	mu  sync.Mutex
	// lost is set when a change could not be queued; the next one that fits is preceded by a Reset.
	lost bool
}

// Subscribe adds a follower.
func (h *Hub) Subscribe() *Sub {
	c := make(chan store.Change, subBuffer)
	s := &Sub{C: c, c: c, hub: h}
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	return s
}

// Close removes the follower.
func (s *Sub) Close() {
	s.hub.mu.Lock()
	delete(s.hub.subs, s)
	s.hub.mu.Unlock()
}

// Subscribers counts the followers (for metrics and tests).
func (h *Hub) Subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// Publish hands changes to every follower without ever blocking: a follower whose queue is full loses them and
// is sent a Reset.
func (h *Hub) Publish(changes []store.Change) {
	h.mu.Lock()
	subs := make([]*Sub, 0, len(h.subs))
	for s := range h.subs {
		subs = append(subs, s)
	}
	h.mu.Unlock()
	for _, s := range subs {
		s.send(changes)
	}
}

func (s *Sub) send(changes []store.Change) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range changes {
		if s.lost {
			select {
			case s.c <- store.Change{Kind: Reset}:
				s.lost = false
			default:
				return
			}
		}
		select {
		case s.c <- c:
		default:
			s.lost = true
		}
	}
}

// LocalSink publishes each transaction's changes to the hub once it has committed: the sink of a single
// instance (SQLite).
type LocalSink struct{ Hub *Hub }

var _ store.ChangeSink = LocalSink{}

// BeforeCommit does nothing.
func (LocalSink) BeforeCommit(context.Context, store.Tx, []store.Change) error { return nil }

// AfterCommit publishes the changes.
func (l LocalSink) AfterCommit(changes []store.Change) { l.Hub.Publish(dedupe(changes)) }

// NotifySink sends each transaction's changes as one PostgreSQL notification, which every instance's listener
// (this one's included) receives only if the transaction commits.
type NotifySink struct{ Store *store.Store }

var _ store.ChangeSink = NotifySink{}

// BeforeCommit sends the notification in the transaction.
func (n NotifySink) BeforeCommit(ctx context.Context, tx store.Tx, changes []store.Change) error {
	return n.Store.Notify(ctx, tx, Channel, Encode(dedupe(changes)))
}

// AfterCommit does nothing: the listener publishes.
func (NotifySink) AfterCommit([]store.Change) {}

// Encode is the notification payload of changes: their JSON, or a single Reset when that is too long.
func Encode(changes []store.Change) string {
	b, err := json.Marshal(changes)
	if err != nil || len(b) > maxPayload {
		return `[{"k":"` + Reset + `"}]`
	}
	return string(b)
}

// Decode reads a payload made by Encode; a payload it cannot read is a Reset.
func Decode(payload string) []store.Change {
	var out []store.Change
	if err := json.Unmarshal([]byte(payload), &out); err != nil || len(out) == 0 {
		return []store.Change{{Kind: Reset}}
	}
	return out
}

// dedupe drops repeated changes (a batch of receipts for one message names it once per receipt).
func dedupe(changes []store.Change) []store.Change {
	if len(changes) < 2 {
		return changes
	}
	seen := make(map[store.Change]struct{}, len(changes))
	out := changes[:0:0]
	for _, c := range changes {
		if _, ok := seen[c]; !ok {
			seen[c] = struct{}{}
			out = append(out, c)
		}
	}
	return out
}
