package inbound

import (
	"context"
	"slices"

	"github.com/wagate/wagate/internal/phone"
	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/wa"
)

// emitReceived records message.received for a newly stored inbound message, when a subscriber wants it.
func (p *Processor) emitReceived(ctx context.Context, tx store.Tx, msg *store.Message, m *wa.InboundMessage, in store.ContactInput) error {
	if !p.st.Wants(store.EventMessageReceived, msg.Channel) {
		return nil
	}
	c := &store.Contact{ID: msg.ContactID, WAID: m.From, UserID: in.UserID, Name: in.Name, ProfileName: in.Name, Username: in.Username,
		Phone: phone.FromWAID(m.From)}
	out := *msg
	out.Raw = nil
	return p.st.Emit(ctx, tx, &store.DomainEvent{Type: store.EventMessageReceived, Channel: msg.Channel,
		ConversationID: msg.ConversationID, SourceEventID: msg.EventID, Message: &out, Contact: c, At: msg.ProviderTime})
}

// emitTemplate records template.status for a template notice, when a subscriber wants it.
func (p *Processor) emitTemplate(ctx context.Context, tx store.Tx, n *store.Notice) error {
	return p.st.Emit(ctx, tx, &store.DomainEvent{Type: store.EventTemplateStatus, Channel: n.Channel, SourceEventID: n.EventID,
		Notice: n, At: n.CreatedAt})
}

// emitWebhook records provider.webhook once per channel the webhook was applied to, for subscribers that take
// the provider's body unchanged.
func (p *Processor) emitWebhook(ctx context.Context, tx store.Tx, ev *store.Event, channels []string) error {
	for _, ch := range channels {
		if err := p.st.Emit(ctx, tx, &store.DomainEvent{Type: store.EventWebhook, Channel: ch, SourceEventID: ev.ID, At: ev.ReceivedAt}); err != nil {
			return err
		}
	}
	return nil
}

func appendNew(l []string, s string) []string {
	if slices.Contains(l, s) {
		return l
	}
	return append(l, s)
}
