package cli

import (
	"strings"
	"testing"

	"github.com/wagate/wagate/internal/provider/providertest"
)

func TestCLI_CheckExplainsEachState(t *testing.T) {
	t.Parallel()
	fake := providertest.New(t, providertest.Options{Kind: providertest.Kind360Dialog, APIKey: "right-key"})
	env := map[string]string{"WAGATE_PROVIDER": "360dialog", "WHATSAPP_API_KEY": "right-key", "WAGATE_PROVIDER_BASE_URL": fake.URL(),
		"WAGATE_PUBLIC_URL": "https://wa.example.com", "WHATSAPP_WEBHOOK_SECRET": "hook-secret"}
	code, out, _ := run(t, env, "check")
	if code != 1 || !strings.Contains(out, "Live") || !strings.Contains(out, "[FAIL] webhook registered") || !strings.Contains(out, "wagate webhook register") {
		t.Fatalf("before registering: exit %d\n%s", code, out)
	}
	code, out, errOut := run(t, env, "webhook", "register")
	if code != 0 || !strings.Contains(out, "https://wa.example.com/webhooks/whatsapp/default") {
		t.Fatalf("register: exit %d\n%s%s", code, out, errOut)
	}
	if url, headers := fake.WebhookConfig(); url != "https://wa.example.com/webhooks/whatsapp/default" || headers["X-Wagate-Webhook-Secret"] != "hook-secret" {
		t.Fatalf("registered %q %v", url, headers)
	}
	if code, out, _ = run(t, env, "check"); code != 0 || strings.Contains(out, "FAIL") {
		t.Fatalf("after registering: exit %d\n%s", code, out)
	}
	if strings.Contains(out, "hook-secret") || strings.Contains(out, "right-key") {
		t.Fatalf("check prints a secret:\n%s", out)
	}
	env["WHATSAPP_API_KEY"] = "wrong-key"
	if code, out, _ = run(t, env, "check"); code != 1 || !strings.Contains(out, "Unauthorized") || !strings.Contains(out, "fix:") {
		t.Fatalf("wrong key: exit %d\n%s", code, out)
	}
	env["WAGATE_PROVIDER_BASE_URL"] = "http://127.0.0.1:1"
	if code, out, _ = run(t, env, "check", "--json"); code != 1 || !strings.Contains(out, `"state": "unreachable"`) {
		t.Fatalf("unreachable: exit %d\n%s", code, out)
	}
}

func TestCLI_CheckDemo(t *testing.T) {
	t.Parallel()
	code, out, _ := run(t, nil, "check")
	if code != 0 || !strings.Contains(out, "Demo mode") || !strings.Contains(out, "WHATSAPP_API_KEY") {
		t.Fatalf("demo: exit %d\n%s", code, out)
	}
	if code, _, _ := run(t, nil, "check", "--channel", "nope"); code != 2 {
		t.Fatalf("unknown channel: exit %d", code)
	}
}
