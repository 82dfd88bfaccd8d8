package httpapi

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/wagate/wagate/internal/outbound"
	"github.com/wagate/wagate/internal/sender"
	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/wa"
)

// The Cloud-API-compatible endpoints let an application written for Meta's Cloud API or 360dialog's waba-v2 API
// (with any WhatsApp SDK) send through wagate by changing its base URL: they take the provider's exact request
// body and answer its exact response and error envelopes. docs/compat.md states the contract.

// graphPrefix is where the Graph-style send endpoint is mounted on the mux; CompatPaths maps the root form
// /{version}/{phone_number_id}/messages onto it.
const graphPrefix = "/v1/graph/"

// compatWait bounds how long a compatible send waits for the provider's message id before it answers with
// wagate's id. The Cloud API answers synchronously; wagate queues, and most sends leave the queue well within it.
const compatWait = 5 * time.Second

// graphVersionRE matches a Graph API version segment: v16.0 ... v25.0, or v23.
var graphVersionRE = regexp.MustCompile(`^v[0-9]{1,3}(\.[0-9]{1,3})?$`)

// graphPathRE matches the root form of the Graph send path after doubled slashes are collapsed. Its version
// needs a dot, so it never takes wagate's own /v1/... paths.
var graphPathRE = regexp.MustCompile(`^/v[0-9]{1,3}\.[0-9]{1,3}/[^/]+/messages/?$`)

// CompatPaths wraps the server's mux for clients that build URLs by concatenation. For requests other than GET
// and HEAD it collapses doubled slashes in the path without a redirect (ServeMux answers 301, which turns a POST
// into a GET at the client), and it serves the Cloud API's root path POST /{version}/{phone_number_id}/messages
// from wagate's Graph-compatible endpoint under /v1/graph/. Every other request reaches next unchanged.
func CompatPaths(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			next.ServeHTTP(w, r)
			return
		}
		p := collapseSlashes(r.URL.Path)
		if graphPathRE.MatchString(p) {
			p = graphPrefix + strings.TrimSuffix(strings.TrimPrefix(p, "/"), "/")
		}
		if p != r.URL.Path {
			r2 := r.Clone(r.Context())
			r2.URL.Path, r2.URL.RawPath = p, ""
			r2.RequestURI = r2.URL.RequestURI()
			r = r2
		}
		next.ServeHTTP(w, r)
	})
}

// collapseSlashes replaces every run of slashes in p with one.
func collapseSlashes(p string) string {
	if !strings.Contains(p, "//") {
		return p
	}
	var b strings.Builder
	b.Grow(len(p))
	for i := 0; i < len(p); i++ {
		if p[i] == '/' && i > 0 && p[i-1] == '/' {
			continue
		}
		b.WriteByte(p[i])
	}
	return b.String()
}

// registerCompat mounts the compatible endpoints. They answer in their own envelopes, so they call authorize
// themselves instead of going through Register's route helper; all need ScopeSend.
func (a *API) registerCompat(mux *http.ServeMux) {
	if a.sender == nil {
		return
	}
	mux.HandleFunc("POST "+graphPrefix+"{version}/{phone_number_id}/messages", a.graphMessages)
	mux.HandleFunc("POST "+graphPrefix+"{version}/{phone_number_id}/messages/", a.graphMessages)
	mux.HandleFunc("POST /messages", a.dialogMessages)
	mux.HandleFunc("POST /v1/whatsapp/notify", a.notify)
	for _, p := range []string{"POST " + graphPrefix + "{version}/{phone_number_id}/messages", "POST /messages", "POST /v1/whatsapp/notify"} {
		a.routes = append(a.routes, Route{Pattern: p, Scope: ScopeSend})
	}
}

// CloudError is the Cloud API's error object, as Meta answers it and 360dialog passes it through.
type CloudError struct {
	Message      string          `json:"message"`
	Type         string          `json:"type"`
	Code         int             `json:"code"`
	ErrorSubcode int             `json:"error_subcode,omitempty"`
	ErrorData    *CloudErrorData `json:"error_data,omitempty"`
	FBTraceID    string          `json:"fbtrace_id"`
	status       int
	wagateCode   string
	retryAfter   int // seconds; sent as Retry-After when set
}

// CloudErrorData carries the details Meta advises clients to read.
type CloudErrorData struct {
	MessagingProduct string `json:"messaging_product"`
	Details          string `json:"details"`
}

// cloudSendAnswer is the Cloud API's answer to an accepted send.
type cloudSendAnswer struct {
	MessagingProduct string         `json:"messaging_product"`
	Contacts         []cloudContact `json:"contacts"`
	Messages         []cloudMessage `json:"messages"`
}

type cloudContact struct {
	Input string `json:"input"`
	WAID  string `json:"wa_id"`
}

type cloudMessage struct {
	ID string `json:"id"`
}

// errUnknownObject is the Graph API's answer for a path id it does not know.
func errUnknownObject(id string) *CloudError {
	return &CloudError{Type: "GraphMethodException", Code: 100, ErrorSubcode: 33, status: http.StatusBadRequest, wagateCode: "unknown_channel",
		Message: "Unsupported post request. Object with ID '" + id + "' does not exist, cannot be loaded due to missing permissions, " +
			"or does not support this operation. wagate knows the phone number ids of its configured channels (GET /v1/channels); " +
			"a channel's name works too"}
}

// graphMessages serves POST /{version}/{phone_number_id}/messages (Meta's Cloud API; Bearer token).
func (a *API) graphMessages(w http.ResponseWriter, r *http.Request) {
	if e := a.authorize(r, ScopeSend); e != nil {
		SetRetryAfter(w, e)
		writeCloudError(w, cloudFromAPI(e))
		return
	}
	if v := r.PathValue("version"); !graphVersionRE.MatchString(v) {
		writeCloudError(w, &CloudError{Type: "OAuthException", Code: 100, status: http.StatusBadRequest, wagateCode: "invalid_version",
			Message: "(#100) Unknown API version " + strings.TrimSpace(v) + ": use a Graph API version such as v23.0"})
		return
	}
	id := r.PathValue("phone_number_id")
	ch, ok := a.graphChannel(id)
	if !ok {
		writeCloudError(w, errUnknownObject(id))
		return
	}
	a.compatSend(w, r, ch, true)
}

// dialogMessages serves POST /messages (360dialog's waba-v2 API). The wagate token comes in D360-API-KEY (or as
// a Bearer token); the channel is the body's "channel" field or else the default one.
func (a *API) dialogMessages(w http.ResponseWriter, r *http.Request) {
	if key := r.Header.Get("D360-API-KEY"); key != "" {
		r2 := r.Clone(r.Context())
		r2.Header.Set("Authorization", "Bearer "+strings.TrimSpace(key))
		r2.Header.Del("D360-API-KEY")
		if e := a.authorize(r2, ScopeSend); e != nil {
			SetRetryAfter(w, e)
			writeCloudError(w, cloudFromAPI(e))
			return
		}
	} else if e := a.authorize(r, ScopeSend); e != nil {
		SetRetryAfter(w, e)
		writeCloudError(w, cloudFromAPI(e))
		return
	}
	a.compatSend(w, r, "", false)
}

// graphChannel finds the channel a Graph path id names: the channel whose phone number id it is, else the channel
// of that name. When exactly one channel is configured and it has no phone number id (demo, 360dialog), every id
// names it: there is nothing to match against, and SDKs insist on some id.
func (a *API) graphChannel(id string) (string, bool) {
	if a.channels == nil {
		return "", id != ""
	}
	list := a.channels.List()
	for _, c := range list {
		if c.PhoneNumberID != "" && c.PhoneNumberID == id {
			return c.Name, true
		}
	}
	for _, c := range list {
		if c.Name == id {
			return c.Name, true
		}
	}
	if len(list) == 1 && list[0].PhoneNumberID == "" && id != "" {
		return list[0].Name, true
	}
	return "", false
}

// compatSend decodes a Cloud API send (or mark-as-read) body and queues it on channel ("" lets the body choose,
// else the default), answering in the Cloud API's envelopes. pathChannel says the channel came from the path.
func (a *API) compatSend(w http.ResponseWriter, r *http.Request, channel string, pathChannel bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSendBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeCloudError(w, &CloudError{Type: "OAuthException", Code: 100, status: http.StatusRequestEntityTooLarge, wagateCode: "body_too_large",
				Message: "(#100) The request body is larger than 1 MiB", ErrorData: details("send media by id or link (upload files first), not inline")})
			return
		}
		writeCloudError(w, &CloudError{Type: "OAuthException", Code: 100, status: http.StatusBadRequest, wagateCode: "unreadable_body",
			Message: "(#100) Could not read the request body"})
		return
	}
	req, input, cerr := decodeCompat(body, r.Header.Get("Idempotency-Key"))
	if cerr != nil {
		writeCloudError(w, cerr)
		return
	}
	if pathChannel && req.Channel != "" && req.Channel != channel {
		writeCloudError(w, &CloudError{Type: "OAuthException", Code: 100, status: http.StatusBadRequest, wagateCode: "channel_mismatch",
			Message:   "(#100) Param channel does not match the phone number id in the path",
			ErrorData: details("leave channel out: the path's phone number id already selects channel " + channel)})
		return
	}
	if channel == "" {
		channel = req.Channel
	}
	if req.Message.Type == "read" {
		a.compatRead(w, r, channel, req)
		return
	}
	m, _, err := a.sender.Send(r.Context(), channel, req.Message, req.IdempotencyKey)
	if err != nil {
		writeCloudError(w, a.cloudFromSend(r, err, req))
		return
	}
	w.Header().Set("X-Wagate-Message-Id", m.ID)
	if m.Status == wa.StatusQueued {
		if m, err = a.sender.Wait(r.Context(), m.ID, compatWait); err != nil {
			writeCloudError(w, a.cloudFromSend(r, err, req))
			return
		}
	}
	if m.Status == wa.StatusFailed {
		writeCloudError(w, cloudFromAPI(sendFailure(m)))
		return
	}
	id := m.ProviderID
	if id == "" {
		id = m.ID
	}
	writeJSON(w, http.StatusOK, cloudSendAnswer{MessagingProduct: "whatsapp",
		Contacts: []cloudContact{{Input: input, WAID: wa.Digits(req.Message.To)}}, Messages: []cloudMessage{{ID: id}}})
}

// compatRead queues a mark-as-read and answers {"success":true} as the Cloud API does.
func (a *API) compatRead(w http.ResponseWriter, r *http.Request, channel string, req outbound.Request) {
	var c struct {
		MessageID string `json:"message_id"`
	}
	if err := json.Unmarshal(req.Message.Content, &c); err != nil || c.MessageID == "" {
		writeCloudError(w, &CloudError{Type: "OAuthException", Code: 131008, status: http.StatusBadRequest, wagateCode: "validation_failed",
			Message: "(#131008) Required parameter is missing", ErrorData: details("message_id is required")})
		return
	}
	if err := a.sender.MarkRead(r.Context(), channel, c.MessageID); err != nil {
		writeCloudError(w, a.cloudFromSend(r, err, req))
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"success": true})
}

// decodeCompat decodes a Cloud API request body with outbound.Decode and returns the request (with the
// idempotency key of the header, else of the body) and the recipient exactly as the body wrote it. It never
// panics; every problem is a Cloud error.
func decodeCompat(body []byte, headerKey string) (outbound.Request, string, *CloudError) {
	req, err := outbound.Decode(body)
	if err != nil {
		return outbound.Request{}, "", cloudFromAPI(validationError(err))
	}
	key := headerKey
	if key == "" {
		key = req.IdempotencyKey
	}
	if key != "" {
		if err := outbound.CheckIdempotencyKey(key); err != nil {
			return outbound.Request{}, "", &CloudError{Type: "OAuthException", Code: 100, status: http.StatusBadRequest,
				wagateCode: "invalid_idempotency_key", Message: "(#100) Idempotency-Key " + err.Error(), ErrorData: details("use a UUID")}
		}
	}
	req.IdempotencyKey = key
	var raw struct {
		To any `json:"to"`
	}
	_ = json.Unmarshal(body, &raw)
	input, _ := raw.To.(string)
	if input == "" {
		input = req.Message.To
	}
	return req, input, nil
}

// cloudFromSend turns an error of the send service into a Cloud error; errors outside the catalogue are logged
// and shown as Meta's generic 131000 without their text.
func (a *API) cloudFromSend(r *http.Request, err error, req outbound.Request) *CloudError {
	if errors.Is(err, sender.ErrUnknownChannel) {
		return &CloudError{Type: "GraphMethodException", Code: 100, ErrorSubcode: 33, status: http.StatusBadRequest, wagateCode: "unknown_channel",
			Message: "(#100) Param channel names no configured channel", ErrorData: details("omit channel for the default one, or use a name from GET /v1/channels")}
	}
	e, ok := sendError(req.Message.Type, err)
	switch {
	case ok:
	case errors.Is(err, store.ErrNotFound):
		e = ErrNotFound
	case a.st != nil && a.st.Unavailable(r.Context(), err):
		a.log.Warn("compatible send failed: the database is unavailable", "path", r.URL.Path, "err", err)
		e = ErrUnavailable
	default:
		ce := cloudFromAPI(ErrInternal)
		a.log.Error("compatible send failed", "path", r.URL.Path, "fbtrace_id", ce.FBTraceID, "err", err)
		return ce
	}
	return cloudFromAPI(e)
}

// cloudFromAPI translates a catalogue error into the Cloud API error that means the same: the provider's own
// code when the error came from the provider, else a code chosen by the error's class (window, template,
// recipient, auth, rate, validation, server), so that catalogue codes added later map sensibly too. The HTTP
// status is Meta's for that code, except 409 (idempotency) and 413 (body size), which have no Cloud equivalent.
func cloudFromAPI(e *Error) *CloudError {
	code, sub := cloudCode(e)
	status := cloudStatus(code)
	switch e.Status {
	case http.StatusConflict, http.StatusRequestEntityTooLarge:
		status = e.Status
	}
	text := e.Message
	if text == "" {
		text = "the request failed"
	}
	d := text
	if e.Detail != "" {
		d += ": " + e.Detail
	}
	for _, f := range e.Details {
		if !strings.Contains(d, f.Message) {
			d += "; " + f.Field + ": " + f.Message
		}
	}
	if e.Fix != "" {
		d += ". Fix: " + e.Fix
	}
	typ := "OAuthException"
	if sub == 33 {
		typ = "GraphMethodException"
	}
	return &CloudError{Message: "(#" + strconv.Itoa(code) + ") " + text, Type: typ, Code: code, ErrorSubcode: sub,
		ErrorData: details(d), FBTraceID: traceID(), status: status, wagateCode: e.Code, retryAfter: e.RetryAfter}
}

// cloudCode picks the Cloud error code (and subcode) for a catalogue error.
func cloudCode(e *Error) (code, subcode int) {
	if e.ProviderCode != 0 {
		return e.ProviderCode, 0
	}
	c := e.Code
	switch {
	case strings.Contains(c, "window"):
		return 131047, 0 // re-engagement: more than 24 hours since the contact wrote
	case strings.HasPrefix(c, "template"):
		switch {
		case strings.Contains(c, "paused"):
			return 132015, 0
		case strings.Contains(c, "disabled"):
			return 132016, 0
		case strings.Contains(c, "param"), strings.Contains(c, "mismatch"), strings.Contains(c, "count"):
			return 132000, 0
		case strings.Contains(c, "too_long"), strings.Contains(c, "length"):
			return 132005, 0
		default: // not found, unknown, not approved, wrong language
			return 132001, 0
		}
	case strings.Contains(c, "recipient"):
		return 131026, 0
	case strings.Contains(c, "policy"):
		return 368, 0
	case e.Status == http.StatusUnauthorized:
		return 190, 0
	case e.Status == http.StatusForbidden:
		return 10, 0
	case e.Status == http.StatusTooManyRequests || strings.Contains(c, "rate"):
		return 4, 0
	case e.Status == http.StatusNotFound:
		return 100, 33
	case e.Status == http.StatusServiceUnavailable:
		return 2, 0
	case e.Status >= 500:
		return 131000, 0
	default:
		return 100, 0 // invalid parameter
	}
}

// cloudStatus is the HTTP status Meta answers with code (its error table; throttling codes are 400, not 429).
func cloudStatus(code int) int {
	switch {
	case code == 0, code == 190:
		return http.StatusUnauthorized
	case code == 10, code >= 200 && code <= 299, code == 368, code == 131031, code == 131005:
		return http.StatusForbidden
	case code == 132001:
		return http.StatusNotFound
	case code == 2, code == 133004:
		return http.StatusServiceUnavailable
	case code == 3, code == 131000, code == 131016, code == 131045, code == 131057, code == 133000:
		return http.StatusInternalServerError
	default:
		return http.StatusBadRequest
	}
}

// details wraps a text as the error's error_data.
func details(s string) *CloudErrorData {
	return &CloudErrorData{MessagingProduct: "whatsapp", Details: s}
}

// writeCloudError answers {"error":{...}} with a fresh fbtrace_id, also sent as X-FB-Trace-ID; the catalogue code
// wagate would use is in X-Wagate-Error-Code.
func writeCloudError(w http.ResponseWriter, e *CloudError) {
	if e.FBTraceID == "" {
		e.FBTraceID = traceID()
	}
	w.Header().Set("X-FB-Trace-ID", e.FBTraceID)
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.retryAfter))
	}
	if e.wagateCode != "" {
		w.Header().Set("X-Wagate-Error-Code", e.wagateCode)
	}
	status := e.status
	if status == 0 {
		status = cloudStatus(e.Code)
	}
	writeJSON(w, status, map[string]*CloudError{"error": e})
}

// traceID is a random id like Meta's fbtrace_id, to find an answer in wagate's log.
func traceID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "W" + base64.RawURLEncoding.EncodeToString(b[:])
}
