package main

import (
	"bufio"
	"bytes"
	"context"
	"debug/buildinfo"
	"fmt"
	"math"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// report is the outcome of a run: the table and what goes below it.
type report struct {
	Started, Finished time.Time
	Opts              options
	Wagate            string
	Rows              []Row
	// Goals has one line per scenario that ran, e.g. "goal: ratio >= 0.50; peak RSS < 150 MB".
	Goals []string
	// About has each scenario's description (markdown list items) that ran.
	About  []string
	Errors []string
	Notes  []string
	// LoadStart and LoadEnd are the machine's load averages (/proc/loadavg) when the run started and ended,
	// "" when unknown: other work on a shared machine shows there.
	LoadStart, LoadEnd string
}

var tableHeader = []string{"benchmark", "target", "rate (req/s)", "ratio to baseline", "p50 @ fixed rate", "p99 @ fixed rate", "peak RSS"}

// rightAligned marks the numeric columns.
var rightAligned = []bool{false, false, true, true, true, true, true}

func (r Row) cells() []string {
	if r.Skipped != "" {
		return []string{r.Benchmark, r.Target + " — " + r.Skipped, "–", "–", "–", "–", "–"}
	}
	ratio := "–"
	if !math.IsNaN(r.Ratio) {
		ratio = fmt.Sprintf("%.2f", r.Ratio)
	}
	rss := "–"
	if r.PeakRSS > 0 {
		rss = formatMB(r.PeakRSS)
	}
	return []string{r.Benchmark, r.Target, formatRate(r.Rate), ratio, formatLatency(r.P50), formatLatency(r.P99), rss}
}

// table renders the rows as a markdown table with padded columns, readable as plain text too.
func (rep *report) table() string {
	rows := [][]string{tableHeader}
	for _, r := range rep.Rows {
		rows = append(rows, r.cells())
	}
	width := make([]int, len(tableHeader))
	for _, row := range rows {
		for i, c := range row {
			width[i] = max(width[i], utf8.RuneCountInString(c), 3)
		}
	}
	var b strings.Builder
	line := func(row []string) {
		b.WriteString("|")
		for i, c := range row {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			if rightAligned[i] {
				b.WriteString(" " + pad + c + " |")
			} else {
				b.WriteString(" " + c + pad + " |")
			}
		}
		b.WriteString("\n")
	}
	line(rows[0])
	b.WriteString("|")
	for i, w := range width {
		if rightAligned[i] {
			b.WriteString(" " + strings.Repeat("-", w-1) + ": |")
		} else {
			b.WriteString(" " + strings.Repeat("-", w) + " |")
		}
	}
	b.WriteString("\n")
	for _, row := range rows[1:] {
		line(row)
	}
	return b.String()
}

// goalLines lists each row's goals with PASS or MISS.
func (rep *report) goalLines() []string {
	var out []string
	for _, r := range rep.Rows {
		if len(r.Goals) == 0 {
			continue
		}
		var parts []string
		for _, g := range r.Goals {
			verdict := "MISS"
			if g.Pass {
				verdict = "PASS"
			}
			parts = append(parts, g.Desc+" "+verdict)
		}
		out = append(out, fmt.Sprintf("%s, %s: %s", r.Benchmark, r.Target, strings.Join(parts, "; ")))
	}
	return out
}

// runLines describe the machine, the build and the parameters.
func (rep *report) runLines() []string {
	goVersion, rev := binaryInfo(rep.Wagate)
	cpu := fmt.Sprintf("%d CPUs", runtime.NumCPU())
	if m := cpuModel(); m != "" {
		cpu += " (" + m + ")"
	}
	lines := []string{
		"date: " + rep.Started.UTC().Format("2006-01-02 15:04 MST") + fmt.Sprintf(" (the run took %s)", rep.Finished.Sub(rep.Started).Round(time.Second)),
		"go version: " + goVersion + " " + runtime.GOOS + "/" + runtime.GOARCH,
		"nproc: " + cpu,
	}
	if rev != "" {
		lines = append(lines, "wagate: "+rev)
	}
	if rep.LoadStart != "" && rep.LoadEnd != "" {
		lines = append(lines, fmt.Sprintf("load average (1, 5, 15 min) at the start: %s; at the end: %s", rep.LoadStart, rep.LoadEnd))
	}
	o := rep.Opts
	lines = append(lines, fmt.Sprintf("parameters: -duration %v -warmup %v -clients %d -rounds %d -rate %s", o.Duration, o.Warmup,
		o.Clients, o.Rounds, strconv.FormatFloat(o.Rate, 'f', -1, 64)))
	for _, k := range []string{"GOMAXPROCS", "GOGC", "GOMEMLIMIT"} {
		if v := os.Getenv(k); v != "" {
			lines = append(lines, fmt.Sprintf("environment: %s=%s (for every server)", k, v))
		}
	}
	return lines
}

// about describes the scenarios that ran.
func (rep *report) about() string {
	var b strings.Builder
	for _, a := range rep.About {
		b.WriteString(strings.TrimSpace(a) + "\n")
	}
	return b.String()
}

// goalsHeading is the line of goals the rows are checked against: each scenario's that ran.
func (rep *report) goalsHeading() string {
	return strings.Join(rep.Goals, "\n")
}

// text is what the command prints: the table, the goals, the run and any errors.
func (rep *report) text() string {
	var b strings.Builder
	b.WriteString("\n" + rep.table() + "\n")
	b.WriteString(rep.goalsHeading() + "\n")
	for _, l := range rep.goalLines() {
		b.WriteString("  " + l + "\n")
	}
	b.WriteString("\n")
	for _, l := range rep.runLines() {
		b.WriteString(l + "\n")
	}
	for _, n := range rep.Notes {
		b.WriteString("note: " + n + "\n")
	}
	if len(rep.Errors) > 0 {
		b.WriteString("\nERRORS:\n")
		for _, e := range rep.Errors {
			b.WriteString(indent(e, "  ") + "\n")
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// markdown is the file written to -out.
func (rep *report) markdown() string {
	var b strings.Builder
	b.WriteString("# Benchmarks\n\n")
	b.WriteString("Generated by `make bench` (`scripts/bench.sh`, which builds `bin/wagate` and runs `cmd/wagate-bench`); do not edit by hand.\n")
	b.WriteString("Every figure is measured against a baseline in the same run, on the same machine: the ratio is the figure to compare\n")
	b.WriteString("between machines and runs, the absolute rates are this machine's.\n\n")
	b.WriteString(rep.table() + "\n")
	b.WriteString(rep.goalsHeading() + ":\n\n")
	for _, l := range rep.goalLines() {
		b.WriteString("- " + l + "\n")
	}
	b.WriteString("\nRun:\n\n")
	for _, l := range rep.runLines() {
		b.WriteString("- " + l + "\n")
	}
	b.WriteString(`
## What is measured

` + rep.about() + `- **rate** (webhook ingest): closed loop, ` + "`-clients`" + ` connections each posting its next webhook as soon as the last is
  answered: the highest rate sustained, over ` + "`-duration`" + ` split into ` + "`-rounds`" + ` rounds (the first after
  ` + "`-warmup`" + `, the others after a short warm-up of their own). The send rounds share ` + "`-duration`" + ` the same way.
- **ratio**: the target's rounds alternate with the baseline's (baseline, target, baseline, ..., baseline), each
  target round is divided by the mean of the baseline rounds just before and after it, and the ratio is the median
  of those. Other work on a shared machine comes and goes over seconds: alternating makes both see the same
  machine, and the median keeps one slow spell from deciding the figure. The baseline row's rate is the mean over
  all its rounds.
- **p50 / p99 @ fixed rate** (webhook ingest): open loop at ` + "`-rate`" + ` requests per second on a fixed schedule; each
  latency runs from the request's scheduled send time to its answer, so a server that stalls is charged for every
  request it held back (no coordinated omission). The send rows use a fixed rate of their own (above).
- **peak RSS**: the server process's VmHWM (/proc/<pid>/status) after its loads.
- Each wagate target starts on a fresh database (a new temporary data directory; a new PostgreSQL database).

## Notes

- The load generator runs on the same machine as the server and competes with it for the CPUs (` + strconv.Itoa(runtime.NumCPU()) + ` here).
  The baseline and wagate pay the same, so the ratio is fair, but neither absolute rate is what the server would
  do with the machine to itself.
- PostgreSQL runs on the same machine as well: its server processes take CPU from wagate and the load generator,
  and their memory is not in wagate's peak RSS.
`)
	for _, n := range rep.Notes {
		b.WriteString("- " + n + "\n")
	}
	return b.String()
}

// binaryInfo returns the Go version wagate was built with and its VCS revision, falling back to this binary's
// Go version.
func binaryInfo(path string) (goVersion, revision string) {
	goVersion = runtime.Version()
	bi, err := buildinfo.ReadFile(path)
	if err != nil {
		return goVersion, ""
	}
	goVersion = bi.GoVersion
	var rev, modified, at string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		case "vcs.time":
			at = s.Value
		}
	}
	if rev == "" {
		return goVersion, gitRevision()
	}
	revision = "revision " + rev[:min(12, len(rev))]
	if at != "" {
		revision += " of " + at
	}
	if modified == "true" {
		revision += " with uncommitted changes"
	}
	return goVersion, revision
}

// gitRevision describes the checkout in the working directory (wagate built without VCS stamping), or "".
func gitRevision() string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "git", "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		return ""
	}
	rev := "commit " + strings.TrimSpace(string(out))
	if st, err := exec.CommandContext(ctx, "git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(bytes.TrimSpace(st)) > 0 {
		rev += " with uncommitted changes"
	}
	return rev
}

// loadAvg returns the 1, 5 and 15 minute load averages of /proc/loadavg, or "".
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], ", ")
}

// cpuModel returns the first "model name" of /proc/cpuinfo, or "".
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.Join(strings.Fields(v), " ")
		}
	}
	return ""
}

// formatRate writes a rate with thousands separators: 12,345.
func formatRate(r float64) string {
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return "–"
	}
	s := strconv.FormatInt(int64(math.Round(r)), 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// formatLatency writes a latency in milliseconds with about three significant digits.
func formatLatency(d time.Duration) string {
	if d <= 0 {
		return "–"
	}
	ms := float64(d) / float64(time.Millisecond)
	switch {
	case ms < 10:
		return fmt.Sprintf("%.2f ms", ms)
	case ms < 100:
		return fmt.Sprintf("%.1f ms", ms)
	}
	return fmt.Sprintf("%.0f ms", ms)
}

// formatMB writes a size in megabytes (10^6 bytes).
func formatMB(n int64) string {
	return fmt.Sprintf("%.0f MB", float64(n)/1e6)
}

// formatMicros writes a short duration in microseconds: 45 µs.
func formatMicros(d time.Duration) string {
	if d <= 0 {
		return "–"
	}
	return formatRate(float64(d)/float64(time.Microsecond)) + " µs"
}
