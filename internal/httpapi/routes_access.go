package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/wagate/wagate/internal/auth"
	"github.com/wagate/wagate/internal/phone"
	"github.com/wagate/wagate/internal/sender"
	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/wa"
)

// maxSmallBody bounds the JSON bodies of tokens and contacts.
const maxSmallBody = 64 << 10

// More of the error catalogue: listings, tokens and contacts.
var (
	ErrBadTime = &Error{Status: http.StatusBadRequest, Code: "invalid_time", Message: "since and until must be RFC 3339 times or Unix seconds",
		Fix: "use e.g. since=2026-01-31T00:00:00Z or since=1769817600"}
	ErrBadFilter = &Error{Status: http.StatusBadRequest, Code: "invalid_filter", Message: "a filter has a value this API does not know",
		Fix: "see the message for the values allowed"}
	ErrBadJSON = &Error{Status: http.StatusBadRequest, Code: "invalid_json", Message: "the body is not the JSON object this endpoint expects",
		Fix: "send a JSON object with the documented fields and Content-Type: application/json"}
	ErrContactExists = &Error{Status: http.StatusConflict, Code: "contact_exists", Message: "a contact with this phone exists already",
		Fix: "update it with PATCH /v1/contacts/{id}; find it with GET /v1/contacts?q=PHONE"}
	ErrExternalRefTaken = &Error{Status: http.StatusConflict, Code: "external_ref_taken", Message: "another contact carries this external_ref",
		Fix: "external_ref links one contact to one record of your application; clear it on the other contact first"}
)

// registerAccess mounts tokens, contacts, the message search and marking conversations read.
func (a *API) registerAccess(h route) {
	h(ScopeAdmin, "POST /v1/tokens", a.createToken)
	h(ScopeAdmin, "GET /v1/tokens", a.listTokens)
	h(ScopeAdmin, "DELETE /v1/tokens/{id}", a.revokeToken)
	h(ScopeRead, "GET /v1/messages", a.searchMessages)
	h(ScopeSend, "POST /v1/conversations/{id}/read", a.markConversationRead)
	h(ScopeSend, "POST /v1/contacts", a.createContact)
	h(ScopeRead, "GET /v1/contacts", a.listContacts)
	h(ScopeRead, "GET /v1/contacts/{id}", a.getContact)
	h(ScopeSend, "PATCH /v1/contacts/{id}", a.updateContact)
	h(ScopeRead, "GET /v1/contacts/by-ref/{ref}", a.getContactByRef)
}

// readSmallBody reads a JSON body of at most maxSmallBody bytes.
func readSmallBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSmallBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			e := *ErrBodyTooLarge
			e.Message = "the request body is larger than 64 KiB"
			e.Fix = "send only the documented fields"
			return nil, &e
		}
		return nil, &Error{Status: http.StatusBadRequest, Code: "unreadable_body", Message: "could not read the request body"}
	}
	return body, nil
}

// decodeObject decodes a JSON object strictly: unknown fields, trailing data and a non-object are errors.
func decodeObject(body []byte, v any) *Error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return ErrBadJSON
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		e := *ErrBadJSON
		e.Message = "the body is not valid: " + jsonProblem(err)
		return &e
	}
	if dec.More() {
		e := *ErrBadJSON
		e.Message = "the body has data after its JSON object"
		return &e
	}
	return nil
}

// jsonProblem describes a decoding error without echoing much of the input.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		return fmt.Sprintf("field %q must be %s", te.Field, te.Type.String())
	case errors.As(err, &se):
		return fmt.Sprintf("malformed JSON at byte %d", se.Offset)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f := strings.TrimPrefix(err.Error(), "json: unknown field ")
		if len(f) > 60 {
			f = f[:60] + "…"
		}
		return "unknown field " + f
	}
	return "malformed JSON"
}

func fieldError(field, msg string) *Error {
	e := *ErrValidation
	e.Message = field + ": " + msg
	e.Fix = "correct the fields listed in details"
	e.Details = []FieldError{{Field: field, Message: msg}}
	return &e
}

// --- tokens ---

// tokenRequest is the body of POST /v1/tokens. Scopes is a list (["send","read"]) or one comma-separated
// string ("send,read").
type tokenRequest struct {
	Name          string          `json:"name"`
	Scopes        json.RawMessage `json:"scopes"`
	RatePerMinute int             `json:"rate_per_minute"`
	RatePerHour   int             `json:"rate_per_hour"`
}

// decodeTokenRequest reads and checks a token creation body.
func decodeTokenRequest(body []byte) (auth.TokenSpec, *Error) {
	var req tokenRequest
	if e := decodeObject(body, &req); e != nil {
		return auth.TokenSpec{}, e
	}
	var scopes []auth.Scope
	var err error
	var list []string
	var one string
	switch {
	case len(req.Scopes) == 0 || string(req.Scopes) == "null":
		return auth.TokenSpec{}, fieldError("scopes", "required: a list of send, read and admin")
	case json.Unmarshal(req.Scopes, &list) == nil:
		scopes, err = auth.ScopesFrom(list)
	case json.Unmarshal(req.Scopes, &one) == nil:
		scopes, err = auth.ParseScopes(one)
	default:
		return auth.TokenSpec{}, fieldError("scopes", "must be a list of strings such as [\"send\",\"read\"]")
	}
	if err != nil {
		return auth.TokenSpec{}, fieldError("scopes", err.Error())
	}
	spec := auth.TokenSpec{Name: req.Name, Scopes: scopes, RatePerMinute: req.RatePerMinute, RatePerHour: req.RatePerHour}
	if err := spec.Check(); err != nil {
		field := "name"
		if !errors.Is(err, auth.ErrBadName) {
			field = "rate_per_minute"
			if spec.RatePerMinute >= 0 && spec.RatePerMinute <= 10_000_000 {
				field = "rate_per_hour"
			}
		}
		return auth.TokenSpec{}, fieldError(field, err.Error())
	}
	return spec, nil
}

// createdToken is the answer to a token creation: the only time the secret is shown.
type createdToken struct {
	store.APIToken
	Token string `json:"token"`
}

func (a *API) createToken(w http.ResponseWriter, r *http.Request) error {
	body, err := readSmallBody(w, r)
	if err != nil {
		return err
	}
	spec, ferr := decodeTokenRequest(body)
	if ferr != nil {
		return ferr
	}
	secret, tok, err := auth.Issue(r.Context(), a.st, spec)
	if err != nil {
		return err
	}
	a.log.Info("api token created", "token_id", tok.ID, "name", tok.Name, "scopes", strings.Join(tok.Scopes, ","))
	w.Header().Set("Location", "/v1/tokens/"+tok.ID)
	writeJSON(w, http.StatusCreated, createdToken{tok, secret})
	return nil
}

func (a *API) listTokens(w http.ResponseWriter, r *http.Request) error {
	withRevoked, e := boolParam(r.URL.Query(), "revoked")
	if e != nil {
		return e
	}
	toks, err := a.st.TokenList(r.Context(), withRevoked)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": toks})
	return nil
}

func (a *API) revokeToken(w http.ResponseWriter, r *http.Request) error {
	tok, err := a.st.TokenRevoke(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	a.access.forget(tok.ID)
	a.log.Info("api token revoked", "token_id", tok.ID, "name", tok.Name)
	writeJSON(w, http.StatusOK, tok)
	return nil
}

// --- query parameters ---

// listParams are the filters common to listings.
type listParams struct {
	limit        int
	cursor       string
	since, until time.Time
}

// parseTime reads an RFC 3339 time or Unix seconds.
func parseTime(v string) (time.Time, bool) {
	if v == "" {
		return time.Time{}, true
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, true
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 && n < 1<<40 {
		return time.Unix(n, 0).UTC(), true
	}
	return time.Time{}, false
}

// parseList reads limit, cursor, since and until.
func parseList(q url.Values) (listParams, *Error) {
	var p listParams
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return p, ErrBadLimit
		}
		p.limit = n
	}
	p.cursor = q.Get("cursor")
	var ok bool
	if p.since, ok = parseTime(q.Get("since")); !ok {
		return p, ErrBadTime
	}
	if p.until, ok = parseTime(q.Get("until")); !ok {
		return p, ErrBadTime
	}
	if !p.since.IsZero() && !p.until.IsZero() && !p.until.After(p.since) {
		e := *ErrBadTime
		e.Message = "until must be after since"
		return p, &e
	}
	return p, nil
}

func boolParam(q url.Values, name string) (bool, *Error) {
	switch q.Get(name) {
	case "", "false", "0":
		return false, nil
	case "true", "1":
		return true, nil
	}
	e := *ErrBadFilter
	e.Message = name + " must be true or false"
	return false, &e
}

func badFilter(name, allowed string) *Error {
	e := *ErrBadFilter
	e.Message = name + " must be " + allowed
	return &e
}

// messageQuery reads the filters of GET /v1/messages.
func messageQuery(q url.Values) (store.MessageQuery, *Error) {
	p, e := parseList(q)
	if e != nil {
		return store.MessageQuery{}, e
	}
	f := store.MessageQuery{Channel: q.Get("channel"), Status: q.Get("status"), Direction: q.Get("direction"),
		ContactID: q.Get("contact"), ConversationID: q.Get("conversation"), Since: p.since, Until: p.until,
		Cursor: p.cursor, Limit: p.limit}
	if f.Status != "" && !wa.Status(f.Status).Valid() {
		return f, badFilter("status", "one of received, queued, accepted, sent, delivered, read, played, failed")
	}
	if f.Direction != "" && f.Direction != store.DirectionIn && f.Direction != store.DirectionOut {
		return f, badFilter("direction", "in or out")
	}
	return f, nil
}

// --- messages and conversations ---

func (a *API) searchMessages(w http.ResponseWriter, r *http.Request) error {
	f, e := messageQuery(r.URL.Query())
	if e != nil {
		return e
	}
	page, err := a.st.MessageSearch(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

// conversationQuery reads the filters of GET /v1/conversations.
func conversationQuery(q url.Values) (store.ConversationQuery, *Error) {
	p, e := parseList(q)
	if e != nil {
		return store.ConversationQuery{}, e
	}
	unread, e := boolParam(q, "unread")
	if e != nil {
		return store.ConversationQuery{}, e
	}
	return store.ConversationQuery{Channel: q.Get("channel"), ContactID: q.Get("contact"), Unread: unread,
		Since: p.since, Until: p.until, Cursor: p.cursor, Limit: p.limit}, nil
}

// eventQuery reads the filters of GET /v1/events.
func eventQuery(q url.Values) (store.EventQuery, *Error) {
	p, e := parseList(q)
	if e != nil {
		return store.EventQuery{}, e
	}
	state := q.Get("state")
	switch state {
	case "", store.EventPending, store.EventProcessed, store.EventFailed:
	default:
		return store.EventQuery{}, ErrBadState
	}
	return store.EventQuery{State: state, Channel: q.Get("channel"), Since: p.since, Until: p.until, Cursor: p.cursor, Limit: p.limit}, nil
}

// readAnswer is the answer to marking a conversation read.
type readAnswer struct {
	conversationView
	// ReadReceipt says what happened at WhatsApp: "queued" (a read mark for the newest inbound message is on
	// its way), "disabled" (the channel does not send them), or "none" (no inbound message to mark).
	ReadReceipt string `json:"read_receipt"`
}

func (a *API) markConversationRead(w http.ResponseWriter, r *http.Request) error {
	c, receipt, err := sender.ConversationRead(r.Context(), a.st, a.sender, a.receipts, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, readAnswer{conversationView{c, c.WindowOpen(a.now())}, receipt})
	return nil
}

// --- contacts ---

// contactView is a contact with the state of each of its conversations' 24-hour windows.
type contactView struct {
	store.Contact
	Conversations []windowView `json:"conversations"`
}

type windowView struct {
	store.ContactWindow
	WindowOpen bool `json:"window_open"`
}

func (a *API) contactViews(r *http.Request, cs []store.Contact) ([]contactView, error) {
	ids := make([]string, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	ws, err := a.st.ContactWindows(r.Context(), ids)
	if err != nil {
		return nil, err
	}
	now := a.now()
	out := make([]contactView, len(cs))
	for i, c := range cs {
		out[i] = contactView{Contact: c, Conversations: []windowView{}}
		for _, w := range ws[c.ID] {
			out[i].Conversations = append(out[i].Conversations, windowView{w, !w.WindowExpiresAt.IsZero() && now.Before(w.WindowExpiresAt)})
		}
	}
	return out, nil
}

func (a *API) writeContact(w http.ResponseWriter, r *http.Request, status int, c store.Contact) error {
	views, err := a.contactViews(r, []store.Contact{c})
	if err != nil {
		return err
	}
	writeJSON(w, status, views[0])
	return nil
}

// maxName and maxRef bound a contact's name and external reference (in characters).
const (
	maxName = 256
	maxRef  = 255
)

// checkText reports what is wrong with a name or reference: too long, not UTF-8, or holding control characters.
func checkText(s string, max int) string {
	switch {
	case !utf8.ValidString(s):
		return "must be UTF-8 text"
	case utf8.RuneCountInString(s) > max:
		return fmt.Sprintf("must be at most %d characters", max)
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return "must not hold control characters"
	}
	return ""
}

// contactRequest is the body of POST /v1/contacts.
type contactRequest struct {
	Phone       string `json:"phone"`
	Name        string `json:"name"`
	ExternalRef string `json:"external_ref"`
}

// decodeContactCreate reads and checks a contact creation body; the phone comes back in E.164.
func decodeContactCreate(body []byte) (store.ContactNew, *Error) {
	var req contactRequest
	if e := decodeObject(body, &req); e != nil {
		return store.ContactNew{}, e
	}
	var details []FieldError
	p, err := phone.Normalize(req.Phone)
	if req.Phone == "" {
		details = append(details, FieldError{"phone", "required: the number in international form, e.g. +34696247355"})
	} else if err != nil {
		details = append(details, FieldError{"phone", "not a valid phone number: write it with the country code, e.g. +34696247355"})
	}
	name, ref := strings.TrimSpace(req.Name), strings.TrimSpace(req.ExternalRef)
	if m := checkText(name, maxName); m != "" {
		details = append(details, FieldError{"name", m})
	}
	if m := checkText(ref, maxRef); m != "" {
		details = append(details, FieldError{"external_ref", m})
	}
	if len(details) > 0 {
		e := *ErrValidation
		e.Message = "the contact is not valid: " + details[0].Field + ": " + details[0].Message
		e.Fix = "correct the fields listed in details"
		e.Details = details
		return store.ContactNew{}, &e
	}
	return store.ContactNew{Phone: p, Name: name, ExternalRef: ref}, nil
}

// decodeContactPatch reads a PATCH body: name and/or external_ref (null or "" removes the reference).
func decodeContactPatch(body []byte) (store.ContactPatch, *Error) {
	var raw map[string]json.RawMessage
	if e := decodeObject(body, &raw); e != nil {
		return store.ContactPatch{}, e
	}
	var p store.ContactPatch
	for k, v := range raw {
		var s *string
		if err := json.Unmarshal(v, &s); err != nil {
			return store.ContactPatch{}, fieldError(k, "must be a string or null")
		}
		switch k {
		case "name":
			if s == nil {
				return store.ContactPatch{}, fieldError("name", "must be a string")
			}
			n := strings.TrimSpace(*s)
			if m := checkText(n, maxName); m != "" {
				return store.ContactPatch{}, fieldError("name", m)
			}
			p.Name = &n
		case "external_ref":
			ref := ""
			if s != nil {
				ref = strings.TrimSpace(*s)
			}
			if m := checkText(ref, maxRef); m != "" {
				return store.ContactPatch{}, fieldError("external_ref", m)
			}
			p.ExternalRef = &ref
		default:
			f := k
			if len(f) > 60 {
				f = f[:60] + "…"
			}
			return store.ContactPatch{}, fieldError(f, "cannot be changed: send name and/or external_ref")
		}
	}
	if p.Name == nil && p.ExternalRef == nil {
		return store.ContactPatch{}, fieldError("", "nothing to change: send name and/or external_ref")
	}
	return p, nil
}

func contactConflict(err error) error {
	switch {
	case errors.Is(err, store.ErrPhoneTaken):
		return ErrContactExists
	case errors.Is(err, store.ErrExternalRefTaken):
		return ErrExternalRefTaken
	}
	return err
}

func (a *API) createContact(w http.ResponseWriter, r *http.Request) error {
	body, err := readSmallBody(w, r)
	if err != nil {
		return err
	}
	in, ferr := decodeContactCreate(body)
	if ferr != nil {
		return ferr
	}
	c, err := a.st.ContactCreate(r.Context(), in)
	if err != nil {
		return contactConflict(err)
	}
	w.Header().Set("Location", "/v1/contacts/"+c.ID)
	return a.writeContact(w, r, http.StatusCreated, c)
}

func (a *API) updateContact(w http.ResponseWriter, r *http.Request) error {
	body, err := readSmallBody(w, r)
	if err != nil {
		return err
	}
	p, ferr := decodeContactPatch(body)
	if ferr != nil {
		return ferr
	}
	c, err := a.st.ContactUpdate(r.Context(), r.PathValue("id"), p)
	if err != nil {
		return contactConflict(err)
	}
	return a.writeContact(w, r, http.StatusOK, c)
}

func (a *API) getContact(w http.ResponseWriter, r *http.Request) error {
	c, err := a.st.ContactGet(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return a.writeContact(w, r, http.StatusOK, c)
}

func (a *API) getContactByRef(w http.ResponseWriter, r *http.Request) error {
	c, err := a.st.ContactGetByRef(r.Context(), r.PathValue("ref"))
	if err != nil {
		return err
	}
	return a.writeContact(w, r, http.StatusOK, c)
}

// contactQuery reads the filters of GET /v1/contacts.
func contactQuery(q url.Values) (store.ContactQuery, *Error) {
	p, e := parseList(q)
	if e != nil {
		return store.ContactQuery{}, e
	}
	f := store.ContactQuery{Q: q.Get("q"), ExternalRef: q.Get("external_ref"), Channel: q.Get("channel"),
		Since: p.since, Until: p.until, Cursor: p.cursor, Limit: p.limit}
	if m := checkText(f.Q, maxName); m != "" {
		return f, badFilter("q", "text of at most 256 characters without control characters")
	}
	return f, nil
}

func (a *API) listContacts(w http.ResponseWriter, r *http.Request) error {
	f, e := contactQuery(r.URL.Query())
	if e != nil {
		return e
	}
	page, err := a.st.ContactSearch(r.Context(), f)
	if err != nil {
		return err
	}
	views, err := a.contactViews(r, page.Items)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, store.Page[contactView]{Items: views, Next: page.Next})
	return nil
}
