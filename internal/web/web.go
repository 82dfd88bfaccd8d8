// Package web is wagate's web UI for staff and operators: server-rendered pages (html/template), htmx for
// partial updates, server-sent events for live changes, all assets embedded in the binary. Users sign in with
// a password; every form carries a CSRF token; directors administer, agents read and answer.
package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/wagate/wagate/internal/auth"
	"github.com/wagate/wagate/internal/health"
	"github.com/wagate/wagate/internal/live"
	"github.com/wagate/wagate/internal/media"
	"github.com/wagate/wagate/internal/sender"
	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/subscriber"
)

// Role is what a user may do.
type Role string

// The roles. A director may do everything an agent may.
const (
	RoleDirector Role = store.DirectorRole // administers channels, users and tokens, runs the connection check
	RoleAgent    Role = "agent"            // reads and answers conversations
)

// Roles lists the roles.
var Roles = []Role{RoleDirector, RoleAgent}

// ValidRole reports whether r names a role.
func ValidRole(r string) bool { return r == string(RoleDirector) || r == string(RoleAgent) }

// Channel describes a channel to the UI; it holds no secret except WebhookURLWithToken, shown to directors only.
type Channel struct {
	Name                string
	Provider            string
	Demo                bool
	PhoneNumber         string
	PhoneNumberID       string
	WebhookURL          string
	WebhookURLWithToken string
	WebhookSecret       bool
	AppSecret           bool
	VerifyToken         bool
	IsMeta              bool
	RatePerSecond       float64
	ReadReceipts        bool
	WindowCheck         bool
	Default             bool
}

// Channels is the UI's view of the configured channels.
type Channels interface {
	List() []Channel
	// Check runs the connection check of the channel called name; false when there is no such channel.
	Check(ctx context.Context, name string) (health.Report, bool)
}

// Options are what the UI is built from. Store, Channels and Log are required.
type Options struct {
	Store    *store.Store
	Sender   *sender.Service
	Channels Channels
	Media    *media.Service
	// Replay processes a stored provider webhook again.
	Replay func(ctx context.Context, id string) (store.Event, error)
	// Subscriptions replays deliveries to applications; nil leaves that out.
	Subscriptions *subscriber.Service
	// Live carries committed changes to open pages.
	Live *live.Hub
	// Demo says every channel is simulated: the sign-in page offers the demo director, and every page says so.
	Demo bool
	// SecureCookies marks cookies Secure (wagate is reached over HTTPS).
	SecureCookies bool
	// TrustedProxies are the peers whose X-Forwarded-For names the client (for the sign-in rate limit).
	TrustedProxies []netip.Prefix
	// ReadReceipts reports whether opening a conversation sends a read mark to WhatsApp on its channel.
	ReadReceipts func(channel string) bool
	// PasswordIterations is the work factor of new password hashes; 0 is auth.PasswordIterations.
	PasswordIterations int
	// SessionTTL is how long an idle session lasts; 0 is 12 hours.
	SessionTTL time.Duration
	Log        *slog.Logger
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// Handler serves the UI.
type Handler struct {
	o       Options
	st      *store.Store
	log     *slog.Logger
	now     func() time.Time
	pages   *pages
	langs   *catalogue
	logins  *auth.FailureLimiter
	setupMu sync.Mutex // guards setup and swept
	swept   time.Time  // when expired sessions were last deleted
	setup   string     // the one-time code that creates the first director; "" once a user exists
	routes  []Route
	started time.Time
}

// Route is one UI endpoint and the role it needs ("" for public ones).
type Route struct {
	Pattern string
	Role    Role
}

// New builds the UI. It fails when its templates or translations are broken.
func New(o Options) (*Handler, error) {
	if o.Store == nil || o.Channels == nil || o.Log == nil {
		return nil, errors.New("web: Store, Channels and Log are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.PasswordIterations <= 0 {
		o.PasswordIterations = auth.PasswordIterations
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = 12 * time.Hour
	}
	if o.Live == nil {
		o.Live = live.NewHub()
	}
	langs, err := loadCatalogue()
	if err != nil {
		return nil, err
	}
	p, err := loadPages()
	if err != nil {
		return nil, err
	}
	h := &Handler{o: o, st: o.Store, log: o.Log, now: o.Now, pages: p, langs: langs, started: o.Now(),
		logins: auth.NewFailureLimiter(auth.Limit{N: 10, Per: 15 * time.Minute}, o.Now)}
	return h, nil
}

// handlerFunc is a UI handler: it writes the page or returns an error, which is rendered for the user.
type handlerFunc func(w http.ResponseWriter, r *http.Request, s *Session) error

// Register mounts the UI on mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.Handle("GET /static/", staticHandler())
	h.public(mux, "GET /login", h.loginPage)
	h.public(mux, "POST /login", h.loginSubmit)
	h.public(mux, "POST /login/demo", h.loginDemo)
	h.public(mux, "GET /setup", h.setupPage)
	h.public(mux, "POST /setup", h.setupSubmit)
	h.public(mux, "GET /lang/{code}", h.switchLanguage)
	h.page(mux, RoleAgent, "POST /logout", h.logout)
	h.page(mux, RoleAgent, "GET /ui/live", h.liveStream)
	h.registerInbox(mux)
	h.registerContacts(mux)
	h.registerTemplates(mux)
	h.registerSettings(mux)
	h.registerActivity(mux)
	h.registerDashboard(mux)
}

// Routes lists the UI's endpoints with the role each needs.
func (h *Handler) Routes() []Route { return h.routes }
