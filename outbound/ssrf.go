package outbound

import (
	"net/netip"
	"strings"
)

// Categories of refused addresses, as refusedAddr names them to the operator (never to the
// affiliate: an *Error says only that the destination is not allowed).
const (
	catThisNetwork   = "this-network"  // 0.0.0.0/8, ::/128
	catLoopback      = "loopback"      // 127.0.0.0/8, ::1
	catPrivate       = "private"       // 10/8, 172.16/12, 192.168/16
	catCGNAT         = "cgnat"         // 100.64.0.0/10
	catLinkLocal     = "link-local"    // 169.254.0.0/16 (cloud metadata), fe80::/10
	catIETF          = "ietf-protocol" // 192.0.0.0/24, 2001::/23 (outside Teredo)
	catDocumentation = "documentation" // 192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32, 3fff::/20
	catRelay6to4     = "6to4-relay"    // 192.88.99.0/24
	catBenchmarking  = "benchmarking"  // 198.18.0.0/15
	catMulticast     = "multicast"     // 224.0.0.0/4, ff00::/8
	catBroadcast     = "broadcast"     // 255.255.255.255
	catReserved      = "reserved"      // 240.0.0.0/4; IPv6 outside 2000::/3 not named otherwise
	catUniqueLocal   = "unique-local"  // fc00::/7
	catSiteLocal     = "site-local"    // fec0::/10
	catIPv4Compat    = "ipv4-compatible"
	catNAT64Local    = "nat64-local" // 64:ff9b:1::/48
	catZone          = "zoned"       // an address with a zone (fe80::1%eth0)
	catInvalid       = "invalid"
)

// refusedV4 returns the category of an IPv4 address (in its 32 bits) that the guard refuses,
// or "" for a public unicast address.
func refusedV4(x uint32) string {
	switch x >> 24 {
	case 0:
		return catThisNetwork
	case 10:
		return catPrivate
	case 100:
		if x&0xffc00000 == 0x64400000 {
			return catCGNAT
		}
	case 127:
		return catLoopback
	case 169:
		if x>>16 == 0xa9fe {
			return catLinkLocal
		}
	case 172:
		if x&0xfff00000 == 0xac100000 {
			return catPrivate
		}
	case 192:
		switch x >> 8 {
		case 0xc00000:
			return catIETF
		case 0xc00002:
			return catDocumentation
		case 0xc05863:
			return catRelay6to4
		}
		if x>>16 == 0xc0a8 {
			return catPrivate
		}
	case 198:
		if x&0xfffe0000 == 0xc6120000 {
			return catBenchmarking
		}
		if x>>8 == 0xc63364 {
			return catDocumentation
		}
	case 203:
		if x>>8 == 0xcb0071 {
			return catDocumentation
		}
	}
	switch {
	case x == 0xffffffff:
		return catBroadcast
	case x >= 0xf0000000:
		return catReserved
	case x >= 0xe0000000:
		return catMulticast
	}
	return ""
}

// refusedAddr returns the category of an address that the guard refuses, or "" for a
// public unicast address. An IPv6 address that embeds an IPv4 address (IPv4-mapped, NAT64,
// 6to4, Teredo) is refused when the IPv4 address is, with the category prefixed by the form
// ("nat64 link-local").
func refusedAddr(a netip.Addr) string {
	if !a.IsValid() {
		return catInvalid
	}
	if a.Zone() != "" {
		return catZone
	}
	b := a.As16()
	if a.Is4() {
		return refusedV4(be32(b[12:]))
	}
	hi, lo := be64(b[:8]), be64(b[8:])
	switch {
	case hi == 0 && lo>>32 == 0xffff: // ::ffff:0:0/96
		return embedded("ipv4-mapped", uint32(lo))
	case hi == 0 && lo == 0:
		return catThisNetwork
	case hi == 0 && lo == 1:
		return catLoopback
	case hi == 0 && lo>>32 == 0: // ::/96, deprecated (RFC 4291 §2.5.5.1), never routed
		return catIPv4Compat
	case hi == 0x0064ff9b00000000 && lo>>32 == 0: // 64:ff9b::/96 (RFC 6052)
		return embedded("nat64", uint32(lo))
	case hi>>16 == 0x0064ff9b0001: // 64:ff9b:1::/48 (RFC 8215): the site's own translator
		return catNAT64Local
	case hi>>48 == 0x2002: // 6to4 (RFC 3056): 2002:V4ADDR::/48
		return embedded("6to4", uint32(hi>>16))
	case hi>>32 == 0x20010000: // Teredo (RFC 4380): 2001:0:SERVER:flags:port:^CLIENT
		if c := embedded("teredo", ^uint32(lo)); c != "" {
			return c
		}
		return embedded("teredo-server", uint32(hi))
	case hi>>32 == 0x20010db8, hi>>44 == 0x3fff0: // 2001:db8::/32, 3fff::/20
		return catDocumentation
	case hi>>41 == 0x2001<<7: // 2001::/23, other than Teredo
		return catIETF
	case hi>>61 == 1: // 2000::/3, global unicast
		return ""
	case hi>>57 == 0x7e: // fc00::/7
		return catUniqueLocal
	case hi>>54 == 0x3fa: // fe80::/10
		return catLinkLocal
	case hi>>54 == 0x3fb: // fec0::/10
		return catSiteLocal
	case hi>>56 == 0xff:
		return catMulticast
	}
	return catReserved
}

// embedded returns the category of an IPv4 address embedded in an IPv6 form, prefixed by
// the form's name, or "" for a public one.
func embedded(form string, v4 uint32) string {
	if c := refusedV4(v4); c != "" {
		return form + " " + c
	}
	return ""
}

func be32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func be64(b []byte) uint64 {
	return uint64(be32(b[:4]))<<32 | uint64(be32(b[4:]))
}

// inAllow reports whether a is in one of the allowed prefixes, as given or unmapped.
func inAllow(allow []netip.Prefix, a netip.Addr) bool {
	u := a.Unmap()
	for _, p := range allow {
		if p.Contains(a) || p.Contains(u) {
			return true
		}
	}
	return false
}

// Host spellings, as hostProblem reports them.
const (
	hostOK      = iota
	hostBadURL  // not a host name at all: empty, a bad character, a label too long
	hostOddAddr // an address spelled as inet_aton would read it, or a trailing dot
)

// hostProblem checks a host name (not an IP literal) as it appears in a URL and says what is
// wrong with it, with a fixed explanation. A name must be ASCII letters, digits, '-' and
// '_' in dot-separated labels of 1 to 63 bytes (253 in all), not starting or ending with
// '-'. A name whose last label is numeric (all digits, or 0x and hex digits) is an IPv4
// address in a form other than the four decimal parts (2130706433, 0177.0.0.1, 0x7f.1,
// 127.1, 1.2.3.04): no top-level domain is numeric (RFC 3696 §2), and resolvers differ on
// how they read these, so they are refused rather than resolved. A trailing dot (an
// absolute name) is refused too: it names the same host as the name without it, and is a
// known way round name-based filters.
func hostProblem(h string) (int, string) {
	switch {
	case h == "":
		return hostBadURL, "the URL has no host"
	case len(h) > 253:
		return hostBadURL, "the host name is longer than 253 bytes"
	case strings.HasSuffix(h, "."):
		return hostOddAddr, "the host name ends with a dot"
	}
	last := h
	for label := range strings.SplitSeq(h, ".") {
		if len(label) == 0 || len(label) > 63 {
			return hostBadURL, "the host name has an empty label or one longer than 63 bytes"
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return hostBadURL, "a label of the host name starts or ends with '-'"
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				if c >= 0x80 {
					return hostBadURL, "the host name is not ASCII: use its punycode (xn--) form"
				}
				return hostBadURL, "the host name has a character that is not a letter, a digit, '-' or '_'"
			}
		}
		last = label
	}
	if numericLabel(last) {
		return hostOddAddr, "the host is an IP address in a non-standard form"
	}
	return hostOK, ""
}

// numericLabel reports whether a label is a number as inet_aton reads one: digits (decimal
// or, with a leading 0, octal: both refused, as are 8 and 9 in octal), or 0x and hex digits.
func numericLabel(l string) bool {
	if len(l) >= 2 && l[0] == '0' && (l[1] == 'x' || l[1] == 'X') {
		for i := 2; i < len(l); i++ {
			if !hexDigit(l[i]) {
				return false
			}
		}
		return true
	}
	for i := 0; i < len(l); i++ {
		if l[i] < '0' || l[i] > '9' {
			return false
		}
	}
	return true
}

func hexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
