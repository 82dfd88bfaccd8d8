package web

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wagate/wagate/internal/media"
	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/wa"
)

// inboxMessagesView is one page of a thread's messages.
type inboxMessagesView struct {
	ConvID string
	// Bubbles are newest first: the thread stacks them from the bottom up.
	Bubbles []inboxBubble
	// Earlier is the cursor of the page before this one ("" at the start of the conversation).
	Earlier string
}

// inboxBubble is one message as a thread shows it. Every text in it is the contact's or an application's, and
// reaches the page through html/template's escaping only.
type inboxBubble struct {
	ID, ConvID, Type string
	Out              bool
	Text             string
	At               time.Time
	// Tick is the outbound status as ticks show it: queued, sent, delivered, read or failed.
	Tick string
	// Fail is a failed message's reason; Retry offers to send it again, Retried says it was.
	Fail           string
	Retry, Retried bool
	Template       bool
	Forwarded      bool
	Media          *inboxMedia
	Location       *inboxLocation
	Cards          []inboxCard
	Buttons        []string
	Quote          *inboxQuote
	Reactions      []inboxReaction
	// Reaction is a reaction whose message is not on this page, shown as a line of its own.
	Reaction *inboxReaction
	// Unsupported is a message type the thread cannot show.
	Unsupported bool
	hidden      bool
}

// inboxMedia is a message's file. State is pending, ready, failed or deleted for files wagate fetches or
// keeps; link for files sent by URL; remote for files sent by a provider's media id, which wagate never had.
type inboxMedia struct {
	ConvID, MsgID string
	Kind, State   string
	URL, Link     string
	Filename      string
}

// Image, Video, Audio and Document say how the bubble shows the file.
func (m *inboxMedia) Image() bool    { return m.Kind == "image" || m.Kind == "sticker" }
func (m *inboxMedia) Video() bool    { return m.Kind == "video" }
func (m *inboxMedia) Audio() bool    { return m.Kind == "audio" || m.Kind == "voice" }
func (m *inboxMedia) Document() bool { return !m.Image() && !m.Video() && !m.Audio() }

type inboxLocation struct {
	Name, Address, Coords, Map string
}

type inboxCard struct {
	Name   string
	Phones []string
}

// inboxQuote is the preview of a quoted message.
type inboxQuote struct {
	Text    string
	Out     bool
	Missing bool
}

type inboxReaction struct {
	Emoji string
	Out   bool
	To    *inboxQuote
}

// inboxKnownTypes are the message types a thread shows as themselves.
var inboxKnownTypes = map[string]bool{"text": true, "image": true, "video": true, "audio": true, "voice": true, "document": true,
	"sticker": true, "location": true, "contacts": true, "reaction": true, "interactive": true, "button": true,
	"template": true, "order": true, "system": true}

// inboxLoadMessages reads one page of a conversation's messages, with the messages they quote and react to, in at most
// two queries.
func (h *Handler) inboxLoadMessages(ctx context.Context, c store.Conversation, before string) (inboxMessagesView, error) {
	p, err := h.st.MessageList(ctx, store.MessageFilter{ConversationID: c.ID, Cursor: before, Limit: inboxPageSize})
	if errors.Is(err, store.ErrBadCursor) {
		return inboxMessagesView{}, userError(http.StatusBadRequest, "inbox.bad_cursor")
	}
	if err != nil {
		return inboxMessagesView{}, err
	}
	v := inboxMessagesView{ConvID: c.ID, Earlier: p.Next}
	byPID := map[string]store.Message{}
	retried := map[string]bool{}
	for _, m := range p.Items {
		if m.ProviderID != "" {
			byPID[m.ProviderID] = m
		}
		if m.RetryOf != "" {
			retried[m.RetryOf] = true
		}
	}
	var missing []string
	for _, m := range p.Items {
		for _, pid := range []string{m.ReplyTo, inboxReactionTarget(m)} {
			if _, ok := byPID[pid]; pid != "" && !ok {
				missing = append(missing, pid)
			}
		}
	}
	others, err := h.st.MessagesByProviderID(ctx, c.Channel, missing)
	if err != nil {
		return inboxMessagesView{}, err
	}
	lookup := func(pid string) *inboxQuote {
		if m, ok := byPID[pid]; ok {
			q := inboxQuoteOf(m)
			return &q
		}
		if m, ok := others[pid]; ok {
			q := inboxQuoteOf(m)
			return &q
		}
		return &inboxQuote{Missing: true}
	}
	v.Bubbles = make([]inboxBubble, len(p.Items))
	index := map[string]int{} // provider id -> bubble
	for i, m := range p.Items {
		b := inboxBubbleOf(m)
		b.Retried = retried[m.ID]
		b.Retry = b.Tick == "failed" && !b.Retried
		if m.ReplyTo != "" && m.Type != "reaction" {
			b.Quote = lookup(m.ReplyTo)
		}
		v.Bubbles[i] = b
		if m.ProviderID != "" {
			index[m.ProviderID] = i
		}
	}
	// Reactions, oldest first so that the latest of each side wins, go on the message they react to.
	reactions := map[int]map[bool]string{}
	for i := len(p.Items) - 1; i >= 0; i-- {
		m := p.Items[i]
		target := inboxReactionTarget(m)
		if m.Type != "reaction" || target == "" {
			continue
		}
		emoji := inboxPayloadString(m.Payload, "emoji")
		if j, ok := index[target]; ok {
			if reactions[j] == nil {
				reactions[j] = map[bool]string{}
			}
			reactions[j][m.Direction == store.DirectionOut] = emoji
			v.Bubbles[i].hidden = true
			continue
		}
		v.Bubbles[i].Reaction = &inboxReaction{Emoji: emoji, Out: m.Direction == store.DirectionOut, To: lookup(target)}
	}
	for j, by := range reactions {
		for _, out := range []bool{false, true} {
			if e := by[out]; e != "" {
				v.Bubbles[j].Reactions = append(v.Bubbles[j].Reactions, inboxReaction{Emoji: e, Out: out})
			}
		}
	}
	shown := v.Bubbles[:0]
	for _, b := range v.Bubbles {
		if !b.hidden {
			shown = append(shown, b)
		}
	}
	v.Bubbles = shown
	return v, nil
}

func inboxReactionTarget(m store.Message) string {
	if m.Type != "reaction" {
		return ""
	}
	return inboxPayloadString(m.Payload, "message_id")
}

// inboxBubbleOf builds a message's bubble from the message alone: its content by type, its ticks and its media.
func inboxBubbleOf(m store.Message) inboxBubble {
	b := inboxBubble{ID: m.ID, ConvID: m.ConversationID, Type: m.Type, Out: m.Direction == store.DirectionOut, Text: m.Text,
		At: m.ProviderTime, Forwarded: m.Forwarded}
	if b.At.IsZero() {
		b.At = m.CreatedAt
	}
	if b.Out {
		b.Tick = inboxTickOf(m.Status)
		if b.Tick == "failed" {
			b.Fail = inboxFailReason(m)
		}
	}
	var obj map[string]json.RawMessage
	_ = json.Unmarshal(m.Payload, &obj)
	str := func(k string) string {
		var s string
		_ = json.Unmarshal(obj[k], &s)
		return s
	}
	switch m.Type {
	case "image", "video", "audio", "voice", "document", "sticker":
		md := &inboxMedia{ConvID: m.ConversationID, MsgID: m.ID, Kind: m.Type,
			Filename: media.SafeFilename(cmp.Or(m.MediaFilename, str("filename")))}
		b.Text = str("caption")
		switch {
		case !b.Out:
			md.State = m.MediaStatus
		case str("file") != "":
			md.State = store.MediaReady
		case str("link") != "":
			md.State, md.Link = "link", inboxSafeLink(str("link"))
		default:
			md.State = "remote"
		}
		if md.State == store.MediaReady {
			md.URL = "/inbox/" + url.PathEscape(m.ConversationID) + "/file/" + url.PathEscape(m.ID)
		}
		b.Media = md
	case "location":
		var l struct {
			Latitude  float64 `json:"latitude"`
			Longitude float64 `json:"longitude"`
			Name      string  `json:"name"`
			Address   string  `json:"address"`
		}
		_ = json.Unmarshal(m.Payload, &l)
		lat, lon := strconv.FormatFloat(l.Latitude, 'f', -1, 64), strconv.FormatFloat(l.Longitude, 'f', -1, 64)
		b.Location = &inboxLocation{Name: l.Name, Address: l.Address, Coords: lat + ", " + lon,
			Map: "https://www.openstreetmap.org/?mlat=" + lat + "&mlon=" + lon + "#map=16/" + lat + "/" + lon}
		b.Text = ""
	case "contacts":
		var cards []struct {
			Name struct {
				Formatted string `json:"formatted_name"`
				First     string `json:"first_name"`
			} `json:"name"`
			Phones []struct {
				Phone string `json:"phone"`
			} `json:"phones"`
		}
		if json.Unmarshal(m.Payload, &cards) != nil {
			var wrapped struct {
				Contacts json.RawMessage `json:"contacts"`
			}
			if json.Unmarshal(m.Payload, &wrapped) == nil {
				_ = json.Unmarshal(wrapped.Contacts, &cards)
			}
		}
		for _, c := range cards {
			cv := inboxCard{Name: cmp.Or(c.Name.Formatted, c.Name.First)}
			for _, p := range c.Phones {
				cv.Phones = append(cv.Phones, p.Phone)
			}
			b.Cards = append(b.Cards, cv)
		}
		if len(b.Cards) > 0 {
			b.Text = ""
		}
	case "interactive":
		if b.Out {
			var in struct {
				Action struct {
					Button  string `json:"button"`
					Buttons []struct {
						Reply struct {
							Title string `json:"title"`
						} `json:"reply"`
					} `json:"buttons"`
					Parameters struct {
						DisplayText string `json:"display_text"`
					} `json:"parameters"`
				} `json:"action"`
			}
			_ = json.Unmarshal(m.Payload, &in)
			for _, bt := range in.Action.Buttons {
				b.Buttons = append(b.Buttons, bt.Reply.Title)
			}
			for _, s := range []string{in.Action.Button, in.Action.Parameters.DisplayText} {
				if s != "" {
					b.Buttons = append(b.Buttons, s)
				}
			}
		}
	case "template":
		b.Template = true
	}
	if !inboxKnownTypes[m.Type] {
		b.Unsupported = true
	}
	return b
}

func inboxTickOf(s wa.Status) string {
	switch s {
	case wa.StatusQueued:
		return "queued"
	case wa.StatusDelivered:
		return "delivered"
	case wa.StatusRead, wa.StatusPlayed:
		return "read"
	case wa.StatusFailed:
		return "failed"
	}
	return "sent"
}

// inboxFailReason says why a message failed: the provider's title, detail and code.
func inboxFailReason(m store.Message) string {
	var parts []string
	if m.ErrorTitle != "" {
		parts = append(parts, m.ErrorTitle)
	}
	if m.ErrorDetail != "" && m.ErrorDetail != m.ErrorTitle {
		parts = append(parts, m.ErrorDetail)
	}
	s := strings.Join(parts, ": ")
	if m.ErrorCode != 0 {
		s = strings.TrimSpace(s + " (" + strconv.Itoa(m.ErrorCode) + ")")
	}
	return s
}

// inboxQuoteOf is the preview of m shown above a message that quotes it.
func inboxQuoteOf(m store.Message) inboxQuote {
	t := m.Text
	if t == "" {
		t = media.SafeFilename(m.MediaFilename)
	}
	if t == "" {
		t = "[" + m.Type + "]"
	}
	if r := []rune(t); len(r) > 140 {
		t = string(r[:140]) + "…"
	}
	return inboxQuote{Text: t, Out: m.Direction == store.DirectionOut}
}

// inboxStoredFile is the wagate file id an outbound media message sent, or "".
func inboxStoredFile(m store.Message) string {
	return inboxPayloadString(m.Payload, "file")
}

func inboxPayloadString(p json.RawMessage, key string) string {
	var obj map[string]json.RawMessage
	if json.Unmarshal(p, &obj) != nil {
		return ""
	}
	var s string
	_ = json.Unmarshal(obj[key], &s)
	return s
}

// inboxSafeLink returns an http(s) URL as it is, and "" for anything else (a javascript: link never reaches a page).
func inboxSafeLink(s string) string {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return u.String()
}
