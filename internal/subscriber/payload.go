package subscriber

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wagate/wagate/internal/store"
)

// envelope is an event in wagate's format.
type envelope struct {
	ID             string          `json:"id"`
	Type           string          `json:"type"`
	Timestamp      time.Time       `json:"timestamp"`
	Channel        string          `json:"channel,omitempty"`
	ConversationID string          `json:"conversation_id,omitempty"`
	Sequence       int64           `json:"sequence,omitempty"`
	Data           json.RawMessage `json:"data"`
}

// body builds the request body of a delivery in the subscription's format.
func (d *Deliverer) body(ctx context.Context, w *store.DeliveryWork) ([]byte, error) {
	ev := &w.Event
	switch w.Subscription.Format {
	case FormatMeta:
		if ev.SourceEventID == "" {
			// A test event: a Cloud-shaped body with no changes.
			return []byte(`{"object":"whatsapp_business_account","entry":[]}`), nil
		}
		raw, err := d.st.EventGet(ctx, nil, ev.SourceEventID)
		if err != nil {
			return nil, fmt.Errorf("provider webhook %s: %w", ev.SourceEventID, err)
		}
		return raw.Body, nil
	case FormatWhatsAble:
		return d.whatsable(ctx, ev)
	}
	data := json.RawMessage(ev.Data)
	if !json.Valid(data) {
		data = json.RawMessage(`{}`)
	}
	return json.Marshal(envelope{ID: ev.ID, Type: ev.Type, Timestamp: ev.CreatedAt.UTC(), Channel: ev.Channel,
		ConversationID: ev.ConversationID, Sequence: ev.Sequence, Data: data})
}

// whatsableTurn is one message of last_messages.
type whatsableTurn struct {
	Type        string `json:"type"` // user or bot
	Content     string `json:"content"`
	Timestamp   string `json:"timestamp"`
	ContentType string `json:"content_type"`
}

// whatsableHistory is how many recent messages last_messages and conversation_paragraph hold.
const whatsableHistory = 10

// whatsable builds WhatsAble's bodies: message_status for status changes and failures, incoming_message for
// inbound messages. docs/events.md maps each field to wagate's data.
func (d *Deliverer) whatsable(ctx context.Context, ev *store.AppEvent) ([]byte, error) {
	var data struct {
		Message   *store.Message `json:"message"`
		Contact   *store.Contact `json:"contact"`
		Status    string         `json:"status"`
		Timestamp time.Time      `json:"timestamp"`
	}
	if err := json.Unmarshal(ev.Data, &data); err != nil && ev.Type != store.EventTest {
		return nil, fmt.Errorf("event %s data: %w", ev.ID, err)
	}
	switch ev.Type {
	case store.EventMessageStatus, store.EventMessageFailed:
		id := ""
		if data.Message != nil {
			id = data.Message.ProviderID
			if id == "" {
				id = data.Message.ID
			}
		}
		return json.Marshal(map[string]any{"event": "message_status", "data": map[string]any{
			"message_id": id, "status": data.Status, "timestamp": unixText(data.Timestamp)}})
	case store.EventTest:
		return json.Marshal(map[string]any{"event": "message_status", "data": map[string]any{
			"message_id": "test", "status": "test", "timestamp": unixText(ev.CreatedAt)}})
	case store.EventMessageReceived:
	default:
		return nil, fmt.Errorf("the whatsable format carries no %s events", ev.Type)
	}
	m := data.Message
	if m == nil {
		return nil, fmt.Errorf("event %s has no message", ev.ID)
	}
	var recent []store.Message
	if ev.ConversationID != "" {
		page, err := d.st.MessageList(ctx, store.MessageFilter{ConversationID: ev.ConversationID, Limit: whatsableHistory})
		if err != nil {
			return nil, err
		}
		recent = page.Items
	}
	slices.Reverse(recent) // oldest first
	if !slices.ContainsFunc(recent, func(r store.Message) bool { return r.ID == m.ID }) {
		recent = append(recent, *m)
	}
	turns := make([]whatsableTurn, 0, len(recent))
	var para strings.Builder
	var lastBot *store.Message
	for i := range recent {
		r := &recent[i]
		who, label := "user", "User"
		if r.Direction == store.DirectionOut {
			who, label = "bot", "Bot"
			lastBot = r
		}
		content := messageText(r)
		turns = append(turns, whatsableTurn{Type: who, Content: content, Timestamp: isoTime(msgTime(r)), ContentType: r.Type})
		fmt.Fprintf(&para, "%s: %s\n", label, content)
	}
	c := data.Contact
	if c == nil {
		c = &store.Contact{}
	}
	phone := strings.TrimPrefix(c.Phone, "+")
	if phone == "" {
		phone = c.WAID
	}
	userID := c.WAID
	if userID == "" {
		userID = c.UserID
	}
	out := map[string]any{
		"last_messages":          turns,
		"conversation_paragraph": strings.TrimRight(para.String(), "\n"),
		"phone_number":           phone,
		"recipient_name":         c.Name,
		"user_id":                userID,
		"last_message_of_user":   messageText(m),
		"last_message_of_bot":    "",
		"message_type":           m.Type,
		"user_timestamp":         isoTime(msgTime(m)),
		"bot_timestamp":          "",
		"attachment_url":         attachmentURL(m),
	}
	if lastBot != nil {
		out["last_message_of_bot"], out["bot_timestamp"] = messageText(lastBot), isoTime(msgTime(lastBot))
	}
	return json.Marshal(map[string]any{"event": "incoming_message", "data": out})
}

func msgTime(m *store.Message) time.Time {
	if !m.ProviderTime.IsZero() {
		return m.ProviderTime
	}
	return m.CreatedAt
}

func isoTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

func unixText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return fmt.Sprint(t.Unix())
}

// messageText is what a person would read of a message: its text or caption, else its type in brackets.
func messageText(m *store.Message) string {
	if m.Text != "" {
		return m.Text
	}
	return "[" + m.Type + "]"
}

// attachmentURL is the media URL the provider gave in the message, when it gave one (Cloud API webhooks carry
// a short-lived "url" next to the media id); "" otherwise.
func attachmentURL(m *store.Message) string {
	if m.MediaID == "" || len(m.Payload) == 0 {
		return ""
	}
	var p map[string]json.RawMessage
	if json.Unmarshal(m.Payload, &p) != nil {
		return ""
	}
	for _, k := range []string{"url", "link"} {
		var s string
		if json.Unmarshal(p[k], &s) == nil && (strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://")) {
			return s
		}
	}
	return ""
}
