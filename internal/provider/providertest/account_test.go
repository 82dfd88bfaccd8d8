package providertest

import (
	"encoding/json"
	"net/http"
	"testing"
)

func TestHealth(t *testing.T) {
	t.Parallel()
	t.Run("360dialog", func(t *testing.T) {
		t.Parallel()
		b := setup(t, Kind360Dialog, nil)
		m := call(t, http.MethodGet, b.fake.URL()+"/health_status", auth(b.kind), nil).json(t)
		if get(m, "health_status", "can_send_message") != "AVAILABLE" || get(m, "id") != DefaultPhoneNumberID ||
			get(m, "health_status", "entities", 0, "entity_type") != "PHONE_NUMBER" ||
			get(m, "health_status", "entities", 1, "entity_type") != "WABA" {
			t.Errorf("health_status %v", m)
		}
		b.fake.SetHealth(HealthState{CanSendMessage: "BLOCKED", Errors: []HealthError{{Code: 141006,
			Description: "payment method missing", PossibleSolution: "add one"}}})
		m = call(t, http.MethodGet, b.fake.URL()+"/health_status", auth(b.kind), nil).json(t)
		if get(m, "health_status", "can_send_message") != "BLOCKED" ||
			get(m, "health_status", "entities", 0, "errors", 0, "error_code") != float64(141006) ||
			get(m, "health_status", "entities", 0, "errors", 0, "possible_solution") != "add one" {
			t.Errorf("blocked health_status %v", m)
		}
	})
	t.Run("meta", func(t *testing.T) {
		t.Parallel()
		b := setup(t, KindMeta, nil)
		b.fake.SetHealth(HealthState{VerifiedName: "Acme", QualityRating: "YELLOW", Throughput: "HIGH"})
		u := b.fake.URL() + "/v21.0/" + DefaultPhoneNumberID
		m := call(t, http.MethodGet, u+"?fields=verified_name,display_phone_number,quality_rating,throughput",
			auth(b.kind), nil).json(t)
		if m["verified_name"] != "Acme" || m["display_phone_number"] != "+1 555-000-1111" ||
			m["quality_rating"] != "YELLOW" || get(m, "throughput", "level") != "HIGH" || m["id"] != DefaultPhoneNumberID {
			t.Errorf("phone number %v", m)
		}
		if _, ok := m["platform_type"]; ok {
			t.Error("unrequested field answered")
		}
		m = call(t, http.MethodGet, u, auth(b.kind), nil).json(t)
		if m["verified_name"] != "Acme" || m["code_verification_status"] == nil {
			t.Errorf("default fields %v", m)
		}
		m = call(t, http.MethodGet, u+"?fields=health_status", auth(b.kind), nil).json(t)
		if get(m, "health_status", "can_send_message") != "AVAILABLE" {
			t.Errorf("health_status field %v", m)
		}
		r := call(t, http.MethodGet, u+"?fields=bogus", auth(b.kind), nil)
		wantError(t, b.kind, r, http.StatusBadRequest, 100, "nonexisting field (bogus)")
	})
	t.Run("onpremise", func(t *testing.T) {
		t.Parallel()
		b := setup(t, Kind360DialogOnPremise, nil)
		b.fake.SetHealth(HealthState{GatewayStatus: "unregistered"})
		m := call(t, http.MethodGet, b.fake.URL()+"/v1/health", auth(b.kind), nil).json(t)
		if get(m, "health", "gateway_status") != "unregistered" || get(m, "meta", "api_status") != "stable" {
			t.Errorf("health %v", m)
		}
	})
}

func TestProfile_ReadAndUpdate(t *testing.T) {
	t.Parallel()
	for _, k := range allKinds {
		t.Run(string(k), func(t *testing.T) {
			t.Parallel()
			b := setup(t, k, nil)
			p := map[Kind]string{
				KindMeta:               "/v21.0/" + DefaultPhoneNumberID + "/whatsapp_business_profile",
				Kind360Dialog:          "/whatsapp_business_profile",
				Kind360DialogOnPremise: "/v1/settings/business/profile",
			}[k]
			upd := map[string]any{"address": "Main St 1", "websites": []string{"https://a.example"}}
			if k.cloud() {
				upd["messaging_product"] = "whatsapp"
			}
			body, _ := json.Marshal(upd)
			if r := call(t, http.MethodPost, b.fake.URL()+p, auth(k), body); r.status != 200 {
				t.Fatalf("update: %d %s", r.status, r.body)
			}
			m := call(t, http.MethodGet, b.fake.URL()+p, auth(k), nil).json(t)
			var prof any
			if k.cloud() {
				prof = get(m, "data", 0)
				if get(prof, "messaging_product") != "whatsapp" {
					t.Errorf("profile %v", m)
				}
			} else {
				prof = get(m, "settings", "business", "profile")
			}
			if get(prof, "address") != "Main St 1" || get(prof, "websites", 0) != "https://a.example" {
				t.Errorf("profile %v", m)
			}
			if b.fake.Profile().Address != "Main St 1" {
				t.Error("Profile() not updated")
			}
			body, _ = json.Marshal(map[string]any{"messaging_product": "whatsapp", "websites": []string{"a", "b", "c"}})
			if r := call(t, http.MethodPost, b.fake.URL()+p, auth(k), body); r.status != http.StatusBadRequest {
				t.Errorf("invalid update: %d", r.status)
			}
		})
	}
}

func TestWebhookConfig(t *testing.T) {
	t.Parallel()
	for _, k := range []Kind{Kind360Dialog, Kind360DialogOnPremise} {
		t.Run(string(k), func(t *testing.T) {
			t.Parallel()
			b := setup(t, k, nil)
			u := b.fake.URL() + "/v1/configs/webhook"
			m := call(t, http.MethodGet, u, auth(k), nil).json(t)
			if m["url"] != b.recv.srv.URL+"/webhooks/whatsapp" || get(m, "headers", "X-Wagate-Webhook-Secret") != testSecret {
				t.Errorf("initial config %v", m)
			}
			for _, bad := range []string{"https://my_host.example/hook", "https://example.com:8443/hook",
				"http://example.com/hook", "not a url"} {
				body, _ := json.Marshal(map[string]string{"url": bad})
				if r := call(t, http.MethodPost, u, auth(k), body); r.status != http.StatusBadRequest || get(r.json(t), "error") == nil {
					t.Errorf("%s: %d %s", bad, r.status, r.body)
				}
			}
			body, _ := json.Marshal(map[string]any{"url": "https://wagate.example.com/webhooks/whatsapp/shop",
				"headers": map[string]string{"X-Wagate-Webhook-Secret": "s2"}})
			if r := call(t, http.MethodPost, u, auth(k), body); r.status != 200 ||
				get(r.json(t), "url") != "https://wagate.example.com/webhooks/whatsapp/shop" {
				t.Fatalf("register: %d %s", r.status, r.body)
			}
			gotURL, hdr := b.fake.WebhookConfig()
			if gotURL != "https://wagate.example.com/webhooks/whatsapp/shop" || hdr["X-Wagate-Webhook-Secret"] != "s2" {
				t.Errorf("WebhookConfig() = %q %v", gotURL, hdr)
			}
		})
	}
	t.Run("meta", func(t *testing.T) {
		t.Parallel()
		b := setup(t, KindMeta, nil)
		u := b.fake.URL() + "/v21.0/" + DefaultWABAID + "/subscribed_apps"
		m := call(t, http.MethodGet, u, auth(KindMeta), nil).json(t)
		if get(m, "data", 0, "whatsapp_business_api_data", "id") != DefaultAppID ||
			get(m, "data", 0, "whatsapp_business_api_data", "name") != DefaultAppName {
			t.Errorf("subscribed_apps %v", m)
		}
		r := call(t, http.MethodPost, u, auth(KindMeta), []byte(`{"override_callback_uri":"https://x.example/hook"}`))
		wantError(t, KindMeta, r, http.StatusBadRequest, 100, "verify_token")
		r = call(t, http.MethodPost, u, auth(KindMeta),
			[]byte(`{"override_callback_uri":"https://x.example/hook","verify_token":"vt"}`))
		if r.status != 200 || get(r.json(t), "success") != true {
			t.Fatalf("override: %d %s", r.status, r.body)
		}
		m = call(t, http.MethodGet, u, auth(KindMeta), nil).json(t)
		if get(m, "data", 0, "override_callback_uri") != "https://x.example/hook" {
			t.Errorf("subscribed_apps after override %v", m)
		}
		if got, _ := b.fake.WebhookConfig(); got != "https://x.example/hook" {
			t.Errorf("WebhookConfig() = %q", got)
		}
		r = call(t, http.MethodGet, b.fake.URL()+"/v21.0/123/subscribed_apps", auth(KindMeta), nil)
		wantError(t, KindMeta, r, http.StatusBadRequest, 100, "'123'")
	})
}
