// Package httpapi is wagate's REST API under /v1: JSON, cursor pagination, bearer-token access and errors from
// one catalogue of stable codes, each with a message and what to do about it.
package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/wagate/wagate/internal/store"
)

// Error is an API error with a stable code.
type Error struct {
	Status       int          `json:"-"`
	Code         string       `json:"code"`
	Message      string       `json:"message"`
	Fix          string       `json:"fix,omitempty"`
	ProviderCode int          `json:"provider_code,omitempty"`
	Detail       string       `json:"detail,omitempty"`
	Details      []FieldError `json:"details,omitempty"`
	RetryAfter   int          `json:"retry_after,omitempty"` // seconds; also sent as the Retry-After header
	// Extra holds more members of the error object for some codes (window_closed: closed_at, templates).
	Extra map[string]any `json:"-"`
}

// FieldError names a field of the request and what is wrong with it.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// The error catalogue. Codes never change meaning; messages may improve.
var (
	ErrUnauthorized = &Error{Status: http.StatusUnauthorized, Code: "unauthorized", Message: "missing or wrong API token",
		Fix: "send the header Authorization: Bearer <token>: WAGATE_API_TOKEN, or a token made with wagate token create"}
	ErrNotFound = &Error{Status: http.StatusNotFound, Code: "not_found", Message: "no such resource",
		Fix: "check the id; ids come from list endpoints and send answers"}
	ErrBadCursor = &Error{Status: http.StatusBadRequest, Code: "invalid_cursor", Message: "the cursor is not one this API issued",
		Fix: "pass next_cursor from the previous page unchanged, or omit it to start over"}
	ErrBadLimit = &Error{Status: http.StatusBadRequest, Code: "invalid_limit", Message: "limit must be a whole number from 1 to 500",
		Fix: "omit limit for 50 items per page"}
	ErrBadState = &Error{Status: http.StatusBadRequest, Code: "invalid_state", Message: "state must be pending, processed or failed",
		Fix: "omit state to list every event"}
	ErrUnavailable = &Error{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: "wagate's database is not available right now",
		Fix: "retry after Retry-After seconds; a send retried with the same Idempotency-Key is sent once", RetryAfter: 5}
	ErrInternal = &Error{Status: http.StatusInternalServerError, Code: "internal", Message: "wagate could not complete the request",
		Fix: "try again; if it persists, look at wagate's log for the request time"}
)

// handlerFunc is an API handler that returns its error instead of writing it.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// adapt writes a handler's error as {"error":{...}} from the catalogue; unknown errors are logged and shown as
// internal without their text, which may hold details of the database.
// A failure of the database itself (see store.Store.Unavailable) is 503 unavailable with Retry-After, so that
// clients retry.
func adapt(log *slog.Logger, st *store.Store, h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		err := h(w, r)
		if err == nil {
			return
		}
		var e *Error
		switch {
		case errors.As(err, &e):
		case asSendRefusal(err, &e):
		case errors.Is(err, store.ErrNotFound):
			e = ErrNotFound
		case errors.Is(err, store.ErrBadCursor):
			e = ErrBadCursor
		case st != nil && st.Unavailable(r.Context(), err):
			log.Warn("api request failed: the database is unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
			e = ErrUnavailable
		default:
			log.Error("api request failed", "method", r.Method, "path", r.URL.Path, "err", err)
			e = ErrInternal
		}
		SetRetryAfter(w, e)
		writeJSON(w, e.Status, map[string]*Error{"error": e})
	}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
