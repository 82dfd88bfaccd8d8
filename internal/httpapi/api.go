package httpapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wagate/wagate/internal/health"
	"github.com/wagate/wagate/internal/provider"
	"github.com/wagate/wagate/internal/sender"
	"github.com/wagate/wagate/internal/store"
)

// API serves /v1.
type API struct {
	st       *store.Store
	log      *slog.Logger
	token    [32]byte
	open     bool
	replay   func(ctx context.Context, id string) (store.Event, error)
	now      func() time.Time
	sender   *sender.Service
	channels Channels
}

// Channels lists the configured channels, checks their connection and gives their provider clients.
type Channels interface {
	List() []ChannelInfo
	Check(ctx context.Context, name string) (health.Report, bool)
	// Provider returns the provider client of the channel called name; false when there is no such channel.
	Provider(name string) (provider.Provider, bool)
}

// ChannelInfo describes a channel to API clients; it holds no secret.
type ChannelInfo struct {
	Name          string  `json:"name"`
	Provider      string  `json:"provider"`
	PhoneNumber   string  `json:"phone_number,omitempty"`
	PhoneNumberID string  `json:"phone_number_id,omitempty"`
	WebhookURL    string  `json:"webhook_url"`
	WebhookSecret bool    `json:"webhook_secret_set"`
	AppSecret     bool    `json:"app_secret_set"`
	RatePerSecond float64 `json:"rate_per_second"`
	Default       bool    `json:"default"`
}

// Options are what the API is built from. Store and Log are required; a nil Sender or Channels leaves their
// endpoints out.
type Options struct {
	Store    *store.Store
	Token    string // empty: the API is open (demo)
	Replay   func(ctx context.Context, id string) (store.Event, error)
	Sender   *sender.Service
	Channels Channels
	Log      *slog.Logger
}

// New returns the API. With an empty token the API is open; otherwise every request needs
// Authorization: Bearer <token>.
func New(o Options) *API {
	return &API{st: o.Store, log: o.Log, token: sha256.Sum256([]byte(o.Token)), open: o.Token == "", replay: o.Replay,
		now: time.Now, sender: o.Sender, channels: o.Channels}
}

// Scope is what a token must be allowed to do to call an endpoint.
type Scope string

// The scopes of API tokens.
const (
	ScopeRead  Scope = "read"  // read conversations, messages, contacts, templates, events
	ScopeSend  Scope = "send"  // send and retry messages, upload media, mark read
	ScopeAdmin Scope = "admin" // channels, tokens, subscriptions, replays
)

// route mounts one endpoint that needs scope.
type route func(scope Scope, pattern string, fn handlerFunc)

// Register mounts the endpoints on mux.
func (a *API) Register(mux *http.ServeMux) {
	h := func(scope Scope, pattern string, fn handlerFunc) {
		mux.Handle(pattern, a.auth(scope, adapt(a.log, fn)))
	}
	h(ScopeRead, "GET /v1/conversations", a.conversations)
	h(ScopeRead, "GET /v1/conversations/{id}", a.conversation)
	h(ScopeRead, "GET /v1/conversations/{id}/messages", a.messages)
	h(ScopeRead, "GET /v1/messages/{id}", a.message)
	h(ScopeRead, "GET /v1/events", a.events)
	h(ScopeRead, "GET /v1/events/{id}", a.event)
	h(ScopeAdmin, "POST /v1/events/{id}/replay", a.replayEvent)
	if a.sender != nil {
		h(ScopeSend, "POST /v1/messages", a.sendMessage)
		h(ScopeSend, "POST /v1/messages/{id}/retry", a.retryMessage)
		h(ScopeSend, "POST /v1/media", a.uploadMedia)
	}
	a.registerTemplates(h)
	if a.channels != nil {
		h(ScopeRead, "GET /v1/channels", a.listChannels)
		h(ScopeRead, "GET /v1/channels/{id}/health", a.channelHealth)
		h(ScopeRead, "GET /v1/channels/{id}/profile", a.channelProfile)
		h(ScopeAdmin, "PATCH /v1/channels/{id}/profile", a.updateChannelProfile)
		h(ScopeSend, "POST /v1/channels/{id}/contacts/check", a.checkChannelContacts)
	}
}

// auth admits a request to an endpoint that needs scope, or answers the error authorize gives.
func (a *API) auth(scope Scope, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := a.authorize(r, scope); err != nil {
			writeJSON(w, err.Status, map[string]*Error{"error": err})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// authorize checks the request's bearer token for scope; nil admits it. It compares digests in constant time,
// so the token's length does not leak. Endpoints with their own error envelopes (the compatibility endpoints)
// call it and translate the *Error.
func (a *API) authorize(r *http.Request, _ Scope) *Error {
	if a.open {
		return nil
	}
	given, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	sum := sha256.Sum256([]byte(strings.TrimSpace(given)))
	if !ok || subtle.ConstantTimeCompare(sum[:], a.token[:]) != 1 {
		return ErrUnauthorized
	}
	return nil
}

func limit(r *http.Request) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 500 {
		return 0, ErrBadLimit
	}
	return n, nil
}

func (a *API) conversations(w http.ResponseWriter, r *http.Request) error {
	n, err := limit(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	page, err := a.st.ConversationList(r.Context(), store.ConversationFilter{Channel: q.Get("channel"), Cursor: q.Get("cursor"), Limit: n})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, withWindows(page, a.now()))
	return nil
}

// conversationView adds the window state to a conversation.
type conversationView struct {
	store.Conversation
	WindowOpen bool `json:"window_open"`
}

func withWindows(p store.Page[store.Conversation], now time.Time) store.Page[conversationView] {
	out := store.Page[conversationView]{Items: make([]conversationView, 0, len(p.Items)), Next: p.Next}
	for _, c := range p.Items {
		out.Items = append(out.Items, conversationView{c, c.WindowOpen(now)})
	}
	return out
}

func (a *API) conversation(w http.ResponseWriter, r *http.Request) error {
	c, err := a.st.ConversationGet(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, conversationView{c, c.WindowOpen(a.now())})
	return nil
}

func (a *API) messages(w http.ResponseWriter, r *http.Request) error {
	n, err := limit(r)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	if _, err := a.st.ConversationGet(r.Context(), id); err != nil {
		return err
	}
	page, err := a.st.MessageList(r.Context(), store.MessageFilter{ConversationID: id, Cursor: r.URL.Query().Get("cursor"), Limit: n})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

func (a *API) message(w http.ResponseWriter, r *http.Request) error {
	m, err := a.st.MessageGet(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

func (a *API) events(w http.ResponseWriter, r *http.Request) error {
	n, err := limit(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	state := q.Get("state")
	switch state {
	case "", store.EventPending, store.EventProcessed, store.EventFailed:
	default:
		return ErrBadState
	}
	page, err := a.st.EventList(r.Context(), store.EventFilter{State: state, Cursor: q.Get("cursor"), Limit: n})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

// eventView shows an event with its body: as JSON when it is JSON, else as text.
type eventView struct {
	store.Event
	Body     json.RawMessage `json:"body,omitempty"`
	BodyText string          `json:"body_text,omitempty"`
}

func (a *API) event(w http.ResponseWriter, r *http.Request) error {
	ev, err := a.st.EventGet(r.Context(), nil, r.PathValue("id"))
	if err != nil {
		return err
	}
	v := eventView{Event: ev}
	if json.Valid(ev.Body) {
		v.Body = ev.Body
	} else if utf8.Valid(ev.Body) {
		v.BodyText = string(ev.Body)
	} else {
		v.BodyText = strconv.QuoteToASCII(string(ev.Body))
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (a *API) replayEvent(w http.ResponseWriter, r *http.Request) error {
	ev, err := a.replay(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ev)
	return nil
}
