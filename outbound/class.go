package outbound

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
)

// FailureClass is why an attempt failed, in a word that is safe to show to the affiliate who
// owns the endpoint: it names a kind of failure, never an address or a server's error text.
// The set is stable: a class is never renamed nor given another meaning.
type FailureClass string

// Failure classes. Classify gives "" for a 2xx response.
const (
	// ClassTimeout: no answer in time (the connect timeout or the attempt's total timeout).
	ClassTimeout FailureClass = "timeout"
	// ClassDNS: the host name did not resolve.
	ClassDNS FailureClass = "dns"
	// ClassRefused: the connection was refused (nothing listens on the port).
	ClassRefused FailureClass = "refused"
	// ClassUnreachable: no route to the host or its network.
	ClassUnreachable FailureClass = "unreachable"
	// ClassReset: the connection was reset or closed before a whole response.
	ClassReset FailureClass = "reset"
	// ClassTLS: the TLS handshake failed (an untrusted or mismatched certificate, say).
	ClassTLS FailureClass = "tls"
	// ClassProtocol: the server's answer was not valid HTTP.
	ClassProtocol FailureClass = "protocol"
	// ClassSSRF: the destination is refused by the client's guard: an address in a
	// refused range (loopback, private, link-local, ...), a port not allowed, or a host
	// spelled as an address in an odd form (2130706433, 0x7f.1, a trailing dot, ...).
	ClassSSRF FailureClass = "ssrf"
	// ClassURL: the request's URL is refused before any connection: a scheme other than
	// https (or http where allowed), user information, a malformed host.
	ClassURL FailureClass = "bad_url"
	// ClassRedirect: a 3xx response. Redirects are never followed: the endpoint's URL must
	// be updated.
	ClassRedirect FailureClass = "redirect"
	// ClassHTTP4xx: a 4xx response other than 410 and 429.
	ClassHTTP4xx FailureClass = "http_4xx"
	// ClassHTTP410: 410 Gone: the receiver asks for the endpoint to be disabled.
	ClassHTTP410 FailureClass = "http_410"
	// ClassHTTP429: 429 Too Many Requests: the receiver asks to slow down.
	ClassHTTP429 FailureClass = "http_429"
	// ClassHTTP5xx: a 5xx response.
	ClassHTTP5xx FailureClass = "http_5xx"
	// ClassTooLarge: the response's headers passed the client's limit.
	ClassTooLarge FailureClass = "too_large"
	// ClassCanceled: the attempt was canceled by the sender (its context ended, at
	// shutdown say): not the receiver's failure.
	ClassCanceled FailureClass = "canceled"
	// ClassOther: any other failure, including a status outside 200-599.
	ClassOther FailureClass = "other"
)

// Classify returns the class of an attempt's outcome: the response and error of
// (*http.Client).Do, or of reading the response's body. It returns "" for a 2xx response
// with no error. An error takes precedence over the response.
func Classify(resp *http.Response, err error) FailureClass {
	if err != nil {
		return classifyError(err)
	}
	if resp == nil {
		return ClassOther
	}
	return classifyStatus(resp.StatusCode)
}

func classifyStatus(code int) FailureClass {
	switch {
	case code >= 200 && code <= 299:
		return ""
	case code >= 300 && code <= 399:
		return ClassRedirect
	case code == http.StatusGone:
		return ClassHTTP410
	case code == http.StatusTooManyRequests:
		return ClassHTTP429
	case code >= 400 && code <= 499:
		return ClassHTTP4xx
	case code >= 500 && code <= 599:
		return ClassHTTP5xx
	}
	return ClassOther
}

func classifyError(err error) FailureClass {
	var oe *Error
	if errors.As(err, &oe) {
		return oe.Class
	}
	if errors.Is(err, context.Canceled) {
		return ClassCanceled
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return ClassTimeout
	}
	var dnse *net.DNSError
	if errors.As(err, &dnse) {
		return ClassDNS
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return ClassTimeout
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return ClassRefused
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return ClassUnreachable
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNABORTED), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return ClassReset
	}
	if isTLS(err) {
		return ClassTLS
	}
	// net/http reports these with no type of their own; the tests pin the messages.
	msg := err.Error()
	switch {
	case strings.Contains(msg, "server response headers exceeded"):
		return ClassTooLarge
	case strings.Contains(msg, "server gave HTTP response to HTTPS client"):
		return ClassTLS
	case strings.Contains(msg, "malformed HTTP"), strings.Contains(msg, "unsupported transfer encoding"),
		strings.Contains(msg, "bad Content-Length"), strings.Contains(msg, "invalid Trailer"):
		return ClassProtocol
	}
	return ClassOther
}

func isTLS(err error) bool {
	var (
		cve *tls.CertificateVerificationError
		rhe tls.RecordHeaderError
		ae  tls.AlertError
		uae x509.UnknownAuthorityError
		he  x509.HostnameError
		cie x509.CertificateInvalidError
		ech *tls.ECHRejectionError
	)
	return errors.As(err, &cve) || errors.As(err, &rhe) || errors.As(err, &ae) || errors.As(err, &uae) ||
		errors.As(err, &he) || errors.As(err, &cie) || errors.As(err, &ech)
}

// Error is a failed attempt as an affiliate may see it: its class and, for a response, its
// status, with text that names no address, host or server message. The client returns one,
// inside the *url.Error of (*http.Client).Do, for every destination it refuses; Failure
// makes one of any outcome.
type Error struct {
	// Class is the failure's class.
	Class FailureClass
	// StatusCode is the response's status, or 0 if there was none.
	StatusCode int
	// text says what was refused, in words fixed by this package.
	text string
	// err is the cause, for errors.Is and errors.As; it may name internal addresses and is
	// never part of Error().
	err error
}

// Error returns "outbound: " and the class, then the status code or a fixed explanation.
func (e *Error) Error() string {
	s := "outbound: " + string(e.Class)
	if e.StatusCode != 0 {
		s += ": status " + strconv.Itoa(e.StatusCode)
	}
	if e.text != "" {
		s += ": " + e.text
	}
	return s
}

// Unwrap returns the cause, which may name internal addresses: log it for the operator,
// never show it to the affiliate.
func (e *Error) Unwrap() error { return e.err }

// Failure returns the outcome of an attempt (as for Classify) as an *Error safe to show to
// the endpoint's owner and to store in store.Attempt.Error, or nil for a 2xx response with no
// error.
func Failure(resp *http.Response, err error) *Error {
	c := Classify(resp, err)
	if c == "" {
		return nil
	}
	f := &Error{Class: c, err: err}
	if resp != nil {
		f.StatusCode = resp.StatusCode
	}
	var oe *Error
	if errors.As(err, &oe) {
		f.text = oe.text
	}
	return f
}
