package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/wagate/wagate/internal/outbound"
	"github.com/wagate/wagate/internal/sender"
	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/templates"
	"github.com/wagate/wagate/internal/wa"
)

// registerTemplates mounts the template and window endpoints.
func (a *API) registerTemplates(h route) {
	h(ScopeRead, "GET /v1/templates", a.listTemplates)
	if a.sender != nil && a.sender.Templates() != nil {
		h(ScopeAdmin, "POST /v1/templates/sync", a.syncTemplates)
	}
}

// The template and window entries of the error catalogue.
var (
	ErrWindowClosed = &Error{Status: http.StatusUnprocessableEntity, Code: "window_closed",
		Message: "the contact's 24-hour window is closed: free-form messages are refused",
		Fix:     "send one of the approved templates listed in templates, or name one in fallback_template to send it instead when the window is closed"}
	ErrTemplateNotFound = &Error{Status: http.StatusUnprocessableEntity, Code: templates.CodeNotFound,
		Message: "the template does not exist in that language",
		Fix:     "use a name and language from GET /v1/templates exactly; if it was just created, POST /v1/templates/sync"}
	ErrTemplateNotApproved = &Error{Status: http.StatusUnprocessableEntity, Code: templates.CodeNotApproved,
		Message: "the template is not approved",
		Fix:     "send an approved template (GET /v1/templates?status=APPROVED); a paused template resumes after its quality improves"}
	ErrTemplateParams = &Error{Status: http.StatusUnprocessableEntity, Code: templates.CodeParams,
		Message: "the parameters do not match the template",
		Fix:     "give each component the parameters listed in details (GET /v1/templates shows each template's components)"}
	ErrTemplatesNotSynced = &Error{Status: http.StatusConflict, Code: templates.CodeNotSynced,
		Message: "the channel's templates have not been read from the provider yet",
		Fix:     "run POST /v1/templates/sync (or `wagate templates sync`), or send the template in the component form"}
	ErrTemplateSync = &Error{Status: http.StatusBadGateway, Code: "template_sync_failed",
		Message: "the templates could not be read from the provider",
		Fix:     "check the channel with `wagate check`; Meta channels need WAGATE_WABA_ID"}
)

// MarshalJSON writes the error object with its Extra members.
func (e *Error) MarshalJSON() ([]byte, error) {
	type plain Error
	b, err := json.Marshal((*plain)(e))
	if err != nil || len(e.Extra) == 0 {
		return b, err
	}
	x, err := json.Marshal(e.Extra)
	if err != nil {
		return nil, err
	}
	if len(b) == 2 { // {}
		return x, nil
	}
	return append(append(b[:len(b)-1], ','), x[1:]...), nil
}

// asSendRefusal turns a refusal of the send path (template preflight, window check) into its catalogue error.
// Endpoints with their own error envelopes call it too.
func asSendRefusal(err error, out **Error) bool {
	var te *templates.Error
	var we *sender.WindowClosedError
	switch {
	case errors.As(err, &we):
		e := *ErrWindowClosed
		e.Message = we.Error()
		refs := we.Templates
		if refs == nil {
			refs = []templates.Ref{}
		}
		var closed, last any
		if !we.ClosedAt.IsZero() {
			closed, last = we.ClosedAt.UTC().Format(time.RFC3339), we.LastInboundAt.UTC().Format(time.RFC3339)
		}
		e.Extra = map[string]any{"channel": we.Channel, "closed_at": closed, "last_inbound_at": last, "templates": refs}
		*out = &e
		return true
	case errors.As(err, &te):
		var e Error
		switch te.Code {
		case templates.CodeNotFound:
			e = *ErrTemplateNotFound
			e.Extra = map[string]any{"languages": nonNil(te.Languages)}
		case templates.CodeNotApproved:
			e = *ErrTemplateNotApproved
			e.Extra = map[string]any{"status": te.Status}
		case templates.CodeNotSynced:
			e = *ErrTemplatesNotSynced
		default:
			e = *ErrTemplateParams
			for _, p := range te.Problems {
				field := p.Field
				if field == "" {
					field = "template.components"
				}
				e.Details = append(e.Details, FieldError{Field: field, Message: p.String()})
			}
			e.Extra = map[string]any{"problems": te.Problems}
		}
		e.Message = te.Error()
		if e.Extra == nil {
			e.Extra = map[string]any{}
		}
		e.Extra["channel"], e.Extra["template"], e.Extra["language"] = te.Channel, te.Template, te.Language
		*out = &e
		return true
	}
	return false
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// shortFormKeys are the fields of a short-form template send.
var shortFormKeys = []string{"to", "template", "language", "params", "header", "buttons", "channel", "reply_to", "idempotency_key"}

// sendTemplateForms handles the send bodies wagate adds to the Cloud API's: the short template form
// {"to","template":"name","language","params"...} and any message with a "fallback_template" (sent instead when
// the window is closed). It reports false for other bodies, which sendMessage handles.
func (a *API) sendTemplateForms(w http.ResponseWriter, r *http.Request, body []byte, wait time.Duration) (bool, error) {
	if !bytes.Contains(body, []byte(`"template"`)) && !bytes.Contains(body, []byte(`"fallback_template"`)) {
		return false, nil
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return false, nil // outbound.Decode explains what is wrong
	}
	var sreq sender.SendRequest
	var req outbound.Request
	var err error
	if t := bytes.TrimSpace(top["template"]); len(t) > 0 && t[0] == '"' {
		req, sreq.Template, err = decodeShortForm(top)
	} else if fb, ok := top["fallback_template"]; ok {
		sreq.Fallback = new(templates.Simple)
		if e := decodeObject(fb, sreq.Fallback); e != nil || sreq.Fallback.Name == "" || sreq.Fallback.Language == "" {
			return true, fieldError("fallback_template", `must be {"name":"...","language":"...","params":...}: a template to send instead when the window is closed`)
		}
		delete(top, "fallback_template")
		rest, _ := json.Marshal(top)
		req, err = outbound.Decode(rest)
	} else {
		return false, nil
	}
	if err != nil {
		return true, validationError(err)
	}
	if req.Message.Type == "read" {
		return true, fieldError("fallback_template", "a read mark has no fallback")
	}
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		key = req.IdempotencyKey
	}
	if len(key) > 255 {
		return true, &Error{Status: http.StatusBadRequest, Code: "invalid_idempotency_key", Message: "Idempotency-Key is longer than 255 characters", Fix: "use a UUID"}
	}
	sreq.Channel, sreq.Message, sreq.IdempotencyKey = req.Channel, req.Message, key
	res, err := a.sender.SendWith(r.Context(), sreq)
	switch {
	case errors.Is(err, sender.ErrUnknownChannel):
		return true, ErrUnknownChannel
	case errors.Is(err, store.ErrIdempotencyConflict):
		return true, ErrIdempotencyConflict
	case errors.As(err, new(outbound.Errors)):
		return true, validationError(err)
	case err != nil:
		return true, err
	}
	m := res.Message
	status := http.StatusAccepted
	if wait > 0 {
		if m, err = a.sender.Wait(r.Context(), m.ID, wait); err != nil {
			return true, err
		}
		if m.Status == wa.StatusFailed {
			writeJSON(w, sendFailure(m).Status, map[string]any{"error": sendFailure(m), "message": m})
			return true, nil
		}
		if m.Status != wa.StatusQueued {
			status = http.StatusOK
		}
	}
	if status == http.StatusAccepted {
		w.Header().Set("Location", "/v1/messages/"+m.ID)
	}
	writeJSON(w, status, templateSendAnswer{sendAnswer{m, !res.Created}, res.FallbackUsed})
	return true, nil
}

// templateSendAnswer says whether the fallback template went out instead of the message asked for.
type templateSendAnswer struct {
	sendAnswer
	FallbackUsed bool `json:"fallback_used,omitempty"`
}

// decodeShortForm reads a short-form template send: the envelope is checked by outbound.Decode (with the
// template as an empty component form), the values by the send path against the synced template.
func decodeShortForm(top map[string]json.RawMessage) (outbound.Request, *templates.Simple, error) {
	var errs outbound.Errors
	for k := range top {
		if !slices.Contains(shortFormKeys, k) {
			errs = append(errs, outbound.ValidationError{Field: k, Message: "is not a field of a short-form template send; it takes " + strings.Join(shortFormKeys, ", ")})
		}
	}
	t := &templates.Simple{Params: top["params"], Header: top["header"], Buttons: top["buttons"]}
	if json.Unmarshal(top["template"], &t.Name) != nil {
		errs = append(errs, outbound.ValidationError{Field: "template", Message: "must be the template's name"})
	}
	if json.Unmarshal(top["language"], &t.Language) != nil || t.Language == "" {
		errs = append(errs, outbound.ValidationError{Field: "language", Message: `is required: the template's language code, like "es" or "en_US"`})
	}
	if len(errs) > 0 {
		return outbound.Request{}, nil, errs
	}
	env := map[string]any{"type": "template", "template": map[string]any{"name": t.Name, "language": map[string]string{"code": t.Language}}}
	for _, k := range []string{"to", "channel", "reply_to", "idempotency_key"} {
		if v, ok := top[k]; ok {
			env[k] = v
		}
	}
	b, _ := json.Marshal(env)
	req, err := outbound.Decode(b)
	return req, t, err
}

// listTemplates lists the synced templates: ?channel=, ?status= (APPROVED...), ?name=, ?language=.
func (a *API) listTemplates(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	list, err := a.st.TemplateList(r.Context(), q.Get("channel"))
	if err != nil {
		return err
	}
	items := []store.ChannelTemplate{}
	for _, t := range list {
		if s := q.Get("status"); s != "" && !strings.EqualFold(s, t.Status) ||
			q.Get("name") != "" && q.Get("name") != t.Name || q.Get("language") != "" && q.Get("language") != t.Language {
			continue
		}
		items = append(items, t)
	}
	syncs, err := a.st.TemplateSyncs(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "syncs": syncs})
	return nil
}

// syncTemplates reads the templates of one channel (?channel= or {"channel":...}) or of all from the provider.
func (a *API) syncTemplates(w http.ResponseWriter, r *http.Request) error {
	cat := a.sender.Templates()
	channel := r.URL.Query().Get("channel")
	if channel == "" && r.ContentLength != 0 {
		var in struct {
			Channel string `json:"channel"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&in); err != nil && r.ContentLength > 0 {
			return fieldError("channel", `the body must be {"channel":"name"} or empty`)
		}
		channel = in.Channel
	}
	if channel == "" {
		writeJSON(w, http.StatusOK, map[string]any{"results": cat.SyncAll(r.Context())})
		return nil
	}
	if _, err := a.sender.Channel(channel); err != nil {
		return ErrUnknownChannel
	}
	res, err := cat.Sync(r.Context(), channel)
	if err != nil {
		e := *ErrTemplateSync
		e.Message = err.Error()
		return &e
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": []templates.SyncResult{res}})
	return nil
}
