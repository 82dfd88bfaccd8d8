package providertest

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits the providers enforce on message bodies (docs/provider-api.md §2 and §5).
const (
	maxText          = 4096
	maxCaption       = 1024
	maxInteractive   = 1024
	maxHeaderFooter  = 60
	maxButtons       = 3
	maxButtonTitle   = 20
	maxButtonID      = 256
	maxListButton    = 20
	maxSections      = 10
	maxRows          = 10
	maxRowTitle      = 24
	maxRowID         = 200
	maxRowDesc       = 72
	maxSectionTitle  = 24
	maxCTADisplay    = 20
	minRecipientLen  = 7
	maxRecipientLen  = 15
	cloudTypeEnum    = "{AUDIO, CONTACTS, DOCUMENT, IMAGE, INTERACTIVE, LOCATION, REACTION, STICKER, TEMPLATE, TEXT, VIDEO}"
	interactiveEnum  = "{BUTTON, CALL_PERMISSION_REQUEST, CATALOG_MESSAGE, CTA_URL, FLOW, LIST, LOCATION_REQUEST_MESSAGE, PRODUCT, PRODUCT_LIST}"
	templateMissing  = 132001
	templatePaused   = 132015
	templateDisabled = 132016
)

// messageTypes are the send types each kind knows (On-Premise also accepts the legacy hsm).
var (
	cloudTypes  = []string{"text", "image", "video", "audio", "document", "sticker", "location", "contacts", "interactive", "template", "reaction"}
	onPremTypes = append(append([]string(nil), cloudTypes...), "hsm")
	mediaTypes  = map[string]bool{"image": true, "video": true, "audio": true, "document": true, "sticker": true}
	captioned   = map[string]bool{"image": true, "video": true, "document": true}
)

// object is a decoded JSON object whose values are still raw.
type object map[string]json.RawMessage

// parseObject decodes a JSON object.
func parseObject(raw []byte) (object, bool) {
	var o object
	if json.Unmarshal(raw, &o) != nil || o == nil {
		return nil, false
	}
	return o, true
}

// has reports whether key is present and not null.
func (o object) has(k string) bool {
	v, ok := o[k]
	return ok && !bytes.Equal(bytes.TrimSpace(v), []byte("null"))
}

// str returns a string value.
func (o object) str(k string) (string, bool) {
	var s string
	if !o.has(k) || json.Unmarshal(o[k], &s) != nil {
		return "", false
	}
	return s, true
}

// num returns a number, also given as a numeric string.
func (o object) num(k string) (float64, bool) {
	if !o.has(k) {
		return 0, false
	}
	var f float64
	if json.Unmarshal(o[k], &f) == nil {
		return f, true
	}
	if s, ok := o.str(k); ok {
		if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
			return f, true
		}
	}
	return 0, false
}

// arr returns an array's raw elements.
func (o object) arr(k string) ([]json.RawMessage, bool) {
	var a []json.RawMessage
	if !o.has(k) || json.Unmarshal(o[k], &a) != nil {
		return nil, false
	}
	return a, true
}

// param names a nested parameter the way Graph does: text['body'].
func param(path ...string) string {
	var b strings.Builder
	b.WriteString(path[0])
	for _, p := range path[1:] {
		b.WriteString("['" + p + "']")
	}
	return b.String()
}

// validator produces the kind's validation errors.
type validator struct{ cloud bool }

// missing is a required parameter that is absent (or empty).
func (v validator) missing(name string) *apiError {
	if v.cloud {
		return &apiError{status: http.StatusBadRequest, code: 100,
			message: fmt.Sprintf("(#100) The parameter %s is required.", name)}
	}
	return &apiError{status: http.StatusBadRequest, code: 1008,
		details: fmt.Sprintf("Parameter '%s' is required", name)}
}

// invalid is a parameter whose value is wrong; want completes "Param <name> ...".
func (v validator) invalid(name, want string) *apiError {
	if v.cloud {
		return &apiError{status: http.StatusBadRequest, code: 100,
			message: fmt.Sprintf("(#100) Param %s %s", name, want)}
	}
	return &apiError{status: http.StatusBadRequest, code: 1009, details: fmt.Sprintf("Param %s %s", name, want)}
}

// enum is a value outside a fixed set.
func (v validator) enum(name, set string, got json.RawMessage) *apiError {
	return v.invalid(name, fmt.Sprintf("must be one of %s - got %s.", set, strings.TrimSpace(string(got))))
}

// tooLong is a string over max characters.
func (v validator) tooLong(name string, max int) *apiError {
	return v.invalid(name, fmt.Sprintf("must be at most %d characters long.", max))
}

// tooMany is an array over max elements.
func (v validator) tooMany(name string, max int) *apiError {
	return v.invalid(name, fmt.Sprintf("must contain at most %d elements.", max))
}

// object returns o[k] as an object, or the error for it being absent or not an object.
func (v validator) object(o object, k, name string) (object, *apiError) {
	if !o.has(k) {
		return nil, v.missing(name)
	}
	c, ok := parseObject(o[k])
	if !ok {
		return nil, v.invalid(name, "must be a JSON object.")
	}
	return c, nil
}

// str returns o[k] as a non-empty string of at most max characters (0: no limit).
func (v validator) str(o object, k, name string, max int) (string, *apiError) {
	if !o.has(k) {
		return "", v.missing(name)
	}
	s, ok := o.str(k)
	if !ok {
		return "", v.invalid(name, "must be a string.")
	}
	if s == "" {
		return "", v.missing(name)
	}
	if max > 0 && utf8.RuneCountInString(s) > max {
		return "", v.tooLong(name, max)
	}
	return s, nil
}

// optStr checks an optional string's type and length; it may be empty.
func (v validator) optStr(o object, k, name string, max int) *apiError {
	if !o.has(k) {
		return nil
	}
	s, ok := o.str(k)
	if !ok {
		return v.invalid(name, "must be a string.")
	}
	if max > 0 && utf8.RuneCountInString(s) > max {
		return v.tooLong(name, max)
	}
	return nil
}

// array returns o[k] as an array.
func (v validator) array(o object, k, name string) ([]json.RawMessage, *apiError) {
	if !o.has(k) {
		return nil, v.missing(name)
	}
	a, ok := o.arr(k)
	if !ok {
		return nil, v.invalid(name, "must be an array.")
	}
	return a, nil
}

// sendInfo is what an accepted send body said.
type sendInfo struct {
	to, waID, typ string
	template      string // template name, "" for other types
	language      string
	bizOpaque     string
}

// handleMessages answers POST .../messages: a send, or (Cloud) a mark-as-read.
func (s *Server) handleMessages(w http.ResponseWriter, _ *http.Request, body []byte) {
	v := validator{cloud: s.opts.Kind.cloud()}
	o, ok := parseObject(body)
	if !ok {
		e := v.invalid("body", "must be a JSON object.")
		if v.cloud {
			e = &apiError{status: http.StatusBadRequest, code: 100, message: "(#100) Invalid parameter",
				details: "The request body is not a JSON object."}
		}
		s.writeError(w, e)
		return
	}
	if v.cloud && o.has("status") {
		s.cloudRead(w, v, o)
		return
	}
	in, e := s.validateSend(v, o)
	if e == nil && v.cloud && in.template != "" {
		e = s.checkTemplate(in.template, in.language)
	}
	if e != nil {
		s.writeError(w, e)
		return
	}
	now := s.opts.Now()
	sent := Sent{ID: s.newMessageID(), To: in.to, WAID: in.waID, Type: in.typ, Body: body, At: now}
	s.mu.Lock()
	if s.throttledLocked(now) {
		s.mu.Unlock()
		s.writeError(w, s.throttleError())
		return
	}
	s.sent = keep(append(s.sent, sent), s.opts.History)
	s.sentCount++
	s.notifyLocked()
	s.mu.Unlock()
	s.startReceipts(sent, in)

	if !v.cloud {
		writeJSON(w, http.StatusCreated, map[string]any{
			"messages": []map[string]string{{"id": sent.ID}},
			"meta":     newOnPremMeta(),
		})
		return
	}
	msg := map[string]string{"id": sent.ID}
	if in.template != "" {
		msg["message_status"] = "accepted"
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"messaging_product": "whatsapp",
		"contacts":          []map[string]string{{"input": in.to, "wa_id": in.waID}},
		"messages":          []map[string]string{msg},
	})
}

// checkMessagingProduct enforces the Cloud kinds' required messaging_product, and its absence On-Premise.
func checkMessagingProduct(v validator, o object) *apiError {
	if !v.cloud {
		if o.has("messaging_product") {
			return &apiError{status: http.StatusBadRequest, code: 1010,
				details: "Parameter 'messaging_product' is not a parameter of the On-Premise API"}
		}
		return nil
	}
	if !o.has("messaging_product") {
		return v.missing("messaging_product")
	}
	if mp, _ := o.str("messaging_product"); mp != "whatsapp" {
		return v.enum("messaging_product", "{WHATSAPP}", o["messaging_product"])
	}
	return nil
}

// cloudRead answers a Cloud mark-as-read.
func (s *Server) cloudRead(w http.ResponseWriter, v validator, o object) {
	if e := checkMessagingProduct(v, o); e != nil {
		s.writeError(w, e)
		return
	}
	if st, _ := o.str("status"); st != "read" {
		s.writeError(w, v.enum("status", "{READ}", o["status"]))
		return
	}
	id, e := v.str(o, "message_id", "message_id", 0)
	if e != nil {
		s.writeError(w, e)
		return
	}
	if !s.markRead(id) {
		s.writeError(w, &apiError{status: http.StatusBadRequest, code: 131009,
			details: "Invalid message_id: this number received no message with this id."})
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"success": true})
}

// onPremReadHandler answers PUT /v1/messages/{id}.
func (s *Server) onPremReadHandler(id string) handler {
	return func(w http.ResponseWriter, _ *http.Request, body []byte) {
		v := validator{cloud: false}
		o, ok := parseObject(body)
		if !ok {
			s.writeError(w, v.invalid("body", "must be a JSON object."))
			return
		}
		if !o.has("status") {
			s.writeError(w, v.missing("status"))
			return
		}
		if st, _ := o.str("status"); st != "read" {
			s.writeError(w, v.enum("status", "{read}", o["status"]))
			return
		}
		if !s.markRead(id) {
			s.writeError(w, &apiError{status: http.StatusNotFound, code: 1006,
				details: "Message " + strconv.Quote(id) + " not found"})
			return
		}
		writeJSON(w, http.StatusOK, struct{}{})
	}
}

// markRead records a read of an inbound message and reports whether the id is known.
func (s *Server) markRead(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.inbound[id] {
		return false
	}
	s.reads = append(s.reads, id)
	return true
}

// validateSend checks a send body like the provider does.
func (s *Server) validateSend(v validator, o object) (sendInfo, *apiError) {
	var in sendInfo
	if e := checkMessagingProduct(v, o); e != nil {
		return in, e
	}
	group := false
	if o.has("recipient_type") {
		rt, _ := o.str("recipient_type")
		switch {
		case v.cloud && (rt == "individual" || rt == "group"):
			group = rt == "group"
		case !v.cloud && rt == "individual":
		case v.cloud:
			return in, v.enum("recipient_type", "{INDIVIDUAL, GROUP}", o["recipient_type"])
		default:
			return in, &apiError{status: http.StatusBadRequest, code: 1002,
				details: "recipient_type must be individual"}
		}
	}
	to, e := v.str(o, "to", "to", 0)
	if e != nil {
		return in, e
	}
	in.to, in.waID = to, to
	if !group {
		d, ok := recipientDigits(to, v.cloud)
		if !ok {
			if v.cloud {
				return in, &apiError{status: http.StatusBadRequest, code: 131009,
					details: "Invalid recipient: to must be a phone number of 7 to 15 digits."}
			}
			return in, v.invalid("to", "must be a WhatsApp id (digits).")
		}
		in.waID = d
	}
	in.typ = "text"
	if o.has("type") {
		in.typ, _ = o.str("type")
		known := cloudTypes
		set := cloudTypeEnum
		if !v.cloud {
			known, set = onPremTypes, strings.ToLower(cloudTypeEnum)
		}
		if !contains(known, in.typ) {
			return in, v.enum("type", set, o["type"])
		}
	}
	var err *apiError
	switch typ := in.typ; {
	case typ == "text":
		err = v.text(o)
	case mediaTypes[typ]:
		err = v.media(o, typ)
	case typ == "location":
		err = v.location(o)
	case typ == "contacts":
		err = v.contacts(o)
	case typ == "interactive":
		err = v.interactive(o)
	case typ == "template":
		in.template, in.language, err = v.template(o)
	case typ == "reaction":
		err = v.reaction(o)
	case typ == "hsm":
		_, err = v.object(o, "hsm", "hsm")
	}
	if err != nil {
		return in, err
	}
	if o.has("context") {
		c, e := v.object(o, "context", "context")
		if e != nil {
			return in, e
		}
		if _, e := v.str(c, "message_id", param("context", "message_id"), 0); e != nil {
			return in, e
		}
	}
	in.bizOpaque, _ = o.str("biz_opaque_callback_data")
	return in, nil
}

// recipientDigits returns the digits of a recipient. The Cloud kinds accept "+", spaces, dashes, dots and
// parentheses around the digits; On-Premise wants a wa_id (an optional leading "+" is tolerated).
func recipientDigits(to string, cloud bool) (string, bool) {
	var b strings.Builder
	for i, c := range to {
		switch {
		case c >= '0' && c <= '9':
			b.WriteRune(c)
		case c == '+' && i == 0:
		case cloud && strings.ContainsRune(" -().", c):
		default:
			return "", false
		}
	}
	d := b.String()
	return d, len(d) >= minRecipientLen && len(d) <= maxRecipientLen
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (v validator) text(o object) *apiError {
	t, e := v.object(o, "text", "text")
	if e != nil {
		return e
	}
	body, e := v.str(t, "body", param("text", "body"), 0)
	if e != nil {
		return e
	}
	if utf8.RuneCountInString(body) > maxText {
		if !v.cloud {
			return &apiError{status: http.StatusBadRequest, code: 1001,
				details: fmt.Sprintf("Message text is longer than %d characters", maxText)}
		}
		return v.tooLong(param("text", "body"), maxText)
	}
	if t.has("preview_url") {
		var b bool
		if json.Unmarshal(t["preview_url"], &b) != nil {
			return v.invalid(param("text", "preview_url"), "must be a boolean.")
		}
	}
	return nil
}

func (v validator) media(o object, typ string) *apiError {
	m, e := v.object(o, typ, typ)
	if e != nil {
		return e
	}
	hasID, hasLink := m.has("id"), m.has("link")
	switch {
	case hasID && hasLink:
		return v.invalid(typ, "must contain either id or link, not both.")
	case !hasID && !hasLink:
		return v.missing(param(typ, "id") + " or " + param(typ, "link"))
	case hasID:
		if _, e := v.str(m, "id", param(typ, "id"), 0); e != nil {
			return e
		}
	default:
		link, e := v.str(m, "link", param(typ, "link"), 0)
		if e != nil {
			return e
		}
		if u, err := url.Parse(link); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return v.invalid(param(typ, "link"), "must be a valid http(s) URL.")
		}
	}
	if captioned[typ] {
		if e := v.optStr(m, "caption", param(typ, "caption"), maxCaption); e != nil {
			return e
		}
	}
	if typ == "document" {
		if e := v.optStr(m, "filename", param(typ, "filename"), 0); e != nil {
			return e
		}
	}
	return nil
}

func (v validator) location(o object) *apiError {
	l, e := v.object(o, "location", "location")
	if e != nil {
		return e
	}
	for _, k := range []struct {
		name  string
		limit float64
	}{{"latitude", 90}, {"longitude", 180}} {
		if !l.has(k.name) {
			return v.missing(param("location", k.name))
		}
		f, ok := l.num(k.name)
		if !ok || f < -k.limit || f > k.limit {
			return v.invalid(param("location", k.name), fmt.Sprintf("must be a number between -%g and %g.", k.limit, k.limit))
		}
	}
	return nil
}

func (v validator) contacts(o object) *apiError {
	list, e := v.array(o, "contacts", "contacts")
	if e != nil {
		return e
	}
	if len(list) == 0 {
		return v.missing("contacts")
	}
	for i, raw := range list {
		name := fmt.Sprintf("contacts[%d]", i)
		c, ok := parseObject(raw)
		if !ok {
			return v.invalid(name, "must be a JSON object.")
		}
		n, e := v.object(c, "name", param(name, "name"))
		if e != nil {
			return e
		}
		if _, e := v.str(n, "formatted_name", param(name, "name", "formatted_name"), 0); e != nil {
			return e
		}
	}
	return nil
}

func (v validator) interactive(o object) *apiError {
	in, e := v.object(o, "interactive", "interactive")
	if e != nil {
		return e
	}
	p := func(path ...string) string { return param(append([]string{"interactive"}, path...)...) }
	it, e := v.str(in, "type", p("type"), 0)
	if e != nil {
		return e
	}
	switch it {
	case "button", "list", "cta_url", "flow", "product_list", "catalog_message", "location_request_message",
		"address_message":
		b, e := v.object(in, "body", p("body"))
		if e != nil {
			return e
		}
		if _, e := v.str(b, "text", p("body", "text"), maxInteractive); e != nil {
			return e
		}
	case "product", "call_permission_request", "voice_call":
		if in.has("body") {
			b, e := v.object(in, "body", p("body"))
			if e != nil {
				return e
			}
			if e := v.optStr(b, "text", p("body", "text"), maxInteractive); e != nil {
				return e
			}
		}
	default:
		return v.enum(p("type"), interactiveEnum, in["type"])
	}
	if in.has("header") {
		h, e := v.object(in, "header", p("header"))
		if e != nil {
			return e
		}
		ht, e := v.str(h, "type", p("header", "type"), 0)
		if e != nil {
			return e
		}
		if ht == "text" {
			if _, e := v.str(h, "text", p("header", "text"), maxHeaderFooter); e != nil {
				return e
			}
		}
	}
	if in.has("footer") {
		f, e := v.object(in, "footer", p("footer"))
		if e != nil {
			return e
		}
		if _, e := v.str(f, "text", p("footer", "text"), maxHeaderFooter); e != nil {
			return e
		}
	}
	a, e := v.object(in, "action", p("action"))
	if e != nil {
		return e
	}
	switch it {
	case "button":
		return v.buttons(a, p)
	case "list":
		return v.list(a, p)
	case "cta_url":
		if name, _ := a.str("name"); name != "cta_url" {
			return v.enum(p("action", "name"), "{CTA_URL}", a["name"])
		}
		ps, e := v.object(a, "parameters", p("action", "parameters"))
		if e != nil {
			return e
		}
		if _, e := v.str(ps, "display_text", p("action", "parameters", "display_text"), maxCTADisplay); e != nil {
			return e
		}
		link, e := v.str(ps, "url", p("action", "parameters", "url"), 0)
		if e != nil {
			return e
		}
		if u, err := url.Parse(link); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return v.invalid(p("action", "parameters", "url"), "must be a valid http(s) URL.")
		}
	case "flow":
		if _, e := v.object(a, "parameters", p("action", "parameters")); e != nil {
			return e
		}
	}
	return nil
}

func (v validator) buttons(a object, p func(...string) string) *apiError {
	list, e := v.array(a, "buttons", p("action", "buttons"))
	if e != nil {
		return e
	}
	if len(list) == 0 {
		return v.missing(p("action", "buttons"))
	}
	if len(list) > maxButtons {
		return v.tooMany(p("action", "buttons"), maxButtons)
	}
	seen := map[string]bool{}
	for i, raw := range list {
		name := fmt.Sprintf("%s[%d]", p("action", "buttons"), i)
		b, ok := parseObject(raw)
		if !ok {
			return v.invalid(name, "must be a JSON object.")
		}
		if t, _ := b.str("type"); t != "reply" {
			return v.enum(param(name, "type"), "{REPLY}", b["type"])
		}
		r, e := v.object(b, "reply", param(name, "reply"))
		if e != nil {
			return e
		}
		id, e := v.str(r, "id", param(name, "reply", "id"), maxButtonID)
		if e != nil {
			return e
		}
		if _, e := v.str(r, "title", param(name, "reply", "title"), maxButtonTitle); e != nil {
			return e
		}
		if seen[id] {
			return v.invalid(param(name, "reply", "id"), "must be unique among the buttons.")
		}
		seen[id] = true
	}
	return nil
}

func (v validator) list(a object, p func(...string) string) *apiError {
	if _, e := v.str(a, "button", p("action", "button"), maxListButton); e != nil {
		return e
	}
	sections, e := v.array(a, "sections", p("action", "sections"))
	if e != nil {
		return e
	}
	if len(sections) == 0 {
		return v.missing(p("action", "sections"))
	}
	if len(sections) > maxSections {
		return v.tooMany(p("action", "sections"), maxSections)
	}
	rows := 0
	for i, raw := range sections {
		name := fmt.Sprintf("%s[%d]", p("action", "sections"), i)
		sec, ok := parseObject(raw)
		if !ok {
			return v.invalid(name, "must be a JSON object.")
		}
		if len(sections) > 1 || sec.has("title") {
			if _, e := v.str(sec, "title", param(name, "title"), maxSectionTitle); e != nil {
				return e
			}
		}
		rs, e := v.array(sec, "rows", param(name, "rows"))
		if e != nil {
			return e
		}
		for j, rraw := range rs {
			rname := fmt.Sprintf("%s[%d]", param(name, "rows"), j)
			row, ok := parseObject(rraw)
			if !ok {
				return v.invalid(rname, "must be a JSON object.")
			}
			if _, e := v.str(row, "id", param(rname, "id"), maxRowID); e != nil {
				return e
			}
			if _, e := v.str(row, "title", param(rname, "title"), maxRowTitle); e != nil {
				return e
			}
			if e := v.optStr(row, "description", param(rname, "description"), maxRowDesc); e != nil {
				return e
			}
		}
		rows += len(rs)
	}
	if rows == 0 {
		return v.missing(p("action", "sections") + "[0]['rows']")
	}
	if rows > maxRows {
		return v.invalid(p("action", "sections"), fmt.Sprintf("must contain at most %d rows in total.", maxRows))
	}
	return nil
}

// template checks a template send and returns its name and language code.
func (v validator) template(o object) (name, lang string, err *apiError) {
	t, e := v.object(o, "template", "template")
	if e != nil {
		return "", "", e
	}
	if name, e = v.str(t, "name", param("template", "name"), 512); e != nil {
		return "", "", e
	}
	if !v.cloud {
		if _, e := v.str(t, "namespace", param("template", "namespace"), 0); e != nil {
			return "", "", e
		}
	}
	l, e := v.object(t, "language", param("template", "language"))
	if e != nil {
		return "", "", e
	}
	if lang, e = v.str(l, "code", param("template", "language", "code"), 0); e != nil {
		return "", "", e
	}
	if !v.cloud {
		pol, e := v.str(l, "policy", param("template", "language", "policy"), 0)
		if e != nil {
			return "", "", e
		}
		if pol != "deterministic" && pol != "fallback" {
			return "", "", v.enum(param("template", "language", "policy"), "{deterministic, fallback}", l["policy"])
		}
	}
	if t.has("components") {
		comps, e := v.array(t, "components", param("template", "components"))
		if e != nil {
			return "", "", e
		}
		for i, raw := range comps {
			cname := fmt.Sprintf("%s[%d]", param("template", "components"), i)
			c, ok := parseObject(raw)
			if !ok {
				return "", "", v.invalid(cname, "must be a JSON object.")
			}
			if _, e := v.str(c, "type", param(cname, "type"), 0); e != nil {
				return "", "", e
			}
			if c.has("parameters") {
				if _, e := v.array(c, "parameters", param(cname, "parameters")); e != nil {
					return "", "", e
				}
			}
		}
	}
	return name, lang, nil
}

func (v validator) reaction(o object) *apiError {
	r, e := v.object(o, "reaction", "reaction")
	if e != nil {
		return e
	}
	if _, e := v.str(r, "message_id", param("reaction", "message_id"), 0); e != nil {
		return e
	}
	if !r.has("emoji") {
		return v.missing(param("reaction", "emoji"))
	}
	if _, ok := r.str("emoji"); !ok {
		return v.invalid(param("reaction", "emoji"), "must be a string.")
	}
	return nil
}

// checkTemplate answers 132001/132015/132016 for templates the fake does not know as approved, once any
// template is known.
func (s *Server) checkTemplate(name, lang string) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.templates) == 0 {
		return nil
	}
	for _, t := range s.templates {
		if t.Name != name || t.Language != lang {
			continue
		}
		switch strings.ToUpper(t.Status) {
		case "APPROVED":
			return nil
		case "PAUSED":
			return &apiError{code: templatePaused, details: fmt.Sprintf("Template %s is paused.", name)}
		case "DISABLED":
			return &apiError{code: templateDisabled, details: fmt.Sprintf("Template %s is disabled.", name)}
		}
		break
	}
	return &apiError{code: templateMissing, title: "Template name does not exist in the translation",
		details: fmt.Sprintf("template name (%s) does not exist in %s", name, lang)}
}

// newMessageID returns a fresh provider message id: wamid.… on the Cloud kinds, an On-Premise style id
// otherwise.
func (s *Server) newMessageID() string {
	if s.opts.Kind.cloud() {
		b := make([]byte, 30)
		_, _ = rand.Read(b)
		return "wamid.HBgL" + base64.StdEncoding.EncodeToString(b)
	}
	return "gBE" + randomString(18)
}
