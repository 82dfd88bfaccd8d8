// Package phone normalises WhatsApp phone numbers to E.164, the only form wagate stores.
package phone

import (
	"errors"
	"fmt"

	"github.com/nyaruka/phonenumbers"

	"github.com/wagate/wagate/internal/wa"
)

// ErrInvalid is returned for a string that is not a phone number.
var ErrInvalid = errors.New("not a valid phone number")

// Normalize parses a number written in international form ("+34 696 24 73 55", "0034696247355",
// "34696247355") and returns its E.164 form ("+34696247355"). The number must be valid for its country.
func Normalize(s string) (string, error) {
	d := wa.Digits(s)
	if len(d) >= 2 && d[:2] == "00" {
		d = d[2:]
	}
	if len(d) < 7 || len(d) > 15 {
		return "", fmt.Errorf("%q: %w: E.164 numbers have 7 to 15 digits with the country code, like +34696247355", s, ErrInvalid)
	}
	n, err := phonenumbers.Parse("+"+d, "")
	if err != nil {
		return "", fmt.Errorf("%q: %w: %v", s, ErrInvalid, err)
	}
	if !phonenumbers.IsValidNumber(n) {
		return "", fmt.Errorf("%q: %w for its country code; write it with the country code, like +34696247355", s, ErrInvalid)
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

// FromWAID returns the E.164 form of a WhatsApp id (the digits of the user's number). WhatsApp already
// validated the number, so a wa_id that the numbering plan does not know (a new range, a test number) is
// still kept as "+" and its digits; "" when it has no plausible number of digits.
func FromWAID(waID string) string {
	d := wa.Digits(waID)
	if len(d) < 6 || len(d) > 15 || len(d) != len(waID) {
		return ""
	}
	if n, err := phonenumbers.Parse("+"+d, ""); err == nil && phonenumbers.IsValidNumber(n) {
		return phonenumbers.Format(n, phonenumbers.E164)
	}
	return "+" + d
}
