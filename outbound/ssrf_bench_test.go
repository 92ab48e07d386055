package outbound_test

import (
	"net/netip"
	"testing"

	"github.com/s2skit/s2s/outbound"
)

// benchAddrs are the addresses the benchmarks check in turn: public and refused, IPv4 and
// IPv6, embedded forms among them.
var benchAddrs = map[string][]string{
	"public": {"93.184.216.34:443", "[2606:4700:4700::1111]:443", "8.8.8.8:443", "[2001:4860:4860::8888]:80"},
	"mixed": {"93.184.216.34:443", "10.0.0.1:443", "[2606:4700:4700::1111]:443", "169.254.169.254:80",
		"[64:ff9b::a9fe:a9fe]:443", "100.64.0.1:443", "[2002:a9fe:a9fe::]:443", "8.8.8.8:443"},
}

// benchEach runs f on each list of benchAddrs, in a sub-benchmark named for it.
func benchEach(b *testing.B, f func(b *testing.B, addrs []string)) {
	for _, name := range []string{"public", "mixed"} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			f(b, benchAddrs[name])
		})
	}
}

// BenchmarkControl is the guard's Control function, as the dialer calls it: parse the
// address, classify it, check its port.
func BenchmarkControl(b *testing.B) {
	control := outbound.Control(nil)
	benchEach(b, func(b *testing.B, addrs []string) {
		i := 0
		for b.Loop() {
			_ = control("tcp", addrs[i%len(addrs)], nil)
			i++
		}
	})
}

// BenchmarkBaselineNetipPredicates is what a user would write with net/netip alone: parse,
// then the predicates. It misses CGNAT, the documentation and reserved ranges and every
// embedded IPv4 form (NAT64, 6to4, Teredo): a floor, not an equivalent.
func BenchmarkBaselineNetipPredicates(b *testing.B) {
	benchEach(b, func(b *testing.B, addrs []string) {
		i := 0
		for b.Loop() {
			ap, err := netip.ParseAddrPort(addrs[i%len(addrs)])
			a := ap.Addr().Unmap()
			_ = err != nil || a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsMulticast() ||
				a.IsUnspecified() || !a.IsGlobalUnicast() || (ap.Port() != 80 && ap.Port() != 443)
			i++
		}
	})
}

// BenchmarkBaselinePrefixList is the other common way: a deny list of prefixes, each tried
// with Contains (the oracle's list, without the embedded forms).
func BenchmarkBaselinePrefixList(b *testing.B) {
	deny := append(append([]netip.Prefix(nil), oracleDeny4...), oracleDeny6...)
	deny = append(deny, prefixes("::/8", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8", "2001::/23", "64:ff9b::/96", "2002::/16")...)
	benchEach(b, func(b *testing.B, addrs []string) {
		i := 0
		for b.Loop() {
			ap, _ := netip.ParseAddrPort(addrs[i%len(addrs)])
			a := ap.Addr().Unmap()
			refused := false
			for _, p := range deny {
				if p.Contains(a) {
					refused = true
					break
				}
			}
			_ = refused
			i++
		}
	})
}
