package store

import (
	"encoding/json"
	"time"

	"github.com/wagate/wagate/internal/wa"
)

// Event states.
const (
	EventPending   = "pending"   // stored, not processed yet (or waiting for a retry)
	EventProcessed = "processed" // processed; its effects are in the store
	EventFailed    = "failed"    // could not be parsed or applied; kept with its reason for replay
)

// Event is a raw provider webhook as it arrived, with its processing state.
type Event struct {
	ID           string    `json:"id"`
	Channel      string    `json:"channel"`       // the channel named by the URL, or "" for the shared path
	AuthChannels []string  `json:"auth_channels"` // channels whose credentials the request presented (or open ones)
	ReceivedAt   time.Time `json:"received_at"`
	RemoteAddr   string    `json:"remote_addr,omitempty"`
	ContentType  string    `json:"content_type,omitempty"`
	Body         []byte    `json:"-"`
	Shape        string    `json:"shape,omitempty"`
	State        string    `json:"state"`
	Error        string    `json:"error,omitempty"`
	Attempts     int       `json:"attempts"`
	ProcessedAt  time.Time `json:"processed_at,omitzero"`
	Counts       Counts    `json:"counts"`
}

// Counts is what processing an event did.
type Counts struct {
	Received int `json:"received"` // inbound messages in the body
	Stored   int `json:"stored"`   // of those, new ones (a provider retry stores 0)
	Statuses int `json:"statuses"` // receipts in the body
	Updated  int `json:"updated"`  // receipts that moved a message's status forward
	Notices  int `json:"notices"`  // out-of-band errors, template updates and other fields kept
}

// Add returns the sum of two Counts.
func (c Counts) Add(o Counts) Counts {
	return Counts{c.Received + o.Received, c.Stored + o.Stored, c.Statuses + o.Statuses, c.Updated + o.Updated, c.Notices + o.Notices}
}

// Contact is a WhatsApp user known to wagate.
type Contact struct {
	ID     string `json:"id"`
	Phone  string `json:"phone,omitempty"` // E.164
	WAID   string `json:"wa_id,omitempty"`
	UserID string `json:"user_id,omitempty"` // business-scoped user id
	Name   string `json:"name,omitempty"`
	// ProfileName is the name on the contact's WhatsApp profile, from their last message. Name is the same
	// unless NameSet: staff or the API named the contact, and that name stays.
	ProfileName string    `json:"profile_name,omitempty"`
	NameSet     bool      `json:"name_set,omitempty"`
	Username    string    `json:"username,omitempty"`
	ExternalRef string    `json:"external_ref,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// ContactInput identifies a contact as a webhook names them. At least one of Phone and UserID is set.
type ContactInput struct {
	Phone    string // E.164, or ""
	WAID     string
	UserID   string
	Name     string
	Username string
}

// Conversation is the thread between one channel and one contact.
type Conversation struct {
	ID              string    `json:"id"`
	Channel         string    `json:"channel"`
	Contact         Contact   `json:"contact"`
	LastMessageAt   time.Time `json:"last_message_at,omitzero"`
	LastMessageID   string    `json:"last_message_id,omitempty"`
	LastPreview     string    `json:"last_preview,omitempty"`
	LastDirection   string    `json:"last_direction,omitempty"`
	UnreadCount     int       `json:"unread_count"`
	LastInboundAt   time.Time `json:"last_inbound_at,omitzero"`
	WindowExpiresAt time.Time `json:"window_expires_at,omitzero"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
}

// WindowOpen reports whether the 24-hour customer-service window is open at now.
func (c Conversation) WindowOpen(now time.Time) bool {
	return !c.WindowExpiresAt.IsZero() && now.Before(c.WindowExpiresAt)
}

// Message directions.
const (
	DirectionIn  = "in"
	DirectionOut = "out"
)

// Media states of a message.
const (
	MediaNone    = ""
	MediaPending = "pending"
	MediaReady   = "ready"
	MediaFailed  = "failed"
)

// Message is one WhatsApp message in either direction.
type Message struct {
	ID             string             `json:"id"`
	Channel        string             `json:"channel"`
	ConversationID string             `json:"conversation_id"`
	ContactID      string             `json:"contact_id"`
	Direction      string             `json:"direction"`
	ProviderID     string             `json:"provider_id,omitempty"`
	Type           string             `json:"type"`
	Text           string             `json:"text,omitempty"`
	Payload        json.RawMessage    `json:"payload,omitempty"`
	Raw            json.RawMessage    `json:"raw,omitempty"`
	ReplyTo        string             `json:"reply_to,omitempty"` // provider id of the quoted message
	Forwarded      bool               `json:"forwarded,omitempty"`
	Referral       json.RawMessage    `json:"referral,omitempty"`
	Errors         []wa.ProviderError `json:"errors,omitempty"`
	MediaID        string             `json:"media_id,omitempty"`
	MediaMime      string             `json:"media_mime,omitempty"`
	MediaSHA256    string             `json:"media_sha256,omitempty"`
	MediaFilename  string             `json:"media_filename,omitempty"`
	MediaStatus    string             `json:"media_status,omitempty"`
	Status         wa.Status          `json:"status"`
	StatusAt       time.Time          `json:"status_at,omitzero"`
	ErrorCode      int                `json:"error_code,omitempty"`
	ErrorTitle     string             `json:"error_title,omitempty"`
	ErrorDetail    string             `json:"error_detail,omitempty"`
	ProviderTime   time.Time          `json:"provider_time,omitzero"`
	EventID        string             `json:"event_id,omitempty"`
	// Outbound only: the validated request (wa.Outbound as JSON), the application's Idempotency-Key and a hash
	// of its request, send attempts so far, the class of the last provider error, and the message this one
	// retries.
	Request        json.RawMessage `json:"request,omitempty"`
	IdempotencyKey string          `json:"idempotency_key,omitempty"`
	RequestHash    string          `json:"-"`
	Attempts       int             `json:"attempts,omitempty"`
	ErrorClass     string          `json:"error_class,omitempty"`
	RetryOf        string          `json:"retry_of,omitempty"`
	CreatedAt      time.Time       `json:"created_at"`
	UpdatedAt      time.Time       `json:"updated_at"`
	History        []StatusEntry   `json:"history,omitempty"`
}

// StatusEntry is one receipt in a message's history.
type StatusEntry struct {
	Status       wa.Status       `json:"status"`
	ProviderTime time.Time       `json:"provider_time,omitzero"`
	RecordedAt   time.Time       `json:"recorded_at"`
	ErrorCode    int             `json:"error_code,omitempty"`
	ErrorTitle   string          `json:"error_title,omitempty"`
	ErrorDetail  string          `json:"error_detail,omitempty"`
	Conversation json.RawMessage `json:"conversation,omitempty"`
	Pricing      json.RawMessage `json:"pricing,omitempty"`
}

// ReceiptOutcome says what applying one receipt did.
type ReceiptOutcome string

// The outcomes of applying a receipt.
const (
	ReceiptUpdated   ReceiptOutcome = "updated"   // the message's status moved forward
	ReceiptRecorded  ReceiptOutcome = "recorded"  // kept in the history; the current status was already further
	ReceiptDuplicate ReceiptOutcome = "duplicate" // this status was already recorded for the message
	ReceiptParked    ReceiptOutcome = "parked"    // no message with that provider id yet; applied when it appears
	ReceiptIgnored   ReceiptOutcome = "ignored"   // names an inbound message, or an unknown status
)

// Notice is something a provider said that is not a message or a receipt: an out-of-band error, a template
// status update, an account update or any other webhook field.
type Notice struct {
	ID        string          `json:"id"`
	Channel   string          `json:"channel"`
	Kind      string          `json:"kind"` // "error", "template", or "field:<name>"
	Code      int             `json:"code,omitempty"`
	Title     string          `json:"title,omitempty"`
	Detail    string          `json:"detail,omitempty"`
	Payload   json.RawMessage `json:"payload,omitempty"`
	EventID   string          `json:"event_id,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
}

// Page is one page of a listing. Next is the cursor of the following page, "" on the last one.
type Page[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next_cursor,omitempty"`
}
