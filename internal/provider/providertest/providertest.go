package providertest

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Kind names the protocol the fake speaks; the values match wagate's provider kinds.
type Kind string

// The three provider protocols.
const (
	// KindMeta is Meta's Cloud API on graph.facebook.com: Bearer token, /{version}/{phone-number-id}/... paths.
	KindMeta Kind = "meta"
	// Kind360Dialog is 360dialog's Cloud API front (waba-v2): D360-API-KEY, Meta's bodies, no version or number
	// in the path.
	Kind360Dialog Kind = "360dialog"
	// Kind360DialogOnPremise is 360dialog's legacy On-Premise API (waba): D360-API-KEY, /v1/... paths, bodies
	// without messaging_product, root-shaped webhooks.
	Kind360DialogOnPremise Kind = "360dialog-onpremise"
)

// cloud reports whether the kind speaks the Cloud API bodies and webhook shape.
func (k Kind) cloud() bool { return k == KindMeta || k == Kind360Dialog }

// Defaults used when the corresponding Options field is empty.
const (
	DefaultPhoneNumberID = "1234567890"
	DefaultWABAID        = "9876543210"
	// DefaultAppID and DefaultAppName describe the Meta app that GET /{waba}/subscribed_apps lists.
	DefaultAppID   = "1122334455"
	DefaultAppName = "wagate-test"
	// DefaultReceiptTimeout bounds one receipt POST.
	DefaultReceiptTimeout = 5 * time.Second
)

// Options configure a fake provider. Only Kind and the credential of that kind are required.
type Options struct {
	// Kind is the protocol to speak.
	Kind Kind
	// APIKey is the D360-API-KEY the 360dialog kinds expect (required for them).
	APIKey string
	// AccessToken is the Bearer token Meta expects (required for KindMeta).
	AccessToken string
	// PhoneNumberID is the phone number id in Meta's paths and in Cloud webhooks' metadata (default
	// DefaultPhoneNumberID).
	PhoneNumberID string
	// WABAID is the WhatsApp Business Account id in Meta's paths and Cloud webhooks' entry[].id (default
	// DefaultWABAID).
	WABAID string
	// APIVersion is the Graph version Meta paths must carry, e.g. "v21.0"; "" accepts any vNN.N.
	APIVersion string

	// WebhookURL is where receipts are posted after each accepted send; "" posts none (until a 360dialog client
	// registers a URL with POST /v1/configs/webhook).
	WebhookURL string
	// WebhookSecret is sent as X-Wagate-Webhook-Secret on the 360dialog kinds' posts when set (it is the
	// initially registered custom header).
	WebhookSecret string
	// AppSecret signs Meta's posts with X-Hub-Signature-256 when set.
	AppSecret string
	// Receipts are the statuses posted for each accepted send, in order; nil means sent, delivered, read, and
	// an empty non-nil slice posts none. "failed" carries errors[] with FailedCode.
	Receipts []string
	// ReceiptDelay is the pause between two receipts of one message; the first is posted at once. Receipts are
	// always posted asynchronously, possibly before the send's answer reached the client (as on the real
	// providers).
	ReceiptDelay time.Duration
	// FailedCode is the error code of a "failed" receipt (default 131026 on the Cloud kinds, 1013 On-Premise).
	FailedCode int
	// ReceiptTimeout bounds each receipt POST (default DefaultReceiptTimeout).
	ReceiptTimeout time.Duration

	// History caps how many Sent, Request and PostedWebhook records are kept (the most recent); 0 keeps all.
	// Counters (SentCount, WaitSent, WaitPosted) always count everything. Benchmarks should set it.
	History int
	// Now is the clock for timestamps, media URL expiry and the throughput window (default time.Now).
	Now func() time.Time
}

// Sent is one accepted message.
type Sent struct {
	ID   string // the provider message id answered (wamid on the Cloud kinds)
	To   string // the recipient as sent
	WAID string // the recipient's digits, as answered in contacts[].wa_id
	Type string
	Body []byte // the raw request body
	At   time.Time
}

// Request is one HTTP request the fake answered (or dropped).
type Request struct {
	Method   string
	Path     string
	Query    string
	Endpoint string // the fault class: send, read, media, health, profile, webhook, templates, or ""
	Header   http.Header
	Body     []byte
	Status   int // the HTTP status answered; 0 when the connection was dropped or the client gave up
	At       time.Time
}

// PostedWebhook is one webhook POST attempt the fake made to wagate.
type PostedWebhook struct {
	URL       string
	Header    http.Header
	Body      []byte
	MessageID string // the message the webhook is about
	Receipt   string // the status it reports (sent, delivered, read, failed), "" for inbound messages
	Attempt   int    // 1 for the first try
	Status    int    // the HTTP status wagate answered, 0 on a network error
	Err       string // the network error, if any
	At        time.Time
}

// MediaFile is a media file the fake holds: uploaded by a client or added with AddMedia.
type MediaFile struct {
	ID       string
	Data     []byte
	MimeType string
	Filename string
	SHA256   string // lowercase hex of Data
	At       time.Time
}

// HealthState is what the health, phone number and (On-Premise) health endpoints report. It does not change
// how sends are answered: inject a Fault for that.
type HealthState struct {
	VerifiedName       string // default "Wagate Test"
	DisplayPhoneNumber string // as Meta shows it, default "+1 555-000-1111"; webhooks carry its digits
	QualityRating      string // GREEN, YELLOW, RED, UNKNOWN (default GREEN)
	Throughput         string // throughput.level: STANDARD, HIGH, NOT_APPLICABLE (default STANDARD)
	CanSendMessage     string // AVAILABLE, LIMITED, BLOCKED (default AVAILABLE)
	Errors             []HealthError
	// GatewayStatus is On-Premise's: connected (default), connecting, disconnected, uninitialized, unregistered.
	GatewayStatus string
}

// HealthError is one entry of a health_status entity's errors.
type HealthError struct {
	Code             int
	Description      string
	PossibleSolution string
}

// Profile is the business profile the profile endpoints read and update.
type Profile struct {
	About             string   `json:"about,omitempty"`
	Address           string   `json:"address,omitempty"`
	Description       string   `json:"description,omitempty"`
	Email             string   `json:"email,omitempty"`
	ProfilePictureURL string   `json:"profile_picture_url,omitempty"`
	Websites          []string `json:"websites,omitempty"`
	Vertical          string   `json:"vertical,omitempty"`
}

// Template is an approved (or paused, disabled...) message template the fake knows.
type Template struct {
	ID       string // default a random numeric id
	Name     string
	Language string // e.g. en_US
	Category string // MARKETING, UTILITY, AUTHENTICATION (default UTILITY)
	Status   string // APPROVED (default), PAUSED, DISABLED, PENDING, REJECTED
	// Components is the definition as the list shows it (default: a body without placeholders).
	Components json.RawMessage
	// ParameterFormat is POSITIONAL or NAMED; "" leaves the field out of the list, as older accounts do.
	ParameterFormat string
}

// Server is a running fake provider. All methods are safe for concurrent use.
type Server struct {
	opts   Options
	srv    *httptest.Server
	client *http.Client
	key    []byte // signs media URLs

	closing   chan struct{} // closed by Close: releases hanging requests
	closeOnce sync.Once
	postCtx   context.Context // cancelled by Close: stops receipt posting
	postStop  context.CancelFunc
	posters   sync.WaitGroup
	inflight  atomic.Int64 // requests being answered

	mu         sync.Mutex
	closed     bool
	changed    chan struct{} // closed and replaced whenever sent/posted counters change
	sent       []Sent
	sentCount  int
	requests   []Request
	posted     []PostedWebhook
	postedOK   int
	reads      []string
	inbound    map[string]bool
	next       []*pendingFault
	persistent []persistentFault
	throughput int
	sendTimes  []time.Time
	media      map[string]*MediaFile
	mf         mediaFaults
	uploaded   []MediaFile
	health     HealthState
	profile    Profile
	hookURL    string
	hookHdr    map[string]string
	override   bool // Meta: hookURL came from override_callback_uri
	subscribed bool // Meta: the app is subscribed to the WABA (webhooks are posted)
	templates  []Template

	invalidContacts map[string]bool // On-Premise contacts check: digits answered invalid
}

var versionRE = regexp.MustCompile(`^v[0-9]+\.[0-9]+$`)

// New starts a fake provider on 127.0.0.1 and closes it when the test ends. It fails the test when o is
// invalid.
func New(t testing.TB, o Options) *Server {
	t.Helper()
	s, err := Start(o)
	if err != nil {
		t.Fatalf("providertest: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Start starts a fake provider on 127.0.0.1; the caller must Close it. It is New without a testing.TB, for
// benchmark binaries.
func Start(o Options) (*Server, error) {
	switch o.Kind {
	case KindMeta:
		if o.AccessToken == "" {
			return nil, errors.New("start: AccessToken is required for kind meta")
		}
	case Kind360Dialog, Kind360DialogOnPremise:
		if o.APIKey == "" {
			return nil, fmt.Errorf("start: APIKey is required for kind %s", o.Kind)
		}
	default:
		return nil, fmt.Errorf("start: unknown kind %q (want meta, 360dialog or 360dialog-onpremise)", o.Kind)
	}
	if o.APIVersion != "" && !versionRE.MatchString(o.APIVersion) {
		return nil, fmt.Errorf("start: APIVersion %q is not of the form vNN.N", o.APIVersion)
	}
	if o.PhoneNumberID == "" {
		o.PhoneNumberID = DefaultPhoneNumberID
	}
	if o.WABAID == "" {
		o.WABAID = DefaultWABAID
	}
	if o.Receipts == nil {
		o.Receipts = []string{"sent", "delivered", "read"}
	} else {
		o.Receipts = append([]string(nil), o.Receipts...)
	}
	if o.FailedCode == 0 {
		o.FailedCode = 131026
		if !o.Kind.cloud() {
			o.FailedCode = 1013
		}
	}
	if o.ReceiptTimeout <= 0 {
		o.ReceiptTimeout = DefaultReceiptTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)

	s := &Server{
		opts:    o,
		key:     key,
		closing: make(chan struct{}),
		changed: make(chan struct{}),
		inbound: map[string]bool{},
		media:   map[string]*MediaFile{},
		health:  HealthState{}.withDefaults(),
		profile: Profile{
			About:       "Hello from the fake provider",
			Description: "A fake WhatsApp Business provider for wagate's tests",
			Vertical:    "OTHER",
		},
		hookURL:    o.WebhookURL,
		subscribed: true,
	}
	if o.WebhookSecret != "" && o.Kind != KindMeta {
		s.hookHdr = map[string]string{"X-Wagate-Webhook-Secret": o.WebhookSecret}
	}
	s.postCtx, s.postStop = context.WithCancel(context.Background())
	s.client = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start: listen on 127.0.0.1: %w", err)
	}
	s.srv = httptest.NewUnstartedServer(s)
	s.srv.Listener.Close()
	s.srv.Listener = ln
	s.srv.Start()
	return s, nil
}

// URL is the base URL to configure as the channel's BaseURL, e.g. http://127.0.0.1:41234: the equivalent of
// https://graph.facebook.com (clients add /{version}), https://waba-v2.360dialog.io or https://waba.360dialog.io.
func (s *Server) URL() string { return s.srv.URL }

// Kind returns the protocol the server speaks.
func (s *Server) Kind() Kind { return s.opts.Kind }

// PhoneNumberID returns the phone number id in use (Options.PhoneNumberID or its default).
func (s *Server) PhoneNumberID() string { return s.opts.PhoneNumberID }

// WABAID returns the WhatsApp Business Account id in use (Options.WABAID or its default).
func (s *Server) WABAID() string { return s.opts.WABAID }

// Close releases hanging requests, stops posting receipts, shuts the server down and waits for both. It may
// be called more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		s.postStop()
		close(s.closing)
		s.srv.Close()
		s.posters.Wait()
		s.client.CloseIdleConnections()
	})
}

// Sent returns every accepted message, oldest first (the most recent Options.History when set).
func (s *Server) Sent() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Sent(nil), s.sent...)
}

// SentCount is the number of accepted messages since the start.
func (s *Server) SentCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sentCount
}

// Requests returns every request answered, oldest first (the most recent Options.History when set). Header
// and Body are copies.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Posted returns every webhook POST attempt, oldest first (the most recent Options.History when set).
func (s *Server) Posted() []PostedWebhook {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]PostedWebhook(nil), s.posted...)
}

// Reads returns the message ids marked as read, in order.
func (s *Server) Reads() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.reads...)
}

// WaitSent blocks until at least n messages were accepted since the start, or ctx is done.
func (s *Server) WaitSent(ctx context.Context, n int) error {
	return s.wait(ctx, func() bool { return s.sentCount >= n }, func() string {
		return fmt.Sprintf("wait for %d sent messages: %d so far", n, s.sentCount)
	})
}

// WaitPosted blocks until at least n webhook posts were answered 2xx since the start, or ctx is done.
func (s *Server) WaitPosted(ctx context.Context, n int) error {
	return s.wait(ctx, func() bool { return s.postedOK >= n }, func() string {
		return fmt.Sprintf("wait for %d answered webhooks: %d so far", n, s.postedOK)
	})
}

// wait polls cond (called with s.mu held) whenever the counters change.
func (s *Server) wait(ctx context.Context, cond func() bool, desc func() string) error {
	for {
		s.mu.Lock()
		if cond() {
			s.mu.Unlock()
			return nil
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			s.mu.Lock()
			d := desc()
			s.mu.Unlock()
			return fmt.Errorf("providertest: %s: %w", d, ctx.Err())
		}
	}
}

// notifyLocked wakes waiters; s.mu must be held.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// keep trims a history slice to Options.History.
func keep[T any](list []T, limit int) []T {
	if limit > 0 && len(list) > limit {
		n := copy(list, list[len(list)-limit:])
		clear(list[n:])
		list = list[:n]
	}
	return list
}

// AddInbound registers ids of inbound messages, so that marking them as read succeeds.
func (s *Server) AddInbound(ids ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		s.inbound[id] = true
	}
}

// SetHealth replaces the reported health. Empty string fields take their defaults (see HealthState).
func (s *Server) SetHealth(h HealthState) {
	h = h.withDefaults()
	h.Errors = append([]HealthError(nil), h.Errors...)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.health = h
}

// withDefaults fills empty fields.
func (h HealthState) withDefaults() HealthState {
	def := func(v *string, d string) {
		if *v == "" {
			*v = d
		}
	}
	def(&h.VerifiedName, "Wagate Test")
	def(&h.DisplayPhoneNumber, "+1 555-000-1111")
	def(&h.QualityRating, "GREEN")
	def(&h.Throughput, "STANDARD")
	def(&h.CanSendMessage, "AVAILABLE")
	def(&h.GatewayStatus, "connected")
	return h
}

// SetProfile replaces the business profile.
func (s *Server) SetProfile(p Profile) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p.Websites = append([]string(nil), p.Websites...)
	s.profile = p
}

// Profile returns the business profile, with the updates clients posted.
func (s *Server) Profile() Profile {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.profile
	p.Websites = append([]string(nil), p.Websites...)
	return p
}

// AddTemplate makes templates known. Once any is known, Cloud sends of templates are checked against them.
func (s *Server) AddTemplate(ts ...Template) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range ts {
		if t.Category == "" {
			t.Category = "UTILITY"
		}
		if t.Status == "" {
			t.Status = "APPROVED"
		}
		if t.ID == "" {
			t.ID = newMediaID()
		}
		s.templates = append(s.templates, t)
	}
}

// WebhookConfig returns where webhooks are posted: for the 360dialog kinds what was registered with
// /v1/configs/webhook (initially Options.WebhookURL with the X-Wagate-Webhook-Secret header); for Meta the
// override_callback_uri posted to subscribed_apps, else Options.WebhookURL, and no headers.
func (s *Server) WebhookConfig() (url string, headers map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := make(map[string]string, len(s.hookHdr))
	for k, v := range s.hookHdr {
		h[k] = v
	}
	return s.hookURL, h
}
