package floattest_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/internal/floattest"
)

func TestFindings_DetectsFloats(t *testing.T) {
	t.Parallel()
	const bad = `package bad

import (
	"math"
	"math/big"
	"strconv"
)

// Cents returns dollars as a float64.
func f(s string) int64 {
	v, _ := strconv.ParseFloat(s, 64)
	var x float32 = 1.5
	_ = big.NewFloat(0)
	_ = math.Round(v) + float64(x) + 1e3
	return int64(math.MaxInt64)
}
`
	found, err := floattest.Findings("bad.go", bad)
	require.NoError(t, err)
	all := strings.Join(found, "\n")
	for _, want := range []string{
		"float type named in a comment", "ParseFloat", "float32", "float literal 1.5", "NewFloat", "math.Round",
		"float64", "float literal 1e3",
	} {
		require.Contains(t, all, want)
	}
	require.NotContains(t, all, "MaxInt64", "integer limits are not floats")
}

func TestFindings_CleanFile(t *testing.T) {
	t.Parallel()
	found, err := floattest.Findings("ok.go", "package ok\n\nimport \"math\"\n\nconst max = math.MaxInt64\n\nfunc Add(a, b int64) int64 { return a + b }\n")
	require.NoError(t, err)
	require.Empty(t, found)
}

func TestCheck_FailsOnWrongDirectory(t *testing.T) {
	t.Parallel()
	ft := &fakeT{TB: t}
	func() {
		defer func() { _ = recover() }()
		floattest.Check(ft, t.TempDir(), 1)
	}()
	require.True(t, ft.failed, "a directory without sources must not pass")
}

// fakeT records a failure instead of failing the real test.
type fakeT struct {
	testing.TB
	failed bool
}

func (f *fakeT) Helper()               {}
func (f *fakeT) Errorf(string, ...any) { f.failed = true }
func (f *fakeT) Fatal(...any)          { f.failed = true; panic("fatal") }
func (f *fakeT) Fatalf(string, ...any) { f.failed = true; panic("fatal") }
