package httpapi

import (
	"net/http"
	"net/netip"
	"net/url"
	"testing"
	"time"

	"github.com/wagate/wagate/internal/auth"
)

// The decoders of tokens, contacts and listing filters take bytes from any API client: they must answer every
// input with a value or a catalogue error, never a panic, and what they accept must hold their promises.

func FuzzDecodeTokenRequest(f *testing.F) {
	for _, s := range []string{`{"name":"crm","scopes":["send","read"]}`, `{"name":"crm","scopes":"admin"}`,
		`{"name":"x","scopes":"send","rate_per_minute":10,"rate_per_hour":-1}`, `{"scopes":null}`, `[]`, `{"name":"\u0000"}`, `{`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		spec, e := decodeTokenRequest(body)
		if e != nil {
			if e.Code == "" || e.Status < 400 {
				t.Fatalf("error without code: %+v", e)
			}
			return
		}
		if err := spec.Check(); err != nil {
			t.Fatalf("accepted a spec its check refuses: %v", err)
		}
	})
}

func FuzzDecodeContact(f *testing.F) {
	for _, s := range []string{`{"phone":"+34696247355","name":"Ana","external_ref":"c-1"}`, `{"phone":"12"}`,
		`{"name":null,"external_ref":null}`, `{"external_ref":""}`, `{"phone":5}`, `{"x":1}`, `"str"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if c, e := decodeContactCreate(body); e == nil {
			if c.Phone == "" || c.Phone[0] != '+' || checkText(c.Name, maxName) != "" || checkText(c.ExternalRef, maxRef) != "" {
				t.Fatalf("accepted %+v", c)
			}
		} else if e.Code == "" {
			t.Fatalf("error without code: %+v", e)
		}
		if p, e := decodeContactPatch(body); e == nil {
			if p.Name == nil && p.ExternalRef == nil {
				t.Fatal("accepted an empty patch")
			}
		} else if e.Code == "" {
			t.Fatalf("error without code: %+v", e)
		}
	})
}

func FuzzListQueries(f *testing.F) {
	for _, s := range []string{"limit=5&cursor=abc&since=2026-01-01T00:00:00Z&until=1800000000", "status=read&direction=in",
		"q=%2B34+696&external_ref=x&channel=default", "state=failed&since=-1", "unread=maybe", "%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		if m, e := messageQuery(q); e == nil && !m.Since.IsZero() && !m.Until.IsZero() && !m.Until.After(m.Since) {
			t.Fatalf("accepted until before since: %+v", m)
		}
		_, _ = contactQuery(q)
		_, _ = conversationQuery(q)
		_, _ = eventQuery(q)
	})
}

func FuzzClientIP(f *testing.F) {
	f.Add("10.0.0.1:5000", "203.0.113.7, 10.0.0.2")
	f.Add("[::1]:80", "::ffff:1.2.3.4")
	f.Add("garbage", ",,,")
	a := newAccess(nil, nil, "", AccessOptions{RequireTokens: true, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}, time.Now)
	f.Fuzz(func(t *testing.T, remote, xff string) {
		r := &http.Request{RemoteAddr: remote, Header: http.Header{"X-Forwarded-For": {xff}}}
		ip := a.clientIP(r)
		if peer, err := netip.ParseAddrPort(remote); err == nil && !netip.MustParsePrefix("10.0.0.0/8").Contains(peer.Addr().Unmap()) && ip != peer.Addr().Unmap().String() {
			t.Fatalf("untrusted peer %s reported as %s", remote, ip)
		}
	})
}

func FuzzScopes(f *testing.F) {
	f.Add("send,read,admin")
	f.Add(" ,READ")
	f.Fuzz(func(t *testing.T, s string) {
		sc, err := auth.ParseScopes(s)
		if err == nil && (len(sc) == 0 || len(sc) > 3) {
			t.Fatalf("%q: %v", s, sc)
		}
	})
}
