package dialog360

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"testing"

	"github.com/wagate/wagate/internal/provider"
	"github.com/wagate/wagate/internal/provider/providertest"
)

func TestOnPremise_CheckContacts(t *testing.T) {
	t.Parallel()
	fake, c := newFake360(t, providertest.Kind360DialogOnPremise, testKey)
	fake.SetInvalidContacts("+34600000002")
	got, err := c.CheckContacts(context.Background(), []string{"+34600000001", " +34600000002 ", "12"})
	if err != nil {
		t.Fatal(err)
	}
	want := []provider.ContactStatus{
		{Input: "+34600000001", Status: "valid", WAID: "34600000001"},
		{Input: "+34600000002", Status: "invalid"},
		{Input: "12", Status: "invalid"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	r, ok := lastRequest(fake, http.MethodPost, "/v1/contacts")
	if !ok || r.Status != http.StatusOK || r.Endpoint != providertest.EndpointContacts {
		t.Fatalf("request %+v", r)
	}
	if r.Header.Get(HeaderAPIKey) != testKey {
		t.Fatalf("key header %q", r.Header.Get(HeaderAPIKey))
	}
	jsonBodyIs(t, r.Body, `{"blocking":"wait","contacts":["+34600000001","+34600000002","12"],"force_check":false}`)
}

func TestOnPremise_CheckContactsErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	// A wrong key: the gateway's 401.
	_, bad := newFake360(t, providertest.Kind360DialogOnPremise, "wrong-key")
	_, err := bad.CheckContacts(ctx, []string{"+34600000001"})
	var pe *provider.Error
	if !errors.As(err, &pe) || pe.Class != provider.ClassAuth || pe.HTTPStatus != http.StatusUnauthorized || pe.Op != provider.OpCheckContacts {
		t.Fatalf("401: %#v", err)
	}

	// No numbers: refused before any call.
	fake, c := newFake360(t, providertest.Kind360DialogOnPremise, testKey)
	if _, err := c.CheckContacts(ctx, []string{" "}); !errors.As(err, &pe) || pe.Class != provider.ClassInvalid {
		t.Fatalf("no numbers: %#v", err)
	}
	if n := len(fake.Requests()); n != 0 {
		t.Fatalf("%d requests for no numbers", n)
	}

	// A provider error code is classified.
	fake.FailNext(providertest.EndpointContacts, 1, providertest.Fault{Code: 1009, Details: "Param contacts is invalid"})
	if _, err := c.CheckContacts(ctx, []string{"+34600000001"}); !errors.As(err, &pe) || pe.Code != 1009 || pe.Class != provider.ClassInvalid {
		t.Fatalf("1009: %#v", err)
	}

	// The Cloud API has no contacts check.
	cloudFake, cloud := newFake360(t, providertest.Kind360Dialog, testKey)
	_, err = cloud.CheckContacts(ctx, []string{"+34600000001"})
	if !errors.As(err, &pe) || pe.Class != provider.ClassUnsupported || pe.Provider != provider.Kind360Dialog {
		t.Fatalf("cloud: %#v", err)
	}
	if n := len(cloudFake.Requests()); n != 0 {
		t.Fatalf("%d requests on the Cloud API", n)
	}
}
