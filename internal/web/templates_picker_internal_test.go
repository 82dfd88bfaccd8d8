package web

import (
	"bytes"
	"strings"
	"testing"

	"github.com/wagate/wagate/internal/store"
)

// TestPicker_UnsyncedChannel: when the channel's templates were never read, the picker says so; a director
// gets a Sync now button, an agent is told to ask a director.
func TestPicker_UnsyncedChannel(t *testing.T) {
	t.Parallel()
	p, err := loadPages()
	if err != nil {
		t.Fatal(err)
	}
	langs, err := loadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	for _, director := range []bool{true, false} {
		for _, code := range Languages {
			L := langs.get(code)
			v := &pickerView{Conv: store.Conversation{ID: "c1", Channel: "sales"}, Channel: "sales", Available: true, CanSync: director}
			var buf bytes.Buffer
			if err := p.t.ExecuteTemplate(&buf, "templates_picker", &View{L: L, CSRF: "tok", Data: v}); err != nil {
				t.Fatal(err)
			}
			page := buf.String()
			if !strings.Contains(page, L.T("templates.picker_unsynced", "sales")) || strings.Contains(page, `id="tpl-select"`) {
				t.Fatalf("%s director=%v: %s", code, director, page)
			}
			hasButton := strings.Contains(page, `hx-post="/inbox/c1/templates/sync"`) && strings.Contains(page, `value="tok"`)
			asks := strings.Contains(page, L.T("templates.picker_ask_director"))
			if hasButton != director || asks == director {
				t.Fatalf("%s director=%v: sync button %v, asks a director %v", code, director, hasButton, asks)
			}
		}
	}
}
