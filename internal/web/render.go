package web

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/wagate/wagate/internal/store"
)

// The page templates: templates/*.html. Each file defines its templates by name ({{define "inbox"}}); a page's
// content template gets a *View. "layout" wraps full pages; htmx requests get the content alone.
//
//go:embed templates
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

type pages struct {
	t *template.Template
}

func loadPages() (*pages, error) {
	t := template.New("").Funcs(funcs)
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	for _, f := range files {
		b, err := templateFS.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("web: templates: %w", err)
		}
		if _, err := t.New(f).Parse(string(b)); err != nil {
			return nil, fmt.Errorf("web: templates: %w", err)
		}
	}
	return &pages{t: t}, nil
}

// View is what every page's content template gets: the signed-in session and language, the page's own data,
// and the flags the layout shows.
type View struct {
	S    *Session
	L    *Lang
	CSRF string
	// Data is the page's own data.
	Data any
	// Title is the page title; Nav names the menu entry to highlight.
	Title, Nav string
	Demo       bool
	Path       string
	Now        time.Time
	Content    template.HTML
}

// render writes the page called name with data: the content alone for htmx requests (not boosted), inside the
// layout otherwise.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, s *Session, status int, name, nav string, data any) error {
	v := &View{S: s, L: s.L, CSRF: s.CSRF, Data: data, Nav: nav, Demo: h.o.Demo, Path: r.URL.RequestURI(), Now: h.now()}
	v.Title = s.L.T("nav." + nav)
	if r.Header.Get("HX-Request") != "" && r.Header.Get("HX-Boosted") == "" {
		return h.write(w, status, name, v)
	}
	var buf bytes.Buffer
	if err := h.pages.t.ExecuteTemplate(&buf, name, v); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	v.Content = template.HTML(buf.String()) // our own template's escaped output
	return h.write(w, status, "layout", v)
}

// renderFragment writes the template called name alone (an htmx swap target), with a View around data.
func (h *Handler) renderFragment(w http.ResponseWriter, r *http.Request, s *Session, status int, name string, data any) error {
	v := &View{S: s, L: s.L, CSRF: s.CSRF, Data: data, Demo: h.o.Demo, Path: r.URL.RequestURI(), Now: h.now()}
	return h.write(w, status, name, v)
}

// renderBare writes a page shown without a session (sign-in, first run).
func (h *Handler) renderBare(w http.ResponseWriter, r *http.Request, status int, name, csrf string, data any) error {
	L := h.langFor(r, "")
	v := &View{L: L, CSRF: csrf, Data: data, Demo: h.o.Demo, Path: r.URL.RequestURI(), Now: h.now(), Title: L.T("page." + name)}
	var buf bytes.Buffer
	if err := h.pages.t.ExecuteTemplate(&buf, name, v); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	v.Content = template.HTML(buf.String())
	return h.write(w, status, "bare", v)
}

func (h *Handler) write(w http.ResponseWriter, status int, name string, v *View) error {
	var buf bytes.Buffer
	if err := h.pages.t.ExecuteTemplate(&buf, name, v); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Vary", "HX-Request, Cookie")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// securityHeaders are set on every UI answer: no script but our own files, no framing, no sniffing.
func securityHeaders(w http.ResponseWriter) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "+
		"media-src 'self' blob:; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "same-origin")
}

// Error is a failure shown to a user: an HTTP status and the translation key of its explanation.
type Error struct {
	Status int
	Key    string
	Args   []any
}

func (e *Error) Error() string { return fmt.Sprintf("web: %d %s", e.Status, e.Key) }

// The common errors.
var (
	errNotFound        = &Error{Status: http.StatusNotFound, Key: "error.not_found"}
	errDirectorsOnly   = &Error{Status: http.StatusForbidden, Key: "error.directors_only"}
	errBadCSRF         = &Error{Status: http.StatusForbidden, Key: "error.csrf"}
	errForbiddenOrigin = &Error{Status: http.StatusForbidden, Key: "error.origin"}
	errFormTooLarge    = &Error{Status: http.StatusRequestEntityTooLarge, Key: "error.form_too_large"}
)

// userError is an Error with a status and key.
func userError(status int, key string, args ...any) *Error {
	return &Error{Status: status, Key: key, Args: args}
}

// fail shows err to the user: its own message for an Error, a generic one (and a log line) otherwise.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, s *Session, err error) {
	var we *Error
	if !errors.As(err, &we) {
		if errors.Is(err, store.ErrNotFound) {
			we = errNotFound
		} else {
			h.log.Error("ui request failed", "method", r.Method, "path", r.URL.Path, "err", err)
			we = &Error{Status: http.StatusInternalServerError, Key: "error.internal"}
		}
	}
	L := h.langFor(r, "")
	if s != nil {
		L = s.L
	}
	msg := L.T(we.Key, we.Args...)
	if r.Header.Get("HX-Request") != "" {
		// htmx swaps only 2xx answers by default: the error goes to the page's message area.
		w.Header().Set("HX-Retarget", "#flash")
		w.Header().Set("HX-Reswap", "innerHTML")
	}
	v := &View{S: s, L: L, Data: msg, Demo: h.o.Demo, Path: r.URL.RequestURI(), Now: h.now(), Title: L.T("error.title")}
	if s != nil {
		v.CSRF = s.CSRF
	}
	name := "error"
	if r.Header.Get("HX-Request") == "" {
		var buf bytes.Buffer
		if xerr := h.pages.t.ExecuteTemplate(&buf, "error", v); xerr == nil {
			v.Content = template.HTML(buf.String())
			name = "layout"
			if s == nil {
				name = "bare"
			}
		}
	}
	if werr := h.write(w, we.Status, name, v); werr != nil {
		h.log.Warn("ui error page", "err", werr)
	}
}

// staticHandler serves the embedded assets. Their URLs carry the version in the file name (htmx) or are
// revalidated (ours), so a new release is never served stale.
func staticHandler() http.Handler {
	sub, _ := fs.Sub(staticFS, "static")
	files := http.FileServerFS(sub)
	return http.StripPrefix("/static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		securityHeaders(w)
		if strings.HasSuffix(r.URL.Path, "/") || r.URL.Path == "" {
			http.NotFound(w, r)
			return
		}
		if strings.Contains(r.URL.Path, ".min.") {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "no-cache")
		}
		files.ServeHTTP(w, r)
	}))
}

// funcs are the template helpers shared by every page.
var funcs = template.FuncMap{
	// sub hands a nested template the page's View with other Data, so that a part rendered inside a page (a
	// bubble, a list) sees the same language and session as when it is rendered alone as a fragment.
	"sub": func(v *View, data any) *View {
		c := *v
		c.Data = data
		return &c
	},
	// ago is a compact relative time ("5 min", "3 h", "2 d") for lists; the full time goes in a title.
	"ago": func(L *Lang, now, t time.Time) string {
		if t.IsZero() {
			return ""
		}
		d := now.Sub(t)
		switch {
		case d < time.Minute:
			return L.T("time.now")
		case d < time.Hour:
			return L.T("time.minutes", int(d.Minutes()))
		case d < 24*time.Hour:
			return L.T("time.hours", int(d.Hours()))
		default:
			return L.T("time.days", int(d.Hours()/24))
		}
	},
	// clock is the time of day (15:04) of t in UTC, or the date when it is not today.
	"clock": func(now, t time.Time) string {
		if t.IsZero() {
			return ""
		}
		if now.UTC().Format("2006-01-02") == t.UTC().Format("2006-01-02") {
			return t.UTC().Format("15:04")
		}
		return t.UTC().Format("2006-01-02 15:04")
	},
	// iso is t in RFC 3339, for datetime attributes and titles.
	"iso": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	},
	"langs": func() []string { return Languages },
}
