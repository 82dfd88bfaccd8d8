package httpapi

import (
	"github.com/wagate/wagate/internal/store"
)

// The functions below expose the API's error catalogue to the web UI, so that a send from a page explains a
// refusal exactly as the API does (same message, same fix) instead of keeping a second mapping.

// SendRefusal returns the catalogue error of a refusal of the send service for a message of type msgType
// (unknown channel, closed window, template problems, bad file); false for errors that are not refusals.
func SendRefusal(msgType string, err error) (*Error, bool) { return sendError(msgType, err) }

// SendFailure returns the catalogue error of an outbound message the provider refused, by its error class.
func SendFailure(m store.Message) *Error { return sendFailure(m) }

// ValidationError returns the catalogue error of a send request that outbound.Decode refused.
func ValidationError(err error) *Error { return validationError(err) }

// Contact field limits, shared with the web UI's contact form.
const (
	MaxContactName = maxName
	MaxContactRef  = maxRef
)

// CheckContactText reports what is wrong with a contact's name or external reference of at most max
// characters ("" when nothing is): not UTF-8, too long, or holding control characters.
func CheckContactText(s string, max int) string { return checkText(s, max) }
