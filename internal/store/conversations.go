package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

const (
	sqlConversationInsert = `INSERT INTO conversations (id, channel, contact_id, created_at, updated_at)
	VALUES ($1, $2, $3, $4, $4) ON CONFLICT (channel, contact_id) DO NOTHING`
	sqlConversationIDFor = `SELECT id FROM conversations WHERE channel = $1 AND contact_id = $2`
	sqlConversationTouch = `UPDATE conversations SET
	last_message_id = CASE WHEN $2 >= last_message_at THEN CAST($3 AS TEXT) ELSE last_message_id END,
	last_preview = CASE WHEN $2 >= last_message_at THEN CAST($4 AS TEXT) ELSE last_preview END,
	last_direction = CASE WHEN $2 >= last_message_at THEN CAST($5 AS TEXT) ELSE last_direction END,
	last_message_at = CASE WHEN $2 >= last_message_at THEN $2 ELSE last_message_at END,
	unread_count = unread_count + $6,
	last_inbound_at = CASE WHEN $7 > last_inbound_at THEN $7 ELSE last_inbound_at END,
	window_expires_at = CASE WHEN $8 > window_expires_at THEN $8 ELSE window_expires_at END,
	updated_at = $9 WHERE id = $1`
	sqlConversationColumns = `v.id, v.channel, v.last_message_at, v.last_message_id, v.last_preview, v.last_direction,
	v.unread_count, v.last_inbound_at, v.window_expires_at, v.created_at, v.updated_at,
	c.id, COALESCE(c.phone, ''), c.wa_id, COALESCE(c.user_id, ''), c.name, c.username, COALESCE(c.external_ref, ''), c.created_at, c.updated_at`
	sqlConversationGet  = `SELECT ` + sqlConversationColumns + ` FROM conversations v JOIN contacts c ON c.id = v.contact_id WHERE v.id = $1`
	sqlConversationList = `SELECT ` + sqlConversationColumns + ` FROM conversations v JOIN contacts c ON c.id = v.contact_id
	WHERE (CAST($1 AS TEXT) = '' OR v.channel = $1)
	AND ($2 = 0 OR v.last_message_at < $3 OR (v.last_message_at = $3 AND v.id < $4))
	ORDER BY v.last_message_at DESC, v.id DESC LIMIT $5`
)

// windowLength is how long after a contact's last message a business may send free-form messages.
const windowLength = 24 * time.Hour

// ConversationEnsure returns the id of the conversation between channel and contact, creating it.
func (s *Store) ConversationEnsure(ctx context.Context, tx Tx, channel, contactID string) (string, error) {
	var id string
	err := tx.QueryRow(ctx, sqlConversationIDFor, channel, contactID).Scan(&id)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, ErrNoRows) {
		return "", fmt.Errorf("conversation id: %w", err)
	}
	if _, err := tx.Exec(ctx, sqlConversationInsert, NewID(), channel, contactID, ms(s.now())); err != nil {
		return "", fmt.Errorf("conversation insert: %w", err)
	}
	if err := tx.QueryRow(ctx, sqlConversationIDFor, channel, contactID).Scan(&id); err != nil {
		return "", fmt.Errorf("conversation id: %w", err)
	}
	return id, nil
}

// conversationTouchMany records new messages on their conversations, with the effect of recording them one by
// one in order: messages arriving out of order do not replace a newer last message; an inbound message opens or
// extends the 24-hour window from its provider time. Each conversation is updated once, whatever the number of
// its messages.
func (s *Store) conversationTouchMany(ctx context.Context, tx Tx, msgs []*Message) error {
	if len(msgs) == 0 {
		return nil
	}
	type touch struct {
		id              string
		last            *Message
		at              time.Time
		unread          int
		inbound, window int64
	}
	var touches []*touch
	byID := map[string]*touch{}
	for _, m := range msgs {
		t := byID[m.ConversationID]
		if t == nil {
			t = &touch{id: m.ConversationID}
			byID[m.ConversationID] = t
			touches = append(touches, t)
		}
		// One by one, a message replaces the last one when its time is not earlier: the last of the latest wins.
		at := m.sortTime()
		if t.last == nil || !at.Before(t.at) {
			t.last, t.at = m, at
		}
		if m.Direction == DirectionIn {
			t.unread++
			t.inbound = max(t.inbound, ms(at))
			t.window = max(t.window, ms(at.Add(windowLength)))
		}
	}
	// One statement per conversation (a multi-row UPDATE ... FROM (VALUES ...) costs PostgreSQL more than it
	// saves), in the order of their ids: concurrent transactions lock the rows they share in the same order, so they
	// wait for each other rather than deadlock. On PostgreSQL they go in one round trip, with the transaction's next
	// statement (execLater).
	slices.SortFunc(touches, func(a, b *touch) int { return strings.Compare(a.id, b.id) })
	now := ms(s.now())
	stmts := make([]Stmt, len(touches))
	for i, t := range touches {
		stmts[i] = Stmt{Op: "conversation touch", SQL: sqlConversationTouch, Args: []any{t.id, ms(t.at), t.last.ID, preview(t.last),
			t.last.Direction, t.unread, t.inbound, t.window, now}}
	}
	if err := execLater(ctx, tx, stmts...); err != nil {
		return fmt.Errorf("conversation touch: %w", err)
	}
	for _, m := range msgs {
		s.changed(tx, Change{Kind: ChangeMessage, Channel: m.Channel, ConversationID: m.ConversationID, MessageID: m.ID})
	}
	return nil
}

func preview(m *Message) string {
	p := m.Text
	if p == "" {
		p = "[" + m.Type + "]"
	}
	if r := []rune(p); len(r) > 120 {
		p = string(r[:120]) + "…"
	}
	return p
}

// ConversationGet returns one conversation with its contact.
func (s *Store) ConversationGet(ctx context.Context, id string) (Conversation, error) {
	c, err := scanConversation(s.drv.Read().QueryRow(ctx, sqlConversationGet, id))
	if errors.Is(err, ErrNoRows) {
		return Conversation{}, fmt.Errorf("conversation %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Conversation{}, fmt.Errorf("conversation get %s: %w", id, err)
	}
	return c, nil
}

// ConversationFilter selects conversations for ConversationList.
type ConversationFilter struct {
	Channel string
	Cursor  string
	Limit   int
}

// ConversationList lists conversations, most recent message first.
func (s *Store) ConversationList(ctx context.Context, f ConversationFilter) (Page[Conversation], error) {
	cur, has, err := parseKeyCursor(f.Cursor)
	if err != nil {
		return Page[Conversation]{}, err
	}
	limit := clampLimit(f.Limit)
	hasN := 0
	if has {
		hasN = 1
	}
	rows, err := s.drv.Read().Query(ctx, sqlConversationList, f.Channel, hasN, cur.at, cur.id, limit+1)
	if err != nil {
		return Page[Conversation]{}, fmt.Errorf("conversation list: %w", err)
	}
	defer rows.Close()
	page := Page[Conversation]{Items: []Conversation{}}
	for rows.Next() {
		c, err := scanConversation(rows)
		if err != nil {
			return Page[Conversation]{}, fmt.Errorf("conversation list scan: %w", err)
		}
		page.Items = append(page.Items, c)
	}
	if err := rows.Err(); err != nil {
		return Page[Conversation]{}, fmt.Errorf("conversation list: %w", err)
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		last := page.Items[limit-1]
		page.Next = keyCursor{at: ms(last.LastMessageAt), id: last.ID}.String()
	}
	return page, nil
}

func scanConversation(r Row) (Conversation, error) {
	var v Conversation
	var lastAt, inAt, winAt, created, updated, cCreated, cUpdated int64
	c := &v.Contact
	if err := r.Scan(&v.ID, &v.Channel, &lastAt, &v.LastMessageID, &v.LastPreview, &v.LastDirection, &v.UnreadCount,
		&inAt, &winAt, &created, &updated, &c.ID, &c.Phone, &c.WAID, &c.UserID, &c.Name, &c.Username, &c.ExternalRef,
		&cCreated, &cUpdated); err != nil {
		return Conversation{}, err
	}
	v.LastMessageAt, v.LastInboundAt, v.WindowExpiresAt = fromMS(lastAt), fromMS(inAt), fromMS(winAt)
	v.CreatedAt, v.UpdatedAt = fromMS(created), fromMS(updated)
	c.CreatedAt, c.UpdatedAt = fromMS(cCreated), fromMS(cUpdated)
	return v, nil
}
