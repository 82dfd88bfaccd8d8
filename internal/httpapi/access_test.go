package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wagate/wagate/internal/server/servertest"
)

// req makes one API call with a bearer token (none when empty) and optional headers; it decodes the JSON answer
// into out and returns the response.
func req(t *testing.T, base, method, path, token, body string, out any, headers ...string) *http.Response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r, _ := http.NewRequest(method, base+path, rd)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s %s: %d content type %q: %s", method, path, resp.StatusCode, ct, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, raw)
		}
	}
	return resp
}

type errBody struct {
	Error struct {
		Code, Message, Fix string
		RetryAfter         int `json:"retry_after"`
	} `json:"error"`
}

type tokenBody struct {
	ID, Name, Display, Token string
	Scopes                   []string
}

// startClosed runs a demo server whose API requires tokens, with the operator token "api-token".
func startClosed(t *testing.T, db string, env map[string]string) *servertest.Instance {
	e := map[string]string{"WAGATE_API_TOKEN": "api-token", "WAGATE_API_OPEN": "false"}
	for k, v := range env {
		e[k] = v
	}
	return servertest.Start(t, servertest.Listen(t), db, e)
}

func createToken(t *testing.T, base, scopes string) tokenBody {
	t.Helper()
	var tok tokenBody
	resp := req(t, base, "POST", "/v1/tokens", "api-token", `{"name":"crm","scopes":"`+scopes+`"}`, &tok)
	if resp.StatusCode != 201 || !strings.HasPrefix(tok.Token, "wgt_") || tok.ID == "" || !strings.HasPrefix(tok.Token, tok.Display) {
		t.Fatalf("create token: %d %+v", resp.StatusCode, tok)
	}
	return tok
}

func TestAccess_TokensScopesAndRevocation(t *testing.T) {
	t.Parallel()
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			inst := startClosed(t, db, nil)
			reader := createToken(t, inst.URL, "read")
			sender := createToken(t, inst.URL, "send")
			var e errBody
			// Right scope.
			if resp := req(t, inst.URL, "GET", "/v1/conversations", reader.Token, "", nil); resp.StatusCode != 200 {
				t.Fatalf("reader lists: %d", resp.StatusCode)
			}
			// Missing scope: 403 with the catalogue's JSON naming the scope.
			if resp := req(t, inst.URL, "POST", "/v1/contacts", reader.Token, `{"phone":"+34696247355"}`, &e); resp.StatusCode != 403 ||
				e.Error.Code != "forbidden" || !strings.Contains(e.Error.Message, "send") || e.Error.Fix == "" {
				t.Fatalf("reader writes: %d %+v", resp.StatusCode, e)
			}
			if resp := req(t, inst.URL, "GET", "/v1/messages", sender.Token, "", &e); resp.StatusCode != 403 {
				t.Fatalf("sender reads: %d", resp.StatusCode)
			}
			if resp := req(t, inst.URL, "GET", "/v1/tokens", reader.Token, "", &e); resp.StatusCode != 403 {
				t.Fatalf("reader lists tokens: %d", resp.StatusCode)
			}
			// Wrong, missing and malformed tokens: 401.
			for _, tok := range []string{"", "wrong", reader.Token + "x", changeLast(reader.Token), strings.ToUpper(reader.Token)} {
				e = errBody{}
				if resp := req(t, inst.URL, "GET", "/v1/conversations", tok, "", &e); resp.StatusCode != 401 || e.Error.Code != "unauthorized" {
					t.Fatalf("token %q: %d %+v", tok, resp.StatusCode, e)
				}
			}
			// The list shows no secret and no hash.
			var list struct{ Items []map[string]any }
			resp := req(t, inst.URL, "GET", "/v1/tokens", "api-token", "", &list)
			raw, _ := json.Marshal(list)
			if resp.StatusCode != 200 || len(list.Items) != 2 || strings.Contains(string(raw), reader.Token[12:]) ||
				strings.Contains(string(raw), "hash") {
				t.Fatalf("list: %d %s", resp.StatusCode, raw)
			}
			// Revocation takes effect at once on this instance.
			if resp := req(t, inst.URL, "DELETE", "/v1/tokens/"+reader.ID, "api-token", "", nil); resp.StatusCode != 200 {
				t.Fatalf("revoke: %d", resp.StatusCode)
			}
			if resp := req(t, inst.URL, "GET", "/v1/conversations", reader.Token, "", &e); resp.StatusCode != 401 {
				t.Fatalf("revoked token: %d", resp.StatusCode)
			}
			if resp := req(t, inst.URL, "DELETE", "/v1/tokens/nope", "api-token", "", &e); resp.StatusCode != 404 {
				t.Fatalf("revoke unknown: %d", resp.StatusCode)
			}
			// An admin token made through the API can make tokens.
			admin := createToken(t, inst.URL, "admin")
			if resp := req(t, inst.URL, "POST", "/v1/tokens", admin.Token, `{"name":"bot","scopes":["read","send"]}`, nil); resp.StatusCode != 201 {
				t.Fatalf("admin creates: %d", resp.StatusCode)
			}
			// Bad bodies: clear errors.
			for body, code := range map[string]string{
				`{"name":"x"}`: "validation_failed", `{"name":"","scopes":"read"}`: "validation_failed",
				`{"name":"x","scopes":"root"}`: "validation_failed", `{"name":"x","scopes":"read","extra":1}`: "invalid_json",
				`[]`: "invalid_json", `{"name":"x","scopes":"read"} {}`: "invalid_json", `{"name":"x","scopes":5}`: "validation_failed",
			} {
				e = errBody{}
				if resp := req(t, inst.URL, "POST", "/v1/tokens", "api-token", body, &e); resp.StatusCode/100 != 4 || e.Error.Code != code {
					t.Errorf("%s: %d %+v, want %s", body, resp.StatusCode, e, code)
				}
			}
		})
	}
}

func TestAccess_RevocationReachesAnotherInstanceWithinTwoSeconds(t *testing.T) {
	t.Parallel()
	a := startClosed(t, "postgres", nil)
	b := servertest.Start(t, servertest.Listen(t), "sqlite", map[string]string{"WAGATE_API_TOKEN": "api-token",
		"WAGATE_API_OPEN": "false", "WAGATE_DATABASE_URL": a.Config.DatabaseURL.Reveal()})
	tok := createToken(t, a.URL, "read")
	if resp := req(t, b.URL, "GET", "/v1/events", tok.Token, "", nil); resp.StatusCode != 200 {
		t.Fatalf("other instance: %d", resp.StatusCode)
	}
	if resp := req(t, a.URL, "DELETE", "/v1/tokens/"+tok.ID, "api-token", "", nil); resp.StatusCode != 200 {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		resp := req(t, b.URL, "GET", "/v1/events", tok.Token, "", nil)
		if resp.StatusCode == 401 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the other instance still admits the revoked token after 2 s: %d", resp.StatusCode)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestAccess_RateLimitPerToken(t *testing.T) {
	t.Parallel()
	inst := startClosed(t, "sqlite", map[string]string{"WAGATE_API_RATE_PER_MINUTE": "3"})
	one, two := createToken(t, inst.URL, "read"), createToken(t, inst.URL, "read")
	for i := 0; i < 3; i++ {
		if resp := req(t, inst.URL, "GET", "/v1/events", one.Token, "", nil); resp.StatusCode != 200 {
			t.Fatalf("request %d: %d", i, resp.StatusCode)
		}
	}
	var e errBody
	resp := req(t, inst.URL, "GET", "/v1/events", one.Token, "", &e)
	ra, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if resp.StatusCode != 429 || e.Error.Code != "rate_limited" || err != nil || ra < 1 || ra > 60 || e.Error.RetryAfter != ra {
		t.Fatalf("4th request: %d Retry-After %q %+v", resp.StatusCode, resp.Header.Get("Retry-After"), e)
	}
	// Each token has its own budget; the operator's token is not limited.
	if resp := req(t, inst.URL, "GET", "/v1/events", two.Token, "", nil); resp.StatusCode != 200 {
		t.Fatalf("second token: %d", resp.StatusCode)
	}
	for i := 0; i < 10; i++ {
		if resp := req(t, inst.URL, "GET", "/v1/events", "api-token", "", nil); resp.StatusCode != 200 {
			t.Fatalf("operator token: %d", resp.StatusCode)
		}
	}
	// Provider webhooks are never limited.
	for i := 0; i < 10; i++ {
		body := fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"1","phone_number_id":"1"},"contacts":[{"wa_id":"34696247355","profile":{"name":"Ana"}}],"messages":[{"from":"34696247355","id":"wamid.rl%d","timestamp":"%d","type":"text","text":{"body":"hola"}}]}}]}]}`, i, time.Now().Unix())
		r, _ := http.NewRequest("POST", inst.URL+"/webhooks/whatsapp", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", "Bearer "+one.Token)
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("webhook %d: %d", i, resp.StatusCode)
		}
	}
}

func TestAccess_BruteForceIsThrottledPerAddress(t *testing.T) {
	t.Parallel()
	inst := startClosed(t, "sqlite", map[string]string{"WAGATE_TRUSTED_PROXIES": "127.0.0.1"})
	good := createToken(t, inst.URL, "read")
	from := func(ip string) []string { return []string{"X-Forwarded-For", ip} }
	var e errBody
	for i := 0; i < 20; i++ {
		guess := fmt.Sprintf("wgt_%043d", i)
		if resp := req(t, inst.URL, "GET", "/v1/events", guess, "", &e, from("203.0.113.7")...); resp.StatusCode != 401 {
			t.Fatalf("guess %d: %d", i, resp.StatusCode)
		}
	}
	resp := req(t, inst.URL, "GET", "/v1/events", "wgt_guess", "", &e, from("203.0.113.7")...)
	if resp.StatusCode != 429 || e.Error.Code != "auth_throttled" || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("21st guess: %d %+v", resp.StatusCode, e)
	}
	// While throttled, even a right token from that address waits: the guesser learns nothing.
	if resp := req(t, inst.URL, "GET", "/v1/events", good.Token, "", nil, from("203.0.113.7")...); resp.StatusCode != 429 {
		t.Fatalf("right token from the throttled address: %d", resp.StatusCode)
	}
	// Other clients behind the same trusted proxy are not affected.
	if resp := req(t, inst.URL, "GET", "/v1/events", good.Token, "", nil, from("198.51.100.1")...); resp.StatusCode != 200 {
		t.Fatalf("another client: %d", resp.StatusCode)
	}
}

func TestAccess_XForwardedForIgnoredWithoutTrustedProxy(t *testing.T) {
	t.Parallel()
	inst := startClosed(t, "sqlite", nil)
	good := createToken(t, inst.URL, "read")
	for i := 0; i < 20; i++ {
		req(t, inst.URL, "GET", "/v1/events", "wrong", "", nil, "X-Forwarded-For", fmt.Sprintf("192.0.2.%d", i))
	}
	// A forged header does not spread the failures over many addresses: the peer 127.0.0.1 is throttled.
	if resp := req(t, inst.URL, "GET", "/v1/events", good.Token, "", nil, "X-Forwarded-For", "192.0.2.200"); resp.StatusCode != 429 {
		t.Fatalf("after 20 failures from one peer: %d", resp.StatusCode)
	}
}

func TestAccess_OpenOnlyInDemoOrByChoice(t *testing.T) {
	t.Parallel()
	live := map[string]string{"WAGATE_PROVIDER": "360dialog", "WHATSAPP_API_KEY": "k", "WAGATE_PROVIDER_BASE_URL": "http://127.0.0.1:1"}
	cases := []struct {
		name string
		env  map[string]string
		want int
	}{
		{"demo", nil, 200},
		{"demo closed by choice", map[string]string{"WAGATE_API_OPEN": "false"}, 401},
		{"live without token", live, 401},
		{"live opened by choice", map[string]string{"WAGATE_API_OPEN": "true"}, 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{}
			if c.name == "live opened by choice" {
				for k, v := range live {
					env[k] = v
				}
			}
			for k, v := range c.env {
				env[k] = v
			}
			inst := servertest.Start(t, servertest.Listen(t), "sqlite", env)
			if resp := req(t, inst.URL, "GET", "/v1/events", "", "", nil); resp.StatusCode != c.want {
				t.Fatalf("%d, want %d", resp.StatusCode, c.want)
			}
		})
	}
}

func TestAccess_LastUsedRecorded(t *testing.T) {
	t.Parallel()
	inst := startClosed(t, "sqlite", nil)
	tok := createToken(t, inst.URL, "read")
	req(t, inst.URL, "GET", "/v1/events", tok.Token, "", nil)
	got, err := inst.Store.TokenGet(context.Background(), tok.ID)
	if err != nil || got.LastUsedAt.IsZero() {
		t.Fatalf("last used: %+v %v", got, err)
	}
}

// changeLast returns tok with its last character replaced by another.
func changeLast(tok string) string {
	last := "A"
	if strings.HasSuffix(tok, "A") {
		last = "B"
	}
	return tok[:len(tok)-1] + last
}
