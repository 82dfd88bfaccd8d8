package store

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"

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
	sqlParkedInsertHead = `INSERT INTO parked_receipts (channel, provider_id, status, provider_ts, recorded_at, error_code,
	error_title, error_detail, conversation, pricing, event_id) VALUES `
	sqlParkedInsertTail     = ` ON CONFLICT (channel, provider_id, status) DO NOTHING`
	parkedCols              = 11
	sqlMessageByProviderIDs = `SELECT ` + sqlMessageColumns + ` FROM messages WHERE channel = $1 AND provider_id IN (`
	sqlParkedFor            = `SELECT status, provider_ts, recorded_at, error_code, error_title, error_detail, conversation, pricing,
	event_id FROM parked_receipts WHERE channel = $1 AND provider_id = $2 ORDER BY provider_ts, recorded_at`
	sqlParkedDelete = `DELETE FROM parked_receipts WHERE channel = $1 AND provider_id = $2`
	sqlParkedCount  = `SELECT COUNT(*) FROM parked_receipts`
)

// ReceiptApply applies a provider receipt to the message it names, following the forward-only rule: the
// receipt always enters the message's history (once per status), and becomes the current status only when it
// is further along. A receipt for an unknown provider id is parked and applied by MessageAccepted.
func (s *Store) ReceiptApply(ctx context.Context, tx Tx, channel, eventID string, r wa.Receipt) (ReceiptOutcome, error) {
	out, err := s.ReceiptApplyMany(ctx, tx, []ReceiptItem{{Channel: channel, EventID: eventID, Receipt: r}})
	if err != nil {
		return "", err
	}
	return out[0], nil
}

// ReceiptItem is one receipt for ReceiptApplyMany: the channel it came on, the raw event that carried it.
type ReceiptItem struct {
	Channel, EventID string
	Receipt          wa.Receipt
}

// receiptChunk bounds the provider ids of one lookup and the rows of one multi-row park.
const receiptChunk = 64

// ReceiptApplyMany is ReceiptApply for many receipts, with the effect of applying them one by one in order, in
// a few statements: one lookup of the messages they name and one insert of those to park, whatever their number.
func (s *Store) ReceiptApplyMany(ctx context.Context, tx Tx, items []ReceiptItem) ([]ReceiptOutcome, error) {
	out := make([]ReceiptOutcome, len(items))
	var keys []int64
	byChannel := map[string][]string{}
	for i, it := range items {
		r := it.Receipt
		if !r.Status.Valid() || r.Status == wa.StatusReceived || r.Status == wa.StatusQueued {
			out[i] = ReceiptIgnored
			continue
		}
		keys = append(keys, providerIDKey(it.Channel, r.MessageID))
		byChannel[it.Channel] = append(byChannel[it.Channel], r.MessageID)
	}
	if len(keys) == 0 {
		return out, nil
	}
	if err := s.lockProviderIDs(ctx, tx, keys); err != nil {
		return nil, err
	}
	known, err := s.messagesByProviderIDs(ctx, tx, byChannel)
	if err != nil {
		return nil, err
	}
	var park []any // the rows to park, parkedCols values each
	for i, it := range items {
		if out[i] != "" {
			continue
		}
		e := entryFromReceipt(it.Receipt, s)
		m := known[[2]string{it.Channel, it.Receipt.MessageID}]
		switch {
		case m == nil:
			park = append(park, it.Channel, it.Receipt.MessageID, string(e.Status), ms(e.ProviderTime), ms(e.RecordedAt),
				e.ErrorCode, e.ErrorTitle, e.ErrorDetail, rawText(e.Conversation), rawText(e.Pricing), it.EventID)
			out[i] = ReceiptParked
		case m.Direction != DirectionOut:
			out[i] = ReceiptIgnored
		default:
			// m is shared by the receipts naming it, so that each sees the status the ones before it left.
			if out[i], err = s.receiptApplyTo(ctx, tx, m, it.EventID, e); err != nil {
				return nil, err
			}
		}
	}
	for args := range slices.Chunk(park, receiptChunk*parkedCols) {
		n := len(args) / parkedCols
		// Nothing reads what the insert returns: on PostgreSQL it goes with the transaction's next statement.
		st := Stmt{Op: "receipt park", SQL: sqlParkedInsertHead + valuesList(n, parkedCols) + sqlParkedInsertTail, Args: args}
		if err := execLater(ctx, tx, st); err != nil {
			return nil, fmt.Errorf("receipt park: %w", err)
		}
	}
	return out, nil
}

// messagesByProviderIDs returns the messages named by provider ids, per channel, by channel and provider id.
func (s *Store) messagesByProviderIDs(ctx context.Context, tx Tx, byChannel map[string][]string) (map[[2]string]*Message, error) {
	known := map[[2]string]*Message{}
	for channel, ids := range byChannel {
		slices.Sort(ids)
		ids = slices.Compact(ids)
		for chunk := range slices.Chunk(ids, receiptChunk) {
			args := make([]any, 0, len(chunk)+1)
			args = append(args, channel)
			for _, id := range chunk {
				args = append(args, id)
			}
			rows, err := tx.Query(ctx, inStatement(sqlMessageByProviderIDs, 2, len(chunk), ")"), args...)
			if err != nil {
				return nil, fmt.Errorf("receipt message lookup: %w", err)
			}
			for rows.Next() {
				m, err := scanMessage(rows)
				if err != nil {
					rows.Close()
					return nil, fmt.Errorf("receipt message lookup: %w", err)
				}
				known[[2]string{m.Channel, m.ProviderID}] = &m
			}
			err = rows.Err()
			rows.Close()
			if err != nil {
				return nil, fmt.Errorf("receipt message lookup: %w", err)
			}
		}
	}
	return known, nil
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

// providerIDKey is the lock key of a channel's provider id (see lockProviderIDs).
func providerIDKey(channel, providerID string) int64 {
	h := fnv.New64a()
	h.Write([]byte(channel))
	h.Write([]byte{0})
	h.Write([]byte(providerID))
	return int64(h.Sum64())
}

// lockProviderIDs serializes the transactions that park a receipt for a provider id and the one that records
// that provider id on its message: without it, on a database with concurrent writers, each could miss the
// other's uncommitted row and the receipt would stay parked for ever. The keys are locked in ascending order, so
// that two transactions locking several cannot deadlock.
func (s *Store) lockProviderIDs(ctx context.Context, tx Tx, keys []int64) error {
	slices.Sort(keys)
	if err := s.drv.LockTx(ctx, tx, slices.Compact(keys)...); err != nil {
		return fmt.Errorf("lock provider id: %w", err)
	}
	return nil
}
