// Package subscriber delivers wagate's events to applications' webhooks. Subscriptions name a URL, the event
// types, an optional channel filter, a signing secret and a payload format (wagate's JSON, WhatsAble's, or the
// provider's own webhook body). Events are recorded in the same transaction as the change that causes them;
// each event and matching subscription becomes one delivery job, signed (Standard Webhooks, or Meta's
// X-Hub-Signature-256), retried with exponential backoff and jitter for about a day, then dead-lettered and
// replayable. A subscription failing for days, or whose receiver answers 410 Gone, is disabled with the reason.
package subscriber

import (
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/wagate/wagate/internal/store"
)

// Payload formats.
const (
	FormatWagate    = "wagate"    // wagate's documented JSON envelope, Standard Webhooks signatures
	FormatWhatsAble = "whatsable" // the bodies WhatsAble's webhooks send, Standard Webhooks signatures
	FormatMeta      = "meta"      // the provider's webhook body unchanged, signed with X-Hub-Signature-256
)

// Formats lists the payload formats.
var Formats = []string{FormatWagate, FormatWhatsAble, FormatMeta}

// Config tunes delivery. Zero fields take the defaults named.
type Config struct {
	Timeout      time.Duration // one attempt; default 10 s
	RetryFor     time.Duration // retry period before a delivery is dead-lettered; default 24 h
	MinBackoff   time.Duration // pause after the first failed attempt, doubling after each; default 1 s
	MaxBackoff   time.Duration // longest pause between attempts; default 1 h
	DisableAfter time.Duration // a subscription failing this long without a success is disabled; default 72 h
	WindowLead   time.Duration // window.closing is sent this long before a window closes; default 1 h
	Guard        Guard         // which addresses deliveries may reach
	Channels     []string      // the configured channel names, for validating filters
	PublicURL    string        // wagate's external URL, for links in payloads
	Now          func() time.Time
}

// Defaults of Config.
const (
	DefaultTimeout      = 10 * time.Second
	DefaultRetryFor     = 24 * time.Hour
	DefaultMinBackoff   = time.Second
	DefaultMaxBackoff   = time.Hour
	DefaultDisableAfter = 72 * time.Hour
	DefaultWindowLead   = time.Hour
)

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.Timeout, DefaultTimeout)
	def(&c.RetryFor, DefaultRetryFor)
	def(&c.MinBackoff, DefaultMinBackoff)
	def(&c.MaxBackoff, DefaultMaxBackoff)
	def(&c.DisableAfter, DefaultDisableAfter)
	def(&c.WindowLead, DefaultWindowLead)
	if c.MaxBackoff < c.MinBackoff {
		c.MaxBackoff = c.MinBackoff
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// typesOf returns the event types a format can carry, and those a subscription gets when it names none.
func typesOf(format string) (allowed, defaults []string) {
	switch format {
	case FormatMeta:
		return []string{store.EventWebhook}, []string{store.EventWebhook}
	case FormatWhatsAble:
		t := []string{store.EventMessageReceived, store.EventMessageStatus, store.EventMessageFailed}
		return t, t
	}
	return store.EventTypes, []string{store.EventMessageReceived, store.EventMessageStatus, store.EventMessageFailed,
		store.EventTemplateStatus, store.EventWindowClosing}
}

// matches reports whether sub receives events of this type on this channel.
func matches(sub *store.Subscription, eventType, channel string) bool {
	if !sub.Enabled {
		return false
	}
	types := sub.Types
	if len(types) == 0 {
		_, types = typesOf(sub.Format)
	}
	if !slices.Contains(types, eventType) {
		return false
	}
	return len(sub.Channels) == 0 || channel == "" || slices.Contains(sub.Channels, channel)
}

// FieldError says what is wrong with one field of a subscription request.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ValidationError lists what is wrong with a subscription request.
type ValidationError struct{ Fields []FieldError }

func (e *ValidationError) Error() string {
	if len(e.Fields) == 0 {
		return "invalid subscription"
	}
	return fmt.Sprintf("invalid subscription: %s %s", e.Fields[0].Field, e.Fields[0].Message)
}

// ParseCIDRs parses a comma-separated list of CIDR prefixes or single addresses.
func ParseCIDRs(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		if s == "" {
			continue
		}
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR prefix or an IP address", s)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}
