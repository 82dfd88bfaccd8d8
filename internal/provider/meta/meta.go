// Package meta is the client of Meta's WhatsApp Cloud API (graph.facebook.com), used directly with a
// system-user access token. It implements provider.Provider.
package meta

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/wagate/wagate/internal/provider"
	"github.com/wagate/wagate/internal/wa"
)

// The defaults of Config.
const (
	DefaultBaseURL    = "https://graph.facebook.com"
	DefaultAPIVersion = "v23.0"
)

// healthFields is what Health asks of the phone number node; Meta's list is UNCONFIRMED, so Health falls back to
// basicFields when Meta refuses it as an invalid parameter.
const (
	healthFields = "verified_name,display_phone_number,quality_rating,throughput,health_status"
	basicFields  = "verified_name,display_phone_number,quality_rating"
)

// profileFields is what Profile asks of the number's whatsapp_business_profile edge.
const profileFields = "about,address,description,email,profile_picture_url,websites,vertical"

// Config is what a Meta channel needs.
type Config struct {
	BaseURL       string       // default DefaultBaseURL
	APIVersion    string       // default DefaultAPIVersion; "23.0" is read as "v23.0"
	PhoneNumberID string       // the number's Graph id (required)
	WABAID        string       // the WhatsApp Business Account id (Webhook needs it)
	AccessToken   string       // system-user or business-integration token (required)
	HTTP          *http.Client // nil for a default client; redirects to other hosts are never followed
}

// Client is one Meta Cloud API channel. It is safe for concurrent use.
type Client struct {
	cfg  Config
	base *url.URL // nil when BaseURL does not parse
	call provider.Caller
}

var _ provider.Provider = (*Client)(nil)

// New returns a client for cfg, filling in the defaults; missing credentials surface as errors of the calls.
func New(cfg Config) *Client {
	cfg.BaseURL = strings.TrimRight(strings.TrimSpace(cfg.BaseURL), "/")
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	cfg.APIVersion = strings.Trim(strings.TrimSpace(cfg.APIVersion), "/")
	if cfg.APIVersion == "" {
		cfg.APIVersion = DefaultAPIVersion
	} else if !strings.HasPrefix(cfg.APIVersion, "v") {
		cfg.APIVersion = "v" + cfg.APIVersion
	}
	cfg.PhoneNumberID = strings.TrimSpace(cfg.PhoneNumberID)
	cfg.WABAID = strings.TrimSpace(cfg.WABAID)
	c := &Client{cfg: cfg}
	if u, err := url.Parse(cfg.BaseURL); err == nil && u.Host != "" {
		c.base = u
	}
	token := cfg.AccessToken
	c.call = provider.Caller{
		Kind:    provider.KindMeta,
		HTTP:    provider.NewHTTPClient(cfg.HTTP),
		Auth:    func(h http.Header) { h.Set("Authorization", "Bearer "+token) },
		Secrets: []string{token},
	}
	return c
}

// Kind returns "meta".
func (c *Client) Kind() string { return provider.KindMeta }

// endpoint is BaseURL/APIVersion/segments..., each segment path-escaped.
func (c *Client) endpoint(segments ...string) string {
	var b strings.Builder
	b.WriteString(c.cfg.BaseURL)
	b.WriteString("/")
	b.WriteString(c.cfg.APIVersion)
	for _, s := range segments {
		b.WriteString("/")
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}

// ready checks the configuration an operation needs.
func (c *Client) ready(op string, needNumber bool) error {
	if c.cfg.AccessToken == "" {
		e := provider.MissingKey(provider.KindMeta)
		e.Op = op
		return e
	}
	if needNumber && c.cfg.PhoneNumberID == "" {
		return &provider.Error{Provider: provider.KindMeta, Op: op, Class: provider.ClassAuth,
			Message: "WhatsApp isn't configured (missing phone number id). Set WHATSAPP_PHONE_NUMBER_ID to the number's id from the Meta app dashboard."}
	}
	return nil
}

func invalid(op, msg string, err error) *provider.Error {
	return &provider.Error{Provider: provider.KindMeta, Op: op, Class: provider.ClassInvalid, Message: msg, Err: err}
}

// Send posts msg's Cloud API body to /{version}/{phone-number-id}/messages.
func (c *Client) Send(ctx context.Context, msg wa.Outbound) (provider.SendResult, error) {
	if err := c.ready(provider.OpSend, true); err != nil {
		return provider.SendResult{}, err
	}
	body, err := msg.CloudBody()
	if err != nil {
		return provider.SendResult{}, invalid(provider.OpSend, "The message is incomplete: it needs a type and content.", fmt.Errorf("meta send: %w", err))
	}
	resp, err := c.call.Do(ctx, provider.OpSend, http.MethodPost, c.endpoint(c.cfg.PhoneNumberID, "messages"), "application/json", body, 0)
	if err != nil {
		return provider.SendResult{}, err
	}
	res, err := provider.ParseSendResponse(resp.Body)
	if err != nil {
		return provider.SendResult{}, c.call.BadResponse(provider.OpSend, resp.Status, fmt.Errorf("meta send: %w", err))
	}
	return res, nil
}

// MarkRead marks an inbound message (and the ones before it) as read.
func (c *Client) MarkRead(ctx context.Context, providerMessageID string) error {
	if err := c.ready(provider.OpMarkRead, true); err != nil {
		return err
	}
	if strings.TrimSpace(providerMessageID) == "" {
		return invalid(provider.OpMarkRead, "Mark as read needs the message id.", errors.New("meta mark read: empty message id"))
	}
	in := map[string]string{"messaging_product": "whatsapp", "status": "read", "message_id": providerMessageID}
	var out struct {
		Success *bool `json:"success"`
	}
	if err := c.call.JSON(ctx, provider.OpMarkRead, http.MethodPost, c.endpoint(c.cfg.PhoneNumberID, "messages"), in, &out); err != nil {
		return err
	}
	if out.Success != nil && !*out.Success {
		return c.call.BadResponse(provider.OpMarkRead, http.StatusOK, errors.New("meta mark read: success is false"))
	}
	return nil
}

// UploadMedia uploads f to /{version}/{phone-number-id}/media and returns its media id.
func (c *Client) UploadMedia(ctx context.Context, f provider.MediaFile) (string, error) {
	if err := c.ready(provider.OpUploadMedia, true); err != nil {
		return "", err
	}
	if len(f.Data) == 0 {
		return "", invalid(provider.OpUploadMedia, "The media file is empty.", errors.New("meta upload: empty file"))
	}
	body, ctype, err := provider.MediaMultipart(f)
	if err != nil {
		return "", invalid(provider.OpUploadMedia, "wagate could not prepare the media upload.", fmt.Errorf("meta upload: %w", err))
	}
	resp, err := c.call.Do(ctx, provider.OpUploadMedia, http.MethodPost, c.endpoint(c.cfg.PhoneNumberID, "media"), ctype, body, 0)
	if err != nil {
		return "", err
	}
	var out struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(resp.Body, &out); err != nil || out.ID == "" {
		return "", c.call.BadResponse(provider.OpUploadMedia, resp.Status, fmt.Errorf("meta upload: no id in answer: %w", errOrMissing(err)))
	}
	return out.ID, nil
}

func errOrMissing(err error) error {
	if err != nil {
		return err
	}
	return errors.New("field missing")
}

// DownloadMedia looks the media id up (GET /{version}/{media-id}), then fetches the bytes from the URL Meta gave
// with the access token, and checks them against Meta's SHA-256. The token is only sent to an https URL or to
// BaseURL's own host.
func (c *Client) DownloadMedia(ctx context.Context, mediaID string) (provider.MediaFile, error) {
	const op = provider.OpDownloadMedia
	if err := c.ready(op, false); err != nil {
		return provider.MediaFile{}, err
	}
	if strings.TrimSpace(mediaID) == "" {
		return provider.MediaFile{}, invalid(op, "Downloading media needs a media id.", errors.New("meta download: empty media id"))
	}
	resp, err := c.call.Do(ctx, op, http.MethodGet, c.endpoint(mediaID), "", nil, 0)
	if err != nil {
		return provider.MediaFile{}, err
	}
	info, err := provider.ParseMediaInfo(resp.Body)
	if err != nil {
		return provider.MediaFile{}, c.call.BadResponse(op, resp.Status, fmt.Errorf("meta download: %w", err))
	}
	if info.FileSize > provider.MaxMediaBytes {
		return provider.MediaFile{}, invalid(op, fmt.Sprintf("The media file is larger than the %d MB wagate accepts.", provider.MaxMediaBytes>>20),
			fmt.Errorf("meta download: %w: file_size %d", provider.ErrResponseTooLarge, info.FileSize))
	}
	u, err := url.Parse(info.URL)
	if err != nil || !c.mayFollow(u) {
		return provider.MediaFile{}, c.call.Scrub(invalid(op, "Meta gave a media address wagate will not send the access token to (it is not https).",
			fmt.Errorf("meta download: refused media URL host %q", hostOf(u))))
	}
	req, err := c.call.NewRequest(ctx, op, http.MethodGet, u.String(), "", nil)
	if err != nil {
		return provider.MediaFile{}, err
	}
	req.Header.Set("Accept", "*/*")
	data, err := c.call.Send(op, req, provider.MaxMediaBytes)
	if err != nil {
		return provider.MediaFile{}, provider.MediaURLError(provider.KindMeta, err)
	}
	sum, err := provider.CheckSHA256(data.Body, info.SHA256)
	if err != nil {
		return provider.MediaFile{}, provider.MediaChecksumError(provider.KindMeta, fmt.Errorf("meta download: %w", err))
	}
	f := provider.MediaFile{Data: data.Body, MimeType: info.MimeType, SHA256: sum, Filename: filename(data.Header)}
	if f.MimeType == "" {
		f.MimeType = data.Header.Get("Content-Type")
	}
	return f, nil
}

// mayFollow reports whether the access token may be sent to u: https anywhere (Meta's lookaside host differs from
// graph.facebook.com), or any scheme on BaseURL's own host (a local fake provider).
func (c *Client) mayFollow(u *url.URL) bool {
	if u.Host == "" {
		return false
	}
	if u.Scheme == "https" {
		return true
	}
	return c.base != nil && u.Scheme == "http" && strings.EqualFold(u.Host, c.base.Host)
}

func hostOf(u *url.URL) string {
	if u == nil {
		return ""
	}
	return u.Host
}

// filename reads a Content-Disposition filename, "" when there is none.
func filename(h http.Header) string {
	_, params, err := mime.ParseMediaType(h.Get("Content-Disposition"))
	if err != nil {
		return ""
	}
	return params["filename"]
}

// Health reads the number's node: verified name, display number, quality rating, throughput and health_status.
// Meta's field list is not confirmed, so when Meta refuses it as an invalid parameter (code 100) Health asks
// again for the basic fields only.
func (c *Client) Health(ctx context.Context) (provider.Health, error) {
	const op = provider.OpHealth
	if err := c.ready(op, true); err != nil {
		return provider.Health{}, err
	}
	resp, err := c.call.Do(ctx, op, http.MethodGet, c.endpoint(c.cfg.PhoneNumberID)+"?fields="+healthFields, "", nil, 0)
	var pe *provider.Error
	if errors.As(err, &pe) && pe.Code == 100 {
		resp, err = c.call.Do(ctx, op, http.MethodGet, c.endpoint(c.cfg.PhoneNumberID)+"?fields="+basicFields, "", nil, 0)
	}
	if err != nil {
		return provider.Health{}, err
	}
	h := provider.Health{CheckedAt: time.Now().UTC()}
	if err := provider.ParsePhoneInfo(resp.Body, &h); err != nil {
		return provider.Health{}, c.call.BadResponse(op, resp.Status, fmt.Errorf("meta health: %w", err))
	}
	return h, nil
}

// ErrNotSubscribed is wrapped by Webhook's error when no Meta app is subscribed to the WhatsApp Business Account.
var ErrNotSubscribed = errors.New("meta: no app is subscribed to the WhatsApp Business Account")

// Webhook checks that some Meta app is subscribed to the WhatsApp Business Account (GET
// /{version}/{WABA_ID}/subscribed_apps). Without one Meta sends no webhooks at all: that is an error of class
// ClassAuth wrapping ErrNotSubscribed. With one, the URL is the WABA's override callback URL when one is set, and
// "" otherwise: Meta keeps the app's callback URL in the app dashboard, where the API cannot read it.
func (c *Client) Webhook(ctx context.Context) (provider.WebhookConfig, error) {
	const op = provider.OpWebhook
	if err := c.ready(op, false); err != nil {
		return provider.WebhookConfig{}, err
	}
	if c.cfg.WABAID == "" {
		return provider.WebhookConfig{}, &provider.Error{Provider: provider.KindMeta, Op: op, Class: provider.ClassAuth,
			Message: "WhatsApp isn't fully configured (missing WhatsApp Business Account id). Set WAGATE_WABA_ID so wagate can check the webhook subscription."}
	}
	type override struct {
		URL string `json:"override_callback_uri"`
	}
	var out struct {
		Data []struct {
			override
			App override `json:"whatsapp_business_api_data"`
		} `json:"data"`
	}
	if err := c.call.JSON(ctx, op, http.MethodGet, c.endpoint(c.cfg.WABAID, "subscribed_apps"), nil, &out); err != nil {
		return provider.WebhookConfig{}, err
	}
	if len(out.Data) == 0 {
		return provider.WebhookConfig{}, &provider.Error{Provider: provider.KindMeta, Op: op, Class: provider.ClassAuth, Err: ErrNotSubscribed,
			Message: "No Meta app is subscribed to the WhatsApp Business Account, so Meta sends no webhooks. Subscribe the app (POST /{WABA_ID}/subscribed_apps) and set its callback URL in the Meta app dashboard."}
	}
	var wc provider.WebhookConfig
	for _, d := range out.Data {
		if u := cmp.Or(d.URL, d.App.URL); u != "" {
			wc.URL = u
			break
		}
	}
	return wc, nil
}

// SetWebhook always fails with ClassUnsupported: Meta takes the callback URL and verify token in the app
// dashboard, not per number through this API.
func (c *Client) SetWebhook(ctx context.Context, cfg provider.WebhookConfig) error {
	return &provider.Error{Provider: provider.KindMeta, Op: provider.OpSetWebhook, Class: provider.ClassUnsupported,
		Message: "Meta's webhook can't be set through the API: set the callback URL (wagate's /webhooks/whatsapp) and the verify token in the Meta app dashboard under WhatsApp > Configuration."}
}

// Profile reads the number's business profile: GET /{version}/{phone-number-id}/whatsapp_business_profile
// ?fields=... Meta's answer is believed to be {"data":[{...}]}; a bare profile object is read too.
func (c *Client) Profile(ctx context.Context) (provider.Profile, error) {
	const op = provider.OpProfile
	if err := c.ready(op, true); err != nil {
		return provider.Profile{}, err
	}
	resp, err := c.call.Do(ctx, op, http.MethodGet, c.endpoint(c.cfg.PhoneNumberID, "whatsapp_business_profile")+"?fields="+profileFields, "", nil, 0)
	if err != nil {
		return provider.Profile{}, err
	}
	p, err := provider.ParseProfile(resp.Body)
	if err != nil {
		return provider.Profile{}, c.call.BadResponse(op, resp.Status, fmt.Errorf("meta profile: %w", err))
	}
	return p, nil
}

// SetProfile checks p (provider.CheckProfile) and posts its non-empty fields with messaging_product to
// /{version}/{phone-number-id}/whatsapp_business_profile. A p without any field to send makes no call.
func (c *Client) SetProfile(ctx context.Context, p provider.Profile) error {
	const op = provider.OpSetProfile
	p, err := provider.CheckProfile(provider.KindMeta, p)
	if err != nil {
		return err
	}
	if err := c.ready(op, true); err != nil {
		return err
	}
	in := p.Fields()
	if len(in) == 0 {
		return nil
	}
	in["messaging_product"] = "whatsapp"
	var out struct {
		Success *bool `json:"success"`
	}
	if err := c.call.JSON(ctx, op, http.MethodPost, c.endpoint(c.cfg.PhoneNumberID, "whatsapp_business_profile"), in, &out); err != nil {
		return err
	}
	if out.Success != nil && !*out.Success {
		return c.call.BadResponse(op, http.StatusOK, errors.New("meta set profile: success is false"))
	}
	return nil
}
