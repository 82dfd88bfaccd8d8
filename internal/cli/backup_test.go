package cli

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/wagate/wagate/internal/server/servertest"
)

func textWebhook(i int) string {
	return fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"34600000000","phone_number_id":"1"},"contacts":[{"profile":{"name":"Ana %d"},"wa_id":"3460011%04d"}],"messages":[{"from":"3460011%04d","id":"wamid.backup%06d","timestamp":"1763700000","type":"text","text":{"body":"hola %d"}}]}}]}]}`, i, i%100, i%100, i, i)
}

func messageRows(t *testing.T, stdout string) int {
	t.Helper()
	m := regexp.MustCompile(`messages\s+(\d+) rows`).FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("no message count in:\n%s", stdout)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// TestBackup_OnlineCopyUnderLoad backs up a running wagate while webhooks arrive: the copy holds at least every
// message acknowledged before the backup began, passes the integrity check, and a wagate started on it serves
// them.
func TestBackup_OnlineCopyUnderLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	inst := servertest.Start(t, servertest.Listen(t), "sqlite", map[string]string{"WAGATE_DATA_DIR": dir})
	post := func(i int) {
		resp, err := http.Post(inst.URL+"/webhooks/whatsapp", "application/json", strings.NewReader(textWebhook(i)))
		if err != nil {
			t.Error(err)
			return
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("webhook %d: %d", i, resp.StatusCode)
		}
	}
	for i := 0; i < 50; i++ {
		post(i)
	}
	var acked atomic.Int64
	acked.Store(50)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 50; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			post(i)
			acked.Add(1)
		}
	}()
	env := map[string]string{"WAGATE_DATA_DIR": dir}
	out := filepath.Join(t.TempDir(), "copy.db")
	before := acked.Load()
	code, stdout, stderr := run(t, env, "backup", "--out", out)
	close(stop)
	<-done
	if code != 0 {
		t.Fatalf("backup: %d %s", code, stderr)
	}
	if n := messageRows(t, stdout); int64(n) < before || int64(n) > acked.Load() {
		t.Fatalf("backup holds %d messages; %d were acknowledged before it began and %d in all", n, before, acked.Load())
	}
	if !strings.Contains(stdout, "integrity check ok") {
		t.Fatalf("stdout: %s", stdout)
	}
	// A second backup to the same file needs --force.
	if code, _, stderr := run(t, env, "backup", "--out", out); code != 1 || !strings.Contains(stderr, "--force") {
		t.Fatalf("overwrite: %d %s", code, stderr)
	}
	code, stdout, stderr = run(t, env, "backup", "--out", out, "--force")
	if code != 0 || int64(messageRows(t, stdout)) != acked.Load() {
		t.Fatalf("quiet backup: %d %s %s (acked %d)", code, stdout, stderr, acked.Load())
	}
	if _, err := os.Stat(out + ".partial"); !os.IsNotExist(err) {
		t.Fatalf("partial file left behind: %v", err)
	}

	// Restore: a wagate on a data directory holding the copy serves the messages.
	restored := t.TempDir()
	b, _ := os.ReadFile(out)
	if err := os.WriteFile(filepath.Join(restored, "wagate.db"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	inst2 := servertest.Start(t, servertest.Listen(t), "sqlite", map[string]string{"WAGATE_DATA_DIR": restored})
	counts, err := inst2.Store.EventCounts(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var events int64
	for _, n := range counts {
		events += int64(n)
	}
	if events != acked.Load() {
		t.Fatalf("restored wagate has %d events, want %d", events, acked.Load())
	}
}

func TestBackup_Refusals(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := map[string]string{"WAGATE_DATA_DIR": dir}
	if code, _, stderr := run(t, env, "backup"); code != 2 || !strings.Contains(stderr, "--out is required") {
		t.Fatalf("no --out: %d %s", code, stderr)
	}
	if code, _, stderr := run(t, env, "backup", "--out", filepath.Join(t.TempDir(), "x.db")); code != 1 || !strings.Contains(stderr, "no database") {
		t.Fatalf("no database: %d %s", code, stderr)
	}
	if code, _, _ := run(t, env, "migrate"); code != 0 {
		t.Fatal("migrate")
	}
	if code, _, stderr := run(t, env, "backup", "--out", filepath.Join(dir, "wagate.db")); code != 2 || !strings.Contains(stderr, "live database") {
		t.Fatalf("onto itself: %d %s", code, stderr)
	}
	pg := map[string]string{"WAGATE_DATABASE_URL": "postgres://u:secret@127.0.0.1:1/db"}
	if code, _, stderr := run(t, pg, "backup", "--out", "x"); code != 1 || !strings.Contains(stderr, "pg_dump") || strings.Contains(stderr, "secret") {
		t.Fatalf("postgres: %d %s", code, stderr)
	}
}
