package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/wagate/wagate/internal/health"
	"github.com/wagate/wagate/internal/httpapi"
	"github.com/wagate/wagate/internal/httpapi/contract"
	"github.com/wagate/wagate/internal/provider"
	"github.com/wagate/wagate/internal/provider/providertest"
	"github.com/wagate/wagate/internal/server/servertest"
)

// profileJSON is the API's profile answer.
type profileJSON struct {
	About             string   `json:"about"`
	Address           string   `json:"address"`
	Description       string   `json:"description"`
	Email             string   `json:"email"`
	Vertical          string   `json:"vertical"`
	ProfilePictureURL string   `json:"profile_picture_url"`
	Websites          []string `json:"websites"`
}

type profileErr struct {
	Error struct {
		Code         string `json:"code"`
		Message      string `json:"message"`
		ProviderCode int    `json:"provider_code"`
		Details      []struct {
			Field   string `json:"field"`
			Message string `json:"message"`
		} `json:"details"`
	} `json:"error"`
}

// call sends body (a string, "" for none) to the instance and decodes the answer into out.
func call(t *testing.T, base, method, path, body string, out any) int {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, base+path, rd)
	req.Header.Set("Authorization", "Bearer api-token")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
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
	return resp.StatusCode
}

func start360(t *testing.T) (*servertest.Instance, *providertest.Server) {
	t.Helper()
	fake := providertest.New(t, providertest.Options{Kind: providertest.Kind360Dialog, APIKey: "d360-profile-key"})
	inst := servertest.Start(t, servertest.Listen(t), "sqlite", map[string]string{
		"WAGATE_PROVIDER": "360dialog", "WHATSAPP_API_KEY": "d360-profile-key", "WAGATE_PROVIDER_BASE_URL": fake.URL(),
		"WAGATE_API_TOKEN": "api-token"})
	return inst, fake
}

func TestProfile_360DialogRoundTrip(t *testing.T) {
	t.Parallel()
	inst, fake := start360(t)
	var p profileJSON
	if code := call(t, inst.URL, "GET", "/v1/channels/default/profile", "", &p); code != 200 ||
		p.About != "Hello from the fake provider" || p.Vertical != "OTHER" {
		t.Fatalf("GET: %d %+v", code, p)
	}
	desc := p.Description
	var upd profileJSON
	code := call(t, inst.URL, "PATCH", "/v1/channels/default/profile",
		`{"address":"Main St 1","email":"info@example.com","vertical":"retail","websites":["https://example.com"]}`, &upd)
	want := profileJSON{About: "Hello from the fake provider", Description: desc, Address: "Main St 1", Email: "info@example.com",
		Vertical: "RETAIL", Websites: []string{"https://example.com"}}
	if code != 200 || !reflect.DeepEqual(upd, want) {
		t.Fatalf("PATCH: %d %+v", code, upd)
	}
	if fp := fake.Profile(); fp.Address != "Main St 1" || fp.Vertical != "RETAIL" {
		t.Fatalf("the provider holds %+v", fp)
	}
	var again profileJSON
	if code := call(t, inst.URL, "GET", "/v1/channels/default/profile", "", &again); code != 200 || !reflect.DeepEqual(again, want) {
		t.Fatalf("GET again: %d %+v", code, again)
	}
}

func TestProfile_Errors(t *testing.T) {
	t.Parallel()
	inst, fake := start360(t)
	before := len(fake.Requests())
	cases := []struct {
		method, path, body string
		status             int
		code, field        string
	}{
		{"GET", "/v1/channels/nope/profile", "", 404, "not_found", ""},
		{"PATCH", "/v1/channels/nope/profile", `{"about":"x"}`, 404, "not_found", ""},
		{"PATCH", "/v1/channels/default/profile", `{"about":"` + strings.Repeat("a", 140) + `"}`, 422, "validation_failed", "about"},
		{"PATCH", "/v1/channels/default/profile", `{"email":"not an email"}`, 422, "validation_failed", "email"},
		{"PATCH", "/v1/channels/default/profile", `{"vertical":"SPACE"}`, 422, "validation_failed", "vertical"},
		{"PATCH", "/v1/channels/default/profile", `{"websites":["a","b","c"]}`, 422, "validation_failed", "websites"},
		{"PATCH", "/v1/channels/default/profile", `{"websites":"https://example.com"}`, 422, "validation_failed", "websites"},
		{"PATCH", "/v1/channels/default/profile", `{"about":""}`, 422, "validation_failed", "about"},
		{"PATCH", "/v1/channels/default/profile", `{"address":null}`, 422, "validation_failed", "address"},
		{"PATCH", "/v1/channels/default/profile", `{"about":5}`, 422, "validation_failed", "about"},
		{"PATCH", "/v1/channels/default/profile", `{"name":"Shop"}`, 422, "validation_failed", "name"},
		{"PATCH", "/v1/channels/default/profile", `{"profile_picture_url":"https://x.example/p.jpg"}`, 422, "validation_failed", "profile_picture_url"},
		{"PATCH", "/v1/channels/default/profile", `{}`, 422, "validation_failed", ""},
		{"PATCH", "/v1/channels/default/profile", `[1]`, 422, "validation_failed", ""},
		{"PATCH", "/v1/channels/default/profile", `{"about":`, 422, "validation_failed", ""},
	}
	for _, c := range cases {
		var e profileErr
		status := call(t, inst.URL, c.method, c.path, c.body, &e)
		if status != c.status || e.Error.Code != c.code || e.Error.Message == "" {
			t.Errorf("%s %s %s: %d %+v", c.method, c.path, c.body, status, e)
			continue
		}
		if c.field != "" && (len(e.Error.Details) != 1 || e.Error.Details[0].Field != c.field) {
			t.Errorf("%s: details %+v, want field %s", c.body, e.Error.Details, c.field)
		}
	}
	if n := len(fake.Requests()); n != before {
		t.Errorf("%d requests reached the provider for invalid updates", n-before)
	}

	// A body over 1 MiB.
	big := `{"about":"` + strings.Repeat("a", 1<<20) + `"}`
	req, _ := http.NewRequest("PATCH", inst.URL+"/v1/channels/default/profile", bytes.NewReader([]byte(big)))
	req.Header.Set("Authorization", "Bearer api-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("big body: %d", resp.StatusCode)
	}

	// Provider failures are 502 with the provider's message and code.
	fake.FailNext(providertest.EndpointProfile, 1, providertest.Fault{Code: 100, Details: "Param about is invalid"})
	var e profileErr
	if status := call(t, inst.URL, "PATCH", "/v1/channels/default/profile", `{"about":"Hi"}`, &e); status != 502 ||
		e.Error.Code != "provider_rejected" || e.Error.ProviderCode != 100 || e.Error.Message == "" {
		t.Errorf("provider refusal: %d %+v", status, e)
	}
	fake.FailNext(providertest.EndpointProfile, 1, providertest.Fault{Status: 401})
	e = profileErr{}
	if status := call(t, inst.URL, "GET", "/v1/channels/default/profile", "", &e); status != 502 || e.Error.Code != "provider_auth" {
		t.Errorf("provider 401: %d %+v", status, e)
	}
	fake.FailNext(providertest.EndpointProfile, 1, providertest.Fault{Status: 503})
	e = profileErr{}
	if status := call(t, inst.URL, "GET", "/v1/channels/default/profile", "", &e); status != 502 || e.Error.Code != "provider_unavailable" {
		t.Errorf("provider 503: %d %+v", status, e)
	}
}

func TestProfile_DemoRoundTrip(t *testing.T) {
	t.Parallel()
	inst := servertest.Start(t, servertest.Listen(t), "sqlite", map[string]string{"WAGATE_API_TOKEN": "api-token"})
	var p profileJSON
	if code := call(t, inst.URL, "GET", "/v1/channels/default/profile", "", &p); code != 200 || p.About != "wagate demo" {
		t.Fatalf("GET: %d %+v", code, p)
	}
	var upd profileJSON
	if code := call(t, inst.URL, "PATCH", "/v1/channels/default/profile", `{"about":"Demo shop","websites":["https://demo.example"]}`, &upd); code != 200 ||
		upd.About != "Demo shop" || !reflect.DeepEqual(upd.Websites, []string{"https://demo.example"}) {
		t.Fatalf("PATCH: %d %+v", code, upd)
	}
	var again profileJSON
	if code := call(t, inst.URL, "GET", "/v1/channels/default/profile", "", &again); code != 200 || !reflect.DeepEqual(again, upd) {
		t.Fatalf("GET again: %d %+v", code, again)
	}
	var e profileErr
	if code := call(t, inst.URL, "PATCH", "/v1/channels/default/profile", `{"email":"x@"}`, &e); code != 422 || len(e.Error.Details) != 1 || e.Error.Details[0].Field != "email" {
		t.Fatalf("demo validation: %d %+v", code, e)
	}
}

// stubChannels serves one channel, "shop", with a stub provider.
type stubChannels struct{ p provider.Provider }

func (s stubChannels) List() []httpapi.ChannelInfo { return nil }
func (s stubChannels) Check(ctx context.Context, name string) (health.Report, bool) {
	return health.Report{}, false
}
func (s stubChannels) Provider(name string) (provider.Provider, bool) { return s.p, name == "shop" }

// readFails accepts updates, then fails to read the profile back.
type readFails struct{ provider.Provider }

func (readFails) Kind() string                                             { return "meta" }
func (readFails) SetProfile(ctx context.Context, p provider.Profile) error { return nil }
func (readFails) Profile(ctx context.Context) (provider.Profile, error) {
	return provider.Profile{}, &provider.Error{Provider: "meta", Op: provider.OpProfile, Class: provider.ClassRetry, HTTPStatus: 503,
		Message: "The WhatsApp service is temporarily unavailable. wagate will retry."}
}

func TestProfile_UpdatedButReadBackFailed(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	mux := http.NewServeMux()
	httpapi.New(httpapi.Options{Store: b.st, Channels: stubChannels{readFails{}}, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}).Register(mux)
	srv := httptest.NewServer(contract.Wrap(t, mux))
	t.Cleanup(srv.Close)
	var e profileErr
	if code := call(t, srv.URL, "PATCH", "/v1/channels/shop/profile", `{"about":"Hi"}`, &e); code != 502 ||
		e.Error.Code != "provider_unavailable" || !strings.Contains(e.Error.Message, "was updated") {
		t.Fatalf("%d %+v", code, e)
	}
}
