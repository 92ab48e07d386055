package main

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The README opens with this program: its code there must be this file's, so that the
// first thing a reader copies compiles (CI builds the examples) and does what it says.
func TestREADMEShowsThisProgram(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("main.go")
	require.NoError(t, err)
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	body := string(src[strings.Index(string(src), "func main() {"):])
	require.Contains(t, string(readme), body, "README.md must show examples/minimal/main.go's func main and check verbatim")
}
