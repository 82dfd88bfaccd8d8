package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/wagate/wagate/internal/server/servertest"
	"github.com/wagate/wagate/internal/web/webtest"
)

func setupHTTP(t *testing.T) (*servertest.Instance, *client, *client) {
	t.Helper()
	inst := setup(t)
	dir := signIn(t, inst.URL, "dora@example.com", "director-password")
	agent := signIn(t, inst.URL, "alex@example.com", "agent-password")
	return inst, dir, agent
}

func TestSettings_CheckIsForDirectorsOnly(t *testing.T) {
	t.Parallel()
	_, dir, agent := setupHTTP(t)
	status, body := agent.post("/settings/channels/default/check", nil)
	if status != http.StatusForbidden || strings.Contains(body, "Demo mode") {
		t.Fatalf("agent check: %d\n%s", status, body)
	}
	status, body = dir.post("/settings/channels/default/check", nil)
	if status != http.StatusOK || !strings.Contains(body, "Demo mode") || !strings.Contains(body, "report") {
		t.Fatalf("director check: %d\n%s", status, body)
	}
	if status, _ := dir.post("/settings/channels/nope/check", nil); status != http.StatusNotFound {
		t.Fatalf("unknown channel: %d", status)
	}
	// Without the CSRF token the check is refused even for a director.
	dir.csrf = "wrong"
	if status, _ := dir.post("/settings/channels/default/check", nil); status != http.StatusForbidden {
		t.Fatalf("check without csrf: %d", status)
	}
	if status, _ := agent.post("/settings/channels/default/test", url.Values{"to": {"+34600000001"}, "text": {"x"}}); status != http.StatusForbidden {
		t.Fatalf("agent test message: %d", status)
	}
	if status, _ := agent.get("/settings/users"); status != http.StatusForbidden {
		t.Fatalf("agent users page: %d", status)
	}
}

func TestSettings_AgentSeesNoTokenNorButton(t *testing.T) {
	t.Parallel()
	_, dir, agent := setupHTTP(t)
	_, ab := agent.get("/settings")
	_, db := dir.get("/settings")
	if strings.Contains(ab, "check-connection") || strings.Contains(ab, "test-send") || !strings.Contains(ab, "webhook-url-0") {
		t.Fatalf("agent settings page:\n%s", ab)
	}
	if !strings.Contains(db, "check-connection") || !strings.Contains(db, "test-send") {
		t.Fatalf("director settings page:\n%s", db)
	}
}

func TestSettings_LastDirectorCannotBeDemotedOrDisabled(t *testing.T) {
	t.Parallel()
	inst, dir, _ := setupHTTP(t)
	u, err := inst.Store.UserGetByEmail(t.Context(), "dora@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if status, body := dir.post("/settings/users/"+u.ID+"/role", url.Values{"role": {"agent"}}); status != http.StatusConflict ||
		!strings.Contains(body, "last active director") {
		t.Fatalf("demote the last director: %d\n%s", status, body)
	}
	if status, _ := dir.post("/settings/users/"+u.ID+"/disable", nil); status != http.StatusConflict {
		t.Fatalf("disable the last director: %d", status)
	}
	if u, _ = inst.Store.UserGet(t.Context(), u.ID); u.Role != "director" || u.Disabled() {
		t.Fatalf("last director changed: %+v", u)
	}
	// With a second director, the first may step down.
	webtest.AddUser(t, inst.Store, "dana@example.com", "director", "director-password")
	if status, _ := dir.post("/settings/users/"+u.ID+"/role", url.Values{"role": {"agent"}}); status != http.StatusSeeOther {
		t.Fatalf("demote with another director: %d", status)
	}
	if u, _ = inst.Store.UserGet(t.Context(), u.ID); u.Role != "agent" {
		t.Fatalf("not demoted: %+v", u)
	}
}

func TestSettings_OwnPasswordAndLanguage(t *testing.T) {
	t.Parallel()
	inst, _, agent := setupHTTP(t)
	form := url.Values{"current": {"not-my-password"}, "password": {"agent-password-2"}, "password2": {"agent-password-2"}}
	if status, body := agent.post("/settings/account/password", form); status != http.StatusUnprocessableEntity ||
		!strings.Contains(body, "current password is not right") {
		t.Fatalf("wrong current password: %d\n%s", status, body)
	}
	form.Set("current", "agent-password")
	form.Set("password2", "something-else")
	if status, _ := agent.post("/settings/account/password", form); status != http.StatusUnprocessableEntity {
		t.Fatalf("mismatch: %d", status)
	}
	other := signIn(t, inst.URL, "alex@example.com", "agent-password") // another browser of the same user
	form.Set("password2", "agent-password-2")
	if status, _ := agent.post("/settings/account/password", form); status != http.StatusSeeOther {
		t.Fatalf("change password: %d", status)
	}
	// This browser got a new session; the other one was signed out; the new password works.
	agent.readCSRF() // fails when this browser was signed out
	if status, _ := other.get("/settings/account"); status != http.StatusSeeOther {
		t.Fatalf("the other browser is still signed in: %d", status)
	}
	signIn(t, inst.URL, "alex@example.com", "agent-password-2")

	if status, _ := agent.post("/settings/account/language", url.Values{"language": {"xx"}}); status != http.StatusUnprocessableEntity {
		t.Fatalf("unknown language: %d", status)
	}
	if status, _ := agent.post("/settings/account/language", url.Values{"language": {"es"}}); status != http.StatusSeeOther {
		t.Fatalf("language: %d", status)
	}
	if _, body := agent.get("/settings/account"); !strings.Contains(body, "Mi cuenta") {
		t.Fatalf("the account page is not in Spanish:\n%s", body)
	}
}
