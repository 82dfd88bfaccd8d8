package inbound

import (
	"context"

	"github.com/wagate/wagate/internal/store"
)

// MediaEnqueuer enqueues the fetch of a stored inbound message's media in tx, the transaction that stores the
// message, so that the message and its fetch job commit together.
type MediaEnqueuer func(ctx context.Context, tx store.Tx, messageID string) error

// SetMedia makes the processor enqueue a media fetch for every new inbound message with media. Call it before
// processing starts.
func (p *Processor) SetMedia(enqueue MediaEnqueuer) { p.media = enqueue }
