package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// origins records where each loaded value came from, so that messages name what the operator set.
type origins struct {
	top      map[string]string // top-level key -> "WAGATE_LISTEN", "-listen", `"listen" in /etc/wagate.json`
	file     string            // config file path, "" when none
	channels []chanOrigin      // parallel to Config.Channels as loaded
	warnings []string          // load-time warnings (shadowed aliases, ambiguous provider)
}

// chanOrigin records where a channel's values came from.
type chanOrigin struct {
	name  string            // the channel's name when loaded, to detect a Channels slice changed since
	env   bool              // configured by the environment
	file  bool              // listed in the config file
	index int               // position in the file's "channels" when file is true
	src   map[string]string // key -> where the value came from
}

// topEnv is the canonical variable of each top-level key, used when the source is unknown.
var topEnv = map[string]string{
	"listen":            "WAGATE_LISTEN",
	"public_url":        "WAGATE_PUBLIC_URL",
	"data_dir":          "WAGATE_DATA_DIR",
	"database_url":      "WAGATE_DATABASE_URL",
	"log_level":         "WAGATE_LOG_LEVEL",
	"log_format":        "WAGATE_LOG_FORMAT",
	"api_token":         "WAGATE_API_TOKEN",
	"max_webhook_body":  "WAGATE_MAX_WEBHOOK_BODY",
	"default_recipient": "WAGATE_DEFAULT_RECIPIENT",
	"db_max_conns":      "WAGATE_DB_MAX_CONNS",
}

// fieldSpec describes one Channel field: its JSON key, its variables (canonical first, then aliases)
// and whether it is a secret (NAME_FILE variants, "key_file" in the file).
type fieldSpec struct {
	key    string
	env    []string
	secret bool
	ptr    func(*Channel) *string
}

// channelFields lists the Channel fields in documentation order.
func channelFields() []fieldSpec {
	return []fieldSpec{
		{"name", []string{"WAGATE_CHANNEL"}, false, func(c *Channel) *string { return &c.Name }},
		{"provider", []string{"WAGATE_PROVIDER"}, false, func(c *Channel) *string { return (*string)(&c.Provider) }},
		{"phone_number_id", []string{"WAGATE_PHONE_NUMBER_ID", "WHATSAPP_PHONE_NUMBER_ID"}, false, func(c *Channel) *string { return &c.PhoneNumberID }},
		{"phone_number", []string{"WAGATE_PHONE_NUMBER", "THREESIXTY_DIALOG_PHONE_NUMBER"}, false, func(c *Channel) *string { return &c.PhoneNumber }},
		{"waba_id", []string{"WAGATE_WABA_ID"}, false, func(c *Channel) *string { return &c.WABAID }},
		{"api_key", []string{"WAGATE_360DIALOG_API_KEY", "WHATSAPP_API_KEY", "THREESIXTY_DIALOG_API_KEY"}, true, func(c *Channel) *string { return (*string)(&c.APIKey) }},
		{"access_token", []string{"WAGATE_META_ACCESS_TOKEN", "WHATSAPP_ACCESS_TOKEN"}, true, func(c *Channel) *string { return (*string)(&c.AccessToken) }},
		{"app_secret", []string{"WAGATE_META_APP_SECRET", "WHATSAPP_APP_SECRET"}, true, func(c *Channel) *string { return (*string)(&c.AppSecret) }},
		{"api_version", []string{"WAGATE_META_API_VERSION", "WHATSAPP_API_VERSION"}, false, func(c *Channel) *string { return &c.APIVersion }},
		{"base_url", []string{"WAGATE_PROVIDER_BASE_URL"}, false, func(c *Channel) *string { return &c.BaseURL }},
		{"webhook_secret", []string{"WAGATE_WEBHOOK_SECRET", "WHATSAPP_WEBHOOK_SECRET"}, true, func(c *Channel) *string { return (*string)(&c.WebhookSecret) }},
		{"verify_token", []string{"WAGATE_WEBHOOK_VERIFY_TOKEN", "WHATSAPP_WEBHOOK_VERIFY_TOKEN"}, true, func(c *Channel) *string { return (*string)(&c.VerifyToken) }},
		{"rate_per_second", []string{"WAGATE_RATE_PER_SECOND"}, false, func(c *Channel) *string { return &c.rateRaw }},
		{"template_namespace", []string{"WAGATE_TEMPLATE_NAMESPACE"}, false, func(c *Channel) *string { return &c.TemplateNamespace }},
		{"window_check", []string{"WAGATE_WINDOW_CHECK"}, false, func(c *Channel) *string { return &c.windowRaw }},
		{"read_receipts", []string{"WAGATE_READ_RECEIPTS"}, false, func(c *Channel) *string { return &c.readReceiptsRaw }},
	}
}

// fieldByKey returns the spec of a Channel field.
func fieldByKey(key string) fieldSpec {
	for _, f := range channelFields() {
		if f.key == key {
			return f
		}
	}
	panic("config: unknown channel field " + key) // programming error: keys are constants of this package
}

// flagNames are the flags Load understands, each overriding the top-level key it names.
var flagNames = map[string]string{
	"listen":       "listen",
	"public-url":   "public_url",
	"data-dir":     "data_dir",
	"database-url": "database_url",
	"config":       "config",
	"log-level":    "log_level",
	"log-format":   "log_format",
}

// Load builds the Config from command-line flags in args, the environment (getenv) and the optional JSON
// config file (read with readFile), in that order of precedence over the defaults, then validates it.
//
// args holds only flags (-listen, -public-url, -data-dir, -database-url, -config, -log-level, -log-format);
// a positional argument is an error. A flag error, including flag.ErrHelp for -h, is returned wrapped.
// getenv and readFile may be nil (an empty environment; no files can be read). Secrets read from files
// lose one trailing newline (\n or \r\n).
//
// Problems with variables and files are all reported at once, joined, with a nil Config. When only
// Validate fails, Load returns the loaded Config together with the error, so that `wagate check` and
// --print-config can still show it; callers that only need a valid Config just check the error.
func Load(args []string, getenv func(string) string, readFile func(string) ([]byte, error)) (*Config, error) {
	fs := flag.NewFlagSet("wagate", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	values := registerFlags(fs)
	if err := fs.Parse(args); err != nil {
		return nil, fmt.Errorf("config: parse flags: %w", err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("config: parse flags: unexpected argument %q", fs.Arg(0))
	}
	return load(values(), getenv, readFile)
}

// LoadFlags is Load for a command that has flags of its own: it registers the config flags on fs (which
// must not define flags of the same names), parses args with fs and loads the Config. Positional
// arguments are left in fs.Args(); fs's error handling and output are the caller's.
func LoadFlags(fs *flag.FlagSet, args []string, getenv func(string) string, readFile func(string) ([]byte, error)) (*Config, error) {
	values := registerFlags(fs)
	if err := fs.Parse(args); err != nil {
		return nil, fmt.Errorf("config: parse flags: %w", err)
	}
	return load(values(), getenv, readFile)
}

// registerFlags defines the config flags on fs and returns a function that, after parsing, reports the
// flags actually given, keyed by flag name.
func registerFlags(fs *flag.FlagSet) func() map[string]string {
	fs.String("listen", ":8080", "`address` to listen on, host:port (env WAGATE_LISTEN or PORT)")
	fs.String("public-url", "", "public https `URL` of this server, used in webhook URLs (env WAGATE_PUBLIC_URL)")
	fs.String("data-dir", "./data", "`directory` for the SQLite database and media (env WAGATE_DATA_DIR)")
	fs.String("database-url", "", "PostgreSQL `URL`; empty for SQLite in the data directory (env WAGATE_DATABASE_URL)")
	fs.String("config", "", "optional JSON config `file` (env WAGATE_CONFIG)")
	fs.String("log-level", "info", "log `level`: debug, info, warn or error (env WAGATE_LOG_LEVEL)")
	fs.String("log-format", "text", "log `format`: text or json (env WAGATE_LOG_FORMAT)")
	return func() map[string]string {
		set := map[string]string{}
		fs.Visit(func(f *flag.Flag) {
			if _, ok := flagNames[f.Name]; ok {
				set[f.Name] = f.Value.String()
			}
		})
		return set
	}
}

// fileConfig is the JSON config file.
type fileConfig struct {
	Listen           string          `json:"listen"`
	PublicURL        string          `json:"public_url"`
	DataDir          string          `json:"data_dir"`
	DatabaseURL      string          `json:"database_url"`
	DatabaseURLFile  string          `json:"database_url_file"`
	APIToken         string          `json:"api_token"`
	APITokenFile     string          `json:"api_token_file"`
	LogLevel         string          `json:"log_level"`
	LogFormat        string          `json:"log_format"`
	MaxWebhookBody   json.RawMessage `json:"max_webhook_body"`
	DefaultRecipient string          `json:"default_recipient"`
	Channels         []fileChannel   `json:"channels"`
}

// fileChannel is one entry of the config file's "channels".
type fileChannel struct {
	Name              string      `json:"name"`
	Provider          string      `json:"provider"`
	PhoneNumberID     string      `json:"phone_number_id"`
	PhoneNumber       string      `json:"phone_number"`
	WABAID            string      `json:"waba_id"`
	APIKey            string      `json:"api_key"`
	APIKeyFile        string      `json:"api_key_file"`
	AccessToken       string      `json:"access_token"`
	AccessTokenFile   string      `json:"access_token_file"`
	AppSecret         string      `json:"app_secret"`
	AppSecretFile     string      `json:"app_secret_file"`
	APIVersion        string      `json:"api_version"`
	BaseURL           string      `json:"base_url"`
	WebhookSecret     string      `json:"webhook_secret"`
	WebhookSecretFile string      `json:"webhook_secret_file"`
	VerifyToken       string      `json:"verify_token"`
	VerifyTokenFile   string      `json:"verify_token_file"`
	RatePerSecond     json.Number `json:"rate_per_second"`
	TemplateNamespace string      `json:"template_namespace"`
	WindowCheck       *bool       `json:"window_check"`
	ReadReceipts      *bool       `json:"read_receipts"`
}

// value returns the channel's value for key and, for secrets, the path given by "key_file".
func (fc *fileChannel) value(key string) (val, path string) {
	switch key {
	case "name":
		return fc.Name, ""
	case "provider":
		return fc.Provider, ""
	case "phone_number_id":
		return fc.PhoneNumberID, ""
	case "phone_number":
		return fc.PhoneNumber, ""
	case "waba_id":
		return fc.WABAID, ""
	case "api_key":
		return fc.APIKey, fc.APIKeyFile
	case "access_token":
		return fc.AccessToken, fc.AccessTokenFile
	case "app_secret":
		return fc.AppSecret, fc.AppSecretFile
	case "api_version":
		return fc.APIVersion, ""
	case "base_url":
		return fc.BaseURL, ""
	case "webhook_secret":
		return fc.WebhookSecret, fc.WebhookSecretFile
	case "verify_token":
		return fc.VerifyToken, fc.VerifyTokenFile
	case "rate_per_second":
		return string(fc.RatePerSecond), ""
	case "template_namespace":
		return fc.TemplateNamespace, ""
	case "window_check":
		if fc.WindowCheck == nil {
			return "", ""
		}
		return strconv.FormatBool(*fc.WindowCheck), ""
	case "read_receipts":
		if fc.ReadReceipts == nil {
			return "", ""
		}
		return strconv.FormatBool(*fc.ReadReceipts), ""
	}
	return "", ""
}

// loader accumulates the problems found while loading, so that all are reported at once.
type loader struct {
	getenv   func(string) string
	readFile func(string) ([]byte, error)
	errs     []error
	warnings []string
}

func (l *loader) fail(format string, a ...any) { l.errs = append(l.errs, fmt.Errorf(format, a...)) }

// env returns the first non-empty of the variables names (spaces trimmed) and the name that held it. A
// later alias with a different value is ignored with a warning.
func (l *loader) env(names ...string) (val, from string) {
	for _, n := range names {
		v := strings.TrimSpace(l.getenv(n))
		if v == "" {
			continue
		}
		if from == "" {
			val, from = v, n
		} else if v != val {
			l.warnings = append(l.warnings, fmt.Sprintf("%s is ignored: %s is set and takes precedence", n, from))
		}
	}
	return val, from
}

// secret is env for a secret: each name may instead be given as NAME_FILE, the path of a file holding the
// value; setting both NAME and NAME_FILE is an error.
func (l *loader) secret(names ...string) (val Secret, from string) {
	for _, n := range names {
		v, path := l.getenv(n), strings.TrimSpace(l.getenv(n+"_FILE"))
		if v != "" && path != "" {
			l.fail("%s and %s are both set: set only one of them", n, n+"_FILE")
			continue
		}
		if v == "" && path == "" {
			continue
		}
		if from != "" {
			if path != "" || Secret(v) != val {
				l.warnings = append(l.warnings, fmt.Sprintf("%s is ignored: %s is set and takes precedence", nameOrFile(n, path), from))
			}
			continue
		}
		if path == "" {
			val, from = Secret(v), n
			continue
		}
		from = n + "_FILE"
		s, err := l.read(from, path)
		if err == nil {
			val = s
		}
	}
	return val, from
}

func nameOrFile(name, path string) string {
	if path != "" {
		return name + "_FILE"
	}
	return name
}

// read returns a secret from the file at path; what names the variable or key that gave the path. The
// content is never part of an error.
func (l *loader) read(what, path string) (Secret, error) {
	if l.readFile == nil {
		err := errors.New("reading files is not available")
		l.fail("%s: %v", what, err)
		return "", err
	}
	b, err := l.readFile(path)
	if err != nil {
		l.fail("%s: cannot read the secret file: %v", what, err)
		return "", err
	}
	s := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if s == "" {
		err := errors.New("empty")
		l.fail("%s: the file %s is empty: put the secret in it, or unset %s", what, path, what)
		return "", err
	}
	return Secret(s), nil
}

// load builds and validates the Config from the given flags (by flag name), environment and file reader.
func load(flags map[string]string, getenv func(string) string, readFile func(string) ([]byte, error)) (*Config, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	l := &loader{getenv: getenv, readFile: readFile}
	o := &origins{top: map[string]string{}}
	cfg := &Config{origin: o}

	// The config file: its path comes from the flag or the environment.
	var fc fileConfig
	path, pathFrom := flags["config"], "-config"
	if _, ok := flags["config"]; !ok {
		path, pathFrom = l.env("WAGATE_CONFIG")
	}
	if path != "" {
		cfg.ConfigFile = path
		o.file = path
		l.readConfigFile(pathFrom, path, &fc)
	}
	inFile := func(key string) string { return fmt.Sprintf("%q in %s", key, path) }

	// pick sets *dst from the first source that has a value: flag, environment, file, default.
	pick := func(dst *string, key, flagName string, envNames []string, fileVal, def string) {
		if v, ok := flags[flagName]; ok && flagName != "" {
			*dst, o.top[key] = strings.TrimSpace(v), "-"+flagName
			return
		}
		if v, from := l.env(envNames...); v != "" {
			*dst, o.top[key] = v, from
			return
		}
		if v := strings.TrimSpace(fileVal); v != "" {
			*dst, o.top[key] = v, inFile(key)
			return
		}
		*dst = def
	}

	// Listen: PORT counts when WAGATE_LISTEN is unset, and above the file.
	listenEnv := []string{"WAGATE_LISTEN"}
	if _, ok := flags["listen"]; !ok && strings.TrimSpace(getenv("WAGATE_LISTEN")) == "" {
		if port := strings.TrimSpace(getenv("PORT")); port != "" {
			if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
				l.fail("PORT: %q is not a port number: use e.g. PORT=8080, or set WAGATE_LISTEN=host:port", port)
			} else {
				cfg.Listen, o.top["listen"] = ":"+port, "PORT"
				listenEnv = nil
			}
		}
	}
	if cfg.Listen == "" {
		pick(&cfg.Listen, "listen", "listen", listenEnv, fc.Listen, ":8080")
	}
	pick(&cfg.PublicURL, "public_url", "public-url", []string{"WAGATE_PUBLIC_URL"}, fc.PublicURL, "")
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	pick(&cfg.DataDir, "data_dir", "data-dir", []string{"WAGATE_DATA_DIR"}, fc.DataDir, "./data")
	pick(&cfg.LogLevel, "log_level", "log-level", []string{"WAGATE_LOG_LEVEL"}, fc.LogLevel, "info")
	cfg.LogLevel = strings.ToLower(cfg.LogLevel)
	pick(&cfg.LogFormat, "log_format", "log-format", []string{"WAGATE_LOG_FORMAT"}, fc.LogFormat, "text")
	cfg.LogFormat = strings.ToLower(cfg.LogFormat)
	pick(&cfg.DefaultRecipient, "default_recipient", "", []string{"WAGATE_DEFAULT_RECIPIENT", "WHATSAPP_DEFAULT_RECIPIENT"}, fc.DefaultRecipient, "")

	// Top-level secrets.
	if v, ok := flags["database-url"]; ok {
		cfg.DatabaseURL, o.top["database_url"] = Secret(strings.TrimSpace(v)), "-database-url"
	} else if v, from := l.secret("WAGATE_DATABASE_URL"); from != "" {
		cfg.DatabaseURL, o.top["database_url"] = v, from
	} else {
		cfg.DatabaseURL, o.top["database_url"] = l.fileSecret(path, "database_url", fc.DatabaseURL, fc.DatabaseURLFile, "")
	}
	if v, from := l.secret("WAGATE_API_TOKEN"); from != "" {
		cfg.APIToken, o.top["api_token"] = v, from
	} else {
		cfg.APIToken, o.top["api_token"] = l.fileSecret(path, "api_token", fc.APIToken, fc.APITokenFile, "")
	}

	// MaxWebhookBody: bytes or KiB/MiB, from the environment or the file (number or string).
	cfg.MaxWebhookBody = DefaultMaxWebhookBody
	if v, from := l.env("WAGATE_MAX_WEBHOOK_BODY"); v != "" {
		if n, ok := parseSize(v); ok {
			cfg.MaxWebhookBody, o.top["max_webhook_body"] = n, from
		} else {
			l.fail("%s: %q is not a size: use bytes or a KiB/MiB suffix, e.g. 3MiB", from, v)
		}
	} else if raw := bytes.TrimSpace(fc.MaxWebhookBody); len(raw) > 0 && string(raw) != "null" {
		var s string
		if raw[0] != '"' {
			s = string(raw)
		} else if err := json.Unmarshal(raw, &s); err != nil {
			s = string(raw)
		}
		if n, ok := parseSize(s); ok {
			cfg.MaxWebhookBody, o.top["max_webhook_body"] = n, inFile("max_webhook_body")
		} else {
			l.fail("%s: %s is not a size: use bytes or a KiB/MiB suffix, e.g. \"3MiB\"", inFile("max_webhook_body"), raw)
		}
	}

	// SendMaxBackoff: the longest pause between send retries.
	if v, from := l.env("WAGATE_SEND_MAX_BACKOFF"); v != "" {
		if d, err := time.ParseDuration(strings.TrimSpace(v)); err == nil && d >= time.Second && d <= time.Hour {
			cfg.SendMaxBackoff = d
		} else {
			l.fail("%s: %q is not a duration from 1s to 1h: use e.g. 5m", from, v)
		}
	}

	// MediaRetention: how long media are kept.
	if v, from := l.env("WAGATE_MEDIA_RETENTION"); v != "" {
		if d, err := ParseRetention(v); err == nil {
			cfg.MediaRetention = d
		} else {
			l.fail("%s: %v", from, err)
		}
	}

	// TemplateSyncInterval: how often templates are synced.
	if v, from := l.env("WAGATE_TEMPLATE_SYNC_INTERVAL"); v != "" {
		if d, err := time.ParseDuration(strings.TrimSpace(v)); err == nil && d >= time.Minute && d <= 24*time.Hour {
			cfg.TemplateSyncInterval = d
		} else {
			l.fail("%s: %q is not a duration from 1m to 24h: use e.g. 15m", from, v)
		}
	}

	// Workers: concurrent jobs per instance.
	if v, from := l.env("WAGATE_QUEUE_WORKERS"); v != "" {
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 1 && n <= 10000 {
			cfg.Workers = n
		} else {
			l.fail("%s: %q is not a whole number from 1 to 10000: use e.g. 100", from, v)
		}
	}

	// DemoReplies: demo contacts answer what they read.
	if v, from := l.env("WAGATE_DEMO_REPLIES"); v != "" {
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			l.fail("%s: %q is not true or false", from, v)
		}
		cfg.DemoReplies = b
	}

	// DBMaxConns: the PostgreSQL pool size of this instance.
	cfg.DBMaxConns = DefaultDBMaxConns
	if v, from := l.env("WAGATE_DB_MAX_CONNS"); v != "" {
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 1 {
			cfg.DBMaxConns, o.top["db_max_conns"] = n, from
		} else {
			l.fail("%s: %q is not a whole number from 1 to 1000: use e.g. 10", from, v)
		}
	}

	l.loadAccess(cfg)
	l.subscriber(cfg)
	l.channels(cfg, o, path, fc.Channels)

	o.warnings = l.warnings
	if len(l.errs) > 0 {
		return nil, errors.Join(l.errs...)
	}
	if err := cfg.Validate(); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// fileSecret returns a secret given in the config file at path as key or key_file (relative to the
// file's directory), and where it came from; both set is an error.
func (l *loader) fileSecret(path, key, val, file, chanDesc string) (Secret, string) {
	where := fmt.Sprintf("%q%s in %s", key, chanDesc, path)
	switch {
	case val != "" && file != "":
		l.fail("%s and %q%s are both set: set only one of them", where, key+"_file", chanDesc)
		return "", where
	case val != "":
		return Secret(val), where
	case strings.TrimSpace(file) != "":
		fileWhere := fmt.Sprintf("%q%s in %s", key+"_file", chanDesc, path)
		file = strings.TrimSpace(file)
		if !filepath.IsAbs(file) {
			file = filepath.Join(filepath.Dir(path), file)
		}
		s, _ := l.read(fileWhere, file)
		return s, fileWhere
	}
	return "", ""
}

// readConfigFile decodes the JSON config file at path (named by the variable or flag from) into fc.
// Unknown keys are errors, so that a misspelt key does not silently fall back to a default.
func (l *loader) readConfigFile(from, path string, fc *fileConfig) {
	if l.readFile == nil {
		l.fail("%s: cannot read the config file %s: reading files is not available", from, path)
		return
	}
	b, err := l.readFile(path)
	if err != nil {
		l.fail("%s: cannot read the config file: %v", from, err)
		return
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(fc); err != nil {
		l.fail("config file %s (%s): %s", path, from, describeJSONError(b, err))
		return
	}
	if _, err := dec.Token(); err != io.EOF {
		l.fail("config file %s (%s): unexpected data after the JSON object: the file must hold one object", path, from)
	}
}

// describeJSONError turns a decoding error into a message with a line number and a fix.
func describeJSONError(b []byte, err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		line, col := lineCol(b, syn.Offset)
		return fmt.Sprintf("line %d, column %d: %v: fix the JSON syntax", line, col, syn)
	case errors.As(err, &typ):
		line, col := lineCol(b, typ.Offset)
		if typ.Field == "" {
			return fmt.Sprintf("line %d, column %d: the file must hold a JSON object, not a %s", line, col, typ.Value)
		}
		return fmt.Sprintf("line %d, column %d: %q must be a %s, not a %s", line, col, typ.Field, typ.Type, typ.Value)
	case errors.Is(err, io.EOF):
		return "the file is empty: it must hold a JSON object, e.g. {\"channels\": []}"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the JSON ends early: fix the JSON syntax"
	}
	if key, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return fmt.Sprintf("unknown key %s: check its spelling; see the documented keys", key)
	}
	return err.Error()
}

// lineCol converts a byte offset into a 1-based line and column.
func lineCol(b []byte, off int64) (line, col int) {
	if off > int64(len(b)) {
		off = int64(len(b))
	}
	before := b[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1)
	if col < 1 {
		col = 1
	}
	return line, col
}

// channels builds the channel list: the environment's default channel, merged with the file channel of
// the same name, then the other file channels.
func (l *loader) channels(cfg *Config, o *origins, path string, fileChannels []fileChannel) {
	fields := channelFields()

	// The environment's channel.
	env := Channel{}
	envO := chanOrigin{env: true, src: map[string]string{}}
	envConfigured := false
	for _, f := range fields {
		var v, from string
		if f.secret {
			var s Secret
			s, from = l.secret(f.env...)
			v = string(s)
		} else {
			v, from = l.env(f.env...)
		}
		if from != "" {
			envConfigured = true
		}
		if v != "" {
			*f.ptr(&env) = v
			envO.src[f.key] = from
		}
	}
	if env.Name == "" {
		env.Name = "default"
	}

	// The file's channels.
	var fileChans []Channel
	var fileOs []chanOrigin
	for j := range fileChannels {
		fcj := &fileChannels[j]
		ch := Channel{}
		co := chanOrigin{file: true, index: j, src: map[string]string{}}
		desc := fmt.Sprintf(" of channels[%d]", j)
		if n := strings.TrimSpace(fcj.Name); n != "" {
			desc = fmt.Sprintf(" of channel %q", n)
		} else {
			l.fail("config file %s: channels[%d] has no \"name\": give every channel a name, e.g. \"sales\"", path, j)
		}
		for _, f := range fields {
			val, file := fcj.value(f.key)
			if f.secret {
				s, where := l.fileSecret(path, f.key, val, file, desc)
				if s != "" {
					*f.ptr(&ch) = string(s)
					co.src[f.key] = where
				}
				continue
			}
			if v := strings.TrimSpace(val); v != "" {
				*f.ptr(&ch) = v
				co.src[f.key] = fmt.Sprintf("%q%s in %s", f.key, desc, path)
				if f.key == "name" {
					co.src[f.key] = fmt.Sprintf("%q of channels[%d] in %s", f.key, j, path)
				}
			}
		}
		fileChans = append(fileChans, ch)
		fileOs = append(fileOs, co)
	}

	// Merge: the environment's channel first, filled from the file channel of its name.
	match := -1
	for j := range fileChans {
		if fileChans[j].Name == env.Name {
			match = j
			break
		}
	}
	if envConfigured || match >= 0 || len(fileChans) == 0 {
		if match >= 0 {
			for _, f := range fields {
				if dst := f.ptr(&env); *dst == "" {
					if v := *f.ptr(&fileChans[match]); v != "" {
						*dst = v
						envO.src[f.key] = fileOs[match].src[f.key]
					}
				}
			}
			envO.file, envO.index = true, fileOs[match].index
			fileChans = append(fileChans[:match], fileChans[match+1:]...)
			fileOs = append(fileOs[:match], fileOs[match+1:]...)
		}
		cfg.Channels = append(cfg.Channels, env)
		o.channels = append(o.channels, envO)
	}
	cfg.Channels = append(cfg.Channels, fileChans...)
	o.channels = append(o.channels, fileOs...)

	// Defaults that depend on the provider.
	for i := range cfg.Channels {
		ch := &cfg.Channels[i]
		ch.Provider = ProviderKind(strings.ToLower(string(ch.Provider)))
		if ch.Provider == "" {
			switch {
			case ch.AccessToken != "":
				ch.Provider = ProviderMeta
				if ch.APIKey != "" {
					l.warnings = append(l.warnings, fmt.Sprintf("channel %q has both a Meta access token and a 360dialog API key: using provider \"meta\"; set %s to choose", ch.Name, describeSet(o.channels[i], path, "provider")))
				}
			case ch.APIKey != "":
				ch.Provider = Provider360Dialog
			default:
				ch.Provider = ProviderDemo
			}
		}
		if ch.Provider == ProviderMeta && ch.APIVersion == "" {
			ch.APIVersion = DefaultMetaAPIVersion
		}
		if ch.BaseURL == "" {
			ch.BaseURL = ch.Provider.DefaultBaseURL()
		}
		ch.BaseURL = strings.TrimRight(ch.BaseURL, "/")
		ch.RatePerSecond = DefaultRatePerSecond
		if r := strings.TrimSpace(ch.rateRaw); r != "" {
			v, err := strconv.ParseFloat(r, 64)
			if err != nil || v < 0 || v > MaxRatePerSecond {
				l.fail("%s: %q is not a rate from 0 to 1000 messages per second (0 turns pacing off)", describeSet(o.channels[i], path, "rate_per_second"), r)
			} else {
				ch.RatePerSecond = v
			}
		}
		ch.WindowCheck = true
		if r := strings.TrimSpace(ch.windowRaw); r != "" {
			if v, err := strconv.ParseBool(r); err == nil {
				ch.WindowCheck = v
			} else {
				l.fail("%s: %q is not true or false", describeSet(o.channels[i], path, "window_check"), r)
			}
		}
		ch.ReadReceipts = nil
		if r := strings.TrimSpace(ch.readReceiptsRaw); r != "" {
			v, err := strconv.ParseBool(r)
			if err != nil {
				l.fail("%s: %q is not true or false", describeSet(o.channels[i], path, "read_receipts"), r)
			} else {
				ch.ReadReceipts = &v
			}
		}
		o.channels[i].name = ch.Name
	}
}

// describeSet says where an operator sets key for a channel: its variables and/or its file key.
func describeSet(co chanOrigin, path, key string) string {
	f := fieldByKey(key)
	var parts []string
	if co.env || !co.file {
		s := f.env[0]
		if len(f.env) > 1 {
			s += " (or " + strings.Join(f.env[1:], ", or ") + ")"
		}
		parts = append(parts, s)
	}
	if co.file {
		s := fmt.Sprintf("%q", key)
		if f.secret {
			s += fmt.Sprintf(" (or %q)", key+"_file")
		}
		if path != "" {
			s += " in " + path
		} else {
			s += " in the config file"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", or ")
}

// parseSize parses a byte count: a plain integer, or one with a B, KiB or MiB suffix (any case).
func parseSize(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	mult := int64(1)
	lower := strings.ToLower(s)
	switch {
	case strings.HasSuffix(lower, "kib"):
		mult, s = 1<<10, s[:len(s)-3]
	case strings.HasSuffix(lower, "mib"):
		mult, s = 1<<20, s[:len(s)-3]
	case strings.HasSuffix(lower, "b"):
		s = s[:len(s)-1]
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64/mult {
		return 0, false
	}
	return n * mult, true
}
