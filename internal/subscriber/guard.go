package subscriber

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// ErrBlockedAddress is returned when a subscription URL resolves to an address the configuration does not allow.
var ErrBlockedAddress = errors.New("address not allowed")

// Guard decides which addresses deliveries may connect to: public addresses always; loopback, private,
// link-local, shared (CGNAT) and unspecified ones only when the operator allows them. It checks the address
// actually dialled, after DNS resolution, so a name that resolves to an internal address (DNS rebinding
// included) is refused too.
type Guard struct {
	AllowPrivate bool           // every address
	Allow        []netip.Prefix // these ranges besides public addresses
}

var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"), // shared address space (CGNAT)
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"), // NAT64 can reach any IPv4 address
	netip.MustParsePrefix("100::/64"),
}

// Allowed reports whether a connection to ip may be made.
func (g Guard) Allowed(ip netip.Addr) bool {
	ip = ip.Unmap()
	if g.AllowPrivate {
		return true
	}
	for _, p := range g.Allow {
		if p.Contains(ip) {
			return true
		}
	}
	if ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsUnspecified() ||
		ip.IsMulticast() || ip.IsInterfaceLocalMulticast() || !ip.IsValid() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// control is a net.Dialer Control function: it runs after resolution, with the address about to be dialled.
func (g Guard) control(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrBlockedAddress, address)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !g.Allowed(ip) {
		return fmt.Errorf("%w: %s is a loopback, private or link-local address (allow it with WAGATE_SUBSCRIBER_ALLOW_PRIVATE or WAGATE_SUBSCRIBER_ALLOW_CIDRS)", ErrBlockedAddress, host)
	}
	return nil
}

// CheckURL validates a subscription URL: absolute http(s), a host, no credentials, and, when the host is an
// IP address or "localhost", an address the guard allows. Names are checked again when dialled.
func (g Guard) CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return errors.New("must be an absolute http or https URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return errors.New("must use http or https")
	}
	if u.User != nil {
		return errors.New("must not contain a user name or password; use the signing secret to authenticate")
	}
	if u.Fragment != "" {
		return errors.New("must not have a #fragment")
	}
	if len(raw) > 2048 {
		return errors.New("is longer than 2,048 characters")
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		host = "127.0.0.1"
	}
	if ip, err := netip.ParseAddr(host); err == nil && !g.Allowed(ip) {
		return fmt.Errorf("points at %s, a loopback, private or link-local address: allow it with WAGATE_SUBSCRIBER_ALLOW_PRIVATE=true or WAGATE_SUBSCRIBER_ALLOW_CIDRS", u.Hostname())
	}
	return nil
}

// newClient returns the HTTP client of deliveries: the guard at dial time, no proxy from the environment, no
// redirects (a 3xx is the answer), and timeout per request.
func newClient(g Guard, timeout time.Duration) *http.Client {
	d := &net.Dialer{Timeout: min(timeout, 10*time.Second), KeepAlive: 30 * time.Second, Control: g.control}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          200,
		MaxIdleConnsPerHost:   100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   min(timeout, 10*time.Second),
		ResponseHeaderTimeout: timeout,
	}
	return &http.Client{
		Transport:     tr,
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// dialContext is used by tests of the guard.
func (g Guard) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{Timeout: 2 * time.Second, Control: g.control}
	return d.DialContext(ctx, network, addr)
}
