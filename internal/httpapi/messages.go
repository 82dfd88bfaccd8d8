package httpapi

import (
	"errors"
	"net/http"
	"time"

	"github.com/wagate/wagate/internal/outbound"
	"github.com/wagate/wagate/internal/provider"
	"github.com/wagate/wagate/internal/sender"
	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/wa"
)

// maxSendBody bounds a send request. Media travel by id or link, not inline.
const maxSendBody = 1 << 20

// maxWait bounds ?wait=true.
const maxWait = 30 * time.Second

// More of the error catalogue.
var (
	ErrValidation = &Error{Status: http.StatusUnprocessableEntity, Code: "validation_failed", Message: "the message is not valid",
		Fix: "correct the fields listed in details"}
	ErrBodyTooLarge = &Error{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large", Message: "the request body is larger than 1 MiB",
		Fix: "send media by id or link (upload files first), not inline"}
	ErrUnknownChannel = &Error{Status: http.StatusUnprocessableEntity, Code: "unknown_channel", Message: "no channel by that name is configured",
		Fix: "omit channel for the default one, or use a name from the configuration"}
	ErrIdempotencyConflict = &Error{Status: http.StatusConflict, Code: "idempotency_conflict", Message: "this Idempotency-Key was used with a different request",
		Fix: "use a new key for a new message; repeat a key only to repeat the same request"}
	ErrNotRetryable = &Error{Status: http.StatusConflict, Code: "not_retryable", Message: "only failed outbound messages can be retried",
		Fix: "check the message's status; queued and sent messages need no retry"}
	ErrBadWait = &Error{Status: http.StatusBadRequest, Code: "invalid_wait", Message: "wait must be true/false or a duration up to 30s",
		Fix: "use ?wait=true (waits up to 15 s) or e.g. ?wait=5s"}
)

// sendFailure turns a message that failed at the provider into a catalogue error by its class.
func sendFailure(m store.Message) *Error {
	e := &Error{Status: http.StatusUnprocessableEntity, Message: m.ErrorTitle, ProviderCode: m.ErrorCode, Detail: m.ErrorDetail}
	switch provider.Class(m.ErrorClass) {
	case provider.ClassWindow:
		e.Code, e.Fix = "window_closed", "send an approved template: the contact has not written in the last 24 hours"
	case provider.ClassAuth:
		e.Status, e.Code, e.Fix = http.StatusBadGateway, "provider_auth", "check the channel's credentials with `wagate check`"
	case provider.ClassRecipient:
		e.Code, e.Fix = "recipient_unreachable", "check the number; the recipient may not use WhatsApp"
	case provider.ClassTemplate:
		e.Code, e.Fix = "template_rejected", "check the template's name, language, approval and parameters"
	case provider.ClassPolicy:
		e.Code, e.Fix = "policy_blocked", "see the provider's message; quality and policy limits lift with time"
	case provider.ClassRetry, provider.ClassRate, provider.ClassPairRate:
		e.Status, e.Code, e.Fix = http.StatusBadGateway, "provider_unavailable", "retry the message later: POST /v1/messages/{id}/retry"
	default:
		e.Code, e.Fix = "provider_rejected", "see the provider's message and correct the request"
	}
	if e.Message == "" {
		e.Message = "the provider refused the message"
	}
	return e
}

func waitFor(r *http.Request) (time.Duration, error) {
	v := r.URL.Query().Get("wait")
	switch v {
	case "", "false", "0":
		return 0, nil
	case "true", "1":
		return 15 * time.Second, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 || d > maxWait {
		return 0, ErrBadWait
	}
	return d, nil
}

// sendAnswer is the answer to a send: the message, and with ?wait the outcome.
type sendAnswer struct {
	store.Message
	Duplicate bool `json:"duplicate,omitempty"`
}

func (a *API) sendMessage(w http.ResponseWriter, r *http.Request) error {
	wait, err := waitFor(r)
	if err != nil {
		return err
	}
	body, err := a.sendBody(w, r)
	if err != nil {
		return err
	}
	if done, err := a.sendTemplateForms(w, r, body, wait); done {
		return err
	}
	req, err := outbound.Decode(body)
	if err != nil {
		return validationError(err)
	}
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		key = req.IdempotencyKey
	}
	if len(key) > 255 {
		return &Error{Status: http.StatusBadRequest, Code: "invalid_idempotency_key", Message: "Idempotency-Key is longer than 255 characters", Fix: "use a UUID"}
	}
	if req.Message.Type == "read" {
		return a.markRead(w, r, req)
	}
	m, created, err := a.sender.Send(r.Context(), req.Channel, req.Message, key)
	if err != nil {
		if e, ok := sendError(req.Message.Type, err); ok {
			return e
		}
		return err
	}
	if wait > 0 {
		if m, err = a.sender.Wait(r.Context(), m.ID, wait); err != nil {
			return err
		}
		if m.Status == wa.StatusFailed {
			writeJSON(w, sendFailure(m).Status, map[string]any{"error": sendFailure(m), "message": m})
			return nil
		}
		if m.Status != wa.StatusQueued {
			writeJSON(w, http.StatusOK, sendAnswer{m, !created})
			return nil
		}
	}
	w.Header().Set("Location", "/v1/messages/"+m.ID)
	writeJSON(w, http.StatusAccepted, sendAnswer{m, !created})
	return nil
}

func (a *API) markRead(w http.ResponseWriter, r *http.Request, req outbound.Request) error {
	var c struct {
		MessageID string `json:"message_id"`
	}
	if err := jsonUnmarshal(req.Message.Content, &c); err != nil || c.MessageID == "" {
		return validationError(err)
	}
	err := a.sender.MarkRead(r.Context(), req.Channel, c.MessageID)
	if errors.Is(err, sender.ErrUnknownChannel) {
		return ErrUnknownChannel
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"success": true, "status": "queued"})
	return nil
}

func validationError(err error) *Error {
	e := *ErrValidation
	var verrs outbound.Errors
	if errors.As(err, &verrs) {
		for _, v := range verrs {
			e.Details = append(e.Details, FieldError{Field: v.Field, Message: v.Message})
		}
		if len(verrs) > 0 {
			e.Message = verrs.Error()
		}
	} else if err != nil {
		e.Message = err.Error()
	}
	return &e
}

func (a *API) retryMessage(w http.ResponseWriter, r *http.Request) error {
	key := r.Header.Get("Idempotency-Key")
	if key != "" && outbound.CheckIdempotencyKey(key) != nil {
		return &Error{Status: http.StatusBadRequest, Code: "invalid_idempotency_key", Message: "Idempotency-Key must be 1 to 255 visible ASCII characters", Fix: "use a UUID"}
	}
	m, _, err := a.sender.RetryWithKey(r.Context(), r.PathValue("id"), key)
	if errors.Is(err, store.ErrIdempotencyConflict) {
		return ErrIdempotencyConflict
	}
	if errors.Is(err, sender.ErrNotRetryable) {
		e := *ErrNotRetryable
		e.Message = err.Error()
		return &e
	}
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/messages/"+m.ID)
	writeJSON(w, http.StatusAccepted, m)
	return nil
}

// sendError turns a refusal of the send service into its catalogue error; false for errors that are not
// refusals (the database failing, say). Every send endpoint maps refusals through it, whatever its envelope.
func sendError(msgType string, err error) (*Error, bool) {
	var e *Error
	switch {
	case errors.Is(err, sender.ErrUnknownChannel):
		return ErrUnknownChannel, true
	case errors.Is(err, store.ErrIdempotencyConflict):
		return ErrIdempotencyConflict, true
	case errors.Is(err, sender.ErrFile):
		return fileError(msgType, err), true
	case errors.Is(err, sender.ErrStoredFile):
		e := *ErrValidation
		field := msgType + ".file"
		e.Message = field + ": this wagate keeps no media files"
		e.Fix = "upload the file with POST /v1/media (multipart field file) and send the returned id as " + msgType + ".id"
		e.Details = []FieldError{{Field: field, Message: "no media store: upload with POST /v1/media and send by id"}}
		return &e, true
	case asSendRefusal(err, &e):
		return e, true
	case errors.As(err, &e):
		return e, true
	}
	return nil, false
}
