package httpapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/wagate/wagate/internal/health"
	"github.com/wagate/wagate/internal/media"
	"github.com/wagate/wagate/internal/provider"
	"github.com/wagate/wagate/internal/sender"
	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/subscriber"
)

// API serves /v1.
type API struct {
	st       *store.Store
	log      *slog.Logger
	replay   func(ctx context.Context, id string) (store.Event, error)
	now      func() time.Time
	sender   *sender.Service
	channels Channels
	routes   []Route
	access   *access
	receipts func(channel string) bool
	media    *media.Service // nil: uploads go straight to the provider
	subs     *subscriber.Service
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
	// Access configures stored API tokens and request limits; its zero value leaves the API open when Token
	// is empty.
	Access AccessOptions
	// ReadReceipts reports whether marking a conversation read sends a read mark to WhatsApp on the channel;
	// nil means always.
	ReadReceipts func(channel string) bool
	// Subscriptions manages event subscriptions; nil leaves their endpoints out.
	Subscriptions *subscriber.Service
}

// New returns the API. With an empty token the API is open; otherwise every request needs
// Authorization: Bearer <token>.
func New(o Options) *API {
	a := &API{st: o.Store, log: o.Log, replay: o.Replay,
		now: time.Now, sender: o.Sender, channels: o.Channels, receipts: o.ReadReceipts, subs: o.Subscriptions}
	a.access = newAccess(o.Store, o.Log, o.Token, o.Access, a.now)
	return a
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
		a.routes = append(a.routes, Route{Pattern: pattern, Scope: scope})
		mux.Handle(pattern, a.auth(scope, adapt(a.log, a.st, fn)))
	}
	a.registerDocs(mux)
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
	a.registerCompat(mux)
	a.registerAccess(h)
	a.registerMedia(h)
	a.registerSubscriptions(h)
}

// auth admits a request to an endpoint that needs scope, or answers the error authorize gives.
func (a *API) auth(scope Scope, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := a.authorize(r, scope); err != nil {
			SetRetryAfter(w, err)
			writeJSON(w, err.Status, map[string]*Error{"error": err})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// authorize checks the request's bearer token for scope; nil admits it. The configured token has every scope;
// stored tokens are looked up by hash and limited per token; failed attempts are limited per client address.
// Missing or wrong token: ErrUnauthorized (401); missing scope: ErrForbidden (403); over a limit: a copy of
// ErrRateLimited or ErrAuthThrottled (429) whose RetryAfter goes in the Retry-After header (SetRetryAfter).
// Endpoints with their own error envelopes (the compatibility endpoints) call it and translate the *Error.
func (a *API) authorize(r *http.Request, scope Scope) *Error {
	return a.access.check(r, scope)
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
	f, ferr := conversationQuery(r.URL.Query())
	if ferr != nil {
		return ferr
	}
	page, err := a.st.ConversationSearch(r.Context(), f)
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
	view, err := a.viewMessages(r.Context(), page)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, view)
	return nil
}

func (a *API) message(w http.ResponseWriter, r *http.Request) error {
	m, err := a.st.MessageGet(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	v, err := a.viewMessage(r.Context(), m)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (a *API) events(w http.ResponseWriter, r *http.Request) error {
	f, ferr := eventQuery(r.URL.Query())
	if ferr != nil {
		return ferr
	}
	page, err := a.st.EventSearch(r.Context(), f)
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
