package outbound

import (
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// TestCutValid: a cut keeps every whole character that fits and drops a cut one whole.
func TestCutValid(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		s    string
		n    int
		want string
	}{
		{"abc", 5, "abc"},
		{"abc", 2, "ab"},
		{"€ab", 4, "€a"}, // € is 3 bytes: nothing before the cut is lost
		{"€ab", 5, "€ab"},
		{"a€", 3, "a"},             // the € cut in two is dropped whole
		{"a\uFFFDb", 4, "a\uFFFD"}, // a real U+FFFD is a character like any other
		{"€", 0, ""},
	} {
		got := cutValid(c.s, c.n)
		require.Equal(t, c.want, got, "cutValid(%q, %d)", c.s, c.n)
		require.True(t, utf8.ValidString(got))
	}
}
