package wa

import (
	"encoding/json"
	"fmt"
)

// Outbound is a message to send, in the vocabulary of the Cloud API request: Type names the message type
// ("text", "image", "template", "interactive", "reaction", ...) and Content is the JSON object the Cloud API
// keeps under that type's key ({"body":"Hola","preview_url":true} for text). Providers translate it to their own
// protocol. It has been validated before it is stored.
type Outbound struct {
	To      string          `json:"to"`                 // E.164, e.g. +34696247355
	Type    string          `json:"type"`               // the Cloud API message type
	Content json.RawMessage `json:"content"`            // the object under the type's key
	ReplyTo string          `json:"reply_to,omitempty"` // provider id of the quoted message (context)
}

// CloudBody returns the Cloud API request body for o (Meta and 360dialog's waba-v2):
// {"messaging_product":"whatsapp","recipient_type":"individual","to":"<digits>","type":T,T:{...},"context":{...}}.
func (o Outbound) CloudBody() ([]byte, error) {
	if o.Type == "" || len(o.Content) == 0 {
		return nil, fmt.Errorf("outbound: type and content are required")
	}
	body := map[string]any{
		"messaging_product": "whatsapp",
		"recipient_type":    "individual",
		"to":                Digits(o.To),
		"type":              o.Type,
		o.Type:              o.Content,
	}
	if o.ReplyTo != "" {
		body["context"] = map[string]string{"message_id": o.ReplyTo}
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("outbound: %w", err)
	}
	return b, nil
}
