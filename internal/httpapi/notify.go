package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/wagate/wagate/internal/outbound"
	"github.com/wagate/wagate/internal/phone"
	"github.com/wagate/wagate/internal/sender"
	"github.com/wagate/wagate/internal/wa"
)

// The notify endpoint, POST /v1/whatsapp/notify, serves applications that send template notifications from
// background jobs with a flat body:
//
//	{"phoneNumber":"+972...","templateName":"...","languageCode":"en_US",
//	 "headerParameters":{"type":"image","image":{"link":"..."}},
//	 "templateParameters":[{"type":"text","text":"..."}]}
//
// It answers 200, 400, 401 or 500 (and 403, 409 or 429 when the token's scope, the Idempotency-Key or a rate
// limit says so) with {"message":"...","error":"..."}. docs/compat.md states the contract.

// DefaultRecipients is implemented by a Channels that knows the configured default recipient
// (WAGATE_DEFAULT_RECIPIENT, alias WHATSAPP_DEFAULT_RECIPIENT), which the notify endpoint uses when a request
// names no phoneNumber.
type DefaultRecipients interface {
	DefaultRecipient() string
}

// notifyRequest is the notify body. headerParameters may be one parameter object or a list of them; a
// templateParameters entry may be a parameter object or a plain string (a text parameter).
type notifyRequest struct {
	PhoneNumber        string          `json:"phoneNumber"`
	TemplateName       string          `json:"templateName"`
	LanguageCode       string          `json:"languageCode"`
	HeaderParameters   json.RawMessage `json:"headerParameters"`
	TemplateParameters json.RawMessage `json:"templateParameters"`
	Channel            string          `json:"channel"`
}

// notifyFields are the fields a notify body may hold, in the order error messages list them.
var notifyFields = "phoneNumber, templateName, languageCode, headerParameters, templateParameters, channel"

// defaultLanguage is the template language when a notify request names none.
const defaultLanguage = "en_US"

// notifyAnswer is the notify endpoint's answer: message always; error on failure; on success the message's id
// and status.
type notifyAnswer struct {
	Message   string    `json:"message"`
	Error     string    `json:"error,omitempty"`
	ID        string    `json:"id,omitempty"`
	Status    wa.Status `json:"status,omitempty"`
	WAMID     string    `json:"wamid,omitempty"`
	Recipient string    `json:"phoneNumber,omitempty"`
	Duplicate bool      `json:"duplicate,omitempty"`
}

// notifyError is a notify failure: status and the two texts of the envelope.
type notifyError struct {
	status     int
	message    string
	detail     string
	retryAfter int // seconds; sent as Retry-After when set
}

func (e *notifyError) Error() string { return e.message + ": " + e.detail }

func badNotify(format string, args ...any) *notifyError {
	return &notifyError{status: http.StatusBadRequest, message: "Invalid notification request", detail: fmt.Sprintf(format, args...)}
}

// decodeNotify turns a notify body into an outbound request: a template message to phoneNumber (or
// defaultRecipient), checked by the same rules as every send. Errors name the notify body's fields. It never
// panics.
func decodeNotify(body []byte, defaultRecipient string) (outbound.Request, *notifyError) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var n notifyRequest
	if err := dec.Decode(&n); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.Is(err, io.EOF):
			return outbound.Request{}, badNotify("the body is empty: send a JSON object with templateName")
		case errors.As(err, &syn):
			return outbound.Request{}, badNotify("the body is not valid JSON (at byte %d)", syn.Offset)
		case errors.As(err, &typ) && typ.Field != "":
			return outbound.Request{}, badNotify("%s must be a %s", typ.Field, kindName(typ.Field))
		case errors.As(err, &typ):
			return outbound.Request{}, badNotify("the body must be a JSON object")
		case strings.HasPrefix(err.Error(), "json: unknown field"):
			return outbound.Request{}, badNotify("%s is not a field of a notification; use %s", strings.TrimPrefix(err.Error(), "json: unknown field "), notifyFields)
		default:
			return outbound.Request{}, badNotify("the body is not valid JSON")
		}
	}
	if dec.More() {
		return outbound.Request{}, badNotify("the body holds more than one JSON value")
	}
	to := strings.TrimSpace(n.PhoneNumber)
	if to == "" {
		if defaultRecipient == "" {
			return outbound.Request{}, badNotify("phoneNumber is required: no default recipient is configured (WHATSAPP_DEFAULT_RECIPIENT)")
		}
		to = defaultRecipient
	}
	if e := checkE164(to); e != nil {
		return outbound.Request{}, e
	}
	if strings.TrimSpace(n.TemplateName) == "" {
		return outbound.Request{}, badNotify("templateName is required: the name of an approved WhatsApp template")
	}
	lang := n.LanguageCode
	if lang == "" {
		lang = defaultLanguage
	}
	var comps []map[string]any
	fieldOf := map[string]string{"to": "phoneNumber", "template.name": "templateName", "template.language.code": "languageCode",
		"template.language": "languageCode", "channel": "channel"}
	if hp, e := paramList(n.HeaderParameters, "headerParameters"); e != nil {
		return outbound.Request{}, e
	} else if len(hp) > 0 {
		fieldOf[fmt.Sprintf("template.components[%d].parameters", len(comps))] = "headerParameters"
		comps = append(comps, map[string]any{"type": "header", "parameters": hp})
	}
	if tp, e := paramList(n.TemplateParameters, "templateParameters"); e != nil {
		return outbound.Request{}, e
	} else if len(tp) > 0 {
		fieldOf[fmt.Sprintf("template.components[%d].parameters", len(comps))] = "templateParameters"
		comps = append(comps, map[string]any{"type": "body", "parameters": tp})
	}
	tmpl := map[string]any{"name": n.TemplateName, "language": map[string]string{"code": lang}}
	if len(comps) > 0 {
		tmpl["components"] = comps
	}
	cloud := map[string]any{"messaging_product": "whatsapp", "to": to, "type": "template", "template": tmpl}
	if n.Channel != "" {
		cloud["channel"] = n.Channel
	}
	b, err := json.Marshal(cloud)
	if err != nil {
		return outbound.Request{}, badNotify("the parameters cannot be encoded: %v", err)
	}
	req, err := outbound.Decode(b)
	if err != nil {
		var verrs outbound.Errors
		if !errors.As(err, &verrs) {
			return outbound.Request{}, badNotify("%v", err)
		}
		parts := make([]string, 0, len(verrs))
		for _, v := range verrs {
			parts = append(parts, renameField(v, fieldOf))
		}
		return outbound.Request{}, badNotify("%s", strings.Join(parts, "; "))
	}
	return req, nil
}

// checkE164 enforces E.164: a plus, the country code and the number, digits only.
func checkE164(to string) *notifyError {
	n, err := phone.Normalize(to)
	switch {
	case err != nil:
		return badNotify("phoneNumber %q is not a valid phone number: write it in E.164 form, + then the country code and number, like +972525551234", to)
	case n != to:
		return badNotify("phoneNumber %q is not in E.164 form: write %q (+ then the country code and number, digits only)", to, n)
	}
	return nil
}

// paramList reads a parameter list: null, one object, or an array of objects and strings (a string is a text
// parameter).
func paramList(raw json.RawMessage, field string) ([]json.RawMessage, *notifyError) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	switch raw[0] {
	case '{':
		return []json.RawMessage{raw}, nil
	case '[':
	default:
		return nil, badNotify("%s must be a parameter object or a list of them, like [{\"type\":\"text\",\"text\":\"Ana\"}]", field)
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, badNotify("%s must be a list of parameter objects", field)
	}
	out := make([]json.RawMessage, 0, len(items))
	for i, it := range items {
		it = bytes.TrimSpace(it)
		var s string
		switch {
		case len(it) > 0 && it[0] == '{':
			out = append(out, it)
		case json.Unmarshal(it, &s) == nil:
			b, _ := json.Marshal(map[string]string{"type": "text", "text": s})
			out = append(out, b)
		default:
			return nil, badNotify("%s[%d] must be a parameter object like {\"type\":\"text\",\"text\":\"Ana\"} or a string", field, i)
		}
	}
	return out, nil
}

// renameField writes a validation error with the notify body's field names.
func renameField(v outbound.ValidationError, fieldOf map[string]string) string {
	f := v.Field
	best := ""
	for from := range fieldOf {
		if (f == from || strings.HasPrefix(f, from+".") || strings.HasPrefix(f, from+"[")) && len(from) > len(best) {
			best = from
		}
	}
	if best != "" {
		f = fieldOf[best] + strings.TrimPrefix(f, best)
	}
	if f == "" {
		return v.Message
	}
	return f + ": " + v.Message
}

func kindName(field string) string {
	switch field {
	case "headerParameters":
		return "parameter object or a list of them"
	case "templateParameters":
		return "list of parameters"
	}
	return "string"
}

// notify serves POST /v1/whatsapp/notify.
func (a *API) notify(w http.ResponseWriter, r *http.Request) {
	if e := a.authorize(r, ScopeSend); e != nil {
		msg := "Unauthorized"
		switch e.Status {
		case http.StatusForbidden:
			msg = "Forbidden"
		case http.StatusTooManyRequests:
			msg = "Too many requests"
		}
		SetRetryAfter(w, e)
		writeJSON(w, e.Status, notifyAnswer{Message: msg, Error: e.Message})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSendBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeNotifyError(w, badNotify("the body is larger than 1 MiB"))
			return
		}
		writeNotifyError(w, badNotify("could not read the request body"))
		return
	}
	def := ""
	if d, ok := a.channels.(DefaultRecipients); ok {
		def = d.DefaultRecipient()
	}
	req, ne := decodeNotify(body, def)
	if ne != nil {
		writeNotifyError(w, ne)
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if key != "" {
		if err := outbound.CheckIdempotencyKey(key); err != nil {
			writeNotifyError(w, badNotify("Idempotency-Key %s", strings.TrimPrefix(err.Error(), "idempotency_key: ")))
			return
		}
	}
	m, created, err := a.sender.Send(r.Context(), req.Channel, req.Message, key)
	if err == nil {
		w.Header().Set("X-Wagate-Message-Id", m.ID)
		if m.Status == wa.StatusQueued {
			m, err = a.sender.Wait(r.Context(), m.ID, compatWait)
		}
	}
	if err != nil {
		writeNotifyError(w, a.notifyFromSend(r, err))
		return
	}
	if m.Status == wa.StatusFailed {
		e := sendFailure(m)
		ne := &notifyError{status: http.StatusBadRequest, message: "WhatsApp refused the notification", detail: notifyDetail(e)}
		if e.Status >= 500 {
			ne.status, ne.message = http.StatusInternalServerError, "The notification could not be sent"
		}
		writeNotifyError(w, ne)
		return
	}
	msg := "Notification sent"
	if m.Status == wa.StatusQueued {
		msg = "Notification queued"
	}
	writeJSON(w, http.StatusOK, notifyAnswer{Message: msg, ID: m.ID, Status: m.Status, WAMID: m.ProviderID,
		Recipient: req.Message.To, Duplicate: !created})
}

// notifyFromSend maps an error of the send service to the notify envelope: client errors are 400 (409 for an
// Idempotency-Key conflict), the rest 500 with a generic text.
func (a *API) notifyFromSend(r *http.Request, err error) *notifyError {
	if errors.Is(err, sender.ErrUnknownChannel) {
		return badNotify("channel names no configured channel: omit it for the default one")
	}
	e, ok := sendError("template", err)
	if !ok && a.st != nil && a.st.Unavailable(r.Context(), err) {
		a.log.Warn("notify failed: the database is unavailable", "path", r.URL.Path, "err", err)
		return &notifyError{status: http.StatusServiceUnavailable, message: "The notification could not be sent", detail: notifyDetail(ErrUnavailable),
			retryAfter: ErrUnavailable.RetryAfter}
	}
	if !ok {
		a.log.Error("notify failed", "path", r.URL.Path, "err", err)
		return &notifyError{status: http.StatusInternalServerError, message: "The notification could not be sent", detail: ErrInternal.Message}
	}
	switch {
	case e.Status == http.StatusConflict:
		return &notifyError{status: http.StatusConflict, message: "Idempotency-Key conflict", detail: notifyDetail(e)}
	case e.Status == http.StatusTooManyRequests:
		return &notifyError{status: e.Status, message: "Too many requests", detail: notifyDetail(e)}
	case e.Status >= 500:
		return &notifyError{status: http.StatusInternalServerError, message: "The notification could not be sent", detail: notifyDetail(e)}
	default:
		return &notifyError{status: http.StatusBadRequest, message: "Invalid notification request", detail: notifyDetail(e)}
	}
}

// notifyDetail is a catalogue error as one line: what is wrong, then what to do.
func notifyDetail(e *Error) string {
	s := e.Message
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.ProviderCode != 0 {
		s += fmt.Sprintf(" (WhatsApp error %d)", e.ProviderCode)
	}
	if e.Fix != "" {
		s += ". " + e.Fix
	}
	return s
}

func writeNotifyError(w http.ResponseWriter, e *notifyError) {
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.retryAfter))
	}
	writeJSON(w, e.status, notifyAnswer{Message: e.message, Error: e.detail})
}
