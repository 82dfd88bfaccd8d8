package auth

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ClientIP is a request's client address: the TCP peer, or, when the peer is one of the trusted proxies, the
// last address of X-Forwarded-For that is not itself a trusted proxy. Rate limits per client use it.
func ClientIP(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	peer = peer.Unmap()
	if !isTrusted(trusted, peer) {
		return peer.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a malformed entry: trust nothing left of it
		}
		hop = hop.Unmap()
		if !isTrusted(trusted, hop) {
			return hop.String()
		}
		peer = hop
	}
	return peer.String()
}

func isTrusted(trusted []netip.Prefix, ip netip.Addr) bool {
	for _, p := range trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
