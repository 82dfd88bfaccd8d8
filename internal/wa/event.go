package wa

import (
	"encoding/json"
	"time"
)

// Shape is the layout of a provider webhook body.
type Shape string

// The two webhook shapes.
const (
	// ShapeCloud is object/entry[]/changes[]/value, sent by Meta's Cloud API and 360dialog's waba-v2.
	ShapeCloud Shape = "cloud"
	// ShapeOnPremise has contacts, messages, statuses and errors at the root (360dialog's legacy API).
	ShapeOnPremise Shape = "onpremise"
)

// Webhook is everything one webhook body said, parsed. Parsing never drops data: whatever is not understood is
// kept as raw JSON in Unhandled.
type Webhook struct {
	Shape   Shape
	Changes []Change
}

// Change is one unit of a webhook body that belongs to one phone number: a Cloud entry[].changes[] element, or
// the whole body of an On-Premise webhook.
type Change struct {
	// Field is the Cloud change field ("messages", "message_template_status_update", ...); "messages" for
	// On-Premise bodies.
	Field string
	// WABAID is entry[].id when present.
	WABAID string
	// PhoneNumberID and DisplayPhoneNumber come from value.metadata; empty for On-Premise bodies, which are
	// routed by the URL they arrived on.
	PhoneNumberID      string
	DisplayPhoneNumber string
	Contacts           []Contact
	Messages           []InboundMessage
	Statuses           []Receipt
	Errors             []ProviderError
	Templates          []TemplateUpdate
	// Unhandled holds the value of a change whose field wagate does not act on (account_update, calls, ...).
	Unhandled json.RawMessage
}

// Contact is a WhatsApp user as a webhook names them.
type Contact struct {
	WAID         string `json:"wa_id,omitempty"`
	UserID       string `json:"user_id,omitempty"` // business-scoped user id (BSUID)
	ParentUserID string `json:"parent_user_id,omitempty"`
	Name         string `json:"name,omitempty"`
	Username     string `json:"username,omitempty"`
}

// InboundMessage is a message a WhatsApp user sent to the business.
type InboundMessage struct {
	ID         string    // provider message id (wamid)
	From       string    // sender wa_id (may be empty for users that hide their number)
	FromUserID string    // sender BSUID, when given
	Timestamp  time.Time // provider timestamp; zero when absent
	Type       string    // text, image, ..., or whatever the provider sent
	// Text is what a person would read: the body, caption, button title, emoji, or a short description.
	Text     string
	Media    *Media
	Reaction *Reaction
	Location *Location
	Context  *MessageContext
	Referral json.RawMessage
	Errors   []ProviderError
	// Payload is the raw type object (message[type]) and Raw the whole message object, unknown fields included.
	Payload json.RawMessage
	Raw     json.RawMessage
}

// Media describes a media attachment as a webhook announces it. The bytes are fetched separately.
type Media struct {
	ID       string `json:"id,omitempty"`
	MimeType string `json:"mime_type,omitempty"`
	SHA256   string `json:"sha256,omitempty"`
	Filename string `json:"filename,omitempty"`
	Caption  string `json:"caption,omitempty"`
	URL      string `json:"url,omitempty"`
	Voice    bool   `json:"voice,omitempty"`
	Animated bool   `json:"animated,omitempty"`
}

// Reaction is an emoji reaction to a message; an empty Emoji removes the reaction.
type Reaction struct {
	MessageID string `json:"message_id"`
	Emoji     string `json:"emoji"`
}

// Location is a shared location.
type Location struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
	Name      string  `json:"name,omitempty"`
	Address   string  `json:"address,omitempty"`
	URL       string  `json:"url,omitempty"`
}

// MessageContext says what a message replies to or that it was forwarded.
type MessageContext struct {
	MessageID           string          `json:"id,omitempty"`   // the quoted message's wamid
	From                string          `json:"from,omitempty"` // the quoted message's sender
	Forwarded           bool            `json:"forwarded,omitempty"`
	FrequentlyForwarded bool            `json:"frequently_forwarded,omitempty"`
	ReferredProduct     json.RawMessage `json:"referred_product,omitempty"`
}

// Receipt is a status webhook for a message the business sent.
type Receipt struct {
	MessageID       string // provider message id (wamid)
	Status          Status
	Timestamp       time.Time
	RecipientID     string
	RecipientUserID string
	Conversation    json.RawMessage
	Pricing         json.RawMessage
	Errors          []ProviderError
	Raw             json.RawMessage
}

// ProviderError is an error object from a webhook or an API response.
type ProviderError struct {
	Code    int    `json:"code"`
	Title   string `json:"title,omitempty"`
	Message string `json:"message,omitempty"`
	Details string `json:"details,omitempty"`
	Href    string `json:"href,omitempty"`
}

// TemplateUpdate is a message_template_status_update (or similar template lifecycle) event.
type TemplateUpdate struct {
	Event      string // APPROVED, REJECTED, PAUSED, DISABLED, ...
	TemplateID string
	Name       string
	Language   string
	Category   string
	Reason     string
	Raw        json.RawMessage
}
