package httpapi_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/wagate/wagate/internal/provider/providertest"
	"github.com/wagate/wagate/internal/server/servertest"
)

type contactsJSON struct {
	Contacts []struct {
		Input  string `json:"input"`
		Status string `json:"status"`
		WAID   string `json:"wa_id"`
	} `json:"contacts"`
}

func startOnPrem(t *testing.T) (*servertest.Instance, *providertest.Server) {
	t.Helper()
	fake := providertest.New(t, providertest.Options{Kind: providertest.Kind360DialogOnPremise, APIKey: "d360-onprem-key"})
	inst := servertest.Start(t, servertest.Listen(t), "sqlite", map[string]string{
		"WAGATE_PROVIDER": "360dialog-onpremise", "WHATSAPP_API_KEY": "d360-onprem-key", "WAGATE_PROVIDER_BASE_URL": fake.URL(),
		"WAGATE_API_TOKEN": "api-token"})
	return inst, fake
}

func TestContactsCheck_OnPremise(t *testing.T) {
	t.Parallel()
	inst, fake := startOnPrem(t)
	fake.SetInvalidContacts("+34600000002")
	var got contactsJSON
	code := call(t, inst.URL, "POST", "/v1/channels/default/contacts/check", `{"contacts":["+34600000001","+34600000002","abc"]}`, &got)
	want := `{[{+34600000001 valid 34600000001} {+34600000002 invalid } {abc invalid }]}`
	if code != 200 || fmt.Sprint(got) != want {
		t.Fatalf("%d %v, want %s", code, got, want)
	}
	// The wire shape: wa_id is always present.
	var raw map[string][]map[string]any
	call(t, inst.URL, "POST", "/v1/channels/default/contacts/check", `{"contacts":["+34600000002"]}`, &raw)
	if !reflect.DeepEqual(raw["contacts"], []map[string]any{{"input": "+34600000002", "status": "invalid", "wa_id": ""}}) {
		t.Fatalf("raw answer %v", raw)
	}

	before := len(fake.Requests())
	many := `{"contacts":["+34600000001"` + strings.Repeat(`,"+34600000001"`, 100) + `]}`
	for _, body := range []string{``, `[]`, `{}`, `{"contacts":[]}`, `{"contacts":"+34600000001"}`, `{"contacts":[1]}`,
		`{"contacts":[" "]}`, `{"contacts":["+34600000001"],"force_check":true}`, many} {
		var e profileErr
		if code := call(t, inst.URL, "POST", "/v1/channels/default/contacts/check", body, &e); code != 422 ||
			e.Error.Code != "validation_failed" || e.Error.Message == "" {
			t.Errorf("%.40q: %d %+v", body, code, e)
		}
	}
	if n := len(fake.Requests()); n != before {
		t.Errorf("%d invalid checks reached the provider", n-before)
	}
	var e profileErr
	if code := call(t, inst.URL, "POST", "/v1/channels/nope/contacts/check", `{"contacts":["+34600000001"]}`, &e); code != 404 || e.Error.Code != "not_found" {
		t.Errorf("unknown channel: %d %+v", code, e)
	}

	// Provider failures are 502, as on the profile endpoints.
	fake.FailNext(providertest.EndpointContacts, 1, providertest.Fault{Status: 401})
	e = profileErr{}
	if code := call(t, inst.URL, "POST", "/v1/channels/default/contacts/check", `{"contacts":["+34600000001"]}`, &e); code != 502 || e.Error.Code != "provider_auth" {
		t.Errorf("provider 401: %d %+v", code, e)
	}
	fake.FailNext(providertest.EndpointContacts, 1, providertest.Fault{Code: 1009, Details: "Param contacts is invalid"})
	e = profileErr{}
	if code := call(t, inst.URL, "POST", "/v1/channels/default/contacts/check", `{"contacts":["+34600000001"]}`, &e); code != 502 ||
		e.Error.Code != "provider_rejected" || e.Error.ProviderCode != 1009 {
		t.Errorf("provider 1009: %d %+v", code, e)
	}
}

func TestContactsCheck_Unsupported(t *testing.T) {
	t.Parallel()
	type errJSON struct {
		Error struct {
			Code, Message, Fix string
		} `json:"error"`
	}
	check := func(name, base string) {
		var e errJSON
		code := call(t, base, "POST", "/v1/channels/default/contacts/check", `{"contacts":["+34600000001"]}`, &e)
		if code != 422 || e.Error.Code != "unsupported" || !strings.Contains(e.Error.Fix, "360dialog On-Premise") {
			t.Errorf("%s: %d %+v", name, code, e)
		}
	}
	// demo does not implement provider.ContactChecker.
	demo := servertest.Start(t, servertest.Listen(t), "sqlite", map[string]string{"WAGATE_API_TOKEN": "api-token"})
	check("demo", demo.URL)
	// 360dialog Cloud implements it but answers ClassUnsupported.
	cloud, fake := start360(t)
	before := len(fake.Requests())
	check("360dialog cloud", cloud.URL)
	if n := len(fake.Requests()); n != before {
		t.Errorf("%d requests reached the Cloud fake", n-before)
	}
}
