package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wagate/wagate/internal/auth"
	"github.com/wagate/wagate/internal/config"
	"github.com/wagate/wagate/internal/server"
	"github.com/wagate/wagate/internal/store"
)

// runIn is run with stdin.
func runIn(t *testing.T, env map[string]string, stdin io.Reader, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := Env{Stdin: stdin, Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] }, ReadFile: os.ReadFile}
	code := e.Run(context.Background(), args)
	return code, out.String(), errb.String()
}

// userIn reads a user straight from the database the commands use.
func userIn(t *testing.T, env map[string]string, email string) store.User {
	t.Helper()
	cfg, err := config.Load(nil, func(k string) string { return env[k] }, os.ReadFile)
	if err != nil {
		t.Fatal(err)
	}
	b, err := server.OpenBackend(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	u, err := b.Store.UserGetByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func checkPassword(t *testing.T, u store.User, pw string) {
	t.Helper()
	if ok, err := auth.VerifyPassword(u.PasswordHash, pw); !ok || err != nil {
		t.Fatalf("%s's password is not %q (%v)", u.Email, pw, err)
	}
}

func TestCLI_UserAddListPasswdDisable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := map[string]string{"WAGATE_DATA_DIR": dir}
	if code, _, stderr := run(t, env, "migrate"); code != 0 {
		t.Fatalf("migrate: %d %s", code, stderr)
	}
	// Usage errors come before the database is touched.
	if code, _, stderr := runIn(t, env, nil, "user", "add", "--email", "dora@example.com", "--role", "director"); code != 2 ||
		!strings.Contains(stderr, "--password-file") {
		t.Fatalf("add without a password: %d %s", code, stderr)
	}
	if code, _, stderr := runIn(t, env, strings.NewReader("long-enough-pw\n"), "user", "add", "--email", "x@example.com", "--role", "boss"); code != 2 ||
		!strings.Contains(stderr, "--role") {
		t.Fatalf("bad role: %d %s", code, stderr)
	}
	if code, _, stderr := runIn(t, env, strings.NewReader("short\n"), "user", "add", "--email", "x@example.com", "--role", "agent"); code != 2 ||
		!strings.Contains(stderr, "password") {
		t.Fatalf("weak password: %d %s", code, stderr)
	}
	if code, _, _ := runIn(t, env, strings.NewReader("long-enough-pw\n"), "user", "add", "--email", "not-an-email", "--role", "agent"); code != 2 {
		t.Fatalf("bad email: %d", code)
	}

	code, stdout, stderr := runIn(t, env, strings.NewReader("director-pass-1\n"), "user", "add", "--email", "Dora@Example.com",
		"--role", "director", "--name", "Dora")
	if code != 0 || !strings.Contains(stdout, "added dora@example.com (director)") {
		t.Fatalf("add director: %d %s %s", code, stdout, stderr)
	}
	checkPassword(t, userIn(t, env, "dora@example.com"), "director-pass-1")
	if code, _, stderr := runIn(t, env, strings.NewReader("director-pass-2\n"), "user", "add", "--email", "dora@example.com", "--role", "agent"); code != 1 ||
		!strings.Contains(stderr, "exists already") {
		t.Fatalf("add twice: %d %s", code, stderr)
	}
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte("agent-pass-from-file\nignored second line\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runIn(t, env, nil, "user", "add", "--email", "alex@example.com", "--role", "agent", "--password-file", pwFile); code != 0 {
		t.Fatalf("add agent from file: %d %s", code, stderr)
	}
	checkPassword(t, userIn(t, env, "alex@example.com"), "agent-pass-from-file")

	code, stdout, _ = runIn(t, env, nil, "user", "list")
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if code != 0 || len(lines) != 3 || !strings.HasPrefix(lines[0], "EMAIL") || !strings.Contains(lines[1], "dora@example.com") ||
		!strings.Contains(lines[1], "director") || !strings.Contains(lines[2], "agent") || !strings.Contains(lines[2], "never") {
		t.Fatalf("list: %d\n%s", code, stdout)
	}
	_, stdout, _ = runIn(t, env, nil, "user", "list", "--json")
	var us []map[string]any
	if err := json.Unmarshal([]byte(stdout), &us); err != nil || len(us) != 2 || strings.Contains(stdout, "pbkdf2") {
		t.Fatalf("list --json: %v\n%s", err, stdout)
	}

	// The last active director stays; others can be disabled and enabled.
	if code, _, stderr := runIn(t, env, nil, "user", "disable", "--email", "dora@example.com"); code != 1 || !strings.Contains(stderr, "last active director") {
		t.Fatalf("disable the last director: %d %s", code, stderr)
	}
	if code, stdout, _ := runIn(t, env, nil, "user", "disable", "--email", "alex@example.com"); code != 0 || !strings.Contains(stdout, "disabled alex@example.com") {
		t.Fatalf("disable: %d %s", code, stdout)
	}
	if !userIn(t, env, "alex@example.com").Disabled() {
		t.Fatal("alex is not disabled")
	}
	if code, _, _ := runIn(t, env, nil, "user", "enable", "--email", "alex@example.com"); code != 0 || userIn(t, env, "alex@example.com").Disabled() {
		t.Fatalf("enable: %d", code)
	}
	if code, _, stderr := runIn(t, env, nil, "user", "disable", "--email", "nobody@example.com"); code != 1 || !strings.Contains(stderr, "no user") {
		t.Fatalf("disable unknown: %d %s", code, stderr)
	}

	if code, _, stderr := runIn(t, env, strings.NewReader("new-agent-password\r\n"), "user", "passwd", "--email", "alex@example.com"); code != 0 {
		t.Fatalf("passwd: %d %s", code, stderr)
	}
	checkPassword(t, userIn(t, env, "alex@example.com"), "new-agent-password")
}

func TestCLI_UserUsage(t *testing.T) {
	t.Parallel()
	if code, _, stderr := runIn(t, nil, nil, "user"); code != 2 || !strings.Contains(stderr, "wagate user add") {
		t.Fatalf("no subcommand: %d %s", code, stderr)
	}
	if code, _, _ := runIn(t, nil, nil, "user", "frobnicate"); code != 2 {
		t.Fatalf("unknown subcommand: %d", code)
	}
	if code, stdout, _ := runIn(t, nil, nil, "help"); code != 0 || !strings.Contains(stdout, "wagate user add") {
		t.Fatalf("help lacks the user command: %d", code)
	}
}
