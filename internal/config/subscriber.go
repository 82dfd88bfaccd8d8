package config

import (
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Subscriber configures the delivery of events to applications' webhooks (subscriptions). Only the
// environment sets it.
type Subscriber struct {
	// AllowPrivate lets subscription URLs reach loopback, private and link-local addresses (a receiver on the
	// same machine or network). Env WAGATE_SUBSCRIBER_ALLOW_PRIVATE (true/false); default false.
	AllowPrivate bool

	// AllowCIDRs are address ranges subscription URLs may reach besides public addresses, e.g. 10.1.2.0/24 or
	// 127.0.0.1. Env WAGATE_SUBSCRIBER_ALLOW_CIDRS (comma-separated); default none.
	AllowCIDRs []netip.Prefix

	// Timeout bounds one delivery attempt. Env WAGATE_SUBSCRIBER_TIMEOUT (1ms to 1m); default 10s.
	Timeout time.Duration

	// RetryFor is how long a failing delivery is retried before it is dead-lettered.
	// Env WAGATE_SUBSCRIBER_RETRY_FOR (1s to 720h); default 24h.
	RetryFor time.Duration

	// MinBackoff is the pause after a delivery's first failed attempt; it doubles after each.
	// Env WAGATE_SUBSCRIBER_MIN_BACKOFF (1ms to 1h); default 1s.
	MinBackoff time.Duration

	// MaxBackoff caps the pause between attempts. Env WAGATE_SUBSCRIBER_MAX_BACKOFF (1ms to 24h); default 1h.
	MaxBackoff time.Duration

	// DisableAfter disables a subscription whose deliveries have all failed for this long.
	// Env WAGATE_SUBSCRIBER_DISABLE_AFTER (1s to 8760h); default 72h.
	DisableAfter time.Duration

	// WindowLead is how long before a conversation's 24-hour window closes the window.closing event is sent.
	// Env WAGATE_WINDOW_CLOSING_LEAD (1m to 23h); default 1h.
	WindowLead time.Duration
}

// subscriber reads the Subscriber settings from the environment.
func (l *loader) subscriber(cfg *Config) {
	s := &cfg.Subscriber
	if v, from := l.env("WAGATE_SUBSCRIBER_ALLOW_PRIVATE"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			l.fail("%s: %q is not true or false", from, v)
		}
		s.AllowPrivate = b
		if b {
			l.warnings = append(l.warnings, "WAGATE_SUBSCRIBER_ALLOW_PRIVATE=true: subscription URLs may reach loopback and private addresses")
		}
	}
	if v, from := l.env("WAGATE_SUBSCRIBER_ALLOW_CIDRS"); v != "" {
		for _, part := range strings.Split(v, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			if p, err := netip.ParsePrefix(part); err == nil {
				s.AllowCIDRs = append(s.AllowCIDRs, p.Masked())
			} else if a, err := netip.ParseAddr(part); err == nil {
				s.AllowCIDRs = append(s.AllowCIDRs, netip.PrefixFrom(a, a.BitLen()))
			} else {
				l.fail("%s: %q is not a CIDR range or an IP address: use e.g. 10.0.0.0/8,127.0.0.1", from, part)
			}
		}
	}
	dur := func(name string, dst *time.Duration, lo, hi time.Duration, example string) {
		v, from := l.env(name)
		if v == "" {
			return
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < lo || d > hi {
			l.fail("%s: %q is not a duration from %s to %s: use e.g. %s", from, v, lo, hi, example)
			return
		}
		*dst = d
	}
	dur("WAGATE_SUBSCRIBER_TIMEOUT", &s.Timeout, time.Millisecond, time.Minute, "10s")
	dur("WAGATE_SUBSCRIBER_RETRY_FOR", &s.RetryFor, time.Second, 720*time.Hour, "24h")
	dur("WAGATE_SUBSCRIBER_MIN_BACKOFF", &s.MinBackoff, time.Millisecond, time.Hour, "1s")
	dur("WAGATE_SUBSCRIBER_MAX_BACKOFF", &s.MaxBackoff, time.Millisecond, 24*time.Hour, "1h")
	dur("WAGATE_SUBSCRIBER_DISABLE_AFTER", &s.DisableAfter, time.Second, 8760*time.Hour, "72h")
	dur("WAGATE_WINDOW_CLOSING_LEAD", &s.WindowLead, time.Minute, 23*time.Hour, "1h")
}
