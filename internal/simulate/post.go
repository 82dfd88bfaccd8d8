package simulate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/wagate/wagate/internal/webhook"
)

// DefaultSecretHeader is the header that carries Target.Secret when Target.Header is empty: the one wagate's
// receiver checks first.
const DefaultSecretHeader = "X-Wagate-Webhook-Secret"

// maxResponse bounds how much of the receiver's answer Post reads.
const maxResponse = 1 << 20

// Target is where Post sends a webhook and with which credentials.
type Target struct {
	// URL is the full webhook URL, e.g. http://127.0.0.1:8080/webhooks/whatsapp/default. It may carry
	// ?token=<secret>; it never appears in Post's errors with its query.
	URL string
	// Secret is the channel's webhook secret, sent in Header when not empty.
	Secret string
	// AppSecret is the Meta app secret; when not empty the body is signed in X-Hub-Signature-256.
	AppSecret string
	// Header names the header that carries Secret; default DefaultSecretHeader.
	Header string
}

// Post sends body to t.URL as a provider would: a POST with Content-Type application/json, the shared secret
// in t.Header when t.Secret is set, and X-Hub-Signature-256 (webhook.Sign) when t.AppSecret is set. c nil
// means http.DefaultClient. It returns the HTTP status and up to 1 MiB of the response body; an answer other
// than 200 is not an error. Errors never contain the secrets or the URL's query.
func Post(ctx context.Context, c *http.Client, t Target, body []byte) (status int, respBody []byte, err error) {
	if c == nil {
		c = http.DefaultClient
	}
	u, err := url.Parse(t.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return 0, nil, fmt.Errorf("simulate: webhook URL %q is not an absolute http(s) URL", safeURL(t.URL))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.URL, bytes.NewReader(body))
	if err != nil {
		return 0, nil, fmt.Errorf("simulate: build request for %s: %w", safeURL(t.URL), hideURL(err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "wagate-simulate")
	if t.Secret != "" {
		h := t.Header
		if h == "" {
			h = DefaultSecretHeader
		}
		req.Header.Set(h, t.Secret)
	}
	if t.AppSecret != "" {
		req.Header.Set(webhook.SignatureHeader, webhook.Sign(body, []byte(t.AppSecret)))
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("simulate: post to %s: %w", safeURL(t.URL), hideURL(err))
	}
	defer resp.Body.Close()
	respBody, err = io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return resp.StatusCode, respBody, fmt.Errorf("simulate: read answer from %s: %w", safeURL(t.URL), hideURL(err))
	}
	return resp.StatusCode, respBody, nil
}

// safeURL returns raw without its query, fragment and user info, for messages.
func safeURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment, u.User = "", false, "", "", nil
	return u.String()
}

// hideURL strips the URL net/http puts in a *url.Error, which would repeat a ?token= secret.
func hideURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Err != nil {
			return ue.Err
		}
		return errors.New(ue.Op + " failed")
	}
	return err
}
