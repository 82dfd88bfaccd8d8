package store

import (
	"context"
	"fmt"
	"strings"
)

const sqlMessagesByProvider = `SELECT ` + sqlMessageColumns + ` FROM messages WHERE channel = $1 AND provider_id IN (`

// MessagesByProviderID returns the messages a channel knows under the given provider ids, by provider id,
// without their status history: what a thread needs to show the messages that others quote or react to.
// Ids with no message are left out; at most 500 ids are looked up.
func (s *Store) MessagesByProviderID(ctx context.Context, channel string, ids []string) (map[string]Message, error) {
	out := map[string]Message{}
	if len(ids) == 0 {
		return out, nil
	}
	ids = ids[:min(len(ids), 500)]
	var b strings.Builder
	b.WriteString(sqlMessagesByProvider)
	args := make([]any, 0, len(ids)+1)
	args = append(args, channel)
	for i, id := range ids {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "$%d", i+2)
		args = append(args, id)
	}
	b.WriteString(")")
	rows, err := s.drv.Read().Query(ctx, b.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("messages by provider id: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, fmt.Errorf("messages by provider id scan: %w", err)
		}
		out[m.ProviderID] = m
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("messages by provider id: %w", err)
	}
	return out, nil
}
