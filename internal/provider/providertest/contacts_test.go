package providertest

import (
	"net/http"
	"testing"
)

func TestOnPremContacts(t *testing.T) {
	t.Parallel()
	b := setup(t, Kind360DialogOnPremise, nil)
	u := b.fake.URL() + "/v1/contacts"
	b.fake.SetInvalidContacts("34600000002")
	r := call(t, http.MethodPost, u, auth(b.kind),
		[]byte(`{"blocking":"wait","contacts":["+34600000001","+34600000002","+123","+34 600"],"force_check":false}`))
	m := r.json(t)
	if r.status != http.StatusOK ||
		get(m, "contacts", 0, "status") != "valid" || get(m, "contacts", 0, "wa_id") != "34600000001" ||
		get(m, "contacts", 0, "input") != "+34600000001" ||
		get(m, "contacts", 1, "status") != "invalid" || get(m, "contacts", 1, "wa_id") != nil ||
		get(m, "contacts", 2, "status") != "invalid" || get(m, "contacts", 3, "status") != "invalid" {
		t.Fatalf("answer %d %v", r.status, m)
	}

	if r := call(t, http.MethodPost, u, nil, []byte(`{"contacts":["+34600000001"]}`)); r.status != http.StatusUnauthorized {
		t.Errorf("no key: %d", r.status)
	}
	wantError(t, b.kind, call(t, http.MethodPost, u, auth(b.kind), []byte(`{"contacts":[]}`)), 400, 1008, "")
	wantError(t, b.kind, call(t, http.MethodPost, u, auth(b.kind), []byte(`{"blocking":"later","contacts":["+34600000001"]}`)), 400, 1009, "")
	if r := call(t, http.MethodGet, u, auth(b.kind), nil); r.status != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", r.status)
	}
	// The Cloud kinds have no contacts check.
	c := setup(t, Kind360Dialog, nil)
	if r := call(t, http.MethodPost, c.fake.URL()+"/v1/contacts", auth(c.kind), []byte(`{"contacts":["+34600000001"]}`)); r.status != http.StatusNotFound {
		t.Errorf("cloud: %d", r.status)
	}
}
