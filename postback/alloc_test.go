//go:build !race

// The race detector makes sync.Pool drop items, so allocation counts mean nothing under
// -race: these tests are compiled only without it, and .ci/run runs them in a pass of their
// own.

package postback_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/postback"
)

// TestParseQuery_NoAllocs: the common signed GET postback allocates nothing.
func TestParseQuery_NoAllocs(t *testing.T) {
	c := &clock{t: t0}
	src := signedSource(t, c)
	q := sign(t, "/postback", pbQuery, postback.Key{Secret: secret}, t0)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := src.ParseQuery("/postback", q); err != nil {
			t.Fatal(err)
		}
	})
	require.Zero(t, allocs)
	// A rejection on the hot path allocates nothing either.
	bad := strings.Replace(q, "TX-99812", "TX-99813", 1)
	allocs = testing.AllocsPerRun(100, func() {
		if _, err := src.ParseQuery("/postback", bad); err == nil {
			t.Fatal("accepted")
		}
	})
	require.Zero(t, allocs)
}
