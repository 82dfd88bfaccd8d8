package cli

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
)

func run(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := Env{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] }, ReadFile: os.ReadFile}
	code := e.Run(context.Background(), args)
	return code, out.String(), errb.String()
}

func TestCLI_InvalidConfigNamesTheVariable(t *testing.T) {
	t.Parallel()
	code, _, stderr := run(t, map[string]string{"WAGATE_LISTEN": "abc", "WAGATE_PROVIDER": "meta"}, "serve")
	if code != 2 || !strings.Contains(stderr, "WAGATE_LISTEN") || !strings.Contains(stderr, "WHATSAPP_ACCESS_TOKEN") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
}

func TestCLI_PrintConfigRedactsSecrets(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"WHATSAPP_ACCESS_TOKEN": "EAAG-secret-token", "WHATSAPP_PHONE_NUMBER_ID": "1234567890",
		"WHATSAPP_APP_SECRET": "app-secret-value", "WHATSAPP_WEBHOOK_SECRET": "hook-secret-value",
		"WAGATE_API_TOKEN": "api-token-value", "WAGATE_DATABASE_URL": "postgres://u:db-password@127.0.0.1/wagate",
	}
	code, stdout, stderr := run(t, env, "serve", "--print-config")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, secret := range []string{"EAAG-secret-token", "app-secret-value", "hook-secret-value", "api-token-value", "db-password"} {
		if strings.Contains(stdout+stderr, secret) {
			t.Fatalf("--print-config shows %q:\n%s", secret, stdout)
		}
	}
	if !strings.Contains(stdout, `"meta"`) || !strings.Contains(stdout, "1234567890") {
		t.Fatalf("--print-config lacks the channel:\n%s", stdout)
	}
}

func TestCLI_MigrateAndEvents(t *testing.T) {
	t.Parallel()
	env := map[string]string{"WAGATE_DATA_DIR": t.TempDir()}
	if code, _, stderr := run(t, env, "events", "list"); code != 1 || !strings.Contains(stderr, "wagate migrate") {
		t.Fatalf("events before migrate: %d %s", code, stderr)
	}
	if code, stdout, stderr := run(t, env, "migrate"); code != 0 || !strings.Contains(stdout, "sqlite") {
		t.Fatalf("migrate: %d %s %s", code, stdout, stderr)
	}
	if code, stdout, _ := run(t, env, "events", "list", "--state", "failed"); code != 0 || !strings.HasPrefix(stdout, "ID") {
		t.Fatalf("events list: %d %q", code, stdout)
	}
	if code, _, stderr := run(t, env, "events", "replay", "01234"); code != 1 || !strings.Contains(stderr, "no event 01234") {
		t.Fatalf("replay missing: %d %s", code, stderr)
	}
	if code, _, _ := run(t, env, "events", "replay"); code != 2 {
		t.Fatalf("replay without id: %d", code)
	}
}

func TestCLI_UsageAndVersion(t *testing.T) {
	t.Parallel()
	if code, _, stderr := run(t, nil); code != 2 || !strings.Contains(stderr, "wagate serve") {
		t.Fatalf("no args: %d %s", code, stderr)
	}
	if code, _, _ := run(t, nil, "frobnicate"); code != 2 {
		t.Fatalf("unknown command: %d", code)
	}
	if code, stdout, _ := run(t, nil, "version"); code != 0 || !strings.HasPrefix(stdout, "wagate ") {
		t.Fatalf("version: %d %q", code, stdout)
	}
}

func TestCLI_TokenCreateListRevoke(t *testing.T) {
	t.Parallel()
	env := map[string]string{"WAGATE_DATA_DIR": t.TempDir()}
	if code, _, stderr := run(t, env, "migrate"); code != 0 {
		t.Fatalf("migrate: %d %s", code, stderr)
	}
	code, stdout, stderr := run(t, env, "token", "create", "--name", "crm", "--scopes", "send,read")
	secret := strings.TrimSpace(stdout)
	if code != 0 || !strings.HasPrefix(secret, "wgt_") || len(secret) != 47 || strings.Contains(stderr, secret) || !strings.Contains(stderr, secret[:12]) {
		t.Fatalf("create: %d %q %q", code, stdout, stderr)
	}
	if code, _, stderr := run(t, env, "token", "create", "--name", "x", "--scopes", "root"); code != 2 || !strings.Contains(stderr, "scopes") {
		t.Fatalf("bad scopes: %d %s", code, stderr)
	}
	code, stdout, _ = run(t, env, "token", "list")
	fields := strings.Fields(strings.Split(stdout, "\n")[1])
	if code != 0 || strings.Contains(stdout, secret) || len(fields) < 4 || fields[1] != "crm" || fields[3] != "send,read" {
		t.Fatalf("list: %d\n%s", code, stdout)
	}
	if code, stdout, _ := run(t, env, "token", "revoke", fields[0]); code != 0 || !strings.Contains(stdout, "revoked") {
		t.Fatalf("revoke: %d %s", code, stdout)
	}
	if code, _, _ := run(t, env, "token", "revoke", "nope"); code != 1 {
		t.Fatalf("revoke unknown: %d", code)
	}
	if _, stdout, _ := run(t, env, "token", "list"); strings.Contains(stdout, "crm") {
		t.Fatalf("revoked token listed: %s", stdout)
	}
	if _, stdout, _ := run(t, env, "token", "list", "--all"); !strings.Contains(stdout, "crm") {
		t.Fatalf("--all hides the revoked token: %s", stdout)
	}
}
