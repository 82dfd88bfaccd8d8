package simulate

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wagate/wagate/internal/wa"
	"github.com/wagate/wagate/internal/webhook"
)

var shapes = []wa.Shape{wa.ShapeCloud, wa.ShapeOnPremise}

// parseOne parses body and returns its only change, failing the test unless body is of the given shape.
func parseOne(t *testing.T, shape wa.Shape, body []byte) wa.Change {
	t.Helper()
	if !json.Valid(body) {
		t.Fatalf("body is not JSON: %s", body)
	}
	for _, c := range body {
		if c >= 0x80 {
			t.Fatalf("body has a raw non-ASCII byte (want \\u escapes): %s", body)
		}
	}
	hook, err := webhook.Parse(body)
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, body)
	}
	if hook.Shape != shape {
		t.Fatalf("Shape = %q, want %q", hook.Shape, shape)
	}
	if len(hook.Changes) != 1 {
		t.Fatalf("%d changes, want 1", len(hook.Changes))
	}
	c := hook.Changes[0]
	if c.Field != "messages" || c.Unhandled != nil {
		t.Fatalf("Field = %q, Unhandled = %s", c.Field, c.Unhandled)
	}
	return c
}

func TestMessageRoundTrip(t *testing.T) {
	t.Parallel()
	ts := time.Date(2026, 5, 4, 10, 30, 0, 0, time.UTC)
	type check func(t *testing.T, shape wa.Shape, m wa.InboundMessage)
	media := func(wantType, mime string, voice bool, caption, filename string) check {
		return func(t *testing.T, shape wa.Shape, m wa.InboundMessage) {
			if m.Media == nil {
				t.Fatal("Media is nil")
			}
			if m.Media.ID == "" || m.Media.SHA256 == "" || m.Media.MimeType != mime || m.Media.Voice != voice ||
				m.Media.Caption != caption || m.Media.Filename != filename {
				t.Errorf("Media = %+v, want mime %q voice %v caption %q filename %q", *m.Media, mime, voice, caption, filename)
			}
			if m.Text != caption {
				t.Errorf("Text = %q, want the caption %q", m.Text, caption)
			}
			if shape == wa.ShapeCloud && !regexp.MustCompile(`^[0-9]{16}$`).MatchString(m.Media.ID) {
				t.Errorf("Cloud media id %q is not numeric", m.Media.ID)
			}
			if shape == wa.ShapeOnPremise && len(m.Media.ID) != 36 {
				t.Errorf("On-Premise media id %q is not a UUID", m.Media.ID)
			}
		}
	}
	text := func(want string) check {
		return func(t *testing.T, _ wa.Shape, m wa.InboundMessage) {
			if m.Text != want {
				t.Errorf("Text = %q, want %q", m.Text, want)
			}
		}
	}
	hasContext := func(t *testing.T, m wa.InboundMessage) {
		t.Helper()
		if m.Context == nil || !strings.HasPrefix(m.Context.MessageID, "wamid.") {
			t.Errorf("Context = %+v, want a reply context", m.Context)
		}
	}
	tests := []struct {
		name     string
		opts     MessageOptions
		wantType map[wa.Shape]string // nil: opts.Type in both shapes
		check    check
	}{
		{name: "text", opts: MessageOptions{Type: "text", Text: "Hola, ¿tenéis cita mañana? 👋"},
			check: text("Hola, ¿tenéis cita mañana? 👋")},
		{name: "text default", opts: MessageOptions{}, wantType: map[wa.Shape]string{wa.ShapeCloud: "text", wa.ShapeOnPremise: "text"},
			check: text("Hello! This is a simulated message from wagate.")},
		{name: "image", opts: MessageOptions{Type: "image", Text: "my photo"}, check: media("image", "image/jpeg", false, "my photo", "")},
		{name: "image caption", opts: MessageOptions{Type: "image", Caption: "cap", Text: "ignored", MediaID: "1234", MimeType: "image/png"},
			check: func(t *testing.T, shape wa.Shape, m wa.InboundMessage) {
				if m.Media == nil || m.Media.ID != "1234" || m.Media.MimeType != "image/png" || m.Media.Caption != "cap" {
					t.Errorf("Media = %+v", m.Media)
				}
			}},
		{name: "video", opts: MessageOptions{Type: "video"}, check: media("video", "video/mp4", false, "", "")},
		{name: "audio", opts: MessageOptions{Type: "audio"}, check: media("audio", "audio/mpeg", false, "", "")},
		{name: "voice", opts: MessageOptions{Type: "voice"},
			wantType: map[wa.Shape]string{wa.ShapeCloud: "audio", wa.ShapeOnPremise: "voice"},
			check:    media("voice", "audio/ogg; codecs=opus", true, "", "")},
		{name: "document", opts: MessageOptions{Type: "document", Caption: "Invoice"},
			check: media("document", "application/pdf", false, "Invoice", "document.pdf")},
		{name: "document named", opts: MessageOptions{Type: "document", Filename: "report.xlsx",
			MimeType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
			check: media("document", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", false, "", "report.xlsx")},
		{name: "sticker", opts: MessageOptions{Type: "sticker", Text: "no caption on stickers"},
			check: func(t *testing.T, shape wa.Shape, m wa.InboundMessage) {
				if m.Media == nil || m.Media.MimeType != "image/webp" || m.Media.Caption != "" || m.Media.Animated {
					t.Errorf("Media = %+v", m.Media)
				}
			}},
		{name: "location default", opts: MessageOptions{Type: "location"},
			check: func(t *testing.T, _ wa.Shape, m wa.InboundMessage) {
				if m.Location == nil || m.Location.Latitude != 40.4168892 || m.Location.Longitude != -3.7038091 ||
					m.Text != "Puerta del Sol, Plaza de la Puerta del Sol, 28013 Madrid, Spain" {
					t.Errorf("Location = %+v, Text = %q", m.Location, m.Text)
				}
			}},
		{name: "location given", opts: MessageOptions{Type: "location", Latitude: 41.39, Longitude: 2.17},
			check: func(t *testing.T, _ wa.Shape, m wa.InboundMessage) {
				if m.Location == nil || m.Location.Latitude != 41.39 || m.Location.Longitude != 2.17 || m.Text != "41.39,2.17" {
					t.Errorf("Location = %+v, Text = %q", m.Location, m.Text)
				}
			}},
		{name: "contacts", opts: MessageOptions{Type: "contacts", Text: "Chandler Bing"}, check: text("Chandler Bing")},
		{name: "contacts default", opts: MessageOptions{Type: "contacts"}, check: text("María García")},
		{name: "button_reply", opts: MessageOptions{Type: "button_reply", Text: "Confirm"},
			wantType: map[wa.Shape]string{wa.ShapeCloud: "interactive", wa.ShapeOnPremise: "interactive"},
			check: func(t *testing.T, _ wa.Shape, m wa.InboundMessage) {
				hasContext(t, m)
				if m.Text != "Confirm" || !strings.Contains(string(m.Payload), `"button_reply":{"id":"confirm","title":"Confirm"}`) {
					t.Errorf("Text = %q, Payload = %s", m.Text, m.Payload)
				}
			}},
		{name: "interactive alias", opts: MessageOptions{Type: "interactive"},
			wantType: map[wa.Shape]string{wa.ShapeCloud: "interactive", wa.ShapeOnPremise: "interactive"},
			check:    text("Yes")},
		{name: "list_reply", opts: MessageOptions{Type: "list_reply", Text: "Tuesday 10:00", ReplyTo: "wamid.LIST"},
			wantType: map[wa.Shape]string{wa.ShapeCloud: "interactive", wa.ShapeOnPremise: "interactive"},
			check: func(t *testing.T, _ wa.Shape, m wa.InboundMessage) {
				if m.Context == nil || m.Context.MessageID != "wamid.LIST" {
					t.Errorf("Context = %+v", m.Context)
				}
				if m.Text != "Tuesday 10:00" || !strings.Contains(string(m.Payload), `"id":"tuesday_10_00"`) {
					t.Errorf("Text = %q, Payload = %s", m.Text, m.Payload)
				}
			}},
		{name: "nfm_reply", opts: MessageOptions{Type: "flow"},
			wantType: map[wa.Shape]string{wa.ShapeCloud: "interactive", wa.ShapeOnPremise: "interactive"},
			check: func(t *testing.T, _ wa.Shape, m wa.InboundMessage) {
				hasContext(t, m)
				var p struct {
					Type string `json:"type"`
					NFM  struct {
						Name         string `json:"name"`
						ResponseJSON string `json:"response_json"`
					} `json:"nfm_reply"`
				}
				if err := json.Unmarshal(m.Payload, &p); err != nil {
					t.Fatal(err)
				}
				var resp map[string]string
				if err := json.Unmarshal([]byte(p.NFM.ResponseJSON), &resp); err != nil || resp["flow_token"] == "" {
					t.Errorf("response_json = %q (%v), want a JSON string with a flow_token", p.NFM.ResponseJSON, err)
				}
				if m.Text != "Sent" || p.Type != "nfm_reply" || p.NFM.Name != "flow" {
					t.Errorf("Text = %q, Payload = %s", m.Text, m.Payload)
				}
			}},
		{name: "button", opts: MessageOptions{Type: "button", Text: "Stop promotions"},
			check: func(t *testing.T, _ wa.Shape, m wa.InboundMessage) {
				hasContext(t, m)
				if m.Text != "Stop promotions" || !strings.Contains(string(m.Payload), `"payload":"STOP_PROMOTIONS"`) {
					t.Errorf("Text = %q, Payload = %s", m.Text, m.Payload)
				}
			}},
		{name: "reaction", opts: MessageOptions{Type: "reaction", Emoji: "👍", ReactTo: "wamid.TARGET"},
			check: func(t *testing.T, _ wa.Shape, m wa.InboundMessage) {
				if m.Reaction == nil || m.Reaction.Emoji != "👍" || m.Reaction.MessageID != "wamid.TARGET" || m.Text != "👍" {
					t.Errorf("Reaction = %+v, Text = %q", m.Reaction, m.Text)
				}
				if m.Context != nil {
					t.Errorf("a reaction has no context, got %+v", m.Context)
				}
			}},
		{name: "reaction removed", opts: MessageOptions{Type: "reaction", ReplyTo: "wamid.TARGET"},
			check: func(t *testing.T, _ wa.Shape, m wa.InboundMessage) {
				if m.Reaction == nil || m.Reaction.Emoji != "" || m.Reaction.MessageID != "wamid.TARGET" {
					t.Errorf("Reaction = %+v", m.Reaction)
				}
			}},
		{name: "order", opts: MessageOptions{Type: "order"}, check: text("Order: 2 items")},
		{name: "order with note", opts: MessageOptions{Type: "order", Text: "Sin cebolla"}, check: text("Sin cebolla")},
		{name: "system", opts: MessageOptions{Type: "system", Name: "Ana"},
			check: func(t *testing.T, shape wa.Shape, m wa.InboundMessage) {
				if m.Text != "User Ana changed from 34696247355 to 34696249999" {
					t.Errorf("Text = %q", m.Text)
				}
				key := map[wa.Shape]string{wa.ShapeCloud: `"wa_id":"34696249999"`, wa.ShapeOnPremise: `"new_wa_id":"34696249999"`}[shape]
				if !strings.Contains(string(m.Payload), key) {
					t.Errorf("Payload = %s, want %s", m.Payload, key)
				}
			}},
		{name: "unsupported", opts: MessageOptions{Type: "unsupported"},
			wantType: map[wa.Shape]string{wa.ShapeCloud: "unsupported", wa.ShapeOnPremise: "unknown"},
			check: func(t *testing.T, shape wa.Shape, m wa.InboundMessage) {
				want := map[wa.Shape]int{wa.ShapeCloud: 131051, wa.ShapeOnPremise: 501}[shape]
				if len(m.Errors) != 1 || m.Errors[0].Code != want || m.Errors[0].Details == "" {
					t.Errorf("Errors = %+v, want code %d", m.Errors, want)
				}
			}},
	}
	for _, tt := range tests {
		for _, shape := range shapes {
			t.Run(tt.name+"/"+string(shape), func(t *testing.T) {
				t.Parallel()
				o := tt.opts
				o.From = "+34 696 24 73 55"
				o.Timestamp = ts
				o.PhoneNumberID = "109876543210987"
				o.DisplayPhoneNumber = "+34 600 111 222"
				body, err := Message(shape, o)
				if err != nil {
					t.Fatal(err)
				}
				c := parseOne(t, shape, body)
				if len(c.Messages) != 1 {
					t.Fatalf("%d messages, want 1", len(c.Messages))
				}
				m := c.Messages[0]
				wantType := o.Type
				if tt.wantType != nil {
					wantType = tt.wantType[shape]
				}
				if m.Type != wantType {
					t.Errorf("Type = %q, want %q", m.Type, wantType)
				}
				if m.From != "34696247355" || !m.Timestamp.Equal(ts) || !strings.HasPrefix(m.ID, "wamid.HBgL") {
					t.Errorf("From = %q, Timestamp = %v, ID = %q", m.From, m.Timestamp, m.ID)
				}
				if shape == wa.ShapeCloud {
					if c.PhoneNumberID != "109876543210987" || c.DisplayPhoneNumber != "34600111222" || c.WABAID == "" {
						t.Errorf("metadata: pnid %q display %q waba %q", c.PhoneNumberID, c.DisplayPhoneNumber, c.WABAID)
					}
				} else if c.PhoneNumberID != "" || c.DisplayPhoneNumber != "" {
					t.Errorf("On-Premise body has metadata")
				}
				if o.Type == "system" {
					if len(c.Contacts) != 0 {
						t.Errorf("system message has contacts %+v", c.Contacts)
					}
				} else {
					wantName := o.Name
					if wantName == "" {
						wantName = DefaultName
					}
					if len(c.Contacts) != 1 || c.Contacts[0].WAID != "34696247355" || c.Contacts[0].Name != wantName {
						t.Errorf("Contacts = %+v", c.Contacts)
					}
				}
				tt.check(t, shape, m)
			})
		}
	}
}

func TestMessageDefaults(t *testing.T) {
	t.Parallel()
	body, err := Message(wa.ShapeCloud, MessageOptions{From: "+34696247355", Type: "image"})
	if err != nil {
		t.Fatal(err)
	}
	c := parseOne(t, wa.ShapeCloud, body)
	if c.PhoneNumberID != "" || c.DisplayPhoneNumber != "" || strings.Contains(string(body), "metadata") {
		t.Errorf("metadata present without values: %s", body)
	}
	m := c.Messages[0]
	if m.Type != "image" || m.Media == nil || m.Media.MimeType != "image/jpeg" || len(m.Media.SHA256) != 44 {
		t.Errorf("message = %+v", m)
	}
	if time.Since(m.Timestamp) > time.Minute {
		t.Errorf("Timestamp = %v, want now", m.Timestamp)
	}
	if c.Contacts[0].Name != "Demo User" {
		t.Errorf("contact name %q", c.Contacts[0].Name)
	}
	for _, want := range []string{`"object":"whatsapp_business_account"`, `"messaging_product":"whatsapp"`, `"field":"messages"`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("body lacks %s: %s", want, body)
		}
	}

	// Distinct ids for distinct messages; a given id is kept.
	other, _ := Message(wa.ShapeCloud, MessageOptions{From: "+34696247355", Type: "image"})
	if parseOne(t, wa.ShapeCloud, other).Messages[0].ID == m.ID {
		t.Error("two messages got the same random id")
	}
	body, _ = Message(wa.ShapeOnPremise, MessageOptions{ID: "ABGGFlA5Fpa", ReplyTo: "wamid.Q"})
	m = parseOne(t, wa.ShapeOnPremise, body).Messages[0]
	if m.ID != "ABGGFlA5Fpa" || m.From != "15550001234" || m.Context == nil || m.Context.MessageID != "wamid.Q" ||
		m.Context.From != "15550001234" {
		t.Errorf("message = %+v, context %+v", m, m.Context)
	}
}

func TestMessageBSUID(t *testing.T) {
	t.Parallel()
	const bsuid = "US.13491208655302741918"
	body, err := Message(wa.ShapeCloud, MessageOptions{UserID: bsuid, Text: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	c := parseOne(t, wa.ShapeCloud, body)
	m := c.Messages[0]
	if m.From != "" || m.FromUserID != bsuid || c.Contacts[0].WAID != "" || c.Contacts[0].UserID != bsuid {
		t.Errorf("message %+v, contacts %+v", m, c.Contacts)
	}
	body, _ = Message(wa.ShapeCloud, MessageOptions{From: "34696247355", UserID: bsuid})
	if m := parseOne(t, wa.ShapeCloud, body).Messages[0]; m.From != "34696247355" || m.FromUserID != bsuid {
		t.Errorf("message %+v", m)
	}
}

func TestMessageErrors(t *testing.T) {
	t.Parallel()
	_, err := Message(wa.ShapeCloud, MessageOptions{Type: "poll"})
	if err == nil || !strings.Contains(err.Error(), `"poll"`) || !strings.Contains(err.Error(), "text, image, video") ||
		!strings.Contains(err.Error(), "unsupported") {
		t.Errorf("unknown type: %v", err)
	}
	if _, err := Message("xml", MessageOptions{}); err == nil {
		t.Error("unknown shape accepted")
	}
	if _, err := Message(wa.ShapeCloud, MessageOptions{From: "abc"}); err == nil {
		t.Error("from without digits accepted")
	}
	if _, err := Receipt(wa.ShapeCloud, ReceiptOptions{Status: "opened"}); err == nil ||
		!strings.Contains(err.Error(), "sent, delivered, read") {
		t.Errorf("unknown status: %v", err)
	}
	if _, err := Receipt("xml", ReceiptOptions{}); err == nil {
		t.Error("unknown shape accepted")
	}
	if got := Types(); len(got) != 17 || got[0] != "text" {
		t.Errorf("Types() = %v", got)
	}
}

func TestReceiptRoundTrip(t *testing.T) {
	t.Parallel()
	ts := time.Date(2026, 5, 4, 10, 31, 0, 0, time.UTC)
	for _, shape := range shapes {
		for _, status := range Statuses() {
			t.Run(status+"/"+string(shape), func(t *testing.T) {
				t.Parallel()
				body, err := Receipt(shape, ReceiptOptions{MessageID: "wamid.OUT", Status: status, RecipientID: "+34696247355",
					Timestamp: ts, PhoneNumberID: "42", DisplayPhoneNumber: "34600111222"})
				if err != nil {
					t.Fatal(err)
				}
				c := parseOne(t, shape, body)
				if len(c.Statuses) != 1 || len(c.Messages) != 0 {
					t.Fatalf("statuses %d messages %d", len(c.Statuses), len(c.Messages))
				}
				r := c.Statuses[0]
				if r.MessageID != "wamid.OUT" || string(r.Status) != status || r.RecipientID != "34696247355" || !r.Timestamp.Equal(ts) {
					t.Errorf("receipt = %+v", r)
				}
				if _, err := wa.ParseStatus(string(r.Status)); err != nil {
					t.Error(err)
				}
				if (shape == wa.ShapeCloud) != (c.PhoneNumberID == "42") {
					t.Errorf("PhoneNumberID = %q", c.PhoneNumberID)
				}
				hasPricing := r.Pricing != nil && r.Conversation != nil
				if hasPricing != (status == "sent") {
					t.Errorf("pricing %s conversation %s", r.Pricing, r.Conversation)
				}
				if status == "sent" {
					want := map[wa.Shape]string{wa.ShapeCloud: `"pricing_model":"PMP"`, wa.ShapeOnPremise: `"pricing_model":"CBP"`}[shape]
					if !strings.Contains(string(r.Pricing), want) || !strings.Contains(string(r.Pricing), `"category":"utility"`) ||
						!strings.Contains(string(r.Conversation), "expiration_timestamp") {
						t.Errorf("pricing %s conversation %s", r.Pricing, r.Conversation)
					}
				}
				if status == "failed" {
					if len(r.Errors) != 1 || r.Errors[0].Code != 131026 || r.Errors[0].Title != "Message undeliverable" {
						t.Errorf("Errors = %+v", r.Errors)
					}
				} else if len(r.Errors) != 0 {
					t.Errorf("Errors = %+v", r.Errors)
				}
			})
		}
	}
}

func TestReceiptOptions(t *testing.T) {
	t.Parallel()
	body, err := Receipt(wa.ShapeCloud, ReceiptOptions{MessageID: "wamid.X", Status: "failed", ErrorCode: 131047})
	if err != nil {
		t.Fatal(err)
	}
	r := parseOne(t, wa.ShapeCloud, body).Statuses[0]
	if len(r.Errors) != 1 || r.Errors[0].Code != 131047 || r.Errors[0].Title != "Re-engagement message" ||
		r.Errors[0].Message != "Re-engagement message" || r.Errors[0].Href == "" {
		t.Errorf("Errors = %+v", r.Errors)
	}
	body, _ = Receipt(wa.ShapeOnPremise, ReceiptOptions{Status: "warning", ErrorCode: 1025, ErrorTitle: "Catalog item unavailable",
		ErrorDetail: "gone"})
	r = parseOne(t, wa.ShapeOnPremise, body).Statuses[0]
	if r.Status != wa.StatusWarning || len(r.Errors) != 1 || r.Errors[0].Code != 1025 || r.Errors[0].Details != "gone" ||
		r.RecipientID != "15550001234" || !strings.HasPrefix(r.MessageID, "wamid.") {
		t.Errorf("receipt = %+v", r)
	}
	body, _ = Receipt(wa.ShapeCloud, ReceiptOptions{Status: "READ", Pricing: true})
	r = parseOne(t, wa.ShapeCloud, body).Statuses[0]
	if r.Status != wa.StatusRead || r.Pricing == nil || strings.Contains(string(r.Conversation), "expiration") {
		t.Errorf("receipt = %+v", r)
	}
	body, _ = Receipt(wa.ShapeCloud, ReceiptOptions{})
	if r := parseOne(t, wa.ShapeCloud, body).Statuses[0]; r.Status != wa.StatusDelivered || time.Since(r.Timestamp) > time.Minute {
		t.Errorf("default receipt = %+v", r)
	}
}

func TestNewWAMID(t *testing.T) {
	t.Parallel()
	id := NewWAMID("+34696247355")
	if !regexp.MustCompile(`^wamid\.HBgLMzQ2OTYyNDczNTUVAgASGBQzQ[A-Za-z0-9+/]{26}=*$`).MatchString(id) {
		t.Errorf("NewWAMID = %q", id)
	}
	if NewWAMID("1") == NewWAMID("1") {
		t.Error("NewWAMID is not random")
	}
}

func TestPost(t *testing.T) {
	t.Parallel()
	type seen struct {
		header http.Header
		query  string
		body   []byte
	}
	got := make(chan seen, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.Header.Clone(), r.URL.RawQuery, b}
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/fail" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"ok":false}`)
			return
		}
		_, _ = io.WriteString(w, `{"ok":true,"received":1,"stored":1}`)
	}))
	t.Cleanup(srv.Close)
	ctx := context.Background()
	body, err := Message(wa.ShapeCloud, MessageOptions{Text: "ñandú 🦤"})
	if err != nil {
		t.Fatal(err)
	}

	status, resp, err := Post(ctx, srv.Client(), Target{URL: srv.URL + "/webhooks/whatsapp/default", Secret: "s3cret",
		AppSecret: "app-secret"}, body)
	if err != nil || status != 200 || string(resp) != `{"ok":true,"received":1,"stored":1}` {
		t.Fatalf("Post = %d %s %v", status, resp, err)
	}
	s := <-got
	if s.header.Get("Content-Type") != "application/json" || s.header.Get("X-Wagate-Webhook-Secret") != "s3cret" {
		t.Errorf("headers %v", s.header)
	}
	if err := webhook.VerifySignature(s.body, s.header.Get(webhook.SignatureHeader), []byte("app-secret")); err != nil {
		t.Errorf("signature: %v", err)
	}
	if string(s.body) != string(body) {
		t.Error("body changed in transit")
	}

	// Custom header, no secret: no secret header and no signature; a non-200 answer is not an error.
	status, resp, err = Post(ctx, nil, Target{URL: srv.URL + "/fail", Header: "X-Mandato-Webhook-Secret"}, body)
	if err != nil || status != 401 || string(resp) != `{"ok":false}` {
		t.Fatalf("Post = %d %s %v", status, resp, err)
	}
	s = <-got
	if s.header.Get("X-Mandato-Webhook-Secret") != "" || s.header.Get(webhook.SignatureHeader) != "" ||
		s.header.Get("X-Wagate-Webhook-Secret") != "" {
		t.Errorf("headers %v", s.header)
	}
	_, _, _ = Post(ctx, nil, Target{URL: srv.URL + "/x", Secret: "k", Header: "X-Mandato-Webhook-Secret"}, body)
	if s = <-got; s.header.Get("X-Mandato-Webhook-Secret") != "k" {
		t.Errorf("headers %v", s.header)
	}

	// Errors never repeat a token in the URL.
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	_, _, err = Post(ctx, nil, Target{URL: deadURL + "/webhooks/whatsapp/default?token=tok-SECRET"}, body)
	if err == nil || strings.Contains(err.Error(), "tok-SECRET") || !strings.Contains(err.Error(), "/webhooks/whatsapp/default") {
		t.Errorf("Post to a closed server: %v", err)
	}
	for _, bad := range []string{"", "localhost:8080/x", "ftp://h/x?token=tok-SECRET", "http://%zz?token=tok-SECRET"} {
		_, _, err := Post(ctx, nil, Target{URL: bad}, body)
		if err == nil || strings.Contains(err.Error(), "tok-SECRET") {
			t.Errorf("Post(%q): %v", bad, err)
		}
	}
}
