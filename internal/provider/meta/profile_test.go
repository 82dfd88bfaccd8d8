package meta

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

func newFakeMeta(t *testing.T) (*providertest.Server, *Client) {
	t.Helper()
	fake := providertest.New(t, providertest.Options{Kind: providertest.KindMeta, AccessToken: testToken})
	return fake, New(Config{BaseURL: fake.URL(), PhoneNumberID: fake.PhoneNumberID(), AccessToken: testToken})
}

func TestMeta_ProfileReadUpdateReadBack(t *testing.T) {
	t.Parallel()
	fake, c := newFakeMeta(t)
	ctx := context.Background()
	p, err := c.Profile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if p.About != "Hello from the fake provider" || p.Vertical != "OTHER" || p.Description == "" || p.Websites != nil {
		t.Fatalf("profile = %+v", p)
	}
	upd := provider.Profile{Address: " Main St 1 ", Email: "info@example.com", Vertical: "retail",
		Websites: []string{"https://example.com", "http://example.org/shop"}, ProfilePictureURL: "https://ignored.example"}
	if err := c.SetProfile(ctx, upd); err != nil {
		t.Fatal(err)
	}
	var post providertest.Request
	for _, r := range fake.Requests() {
		if r.Method == http.MethodPost {
			post = r
		}
	}
	if post.Path != "/"+DefaultAPIVersion+"/"+fake.PhoneNumberID()+"/whatsapp_business_profile" {
		t.Fatalf("update went to %s %s", post.Method, post.Path)
	}
	jsonEqual(t, post.Body, `{"messaging_product":"whatsapp","address":"Main St 1","email":"info@example.com","vertical":"RETAIL",
		"websites":["https://example.com","http://example.org/shop"]}`)
	got, err := c.Profile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := provider.Profile{About: "Hello from the fake provider", Description: p.Description, Address: "Main St 1",
		Email: "info@example.com", Vertical: "RETAIL", Websites: []string{"https://example.com", "http://example.org/shop"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("read back %+v\nwant      %+v", got, want)
	}
	if fp := fake.Profile(); fp.Address != "Main St 1" || fp.About != "Hello from the fake provider" {
		t.Fatalf("fake profile %+v", fp)
	}
	for _, r := range fake.Requests() {
		if r.Method == http.MethodGet && !strings.Contains(r.Query, "fields=about,address,description,email,profile_picture_url,websites,vertical") {
			t.Errorf("read without the fields: %s?%s", r.Path, r.Query)
		}
	}
}

func TestMeta_SetProfileValidation(t *testing.T) {
	t.Parallel()
	fake, c := newFakeMeta(t)
	long := func(n int) string { return strings.Repeat("é", n) }
	cases := []struct {
		field string
		p     provider.Profile
	}{
		{"about", provider.Profile{About: long(140)}},
		{"address", provider.Profile{Address: long(257)}},
		{"description", provider.Profile{Description: long(513)}},
		{"email", provider.Profile{Email: "not-an-email"}},
		{"email", provider.Profile{Email: "Ana <ana@example.com>"}},
		{"email", provider.Profile{Email: strings.Repeat("a", 120) + "@example.com"}},
		{"vertical", provider.Profile{Vertical: "SPACE_TRAVEL"}},
		{"websites", provider.Profile{Websites: []string{"https://a.example", "https://b.example", "https://c.example"}}},
		{"websites", provider.Profile{Websites: []string{"ftp://example.com"}}},
		{"websites", provider.Profile{Websites: []string{"example.com"}}},
		{"websites", provider.Profile{Websites: []string{""}}},
		{"websites", provider.Profile{Websites: []string{"https://example.com/" + strings.Repeat("x", 240)}}},
	}
	for _, tc := range cases {
		err := c.SetProfile(context.Background(), tc.p)
		pe := asError(t, err)
		var fe *provider.ProfileFieldError
		if pe.Class != provider.ClassInvalid || pe.Op != provider.OpSetProfile || !errors.As(err, &fe) || fe.Field != tc.field ||
			!strings.Contains(pe.Message, tc.field) {
			t.Errorf("%+v: %v (class %s, field %v)", tc.p, err, pe.Class, fe)
		}
	}
	// At the limits everything passes.
	ok := provider.Profile{About: long(139), Address: long(256), Description: long(512), Email: "a.b+c@example.co.uk",
		Vertical: "NOT_A_BIZ", Websites: []string{"https://example.com/" + strings.Repeat("x", 236)}}
	if err := c.SetProfile(context.Background(), ok); err != nil {
		t.Fatalf("profile at the limits: %v", err)
	}
	if n := len(fake.Requests()); n != 1 {
		t.Fatalf("%d requests reached the provider, want only the valid update", n)
	}
}

func TestMeta_SetProfileNothingToSend(t *testing.T) {
	t.Parallel()
	fake, c := newFakeMeta(t)
	if err := c.SetProfile(context.Background(), provider.Profile{About: "  ", ProfilePictureURL: "https://x.example/p.jpg"}); err != nil {
		t.Fatal(err)
	}
	if n := len(fake.Requests()); n != 0 {
		t.Fatalf("%d requests for an empty update", n)
	}
}

func TestMeta_ProfileWrongToken(t *testing.T) {
	t.Parallel()
	fake, _ := newFakeMeta(t)
	c := New(Config{BaseURL: fake.URL(), PhoneNumberID: fake.PhoneNumberID(), AccessToken: "EAAG-wrong-token-999"})
	_, err := c.Profile(context.Background())
	if pe := asError(t, err); pe.Class != provider.ClassAuth || pe.HTTPStatus != http.StatusUnauthorized || pe.Op != provider.OpProfile {
		t.Fatalf("read: %+v", pe)
	}
	err = c.SetProfile(context.Background(), provider.Profile{About: "hi"})
	if pe := asError(t, err); pe.Class != provider.ClassAuth || pe.Op != provider.OpSetProfile {
		t.Fatalf("update: %+v", pe)
	}
	if strings.Contains(errText(err), "EAAG-wrong-token-999") {
		t.Fatalf("token in error: %v", err)
	}
}

func TestMeta_ProfileProviderError(t *testing.T) {
	t.Parallel()
	fake, c := newFakeMeta(t)
	fake.FailNext(providertest.EndpointProfile, 1, providertest.Fault{Code: 100})
	_, err := c.Profile(context.Background())
	if pe := asError(t, err); pe.Code != 100 || pe.Class != provider.ClassInvalid {
		t.Fatalf("%+v", pe)
	}
	fake.FailNext(providertest.EndpointProfile, 1, providertest.Fault{Status: http.StatusServiceUnavailable})
	err = c.SetProfile(context.Background(), provider.Profile{About: "hi"})
	if pe := asError(t, err); pe.Class != provider.ClassRetry {
		t.Fatalf("%+v", pe)
	}
}

// Meta's answer shape is UNCONFIRMED: a bare object is read like the data array, and success false is an error.
func TestMeta_ProfileAnswerShapes(t *testing.T) {
	t.Parallel()
	path := "/v23.0/" + testPNID + "/whatsapp_business_profile"
	for _, body := range []string{
		`{"data":[{"about":"Hi","websites":["https://a.example"],"vertical":"EDU","messaging_product":"whatsapp"}]}`,
		`{"about":"Hi","websites":["https://a.example"],"vertical":"EDU","messaging_product":"whatsapp","id":"1"}`,
		`{"data":{"about":"Hi","websites":"https://a.example","vertical":"EDU"}}`,
	} {
		f := setup(t, func(w http.ResponseWriter, r *http.Request) {
			if expect(t, w, r, http.MethodGet, path) {
				writeJSON(w, http.StatusOK, body)
			}
		})
		p, err := f.client.Profile(context.Background())
		want := provider.Profile{About: "Hi", Vertical: "EDU", Websites: []string{"https://a.example"}}
		if err != nil || !reflect.DeepEqual(p, want) {
			t.Errorf("%s: %+v %v", body, p, err)
		}
	}
	f := setup(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			writeJSON(w, http.StatusOK, `{"data":[]}`)
			return
		}
		if expect(t, w, r, http.MethodPost, path) {
			writeJSON(w, http.StatusOK, `{"success":false}`)
		}
	})
	if p, err := f.client.Profile(context.Background()); err != nil || !reflect.DeepEqual(p, provider.Profile{}) {
		t.Errorf("empty data: %+v %v", p, err)
	}
	if err := f.client.SetProfile(context.Background(), provider.Profile{About: "x"}); asError(t, err).Class != provider.ClassRetry {
		t.Errorf("success false: %v", err)
	}
	f = setup(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, `["not","an","object"]`) })
	if _, err := f.client.Profile(context.Background()); err == nil {
		t.Error("array answer accepted")
	}
}
