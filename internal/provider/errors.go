package provider

import (
	"fmt"
	"time"
)

// Class says what to do about a provider error.
type Class string

// The error classes.
const (
	// ClassRetry: temporary (network, timeout, 5xx, "try again" codes); send again with backoff.
	ClassRetry Class = "retry"
	// ClassRate: the channel's throughput limit (130429, 4, 80007, On-Premise 429/1015); pause the channel.
	ClassRate Class = "rate"
	// ClassPairRate: too many messages to one recipient (131056); pause that recipient only.
	ClassPairRate Class = "pair_rate"
	// ClassRecipient: this recipient cannot get the message (131026, not on WhatsApp, blocked...); permanent.
	ClassRecipient Class = "recipient"
	// ClassAuth: credentials or configuration are wrong (401/403, 190, 0, 10, 200-299, missing key); permanent
	// until an operator fixes them.
	ClassAuth Class = "auth"
	// ClassPolicy: the account or message is blocked by policy or quality (368, 131031, 131048, 131049...).
	ClassPolicy Class = "policy"
	// ClassTemplate: the template is missing, paused or its parameters do not match (132000-132016...).
	ClassTemplate Class = "template"
	// ClassWindow: outside the 24-hour customer-service window (131047, On-Premise 470); send a template.
	ClassWindow Class = "window"
	// ClassInvalid: the request itself is wrong (100, 131008, 131009, 1008, ...); permanent.
	ClassInvalid Class = "invalid"
	// ClassUnsupported: the provider cannot do this operation.
	ClassUnsupported Class = "unsupported"
)

// Retryable reports whether a message failing with this class may be sent again automatically.
func (c Class) Retryable() bool { return c == ClassRetry || c == ClassRate || c == ClassPairRate }

// Error is a failed provider call.
type Error struct {
	Provider   string        // "meta", "360dialog", "360dialog-onpremise"
	Op         string        // "send", "mark_read", "upload_media", "health", ...
	HTTPStatus int           // 0 for network errors and timeouts
	Code       int           // the provider's error code (Meta error.code or On-Premise errors[0].code), 0 if none
	Subcode    int           // Meta error_subcode
	Title      string        // provider's title (On-Premise title, Meta message without the "(#code)" prefix)
	Details    string        // error_data.details / errors[].details
	FBTraceID  string        // Meta fbtrace_id, for support tickets
	Class      Class         // what to do about it
	Message    string        // a sentence for people: what happened and what to do
	RetryAfter time.Duration // from a Retry-After header, 0 if none
	Timeout    bool          // the call timed out
	Network    bool          // the provider could not be reached
	Err        error         // the underlying error (network), if any
}

func (e *Error) Error() string {
	s := fmt.Sprintf("%s %s: %s", e.Provider, e.Op, e.Message)
	if e.Code != 0 {
		s += fmt.Sprintf(" (code %d)", e.Code)
	} else if e.HTTPStatus != 0 {
		s += fmt.Sprintf(" (HTTP %d)", e.HTTPStatus)
	}
	return s
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }
