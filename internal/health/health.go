// Package health checks a channel's connection to its provider without sending anything, and explains each
// problem with its fix: the states operators see in `wagate check`, the API and the settings page.
package health

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/wagate/wagate/internal/provider"
	"github.com/wagate/wagate/internal/provider/meta"
)

// State is the outcome of a connection check.
type State string

// The states.
const (
	Live           State = "live"
	Demo           State = "demo"
	Unauthorized   State = "unauthorized"
	NotProvisioned State = "not_provisioned"
	RateLimited    State = "rate_limited"
	Unreachable    State = "unreachable"
	Error          State = "error"
)

// Channel is what the check needs to know of a channel.
type Channel struct {
	Name          string
	Kind          string // provider kind
	WebhookURL    string // the URL wagate expects the provider to post to (without secrets)
	WebhookSecret bool   // a shared webhook secret is configured
	AppSecret     bool   // a Meta app secret is configured
}

// Item is one thing checked beyond the connection.
type Item struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
	Fix    string `json:"fix,omitempty"`
}

// Report is the result of a check.
type Report struct {
	Channel       string    `json:"channel"`
	Provider      string    `json:"provider"`
	State         State     `json:"state"`
	Title         string    `json:"title"`
	Detail        string    `json:"detail,omitempty"`
	Fix           string    `json:"fix,omitempty"`
	HTTPStatus    int       `json:"http_status,omitempty"`
	VerifiedName  string    `json:"verified_name,omitempty"`
	DisplayPhone  string    `json:"display_phone,omitempty"`
	QualityRating string    `json:"quality_rating,omitempty"`
	Checks        []Item    `json:"checks"`
	CheckedAt     time.Time `json:"checked_at"`
}

// OK reports whether the channel can send and nothing checked is wrong.
func (r Report) OK() bool {
	if r.State != Live && r.State != Demo {
		return false
	}
	for _, c := range r.Checks {
		if !c.OK {
			return false
		}
	}
	return true
}

// Timeout bounds each provider call of a check.
const Timeout = 10 * time.Second

// Check reads the provider's view of the channel and its webhook configuration.
func Check(ctx context.Context, ch Channel, p provider.Provider) Report {
	r := Report{Channel: ch.Name, Provider: ch.Kind, CheckedAt: time.Now().UTC(), Checks: []Item{}}
	if ch.Kind == "demo" {
		r.State, r.Title = Demo, "Demo mode"
		r.Detail = "No provider credentials are configured: sends are simulated and receipts come back internally."
		r.Fix = "Set WHATSAPP_API_KEY (360dialog) or WHATSAPP_ACCESS_TOKEN and WHATSAPP_PHONE_NUMBER_ID (Meta) to connect a real number."
		return r
	}
	hctx, cancel := context.WithTimeout(ctx, Timeout)
	h, err := p.Health(hctx)
	cancel()
	if err != nil {
		describe(&r, err)
		r.Checks = append(r.Checks, secrets(ch)...)
		return r
	}
	r.State, r.Title = Live, "Live"
	r.VerifiedName, r.DisplayPhone, r.QualityRating = h.VerifiedName, h.DisplayPhone, h.QualityRating
	var parts []string
	if h.VerifiedName != "" {
		parts = append(parts, h.VerifiedName)
	}
	if h.QualityRating != "" {
		parts = append(parts, "quality "+h.QualityRating)
	}
	r.Detail = strings.Join(parts, ", ")
	if !h.CanSend {
		r.State, r.Title = Error, "Connected, but the number cannot send"
		r.Detail = strings.Join(append(parts, h.Details...), "; ")
		r.Fix = "Read the provider's reasons above (account review, payment method, display name) in the provider's dashboard."
	}
	r.Checks = append(r.Checks, webhook(ctx, ch, p))
	r.Checks = append(r.Checks, secrets(ch)...)
	return r
}

func describe(r *Report, err error) {
	var pe *provider.Error
	if !errors.As(err, &pe) {
		r.State, r.Title, r.Detail = Error, "Error", err.Error()
		return
	}
	r.HTTPStatus = pe.HTTPStatus
	r.Detail = pe.Message
	switch {
	case pe.Timeout || pe.Network:
		r.State, r.Title = Unreachable, "Unreachable"
		r.Fix = "Check the machine's outbound network, proxy and DNS, and the channel's base URL (WAGATE_PROVIDER_BASE_URL)."
	case pe.HTTPStatus == 401 || pe.HTTPStatus == 403 || pe.Class == provider.ClassAuth && pe.HTTPStatus != 404:
		r.State, r.Title = Unauthorized, "Unauthorized"
		r.Fix = "Check the API key or access token of this channel; a Meta token may have expired."
	case pe.HTTPStatus == 404:
		r.State, r.Title = NotProvisioned, "Not provisioned"
		r.Fix = "The provider does not know this number: check the phone number id (Meta) or that the 360dialog key belongs to a provisioned number."
	case pe.HTTPStatus == 429 || pe.Class == provider.ClassRate:
		r.State, r.Title = RateLimited, "Rate-limited"
		r.Fix = "The provider is throttling this account; try again in a minute."
	default:
		r.State, r.Title = Error, fmt.Sprintf("Error (HTTP %d)", pe.HTTPStatus)
		r.Fix = "See the provider's message above."
	}
}

func webhook(ctx context.Context, ch Channel, p provider.Provider) Item {
	it := Item{Name: "webhook registered"}
	wctx, cancel := context.WithTimeout(ctx, Timeout)
	cfg, err := p.Webhook(wctx)
	cancel()
	var pe *provider.Error
	switch {
	case errors.As(err, &pe) && pe.Class == provider.ClassUnsupported:
		it.OK, it.Detail = true, pe.Message
	case errors.Is(err, meta.ErrNotSubscribed):
		it.Detail = "no app is subscribed to the WhatsApp Business Account: no webhook arrives"
		it.Fix = "Subscribe the app: POST /{WABA_ID}/subscribed_apps with the system-user token, or in the app dashboard."
	case err != nil:
		it.Detail = "could not read the webhook configuration: " + err.Error()
		it.Fix = "Run the check again; if it persists, verify the webhook URL in the provider's dashboard."
	case ch.Kind == "meta" && cfg.URL == "":
		it.OK = true
		it.Detail = "an app is subscribed; Meta sets its callback URL in the app dashboard: make it " + ch.WebhookURL
	case ch.Kind == "meta" && !sameURL(cfg.URL, ch.WebhookURL):
		it.Detail = "this number's callback override posts to " + redactQuery(cfg.URL) + ", not to wagate's " + ch.WebhookURL
		it.Fix = "Change the override callback URL, or remove it so that the app's callback URL applies."
	case cfg.URL == "":
		it.Detail = "no webhook URL is registered at the provider: inbound messages and receipts never arrive"
		it.Fix = "Run `wagate webhook register --channel " + ch.Name + "`."
	case !sameURL(cfg.URL, ch.WebhookURL):
		it.Detail = "the provider posts to " + redactQuery(cfg.URL) + ", not to wagate's " + ch.WebhookURL
		it.Fix = "Run `wagate webhook register --channel " + ch.Name + "`, or set WAGATE_PUBLIC_URL if wagate is behind a proxy."
	default:
		it.OK, it.Detail = true, "the provider posts to "+redactQuery(cfg.URL)
	}
	return it
}

func secrets(ch Channel) []Item {
	var out []Item
	s := Item{Name: "webhook secret set", OK: ch.WebhookSecret || ch.AppSecret}
	if !s.OK {
		s.Detail = "anyone who finds the webhook URL can post fake messages"
		s.Fix = "Set WAGATE_WEBHOOK_SECRET and register the webhook again (360dialog sends it back as a header)."
	}
	out = append(out, s)
	if ch.Kind == "meta" {
		a := Item{Name: "Meta app secret set", OK: ch.AppSecret}
		if !a.OK {
			a.Detail = "webhook signatures (X-Hub-Signature-256) are not checked"
			a.Fix = "Set WHATSAPP_APP_SECRET to the app secret from the Meta app dashboard."
		}
		out = append(out, a)
	}
	return out
}

// sameURL compares the registered URL with wagate's, ignoring a query (which carries ?token=).
func sameURL(registered, want string) bool {
	strip := func(s string) string {
		if i := strings.IndexByte(s, '?'); i >= 0 {
			s = s[:i]
		}
		return strings.TrimRight(s, "/")
	}
	return strip(registered) == strip(want)
}

func redactQuery(u string) string {
	if i := strings.IndexByte(u, '?'); i >= 0 {
		return u[:i] + "?…"
	}
	return u
}
