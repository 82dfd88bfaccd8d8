package webhook

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/wagate/wagate/internal/wa"
)

// pywaFixtures is the pywa project's webhook corpus (MIT, see testdata/pywa/LICENSE): each file maps case names
// to whole webhook bodies.
const pywaFixtures = "testdata/pywa"

// sourceChange is one change (Cloud) or a whole On-Premise body as the source JSON has it, for checking the
// parser's output against.
type sourceChange struct {
	Field    string            `json:"field"`
	Messages []json.RawMessage `json:"messages"`
	Statuses []json.RawMessage `json:"statuses"`
	Value    json.RawMessage   `json:"value"`
}

// sourceChanges lists the changes of a well-formed body in order, with Messages and Statuses taken from the
// change value (Cloud) or the root (On-Premise).
func sourceChanges(t *testing.T, body []byte) []sourceChange {
	t.Helper()
	var root struct {
		Entry *[]struct {
			Changes []sourceChange `json:"changes"`
		} `json:"entry"`
		sourceChange
	}
	if err := json.Unmarshal(body, &root); err != nil {
		t.Fatalf("fixture is not a well-formed webhook: %v", err)
	}
	if root.Entry == nil {
		root.Field = "messages"
		return []sourceChange{root.sourceChange}
	}
	var out []sourceChange
	for _, e := range *root.Entry {
		for _, c := range e.Changes {
			var v struct {
				Messages []json.RawMessage `json:"messages"`
				Statuses []json.RawMessage `json:"statuses"`
			}
			if len(c.Value) > 0 {
				if err := json.Unmarshal(c.Value, &v); err != nil {
					t.Fatalf("fixture change value: %v", err)
				}
			}
			if c.Field == "" {
				c.Field = "messages"
			}
			c.Messages, c.Statuses = v.Messages, v.Statuses
			out = append(out, c)
		}
	}
	return out
}

// checkCorpusBody parses one well-formed webhook body and checks the parser kept every message and status of
// "messages" changes, each with Raw equal to its source object, and the value of every other non-template
// change in Unhandled.
func checkCorpusBody(t *testing.T, body []byte) {
	t.Helper()
	w, err := Parse(body)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	src := sourceChanges(t, body)
	if len(w.Changes) != len(src) {
		t.Fatalf("got %d changes, source has %d", len(w.Changes), len(src))
	}
	for i, c := range w.Changes {
		s := src[i]
		if c.Field != s.Field {
			t.Errorf("change %d: Field = %q, want %q", i, c.Field, s.Field)
		}
		switch {
		case c.Field == "messages":
			if len(c.Messages) != len(s.Messages) || len(c.Statuses) != len(s.Statuses) {
				t.Fatalf("change %d: %d messages and %d statuses, source has %d and %d",
					i, len(c.Messages), len(c.Statuses), len(s.Messages), len(s.Statuses))
			}
			for j, m := range c.Messages {
				if compact(t, m.Raw) != compact(t, s.Messages[j]) {
					t.Errorf("change %d message %d: Raw = %s\nwant %s", i, j, m.Raw, s.Messages[j])
				}
				if m.ID == "" || m.Type == "" || m.Timestamp.IsZero() {
					t.Errorf("change %d message %d: ID %q Type %q Timestamp %v", i, j, m.ID, m.Type, m.Timestamp)
				}
			}
			for j, r := range c.Statuses {
				if compact(t, r.Raw) != compact(t, s.Statuses[j]) {
					t.Errorf("change %d status %d: Raw = %s\nwant %s", i, j, r.Raw, s.Statuses[j])
				}
				if _, err := wa.ParseStatus(string(r.Status)); err != nil || r.MessageID == "" || r.Timestamp.IsZero() {
					t.Errorf("change %d status %d: %+v (%v)", i, j, r, err)
				}
			}
		case isTemplateField(c.Field):
			if len(c.Templates) != 1 || c.Templates[0].Name == "" || c.Templates[0].TemplateID == "" {
				t.Errorf("change %d: templates = %+v", i, c.Templates)
			}
		default:
			if compact(t, c.Unhandled) != compact(t, s.Value) {
				t.Errorf("change %d: Unhandled = %s, want the value", i, c.Unhandled)
			}
		}
	}
}

// TestParse_Testdata parses every body in testdata/. It always runs, unlike TestParse_SharedFixtures.
func TestParse_Testdata(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 10 {
		t.Fatalf("only %d testdata bodies found", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			body, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			checkCorpusBody(t, body)
		})
	}
}

// TestParse_PywaCorpus parses every case of every file of the pywa corpus.
func TestParse_PywaCorpus(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join(pywaFixtures, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 19 {
		t.Fatalf("found %d corpus files in %s, want the 19 pywa files", len(files), pywaFixtures)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var cases map[string]json.RawMessage
		if err := json.Unmarshal(raw, &cases); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		names := make([]string, 0, len(cases))
		for name := range cases {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			body := cases[name]
			t.Run(filepath.Base(f)+"/"+name, func(t *testing.T) {
				t.Parallel()
				checkCorpusBody(t, body)
			})
		}
	}
}

// TestParse_PywaCorpusDetails spot-checks decoded values of a few corpus bodies beyond the counts.
func TestParse_PywaCorpusDetails(t *testing.T) {
	t.Parallel()
	load := func(t *testing.T, file, name string) wa.Change {
		t.Helper()
		raw, err := os.ReadFile(filepath.Join(pywaFixtures, file))
		if err != nil {
			t.Fatal(err)
		}
		var cases map[string]json.RawMessage
		if err := json.Unmarshal(raw, &cases); err != nil {
			t.Fatal(err)
		}
		w, err := Parse(cases[name])
		if err != nil {
			t.Fatal(err)
		}
		return w.Changes[0]
	}
	t.Run("quick reply with from_user_id", func(t *testing.T) {
		t.Parallel()
		m := load(t, "callback_button.json", "quick_reply_without_context").Messages[0]
		if m.Text != "title" || m.FromUserID != "US.13491208655302741918" || m.Context != nil {
			t.Errorf("got %s", describe(m))
		}
	})
	t.Run("system without contacts", func(t *testing.T) {
		t.Parallel()
		c := load(t, "system.json", "phone_number_change")
		if len(c.Contacts) != 0 || c.Messages[0].FromUserID != "" ||
			c.Messages[0].Text != "User A changed from 972987654321 to 972912345678" {
			t.Errorf("got %+v", c)
		}
	})
	t.Run("group receipt", func(t *testing.T) {
		t.Parallel()
		c := load(t, "message_status.json", "group")
		if c.Contacts[0].Username != "<USERNAME>" || c.Statuses[0].Status != wa.StatusRead {
			t.Errorf("got %+v", c)
		}
	})
	t.Run("flow completion", func(t *testing.T) {
		t.Parallel()
		m := load(t, "flow_completion.json", "completion").Messages[0]
		if m.Text != "Sent" || m.Context == nil || m.Context.MessageID != "wamid.gvwegfretge==" {
			t.Errorf("got %s", describe(m))
		}
	})
	t.Run("rejected template", func(t *testing.T) {
		t.Parallel()
		c := load(t, "template_status_update.json", "rejected")
		tu := c.Templates[0]
		if tu.Event != "REJECTED" || tu.TemplateID != "1689556908129835" || tu.Reason != "INVALID_FORMAT" ||
			tu.Category != "MARKETING" || c.WABAID != "102290129340398" {
			t.Errorf("got %+v", tu)
		}
	})
}
