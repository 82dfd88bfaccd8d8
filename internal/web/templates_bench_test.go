package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/wagate/wagate/internal/server/servertest"
	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/wa"
	"github.com/wagate/wagate/internal/web/webtest"
)

// BenchmarkTemplatesPage renders the templates page of a channel with 1,000 templates (each with a header,
// a body with placeholders, a footer and buttons), against the same page filtered down to none as the baseline.
func BenchmarkTemplatesPage(b *testing.B) {
	inst := servertest.Start(b, servertest.Listen(b), "sqlite", nil)
	webtest.AddUser(b, inst.Store, "dora@example.com", "director", "director-password")
	list := make([]wa.Template, 1000)
	statuses := []string{wa.TemplateApproved, wa.TemplateApproved, wa.TemplatePending, wa.TemplateRejected, wa.TemplatePaused}
	for i := range list {
		comps, _ := json.Marshal([]map[string]any{
			{"type": "HEADER", "format": "TEXT", "text": "Order {{1}}"},
			{"type": "BODY", "text": fmt.Sprintf("Hi {{1}}, your order {{2}} (number %d) arrives on {{3}}. Reply to this message with any question.", i)},
			{"type": "FOOTER", "text": "Reply STOP to opt out"},
			{"type": "BUTTONS", "buttons": []map[string]any{{"type": "URL", "text": "Track", "url": "https://example.com/t/{{1}}"}, {"type": "QUICK_REPLY", "text": "STOP"}}},
		})
		list[i] = wa.Template{Name: fmt.Sprintf("order_update_%04d", i), Language: "en_US", Category: "UTILITY", Status: statuses[i%len(statuses)],
			ParameterFormat: wa.ParamsPositional, Components: comps}
	}
	ctx := context.Background()
	if err := inst.Store.InTx(ctx, func(tx store.Tx) error { return inst.Store.TemplateReplace(ctx, tx, "bench", list) }); err != nil {
		b.Fatal(err)
	}
	c := tplSignIn(b, inst.URL, "dora@example.com", "director-password")
	for _, bc := range []struct{ name, path, want string }{
		{"baseline-none", "/templates?channel=bench&q=nothing-matches", "0 templates"},
		{"1000", "/templates?channel=bench", "1000 templates"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				code, page := c.do("GET", bc.path, nil, "", "HX-Request", "true")
				if code != http.StatusOK || !strings.Contains(page, bc.want) {
					b.Fatalf("%d %.300s", code, page)
				}
			}
		})
	}
}
