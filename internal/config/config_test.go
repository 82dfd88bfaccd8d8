package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"testing"
)

// bundle is the fake environment and file system one test loads from.
type bundle struct {
	env   map[string]string
	files map[string]string
	reads []string
}

func setup(t *testing.T) *bundle {
	t.Helper()
	return &bundle{env: map[string]string{}, files: map[string]string{}}
}

func (b *bundle) getenv(k string) string { return b.env[k] }

func (b *bundle) readFile(p string) ([]byte, error) {
	b.reads = append(b.reads, p)
	if v, ok := b.files[p]; ok {
		return []byte(v), nil
	}
	return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
}

func (b *bundle) load(args ...string) (*Config, error) {
	return Load(args, b.getenv, b.readFile)
}

func (b *bundle) mustLoad(t *testing.T, args ...string) *Config {
	t.Helper()
	cfg, err := b.load(args...)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return cfg
}

// loadErr loads and returns the error text, failing when there is none.
func (b *bundle) loadErr(t *testing.T, args ...string) string {
	t.Helper()
	_, err := b.load(args...)
	if err == nil {
		t.Fatal("Load: want an error, got nil")
	}
	return err.Error()
}

func wantContains(t *testing.T, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("want %q in:\n%s", w, got)
		}
	}
}

func TestLoad_DefaultsWithEmptyEnvironment(t *testing.T) {
	t.Parallel()
	for name, loadIt := range map[string]func() (*Config, error){
		"empty maps": func() (*Config, error) { return setup(t).load() },
		"nil funcs":  func() (*Config, error) { return Load(nil, nil, nil) },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg, err := loadIt()
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if cfg.Listen != ":8080" || cfg.DataDir != "./data" || cfg.LogLevel != "info" || cfg.LogFormat != "text" {
				t.Errorf("top-level defaults: %+v", cfg)
			}
			if cfg.MaxWebhookBody != 3145728 {
				t.Errorf("MaxWebhookBody = %d, want 3145728", cfg.MaxWebhookBody)
			}
			if !cfg.SQLite() || cfg.SQLitePath() != "data/wagate.db" {
				t.Errorf("SQLite() = %v, SQLitePath() = %q", cfg.SQLite(), cfg.SQLitePath())
			}
			if len(cfg.Channels) != 1 {
				t.Fatalf("want 1 channel, got %d", len(cfg.Channels))
			}
			ch := cfg.DefaultChannel()
			if ch.Name != "default" || ch.Provider != ProviderDemo || !ch.Demo() || ch.BaseURL != "" || ch.APIVersion != "" {
				t.Errorf("default channel: %+v", *ch)
			}
			if got, ok := cfg.Channel("default"); !ok || got != ch {
				t.Errorf("Channel(\"default\") = %v, %v", got, ok)
			}
			if _, ok := cfg.Channel("nope"); ok {
				t.Error("Channel(\"nope\") found")
			}
			if cfg.ConfigFile != "" || cfg.PublicURL != "" || cfg.APIToken.IsSet() || cfg.DatabaseURL.IsSet() {
				t.Errorf("unexpected values: %+v", cfg)
			}
			if cfg.SlogLevel() != slog.LevelInfo {
				t.Errorf("SlogLevel = %v", cfg.SlogLevel())
			}
		})
	}
}

func TestLoad_PORT(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"port alone", map[string]string{"PORT": "3000"}, nil, ":3000"},
		{"WAGATE_LISTEN wins", map[string]string{"PORT": "3000", "WAGATE_LISTEN": "127.0.0.1:9000"}, nil, "127.0.0.1:9000"},
		{"flag wins", map[string]string{"PORT": "3000"}, []string{"-listen", ":7000"}, ":7000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.env = tt.env
			if got := b.mustLoad(t, tt.args...).Listen; got != tt.want {
				t.Errorf("Listen = %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("port wins over file", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.env = map[string]string{"PORT": "3000", "WAGATE_CONFIG": "/etc/wagate.json"}
		b.files["/etc/wagate.json"] = `{"listen": ":5000"}`
		if got := b.mustLoad(t).Listen; got != ":3000" {
			t.Errorf("Listen = %q, want :3000", got)
		}
	})
	t.Run("bad port names PORT", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.env["PORT"] = "http"
		wantContains(t, b.loadErr(t), `PORT: "http" is not a port number`)
	})
}

func TestLoad_PrecedenceFlagEnvFileDefault(t *testing.T) {
	t.Parallel()
	const file = `{
		"listen": ":1001", "public_url": "https://file.example.com", "data_dir": "/file",
		"database_url": "postgres://file@db/file", "log_level": "error", "log_format": "json",
		"max_webhook_body": "1MiB", "default_recipient": "+34600000001", "api_token": "file-token"
	}`
	b := setup(t)
	b.files["/etc/wagate.json"] = file
	b.env = map[string]string{
		"WAGATE_CONFIG":       "/etc/wagate.json",
		"WAGATE_LISTEN":       ":2002",
		"WAGATE_PUBLIC_URL":   "https://env.example.com/",
		"WAGATE_DATA_DIR":     "/env",
		"WAGATE_DATABASE_URL": "postgres://env@db/env",
		"WAGATE_LOG_LEVEL":    "WARN",
	}
	cfg := b.mustLoad(t, "-listen", ":3003", "-data-dir", "/flag", "-log-format", "text")

	checks := []struct{ field, got, want string }{
		{"Listen (flag)", cfg.Listen, ":3003"},
		{"DataDir (flag)", cfg.DataDir, "/flag"},
		{"LogFormat (flag)", cfg.LogFormat, "text"},
		{"PublicURL (env, slash trimmed)", cfg.PublicURL, "https://env.example.com"},
		{"DatabaseURL (env)", cfg.DatabaseURL.Reveal(), "postgres://env@db/env"},
		{"LogLevel (env, lowercased)", cfg.LogLevel, "warn"},
		{"DefaultRecipient (file)", cfg.DefaultRecipient, "+34600000001"},
		{"APIToken (file)", cfg.APIToken.Reveal(), "file-token"},
		{"ConfigFile", cfg.ConfigFile, "/etc/wagate.json"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.field, c.got, c.want)
		}
	}
	if cfg.MaxWebhookBody != 1<<20 {
		t.Errorf("MaxWebhookBody (file) = %d, want %d", cfg.MaxWebhookBody, 1<<20)
	}
	if cfg.SQLite() {
		t.Error("SQLite() with a database URL")
	}

	t.Run("flag -config beats WAGATE_CONFIG", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.env["WAGATE_CONFIG"] = "/env.json"
		b.files["/flag.json"] = `{"data_dir": "/from-flag-file"}`
		cfg := b.mustLoad(t, "-config", "/flag.json")
		if cfg.DataDir != "/from-flag-file" || cfg.ConfigFile != "/flag.json" {
			t.Errorf("DataDir = %q, ConfigFile = %q", cfg.DataDir, cfg.ConfigFile)
		}
	})
	t.Run("file beats default", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.env["WAGATE_CONFIG"] = "/c.json"
		b.files["/c.json"] = `{"listen": "127.0.0.1:4004", "max_webhook_body": 1024}`
		cfg := b.mustLoad(t)
		if cfg.Listen != "127.0.0.1:4004" || cfg.MaxWebhookBody != 1024 {
			t.Errorf("Listen = %q, MaxWebhookBody = %d", cfg.Listen, cfg.MaxWebhookBody)
		}
	})
	t.Run("env flag -database-url", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.env["WAGATE_DATABASE_URL"] = "postgres://env/db"
		cfg := b.mustLoad(t, "-database-url", "postgresql://flag/db")
		if cfg.DatabaseURL.Reveal() != "postgresql://flag/db" {
			t.Errorf("DatabaseURL = %q", cfg.DatabaseURL.Reveal())
		}
	})
}

func TestLoad_LegacyAliases(t *testing.T) {
	t.Parallel()
	tests := []struct {
		alias, canonical, value string
		get                     func(*Config) string
	}{
		{"WHATSAPP_API_KEY", "WAGATE_360DIALOG_API_KEY", "k1", func(c *Config) string { return c.Channels[0].APIKey.Reveal() }},
		{"THREESIXTY_DIALOG_API_KEY", "WAGATE_360DIALOG_API_KEY", "k2", func(c *Config) string { return c.Channels[0].APIKey.Reveal() }},
		{"WHATSAPP_ACCESS_TOKEN", "WAGATE_META_ACCESS_TOKEN", "t1", func(c *Config) string { return c.Channels[0].AccessToken.Reveal() }},
		{"WHATSAPP_APP_SECRET", "WAGATE_META_APP_SECRET", "s1", func(c *Config) string { return c.Channels[0].AppSecret.Reveal() }},
		{"WHATSAPP_PHONE_NUMBER_ID", "WAGATE_PHONE_NUMBER_ID", "1234567", func(c *Config) string { return c.Channels[0].PhoneNumberID }},
		{"THREESIXTY_DIALOG_PHONE_NUMBER", "WAGATE_PHONE_NUMBER", "+34600111222", func(c *Config) string { return c.Channels[0].PhoneNumber }},
		{"WHATSAPP_API_VERSION", "WAGATE_META_API_VERSION", "v21.0", func(c *Config) string { return c.Channels[0].APIVersion }},
		{"WHATSAPP_WEBHOOK_SECRET", "WAGATE_WEBHOOK_SECRET", "w1", func(c *Config) string { return c.Channels[0].WebhookSecret.Reveal() }},
		{"WHATSAPP_WEBHOOK_VERIFY_TOKEN", "WAGATE_WEBHOOK_VERIFY_TOKEN", "v1", func(c *Config) string { return c.Channels[0].VerifyToken.Reveal() }},
		{"WHATSAPP_DEFAULT_RECIPIENT", "WAGATE_DEFAULT_RECIPIENT", "+34600999888", func(c *Config) string { return c.DefaultRecipient }},
	}
	for _, tt := range tests {
		t.Run(tt.alias, func(t *testing.T) {
			t.Parallel()
			// The provider is explicit so that every credential loads without the others.
			b := setup(t)
			b.env = map[string]string{"WAGATE_PROVIDER": "demo", tt.alias: tt.value}
			if got := tt.get(b.mustLoad(t)); got != tt.value {
				t.Errorf("alias: got %q, want %q", got, tt.value)
			}

			b = setup(t)
			b.env = map[string]string{"WAGATE_PROVIDER": "demo", tt.alias: tt.value, tt.canonical: tt.value + "0"}
			cfg := b.mustLoad(t)
			if got := tt.get(cfg); got != tt.value+"0" {
				t.Errorf("both set: got %q, want the %s value %q", got, tt.canonical, tt.value+"0")
			}
			wantContains(t, strings.Join(cfg.Warnings(), "\n"), tt.alias+" is ignored: "+tt.canonical+" is set")
		})
	}
}

func TestLoad_InfersProvider(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		want ProviderKind
		base string
	}{
		{"nothing is demo", map[string]string{}, ProviderDemo, ""},
		{"meta token", map[string]string{"WHATSAPP_ACCESS_TOKEN": "t", "WHATSAPP_PHONE_NUMBER_ID": "123"}, ProviderMeta, "https://graph.facebook.com"},
		{"meta token canonical", map[string]string{"WAGATE_META_ACCESS_TOKEN": "t", "WAGATE_PHONE_NUMBER_ID": "123"}, ProviderMeta, "https://graph.facebook.com"},
		{"360 WAGATE key", map[string]string{"WAGATE_360DIALOG_API_KEY": "k"}, Provider360Dialog, "https://waba-v2.360dialog.io"},
		{"360 WHATSAPP key", map[string]string{"WHATSAPP_API_KEY": "k"}, Provider360Dialog, "https://waba-v2.360dialog.io"},
		{"360 THREESIXTY key", map[string]string{"THREESIXTY_DIALOG_API_KEY": "k"}, Provider360Dialog, "https://waba-v2.360dialog.io"},
		{"token beats key", map[string]string{"WHATSAPP_ACCESS_TOKEN": "t", "WHATSAPP_PHONE_NUMBER_ID": "1", "WHATSAPP_API_KEY": "k"}, ProviderMeta, "https://graph.facebook.com"},
		{"explicit onpremise", map[string]string{"WAGATE_PROVIDER": "360dialog-onpremise", "WHATSAPP_API_KEY": "k"}, Provider360DialogOnPremise, "https://waba.360dialog.io"},
		{"explicit demo beats token", map[string]string{"WAGATE_PROVIDER": "demo", "WHATSAPP_ACCESS_TOKEN": "t"}, ProviderDemo, ""},
		{"explicit, any case", map[string]string{"WAGATE_PROVIDER": "Meta", "WHATSAPP_ACCESS_TOKEN": "t", "WHATSAPP_PHONE_NUMBER_ID": "1"}, ProviderMeta, "https://graph.facebook.com"},
		{"base url override", map[string]string{"WHATSAPP_API_KEY": "k", "WAGATE_PROVIDER_BASE_URL": "http://127.0.0.1:9999/"}, Provider360Dialog, "http://127.0.0.1:9999"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.env = tt.env
			ch := b.mustLoad(t).DefaultChannel()
			if ch.Provider != tt.want || ch.BaseURL != tt.base {
				t.Errorf("Provider = %q, BaseURL = %q; want %q, %q", ch.Provider, ch.BaseURL, tt.want, tt.base)
			}
			if ch.Provider == ProviderMeta && ch.APIVersion != DefaultMetaAPIVersion {
				t.Errorf("APIVersion = %q, want %q", ch.APIVersion, DefaultMetaAPIVersion)
			}
		})
	}
	t.Run("ambiguous credentials warn", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.env = map[string]string{"WHATSAPP_ACCESS_TOKEN": "t", "WHATSAPP_PHONE_NUMBER_ID": "1", "WHATSAPP_API_KEY": "k"}
		wantContains(t, strings.Join(b.mustLoad(t).Warnings(), "\n"), `both a Meta access token and a 360dialog API key`, "WAGATE_PROVIDER")
	})
}

// secretVars are every secret variable with a reader of its loaded value.
var secretVars = []struct {
	name string
	get  func(*Config) Secret
}{
	{"WAGATE_360DIALOG_API_KEY", func(c *Config) Secret { return c.Channels[0].APIKey }},
	{"WHATSAPP_API_KEY", func(c *Config) Secret { return c.Channels[0].APIKey }},
	{"THREESIXTY_DIALOG_API_KEY", func(c *Config) Secret { return c.Channels[0].APIKey }},
	{"WAGATE_META_ACCESS_TOKEN", func(c *Config) Secret { return c.Channels[0].AccessToken }},
	{"WHATSAPP_ACCESS_TOKEN", func(c *Config) Secret { return c.Channels[0].AccessToken }},
	{"WAGATE_META_APP_SECRET", func(c *Config) Secret { return c.Channels[0].AppSecret }},
	{"WHATSAPP_APP_SECRET", func(c *Config) Secret { return c.Channels[0].AppSecret }},
	{"WAGATE_WEBHOOK_SECRET", func(c *Config) Secret { return c.Channels[0].WebhookSecret }},
	{"WHATSAPP_WEBHOOK_SECRET", func(c *Config) Secret { return c.Channels[0].WebhookSecret }},
	{"WAGATE_WEBHOOK_VERIFY_TOKEN", func(c *Config) Secret { return c.Channels[0].VerifyToken }},
	{"WHATSAPP_WEBHOOK_VERIFY_TOKEN", func(c *Config) Secret { return c.Channels[0].VerifyToken }},
	{"WAGATE_API_TOKEN", func(c *Config) Secret { return c.APIToken }},
	{"WAGATE_DATABASE_URL", func(c *Config) Secret { return c.DatabaseURL }},
}

func TestLoad_SecretFileVariants(t *testing.T) {
	t.Parallel()
	for _, sv := range secretVars {
		t.Run(sv.name, func(t *testing.T) {
			t.Parallel()
			value := "postgres://u:s3cr3t-" + strings.ToLower(sv.name) + "@db/x"

			b := setup(t)
			b.env = map[string]string{"WAGATE_PROVIDER": "demo", sv.name + "_FILE": "/run/secrets/x"}
			b.files["/run/secrets/x"] = value + "\n"
			if got := sv.get(b.mustLoad(t)).Reveal(); got != value {
				t.Errorf("from file: got %q, want %q (trailing newline trimmed)", got, value)
			}

			b = setup(t)
			b.env = map[string]string{"WAGATE_PROVIDER": "demo", sv.name: value, sv.name + "_FILE": "/run/secrets/x"}
			b.files["/run/secrets/x"] = value
			wantContains(t, b.loadErr(t), sv.name+" and "+sv.name+"_FILE are both set")

			b = setup(t)
			b.env = map[string]string{"WAGATE_PROVIDER": "demo", sv.name + "_FILE": "/missing"}
			msg := b.loadErr(t)
			wantContains(t, msg, sv.name+"_FILE: cannot read", "/missing")

			b = setup(t)
			b.env = map[string]string{"WAGATE_PROVIDER": "demo", sv.name + "_FILE": "/empty"}
			b.files["/empty"] = "\n"
			wantContains(t, b.loadErr(t), sv.name+"_FILE: the file /empty is empty")
		})
	}
	t.Run("content never in errors", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.env = map[string]string{"WAGATE_DATABASE_URL_FILE": "/db", "WAGATE_LISTEN": "nope"}
		b.files["/db"] = "mysql://root:TOPSECRET@db/x\r\n"
		_, err := b.load()
		if err == nil || strings.Contains(err.Error(), "TOPSECRET") {
			t.Errorf("err = %v", err)
		}
		wantContains(t, err.Error(), `WAGATE_DATABASE_URL_FILE: scheme "mysql" is not supported`, `WAGATE_LISTEN: "nope" is not host:port`)
	})
	t.Run("secret files in the config file are relative to it", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.env["WAGATE_CONFIG"] = "/etc/wagate/config.json"
		b.files["/etc/wagate/config.json"] = `{"api_token_file": "token", "channels": [
			{"name": "sales", "provider": "meta", "phone_number_id": "1", "access_token_file": "/abs/meta"}]}`
		b.files["/etc/wagate/token"] = "api-token\r\n"
		b.files["/abs/meta"] = "meta-token"
		cfg := b.mustLoad(t)
		ch, _ := cfg.Channel("sales")
		if cfg.APIToken.Reveal() != "api-token" || ch.AccessToken.Reveal() != "meta-token" {
			t.Errorf("APIToken = %q, AccessToken = %q", cfg.APIToken.Reveal(), ch.AccessToken.Reveal())
		}
	})
	t.Run("key and key_file both set in the config file", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.env["WAGATE_CONFIG"] = "/c.json"
		b.files["/c.json"] = `{"channels": [{"name": "sales", "api_key": "k", "api_key_file": "/k"}]}`
		wantContains(t, b.loadErr(t), `"api_key" of channel "sales" in /c.json and "api_key_file" of channel "sales" are both set`)
	})
}

func TestConfig_RedactsEverySecret(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.env = map[string]string{
		"WAGATE_PROVIDER":             "meta",
		"WAGATE_META_ACCESS_TOKEN":    "SECRET-access",
		"WAGATE_META_APP_SECRET":      "SECRET-app",
		"WAGATE_PHONE_NUMBER_ID":      "1234567",
		"WAGATE_360DIALOG_API_KEY":    "SECRET-apikey",
		"WAGATE_WEBHOOK_SECRET":       "SECRET-webhook",
		"WAGATE_WEBHOOK_VERIFY_TOKEN": "SECRET-verify",
		"WAGATE_API_TOKEN":            "SECRET-api",
		"WAGATE_DATABASE_URL":         "postgres://wagate:SECRET-dbpass@db.internal:5432/wagate?sslmode=disable&password=SECRET-q",
		"WAGATE_CONFIG":               "/c.json",
	}
	b.files["/c.json"] = `{"channels": [{"name": "shop", "provider": "360dialog", "api_key": "SECRET-file-key",
		"webhook_secret_file": "/w"}]}`
	b.files["/w"] = "SECRET-file-webhook\n"
	cfg := b.mustLoad(t)
	ch, _ := cfg.Channel("shop")

	noSecret := func(what, s string) {
		t.Helper()
		if strings.Contains(s, "SECRET") {
			t.Errorf("%s leaks a secret:\n%s", what, s)
		}
	}

	red, err := json.Marshal(cfg.Redacted())
	if err != nil {
		t.Fatal(err)
	}
	noSecret("Redacted", string(red))
	wantContains(t, string(red), `"api_token":"[redacted]"`, `"access_token":"[redacted]"`,
		`"database_url":"postgres://wagate:[redacted]@db.internal:5432/wagate?sslmode=disable\u0026password=[redacted]"`,
		`"webhook_url":"http://localhost:8080/webhooks/whatsapp/shop"`, `"app_secret":""`)

	noSecret("fmt", fmt.Sprintf("%v %+v %#v | %v %+v %#v | %v %+v %#v %s %q %x %d",
		cfg, cfg, cfg, *cfg, *cfg, *cfg, *ch, *ch, *ch, ch.APIKey, ch.APIKey, ch.APIKey, ch.APIKey))
	noSecret("fmt channels", fmt.Sprint(cfg.Channels, cfg.Channels[0]))

	var buf bytes.Buffer
	text := slog.New(slog.NewTextHandler(&buf, nil))
	jsonl := slog.New(slog.NewJSONHandler(&buf, nil))
	for _, l := range []*slog.Logger{text, jsonl} {
		l.Info("config", "cfg", cfg, "value", *cfg, "channel", ch, "channel_value", *ch, "key", ch.APIKey)
	}
	noSecret("slog", buf.String())
	wantContains(t, buf.String(), "cfg.api_token=[redacted]", `"api_key":"[redacted]"`, "channel.name=shop")

	js, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	noSecret("json.Marshal", string(js))
	noSecret("Warnings", strings.Join(cfg.Warnings(), "\n"))
	noSecret("WebhookURL", cfg.WebhookURL(ch))
	if got := cfg.WebhookURLWithToken(ch); !strings.Contains(got, "?token=SECRET-file-webhook") {
		t.Errorf("WebhookURLWithToken = %q", got)
	}

	// Validation errors never carry secrets either.
	cfg.DatabaseURL = "mysql://root:SECRET-x@db/x"
	cfg.Channels[0].BaseURL = "https://user:SECRET-y@graph.example.com"
	err = cfg.Validate()
	if err == nil {
		t.Fatal("Validate: want errors")
	}
	noSecret("Validate", err.Error())
}

func TestSecret_Formatting(t *testing.T) {
	t.Parallel()
	var empty Secret
	set := Secret("hunter2")
	if empty.String() != "" || set.String() != "[redacted]" || set.Reveal() != "hunter2" || !set.IsSet() || empty.IsSet() {
		t.Errorf("String/Reveal/IsSet wrong")
	}
	if got := fmt.Sprintf("%v|%s|%q|%#v|%x|%10d", set, set, set, set, set, set); got != `[redacted]|[redacted]|"[redacted]"|"[redacted]"|[redacted]|[redacted]` {
		t.Errorf("formatting: %s", got)
	}
	if got := fmt.Sprintf("%#v", Channel{APIKey: set}); !strings.Contains(got, `APIKey:"[redacted]"`) {
		t.Errorf("%%#v of Channel: %s", got)
	}
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"":                                     "",
		"postgres://u:p@h/db":                  "postgres://u:[redacted]@h/db",
		"postgres://u@h/db":                    "postgres://u@h/db",
		"postgres://h/db?password=x&sslmode=1": "postgres://h/db?password=[redacted]&sslmode=1",
		"postgres://u:p%40ss@h:5432/db":        "postgres://u:[redacted]@h:5432/db",
		"postgres://u:12/x@h/db":               "[redacted]",
		"postgres://u:p ss@h/%zz":              "[redacted]",
		"https://wa.example.com":               "https://wa.example.com",
	}
	for in, want := range tests {
		if got := redactURL(in); got != want {
			t.Errorf("redactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestValidate_ErrorsNameTheVariable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want []string
	}{
		{"listen", map[string]string{"WAGATE_LISTEN": "abc"}, nil, []string{`WAGATE_LISTEN: "abc" is not host:port`}},
		{"listen flag", nil, []string{"-listen", "localhost"}, []string{`-listen: "localhost" is not host:port`}},
		{"listen port range", map[string]string{"WAGATE_LISTEN": ":99999"}, nil, []string{`WAGATE_LISTEN: ":99999" is not host:port`}},
		{"public url scheme", map[string]string{"WAGATE_PUBLIC_URL": "wa.example.com"}, nil, []string{`WAGATE_PUBLIC_URL: "wa.example.com": it must start with https://`}},
		{"public url query", map[string]string{"WAGATE_PUBLIC_URL": "https://wa.example.com/?x=1"}, nil, []string{`WAGATE_PUBLIC_URL: "https://wa.example.com/?x=1": it must not have a query`}},
		{"database url", map[string]string{"WAGATE_DATABASE_URL": "mysql://u:p@h/db"}, nil, []string{`WAGATE_DATABASE_URL: scheme "mysql" is not supported: use postgres://`}},
		{"log level", map[string]string{"WAGATE_LOG_LEVEL": "verbose"}, nil, []string{`WAGATE_LOG_LEVEL: "verbose" is not a log level: use debug, info, warn or error`}},
		{"log format", map[string]string{"WAGATE_LOG_FORMAT": "xml"}, nil, []string{`WAGATE_LOG_FORMAT: "xml" is not a log format`}},
		{"body size syntax", map[string]string{"WAGATE_MAX_WEBHOOK_BODY": "1MB"}, nil, []string{`WAGATE_MAX_WEBHOOK_BODY: "1MB" is not a size: use bytes or a KiB/MiB suffix`}},
		{"body size range", map[string]string{"WAGATE_MAX_WEBHOOK_BODY": "65MiB"}, nil, []string{`WAGATE_MAX_WEBHOOK_BODY: 68157440 bytes is out of range`}},
		{"body size zero", map[string]string{"WAGATE_MAX_WEBHOOK_BODY": "0"}, nil, []string{`WAGATE_MAX_WEBHOOK_BODY: 0 bytes is out of range`}},
		{"recipient", map[string]string{"WHATSAPP_DEFAULT_RECIPIENT": "600123456"}, nil, []string{`WHATSAPP_DEFAULT_RECIPIENT: "600123456" is not an E.164 number`}},
		{"channel name", map[string]string{"WAGATE_CHANNEL": "Sales Team"}, nil, []string{`WAGATE_CHANNEL: "Sales Team" is not a valid channel name`}},
		{"provider", map[string]string{"WAGATE_PROVIDER": "twilio"}, nil, []string{`WAGATE_PROVIDER: "twilio" is not a provider: use demo, 360dialog, 360dialog-onpremise or meta`}},
		{"meta needs token and id", map[string]string{"WAGATE_PROVIDER": "meta"}, nil, []string{
			`WAGATE_META_ACCESS_TOKEN (or WHATSAPP_ACCESS_TOKEN) is required for provider "meta" on channel "default"`,
			`WAGATE_PHONE_NUMBER_ID (or WHATSAPP_PHONE_NUMBER_ID) is required for provider "meta" on channel "default"`,
		}},
		{"360 needs key", map[string]string{"WAGATE_PROVIDER": "360dialog-onpremise"}, nil, []string{
			`WAGATE_360DIALOG_API_KEY (or WHATSAPP_API_KEY, or THREESIXTY_DIALOG_API_KEY) is required for provider "360dialog-onpremise" on channel "default"`,
		}},
		{"phone number", map[string]string{"THREESIXTY_DIALOG_PHONE_NUMBER": "+34 600 11 22 33"}, nil, []string{`THREESIXTY_DIALOG_PHONE_NUMBER: "+34 600 11 22 33" is not an E.164 number`}},
		{"phone number id that is a number", map[string]string{"WHATSAPP_PHONE_NUMBER_ID": "+34600112233"}, nil, []string{`WHATSAPP_PHONE_NUMBER_ID: "+34600112233" looks like a phone number`}},
		{"api version", map[string]string{"WHATSAPP_API_VERSION": "23"}, nil, []string{`WHATSAPP_API_VERSION: "23" is not a Graph API version: use vNN.N`}},
		{"base url", map[string]string{"WHATSAPP_API_KEY": "k", "WAGATE_PROVIDER_BASE_URL": "waba.example.com"}, nil, []string{`WAGATE_PROVIDER_BASE_URL: "waba.example.com": it must start with https://`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			if tt.env != nil {
				b.env = tt.env
			}
			wantContains(t, b.loadErr(t, tt.args...), tt.want...)
		})
	}
	t.Run("all problems at once, config still returned", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.env = map[string]string{"WAGATE_LISTEN": "x", "WAGATE_LOG_LEVEL": "loud", "WAGATE_PROVIDER": "meta"}
		cfg, err := b.load()
		if cfg == nil || err == nil {
			t.Fatalf("cfg = %v, err = %v", cfg, err)
		}
		if n := len(strings.Split(err.Error(), "\n")); n != 4 {
			t.Errorf("want 4 problems, got %d:\n%v", n, err)
		}
	})
}

func TestLoad_ConfigFileErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, content string
		want          []string
	}{
		{"unknown key", `{"listen": ":1", "lisen": ":2"}`, []string{`config file /c.json (WAGATE_CONFIG): unknown key "lisen"`}},
		{"unknown channel key", `{"channels": [{"name": "a", "acess_token": "x"}]}`, []string{`config file /c.json (WAGATE_CONFIG): unknown key "acess_token"`}},
		{"syntax", "{\n  \"listen\": \":1\",\n}", []string{"config file /c.json (WAGATE_CONFIG): line 3, column 1", "fix the JSON syntax"}},
		{"wrong type", `{"channels": [{"name": "a", "phone_number_id": 123}]}`, []string{`"channels.phone_number_id" must be a string, not a number`}},
		{"trailing data", `{} {}`, []string{"unexpected data after the JSON object"}},
		{"empty", ``, []string{"the file is empty"}},
		{"channel without name", `{"channels": [{"provider": "demo"}]}`, []string{`config file /c.json: channels[0] has no "name"`}},
		{"bad size", `{"max_webhook_body": "lots"}`, []string{`"max_webhook_body" in /c.json: "lots" is not a size`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.env["WAGATE_CONFIG"] = "/c.json"
			b.files["/c.json"] = tt.content
			wantContains(t, b.loadErr(t), tt.want...)
		})
	}
	t.Run("missing file names the variable", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		wantContains(t, b.loadErr(t, "-config", "/nope.json"), "-config: cannot read the config file: open /nope.json")
	})
}

func TestLoad_ChannelsFromFile(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.env = map[string]string{
		"WAGATE_CONFIG":         "/c.json",
		"WAGATE_CHANNEL":        "main",
		"WHATSAPP_ACCESS_TOKEN": "env-token",
		"WAGATE_WEBHOOK_SECRET": "env-hook",
	}
	b.files["/c.json"] = `{"channels": [
		{"name": "sales", "provider": "360dialog", "api_key": "k-sales", "phone_number": "+34600000001"},
		{"name": "main", "access_token": "file-token", "phone_number_id": "111", "app_secret": "file-app", "waba_id": "999"},
		{"name": "support", "provider": "meta", "access_token": "t2", "phone_number_id": "222", "api_version": "v21.0", "base_url": "http://127.0.0.1:9/"},
		{"name": "lab"}
	]}`
	cfg := b.mustLoad(t)

	var names []string
	for _, ch := range cfg.Channels {
		names = append(names, ch.Name+"/"+string(ch.Provider))
	}
	if got := strings.Join(names, " "); got != "main/meta sales/360dialog support/meta lab/demo" {
		t.Fatalf("channels = %s", got)
	}
	main := cfg.DefaultChannel()
	if main.AccessToken.Reveal() != "env-token" || main.PhoneNumberID != "111" || main.AppSecret.Reveal() != "file-app" ||
		main.WebhookSecret.Reveal() != "env-hook" || main.WABAID != "999" || main.APIVersion != DefaultMetaAPIVersion {
		t.Errorf("merged main channel: env must win, file fills the rest: %+v", *main)
	}
	sales, _ := cfg.Channel("sales")
	if sales.APIKey.Reveal() != "k-sales" || sales.BaseURL != "https://waba-v2.360dialog.io" || sales.WebhookSecret.IsSet() {
		t.Errorf("sales: %+v", *sales)
	}
	support, _ := cfg.Channel("support")
	if support.APIVersion != "v21.0" || support.BaseURL != "http://127.0.0.1:9" {
		t.Errorf("support: %+v", *support)
	}

	t.Run("file only: the first file channel is the default", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.env["WAGATE_CONFIG"] = "/c.json"
		b.files["/c.json"] = `{"channels": [{"name": "sales"}, {"name": "support"}]}`
		cfg := b.mustLoad(t)
		if len(cfg.Channels) != 2 || cfg.DefaultChannel().Name != "sales" {
			t.Errorf("channels: %+v", cfg.Channels)
		}
	})
	t.Run("file channel named default goes first", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.env["WAGATE_CONFIG"] = "/c.json"
		b.files["/c.json"] = `{"channels": [{"name": "sales"}, {"name": "default", "api_key": "k"}]}`
		cfg := b.mustLoad(t)
		if len(cfg.Channels) != 2 || cfg.DefaultChannel().Name != "default" || cfg.DefaultChannel().Provider != Provider360Dialog {
			t.Errorf("channels: %+v", cfg.Channels)
		}
	})
	t.Run("file errors name the channel and the file", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.env["WAGATE_CONFIG"] = "/c.json"
		b.files["/c.json"] = `{"channels": [{"name": "sales", "provider": "meta", "phone_number": "0034"}]}`
		wantContains(t, b.loadErr(t),
			`"access_token" (or "access_token_file") in /c.json is required for provider "meta" on channel "sales"`,
			`"phone_number" of channel "sales" in /c.json: "0034" is not an E.164 number`)
	})
}

func TestValidate_DuplicateChannels(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.env["WAGATE_CONFIG"] = "/c.json"
	b.env["WHATSAPP_ACCESS_TOKEN"] = "t"
	b.env["WHATSAPP_PHONE_NUMBER_ID"] = "555"
	b.files["/c.json"] = `{"channels": [
		{"name": "sales"}, {"name": "sales"},
		{"name": "other", "provider": "meta", "access_token": "x", "phone_number_id": "555"}]}`
	wantContains(t, b.loadErr(t),
		`channel name "sales" is used twice ("name" of channels[0] in /c.json and "name" of channels[1] in /c.json)`,
		`"phone_number_id" of channel "other" in /c.json: phone number id "555" is used by channels "default" and "other"`)
}

func TestConfig_WebhookURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, listen, public, secret, want, withToken string
	}{
		{"listen all interfaces", ":8080", "", "", "http://localhost:8080/webhooks/whatsapp/sales", "http://localhost:8080/webhooks/whatsapp/sales"},
		{"listen host", "127.0.0.1:9000", "", "s", "http://127.0.0.1:9000/webhooks/whatsapp/sales", "http://127.0.0.1:9000/webhooks/whatsapp/sales?token=s"},
		{"listen ipv6 wildcard", "[::]:80", "", "", "http://localhost:80/webhooks/whatsapp/sales", "http://localhost:80/webhooks/whatsapp/sales"},
		{"public url", ":8080", "https://wa.example.com/", "a b&c", "https://wa.example.com/webhooks/whatsapp/sales", "https://wa.example.com/webhooks/whatsapp/sales?token=a+b%26c"},
		{"public url with path", ":8080", "https://example.com/wagate", "", "https://example.com/wagate/webhooks/whatsapp/sales", "https://example.com/wagate/webhooks/whatsapp/sales"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := &Config{Listen: tt.listen, PublicURL: tt.public}
			ch := &Channel{Name: "sales", WebhookSecret: Secret(tt.secret)}
			if got := cfg.WebhookURL(ch); got != tt.want {
				t.Errorf("WebhookURL = %q, want %q", got, tt.want)
			}
			if got := cfg.WebhookURLWithToken(ch); got != tt.withToken {
				t.Errorf("WebhookURLWithToken = %q, want %q", got, tt.withToken)
			}
		})
	}
	t.Run("loaded public url", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.env["WAGATE_PUBLIC_URL"] = "https://wa.example.com/"
		b.env["WAGATE_WEBHOOK_SECRET"] = "tok"
		cfg := b.mustLoad(t)
		if got := cfg.WebhookURL(cfg.DefaultChannel()); got != "https://wa.example.com/webhooks/whatsapp/default" {
			t.Errorf("WebhookURL = %q", got)
		}
	})
}

func TestParseSize(t *testing.T) {
	t.Parallel()
	tests := map[string]int64{"3145728": 3145728, "3MiB": 3 << 20, "512KiB": 512 << 10, "512 kib": 512 << 10, "100B": 100, " 7 ": 7}
	for in, want := range tests {
		if got, ok := parseSize(in); !ok || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "1MB", "1GiB", "-1", "1.5MiB", "MiB", "99999999999999999MiB"} {
		if got, ok := parseSize(in); ok {
			t.Errorf("parseSize(%q) = %d, want failure", in, got)
		}
	}
}

func TestLoad_FlagErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.load("-nope")
	if err == nil || !strings.Contains(err.Error(), "flag provided but not defined: -nope") {
		t.Errorf("unknown flag: %v", err)
	}
	if _, err := b.load("-h"); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v, want flag.ErrHelp", err)
	}
	if _, err := b.load("-listen", ":1", "extra"); err == nil || !strings.Contains(err.Error(), `unexpected argument "extra"`) {
		t.Errorf("positional: %v", err)
	}
}

func TestLoadFlags_SharesTheCallersFlagSet(t *testing.T) {
	t.Parallel()
	b := setup(t)
	fset := flag.NewFlagSet("serve", flag.ContinueOnError)
	fset.SetOutput(&bytes.Buffer{})
	printConfig := fset.Bool("print-config", false, "print the configuration")
	cfg, err := LoadFlags(fset, []string{"-print-config", "-listen", ":1234", "rest"}, b.getenv, b.readFile)
	if err != nil {
		t.Fatal(err)
	}
	if !*printConfig || cfg.Listen != ":1234" || fset.Arg(0) != "rest" {
		t.Errorf("print-config = %v, Listen = %q, args = %v", *printConfig, cfg.Listen, fset.Args())
	}
}

func TestValidate_HandBuiltConfig(t *testing.T) {
	t.Parallel()
	cfg := &Config{
		Listen: ":8080", DataDir: "/d", LogLevel: "debug", LogFormat: "json", MaxWebhookBody: 1,
		Channels: []Channel{
			{Name: "a", Provider: ProviderMeta, AccessToken: "t", PhoneNumberID: "1", APIVersion: "v23.0", BaseURL: ProviderMeta.DefaultBaseURL()},
			{Name: "b", Provider: Provider360Dialog, BaseURL: Provider360Dialog.DefaultBaseURL()},
			{Name: "c", Provider: ProviderMeta, AccessToken: "t", PhoneNumberID: "2"},
		},
	}
	err := cfg.Validate()
	if err == nil {
		t.Fatal("want errors")
	}
	wantContains(t, err.Error(),
		`"api_key" (or "api_key_file") in the config file is required for provider "360dialog" on channel "b"`,
		`"api_version" in the config file is empty on channel "c"`,
		`"base_url" in the config file is empty on channel "c": leave it unset for the default https://graph.facebook.com`)
	cfg.Channels = cfg.Channels[:1]
	if err := cfg.Validate(); err != nil {
		t.Errorf("valid config: %v", err)
	}
	if (&Config{}).Validate() == nil {
		t.Error("zero Config must not validate")
	}
}

func TestConfig_Warnings(t *testing.T) {
	t.Parallel()
	t.Run("demo defaults", func(t *testing.T) {
		t.Parallel()
		got := strings.Join(setup(t).mustLoad(t).Warnings(), "\n")
		wantContains(t, got,
			"API is open: WAGATE_API_TOKEN is not set",
			`demo mode: channel "default" has no provider credentials; sends are simulated`,
			`channel "default": webhook endpoint is open: no webhook secret (WAGATE_WEBHOOK_SECRET) is set`)
		if strings.Contains(got, "WAGATE_PUBLIC_URL") {
			t.Errorf("demo mode must not ask for a public URL:\n%s", got)
		}
	})
	t.Run("meta without app secret", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.env = map[string]string{"WHATSAPP_ACCESS_TOKEN": "t", "WHATSAPP_PHONE_NUMBER_ID": "1", "WAGATE_PUBLIC_URL": "http://wa.example.com", "WAGATE_API_TOKEN": "x"}
		got := strings.Join(b.mustLoad(t).Warnings(), "\n")
		wantContains(t, got,
			`channel "default": Meta channel without app secret: signatures are not checked; set WAGATE_META_APP_SECRET`,
			`channel "default": webhook endpoint is open`,
			`channel "default": no verify token (WAGATE_WEBHOOK_VERIFY_TOKEN) is set`,
			`WAGATE_PUBLIC_URL is "http://wa.example.com": Meta only calls https callback URLs`)
		if strings.Contains(got, "API is open") {
			t.Errorf("API token is set:\n%s", got)
		}
	})
	t.Run("fully configured meta has none", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.env = map[string]string{"WHATSAPP_ACCESS_TOKEN": "t", "WHATSAPP_PHONE_NUMBER_ID": "1", "WHATSAPP_APP_SECRET": "a",
			"WHATSAPP_WEBHOOK_VERIFY_TOKEN": "v", "WAGATE_PUBLIC_URL": "https://wa.example.com", "WAGATE_API_TOKEN": "x"}
		if got := b.mustLoad(t).Warnings(); len(got) != 0 {
			t.Errorf("warnings: %q", got)
		}
	})
	t.Run("360dialog without public url or with a port", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.env = map[string]string{"WHATSAPP_API_KEY": "k", "WAGATE_WEBHOOK_SECRET": "s"}
		wantContains(t, strings.Join(b.mustLoad(t).Warnings(), "\n"),
			"WAGATE_PUBLIC_URL is not set: the webhook URLs shown start with http://localhost:8080")
		b.env["WAGATE_PUBLIC_URL"] = "https://wa.example.com:8443"
		wantContains(t, strings.Join(b.mustLoad(t).Warnings(), "\n"), "360dialog rejects webhook URLs with a port")
	})
}

func TestLoad_DBMaxConns(t *testing.T) {
	t.Parallel()
	env := map[string]string{"WAGATE_DB_MAX_CONNS": "25"}
	cfg, err := Load(nil, func(k string) string { return env[k] }, nil)
	if err != nil || cfg.DatabaseMaxConns() != 25 {
		t.Fatalf("cfg = %v, err = %v", cfg, err)
	}
	env["WAGATE_DB_MAX_CONNS"] = "lots"
	if _, err := Load(nil, func(k string) string { return env[k] }, nil); err == nil || !strings.Contains(err.Error(), "WAGATE_DB_MAX_CONNS") {
		t.Fatalf("bad value err = %v", err)
	}
	env["WAGATE_DB_MAX_CONNS"] = "0"
	if _, err := Load(nil, func(k string) string { return env[k] }, nil); err == nil {
		t.Fatal("0 must be refused")
	}
}

func TestLoad_RatePerSecondAndDemoReplies(t *testing.T) {
	t.Parallel()
	env := map[string]string{"WAGATE_RATE_PER_SECOND": "250", "WAGATE_DEMO_REPLIES": "true"}
	cfg, err := Load(nil, func(k string) string { return env[k] }, nil)
	if err != nil || cfg.DefaultChannel().RatePerSecond != 250 || !cfg.DemoReplies {
		t.Fatalf("cfg = %+v, err = %v", cfg, err)
	}
	cfg, _ = Load(nil, nil, nil)
	if cfg.DefaultChannel().RatePerSecond != DefaultRatePerSecond {
		t.Fatalf("default rate = %v", cfg.DefaultChannel().RatePerSecond)
	}
	for _, bad := range []string{"fast", "-1", "1001"} {
		env["WAGATE_RATE_PER_SECOND"] = bad
		if _, err := Load(nil, func(k string) string { return env[k] }, nil); err == nil || !strings.Contains(err.Error(), "WAGATE_RATE_PER_SECOND") {
			t.Fatalf("%q: err = %v", bad, err)
		}
	}
	files := map[string]string{"/c.json": `{"channels":[{"name":"x","rate_per_second":500}]}`}
	cfg, err = Load([]string{"-config", "/c.json"}, nil, func(p string) ([]byte, error) { return []byte(files[p]), nil })
	if err != nil {
		t.Fatal(err)
	}
	if ch, ok := cfg.Channel("x"); !ok || ch.RatePerSecond != 500 {
		t.Fatalf("file rate: %+v", ch)
	}
}
