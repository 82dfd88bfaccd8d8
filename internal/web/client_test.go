package web_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// client is a signed-in HTTP client of the UI with the session's CSRF token.
type client struct {
	t    *testing.T
	base string
	hc   *http.Client
	csrf string
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// signIn signs in through the sign-in form and reads the session's CSRF token from a page.
func signIn(t *testing.T, base, email, password string) *client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &client{t: t, base: base, hc: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	_, body := c.get("/login")
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no csrf field on the sign-in page:\n%s", body)
	}
	resp, err := c.hc.PostForm(base+"/login", url.Values{"csrf": {m[1]}, "email": {email}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	c.readCSRF()
	return c
}

// readCSRF reads the session's CSRF token from a page (a new session has a new one).
func (c *client) readCSRF() {
	c.t.Helper()
	status, body := c.get("/settings/account")
	m := csrfField.FindStringSubmatch(body)
	if status != http.StatusOK || m == nil {
		c.t.Fatalf("not signed in: %d\n%s", status, body)
	}
	c.csrf = m[1]
}

// do sends req and returns the answer's status and body; redirects are not followed.
func (c *client) do(req *http.Request) (int, string) {
	c.t.Helper()
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (c *client) get(path string) (int, string) {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.base+path, nil)
	return c.do(req)
}

// post sends a form as htmx does (CSRF header, HX-Request) and returns the answer; redirects are not followed.
func (c *client) post(path string, form url.Values) (int, string) {
	c.t.Helper()
	return c.htmx(http.MethodPost, path, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()), true)
}

// htmx sends a request as htmx does: with HX-Request and the session's CSRF header (unless csrf is false).
func (c *client) htmx(method, path, contentType string, body io.Reader, csrf bool) (int, string) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.base+path, body)
	req.Header.Set("HX-Request", "true")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if csrf {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	return c.do(req)
}
