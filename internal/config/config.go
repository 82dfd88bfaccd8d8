// Package config holds wagate's one Config: loaded once at startup from flags, then the environment, then an
// optional JSON file, then documented defaults (in that order of precedence), and validated before use.
//
// Every secret is a Secret, which prints and logs as "[redacted]"; every secret variable also accepts a
// NAME_FILE variant holding the path of a file with the value (Docker and Kubernetes secrets). Error messages
// name the variable, flag or file key that holds the bad value and say how to fix it, and never contain a
// secret.
package config

import (
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"
	"time"
)

// ProviderKind names the WhatsApp Business API a channel talks to.
type ProviderKind string

// The provider kinds wagate speaks.
const (
	// ProviderDemo simulates a provider: sends succeed without leaving the machine. Used when no
	// credentials are configured.
	ProviderDemo ProviderKind = "demo"
	// Provider360Dialog is 360dialog's Cloud API (https://waba-v2.360dialog.io), authenticated by a
	// D360-API-KEY per phone number.
	Provider360Dialog ProviderKind = "360dialog"
	// Provider360DialogOnPremise is 360dialog's legacy On-Premise API (https://waba.360dialog.io, /v1 paths).
	Provider360DialogOnPremise ProviderKind = "360dialog-onpremise"
	// ProviderMeta is Meta's Graph Cloud API (https://graph.facebook.com/vNN.N), authenticated by a bearer
	// access token and addressed by phone number id.
	ProviderMeta ProviderKind = "meta"
)

// DefaultMetaAPIVersion is the Graph API version used for Meta channels when none is configured.
const DefaultMetaAPIVersion = "v23.0"

// DefaultMaxWebhookBody is the default limit on an inbound webhook body: 3 MiB.
const DefaultMaxWebhookBody int64 = 3 << 20

// DefaultRatePerSecond is a channel's default send rate: Meta's default throughput of a number.
const DefaultRatePerSecond = 80

// MaxRatePerSecond is the highest configurable send rate: Meta's upgraded throughput of a number.
const MaxRatePerSecond = 1000

// DefaultDBMaxConns is the default PostgreSQL pool size of one instance.
const DefaultDBMaxConns = 10

// MaxMaxWebhookBody is the largest accepted MaxWebhookBody: 64 MiB.
const MaxMaxWebhookBody int64 = 64 << 20

// Valid reports whether k is one of the provider kinds wagate speaks.
func (k ProviderKind) Valid() bool {
	switch k {
	case ProviderDemo, Provider360Dialog, Provider360DialogOnPremise, ProviderMeta:
		return true
	}
	return false
}

// DefaultBaseURL returns the provider's production base URL, or "" for demo and unknown kinds.
func (k ProviderKind) DefaultBaseURL() string {
	switch k {
	case Provider360Dialog:
		return "https://waba-v2.360dialog.io"
	case Provider360DialogOnPremise:
		return "https://waba.360dialog.io"
	case ProviderMeta:
		return "https://graph.facebook.com"
	}
	return ""
}

// Is360Dialog reports whether k is one of 360dialog's APIs (Cloud or On-Premise), which authenticate with
// an API key.
func (k ProviderKind) Is360Dialog() bool {
	return k == Provider360Dialog || k == Provider360DialogOnPremise
}

// Config is wagate's whole configuration. Build it with Load; a Config built by hand must pass Validate
// before use. Printing it (fmt, slog, encoding/json) never shows a secret; Redacted gives the form for
// `wagate serve --print-config`.
type Config struct {
	// Listen is the address the HTTP server listens on, host:port.
	// Env WAGATE_LISTEN (or PORT=3000, meaning ":3000", when WAGATE_LISTEN is unset); flag -listen;
	// file "listen"; default ":8080".
	Listen string

	// PublicURL is the absolute http(s) URL under which providers and browsers reach wagate, without a
	// trailing slash or query, e.g. "https://wa.example.com". Webhook URLs shown to operators start with it.
	// Env WAGATE_PUBLIC_URL; flag -public-url; file "public_url"; default "" (then http://<listen>).
	PublicURL string

	// DataDir is the directory for the SQLite database and stored media.
	// Env WAGATE_DATA_DIR; flag -data-dir; file "data_dir"; default "./data".
	DataDir string

	// DatabaseURL selects PostgreSQL (postgres:// or postgresql:// URL); empty means SQLite in DataDir.
	// Secret, since it may hold a password: only the password is hidden by Redacted.
	// Env WAGATE_DATABASE_URL or WAGATE_DATABASE_URL_FILE; flag -database-url; file "database_url" or
	// "database_url_file"; default "" (SQLite).
	DatabaseURL Secret

	// ConfigFile is the path of the optional JSON config file that was read, "" when none.
	// Env WAGATE_CONFIG; flag -config; default "".
	ConfigFile string

	// LogLevel is the minimum level logged: debug, info, warn or error.
	// Env WAGATE_LOG_LEVEL; flag -log-level; file "log_level"; default "info".
	LogLevel string

	// LogFormat is the log line format: text or json.
	// Env WAGATE_LOG_FORMAT; flag -log-format; file "log_format"; default "text".
	LogFormat string

	// APIToken, when set, is required as `Authorization: Bearer <token>` on the REST API. Secret.
	// Env WAGATE_API_TOKEN or WAGATE_API_TOKEN_FILE; file "api_token" or "api_token_file"; default ""
	// (API open, with a warning).
	APIToken Secret

	// APIOpen chooses whether the API admits requests without any token when APIToken is not set: unset (nil)
	// means open only in demo mode (every channel a demo channel); true opens it even with live channels;
	// false always requires a token (the configured one or one made with `wagate token create`).
	// Env WAGATE_API_OPEN (true/false); default unset.
	APIOpen *bool

	// APIRatePerMinute and APIRatePerHour limit each API token's requests (0: no limit); a token may carry
	// its own figures. Env WAGATE_API_RATE_PER_MINUTE, WAGATE_API_RATE_PER_HOUR; defaults 100 and 1000.
	APIRatePerMinute int
	APIRatePerHour   int

	// TrustedProxies are the addresses (CIDR ranges or single addresses) of reverse proxies whose
	// X-Forwarded-For header names the client, for the limit on failed API authentication per client address.
	// Env WAGATE_TRUSTED_PROXIES (comma-separated, e.g. "10.0.0.0/8,127.0.0.1"); default none (the TCP peer
	// is the client).
	TrustedProxies []netip.Prefix

	// MaxWebhookBody is the largest inbound webhook body accepted, in bytes (1 to 64 MiB).
	// Env WAGATE_MAX_WEBHOOK_BODY (bytes, or with a KiB/MiB suffix: "512KiB", "3MiB"); file
	// "max_webhook_body" (number or such a string); default 3MiB (3145728).
	MaxWebhookBody int64

	// DefaultRecipient is the E.164 number (+ and 7-15 digits) `wagate send` and the demo use when no
	// recipient is given.
	// Env WAGATE_DEFAULT_RECIPIENT (alias WHATSAPP_DEFAULT_RECIPIENT); file "default_recipient"; default "".
	DefaultRecipient string

	// DemoReplies makes the contacts of demo channels answer each message they read, so that a person trying
	// wagate sees a conversation. Env WAGATE_DEMO_REPLIES (true/false); default false.
	DemoReplies bool

	// SendMaxBackoff caps the pause between two attempts of a send that failed for a temporary reason
	// (attempts back off from 1 s, doubling). Env WAGATE_SEND_MAX_BACKOFF (a duration, 1s to 1h); default 5m.
	SendMaxBackoff time.Duration

	// MediaRetention is how long media files are kept; older ones are deleted with their bytes (the message
	// keeps a note). 0 keeps them forever.
	// Env WAGATE_MEDIA_RETENTION (days "90d", a duration "720h", or "off"); default 0 (forever).
	MediaRetention time.Duration

	// Workers is how many jobs (sends, retries, deferred webhooks) one instance works at once. Sends spend
	// most of their time waiting for the provider, so this is well above the core count.
	// Env WAGATE_QUEUE_WORKERS; default 100.
	Workers int

	// TemplateSyncInterval is how often every channel's templates are read from the provider (also at start,
	// on demand and on template status webhooks). Env WAGATE_TEMPLATE_SYNC_INTERVAL (1m to 24h); default 15m.
	TemplateSyncInterval time.Duration

	// DBMaxConns is the size of this instance's PostgreSQL connection pool (1 to 1000); unused on SQLite,
	// which has one writer and four readers. Several instances share the server's max_connections (100 by
	// default): keep instances × DBMaxConns below it.
	// Env WAGATE_DB_MAX_CONNS; default 10.
	DBMaxConns int

	// Subscriber configures event delivery to applications (see Subscriber).
	Subscriber Subscriber

	// Channels are the WhatsApp numbers wagate serves; Channels[0] is the default channel. The default
	// channel comes from the environment (WAGATE_CHANNEL, WAGATE_PROVIDER and the credential variables,
	// see Channel); the config file's "channels" add more, and a file channel with the default channel's
	// name fills in what the environment left empty. When the environment configures no channel at all
	// and the file lists channels, the file's first channel is the default.
	Channels []Channel

	// origin records where each value came from, for error messages; nil for a Config built by hand.
	origin *origins
}

// Channel is one WhatsApp business number and the provider account that serves it. The variables named
// below configure the default channel; channels from the config file use the JSON key named in quotes.
type Channel struct {
	// Name identifies the channel in URLs and the API: ^[a-z0-9][a-z0-9_-]{0,62}$, unique.
	// Env WAGATE_CHANNEL; file "name"; default "default".
	Name string

	// Provider is the API the channel talks to.
	// Env WAGATE_PROVIDER; file "provider"; default inferred: "meta" when an access token is set, else
	// "360dialog" when an API key is set, else "demo".
	Provider ProviderKind

	// PhoneNumberID is Meta's id of the business phone number (required for meta; unique across channels).
	// Env WAGATE_PHONE_NUMBER_ID (alias WHATSAPP_PHONE_NUMBER_ID); file "phone_number_id".
	PhoneNumberID string

	// PhoneNumber is the business number in E.164, e.g. "+34600123456".
	// Env WAGATE_PHONE_NUMBER (alias THREESIXTY_DIALOG_PHONE_NUMBER); file "phone_number".
	PhoneNumber string

	// WABAID is the WhatsApp Business Account id (Meta template management).
	// Env WAGATE_WABA_ID; file "waba_id".
	WABAID string

	// APIKey is the 360dialog D360-API-KEY (required for 360dialog kinds). Secret.
	// Env WAGATE_360DIALOG_API_KEY (aliases WHATSAPP_API_KEY, THREESIXTY_DIALOG_API_KEY), each also as
	// NAME_FILE; file "api_key" or "api_key_file".
	APIKey Secret

	// AccessToken is Meta's system-user access token (required for meta). Secret.
	// Env WAGATE_META_ACCESS_TOKEN (alias WHATSAPP_ACCESS_TOKEN), each also as NAME_FILE; file
	// "access_token" or "access_token_file".
	AccessToken Secret

	// AppSecret is the Meta app secret that checks X-Hub-Signature-256 on webhooks. Secret.
	// Env WAGATE_META_APP_SECRET (alias WHATSAPP_APP_SECRET), each also as NAME_FILE; file "app_secret" or
	// "app_secret_file".
	AppSecret Secret

	// APIVersion is the Graph API version for meta, vNN.N.
	// Env WAGATE_META_API_VERSION (alias WHATSAPP_API_VERSION); file "api_version"; default "v23.0" for
	// meta channels, "" otherwise.
	APIVersion string

	// BaseURL is the provider's base URL, absolute http(s); set it for sandboxes and test servers.
	// Env WAGATE_PROVIDER_BASE_URL; file "base_url"; default per provider: 360dialog
	// https://waba-v2.360dialog.io, 360dialog-onpremise https://waba.360dialog.io, meta
	// https://graph.facebook.com, demo "".
	BaseURL string

	// WebhookSecret authenticates inbound webhooks by the ?token= query parameter (or the secret header
	// registered at 360dialog). Secret.
	// Env WAGATE_WEBHOOK_SECRET (alias WHATSAPP_WEBHOOK_SECRET), each also as NAME_FILE; file
	// "webhook_secret" or "webhook_secret_file".
	WebhookSecret Secret

	// VerifyToken answers Meta's GET hub.verify_token handshake. Secret.
	// Env WAGATE_WEBHOOK_VERIFY_TOKEN (alias WHATSAPP_WEBHOOK_VERIFY_TOKEN), each also as NAME_FILE; file
	// "verify_token" or "verify_token_file".
	VerifyToken Secret

	// RatePerSecond is the most messages per second the rate governor lets this channel send (Meta's default
	// throughput is 80; upgraded numbers reach 1,000). 0 turns pacing off (for tests against a fake provider).
	// Env WAGATE_RATE_PER_SECOND; file "rate_per_second"; default 80.
	RatePerSecond float64

	// rateRaw is RatePerSecond as written, parsed after loading.
	rateRaw string

	// TemplateNamespace is the On-Premise template namespace, sent with templates whose synced definition
	// carries none. Env WAGATE_TEMPLATE_NAMESPACE; file "template_namespace"; default "".
	TemplateNamespace string

	// WindowCheck refuses free-form messages outside the contact's 24-hour window before they are sent (error
	// window_closed). Env WAGATE_WINDOW_CHECK (true/false); file "window_check"; default true.
	WindowCheck bool

	// windowRaw is WindowCheck as written, parsed after loading.
	windowRaw string

	// ReadReceipts says whether marking a conversation read (POST /v1/conversations/{id}/read) also sends a
	// read mark to WhatsApp, so that the contact sees blue ticks; false keeps reads private to wagate.
	// Env WAGATE_READ_RECEIPTS; file "read_receipts" (true or false); default true (nil: true, also in a
	// hand-built Config). Read it with SendsReadReceipts.
	ReadReceipts *bool

	// readReceiptsRaw is ReadReceipts as written, parsed after loading.
	readReceiptsRaw string
}

// SendsReadReceipts reports whether marking a conversation read sends a read mark to WhatsApp (ReadReceipts,
// true when unset).
func (ch *Channel) SendsReadReceipts() bool { return ch.ReadReceipts == nil || *ch.ReadReceipts }

// Demo reports whether the channel's provider is simulated.
func (ch *Channel) Demo() bool { return ch.Provider == ProviderDemo }

// Channel returns the channel with the given name.
func (c *Config) Channel(name string) (*Channel, bool) {
	for i := range c.Channels {
		if c.Channels[i].Name == name {
			return &c.Channels[i], true
		}
	}
	return nil, false
}

// DefaultChannel returns Channels[0], the channel used when a request names none; nil when there are no
// channels (which Validate rejects).
func (c *Config) DefaultChannel() *Channel {
	if len(c.Channels) == 0 {
		return nil
	}
	return &c.Channels[0]
}

// SQLite reports whether the database is the SQLite file in DataDir (DatabaseURL is empty).
func (c *Config) SQLite() bool { return c.DatabaseURL == "" }

// SQLitePath is the path of the SQLite database file: DataDir/wagate.db.
func (c *Config) SQLitePath() string { return filepath.Join(c.DataDir, "wagate.db") }

// SlogLevel returns LogLevel as a slog.Level; info for an unknown level.
func (c *Config) SlogLevel() slog.Level {
	switch c.LogLevel {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// ExternalURL returns PublicURL, or http://<listen> when PublicURL is unset (with "localhost" for an empty or
// wildcard host), without a trailing slash.
func (c *Config) ExternalURL() string {
	if c.PublicURL != "" {
		return strings.TrimRight(c.PublicURL, "/")
	}
	host, port, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return "http://localhost"
	}
	switch host {
	case "", "0.0.0.0", "::", "[::]":
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// WebhookURL returns the URL an operator registers at the provider for ch:
// ExternalURL() + "/webhooks/whatsapp/" + ch.Name. It never contains a secret; see WebhookURLWithToken.
func (c *Config) WebhookURL(ch *Channel) string {
	return c.ExternalURL() + "/webhooks/whatsapp/" + url.PathEscape(ch.Name)
}

// WebhookURLWithToken returns WebhookURL with "?token=<WebhookSecret>" appended when the channel has a
// webhook secret. The result contains a secret: show it only to an authenticated operator, never log it.
func (c *Config) WebhookURLWithToken(ch *Channel) string {
	u := c.WebhookURL(ch)
	if ch.WebhookSecret.IsSet() {
		u += "?token=" + url.QueryEscape(ch.WebhookSecret.Reveal())
	}
	return u
}

// DatabaseMaxConns returns the PostgreSQL pool size (DBMaxConns, or its default for a hand-built Config).
func (c *Config) DatabaseMaxConns() int {
	if c.DBMaxConns <= 0 {
		return DefaultDBMaxConns
	}
	return c.DBMaxConns
}

// DefaultQueueWorkers is the default number of concurrent jobs per instance.
const DefaultQueueWorkers = 100

// QueueWorkers returns Workers, or its default for a hand-built Config.
func (c *Config) QueueWorkers() int {
	if c.Workers <= 0 {
		return DefaultQueueWorkers
	}
	return c.Workers
}

// DefaultSendMaxBackoff is the default cap of the send retry backoff.
const DefaultSendMaxBackoff = 5 * time.Minute

// SendBackoffCap returns SendMaxBackoff, or its default for a hand-built Config.
func (c *Config) SendBackoffCap() time.Duration {
	if c.SendMaxBackoff <= 0 {
		return DefaultSendMaxBackoff
	}
	return c.SendMaxBackoff
}
