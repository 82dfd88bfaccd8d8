package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wagate/wagate/internal/health"
	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/store/sqlite"
)

type noChannels struct{}

func (noChannels) List() []Channel { return nil }
func (noChannels) Check(context.Context, string) (health.Report, bool) {
	return health.Report{}, false
}

type fixture struct {
	h   *Handler
	st  *store.Store
	srv *httptest.Server
}

// setup serves the UI alone on a fresh SQLite store, not in demo mode.
func setup(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	st := store.New(db, nil)
	t.Cleanup(func() { st.Close() })
	h, err := New(Options{Store: st, Channels: noChannels{}, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), PasswordIterations: 1000})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &fixture{h: h, st: st, srv: srv}
}

// browser is a client with cookies that does not follow redirects.
func (f *fixture) browser(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// get fetches path and returns the status, the body, and the pre-sign-in CSRF cookie.
func (f *fixture) get(t *testing.T, c *http.Client, path string) (int, string, string) {
	t.Helper()
	resp, err := c.Get(f.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	u, _ := url.Parse(f.srv.URL)
	var tok string
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == preCSRFCookie {
			tok = ck.Value
		}
	}
	return resp.StatusCode, string(b), tok
}

func (f *fixture) post(t *testing.T, c *http.Client, path string, form url.Values, header ...string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func TestSetup_NeedsTheCodeThenCreatesTheFirstDirector(t *testing.T) {
	t.Parallel()
	f := setup(t)
	code, err := f.h.PrepareSetup(context.Background())
	if err != nil || len(code) != 12 {
		t.Fatalf("setup code %q %v", code, err)
	}
	c := f.browser(t)
	if status, _, _ := f.get(t, c, "/login"); status != http.StatusSeeOther {
		t.Fatalf("sign-in page with no user: %d, want a redirect to the first-run page", status)
	}
	status, body, tok := f.get(t, c, "/setup")
	if status != http.StatusOK || !strings.Contains(body, `name="code"`) {
		t.Fatalf("first-run page: %d", status)
	}
	form := url.Values{"csrf": {tok}, "email": {"boss@example.com"}, "password": {"a long password"}, "password2": {"a long password"}}
	form.Set("code", "WRONGCODE000")
	if resp := f.post(t, c, "/setup", form); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong code: %d", resp.StatusCode)
	}
	form.Set("code", strings.ToLower(code))
	if resp := f.post(t, c, "/setup", url.Values{"email": form["email"], "code": form["code"]}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("no CSRF token: %d", resp.StatusCode)
	}
	form.Set("password2", "another long password")
	if resp := f.post(t, c, "/setup", form); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("passwords differ: %d", resp.StatusCode)
	}
	form.Set("password2", "a long password")
	if resp := f.post(t, c, "/setup", form); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/settings" {
		t.Fatalf("right code: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	u, err := f.st.UserGetByEmail(context.Background(), "boss@example.com")
	if err != nil || u.Role != "director" || strings.Contains(u.PasswordHash, "a long password") {
		t.Fatalf("first director: %+v %v", u, err)
	}
	// Once a user exists, the first-run page is gone, and its code with it.
	if status, _, _ := f.get(t, c, "/setup"); status != http.StatusSeeOther {
		t.Fatalf("first-run page after setup: %d", status)
	}
	if code, _ := f.h.PrepareSetup(context.Background()); code != "" {
		t.Fatalf("a setup code remains: %q", code)
	}
	// The new director is signed in.
	if status, _, _ := f.get(t, c, "/inbox"); status != http.StatusOK {
		t.Fatalf("inbox after setup: %d", status)
	}
}

func TestLogin_CSRFOriginAndRateLimit(t *testing.T) {
	t.Parallel()
	f := setup(t)
	hash := "pbkdf2-sha256$1000$c2FsdHNhbHRzYWx0c2FsdA$" // never matches: sign-ins fail
	if err := f.st.UserInsert(context.Background(), &store.User{Email: "a@example.com", Role: "agent", PasswordHash: hash + "AAAA"}); err != nil {
		t.Fatal(err)
	}
	c := f.browser(t)
	_, _, tok := f.get(t, c, "/login")
	if resp := f.post(t, c, "/login", url.Values{"email": {"a@example.com"}, "password": {"x"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("sign-in without the CSRF token: %d", resp.StatusCode)
	}
	form := url.Values{"csrf": {tok}, "email": {"a@example.com"}, "password": {"wrong"}}
	if resp := f.post(t, c, "/login", form, "Origin", "https://evil.example"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-origin sign-in: %d", resp.StatusCode)
	}
	for i := range 10 {
		if resp := f.post(t, c, "/login", form); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i, resp.StatusCode)
		}
	}
	resp := f.post(t, c, "/login", form)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("11th failed attempt: %d", resp.StatusCode)
	}
	// Without a session, pages send to the sign-in page and the live stream is refused.
	if status, _, _ := f.get(t, f.browser(t), "/inbox"); status != http.StatusSeeOther {
		t.Fatalf("inbox without a session: %d", status)
	}
}

func TestLocalPath_NeverLeavesTheSite(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"/inbox?x=1": "/inbox?x=1", "//evil.example": "", "https://evil.example": "",
		"/\\evil.example": "", "inbox": "", "/a\r\nLocation: x": ""} {
		if got := localPath(in); got != want {
			t.Errorf("localPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// signedInAs returns a client with a session of a new user of role.
func (f *fixture) signedInAs(t *testing.T, role string) *http.Client {
	t.Helper()
	email := role + "@example.com"
	u := store.User{Email: email, Role: role, PasswordHash: "pbkdf2-sha256$1$AAAAAAAAAAAAAAAAAAAAAA$AAAA"}
	if err := f.st.UserInsert(context.Background(), &u); err != nil {
		t.Fatal(err)
	}
	c := f.browser(t)
	rec := httptest.NewRecorder()
	if err := f.h.signIn(rec, httptest.NewRequest(http.MethodPost, "/login", nil), u); err != nil {
		t.Fatal(err)
	}
	srvURL, _ := url.Parse(f.srv.URL)
	c.Jar.SetCookies(srvURL, rec.Result().Cookies())
	return c
}

// TestRoutes_RolesHold walks every UI route: without a session each sends to the sign-in page, and an agent is
// refused every route that needs a director, before any handler runs.
func TestRoutes_RolesHold(t *testing.T) {
	t.Parallel()
	f := setup(t)
	agent := f.signedInAs(t, string(RoleAgent))
	anon := f.browser(t)
	directorOnly := 0
	for _, rt := range f.h.Routes() {
		if rt.Role == "" {
			continue
		}
		method, path, _ := strings.Cut(rt.Pattern, " ")
		path = strings.NewReplacer("{$}", "", "{id}", "x", "{name}", "x", "{code}", "x").Replace(path)
		for strings.Contains(path, "{") {
			a, b := strings.Index(path, "{"), strings.Index(path, "}")
			path = path[:a] + "x" + path[b+1:]
		}
		req := func(c *http.Client) int {
			r, _ := http.NewRequest(method, f.srv.URL+path, nil)
			resp, err := c.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		if got := req(anon); got != http.StatusSeeOther {
			t.Errorf("%s without a session: %d, want 303 to the sign-in page", rt.Pattern, got)
		}
		if rt.Role == RoleDirector {
			directorOnly++
			if got := req(agent); got != http.StatusForbidden {
				t.Errorf("%s as an agent: %d, want 403", rt.Pattern, got)
			}
		}
	}
	if directorOnly < 5 {
		t.Fatalf("only %d director routes found", directorOnly)
	}
}
