// Package inbound receives provider webhooks: the verification handshake, authentication, a durable accept
// that commits the raw body and its effects before answering, and the processing that turns a body into
// contacts, conversations, messages and receipts.
package inbound

import (
	"crypto/subtle"
	"net/http"

	"github.com/wagate/wagate/internal/webhook"
)

// Channel is what the receiver knows of one WhatsApp number.
type Channel struct {
	Name          string
	PhoneNumberID string // Meta phone number id, used to route Cloud-shape bodies on the shared path
	WebhookSecret string // shared secret in a header or ?token=
	VerifyToken   string // hub.verify_token of the GET handshake
	AppSecret     string // Meta app secret: X-Hub-Signature-256
}

// Open reports whether the channel accepts unauthenticated webhooks.
func (c *Channel) Open() bool { return c.WebhookSecret == "" && c.AppSecret == "" }

// SecretHeaders are the request headers that may carry a channel's shared secret: wagate's own and the one
// existing deployments registered.
var SecretHeaders = []string{"X-Wagate-Webhook-Secret", "X-Mandato-Webhook-Secret"}

// SignatureHeader carries Meta's HMAC-SHA256 of the body.
const SignatureHeader = "X-Hub-Signature-256"

func equalSecret(given, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(given), []byte(want)) == 1
}

// authenticate returns the names of the candidate channels the request is authenticated for. A request with a
// signature header that fails against a channel's app secret is not authenticated for that channel even when it
// also carries the right shared secret: a bad signature means the body is not the one that was signed.
func authenticate(r *http.Request, body []byte, candidates []*Channel) []string {
	var given string
	for _, h := range SecretHeaders {
		if v := r.Header.Get(h); v != "" {
			given = v
			break
		}
	}
	if given == "" {
		given = r.URL.Query().Get("token")
	}
	sig := r.Header.Get(SignatureHeader)
	var out []string
	for _, ch := range candidates {
		switch {
		case ch.Open():
			out = append(out, ch.Name)
		case ch.AppSecret != "" && sig != "":
			if webhook.VerifySignature(body, sig, []byte(ch.AppSecret)) == nil {
				out = append(out, ch.Name)
			}
		case ch.WebhookSecret != "" && equalSecret(given, ch.WebhookSecret):
			out = append(out, ch.Name)
		}
	}
	return out
}
