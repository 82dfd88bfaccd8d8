package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// SignatureHeader is the HTTP header that carries Meta's webhook signature.
const SignatureHeader = "X-Hub-Signature-256"

// signaturePrefix introduces the hex digest in the header value.
const signaturePrefix = "sha256="

// ErrSignatureMissing is wrapped by VerifySignature when the header value is empty.
var ErrSignatureMissing = errors.New("webhook: signature missing")

// ErrSignatureMalformed is wrapped by VerifySignature when the header value is not "sha256=" followed by 64
// hex digits.
var ErrSignatureMalformed = errors.New("webhook: signature malformed")

// ErrSignatureMismatch is wrapped by VerifySignature when the signature does not match the body.
var ErrSignatureMismatch = errors.New("webhook: signature mismatch")

// ErrNoAppSecret is wrapped by VerifySignature when it is given an empty app secret: an HMAC keyed with
// nothing can be computed by anyone, so accepting it would accept forged bodies.
var ErrNoAppSecret = errors.New("webhook: no app secret configured")

// Sign returns the X-Hub-Signature-256 header value for body: "sha256=" and the lowercase hex HMAC-SHA256 of
// the raw body bytes keyed with appSecret.
func Sign(body, appSecret []byte) string {
	return signaturePrefix + hex.EncodeToString(mac(body, appSecret))
}

// VerifySignature checks an X-Hub-Signature-256 header value against the raw request body, before any JSON
// decoding (re-encoded JSON would not match). The digest comparison is constant-time. The returned error wraps
// ErrSignatureMissing, ErrSignatureMalformed, ErrSignatureMismatch or ErrNoAppSecret, and never contains the
// secret or the expected digest. The "sha256=" prefix is matched case-insensitively and surrounding spaces are
// ignored; the hex digits may be of either case.
func VerifySignature(body []byte, header string, appSecret []byte) error {
	if len(appSecret) == 0 {
		return fmt.Errorf("verify signature: %w", ErrNoAppSecret)
	}
	header = strings.TrimSpace(header)
	if header == "" {
		return fmt.Errorf("verify signature: %w", ErrSignatureMissing)
	}
	if len(header) < len(signaturePrefix) || !strings.EqualFold(header[:len(signaturePrefix)], signaturePrefix) {
		return fmt.Errorf("verify signature: %w: want the form sha256=<hex>", ErrSignatureMalformed)
	}
	got, err := hex.DecodeString(header[len(signaturePrefix):])
	if err != nil {
		return fmt.Errorf("verify signature: %w: digest is not hex", ErrSignatureMalformed)
	}
	if len(got) != sha256.Size {
		return fmt.Errorf("verify signature: %w: digest has %d bytes, want %d", ErrSignatureMalformed, len(got),
			sha256.Size)
	}
	if !hmac.Equal(got, mac(body, appSecret)) {
		return fmt.Errorf("verify signature: %w", ErrSignatureMismatch)
	}
	return nil
}

// mac is HMAC-SHA256(appSecret, body).
func mac(body, appSecret []byte) []byte {
	h := hmac.New(sha256.New, appSecret)
	h.Write(body)
	return h.Sum(nil)
}
