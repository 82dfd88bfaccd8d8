package sender

import (
	"context"
	"errors"

	"github.com/wagate/wagate/internal/store"
)

// What ConversationRead did at WhatsApp.
const (
	ReadReceiptQueued   = "queued"   // a read mark for the newest inbound message is on its way
	ReadReceiptDisabled = "disabled" // the channel does not send read marks (or is no longer configured)
	ReadReceiptNone     = "none"     // the conversation has no inbound message to mark
)

// ConversationRead marks conversation id read and, when it has an inbound message and its channel sends read
// receipts, queues a read mark for the newest inbound message. s may be nil (no sending: read marks are
// disabled); receipts says whether a channel sends read marks (nil: every channel does). It returns the
// conversation and one of the ReadReceipt outcomes. The API's POST /v1/conversations/{id}/read and the web
// inbox both mark conversations read through it.
func ConversationRead(ctx context.Context, st *store.Store, s *Service, receipts func(channel string) bool, id string) (store.Conversation, string, error) {
	c, last, err := st.ConversationMarkRead(ctx, id)
	if err != nil {
		return store.Conversation{}, "", err
	}
	switch {
	case last == "":
		return c, ReadReceiptNone, nil
	case s == nil || (receipts != nil && !receipts(c.Channel)):
		return c, ReadReceiptDisabled, nil
	}
	err = s.MarkRead(ctx, c.Channel, last)
	if errors.Is(err, ErrUnknownChannel) {
		return c, ReadReceiptDisabled, nil
	}
	if err != nil {
		return store.Conversation{}, "", err
	}
	return c, ReadReceiptQueued, nil
}
