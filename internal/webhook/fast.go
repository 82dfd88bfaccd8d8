package webhook

// The fast path of Parse.
//
// parseLenient decodes every level of a body into a map of raw values, so each nested value is validated and
// copied again at every level, and nearly every leaf goes through json.Unmarshal: that is most of Parse's time.
// parseFast reads the body once with a small JSON reader (below) that checks the syntax as it goes, picks out
// the members Parse uses and keeps every raw value as a slice of one private copy of the body. Its result must
// be exactly (reflect.DeepEqual) what parseLenient returns, which fast_test.go and FuzzParse check, so it only
// decodes what it understands completely and otherwise says ok=false, and Parse starts over with parseLenient.
//
// Decoded here: the Cloud envelope (entry[].id, entry[].changes[].field and .value) and the On-Premise root;
// change values of the "messages" field (metadata, contacts, messages, statuses, errors, and Unhandled when a
// list is not an array); messages of every type (text, media, location, interactive, button, reaction, system,
// contacts, order, and unknown types, which only carry Payload) and their context; statuses; contacts.
// Leaf values are read by fstr, funix and fnumber, which agree with str, unixTime and number for any input:
// they only skip json.Unmarshal for plain strings and leave everything else to them.
//
// Handed to the lenient functions, whose result depends only on the piece they are given, so that one unusual
// piece does not send the whole body to the slow path:
//   - the value of a change of any other field (templates, account_update, calls, ...): parseValue;
//   - errors[] arrays, which are rare: parseErrors;
//   - a message, status or contact object (or a message's payload, context or reply object) with a key written
//     with escape sequences ("t\u0065xt"), which lenient decoding unescapes but the fast reader compares as
//     sent: parseMessage, parseReceipt or parseContact; likewise a message whose type name is not ASCII.
//
// The whole body goes to parseLenient (ok=false) when:
//   - it is not valid JSON, or the fast reader cannot tell: it nests deeper than maxFastDepth;
//   - it is not an object, has neither entry nor an On-Premise key, or entry or changes have the wrong JSON
//     types (the lenient parser reports those errors);
//   - an object of the envelope (root, entry, change, value, metadata) has a key with an escape sequence, or
//     one of the members read there (entry, id, changes, field, value, metadata, contacts, messages, statuses,
//     errors) twice (the lenient maps keep the last one).
//
// The raw values of the result (Raw, Payload, Unhandled, ...) are slices of the one copy, so keeping any of
// them keeps that copy (the size of the body) in memory.

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/wagate/wagate/internal/wa"
)

// maxFastDepth is the nesting the fast reader accepts; deeper bodies (never seen from providers) go to
// parseLenient, whose validator allows up to 10000.
const maxFastDepth = 100

// parseFast decodes body like parseLenient, or returns ok=false when it cannot be sure to give the same result.
func parseFast(body []byte) (w wa.Webhook, ok bool) {
	r := reader{data: bytes.Clone(body)}
	var (
		root     valueReader // the root, read as an On-Premise body in case it is one
		changes  []wa.Change
		sawEntry bool
	)
	ok = r.object(func(key []byte) bool {
		if string(key) != "entry" {
			return root.member(&r, key)
		}
		if sawEntry {
			return false
		}
		sawEntry = true
		return r.entries(&changes)
	})
	if r.peek(); !ok || r.pos != len(r.data) {
		return wa.Webhook{}, false
	}
	if sawEntry {
		return wa.Webhook{Shape: wa.ShapeCloud, Changes: changes}, true
	}
	if !root.onPremise {
		return wa.Webhook{}, false // unrecognized: let parseLenient say so
	}
	all := r.data[:len(r.data):len(r.data)]
	return wa.Webhook{Shape: wa.ShapeOnPremise, Changes: []wa.Change{root.change(fieldMessages, all)}}, true
}

// entries reads the value of entry (an array of objects, or null) and appends their changes to out.
func (r *reader) entries(out *[]wa.Change) bool {
	return r.arrayOrNull(func() bool {
		first := len(*out)
		var id []byte
		var seen uint8
		ok := r.object(func(key []byte) bool {
			var ok bool
			switch string(key) {
			case "id":
				if !once(&seen, 1) {
					return false
				}
				id, ok = r.value()
			case "changes":
				ok = once(&seen, 2) && r.arrayOrNull(func() bool {
					c, ok := r.change()
					*out = append(*out, c)
					return ok
				})
			default:
				_, ok = r.value()
			}
			return ok
		})
		wabaID := fstr(id)
		for i := first; i < len(*out); i++ {
			(*out)[i].WABAID = wabaID
		}
		return ok
	})
}

// change reads one element of changes[] (an object). Meta sends value before field, so the value is read as a
// "messages" value before the field is known; a change of another field is then decoded by parseValue.
func (r *reader) change() (wa.Change, bool) {
	var (
		field, value []byte
		v            valueReader
		seen         uint8
	)
	ok := r.object(func(key []byte) bool {
		var ok bool
		switch string(key) {
		case "field":
			if !once(&seen, 1) {
				return false
			}
			field, ok = r.value()
		case "value":
			if !once(&seen, 2) {
				return false
			}
			if r.peek() == '{' {
				value, ok = v.read(r)
			} else {
				value, ok = r.value()
			}
		default:
			_, ok = r.value()
		}
		return ok
	})
	if !ok {
		return wa.Change{}, false
	}
	name := fstr(field)
	if name == "" {
		name = fieldMessages
	}
	switch {
	case present(value) == nil:
		return wa.Change{Field: name}, true
	case value[0] != '{':
		return wa.Change{Field: name, Unhandled: value}, true
	case name == fieldMessages:
		return v.change(name, value), true
	default:
		return parseValue(name, object(value), value), true
	}
}

// valueReader collects, as the reader passes them, the members of a change value (or On-Premise root) that
// parseValue reads for the "messages" field.
type valueReader struct {
	seen                              uint8
	onPremise                         bool // messages, statuses, contacts or errors is present
	notList                           bool // one of them is neither an array nor null
	phoneNumberID, displayPhoneNumber []byte
	contacts                          []wa.Contact
	messages                          []json.RawMessage // decoded by change, once all contacts are known
	statuses                          []wa.Receipt
	errors                            []wa.ProviderError
}

// read reads the object at the cursor and returns its bytes.
func (v *valueReader) read(r *reader) ([]byte, bool) {
	r.peek()
	start := r.pos
	ok := r.object(func(key []byte) bool { return v.member(r, key) })
	return r.data[start:r.pos:r.pos], ok
}

// member reads the value of the member key at the cursor.
func (v *valueReader) member(r *reader, key []byte) bool {
	switch string(key) {
	case "metadata":
		if !once(&v.seen, 1) {
			return false
		}
		if r.peek() != '{' {
			_, ok := r.value()
			return ok
		}
		var buf [4]member
		md, ok := r.fields(buf[:0])
		v.phoneNumberID, v.displayPhoneNumber = md.get("phone_number_id"), md.get("display_phone_number")
		return ok
	case "contacts":
		return once(&v.seen, 2) && v.list(r, func(raw []byte) {
			if raw[0] != '{' {
				return // parseValue skips contacts that are not objects
			}
			c, ok := fastContact(raw)
			if !ok {
				c, _ = parseContact(raw)
			}
			v.contacts = append(v.contacts, c)
		})
	case "messages":
		return once(&v.seen, 4) && v.list(r, func(raw []byte) { v.messages = append(v.messages, raw) })
	case "statuses":
		return once(&v.seen, 8) && v.list(r, func(raw []byte) {
			s, ok := fastReceipt(raw)
			if !ok {
				s = parseReceipt(raw)
			}
			v.statuses = append(v.statuses, s)
		})
	case "errors":
		if !once(&v.seen, 16) {
			return false
		}
		v.onPremise = true
		raw, ok := r.value()
		errs, isList := parseErrors(raw)
		v.errors, v.notList = errs, v.notList || !isList
		return ok
	}
	_, ok := r.value()
	return ok
}

// list reads the value of contacts, messages or statuses, calling elem with each element of an array.
func (v *valueReader) list(r *reader, elem func(raw []byte)) bool {
	v.onPremise = true
	if c := r.peek(); c != '[' {
		_, ok := r.value()
		v.notList = v.notList || c != 'n'
		return ok
	}
	return r.array(func() bool {
		raw, ok := r.value()
		if ok {
			elem(raw)
		}
		return ok
	})
}

// change is parseValue for the "messages" field; raw is the value's bytes.
func (v *valueReader) change(field string, raw []byte) wa.Change {
	c := wa.Change{
		Field:              field,
		PhoneNumberID:      fstr(v.phoneNumberID),
		DisplayPhoneNumber: fstr(v.displayPhoneNumber),
		Contacts:           v.contacts,
		Statuses:           v.statuses,
		Errors:             v.errors,
	}
	if len(v.messages) > 0 {
		c.Messages = make([]wa.InboundMessage, len(v.messages))
		for i, rm := range v.messages {
			m, ok := fastMessage(rm, c.Contacts)
			if !ok {
				m = parseMessage(rm, c.Contacts)
			}
			c.Messages[i] = m
		}
	}
	if v.notList {
		c.Unhandled = raw
	}
	return c
}

// fastMessage is parseMessage; ok is false when parseMessage must decode raw: the message, its payload, context
// or reply object has a key with an escape sequence, or its type is not ASCII (see isASCII).
func fastMessage(raw []byte, contacts []wa.Contact) (m wa.InboundMessage, ok bool) {
	m.Raw = raw
	if raw[0] != '{' {
		return m, true
	}
	var buf [16]member
	f, ok := fieldsOf(raw, buf[:0])
	if !ok {
		return m, false
	}
	m.ID = fstr(f.get("id"))
	m.From = fstr(f.get("from"))
	m.FromUserID = fstr(f.get("from_user_id"))
	if m.FromUserID == "" {
		m.FromUserID = senderUserID(m.From, contacts)
	}
	m.Timestamp = funix(f.get("timestamp"))
	m.Type = fstr(f.get("type"))
	if !isASCII(m.Type) {
		return m, false
	}
	if m.Type != "" {
		m.Payload = present(f.get(m.Type))
	}
	if ctx := f.get("context"); len(ctx) > 0 && ctx[0] == '{' {
		if m.Context, ok = fastContext(ctx); !ok {
			return m, false
		}
	}
	m.Referral = present(f.get("referral"))
	m.Errors, _ = parseErrors(f.get("errors"))

	var pbuf [12]member
	p, ok := fieldsOf(m.Payload, pbuf[:0]) // nil unless Payload is an object, like object(m.Payload)
	if !ok {
		return m, false
	}
	switch m.Type {
	case "text", "system":
		m.Text = fstr(p.get("body"))
	case "image", "video", "document", "audio", "voice", "sticker":
		if p != nil {
			m.Media = &wa.Media{
				ID:       fstr(p.get("id")),
				MimeType: fstr(p.get("mime_type")),
				SHA256:   fstr(p.get("sha256")),
				Filename: fstr(p.get("filename")),
				Caption:  fstr(p.get("caption")),
				URL:      fstr(p.get("url")),
				Voice:    m.Type == "voice" || flag(p.get("voice")),
				Animated: flag(p.get("animated")),
			}
			m.Text = m.Media.Caption
		}
	case "location":
		if p != nil {
			lat, _ := fnumber(p.get("latitude"))
			long, _ := fnumber(p.get("longitude"))
			m.Location = &wa.Location{
				Latitude:  lat,
				Longitude: long,
				Name:      fstr(p.get("name")),
				Address:   fstr(p.get("address")),
				URL:       fstr(p.get("url")),
			}
			m.Text = locationText(m.Location)
		}
	case "contacts":
		m.Text = contactsText(m.Payload)
	case "interactive":
		kind := fstr(p.get("type"))
		var key string
		switch kind {
		case "button_reply", "list_reply":
			key = "title"
		case "nfm_reply":
			key = "body"
		default:
			return m, true
		}
		var rbuf [8]member
		reply, ok := fieldsOf(p.get(kind), rbuf[:0])
		if !ok {
			return m, false
		}
		m.Text = fstr(reply.get(key))
	case "button":
		m.Text = fstr(p.get("text"))
	case "reaction":
		if p != nil {
			m.Reaction = &wa.Reaction{MessageID: fstr(p.get("message_id")), Emoji: fstr(p.get("emoji"))}
			m.Text = m.Reaction.Emoji
		}
	case "order":
		if m.Text = fstr(p.get("text")); m.Text == "" && p != nil {
			items, _ := array(p.get("product_items"))
			m.Text = "Order: " + strconv.Itoa(len(items)) + " item"
			if len(items) != 1 {
				m.Text += "s"
			}
		}
	}
	return m, true
}

// fastContext is parseContext for an object.
func fastContext(raw []byte) (*wa.MessageContext, bool) {
	var buf [8]member
	f, ok := fieldsOf(raw, buf[:0])
	if !ok {
		return nil, false
	}
	return &wa.MessageContext{
		MessageID:           fstr(f.get("id")),
		From:                fstr(f.get("from")),
		Forwarded:           flag(f.get("forwarded")),
		FrequentlyForwarded: flag(f.get("frequently_forwarded")),
		ReferredProduct:     present(f.get("referred_product")),
	}, true
}

// fastReceipt is parseReceipt; ok is false when parseReceipt must decode raw.
func fastReceipt(raw []byte) (r wa.Receipt, ok bool) {
	r.Raw = raw
	if raw[0] != '{' {
		return r, true
	}
	var buf [16]member
	f, ok := fieldsOf(raw, buf[:0])
	if !ok {
		return r, false
	}
	r.MessageID = fstr(f.get("id"))
	r.Status = wa.Status(fstr(f.get("status")))
	r.Timestamp = funix(f.get("timestamp"))
	r.RecipientID = fstr(f.get("recipient_id"))
	r.RecipientUserID = fstr(f.get("recipient_user_id"))
	r.Conversation = present(f.get("conversation"))
	r.Pricing = present(f.get("pricing"))
	r.Errors, _ = parseErrors(f.get("errors"))
	return r, true
}

// fastContact is parseContact for an object; ok is false when parseContact must decode raw.
func fastContact(raw []byte) (wa.Contact, bool) {
	var buf, pbuf [8]member
	f, ok1 := fieldsOf(raw, buf[:0])
	profile, ok2 := fieldsOf(f.get("profile"), pbuf[:0])
	if !ok1 || !ok2 {
		return wa.Contact{}, false
	}
	c := wa.Contact{
		WAID:         fstr(f.get("wa_id")),
		UserID:       fstr(f.get("user_id")),
		ParentUserID: fstr(f.get("parent_user_id")),
		Name:         fstr(profile.get("name")),
		Username:     fstr(profile.get("username")),
	}
	if c.Username == "" {
		c.Username = fstr(f.get("username"))
	}
	return c, true
}

// fstr is str without json.Unmarshal in the usual case, a string without escape sequences in valid UTF-8,
// whose value is its bytes as they are. Everything else goes to str.
func fstr(raw []byte) string {
	if n := len(raw); n >= 2 && raw[0] == '"' {
		if s := raw[1 : n-1]; bytes.IndexByte(s, '\\') < 0 && utf8.Valid(s) {
			return string(s)
		}
	}
	return str(raw)
}

// fnumber is number, reading strings with fstr.
func fnumber(raw []byte) (float64, bool) {
	s := fstr(raw)
	if s == "" {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// funix is unixTime, reading strings with fstr.
func funix(raw []byte) time.Time {
	f, ok := fnumber(raw)
	if !ok || f > maxUnix || f < -maxUnix {
		return time.Time{}
	}
	return time.Unix(int64(f), 0).UTC()
}

// isASCII reports whether s has only ASCII bytes. A message type that is ASCII names the same member whether
// keys are compared as sent (fields.get) or unescaped (parseMessage's map), since fields never holds keys with
// escape sequences, and a key with invalid UTF-8 unescapes to U+FFFD, which is not ASCII.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// once sets bit in seen and reports whether it was clear: a member the fast path reads may appear only once.
func once(seen *uint8, bit uint8) bool {
	if *seen&bit != 0 {
		return false
	}
	*seen |= bit
	return true
}

// member is one member of a JSON object: its key as sent (without quotes, never with escape sequences) and its
// value's bytes.
type member struct{ key, val []byte }

// fields are the members of a JSON object in order. A nil fields stands for a value that is not an object,
// like the nil map object returns; get on it finds nothing.
type fields []member

// get returns the value of key, the last one when key appears more than once (as in a map), or nil.
func (f fields) get(key string) []byte {
	for i := len(f) - 1; i >= 0; i-- {
		if string(f[i].key) == key {
			return f[i].val
		}
	}
	return nil
}

// fieldsOf returns the members of raw, a checked JSON value, appended to dst: nil when raw is absent or not an
// object. ok is false when the object has a key with an escape sequence.
func fieldsOf(raw []byte, dst fields) (f fields, ok bool) {
	if len(raw) == 0 || raw[0] != '{' {
		return nil, true
	}
	r := reader{data: raw}
	return r.fields(dst)
}

// reader is a JSON reader over data that checks the syntax of everything it passes, exactly as json.Valid
// does, with two restrictions that make it give up (return false) on valid JSON: keys with escape sequences in
// the objects whose keys it compares (see object) and nesting deeper than maxFastDepth. Its methods read one value at the cursor, after
// any white space, and return false on anything else; all returned slices are capped at their length, so that
// appending to one never writes over data.
type reader struct {
	data  []byte
	pos   int
	depth int
}

// peek skips white space and returns the next byte, or 0 at the end of data.
func (r *reader) peek() byte {
	for r.pos < len(r.data) {
		switch c := r.data[r.pos]; c {
		case ' ', '\t', '\n', '\r':
			r.pos++
		default:
			return c
		}
	}
	return 0
}

// value reads any value and returns its bytes.
func (r *reader) value() ([]byte, bool) {
	c := r.peek()
	start := r.pos
	var ok bool
	switch c {
	case '{':
		ok = r.members(true, func([]byte) bool {
			_, ok := r.value()
			return ok
		})
	case '[':
		ok = r.array(func() bool {
			_, ok := r.value()
			return ok
		})
	case '"':
		_, _, ok = r.string()
	case 't':
		ok = r.literal("true")
	case 'f':
		ok = r.literal("false")
	case 'n':
		ok = r.literal("null")
	default:
		ok = r.number()
	}
	if !ok {
		return nil, false
	}
	return r.data[start:r.pos:r.pos], true
}

// object reads an object, calling member with each key; member must read the value that follows. It gives up
// on a key with an escape sequence, as callers compare keys by their bytes.
func (r *reader) object(member func(key []byte) bool) bool {
	return r.members(false, member)
}

// members is object, taking keys with escape sequences too when anyKey is set.
func (r *reader) members(anyKey bool, member func(key []byte) bool) bool {
	if r.peek() != '{' || !r.enter() {
		return false
	}
	if r.peek() == '}' {
		return r.leave()
	}
	for {
		if r.peek() != '"' {
			return false
		}
		key, escaped, ok := r.string()
		if !ok || escaped && !anyKey || r.peek() != ':' {
			return false
		}
		r.pos++
		if !member(key) {
			return false
		}
		switch r.peek() {
		case ',':
			r.pos++
		case '}':
			return r.leave()
		default:
			return false
		}
	}
}

// fields reads an object into dst and returns its members; see fieldsOf.
func (r *reader) fields(dst fields) (fields, bool) {
	if dst == nil {
		dst = fields{}
	}
	ok := r.object(func(key []byte) bool {
		val, ok := r.value()
		dst = append(dst, member{key, val})
		return ok
	})
	return dst, ok
}

// array reads an array, calling elem for each element; elem must read it.
func (r *reader) array(elem func() bool) bool {
	if r.peek() != '[' || !r.enter() {
		return false
	}
	if r.peek() == ']' {
		return r.leave()
	}
	for {
		if !elem() {
			return false
		}
		switch r.peek() {
		case ',':
			r.pos++
		case ']':
			return r.leave()
		default:
			return false
		}
	}
}

// arrayOrNull reads null, or an array whose elements must all be objects, calling elem for each of them.
func (r *reader) arrayOrNull(elem func() bool) bool {
	if r.peek() == 'n' {
		return r.literal("null")
	}
	return r.array(func() bool { return r.peek() == '{' && elem() })
}

// enter passes the opening bracket at the cursor.
func (r *reader) enter() bool {
	r.pos++
	r.depth++
	return r.depth <= maxFastDepth
}

// leave passes the closing bracket at the cursor.
func (r *reader) leave() bool {
	r.pos++
	r.depth--
	return true
}

// string reads a string and returns its content as sent, without the quotes; escaped reports whether it has
// escape sequences.
func (r *reader) string() (s []byte, escaped, ok bool) {
	start := r.pos + 1
	for i := start; i < len(r.data); i++ {
		switch c := r.data[i]; {
		case c == '"':
			r.pos = i + 1
			return r.data[start:i:i], escaped, true
		case c == '\\':
			escaped = true
			if i++; i == len(r.data) {
				return nil, false, false
			}
			switch r.data[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(r.data) {
					return nil, false, false
				}
				for _, h := range r.data[i+1 : i+5] {
					if !isHex(h) {
						return nil, false, false
					}
				}
				i += 4
			default:
				return nil, false, false
			}
		case c < 0x20:
			return nil, false, false
		}
	}
	return nil, false, false
}

// isHex reports whether c is a hexadecimal digit.
func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// literal reads the literal lit (true, false or null).
func (r *reader) literal(lit string) bool {
	if len(r.data)-r.pos < len(lit) || string(r.data[r.pos:r.pos+len(lit)]) != lit {
		return false
	}
	r.pos += len(lit)
	return true
}

// number reads a number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (r *reader) number() bool {
	d, i := r.data, r.pos
	digits := func() bool {
		start := i
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
		return i > start
	}
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case !digits():
		return false
	}
	if i < len(d) && d[i] == '.' {
		i++
		if !digits() {
			return false
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if !digits() {
			return false
		}
	}
	r.pos = i
	return true
}
