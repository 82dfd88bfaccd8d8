package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wagate/wagate/internal/wa"
)

// ErrIdempotencyConflict is returned when an Idempotency-Key is used again with a different request.
var ErrIdempotencyConflict = errors.New("idempotency key already used with a different request")

const (
	sqlMessageByIdempotency = `SELECT ` + sqlMessageColumns + ` FROM messages WHERE channel = $1 AND idempotency_key = $2`
	sqlMessageAttempted     = `UPDATE messages SET attempts = attempts + 1, error_class = $2, error_code = $3, error_title = $4,
	error_detail = $5, updated_at = $6 WHERE id = $1`
)

// OutboundCreate records a message to send to phone (E.164) on m.Channel: it finds or creates the contact and
// the conversation and inserts m as queued. When m.IdempotencyKey was already used on the channel, nothing is
// inserted: it returns the existing message and false, or ErrIdempotencyConflict when that message was created
// from another request (m.RequestHash differs).
func (s *Store) OutboundCreate(ctx context.Context, tx Tx, m *Message, phone string) (Message, bool, error) {
	if m.IdempotencyKey != "" {
		prev, err := scanMessage(tx.QueryRow(ctx, sqlMessageByIdempotency, m.Channel, m.IdempotencyKey))
		switch {
		case err == nil:
			if prev.RequestHash != m.RequestHash {
				return prev, false, ErrIdempotencyConflict
			}
			return prev, false, nil
		case !errors.Is(err, ErrNoRows):
			return Message{}, false, fmt.Errorf("outbound idempotency lookup: %w", err)
		}
	}
	c, err := s.ContactResolve(ctx, tx, ContactInput{Phone: phone, WAID: wa.Digits(phone)})
	if err != nil {
		return Message{}, false, err
	}
	conv, err := s.ConversationEnsure(ctx, tx, m.Channel, c.ID)
	if err != nil {
		return Message{}, false, err
	}
	m.ConversationID, m.ContactID, m.Direction, m.Status = conv, c.ID, DirectionOut, wa.StatusQueued
	inserted, err := s.MessageInsert(ctx, tx, m)
	if err != nil {
		return Message{}, false, err
	}
	if !inserted {
		return Message{}, false, fmt.Errorf("outbound create: message %s already exists", m.ID)
	}
	return *m, true, nil
}

// MessageAccepted records that the provider accepted message id (of channel) under providerID at the given
// time: the provider id, the status accepted in the history, and any receipts that were parked for that
// provider id.
func (s *Store) MessageAccepted(ctx context.Context, tx Tx, channel, id, providerID string, at time.Time) error {
	if err := s.lockProviderIDs(ctx, tx, []int64{providerIDKey(channel, providerID)}); err != nil {
		return err
	}
	n, err := tx.Exec(ctx, sqlMessageSetProviderID, id, providerID, ms(s.now()))
	if err != nil {
		return fmt.Errorf("message accepted: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("message accepted %s: %w (or it already has a provider id)", id, ErrNotFound)
	}
	m, err := scanMessage(tx.QueryRow(ctx, sqlMessageGet, id))
	if err != nil {
		return fmt.Errorf("message accepted: %w", err)
	}
	if _, err := s.receiptApplyTo(ctx, tx, &m, "", StatusEntry{Status: wa.StatusAccepted, ProviderTime: at, RecordedAt: s.now()}); err != nil {
		return err
	}
	_, err = s.unparkReceipts(ctx, tx, &m)
	return err
}

// MessageFailed marks an outbound message failed for good with the provider's (or wagate's) error.
func (s *Store) MessageFailed(ctx context.Context, tx Tx, id string, code int, title, detail, class string) error {
	m, err := scanMessage(tx.QueryRow(ctx, sqlMessageGet, id))
	if errors.Is(err, ErrNoRows) {
		return fmt.Errorf("message failed %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("message failed: %w", err)
	}
	if _, err := tx.Exec(ctx, sqlMessageAttempted, id, class, code, title, detail, ms(s.now())); err != nil {
		return fmt.Errorf("message failed: %w", err)
	}
	_, err = s.receiptApplyTo(ctx, tx, &m, "", StatusEntry{Status: wa.StatusFailed, RecordedAt: s.now(), ErrorCode: code, ErrorTitle: title, ErrorDetail: detail})
	return err
}

// MessageAttempted counts a send attempt that failed for a reason worth retrying, and records that reason on
// the message without changing its status.
func (s *Store) MessageAttempted(ctx context.Context, tx Tx, id string, code int, title, detail, class string) error {
	n, err := tx.Exec(ctx, sqlMessageAttempted, id, class, code, title, detail, ms(s.now()))
	if err != nil {
		return fmt.Errorf("message attempted: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("message attempted %s: %w", id, ErrNotFound)
	}
	return nil
}

const sqlMessageForSend = `SELECT id, channel, status, request, attempts FROM messages WHERE id = $1`

// MessageForSend reads what a send job needs of a message: its channel, status, stored request and attempts.
func (s *Store) MessageForSend(ctx context.Context, id string) (Message, error) {
	var m Message
	var status, request string
	err := s.drv.Read().QueryRow(ctx, sqlMessageForSend, id).Scan(&m.ID, &m.Channel, &status, &request, &m.Attempts)
	if errors.Is(err, ErrNoRows) {
		return Message{}, fmt.Errorf("message %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Message{}, fmt.Errorf("message for send %s: %w", id, err)
	}
	m.Status, m.Request = wa.Status(status), textRaw(request)
	return m, nil
}
