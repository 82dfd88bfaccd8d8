package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/wagate/wagate/internal/health"
	"github.com/wagate/wagate/internal/httpapi"
	"github.com/wagate/wagate/internal/outbound"
	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/wa"
)

// testSendWait bounds how long the test message form waits for the provider's answer.
const testSendWait = 10 * time.Second

// registerSettings mounts the settings pages.
func (h *Handler) registerSettings(mux *http.ServeMux) {
	h.page(mux, RoleAgent, "GET /settings", h.settingsPage)
	h.page(mux, RoleDirector, "POST /settings/channels/{name}/check", h.channelCheck)
	h.page(mux, RoleDirector, "POST /settings/channels/{name}/test", h.channelTestSend)
	h.registerUsers(mux)
}

// providerNames are the human names of the provider kinds.
var providerNames = map[string]string{
	"demo":                "Demo",
	"360dialog":           "360dialog Cloud API",
	"360dialog-onpremise": "360dialog On-Premise",
	"meta":                "Meta Cloud API",
}

// channelView is a channel as the settings page shows it.
type channelView struct {
	Channel
	Index        int
	ProviderName string
	// ShownWebhookURL is the URL to register at the provider: with its token for directors only.
	ShownWebhookURL string
	// ShowsToken: ShownWebhookURL carries the webhook token.
	ShowsToken bool
	// WarnSecret: anyone who knows the webhook URL can post to it. WarnAppSecret: Meta's signatures are not
	// checked.
	WarnSecret, WarnAppSecret bool
	CheckURL, TestURL         string
}

// settingsView is what the WhatsApp settings page shows.
type settingsView struct {
	Tab      string
	Channels []channelView
	CanSend  bool
}

func (h *Handler) settingsPage(w http.ResponseWriter, r *http.Request, s *Session) error {
	chans := h.o.Channels.List()
	v := settingsView{Tab: "whatsapp", Channels: make([]channelView, len(chans)), CanSend: h.o.Sender != nil}
	for i, c := range chans {
		cv := channelView{Channel: c, Index: i, ProviderName: providerNames[c.Provider], ShownWebhookURL: c.WebhookURL,
			WarnSecret: !c.WebhookSecret && !(c.IsMeta && c.AppSecret), WarnAppSecret: c.IsMeta && !c.AppSecret,
			CheckURL: "/settings/channels/" + url.PathEscape(c.Name) + "/check",
			TestURL:  "/settings/channels/" + url.PathEscape(c.Name) + "/test"}
		if cv.ProviderName == "" {
			cv.ProviderName = c.Provider
		}
		if s.Director() && c.WebhookURLWithToken != "" {
			cv.ShownWebhookURL = c.WebhookURLWithToken
			cv.ShowsToken = c.WebhookURLWithToken != c.WebhookURL
		}
		v.Channels[i] = cv
	}
	return h.render(w, r, s, http.StatusOK, "settings", "settings", v)
}

// checkView is the outcome of a connection check as the settings page shows it.
type checkView struct {
	Report health.Report
	OK     bool
}

// channelCheck runs the connection check of one channel (directors only) and answers the result fragment.
func (h *Handler) channelCheck(w http.ResponseWriter, r *http.Request, s *Session) error {
	ctx, cancel := context.WithTimeout(r.Context(), 3*health.Timeout)
	defer cancel()
	rep, ok := h.o.Channels.Check(ctx, r.PathValue("name"))
	if !ok {
		return errNotFound
	}
	h.log.Info("connection check", "channel", rep.Channel, "state", rep.State, "user", s.User.Email)
	return h.renderFragment(w, r, s, http.StatusOK, "settings_check", checkView{Report: rep, OK: rep.OK()})
}

// testSendView is the outcome of a test message: the stored message, or the refusal with its fix.
type testSendView struct {
	Message  store.Message
	Sent     bool   // the provider accepted it (or it is still queued: Queued)
	Queued   bool   // no answer from the provider within testSendWait
	Error    string // the refusal or the provider's error
	Fix      string
	Code     string
	Provider int // the provider's error code, when it gave one
}

// channelTestSend sends a text message through the channel (directors only) and shows the provider's answer.
func (h *Handler) channelTestSend(w http.ResponseWriter, r *http.Request, s *Session) error {
	if h.o.Sender == nil {
		return errNotFound
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	name := r.PathValue("name")
	if !h.hasChannel(name) {
		return errNotFound
	}
	to, text := strings.TrimSpace(r.PostFormValue("to")), r.PostFormValue("text")
	// The request goes through the API's decoder: the same phone and text rules, the same explanations.
	body, err := json.Marshal(map[string]any{"to": to, "type": "text", "text": map[string]string{"body": text}, "channel": name})
	if err != nil {
		return err
	}
	v := testSendView{}
	req, err := outbound.Decode(body)
	if err != nil {
		v.setError(httpapi.ValidationError(err))
		return h.renderFragment(w, r, s, http.StatusOK, "settings_test_result", v)
	}
	m, _, err := h.o.Sender.Send(r.Context(), req.Channel, req.Message, "")
	if err != nil {
		e, ok := httpapi.SendRefusal(req.Message.Type, err)
		if !ok {
			return err
		}
		v.setError(e)
		return h.renderFragment(w, r, s, http.StatusOK, "settings_test_result", v)
	}
	h.log.Info("test message", "channel", name, "message", m.ID, "user", s.User.Email)
	if m, err = h.o.Sender.Wait(r.Context(), m.ID, testSendWait); err != nil {
		return err
	}
	v.Message = m
	switch m.Status {
	case wa.StatusFailed:
		v.setError(httpapi.SendFailure(m))
	case wa.StatusQueued:
		v.Queued = true
	default:
		v.Sent = true
	}
	return h.renderFragment(w, r, s, http.StatusOK, "settings_test_result", v)
}

func (v *testSendView) setError(e *httpapi.Error) {
	v.Error, v.Fix, v.Code, v.Provider = e.Message, e.Fix, e.Code, e.ProviderCode
	if e.Detail != "" {
		v.Error += ": " + e.Detail
	}
}

func (h *Handler) hasChannel(name string) bool {
	for _, c := range h.o.Channels.List() {
		if c.Name == name {
			return true
		}
	}
	return false
}
