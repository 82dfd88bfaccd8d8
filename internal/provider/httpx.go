package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// HTTPDoer sends one HTTP request; *http.Client is one. The provider clients call through it.
type HTTPDoer interface {
	Do(*http.Request) (*http.Response, error)
}

// Bounds on what the provider clients read.
const (
	// MaxJSONBytes bounds a JSON answer.
	MaxJSONBytes = 4 << 20
	// MaxMediaBytes bounds a media download: the Cloud API's largest file is 100 MB.
	MaxMediaBytes = 100 << 20
	// maxErrorBytes bounds the part of an error answer that is read; the rest is dropped.
	maxErrorBytes = 64 << 10
)

// DefaultTimeout bounds a call when the caller passes no HTTP client; callers still set ctx deadlines
// (sends use 10 s), this only stops a forgotten deadline from hanging a worker for ever.
const DefaultTimeout = 2 * time.Minute

// ErrResponseTooLarge is wrapped by the *Error of an answer larger than the caller's bound.
var ErrResponseTooLarge = errors.New("provider: answer too large")

// NewHTTPClient returns a copy of c (a client with DefaultTimeout when c is nil) that does not follow a redirect
// to another host or from https to http: the credentials travel in headers (D360-API-KEY is not one Go strips on
// a cross-host redirect), so they must not be replayed to an address nobody configured. Such a redirect comes
// back as the 3xx answer, which the Caller reports as a configuration error. c itself is left untouched.
func NewHTTPClient(c *http.Client) *http.Client {
	var cp http.Client
	if c != nil {
		cp = *c
	} else {
		cp.Timeout = DefaultTimeout
	}
	next := cp.CheckRedirect
	cp.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		from := via[0].URL
		if !strings.EqualFold(req.URL.Host, from.Host) || (from.Scheme == "https" && req.URL.Scheme != "https") {
			return http.ErrUseLastResponse
		}
		if next != nil {
			return next(req, via)
		}
		return nil
	}
	return &cp
}

// defaultHTTP serves a Caller built without a client.
var defaultHTTP = NewHTTPClient(nil)

// Caller makes one provider client's HTTP calls: it adds the credentials, bounds what it reads, turns a non-2xx
// answer into an *Error with ErrorFromResponse and a transport failure with NetworkError, and scrubs Secrets out
// of every error it returns.
type Caller struct {
	Kind    string            // Error.Provider: KindMeta, Kind360Dialog, Kind360DialogOnPremise
	HTTP    HTTPDoer          // usually NewHTTPClient(cfg.HTTP); nil for NewHTTPClient(nil)
	Auth    func(http.Header) // sets the credentials on each request; nil for none
	Secrets []string          // credentials that must never appear in an error
}

// Response is a provider's 2xx answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// NewRequest builds a request for Send: body (nil for none) with contentType, Accept: application/json and
// wagate's User-Agent; the caller may change headers before sending. Its error is an *Error.
func (c *Caller) NewRequest(ctx context.Context, op, method, rawURL, contentType string, body []byte) (*http.Request, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, rd)
	if err != nil {
		return nil, c.Scrub(&Error{Provider: c.Kind, Op: op, Class: ClassAuth, Err: fmt.Errorf("build request: %w", err),
			Message: "The provider address is not a valid URL. Check the provider base URL (WAGATE_PROVIDER_BASE_URL)."})
	}
	if body != nil && contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "wagate")
	return req, nil
}

// Send adds the credentials to req, sends it and returns the 2xx answer, of which it reads at most limit bytes
// (MaxJSONBytes when limit <= 0; a longer answer is an error wrapping ErrResponseTooLarge). Every error is an
// *Error.
func (c *Caller) Send(op string, req *http.Request, limit int64) (*Response, error) {
	if limit <= 0 {
		limit = MaxJSONBytes
	}
	if c.Auth != nil {
		c.Auth(req.Header)
	}
	doer := c.HTTP
	if doer == nil {
		doer = defaultHTTP
	}
	resp, err := doer.Do(req)
	if err != nil {
		return nil, c.Scrub(NetworkError(c.Kind, op, err))
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBytes))
		return nil, c.Scrub(ErrorFromResponse(c.Kind, op, resp.StatusCode, resp.Header, b))
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, c.Scrub(NetworkError(c.Kind, op, fmt.Errorf("read answer: %w", err)))
	}
	if int64(len(b)) > limit {
		return nil, c.Scrub(c.tooLarge(op, resp.StatusCode, limit))
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}

// Do is NewRequest then Send.
func (c *Caller) Do(ctx context.Context, op, method, rawURL, contentType string, body []byte, limit int64) (*Response, error) {
	req, err := c.NewRequest(ctx, op, method, rawURL, contentType, body)
	if err != nil {
		return nil, err
	}
	return c.Send(op, req, limit)
}

func (c *Caller) tooLarge(op string, status int, limit int64) *Error {
	err := fmt.Errorf("%w: over %d bytes", ErrResponseTooLarge, limit)
	if op == OpDownloadMedia {
		return &Error{Provider: c.Kind, Op: op, HTTPStatus: status, Class: ClassInvalid, Err: err,
			Message: fmt.Sprintf("The media file is larger than the %d MB wagate accepts.", limit>>20)}
	}
	return c.BadResponse(op, status, err)
}

// JSON sends in as a JSON body (nil for none; []byte and json.RawMessage go as they are) and decodes the 2xx
// answer into out (nil to ignore it; an empty answer leaves out as it was). Every error is an *Error.
func (c *Caller) JSON(ctx context.Context, op, method, rawURL string, in, out any) error {
	var body []byte
	switch v := in.(type) {
	case nil:
	case []byte:
		body = v
	case json.RawMessage:
		body = v
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return c.Scrub(&Error{Provider: c.Kind, Op: op, Class: ClassInvalid, Err: fmt.Errorf("encode request: %w", err),
				Message: "wagate could not encode the request for the WhatsApp service."})
		}
		body = b
	}
	resp, err := c.Do(ctx, op, method, rawURL, "application/json", body, MaxJSONBytes)
	if err != nil {
		return err
	}
	if out == nil || len(bytes.TrimSpace(resp.Body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(resp.Body, out); err != nil {
		return c.Scrub(c.BadResponse(op, resp.Status, fmt.Errorf("decode answer: %w", err)))
	}
	return nil
}

// BadResponse is the error of a 2xx answer that wagate cannot use (unreadable, or missing what the operation
// returns). A send is then ClassInvalid, not retried: the provider may have accepted the message, and a blind
// retry could deliver it twice. Anything else is ClassRetry.
func (c *Caller) BadResponse(op string, status int, err error) *Error {
	e := &Error{Provider: c.Kind, Op: op, HTTPStatus: status, Err: err}
	if op == OpSend {
		e.Class = ClassInvalid
		e.Message = "The WhatsApp service accepted the request but wagate could not read its answer, so the message may have been sent. Check the conversation before sending it again."
	} else {
		e.Class = ClassRetry
		e.Message = "The WhatsApp service gave an answer wagate could not read. wagate will retry."
	}
	return c.Scrub(e)
}

// Scrub replaces every secret of c in e's texts with "[redacted]" and returns e, so that a provider echoing a
// credential back cannot leak it into a log line or a page.
func (c *Caller) Scrub(e *Error) *Error {
	if e == nil {
		return nil
	}
	for _, s := range c.Secrets {
		if len(s) < minSecretLen {
			continue
		}
		e.Message = strings.ReplaceAll(e.Message, s, redacted)
		e.Title = strings.ReplaceAll(e.Title, s, redacted)
		e.Details = strings.ReplaceAll(e.Details, s, redacted)
		e.FBTraceID = strings.ReplaceAll(e.FBTraceID, s, redacted)
		if e.Err != nil && strings.Contains(e.Err.Error(), s) {
			e.Err = &scrubbedError{msg: strings.ReplaceAll(e.Err.Error(), s, redacted), err: e.Err}
		}
	}
	return e
}

const (
	redacted = "[redacted]"
	// minSecretLen skips values too short to be real credentials, whose replacement would only garble text.
	minSecretLen = 4
)

// scrubbedError hides a secret in an underlying error's text while keeping it reachable for errors.Is and As.
type scrubbedError struct {
	msg string
	err error
}

func (s *scrubbedError) Error() string { return s.msg }
func (s *scrubbedError) Unwrap() error { return s.err }
