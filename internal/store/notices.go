package store

import (
	"context"
	"fmt"
)

const (
	sqlNoticeInsert = `INSERT INTO notices (id, channel, kind, code, title, detail, payload, event_id, created_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`
	sqlNoticeList = `SELECT id, channel, kind, code, title, detail, payload, event_id, created_at FROM notices
	WHERE (CAST($1 AS TEXT) = '' OR kind = $1) AND (CAST($2 AS TEXT) = '' OR id < $2) ORDER BY id DESC LIMIT $3`
)

// NoticeInsert keeps something a provider said that is not a message or receipt.
func (s *Store) NoticeInsert(ctx context.Context, tx Tx, n *Notice) error {
	if n.ID == "" {
		n.ID = NewID()
	}
	if n.CreatedAt.IsZero() {
		n.CreatedAt = s.now()
	}
	_, err := tx.Exec(ctx, sqlNoticeInsert, n.ID, n.Channel, n.Kind, n.Code, n.Title, n.Detail, rawText(n.Payload), n.EventID, ms(n.CreatedAt))
	if err != nil {
		return fmt.Errorf("notice insert: %w", err)
	}
	return nil
}

// NoticeFilter selects notices.
type NoticeFilter struct {
	Kind   string
	Cursor string
	Limit  int
}

// NoticeList lists notices newest first.
func (s *Store) NoticeList(ctx context.Context, f NoticeFilter) (Page[Notice], error) {
	limit := clampLimit(f.Limit)
	rows, err := s.drv.Read().Query(ctx, sqlNoticeList, f.Kind, f.Cursor, limit+1)
	if err != nil {
		return Page[Notice]{}, fmt.Errorf("notice list: %w", err)
	}
	defer rows.Close()
	page := Page[Notice]{Items: []Notice{}}
	for rows.Next() {
		var n Notice
		var payload string
		var created int64
		if err := rows.Scan(&n.ID, &n.Channel, &n.Kind, &n.Code, &n.Title, &n.Detail, &payload, &n.EventID, &created); err != nil {
			return Page[Notice]{}, fmt.Errorf("notice list scan: %w", err)
		}
		n.Payload, n.CreatedAt = textRaw(payload), fromMS(created)
		page.Items = append(page.Items, n)
	}
	if err := rows.Err(); err != nil {
		return Page[Notice]{}, fmt.Errorf("notice list: %w", err)
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		page.Next = page.Items[limit-1].ID
	}
	return page, nil
}
