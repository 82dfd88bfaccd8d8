package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wagate/wagate/internal/provider/providertest"
	"github.com/wagate/wagate/internal/server/servertest"
	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/store/postgres/pgtest"
	"github.com/wagate/wagate/internal/wa"
)

// TestMigrateData_SQLiteToPostgres fills a SQLite wagate with inbound messages and sends the provider refuses
// for now, stops it, copies it into PostgreSQL, and starts wagate there: every row arrived, and the waiting sends
// go out once the provider is back.
func TestMigrateData_SQLiteToPostgres(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fake := providertest.New(t, providertest.Options{Kind: providertest.Kind360Dialog, APIKey: "k"})
	fake.Fail(providertest.EndpointSend, providertest.Fault{Status: 503})
	env := map[string]string{"WAGATE_DATA_DIR": dir, "WAGATE_PROVIDER": "360dialog", "WHATSAPP_API_KEY": "k",
		"WAGATE_PROVIDER_BASE_URL": fake.URL(), "WAGATE_RATE_PER_SECOND": "0", "WAGATE_SEND_MAX_BACKOFF": "2s", "WAGATE_API_OPEN": "true", "WAGATE_WINDOW_CHECK": "false"}
	const inbound, sends = 40, 5
	var want map[string]int
	t.Run("fill SQLite", func(t *testing.T) {
		inst := servertest.Start(t, servertest.Listen(t), "sqlite", env)
		for i := 0; i < inbound; i++ {
			resp, err := http.Post(inst.URL+"/webhooks/whatsapp", "application/json", strings.NewReader(textWebhook(i)))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("webhook: %d", resp.StatusCode)
			}
		}
		for i := 0; i < sends; i++ {
			body, _ := json.Marshal(map[string]any{"to": fmt.Sprintf("+3460011%04d", i), "type": "text", "text": map[string]string{"body": "hola"}})
			resp, err := http.Post(inst.URL+"/v1/messages", "application/json", bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 202 {
				t.Fatalf("send: %d", resp.StatusCode)
			}
		}
		// Every send has been tried and refused at least once: their jobs wait for a retry.
		deadline := time.Now().Add(20 * time.Second)
		for sendAttempts(fake) < sends {
			if time.Now().After(deadline) {
				t.Fatal("sends were not attempted")
			}
			time.Sleep(20 * time.Millisecond)
		}
		want = countRows(t, inst.Store)
	})
	if t.Failed() {
		return
	}
	url := pgtest.NewDatabase(t)
	code, stdout, stderr := run(t, map[string]string{"WAGATE_DATA_DIR": dir}, "migrate-data", "--to", url)
	if code != 0 {
		t.Fatalf("migrate-data: %d\n%s\n%s", code, stdout, stderr)
	}
	if m := regexp.MustCompile(`messages\s+(\d+)\s+(\d+)`).FindStringSubmatch(stdout); m == nil || m[1] != m[2] || m[1] != fmt.Sprint(inbound+sends) {
		t.Fatalf("report:\n%s", stdout)
	}
	if m := regexp.MustCompile(`waiting jobs\s+(\d+)`).FindStringSubmatch(stdout); m == nil || m[1] != fmt.Sprint(sends) {
		t.Fatalf("jobs in report:\n%s", stdout)
	}
	// A second run refuses: the target is not empty.
	if code, _, stderr := run(t, map[string]string{"WAGATE_DATA_DIR": dir}, "migrate-data", "--to", url); code != 1 || !strings.Contains(stderr, "empty database") {
		t.Fatalf("second run: %d %s", code, stderr)
	}

	fake.Clear()
	pgEnv := map[string]string{}
	for k, v := range env {
		pgEnv[k] = v
	}
	pgEnv["WAGATE_DATABASE_URL"] = url
	pg := servertest.Start(t, servertest.Listen(t), "postgres", pgEnv)
	if got := countRows(t, pg.Store); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("PostgreSQL holds %v, SQLite held %v", got, want)
	}
	deadline := time.Now().Add(30 * time.Second)
	for fake.SentCount() < sends {
		if time.Now().After(deadline) {
			t.Fatalf("the waiting sends did not go out from PostgreSQL: %d of %d", fake.SentCount(), sends)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func countRows(t *testing.T, st *store.Store) map[string]int {
	t.Helper()
	ctx := t.Context()
	out := map[string]int{}
	convs, err := st.ConversationList(ctx, store.ConversationFilter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	out["conversations"] = len(convs.Items)
	for _, c := range convs.Items {
		msgs, err := st.MessageList(ctx, store.MessageFilter{ConversationID: c.ID, Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs.Items {
			out["messages_"+m.Direction]++
			if m.Status == wa.StatusFailed {
				out["failed"]++
			}
		}
	}
	ev, err := st.EventCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range ev {
		out["events_"+k] = v
	}
	return out
}

// sendAttempts counts the distinct recipients the fake was asked to send to.
func sendAttempts(fake *providertest.Server) int {
	seen := map[string]bool{}
	for _, r := range fake.Requests() {
		if r.Endpoint == providertest.EndpointSend {
			var b struct{ To string }
			_ = json.Unmarshal(r.Body, &b)
			seen[b.To] = true
		}
	}
	return len(seen)
}
