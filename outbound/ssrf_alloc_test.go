//go:build !race

package outbound_test

import (
	"testing"

	"github.com/s2skit/s2s/outbound"
	"github.com/stretchr/testify/require"
)

// TestControl_Alloc: the dial-time check allocates nothing for an address it lets through.
func TestControl_Alloc(t *testing.T) {
	control := outbound.Control(nil)
	for _, a := range []string{"93.184.216.34:443", "[2606:4700:4700::1111]:443", "[::ffff:8.8.8.8]:80"} {
		require.NoError(t, control("tcp", a, nil))
		require.Zero(t, testing.AllocsPerRun(100, func() { _ = control("tcp", a, nil) }), a)
	}
}
