package subscriber

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestGuard_RefusesInternalAddressesAtDialTime(t *testing.T) {
	t.Parallel()
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits++ }))
	defer srv.Close()
	port := srv.URL[strings.LastIndex(srv.URL, ":"):]
	// "localhost" resolves to loopback only when dialled: the name passes no literal check, the dial is refused.
	for _, u := range []string{srv.URL, "http://localhost" + port} {
		resp, err := newClient(Guard{}, 2*time.Second).Post(u, "application/json", strings.NewReader("{}"))
		if err == nil {
			resp.Body.Close()
			t.Fatalf("%s: reached", u)
		}
		if !errors.Is(err, ErrBlockedAddress) {
			t.Fatalf("%s: %v, want ErrBlockedAddress", u, err)
		}
	}
	allowed := Guard{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
	resp, err := newClient(allowed, 2*time.Second).Post(srv.URL, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if hits != 1 {
		t.Fatalf("hits %d", hits)
	}
	if _, err := (Guard{}).dialContext(context.Background(), "tcp", srv.Listener.Addr().String()); !errors.Is(err, ErrBlockedAddress) {
		t.Fatalf("dial: %v", err)
	}
}

func TestGuard_Addresses(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]bool{
		"8.8.8.8": true, "2001:4860:4860::8888": true, "127.0.0.1": false, "10.1.2.3": false, "172.16.0.1": false,
		"192.168.1.1": false, "169.254.169.254": false, "100.64.0.1": false, "0.0.0.0": false, "::1": false,
		"fe80::1": false, "fd00::1": false, "::ffff:127.0.0.1": false, "64:ff9b::a00:1": false,
	} {
		if got := (Guard{}).Allowed(netip.MustParseAddr(addr)); got != want {
			t.Errorf("%s: allowed %t, want %t", addr, got, want)
		}
	}
	if !(Guard{AllowPrivate: true}).Allowed(netip.MustParseAddr("127.0.0.1")) {
		t.Error("AllowPrivate does not allow loopback")
	}
}

func TestSign_MatchesVerifyAndRejectsTampering(t *testing.T) {
	t.Parallel()
	secret := NewSecret()
	now := time.Now()
	body := []byte(`{"type":"test"}`)
	h := http.Header{}
	if err := signStandard(h, secret, "evt_1", now, body); err != nil {
		t.Fatal(err)
	}
	if err := Verify(secret, h, body, now, 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := Verify(secret, h, []byte(`{"type":"tost"}`), now, 5*time.Minute); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("tampered body: %v", err)
	}
	if err := Verify(NewSecret(), h, body, now, 5*time.Minute); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("other secret: %v", err)
	}
	if err := Verify(secret, h, body, now.Add(time.Hour), 5*time.Minute); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("stale timestamp: %v", err)
	}
	// The example of the Standard Webhooks specification: secret, id, timestamp and body give this signature.
	sig, err := Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0),
		[]byte(`{"test": 2432232314}`))
	if err != nil || sig != "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" {
		t.Fatalf("spec example: %q, %v", sig, err)
	}
}

func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{"https://example.com/hook", "http://127.0.0.1:8080/", "http://[::1]/", "http://localhost/",
		"ftp://x/", "https://user:pw@example.com/", "http://%zz", "", "https://example.com/#frag"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		g := Guard{}
		if err := g.CheckURL(raw); err == nil && !strings.HasPrefix(raw, "http") {
			t.Fatalf("%q accepted", raw)
		}
	})
}
