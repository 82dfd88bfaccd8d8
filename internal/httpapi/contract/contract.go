// Package contract holds the API to its OpenAPI document in tests: Wrap puts a handler behind a checker that
// validates every answer of a documented endpoint against the document, and fails the test on an answer the
// document does not describe or on an API endpoint the document leaves out.
package contract

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/wagate/wagate/internal/httpapi"
)

// Checker validates answers against the OpenAPI document.
type Checker struct {
	doc    *openapi3.T
	router routers.Router
}

var load = sync.OnceValues(func() (*Checker, error) {
	doc, err := httpapi.LoadOpenAPI(context.Background())
	if err != nil {
		return nil, err
	}
	// The legacy router matches on paths alone; the document's server is "/".
	router, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, err
	}
	return &Checker{doc: doc, router: router}, nil
})

// Load returns the checker of the embedded document.
func Load() (*Checker, error) { return load() }

// Document returns the parsed document.
func (c *Checker) Document() *openapi3.T { return c.doc }

// Check validates one exchange. It returns nil for requests outside the documented API (webhooks, probes),
// and an error for a /v1 path the document does not describe or an answer that breaks the document.
func (c *Checker) Check(ctx context.Context, req *http.Request, status int, header http.Header, body []byte) error {
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		if strings.HasPrefix(req.URL.Path, "/v1/") && status != http.StatusNotFound && status != http.StatusMethodNotAllowed {
			return &UndocumentedError{Method: req.Method, Path: req.URL.Path, Status: status}
		}
		return nil
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}},
		Status:  status,
		Header:  header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	in.SetBodyBytes(body)
	ct := header.Get("Content-Type")
	if !strings.HasPrefix(ct, "application/json") {
		// Files and documents: the status and content type are checked, not the bytes.
		in.Options.ExcludeResponseBody = true
	}
	if err := openapi3filter.ValidateResponse(ctx, in); err != nil {
		return &MismatchError{Method: req.Method, Path: req.URL.Path, Status: status, Err: err, Body: excerpt(body)}
	}
	return nil
}

// UndocumentedError is an answer of an API path the document does not describe.
type UndocumentedError struct {
	Method, Path string
	Status       int
}

func (e *UndocumentedError) Error() string {
	return "openapi: " + e.Method + " " + e.Path + " answered " + http.StatusText(e.Status) + " but the document does not describe it"
}

// MismatchError is an answer that breaks the document.
type MismatchError struct {
	Method, Path string
	Status       int
	Err          error
	Body         string
}

func (e *MismatchError) Error() string {
	return "openapi: " + e.Method + " " + e.Path + " " + http.StatusText(e.Status) + ": " + e.Err.Error() + "\nbody: " + e.Body
}

func (e *MismatchError) Unwrap() error { return e.Err }

func excerpt(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "..."
	}
	return string(b)
}

// Wrap returns h behind the checker: each answer is validated when it is complete, and a breach fails t.
// Streams (text/event-stream) pass through unchecked. Checks stop when the test ends.
func Wrap(t testing.TB, h http.Handler) http.Handler {
	t.Helper()
	c, err := Load()
	if err != nil {
		t.Fatalf("contract: %v", err)
	}
	var mu sync.Mutex
	done := false
	t.Cleanup(func() { mu.Lock(); done = true; mu.Unlock() })
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The request as the checker sees it: the same method, URL and headers, without the body it cannot
		// read again (responses are what is validated).
		probe := r.Clone(r.Context())
		probe.Body = io.NopCloser(bytes.NewReader(nil))
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(rec, r)
		if rec.stream {
			return
		}
		if err := c.Check(context.WithoutCancel(r.Context()), probe, rec.status, w.Header(), rec.body.Bytes()); err != nil {
			mu.Lock()
			defer mu.Unlock()
			if !done {
				t.Errorf("%v", err)
			}
		}
	})
}

// recorder copies what passes through.
type recorder struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
	stream      bool
	body        bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	if !r.wroteHeader {
		r.status, r.wroteHeader = code, true
		r.stream = strings.HasPrefix(r.Header().Get("Content-Type"), "text/event-stream")
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if !r.wroteHeader {
		r.WriteHeader(http.StatusOK)
	}
	if !r.stream && r.body.Len() < 4<<20 {
		r.body.Write(b)
	}
	return r.ResponseWriter.Write(b)
}

// Flush passes flushes through for streaming answers.
func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
