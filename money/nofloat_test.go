package money_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// floatFindings returns every use of binary floating point in a Go source file: the float and
// complex types, float literals, strconv's and math/big's float functions, math's float
// functions, and the words float32 or float64 in comments.
func floatFindings(t *testing.T, filename string, src any) []string {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filename, src, parser.ParseComments|parser.SkipObjectResolution)
	require.NoError(t, err)
	var found []string
	report := func(n ast.Node, what string) {
		found = append(found, fset.Position(n.Pos()).String()+": "+what)
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.Ident:
			switch n.Name {
			case "float32", "float64", "complex64", "complex128":
				report(n, n.Name)
			}
		case *ast.BasicLit:
			if n.Kind == token.FLOAT || n.Kind == token.IMAG {
				report(n, "float literal "+n.Value)
			}
		case *ast.SelectorExpr:
			name := n.Sel.Name
			if strings.Contains(name, "Float") {
				report(n, "float function or type "+name)
			}
			if pkg, ok := n.X.(*ast.Ident); ok && pkg.Name == "math" &&
				!strings.HasPrefix(name, "MaxInt") && !strings.HasPrefix(name, "MinInt") && !strings.HasPrefix(name, "MaxUint") {
				report(n, "math."+name)
			}
		}
		return true
	})
	for _, cg := range f.Comments {
		text := strings.ToLower(cg.Text())
		if strings.Contains(text, "float32") || strings.Contains(text, "float64") {
			report(cg, "float type named in a comment")
		}
	}
	return found
}

func TestNoFloat(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		require.NoError(t, err)
		require.Empty(t, floatFindings(t, name, src), "binary floating point in the money package")
		checked++
	}
	require.Greater(t, checked, 5, "the non-test sources were not found")
}

func TestNoFloat_DetectsFloats(t *testing.T) {
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
	found := strings.Join(floatFindings(t, "bad.go", bad), "\n")
	for _, want := range []string{
		"float type named in a comment", "ParseFloat", "float32", "float literal 1.5", "NewFloat", "math.Round",
		"float64", "float literal 1e3",
	} {
		require.Contains(t, found, want)
	}
	require.NotContains(t, found, "MaxInt64")
}
