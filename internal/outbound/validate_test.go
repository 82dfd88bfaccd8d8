package outbound

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/wagate/wagate/internal/wa"
)

func TestValidate_BuiltMessages(t *testing.T) {
	t.Parallel()
	good := []wa.Outbound{
		{To: "+34696247355", Type: "text", Content: json.RawMessage(`{"body":"Hola"}`)},
		{To: "+34696247355", Type: "text", Content: json.RawMessage(` {"body":"Hola"} `), ReplyTo: "wamid.X"},
		{To: "+14155552671", Type: "image", Content: json.RawMessage(`{"file":"abc123"}`)},
		{To: "+34696247355", Type: "contacts", Content: json.RawMessage(`[{"name":{"formatted_name":"Ana"}}]`)},
		{Type: "read", Content: json.RawMessage(`{"message_id":"wamid.X"}`)},
		{To: "+34696247355", Type: "read", Content: json.RawMessage(`{"message_id":"wamid.X"}`)},
	}
	for _, m := range good {
		if err := Validate(m); err != nil {
			t.Errorf("%+v (%s): %v", m, m.Content, err)
		}
	}
}

// TestValidate_Rules has one case per rule Validate adds to Decode's: a bad message and the field named.
func TestValidate_Rules(t *testing.T) {
	t.Parallel()
	text := json.RawMessage(`{"body":"Hola"}`)
	cases := []struct {
		rule  string
		m     wa.Outbound
		field string
	}{
		{"to missing", wa.Outbound{Type: "text", Content: text}, "to"},
		{"to not E.164", wa.Outbound{To: "34696247355", Type: "text", Content: text}, "to"},
		{"to formatted", wa.Outbound{To: "+34 696 24 73 55", Type: "text", Content: text}, "to"},
		{"to invalid", wa.Outbound{To: "+99912345678", Type: "text", Content: text}, "to"},
		{"type missing", wa.Outbound{To: "+34696247355", Content: text}, "type"},
		{"type unknown", wa.Outbound{To: "+34696247355", Type: "order", Content: text}, "type"},
		{"content missing", wa.Outbound{To: "+34696247355", Type: "text"}, "text"},
		{"content not JSON", wa.Outbound{To: "+34696247355", Type: "text", Content: json.RawMessage(`{"body":`)}, "text"},
		{"content not an object", wa.Outbound{To: "+34696247355", Type: "text", Content: json.RawMessage(`"Hola"`)}, "text"},
		{"content duplicate key", wa.Outbound{To: "+34696247355", Type: "text", Content: json.RawMessage(`{"body":"a","body":"b"}`)}, "text.body"},
		{"content rule", wa.Outbound{To: "+34696247355", Type: "image", Content: json.RawMessage(`{}`)}, "image"},
		{"reply_to with space", wa.Outbound{To: "+34696247355", Type: "text", Content: text, ReplyTo: "wamid X"}, "reply_to"},
		{"read with reply_to", wa.Outbound{Type: "read", Content: json.RawMessage(`{"message_id":"wamid.X"}`), ReplyTo: "wamid.Y"}, "reply_to"},
		{"read with bad to", wa.Outbound{To: "12", Type: "read", Content: json.RawMessage(`{"message_id":"wamid.X"}`)}, "to"},
		{"read without message_id", wa.Outbound{Type: "read", Content: json.RawMessage(`{}`)}, "read.message_id"},
		{"read typing_indicator", wa.Outbound{Type: "read", Content: json.RawMessage(`{"message_id":"wamid.X","typing_indicator":{"type":"video"}}`)}, "read.typing_indicator.type"},
	}
	for _, tc := range cases {
		t.Run(tc.rule, func(t *testing.T) {
			t.Parallel()
			err := Validate(tc.m)
			if err == nil {
				t.Fatalf("no error for %+v", tc.m)
			}
			if got := fields(t, err); !slices.Contains(got, tc.field) {
				t.Errorf("fields %q; want %q\nerror: %v", got, tc.field, err)
			}
		})
	}
}

func TestValidate_NilErrorIsUntyped(t *testing.T) {
	t.Parallel()
	err := Validate(wa.Outbound{To: "+34696247355", Type: "text", Content: json.RawMessage(`{"body":"x"}`)})
	if err != nil {
		t.Fatalf("err = %#v; want an untyped nil", err)
	}
}
