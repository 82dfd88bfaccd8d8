package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/wagate/wagate/internal/outbound"
	"github.com/wagate/wagate/internal/provider"
	"github.com/wagate/wagate/internal/provider/demo"
	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/store/sqlite"
	"github.com/wagate/wagate/internal/templates"
	"github.com/wagate/wagate/internal/wa"
)

// Goal and parameters of the templates scenario.
const (
	templatesBenchmark = "templates preflight"
	// templatesGoal is the most one send's preflight (check and render) may cost with the set in memory.
	templatesGoal = 50 * time.Microsecond
	// templatesExtra is how many templates besides the demo ones the channel holds.
	templatesExtra = 1000
)

func templatesScenario() Scenario {
	s := Scenario{Name: templatesBenchmark, Key: "templates", Targets: []string{"baseline", "catalogue"},
		Goals: fmt.Sprintf("goal (%s): check and render of one template send under %d µs with the synced set in memory",
			templatesBenchmark, templatesGoal/time.Microsecond),
		About: templatesAbout}
	s.Run = func(ctx context.Context, env *Env) ([]Row, error) { return runTemplates(ctx, env, s) }
	return s
}

var templatesAbout = `
- **` + templatesBenchmark + `**: in process, no HTTP. The channel's synced set is the demo templates plus 1,000 more,
  loaded from SQLite into memory. The message is a template send with an image header, two body parameters and a
  URL button suffix. **baseline**: ` + "`outbound.Validate`" + ` of that message, the validation every send already
  gets; **catalogue**: the preflight wagate adds to every template send (the template exists in that language and
  is approved, every component's parameters match) plus the rendering of the text stored on the message.
  **rate**: checks per second on one goroutine (median of ` + "`-rounds`" + ` runs of Go's benchmark loop);
  **ratio**: over the baseline's rate. The goal line gives the time per check.
`

// templatesMessage is the send measured.
var templatesMessage = wa.Outbound{To: "+34600111222", Type: "template", Content: json.RawMessage(`{"name":"shipment_photo","language":{"code":"en_US"},"components":[` +
	`{"type":"header","parameters":[{"type":"image","image":{"link":"https://example.com/parcel.jpg"}}]},` +
	`{"type":"body","parameters":[{"type":"text","text":"A-1234"},{"type":"text","text":"the front desk"}]},` +
	`{"type":"button","sub_type":"url","index":"0","parameters":[{"type":"text","text":"A-1234"}]}]}`)}

// benchLister lists the demo templates plus templatesExtra more.
type benchLister struct{ provider.Provider }

func (benchLister) Templates(context.Context) ([]wa.Template, error) {
	out := []wa.Template{}
	out = append(out, demoTemplates()...)
	for i := 0; i < templatesExtra; i++ {
		out = append(out, wa.Template{Name: fmt.Sprintf("notice_%04d", i), Language: "es", Status: wa.TemplateApproved,
			ParameterFormat: wa.ParamsPositional, Components: json.RawMessage(`[{"type":"BODY","text":"Aviso {{1}} para {{2}}"}]`)})
	}
	return out, nil
}

func runTemplates(ctx context.Context, env *Env, s Scenario) ([]Row, error) {
	dir, err := os.MkdirTemp("", "wagate-bench-templates-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	db, err := sqlite.Open(ctx, filepath.Join(dir, "wagate.db"))
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return nil, err
	}
	st := store.New(db, nil)
	cat := templates.New(st, []string{"default"}, map[string]provider.Provider{"default": benchLister{}}, nil)
	if _, err := cat.Sync(ctx, "default"); err != nil {
		return nil, err
	}
	if err := cat.Load(ctx); err != nil {
		return nil, err
	}
	if err := cat.Check("default", templatesMessage); err != nil {
		return nil, fmt.Errorf("%s: the measured message is refused: %w", templatesBenchmark, err)
	}
	if cat.Render("default", templatesMessage) == "" {
		return nil, fmt.Errorf("%s: the measured message does not render", templatesBenchmark)
	}
	measure := func(fn func()) float64 { // ns per op, median of the rounds
		var ns []float64
		for r := 0; r < max(1, env.Opts.Rounds); r++ {
			res := testing.Benchmark(func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					fn()
				}
			})
			ns = append(ns, float64(res.T.Nanoseconds())/float64(max(1, res.N)))
		}
		slices.Sort(ns)
		return ns[len(ns)/2]
	}
	var rows []Row
	base := math.NaN()
	if env.Want(s, "baseline") {
		env.Logf("-- %s: baseline", templatesBenchmark)
		ns := measure(func() { _ = outbound.Validate(templatesMessage) })
		base = 1e9 / ns
		rows = append(rows, Row{Benchmark: templatesBenchmark, Target: "baseline: outbound.Validate of the message", Rate: base, Ratio: 1})
	}
	if env.Want(s, "catalogue") {
		env.Logf("-- %s: catalogue", templatesBenchmark)
		ns := measure(func() { _, _ = cat.Preflight("default", templatesMessage) })
		per := time.Duration(ns)
		rows = append(rows, Row{Benchmark: templatesBenchmark, Target: fmt.Sprintf("catalogue: check + render, %d templates in memory", len(demoTemplates())+templatesExtra),
			Rate: 1e9 / ns, Ratio: (1e9 / ns) / base,
			Goals: []Goal{{Desc: fmt.Sprintf("%.1f µs per send < %d µs", float64(per)/float64(time.Microsecond), templatesGoal/time.Microsecond), Pass: per < templatesGoal}}})
	}
	return rows, nil
}

// demoTemplates are the demo provider's templates.
func demoTemplates() []wa.Template { return demo.DemoTemplates }
