package config

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
)

// redactedText replaces a set secret wherever a Config or Channel is printed.
const redactedText = "[redacted]"

// Secret is a credential (API key, access token, app secret, webhook secret, verify token, API token,
// database URL). Its value is returned only by Reveal: fmt with any verb (%v, %+v, %#v, %s, %q, %x ...),
// log/slog and encoding/json all see "[redacted]" when it is set and "" when it is empty, so a Config or
// Channel can be printed or logged whole without leaking it.
type Secret string

// Reveal returns the secret's value, for the one place that must send it (a request header, a signature
// key, a database connection). Never log or print the result.
func (s Secret) Reveal() string { return string(s) }

// IsSet reports whether the secret has a value.
func (s Secret) IsSet() bool { return s != "" }

// String returns "[redacted]" when the secret is set and "" when it is not.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redactedText
}

// GoString is String quoted, so %#v of a struct holding a Secret stays free of the value.
func (s Secret) GoString() string { return strconv.Quote(s.String()) }

// Format implements fmt.Formatter so that every verb, including %x and %d, prints the redacted form.
func (s Secret) Format(f fmt.State, verb rune) {
	switch verb {
	case 'q':
		_, _ = f.Write([]byte(strconv.Quote(s.String())))
	case 'v':
		if f.Flag('#') {
			_, _ = f.Write([]byte(s.GoString()))
			return
		}
		_, _ = f.Write([]byte(s.String()))
	default:
		_, _ = f.Write([]byte(s.String()))
	}
}

// LogValue implements slog.LogValuer with the redacted form.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON encodes the redacted form; a Secret never round-trips through JSON.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// MarshalText encodes the redacted form, for encoders that prefer encoding.TextMarshaler.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
