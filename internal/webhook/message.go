package webhook

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/wagate/wagate/internal/wa"
)

// parseMessage decodes one element of messages[]. It never fails: every field is read on its own, so a field
// with an unexpected JSON type is left empty while the others (ID, Type, ...) are still set, and an element
// that is not an object yields a message with only Raw set. contacts are the change's contacts, used to find
// the sender's BSUID.
func parseMessage(raw json.RawMessage, contacts []wa.Contact) wa.InboundMessage {
	m := wa.InboundMessage{Raw: raw}
	f := object(raw)
	if f == nil {
		return m
	}
	m.ID = str(f["id"])
	m.From = str(f["from"])
	m.FromUserID = str(f["from_user_id"])
	if m.FromUserID == "" {
		m.FromUserID = senderUserID(m.From, contacts)
	}
	m.Timestamp = unixTime(f["timestamp"])
	m.Type = str(f["type"])
	if m.Type != "" {
		m.Payload = present(f[m.Type])
	}
	m.Context = parseContext(f["context"])
	m.Referral = present(f["referral"])
	m.Errors, _ = parseErrors(f["errors"])

	p := object(m.Payload)
	switch m.Type {
	case "text":
		m.Text = str(p["body"])
	case "image", "video", "document", "audio", "voice", "sticker":
		if p != nil {
			m.Media = &wa.Media{
				ID:       str(p["id"]),
				MimeType: str(p["mime_type"]),
				SHA256:   str(p["sha256"]),
				Filename: str(p["filename"]),
				Caption:  str(p["caption"]),
				URL:      str(p["url"]),
				Voice:    m.Type == "voice" || flag(p["voice"]),
				Animated: flag(p["animated"]),
			}
			m.Text = m.Media.Caption
		}
	case "location":
		if p != nil {
			lat, _ := number(p["latitude"])
			long, _ := number(p["longitude"])
			m.Location = &wa.Location{
				Latitude:  lat,
				Longitude: long,
				Name:      str(p["name"]),
				Address:   str(p["address"]),
				URL:       str(p["url"]),
			}
			m.Text = locationText(m.Location)
		}
	case "contacts":
		m.Text = contactsText(m.Payload)
	case "interactive":
		switch kind := str(p["type"]); kind {
		case "button_reply", "list_reply":
			m.Text = str(object(p[kind])["title"])
		case "nfm_reply":
			m.Text = str(object(p[kind])["body"])
		}
	case "button":
		m.Text = str(p["text"])
	case "reaction":
		if p != nil {
			m.Reaction = &wa.Reaction{MessageID: str(p["message_id"]), Emoji: str(p["emoji"])}
			m.Text = m.Reaction.Emoji
		}
	case "order":
		if m.Text = str(p["text"]); m.Text == "" && p != nil {
			items, _ := array(p["product_items"])
			m.Text = "Order: " + strconv.Itoa(len(items)) + " item"
			if len(items) != 1 {
				m.Text += "s"
			}
		}
	case "system":
		m.Text = str(p["body"])
	}
	return m
}

// senderUserID finds the sender's BSUID among the change's contacts: the contact whose wa_id is from, or, when
// the sender withholds the number (no from), the only contact with a user_id and no wa_id, or failing that the
// only contact with a user_id. It returns "" when that is ambiguous.
func senderUserID(from string, contacts []wa.Contact) string {
	if from != "" {
		for _, c := range contacts {
			if c.WAID == from {
				return c.UserID
			}
		}
		digits := wa.Digits(from)
		for _, c := range contacts {
			if digits != "" && wa.Digits(c.WAID) == digits {
				return c.UserID
			}
		}
		return ""
	}
	var withoutNumber, withUserID []string
	for _, c := range contacts {
		if c.UserID == "" {
			continue
		}
		withUserID = append(withUserID, c.UserID)
		if c.WAID == "" {
			withoutNumber = append(withoutNumber, c.UserID)
		}
	}
	switch {
	case len(withoutNumber) == 1:
		return withoutNumber[0]
	case len(withUserID) == 1:
		return withUserID[0]
	}
	return ""
}

// parseContext decodes message.context; nil when absent or not an object.
func parseContext(raw json.RawMessage) *wa.MessageContext {
	f := object(raw)
	if f == nil {
		return nil
	}
	return &wa.MessageContext{
		MessageID:           str(f["id"]),
		From:                str(f["from"]),
		Forwarded:           flag(f["forwarded"]),
		FrequentlyForwarded: flag(f["frequently_forwarded"]),
		ReferredProduct:     present(f["referred_product"]),
	}
}

// locationText is "name, address" with the empty parts left out, or "lat,long" when both are empty.
func locationText(l *wa.Location) string {
	var parts []string
	for _, s := range []string{l.Name, l.Address} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	if len(parts) > 0 {
		return strings.Join(parts, ", ")
	}
	return strconv.FormatFloat(l.Latitude, 'f', -1, 64) + "," + strconv.FormatFloat(l.Longitude, 'f', -1, 64)
}

// contactsText joins the shared contacts' formatted names (or first and last names) with ", ".
func contactsText(raw json.RawMessage) string {
	cards, _ := array(raw)
	var names []string
	for _, card := range cards {
		name := object(object(card)["name"])
		n := str(name["formatted_name"])
		if n == "" {
			n = strings.TrimSpace(str(name["first_name"]) + " " + str(name["last_name"]))
		}
		if n != "" {
			names = append(names, n)
		}
	}
	return strings.Join(names, ", ")
}

// parseReceipt decodes one element of statuses[]. Like parseMessage it never fails. Status is the provider's
// string unchanged (see Parse).
func parseReceipt(raw json.RawMessage) wa.Receipt {
	r := wa.Receipt{Raw: raw}
	f := object(raw)
	if f == nil {
		return r
	}
	r.MessageID = str(f["id"])
	r.Status = wa.Status(str(f["status"]))
	r.Timestamp = unixTime(f["timestamp"])
	r.RecipientID = str(f["recipient_id"])
	r.RecipientUserID = str(f["recipient_user_id"])
	r.Conversation = present(f["conversation"])
	r.Pricing = present(f["pricing"])
	r.Errors, _ = parseErrors(f["errors"])
	return r
}

// parseContact decodes one element of contacts[]; ok is false when it is not an object. The username is read
// from profile.username, or from a top-level username.
func parseContact(raw json.RawMessage) (wa.Contact, bool) {
	f := object(raw)
	if f == nil {
		return wa.Contact{}, false
	}
	profile := object(f["profile"])
	c := wa.Contact{
		WAID:         str(f["wa_id"]),
		UserID:       str(f["user_id"]),
		ParentUserID: str(f["parent_user_id"]),
		Name:         str(profile["name"]),
		Username:     str(profile["username"]),
	}
	if c.Username == "" {
		c.Username = str(f["username"])
	}
	return c, true
}

// parseErrors decodes an errors[] array of either style: Cloud {code,title,message,error_data:{details},href}
// or On-Premise {code,title,details,href}. Elements that are not objects are skipped. ok is false when raw is
// present but not an array.
func parseErrors(raw json.RawMessage) (errs []wa.ProviderError, ok bool) {
	items, ok := array(raw)
	for _, item := range items {
		f := object(item)
		if f == nil {
			continue
		}
		e := wa.ProviderError{
			Code:    integer(f["code"]),
			Title:   str(f["title"]),
			Message: str(f["message"]),
			Details: str(f["details"]),
			Href:    str(f["href"]),
		}
		if e.Details == "" {
			e.Details = str(object(f["error_data"])["details"])
		}
		errs = append(errs, e)
	}
	return errs, ok
}

// The helpers below read one JSON value leniently. They never fail: a value of an unexpected type reads as the
// zero value, which is what lets one odd field leave the rest of a message intact.

// object decodes a JSON object one level deep; nil when raw is absent or not an object. The values are copies.
func object(raw json.RawMessage) map[string]json.RawMessage {
	if first(raw) != '{' {
		return nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil || m == nil {
		return nil
	}
	return m
}

// array decodes a JSON array one level deep. ok is false only when raw is present, not null and not an array.
func array(raw json.RawMessage) (items []json.RawMessage, ok bool) {
	switch first(raw) {
	case 0, 'n':
		return nil, true
	case '[':
		if json.Unmarshal(raw, &items) != nil {
			return nil, false
		}
		return items, true
	}
	return nil, false
}

// present returns raw unless it is absent or JSON null.
func present(raw json.RawMessage) json.RawMessage {
	if c := first(raw); c == 0 || c == 'n' {
		return nil
	}
	return raw
}

// str reads a JSON string, or a JSON number as its literal text (ids are sometimes numbers); else "".
func str(raw json.RawMessage) string {
	switch c := first(raw); {
	case c == '"':
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	case c == '-' || c >= '0' && c <= '9':
		return string(bytes.TrimSpace(raw))
	}
	return ""
}

// flag reads a JSON boolean, or the strings "true" and "false".
func flag(raw json.RawMessage) bool {
	switch first(raw) {
	case 't':
		return true
	case '"':
		b, _ := strconv.ParseBool(str(raw))
		return b
	}
	return false
}

// number reads a JSON number or a numeric string as a finite float64; ok is false otherwise.
func number(raw json.RawMessage) (float64, bool) {
	s := str(raw)
	if s == "" {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// maxUnix bounds accepted timestamps (in seconds, year 9999); larger values are nonsense and would not survive
// the float-to-int conversion.
const maxUnix = 253402300799

// integer reads a JSON number or numeric string as an int, truncating fractions; 0 when unreadable or out of
// the int32 range (provider error codes are well inside it).
func integer(raw json.RawMessage) int {
	f, ok := number(raw)
	if !ok || f > math.MaxInt32 || f < math.MinInt32 {
		return 0
	}
	return int(f)
}

// unixTime reads Unix seconds given as a JSON number or a string, as UTC; the zero time when absent,
// unreadable or beyond year 9999.
func unixTime(raw json.RawMessage) time.Time {
	f, ok := number(raw)
	if !ok || f > maxUnix || f < -maxUnix {
		return time.Time{}
	}
	return time.Unix(int64(f), 0).UTC()
}

// first returns the first non-space byte of raw, or 0 when there is none.
func first(raw json.RawMessage) byte {
	for _, c := range raw {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return c
	}
	return 0
}
