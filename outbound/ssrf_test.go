package outbound_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/s2skit/s2s/outbound"
	"github.com/stretchr/testify/require"
)

// counter is a loopback listener that counts the connections it accepts and closes them.
type counter struct {
	n    atomic.Int64
	port uint16
}

// listen starts a counter on 127.0.0.1 and, if the host has IPv6, on [::1] with the same
// port.
func listen(t *testing.T) *counter {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	c := &counter{port: uint16(ln.Addr().(*net.TCPAddr).Port)}
	lns := []net.Listener{ln}
	if ln6, err := net.Listen("tcp6", "[::1]:"+strconv.Itoa(int(c.port))); err == nil {
		lns = append(lns, ln6)
	}
	for _, l := range lns {
		t.Cleanup(func() { l.Close() })
		go func() {
			for {
				conn, err := l.Accept()
				if err != nil {
					return
				}
				c.n.Add(1)
				conn.Close()
			}
		}()
	}
	return c
}

// resolver answers each name with its list of answers in turn, the last one repeated, and
// records the names asked.
type resolver struct {
	mu      sync.Mutex
	answers map[string][][]netip.Addr
	asked   []string
}

func resolve(name string, answers ...[]netip.Addr) *resolver {
	return &resolver{answers: map[string][][]netip.Addr{name: answers}}
}

func (r *resolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, h := range r.asked {
		if h == host {
			n++
		}
	}
	r.asked = append(r.asked, host)
	a, ok := r.answers[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return a[min(n, len(a)-1)], nil
}

func (r *resolver) calls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.asked)
}

// dialHook records the addresses the guard lets through and stops every dial, so that no
// test reaches an address outside the machine.
type dialHook struct {
	mu   sync.Mutex
	seen []netip.AddrPort
}

var errStopped = errors.New("test: stopped before connecting")

func (h *dialHook) hook(ap netip.AddrPort) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seen = append(h.seen, ap)
	return errStopped
}

func (h *dialHook) addrs() []netip.AddrPort {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]netip.AddrPort(nil), h.seen...)
}

func get(t *testing.T, c *http.Client, u string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
	require.NoError(t, err)
	resp, err := c.Do(req)
	if resp != nil {
		t.Cleanup(func() { resp.Body.Close() })
	}
	return resp, err
}

// refused are addresses of every refused category, with the category the guard names.
var refused = []struct{ addr, category string }{
	{"127.0.0.1", "loopback"},
	{"127.255.255.254", "loopback"},
	{"0.0.0.0", "this-network"},
	{"0.1.2.3", "this-network"},
	{"10.0.0.1", "private"},
	{"10.255.255.255", "private"},
	{"172.16.0.1", "private"},
	{"172.31.255.254", "private"},
	{"192.168.1.1", "private"},
	{"169.254.169.254", "link-local"},
	{"169.254.0.1", "link-local"},
	{"100.64.0.1", "cgnat"},
	{"100.127.255.254", "cgnat"},
	{"192.0.0.8", "ietf-protocol"},
	{"192.0.2.1", "documentation"},
	{"198.51.100.7", "documentation"},
	{"203.0.113.9", "documentation"},
	{"192.88.99.1", "6to4-relay"},
	{"198.18.0.1", "benchmarking"},
	{"198.19.255.255", "benchmarking"},
	{"224.0.0.1", "multicast"},
	{"239.255.255.250", "multicast"},
	{"240.0.0.1", "reserved"},
	{"255.255.255.255", "broadcast"},
	{"::1", "loopback"},
	{"::", "this-network"},
	{"fc00::1", "unique-local"},
	{"fd12:3456::1", "unique-local"},
	{"fe80::1", "link-local"},
	{"febf::1", "link-local"},
	{"fec0::1", "site-local"},
	{"ff02::1", "multicast"},
	{"ff05::2", "multicast"},
	{"::ffff:127.0.0.1", "ipv4-mapped loopback"},
	{"::ffff:10.0.0.1", "ipv4-mapped private"},
	{"::ffff:169.254.169.254", "ipv4-mapped link-local"},
	{"::127.0.0.1", "ipv4-compatible"},
	{"::8.8.8.8", "ipv4-compatible"},
	{"64:ff9b::a9fe:a9fe", "nat64 link-local"},
	{"64:ff9b::7f00:1", "nat64 loopback"},
	{"64:ff9b::10.0.0.1", "nat64 private"},
	{"64:ff9b:1::808:808", "nat64-local"},
	{"2002:a9fe:a9fe::", "6to4 link-local"},
	{"2002:7f00:1::1", "6to4 loopback"},
	{"2002:c0a8:101::1", "6to4 private"},
	{"2001:0:4136:e378:8000:63bf:80ff:fffe", "teredo loopback"},   // client 127.0.0.1
	{"2001:0:4136:e378:8000:63bf:5601:5656", "teredo link-local"}, // client 169.254.169.169
	{"2001:0:a00:1:0:0:f7f7:f7f7", "teredo-server private"},       // server 10.0.0.1
	{"2001:db8::1", "documentation"},
	{"3fff::1", "documentation"},
	{"2001:2::1", "ietf-protocol"},
	{"100::1", "reserved"},
	{"5f00::1", "reserved"},
}

// public are addresses the guard lets through, next to the refused ranges' edges.
var public = []string{
	"8.8.8.8", "1.1.1.1", "93.184.216.34", "100.63.255.255", "100.128.0.0", "172.15.255.255",
	"172.32.0.0", "192.167.255.255", "192.169.0.0", "169.253.255.255", "198.17.255.255",
	"198.20.0.0", "223.255.255.255", "2606:4700:4700::1111", "2001:4860:4860::8888",
	"::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1", "2001:200::1",
	"2001:0:4136:e378:8000:63bf:f7f7:f7f7", // Teredo, client 8.8.8.8
}

func TestRefusedAddr_Categories(t *testing.T) {
	t.Parallel()
	for _, r := range refused {
		require.Equal(t, r.category, outbound.RefusedAddr(netip.MustParseAddr(r.addr)), r.addr)
	}
	for _, p := range public {
		require.Empty(t, outbound.RefusedAddr(netip.MustParseAddr(p)), p)
	}
	require.Equal(t, "zoned", outbound.RefusedAddr(netip.MustParseAddr("fe80::1%eth0")))
	require.Equal(t, "zoned", outbound.RefusedAddr(netip.MustParseAddr("2606:4700::1%eth0")))
}

func urlHost(a netip.Addr) string {
	if a.Is6() {
		return "[" + a.String() + "]"
	}
	return a.String()
}

// TestClient_SSRF_Refused: every refused address, as a literal in the URL and as the answer
// for a name, fails with ClassSSRF, reaches no dial (the hook sees nothing) and no listener,
// and the error shown to the affiliate names neither the address nor the host.
func TestClient_SSRF_Refused(t *testing.T) {
	t.Parallel()
	ln := listen(t)
	for _, r := range refused {
		a := netip.MustParseAddr(r.addr)
		for _, how := range []string{"literal", "dns"} {
			t.Run(how+" "+r.addr, func(t *testing.T) {
				t.Parallel()
				res := resolve("victim.example", []netip.Addr{a})
				h := &dialHook{}
				c := outbound.NewClientWithHook(&outbound.ClientOptions{Resolver: res, Ports: []uint16{443, ln.port}}, h.hook)
				host := "victim.example"
				if how == "literal" {
					host = urlHost(a)
				}
				resp, err := get(t, c, "https://"+host+":"+strconv.Itoa(int(ln.port))+"/cb?token=x")
				require.Error(t, err)
				require.Nil(t, resp)
				require.Equal(t, outbound.ClassSSRF, outbound.Classify(resp, err))
				require.Empty(t, h.addrs(), "rule: a refused address is never dialled")
				f := outbound.Failure(resp, err)
				require.Equal(t, "outbound: ssrf: the destination address is not allowed", f.Error())
				require.NotContains(t, f.Error(), r.addr)
				if how == "dns" {
					require.Equal(t, 1, res.calls())
					// The operator's log keeps the cause: the address and its category.
					var oe *outbound.Error
					require.ErrorAs(t, err, &oe)
					// (The dialer sees an IPv4-mapped address as the IPv4 address.)
					require.Contains(t, oe.Unwrap().Error(), netip.AddrPortFrom(a.Unmap(), ln.port).String()+" refused: "+strings.TrimPrefix(r.category, "ipv4-mapped "))
				} else {
					require.Zero(t, res.calls(), "rule: a literal is not resolved")
				}
			})
		}
	}
	t.Cleanup(func() { require.Zero(t, ln.n.Load(), "rule: the loopback listener accepts no connection") })
}

// TestClient_SSRF_RealDial: without the hook, with the listener's port allowed, the
// addresses that reach this machine (loopback, unspecified, their mapped forms) are refused
// by the dialer's Control check itself, and the listener sees no connection; allowing
// loopback lets the same requests through, so the listener would have seen a bypass.
func TestClient_SSRF_RealDial(t *testing.T) {
	t.Parallel()
	ln := listen(t)
	port := strconv.Itoa(int(ln.port))
	local := []string{"127.0.0.1", "127.0.0.2", "0.0.0.0", "::1", "::", "::ffff:127.0.0.1", "::ffff:0.0.0.0"}
	for _, s := range local {
		a := netip.MustParseAddr(s)
		res := resolve("victim.example", []netip.Addr{a})
		c := outbound.NewClient(&outbound.ClientOptions{Resolver: res, Ports: []uint16{ln.port}})
		for _, u := range []string{"https://victim.example:" + port + "/", "https://" + urlHost(a) + ":" + port + "/"} {
			_, err := get(t, c, u)
			require.Equal(t, outbound.ClassSSRF, outbound.Classify(nil, err), u)
		}
	}
	require.Zero(t, ln.n.Load(), "rule: no connection reaches the listener")

	// The control: the listener counts what an allowed dial makes.
	res := resolve("victim.example", []netip.Addr{netip.MustParseAddr("127.0.0.1")})
	c := outbound.NewClient(&outbound.ClientOptions{Resolver: res, Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	_, err := get(t, c, "https://victim.example:"+port+"/")
	require.Error(t, err) // the listener hangs up
	require.NotEqual(t, outbound.ClassSSRF, outbound.Classify(nil, err))
	require.Positive(t, ln.n.Load(), "the control: an allowed dial reaches the listener")
}

// TestClient_SSRF_Public: public addresses pass the guard, as literals and through a name,
// on ports 80 and 443 only unless configured; the hook stops them before any connection.
func TestClient_SSRF_Public(t *testing.T) {
	t.Parallel()
	for _, p := range public {
		a := netip.MustParseAddr(p)
		for _, how := range []string{"literal", "dns"} {
			res := resolve("tracker.example", []netip.Addr{a})
			h := &dialHook{}
			c := outbound.NewClientWithHook(&outbound.ClientOptions{Resolver: res}, h.hook)
			host := "tracker.example"
			if how == "literal" {
				host = urlHost(a)
			}
			_, err := get(t, c, "https://"+host+"/")
			require.ErrorIs(t, err, errStopped, "%s %s", how, p)
			// The dialer sees an IPv4-mapped address as the IPv4 address.
			require.Equal(t, []netip.AddrPort{netip.AddrPortFrom(a.Unmap(), 443)}, h.addrs(), "%s %s", how, p)

			_, err = get(t, c, "https://"+host+":8443/")
			require.Equal(t, outbound.ClassSSRF, outbound.Classify(nil, err), "rule: ports 80 and 443 only")
			require.Contains(t, outbound.Failure(nil, err).Error(), "port is not allowed")
		}
	}
	h := &dialHook{}
	c := outbound.NewClientWithHook(&outbound.ClientOptions{Ports: []uint16{8443}}, h.hook)
	_, err := get(t, c, "https://8.8.8.8:8443/")
	require.ErrorIs(t, err, errStopped, "rule: a configured port is allowed")
}

// TestClient_SSRF_Rebinding: a name that answers a public address, then a private one, is
// refused on the second lookup: the check is made on the address dialled, every time.
func TestClient_SSRF_Rebinding(t *testing.T) {
	t.Parallel()
	ln := listen(t)
	pub, loop := netip.MustParseAddr("93.184.216.34"), netip.MustParseAddr("127.0.0.1")
	res := resolve("rebind.example", []netip.Addr{pub}, []netip.Addr{loop})
	h := &dialHook{}
	c := outbound.NewClientWithHook(&outbound.ClientOptions{Resolver: res, Ports: []uint16{443, ln.port}}, h.hook)
	u := "https://rebind.example:" + strconv.Itoa(int(ln.port)) + "/"
	_, err := get(t, c, u)
	require.ErrorIs(t, err, errStopped, "the first answer passes")
	_, err = get(t, c, u)
	require.Equal(t, outbound.ClassSSRF, outbound.Classify(nil, err), "rule: the second answer is checked too")
	require.Equal(t, 2, res.calls())
	require.Equal(t, []netip.AddrPort{netip.AddrPortFrom(pub, ln.port)}, h.addrs())
	require.Zero(t, ln.n.Load())

	// One answer with a public and a private address: dialled in order, the private one
	// refused when its turn comes.
	res = resolve("mixed.example", []netip.Addr{pub, netip.MustParseAddr("10.0.0.1")})
	h = &dialHook{}
	c = outbound.NewClientWithHook(&outbound.ClientOptions{Resolver: res}, h.hook)
	_, err = get(t, c, "https://mixed.example/")
	require.Equal(t, outbound.ClassSSRF, outbound.Classify(nil, err))
	require.Equal(t, []netip.AddrPort{netip.AddrPortFrom(pub, 443)}, h.addrs())
}

// TestClient_URL: what the client refuses before any lookup or dial.
func TestClient_URL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url   string
		class outbound.FailureClass
	}{
		{"https://2130706433/", outbound.ClassSSRF},
		{"https://0177.0.0.1/", outbound.ClassSSRF},
		{"https://0x7f.1/", outbound.ClassSSRF},
		{"https://0x7f000001/", outbound.ClassSSRF},
		{"https://127.1/", outbound.ClassSSRF},
		{"https://127.0.1/", outbound.ClassSSRF},
		{"https://1.2.3.04/", outbound.ClassSSRF},
		{"https://017700000001/", outbound.ClassSSRF},
		{"https://tracker.example./", outbound.ClassSSRF},
		{"https://localhost./", outbound.ClassSSRF},
		{"https://127.0.0.1./", outbound.ClassSSRF},
		{"https://[fe80::1%25eth0]/", outbound.ClassSSRF},
		{"https://[2606:4700::1%25eth0]/", outbound.ClassSSRF},
		{"https://[::ffff:127.0.0.1]/", outbound.ClassSSRF},
		{"https://[::ffff:7f00:1]/", outbound.ClassSSRF},
		{"https://[0:0:0:0:0:0:0:1]/", outbound.ClassSSRF},
		{"http://tracker.example/", outbound.ClassURL},
		{"ftp://tracker.example/", outbound.ClassURL},
		{"gopher://tracker.example/", outbound.ClassURL},
		{"https://user:pass@tracker.example/", outbound.ClassURL},
		{"https://user@tracker.example/", outbound.ClassURL},
		{"https://tracker..example/", outbound.ClassURL},
		{"https://-tracker.example/", outbound.ClassURL},
		{"https://tracker.example:0/", outbound.ClassURL},
		{"https://tracker.example:65536/", outbound.ClassURL},
		{"https://tracker.example:0443/", outbound.ClassURL},
		{"https://b\u00fccher.example/", outbound.ClassURL},
		{"https:///path", outbound.ClassURL},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			t.Parallel()
			res := resolve("tracker.example", []netip.Addr{netip.MustParseAddr("8.8.8.8")})
			h := &dialHook{}
			c := outbound.NewClientWithHook(&outbound.ClientOptions{Resolver: res}, h.hook)
			resp, err := get(t, c, tt.url)
			require.Error(t, err)
			require.Equal(t, tt.class, outbound.Classify(resp, err))
			require.Zero(t, res.calls(), "rule: refused before any lookup")
			require.Empty(t, h.addrs(), "rule: refused before any dial")
			f := outbound.Failure(resp, err).Error()
			require.NotContains(t, f, "127")
			require.NotContains(t, f, "tracker")
		})
	}
}

// TestClient_HTTP: http:// is refused unless the client or the request's context allows it.
func TestClient_HTTP(t *testing.T) {
	t.Parallel()
	h := &dialHook{}
	c := outbound.NewClientWithHook(nil, h.hook)
	_, err := get(t, c, "http://8.8.8.8/")
	require.Equal(t, outbound.ClassURL, outbound.Classify(nil, err))
	req, err := http.NewRequestWithContext(outbound.WithHTTPAllowed(t.Context()), http.MethodGet, "http://8.8.8.8/", nil)
	require.NoError(t, err)
	_, err = c.Do(req)
	require.ErrorIs(t, err, errStopped)
	require.Equal(t, []netip.AddrPort{netip.MustParseAddrPort("8.8.8.8:80")}, h.addrs())

	h = &dialHook{}
	c = outbound.NewClientWithHook(&outbound.ClientOptions{AllowHTTP: true}, h.hook)
	_, err = get(t, c, "http://8.8.8.8/")
	require.ErrorIs(t, err, errStopped)
}

// tlsServer starts an httptest TLS server and a client that trusts it and resolves
// example.com (a name in its certificate) to it, through the allowlist.
func tlsServer(t *testing.T, h http.Handler, opts *outbound.ClientOptions) (*httptest.Server, *http.Client, string) {
	t.Helper()
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	if opts == nil {
		opts = &outbound.ClientOptions{}
	}
	opts.TLSConfig = &tls.Config{RootCAs: pool}
	opts.Allow = append(opts.Allow, netip.MustParsePrefix("127.0.0.1/32"))
	if opts.Resolver == nil {
		opts.Resolver = resolve("example.com", []netip.Addr{netip.MustParseAddr("127.0.0.1")})
	}
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	return srv, outbound.NewClient(opts), "https://example.com:" + strconv.Itoa(port)
}

// TestClient_Allow: an allowed network is reached on any port, through a name resolved by
// the injected resolver.
func TestClient_Allow(t *testing.T) {
	t.Parallel()
	_, c, base := tlsServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok " + r.URL.Path))
	}), nil)
	resp, err := get(t, c, base+"/cb")
	require.NoError(t, err)
	require.Empty(t, outbound.Classify(resp, err))
	body, truncated, err := outbound.ReadBody(resp, 0)
	require.NoError(t, err)
	require.False(t, truncated)
	require.Equal(t, "ok /cb", body)
}

// TestClient_Redirect: a 3xx is returned as the response and never followed, even to an
// address the client could reach.
func TestClient_Redirect(t *testing.T) {
	t.Parallel()
	target := listen(t)
	for _, loc := range []string{
		"https://example.com:" + strconv.Itoa(int(target.port)) + "/",
		"https://127.0.0.1:" + strconv.Itoa(int(target.port)) + "/",
		"https://169.254.169.254/latest/meta-data/",
	} {
		for _, code := range []int{301, 302, 303, 307, 308} {
			_, c, base := tlsServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, loc, code)
			}), &outbound.ClientOptions{Resolver: resolve("example.com", []netip.Addr{netip.MustParseAddr("127.0.0.1")})})
			resp, err := get(t, c, base+"/cb")
			require.NoError(t, err)
			require.Equal(t, code, resp.StatusCode)
			require.Equal(t, outbound.ClassRedirect, outbound.Classify(resp, err))
			require.Equal(t, "outbound: redirect: status "+strconv.Itoa(code), outbound.Failure(resp, err).Error())
		}
	}
	require.Zero(t, target.n.Load(), "rule: a redirect is never followed")
}
