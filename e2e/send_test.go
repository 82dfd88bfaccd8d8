package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wagate/wagate/internal/provider/providertest"
	"github.com/wagate/wagate/internal/queue"
	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/store/postgres"
	"github.com/wagate/wagate/internal/store/sqlite"
)

// The send side under SIGKILL: sendCount distinct text messages are accepted through POST /v1/messages while a
// slow fake provider (sendDelay per send, sends held until all are accepted) works them off; wagate is
// SIGKILLed while the fake answers the second wave of sends, and restarted on the same database.
const (
	sendCount   = 300
	sendPosters = 8
	sendDelay   = 250 * time.Millisecond
	// settleTimeout bounds how long the restarted server may take to send everything that was accepted.
	settleTimeout = 60 * time.Second
	// apiKey is the fake 360dialog channel's D360-API-KEY.
	apiKey = "k"
)

// TestKill9WhileSending_SQLite: wagate is SIGKILLed while messages are queued and being sent; after a restart
// every accepted message goes out, none is lost or failed, and the only messages sent twice are those whose
// send job was running at the kill (the provider accepted them, the process died before it recorded that).
func TestKill9WhileSending_SQLite(t *testing.T) {
	t.Parallel()
	testKill9WhileSending(t, sqliteDB(t))
}

// TestKill9WhileSending_Postgres is TestKill9WhileSending_SQLite on PostgreSQL.
func TestKill9WhileSending_Postgres(t *testing.T) {
	t.Parallel()
	testKill9WhileSending(t, postgresDB(t))
}

func testKill9WhileSending(t *testing.T, db database) {
	began := time.Now()
	port := freePort(t)
	base := "http://127.0.0.1:" + port
	fake := providertest.New(t, providertest.Options{
		Kind:          providertest.Kind360Dialog,
		APIKey:        apiKey,
		WebhookURL:    base + "/webhooks/whatsapp",
		WebhookSecret: webhookSecret,
		Receipts:      []string{"sent", "delivered"},
	})
	fake.Fail(providertest.EndpointSend, providertest.Fault{Delay: sendDelay}) // every send is slow, then accepted
	front := newSendGate(t, fake)
	env := providerEnv(db, front.URL, map[string]string{
		"WAGATE_LISTEN":     "127.0.0.1:" + port, // fixed, so that the fake's receipts reach the restarted server too
		"WAGATE_PUBLIC_URL": base,
	})
	srv := start(t, env)
	client := newClient(2 * sendPosters)

	// Accept every message while the provider holds the sends, so that how fast posting goes does not decide
	// where the kill lands.
	prefix := "kill9-" + db.name
	posted := postMessages(t, client, srv.URL, prefix, sendCount, sendPosters)
	accepted := acceptedOnly(t, posted)
	if len(accepted) != sendCount {
		t.Fatalf("%d of %d messages accepted with 202 before the kill; want all", len(accepted), sendCount)
	}
	held := front.open()

	// The workers' sends now go through together and are answered together after sendDelay, in waves. Kill in
	// the middle of the second wave of answers: the first wave is sent and recorded, the second is being
	// answered, its answers on their way back to wagate or being committed (the window in which a crash makes a
	// duplicate), and the rest is still queued.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	err := fake.WaitSent(ctx, sendCount/3+sendCount/10)
	cancel()
	if err != nil {
		t.Fatalf("the fake did not get %d sends: %v", sendCount/3+sendCount/10, err)
	}
	sentBefore, inFlight := fake.SentCount(), front.inFlight()
	srv.Kill()
	sentAtKill := fake.SentCount()
	time.Sleep(500 * time.Millisecond) // a request the fake was answering as the process died may still finish
	sentAfter := fake.SentCount()
	if sentAfter >= sendCount {
		t.Fatalf("the kill did not land while sending: the fake had seen all %d messages", sendCount)
	}

	// On PostgreSQL another instance might still be working a job marked running, so wagate leaves such jobs to
	// River's rescuer, RescueAfter after they started (on SQLite it retries them at startup). Unless the slow
	// mode is asked for, make the restart happen "RescueAfter later" by moving their start back by as much (and
	// letting the dead process's leadership lease expire, as it would have by then).
	timeout := settleTimeout
	if db.name == "postgres" {
		if os.Getenv("WAGATE_E2E_REAL_RESCUE") != "" {
			timeout = queue.RescueAfter + 90*time.Second
			t.Logf("postgres: waiting in real time for River's rescuer (up to %s)", timeout)
		} else {
			n := backdateRunning(t, db, queue.RescueAfter+5*time.Second)
			t.Logf("postgres: moved the start of %d running jobs back by %s (queue.RescueAfter + 5s) and expired the dead leader, as if the restart came that much later; WAGATE_E2E_REAL_RESCUE=1 waits instead",
				n, queue.RescueAfter+5*time.Second)
		}
	}

	// What the job queue holds after the crash: the send jobs that were running are the messages in flight.
	jobs := sendJobs(t, db)
	running := map[string]sendJob{} // message id -> its job, for jobs left running by the kill
	for _, j := range jobs {
		if j.State == "running" {
			running[j.MessageID] = j
		}
	}
	if len(running) == 0 {
		t.Fatalf("no send job was marked running after the kill (jobs %v): the kill did not land on sends in flight", jobStateCounts(jobs))
	}
	t.Logf("%s: %d accepted (%d sends held at the provider meanwhile); at SIGKILL the fake had accepted %d sends and was answering %d more; %d once the process was gone, %d half a second later; send jobs after the kill: %v",
		db.name, len(accepted), held, sentBefore, inFlight, sentAtKill, sentAfter, jobStateCounts(jobs))

	// What the provider accepted before the restart. A message whose job was running at the kill, that the
	// provider accepted, and whose send wagate had not recorded yet is the one kind of message sent again.
	beforeRestart := sentByText(t, fake)
	unrecorded := 0
	for id, j := range running {
		if len(beforeRestart[textOf(accepted, id)]) > 0 && !j.Recorded {
			unrecorded++
		}
	}

	// Restart on the same database; everything accepted must leave the queue.
	restartAt := time.Now()
	srv = start(t, env)
	final := waitSent(t, client, srv.URL, db, accepted, running, timeout)
	settled := time.Since(restartAt)

	// Nothing lost, nothing failed; a message is sent twice exactly when its job was in flight at the kill, the
	// provider had accepted it, and wagate had not recorded that yet.
	bySent := sentByText(t, fake)
	errs := newCapped(t)
	dups, dupIDs := 0, []string{}
	for _, m := range accepted {
		got := final[m.ID]
		if !okFinal(got.Status) {
			errs.Errorf("message %s (%q) ended %s, want accepted, sent, delivered or read (error %d %s: %s)",
				m.ID, m.Text, got.Status, got.ErrorCode, got.ErrorTitle, got.ErrorDetail)
		}
		sends, before := bySent[m.Text], len(beforeRestart[m.Text])
		job, wasRunning := running[m.ID]
		want := 1
		if wasRunning && before > 0 && !job.Recorded {
			want = before + 1
		}
		switch {
		case len(sends) == 0:
			errs.Errorf("LOST: message %s (%q) was accepted but never reached the provider", m.ID, m.Text)
		case len(sends) != want:
			errs.Errorf("message %s (%q) reached the provider %d times (%d before the restart; its job running at the kill: %v), want %d",
				m.ID, m.Text, len(sends), before, wasRunning, want)
		}
		if len(sends) > 1 {
			dups += len(sends) - 1
			dupIDs = append(dupIDs, m.ID)
		}
		if len(sends) > 0 && !slices.ContainsFunc(sends, func(s providertest.Sent) bool { return s.ID == got.ProviderID }) {
			errs.Errorf("message %s records provider id %q, which the provider never answered for %q", m.ID, got.ProviderID, m.Text)
		}
		delete(bySent, m.Text)
	}
	for text, sends := range bySent {
		errs.Errorf("the provider got %d sends of %q, which no accepted message carries", len(sends), text)
	}
	errs.flush()
	if dups > len(running) {
		t.Errorf("%d duplicate sends, more than the %d send jobs running at the kill", dups, len(running))
	}
	sort.Strings(dupIDs)
	if len(dupIDs) > 10 {
		dupIDs = append(dupIDs[:10], "...")
	}
	t.Logf("%s: after restart everything left the queue in %s; the provider got %d sends for %d messages: %d duplicates (%v), "+
		"bound %d send jobs running at the kill, of which %d had been accepted by the provider unrecorded; final statuses %v; whole test %s",
		db.name, settled.Round(time.Millisecond), fake.SentCount(), len(accepted), dups, dupIDs, len(running), unrecorded,
		statusCounts(final), time.Since(began).Round(time.Millisecond))
	srv.Stop()
}

// textOf returns the text of the message with id among msgs.
func textOf(msgs []outMsg, id string) string {
	for _, m := range msgs {
		if m.ID == id {
			return m.Text
		}
	}
	return ""
}

// Outage shape: the fake answers every send 503 for outageFor; outageCount messages are accepted meanwhile.
const (
	outageFor   = 30 * time.Second
	outageCount = 50
)

// TestProviderOutage: the provider answers 503 for 30 s, then recovers; every message accepted during the
// outage is sent exactly once, soon after the recovery (retries back off to at most WAGATE_SEND_MAX_BACKOFF).
func TestProviderOutage(t *testing.T) {
	t.Parallel()
	onBothDatabases(t, testProviderOutage)
}

func testProviderOutage(t *testing.T, db database) {
	fake := providertest.New(t, providertest.Options{Kind: providertest.Kind360Dialog, APIKey: apiKey, Receipts: []string{}})
	srv := start(t, providerEnv(db, fake.URL(), map[string]string{"WAGATE_SEND_MAX_BACKOFF": "5s"}))
	client := newClient(4)

	fake.Fail(providertest.EndpointSend, providertest.Fault{Status: http.StatusServiceUnavailable})
	outageAt := time.Now()
	posted := postMessages(t, client, srv.URL, "outage-"+db.name, outageCount, 4)
	accepted := acceptedOnly(t, posted)
	if len(accepted) != outageCount {
		t.Fatalf("%d of %d messages accepted during the outage; want all (sends are queued, not tried inline)", len(accepted), outageCount)
	}

	time.Sleep(time.Until(outageAt.Add(outageFor - time.Second)))
	// Near the end of the outage: nothing went out, nothing gave up, everything was tried.
	if n := fake.SentCount(); n != 0 {
		t.Fatalf("the fake accepted %d sends while it answered 503 to all", n)
	}
	tried := 0
	for _, m := range accepted {
		got, err := getMessage(client, srv.URL, m.ID)
		if err != nil {
			t.Fatalf("get %s: %v", m.ID, err)
		}
		if got.Status != "queued" {
			t.Errorf("during the outage message %s is %s (%s), want queued", m.ID, got.Status, got.ErrorDetail)
		}
		if got.Attempts > 0 {
			tried++
		}
	}
	refused := 0
	for _, r := range fake.Requests() {
		if r.Endpoint == providertest.EndpointSend && r.Status == http.StatusServiceUnavailable {
			refused++
		}
	}
	if tried < outageCount {
		t.Errorf("only %d of %d messages were tried during the 30 s outage", tried, outageCount)
	}
	time.Sleep(time.Until(outageAt.Add(outageFor)))
	fake.Clear()
	recoveredAt := time.Now()

	final := waitSent(t, client, srv.URL, db, accepted, nil, 45*time.Second)
	allSent := time.Since(recoveredAt)
	time.Sleep(2 * time.Second) // a second send of anything would show up now
	bySent := sentByText(t, fake)
	errs := newCapped(t)
	for _, m := range accepted {
		if got := final[m.ID]; !okFinal(got.Status) {
			errs.Errorf("message %s ended %s, want accepted or later (error %d %s: %s)", m.ID, got.Status, got.ErrorCode, got.ErrorTitle, got.ErrorDetail)
		}
		if n := len(bySent[m.Text]); n != 1 {
			errs.Errorf("message %s (%q) reached the provider %d times, want exactly once", m.ID, m.Text, n)
		}
	}
	errs.flush()
	if n := fake.SentCount(); n != outageCount {
		t.Errorf("the provider accepted %d sends for %d messages", n, outageCount)
	}
	t.Logf("%s outage: %d messages accepted, %d send attempts refused with 503 in %s, all %d sent exactly once %s after recovery; statuses %v",
		db.name, len(accepted), refused, outageFor, fake.SentCount(), allSent.Round(time.Millisecond), statusCounts(final))
	srv.Stop()
}

// sendGate fronts a fake provider: it holds send requests until open is called and counts those in flight.
type sendGate struct {
	URL   string
	gate  chan struct{}
	mu    sync.Mutex
	sends int // send requests received and not yet answered
	held  int // send requests that waited for the gate
}

func newSendGate(t *testing.T, fake *providertest.Server) *sendGate {
	g := &sendGate{gate: make(chan struct{})}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/messages" {
			fake.ServeHTTP(w, r)
			return
		}
		g.mu.Lock()
		g.sends++
		select {
		case <-g.gate:
		default:
			g.held++
		}
		g.mu.Unlock()
		defer func() {
			g.mu.Lock()
			g.sends--
			g.mu.Unlock()
		}()
		select {
		case <-g.gate:
		case <-r.Context().Done():
			return
		}
		fake.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	g.URL = srv.URL
	return g
}

// open lets the sends through and returns how many were held.
func (g *sendGate) open() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	close(g.gate)
	return g.held
}

func (g *sendGate) inFlight() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.sends
}

// providerEnv configures the default channel as 360dialog Cloud at baseURL with pacing off, on db, plus extra.
func providerEnv(db database, baseURL string, extra map[string]string) map[string]string {
	env := map[string]string{
		"WAGATE_PROVIDER":          "360dialog",
		"WHATSAPP_API_KEY":         apiKey,
		"WAGATE_PROVIDER_BASE_URL": baseURL,
		"WAGATE_RATE_PER_SECOND":   "0",
		"WAGATE_API_OPEN":          "true",
	}
	for k, v := range db.env {
		env[k] = v
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// outMsg is one POST /v1/messages and its answer.
type outMsg struct {
	Text   string
	ID     string // the message id answered with 202
	Status int    // the HTTP status; 0 when no answer came
	Err    error
}

// sentMessage is the part of GET /v1/messages/{id} the tests look at.
type sentMessage struct {
	ID          string `json:"id"`
	Direction   string `json:"direction"`
	ProviderID  string `json:"provider_id"`
	Text        string `json:"text"`
	Status      string `json:"status"`
	ErrorCode   int    `json:"error_code"`
	ErrorTitle  string `json:"error_title"`
	ErrorDetail string `json:"error_detail"`
	Attempts    int    `json:"attempts"`
}

// postMessages posts n text messages "<prefix> m-NNNN" to a few recipients, posters at a time.
func postMessages(t *testing.T, c *http.Client, base, prefix string, n, posters int) []outMsg {
	t.Helper()
	openWindows(t, c, base, postRecipients())
	out := make([]outMsg, n)
	work := make(chan int)
	var wg sync.WaitGroup
	for range posters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				out[i] = postText(c, base, postRecipients()[i%17], fmt.Sprintf("%s m-%04d", prefix, i))
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	return out
}

// postText sends one text message through the API.
func postText(c *http.Client, base, to, text string) outMsg {
	m := outMsg{Text: text}
	body, _ := json.Marshal(map[string]any{"to": to, "type": "text", "text": map[string]string{"body": text}})
	resp, err := c.Post(base+"/v1/messages", "application/json", bytes.NewReader(body))
	if err != nil {
		m.Err = err
		return m
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	m.Status = resp.StatusCode
	if err != nil {
		m.Err = err
		return m
	}
	var ans sentMessage
	if err := json.Unmarshal(raw, &ans); err != nil {
		m.Err = fmt.Errorf("answer %d is not JSON: %q", resp.StatusCode, raw)
		return m
	}
	if resp.StatusCode == http.StatusAccepted && (ans.ID == "" || ans.Status != "queued") {
		m.Err = fmt.Errorf("202 without an id or not queued: %s", raw)
	}
	if resp.StatusCode != http.StatusAccepted {
		m.Err = fmt.Errorf("answer %d: %s", resp.StatusCode, raw)
	}
	m.ID = ans.ID
	return m
}

// acceptedOnly reports every post that was not answered 202 {"status":"queued"} and returns those that were.
func acceptedOnly(t *testing.T, posted []outMsg) []outMsg {
	t.Helper()
	errs := newCapped(t)
	defer errs.flush()
	var out []outMsg
	for _, m := range posted {
		if m.Err != nil || m.Status != http.StatusAccepted {
			errs.Errorf("POST /v1/messages %q: %d %v", m.Text, m.Status, m.Err)
			continue
		}
		out = append(out, m)
	}
	return out
}

// getMessage reads one message through the API.
func getMessage(c *http.Client, base, id string) (sentMessage, error) {
	resp, err := c.Get(base + "/v1/messages/" + id)
	if err != nil {
		return sentMessage{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return sentMessage{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return sentMessage{}, fmt.Errorf("GET /v1/messages/%s: %d %s", id, resp.StatusCode, raw)
	}
	var m sentMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return sentMessage{}, fmt.Errorf("GET /v1/messages/%s: %w: %q", id, err, raw)
	}
	return m, nil
}

// okFinal reports whether an outbound status means the provider took the message.
func okFinal(s string) bool {
	switch s {
	case "accepted", "sent", "delivered", "read":
		return true
	}
	return false
}

// waitSent polls the API until no message of msgs is queued any more and returns each one as it then is. After
// timeout it fails the test, saying which of the messages still queued belong to a send job of stuckAtKill
// (running when the process was killed) that is still running, untouched since.
func waitSent(t *testing.T, c *http.Client, base string, db database, msgs []outMsg, stuckAtKill map[string]sendJob, timeout time.Duration) map[string]sentMessage {
	t.Helper()
	final := make(map[string]sentMessage, len(msgs))
	left := slices.Clone(msgs)
	start := time.Now()
	deadline := start.Add(timeout)
	for {
		var still []outMsg
		for _, m := range left {
			got, err := getMessage(c, base, m.ID)
			if err != nil {
				t.Fatalf("waiting for the sends: %v", err)
			}
			final[m.ID] = got
			if got.Status == "queued" {
				still = append(still, m)
			}
		}
		left = still
		if len(left) == 0 {
			return final
		}
		if time.Now().After(deadline) {
			reportStuck(t, db, left, stuckAtKill, time.Since(start))
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// reportStuck fails the test with the messages still queued and the state of their send jobs.
func reportStuck(t *testing.T, db database, left []outMsg, stuckAtKill map[string]sendJob, waited time.Duration) {
	t.Helper()
	jobs := map[string]sendJob{}
	for _, j := range sendJobs(t, db) {
		jobs[j.MessageID] = j
	}
	untouched := 0
	var lines []string
	for i, m := range left {
		j, ok := jobs[m.ID]
		before, wasRunning := stuckAtKill[m.ID]
		if ok && wasRunning && j.State == "running" && j.ID == before.ID && j.Attempt == before.Attempt && j.AttemptedAt == before.AttemptedAt {
			untouched++
		}
		if i < 10 {
			lines = append(lines, fmt.Sprintf("  message %s (%q): job %+v (at the kill: %+v, was running: %v)", m.ID, m.Text, j, before, wasRunning))
		}
	}
	if untouched == len(left) {
		t.Fatalf("STUCK: %d accepted messages are still queued %s after the restart, and every one belongs to a send job that was "+
			"\"running\" when wagate was SIGKILLed and has not been run again since (same attempt, same attempted_at). River only "+
			"hands out \"available\" jobs: a job left running by a dead process waits for wagate's startup rescue (SQLite) or "+
			"River's job rescuer (RescueStuckJobsAfter, queue.RescueAfter = %s on PostgreSQL).\n%s",
			len(left), waited.Round(time.Second), queue.RescueAfter, strings.Join(lines, "\n"))
	}
	t.Fatalf("%d accepted messages still queued %s after the restart (%d of them are jobs left running by the kill and untouched since):\n%s",
		len(left), waited.Round(time.Second), untouched, strings.Join(lines, "\n"))
}

// backdateRunning makes the PostgreSQL database db look as it would d after the crash: every job still marked
// running started d earlier, and the dead process's leadership lease (15 s) has run out. It returns how many
// jobs were running.
func backdateRunning(t *testing.T, db database, d time.Duration) int64 {
	t.Helper()
	ctx := context.Background()
	pg, err := postgres.Open(ctx, db.env["WAGATE_DATABASE_URL"], 2)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	defer pg.Close()
	n, err := pg.Read().Exec(ctx, fmt.Sprintf(
		`UPDATE river_job SET attempted_at = attempted_at - interval '%d milliseconds' WHERE state = 'running'`, d.Milliseconds()))
	if err != nil {
		t.Fatalf("backdate running jobs: %v", err)
	}
	if _, err := pg.Read().Exec(ctx, `DELETE FROM river_leader`); err != nil {
		t.Fatalf("expire the dead leader: %v", err)
	}
	return n
}

// sendJob is one send_message row of River's job table.
type sendJob struct {
	ID          int64
	State       string
	Attempt     int
	AttemptedAt string
	MessageID   string
	Recorded    bool // the message had its provider id recorded when the jobs were read
}

// sendJobs reads every send_message job straight from db's River table.
func sendJobs(t *testing.T, db database) []sendJob {
	t.Helper()
	ctx := context.Background()
	var conn store.Conn
	var q string
	switch db.name {
	case "sqlite":
		d, err := sqlite.Open(ctx, filepath.Join(db.env["WAGATE_DATA_DIR"], "wagate.db"))
		if err != nil {
			t.Fatalf("open sqlite: %v", err)
		}
		defer d.Close()
		conn = d.Read()
		q = `SELECT id, state, attempt, COALESCE(CAST(attempted_at AS TEXT), ''), json(args) FROM river_job WHERE kind = 'send_message'`
	case "postgres":
		d, err := postgres.Open(ctx, db.env["WAGATE_DATABASE_URL"], 2)
		if err != nil {
			t.Fatalf("open postgres: %v", err)
		}
		defer d.Close()
		conn = d.Read()
		q = `SELECT id, state::text, attempt, COALESCE(attempted_at::text, ''), args::text FROM river_job WHERE kind = 'send_message'`
	default:
		t.Fatalf("unknown database %q", db.name)
	}
	rows, err := conn.Query(ctx, q)
	if err != nil {
		t.Fatalf("read river_job: %v", err)
	}
	defer rows.Close()
	var out []sendJob
	for rows.Next() {
		var j sendJob
		var args string
		if err := rows.Scan(&j.ID, &j.State, &j.Attempt, &j.AttemptedAt, &args); err != nil {
			t.Fatalf("read river_job: %v", err)
		}
		var a struct {
			MessageID string `json:"message_id"`
		}
		if err := json.Unmarshal([]byte(args), &a); err != nil {
			t.Fatalf("river_job %d args %q: %v", j.ID, args, err)
		}
		j.MessageID = a.MessageID
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("read river_job: %v", err)
	}
	// Whether each job's message already had its send recorded (a provider id) when the process died: wagate
	// records the send before River marks the job completed, so a job can be left running for a message that is
	// recorded, and its re-run then sends nothing.
	recorded := map[string]bool{}
	mrows, err := conn.Query(ctx, `SELECT id FROM messages WHERE direction = 'out' AND provider_id IS NOT NULL`)
	if err != nil {
		t.Fatalf("read messages: %v", err)
	}
	defer mrows.Close()
	for mrows.Next() {
		var id string
		if err := mrows.Scan(&id); err != nil {
			t.Fatalf("read messages: %v", err)
		}
		recorded[id] = true
	}
	for i := range out {
		out[i].Recorded = recorded[out[i].MessageID]
	}
	return out
}

func jobStateCounts(jobs []sendJob) map[string]int {
	out := map[string]int{}
	for _, j := range jobs {
		out[j.State]++
	}
	return out
}

func statusCounts(msgs map[string]sentMessage) map[string]int {
	out := map[string]int{}
	for _, m := range msgs {
		out[m.Status]++
	}
	return out
}

// sentByText groups the fake's accepted sends by their text body.
func sentByText(t *testing.T, fake *providertest.Server) map[string][]providertest.Sent {
	t.Helper()
	out := map[string][]providertest.Sent{}
	for _, s := range fake.Sent() {
		var b struct {
			Text struct {
				Body string `json:"body"`
			} `json:"text"`
		}
		if err := json.Unmarshal(s.Body, &b); err != nil || s.Type != "text" {
			t.Errorf("the fake accepted a send that is not a text message: %s %q", s.Type, s.Body)
			continue
		}
		out[b.Text.Body] = append(out[b.Text.Body], s)
	}
	return out
}
