package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wagate/wagate/internal/wa"
)

// nodeClientDir holds the Node project that drives wagate with a published Cloud API client.
var nodeClientDir = filepath.Join("testdata", "node-client")

// nodeTool finds node or npm: missing, the test is skipped on a developer's machine and fails under CI.
func nodeTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is needed for the Node client test: install Debian's nodejs and npm packages", name)
		}
		t.Skipf("%s is not installed; the Node client test needs it (it fails instead under CI)", name)
	}
	return p
}

// installNodeClient runs npm ci in the Node project when its packages are missing.
func installNodeClient(t *testing.T) {
	t.Helper()
	npm := nodeTool(t, "npm")
	if _, err := os.Stat(filepath.Join(nodeClientDir, "node_modules", "@kapso", "whatsapp-cloud-api", "package.json")); err == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = nodeClientDir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci in %s: %v\n%s", nodeClientDir, err, out)
	}
}

// nodeResult is what client.mjs prints.
type nodeResult struct {
	Sent map[string]struct {
		MessagingProduct string `json:"messagingProduct"`
		Contacts         []struct {
			Input string `json:"input"`
			WaID  string `json:"waId"`
		} `json:"contacts"`
		Messages []struct {
			ID string `json:"id"`
		} `json:"messages"`
	} `json:"sent"`
	Errors map[string]struct {
		Thrown     bool   `json:"thrown"`
		Name       string `json:"name"`
		HTTPStatus int    `json:"httpStatus"`
		Code       int    `json:"code"`
		Type       string `json:"type"`
		Details    string `json:"details"`
		FBTraceID  string `json:"fbtraceId"`
	} `json:"errors"`
}

// TestCompat_NodeCloudAPIClient points a published WhatsApp Cloud API client from npm at the real wagate binary
// (demo mode) by its base URL, sends text, a template, an image by link and interactive buttons, and checks the
// answers and that each message was really sent under the id the client was given.
func TestCompat_NodeCloudAPIClient(t *testing.T) {
	t.Parallel()
	node := nodeTool(t, "node")
	installNodeClient(t)
	db := sqliteDB(t)
	const token = "e2e-compat-token-0123456789"
	env := map[string]string{"WAGATE_API_TOKEN": token, "WAGATE_WINDOW_CHECK": "false"}
	for k, v := range db.env {
		env[k] = v
	}
	srv := start(t, env)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "client.mjs")
	cmd.Dir = nodeClientDir
	cmd.Env = append(os.Environ(), "WAGATE_URL="+srv.URL, "WAGATE_TOKEN="+token, "PHONE_NUMBER_ID=106540352242922", "TO=34696247355")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node client.mjs: %v\n%s\n%s", err, stderr.String(), tail(srv.LogPath, 4000))
	}
	var res nodeResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("client output: %v: %s", err, stdout.String())
	}

	st := db.open(t)
	for _, kind := range []string{"text", "template", "image", "interactive"} {
		s, ok := res.Sent[kind]
		if !ok || s.MessagingProduct != "whatsapp" || len(s.Contacts) != 1 || s.Contacts[0].Input != "34696247355" ||
			s.Contacts[0].WaID != "34696247355" || len(s.Messages) != 1 || !strings.HasPrefix(s.Messages[0].ID, "wamid.") {
			t.Fatalf("%s: the client got %+v", kind, s)
		}
		m, err := st.MessageGetByProviderID(ctx, "default", s.Messages[0].ID)
		if err != nil {
			t.Fatalf("%s: no message sent as %s: %v", kind, s.Messages[0].ID, err)
		}
		if m.Type != kind || m.Status == wa.StatusQueued || m.Status == wa.StatusFailed {
			t.Fatalf("%s: stored as %s %s", kind, m.Type, m.Status)
		}
	}
	if e := res.Errors["badNumber"]; !e.Thrown || e.Name != "GraphApiError" || e.HTTPStatus != 400 || e.Code != 100 ||
		e.Type != "OAuthException" || !strings.Contains(e.Details, "to") || e.FBTraceID == "" {
		t.Fatalf("bad number: %+v", e)
	}
	if e := res.Errors["wrongToken"]; !e.Thrown || e.HTTPStatus != 401 || e.Code != 190 || e.Type != "OAuthException" {
		t.Fatalf("wrong token: %+v", e)
	}
}
