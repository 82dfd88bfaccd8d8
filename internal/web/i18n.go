package web

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"slices"
	"strings"
)

// The translations: locales/<language>/<area>.json, each a flat object of key to text. Keys are unique across
// the files of a language, and every language has every key of English (a test checks both).
//
//go:embed locales
var localeFS embed.FS

// Languages lists the UI's languages; the first is the default and the fallback.
var Languages = []string{"en", "es"}

// Lang is one language's texts.
type Lang struct {
	Code     string
	msgs     map[string]string
	fallback *Lang
}

// T returns the text of key, formatted with args (fmt verbs) when there are any. A key missing in this language
// falls back to English, then to the key itself, so a gap shows but never breaks a page.
func (l *Lang) T(key string, args ...any) string {
	msg, ok := l.msgs[key]
	if !ok && l.fallback != nil {
		msg, ok = l.fallback.msgs[key]
	}
	if !ok {
		return key
	}
	if len(args) == 0 {
		return msg
	}
	return fmt.Sprintf(msg, args...)
}

// Has reports whether the language defines key itself.
func (l *Lang) Has(key string) bool {
	_, ok := l.msgs[key]
	return ok
}

// Plural returns the text of key+".one" when n is 1 and of key+".other" otherwise, formatted with n.
func (l *Lang) Plural(key string, n int) string {
	if n == 1 {
		return l.T(key+".one", n)
	}
	return l.T(key+".other", n)
}

type catalogue struct {
	langs map[string]*Lang
}

func (c *catalogue) get(code string) *Lang { return c.langs[code] }

func loadCatalogue() (*catalogue, error) {
	c := &catalogue{langs: map[string]*Lang{}}
	for _, code := range Languages {
		l := &Lang{Code: code, msgs: map[string]string{}}
		files, err := fs.Glob(localeFS, path.Join("locales", code, "*.json"))
		if err != nil {
			return nil, fmt.Errorf("web: translations: %w", err)
		}
		for _, f := range files {
			b, err := localeFS.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("web: translations: %w", err)
			}
			var m map[string]string
			if err := json.Unmarshal(b, &m); err != nil {
				return nil, fmt.Errorf("web: translations %s: %w", f, err)
			}
			for k, v := range m {
				if _, dup := l.msgs[k]; dup {
					return nil, fmt.Errorf("web: translations: key %q is defined twice in %s", k, code)
				}
				l.msgs[k] = v
			}
		}
		c.langs[code] = l
	}
	en := c.langs[Languages[0]]
	for _, l := range c.langs {
		if l != en {
			l.fallback = en
		}
	}
	return c, nil
}

// langFor picks the language of a request: the user's choice, else the language cookie, else the browser's
// Accept-Language, else English.
func (h *Handler) langFor(r *http.Request, userLang string) *Lang {
	if l := h.langs.get(userLang); l != nil {
		return l
	}
	if c, err := r.Cookie(langCookie); err == nil {
		if l := h.langs.get(c.Value); l != nil {
			return l
		}
	}
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
		base, _, _ := strings.Cut(tag, "-")
		if slices.Contains(Languages, base) {
			return h.langs.get(base)
		}
	}
	return h.langs.get(Languages[0])
}
