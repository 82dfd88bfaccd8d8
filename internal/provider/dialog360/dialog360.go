// Package dialog360 is the client of 360dialog's two WhatsApp APIs: the Cloud API front (waba-v2.360dialog.io,
// Meta's Cloud API bodies without phone-number id or Graph version) and the legacy On-Premise API
// (waba.360dialog.io, /v1 paths, its own body and error shapes). Both authenticate with the D360-API-KEY header
// and implement provider.Provider.
package dialog360

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/wagate/wagate/internal/provider"
	"github.com/wagate/wagate/internal/wa"
)

// The default base URLs.
const (
	DefaultCloudBaseURL     = "https://waba-v2.360dialog.io"
	DefaultOnPremiseBaseURL = "https://waba.360dialog.io"
)

// HeaderAPIKey carries the channel's 360dialog API key.
const HeaderAPIKey = "D360-API-KEY"

// Config is what a 360dialog channel needs.
type Config struct {
	BaseURL   string       // default DefaultCloudBaseURL or DefaultOnPremiseBaseURL
	APIKey    string       // the channel's D360-API-KEY (required)
	Namespace string       // On-Premise template namespace, added to templates that lack one (optional)
	HTTP      *http.Client // nil for a default client; redirects to other hosts are never followed
}

// Client is one 360dialog channel, Cloud or On-Premise. It is safe for concurrent use.
type Client struct {
	cfg       Config
	onPremise bool
	kind      string
	call      provider.Caller
}

// Both NewCloud and NewOnPremise return a *Client.
var _ provider.Provider = (*Client)(nil)

// NewCloud returns a client of 360dialog's Cloud API (waba-v2).
func NewCloud(cfg Config) *Client { return newClient(cfg, false) }

// NewOnPremise returns a client of 360dialog's legacy On-Premise API.
func NewOnPremise(cfg Config) *Client { return newClient(cfg, true) }

func newClient(cfg Config, onPremise bool) *Client {
	cfg.BaseURL = strings.TrimRight(strings.TrimSpace(cfg.BaseURL), "/")
	kind := provider.Kind360Dialog
	if onPremise {
		kind = provider.Kind360DialogOnPremise
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultCloudBaseURL
		if onPremise {
			cfg.BaseURL = DefaultOnPremiseBaseURL
		}
	}
	cfg.Namespace = strings.TrimSpace(cfg.Namespace)
	key := cfg.APIKey
	return &Client{cfg: cfg, onPremise: onPremise, kind: kind, call: provider.Caller{
		Kind:    kind,
		HTTP:    provider.NewHTTPClient(cfg.HTTP),
		Auth:    func(h http.Header) { h.Set(HeaderAPIKey, key) },
		Secrets: []string{key},
	}}
}

// Kind returns "360dialog" or "360dialog-onpremise".
func (c *Client) Kind() string { return c.kind }

// endpoint is BaseURL followed by path (which starts with "/").
func (c *Client) endpoint(path string) string { return c.cfg.BaseURL + path }

func (c *Client) ready(op string) error {
	if c.cfg.APIKey == "" {
		e := provider.MissingKey(c.kind)
		e.Op = op
		return e
	}
	return nil
}

func (c *Client) invalid(op, msg string, err error) *provider.Error {
	return &provider.Error{Provider: c.kind, Op: op, Class: provider.ClassInvalid, Message: msg, Err: err}
}

// Send posts msg: Cloud, its Cloud API body to /messages; On-Premise, the On-Premise body to /v1/messages.
func (c *Client) Send(ctx context.Context, msg wa.Outbound) (provider.SendResult, error) {
	const op = provider.OpSend
	if err := c.ready(op); err != nil {
		return provider.SendResult{}, err
	}
	path := "/messages"
	body, err := msg.CloudBody()
	if c.onPremise {
		path = "/v1/messages"
		body, err = onPremiseBody(msg, c.cfg.Namespace)
	}
	if err != nil {
		return provider.SendResult{}, c.invalid(op, "The message is incomplete or malformed: it needs a type and valid content.", fmt.Errorf("%s send: %w", c.kind, err))
	}
	resp, err := c.call.Do(ctx, op, http.MethodPost, c.endpoint(path), "application/json", body, 0)
	if err != nil {
		return provider.SendResult{}, err
	}
	res, err := provider.ParseSendResponse(resp.Body)
	if err != nil {
		// An On-Premise answer can carry errors[] with a 2xx status.
		if pe := provider.ErrorFromResponse(c.kind, op, resp.Status, resp.Header, resp.Body); pe.Code != 0 {
			return provider.SendResult{}, c.call.Scrub(pe)
		}
		return provider.SendResult{}, c.call.BadResponse(op, resp.Status, fmt.Errorf("%s send: %w", c.kind, err))
	}
	return res, nil
}

// onPremiseBody turns msg into the On-Premise request: no messaging_product or recipient_type, to as digits, and a
// template's language with "policy":"deterministic" and the configured namespace when the template has none.
func onPremiseBody(msg wa.Outbound, namespace string) ([]byte, error) {
	if msg.Type == "" || len(msg.Content) == 0 {
		return nil, errors.New("type and content are required")
	}
	content := msg.Content
	if msg.Type == "template" {
		t, err := onPremiseTemplate(content, namespace)
		if err != nil {
			return nil, err
		}
		content = t
	}
	if !json.Valid(content) {
		return nil, errors.New("content is not valid JSON")
	}
	body := map[string]any{
		"to":     wa.Digits(msg.To),
		"type":   msg.Type,
		msg.Type: content,
	}
	if msg.ReplyTo != "" {
		body["context"] = map[string]string{"message_id": msg.ReplyTo}
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	return b, nil
}

func onPremiseTemplate(raw json.RawMessage, namespace string) (json.RawMessage, error) {
	var t map[string]json.RawMessage
	if err := json.Unmarshal(raw, &t); err != nil || t == nil {
		return nil, fmt.Errorf("template is not an object: %w", errOrMissing(err))
	}
	lang := map[string]json.RawMessage{}
	if l, ok := t["language"]; ok {
		var code string
		if json.Unmarshal(l, &code) == nil {
			// A bare language code: the On-Premise API wants the object.
			lang["code"], _ = json.Marshal(code)
		} else if err := json.Unmarshal(l, &lang); err != nil || lang == nil {
			return nil, fmt.Errorf("template language is not an object: %w", errOrMissing(err))
		}
	}
	if _, ok := lang["policy"]; !ok {
		lang["policy"] = json.RawMessage(`"deterministic"`)
	}
	var err error
	if t["language"], err = json.Marshal(lang); err != nil {
		return nil, fmt.Errorf("encode template language: %w", err)
	}
	if _, ok := t["namespace"]; !ok && namespace != "" {
		if t["namespace"], err = json.Marshal(namespace); err != nil {
			return nil, fmt.Errorf("encode template namespace: %w", err)
		}
	}
	b, err := json.Marshal(t)
	if err != nil {
		return nil, fmt.Errorf("encode template: %w", err)
	}
	return b, nil
}

func errOrMissing(err error) error {
	if err != nil {
		return err
	}
	return errors.New("null")
}

// MarkRead marks an inbound message as read: Cloud, POST /messages {"messaging_product","status":"read",
// "message_id"}; On-Premise, PUT /v1/messages/{id} {"status":"read"}.
func (c *Client) MarkRead(ctx context.Context, providerMessageID string) error {
	const op = provider.OpMarkRead
	if err := c.ready(op); err != nil {
		return err
	}
	if strings.TrimSpace(providerMessageID) == "" {
		return c.invalid(op, "Mark as read needs the message id.", fmt.Errorf("%s mark read: empty message id", c.kind))
	}
	if c.onPremise {
		return c.call.JSON(ctx, op, http.MethodPut, c.endpoint("/v1/messages/"+url.PathEscape(providerMessageID)), map[string]string{"status": "read"}, nil)
	}
	in := map[string]string{"messaging_product": "whatsapp", "status": "read", "message_id": providerMessageID}
	var out struct {
		Success *bool `json:"success"`
	}
	if err := c.call.JSON(ctx, op, http.MethodPost, c.endpoint("/messages"), in, &out); err != nil {
		return err
	}
	if out.Success != nil && !*out.Success {
		return c.call.BadResponse(op, http.StatusOK, fmt.Errorf("%s mark read: success is false", c.kind))
	}
	return nil
}

// UploadMedia uploads f and returns its media id: Cloud, multipart POST /media; On-Premise, the raw bytes to
// POST /v1/media with their Content-Type.
func (c *Client) UploadMedia(ctx context.Context, f provider.MediaFile) (string, error) {
	const op = provider.OpUploadMedia
	if err := c.ready(op); err != nil {
		return "", err
	}
	if len(f.Data) == 0 {
		return "", c.invalid(op, "The media file is empty.", fmt.Errorf("%s upload: empty file", c.kind))
	}
	var (
		path  = "/media"
		body  = f.Data
		ctype = provider.MediaType(f)
	)
	if c.onPremise {
		path = "/v1/media"
	} else {
		var err error
		if body, ctype, err = provider.MediaMultipart(f); err != nil {
			return "", c.invalid(op, "wagate could not prepare the media upload.", fmt.Errorf("%s upload: %w", c.kind, err))
		}
	}
	resp, err := c.call.Do(ctx, op, http.MethodPost, c.endpoint(path), ctype, body, 0)
	if err != nil {
		return "", err
	}
	var out struct {
		ID    string `json:"id"`
		Media []struct {
			ID string `json:"id"`
		} `json:"media"`
	}
	jerr := json.Unmarshal(resp.Body, &out)
	if out.ID == "" && len(out.Media) > 0 {
		out.ID = out.Media[0].ID
	}
	if jerr != nil || out.ID == "" {
		return "", c.call.BadResponse(op, resp.Status, fmt.Errorf("%s upload: no media id in answer: %w", c.kind, errOrMissing(jerr)))
	}
	return out.ID, nil
}

// DownloadMedia fetches a media id's bytes. Cloud: GET /{media_id}, then GET the lookaside URL's path and query on
// BaseURL's host (a 360dialog key does not open lookaside.fbsbx.com) and check Meta's SHA-256. On-Premise:
// GET /v1/media/{id}.
func (c *Client) DownloadMedia(ctx context.Context, mediaID string) (provider.MediaFile, error) {
	const op = provider.OpDownloadMedia
	if err := c.ready(op); err != nil {
		return provider.MediaFile{}, err
	}
	if strings.TrimSpace(mediaID) == "" {
		return provider.MediaFile{}, c.invalid(op, "Downloading media needs a media id.", fmt.Errorf("%s download: empty media id", c.kind))
	}
	if c.onPremise {
		data, err := c.fetch(ctx, c.endpoint("/v1/media/"+url.PathEscape(mediaID)))
		if err != nil {
			return provider.MediaFile{}, err
		}
		sum, _ := provider.CheckSHA256(data.Body, "")
		return provider.MediaFile{Data: data.Body, MimeType: data.Header.Get("Content-Type"), Filename: filename(data.Header), SHA256: sum}, nil
	}
	// Every failed lookup counts against 360dialog's limit of 5 an hour; the caller must not retry 4xx blindly
	// (the catalogue makes them permanent).
	resp, err := c.call.Do(ctx, op, http.MethodGet, c.endpoint("/"+url.PathEscape(mediaID)), "", nil, 0)
	if err != nil {
		return provider.MediaFile{}, err
	}
	info, err := provider.ParseMediaInfo(resp.Body)
	if err != nil {
		return provider.MediaFile{}, c.call.BadResponse(op, resp.Status, fmt.Errorf("%s download: %w", c.kind, err))
	}
	if info.FileSize > provider.MaxMediaBytes {
		return provider.MediaFile{}, c.invalid(op, fmt.Sprintf("The media file is larger than the %d MB wagate accepts.", provider.MaxMediaBytes>>20),
			fmt.Errorf("%s download: %w: file_size %d", c.kind, provider.ErrResponseTooLarge, info.FileSize))
	}
	target, err := c.rewrite(info.URL)
	if err != nil {
		return provider.MediaFile{}, c.call.BadResponse(op, resp.Status, fmt.Errorf("%s download: %w", c.kind, err))
	}
	data, err := c.fetch(ctx, target)
	if err != nil {
		return provider.MediaFile{}, provider.MediaURLError(c.kind, err)
	}
	sum, err := provider.CheckSHA256(data.Body, info.SHA256)
	if err != nil {
		return provider.MediaFile{}, provider.MediaChecksumError(c.kind, fmt.Errorf("%s download: %w", c.kind, err))
	}
	f := provider.MediaFile{Data: data.Body, MimeType: info.MimeType, SHA256: sum, Filename: filename(data.Header)}
	if f.MimeType == "" {
		f.MimeType = data.Header.Get("Content-Type")
	}
	return f, nil
}

// rewrite moves a lookaside media URL onto BaseURL, keeping its path and full query (docs/provider-api.md §1.2 item 4).
func (c *Client) rewrite(lookaside string) (string, error) {
	u, err := url.Parse(lookaside)
	if err != nil {
		return "", fmt.Errorf("media url: %w", err)
	}
	if u.Path == "" || u.Path == "/" {
		return "", errors.New("media url has no path")
	}
	s := c.cfg.BaseURL + u.EscapedPath()
	if u.RawQuery != "" {
		s += "?" + u.RawQuery
	}
	return s, nil
}

// fetch GETs media bytes with the key.
func (c *Client) fetch(ctx context.Context, target string) (*provider.Response, error) {
	const op = provider.OpDownloadMedia
	req, err := c.call.NewRequest(ctx, op, http.MethodGet, target, "", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "*/*")
	// A published 360dialog client sends a browser User-Agent on this call; whether it is needed is unknown.
	req.Header.Set("User-Agent", "Mozilla/5.0 (compatible; wagate)")
	return c.call.Send(op, req, provider.MaxMediaBytes)
}

// filename reads a Content-Disposition filename, "" when there is none.
func filename(h http.Header) string {
	_, params, err := mime.ParseMediaType(h.Get("Content-Disposition"))
	if err != nil {
		return ""
	}
	return params["filename"]
}

// Health reads the number's state: Cloud, GET /health_status (Meta's health_status node); On-Premise,
// GET /v1/health (the client's gateway_status, or one per node in a multi-connect setup).
func (c *Client) Health(ctx context.Context) (provider.Health, error) {
	const op = provider.OpHealth
	if err := c.ready(op); err != nil {
		return provider.Health{}, err
	}
	path := "/health_status"
	if c.onPremise {
		path = "/v1/health"
	}
	resp, err := c.call.Do(ctx, op, http.MethodGet, c.endpoint(path), "", nil, 0)
	if err != nil {
		return provider.Health{}, err
	}
	h := provider.Health{CheckedAt: time.Now().UTC()}
	if c.onPremise {
		err = parseOnPremiseHealth(resp.Body, &h)
	} else {
		err = provider.ParsePhoneInfo(resp.Body, &h)
	}
	if err != nil {
		return provider.Health{}, c.call.BadResponse(op, resp.Status, fmt.Errorf("%s health: %w", c.kind, err))
	}
	return h, nil
}

// parseOnPremiseHealth reads {"health":{"gateway_status":"connected"}} or, multi-connect,
// {"health":{"<node>":{"gateway_status":"connected","role":"primary_master"},...}}: the number can send when
// some node is connected. Every other status becomes a Details line.
func parseOnPremiseHealth(body []byte, h *provider.Health) error {
	var r struct {
		Health map[string]json.RawMessage `json:"health"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return fmt.Errorf("decode health answer: %w", err)
	}
	if r.Health == nil {
		return errors.New("health answer has no health object")
	}
	note := func(node, status string) {
		if strings.EqualFold(status, "connected") {
			h.CanSend = true
			return
		}
		if status == "" {
			status = "unknown"
		}
		line := "gateway_status: " + status
		if node != "" {
			line = node + " " + line
		}
		h.Details = append(h.Details, line)
	}
	if raw, ok := r.Health["gateway_status"]; ok {
		note("", text(raw))
		return nil
	}
	for node, raw := range r.Health {
		var n struct {
			GatewayStatus json.RawMessage `json:"gateway_status"`
		}
		if json.Unmarshal(raw, &n) == nil && n.GatewayStatus != nil {
			note(clip(node), text(n.GatewayStatus))
		}
	}
	return nil
}

// text is raw as a trimmed, bounded string when it is a JSON string, else "".
func text(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return clip(s)
}

// clip collapses s's spaces and bounds it to 200 bytes of valid UTF-8.
func clip(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:200]
	}
	return strings.ToValidUTF8(s, "")
}

// Webhook reads the number's webhook (GET /v1/configs/webhook, the same path on both APIs).
func (c *Client) Webhook(ctx context.Context) (provider.WebhookConfig, error) {
	const op = provider.OpWebhook
	if err := c.ready(op); err != nil {
		return provider.WebhookConfig{}, err
	}
	resp, err := c.call.Do(ctx, op, http.MethodGet, c.endpoint("/v1/configs/webhook"), "", nil, 0)
	if err != nil {
		return provider.WebhookConfig{}, err
	}
	wc, err := parseWebhook(resp.Body)
	if err != nil {
		return provider.WebhookConfig{}, c.call.BadResponse(op, resp.Status, fmt.Errorf("%s webhook: %w", c.kind, err))
	}
	return wc, nil
}

// parseWebhook reads {"url","headers"}; an On-Premise client may nest it as
// {"settings":{"application":{"webhooks":{"url"}}}}, which is read too. An empty answer means no webhook.
func parseWebhook(body []byte) (provider.WebhookConfig, error) {
	type hook struct {
		URL     string            `json:"url"`
		Headers map[string]string `json:"headers"`
	}
	var r struct {
		hook
		Settings struct {
			Application struct {
				Webhooks hook `json:"webhooks"`
			} `json:"application"`
		} `json:"settings"`
	}
	if strings.TrimSpace(string(body)) == "" {
		return provider.WebhookConfig{}, nil
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return provider.WebhookConfig{}, fmt.Errorf("decode webhook answer: %w", err)
	}
	h := r.hook
	if h.URL == "" {
		h = r.Settings.Application.Webhooks
	}
	return provider.WebhookConfig{URL: h.URL, Headers: h.Headers}, nil
}

// SetWebhook registers cfg for the number (POST /v1/configs/webhook {"url","headers"}); 360dialog sends the
// headers back with every webhook, which is how wagate authenticates them.
func (c *Client) SetWebhook(ctx context.Context, cfg provider.WebhookConfig) error {
	const op = provider.OpSetWebhook
	if err := c.ready(op); err != nil {
		return err
	}
	raw := strings.TrimSpace(cfg.URL)
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		// The URL may carry a ?token= secret: it stays out of the error.
		return c.invalid(op, "The webhook URL must be an absolute http(s) URL, such as https://wagate.example.com/webhooks/whatsapp.",
			fmt.Errorf("%s set webhook: %w", c.kind, errBadWebhookURL))
	}
	in := map[string]any{"url": raw}
	if len(cfg.Headers) > 0 {
		in["headers"] = cfg.Headers
	}
	// The header values and the URL's query are the webhook's own secrets: keep them out of errors as well.
	call := c.call
	call.Secrets = slices.Clone(c.call.Secrets)
	for _, v := range cfg.Headers {
		call.Secrets = append(call.Secrets, v)
	}
	for _, vs := range u.Query() {
		call.Secrets = append(call.Secrets, vs...)
	}
	return call.JSON(ctx, op, http.MethodPost, c.endpoint("/v1/configs/webhook"), in, nil)
}

var errBadWebhookURL = errors.New("webhook url is not an absolute http(s) URL")

// profileFields is what the Cloud profile read asks for.
const profileFields = "about,address,description,email,profile_picture_url,websites,vertical"

// Profile reads the number's business profile. Cloud: GET /whatsapp_business_profile?fields=... ({"data":[{...}]}
// or a bare object). On-Premise: GET /v1/settings/business/profile ({"settings":{"business":{"profile":{...}}}},
// which has no about text), then the about text from GET /v1/settings/profile/about
// ({"settings":{"profile":{"about":{"text":...}}}}, UNCONFIRMED); a 404 there leaves About empty.
func (c *Client) Profile(ctx context.Context) (provider.Profile, error) {
	const op = provider.OpProfile
	if err := c.ready(op); err != nil {
		return provider.Profile{}, err
	}
	path := "/whatsapp_business_profile?fields=" + profileFields
	if c.onPremise {
		path = "/v1/settings/business/profile"
	}
	resp, err := c.call.Do(ctx, op, http.MethodGet, c.endpoint(path), "", nil, 0)
	if err != nil {
		return provider.Profile{}, err
	}
	p, err := provider.ParseProfile(resp.Body)
	if err != nil {
		return provider.Profile{}, c.call.BadResponse(op, resp.Status, fmt.Errorf("%s profile: %w", c.kind, err))
	}
	if !c.onPremise || p.About != "" {
		return p, nil
	}
	var about struct {
		Settings struct {
			Profile struct {
				About struct {
					Text string `json:"text"`
				} `json:"about"`
			} `json:"profile"`
		} `json:"settings"`
	}
	err = c.call.JSON(ctx, op, http.MethodGet, c.endpoint("/v1/settings/profile/about"), nil, &about)
	var pe *provider.Error
	if errors.As(err, &pe) && pe.HTTPStatus == http.StatusNotFound && pe.Code == 0 {
		return p, nil
	}
	if err != nil {
		return provider.Profile{}, err
	}
	p.About = about.Settings.Profile.About.Text
	return p, nil
}

// SetProfile checks p (provider.CheckProfile) and sends its non-empty fields. Cloud: POST
// /whatsapp_business_profile with messaging_product. On-Premise: the business fields to POST
// /v1/settings/business/profile, then the about text to PATCH /v1/settings/profile/about {"text":...}, where the
// On-Premise API keeps it (docs/provider-api.md §1.1); when the second call fails the first has been applied. A p without
// any field to send makes no call.
func (c *Client) SetProfile(ctx context.Context, p provider.Profile) error {
	const op = provider.OpSetProfile
	p, err := provider.CheckProfile(c.kind, p)
	if err != nil {
		return err
	}
	if err := c.ready(op); err != nil {
		return err
	}
	if !c.onPremise {
		in := p.Fields()
		if len(in) == 0 {
			return nil
		}
		in["messaging_product"] = "whatsapp"
		var out struct {
			Success *bool `json:"success"`
		}
		if err := c.call.JSON(ctx, op, http.MethodPost, c.endpoint("/whatsapp_business_profile"), in, &out); err != nil {
			return err
		}
		if out.Success != nil && !*out.Success {
			return c.call.BadResponse(op, http.StatusOK, fmt.Errorf("%s set profile: success is false", c.kind))
		}
		return nil
	}
	about := p.About
	p.About = ""
	if in := p.Fields(); len(in) > 0 {
		if err := c.onPremiseJSON(ctx, op, http.MethodPost, "/v1/settings/business/profile", in); err != nil {
			return err
		}
	}
	if about != "" {
		return c.onPremiseJSON(ctx, op, http.MethodPatch, "/v1/settings/profile/about", map[string]string{"text": about})
	}
	return nil
}

// onPremiseJSON sends in as JSON to an On-Premise settings path; an answer carrying errors[] is an error even
// with a 2xx status.
func (c *Client) onPremiseJSON(ctx context.Context, op, method, path string, in any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return c.invalid(op, "wagate could not encode the request for the WhatsApp service.", fmt.Errorf("%s: encode: %w", c.kind, err))
	}
	resp, err := c.call.Do(ctx, op, method, c.endpoint(path), "application/json", body, 0)
	if err != nil {
		return err
	}
	var probe struct {
		Errors []json.RawMessage `json:"errors"`
	}
	if json.Unmarshal(resp.Body, &probe) == nil && len(probe.Errors) > 0 {
		if pe := provider.ErrorFromResponse(c.kind, op, resp.Status, resp.Header, resp.Body); pe.Code != 0 {
			return c.call.Scrub(pe)
		}
	}
	return nil
}

// Both kinds implement the optional contacts check; only On-Premise can answer it.
var _ provider.ContactChecker = (*Client)(nil)

// CheckContacts asks the On-Premise API which numbers are on WhatsApp: POST /v1/contacts
// {"blocking":"wait","contacts":[...],"force_check":false} answers {"contacts":[{"input","status","wa_id"}]}.
// The Cloud API has no such endpoint: a Cloud client returns a ClassUnsupported *Error without calling.
func (c *Client) CheckContacts(ctx context.Context, numbers []string) ([]provider.ContactStatus, error) {
	const op = provider.OpCheckContacts
	if !c.onPremise {
		return nil, &provider.Error{Provider: c.kind, Op: op, Class: provider.ClassUnsupported,
			Message: "The 360dialog Cloud API has no contacts check; it exists only on the 360dialog On-Premise API."}
	}
	if err := c.ready(op); err != nil {
		return nil, err
	}
	in := make([]string, 0, len(numbers))
	for _, n := range numbers {
		if n = strings.TrimSpace(n); n != "" {
			in = append(in, n)
		}
	}
	if len(in) == 0 {
		return nil, c.invalid(op, "The contacts check needs at least one phone number.", fmt.Errorf("%s check contacts: no numbers", c.kind))
	}
	body, err := json.Marshal(map[string]any{"blocking": "wait", "contacts": in, "force_check": false})
	if err != nil {
		return nil, c.invalid(op, "wagate could not encode the request for the WhatsApp service.", fmt.Errorf("%s check contacts: encode: %w", c.kind, err))
	}
	resp, err := c.call.Do(ctx, op, http.MethodPost, c.endpoint("/v1/contacts"), "application/json", body, 0)
	if err != nil {
		return nil, err
	}
	var out struct {
		Contacts []struct {
			Input  string `json:"input"`
			Status string `json:"status"`
			WAID   string `json:"wa_id"`
		} `json:"contacts"`
		Errors []json.RawMessage `json:"errors"`
	}
	jerr := json.Unmarshal(resp.Body, &out)
	if jerr == nil && len(out.Errors) > 0 {
		// An On-Premise answer can carry errors[] with a 2xx status.
		if pe := provider.ErrorFromResponse(c.kind, op, resp.Status, resp.Header, resp.Body); pe.Code != 0 {
			return nil, c.call.Scrub(pe)
		}
	}
	if jerr != nil || out.Contacts == nil {
		return nil, c.call.BadResponse(op, resp.Status, fmt.Errorf("%s check contacts: no contacts in answer: %w", c.kind, errOrMissing(jerr)))
	}
	res := make([]provider.ContactStatus, 0, len(out.Contacts))
	for _, ct := range out.Contacts {
		res = append(res, provider.ContactStatus{Input: ct.Input, Status: ct.Status, WAID: ct.WAID})
	}
	return res, nil
}
