package postback_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestConstantTimeOnly is a static check of the production sources: MACs and tokens are
// compared only with hmac.Equal or subtle.ConstantTimeCompare, never with bytes.Equal,
// strings.EqualFold or == on a digest, and no MAC is a bare hash of secret and message.
func TestConstantTimeOnly(t *testing.T) {
	t.Parallel()
	forbidden := []*regexp.Regexp{
		regexp.MustCompile(`bytes\.Equal\(`),
		regexp.MustCompile(`strings\.EqualFold\(`),
		regexp.MustCompile(`(?i)\b\w*(sum|mac|digest)\w*\s*[!=]=`),
		regexp.MustCompile(`\b(tok|token|sig|sigs|want)\s*[!=]=\s*[^"n\s]`),
		regexp.MustCompile(`sha256\.(Sum256|New)\(\)?.*(secret|Secret)`),
	}
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	checked := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		for n, line := range strings.Split(string(data), "\n") {
			code, _, _ := strings.Cut(line, "//")
			for _, re := range forbidden {
				if re.MatchString(code) {
					t.Errorf("%s:%d: %s", f, n+1, strings.TrimSpace(line))
				}
			}
		}
		checked++
	}
	require.Greater(t, checked, 5)
	// The checks catch what they are for.
	require.True(t, forbidden[0].MatchString(`if bytes.Equal(sum, want) {`))
	require.True(t, forbidden[2].MatchString(`if sum == want {`))
	require.True(t, forbidden[3].MatchString(`if tok == s.token {`))
	require.False(t, forbidden[3].MatchString(`if tok == "" {`))
}
