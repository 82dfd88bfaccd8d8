package simulate

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wagate/wagate/internal/wa"
)

// ReceiptOptions describes one simulated status webhook (receipt) for a message the business sent.
type ReceiptOptions struct {
	// MessageID is the wamid of the business's message; default a random wamid.
	MessageID string
	// Status is one of Statuses() (default "delivered"). deleted and warning are On-Premise statuses, and
	// played is the Cloud status of a voice note that was listened to.
	Status string
	// RecipientID is the user's number (E.164 or digits); default DefaultFrom.
	RecipientID string
	// Timestamp is when the status changed; default now.
	Timestamp time.Time
	// ErrorCode, ErrorTitle and ErrorDetail fill errors[]. A failed receipt always has one error: default
	// code 131026 "Message undeliverable". For another status an error is added only when ErrorCode is set.
	// The title defaults to Meta's title for well-known codes.
	ErrorCode               int
	ErrorTitle, ErrorDetail string
	// PhoneNumberID and DisplayPhoneNumber fill the Cloud value.metadata (each omitted when empty).
	PhoneNumberID, DisplayPhoneNumber string
	// Pricing adds conversation and pricing objects to a status other than sent and failed; sent always
	// has them.
	Pricing bool
}

// receiptStatuses are the statuses Receipt accepts, in documentation order.
var receiptStatuses = []string{"sent", "delivered", "read", "played", "failed", "deleted", "warning"}

// Statuses returns the receipt statuses Receipt can build, in a stable order.
func Statuses() []string { return slices.Clone(receiptStatuses) }

// errorTitles are Meta's titles for the error codes a simulated receipt most often needs.
var errorTitles = map[int]string{
	470:    "Message failed to send because more than 24 hours have passed since the customer last replied to this number",
	130472: "User's number is part of an experiment",
	131000: "Something went wrong",
	131021: "Recipient cannot be sender",
	131026: "Message undeliverable",
	131047: "Re-engagement message",
	131049: "This message was not delivered to maintain healthy ecosystem engagement.",
	131051: "Unsupported message type",
	131053: "Media upload error",
}

// errorHref is the error-code page Meta links from webhook errors.
const errorHref = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"

// Receipt builds the webhook body the provider sends when the status of a message the business sent changes,
// in either shape (the empty shape means Cloud). A sent receipt carries conversation and pricing (per-message
// pricing, category utility); a failed one carries errors[]. It fails for an unknown shape or status.
func Receipt(shape wa.Shape, o ReceiptOptions) ([]byte, error) {
	cloud, err := shapeIsCloud(shape)
	if err != nil {
		return nil, err
	}
	status := strings.ToLower(strings.TrimSpace(o.Status))
	if status == "" {
		status = "delivered"
	}
	if !slices.Contains(receiptStatuses, status) {
		return nil, fmt.Errorf("simulate: unknown receipt status %q: use one of %s", o.Status,
			strings.Join(receiptStatuses, ", "))
	}
	recipient := wa.Digits(firstNonEmpty(o.RecipientID, DefaultFrom))
	if recipient == "" {
		return nil, fmt.Errorf("simulate: recipient %q has no digits: give the user's number, e.g. %s",
			o.RecipientID, DefaultFrom)
	}
	ts := o.Timestamp
	if ts.IsZero() {
		ts = time.Now()
	}
	st := obj{
		{"id", firstNonEmpty(o.MessageID, NewWAMID(recipient))},
		{"status", status},
		{"timestamp", unixString(ts)},
		{"recipient_id", recipient},
	}
	if status == "sent" || o.Pricing && status != "failed" {
		st = append(st, pricing(cloud, status, ts)...)
	}
	if status == "failed" || o.ErrorCode != 0 {
		code := o.ErrorCode
		if code == 0 {
			code = 131026
		}
		title := firstNonEmpty(o.ErrorTitle, errorTitles[code], "Error "+strconv.Itoa(code))
		e := obj{{"code", code}, {"title", title}}
		if cloud {
			e.set("message", title)
			e.set("error_data", obj{{"details", firstNonEmpty(o.ErrorDetail, title)}})
			e.set("href", errorHref)
		} else {
			e.setIf("details", o.ErrorDetail)
		}
		st.set("errors", []obj{e})
	}
	return envelope(cloud, obj{{"statuses", []obj{st}}}, o.PhoneNumberID, o.DisplayPhoneNumber)
}

// pricing returns the conversation and pricing members of a status. Cloud uses per-message pricing (PMP,
// with a pricing type) and a string expiration_timestamp; On-Premise kept conversation-based pricing (CBP)
// and writes expiration_timestamp as a number. The expiration appears only on the first status, sent.
func pricing(cloud bool, status string, ts time.Time) obj {
	conv := obj{{"id", randomHex(16)}}
	if status == "sent" {
		exp := ts.Add(24 * time.Hour).Unix()
		if cloud {
			conv.set("expiration_timestamp", strconv.FormatInt(exp, 10))
		} else {
			conv.set("expiration_timestamp", exp)
		}
	}
	conv.set("origin", obj{{"type", "utility"}})
	p := obj{{"billable", true}}
	if cloud {
		p.set("pricing_model", "PMP")
		p.set("category", "utility")
		p.set("type", "regular")
	} else {
		p.set("pricing_model", "CBP")
		p.set("category", "utility")
	}
	return obj{{"conversation", conv}, {"pricing", p}}
}
