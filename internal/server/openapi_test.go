package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/wagate/wagate/internal/httpapi"
	"github.com/wagate/wagate/internal/httpapi/contract"
	"github.com/wagate/wagate/internal/server/servertest"
)

// TestOpenAPI_RoutesMatchDocument fails when an endpoint is mounted but not documented, documented but not
// mounted, or documented with another scope than it checks.
func TestOpenAPI_RoutesMatchDocument(t *testing.T) {
	t.Parallel()
	inst := servertest.Start(t, servertest.Listen(t), "sqlite", nil)
	c, err := contract.Load()
	if err != nil {
		t.Fatal(err)
	}
	doc := c.Document()
	documented := map[string]string{} // "GET /v1/x/{id}" -> scope
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			scope, _ := op.Extensions["x-scope"].(string)
			documented[method+" "+path] = scope
		}
	}
	mounted := map[string]bool{}
	for _, r := range inst.Server.APIRoutes() {
		mounted[r.Pattern] = true
		scope, ok := documented[r.Pattern]
		switch {
		case !ok:
			t.Errorf("%s is mounted but openapi.yaml does not document it", r.Pattern)
		case scope != string(r.Scope):
			t.Errorf("%s checks scope %q but openapi.yaml says x-scope %q", r.Pattern, r.Scope, scope)
		}
	}
	for k := range documented {
		if !mounted[k] {
			t.Errorf("openapi.yaml documents %s but the server does not mount it", k)
		}
	}
}

func TestOpenAPI_ServedAndRendered(t *testing.T) {
	t.Parallel()
	inst := servertest.Start(t, servertest.Listen(t), "sqlite", map[string]string{"WAGATE_API_TOKEN": "api-token"})
	get := func(path string) (*http.Response, string) {
		resp, err := http.Get(inst.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, body := get("/openapi.yaml")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/yaml") || body != string(httpapi.OpenAPI) {
		t.Fatalf("/openapi.yaml: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	resp, body = get("/docs")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("/docs: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{"<code>/v1/messages</code>", `id="schema-Message"`, "scope: send", "Idempotency-Key"} {
		if !strings.Contains(body, want) {
			t.Errorf("/docs lacks %q", want)
		}
	}
	// Every documented operation appears on the page.
	c, _ := contract.Load()
	for path, item := range c.Document().Paths.Map() {
		for method := range item.Operations() {
			if !strings.Contains(body, `<span class="m `+method+`">`+method+`</span> <code>`+path+`</code>`) {
				t.Errorf("/docs lacks %s %s", method, path)
			}
		}
	}
}
