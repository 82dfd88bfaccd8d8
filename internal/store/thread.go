package store

import (
	"context"
	"fmt"
)

// MessagesByProviderID returns the messages a channel knows under the given provider ids, by provider id,
// without their status history: what a thread needs to show the messages that others quote or react to.
// Ids with no message are left out; at most 500 ids are looked up.
func (s *Store) MessagesByProviderID(ctx context.Context, channel string, ids []string) (map[string]Message, error) {
	out := map[string]Message{}
	if len(ids) == 0 {
		return out, nil
	}
	ids = ids[:min(len(ids), 500)]
	args := make([]any, 0, len(ids)+1)
	args = append(args, channel)
	for _, id := range ids {
		args = append(args, id)
	}
	rows, err := s.drv.Read().Query(ctx, inStatement(sqlMessageByProviderIDs, 2, len(ids), ")"), args...)
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
