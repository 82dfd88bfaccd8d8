package store

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"

	"github.com/wagate/wagate/internal/wa"
)

const (
	sqlHistoryInsert = `INSERT INTO message_statuses (message_id, status, provider_ts, recorded_at, error_code, error_title,
	error_detail, conversation, pricing, event_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
	ON CONFLICT (message_id, status) DO NOTHING`
	sqlMessageAdvance = `UPDATE messages SET status = $2, status_rank = $3, status_at = $4,
	error_code = CASE WHEN $5 <> 0 THEN $5 ELSE error_code END,
	error_title = CASE WHEN $5 <> 0 THEN CAST($6 AS TEXT) ELSE error_title END,
	error_detail = CASE WHEN $5 <> 0 THEN CAST($7 AS TEXT) ELSE error_detail END,
	updated_at = $8 WHERE id = $1 AND status_rank < $3`
	sqlParkedInsert = `INSERT INTO parked_receipts (channel, provider_id, status, provider_ts, recorded_at, error_code,
	error_title, error_detail, conversation, pricing, event_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
	ON CONFLICT (channel, provider_id, status) DO NOTHING`
	sqlParkedFor = `SELECT status, provider_ts, recorded_at, error_code, error_title, error_detail, conversation, pricing,
	event_id FROM parked_receipts WHERE channel = $1 AND provider_id = $2 ORDER BY provider_ts, recorded_at`
	sqlParkedDelete = `DELETE FROM parked_receipts WHERE channel = $1 AND provider_id = $2`
	sqlParkedCount  = `SELECT COUNT(*) FROM parked_receipts`
)

// ReceiptApply applies a provider receipt to the message it names, following the forward-only rule: the
// receipt always enters the message's history (once per status), and becomes the current status only when it
// is further along. A receipt for an unknown provider id is parked and applied by MessageAccepted.
func (s *Store) ReceiptApply(ctx context.Context, tx Tx, channel, eventID string, r wa.Receipt) (ReceiptOutcome, error) {
	if !r.Status.Valid() || r.Status == wa.StatusReceived || r.Status == wa.StatusQueued {
		return ReceiptIgnored, nil
	}
	e := entryFromReceipt(r, s)
	if err := s.lockProviderID(ctx, tx, channel, r.MessageID); err != nil {
		return "", err
	}
	m, err := scanMessage(tx.QueryRow(ctx, sqlMessageByProvider, channel, r.MessageID))
	if errors.Is(err, ErrNoRows) {
		c, t, d := e.ErrorCode, e.ErrorTitle, e.ErrorDetail
		_, err := tx.Exec(ctx, sqlParkedInsert, channel, r.MessageID, string(e.Status), ms(e.ProviderTime), ms(e.RecordedAt),
			c, t, d, rawText(e.Conversation), rawText(e.Pricing), eventID)
		if err != nil {
			return "", fmt.Errorf("receipt park: %w", err)
		}
		return ReceiptParked, nil
	}
	if err != nil {
		return "", fmt.Errorf("receipt message lookup: %w", err)
	}
	if m.Direction != DirectionOut {
		return ReceiptIgnored, nil
	}
	return s.receiptApplyTo(ctx, tx, &m, eventID, e)
}

func (s *Store) receiptApplyTo(ctx context.Context, tx Tx, m *Message, eventID string, e StatusEntry) (ReceiptOutcome, error) {
	n, err := s.historyInsertN(ctx, tx, m.ID, eventID, e)
	if err != nil {
		return "", err
	}
	if n == 0 {
		return ReceiptDuplicate, nil
	}
	if !wa.Advances(m.Status, e.Status) {
		return ReceiptRecorded, nil
	}
	at := e.ProviderTime
	if at.IsZero() {
		at = e.RecordedAt
	}
	n, err = tx.Exec(ctx, sqlMessageAdvance, m.ID, string(e.Status), e.Status.Rank(), ms(at), e.ErrorCode, e.ErrorTitle,
		e.ErrorDetail, ms(s.now()))
	if err != nil {
		return "", fmt.Errorf("receipt advance: %w", err)
	}
	if n == 0 {
		return ReceiptRecorded, nil
	}
	m.Status = e.Status
	s.changed(tx, Change{Kind: ChangeStatus, Channel: m.Channel, ConversationID: m.ConversationID, MessageID: m.ID})
	if err := s.emitStatus(ctx, tx, m, eventID, e); err != nil {
		return "", err
	}
	return ReceiptUpdated, nil
}

func (s *Store) historyInsert(ctx context.Context, tx Tx, messageID, eventID string, e StatusEntry) error {
	_, err := s.historyInsertN(ctx, tx, messageID, eventID, e)
	return err
}

func (s *Store) historyInsertN(ctx context.Context, tx Tx, messageID, eventID string, e StatusEntry) (int64, error) {
	n, err := tx.Exec(ctx, sqlHistoryInsert, messageID, string(e.Status), ms(e.ProviderTime), ms(e.RecordedAt),
		e.ErrorCode, e.ErrorTitle, e.ErrorDetail, rawText(e.Conversation), rawText(e.Pricing), eventID)
	if err != nil {
		return 0, fmt.Errorf("status history insert: %w", err)
	}
	if n > 0 {
		if err := s.billingRecord(ctx, tx, messageID, e); err != nil {
			return 0, err
		}
	}
	return n, nil
}

func (s *Store) unparkReceipts(ctx context.Context, tx Tx, m *Message) (int, error) {
	rows, err := tx.Query(ctx, sqlParkedFor, m.Channel, m.ProviderID)
	if err != nil {
		return 0, fmt.Errorf("parked receipts: %w", err)
	}
	type parked struct {
		e       StatusEntry
		eventID string
	}
	var list []parked
	for rows.Next() {
		var p parked
		var st, conv, pricing string
		var pts, rec int64
		if err := rows.Scan(&st, &pts, &rec, &p.e.ErrorCode, &p.e.ErrorTitle, &p.e.ErrorDetail, &conv, &pricing, &p.eventID); err != nil {
			rows.Close()
			return 0, fmt.Errorf("parked receipts scan: %w", err)
		}
		p.e.Status, p.e.ProviderTime, p.e.RecordedAt = wa.Status(st), fromMS(pts), fromMS(rec)
		p.e.Conversation, p.e.Pricing = textRaw(conv), textRaw(pricing)
		list = append(list, p)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return 0, fmt.Errorf("parked receipts: %w", err)
	}
	updated := 0
	for _, p := range list {
		out, err := s.receiptApplyTo(ctx, tx, m, p.eventID, p.e)
		if err != nil {
			return 0, err
		}
		if out == ReceiptUpdated {
			updated++
		}
	}
	if len(list) > 0 {
		if _, err := tx.Exec(ctx, sqlParkedDelete, m.Channel, m.ProviderID); err != nil {
			return 0, fmt.Errorf("parked receipts delete: %w", err)
		}
	}
	return updated, nil
}

// ParkedCount returns how many receipts wait for a message they name.
func (s *Store) ParkedCount(ctx context.Context) (int, error) {
	var n int
	if err := s.drv.Read().QueryRow(ctx, sqlParkedCount).Scan(&n); err != nil {
		return 0, fmt.Errorf("parked count: %w", err)
	}
	return n, nil
}

func entryFromReceipt(r wa.Receipt, s *Store) StatusEntry {
	e := StatusEntry{Status: r.Status, ProviderTime: r.Timestamp, RecordedAt: s.now(), Conversation: r.Conversation, Pricing: r.Pricing}
	if len(r.Errors) > 0 {
		pe := r.Errors[0]
		e.ErrorCode, e.ErrorTitle = pe.Code, pe.Title
		e.ErrorDetail = pe.Details
		if e.ErrorDetail == "" {
			e.ErrorDetail = pe.Message
		}
	}
	return e
}

// lockProviderID serializes the transactions that park a receipt for a provider id and the one that records
// that provider id on its message: without it, on a database with concurrent writers, each could miss the
// other's uncommitted row and the receipt would stay parked for ever.
func (s *Store) lockProviderID(ctx context.Context, tx Tx, channel, providerID string) error {
	h := fnv.New64a()
	h.Write([]byte(channel))
	h.Write([]byte{0})
	h.Write([]byte(providerID))
	if err := s.drv.LockTx(ctx, tx, int64(h.Sum64())); err != nil {
		return fmt.Errorf("lock provider id: %w", err)
	}
	return nil
}
