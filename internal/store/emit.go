package store

import (
	"context"
	"time"

	"github.com/wagate/wagate/internal/wa"
)

// Domain event types: what applications can subscribe to.
const (
	EventMessageReceived = "message.received" // an inbound message was stored
	EventMessageStatus   = "message.status"   // an outbound message's status moved forward (sent, delivered, read, played)
	EventMessageFailed   = "message.failed"   // an outbound message failed: a failed receipt, or a send that failed for good
	EventTemplateStatus  = "template.status"  // the provider reported a template status change
	EventWindowClosing   = "window.closing"   // a conversation's 24-hour window closes soon
	EventWebhook         = "provider.webhook" // a provider webhook was processed (the raw body, for pass-through)
	EventTest            = "test"             // a test event sent on request
)

// EventTypes lists the domain event types applications can subscribe to (EventTest is sent only on request).
var EventTypes = []string{EventMessageReceived, EventMessageStatus, EventMessageFailed, EventTemplateStatus,
	EventWindowClosing, EventWebhook}

// DomainEvent is something that happened which applications may want to hear about. It is recorded by the
// Emitter in the same transaction as the change that caused it.
type DomainEvent struct {
	Type           string
	Channel        string
	ConversationID string
	// SourceEventID is the raw provider webhook (Event) that caused it, "" when none did.
	SourceEventID string
	At            time.Time
	// One of these describes what happened, by Type.
	Message *Message     // message.received; message.status and message.failed (the message after the change)
	Status  *StatusEntry // message.status, message.failed
	Contact *Contact     // message.received, window.closing (what the webhook or the store said of the contact)
	Notice  *Notice      // template.status
	Window  time.Time    // window.closing: when the window closes
}

// Emitter records domain events for delivery to applications. Emit runs inside tx and must have no effect
// outside it; Wants is called on the hot paths and must be cheap.
type Emitter interface {
	Wants(eventType, channel string) bool
	Emit(ctx context.Context, tx Tx, ev *DomainEvent) error
}

// SetEmitter installs the emitter of domain events; call it before the store is used concurrently. Without
// one, nothing is recorded and the hooks cost a nil check.
func (s *Store) SetEmitter(e Emitter) { s.emit = e }

// Wants reports whether any subscriber would receive an event of this type on this channel, so callers can skip
// building it.
func (s *Store) Wants(eventType, channel string) bool {
	return s.emit != nil && s.emit.Wants(eventType, channel)
}

// Emit records ev in tx when a subscriber wants it.
func (s *Store) Emit(ctx context.Context, tx Tx, ev *DomainEvent) error {
	if s.emit == nil || !s.emit.Wants(ev.Type, ev.Channel) {
		return nil
	}
	if ev.At.IsZero() {
		ev.At = s.now()
	}
	return s.emit.Emit(ctx, tx, ev)
}

// emitStatus records the status change of m to e.
func (s *Store) emitStatus(ctx context.Context, tx Tx, m *Message, eventID string, e StatusEntry) error {
	typ := EventMessageStatus
	if e.Status == wa.StatusFailed {
		typ = EventMessageFailed
	}
	if !s.Wants(typ, m.Channel) {
		return nil
	}
	msg := *m
	msg.Raw, msg.Request, msg.History = nil, nil, nil
	if e.ErrorCode != 0 {
		msg.ErrorCode, msg.ErrorTitle, msg.ErrorDetail = e.ErrorCode, e.ErrorTitle, e.ErrorDetail
	}
	at := e.ProviderTime
	if at.IsZero() {
		at = e.RecordedAt
	}
	msg.StatusAt = at
	return s.Emit(ctx, tx, &DomainEvent{Type: typ, Channel: m.Channel, ConversationID: m.ConversationID,
		SourceEventID: eventID, Message: &msg, Status: &e, At: at})
}
