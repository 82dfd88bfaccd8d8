package config

import (
	"log/slog"
	"net/url"
	"strings"
)

// Redacted returns the whole configuration as a JSON-ready map for `wagate serve --print-config`, keyed
// like the config file, with every secret replaced by "[redacted]" ("" when unset). The database URL
// keeps everything but its password. Each channel also shows its "webhook_url" (without the token).
func (c *Config) Redacted() map[string]any {
	channels := make([]map[string]any, 0, len(c.Channels))
	for i := range c.Channels {
		ch := &c.Channels[i]
		m := ch.redacted()
		m["webhook_url"] = c.WebhookURL(ch)
		channels = append(channels, m)
	}
	return map[string]any{
		"listen":            c.Listen,
		"public_url":        redactURL(c.PublicURL),
		"data_dir":          c.DataDir,
		"database_url":      redactURL(c.DatabaseURL.Reveal()),
		"config_file":       c.ConfigFile,
		"log_level":         c.LogLevel,
		"log_format":        c.LogFormat,
		"api_token":         c.APIToken.String(),
		"max_webhook_body":  c.MaxWebhookBody,
		"db_max_conns":      c.DBMaxConns,
		"default_recipient": c.DefaultRecipient,
		"channels":          channels,
	}
}

// redacted is the channel keyed like the config file, secrets redacted.
func (ch *Channel) redacted() map[string]any {
	m := map[string]any{
		"name":            ch.Name,
		"provider":        string(ch.Provider),
		"phone_number_id": ch.PhoneNumberID,
		"phone_number":    ch.PhoneNumber,
		"waba_id":         ch.WABAID,
		"api_key":         ch.APIKey.String(),
		"access_token":    ch.AccessToken.String(),
		"app_secret":      ch.AppSecret.String(),
		"api_version":     ch.APIVersion,
		"base_url":        redactURL(ch.BaseURL),
		"webhook_secret":  ch.WebhookSecret.String(),
		"verify_token":    ch.VerifyToken.String(),
		"rate_per_second": ch.RatePerSecond,
		"read_receipts":   ch.SendsReadReceipts(),
	}
	m["template_namespace"], m["window_check"] = ch.TemplateNamespace, ch.WindowCheck
	return m
}

// LogValue implements slog.LogValuer: the configuration as a group, secrets redacted, channels by name.
func (c *Config) LogValue() slog.Value {
	names := make([]string, 0, len(c.Channels))
	for i := range c.Channels {
		names = append(names, c.Channels[i].Name)
	}
	database := "sqlite:" + c.SQLitePath()
	if !c.SQLite() {
		database = redactURL(c.DatabaseURL.Reveal())
	}
	return slog.GroupValue(
		slog.String("listen", c.Listen),
		slog.String("public_url", redactURL(c.PublicURL)),
		slog.String("data_dir", c.DataDir),
		slog.String("database", database),
		slog.String("config_file", c.ConfigFile),
		slog.String("log_level", c.LogLevel),
		slog.String("log_format", c.LogFormat),
		slog.String("api_token", c.APIToken.String()),
		slog.Int64("max_webhook_body", c.MaxWebhookBody),
		slog.String("default_recipient", c.DefaultRecipient),
		slog.String("channels", strings.Join(names, ",")),
	)
}

// LogValue implements slog.LogValuer: the channel as a group, secrets redacted.
func (ch *Channel) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("name", ch.Name),
		slog.String("provider", string(ch.Provider)),
		slog.String("phone_number_id", ch.PhoneNumberID),
		slog.String("phone_number", ch.PhoneNumber),
		slog.String("waba_id", ch.WABAID),
		slog.String("api_version", ch.APIVersion),
		slog.String("base_url", redactURL(ch.BaseURL)),
		slog.String("api_key", ch.APIKey.String()),
		slog.String("access_token", ch.AccessToken.String()),
		slog.String("app_secret", ch.AppSecret.String()),
		slog.String("webhook_secret", ch.WebhookSecret.String()),
		slog.String("verify_token", ch.VerifyToken.String()),
	)
}

// redactURL returns s with the password of its user info and the values of query parameters whose name
// contains "password" replaced by "[redacted]"; an s that does not parse is redacted whole.
func redactURL(s string) string {
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil {
		return redactedText
	}
	out := s
	if sep := strings.Index(s, "://"); sep >= 0 {
		rest := s[sep+3:]
		end := strings.IndexAny(rest, "/?#")
		if end < 0 {
			end = len(rest)
		}
		at := strings.LastIndex(rest[:end], "@")
		switch {
		case u.User == nil && strings.Contains(rest, "@"):
			// An unescaped '/', '?' or '#' in a password moves it out of the user info: hide it all.
			return redactedText
		case u.User != nil && at >= 0:
			if _, has := u.User.Password(); has {
				// Rebuild scheme://user:[redacted]@host... by hand: url.URL.String would escape the brackets.
				user, _, _ := strings.Cut(rest[:at], ":")
				out = s[:sep+3] + user + ":" + redactedText + rest[at:]
			}
		}
	} else if u.User != nil {
		return redactedText
	}
	if u.RawQuery != "" {
		q, frag, _ := strings.Cut(out[strings.Index(out, "?")+1:], "#")
		parts := strings.Split(q, "&")
		changed := false
		for i, p := range parts {
			k, _, _ := strings.Cut(p, "=")
			if name, err := url.QueryUnescape(k); err == nil && strings.Contains(strings.ToLower(name), "password") {
				parts[i] = k + "=" + redactedText
				changed = true
			} else if err != nil {
				return redactedText
			}
		}
		if changed {
			out = out[:strings.Index(out, "?")+1] + strings.Join(parts, "&")
			if frag != "" {
				out += "#" + frag
			}
		}
	}
	return out
}
