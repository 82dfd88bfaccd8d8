package contract_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/wagate/wagate/internal/httpapi/contract"
)

func check(t *testing.T, method, path string, status int, body string) error {
	t.Helper()
	c, err := contract.Load()
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(method, path, nil)
	h := http.Header{"Content-Type": {"application/json"}}
	return c.Check(context.Background(), req, status, h, []byte(body))
}

func TestCheck_AcceptsWhatTheDocumentDescribes(t *testing.T) {
	t.Parallel()
	ok := `{"items":[{"id":"c1","channel":"default","contact":{"id":"k1","created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z"},"unread_count":0,"window_open":false,"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z"}]}`
	if err := check(t, "GET", "/v1/conversations", 200, ok); err != nil {
		t.Fatal(err)
	}
	if err := check(t, "GET", "/v1/messages/abc", 404, `{"error":{"code":"not_found","message":"no such resource"}}`); err != nil {
		t.Fatal(err)
	}
	// Outside the API: not checked.
	if err := check(t, "POST", "/webhooks/whatsapp", 200, `whatever`); err != nil {
		t.Fatal(err)
	}
}

func TestCheck_RejectsDrift(t *testing.T) {
	t.Parallel()
	var mm *contract.MismatchError
	// A required field missing.
	if err := check(t, "GET", "/v1/conversations", 200, `{"items":[{"id":"c1"}]}`); !errors.As(err, &mm) {
		t.Fatalf("missing fields: %v", err)
	}
	// A field of the wrong type.
	if err := check(t, "GET", "/v1/conversations", 200, `{"items":"none"}`); !errors.As(err, &mm) {
		t.Fatalf("wrong type: %v", err)
	}
	// An error body that is not the catalogue's.
	if err := check(t, "GET", "/v1/messages/abc", 404, `{"message":"nope"}`); !errors.As(err, &mm) {
		t.Fatalf("error shape: %v", err)
	}
	// A status the operation does not document (202 on a GET with only 200 and default would pass default, so
	// use an enum breach instead).
	if err := check(t, "GET", "/v1/events", 200, `{"items":[{"id":"e","channel":"","auth_channels":[],"received_at":"2026-01-01T00:00:00Z","state":"lost","attempts":0,"counts":{"received":0,"stored":0,"statuses":0,"updated":0,"notices":0}}]}`); !errors.As(err, &mm) {
		t.Fatalf("enum: %v", err)
	}
	var ud *contract.UndocumentedError
	if err := check(t, "GET", "/v1/secret-endpoint", 200, `{}`); !errors.As(err, &ud) {
		t.Fatalf("undocumented: %v", err)
	}
}
