// Package provider declares what wagate needs of a WhatsApp Business API provider and the catalogue that
// classifies provider errors by their code (Meta throttles with HTTP 400, so the HTTP status alone says little).
// The implementations live in provider/meta, provider/dialog360 and provider/demo.
package provider

import (
	"context"
	"fmt"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

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
	// Profile reads the number's business profile (the fields a provider does not give stay empty).
	Profile(ctx context.Context) (Profile, error)
	// SetProfile updates the business profile with p's non-empty fields only: an empty string, or a nil or empty
	// Websites, leaves that field as it is at the provider, so a field cannot be cleared through it.
	// ProfilePictureURL is read-only and never sent. p is checked with CheckProfile first: a field it refuses
	// fails the call with a ClassInvalid *Error wrapping a *ProfileFieldError, before any request is made.
	SetProfile(ctx context.Context, p Profile) error
}

// OpCheckContacts names the contacts check in Error.Op.
const OpCheckContacts = "check_contacts"

// ContactChecker is implemented by providers that can tell whether phone numbers are on WhatsApp. It is
// optional: only 360dialog's On-Premise API has such a call (POST /v1/contacts); the Cloud API and Meta have
// none. A provider that implements it but cannot check in its current mode returns a ClassUnsupported *Error.
type ContactChecker interface {
	// CheckContacts checks numbers (as the user gave them, e.g. "+34600111222") and returns one status per
	// number the provider answered for.
	CheckContacts(ctx context.Context, numbers []string) ([]ContactStatus, error)
}

// ContactStatus is the provider's answer for one checked number.
type ContactStatus struct {
	Input  string `json:"input"`  // the number as it was sent
	Status string `json:"status"` // "valid" (on WhatsApp) or "invalid"
	WAID   string `json:"wa_id"`  // the WhatsApp id, "" for invalid numbers
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

// The operations of the business profile, as Error.Op names them.
const (
	OpProfile    = "profile"
	OpSetProfile = "set_profile"
)

// Profile is a number's WhatsApp business profile.
type Profile struct {
	About             string   `json:"about,omitempty"`
	Address           string   `json:"address,omitempty"`
	Description       string   `json:"description,omitempty"`
	Email             string   `json:"email,omitempty"`
	Vertical          string   `json:"vertical,omitempty"`
	ProfilePictureURL string   `json:"profile_picture_url,omitempty"`
	Websites          []string `json:"websites,omitempty"`
}

// Limits of the business profile fields (Meta's documentation of whatsapp_business_profile), in characters.
const (
	MaxProfileAbout       = 139
	MaxProfileAddress     = 256
	MaxProfileDescription = 512
	MaxProfileEmail       = 128
	MaxProfileWebsites    = 2 // websites per profile
	MaxProfileWebsite     = 256
)

// ProfileVerticals are the industries Meta accepts as a profile's vertical: the list Meta's documentation and
// the published SDKs agree on, plus the categories Meta added later (ALCOHOL, ONLINE_GAMBLING,
// PHYSICAL_GAMBLING, OTC_DRUGS, MATRIMONY_SERVICE), which several clients list.
var ProfileVerticals = []string{"UNDEFINED", "OTHER", "AUTO", "BEAUTY", "APPAREL", "EDU", "ENTERTAIN", "EVENT_PLAN",
	"FINANCE", "GROCERY", "GOVT", "HOTEL", "HEALTH", "NONPROFIT", "PROF_SERVICES", "RETAIL", "TRAVEL", "RESTAURANT",
	"NOT_A_BIZ", "ALCOHOL", "ONLINE_GAMBLING", "PHYSICAL_GAMBLING", "OTC_DRUGS", "MATRIMONY_SERVICE"}

// ProfileFieldError names the profile field CheckProfile refused and why.
type ProfileFieldError struct {
	Field   string // the JSON name: about, address, description, email, vertical, websites
	Problem string // what is wrong, for people
}

func (e *ProfileFieldError) Error() string { return e.Field + ": " + e.Problem }

// CheckProfile checks the fields SetProfile sends and returns them normalised: every text trimmed, the vertical
// in upper case, ProfilePictureURL dropped (it is read-only). Empty fields are not checked, since they are not
// sent. A refused field is a ClassInvalid *Error of provider kind and OpSetProfile wrapping a
// *ProfileFieldError.
func CheckProfile(kind string, p Profile) (Profile, error) {
	out := Profile{
		About:       strings.TrimSpace(p.About),
		Address:     strings.TrimSpace(p.Address),
		Description: strings.TrimSpace(p.Description),
		Email:       strings.TrimSpace(p.Email),
		Vertical:    strings.ToUpper(strings.TrimSpace(p.Vertical)),
	}
	fail := func(field, problem string) (Profile, error) {
		return Profile{}, &Error{Provider: kind, Op: OpSetProfile, Class: ClassInvalid, Err: &ProfileFieldError{Field: field, Problem: problem},
			Message: fmt.Sprintf("The business profile's %s is not valid: %s.", field, problem)}
	}
	for _, f := range []struct {
		name string
		v    string
		max  int
	}{{"about", out.About, MaxProfileAbout}, {"address", out.Address, MaxProfileAddress},
		{"description", out.Description, MaxProfileDescription}, {"email", out.Email, MaxProfileEmail}} {
		if !utf8.ValidString(f.v) {
			return fail(f.name, "it is not valid UTF-8 text")
		}
		if n := utf8.RuneCountInString(f.v); n > f.max {
			return fail(f.name, fmt.Sprintf("it has %d characters, at most %d are allowed", n, f.max))
		}
	}
	if out.Email != "" {
		if a, err := mail.ParseAddress(out.Email); err != nil || a.Name != "" || a.Address != out.Email {
			return fail("email", "it must be a plain email address such as info@example.com")
		}
	}
	if out.Vertical != "" && !slices.Contains(ProfileVerticals, out.Vertical) {
		return fail("vertical", "it must be one of "+strings.Join(ProfileVerticals, ", "))
	}
	if len(p.Websites) > MaxProfileWebsites {
		return fail("websites", fmt.Sprintf("%d were given, at most %d are allowed", len(p.Websites), MaxProfileWebsites))
	}
	for i, w := range p.Websites {
		w = strings.TrimSpace(w)
		if n := utf8.RuneCountInString(w); n > MaxProfileWebsite {
			return fail("websites", fmt.Sprintf("website %d has %d characters, at most %d are allowed", i+1, n, MaxProfileWebsite))
		}
		u, err := url.Parse(w)
		if w == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fail("websites", fmt.Sprintf("website %d must be an http:// or https:// URL such as https://example.com", i+1))
		}
		out.Websites = append(out.Websites, w)
	}
	return out, nil
}

// Fields returns p's non-empty fields under their JSON names, as SetProfile sends them (ProfilePictureURL is
// left out: it is read-only).
func (p Profile) Fields() map[string]any {
	m := map[string]any{}
	for k, v := range map[string]string{"about": p.About, "address": p.Address, "description": p.Description,
		"email": p.Email, "vertical": p.Vertical} {
		if v != "" {
			m[k] = v
		}
	}
	if len(p.Websites) > 0 {
		m["websites"] = p.Websites
	}
	return m
}
