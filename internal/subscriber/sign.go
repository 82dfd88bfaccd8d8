package subscriber

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// secretPrefix starts every Standard Webhooks signing secret.
const secretPrefix = "whsec_"

// NewSecret returns a new Standard Webhooks signing secret: "whsec_" and 32 random bytes in base64.
func NewSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (it panics if the system has no randomness)
	return secretPrefix + base64.StdEncoding.EncodeToString(b)
}

// newMetaSecret returns a random secret for the meta format, which signs with the secret's bytes as they are
// (like a Meta app secret): 32 random bytes in hex.
func newMetaSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// secretKey decodes a Standard Webhooks secret ("whsec_" + base64) to the HMAC key.
func secretKey(secret string) ([]byte, error) {
	raw, ok := strings.CutPrefix(secret, secretPrefix)
	if !ok {
		return nil, errors.New(`a signing secret starts with "whsec_"`)
	}
	key, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return nil, errors.New(`a signing secret is "whsec_" followed by base64`)
	}
	if len(key) < 24 || len(key) > 64 {
		return nil, fmt.Errorf("a signing secret holds 24 to 64 bytes; this one holds %d", len(key))
	}
	return key, nil
}

// Sign returns the Standard Webhooks signature of body: "v1," and the base64 HMAC-SHA256, keyed by the
// decoded secret, of "{id}.{timestamp}.{body}".
func Sign(secret, id string, ts time.Time, body []byte) (string, error) {
	key, err := secretKey(secret)
	if err != nil {
		return "", err
	}
	return "v1," + base64.StdEncoding.EncodeToString(mac(key, id, strconv.FormatInt(ts.Unix(), 10), body)), nil
}

func mac(key []byte, id, ts string, body []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(id))
	h.Write([]byte{'.'})
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// signStandard sets the Standard Webhooks headers on h.
func signStandard(h http.Header, secret, id string, ts time.Time, body []byte) error {
	sig, err := Sign(secret, id, ts, body)
	if err != nil {
		return err
	}
	h.Set("webhook-id", id)
	h.Set("webhook-timestamp", strconv.FormatInt(ts.Unix(), 10))
	h.Set("webhook-signature", sig)
	return nil
}

// SignMeta returns the X-Hub-Signature-256 value of body, as Meta signs its webhooks with an app secret:
// "sha256=" and the hex HMAC-SHA256 keyed by the secret's bytes.
func SignMeta(secret string, body []byte) string {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write(body)
	return "sha256=" + hex.EncodeToString(h.Sum(nil))
}

// ErrBadSignature is returned by Verify for a request that is not signed with the secret.
var ErrBadSignature = errors.New("no matching signature")

// Verify checks Standard Webhooks headers against body and secret, as a receiver does, allowing tolerance of
// clock difference. Comparisons are constant-time. It serves wagate's own tests and receivers written in Go.
func Verify(secret string, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	key, err := secretKey(secret)
	if err != nil {
		return err
	}
	id, tsText, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || tsText == "" || sigs == "" {
		return fmt.Errorf("%w: missing webhook-id, webhook-timestamp or webhook-signature", ErrBadSignature)
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: webhook-timestamp is not a number", ErrBadSignature)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: webhook-timestamp is outside the tolerance", ErrBadSignature)
	}
	want := mac(key, id, tsText, body)
	for _, s := range strings.Fields(sigs) {
		v, b64, ok := strings.Cut(s, ",")
		if !ok || v != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return ErrBadSignature
}
