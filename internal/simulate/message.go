// Package simulate builds realistic provider webhook bodies and posts them to a running wagate.
//
// Message and Receipt produce the bodies WhatsApp sends for an inbound message and for a delivery status, in
// either shape: the Cloud shape of Meta's Cloud API and 360dialog's waba-v2 (object/entry[]/changes[]/value)
// or the On-Premise shape of 360dialog's legacy API (contacts/messages/statuses at the root). Every option has
// a realistic default, so a body can be built from a sender and a type alone. Post sends a body to a wagate
// webhook URL with the credentials the receiver checks: the shared secret header and, when an app secret is
// given, Meta's X-Hub-Signature-256.
//
// Bodies are compact JSON with non-ASCII characters written as \u escapes, as Meta writes the bodies it signs.
package simulate

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wagate/wagate/internal/wa"
)

// DefaultFrom is the sender used when MessageOptions gives neither From nor UserID, and the recipient of a
// receipt without RecipientID: a fictional +1 555 number.
const DefaultFrom = "+15550001234"

// DefaultName is the sender's profile name when MessageOptions.Name is empty.
const DefaultName = "Demo User"

// MessageOptions describes one simulated inbound message. Only Type matters for most bodies; everything else
// has a realistic default.
type MessageOptions struct {
	// From is the sender's number, E.164 or digits; its digits become messages[].from and contacts[].wa_id.
	// Empty with a UserID simulates a user who hides the number behind a username; empty with no UserID
	// means DefaultFrom.
	From string
	// Name is the sender's profile name; default DefaultName.
	Name string
	// Type is one of Types() (default "text"). "voice" is an audio message recorded as a voice note: Cloud
	// sends type "audio" with voice:true, On-Premise type "voice". "interactive" is an alias of
	// "button_reply" and "flow" of "nfm_reply"; "unsupported" is sent as type "unknown" by On-Premise.
	Type string
	// Text is the text body, and for other types what the user sees: the caption of image, video and
	// document (when Caption is empty), the title of a button or list reply, the body of a flow reply, the
	// name of a location, the name of a shared contact, the text of an order, the body of a system message.
	Text string
	// MediaID, MimeType, Caption and Filename describe an image, video, audio, voice, document or sticker.
	// Defaults: a random id in the provider's format, a common MIME type for the type, no caption, and for
	// documents a file name with the MIME type's extension.
	MediaID, MimeType, Caption, Filename string
	// Latitude and Longitude place a location; both zero means Puerta del Sol, Madrid.
	Latitude, Longitude float64
	// ReplyTo is the wamid of the quoted message: it sets context{from, id}. Button and interactive replies
	// always carry a context, to a random wamid when ReplyTo is empty.
	ReplyTo string
	// Emoji is a reaction's emoji; empty removes the reaction.
	Emoji string
	// ReactTo is the wamid a reaction is about; default ReplyTo, else a random wamid.
	ReactTo string
	// ID is the message id; default a random wamid (see NewWAMID).
	ID string
	// Timestamp is when the user sent the message; default now.
	Timestamp time.Time
	// PhoneNumberID and DisplayPhoneNumber fill the Cloud value.metadata (each omitted when empty; On-Premise
	// bodies have no metadata). The display number's digits are also context.from of replies.
	PhoneNumberID, DisplayPhoneNumber string
	// UserID is the sender's business-scoped user id (BSUID), e.g. "US.13491208655302741918": it becomes
	// contacts[].user_id and, in the Cloud shape, messages[].from_user_id.
	UserID string
}

// messageTypes are the values Message accepts in MessageOptions.Type, in documentation order.
var messageTypes = []string{
	"text", "image", "video", "audio", "voice", "document", "sticker", "location", "contacts",
	"button_reply", "list_reply", "nfm_reply", "button", "reaction", "order", "system", "unsupported",
}

// typeAliases maps alternative spellings to the names in messageTypes.
var typeAliases = map[string]string{
	"interactive": "button_reply",
	"flow":        "nfm_reply",
	"unknown":     "unsupported",
}

// Types returns the message types Message can build, in a stable order.
func Types() []string { return slices.Clone(messageTypes) }

// defaultMime is the MIME type of each media type when MessageOptions.MimeType is empty.
var defaultMime = map[string]string{
	"image":    "image/jpeg",
	"video":    "video/mp4",
	"audio":    "audio/mpeg",
	"voice":    "audio/ogg; codecs=opus",
	"document": "application/pdf",
	"sticker":  "image/webp",
}

// shapeIsCloud validates a shape; the empty shape means Cloud.
func shapeIsCloud(shape wa.Shape) (bool, error) {
	switch shape {
	case wa.ShapeCloud, "":
		return true, nil
	case wa.ShapeOnPremise:
		return false, nil
	}
	return false, fmt.Errorf("simulate: unknown shape %q: use %q or %q", shape, wa.ShapeCloud, wa.ShapeOnPremise)
}

// normalizeType returns the canonical name of a message type, or an error listing the valid ones.
func normalizeType(t string) (string, error) {
	t = strings.ToLower(strings.TrimSpace(t))
	if t == "" {
		return "text", nil
	}
	if a, ok := typeAliases[t]; ok {
		return a, nil
	}
	if slices.Contains(messageTypes, t) {
		return t, nil
	}
	return "", fmt.Errorf("simulate: unknown message type %q: use one of %s", t, strings.Join(messageTypes, ", "))
}

// unixString is the provider's timestamp: Unix seconds as a JSON string; now when t is zero.
func unixString(t time.Time) string {
	if t.IsZero() {
		t = time.Now()
	}
	return strconv.FormatInt(t.Unix(), 10)
}

// Message builds the webhook body the provider sends when a user sends a message of o.Type to the business:
// a Cloud-shape or On-Premise-shape body (the empty shape means Cloud) holding the sender in contacts[] (except
// for system messages, which have none) and one message in messages[]. It fails for an unknown shape or type
// (the error lists the valid types) and for a From without digits.
func Message(shape wa.Shape, o MessageOptions) ([]byte, error) {
	cloud, err := shapeIsCloud(shape)
	if err != nil {
		return nil, err
	}
	typ, err := normalizeType(o.Type)
	if err != nil {
		return nil, err
	}
	if o.From == "" && o.UserID == "" {
		o.From = DefaultFrom
	}
	waID := wa.Digits(o.From)
	if o.From != "" && waID == "" {
		return nil, fmt.Errorf("simulate: from %q has no digits: give the sender's number, e.g. %s", o.From, DefaultFrom)
	}
	if o.Name == "" {
		o.Name = DefaultName
	}
	if o.ID == "" {
		o.ID = NewWAMID(firstNonEmpty(waID, o.UserID))
	}
	b := &builder{o: o, cloud: cloud, typ: typ, waID: waID}
	msg, err := b.message()
	if err != nil {
		return nil, err
	}
	value := obj{}
	if typ != "system" {
		contact := obj{}
		contact.set("profile", obj{{"name", o.Name}})
		contact.setIf("wa_id", waID)
		contact.setIf("user_id", o.UserID)
		value.set("contacts", []obj{contact})
	}
	value.set("messages", []obj{msg})
	return envelope(cloud, value, o.PhoneNumberID, o.DisplayPhoneNumber)
}

// envelope wraps the members of a change value (contacts, messages, statuses) in the body of the shape.
func envelope(cloud bool, members obj, phoneNumberID, displayPhoneNumber string) ([]byte, error) {
	if !cloud {
		return encode(members)
	}
	value := obj{{"messaging_product", "whatsapp"}}
	md := obj{}
	md.setIf("display_phone_number", wa.Digits(displayPhoneNumber))
	md.setIf("phone_number_id", phoneNumberID)
	if len(md) > 0 {
		value.set("metadata", md)
	}
	value = append(value, members...)
	change := obj{{"value", value}, {"field", "messages"}}
	entry := obj{{"id", randomDigits(15)}, {"changes", []obj{change}}}
	return encode(obj{{"object", "whatsapp_business_account"}, {"entry", []obj{entry}}})
}

// builder builds one messages[] element.
type builder struct {
	o     MessageOptions
	cloud bool
	typ   string // canonical type
	waID  string // sender's digits, "" for a user who hides the number
}

// message returns the messages[] element: context?, from, from_user_id?, id, timestamp, type, payload, errors?.
func (b *builder) message() (obj, error) {
	o := b.o
	wire := b.typ // the type as sent
	var payload any
	var errs []obj
	replyTo := o.ReplyTo
	switch b.typ {
	case "text":
		payload = obj{{"body", firstNonEmpty(o.Text, "Hello! This is a simulated message from wagate.")}}
	case "image", "video", "audio", "voice", "document", "sticker":
		if b.typ == "voice" && b.cloud {
			wire = "audio"
		}
		payload = b.media()
	case "location":
		payload = b.location()
	case "contacts":
		payload = sharedContacts(o.Text)
	case "button_reply", "list_reply", "nfm_reply":
		wire = "interactive"
		payload = b.interactive()
		replyTo = firstNonEmpty(replyTo, NewWAMID(b.waID))
	case "button":
		text := firstNonEmpty(o.Text, "Yes")
		payload = obj{{"payload", strings.ToUpper(slug(text))}, {"text", text}}
		replyTo = firstNonEmpty(replyTo, NewWAMID(b.waID))
	case "reaction":
		payload = obj{
			{"message_id", firstNonEmpty(o.ReactTo, o.ReplyTo, NewWAMID(b.waID))},
			{"emoji", o.Emoji},
		}
		replyTo = "" // a reaction names its message in the payload, never in a context
	case "order":
		payload = order(o.Text)
	case "system":
		payload = b.system()
	case "unsupported":
		if b.cloud {
			payload = obj{{"type", "poll_creation"}}
			errs = []obj{{
				{"code", 131051},
				{"title", "Message type unknown"},
				{"message", "Message type unknown"},
				{"error_data", obj{{"details", "Message type is currently not supported."}}},
			}}
		} else {
			wire = "unknown"
			errs = []obj{{
				{"code", 501},
				{"title", "Unknown message type"},
				{"details", "Message type is not currently supported"},
			}}
		}
	default:
		return nil, errors.New("simulate: internal error: unhandled type " + b.typ)
	}
	m := obj{}
	if replyTo != "" {
		m.set("context", obj{{"from", firstNonEmpty(wa.Digits(o.DisplayPhoneNumber), b.waID)}, {"id", replyTo}})
	}
	m.setIf("from", b.waID)
	if b.cloud {
		m.setIf("from_user_id", o.UserID)
	}
	m.set("id", o.ID)
	m.set("timestamp", unixString(o.Timestamp))
	m.set("type", wire)
	if payload != nil {
		m.set(wire, payload)
	}
	if errs != nil {
		m.set("errors", errs)
	}
	return m, nil
}

// media builds the object of an image, video, audio, voice, document or sticker. Cloud ids are numeric and
// sha256 is base64; On-Premise ids are UUIDs and sha256 is hex.
func (b *builder) media() obj {
	o := b.o
	id := o.MediaID
	if id == "" {
		if b.cloud {
			id = randomDigits(16)
		} else {
			id = randomUUID()
		}
	}
	mime := firstNonEmpty(o.MimeType, defaultMime[b.typ])
	p := obj{}
	switch b.typ {
	case "image", "video", "document":
		p.setIf("caption", firstNonEmpty(o.Caption, o.Text))
	}
	if b.typ == "document" {
		p.set("filename", firstNonEmpty(o.Filename, "document"+extension(mime)))
	}
	p.set("mime_type", mime)
	p.set("sha256", sha256Of(id, b.cloud))
	p.set("id", id)
	if b.cloud {
		switch b.typ {
		case "audio":
			p.set("voice", false)
		case "voice":
			p.set("voice", true)
		case "sticker":
			p.set("animated", false)
		}
	}
	return p
}

// extension returns the usual file name extension for a document MIME type, ".bin" when unknown.
func extension(mime string) string {
	mime, _, _ = strings.Cut(mime, ";")
	switch strings.TrimSpace(strings.ToLower(mime)) {
	case "application/pdf":
		return ".pdf"
	case "text/plain":
		return ".txt"
	case "text/csv":
		return ".csv"
	case "application/zip":
		return ".zip"
	case "application/msword":
		return ".doc"
	case "application/vnd.openxmlformats-officedocument.wordprocessingml.document":
		return ".docx"
	case "application/vnd.ms-excel":
		return ".xls"
	case "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":
		return ".xlsx"
	case "application/vnd.ms-powerpoint":
		return ".ppt"
	case "application/vnd.openxmlformats-officedocument.presentationml.presentation":
		return ".pptx"
	}
	return ".bin"
}

// location builds a location object. With no coordinates it is Puerta del Sol, named and addressed; Text
// names the place.
func (b *builder) location() obj {
	o := b.o
	lat, long := o.Latitude, o.Longitude
	name, address := o.Text, ""
	if lat == 0 && long == 0 {
		lat, long = 40.4168892, -3.7038091
		if name == "" {
			name, address = "Puerta del Sol", "Plaza de la Puerta del Sol, 28013 Madrid, Spain"
		}
	}
	p := obj{{"latitude", lat}, {"longitude", long}}
	p.setIf("name", name)
	p.setIf("address", address)
	return p
}

// sharedContacts builds the contacts[] of a contacts message: one card named name (default María García).
func sharedContacts(name string) []obj {
	name = firstNonEmpty(strings.TrimSpace(name), "María García")
	first, last, _ := strings.Cut(name, " ")
	n := obj{{"formatted_name", name}, {"first_name", first}}
	n.setIf("last_name", last)
	card := obj{
		{"name", n},
		{"phones", []obj{{{"phone", "+34 612 34 56 78"}, {"type", "CELL"}, {"wa_id", "34612345678"}}}},
	}
	return []obj{card}
}

// interactive builds the object of a button, list or flow reply.
func (b *builder) interactive() obj {
	o := b.o
	switch b.typ {
	case "button_reply":
		title := firstNonEmpty(o.Text, "Yes")
		return obj{{"type", "button_reply"}, {"button_reply", obj{{"id", slug(title)}, {"title", title}}}}
	case "list_reply":
		title := firstNonEmpty(o.Text, "Option 1")
		return obj{{"type", "list_reply"}, {"list_reply", obj{
			{"id", slug(title)}, {"title", title}, {"description", "Chosen from the list"},
		}}}
	default: // nfm_reply
		resp, _ := marshal(obj{{"flow_token", "flow-" + randomHex(8)}, {"rating", "5"}, {"comment", "Great service"}})
		return obj{{"type", "nfm_reply"}, {"nfm_reply", obj{
			{"response_json", string(resp)}, {"body", firstNonEmpty(o.Text, "Sent")}, {"name", "flow"},
		}}}
	}
}

// order builds an order of two catalog items; text is the user's note (may be empty, as the provider sends).
func order(text string) obj {
	items := []obj{
		{{"product_retailer_id", "SKU-1001"}, {"quantity", 2}, {"item_price", 12.5}, {"currency", "EUR"}},
		{{"product_retailer_id", "SKU-2002"}, {"quantity", 1}, {"item_price", 4.99}, {"currency", "EUR"}},
	}
	return obj{{"catalog_id", randomDigits(15)}, {"text", text}, {"product_items", items}}
}

// system builds a "user changed number" system object: Cloud user_changed_number with wa_id, On-Premise
// customer_changed_number with new_wa_id.
func (b *builder) system() obj {
	old := firstNonEmpty(b.waID, wa.Digits(DefaultFrom))
	changed := old[:max(len(old)-4, 0)] + "9999"
	if changed == old {
		changed = old[:max(len(old)-4, 0)] + "8888"
	}
	body := firstNonEmpty(b.o.Text, fmt.Sprintf("User %s changed from %s to %s", b.o.Name, old, changed))
	if b.cloud {
		return obj{{"body", body}, {"wa_id", changed}, {"type", "user_changed_number"}}
	}
	return obj{{"body", body}, {"new_wa_id", changed}, {"type", "customer_changed_number"}}
}

// slug turns a title into a reply id: lowercase letters and digits, other runs as "_".
func slug(s string) string {
	var b strings.Builder
	under := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			under = false
		} else if !under && b.Len() > 0 {
			b.WriteByte('_')
			under = true
		}
	}
	out := strings.TrimSuffix(b.String(), "_")
	if out == "" {
		return "reply"
	}
	return out
}

// firstNonEmpty returns the first argument that is not "".
func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
