package inbound

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/wagate/wagate/internal/metrics"
	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/webhook"
)

// Receiver serves the webhook endpoints.
type Receiver struct {
	proc    *Processor
	ing     *Ingester
	maxBody int64
	m       *metrics.Metrics
	log     *slog.Logger
}

// NewReceiver returns the webhook HTTP handlers. maxBody is the largest body accepted (413 above it).
func NewReceiver(proc *Processor, ing *Ingester, maxBody int64, m *metrics.Metrics, log *slog.Logger) *Receiver {
	return &Receiver{proc: proc, ing: ing, maxBody: maxBody, m: m, log: log}
}

// Register mounts the handshake and receiver on mux at /webhooks/whatsapp, /webhooks/whatsapp/{channel} and
// the alias /api/webhooks/whatsapp.
func (rc *Receiver) Register(mux *http.ServeMux) {
	for _, p := range []string{"/webhooks/whatsapp", "/webhooks/whatsapp/{channel}", "/api/webhooks/whatsapp"} {
		mux.HandleFunc("GET "+p, rc.Verify)
		mux.HandleFunc("POST "+p, rc.Receive)
	}
}

// ackBody is the answer to a webhook POST. The counts appear for what the body carried: received and stored for
// inbound messages, statuses and updated for receipts, all four when it carried both.
type ackBody struct {
	OK       bool   `json:"ok"`
	Received *int   `json:"received,omitempty"`
	Stored   *int   `json:"stored,omitempty"`
	Statuses *int   `json:"statuses,omitempty"`
	Updated  *int   `json:"updated,omitempty"`
	Notices  *int   `json:"notices,omitempty"`
	Queued   bool   `json:"queued,omitempty"`
	Warning  string `json:"warning,omitempty"`
	Error    string `json:"error,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (rc *Receiver) candidates(w http.ResponseWriter, r *http.Request) ([]*Channel, string, bool) {
	name := r.PathValue("channel")
	if name == "" {
		return rc.proc.Channels(), "", true
	}
	ch, ok := rc.proc.Channel(name)
	if !ok {
		return nil, name, false
	}
	return []*Channel{ch}, name, true
}

// Verify answers the provider's GET handshake: with hub.mode=subscribe and a hub.verify_token equal to a
// channel's verify token, 200 with hub.challenge as plain text; otherwise 403, also when no verify token is set.
func (rc *Receiver) Verify(w http.ResponseWriter, r *http.Request) {
	chans, _, ok := rc.candidates(w, r)
	q := r.URL.Query()
	mode, token, challenge := q.Get("hub.mode"), q.Get("hub.verify_token"), q.Get("hub.challenge")
	verified := false
	if ok && mode == "subscribe" && len(challenge) <= 1024 {
		for _, ch := range chans {
			if equalSecret(token, ch.VerifyToken) {
				verified = true
			}
		}
	}
	if !verified {
		rc.log.Warn("webhook verification refused", "channel", r.PathValue("channel"), "mode", mode, "remote", r.RemoteAddr)
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = io.WriteString(w, challenge)
}

// Receive accepts a webhook POST: authenticate, make durable and process, then answer with what happened.
// Nothing is stored for a 401, 404, 413 or 400; a 503 means the database could not store it (retry).
func (rc *Receiver) Receive(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	outcome := "accepted"
	defer func() {
		if rc.m != nil {
			rc.m.WebhookRequests.WithLabelValues(outcome).Inc()
			rc.m.WebhookAckSeconds.Observe(time.Since(start).Seconds())
		}
	}()
	chans, name, ok := rc.candidates(w, r)
	if !ok {
		outcome = "unknown_channel"
		writeJSON(w, http.StatusNotFound, ackBody{Error: "no channel named " + name + " is configured"})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, rc.maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			outcome = "too_large"
			writeJSON(w, http.StatusRequestEntityTooLarge, ackBody{Error: "body larger than the limit (WAGATE_MAX_WEBHOOK_BODY)"})
			return
		}
		outcome = "bad_request"
		writeJSON(w, http.StatusBadRequest, ackBody{Error: "could not read the body"})
		return
	}
	auth := authenticate(r, body, chans)
	if len(auth) == 0 {
		outcome = "unauthorized"
		rc.log.Warn("webhook refused: wrong or missing credentials", "channel", name, "remote", r.RemoteAddr)
		writeJSON(w, http.StatusUnauthorized, ackBody{Error: "wrong or missing webhook credentials"})
		return
	}
	if len(bytes.TrimSpace(body)) == 0 {
		outcome = "bad_request"
		writeJSON(w, http.StatusBadRequest, ackBody{Error: "empty body: a webhook carries a JSON object"})
		return
	}
	hook, perr := webhook.Parse(body)
	ev := &store.Event{Channel: name, AuthChannels: auth, Body: body, ContentType: r.Header.Get("Content-Type"), RemoteAddr: r.RemoteAddr}
	res, err := rc.ing.Accept(r.Context(), ev, hook, perr)
	if err != nil {
		outcome = "unavailable"
		w.Header().Set("Retry-After", "5")
		writeJSON(w, http.StatusServiceUnavailable, ackBody{Error: "not stored, try again: " + errText(err)})
		return
	}
	w.Header().Set("X-Wagate-Event-Id", res.EventID)
	writeJSON(w, http.StatusOK, ack(res))
}

func errText(err error) string {
	if errors.Is(err, ErrStopping) {
		return "wagate is shutting down"
	}
	return "the database did not accept the write"
}

func ack(res Result) ackBody {
	c := res.Counts
	b := ackBody{OK: res.State != store.EventFailed, Queued: res.Queued}
	if res.State == store.EventFailed {
		b.Error = res.Error
	} else if res.Error != "" && !res.Queued {
		b.Warning = res.Error
	}
	if c.Received > 0 || c.Statuses == 0 {
		b.Received, b.Stored = &c.Received, &c.Stored
	}
	if c.Statuses > 0 {
		b.Statuses, b.Updated = &c.Statuses, &c.Updated
	}
	if c.Notices > 0 {
		b.Notices = &c.Notices
	}
	return b
}
