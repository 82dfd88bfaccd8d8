// Package provider declares what wagate needs of a WhatsApp Business API provider and the catalogue that
// classifies provider errors by their code (Meta throttles with HTTP 400, so the HTTP status alone says little).
// The implementations live in provider/meta, provider/dialog360 and provider/demo.
package provider

import (
	"context"
	"time"

	"github.com/wagate/wagate/internal/wa"
)

// Provider is one channel's connection to its WhatsApp provider. Every method honours ctx's deadline; callers
// set it (sends use 10 s). Errors are *Error when the provider (or the network) failed.
type Provider interface {
	// Kind names the protocol: "meta", "360dialog", "360dialog-onpremise" or "demo".
	Kind() string
	// Send sends one message and returns the id the provider accepted it under.
	Send(ctx context.Context, msg wa.Outbound) (SendResult, error)
	// MarkRead marks an inbound message (and the ones before it) as read.
	MarkRead(ctx context.Context, providerMessageID string) error
	// UploadMedia uploads a file and returns the provider's media id.
	UploadMedia(ctx context.Context, f MediaFile) (string, error)
	// DownloadMedia fetches the bytes of a media id (from a webhook or an upload).
	DownloadMedia(ctx context.Context, mediaID string) (MediaFile, error)
	// Health reads the number's state without sending anything.
	Health(ctx context.Context) (Health, error)
	// Webhook returns the webhook URL the provider posts to for this number ("" when it cannot be read).
	Webhook(ctx context.Context) (WebhookConfig, error)
	// SetWebhook registers url (and headers the provider sends back with each POST) for this number. Providers
	// whose webhook is set elsewhere (Meta: the app dashboard) return an *Error of class ClassUnsupported.
	SetWebhook(ctx context.Context, cfg WebhookConfig) error
}

// SendResult is a provider's acceptance of a message.
type SendResult struct {
	ProviderID string // wamid
	WAID       string // the recipient's WhatsApp id as the provider normalised it, when given
	Status     string // messages[].message_status when given (accepted, held_for_quality_assessment, paused)
}

// MediaFile is a media file's bytes and what is known of them.
type MediaFile struct {
	Data     []byte
	MimeType string
	Filename string
	SHA256   string // hex, when the provider gave it
}

// Health is the provider's view of the number.
type Health struct {
	CanSend       bool
	VerifiedName  string
	DisplayPhone  string
	QualityRating string // GREEN, YELLOW, RED, UNKNOWN
	Throughput    string
	Details       []string // provider's own error lines, human-readable
	CheckedAt     time.Time
}

// WebhookConfig is where the provider posts webhooks for a number.
type WebhookConfig struct {
	URL     string
	Headers map[string]string
}
