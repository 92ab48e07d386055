package outbound_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/s2skit/s2s/outbound"
	"github.com/stretchr/testify/require"
)

func TestClassify_Status(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code int
		want outbound.FailureClass
	}{
		{200, ""}, {201, ""}, {204, ""}, {299, ""},
		{300, outbound.ClassRedirect}, {301, outbound.ClassRedirect}, {304, outbound.ClassRedirect}, {308, outbound.ClassRedirect},
		{400, outbound.ClassHTTP4xx}, {401, outbound.ClassHTTP4xx}, {404, outbound.ClassHTTP4xx}, {408, outbound.ClassHTTP4xx},
		{409, outbound.ClassHTTP4xx}, {410, outbound.ClassHTTP410}, {425, outbound.ClassHTTP4xx}, {429, outbound.ClassHTTP429},
		{499, outbound.ClassHTTP4xx},
		{500, outbound.ClassHTTP5xx}, {501, outbound.ClassHTTP5xx}, {502, outbound.ClassHTTP5xx}, {503, outbound.ClassHTTP5xx},
		{599, outbound.ClassHTTP5xx},
		{100, outbound.ClassOther}, {199, outbound.ClassOther}, {600, outbound.ClassOther}, {0, outbound.ClassOther},
	}
	for _, tt := range tests {
		got := outbound.Classify(&http.Response{StatusCode: tt.code}, nil)
		require.Equal(t, tt.want, got, "status %d", tt.code)
		f := outbound.Failure(&http.Response{StatusCode: tt.code}, nil)
		if tt.want == "" {
			require.Nil(t, f)
			continue
		}
		require.Equal(t, tt.want, f.Class)
		require.Equal(t, tt.code, f.StatusCode)
	}
	require.Equal(t, outbound.ClassOther, outbound.Classify(nil, nil))
}

func TestClassify_Errors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want outbound.FailureClass
	}{
		{"canceled", fmt.Errorf("x: %w", context.Canceled), outbound.ClassCanceled},
		{"deadline", context.DeadlineExceeded, outbound.ClassTimeout},
		{"dns", &net.DNSError{Err: "no such host", Name: "a.example", IsNotFound: true}, outbound.ClassDNS},
		{"dns timeout", &net.DNSError{Err: "i/o timeout", Name: "a.example", IsTimeout: true}, outbound.ClassDNS},
		{"eof", io.ErrUnexpectedEOF, outbound.ClassReset},
		{"wrapped outbound error", fmt.Errorf("a: %w", &outbound.Error{Class: outbound.ClassSSRF}), outbound.ClassSSRF},
		{"anything else", errors.New("boom"), outbound.ClassOther},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, outbound.Classify(&http.Response{StatusCode: 200}, tt.err), tt.name)
	}
}

// loopbackClient is a client allowed to reach loopback over http.
func loopbackClient(opts *outbound.ClientOptions) *http.Client {
	if opts == nil {
		opts = &outbound.ClientOptions{}
	}
	opts.AllowHTTP = true
	opts.Allow = append(opts.Allow, netip.MustParsePrefix("127.0.0.0/8"))
	return outbound.NewClient(opts)
}

// rawServer accepts connections on loopback and hands each to serve.
func rawServer(t *testing.T, serve func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				serve(c)
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

// readRequest reads a request's head from c.
func readRequest(c net.Conn) {
	br := bufio.NewReader(c)
	for {
		l, err := br.ReadString('\n')
		if err != nil || l == "\r\n" {
			return
		}
	}
}

// TestClassify_Network: the class of each network failure, made for real on loopback, and an
// error text shown to the affiliate that names no address.
func TestClassify_Network(t *testing.T) {
	t.Parallel()
	c := loopbackClient(nil)

	t.Run("refused", func(t *testing.T) {
		t.Parallel()
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		require.NoError(t, err)
		addr := ln.Addr().String()
		ln.Close()
		resp, err := get(t, c, "http://"+addr+"/")
		require.Equal(t, outbound.ClassRefused, outbound.Classify(resp, err))
		require.Contains(t, err.Error(), addr, "the raw error names the address")
		f := outbound.Failure(resp, err).Error()
		require.Equal(t, "outbound: refused", f)
		require.NotContains(t, f, "127.0.0.1")
	})
	t.Run("reset", func(t *testing.T) {
		t.Parallel()
		u := rawServer(t, func(c net.Conn) {
			readRequest(c)
			c.(*net.TCPConn).SetLinger(0) // an RST
		})
		resp, err := get(t, c, u+"/")
		require.Equal(t, outbound.ClassReset, outbound.Classify(resp, err), "%v", err)
	})
	t.Run("closed", func(t *testing.T) {
		t.Parallel()
		u := rawServer(t, readRequest)
		resp, err := get(t, c, u+"/")
		require.Equal(t, outbound.ClassReset, outbound.Classify(resp, err), "%v", err)
	})
	t.Run("protocol", func(t *testing.T) {
		t.Parallel()
		u := rawServer(t, func(c net.Conn) {
			readRequest(c)
			io.WriteString(c, "SMTP ready\r\n\r\n")
		})
		resp, err := get(t, c, u+"/")
		require.Equal(t, outbound.ClassProtocol, outbound.Classify(resp, err), "%v", err)
	})
	t.Run("headers too large", func(t *testing.T) {
		t.Parallel()
		u := rawServer(t, func(c net.Conn) {
			readRequest(c)
			io.WriteString(c, "HTTP/1.1 200 OK\r\nX-Big: "+strings.Repeat("a", outbound.MaxResponseHeaderBytes+1)+"\r\n\r\n")
		})
		resp, err := get(t, c, u+"/")
		require.Equal(t, outbound.ClassTooLarge, outbound.Classify(resp, err), "%v", err)
	})
	t.Run("tls", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewUnstartedServer(http.NotFoundHandler())
		srv.Config.ErrorLog = log.New(io.Discard, "", 0)
		srv.StartTLS()
		t.Cleanup(srv.Close)
		resp, err := get(t, c, srv.URL+"/") // a certificate the client does not trust
		require.Equal(t, outbound.ClassTLS, outbound.Classify(resp, err), "%v", err)
	})
	t.Run("tls to plain", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.NotFoundHandler())
		t.Cleanup(srv.Close)
		resp, err := get(t, c, strings.Replace(srv.URL, "http:", "https:", 1)+"/")
		require.Equal(t, outbound.ClassTLS, outbound.Classify(resp, err), "%v", err)
	})
	t.Run("dns", func(t *testing.T) {
		t.Parallel()
		c := loopbackClient(&outbound.ClientOptions{Resolver: resolve("known.example", []netip.Addr{netip.MustParseAddr("127.0.0.1")})})
		resp, err := get(t, c, "http://unknown.example/")
		require.Equal(t, outbound.ClassDNS, outbound.Classify(resp, err), "%v", err)
		require.Equal(t, "outbound: dns: the host name did not resolve", outbound.Failure(resp, err).Error())
	})
	t.Run("canceled", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:1/", nil)
		require.NoError(t, err)
		resp, err := c.Do(req)
		require.Equal(t, outbound.ClassCanceled, outbound.Classify(resp, err), "%v", err)
	})
	t.Run("handshake timeout", func(t *testing.T) {
		t.Parallel()
		// A server that accepts and never answers the TLS handshake: cut at the connect
		// timeout, not the total one.
		done := make(chan struct{})
		t.Cleanup(func() { close(done) })
		u := rawServer(t, func(net.Conn) { <-done })
		c := loopbackClient(&outbound.ClientOptions{ConnectTimeout: 100 * time.Millisecond, Timeout: time.Hour})
		resp, err := get(t, c, strings.Replace(u, "http:", "https:", 1)+"/")
		require.Equal(t, outbound.ClassTimeout, outbound.Classify(resp, err), "%v", err)
		require.ErrorContains(t, err, "TLS handshake timeout")
	})
	t.Run("timeout", func(t *testing.T) {
		t.Parallel()
		// A server that answers its headers and one byte, then nothing until the test ends.
		done := make(chan struct{})
		t.Cleanup(func() { close(done) })
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("a"))
			w.(http.Flusher).Flush()
			select {
			case <-done:
			case <-r.Context().Done():
			}
		}))
		t.Cleanup(srv.Close)
		c := loopbackClient(&outbound.ClientOptions{Timeout: 100 * time.Millisecond})
		resp, err := get(t, c, srv.URL+"/")
		require.NoError(t, err)
		body, _, err := outbound.ReadBody(resp, 100)
		require.Equal(t, "a", body, "rule: what was read before the timeout is kept")
		require.Equal(t, outbound.ClassTimeout, outbound.Classify(resp, err), "%v", err)
	})
}

// TestFailure_NoAddress: whatever the failure, the text for the affiliate names no address
// and no host, though the raw error may.
func TestFailure_NoAddress(t *testing.T) {
	t.Parallel()
	c := outbound.NewClient(&outbound.ClientOptions{Resolver: resolve("internal.example", []netip.Addr{netip.MustParseAddr("10.1.2.3")})})
	for _, u := range []string{"https://internal.example/", "https://10.1.2.3/", "https://[::ffff:10.1.2.3]/", "https://0x0a010203/"} {
		resp, err := get(t, c, u)
		require.Error(t, err)
		f := outbound.Failure(resp, err)
		for _, leak := range []string{"10.1.2.3", "internal", "0x0a", "a01:203", strconv.Itoa(443)} {
			require.NotContains(t, f.Error(), leak, u)
		}
	}
}
