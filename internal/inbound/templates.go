package inbound

import (
	"context"

	"github.com/wagate/wagate/internal/store"
)

// OnTemplate sets what runs, inside the processing transaction, for each change that carries template status
// updates (APPROVED, REJECTED, PAUSED...) of channel ("" when the webhook named none): wagate enqueues a sync of
// that channel's templates there, so that the sync runs after the commit without holding up ingest. Call it
// before processing starts.
func (p *Processor) OnTemplate(fn func(ctx context.Context, tx store.Tx, channel string) error) {
	p.onTemplate = fn
}
