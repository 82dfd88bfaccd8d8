package main

import (
	"fmt"
	"strings"
	"time"
)

// result is what one drill on one database found.
type result struct {
	Drill, DB string
	// Acked counts what wagate acknowledged (webhooks answered 200, sends answered 202, events due).
	Acked int
	// Lost counts acknowledged work that is missing at the end; Dups counts effects applied (or sends made)
	// more than once.
	Lost, Dups int
	// Allowed is how many duplicates the documentation allows, in words ("0", "≤ 100", ...).
	Allowed string
	// Figures is the drill's one-line account of what happened.
	Figures []string
	// Violations are the broken promises; Errors are failures to run the drill at all.
	Violations, Errors []string
	Skipped            string
	Took               time.Duration
}

func (r *result) figure(format string, args ...any) {
	r.Figures = append(r.Figures, fmt.Sprintf(format, args...))
}

func (r *result) violate(format string, args ...any) {
	r.Violations = append(r.Violations, fmt.Sprintf(format, args...))
}

func (r *result) fail(err error) { r.Errors = append(r.Errors, err.Error()) }

func (r result) failed() bool { return len(r.Violations) > 0 || len(r.Errors) > 0 }

func (r result) status() string {
	switch {
	case r.Skipped != "":
		return "skipped"
	case len(r.Errors) > 0:
		return "ERROR"
	case len(r.Violations) > 0:
		return "VIOLATED"
	}
	return "ok"
}

// line is the drill's one-line report (plus its violations and errors, one per line).
func (r result) line() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-8s %-16s %-8s", r.status(), r.Drill, r.DB)
	if r.Skipped != "" {
		fmt.Fprintf(&b, " %s", r.Skipped)
		return b.String()
	}
	fmt.Fprintf(&b, " acked %d, lost %d, duplicates %d (allowed %s) (%s): %s", r.Acked, r.Lost, r.Dups, r.Allowed,
		r.Took.Round(time.Second), strings.Join(r.Figures, "; "))
	for _, v := range r.Violations {
		fmt.Fprintf(&b, "\n         VIOLATION: %s", v)
	}
	for _, e := range r.Errors {
		fmt.Fprintf(&b, "\n         ERROR: %s", e)
	}
	return b.String()
}

// table renders the summary as a markdown table.
func table(rs []result) string {
	var b strings.Builder
	b.WriteString("| drill | database | acknowledged | lost | duplicates | allowed | time | result |\n")
	b.WriteString("|---|---|---:|---:|---:|---:|---:|---|\n")
	for _, r := range rs {
		if r.Skipped != "" {
			fmt.Fprintf(&b, "| %s | %s | | | | | | skipped: %s |\n", r.Drill, r.DB, r.Skipped)
			continue
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %d | %d | %s | %s | %s |\n", r.Drill, r.DB, r.Acked, r.Lost, r.Dups, r.Allowed,
			r.Took.Round(time.Second), r.status())
	}
	return b.String()
}

func verdict(rs []result) string {
	bad := 0
	for _, r := range rs {
		if r.failed() {
			bad++
		}
	}
	if bad == 0 {
		return "no violation"
	}
	return fmt.Sprintf("%d drills found violations or could not run", bad)
}
