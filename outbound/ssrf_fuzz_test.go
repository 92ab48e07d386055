package outbound_test

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/s2skit/s2s/outbound"
	"github.com/stretchr/testify/require"
)

// The oracle: the refused ranges written as prefixes, checked with netip's Contains, the
// embedded IPv4 address of each IPv6 form taken out byte by byte.
var (
	oracleDeny4 = prefixes("0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
		"172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15",
		"198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4")
	oracleDeny6 = prefixes("2001:db8::/32", "3fff::/20", "64:ff9b:1::/48")
)

func prefixes(ss ...string) []netip.Prefix {
	var ps []netip.Prefix
	for _, s := range ss {
		ps = append(ps, netip.MustParsePrefix(s))
	}
	return ps
}

func inAny(ps []netip.Prefix, a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

var parsed = map[string]netip.Prefix{}

func init() {
	for _, p := range []string{"64:ff9b::/96", "2002::/16", "2001::/32", "2001::/23", "2000::/3"} {
		parsed[p] = netip.MustParsePrefix(p)
	}
}

func in(p string, a netip.Addr) bool { return parsed[p].Contains(a) }

func v4At(b [16]byte, i int) netip.Addr { return netip.AddrFrom4([4]byte(b[i : i+4])) }

func oracleRefused4(a netip.Addr) bool { return inAny(oracleDeny4, a) }

func oracleRefused(a netip.Addr) bool {
	if a.Zone() != "" {
		return true
	}
	if a.Is4() {
		return oracleRefused4(a)
	}
	b := a.As16()
	switch {
	case a.Is4In6():
		return oracleRefused4(a.Unmap())
	case in("64:ff9b::/96", a):
		return oracleRefused4(v4At(b, 12))
	case in("2002::/16", a):
		return oracleRefused4(v4At(b, 2))
	case in("2001::/32", a):
		client := v4At(b, 12).As4()
		for i := range client {
			client[i] ^= 0xff
		}
		return oracleRefused4(netip.AddrFrom4(client)) || oracleRefused4(v4At(b, 4))
	case inAny(oracleDeny6, a), in("2001::/23", a):
		return true
	}
	return !in("2000::/3", a)
}

// FuzzRefusedAddr checks the guard's classifier against the prefix oracle on any 16 bytes
// (as IPv6, and their last 4 as IPv4), and that nothing it allows is, for net/netip,
// loopback, private, link-local, multicast, unspecified or outside global unicast.
func FuzzRefusedAddr(f *testing.F) {
	for _, r := range refused {
		b := netip.MustParseAddr(r.addr).As16()
		f.Add(b[:])
	}
	for _, p := range public {
		b := netip.MustParseAddr(p).As16()
		f.Add(b[:])
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if len(raw) != 16 {
			return
		}
		b := [16]byte(raw)
		for _, a := range []netip.Addr{netip.AddrFrom16(b), netip.AddrFrom4([4]byte(b[12:]))} {
			got := outbound.RefusedAddr(a) != ""
			require.Equal(t, oracleRefused(a), got, "%s", a)
			if !got {
				u := a.Unmap()
				require.False(t, u.IsLoopback() || u.IsPrivate() || u.IsLinkLocalUnicast() || u.IsLinkLocalMulticast() ||
					u.IsInterfaceLocalMulticast() || u.IsMulticast() || u.IsUnspecified() || !u.IsGlobalUnicast(),
					"rule: an allowed address is global unicast for net/netip: %s", a)
			}
		}
	})
}

// inetAton reports whether h is an IPv4 address in any form that inet_aton(3) reads: one to
// four parts, each decimal, octal (a leading 0) or hex (0x), the parts' ranges aside.
func inetAton(h string) bool {
	parts := strings.Split(h, ".")
	if len(parts) > 4 {
		return false
	}
	for _, p := range parts {
		digits := "0123456789"
		switch {
		case len(p) >= 2 && (p[:2] == "0x" || p[:2] == "0X"):
			p, digits = p[2:], "0123456789abcdefABCDEF"
			if p == "" {
				continue // "0x" alone is 0
			}
		case len(p) > 1 && p[0] == '0':
			p, digits = p[1:], "01234567"
		}
		if p == "" || strings.Trim(p, digits) != "" {
			return false
		}
	}
	return true
}

// FuzzHostProblem: a host name the guard lets through is not an address in any spelling
// (inet_aton's, net's, netip's), has no trailing dot, and is ASCII letters, digits, '-',
// '_' and dots; an inet_aton spelling is never let through.
func FuzzHostProblem(f *testing.F) {
	for _, s := range []string{"2130706433", "0177.0.0.1", "0x7f.1", "127.1", "tracker.example", "localhost.",
		"1.2.3.4", "0x", "a.0x1g", "xn--bcher-kva.example", "a_b.example", "-a.example", "1e100.net"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		p, text := outbound.HostProblem(h)
		if inetAton(h) || inetAton(strings.TrimSuffix(h, ".")) {
			require.NotZero(t, p, "rule: %q is an address, refused", h)
		}
		if p != 0 {
			require.NotEmpty(t, text)
			return
		}
		require.Empty(t, text)
		_, err := netip.ParseAddr(h)
		require.Error(t, err)
		require.Nil(t, net.ParseIP(h))
		require.False(t, strings.HasSuffix(h, "."))
		for _, c := range []byte(h) {
			require.True(t, c == '.' || c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z', "%q", h)
		}
	})
}

// FuzzCheckURL: a URL the client sends before any lookup is https without user
// information, to a host that is a public IP literal or a plain name.
func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{"https://tracker.example/cb?a=1", "https://[::ffff:127.0.0.1]/", "https://0x7f.1/",
		"https://8.8.8.8:443/", "https://[2606:4700::1]:8443/", "https://u@h.example/", "http://h.example/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		req, err := http.NewRequest(http.MethodGet, s, nil)
		if err != nil {
			return
		}
		if outbound.CheckURL(nil, req) != nil {
			return
		}
		u := req.URL
		require.Equal(t, "https", u.Scheme)
		require.Nil(t, u.User)
		host := u.Hostname()
		if a, err := netip.ParseAddr(host); err == nil {
			require.False(t, oracleRefused(a), "rule: a refused literal is not sent: %s", s)
			return
		}
		require.False(t, inetAton(host), "%s", s)
		p, _ := outbound.HostProblem(host)
		require.Zero(t, p, "%s", s)
	})
}
