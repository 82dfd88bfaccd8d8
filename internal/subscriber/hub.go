package subscriber

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"

	"github.com/wagate/wagate/internal/queue"
	"github.com/wagate/wagate/internal/store"
)

// Hub records domain events for the subscriptions that want them. It keeps the enabled subscriptions in
// memory, so that with none (or none matching) the ingest and send paths pay one atomic load and a loop over
// nothing; it is refreshed on every change made through this process and every few seconds for changes made
// elsewhere (the command line, another instance).
type Hub struct {
	st   *store.Store
	q    *queue.Queue
	log  *slog.Logger
	subs atomic.Pointer[[]store.Subscription]
}

var (
	_ store.Emitter          = (*Hub)(nil)
	_ store.DeliveryEnqueuer = (*Hub)(nil)
)

// NewHub returns a hub with no subscriptions loaded; call Refresh.
func NewHub(st *store.Store, q *queue.Queue, log *slog.Logger) *Hub {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Hub{st: st, q: q, log: log}
	h.subs.Store(&[]store.Subscription{})
	return h
}

// SetQueue sets the queue deliveries are enqueued on, for a hub built before its queue (River's workers,
// which include the delivery worker, are registered before the queue is created).
func (h *Hub) SetQueue(q *queue.Queue) { h.q = q }

// Refresh reloads the enabled subscriptions.
func (h *Hub) Refresh(ctx context.Context) error {
	all, err := h.st.SubscriptionList(ctx)
	if err != nil {
		return fmt.Errorf("subscriptions refresh: %w", err)
	}
	on := make([]store.Subscription, 0, len(all))
	for _, s := range all {
		if s.Enabled {
			on = append(on, s)
		}
	}
	h.subs.Store(&on)
	return nil
}

// Watch refreshes the subscriptions every interval until ctx ends.
func (h *Hub) Watch(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := h.Refresh(ctx); err != nil && ctx.Err() == nil {
				h.log.Warn("subscriptions not refreshed", "err", err)
			}
		}
	}
}

// Active returns the enabled subscriptions as last loaded.
func (h *Hub) Active() []store.Subscription { return *h.subs.Load() }

// Wants reports whether an enabled subscription receives events of this type on this channel.
func (h *Hub) Wants(eventType, channel string) bool {
	subs := *h.subs.Load()
	for i := range subs {
		if matches(&subs[i], eventType, channel) {
			return true
		}
	}
	return false
}

// Emit records ev and one delivery, with its job, per matching subscription, all in tx.
func (h *Hub) Emit(ctx context.Context, tx store.Tx, ev *store.DomainEvent) error {
	subs := *h.subs.Load()
	var match []*store.Subscription
	for i := range subs {
		if matches(&subs[i], ev.Type, ev.Channel) {
			match = append(match, &subs[i])
		}
	}
	if len(match) == 0 {
		return nil
	}
	data, err := eventData(ev)
	if err != nil {
		return err
	}
	ids := make([]string, len(match))
	for i, s := range match {
		ids[i] = s.ID
	}
	ed := store.EventDeliveries{Subscriptions: ids, Event: store.AppEvent{Type: ev.Type, Channel: ev.Channel,
		ConversationID: ev.ConversationID, SourceEventID: ev.SourceEventID, Data: data}}
	if h.st.EmitDefer(tx, ed) {
		return nil // written with the transaction's other events just before it commits
	}
	deliveries, err := h.st.AppEventsInsert(ctx, tx, []store.EventDeliveries{ed})
	if err != nil {
		return err
	}
	return h.EnqueueDeliveries(ctx, tx, deliveries)
}

// EnqueueDeliveries enqueues the jobs of pending deliveries in tx, with one statement.
func (h *Hub) EnqueueDeliveries(ctx context.Context, tx store.Tx, deliveryIDs []string) error {
	args := make([]river.JobArgs, len(deliveryIDs))
	for i, id := range deliveryIDs {
		args[i] = DeliverArgs{DeliveryID: id}
	}
	return h.q.InsertManyTx(ctx, tx, args)
}

// eventData is the "data" of an event in wagate's format.
func eventData(ev *store.DomainEvent) ([]byte, error) {
	var v any
	switch ev.Type {
	case store.EventMessageReceived:
		v = map[string]any{"message": ev.Message, "contact": ev.Contact}
	case store.EventMessageStatus, store.EventMessageFailed:
		d := map[string]any{"message_id": ev.Message.ID, "provider_id": ev.Message.ProviderID, "status": ev.Status.Status,
			"timestamp": ev.At.UTC(), "message": ev.Message}
		if ev.Status.ErrorCode != 0 || ev.Status.ErrorTitle != "" {
			d["error"] = map[string]any{"code": ev.Status.ErrorCode, "title": ev.Status.ErrorTitle, "detail": ev.Status.ErrorDetail}
		}
		v = d
	case store.EventTemplateStatus:
		v = map[string]any{"notice": ev.Notice}
	case store.EventWindowClosing:
		v = map[string]any{"conversation_id": ev.ConversationID, "contact": ev.Contact, "window_expires_at": ev.Window.UTC()}
	default:
		v = map[string]any{}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("event data: %w", err)
	}
	return b, nil
}
