package inbound

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wagate/wagate/internal/phone"
	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/wa"
	"github.com/wagate/wagate/internal/webhook"
)

// Processor applies parsed webhooks to the store.
type Processor struct {
	st       *store.Store
	channels []*Channel
	byName   map[string]*Channel
	byPhone  map[string]*Channel
	known    *senderCache
	media    MediaEnqueuer // nil: media stay pending
	// onTemplate runs in the transaction of a change that carries template status updates (see OnTemplate).
	onTemplate func(ctx context.Context, tx store.Tx, channel string) error
}

// Outcome is what processing one event did, for metrics and logs.
type Outcome struct {
	State    string
	Counts   store.Counts
	Receipts map[store.ReceiptOutcome]int
	// senders are the contacts and conversations this event resolved, to remember once it commits.
	senders []sender
}

// Committed tells the processor that the transaction of out committed, so that what it learnt of its senders
// can be reused.
func (p *Processor) Committed(out Outcome) {
	for _, s := range out.senders {
		p.known.put(s)
	}
}

// NewProcessor returns a Processor for the given channels; the first is the default channel.
func NewProcessor(st *store.Store, channels []*Channel) *Processor {
	p := &Processor{st: st, channels: channels, byName: map[string]*Channel{}, byPhone: map[string]*Channel{}, known: newSenderCache(50_000)}
	for _, ch := range channels {
		p.byName[ch.Name] = ch
		if ch.PhoneNumberID != "" {
			p.byPhone[ch.PhoneNumberID] = ch
		}
	}
	return p
}

// Channels returns the configured channels, the default first.
func (p *Processor) Channels() []*Channel { return p.channels }

// Channel returns the channel with this name.
func (p *Processor) Channel(name string) (*Channel, bool) {
	ch, ok := p.byName[name]
	return ch, ok
}

// Process parses an event's body and applies it in tx, then records the event's final state and counts. A body
// that cannot be parsed, or whose every part names a channel it is not authenticated for, ends failed with
// the reason; that is not an error. An error means the database failed and tx must be rolled back.
func (p *Processor) Process(ctx context.Context, tx store.Tx, ev *store.Event) (Outcome, error) {
	hook, err := webhook.Parse(ev.Body)
	return p.ProcessParsed(ctx, tx, ev, hook, err, false)
}

// ProcessParsed is Process for a body already parsed (parseErr is Parse's error). With insert, ev is not stored
// yet: ProcessParsed only sets its final state, and the caller inserts it in the same transaction (ev.ID must
// be set, since the effects name it); otherwise the stored event is updated.
func (p *Processor) ProcessParsed(ctx context.Context, tx store.Tx, ev *store.Event, hook wa.Webhook, parseErr error, insert bool) (Outcome, error) {
	outs, err := p.ProcessMany(ctx, tx, []Parsed{{Event: ev, Hook: hook, ParseErr: parseErr}}, insert)
	if err != nil {
		return Outcome{}, err
	}
	return outs[0], nil
}

// Parsed is an event with Parse's results for its body.
type Parsed struct {
	Event    *store.Event
	Hook     wa.Webhook
	ParseErr error
}

// ProcessMany is ProcessParsed for many events in one transaction, with the effects of processing them one
// after the other, except that the inbound messages of all the events are stored before all their receipts
// (concurrent webhooks have no order anyway). Their messages and their receipts are written in a few statements
// (see batch).
func (p *Processor) ProcessMany(ctx context.Context, tx store.Tx, evs []Parsed, insert bool) ([]Outcome, error) {
	outs := make([]Outcome, len(evs))
	type routed struct {
		problems []string
		passed   []string // channels the webhook was applied to
		applied  int
	}
	rs := make([]routed, len(evs))
	var b batch
	for i, e := range evs {
		if e.ParseErr != nil {
			continue
		}
		out, r := &outs[i], &rs[i]
		out.Receipts = map[store.ReceiptOutcome]int{}
		for j := range e.Hook.Changes {
			ch := &e.Hook.Changes[j]
			out.Counts.Received += len(ch.Messages)
			out.Counts.Statuses += len(ch.Statuses)
			name, why := p.route(e.Event, ch)
			if why != "" {
				r.problems = append(r.problems, why)
				continue
			}
			if err := p.applyChange(ctx, tx, &b, e.Event, name, ch, out); err != nil {
				return nil, err
			}
			r.applied++
			r.passed = appendNew(r.passed, name)
		}
	}
	if err := p.flush(ctx, tx, &b); err != nil {
		return nil, err
	}
	for i, e := range evs {
		var err error
		if e.ParseErr != nil {
			outs[i], err = p.finish(ctx, tx, e.Event, "", store.EventFailed, e.ParseErr.Error(), Outcome{}, insert)
		} else {
			r := &rs[i]
			if err := p.emitWebhook(ctx, tx, e.Event, r.passed); err != nil {
				return nil, err
			}
			state, reason := store.EventProcessed, strings.Join(r.problems, "; ")
			if r.applied == 0 && len(r.problems) > 0 {
				state = store.EventFailed
			}
			outs[i], err = p.finish(ctx, tx, e.Event, string(e.Hook.Shape), state, reason, outs[i], insert)
		}
		if err != nil {
			return nil, err
		}
	}
	return outs, nil
}

// batch holds the inbound messages and the receipts of events processed together until flush writes them, each
// kind in a few statements whatever their number.
type batch struct {
	msgs     []*store.Message
	msgFrom  []pendingMessage // what msgs[i] came from
	receipts []store.ReceiptItem
	rcptOut  []*Outcome // the outcome receipts[i] counts in
}

// pendingMessage is what flush needs of an inbound message once it is stored.
type pendingMessage struct {
	out *Outcome
	m   *wa.InboundMessage
	in  store.ContactInput
}

// flush stores the batch's messages, then applies its receipts, and counts what they did in their outcomes.
func (p *Processor) flush(ctx context.Context, tx store.Tx, b *batch) error {
	if len(b.msgs) > 0 {
		stored, err := p.st.MessageInsertMany(ctx, tx, b.msgs)
		if err != nil {
			return err
		}
		for i, msg := range b.msgs {
			if !stored[i] {
				continue
			}
			from := b.msgFrom[i]
			from.out.Counts.Stored++
			if msg.MediaStatus == store.MediaPending && p.media != nil {
				if err := p.media(ctx, tx, msg.ID); err != nil {
					return err
				}
			}
			if err := p.emitReceived(ctx, tx, msg, from.m, from.in); err != nil {
				return err
			}
		}
	}
	if len(b.receipts) > 0 {
		res, err := p.st.ReceiptApplyMany(ctx, tx, b.receipts)
		if err != nil {
			return err
		}
		for i, r := range res {
			out := b.rcptOut[i]
			out.Receipts[r]++
			if r == store.ReceiptUpdated {
				out.Counts.Updated++
			}
		}
	}
	return nil
}

func (p *Processor) finish(ctx context.Context, tx store.Tx, ev *store.Event, shape, state, reason string, out Outcome, insert bool) (Outcome, error) {
	out.State = state
	if insert {
		ev.Shape, ev.State, ev.Error, ev.Counts, ev.Attempts, ev.ProcessedAt = shape, state, reason, out.Counts, 1, time.Now()
		return out, nil
	}
	if err := p.st.EventFinish(ctx, tx, ev.ID, shape, state, reason, out.Counts); err != nil {
		return Outcome{}, err
	}
	ev.State, ev.Error, ev.Counts, ev.Shape = state, reason, out.Counts, shape
	return out, nil
}

// route decides which channel a change belongs to: the channel of the URL when there is one; otherwise the
// channel whose phone number id the body names; otherwise the only authenticated channel without a phone number
// id (a demo or 360dialog channel). It returns a reason when the change cannot be placed.
func (p *Processor) route(ev *store.Event, ch *wa.Change) (string, string) {
	name := ev.Channel
	if name == "" {
		if c, ok := p.byPhone[ch.PhoneNumberID]; ok && ch.PhoneNumberID != "" {
			name = c.Name
		} else {
			var open []string
			for _, a := range ev.AuthChannels {
				if c, ok := p.byName[a]; ok && c.PhoneNumberID == "" {
					open = append(open, a)
				}
			}
			if len(open) != 1 {
				if ch.PhoneNumberID != "" {
					return "", fmt.Sprintf("phone_number_id %s names no configured channel: add a channel with that phone_number_id, or register the channel's own webhook URL", ch.PhoneNumberID)
				}
				return "", "the body names no phone_number_id and several channels could own it: register each channel's own webhook URL (/webhooks/whatsapp/{channel})"
			}
			name = open[0]
		}
	}
	if _, ok := p.byName[name]; !ok {
		return "", fmt.Sprintf("channel %q is not configured", name)
	}
	if !slices.Contains(ev.AuthChannels, name) {
		return "", fmt.Sprintf("the request was not authenticated for channel %q", name)
	}
	return name, ""
}

// applyChange applies one change of a webhook: its messages and receipts join b, the rest is written at once.
func (p *Processor) applyChange(ctx context.Context, tx store.Tx, b *batch, ev *store.Event, channel string, ch *wa.Change, out *Outcome) error {
	profiles := map[string]wa.Contact{}
	for _, c := range ch.Contacts {
		if c.WAID != "" {
			profiles["w:"+c.WAID] = c
		}
		if c.UserID != "" {
			profiles["u:"+c.UserID] = c
		}
	}
	for i := range ch.Messages {
		if err := p.applyMessage(ctx, tx, b, ev, channel, &ch.Messages[i], profiles, out); err != nil {
			return err
		}
	}
	for _, r := range ch.Statuses {
		b.receipts = append(b.receipts, store.ReceiptItem{Channel: channel, EventID: ev.ID, Receipt: r})
		b.rcptOut = append(b.rcptOut, out)
	}
	for _, e := range ch.Errors {
		payload, _ := json.Marshal(e)
		n := store.Notice{Channel: channel, Kind: "error", Code: e.Code, Title: e.Title, Detail: firstNonEmpty(e.Details, e.Message), Payload: payload, EventID: ev.ID}
		if err := p.st.NoticeInsert(ctx, tx, &n); err != nil {
			return err
		}
		out.Counts.Notices++
	}
	for _, t := range ch.Templates {
		detail := strings.TrimSpace(fmt.Sprintf("%s %s %s", t.Name, t.Language, t.Reason))
		n := store.Notice{Channel: channel, Kind: "template", Title: t.Event, Detail: detail, Payload: t.Raw, EventID: ev.ID}
		if err := p.st.NoticeInsert(ctx, tx, &n); err != nil {
			return err
		}
		if err := p.emitTemplate(ctx, tx, &n); err != nil {
			return err
		}
		out.Counts.Notices++
	}
	if len(ch.Templates) > 0 && p.onTemplate != nil {
		if err := p.onTemplate(ctx, tx, channel); err != nil {
			return err
		}
	}
	if len(ch.Unhandled) > 0 {
		n := store.Notice{Channel: channel, Kind: "field:" + ch.Field, Title: ch.Field, Payload: ch.Unhandled, EventID: ev.ID}
		if err := p.st.NoticeInsert(ctx, tx, &n); err != nil {
			return err
		}
		out.Counts.Notices++
	}
	return nil
}

// applyMessage resolves the sender of an inbound message and adds the message to b.
func (p *Processor) applyMessage(ctx context.Context, tx store.Tx, b *batch, ev *store.Event, channel string, m *wa.InboundMessage, profiles map[string]wa.Contact, out *Outcome) error {
	in := store.ContactInput{WAID: m.From, UserID: m.FromUserID}
	prof, ok := profiles["w:"+m.From]
	if !ok || m.From == "" {
		prof = profiles["u:"+m.FromUserID]
	}
	in.Name, in.Username = prof.Name, prof.Username
	if in.UserID == "" {
		in.UserID = prof.UserID
	}
	if m.ID == "" {
		return nil // nothing to deduplicate on; the raw event keeps it
	}
	who := sender{channel: channel, in: in}
	if known, ok := p.known.get(who); ok {
		who = known
	} else {
		who.in.Phone = phone.FromWAID(m.From)
		if who.in.Phone == "" && who.in.UserID == "" {
			// Nothing identifies the sender (a malformed message): keep it under a contact named by its raw
			// sender field so that it is visible rather than dropped.
			if m.From == "" {
				who.in.UserID = "unknown"
			} else {
				who.in.UserID = "raw:" + m.From
			}
		}
		c, err := p.st.ContactResolve(ctx, tx, who.in)
		if err != nil {
			return err
		}
		if who.conversationID, err = p.st.ConversationEnsure(ctx, tx, channel, c.ID); err != nil {
			return err
		}
		who.contactID = c.ID
		who.in = in // remembered under what the webhook said
		out.senders = append(out.senders, who)
	}
	msg := &store.Message{
		Channel: channel, ConversationID: who.conversationID, ContactID: who.contactID, Direction: store.DirectionIn, ProviderID: m.ID,
		Type: m.Type, Text: m.Text, Payload: m.Payload, Raw: m.Raw, Referral: m.Referral, Errors: m.Errors,
		ProviderTime: m.Timestamp, EventID: ev.ID,
	}
	if m.Context != nil {
		msg.ReplyTo = m.Context.MessageID
		msg.Forwarded = m.Context.Forwarded || m.Context.FrequentlyForwarded
	}
	if m.Media != nil && m.Media.ID != "" {
		msg.MediaID, msg.MediaMime, msg.MediaSHA256, msg.MediaFilename = m.Media.ID, m.Media.MimeType, m.Media.SHA256, m.Media.Filename
		msg.MediaStatus = store.MediaPending
	}
	b.msgs = append(b.msgs, msg)
	b.msgFrom = append(b.msgFrom, pendingMessage{out: out, m: m, in: who.in})
	return nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
