package sender

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/wa"
)

// RetryWithKey is Retry with an idempotency key: the same key for the same failed message returns the retry it
// made first (and false) instead of sending again; the same key for another message or send is
// store.ErrIdempotencyConflict. An empty key is Retry.
func (s *Service) RetryWithKey(ctx context.Context, id, key string) (store.Message, bool, error) {
	if key == "" {
		m, err := s.Retry(ctx, id)
		return m, err == nil, err
	}
	old, err := s.st.MessageGet(ctx, id)
	if err != nil {
		return store.Message{}, false, err
	}
	sum := sha256.Sum256([]byte(old.Channel + "\x00retry\x00" + old.ID))
	hash := hex.EncodeToString(sum[:])
	if old.Direction != store.DirectionOut || old.Status != wa.StatusFailed {
		// A retry is a new message, so the original stays failed and a repeated retry gets past this check.
		return store.Message{}, false, fmt.Errorf("%w: message %s is %s %s", ErrNotRetryable, id, old.Direction, old.Status)
	}
	var msg wa.Outbound
	if err := json.Unmarshal(old.Request, &msg); err != nil {
		return store.Message{}, false, fmt.Errorf("retry %s: stored request: %w", id, err)
	}
	var out store.Message
	var created bool
	err = s.commits.Do(ctx, func(tx store.Tx) error {
		m := store.Message{Channel: old.Channel, Type: old.Type, Text: old.Text, Payload: old.Payload, ReplyTo: old.ReplyTo,
			Request: old.Request, RetryOf: old.ID, IdempotencyKey: key, RequestHash: hash}
		var err error
		out, created, err = s.st.OutboundCreate(ctx, tx, &m, msg.To)
		if err != nil || !created {
			return err
		}
		return s.q.InsertTx(ctx, tx, SendArgs{MessageID: out.ID}, nil)
	})
	if err != nil {
		return store.Message{}, false, err
	}
	return out, created, nil
}
