package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

var (
	channelNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)
	e164RE        = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	apiVersionRE  = regexp.MustCompile(`^v[0-9]+\.[0-9]+$`)
	providerIDRE  = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)
)

// Validate reports every problem of the Config at once, joined with errors.Join; nil when it is usable.
// Each problem names the variable, flag or config-file key that holds the bad value, says what is wrong
// and how to fix it, and never contains a secret.
//
// A Config built by hand must be complete: Validate does not fill defaults (Load does), so a non-demo
// channel needs its BaseURL (see ProviderKind.DefaultBaseURL) and a Meta channel its APIVersion.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }

	if reason := checkHostPort(c.Listen); reason != "" {
		bad("%s: %q is not host:port (%s): use e.g. \":8080\" or \"127.0.0.1:8080\"", c.topSrc("listen"), c.Listen, reason)
	}
	if c.PublicURL != "" {
		if reason, show := checkHTTPURL(c.PublicURL); reason != "" {
			bad("%s: %s: use this server's public URL, e.g. https://wa.example.com", c.topSrc("public_url"), describeURL(c.PublicURL, reason, show))
		}
	}
	if c.DataDir == "" {
		bad("%s is empty: set it to a writable directory, e.g. ./data", c.topSrc("data_dir"))
	}
	if c.DatabaseURL != "" {
		if reason := checkDatabaseURL(c.DatabaseURL.Reveal()); reason != "" {
			bad("%s: %s: use postgres://user:password@host:5432/wagate, or leave it unset to use SQLite in %s", c.topSrc("database_url"), reason, c.topSrc("data_dir"))
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("%s: %q is not a log level: use debug, info, warn or error", c.topSrc("log_level"), c.LogLevel)
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		bad("%s: %q is not a log format: use text or json", c.topSrc("log_format"), c.LogFormat)
	}
	if c.MaxWebhookBody <= 0 || c.MaxWebhookBody > MaxMaxWebhookBody {
		bad("%s: %d bytes is out of range: use 1 byte to 64MiB, e.g. 3MiB", c.topSrc("max_webhook_body"), c.MaxWebhookBody)
	}
	if c.DBMaxConns < 0 || c.DBMaxConns > 1000 {
		bad("%s: %d is out of range: use 1 to 1000", c.topSrc("db_max_conns"), c.DBMaxConns)
	}
	if c.DefaultRecipient != "" && !e164RE.MatchString(c.DefaultRecipient) {
		bad("%s: %q is not an E.164 number: write + then the country code and number, digits only, e.g. +34600123456", c.topSrc("default_recipient"), c.DefaultRecipient)
	}

	if len(c.Channels) == 0 {
		bad("no channel is configured: set WAGATE_PROVIDER and its credentials, or list \"channels\" in the config file")
	}
	names := map[string]int{}
	pnids := map[string]int{}
	for i := range c.Channels {
		ch := &c.Channels[i]
		co := c.chanOrigin(i)
		src := func(key string) string { return c.chanSrc(i, key) }
		set := func(key string) string { return describeSet(co, c.filePath(), key) }

		if !channelNameRE.MatchString(ch.Name) {
			bad("%s: %q is not a valid channel name: use 1 to 63 lowercase letters, digits, '-' or '_', starting with a letter or digit, e.g. \"sales\"", src("name"), ch.Name)
		} else if j, dup := names[ch.Name]; dup {
			bad("channel name %q is used twice (%s and %s): give each channel its own name", ch.Name, c.chanSrc(j, "name"), src("name"))
		} else {
			names[ch.Name] = i
		}

		switch {
		case !ch.Provider.Valid():
			bad("%s: %q is not a provider: use demo, 360dialog, 360dialog-onpremise or meta", src("provider"), ch.Provider)
		case ch.Provider == ProviderMeta:
			if ch.AccessToken == "" {
				bad("%s is required for provider \"meta\" on channel %q: set it to a Meta system-user access token with the whatsapp_business_messaging permission", set("access_token"), ch.Name)
			}
			if ch.PhoneNumberID == "" {
				bad("%s is required for provider \"meta\" on channel %q: set it to the phone number id from Meta's WhatsApp Manager (API setup), not the phone number", set("phone_number_id"), ch.Name)
			}
			if ch.APIVersion == "" {
				bad("%s is empty on channel %q: set a Graph API version, e.g. %s", set("api_version"), ch.Name, DefaultMetaAPIVersion)
			}
		case ch.Provider.Is360Dialog():
			if ch.APIKey == "" {
				bad("%s is required for provider %q on channel %q: set it to this number's D360-API-KEY from the 360dialog hub", set("api_key"), ch.Provider, ch.Name)
			}
		}
		if ch.Provider.Valid() && !ch.Demo() && ch.BaseURL == "" {
			bad("%s is empty on channel %q: leave it unset for the default %s", set("base_url"), ch.Name, ch.Provider.DefaultBaseURL())
		}
		if ch.BaseURL != "" {
			if reason, show := checkHTTPURL(ch.BaseURL); reason != "" {
				bad("%s: %s: use the provider's API root, e.g. %s", src("base_url"), describeURL(ch.BaseURL, reason, show), exampleBaseURL(ch.Provider))
			}
		}
		if ch.APIVersion != "" && !apiVersionRE.MatchString(ch.APIVersion) {
			bad("%s: %q is not a Graph API version: use vNN.N, e.g. %s", src("api_version"), ch.APIVersion, DefaultMetaAPIVersion)
		}
		if ch.PhoneNumberID != "" {
			switch {
			case strings.HasPrefix(ch.PhoneNumberID, "+"):
				bad("%s: %q looks like a phone number: set the phone number id from Meta's WhatsApp Manager (API setup), and the number itself in %s", src("phone_number_id"), ch.PhoneNumberID, set("phone_number"))
			case !providerIDRE.MatchString(ch.PhoneNumberID):
				bad("%s: %q is not a phone number id: use the numeric id from Meta's WhatsApp Manager (API setup)", src("phone_number_id"), ch.PhoneNumberID)
			default:
				if j, dup := pnids[ch.PhoneNumberID]; dup {
					bad("%s: phone number id %q is used by channels %q and %q: each number belongs to exactly one channel", src("phone_number_id"), ch.PhoneNumberID, c.Channels[j].Name, ch.Name)
				} else {
					pnids[ch.PhoneNumberID] = i
				}
			}
		}
		if ch.PhoneNumber != "" && !e164RE.MatchString(ch.PhoneNumber) {
			bad("%s: %q is not an E.164 number: write + then the country code and number, digits only, e.g. +34600123456", src("phone_number"), ch.PhoneNumber)
		}
		if ch.WABAID != "" && !providerIDRE.MatchString(ch.WABAID) {
			bad("%s: %q is not a WhatsApp Business Account id: use the numeric id from Meta's WhatsApp Manager", src("waba_id"), ch.WABAID)
		}
	}
	return errors.Join(errs...)
}

// Warnings returns the human warnings an operator should see at startup and on the readiness page:
// settings that work but are unsafe or probably not what was meant. They never contain a secret.
func (c *Config) Warnings() []string {
	var w []string
	if c.origin != nil {
		w = append(w, c.origin.warnings...)
	}
	if c.APIIsOpen() {
		w = append(w, "API is open: WAGATE_API_TOKEN is not set: anyone who can reach wagate can read and send messages; set it to a long random token")
	}
	live, meta, d360 := false, false, false
	for i := range c.Channels {
		ch := &c.Channels[i]
		co := c.chanOrigin(i)
		short := func(key string) string { return shortSet(co, c.filePath(), key) }
		if ch.Demo() {
			if !ch.APIKey.IsSet() && !ch.AccessToken.IsSet() {
				w = append(w, fmt.Sprintf("demo mode: channel %q has no provider credentials; sends are simulated", ch.Name))
			} else {
				w = append(w, fmt.Sprintf("channel %q uses the demo provider; sends are simulated and its credentials are not used", ch.Name))
			}
		} else {
			live = true
		}
		switch {
		case ch.Provider == ProviderMeta:
			meta = true
			if !ch.AppSecret.IsSet() {
				w = append(w, fmt.Sprintf("channel %q: Meta channel without app secret: signatures are not checked; set %s", ch.Name, short("app_secret")))
				if !ch.WebhookSecret.IsSet() {
					w = append(w, fmt.Sprintf("channel %q: webhook endpoint is open: no webhook secret (%s) is set", ch.Name, short("webhook_secret")))
				}
			}
			if !ch.VerifyToken.IsSet() {
				w = append(w, fmt.Sprintf("channel %q: no verify token (%s) is set: Meta cannot verify the callback URL", ch.Name, short("verify_token")))
			}
		default:
			if ch.Provider.Is360Dialog() {
				d360 = true
			}
			if !ch.WebhookSecret.IsSet() {
				w = append(w, fmt.Sprintf("channel %q: webhook endpoint is open: no webhook secret (%s) is set", ch.Name, short("webhook_secret")))
			}
		}
	}
	switch {
	case live && c.PublicURL == "":
		w = append(w, fmt.Sprintf("%s is not set: the webhook URLs shown start with %s, which providers cannot reach; set it to this server's public https URL", c.topSrc("public_url"), c.ExternalURL()))
	case c.PublicURL != "":
		u, err := url.Parse(c.PublicURL)
		if err != nil {
			break
		}
		if meta && u.Scheme != "https" {
			w = append(w, fmt.Sprintf("%s is %q: Meta only calls https callback URLs", c.topSrc("public_url"), c.PublicURL))
		}
		if d360 && (u.Port() != "" || strings.Contains(u.Hostname(), "_")) {
			w = append(w, fmt.Sprintf("%s is %q: 360dialog rejects webhook URLs with a port or \"_\" in the host; put wagate behind a proxy on the default port", c.topSrc("public_url"), c.PublicURL))
		}
	}
	return w
}

// topSrc names where a top-level value came from, or its canonical variable.
func (c *Config) topSrc(key string) string {
	if c.origin != nil && c.origin.top[key] != "" {
		return c.origin.top[key]
	}
	return topEnv[key]
}

// filePath is the config file the Config was loaded from, "" when none.
func (c *Config) filePath() string {
	if c.origin == nil {
		return ""
	}
	return c.origin.file
}

// chanOrigin returns where channel i was configured. Without a record (a Config built by hand, or a
// Channels slice changed after Load) the first channel counts as the environment's and the others as the
// file's.
func (c *Config) chanOrigin(i int) chanOrigin {
	if c.origin != nil && i < len(c.origin.channels) && c.origin.channels[i].name == c.Channels[i].Name {
		return c.origin.channels[i]
	}
	if i == 0 {
		return chanOrigin{env: true}
	}
	return chanOrigin{file: true, index: i}
}

// chanSrc names where channel i's value for key came from.
func (c *Config) chanSrc(i int, key string) string {
	co := c.chanOrigin(i)
	if s := co.src[key]; s != "" {
		return s
	}
	if co.env {
		return fieldByKey(key).env[0]
	}
	where := "the config file"
	if p := c.filePath(); p != "" {
		where = p
	}
	return fmt.Sprintf("%q of channel %q in %s", key, c.Channels[i].Name, where)
}

// shortSet is describeSet without aliases, for warnings.
func shortSet(co chanOrigin, path, key string) string {
	if co.env || !co.file {
		return fieldByKey(key).env[0]
	}
	if path == "" {
		path = "the config file"
	}
	return fmt.Sprintf("%q in %s", key, path)
}

// checkHostPort returns why s is not a listen address, or "".
func checkHostPort(s string) string {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		var ae *net.AddrError
		if errors.As(err, &ae) {
			return ae.Err
		}
		return "cannot split host and port"
	}
	if strings.ContainsAny(host, " /") {
		return "bad host"
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return "the port must be a number from 0 to 65535"
	}
	return ""
}

// checkHTTPURL returns why s is not an absolute http(s) URL without query or credentials, or "", and
// whether s may be shown in the message (not when it holds user info, which may be a password).
func checkHTTPURL(s string) (reason string, show bool) {
	u, err := url.Parse(s)
	if err != nil {
		return "it is not a valid URL", !strings.Contains(s, "@")
	}
	switch {
	case u.User != nil:
		return "it must not contain a user or password", false
	case u.Scheme != "http" && u.Scheme != "https":
		return "it must start with https:// or http://", true
	case u.Host == "":
		return "it has no host", true
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return "it must not have a query or fragment", true
	}
	return "", true
}

// describeURL is the start of a message about a bad URL: with the value when it may be shown.
func describeURL(s, reason string, show bool) string {
	if show {
		return fmt.Sprintf("%q: %s", s, reason)
	}
	return reason
}

// checkDatabaseURL returns why s is not a PostgreSQL URL, or "". The reason never contains s, which may
// hold a password.
func checkDatabaseURL(s string) string {
	lower := strings.ToLower(s)
	if !strings.HasPrefix(lower, "postgres://") && !strings.HasPrefix(lower, "postgresql://") {
		if i := strings.Index(s, "://"); i > 0 && isScheme(s[:i]) {
			return fmt.Sprintf("scheme %q is not supported", s[:i])
		}
		return "it is not a postgres:// URL"
	}
	if _, err := url.Parse(s); err != nil {
		return "it is not a valid URL (percent-encode special characters in the password, e.g. @ as %40)"
	}
	return ""
}

// isScheme reports whether s looks like a URL scheme (and not, say, part of a password).
func isScheme(s string) bool {
	if len(s) > 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// exampleBaseURL is a base URL to show in a message about kind's BaseURL.
func exampleBaseURL(kind ProviderKind) string {
	if u := kind.DefaultBaseURL(); u != "" {
		return u
	}
	return "http://127.0.0.1:9090"
}
