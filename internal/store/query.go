package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// where builds the WHERE clause of a filtered listing from fixed SQL fragments, numbering the parameters.
// Only the fragments written in this package reach the SQL; values always travel as parameters.
type where struct {
	parts []string
	args  []any
}

// add appends a condition written with a single "?" for its one parameter.
func (w *where) add(cond string, arg any) {
	w.args = append(w.args, arg)
	w.parts = append(w.parts, strings.Replace(cond, "?", "$"+strconv.Itoa(len(w.args)), 1))
}

// cursor appends the keyset condition "(col < at) or (col = at and id < id)" for a listing sorted descending.
func (w *where) cursor(col, idCol string, c keyCursor) {
	w.args = append(w.args, c.at, c.id)
	a, b := "$"+strconv.Itoa(len(w.args)-1), "$"+strconv.Itoa(len(w.args))
	w.parts = append(w.parts, "("+col+" < "+a+" OR ("+col+" = "+a+" AND "+idCol+" < "+b+"))")
}

// addN appends a condition with one "?" per argument, numbered in order.
func (w *where) addN(cond string, args ...any) {
	for _, a := range args {
		w.args = append(w.args, a)
		cond = strings.Replace(cond, "?", "$"+strconv.Itoa(len(w.args)), 1)
	}
	w.parts = append(w.parts, cond)
}

// sql returns the clause (with WHERE, or "" when there is no condition) followed by ORDER BY order LIMIT n.
func (w *where) sql(order string, limit int) string {
	var b strings.Builder
	if len(w.parts) > 0 {
		b.WriteString(" WHERE ")
		b.WriteString(strings.Join(w.parts, " AND "))
	}
	w.args = append(w.args, limit)
	b.WriteString(" ORDER BY " + order + " LIMIT $" + strconv.Itoa(len(w.args)))
	return b.String()
}

// MessageQuery selects messages across conversations for MessageSearch. Empty fields do not filter. Since and
// Until bound the message's time (provider time, else arrival): Since inclusive, Until exclusive.
type MessageQuery struct {
	Channel        string
	Status         string
	Direction      string
	ContactID      string
	ConversationID string
	Since, Until   time.Time
	Cursor         string
	Limit          int
}

const sqlMessageSearch = `SELECT ` + sqlMessageColumns + ` FROM messages`

// MessageSearch lists messages newest first with filters, across every conversation.
func (s *Store) MessageSearch(ctx context.Context, f MessageQuery) (Page[Message], error) {
	cur, has, err := parseKeyCursor(f.Cursor)
	if err != nil {
		return Page[Message]{}, err
	}
	var w where
	if f.Channel != "" {
		w.add("channel = ?", f.Channel)
	}
	if f.Status != "" {
		w.add("status = ?", f.Status)
	}
	if f.Direction != "" {
		w.add("direction = ?", f.Direction)
	}
	if f.ContactID != "" {
		w.add("contact_id = ?", f.ContactID)
	}
	if f.ConversationID != "" {
		w.add("conversation_id = ?", f.ConversationID)
	}
	if !f.Since.IsZero() {
		w.add("sort_at >= ?", ms(f.Since))
	}
	if !f.Until.IsZero() {
		w.add("sort_at < ?", ms(f.Until))
	}
	if has {
		w.cursor("sort_at", "id", cur)
	}
	limit := clampLimit(f.Limit)
	rows, err := s.drv.Read().Query(ctx, sqlMessageSearch+w.sql("sort_at DESC, id DESC", limit+1), w.args...)
	if err != nil {
		return Page[Message]{}, fmt.Errorf("message search: %w", err)
	}
	defer rows.Close()
	page := Page[Message]{Items: []Message{}}
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return Page[Message]{}, fmt.Errorf("message search scan: %w", err)
		}
		page.Items = append(page.Items, m)
	}
	if err := rows.Err(); err != nil {
		return Page[Message]{}, fmt.Errorf("message search: %w", err)
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		last := page.Items[limit-1]
		page.Next = keyCursor{at: ms(last.sortTime()), id: last.ID}.String()
	}
	return page, nil
}

// ConversationQuery selects conversations for ConversationSearch. Since and Until bound the time of the last
// message (Since inclusive, Until exclusive); Unread keeps conversations with unread messages. Q matches the
// contact's name, their number (when Q looks like one) or the text of any message, case-insensitively (ASCII
// letters on SQLite). WindowOpenAt keeps conversations whose 24-hour window is open at that time.
type ConversationQuery struct {
	Channel      string
	ContactID    string
	Unread       bool
	Q            string
	WindowOpenAt time.Time
	Since, Until time.Time
	Cursor       string
	Limit        int
}

// The text conditions of ConversationSearch: the contact's name, their number, or any message's text.
const (
	sqlConversationMatch = `(LOWER(c.name) LIKE ? ESCAPE '\' OR EXISTS (SELECT 1 FROM messages m
	WHERE m.conversation_id = v.id AND LOWER(m.text) LIKE ? ESCAPE '\'))`
	sqlConversationMatchPhone = `(LOWER(c.name) LIKE ? ESCAPE '\' OR c.phone LIKE ? ESCAPE '\' OR EXISTS (SELECT 1 FROM messages m
	WHERE m.conversation_id = v.id AND LOWER(m.text) LIKE ? ESCAPE '\'))`
)

const sqlConversationSearch = `SELECT ` + sqlConversationColumns + ` FROM conversations v JOIN contacts c ON c.id = v.contact_id`

// ConversationSearch lists conversations, most recent message first, with filters.
func (s *Store) ConversationSearch(ctx context.Context, f ConversationQuery) (Page[Conversation], error) {
	cur, has, err := parseKeyCursor(f.Cursor)
	if err != nil {
		return Page[Conversation]{}, err
	}
	var w where
	if f.Channel != "" {
		w.add("v.channel = ?", f.Channel)
	}
	if f.ContactID != "" {
		w.add("v.contact_id = ?", f.ContactID)
	}
	if f.Unread {
		w.add("v.unread_count > ?", 0)
	}
	if q := strings.TrimSpace(f.Q); q != "" {
		like := "%" + likeEscape(strings.ToLower(q)) + "%"
		if digits, ok := phoneQuery(q); ok {
			w.addN(sqlConversationMatchPhone, like, "%"+digits+"%", like)
		} else {
			w.addN(sqlConversationMatch, like, like)
		}
	}
	if !f.WindowOpenAt.IsZero() {
		w.add("v.window_expires_at > ?", ms(f.WindowOpenAt))
	}
	if !f.Since.IsZero() {
		w.add("v.last_message_at >= ?", ms(f.Since))
	}
	if !f.Until.IsZero() {
		w.add("v.last_message_at < ?", ms(f.Until))
	}
	if has {
		w.cursor("v.last_message_at", "v.id", cur)
	}
	limit := clampLimit(f.Limit)
	rows, err := s.drv.Read().Query(ctx, sqlConversationSearch+w.sql("v.last_message_at DESC, v.id DESC", limit+1), w.args...)
	if err != nil {
		return Page[Conversation]{}, fmt.Errorf("conversation search: %w", err)
	}
	defer rows.Close()
	page := Page[Conversation]{Items: []Conversation{}}
	for rows.Next() {
		c, err := scanConversation(rows)
		if err != nil {
			return Page[Conversation]{}, fmt.Errorf("conversation search scan: %w", err)
		}
		page.Items = append(page.Items, c)
	}
	if err := rows.Err(); err != nil {
		return Page[Conversation]{}, fmt.Errorf("conversation search: %w", err)
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		last := page.Items[limit-1]
		page.Next = keyCursor{at: ms(last.LastMessageAt), id: last.ID}.String()
	}
	return page, nil
}

const (
	sqlConversationClearUnread = `UPDATE conversations SET unread_count = 0, updated_at = $2 WHERE id = $1`
	sqlConversationLastInbound = `SELECT COALESCE(provider_id, '') FROM messages
	WHERE conversation_id = $1 AND direction = 'in' AND provider_id IS NOT NULL ORDER BY sort_at DESC, id DESC LIMIT 1`
)

// ConversationMarkRead sets a conversation's unread count to zero and returns it with the provider id of its
// newest inbound message ("" when it has none), which is what a read mark at the provider names.
func (s *Store) ConversationMarkRead(ctx context.Context, id string) (Conversation, string, error) {
	var lastIn string
	err := s.InTx(ctx, func(tx Tx) error {
		n, err := tx.Exec(ctx, sqlConversationClearUnread, id, ms(s.now()))
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("conversation %s: %w", id, ErrNotFound)
		}
		s.changed(tx, Change{Kind: ChangeRead, ConversationID: id})
		err = tx.QueryRow(ctx, sqlConversationLastInbound, id).Scan(&lastIn)
		if errors.Is(err, ErrNoRows) {
			lastIn = ""
			return nil
		}
		return err
	})
	if err != nil {
		return Conversation{}, "", fmt.Errorf("conversation mark read: %w", err)
	}
	c, err := s.ConversationGet(ctx, id)
	return c, lastIn, err
}

// EventQuery selects events for EventSearch. Since and Until bound the time received (Since inclusive, Until
// exclusive).
type EventQuery struct {
	State        string
	Channel      string
	Since, Until time.Time
	Cursor       string // the id of the last event of the previous page
	Limit        int
}

const sqlEventSearch = `SELECT ` + sqlEventColumns + ` FROM events`

// EventSearch lists events newest first, without bodies, with filters.
func (s *Store) EventSearch(ctx context.Context, f EventQuery) (Page[Event], error) {
	var w where
	if f.State != "" {
		w.add("state = ?", f.State)
	}
	if f.Channel != "" {
		w.add("channel = ?", f.Channel)
	}
	if !f.Since.IsZero() {
		w.add("received_at >= ?", ms(f.Since))
	}
	if !f.Until.IsZero() {
		w.add("received_at < ?", ms(f.Until))
	}
	if f.Cursor != "" {
		w.add("id < ?", f.Cursor)
	}
	limit := clampLimit(f.Limit)
	rows, err := s.drv.Read().Query(ctx, sqlEventSearch+w.sql("id DESC", limit+1), w.args...)
	if err != nil {
		return Page[Event]{}, fmt.Errorf("event search: %w", err)
	}
	defer rows.Close()
	page := Page[Event]{Items: []Event{}}
	for rows.Next() {
		var ev Event
		var auth string
		var recv, proc int64
		c := &ev.Counts
		if err := rows.Scan(&ev.ID, &ev.Channel, &auth, &recv, &ev.RemoteAddr, &ev.ContentType, &ev.Shape, &ev.State,
			&ev.Error, &ev.Attempts, &proc, &c.Received, &c.Stored, &c.Statuses, &c.Updated, &c.Notices); err != nil {
			return Page[Event]{}, fmt.Errorf("event search scan: %w", err)
		}
		ev.AuthChannels = splitList(auth)
		ev.ReceivedAt, ev.ProcessedAt = fromMS(recv), fromMS(proc)
		page.Items = append(page.Items, ev)
	}
	if err := rows.Err(); err != nil {
		return Page[Event]{}, fmt.Errorf("event search: %w", err)
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		page.Next = page.Items[limit-1].ID
	}
	return page, nil
}
