package templates_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/wagate/wagate/internal/provider"
	"github.com/wagate/wagate/internal/provider/dialog360"
	"github.com/wagate/wagate/internal/provider/meta"
	"github.com/wagate/wagate/internal/provider/providertest"
	"github.com/wagate/wagate/internal/templates"
	"github.com/wagate/wagate/internal/wa"
)

// fakeWith starts a fake provider of kind holding n templates (the first named, the rest positional) and
// returns it with a client of it.
func fakeWith(t *testing.T, kind providertest.Kind, n int) (*providertest.Server, provider.Provider) {
	t.Helper()
	fake := providertest.New(t, providertest.Options{Kind: kind, APIKey: "k", AccessToken: "tok"})
	ts := []providertest.Template{{Name: "appointment", Language: "en_US", ParameterFormat: "NAMED",
		Components: []byte(`[{"type":"BODY","text":"Hi {{first_name}}"}]`)}}
	for i := 1; i < n; i++ {
		st := "APPROVED"
		if i%10 == 0 {
			st = "PAUSED"
		}
		ts = append(ts, providertest.Template{Name: fmt.Sprintf("t_%03d", i), Language: "es", Status: st,
			Components: []byte(`[{"type":"BODY","text":"Hola {{1}}"}]`)})
	}
	fake.AddTemplate(ts...)
	var p provider.Provider
	switch kind {
	case providertest.KindMeta:
		p = meta.New(meta.Config{BaseURL: fake.URL(), APIVersion: "v23.0", PhoneNumberID: fake.PhoneNumberID(), WABAID: fake.WABAID(), AccessToken: "tok"})
	case providertest.Kind360Dialog:
		p = dialog360.NewCloud(dialog360.Config{BaseURL: fake.URL(), APIKey: "k"})
	default:
		p = dialog360.NewOnPremise(dialog360.Config{BaseURL: fake.URL(), APIKey: "k"})
	}
	return fake, p
}

// TestSync_AllProvidersPaginated: the sync reads every page of each provider's list over HTTP, stores the
// set, and the catalogue then checks against it.
func TestSync_AllProvidersPaginated(t *testing.T) {
	t.Parallel()
	for _, kind := range []providertest.Kind{providertest.KindMeta, providertest.Kind360Dialog, providertest.Kind360DialogOnPremise} {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			fake, p := fakeWith(t, kind, 230)
			st := openStore(t)
			cat := templates.New(st, []string{"default"}, map[string]provider.Provider{"default": p}, nil)
			if err := cat.Load(context.Background()); err != nil {
				t.Fatal(err)
			}
			res, err := cat.Sync(context.Background(), "default")
			if err != nil {
				t.Fatal(err)
			}
			if res.Count != 230 || res.Approved != 230-22 {
				t.Fatalf("sync = %+v, want 230 templates, 208 approved", res)
			}
			pages := 0
			for _, r := range fake.Requests() {
				if r.Endpoint == providertest.EndpointTemplates {
					pages++
					q, _ := url.ParseQuery(r.Query)
					if q.Get("limit") != "100" {
						t.Errorf("page asked for limit %q", q.Get("limit"))
					}
				}
			}
			if pages != 3 {
				t.Fatalf("read %d pages, want 3 (100 + 100 + 30)", pages)
			}
			list, err := st.TemplateList(context.Background(), "default")
			if err != nil || len(list) != 230 {
				t.Fatalf("stored %d templates, %v", len(list), err)
			}
			named := list[0]
			if named.Name != "appointment" || named.ParameterFormat != wa.ParamsNamed || named.Status != wa.TemplateApproved ||
				!strings.Contains(string(named.Components), "first_name") {
				t.Fatalf("named template = %+v", named)
			}
			if kind != providertest.KindMeta && named.Namespace != "providertest_namespace" {
				t.Fatalf("360dialog namespace = %q", named.Namespace)
			}
			if err := cat.Check("default", tmpl(`{"name":"t_010","language":{"code":"es"},"components":[{"type":"body","parameters":[{"type":"text","text":"x"}]}]}`)); err == nil {
				t.Fatal("paused template passed")
			}
			if err := cat.Check("default", tmpl(`{"name":"t_011","language":{"code":"es"},"components":[{"type":"body","parameters":[{"type":"text","text":"x"}]}]}`)); err != nil {
				t.Fatal(err)
			}
			// A fresh catalogue on the same database knows the set without calling the provider.
			again := templates.New(st, []string{"default"}, nil, nil)
			if err := again.Load(context.Background()); err != nil || len(again.Approved("default")) != 208 {
				t.Fatalf("loaded %d approved, %v", len(again.Approved("default")), err)
			}
		})
	}
}

// TestSync_ProviderFailureKeepsThePreviousSet: a failed list leaves what was synced before in place.
func TestSync_ProviderFailureKeepsThePreviousSet(t *testing.T) {
	t.Parallel()
	fake, p := fakeWith(t, providertest.Kind360Dialog, 3)
	cat := templates.New(openStore(t), []string{"default"}, map[string]provider.Provider{"default": p}, nil)
	if err := cat.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := cat.Sync(context.Background(), "default"); err != nil {
		t.Fatal(err)
	}
	fake.Fail(providertest.EndpointTemplates, providertest.Fault{Status: 401})
	_, err := cat.Sync(context.Background(), "default")
	var pe *provider.Error
	if !errors.As(err, &pe) || pe.Class != provider.ClassAuth {
		t.Fatalf("err = %v, want an auth provider error", err)
	}
	if n := len(cat.Approved("default")); n != 3 {
		t.Fatalf("approved after a failed sync = %d, want 3", n)
	}
	if res := cat.SyncAll(context.Background()); len(res) != 1 || res[0].Error == "" {
		t.Fatalf("SyncAll = %+v, want the failure reported", res)
	}
}

// TestSync_MetaNeedsTheAccountID: without a WABA id, Meta's listing says what to set.
func TestSync_MetaNeedsTheAccountID(t *testing.T) {
	t.Parallel()
	p := meta.New(meta.Config{BaseURL: "http://127.0.0.1:1", APIVersion: "v23.0", PhoneNumberID: "1", AccessToken: "tok"})
	_, err := p.Templates(context.Background())
	if err == nil || !strings.Contains(err.Error(), "WAGATE_WABA_ID") {
		t.Fatalf("err = %v", err)
	}
	cat := templates.New(openStore(t), []string{"default", "x"}, map[string]provider.Provider{"default": p}, nil)
	if err := cat.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := cat.Sync(context.Background(), "x"); !errors.Is(err, templates.ErrCannotList) {
		t.Fatalf("sync of a channel that cannot list: %v", err)
	}
	if _, err := cat.Sync(context.Background(), "nope"); !errors.Is(err, templates.ErrUnknownChannel) {
		t.Fatalf("sync of an unknown channel: %v", err)
	}
}
