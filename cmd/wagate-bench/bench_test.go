package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wagate/wagate/internal/webhook"
)

// TestMain lets the test binary serve as the baseline when the command under test re-executes itself.
func TestMain(m *testing.M) {
	if code, ok := runChild(os.Args[1:]); ok {
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// TestBodies checks the generated webhooks with wagate's own parser: realistic, alternating one inbound text
// message and one receipt, each with a distinct wamid, from a bounded set of senders.
func TestBodies(t *testing.T) {
	g := newWebhookGen()
	ids := map[string]bool{}
	senders := map[string]bool{}
	statuses := map[string]int{}
	for i := 0; i < 4000; i++ {
		b := g.body(i)
		if !json.Valid(b) {
			t.Fatalf("body %d is not JSON: %s", i, b)
		}
		h, err := webhook.Parse(b)
		if err != nil {
			t.Fatalf("body %d: %v\n%s", i, err, b)
		}
		if len(h.Changes) != 1 {
			t.Fatalf("body %d: %d changes", i, len(h.Changes))
		}
		c := h.Changes[0]
		var id string
		if i%2 == 0 {
			if len(c.Messages) != 1 || len(c.Statuses) != 0 || len(c.Contacts) != 1 {
				t.Fatalf("body %d: want one message with its contact: %+v", i, c)
			}
			m := c.Messages[0]
			if m.Type != "text" || !strings.Contains(m.Text, "pedido") || m.From != c.Contacts[0].WAID || c.Contacts[0].Name == "" {
				t.Fatalf("body %d: message %+v contact %+v", i, m, c.Contacts[0])
			}
			if m.Timestamp.IsZero() {
				t.Errorf("body %d: no timestamp", i)
			}
			id = m.ID
			senders[m.From] = true
		} else {
			if len(c.Statuses) != 1 || len(c.Messages) != 0 {
				t.Fatalf("body %d: want one receipt: %+v", i, c)
			}
			r := c.Statuses[0]
			id = r.MessageID
			statuses[string(r.Status)]++
		}
		if !strings.HasPrefix(id, "wamid.") || ids[id] {
			t.Fatalf("body %d: wamid %q is not new", i, id)
		}
		ids[id] = true
	}
	if len(senders) != ingestSenders {
		t.Errorf("%d senders, want %d", len(senders), ingestSenders)
	}
	if statuses["delivered"] != 1000 || statuses["read"] != 1000 {
		t.Errorf("receipts by status: %v", statuses)
	}
	for s := range senders {
		if len(s) != 11 || !strings.HasPrefix(s, "3469600") {
			t.Errorf("sender %q", s)
			break
		}
	}
	if g2 := newWebhookGen(); bytes.Equal(g2.body(0), g.body(0)) {
		t.Error("two generators made the same wamid")
	}
}

func TestCheckWagate(t *testing.T) {
	g := newWebhookGen()
	for _, c := range []struct {
		i      int
		status int
		body   string
		ok     bool
	}{
		{0, 200, `{"ok":true,"received":1,"stored":1}`, true},
		{1, 200, `{"ok":true,"statuses":1,"updated":0}`, true},
		{0, 200, `{"ok":true,"received":1,"stored":0}`, false},
		{1, 200, `{"ok":true,"received":0,"stored":0}`, false},
		{0, 200, `{"ok":false,"error":"bad"}`, false},
		{0, 200, `{"ok":true,"received":1,"stored":1,"warning":"skipped"}`, false},
		{0, 200, `not json`, false},
		{0, 201, `{"ok":true,"received":1,"stored":1}`, false},
		{2, 200, `{"ok":true,"queued":true}`, true},
	} {
		err := g.checkWagate(c.i, c.status, []byte(c.body))
		if (err == nil) != c.ok {
			t.Errorf("%d %s: err %v, want ok=%v", c.status, c.body, err, c.ok)
		}
	}
	if g.okInbound.Load() != 1 || g.okReceipts.Load() != 1 || g.queued.Load() != 1 {
		t.Errorf("counts: inbound %d receipts %d queued %d", g.okInbound.Load(), g.okReceipts.Load(), g.queued.Load())
	}
	if checkBaseline(0, 200, []byte("{\"ok\":true}\n")) != nil || checkBaseline(0, 200, []byte(`{}`)) == nil {
		t.Error("checkBaseline")
	}
}

func TestBaselineHandler(t *testing.T) {
	srv := httptest.NewServer(baselineHandler())
	defer srv.Close()
	g := newWebhookGen()
	resp, err := http.Post(srv.URL+webhookPath, "application/json", bytes.NewReader(g.body(0)))
	if err != nil {
		t.Fatal(err)
	}
	body := readSome(resp)
	if resp.StatusCode != 200 || checkBaseline(0, resp.StatusCode, []byte(body)) != nil {
		t.Errorf("HTTP %d %s", resp.StatusCode, body)
	}
	resp, err = http.Post(srv.URL, "application/json", strings.NewReader("{"))
	if err != nil {
		t.Fatal(err)
	}
	readSome(resp)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad JSON: HTTP %d", resp.StatusCode)
	}
}

func TestParseMetrics(t *testing.T) {
	m, err := parseMetrics(`# HELP wagate_webhook_requests_total Provider webhook POSTs by outcome.
# TYPE wagate_webhook_requests_total counter
wagate_webhook_requests_total{outcome="accepted"} 4451
wagate_webhook_requests_total{outcome="unavailable"} 2
wagate_inbound_messages_total 2226
wagate_receipts_total{outcome="parked"} 2225
wagate_receipts_total{outcome="updated"} 5
go_info{version="go1.26.8"} 1
wagate_ingest_batch_size_sum 4451
process_start_time_seconds 1.76e+09 1700000000000
`)
	if err != nil {
		t.Fatal(err)
	}
	if m[`wagate_webhook_requests_total{outcome="accepted"}`] != 4451 || m["wagate_inbound_messages_total"] != 2226 {
		t.Errorf("%v", m)
	}
	if got := m.sum("wagate_receipts_total"); got != 2230 {
		t.Errorf("sum %v", got)
	}
	if got := m.sum("wagate_webhook_requests_total"); got != 4453 {
		t.Errorf("sum %v", got)
	}
	if m["process_start_time_seconds"] != 1.76e9 {
		t.Errorf("value with timestamp: %v", m["process_start_time_seconds"])
	}
	if _, err := parseMetrics("x{a=\"b\"} notanumber\n"); err == nil {
		t.Error("bad value accepted")
	}
}

func TestProcParsers(t *testing.T) {
	n, err := parseVmHWM([]byte("Name:\twagate\nVmPeak:\t  200000 kB\nVmHWM:\t   94012 kB\nVmRSS:\t 90000 kB\n"))
	if err != nil || n != 94012*1024 {
		t.Errorf("VmHWM: %d %v", n, err)
	}
	if _, err := parseVmHWM([]byte("Name:\tx\n")); err == nil {
		t.Error("missing VmHWM accepted")
	}
	stat := "1234 (wagate serve) S 1 1234 1234 0 -1 4194560 2000 0 0 0 150 25 0 0 20 0 12 0 500 100000 2000 18446744073709551615"
	d, err := parseStatCPU([]byte(stat))
	if err != nil || d != 175*clockTick {
		t.Errorf("CPU: %v %v", d, err)
	}
	if selfCPU() <= 0 {
		t.Error("selfCPU")
	}
}

func TestParseFlags(t *testing.T) {
	env := func(k string) string {
		if k == EnvPostgresURL {
			return "postgres://x"
		}
		return ""
	}
	var stderr bytes.Buffer
	o, err := parseFlags([]string{"-duration", "5s", "-only", "sqlite, Postgres", "-rate", "500"}, &stderr, env)
	if err != nil {
		t.Fatal(err)
	}
	if o.Duration != 5*time.Second || o.Warmup != 2*time.Second || o.Clients != 64 || o.Rounds != 5 || o.Rate != 500 ||
		o.Out != "docs/benchmarks.md" || o.Wagate != "./bin/wagate" || o.PostgresURL != "postgres://x" {
		t.Errorf("%+v", o)
	}
	if fmt.Sprint(o.Only) != "[sqlite postgres]" {
		t.Errorf("only %v", o.Only)
	}
	for _, bad := range [][]string{{"-only", "mysql"}, {"-duration", "0s"}, {"-clients", "0"}, {"-rate", "-1"}, {"extra"}, {"-rounds", "0"}, {"-duration", "1s", "-rounds", "20"}} {
		if _, err := parseFlags(bad, &stderr, env); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	s := ingestScenario()
	e := &Env{Opts: o}
	if !s.selected(o.Only) || e.Want(s, "baseline") || !e.Want(s, "sqlite") || !e.needsWagate([]Scenario{s}) {
		t.Error("selection of sqlite,postgres")
	}
	e.Opts.Only = []string{"baseline"}
	if e.needsWagate([]Scenario{s}) || !e.Want(s, "baseline") {
		t.Error("selection of baseline")
	}
	e.Opts.Only = []string{"ingest", "sqlite"}
	if !s.selected(e.Opts.Only) || !e.Want(s, "sqlite") || e.Want(s, "postgres") || !e.Want(s, "baseline") ||
		sendScenario().selected(e.Opts.Only) {
		t.Error("selection of ingest,sqlite")
	}
	e.Opts.Only = nil
	if !e.Want(s, "postgres") {
		t.Error("default selection")
	}
}

func TestReport(t *testing.T) {
	rep := &report{
		Started: time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC), Finished: time.Date(2026, 1, 2, 3, 5, 30, 0, time.UTC),
		Opts: options{Duration: 10 * time.Second, Warmup: 2 * time.Second, Clients: 64, Rounds: 5, Rate: 1000},
		Rows: []Row{
			{Benchmark: "webhook ingest", Target: "baseline", Rate: 12345.6, Ratio: 1, P50: 420 * time.Microsecond, P99: 3 * time.Millisecond, PeakRSS: 21e6},
			{Benchmark: "webhook ingest", Target: "wagate, SQLite", Rate: 7000, Ratio: 0.567, P50: 12500 * time.Microsecond, P99: 250 * time.Millisecond, PeakRSS: 94e6,
				Goals: []Goal{{"ratio 0.57 ≥ 0.50", true}, {"peak RSS 94 MB < 150 MB", true}}},
			{Benchmark: "webhook ingest", Target: "wagate, PostgreSQL", Rate: 2000, Ratio: 0.162, P50: time.Millisecond, P99: 2 * time.Millisecond, PeakRSS: 160e6,
				Goals: []Goal{{"ratio 0.16 ≥ 0.50", false}, {"peak RSS 160 MB < 150 MB", false}}},
			{Benchmark: "webhook ingest", Target: "other", Skipped: "skipped: WAGATE_TEST_POSTGRES_URL not set"},
			{Benchmark: "webhook ingest", Target: "no ratio", Rate: 5, Ratio: math.NaN()},
		},
		Notes: []string{"a note"},
		Goals: []string{ingestScenario().Goals},
		About: []string{ingestScenario().About},
	}
	md := rep.markdown()
	var cells [][]string
	for _, l := range strings.Split(md, "\n") {
		if strings.HasPrefix(l, "|") {
			var row []string
			for _, c := range strings.Split(strings.Trim(l, "|"), "|") {
				row = append(row, strings.TrimSpace(c))
			}
			cells = append(cells, row)
		}
	}
	want := [][]string{
		{"benchmark", "target", "rate (req/s)", "ratio to baseline", "p50 @ fixed rate", "p99 @ fixed rate", "peak RSS"},
		{"--------------", strings.Repeat("-", 49), "-----------:", "----------------:", "---------------:", "---------------:", "-------:"},
		{"webhook ingest", "baseline", "12,346", "1.00", "0.42 ms", "3.00 ms", "21 MB"},
		{"webhook ingest", "wagate, SQLite", "7,000", "0.57", "12.5 ms", "250 ms", "94 MB"},
		{"webhook ingest", "wagate, PostgreSQL", "2,000", "0.16", "1.00 ms", "2.00 ms", "160 MB"},
		{"webhook ingest", "other — skipped: WAGATE_TEST_POSTGRES_URL not set", "–", "–", "–", "–", "–"},
		{"webhook ingest", "no ratio", "5", "–", "–", "–", "–"},
	}
	if fmt.Sprintf("%q", cells) != fmt.Sprintf("%q", want) {
		t.Errorf("table:\n%q\nwant\n%q", cells, want)
	}
	for _, want := range []string{
		"goal: ratio >= 0.50; peak RSS < 150 MB",
		"- webhook ingest, wagate, SQLite: ratio 0.57 ≥ 0.50 PASS; peak RSS 94 MB < 150 MB PASS",
		"- webhook ingest, wagate, PostgreSQL: ratio 0.16 ≥ 0.50 MISS; peak RSS 160 MB < 150 MB MISS",
		"date: 2026-01-02 03:04 UTC (the run took 1m30s)",
		"parameters: -duration 10s -warmup 2s -clients 64 -rounds 5 -rate 1000",
		"- a note",
		"competes with it for the CPUs",
		"- **webhook ingest**: many concurrent clients",
		"(parked): the same writes",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	// Every table line has the same width (padded columns).
	var widths []int
	for _, l := range strings.Split(md, "\n") {
		if strings.HasPrefix(l, "|") {
			widths = append(widths, len([]rune(l)))
		}
	}
	if len(widths) != 7 {
		t.Fatalf("%d table lines", len(widths))
	}
	for _, w := range widths {
		if w != widths[0] {
			t.Errorf("table lines of different widths: %v", widths)
			break
		}
	}
	rep.Errors = []string{"wagate, SQLite: requests failed"}
	if txt := rep.text(); !strings.Contains(txt, "ERRORS:") || !strings.Contains(txt, "note: a note") {
		t.Errorf("text:\n%s", txt)
	}
}

func TestFormat(t *testing.T) {
	for in, want := range map[float64]string{0: "0", 999.6: "1,000", 1234567: "1,234,567", 12: "12"} {
		if got := formatRate(in); got != want {
			t.Errorf("formatRate(%v) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[time.Duration]string{0: "–", 420 * time.Microsecond: "0.42 ms", 55 * time.Millisecond: "55.0 ms", 1320 * time.Millisecond: "1320 ms"} {
		if got := formatLatency(in); got != want {
			t.Errorf("formatLatency(%v) = %q, want %q", in, got, want)
		}
	}
}

// TestRunBaselineOnly runs the command for real with the baseline only (wagate is not needed): it re-executes
// the test binary, so the baseline subcommand is reached through TestMain.
func TestRunBaselineOnly(t *testing.T) {
	if testing.Short() {
		t.Skip("runs servers for a second")
	}
	out := t.TempDir() + "/bench.md"
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-only", "baseline", "-duration", "300ms", "-warmup", "100ms", "-clients", "4",
		"-rounds", "2", "-rate", "200", "-out", out, "-wagate", "/nonexistent"}, &stdout, &stderr, func(string) string { return "" })
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, &stdout, &stderr)
	}
	// Every scenario with a baseline gives its row; the governor scenario has none.
	ingest := regexp.MustCompile(`(?m)^\| webhook ingest +\| baseline: net/http, read \+ decode JSON, 200 +\| +[0-9,]+ \| +1\.00 \|`)
	send := regexp.MustCompile(`(?m)^\| sends through the queue +\| baseline: direct loop of provider calls +\| +[0-9,]+ \| +1\.00 \| +[0-9.]+ ms \|`)
	if !ingest.MatchString(stdout.String()) || !send.MatchString(stdout.String()) || strings.Contains(stdout.String(), "| governor") ||
		!strings.Contains(stdout.String(), "The baseline's rounds:") || !strings.Contains(stdout.String(), "sends through the queue: the baseline's rounds:") {
		t.Errorf("stdout:\n%s", &stdout)
	}
	md, err := os.ReadFile(out)
	if err != nil || !ingest.Match(md) || !send.Match(md) {
		t.Errorf("%s: %v\n%s", out, err, md)
	}
}

// TestInterleave runs two baseline servers as child processes against each other: the same server, so the
// ratio is near 1, and every round and count adds up.
func TestInterleave(t *testing.T) {
	if testing.Short() {
		t.Skip("runs servers for a few seconds")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	env := &Env{Opts: options{Duration: 900 * time.Millisecond, Warmup: 100 * time.Millisecond, Clients: 4, Rounds: 3, Rate: 200},
		Self: self, Log: &log, procs: &procs{}}
	defer env.procs.stopAll()
	ctx := context.Background()
	var targets []*Target
	for _, name := range []string{"a", "b"} {
		p, url, err := env.startBaseline(ctx)
		if err != nil {
			t.Fatal(err)
		}
		tg := env.newTarget(name, p, url, Load{Path: webhookPath, Body: newWebhookGen().body, Check: checkBaseline})
		defer tg.close()
		targets = append(targets, tg)
	}
	a, b := targets[0], targets[1]
	ratio, ratios, err := env.interleave(ctx, a, b)
	if err != nil {
		t.Fatalf("%v\n%s", err, &log)
	}
	if len(ratios) != 3 || len(a.rounds) != 4 || len(b.rounds) != 3 {
		t.Fatalf("ratios %v, %d and %d rounds", ratios, len(a.rounds), len(b.rounds))
	}
	if !(ratio > 0.2 && ratio < 5) || ratio != median(ratios) {
		t.Errorf("ratio %v of the same server against itself (rounds %v)", ratio, ratios)
	}
	if err := env.openLoop(ctx, b); err != nil {
		t.Fatal(err)
	}
	if err := b.readPeakRSS(); err != nil {
		t.Fatal(err)
	}
	m := b.measurement()
	if m.PeakRSS < 1e6 || m.ServerCPU < 0 || m.Open.OK == 0 || m.Closed.OK == 0 {
		t.Errorf("measurement %+v", m)
	}
	if want := m.Closed.Issued + m.Open.Issued; b.next != want || m.OK() != want {
		t.Errorf("next index %d, ok %d, want %d: indexes reused or requests lost", b.next, m.OK(), want)
	}
	if !strings.Contains(log.String(), "round 3/3: b ") {
		t.Errorf("log:\n%s", &log)
	}
}

func TestMedian(t *testing.T) {
	if !math.IsNaN(median(nil)) || median([]float64{3, 1, 2}) != 2 || median([]float64{4, 1, 3, 2}) != 2.5 {
		t.Error("median")
	}
	xs := []float64{3, 1, 2}
	median(xs)
	if xs[0] != 3 {
		t.Error("median sorted its argument")
	}
}
