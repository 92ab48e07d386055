package outbound

import (
	"net/http"
	"net/netip"
	"syscall"
)

// RefusedAddr is refusedAddr, for the fuzz and table tests.
var RefusedAddr = refusedAddr

// HostProblem is hostProblem: 0 for a plain name, 1 for a malformed one, 2 for an odd
// spelling of an address.
var HostProblem = hostProblem

// NewClientWithHook is NewClient with a hook that sees every address the guard lets
// through, just before it is dialled, and may stop the dial by returning an error.
func NewClientWithHook(opts *ClientOptions, hook func(netip.AddrPort) error) *http.Client {
	return newClient(opts, hook)
}

// Control returns the Control function of the dialer of NewClient(opts).
func Control(opts *ClientOptions) func(network, address string, c syscall.RawConn) error {
	return newGuard(opts, nil).control
}

// CheckURL is the check that NewClient(opts) makes of a request before any connection.
func CheckURL(opts *ClientOptions, req *http.Request) error {
	return newGuard(opts, nil).checkURL(req)
}
