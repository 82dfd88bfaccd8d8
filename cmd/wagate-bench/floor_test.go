package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/wagate/wagate/internal/store/postgres/pgtest"
)

// TestFloorHandler checks the floor on both databases: it answers like the baseline once a webhook is stored,
// stores a retried body once (by its message or receipt id, or by its hash when it names none), and stores
// nothing for a body that is not JSON or not shaped like a webhook.
func TestFloorHandler(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			dsn := t.TempDir()
			if db == "postgres" {
				dsn = pgtest.NewDatabase(t)
			}
			ctx := context.Background()
			s, err := openFloor(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer s.close()
			srv := httptest.NewServer(floorHandler(s))
			defer srv.Close()
			g := newWebhookGen()
			post := func(body []byte) int {
				t.Helper()
				resp, err := http.Post(srv.URL+webhookPath, "application/json", bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				answer := readSome(resp)
				if resp.StatusCode == http.StatusOK {
					if err := checkBaseline(0, resp.StatusCode, []byte(answer)); err != nil {
						t.Errorf("answer %q: %v", answer, err)
					}
				}
				return resp.StatusCode
			}
			for _, b := range [][]byte{g.body(0), g.body(0), g.body(1), g.body(1), []byte(`{"other":1}`), []byte(`{"other":1}`), []byte(`{"other":2}`)} {
				if code := post(b); code != http.StatusOK {
					t.Fatalf("%s: HTTP %d", b, code)
				}
			}
			for _, b := range []string{"{", `{"entry":"x"}`} {
				if code := post([]byte(b)); code != http.StatusBadRequest {
					t.Errorf("%s: HTTP %d, want 400", b, code)
				}
			}
			n, err := s.count(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n != 4 {
				t.Errorf("%d rows, want 4 (a message, a receipt, two bodies without ids)", n)
			}
			if err := checkFloorRows(ctx, dsn, 4); err != nil {
				t.Error(err)
			}
			if err := checkFloorRows(ctx, dsn, 5); err == nil || !strings.Contains(err.Error(), "5 webhooks acknowledged but 4 stored") {
				t.Errorf("a missing row: %v", err)
			}
		})
	}
}

func TestFloorProviderID(t *testing.T) {
	g := newWebhookGen()
	for i, want := range []string{g.wamid(0, "in"), g.wamid(1, "out")} {
		if got := decode(t, g.body(i)).providerID(g.body(i)); got != want {
			t.Errorf("body %d: %q, want %q", i, got, want)
		}
	}
	for _, b := range []string{`{"entry":[]}`, `{"entry":[{"changes":[{"value":{"messages":[{"id":""}]}}]}]}`, `{"object":"x"}`} {
		if got := decode(t, []byte(b)).providerID([]byte(b)); !strings.HasPrefix(got, "sha256:") || len(got) != 7+64 {
			t.Errorf("%s: %q, want the body's hash", b, got)
		}
	}
}

// TestRunFloorOnly runs the floor targets end to end, as child processes on fresh databases, and checks their
// rows: a rate and ratio, no latency and no goal.
func TestRunFloorOnly(t *testing.T) {
	if testing.Short() {
		t.Skip("runs servers for a second")
	}
	admin := pgtest.URL(t)
	out := t.TempDir() + "/bench.md"
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-only", "ingest,floor-sqlite,floor-postgres", "-duration", "400ms", "-warmup", "100ms",
		"-clients", "4", "-rounds", "2", "-rate", "200", "-out", out, "-wagate", "/nonexistent"}, &stdout, &stderr,
		func(k string) string {
			if k == EnvPostgresURL {
				return admin
			}
			return ""
		})
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, &stdout, &stderr)
	}
	for _, db := range []string{"SQLite", "PostgreSQL"} {
		r := regexp.MustCompile(`(?m)^\| webhook ingest +\| floor: durable, deduplicated raw body, ` + db + ` +\| +[0-9,]+ \| +[0-9.]+ \| +– \| +– \| +[0-9]+ MB \|`)
		if !r.MatchString(stdout.String()) || !strings.Contains(stdout.String()+stderr.String(), "deduplicated raw body, "+db+": stored and checked: ") {
			t.Errorf("%s: stdout:\n%s\nstderr:\n%s", db, &stdout, &stderr)
		}
		if regexp.MustCompile(`deduplicated raw body, ` + db + `: ratio [0-9.]+ ≥`).MatchString(stdout.String()) {
			t.Errorf("%s: the floor has no goal: stdout:\n%s", db, &stdout)
		}
	}
	if _, err := os.Stat(out); err != nil {
		t.Error(err)
	}
}

func decode(t *testing.T, b []byte) cloudIDs {
	t.Helper()
	var v cloudIDs
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}
