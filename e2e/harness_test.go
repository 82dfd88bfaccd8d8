// Package e2e tests the real wagate binary from the outside: it builds ./cmd/wagate once, runs `wagate serve` as
// a child process on loopback, talks to it over HTTP like a provider does, kills it with SIGKILL, and checks
// what it promised against the store opened directly on the same SQLite file or PostgreSQL database.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wagate/wagate/internal/childproc"
	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/store/postgres"
	"github.com/wagate/wagate/internal/store/postgres/pgtest"
	"github.com/wagate/wagate/internal/store/sqlite"
)

// webhookSecret is the shared secret every test server requires on webhooks (WAGATE_WEBHOOK_SECRET).
const webhookSecret = "e2e-webhook-secret-0123456789abcdef"

// readyTimeout bounds how long a starting server may take to answer /readyz with 200.
const readyTimeout = 30 * time.Second

var (
	// binary is the wagate executable built by TestMain.
	binary string
	// buildErr is why building it failed; every test that needs the binary then fails with it.
	buildErr error
)

// TestMain builds ./cmd/wagate once for the whole package. A failed build does not skip anything: each test that
// starts the binary fails with the compiler's output.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wagate-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "wagate")
	buildErr = build(binary)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// build compiles the module's ./cmd/wagate into out.
func build(out string) error {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("the go command is needed to build wagate: %w", err)
	}
	gomod, err := exec.Command(goTool, "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("go env GOMOD: %w", err)
	}
	modFile := strings.TrimSpace(string(gomod))
	if modFile == "" || modFile == os.DevNull {
		return errors.New("go env GOMOD: not inside the wagate module")
	}
	root := filepath.Dir(modFile)
	cmd := exec.Command(goTool, "build", "-o", out, "./cmd/wagate")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/wagate in %s: %w\n%s", root, err, b)
	}
	return nil
}

// server is one running `wagate serve` child process.
type server struct {
	t       *testing.T
	URL     string // http://127.0.0.1:port, no trailing slash
	LogPath string // the child's stdout and stderr
	p       *childproc.Proc
}

// start runs `wagate serve` with a clean environment (no WAGATE_* variables from the caller's), listening on a
// free loopback port, logging at warn into a file that is printed when the test fails, with the webhook secret
// set, plus env (which may override WAGATE_DATA_DIR, set WAGATE_DATABASE_URL, ...). It returns once /readyz
// answers 200. The process is SIGKILLed at cleanup if still running. An env WAGATE_LISTEN of 127.0.0.1:port
// (a port from freePort) makes the server listen, and be probed, there.
func start(t *testing.T, env map[string]string) *server {
	t.Helper()
	if buildErr != nil {
		t.Fatalf("building wagate failed: %v", buildErr)
	}
	for attempt := 1; ; attempt++ {
		s, err := launch(t, env)
		if errors.Is(err, errPortTaken) && attempt < 3 {
			t.Logf("port taken between choosing and listening; retrying on another port")
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
}

// errPortTaken means wagate could not listen on the port it was given (someone took it in the meantime).
var errPortTaken = errors.New("wagate could not listen on its port")

func launch(t *testing.T, env map[string]string) (*server, error) {
	t.Helper()
	var port string
	if listen, ok := env["WAGATE_LISTEN"]; ok {
		// The caller fixed the address (to keep it across a restart): probe that one.
		_, p, err := net.SplitHostPort(listen)
		if err != nil {
			return nil, fmt.Errorf("WAGATE_LISTEN %q: %w", listen, err)
		}
		port = p
	} else {
		port = freePort(t)
	}
	vars := map[string]string{
		"WAGATE_LISTEN":         "127.0.0.1:" + port,
		"WAGATE_PUBLIC_URL":     "http://127.0.0.1:" + port,
		"WAGATE_DATA_DIR":       t.TempDir(),
		"WAGATE_LOG_LEVEL":      "warn",
		"WAGATE_WEBHOOK_SECRET": webhookSecret,
	}
	for k, v := range env {
		vars[k] = v
	}
	kv := make([]string, 0, len(vars))
	for k, v := range vars {
		kv = append(kv, k+"="+v)
	}
	p, err := childproc.Start("wagate", binary, []string{"serve"}, childproc.Env(kv...))
	if err != nil {
		return nil, err
	}
	s := &server{t: t, URL: "http://127.0.0.1:" + port, LogPath: p.LogPath(), p: p}
	t.Cleanup(func() {
		_ = p.Kill() // a no-op error when the test stopped it already
		if t.Failed() {
			t.Logf("wagate log (%s, pid %d):\n%s", p.LogPath(), p.Pid(), tail(p.LogPath(), 64<<10))
		}
		p.RemoveLog()
	})
	if err := childproc.WaitReady(context.Background(), p, s.URL+"/readyz", readyTimeout); err != nil {
		if p.Exited() && strings.Contains(tail(p.LogPath(), 64<<10), "cannot listen") {
			return nil, errPortTaken
		}
		return nil, err
	}
	return s, nil
}

var (
	portsMu sync.Mutex
	// portsGiven are the ports freePort handed out: never twice in one run, so that a server of this package
	// can never answer another's readiness probe.
	portsGiven = map[string]bool{}
)

// freePort returns a loopback TCP port that was free a moment ago and that no other server of this run got.
func freePort(t *testing.T) string {
	t.Helper()
	portsMu.Lock()
	defer portsMu.Unlock()
	for {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		ln.Close()
		if !portsGiven[port] {
			portsGiven[port] = true
			return port
		}
	}
}

// Kill sends SIGKILL, as a crash or the OOM killer would, and waits until the process is gone.
func (s *server) Kill() {
	s.t.Helper()
	if err := s.p.Kill(); err != nil {
		s.t.Fatal(err)
	}
}

// Stop sends SIGTERM and waits for a clean exit (status 0).
func (s *server) Stop() {
	s.t.Helper()
	if err := s.p.Stop(); err != nil {
		s.t.Fatal(err)
	}
	if err := s.p.Err(); err != nil {
		s.t.Errorf("wagate did not exit cleanly after SIGTERM: %v", err)
	}
}

// tail returns the last max bytes of the file at path.
func tail(path string, max int64) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	if int64(len(b)) > max {
		b = append([]byte("...\n"), b[int64(len(b))-max:]...)
	}
	return string(b)
}

// database is where a test server keeps its state: the env that points wagate at it, and how the test opens the
// same database directly to check what wagate committed.
type database struct {
	name string
	env  map[string]string
	open func(t *testing.T) *store.Store
}

// sqliteDB is a SQLite database in a data directory of its own, kept across restarts.
// onBothDatabases runs fn as a parallel subtest on SQLite and on PostgreSQL.
func onBothDatabases(t *testing.T, fn func(*testing.T, database)) {
	for _, tc := range []struct {
		name string
		db   func(*testing.T) database
	}{{"sqlite", sqliteDB}, {"postgres", postgresDB}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fn(t, tc.db(t))
		})
	}
}

func sqliteDB(t *testing.T) database {
	dir := t.TempDir()
	return database{
		name: "sqlite",
		env:  map[string]string{"WAGATE_DATA_DIR": dir},
		open: func(t *testing.T) *store.Store {
			t.Helper()
			db, err := sqlite.Open(context.Background(), filepath.Join(dir, "wagate.db"))
			if err != nil {
				t.Fatalf("open sqlite: %v", err)
			}
			st := store.New(db, nil)
			t.Cleanup(func() { st.Close() })
			return st
		},
	}
}

// postgresDB is a fresh PostgreSQL database (skipped without WAGATE_TEST_POSTGRES_URL, failed under CI).
func postgresDB(t *testing.T) database {
	url := pgtest.NewDatabase(t)
	return database{
		name: "postgres",
		env:  map[string]string{"WAGATE_DATABASE_URL": url},
		open: func(t *testing.T) *store.Store {
			t.Helper()
			db, err := postgres.Open(context.Background(), url, 4)
			if err != nil {
				t.Fatalf("open postgres: %v", err)
			}
			st := store.New(db, nil)
			t.Cleanup(func() { st.Close() })
			return st
		},
	}
}

// newClient returns the HTTP client of a test: bounded in time, with enough idle connections for its posters.
func newClient(conns int) *http.Client {
	return &http.Client{
		Timeout: 15 * time.Second,
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
			MaxIdleConns:        conns,
			MaxIdleConnsPerHost: conns,
			IdleConnTimeout:     30 * time.Second,
		},
	}
}

// ackBody is wagate's answer to a webhook POST.
type ackBody struct {
	OK       bool   `json:"ok"`
	Received *int   `json:"received,omitempty"`
	Stored   *int   `json:"stored,omitempty"`
	Statuses *int   `json:"statuses,omitempty"`
	Updated  *int   `json:"updated,omitempty"`
	Queued   bool   `json:"queued,omitempty"`
	Warning  string `json:"warning,omitempty"`
	Error    string `json:"error,omitempty"`
}

// String renders the answer as the JSON it came as, for failure messages.
func (a ackBody) String() string {
	b, _ := json.Marshal(a)
	return string(b)
}

// answer is what one webhook POST got back.
type answer struct {
	Status  int
	Ack     ackBody
	EventID string // X-Wagate-Event-Id
}

// acked reports whether wagate acknowledged the webhook: 200, "ok":true and an event id. Only then is it
// promised durable.
func (a answer) acked() bool { return a.Status == http.StatusOK && a.Ack.OK && a.EventID != "" }

// Ways a poster authenticates a webhook.
const (
	authHeader = iota // X-Wagate-Webhook-Secret header
	authQuery         // ?token= query parameter
	authWrong         // a wrong secret in the header
	authNone          // no secret at all
)

// postWebhook posts body to the shared webhook path. An error means no complete answer arrived.
func postWebhook(c *http.Client, base string, body []byte, auth int) (answer, error) {
	url := base + "/webhooks/whatsapp"
	if auth == authQuery {
		url += "?token=" + webhookSecret
	}
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	switch auth {
	case authHeader:
		req.Header.Set("X-Wagate-Webhook-Secret", webhookSecret)
	case authWrong:
		req.Header.Set("X-Wagate-Webhook-Secret", "not-the-secret")
	}
	resp, err := c.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	a := answer{Status: resp.StatusCode, EventID: resp.Header.Get("X-Wagate-Event-Id")}
	if err := json.Unmarshal(raw, &a.Ack); err != nil {
		return a, fmt.Errorf("answer %d is not JSON: %q", resp.StatusCode, raw)
	}
	return a, nil
}

// waitSettled waits until no stored event is pending (processing deferred to the job queue has run) and
// returns the event counts by state.
func waitSettled(t *testing.T, st *store.Store) map[string]int {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		counts, err := st.EventCounts(context.Background())
		if err != nil {
			t.Fatalf("event counts: %v", err)
		}
		if counts[store.EventPending] == 0 {
			return counts
		}
		if time.Now().After(deadline) {
			t.Fatalf("events still pending after 30s: %v", counts)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// allEvents lists every stored event (without bodies).
func allEvents(t *testing.T, st *store.Store) []store.Event {
	t.Helper()
	var out []store.Event
	cursor := ""
	for {
		page, err := st.EventList(context.Background(), store.EventFilter{Cursor: cursor, Limit: 500})
		if err != nil {
			t.Fatalf("event list: %v", err)
		}
		out = append(out, page.Items...)
		if page.Next == "" {
			return out
		}
		cursor = page.Next
	}
}

// messageTotals walks every conversation of channel and returns its messages by provider id (a provider id seen
// twice counts twice), the number of messages, and the sum of the conversations' unread counts (each inbound
// message adds one when it is stored, so the sum counts effects applied).
func messageTotals(t *testing.T, st *store.Store, channel string) (byProviderID map[string]int, messages, unread, conversations int) {
	t.Helper()
	ctx := context.Background()
	byProviderID = map[string]int{}
	cursor := ""
	for {
		page, err := st.ConversationList(ctx, store.ConversationFilter{Channel: channel, Cursor: cursor, Limit: 500})
		if err != nil {
			t.Fatalf("conversation list: %v", err)
		}
		for _, conv := range page.Items {
			conversations++
			unread += conv.UnreadCount
			mcur := ""
			for {
				mp, err := st.MessageList(ctx, store.MessageFilter{ConversationID: conv.ID, Cursor: mcur, Limit: 500})
				if err != nil {
					t.Fatalf("message list: %v", err)
				}
				for _, m := range mp.Items {
					messages++
					byProviderID[m.ProviderID]++
				}
				if mp.Next == "" {
					break
				}
				mcur = mp.Next
			}
		}
		if page.Next == "" {
			return byProviderID, messages, unread, conversations
		}
		cursor = page.Next
	}
}
