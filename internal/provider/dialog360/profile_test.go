package dialog360

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/wagate/wagate/internal/provider"
	"github.com/wagate/wagate/internal/provider/providertest"
)

// newFake360 starts a fake provider of kind and a client of it with key.
func newFake360(t *testing.T, kind providertest.Kind, key string) (*providertest.Server, *Client) {
	t.Helper()
	fake := providertest.New(t, providertest.Options{Kind: kind, APIKey: testKey})
	cfg := Config{BaseURL: fake.URL(), APIKey: key}
	if kind == providertest.Kind360DialogOnPremise {
		return fake, NewOnPremise(cfg)
	}
	return fake, NewCloud(cfg)
}

// lastRequest is the fake's last request with method and path.
func lastRequest(fake *providertest.Server, method, path string) (providertest.Request, bool) {
	var out providertest.Request
	found := false
	for _, r := range fake.Requests() {
		if r.Method == method && r.Path == path {
			out, found = r, true
		}
	}
	return out, found
}

func jsonBodyIs(t *testing.T, got []byte, want string) {
	t.Helper()
	r, _ := http.NewRequest(http.MethodPost, "http://x", strings.NewReader(string(got)))
	r.Header.Set("Content-Type", "application/json")
	bodyIs(t, r, want)
}

func TestCloud_ProfileReadUpdateReadBack(t *testing.T) {
	t.Parallel()
	fake, c := newFake360(t, providertest.Kind360Dialog, testKey)
	ctx := context.Background()
	p, err := c.Profile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if p.About != "Hello from the fake provider" || p.Vertical != "OTHER" {
		t.Fatalf("profile = %+v", p)
	}
	if r, ok := lastRequest(fake, http.MethodGet, "/whatsapp_business_profile"); !ok ||
		r.Query != "fields=about,address,description,email,profile_picture_url,websites,vertical" {
		t.Fatalf("read request %+v", r)
	}
	if err := c.SetProfile(ctx, provider.Profile{About: "We sell bikes", Email: "shop@example.com", Websites: []string{"https://bikes.example"}}); err != nil {
		t.Fatal(err)
	}
	r, ok := lastRequest(fake, http.MethodPost, "/whatsapp_business_profile")
	if !ok {
		t.Fatal("no POST /whatsapp_business_profile")
	}
	jsonBodyIs(t, r.Body, `{"messaging_product":"whatsapp","about":"We sell bikes","email":"shop@example.com","websites":["https://bikes.example"]}`)
	got, err := c.Profile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := provider.Profile{About: "We sell bikes", Description: p.Description, Email: "shop@example.com", Vertical: "OTHER",
		Websites: []string{"https://bikes.example"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("read back %+v\nwant      %+v", got, want)
	}
}

func TestOnPremise_ProfileReadUpdateReadBack(t *testing.T) {
	t.Parallel()
	fake, c := newFake360(t, providertest.Kind360DialogOnPremise, testKey)
	fake.SetProfile(providertest.Profile{Address: "Old St 2", Description: "Bikes", Vertical: "RETAIL"})
	ctx := context.Background()
	p, err := c.Profile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := (provider.Profile{Address: "Old St 2", Description: "Bikes", Vertical: "RETAIL"}); !reflect.DeepEqual(p, want) {
		t.Fatalf("profile = %+v", p)
	}
	if err := c.SetProfile(ctx, provider.Profile{Address: "New St 3", Websites: []string{"https://bikes.example"}, Vertical: "auto"}); err != nil {
		t.Fatal(err)
	}
	r, ok := lastRequest(fake, http.MethodPost, "/v1/settings/business/profile")
	if !ok {
		t.Fatal("no POST /v1/settings/business/profile")
	}
	// No messaging_product On-Premise (the fake refuses it with 1010).
	jsonBodyIs(t, r.Body, `{"address":"New St 3","vertical":"AUTO","websites":["https://bikes.example"]}`)
	got, err := c.Profile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := (provider.Profile{Address: "New St 3", Description: "Bikes", Vertical: "AUTO", Websites: []string{"https://bikes.example"}}); !reflect.DeepEqual(got, want) {
		t.Fatalf("read back %+v", got)
	}
}

// On-Premise keeps the about text apart from the business profile (PATCH /v1/settings/profile/about, reference
// §1.1). providertest serves neither that path nor its GET, so the read tolerates its 404 and the update reports
// it; a hand-written stand-in checks the whole exchange.
func TestOnPremise_ProfileAbout(t *testing.T) {
	t.Parallel()
	fake, c := newFake360(t, providertest.Kind360DialogOnPremise, testKey)
	err := c.SetProfile(context.Background(), provider.Profile{About: "Open 9-5"})
	if r, ok := lastRequest(fake, http.MethodPatch, "/v1/settings/profile/about"); !ok {
		t.Fatalf("no PATCH of the about text (err %v)", err)
	} else {
		jsonBodyIs(t, r.Body, `{"text":"Open 9-5"}`)
	}
	if err == nil {
		t.Log("providertest now serves PATCH /v1/settings/profile/about")
	}

	var patched string
	f := setup(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/v1/settings/business/profile":
			writeJSON(w, http.StatusOK, `{"settings":{"business":{"profile":{"address":"A 1","websites":[],"vertical":"EDU"}}},"meta":{"api_status":"stable","version":"2.53.1"}}`)
		case r.Method == http.MethodGet && r.URL.Path == "/v1/settings/profile/about":
			writeJSON(w, http.StatusOK, `{"settings":{"profile":{"about":{"text":"Open 9-5"}}}}`)
		case r.Method == http.MethodPatch && expect(t, w, r, http.MethodPatch, "/v1/settings/profile/about"):
			bodyIs(t, r, `{"text":"Closed"}`)
			patched = "Closed"
			writeJSON(w, http.StatusOK, `{"meta":{"api_status":"stable","version":"2.53.1"}}`)
		case r.Method == http.MethodPost && expect(t, w, r, http.MethodPost, "/v1/settings/business/profile"):
			writeJSON(w, http.StatusOK, `{"errors":[{"code":1009,"title":"Parameter value is not valid","details":"email"}],"meta":{}}`)
		}
	})
	p, err := f.onPrem.Profile(context.Background())
	if want := (provider.Profile{About: "Open 9-5", Address: "A 1", Vertical: "EDU"}); err != nil || !reflect.DeepEqual(p, want) {
		t.Fatalf("profile %+v %v", p, err)
	}
	if err := f.onPrem.SetProfile(context.Background(), provider.Profile{About: "Closed"}); err != nil || patched != "Closed" {
		t.Fatalf("about update: %v", err)
	}
	// An errors[] answer with a 2xx status is an error.
	err = f.onPrem.SetProfile(context.Background(), provider.Profile{Email: "a@example.com"})
	if pe := asError(t, err); pe.Code != 1009 {
		t.Fatalf("errors[] with 200: %+v", pe)
	}
}

func TestProfile_Validation(t *testing.T) {
	t.Parallel()
	for _, kind := range []providertest.Kind{providertest.Kind360Dialog, providertest.Kind360DialogOnPremise} {
		fake, c := newFake360(t, kind, testKey)
		for field, p := range map[string]provider.Profile{
			"about":       {About: strings.Repeat("a", 140)},
			"description": {Description: strings.Repeat("d", 513)},
			"email":       {Email: "@example.com"},
			"vertical":    {Vertical: "CASINO"},
			"websites":    {Websites: []string{"javascript:alert(1)"}},
		} {
			err := c.SetProfile(context.Background(), p)
			var fe *provider.ProfileFieldError
			if pe := asError(t, err); pe.Class != provider.ClassInvalid || pe.Provider != string(kind) || !errors.As(err, &fe) || fe.Field != field {
				t.Errorf("%s %s: %v", kind, field, err)
			}
		}
		if n := len(fake.Requests()); n != 0 {
			t.Errorf("%s: %d requests reached the provider", kind, n)
		}
	}
}

func TestProfile_WrongKey(t *testing.T) {
	t.Parallel()
	for _, kind := range []providertest.Kind{providertest.Kind360Dialog, providertest.Kind360DialogOnPremise} {
		_, c := newFake360(t, kind, "D360-wrong-key-0000")
		_, err := c.Profile(context.Background())
		if pe := asError(t, err); pe.Class != provider.ClassAuth || pe.HTTPStatus != http.StatusUnauthorized {
			t.Errorf("%s read: %+v", kind, pe)
		}
		err = c.SetProfile(context.Background(), provider.Profile{Address: "x", About: "y"})
		if pe := asError(t, err); pe.Class != provider.ClassAuth || pe.Op != provider.OpSetProfile {
			t.Errorf("%s update: %+v", kind, pe)
		}
		if strings.Contains(errText(err), "D360-wrong-key-0000") {
			t.Errorf("key in error: %v", err)
		}
	}
}

func TestProfile_MissingKey(t *testing.T) {
	t.Parallel()
	for _, c := range []*Client{NewCloud(Config{BaseURL: "http://127.0.0.1:1"}), NewOnPremise(Config{BaseURL: "http://127.0.0.1:1"})} {
		if _, err := c.Profile(context.Background()); asError(t, err).Class != provider.ClassAuth {
			t.Errorf("%s read: %v", c.Kind(), err)
		}
		if err := c.SetProfile(context.Background(), provider.Profile{About: "x"}); asError(t, err).Class != provider.ClassAuth {
			t.Errorf("%s update: %v", c.Kind(), err)
		}
	}
}
