package outbound

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits. Those from the provider reference (§5) are WhatsApp's; the guards marked "wagate" are ours.
const (
	maxText            = 4096 // text.body
	maxCaption         = 1024 // media caption
	maxFilename        = 240  // document filename (wagate)
	maxInteractiveBody = 1024
	maxHeaderFooter    = 60 // interactive header text and footer text
	maxButtons         = 3
	maxButtonTitle     = 20
	maxButtonID        = 256
	maxSections        = 10
	maxRows            = 10 // rows of a list, all sections together
	maxRowTitle        = 24
	maxRowDescription  = 72
	maxRowID           = 200
	maxSectionTitle    = 24
	maxListButton      = 20
	maxCTADisplayText  = 20
	maxFlowCTA         = 20
	maxTemplateName    = 512
	maxParamText       = 1024 // body text parameter
	maxHeaderParamText = 60   // header text parameter
	maxOpaque          = 512  // biz_opaque_callback_data
	maxMessageID       = 512  // wamid and other provider message ids (wagate)
	maxMediaID         = 256  // provider media id (wagate)
	maxFileID          = 100  // wagate media id
	maxLink            = 4096 // URL length (wagate)
	maxItems           = 100  // any other list: contacts, phones, components' parameters... (wagate)
	maxParams          = 100  // template parameters, all components together (wagate)
	maxComponents      = 20   // template components (wagate)
	maxDepth           = 64   // JSON nesting (wagate)
	maxIdempotencyKey  = 255
	maxErrors          = 50 // errors listed for one request (wagate)
	maxEmojiRunes      = 10 // the longest emoji ZWJ sequences (couple with skin tones) have 10 code points
)

var (
	channelName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)
	fileID      = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
)

// checker collects validation errors.
type checker struct{ errs Errors }

func (c *checker) add(field, format string, args ...any) {
	switch {
	case len(c.errs) < maxErrors:
		c.errs = append(c.errs, ValidationError{Field: field, Message: fmt.Sprintf(format, args...)})
	case len(c.errs) == maxErrors:
		c.errs = append(c.errs, ValidationError{Message: "more problems are not listed; fix these first"})
	}
}

// err returns the errors found, or a nil error (not a nil Errors) when there are none.
func (c *checker) err() error {
	if len(c.errs) == 0 {
		return nil
	}
	return c.errs
}

// obj is a decoded JSON object and its field path.
type obj struct {
	path string
	m    map[string]json.RawMessage
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

func (o obj) at(key string) string { return join(o.path, key) }

// has reports whether key is present with a value other than null: an optional field set to null counts as
// left out, as SDKs that serialise unset fields as null expect.
func (o obj) has(key string) bool {
	raw, ok := o.m[key]
	return ok && len(bytes.TrimSpace(raw)) > 0 && !isNull(raw)
}

// keys returns o's keys sorted, for errors in a stable order.
func (o obj) keys() []string {
	ks := make([]string, 0, len(o.m))
	for k := range o.m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// kind names the JSON kind of raw for error messages.
func kind(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}

func asString(raw json.RawMessage) (string, bool) {
	var s string
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// document checks that body is one JSON object without duplicate keys or deep nesting and decodes its top
// level.
func (c *checker) document(body []byte) (obj, bool) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		c.add("", "the request body is empty: send a JSON object")
		return obj{}, false
	}
	if !json.Valid(trimmed) {
		var v any
		err := json.Unmarshal(trimmed, &v)
		var se *json.SyntaxError
		if errors.As(err, &se) {
			c.add("", "the request body is not valid JSON: %s (at byte %d)", strings.TrimPrefix(se.Error(), "json: "), se.Offset)
		} else {
			c.add("", "the request body is not valid JSON")
		}
		return obj{}, false
	}
	if trimmed[0] != '{' {
		c.add("", "the request body must be a JSON object, not %s", kind(trimmed))
		return obj{}, false
	}
	if !c.structure("", trimmed) {
		return obj{}, false
	}
	return c.object("", trimmed)
}

// structure reports duplicate object keys (which parsers resolve differently, so what wagate checks could
// differ from what the provider reads) and nesting deeper than maxDepth in raw, whose path is path. It
// returns false when it found a problem.
func (c *checker) structure(path string, raw []byte) bool {
	type frame struct {
		object    bool
		expectKey bool
		key       string // current member of an object
		idx       int    // current element of an array
		keys      map[string]struct{}
	}
	var stack []*frame
	// here is the path of the current value, built only for an error: building it for every value would
	// cost time quadratic in the body size.
	here := func() string {
		p := path
		for _, f := range stack {
			if f.object {
				p = join(p, userKey(f.key))
			} else {
				p = index(p, f.idx)
			}
		}
		return p
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			c.add(path, "is not valid JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
			return false
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			if len(stack) > 0 && stack[len(stack)-1].object {
				stack[len(stack)-1].expectKey = true
			}
			continue
		}
		if top != nil && top.object && top.expectKey {
			key, _ := tok.(string)
			top.key = key
			if _, dup := top.keys[key]; dup {
				c.add(here(), "appears more than once; give each field once")
				return false
			}
			top.keys[key] = struct{}{}
			top.expectKey = false
			continue
		}
		if top != nil && !top.object {
			top.idx++
		}
		if d, ok := tok.(json.Delim); ok {
			if len(stack) >= maxDepth {
				c.add(here(), "is nested too deeply: the limit is %d levels", maxDepth)
				return false
			}
			f := &frame{object: d == '{', expectKey: d == '{', idx: -1}
			if f.object {
				f.keys = map[string]struct{}{}
			}
			stack = append(stack, f)
			continue
		}
		if top != nil && top.object {
			top.expectKey = true
		}
	}
	return true
}

// userKey returns a key of the caller's for a field path, shortened to 64 characters.
func userKey(k string) string {
	const max = 64
	if utf8.RuneCountInString(k) > max {
		return string([]rune(k)[:max]) + "…"
	}
	return k
}

// object decodes raw as a JSON object whose path is path, reporting anything else.
func (c *checker) object(path string, raw json.RawMessage) (obj, bool) {
	raw = bytes.TrimSpace(raw)
	var m map[string]json.RawMessage
	if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &m) != nil || m == nil {
		c.add(path, "must be a JSON object, not %s", kind(raw))
		return obj{}, false
	}
	return obj{path: path, m: m}, true
}

// child decodes o[key] as an object; a missing key is reported when required.
func (c *checker) child(o obj, key string, required bool) (obj, bool) {
	if !o.has(key) {
		if required {
			c.add(o.at(key), "is required")
		}
		return obj{}, false
	}
	return c.object(o.at(key), o.m[key])
}

// str returns o[key] as a string. A required string must not be blank; max, when not 0, caps its length in
// characters (Unicode code points, which is how WhatsApp counts). ok is false when the key is missing or the
// value breaks a rule (which is then reported).
func (c *checker) str(o obj, key string, required bool, max int) (string, bool) {
	if !o.has(key) {
		if required {
			c.add(o.at(key), "is required")
		}
		return "", false
	}
	raw := o.m[key]
	s, isString := asString(raw)
	if !isString {
		c.add(o.at(key), "must be a string, not %s", kind(raw))
		return "", false
	}
	if required && strings.TrimSpace(s) == "" {
		c.add(o.at(key), "is empty")
		return s, false
	}
	if !c.length(o.at(key), s, max) {
		return s, false
	}
	return s, true
}

// length reports s when it is longer than max characters (max 0: no limit).
func (c *checker) length(field, s string, max int) bool {
	if max <= 0 {
		return true
	}
	if n := utf8.RuneCountInString(s); n > max {
		c.add(field, "is %s characters; the limit is %s", group(n), group(max))
		return false
	}
	return true
}

// boolean checks that o[key], when present, is true or false.
func (c *checker) boolean(o obj, key string) {
	if o.has(key) {
		if raw := o.m[key]; string(raw) != "true" && string(raw) != "false" {
			c.add(o.at(key), "must be true or false, not %s", kind(raw))
		}
	}
}

// enum returns o[key] when it is one of allowed, compared exactly or, with fold, ignoring case.
func (c *checker) enum(o obj, key string, required, fold bool, allowed ...string) (string, bool) {
	s, ok := c.str(o, key, required, 0)
	if !ok {
		return "", false
	}
	for _, a := range allowed {
		if s == a || fold && strings.EqualFold(s, a) {
			return a, true
		}
	}
	if len(allowed) == 1 {
		c.add(o.at(key), "must be %q, not %s", allowed[0], quote(s))
	} else {
		c.add(o.at(key), "is %s; use one of %s", quote(s), strings.Join(allowed, ", "))
	}
	return "", false
}

// list returns o[key] as an array of at most max elements (and at least one when nonEmpty); noun names the
// elements in messages.
func (c *checker) list(o obj, key string, required, nonEmpty bool, max int, noun string) ([]json.RawMessage, bool) {
	if !o.has(key) {
		if required {
			c.add(o.at(key), "is required")
		}
		return nil, false
	}
	raw := bytes.TrimSpace(o.m[key])
	var items []json.RawMessage
	if len(raw) == 0 || raw[0] != '[' || json.Unmarshal(raw, &items) != nil {
		c.add(o.at(key), "must be an array, not %s", kind(raw))
		return nil, false
	}
	if nonEmpty && len(items) == 0 {
		c.add(o.at(key), "is empty; give at least one %s", noun)
		return nil, false
	}
	if len(items) > max {
		c.add(o.at(key), "has %d %s; the limit is %d", len(items), plural(noun), max)
		return nil, false
	}
	return items, true
}

// opaqueIDField checks o[key] as an id given by a provider or by wagate: not blank, at most max characters,
// no spaces or control characters.
func (c *checker) opaqueIDField(o obj, key string, required bool, max int) (string, bool) {
	s, ok := c.str(o, key, required, 0)
	if !ok {
		return "", false
	}
	if s == "" {
		c.add(o.at(key), "is empty")
		return "", false
	}
	return s, c.opaqueID(o.at(key), s, max)
}

func (c *checker) opaqueID(field, s string, max int) bool {
	if !c.length(field, s, max) {
		return false
	}
	if strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		c.add(field, "must not contain spaces or control characters")
		return false
	}
	return true
}

// plural returns the plural of an English noun used in messages.
func plural(noun string) string {
	if strings.HasSuffix(noun, "s") {
		return noun + "es"
	}
	return noun + "s"
}

// group writes n with thousands separators: 4096 -> "4,096".
func group(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// quote quotes a caller's value for an error message, shortened to 64 characters.
func quote(s string) string {
	const max = 64
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max]) + "…"
	}
	return strconv.Quote(s)
}

// shorten cuts a JSON value written in an error message to 32 bytes.
func shorten(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}

// compact returns raw without insignificant space; raw must be valid JSON.
func compact(raw json.RawMessage) json.RawMessage {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return append(json.RawMessage(nil), raw...)
	}
	return b.Bytes()
}

// marshalObject returns {"key":"value"} without escaping HTML characters.
func marshalObject(key, value string) json.RawMessage {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(map[string]string{key: value})
	return bytes.TrimRight(b.Bytes(), "\n")
}
