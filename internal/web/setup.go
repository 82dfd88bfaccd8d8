package web

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"

	"github.com/wagate/wagate/internal/auth"
	"github.com/wagate/wagate/internal/store"
)

// PrepareSetup makes the one-time code that the first-run page asks for before it creates the first director,
// when no user exists yet, and returns it ("" when users exist). The server prints it in its log at startup:
// only someone who can read the log (the operator) can claim a fresh installation, not whoever reaches its URL
// first.
func (h *Handler) PrepareSetup(ctx context.Context) (string, error) {
	n, err := h.st.UserCount(ctx)
	if err != nil {
		return "", err
	}
	h.setupMu.Lock()
	defer h.setupMu.Unlock()
	if n > 0 {
		h.setup = ""
		return "", nil
	}
	if h.setup == "" {
		tok, err := randomToken()
		if err != nil {
			return "", err
		}
		h.setup = strings.ToUpper(strings.NewReplacer("-", "", "_", "").Replace(tok))[:12]
	}
	return h.setup, nil
}

func (h *Handler) setupCode() string {
	h.setupMu.Lock()
	defer h.setupMu.Unlock()
	return h.setup
}

// setupView is what the first-run page shows.
type setupView struct {
	Email, Name, Error string
	NeedCode           bool
}

func (h *Handler) setupPage(w http.ResponseWriter, r *http.Request, _ *Session) error {
	n, err := h.st.UserCount(r.Context())
	if err != nil {
		return err
	}
	if n > 0 {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return nil
	}
	return h.renderSetup(w, r, http.StatusOK, setupView{NeedCode: !h.o.Demo})
}

func (h *Handler) renderSetup(w http.ResponseWriter, r *http.Request, status int, v setupView) error {
	return h.renderSignedOut(w, r, status, "setup", v)
}

// setupSubmit creates the first director and signs them in.
func (h *Handler) setupSubmit(w http.ResponseWriter, r *http.Request, _ *Session) error {
	if err := signedOutForm(w, r); err != nil {
		return err
	}
	n, err := h.st.UserCount(r.Context())
	if err != nil {
		return err
	}
	if n > 0 {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return nil
	}
	L := h.langFor(r, "")
	v := setupView{Email: strings.TrimSpace(r.PostFormValue("email")), Name: strings.TrimSpace(r.PostFormValue("name")),
		NeedCode: !h.o.Demo}
	ip := auth.ClientIP(r, h.o.TrustedProxies)
	if wait := h.logins.Blocked(ip); wait > 0 {
		v.Error = L.T("login.too_many", int(wait.Minutes())+1)
		return h.renderSetup(w, r, http.StatusTooManyRequests, v)
	}
	if v.NeedCode {
		code := strings.ToUpper(strings.TrimSpace(r.PostFormValue("code")))
		want := h.setupCode()
		if want == "" || subtle.ConstantTimeCompare([]byte(code), []byte(want)) != 1 {
			h.logins.Fail(ip)
			v.Error = L.T("setup.bad_code")
			return h.renderSetup(w, r, http.StatusUnauthorized, v)
		}
	}
	pw := r.PostFormValue("password")
	switch {
	case !strings.Contains(v.Email, "@") || len(v.Email) > 254:
		v.Error = L.T("user.bad_email")
	case auth.CheckPasswordPolicy(pw) != nil:
		v.Error = L.T("user.weak_password", auth.MinPasswordLen)
	case pw != r.PostFormValue("password2"):
		v.Error = L.T("user.password_mismatch")
	}
	if v.Error != "" {
		return h.renderSetup(w, r, http.StatusUnprocessableEntity, v)
	}
	hash, err := auth.HashPassword(pw, h.o.PasswordIterations)
	if err != nil {
		return err
	}
	u := store.User{Email: v.Email, Name: v.Name, Role: string(RoleDirector), PasswordHash: hash, Language: L.Code}
	if err := h.st.UserInsert(r.Context(), &u); err != nil {
		if errors.Is(err, store.ErrUserExists) {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return nil
		}
		return err
	}
	h.setupMu.Lock()
	h.setup = ""
	h.setupMu.Unlock()
	h.log.Info("first director created", "email", u.Email)
	if err := h.signIn(w, r, u); err != nil {
		return err
	}
	http.Redirect(w, r, "/settings", http.StatusSeeOther)
	return nil
}
