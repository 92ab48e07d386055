package outbound

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/s2skit/s2s/store"
)

// Client defaults.
const (
	// DefaultConnectTimeout bounds the connection of an attempt: TCP, then TLS.
	DefaultConnectTimeout = 5 * time.Second
	// DefaultTimeout bounds a whole attempt, from the connection to the last byte of the
	// response's body read (as Standard Webhooks advises, 15 to 30 s).
	DefaultTimeout = 30 * time.Second
	// MaxResponseHeaderBytes is the largest response header the client reads; a larger one
	// fails the attempt with ClassTooLarge.
	MaxResponseHeaderBytes = 64 << 10
)

// Resolver resolves host names to addresses; *net.Resolver is one. Tests inject their own,
// to map names to the addresses they need without a DNS server.
type Resolver interface {
	// LookupNetIP returns the addresses of host; network is "ip".
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// ClientOptions configures NewClient. The zero value (and nil) are the defaults: public
// destinations only, on ports 80 and 443, https only, no proxy.
type ClientOptions struct {
	// Allow are networks the client may reach although the guard refuses them (a private
	// network of the deployment, loopback in tests), on any port. Keep it as narrow as you
	// can: every endpoint can reach what it allows.
	Allow []netip.Prefix
	// Ports are the ports of public destinations; nil means 80 and 443 only. An address in
	// Allow may be reached on any port.
	Ports []uint16
	// AllowHTTP lets every request use http://; by default only https:// is sent, and a
	// request whose context comes from WithHTTPAllowed may use http:// (an endpoint that
	// allows it). A refused scheme fails with ClassURL before any connection.
	AllowHTTP bool
	// ConnectTimeout bounds each connection (TCP, then the TLS handshake); zero or less
	// means DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// Timeout bounds each request, from dialling to the end of the response's body; zero or
	// less means DefaultTimeout.
	Timeout time.Duration
	// Resolver resolves host names; nil means net.DefaultResolver.
	Resolver Resolver
	// Proxy, if set, chooses a proxy per request, as http.Transport.Proxy does. Nil means
	// none: the environment's proxy settings (HTTPS_PROXY...) are ignored unless this is
	// http.ProxyFromEnvironment. Through a proxy the client dials the proxy, so the guard
	// checks the proxy's address (put a private proxy in Allow, or its port in Ports) and the
	// target's spelling and literal address, but not the address the proxy resolves the
	// target to: that is the proxy's job (smokescreen, say).
	Proxy func(*http.Request) (*url.URL, error)
	// TLSConfig, if set, is cloned for the client's TLS connections (a private CA's
	// RootCAs, say); nil means TLS 1.2 or later with the system's roots.
	TLSConfig *tls.Config
}

// NewClient returns an HTTP client for outbound postbacks, safe against server-side request
// forgery (see the package's Security section):
//   - every address it connects to is checked just before the connection, in the
//     net.Dialer's Control function, after name resolution: loopback, private,
//     link-local (the cloud metadata address 169.254.169.254 among them), CGNAT,
//     unique-local, multicast, broadcast, reserved and documentation addresses, and the
//     IPv4-mapped, NAT64, 6to4 and Teredo forms of these, are refused, unless in
//     ClientOptions.Allow; so is a port other than 80 and 443 (ClientOptions.Ports). A name
//     that resolves to such an address on any lookup (DNS rebinding) is refused on that
//     lookup;
//   - before any connection, the request's URL must be https (ClientOptions.AllowHTTP,
//     WithHTTPAllowed), without user information, its host a plain name or an IP literal
//     in standard form: 2130706433, 0177.0.0.1, 0x7f.1, 127.1, trailing dots and zones are
//     refused;
//   - redirects are never followed: a 3xx is returned as the response, which Classify
//     calls ClassRedirect;
//   - a connect timeout and a total timeout per request, and a cap on the response's
//     headers (read the body with ReadBody, which caps it too).
//
// A refusal is an *Error (ClassSSRF or ClassURL) inside the *url.Error that Do returns.
// Do's error text names the URL and, for a network error, the address: show the affiliate
// only Failure(resp, err), never err.Error(). The client is safe for concurrent use; share
// one.
func NewClient(opts *ClientOptions) *http.Client {
	return newClient(opts, nil)
}

// newClient is NewClient with a hook that sees every address the guard lets through, just
// before the connection, and may stop it: tests prove with it which addresses would be
// dialled without reaching any.
func newClient(opts *ClientOptions, hook func(netip.AddrPort) error) *http.Client {
	g := newGuard(opts, hook)
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if opts != nil && opts.TLSConfig != nil {
		tc = opts.TLSConfig.Clone()
	}
	t := &http.Transport{
		DialContext:            g.dial,
		ForceAttemptHTTP2:      true,
		TLSClientConfig:        tc,
		TLSHandshakeTimeout:    g.dialer.Timeout,
		MaxIdleConns:           100,
		MaxIdleConnsPerHost:    16,
		IdleConnTimeout:        90 * time.Second,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: MaxResponseHeaderBytes,
	}
	if opts != nil {
		t.Proxy = opts.Proxy
	}
	timeout := DefaultTimeout
	if opts != nil && opts.Timeout > 0 {
		timeout = opts.Timeout
	}
	return &http.Client{
		Transport: &guardTransport{t: t, g: g},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
		Timeout: timeout,
	}
}

// httpAllowedKey marks a context under which http:// is allowed.
type httpAllowedKey struct{}

// WithHTTPAllowed returns a context under which a client made by NewClient sends http://
// requests too (for an endpoint with AllowHTTP); otherwise it sends https:// only.
func WithHTTPAllowed(ctx context.Context) context.Context {
	return context.WithValue(ctx, httpAllowedKey{}, true)
}

// guard holds the client's destination policy.
type guard struct {
	allow     []netip.Prefix
	ports     []uint16
	allowHTTP bool
	resolver  Resolver
	dialer    *net.Dialer
	hook      func(netip.AddrPort) error
}

func newGuard(opts *ClientOptions, hook func(netip.AddrPort) error) *guard {
	if opts == nil {
		opts = &ClientOptions{}
	}
	g := &guard{
		allow:     append([]netip.Prefix(nil), opts.Allow...),
		ports:     append([]uint16(nil), opts.Ports...),
		allowHTTP: opts.AllowHTTP,
		resolver:  opts.Resolver,
		hook:      hook,
	}
	if g.ports == nil {
		g.ports = []uint16{80, 443}
	}
	if g.resolver == nil {
		g.resolver = net.DefaultResolver
	}
	ct := opts.ConnectTimeout
	if ct <= 0 {
		ct = DefaultConnectTimeout
	}
	g.dialer = &net.Dialer{Timeout: ct, KeepAlive: 30 * time.Second, Control: g.control}
	return g
}

// Fixed texts of refusals: what an affiliate may read.
const (
	textAddress = "the destination address is not allowed"
	textPort    = "the destination port is not allowed"
	textScheme  = "the URL's scheme is not allowed (https only)"
	textUser    = "the URL has a user name or password"
	textNoAddr  = "the host name has no address"
	textDNS     = "the host name did not resolve"
)

// refusal is the cause of an SSRF refusal, for the operator's logs.
type refusal struct {
	addr     netip.AddrPort
	category string
}

func (r *refusal) Error() string {
	if r.category == "" {
		return "outbound: port of " + r.addr.String() + " not allowed"
	}
	return "outbound: address " + r.addr.String() + " refused: " + r.category
}

// check decides on one address about to be dialled.
func (g *guard) check(ap netip.AddrPort) error {
	a := ap.Addr()
	if inAllow(g.allow, a) && a.Zone() == "" {
		return nil
	}
	if c := refusedAddr(a); c != "" {
		return &Error{Class: ClassSSRF, text: textAddress, err: &refusal{addr: ap, category: c}}
	}
	for _, p := range g.ports {
		if ap.Port() == p {
			return nil
		}
	}
	return &Error{Class: ClassSSRF, text: textPort, err: &refusal{addr: ap}}
}

// control is the dialer's Control function: it runs after the address is resolved, just
// before the socket connects, on the address the socket will connect to.
func (g *guard) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &Error{Class: ClassSSRF, text: textAddress, err: err}
	}
	if err := g.check(ap); err != nil {
		return err
	}
	if g.hook != nil {
		return g.hook(ap)
	}
	return nil
}

// dial resolves the host with the guard's resolver and dials its addresses in turn; each
// connection passes control first. A refused address ends the dial: a name with a refused
// address is refused, whatever its other addresses.
func (g *guard) dial(ctx context.Context, network, address string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return g.dialer.DialContext(ctx, network, address)
	}
	addrs, err := g.resolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		var dnse *net.DNSError
		if errors.As(err, &dnse) && dnse.IsTimeout {
			return nil, err
		}
		return nil, &Error{Class: ClassDNS, text: textDNS, err: err}
	}
	if len(addrs) == 0 {
		return nil, &Error{Class: ClassDNS, text: textNoAddr}
	}
	var first error
	for _, a := range addrs {
		c, err := g.dialer.DialContext(ctx, network, net.JoinHostPort(a.String(), port))
		if err == nil {
			return c, nil
		}
		var oe *Error
		if errors.As(err, &oe) || ctx.Err() != nil {
			return nil, err
		}
		if first == nil {
			first = err
		}
	}
	return nil, first
}

// guardTransport checks each request's URL, then sends it.
type guardTransport struct {
	t *http.Transport
	g *guard
}

func (gt *guardTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := gt.g.checkURL(req); err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	return gt.t.RoundTrip(req)
}

// CloseIdleConnections closes the transport's idle connections, for
// (*http.Client).CloseIdleConnections.
func (gt *guardTransport) CloseIdleConnections() { gt.t.CloseIdleConnections() }

// checkURL refuses, before any connection, a request whose URL the guard would not send.
func (g *guard) checkURL(req *http.Request) error {
	u := req.URL
	if u == nil {
		return &Error{Class: ClassURL, text: "the request has no URL"}
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !g.allowHTTP && req.Context().Value(httpAllowedKey{}) == nil {
			return &Error{Class: ClassURL, text: textScheme}
		}
	default:
		return &Error{Class: ClassURL, text: textScheme}
	}
	if u.User != nil {
		return &Error{Class: ClassURL, text: textUser}
	}
	return g.checkHost(u)
}

// checkHost checks the URL's host and port: an IP literal in standard form, checked as an
// address, or a plain name.
func (g *guard) checkHost(u *url.URL) error {
	hostport := u.Host
	host, port := hostport, ""
	if i := strings.LastIndexByte(hostport, ':'); i >= 0 && !strings.Contains(hostport[i:], "]") {
		host, port = hostport[:i], hostport[i+1:]
		if p, err := strconv.ParseUint(port, 10, 16); err != nil || p == 0 || port[0] == '0' && len(port) > 1 {
			return &Error{Class: ClassURL, text: "the URL's port is not a number from 1 to 65535"}
		}
	}
	if strings.HasPrefix(host, "[") {
		if !strings.HasSuffix(host, "]") {
			return &Error{Class: ClassURL, text: "the URL's host is malformed"}
		}
		lit := host[1 : len(host)-1]
		a, err := netip.ParseAddr(lit)
		if strings.ContainsRune(lit, '%') {
			return &Error{Class: ClassSSRF, text: "the host is an IPv6 address with a zone"}
		}
		if err != nil || !a.Is6() {
			return &Error{Class: ClassURL, text: "the URL's host is not an IPv6 address"}
		}
		return g.checkLiteral(a, port, u.Scheme)
	}
	if a, err := netip.ParseAddr(host); err == nil && a.Is4() {
		return g.checkLiteral(a, port, u.Scheme)
	}
	switch p, text := hostProblem(host); p {
	case hostBadURL:
		return &Error{Class: ClassURL, text: text}
	case hostOddAddr:
		return &Error{Class: ClassSSRF, text: text}
	}
	return nil
}

// checkLiteral checks an IP literal of a URL, as the dial will.
func (g *guard) checkLiteral(a netip.Addr, port, scheme string) error {
	p := uint16(443)
	if scheme == "http" {
		p = 80
	}
	if port != "" {
		n, _ := strconv.ParseUint(port, 10, 16)
		p = uint16(n)
	}
	return g.check(netip.AddrPortFrom(a, p))
}

// ReadBody reads the start of resp's body, at most max bytes of it (store.MaxTextLen if max
// is zero or less), and closes it. It reads no more than max+1 bytes, whatever the body's
// size, and reports whether anything was left out. The text is valid UTF-8 with no NUL, as
// the store keeps it: invalid bytes and NULs become U+FFFD, a character cut at the end is
// dropped, and the result is still at most max bytes. A read error (a timeout, say) is
// returned with what was read before it.
func ReadBody(resp *http.Response, max int) (text string, truncated bool, err error) {
	if max <= 0 {
		max = store.MaxTextLen
	}
	if resp == nil || resp.Body == nil {
		return "", false, nil
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, int64(max)+1))
	if len(b) > max {
		truncated = true
		b = b[:max]
		// Drop a character cut short by the limit.
		for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
			if utf8.RuneStart(b[i]) {
				if !utf8.FullRune(b[i:]) {
					b = b[:i]
				}
				break
			}
		}
	}
	s := string(b)
	if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
		if len(s) > max {
			truncated = true
			s = cutValid(s, max)
		}
	}
	if err != nil {
		return s, truncated, fmt.Errorf("outbound: reading the response: %w", err)
	}
	return s, truncated, nil
}

// cutValid returns s, which is valid UTF-8, cut to at most n bytes at a character's
// boundary: only the last character can have been cut, and it is dropped whole.
func cutValid(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 {
		if r, size := utf8.DecodeLastRuneInString(s); r != utf8.RuneError || size > 1 {
			break
		}
		s = s[:len(s)-1]
	}
	return s
}
