package commission_test

import (
	"testing"

	"github.com/s2skit/s2s/internal/floattest"
)

// TestNoFloat fails on any binary floating point in the commission package's sources.
func TestNoFloat(t *testing.T) {
	t.Parallel()
	floattest.Check(t, ".", 8)
}
