package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/wagate/wagate/internal/auth"
	"github.com/wagate/wagate/internal/store"
)

// Cookie names. The session cookie holds a random secret whose SHA-256 is the stored session key.
const (
	sessionCookie = "wagate_session"
	preCSRFCookie = "wagate_csrf" // the double-submit token of the forms shown before sign-in
	langCookie    = "wagate_lang"
)

// DemoEmail is the address of the demo director that demo mode offers on the sign-in page.
const DemoEmail = "demo@wagate.invalid"

// Session is the signed-in user of a request, with the language the page is shown in.
type Session struct {
	User store.User
	CSRF string
	L    *Lang
	hash string
}

// Role is the user's role.
func (s *Session) Role() Role { return Role(s.User.Role) }

// Director reports whether the user is a director.
func (s *Session) Director() bool { return s.Role() == RoleDirector }

// allows reports whether the user's role includes need.
func (s *Session) allows(need Role) bool { return need == RoleAgent || s.Role() == RoleDirector }

// public mounts an endpoint anyone may reach; its handler gets a nil session.
func (h *Handler) public(mux *http.ServeMux, pattern string, fn handlerFunc) {
	h.routes = append(h.routes, Route{Pattern: pattern})
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		securityHeaders(w)
		if !safeMethod(r.Method) && !h.sameOrigin(r) {
			h.fail(w, r, nil, errForbiddenOrigin)
			return
		}
		if err := fn(w, r, nil); err != nil {
			h.fail(w, r, nil, err)
		}
	})
}

// page mounts an endpoint for signed-in users whose role includes need. Requests that change anything must
// carry the session's CSRF token (form field "csrf" or header X-CSRF-Token) and come from this origin.
func (h *Handler) page(mux *http.ServeMux, need Role, pattern string, fn handlerFunc) {
	h.routes = append(h.routes, Route{Pattern: pattern, Role: need})
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		securityHeaders(w)
		if r.Header.Get("HX-History-Restore-Request") != "" {
			// htmx restoring a page from history (Back, with no history cache) wants the whole page, though it
			// sends HX-Request: it is answered as a page load.
			r.Header.Del("HX-Request")
		}
		s, err := h.session(w, r)
		if err != nil {
			h.fail(w, r, nil, err)
			return
		}
		if s == nil {
			h.toLogin(w, r)
			return
		}
		if !s.allows(need) {
			h.fail(w, r, s, errDirectorsOnly)
			return
		}
		if !safeMethod(r.Method) {
			if !h.sameOrigin(r) {
				h.fail(w, r, s, errForbiddenOrigin)
				return
			}
			// Bound the body before anything reads it: a form's token is read from the body when the header
			// lacks it. A handler may bound its own form lower.
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
			ok, err := validCSRF(r, s.CSRF)
			if !ok {
				if tooBig := (*http.MaxBytesError)(nil); errors.As(err, &tooBig) {
					h.fail(w, r, s, errFormTooLarge)
				} else {
					h.fail(w, r, s, errBadCSRF)
				}
				return
			}
		}
		if err := fn(w, r, s); err != nil {
			h.fail(w, r, s, err)
		}
	})
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// sameOrigin refuses cross-site requests that browsers label: Sec-Fetch-Site cross-site, or an Origin whose
// host differs from the request's.
func (h *Handler) sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site == "cross-site" {
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" || origin == "null" {
		return origin == ""
	}
	u, err := url.Parse(origin)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}

// maxFormBody bounds the body of any form a page takes: the composer's, the largest, holds a file as large as
// WhatsApp takes and its text.
const maxFormBody = maxComposerForm

// formMemory is how much of a multipart form is kept in memory; the rest of its files goes to temporary files.
const formMemory = 8 << 20

// validCSRF reports whether the request carries the session's CSRF token, in the X-CSRF-Token header or as the
// form field csrf; err says why the form could not be read.
func validCSRF(r *http.Request, want string) (bool, error) {
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		if err := r.ParseMultipartForm(formMemory); err != nil && !errors.Is(err, http.ErrNotMultipart) {
			return false, err
		}
		got = r.PostFormValue("csrf")
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1, nil
}

// session returns the request's signed-in session, or nil when there is none (or it expired, or the user was
// disabled). A session seen again after a while has its expiry moved.
func (h *Handler) session(w http.ResponseWriter, r *http.Request) (*Session, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" || len(c.Value) > 100 {
		return nil, nil
	}
	hash := hashSecret(c.Value)
	now := h.now()
	ws, u, err := h.st.SessionGet(r.Context(), hash, now)
	if errors.Is(err, store.ErrNotFound) {
		h.clearCookie(w, sessionCookie)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if u.Disabled() {
		_ = h.st.SessionDelete(r.Context(), hash)
		h.clearCookie(w, sessionCookie)
		return nil, nil
	}
	if now.Sub(ws.LastSeenAt) > time.Minute {
		if err := h.st.SessionTouch(r.Context(), hash, now, now.Add(h.o.SessionTTL)); err != nil {
			h.log.Warn("session touch", "err", err)
		}
	}
	return &Session{User: u, CSRF: ws.CSRF, L: h.langFor(r, u.Language), hash: hash}, nil
}

// signIn starts a session for u and sets its cookie.
func (h *Handler) signIn(w http.ResponseWriter, r *http.Request, u store.User) error {
	secret, err := randomToken()
	if err != nil {
		return err
	}
	csrf, err := randomToken()
	if err != nil {
		return err
	}
	now := h.now()
	if err := h.st.SessionInsert(r.Context(), store.WebSession{Hash: hashSecret(secret), UserID: u.ID, CSRF: csrf,
		CreatedAt: now, ExpiresAt: now.Add(h.o.SessionTTL)}); err != nil {
		return err
	}
	if err := h.st.UserLoggedIn(r.Context(), u.ID, now); err != nil {
		h.log.Warn("record sign-in", "err", err)
	}
	h.sweepSessions(r.Context(), now)
	// Sessions expire on the server; the cookie lives as long as the browser keeps it, at most the TTL.
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: secret, Path: "/", HttpOnly: true, Secure: h.o.SecureCookies,
		SameSite: http.SameSiteLaxMode, MaxAge: int(h.o.SessionTTL / time.Second)})
	h.log.Info("signed in", "user", u.Email, "role", u.Role)
	return nil
}

func (h *Handler) clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", HttpOnly: true, Secure: h.o.SecureCookies,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// toLogin sends a visitor without a session to the sign-in page (htmx requests are told to reload there).
func (h *Handler) toLogin(w http.ResponseWriter, r *http.Request) {
	target := "/login"
	if r.Method == http.MethodGet && r.Header.Get("HX-Request") == "" && r.URL.Path != "/" {
		target += "?next=" + url.QueryEscape(r.URL.RequestURI())
	}
	if r.Header.Get("HX-Request") != "" {
		w.Header().Set("HX-Redirect", target)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// preCSRF returns the double-submit token of the sign-in forms, setting its cookie when there is none.
func (h *Handler) preCSRF(w http.ResponseWriter, r *http.Request) (string, error) {
	if c, err := r.Cookie(preCSRFCookie); err == nil && len(c.Value) >= 32 && len(c.Value) <= 64 {
		return c.Value, nil
	}
	tok, err := randomToken()
	if err != nil {
		return "", err
	}
	http.SetCookie(w, &http.Cookie{Name: preCSRFCookie, Value: tok, Path: "/", HttpOnly: true, Secure: h.o.SecureCookies,
		SameSite: http.SameSiteStrictMode})
	return tok, nil
}

func validPreCSRF(r *http.Request) bool {
	c, err := r.Cookie(preCSRFCookie)
	if err != nil || c.Value == "" {
		return false
	}
	ok, _ := validCSRF(r, c.Value)
	return ok
}

// loginView is what the sign-in page shows.
type loginView struct {
	Email, Next, Error string
	Demo, Setup        bool
}

func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request, _ *Session) error {
	if s, err := h.session(w, r); err == nil && s != nil {
		http.Redirect(w, r, "/inbox", http.StatusSeeOther)
		return nil
	}
	n, err := h.st.UserCount(r.Context())
	if err != nil {
		return err
	}
	if n == 0 && !h.o.Demo {
		http.Redirect(w, r, "/setup", http.StatusSeeOther)
		return nil
	}
	return h.renderLogin(w, r, http.StatusOK, loginView{Next: localPath(r.URL.Query().Get("next")), Demo: h.o.Demo})
}

func (h *Handler) renderLogin(w http.ResponseWriter, r *http.Request, status int, v loginView) error {
	return h.renderSignedOut(w, r, status, "login", v)
}

// renderSignedOut renders a page shown before sign-in, with the double-submit CSRF token of its form.
func (h *Handler) renderSignedOut(w http.ResponseWriter, r *http.Request, status int, name string, v any) error {
	tok, err := h.preCSRF(w, r)
	if err != nil {
		return err
	}
	return h.renderBare(w, r, status, name, tok, v)
}

// signedOutForm limits the body of a form posted before sign-in and checks its CSRF token.
func signedOutForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if !validPreCSRF(r) {
		return errBadCSRF
	}
	return nil
}

func (h *Handler) loginSubmit(w http.ResponseWriter, r *http.Request, _ *Session) error {
	if err := signedOutForm(w, r); err != nil {
		return err
	}
	ip := auth.ClientIP(r, h.o.TrustedProxies)
	email := strings.TrimSpace(r.PostFormValue("email"))
	v := loginView{Email: email, Next: localPath(r.PostFormValue("next")), Demo: h.o.Demo}
	L := h.langFor(r, "")
	if wait := h.logins.Blocked(ip); wait > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(int(wait.Seconds())+1))
		v.Error = L.T("login.too_many", int(wait.Minutes())+1)
		return h.renderLogin(w, r, http.StatusTooManyRequests, v)
	}
	u, ok, err := h.checkPassword(r.Context(), email, r.PostFormValue("password"))
	if err != nil {
		return err
	}
	if !ok {
		h.logins.Fail(ip)
		h.log.Info("sign-in refused", "email", email, "client", ip)
		v.Error = L.T("login.bad")
		return h.renderLogin(w, r, http.StatusUnauthorized, v)
	}
	if err := h.signIn(w, r, u); err != nil {
		return err
	}
	next := v.Next
	if next == "" {
		next = "/inbox"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

// checkPassword finds the user and checks the password. Unknown users cost a hash too, so that timing does
// not tell which emails exist.
func (h *Handler) checkPassword(ctx context.Context, email, password string) (store.User, bool, error) {
	u, err := h.st.UserGetByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) || err == nil && (u.Disabled() || u.Email == DemoEmail) {
		_, _ = auth.HashPassword(password, h.o.PasswordIterations)
		return store.User{}, false, nil
	}
	if err != nil {
		return store.User{}, false, err
	}
	ok, err := auth.VerifyPassword(u.PasswordHash, password)
	if err != nil && !errors.Is(err, auth.ErrBadHash) {
		return store.User{}, false, err
	}
	return u, ok, nil
}

// loginDemo signs in as the demo director; only in demo mode.
func (h *Handler) loginDemo(w http.ResponseWriter, r *http.Request, _ *Session) error {
	if !h.o.Demo {
		return errNotFound
	}
	if err := signedOutForm(w, r); err != nil {
		return err
	}
	u, err := h.st.UserGetByEmail(r.Context(), DemoEmail)
	if errors.Is(err, store.ErrNotFound) {
		// The demo director has a random password nobody knows: it can only sign in through this button.
		pw, perr := randomToken()
		if perr != nil {
			return perr
		}
		hash, herr := auth.HashPassword(pw, 1)
		if herr != nil {
			return herr
		}
		u = store.User{Email: DemoEmail, Name: "Demo director", Role: string(RoleDirector), PasswordHash: hash}
		if err = h.st.UserInsert(r.Context(), &u); errors.Is(err, store.ErrUserExists) {
			u, err = h.st.UserGetByEmail(r.Context(), DemoEmail)
		}
	}
	if err != nil {
		return err
	}
	if err := h.signIn(w, r, u); err != nil {
		return err
	}
	http.Redirect(w, r, "/inbox", http.StatusSeeOther)
	return nil
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request, s *Session) error {
	if err := h.st.SessionDelete(r.Context(), s.hash); err != nil {
		return err
	}
	h.clearCookie(w, sessionCookie)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}

// switchLanguage remembers the chosen language (in a cookie, and for a signed-in user in their profile) and goes
// back to the page it was chosen on.
func (h *Handler) switchLanguage(w http.ResponseWriter, r *http.Request, _ *Session) error {
	code := r.PathValue("code")
	if h.langs.get(code) == nil {
		return errNotFound
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: code, Path: "/", HttpOnly: true, Secure: h.o.SecureCookies,
		SameSite: http.SameSiteLaxMode, MaxAge: 365 * 24 * 3600})
	if s, err := h.session(w, r); err == nil && s != nil && s.User.Language != code {
		s.User.Language = code
		if err := h.st.UserUpdate(r.Context(), s.User); err != nil {
			return err
		}
	}
	back := localPath(r.URL.Query().Get("back"))
	if back == "" {
		back = "/inbox"
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
	return nil
}

// localPath returns p when it is a path on this site ("/inbox?x=1"), "" otherwise: redirects never leave it.
func localPath(p string) string {
	if p == "" || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") ||
		strings.ContainsAny(p, "\r\n\t") {
		return ""
	}
	return p
}

func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func hashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// sweepEvery is how often sign-ins also delete the expired sessions.
const sweepEvery = time.Hour

// sweepSessions deletes expired sessions, at most once per sweepEvery per instance.
func (h *Handler) sweepSessions(ctx context.Context, now time.Time) {
	h.setupMu.Lock()
	due := now.Sub(h.swept) >= sweepEvery
	if due {
		h.swept = now
	}
	h.setupMu.Unlock()
	if !due {
		return
	}
	if n, err := h.st.SessionDeleteExpired(ctx, now); err != nil {
		h.log.Warn("delete expired sessions", "err", err)
	} else if n > 0 {
		h.log.Info("deleted expired sessions", "count", n)
	}
}
