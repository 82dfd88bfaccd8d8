package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/wagate/wagate/internal/wa"
)

const (
	sqlMessageInsertHead = `INSERT INTO messages (id, channel, conversation_id, contact_id, direction, provider_id, type,
	text, payload, raw, reply_to, forwarded, referral, errors, media_id, media_mime, media_sha256, media_filename,
	media_status, status, status_rank, status_at, provider_ts, sort_at, event_id, created_at, updated_at, request,
	idempotency_key, request_hash, retry_of) VALUES `
	sqlMessageInsertTail = ` ON CONFLICT DO NOTHING RETURNING id`
	messageInsertCols    = 31
	sqlMessageColumns    = `id, channel, conversation_id, contact_id, direction, COALESCE(provider_id, ''), type, text, payload,
	raw, reply_to, forwarded, referral, errors, media_id, media_mime, media_sha256, media_filename, media_status, status,
	status_at, error_code, error_title, error_detail, provider_ts, event_id, created_at, updated_at, sort_at,
	request, COALESCE(idempotency_key, ''), request_hash, attempts, error_class, retry_of`
	sqlMessageGet        = `SELECT ` + sqlMessageColumns + ` FROM messages WHERE id = $1`
	sqlMessageByProvider = `SELECT ` + sqlMessageColumns + ` FROM messages WHERE channel = $1 AND provider_id = $2`
	sqlMessageList       = `SELECT ` + sqlMessageColumns + ` FROM messages WHERE conversation_id = $1
	AND ($2 = 0 OR sort_at < $3 OR (sort_at = $3 AND id < $4)) ORDER BY sort_at DESC, id DESC LIMIT $5`
	sqlStatusHistory = `SELECT status, provider_ts, recorded_at, error_code, error_title, error_detail, conversation, pricing
	FROM message_statuses WHERE message_id = $1 ORDER BY recorded_at, provider_ts`
	sqlMessageSetProviderID = `UPDATE messages SET provider_id = $2, updated_at = $3 WHERE id = $1 AND provider_id IS NULL`
)

func (m *Message) sortTime() time.Time {
	if !m.ProviderTime.IsZero() {
		return m.ProviderTime
	}
	return m.CreatedAt
}

// MessageInsert stores a message and records it on its conversation. It is idempotent on the provider id: when
// a message with the same channel and provider id exists already, nothing changes and it returns false.
// Inbound messages extend the conversation's 24-hour window. ID, CreatedAt and Status get defaults when empty.
func (s *Store) MessageInsert(ctx context.Context, tx Tx, m *Message) (bool, error) {
	stored, err := s.MessageInsertMany(ctx, tx, []*Message{m})
	if err != nil {
		return false, err
	}
	return stored[0], nil
}

// messageInsertChunk bounds the rows of one multi-row message insert (31 parameters each, well under both
// databases' limits).
const messageInsertChunk = 64

// MessageInsertMany is MessageInsert for many messages, in as few statements as it can: it reports for each
// whether it was stored (false when its provider id was known already, also when an earlier message of ms had
// it). The effects on conversations are those of inserting the messages one by one, in order.
func (s *Store) MessageInsertMany(ctx context.Context, tx Tx, ms []*Message) ([]bool, error) {
	stored := make([]bool, len(ms))
	now := s.now()
	for start := 0; start < len(ms); start += messageInsertChunk {
		chunk := ms[start:min(start+messageInsertChunk, len(ms))]
		args := make([]any, 0, len(chunk)*messageInsertCols)
		for _, m := range chunk {
			a, err := s.messageArgs(m, now)
			if err != nil {
				return nil, err
			}
			args = append(args, a...)
		}
		rows, err := tx.Query(ctx, sqlMessageInsertHead+valuesList(len(chunk), messageInsertCols)+sqlMessageInsertTail, args...)
		if err != nil {
			return nil, fmt.Errorf("message insert: %w", err)
		}
		ids := make(map[string]bool, len(chunk))
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, fmt.Errorf("message insert: %w", err)
			}
			ids[id] = true
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("message insert: %w", err)
		}
		for i, m := range chunk {
			stored[start+i] = ids[m.ID]
		}
	}
	var touched []*Message
	for i, m := range ms {
		if !stored[i] {
			continue
		}
		if m.Direction == DirectionOut {
			if err := s.historyInsert(ctx, tx, m.ID, "", StatusEntry{Status: m.Status, RecordedAt: now}); err != nil {
				return nil, err
			}
		}
		touched = append(touched, m)
	}
	if err := s.conversationTouchMany(ctx, tx, touched); err != nil {
		return nil, err
	}
	return stored, nil
}

// messageArgs sets m's defaults and returns its row for sqlMessageInsertHead.
func (s *Store) messageArgs(m *Message, now time.Time) ([]any, error) {
	if m.ID == "" {
		m.ID = NewID()
	}
	if m.CreatedAt.IsZero() {
		m.CreatedAt = now
	}
	m.UpdatedAt = m.CreatedAt
	if m.Status == "" {
		if m.Direction == DirectionIn {
			m.Status = wa.StatusReceived
		} else {
			m.Status = wa.StatusQueued
		}
	}
	if m.StatusAt.IsZero() {
		m.StatusAt = now
	}
	var errs string
	if len(m.Errors) > 0 {
		b, err := json.Marshal(m.Errors)
		if err != nil {
			return nil, fmt.Errorf("message insert: errors: %w", err)
		}
		errs = string(b)
	}
	created := ms(m.CreatedAt)
	return []any{m.ID, m.Channel, m.ConversationID, m.ContactID, m.Direction,
		nullable(m.ProviderID), m.Type, m.Text, rawText(m.Payload), rawText(m.Raw), m.ReplyTo, m.Forwarded,
		rawText(m.Referral), errs, m.MediaID, m.MediaMime, m.MediaSHA256, m.MediaFilename, m.MediaStatus,
		string(m.Status), m.Status.Rank(), ms(m.StatusAt), ms(m.ProviderTime), ms(m.sortTime()), m.EventID, created, created,
		rawText(m.Request), nullable(m.IdempotencyKey), m.RequestHash, m.RetryOf}, nil
}

// MessageGet returns a message with its status history.
func (s *Store) MessageGet(ctx context.Context, id string) (Message, error) {
	q := s.drv.Read()
	m, err := scanMessage(q.QueryRow(ctx, sqlMessageGet, id))
	if errors.Is(err, ErrNoRows) {
		return Message{}, fmt.Errorf("message %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Message{}, fmt.Errorf("message get %s: %w", id, err)
	}
	if m.History, err = s.history(ctx, q, id); err != nil {
		return Message{}, err
	}
	return m, nil
}

// MessageGetByProviderID returns the message a channel knows under a provider id, with its history.
func (s *Store) MessageGetByProviderID(ctx context.Context, channel, providerID string) (Message, error) {
	q := s.drv.Read()
	m, err := scanMessage(q.QueryRow(ctx, sqlMessageByProvider, channel, providerID))
	if errors.Is(err, ErrNoRows) {
		return Message{}, fmt.Errorf("message %s/%s: %w", channel, providerID, ErrNotFound)
	}
	if err != nil {
		return Message{}, fmt.Errorf("message by provider id: %w", err)
	}
	if m.History, err = s.history(ctx, q, m.ID); err != nil {
		return Message{}, err
	}
	return m, nil
}

// MessageFilter selects the messages of a conversation.
type MessageFilter struct {
	ConversationID string
	Cursor         string
	Limit          int
}

// MessageList lists a conversation's messages newest first (by provider time, then arrival).
func (s *Store) MessageList(ctx context.Context, f MessageFilter) (Page[Message], error) {
	cur, has, err := parseKeyCursor(f.Cursor)
	if err != nil {
		return Page[Message]{}, err
	}
	limit := clampLimit(f.Limit)
	hasN := 0
	if has {
		hasN = 1
	}
	rows, err := s.drv.Read().Query(ctx, sqlMessageList, f.ConversationID, hasN, cur.at, cur.id, limit+1)
	if err != nil {
		return Page[Message]{}, fmt.Errorf("message list: %w", err)
	}
	defer rows.Close()
	page := Page[Message]{Items: []Message{}}
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return Page[Message]{}, fmt.Errorf("message list scan: %w", err)
		}
		page.Items = append(page.Items, m)
	}
	if err := rows.Err(); err != nil {
		return Page[Message]{}, fmt.Errorf("message list: %w", err)
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		last := page.Items[limit-1]
		page.Next = keyCursor{at: ms(last.sortTime()), id: last.ID}.String()
	}
	return page, nil
}

func (s *Store) history(ctx context.Context, q Conn, id string) ([]StatusEntry, error) {
	rows, err := q.Query(ctx, sqlStatusHistory, id)
	if err != nil {
		return nil, fmt.Errorf("status history: %w", err)
	}
	defer rows.Close()
	var out []StatusEntry
	for rows.Next() {
		var e StatusEntry
		var st, conv, pricing string
		var pts, rec int64
		if err := rows.Scan(&st, &pts, &rec, &e.ErrorCode, &e.ErrorTitle, &e.ErrorDetail, &conv, &pricing); err != nil {
			return nil, fmt.Errorf("status history scan: %w", err)
		}
		e.Status, e.ProviderTime, e.RecordedAt = wa.Status(st), fromMS(pts), fromMS(rec)
		e.Conversation, e.Pricing = textRaw(conv), textRaw(pricing)
		out = append(out, e)
	}
	return out, rows.Err()
}

func scanMessage(r Row) (Message, error) {
	var m Message
	var payload, raw, referral, errs, status, request string
	var statusAt, pts, created, updated, sortAt int64
	if err := r.Scan(&m.ID, &m.Channel, &m.ConversationID, &m.ContactID, &m.Direction, &m.ProviderID, &m.Type, &m.Text,
		&payload, &raw, &m.ReplyTo, &m.Forwarded, &referral, &errs, &m.MediaID, &m.MediaMime, &m.MediaSHA256,
		&m.MediaFilename, &m.MediaStatus, &status, &statusAt, &m.ErrorCode, &m.ErrorTitle, &m.ErrorDetail, &pts,
		&m.EventID, &created, &updated, &sortAt, &request, &m.IdempotencyKey, &m.RequestHash, &m.Attempts, &m.ErrorClass,
		&m.RetryOf); err != nil {
		return Message{}, err
	}
	m.Payload, m.Raw, m.Referral, m.Request = textRaw(payload), textRaw(raw), textRaw(referral), textRaw(request)
	if errs != "" {
		if err := json.Unmarshal([]byte(errs), &m.Errors); err != nil {
			return Message{}, fmt.Errorf("message %s errors: %w", m.ID, err)
		}
	}
	m.Status = wa.Status(status)
	m.StatusAt, m.ProviderTime, m.CreatedAt, m.UpdatedAt = fromMS(statusAt), fromMS(pts), fromMS(created), fromMS(updated)
	return m, nil
}
