package cli

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/wagate/wagate/internal/wa"
	"github.com/wagate/wagate/internal/webhook"
)

// simRequest is one request the fake receiver saw.
type simRequest struct {
	method, path, query string
	header              http.Header
	body                []byte
}

// simReceiver is a stand-in for wagate's webhook receiver on 127.0.0.1 that records every request. It
// answers like wagate: 200 {"ok":true,...}, or 401 on /reject.
type simReceiver struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []simRequest
}

func newSimReceiver(t *testing.T) *simReceiver {
	t.Helper()
	rc := &simReceiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.reqs = append(rc.reqs, simRequest{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), b})
		rc.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/reject" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"ok":false,"error":"wrong or missing webhook credentials"}`+"\n")
			return
		}
		_, _ = io.WriteString(w, `{"ok":true,"received":1,"stored":1}`+"\n")
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *simReceiver) requests() []simRequest {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]simRequest(nil), rc.reqs...)
}

// simRun runs `wagate simulate args...` with the environment env.
func simRun(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	getenv := func(k string) string { return env[k] }
	code = runSimulate(context.Background(), args, &out, &errOut, getenv)
	return code, out.String(), errOut.String()
}

// simParse parses a posted body, which must hold exactly one change.
func simParse(t *testing.T, body []byte) (wa.Shape, wa.Change) {
	t.Helper()
	hook, err := webhook.Parse(body)
	if err != nil || len(hook.Changes) != 1 {
		t.Fatalf("Parse = %+v, %v\n%s", hook, err, body)
	}
	return hook.Shape, hook.Changes[0]
}

func TestSimulateMessageWithConfiguredSecret(t *testing.T) {
	t.Parallel()
	rc := newSimReceiver(t)
	env := map[string]string{"WAGATE_PUBLIC_URL": rc.URL, "WAGATE_WEBHOOK_SECRET": "s3cret-value"}
	code, stdout, stderr := simRun(t, env, "message", "--from", "+34696247355", "--type", "text", "--text", "Hola", "--name", "Ana")
	if code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	if stdout != `200 {"ok":true,"received":1,"stored":1}`+"\n" {
		t.Errorf("stdout = %q", stdout)
	}
	if strings.Contains(stdout+stderr, "s3cret-value") {
		t.Error("the secret was printed")
	}
	reqs := rc.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	if r.method != http.MethodPost || r.path != "/webhooks/whatsapp/default" || r.query != "" {
		t.Errorf("request %s %s?%s", r.method, r.path, r.query)
	}
	if r.header.Get("X-Wagate-Webhook-Secret") != "s3cret-value" || r.header.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", r.header)
	}
	if r.header.Get(webhook.SignatureHeader) != "" {
		t.Error("signed without an app secret")
	}
	shape, c := simParse(t, r.body)
	if shape != wa.ShapeCloud || c.PhoneNumberID != "" || len(c.Messages) != 1 {
		t.Fatalf("shape %s change %+v", shape, c)
	}
	m := c.Messages[0]
	if m.Type != "text" || m.Text != "Hola" || m.From != "34696247355" || c.Contacts[0].Name != "Ana" {
		t.Errorf("message %+v contacts %+v", m, c.Contacts)
	}
}

func TestSimulateMetaChannelSignsAndRoutes(t *testing.T) {
	t.Parallel()
	rc := newSimReceiver(t)
	env := map[string]string{
		"WAGATE_CHANNEL":           "sales",
		"WAGATE_PROVIDER":          "meta",
		"WAGATE_META_ACCESS_TOKEN": "access-token-value",
		"WAGATE_PHONE_NUMBER_ID":   "109876543210987",
		"WAGATE_PHONE_NUMBER":      "+34600111222",
		"WAGATE_META_APP_SECRET":   "app-secret-value",
		"WAGATE_DEFAULT_RECIPIENT": "+34696000111",
	}
	code, stdout, stderr := simRun(t, env, "receipt", "--url", rc.URL+"/webhooks/whatsapp?token=query-token",
		"--id", "wamid.OUT1", "--status", "failed", "--error-code", "131047")
	if code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	for _, secret := range []string{"app-secret-value", "access-token-value", "query-token"} {
		if strings.Contains(stdout+stderr, secret) {
			t.Errorf("%s was printed", secret)
		}
	}
	reqs := rc.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	if r.path != "/webhooks/whatsapp" || r.query != "token=query-token" {
		t.Errorf("request %s?%s", r.path, r.query)
	}
	if err := webhook.VerifySignature(r.body, r.header.Get(webhook.SignatureHeader), []byte("app-secret-value")); err != nil {
		t.Errorf("signature: %v", err)
	}
	if r.header.Get("X-Wagate-Webhook-Secret") != "" {
		t.Error("secret header sent without a webhook secret")
	}
	shape, c := simParse(t, r.body)
	if shape != wa.ShapeCloud || c.PhoneNumberID != "109876543210987" || c.DisplayPhoneNumber != "34600111222" {
		t.Errorf("shape %s metadata %q %q", shape, c.PhoneNumberID, c.DisplayPhoneNumber)
	}
	if len(c.Statuses) != 1 {
		t.Fatalf("statuses %+v", c.Statuses)
	}
	st := c.Statuses[0]
	if st.MessageID != "wamid.OUT1" || st.Status != wa.StatusFailed || st.RecipientID != "34696000111" ||
		len(st.Errors) != 1 || st.Errors[0].Code != 131047 {
		t.Errorf("receipt %+v", st)
	}

	// The default recipient is also the default sender of a message.
	code, _, stderr = simRun(t, env, "message", "--url", rc.URL+"/webhooks/whatsapp/sales", "--type", "location")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	_, c = simParse(t, rc.requests()[1].body)
	if m := c.Messages[0]; m.From != "34696000111" || m.Location == nil || c.PhoneNumberID != "109876543210987" {
		t.Errorf("message %+v", m)
	}
}

func TestSimulateOnPremiseChannel(t *testing.T) {
	t.Parallel()
	rc := newSimReceiver(t)
	env := map[string]string{
		"WAGATE_LISTEN":            strings.TrimPrefix(rc.URL, "http://"),
		"WAGATE_PROVIDER":          "360dialog-onpremise",
		"WAGATE_360DIALOG_API_KEY": "api-key-value",
		"WAGATE_PHONE_NUMBER_ID":   "7788990011",
		"WAGATE_WEBHOOK_SECRET":    "hook-secret",
	}
	code, stdout, stderr := simRun(t, env, "message", "--type", "voice", "--from", "16315551234")
	if code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	reqs := rc.requests()
	if len(reqs) != 1 || reqs[0].path != "/webhooks/whatsapp/default" || reqs[0].header.Get("X-Wagate-Webhook-Secret") != "hook-secret" {
		t.Fatalf("requests %+v", reqs)
	}
	if bytes.Contains(reqs[0].body, []byte(`"object"`)) || bytes.Contains(reqs[0].body, []byte("7788990011")) {
		t.Errorf("On-Premise body has Cloud envelope or metadata: %s", reqs[0].body)
	}
	shape, c := simParse(t, reqs[0].body)
	if shape != wa.ShapeOnPremise || c.Messages[0].Type != "voice" || c.Messages[0].Media == nil || !c.Messages[0].Media.Voice {
		t.Errorf("shape %s message %+v", shape, c.Messages[0])
	}

	// --shape overrides the channel's; an explicit empty --secret sends none.
	code, _, stderr = simRun(t, env, "message", "--shape", "cloud", "--secret", "")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	r := rc.requests()[1]
	if shape, c := simParse(t, r.body); shape != wa.ShapeCloud || c.PhoneNumberID != "7788990011" {
		t.Errorf("shape %s pnid %q", shape, c.PhoneNumberID)
	}
	if r.header.Get("X-Wagate-Webhook-Secret") != "" {
		t.Error("secret sent despite --secret \"\"")
	}
}

func TestSimulateCount(t *testing.T) {
	t.Parallel()
	rc := newSimReceiver(t)
	code, stdout, stderr := simRun(t, nil, "receipt", "--url", rc.URL+"/webhooks/whatsapp/default", "--id", "wamid.X",
		"--status", "read", "--count", "3", "--secret", "flag-secret")
	if code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	if lines := strings.Split(strings.TrimSpace(stdout), "\n"); len(lines) != 3 || !strings.HasPrefix(lines[2], "200 {") {
		t.Errorf("stdout = %q", stdout)
	}
	var ids []string
	for _, r := range rc.requests() {
		if r.header.Get("X-Wagate-Webhook-Secret") != "flag-secret" {
			t.Errorf("headers %v", r.header)
		}
		_, c := simParse(t, r.body)
		ids = append(ids, c.Statuses[0].MessageID)
	}
	if strings.Join(ids, " ") != "wamid.X wamid.X-2 wamid.X-3" {
		t.Errorf("ids %v", ids)
	}

	// Messages without --id get distinct random ids; common flags may come before the subcommand.
	code, _, stderr = simRun(t, nil, "--url", rc.URL+"/webhooks/whatsapp/default", "--count", "4", "message", "--type", "image")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	seen := map[string]bool{}
	for _, r := range rc.requests()[3:] {
		_, c := simParse(t, r.body)
		seen[c.Messages[0].ID] = true
	}
	if len(seen) != 4 {
		t.Errorf("%d distinct ids in 4 messages", len(seen))
	}
}

func TestSimulatePrint(t *testing.T) {
	t.Parallel()
	env := map[string]string{"WAGATE_WEBHOOK_SECRET": "print-secret", "WAGATE_META_APP_SECRET": "print-app-secret"}
	code, stdout, stderr := simRun(t, env, "message", "--print", "--type", "reaction", "--emoji", "👍", "--react-to", "wamid.T", "--count", "2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if strings.Contains(stdout+stderr, "print-secret") || strings.Contains(stdout+stderr, "print-app-secret") {
		t.Error("a secret was printed")
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 2 || lines[0] == lines[1] {
		t.Fatalf("stdout = %q", stdout)
	}
	for _, l := range lines {
		_, c := simParse(t, []byte(l))
		if r := c.Messages[0].Reaction; r == nil || r.Emoji != "👍" || r.MessageID != "wamid.T" {
			t.Errorf("reaction %+v", r)
		}
	}

	// --print needs no server and no configuration that loads.
	code, stdout, stderr = simRun(t, map[string]string{"WAGATE_MAX_WEBHOOK_BODY": "lots"}, "receipt", "--print", "--id", "wamid.P", "--shape", "onpremise")
	if code != 0 || !strings.HasPrefix(stdout, `{"statuses":[{"id":"wamid.P","status":"delivered"`) || !strings.Contains(stderr, "WAGATE_MAX_WEBHOOK_BODY") {
		t.Errorf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
}

func TestSimulateFailures(t *testing.T) {
	t.Parallel()
	rc := newSimReceiver(t)

	// A non-200 answer is printed and fails the run.
	code, stdout, _ := simRun(t, nil, "message", "--url", rc.URL+"/reject", "--secret", "wrong-secret")
	if code != 1 || !strings.HasPrefix(stdout, "401 {\"ok\":false") || strings.Contains(stdout, "wrong-secret") {
		t.Errorf("exit %d stdout %q", code, stdout)
	}

	// A server that is not there: exit 1, and the token in the URL is not repeated.
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	code, stdout, stderr := simRun(t, nil, "message", "--url", deadURL+"/webhooks/whatsapp/default?token=tok-secret", "--count", "5")
	if code != 1 || stdout != "" || !strings.Contains(stderr, "/webhooks/whatsapp/default") || strings.Contains(stderr, "tok-secret") ||
		strings.Count(stderr, "wagate simulate:") != 1 {
		t.Errorf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}

	// A configuration that cannot be loaded, and no --url: exit 1.
	code, _, stderr = simRun(t, map[string]string{"WAGATE_MAX_WEBHOOK_BODY": "lots"}, "message")
	if code != 1 || !strings.Contains(stderr, "WAGATE_MAX_WEBHOOK_BODY") {
		t.Errorf("exit %d stderr %s", code, stderr)
	}
	if n := len(rc.requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestSimulateUsage(t *testing.T) {
	t.Parallel()
	rc := newSimReceiver(t)
	url := rc.URL + "/webhooks/whatsapp/default"
	for _, args := range [][]string{
		{},
		{"--url", url},
		{"send"},
		{"message", "--url", url, "--bogus"},
		{"message", "--url", url, "--type", "poll"},
		{"message", "--url", url, "extra"},
		{"message", "--url", url, "--count", "0"},
		{"message", "--url", url, "--timeout", "-1s"},
		{"message", "--url", url, "--shape", "xml"},
		{"message", "--url", url, "--from", ""},
		{"message", "--url", url, "--from", "abc"},
		{"receipt", "--url", url},
		{"receipt", "--url", url, "--id", "wamid.X", "--status", "opened"},
		{"receipt", "--id", "wamid.X", "--channel", "nope"},
	} {
		code, stdout, stderr := simRun(t, nil, args...)
		if code != 2 || stdout != "" || !strings.Contains(stderr, "Usage:") || !strings.Contains(stderr, "wagate simulate: ") {
			t.Errorf("%q: exit %d\nstdout: %s\nstderr: %.200s", args, code, stdout, stderr)
		}
	}
	if n := len(rc.requests()); n != 0 {
		t.Errorf("%d requests after usage errors", n)
	}
	code, _, stderr := simRun(t, nil, "message", "--url", url, "--type", "poll")
	if code != 2 || !strings.Contains(stderr, "button_reply") {
		t.Errorf("the type error does not list the types: %s", stderr)
	}
	for _, args := range [][]string{{"-h"}, {"help"}, {"message", "--help"}} {
		code, stdout, _ := simRun(t, nil, args...)
		if code != 0 || !strings.Contains(stdout, "wagate simulate message") {
			t.Errorf("%q: exit %d stdout %.100s", args, code, stdout)
		}
	}
}
