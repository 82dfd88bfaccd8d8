package main

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/wagate/wagate/internal/loadgen"
)

// webhookPath is where the ingest scenario posts: the default channel's own webhook URL.
const webhookPath = "/webhooks/whatsapp/default"

// Goals of the ingest scenario: at least half the baseline's rate, peak RSS under 150 MB.
const (
	ingestMinRatio   = 0.50
	ingestMaxRSSMB   = 150.0
	ingestSenders    = 1000
	ingestBenchmark  = "webhook ingest"
	ingestTargetBase = "baseline: net/http, read + decode JSON, 200"
)

func ingestScenario() Scenario {
	s := Scenario{Name: ingestBenchmark, Key: "ingest", Targets: []string{"baseline", "sqlite", "postgres", "floor-sqlite", "floor-postgres"},
		Goals: fmt.Sprintf("goal: ratio >= %.2f; peak RSS < %.0f MB", ingestMinRatio, ingestMaxRSSMB), About: ingestAbout}
	s.Run = func(ctx context.Context, env *Env) ([]Row, error) { return runIngest(ctx, env, s) }
	return s
}

// ingestAbout describes the scenario in the report.
var ingestAbout = `
- **webhook ingest**: many concurrent clients post distinct, realistic Cloud API webhooks to
  ` + "`POST " + webhookPath + "`" + ` of a wagate in demo mode (no credentials), alternating an inbound text message
  (a distinct wamid from one of ` + strconv.Itoa(ingestSenders) + ` senders, with its contacts[] profile) and a receipt
  (delivered or read, for a distinct wamid). Every answer must be 200 with ` + "`\"ok\":true`" + ` and the counts of what
  the body carried; anything else is an error and fails the run. wagate answers only once the raw body and its
  effects are committed and on disk (SQLite in WAL mode, the log fsynced before the answer; PostgreSQL with fsync on): these are durable
  acknowledgements. After the load, wagate's /metrics and /v1/events must account for every acknowledged webhook.
  The receipts refer to messages this wagate never sent, so wagate records them as receipts awaiting their message
  (parked): the same writes as a receipt that arrives before its send is recorded.
- **baseline** (of webhook ingest): the least any receiver does, in a process of its own like wagate: a net/http
  handler that reads the body, decodes its JSON into a map and answers 200 ` + "`{\"ok\":true}`" + `. It gets the same
  bodies.
- **floor** (of webhook ingest): the least a receiver does that answers, as wagate must, only once a webhook is durable
  and deduplicated, in a process of its own: it reads the body, decodes only the id of its message or receipt (wagate
  decodes the whole body) and appends the raw body under that id to one table with a unique index on it, in group
  commits (one multi-row ` + "`INSERT ... ON CONFLICT DO NOTHING`" + ` a commit, up to 256 webhooks; SQLite in WAL mode
  with synchronous=FULL, PostgreSQL with fsync on and two writers) that are on disk before the answer. It keeps no
  contact, conversation, message or receipt. Its ratio is what durability and deduplication alone leave on this
  machine: wagate's cannot be higher. It is checked like wagate: its table must hold every webhook it acknowledged.
`

// ingestTargets are the wagate targets of the scenario: -only name and table label.
var ingestTargets = []struct{ key, label string }{
	{"sqlite", "wagate, SQLite"},
	{"postgres", "wagate, PostgreSQL"},
}

// ingestResult is what was measured on one wagate target.
type ingestResult struct {
	label   string
	m       Measurement
	ratio   float64
	ratios  []float64
	skipped string
	// floor marks a row of the floor, a reference with no goal.
	floor bool
}

// runIngest measures durable webhook acknowledgements: the baseline's latency at the fixed rate, then for each
// wagate target its maximum rate in rounds alternating with the baseline's (see Env.interleave), and its
// latency at the fixed rate.
func runIngest(ctx context.Context, env *Env, s Scenario) ([]Row, error) {
	env.Logf("-- %s", ingestTargetBase)
	bp, baseURL, err := env.startBaseline(ctx)
	if err != nil {
		return nil, err
	}
	defer bp.stop()
	base := env.newTarget("baseline", bp, baseURL, Load{Path: webhookPath, Header: webhookHeader(), Body: newWebhookGen().body, Check: checkBaseline})
	defer base.close()
	if err := env.openLoop(ctx, base); err != nil {
		return nil, err
	}

	var results []ingestResult
	var errs []error
	for _, t := range ingestTargets {
		if !env.Want(s, t.key) || ctx.Err() != nil {
			continue
		}
		if t.key == "postgres" && env.Opts.PostgresURL == "" {
			why := "skipped: " + EnvPostgresURL + " not set"
			env.Logf("-- %s: %s (scripts/bench.sh starts PostgreSQL and sets it)", t.label, why)
			results = append(results, ingestResult{label: t.label, skipped: why})
			continue
		}
		env.Logf("-- %s", t.label)
		r, err := ingestWagate(ctx, env, base, t.key, t.label)
		if r != nil {
			results = append(results, *r)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	for _, t := range floorTargets {
		if !env.Want(s, t.key) || ctx.Err() != nil {
			continue
		}
		if t.db == "postgres" && env.Opts.PostgresURL == "" {
			results = append(results, ingestResult{label: t.label, skipped: "skipped: " + EnvPostgresURL + " not set", floor: true})
			continue
		}
		env.Logf("-- %s", t.label)
		r, err := ingestFloor(ctx, env, base, t.key, t.label, t.db)
		if r != nil {
			r.floor = true
			results = append(results, *r)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(base.rounds) == 0 && ctx.Err() == nil {
		// No wagate target ran (-only baseline): measure the baseline's rate alone.
		env.Logf("   closed loop: %d rounds of %v, %d clients, %s alone", env.Opts.Rounds, env.Opts.Duration/time.Duration(env.Opts.Rounds),
			env.Opts.Clients, base.Label)
		for i := 0; i < env.Opts.Rounds; i++ {
			warm := env.roundWarmup()
			if i == 0 {
				warm = env.Opts.Warmup
			}
			if _, err := env.closedRound(ctx, base, warm, env.Opts.Duration/time.Duration(env.Opts.Rounds)); err != nil {
				errs = append(errs, err)
				break
			}
		}
	}
	if ctx.Err() == nil {
		if err := base.readPeakRSS(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := bp.stop(); err != nil {
		errs = append(errs, fmt.Errorf("baseline: %w", err))
	}

	bm := base.measurement()
	var runs []string
	lo, hi := math.Inf(1), 0.0
	for _, r := range base.rounds {
		runs = append(runs, formatRate(r.Rate))
		lo, hi = min(lo, r.Rate), max(hi, r.Rate)
	}
	if len(runs) > 1 {
		env.Note("The baseline's rounds: %s req/s (the slowest %.0f%% below the fastest).", strings.Join(runs, ", "), 100*(1-lo/hi))
	}
	rows := []Row{row(ingestBenchmark, ingestTargetBase, bm, 1)}
	cpu := []string{"baseline " + formatMicros(bm.ServerCPU)}
	for _, r := range results {
		if r.skipped != "" {
			rows = append(rows, Row{Benchmark: ingestBenchmark, Target: r.label, Skipped: r.skipped})
			continue
		}
		row := row(ingestBenchmark, r.label, r.m, r.ratio)
		mb := float64(row.PeakRSS) / 1e6
		if !r.floor {
			row.Goals = []Goal{
				{Desc: fmt.Sprintf("ratio %.2f ≥ %.2f", row.Ratio, ingestMinRatio), Pass: row.Ratio >= ingestMinRatio},
				{Desc: fmt.Sprintf("peak RSS %.0f MB < %.0f MB", mb, ingestMaxRSSMB), Pass: row.PeakRSS > 0 && mb < ingestMaxRSSMB},
			}
		}
		rows = append(rows, row)
		cpu = append(cpu, r.label+" "+formatMicros(r.m.ServerCPU))
		var rs []string
		for _, x := range r.ratios {
			rs = append(rs, fmt.Sprintf("%.3f", x))
		}
		env.Note("%s: ratio per round %s; median %.3f.", r.label, strings.Join(rs, ", "), r.ratio)
	}
	env.Note("Server CPU time per webhook in the closed loop (less sensitive than a rate to other work on the machine): %s.",
		strings.Join(cpu, "; "))
	return rows, errors.Join(errs...)
}

// ingestWagate runs one wagate target: a fresh wagate on a fresh database, loaded against base, then checked for
// what it stored. It returns the result whenever something was measured, also together with an error.
func ingestWagate(ctx context.Context, env *Env, base *Target, key, label string) (*ingestResult, error) {
	fail := func(err error) (*ingestResult, error) { return nil, fmt.Errorf("%s: %w", label, err) }
	dataDir, err := os.MkdirTemp("", "wagate-bench-data-*")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(dataDir)
	addr, err := freeAddr()
	if err != nil {
		return fail(err)
	}
	vars := []string{"WAGATE_LISTEN=" + addr, "WAGATE_DATA_DIR=" + dataDir, "WAGATE_LOG_LEVEL=warn"}
	if key == "postgres" {
		dbURL, drop, err := createDatabase(ctx, env.Opts.PostgresURL)
		if err != nil {
			return fail(err)
		}
		defer func() {
			if err := drop(); err != nil {
				env.Logf("   %s: %v", label, err)
			}
		}()
		vars = append(vars, "WAGATE_DATABASE_URL="+dbURL)
	}
	p, err := env.procs.start("wagate-"+key, env.Opts.Wagate, []string{"serve"}, childEnv(vars...))
	if err != nil {
		return fail(err)
	}
	defer p.stop()
	baseURL := "http://" + addr
	if err := waitReady(ctx, p, baseURL+"/readyz", 2*time.Minute); err != nil {
		return fail(err)
	}
	startLog := len(p.logText())

	gen := newWebhookGen()
	t := env.newTarget(label, p, baseURL, Load{Path: webhookPath, Header: webhookHeader(), Body: gen.body, Check: gen.checkWagate})
	defer t.close()
	var errs []error
	ratio, ratios, err := env.interleave(ctx, base, t)
	if err == nil {
		err = env.openLoop(ctx, t)
	}
	if err != nil {
		errs = append(errs, err)
	}
	if ctx.Err() == nil {
		if err := t.readPeakRSS(); err != nil {
			errs = append(errs, err)
		}
	}
	m := t.measurement()
	if q := gen.queued.Load(); q > 0 {
		env.Note("%s: %d webhooks were stored but their processing was deferred to the job queue (\"queued\":true).", label, q)
	}
	if ctx.Err() == nil && len(errs) == 0 {
		if stats, err := checkStored(ctx, baseURL, m, gen); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", label, err))
		} else {
			env.Logf("   %s: stored and checked: %s", label, stats)
			env.Note("%s: %s.", label, stats)
		}
	}
	if err := p.stop(); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", label, err))
	}
	// Anything wagate logged at warn or above under load is worth a look; with errors, it is the likely cause.
	out := p.logText()
	if logged := strings.TrimSpace(out[min(startLog, len(out)):]); logged != "" {
		lines := strings.Split(logged, "\n")
		env.Logf("   %s: wagate logged %d lines at warn or above under load; the last ones:\n%s", label, len(lines),
			indent(p.logTail(10), "     "))
		if len(errs) == 0 {
			env.Note("%s: wagate logged %d lines at warn or above during the run; the first: `%s`", label, len(lines), lines[0])
		}
	}
	if len(errs) > 0 {
		errs = append(errs, fmt.Errorf("%s: wagate's last output:\n%s", label, indent(p.logTail(15), "    ")))
	}
	if len(t.rounds) == 0 {
		return nil, errors.Join(errs...)
	}
	return &ingestResult{label: label, m: m, ratio: ratio, ratios: ratios}, errors.Join(errs...)
}

// webhookHeader is what Meta's webhook requests carry besides the body.
func webhookHeader() http.Header {
	return http.Header{"User-Agent": {"facebookexternalua"}}
}

// webhookGen produces realistic Cloud API webhook bodies, alternating an inbound text message (even indexes)
// and a receipt (odd indexes), every one with a distinct wamid; senders cycle through ingestSenders numbers.
// It counts the answers it checked, for the check of what was stored.
type webhookGen struct {
	run   string // random per generator, so that wamids differ between runs too
	epoch int64

	okInbound, okReceipts, queued atomic.Int64
}

func newWebhookGen() *webhookGen {
	return &webhookGen{run: loadgen.RunID(), epoch: time.Now().Unix()}
}

// Meta's identifiers for the business account and number of the bodies (not configured in wagate: the URL
// names the channel).
const (
	benchWABA          = "102290129340398"
	benchPhoneNumberID = "106540352242922"
	benchDisplayNumber = "34600123456"
)

func (g *webhookGen) sender(i int) string {
	return fmt.Sprintf("3469600%04d", (i/2)%ingestSenders)
}

// wamid makes a distinct message id shaped like Meta's (base64 after "wamid.").
func (g *webhookGen) wamid(i int, dir string) string {
	raw := fmt.Sprintf("\x15\x02\x00\x11\x18\x14%s%s%s%010d", g.sender(i), dir, g.run, i)
	return "wamid.HBgL" + base64.StdEncoding.EncodeToString([]byte(raw))
}

// body returns request i's body.
func (g *webhookGen) body(i int) []byte {
	from := g.sender(i)
	ts := strconv.FormatInt(g.epoch+int64(i/1000), 10)
	var b []byte
	b = append(b, `{"object":"whatsapp_business_account","entry":[{"id":"`+benchWABA+`","changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"`+benchDisplayNumber+`","phone_number_id":"`+benchPhoneNumberID+`"},`...)
	if i%2 == 0 {
		n := (i / 2) % ingestSenders
		b = fmt.Appendf(b, `"contacts":[{"profile":{"name":"Cliente %d"},"wa_id":"%s"}],`, n, from)
		b = fmt.Appendf(b, `"messages":[{"from":"%s","id":"%s","timestamp":"%s","text":{"body":"Hola, ¿dónde está mi pedido %d? Gracias"},"type":"text"}]`,
			from, g.wamid(i, "in"), ts, 100000+i)
	} else {
		b = fmt.Appendf(b, `"statuses":[{"id":"%s",`, g.wamid(i, "out"))
		if i%4 == 1 {
			b = fmt.Appendf(b, `"status":"delivered","timestamp":"%s","recipient_id":"%s","conversation":{"id":"%s","origin":{"type":"service"}},"pricing":{"billable":true,"pricing_model":"CBP","category":"service"}}]`,
				ts, from, hex.EncodeToString([]byte(g.run + from))[:30])
		} else {
			b = fmt.Appendf(b, `"status":"read","timestamp":"%s","recipient_id":"%s"}]`, ts, from)
		}
	}
	b = append(b, `},"field":"messages"}]}]}`...)
	return b
}

// checkBaseline accepts the baseline's only answer.
func checkBaseline(_ int, status int, body []byte) error {
	if status != http.StatusOK || strings.TrimSpace(string(body)) != `{"ok":true}` {
		return fmt.Errorf("HTTP %d, want 200 {\"ok\":true}", status)
	}
	return nil
}

// ack is wagate's answer to a webhook POST.
type ack struct {
	OK       bool   `json:"ok"`
	Received *int   `json:"received"`
	Stored   *int   `json:"stored"`
	Statuses *int   `json:"statuses"`
	Queued   bool   `json:"queued"`
	Warning  string `json:"warning"`
	Error    string `json:"error"`
}

// checkWagate accepts a 200 whose JSON says "ok":true and counts what the body carried: one inbound message
// received and stored, or one receipt.
func (g *webhookGen) checkWagate(i int, status int, body []byte) error {
	if status != http.StatusOK {
		return fmt.Errorf("HTTP %d, want 200", status)
	}
	var a ack
	if err := json.Unmarshal(body, &a); err != nil {
		return fmt.Errorf("answer is not JSON: %w", err)
	}
	if !a.OK {
		return fmt.Errorf("\"ok\" is not true (error %q)", a.Error)
	}
	if a.Warning != "" {
		return fmt.Errorf("warning %q", a.Warning)
	}
	if a.Queued {
		g.queued.Add(1)
		return nil
	}
	one := func(p *int) bool { return p != nil && *p == 1 }
	if i%2 == 0 {
		if !one(a.Received) || !one(a.Stored) {
			return errors.New("an inbound message was not received and stored once")
		}
		g.okInbound.Add(1)
		return nil
	}
	if !one(a.Statuses) {
		return errors.New("a receipt was not counted once")
	}
	g.okReceipts.Add(1)
	return nil
}

// checkStored compares what wagate's metrics and API say it stored with the answers the load generator got,
// and returns a summary of the ingest (mean group-commit batch).
func checkStored(ctx context.Context, base string, m Measurement, g *webhookGen) (string, error) {
	text, err := httpGet(ctx, base+"/metrics")
	if err != nil {
		return "", fmt.Errorf("sanity check: %w", err)
	}
	mt, err := parseMetrics(text)
	if err != nil {
		return "", fmt.Errorf("sanity check: /metrics: %w", err)
	}
	ok := float64(m.OK())
	var problems []string
	want := func(what string, got, min float64) {
		if got < min {
			problems = append(problems, fmt.Sprintf("%s is %.0f, want at least %.0f", what, got, min))
		}
	}
	want(`wagate_webhook_requests_total{outcome="accepted"}`, mt[`wagate_webhook_requests_total{outcome="accepted"}`], ok)
	want(`wagate_events_total{state="processed"}`, mt[`wagate_events_total{state="processed"}`]+mt[`wagate_events_total{state="queued"}`], ok)
	want("wagate_inbound_messages_total", mt["wagate_inbound_messages_total"], float64(g.okInbound.Load()))
	want("wagate_receipts_total (all outcomes)", mt.sum("wagate_receipts_total"), float64(g.okReceipts.Load()))
	if f := mt[`wagate_events_total{state="failed"}`]; f > 0 {
		problems = append(problems, fmt.Sprintf(`wagate_events_total{state="failed"} is %.0f, want 0`, f))
	}
	evs, err := httpGet(ctx, base+"/v1/events?limit=1")
	if err != nil {
		problems = append(problems, err.Error())
	} else {
		var page struct {
			Items []json.RawMessage `json:"items"`
		}
		if err := json.Unmarshal([]byte(evs), &page); err != nil || len(page.Items) != 1 {
			problems = append(problems, fmt.Sprintf("GET /v1/events?limit=1 listed no event: %.200s", evs))
		}
	}
	if len(problems) > 0 {
		return "", fmt.Errorf("sanity check failed: %d answers were ok but wagate did not store them all:\n%s",
			m.OK(), indent(strings.Join(problems, "\n"), "    "))
	}
	batch := math.NaN()
	if n := mt["wagate_ingest_batch_size_count"]; n > 0 {
		batch = mt["wagate_ingest_batch_size_sum"] / n
	}
	return fmt.Sprintf("%s webhooks acknowledged and counted by wagate (%s messages, %s receipts), %.1f webhooks per commit on average",
		formatRate(float64(m.OK())), formatRate(float64(g.okInbound.Load())), formatRate(float64(g.okReceipts.Load())), batch), nil
}
