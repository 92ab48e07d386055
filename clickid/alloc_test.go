//go:build !race

// The race detector makes sync.Pool drop items, so allocation counts mean nothing under
// -race: these tests are compiled only without it, and .ci/run runs them in a pass of their
// own.

package clickid_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/clickid"
)

// TestHotPaths_NoAllocs holds the hot paths to their promise: generating, parsing and
// verifying click IDs, and rejecting bad ones, allocate nothing.
func TestHotPaths_NoAllocs(t *testing.T) {
	id := clickid.MustParse("0190f3a2-7c4e-7b1a-9f00-1c2d3e4f5a6b")
	s := newSigner(t, clickid.SignerKey{ID: 1, Secret: secretA})
	signed := s.Sign(id)
	forged := signed[:len(signed)-1] + "0"
	if forged == signed {
		forged = signed[:len(signed)-1] + "1"
	}
	gen := clickid.NewGenerator(nil)
	for name, f := range map[string]func(){
		"New":                 func() { _, _ = gen.New() },
		"Parse":               func() { _, _ = clickid.Parse("01j3st4z2efcd9y00w5mz4ypkb") },
		"ParseUUID":           func() { _, _ = clickid.Parse("0190f3a2-7c4e-7b1a-9f00-1c2d3e4f5a6b") },
		"ParseRejects":        func() { _, _ = clickid.Parse("01j3st4z2efcd9y00w5mz4ypki") },
		"Verify":              func() { _, _ = s.Verify(signed) },
		"VerifyRejectsForged": func() { _, _ = s.Verify(forged) },
		"VerifyRejectsShort":  func() { _, _ = s.Verify(signed[:30]) },
	} {
		require.Zero(t, testing.AllocsPerRun(200, f), "%s allocates", name)
	}
}
