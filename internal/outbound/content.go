package outbound

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// mimeTypes are the MIME types WhatsApp accepts per media kind (docs/provider-api.md §5). Meta's SDK writes
// video/3gp where the IANA name is video/3gpp, so both are accepted.
var mimeTypes = map[string][]string{
	"audio": {"audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"},
	"document": {
		"text/plain", "application/pdf", "application/msword",
		"application/vnd.openxmlformats-officedocument.wordprocessingml.document",
		"application/vnd.ms-excel", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
		"application/vnd.ms-powerpoint", "application/vnd.openxmlformats-officedocument.presentationml.presentation",
	},
	"image":   {"image/jpeg", "image/png"},
	"sticker": {"image/webp"},
	"video":   {"video/mp4", "video/3gp", "video/3gpp"},
}

// decimal is a coordinate written as a JSON string.
var decimal = regexp.MustCompile(`^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$`)

func (c *checker) text(raw json.RawMessage) {
	o, ok := c.object("text", raw)
	if !ok {
		return
	}
	c.str(o, "body", true, maxText)
	c.boolean(o, "preview_url")
}

// mediaMessage checks an image, video, audio, document or sticker message.
func (c *checker) mediaMessage(kind string, raw json.RawMessage) {
	o, ok := c.object(kind, raw)
	if !ok {
		return
	}
	c.mediaSource(o, true)
	if o.has("caption") {
		switch kind {
		case "image", "video", "document":
			c.str(o, "caption", false, maxCaption)
		default:
			c.add(o.at("caption"), "%s messages take no caption; send the text in its own text message", kind)
		}
	}
	if o.has("filename") {
		if kind != "document" {
			c.add(o.at("filename"), "only documents take a filename")
		} else if s, ok := c.str(o, "filename", false, maxFilename); ok && strings.ContainsFunc(s, unicode.IsControl) {
			c.add(o.at("filename"), "must not contain control characters")
		}
	}
	if s, ok := c.str(o, "mime_type", false, 0); ok {
		c.mimeType(o.at("mime_type"), kind, s)
	}
}

// mediaSource checks that the media object o names its file by exactly one of id (the provider's media id)
// or link (a URL the provider fetches), or, when withFile, file (a file uploaded to wagate).
func (c *checker) mediaSource(o obj, withFile bool) {
	names := []string{"id", "link"}
	choices := "id or link"
	if withFile {
		names = append(names, "file")
		choices = "id, link or file"
	}
	var given []string
	for _, k := range names {
		if o.has(k) {
			given = append(given, k)
		}
	}
	switch len(given) {
	case 0:
		if o.has("file") {
			c.add(o.at("file"), "is not accepted here (only media messages take a wagate file); give %s", choices)
		} else {
			c.add(o.path, "needs one of %s", choices)
		}
		return
	case 1:
	default:
		c.add(o.path, "has %s; give exactly one of %s", both(given), choices)
		return
	}
	switch given[0] {
	case "id":
		c.opaqueIDField(o, "id", true, maxMediaID)
	case "link":
		if s, ok := c.str(o, "link", true, 0); ok {
			c.link(o.at("link"), s, true)
		}
	case "file":
		if s, ok := c.str(o, "file", true, 0); ok && (len(s) > maxFileID || !fileID.MatchString(s)) {
			c.add(o.at("file"), "%s is not a wagate media id: up to %d letters, digits, '.', '-' and '_'", quote(s), maxFileID)
		}
	}
}

// both writes "both id and link" or "id, link and file".
func both(names []string) string {
	if len(names) == 2 {
		return "both " + names[0] + " and " + names[1]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

func (c *checker) mimeType(field, kind, s string) {
	allowed := mimeTypes[kind]
	mt, params, err := mime.ParseMediaType(s)
	if err != nil {
		c.add(field, "%s is not a MIME type like %s", quote(s), allowed[0])
		return
	}
	if !slices.Contains(allowed, mt) {
		c.add(field, "%s is not accepted for %s messages; use %s", quote(mt), kind, strings.Join(allowed, ", "))
		return
	}
	if codecs, ok := params["codecs"]; ok && mt == "audio/ogg" && !strings.EqualFold(codecs, "opus") {
		c.add(field, "audio/ogg must use the Opus codec (codecs=opus), not %s", quote(codecs))
	}
}

// link checks a URL. fetched URLs are downloaded by the provider, so on top of being absolute http(s) URLs
// they must not name a host that is obviously internal (see linkProblem).
func (c *checker) link(field, s string, fetched bool) {
	if msg := linkProblem(s, fetched); msg != "" {
		c.add(field, "%s", msg)
	}
}

// internalPrefixes are address ranges, besides those netip classifies (loopback, private, link-local,
// multicast, unspecified), that no public file lives on.
var internalPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),     // "this network"
	netip.MustParsePrefix("100.64.0.0/10"), // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),  // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"), // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),   // reserved, and broadcast
	netip.MustParsePrefix("fec0::/10"),     // deprecated site-local
}

func internalAddr(a netip.Addr) bool {
	if a.Zone() != "" {
		return true
	}
	a = a.Unmap()
	if a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() {
		return true
	}
	for _, p := range internalPrefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// linkProblem returns what is wrong with the URL s, or "". Every URL must be an absolute http or https URL
// with a host and without user name or password. A fetched URL's host must moreover not be localhost, a name
// without a dot, or an IP literal in a loopback, private, link-local, carrier-grade NAT, multicast or
// reserved range; numeric hosts must be dotted-decimal IPv4 (so 2130706433 or 0x7f.1 cannot hide 127.0.0.1).
// This refuses obviously internal URLs only: a public name that resolves to an internal address passes.
func linkProblem(s string, fetched bool) string {
	if n := utf8.RuneCountInString(s); n > maxLink {
		return fmt.Sprintf("is %s characters; the limit is %s", group(n), group(maxLink))
	}
	if strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return "must not contain spaces or control characters; percent-encode them (a space is %20)"
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Opaque != "" || u.Host == "" {
		return quote(s) + " is not an absolute https:// or http:// URL"
	}
	if u.User != nil {
		return "must not contain a user name or password"
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if host == "" {
		return quote(s) + " has no host"
	}
	if !fetched {
		return ""
	}
	const public = "; the provider fetches the file from the internet, so give a public URL"
	if a, err := netip.ParseAddr(host); err == nil {
		if internalAddr(a) {
			return "points to the internal address " + host + public
		}
		return ""
	}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return "points to localhost" + public
	}
	tld := host[strings.LastIndexByte(host, '.')+1:]
	if tld == "" || strings.HasPrefix(tld, "0x") || strings.Trim(tld, "0123456789") == "" {
		return "has the host " + quote(host) + ", which is neither a domain name nor an IP address written as four decimal numbers"
	}
	if !strings.Contains(host, ".") {
		return "has the host " + quote(host) + ", a name without a domain" + public
	}
	return ""
}

// location checks a location object (a location message or a template location parameter).
func (c *checker) location(o obj) {
	c.coordinate(o, "latitude", 90)
	c.coordinate(o, "longitude", 180)
	c.str(o, "name", false, 0)
	c.str(o, "address", false, 0)
}

// coordinate checks o[key], a JSON number (or a string holding a decimal number, as some SDKs send) within
// ±limit.
func (c *checker) coordinate(o obj, key string, limit float64) {
	if !o.has(key) {
		c.add(o.at(key), "is required")
		return
	}
	raw := bytes.TrimSpace(o.m[key])
	var text string
	if s, ok := asString(raw); ok {
		text = strings.TrimSpace(s)
		if !decimal.MatchString(text) {
			c.add(o.at(key), "must be a number, like 52.52, not %s", quote(s))
			return
		}
	} else if raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9' {
		text = string(raw)
	} else {
		c.add(o.at(key), "must be a number, like 52.52, not %s", kind(raw))
		return
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || f < -limit || f > limit {
		c.add(o.at(key), "is %s; it must be between -%g and %g", shorten(text), limit, limit)
	}
}

// contacts checks a contacts message: a list of contact cards, each with name.formatted_name.
func (c *checker) contacts(raw json.RawMessage) {
	wrapper := obj{m: map[string]json.RawMessage{"contacts": raw}}
	items, _ := c.list(wrapper, "contacts", true, true, maxItems, "contact")
	for i, it := range items {
		o, ok := c.object(index("contacts", i), it)
		if !ok {
			continue
		}
		if name, ok := c.child(o, "name", true); ok {
			c.str(name, "formatted_name", true, 0)
			for _, k := range []string{"first_name", "last_name", "middle_name", "suffix", "prefix"} {
				c.str(name, k, false, 0)
			}
		}
		c.records(o, "phones", "phone", "phone", "type", "wa_id")
		c.records(o, "emails", "email", "email", "type")
		c.records(o, "urls", "URL", "url", "type")
		c.records(o, "addresses", "address", "", "street", "city", "state", "zip", "country", "country_code", "type")
		if org, ok := c.child(o, "org", false); ok {
			for _, k := range []string{"company", "department", "title"} {
				c.str(org, k, false, 0)
			}
		}
		if s, ok := c.str(o, "birthday", false, 0); ok {
			if _, err := time.Parse(time.DateOnly, s); err != nil {
				c.add(o.at("birthday"), "%s is not a date written YYYY-MM-DD, like 1990-03-21", quote(s))
			}
		}
	}
}

// records checks o[key], an optional list of objects whose field required (unless "") is a non-blank
// string and whose other known fields are strings.
func (c *checker) records(o obj, key, noun, required string, optional ...string) {
	items, _ := c.list(o, key, false, false, maxItems, noun)
	for i, it := range items {
		r, ok := c.object(index(o.at(key), i), it)
		if !ok {
			continue
		}
		if required != "" {
			c.str(r, required, true, 0)
		}
		for _, k := range optional {
			if k != required {
				c.str(r, k, false, 0)
			}
		}
	}
}

// reaction checks a reaction: the message reacted to and one emoji, or "" to remove the reaction.
func (c *checker) reaction(raw json.RawMessage) {
	o, ok := c.object("reaction", raw)
	if !ok {
		return
	}
	c.opaqueIDField(o, "message_id", true, maxMessageID)
	if !o.has("emoji") {
		c.add(o.at("emoji"), `is required: give one emoji, or "" to remove the reaction`)
		return
	}
	if s, ok := c.str(o, "emoji", false, 0); ok && s != "" && !isEmoji(s) {
		c.add(o.at("emoji"), `%s is not one emoji; give one, like "👍", or "" to remove the reaction`, quote(s))
	}
}

// isEmoji approximates "s is one emoji": at most maxEmojiRunes code points, no letters, digits, spaces or
// control characters, and no ASCII except the base of a keycap sequence (1️⃣, #️⃣).
func isEmoji(s string) bool {
	rs := []rune(s)
	if len(rs) > maxEmojiRunes {
		return false
	}
	for i, r := range rs {
		switch {
		case r < utf8.RuneSelf:
			if (r >= '0' && r <= '9' || r == '#' || r == '*') && keycapFollows(rs[i+1:]) {
				continue
			}
			return false
		case r == utf8.RuneError, unicode.IsSpace(r), unicode.IsControl(r), unicode.IsDigit(r):
			return false
		case unicode.IsLetter(r) && r != 'ℹ' && r != 'Ⓜ':
			return false
		}
	}
	return true
}

// keycapFollows reports whether rest starts with the keycap mark, optionally after VS16.
func keycapFollows(rest []rune) bool {
	if len(rest) > 0 && rest[0] == '\uFE0F' {
		rest = rest[1:]
	}
	return len(rest) > 0 && rest[0] == '\u20E3'
}

// read checks the Content of a mark-as-read request.
func (c *checker) read(raw json.RawMessage) {
	o, ok := c.object("read", raw)
	if !ok {
		return
	}
	c.opaqueIDField(o, "message_id", true, maxMessageID)
	if ti, ok := c.child(o, "typing_indicator", false); ok {
		c.enum(ti, "type", true, false, "text")
	}
}
