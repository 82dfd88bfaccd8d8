package config

import (
	"net/netip"
	"strconv"
	"strings"
)

// Defaults of the API's request limits per token: the figures applications written against WhatsApp
// gateways already expect.
const (
	DefaultAPIRatePerMinute = 100
	DefaultAPIRatePerHour   = 1000
)

// loadAccess reads the settings of API access: the open-API choice, request limits and trusted proxies.
func (l *loader) loadAccess(cfg *Config) {
	if v, from := l.env("WAGATE_API_OPEN"); v != "" {
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			l.fail("%s: %q is not true or false", from, v)
		} else {
			cfg.APIOpen = &b
		}
	}
	cfg.APIRatePerMinute, cfg.APIRatePerHour = DefaultAPIRatePerMinute, DefaultAPIRatePerHour
	for _, f := range []struct {
		name string
		dst  *int
	}{{"WAGATE_API_RATE_PER_MINUTE", &cfg.APIRatePerMinute}, {"WAGATE_API_RATE_PER_HOUR", &cfg.APIRatePerHour}} {
		if v, from := l.env(f.name); v != "" {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n < 0 || n > 10_000_000 {
				l.fail("%s: %q is not a whole number from 0 (no limit) to 10000000", from, v)
				continue
			}
			*f.dst = n
		}
	}
	if v, from := l.env("WAGATE_TRUSTED_PROXIES"); v != "" {
		for _, part := range strings.Split(v, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			p, err := netip.ParsePrefix(part)
			if err != nil {
				a, aerr := netip.ParseAddr(part)
				if aerr != nil {
					l.fail("%s: %q is not an address or CIDR range: use e.g. 10.0.0.0/8,127.0.0.1", from, part)
					continue
				}
				p = netip.PrefixFrom(a, a.BitLen())
			}
			cfg.TrustedProxies = append(cfg.TrustedProxies, p.Masked())
		}
	}
}

// AllDemo reports whether every channel is simulated (demo mode).
func (c *Config) AllDemo() bool {
	for i := range c.Channels {
		if !c.Channels[i].Demo() {
			return false
		}
	}
	return true
}

// APIIsOpen reports whether the REST API admits requests without a token: only when no WAGATE_API_TOKEN is
// set and either WAGATE_API_OPEN=true, or WAGATE_API_OPEN is unset and every channel is a demo channel.
func (c *Config) APIIsOpen() bool {
	if c.APIToken.IsSet() {
		return false
	}
	if c.APIOpen != nil {
		return *c.APIOpen
	}
	return c.AllDemo()
}
