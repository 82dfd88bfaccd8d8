package outbound

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"

	"github.com/wagate/wagate/internal/phone"
	"github.com/wagate/wagate/internal/wa"
)

// Request is a decoded send request.
type Request struct {
	// Channel names the channel to send from; "" means the default channel. Decode checks its spelling
	// (^[a-z0-9][a-z0-9_-]{0,62}$), not that it exists.
	Channel string
	// Message is the validated message; To is in E.164. For a mark-as-read request Type is "read", To is ""
	// and Content is {"message_id":"<wamid>"}.
	Message wa.Outbound
	// IdempotencyKey comes from the body field "idempotency_key" when present ("" otherwise); the HTTP layer
	// also reads the Idempotency-Key header.
	IdempotencyKey string
}

// ValidationError is one problem with a request: Field is the JSON path of the offending value
// ("text.body", "template.components[1].parameters[0].text"; "" for the body as a whole) and Message says
// what is wrong and what the limit is ("is 5,000 characters; the limit is 4,096").
type ValidationError struct {
	Field   string
	Message string
}

// Error returns "field: message", or the message alone when Field is "".
func (e ValidationError) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// Errors lists every problem found in a request, in the order the fields are checked: the envelope first
// (unknown fields, messaging_product, recipient_type, to, type, context, channel, idempotency_key), then the
// message object from its first field to its last. At most 50 are listed; a last entry with an empty Field
// then says that more were left out.
type Errors []ValidationError

// Error joins the problems with "; ", like "to: ...; text.body: ...".
func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}

// messageTypes are the Cloud API message types wagate sends, in the order error messages list them.
var messageTypes = []string{
	"text", "image", "video", "audio", "document", "sticker",
	"location", "contacts", "interactive", "template", "reaction",
}

func isMessageType(s string) bool { return slices.Contains(messageTypes, s) }

// envelopeKeys are the top-level fields of a send request besides the message object.
var envelopeKeys = []string{
	"messaging_product", "recipient_type", "to", "type", "context",
	"channel", "reply_to", "idempotency_key", "biz_opaque_callback_data",
}

// readKeys are the top-level fields of a mark-as-read request.
var readKeys = []string{
	"messaging_product", "status", "message_id", "typing_indicator", "type", "channel", "idempotency_key",
}

// Decode parses and validates a send request body: the Cloud API request body (as Meta's and 360dialog's
// SDKs send it) plus wagate's fields channel, reply_to and idempotency_key and the text shorthand
// "text":"Hola". A Cloud mark-as-read body ({"messaging_product":"whatsapp","status":"read",
// "message_id":"wamid.X"}) decodes to a Request whose Message has Type "read". Any problem yields an
// Errors value listing all of them (a zero Request with it); Decode never panics on any input.
func Decode(body []byte) (Request, error) {
	var c checker
	top, ok := c.document(body)
	if !ok {
		return Request{}, c.errs
	}
	var req Request
	if top.has("status") || isReadType(top) {
		req = c.decodeRead(top)
	} else {
		req = c.decodeSend(top)
	}
	if len(c.errs) > 0 {
		return Request{}, c.errs
	}
	return req, nil
}

// Validate applies Decode's rules to a message built in code: To must already be in E.164 (it may be "" for
// a "read"), Type a supported message type or "read", Content the object the Cloud API keeps under the type's
// key and ReplyTo empty or a message id. It returns nil or Errors.
func Validate(m wa.Outbound) error {
	var c checker
	if m.Type == "read" {
		if m.To != "" {
			c.e164(m.To)
		}
		if m.ReplyTo != "" {
			c.add("reply_to", "must be empty: a mark-as-read request quotes no message")
		}
	} else {
		if m.To == "" {
			c.add("to", "is required")
		} else {
			c.e164(m.To)
		}
		switch {
		case m.Type == "":
			c.add("type", "is required")
			return c.err()
		case !isMessageType(m.Type):
			c.add("type", "%s is not a message type wagate sends; use one of %s", quote(m.Type), strings.Join(messageTypes, ", "))
			return c.err()
		}
		if m.ReplyTo != "" {
			c.opaqueID("reply_to", m.ReplyTo, maxMessageID)
		}
	}
	if len(bytes.TrimSpace(m.Content)) == 0 {
		c.add(m.Type, "is required")
	} else if c.structure(m.Type, m.Content) {
		c.message(m.Type, m.Content)
	}
	return c.err()
}

// CheckIdempotencyKey reports whether key is an acceptable idempotency key: 1 to 255 visible ASCII
// characters (no spaces), such as a UUID. It returns nil or a ValidationError for field "idempotency_key".
func CheckIdempotencyKey(key string) error {
	if msg := idempotencyKeyProblem(key); msg != "" {
		return ValidationError{Field: "idempotency_key", Message: msg}
	}
	return nil
}

func idempotencyKeyProblem(key string) string {
	if key == "" {
		return "is empty"
	}
	if len(key) > maxIdempotencyKey {
		return "is " + group(len(key)) + " characters; the limit is " + group(maxIdempotencyKey)
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x21 || key[i] > 0x7e {
			return "must be visible ASCII characters without spaces, like a UUID"
		}
	}
	return ""
}

func isReadType(top obj) bool {
	var s string
	return top.has("type") && json.Unmarshal(top.m["type"], &s) == nil && s == "read"
}

// e164 checks that s, the To of a built message, is a valid number already in E.164 form.
func (c *checker) e164(s string) {
	n, err := phone.Normalize(s)
	switch {
	case err != nil:
		c.add("to", "%s is not a valid phone number: write it with the country code, like +34696247355", quote(s))
	case n != s:
		c.add("to", "%s is not in E.164 form; use %s", quote(s), quote(n))
	}
}

// decodeSend decodes the envelope and message object of a send request.
func (c *checker) decodeSend(top obj) Request {
	var req Request
	for _, k := range top.keys() {
		if !slices.Contains(envelopeKeys, k) && !isMessageType(k) {
			hint := ""
			if k == "message_id" || k == "status" {
				hint = ` (to mark a message as read send {"status":"read","message_id":"..."})`
			}
			c.add(userKey(k), "is not a field of a send request%s; the body takes messaging_product, recipient_type, to, type, "+
				"one message object (%s), context, biz_opaque_callback_data and wagate's channel, reply_to and idempotency_key",
				hint, strings.Join(messageTypes, ", "))
		}
	}
	c.messagingProduct(top)
	if s, ok := c.str(top, "recipient_type", false, 0); ok && s != "individual" {
		if s == "group" {
			c.add("recipient_type", `"group" is not supported: wagate sends to one person's number; leave recipient_type out or set it to "individual"`)
		} else {
			c.add("recipient_type", `must be "individual" (or left out)`)
		}
	}
	if s, ok := c.str(top, "to", true, 0); ok {
		if n, err := phone.Normalize(s); err != nil {
			c.add("to", "%s is not a valid phone number: write it with the country code, like +34696247355", quote(s))
		} else {
			req.Message.To = n
		}
	}
	typ := c.messageType(top)
	req.Message.ReplyTo = c.replyTo(top)
	req.Channel = c.channel(top)
	req.IdempotencyKey = c.idempotencyKey(top)
	c.str(top, "biz_opaque_callback_data", false, maxOpaque)
	if typ == "" {
		return req
	}
	raw := top.m[typ]
	var content json.RawMessage
	if s, isString := asString(raw); isString && typ == "text" {
		content = marshalObject("body", s) // the shorthand "text":"Hola"
	} else {
		content = compact(raw)
	}
	req.Message.Type = typ
	req.Message.Content = content
	c.message(typ, content)
	return req
}

// messageType returns the message type named by "type" or inferred from the one message object present;
// "" after reporting why it cannot tell.
func (c *checker) messageType(top obj) string {
	var present []string
	for _, t := range messageTypes {
		if top.has(t) {
			present = append(present, t)
		}
	}
	if !top.has("type") {
		switch len(present) {
		case 0:
			c.add("type", `is required: give the type and its message object, like "type":"text","text":{"body":"Hola"}`)
		case 1:
			return present[0]
		default:
			c.add("type", "is required when the body holds more than one message object (%s)", strings.Join(present, ", "))
		}
		return ""
	}
	typ, ok := c.str(top, "type", true, 0)
	if !ok {
		return ""
	}
	if !isMessageType(typ) {
		c.add("type", "%s is not a message type wagate sends; use one of %s", quote(typ), strings.Join(messageTypes, ", "))
		return ""
	}
	for _, p := range present {
		if p != typ {
			c.add(p, "is not allowed with type %q: send one message per request", typ)
		}
	}
	if !top.has(typ) {
		c.add(typ, "is required for type %q", typ)
		return ""
	}
	return typ
}

func (c *checker) messagingProduct(top obj) {
	if s, ok := c.str(top, "messaging_product", false, 0); ok && s != "whatsapp" {
		c.add("messaging_product", `must be "whatsapp" (or left out)`)
	}
}

// replyTo returns the quoted message id from context.message_id or reply_to.
func (c *checker) replyTo(top obj) string {
	var fromContext string
	if ctx, ok := c.child(top, "context", false); ok {
		for _, k := range ctx.keys() {
			if k != "message_id" {
				c.add(ctx.at(userKey(k)), `is not a field of context; it takes only message_id`)
			}
		}
		fromContext, _ = c.opaqueIDField(ctx, "message_id", true, maxMessageID)
	}
	fromField, ok := c.opaqueIDField(top, "reply_to", false, maxMessageID)
	if ok && fromContext != "" && fromField != fromContext {
		c.add("reply_to", "differs from context.message_id; give the quoted message once")
	}
	if fromContext != "" {
		return fromContext
	}
	return fromField
}

func (c *checker) channel(top obj) string {
	s, ok := c.str(top, "channel", false, 0)
	if ok && s != "" && !channelName.MatchString(s) {
		c.add("channel", "%s is not a channel name: lowercase letters, digits, '-' and '_', up to 63 characters", quote(s))
		return ""
	}
	return s
}

func (c *checker) idempotencyKey(top obj) string {
	s, ok := c.str(top, "idempotency_key", false, 0)
	if !ok {
		return ""
	}
	if msg := idempotencyKeyProblem(s); msg != "" {
		c.add("idempotency_key", "%s", msg)
		return ""
	}
	return s
}

// decodeRead decodes a mark-as-read request.
func (c *checker) decodeRead(top obj) Request {
	var req Request
	for _, k := range top.keys() {
		if !slices.Contains(readKeys, k) {
			c.add(userKey(k), `is not used in a mark-as-read request ("status":"read"); it takes messaging_product, status, message_id, typing_indicator and wagate's channel and idempotency_key`)
		}
	}
	c.messagingProduct(top)
	if s, ok := c.str(top, "status", false, 0); ok && s != "read" {
		c.add("status", `must be "read": it is the only status a business can set`)
	}
	if s, ok := c.str(top, "type", false, 0); ok && s != "read" {
		c.add("type", `must be "read" (or left out) in a mark-as-read request`)
	}
	id, _ := c.opaqueIDField(top, "message_id", true, maxMessageID)
	var typing json.RawMessage
	if ti, ok := c.child(top, "typing_indicator", false); ok {
		if s, ok := c.str(ti, "type", true, 0); ok && s != "text" {
			c.add(ti.at("type"), `must be "text"`)
		}
		typing = compact(top.m["typing_indicator"])
	}
	req.Channel = c.channel(top)
	req.IdempotencyKey = c.idempotencyKey(top)
	content := marshalObject("message_id", id)
	if typing != nil {
		content = append(content[:len(content)-1], `,"typing_indicator":`...)
		content = append(content, typing...)
		content = append(content, '}')
	}
	req.Message = wa.Outbound{Type: "read", Content: content}
	return req
}

// message checks content, the object under the type's key, by the rules of its type.
func (c *checker) message(typ string, content json.RawMessage) {
	switch typ {
	case "text":
		c.text(content)
	case "image", "video", "audio", "document", "sticker":
		c.mediaMessage(typ, content)
	case "location":
		if o, ok := c.object("location", content); ok {
			c.location(o)
		}
	case "contacts":
		c.contacts(content)
	case "interactive":
		c.interactive(content)
	case "template":
		c.template(content)
	case "reaction":
		c.reaction(content)
	case "read":
		c.read(content)
	}
}
