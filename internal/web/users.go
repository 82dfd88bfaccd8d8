package web

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/wagate/wagate/internal/auth"
	"github.com/wagate/wagate/internal/store"
)

// registerUsers mounts the users administration (directors) and every user's own account page.
func (h *Handler) registerUsers(mux *http.ServeMux) {
	h.page(mux, RoleDirector, "GET /settings/users", h.usersPage)
	h.page(mux, RoleDirector, "POST /settings/users", h.userAdd)
	h.page(mux, RoleDirector, "POST /settings/users/{id}/role", h.userRole)
	h.page(mux, RoleDirector, "POST /settings/users/{id}/password", h.userPassword)
	h.page(mux, RoleDirector, "POST /settings/users/{id}/disable", h.userDisable)
	h.page(mux, RoleDirector, "POST /settings/users/{id}/enable", h.userEnable)
	h.page(mux, RoleAgent, "GET /settings/account", h.accountPage)
	h.page(mux, RoleAgent, "POST /settings/account/password", h.accountPassword)
	h.page(mux, RoleAgent, "POST /settings/account/language", h.accountLanguage)
}

// usersView is what the users page shows; New holds the add form's values after a refusal.
type usersView struct {
	Tab    string
	Users  []store.User
	Roles  []Role
	Done   string // translation key of what was just done
	Error  string
	New    store.User
	Target string // the user an error is about
}

// usersDone are the confirmations the users page shows after a change (?done=...).
var usersDone = map[string]string{"added": "users.done_added", "role": "users.done_role", "password": "users.done_password",
	"disabled": "users.done_disabled", "enabled": "users.done_enabled"}

func (h *Handler) usersPage(w http.ResponseWriter, r *http.Request, s *Session) error {
	return h.renderUsers(w, r, s, http.StatusOK, usersView{Done: usersDone[r.URL.Query().Get("done")],
		New: store.User{Role: string(RoleAgent)}})
}

func (h *Handler) renderUsers(w http.ResponseWriter, r *http.Request, s *Session, status int, v usersView) error {
	us, err := h.st.UserList(r.Context())
	if err != nil {
		return err
	}
	v.Users, v.Roles, v.Tab = us, Roles, "users"
	return h.render(w, r, s, status, "settings_users", "settings", v)
}

func usersDoneRedirect(w http.ResponseWriter, r *http.Request, done string) {
	http.Redirect(w, r, "/settings/users?done="+done, http.StatusSeeOther)
}

// userAdd creates a user with an initial password.
func (h *Handler) userAdd(w http.ResponseWriter, r *http.Request, s *Session) error {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	u := store.User{Email: strings.TrimSpace(r.PostFormValue("email")), Name: strings.TrimSpace(r.PostFormValue("name")),
		Role: r.PostFormValue("role")}
	pw := r.PostFormValue("password")
	v := usersView{New: u}
	switch {
	case !ValidEmail(u.Email):
		v.Error = s.L.T("user.bad_email")
	case len(u.Name) > 200:
		v.Error = s.L.T("users.bad_name")
	case !ValidRole(u.Role):
		v.Error = s.L.T("users.bad_role")
	case auth.CheckPasswordPolicy(pw) != nil:
		v.Error = s.L.T("user.weak_password", auth.MinPasswordLen)
	}
	if v.Error != "" {
		return h.renderUsers(w, r, s, http.StatusUnprocessableEntity, v)
	}
	hash, err := auth.HashPassword(pw, h.o.PasswordIterations)
	if err != nil {
		return err
	}
	u.PasswordHash = hash
	if err := h.st.UserInsert(r.Context(), &u); errors.Is(err, store.ErrUserExists) {
		v.Error = s.L.T("users.exists")
		return h.renderUsers(w, r, s, http.StatusConflict, v)
	} else if err != nil {
		return err
	}
	h.log.Info("user added", "email", u.Email, "role", u.Role, "by", s.User.Email)
	usersDoneRedirect(w, r, "added")
	return nil
}

// ValidEmail reports whether e looks like an email address: something@something, at most 254 bytes, no spaces.
func ValidEmail(e string) bool {
	at := strings.IndexByte(e, '@')
	return at > 0 && at < len(e)-1 && len(e) <= 254 && !strings.ContainsAny(e, " \t\r\n")
}

// targetUser reads the user named in the path.
func (h *Handler) targetUser(r *http.Request) (store.User, error) {
	return h.st.UserGet(r.Context(), r.PathValue("id"))
}

func (h *Handler) userRole(w http.ResponseWriter, r *http.Request, s *Session) error {
	u, err := h.targetUser(r)
	if err != nil {
		return err
	}
	role := r.PostFormValue("role")
	if !ValidRole(role) {
		return h.renderUsers(w, r, s, http.StatusUnprocessableEntity, usersView{Error: s.L.T("users.bad_role"), Target: u.ID})
	}
	u.Role = role
	if err := h.st.UserUpdate(r.Context(), u); errors.Is(err, store.ErrLastDirector) {
		return h.renderUsers(w, r, s, http.StatusConflict, usersView{Error: s.L.T("users.last_director"), Target: u.ID})
	} else if err != nil {
		return err
	}
	h.log.Info("user role changed", "email", u.Email, "role", role, "by", s.User.Email)
	usersDoneRedirect(w, r, "role")
	return nil
}

// userPassword sets a new password for a user; their sessions end.
func (h *Handler) userPassword(w http.ResponseWriter, r *http.Request, s *Session) error {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	u, err := h.targetUser(r)
	if err != nil {
		return err
	}
	pw := r.PostFormValue("password")
	if auth.CheckPasswordPolicy(pw) != nil {
		return h.renderUsers(w, r, s, http.StatusUnprocessableEntity,
			usersView{Error: s.L.T("user.weak_password", auth.MinPasswordLen), Target: u.ID})
	}
	if u.PasswordHash, err = auth.HashPassword(pw, h.o.PasswordIterations); err != nil {
		return err
	}
	if err := h.st.UserUpdate(r.Context(), u); err != nil {
		return err
	}
	h.log.Info("user password reset", "email", u.Email, "by", s.User.Email)
	if u.ID == s.User.ID {
		// Their own sessions ended with the change, this one too: start a new one.
		if err := h.signIn(w, r, u); err != nil {
			return err
		}
	}
	usersDoneRedirect(w, r, "password")
	return nil
}

// userDisable stops a user from signing in and ends their sessions.
func (h *Handler) userDisable(w http.ResponseWriter, r *http.Request, s *Session) error {
	u, err := h.targetUser(r)
	if err != nil {
		return err
	}
	if u.Disabled() {
		usersDoneRedirect(w, r, "disabled")
		return nil
	}
	u.DisabledAt = h.now()
	if err := h.st.UserUpdate(r.Context(), u); errors.Is(err, store.ErrLastDirector) {
		return h.renderUsers(w, r, s, http.StatusConflict, usersView{Error: s.L.T("users.last_director"), Target: u.ID})
	} else if err != nil {
		return err
	}
	h.log.Info("user disabled", "email", u.Email, "by", s.User.Email)
	if u.ID == s.User.ID {
		h.clearCookie(w, sessionCookie)
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return nil
	}
	usersDoneRedirect(w, r, "disabled")
	return nil
}

func (h *Handler) userEnable(w http.ResponseWriter, r *http.Request, s *Session) error {
	u, err := h.targetUser(r)
	if err != nil {
		return err
	}
	if u.Disabled() {
		u.DisabledAt = time.Time{}
		if err := h.st.UserUpdate(r.Context(), u); err != nil {
			return err
		}
		h.log.Info("user enabled", "email", u.Email, "by", s.User.Email)
	}
	usersDoneRedirect(w, r, "enabled")
	return nil
}

// accountView is what the account page shows.
type accountView struct {
	Tab         string
	Done, Error string
}

func (h *Handler) accountPage(w http.ResponseWriter, r *http.Request, s *Session) error {
	v := accountView{Tab: "account"}
	switch r.URL.Query().Get("done") {
	case "password":
		v.Done = s.L.T("account.done_password")
	case "language":
		v.Done = s.L.T("account.done_language")
	}
	return h.render(w, r, s, http.StatusOK, "settings_account", "settings", v)
}

// accountPassword changes the signed-in user's own password, after checking the current one. Every session of
// theirs ends (a stolen cookie stops working); this browser gets a new one.
func (h *Handler) accountPassword(w http.ResponseWriter, r *http.Request, s *Session) error {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	ok, err := auth.VerifyPassword(s.User.PasswordHash, r.PostFormValue("current"))
	if err != nil && !errors.Is(err, auth.ErrBadHash) {
		return err
	}
	pw := r.PostFormValue("password")
	v := accountView{Tab: "account"}
	switch {
	case !ok:
		v.Error = s.L.T("account.wrong_password")
	case auth.CheckPasswordPolicy(pw) != nil:
		v.Error = s.L.T("user.weak_password", auth.MinPasswordLen)
	case pw != r.PostFormValue("password2"):
		v.Error = s.L.T("user.password_mismatch")
	}
	if v.Error != "" {
		return h.render(w, r, s, http.StatusUnprocessableEntity, "settings_account", "settings", v)
	}
	u := s.User
	if u.PasswordHash, err = auth.HashPassword(pw, h.o.PasswordIterations); err != nil {
		return err
	}
	if err := h.st.UserUpdate(r.Context(), u); err != nil {
		return err
	}
	if err := h.signIn(w, r, u); err != nil {
		return err
	}
	h.log.Info("password changed", "email", u.Email)
	http.Redirect(w, r, "/settings/account?done=password", http.StatusSeeOther)
	return nil
}

// accountLanguage saves the signed-in user's language ("" follows the browser).
func (h *Handler) accountLanguage(w http.ResponseWriter, r *http.Request, s *Session) error {
	code := r.PostFormValue("language")
	if code != "" && h.langs.get(code) == nil {
		return userError(http.StatusUnprocessableEntity, "account.bad_language")
	}
	u := s.User
	u.Language = code
	if err := h.st.UserUpdate(r.Context(), u); err != nil {
		return err
	}
	if code == "" {
		h.clearCookie(w, langCookie)
	} else {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: code, Path: "/", HttpOnly: true, Secure: h.o.SecureCookies,
			SameSite: http.SameSiteLaxMode, MaxAge: 365 * 24 * 3600})
	}
	http.Redirect(w, r, "/settings/account?done=language", http.StatusSeeOther)
	return nil
}
