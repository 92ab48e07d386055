// Package floattest checks that a package's sources use no binary floating point: the money
// and commission packages promise exact arithmetic, and this is how their tests keep that
// promise. Production code never imports it.
package floattest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Findings returns every use of binary floating point in one Go source file: the float and
// complex types, float literals, functions and types whose name contains "Float" (strconv's,
// math/big's), math's functions other than its integer limits, and the words float32 or
// float64 in comments. src is the file's content; a parse error is returned as an error.
func Findings(filename string, src any) ([]string, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filename, src, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
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
	return found, nil
}

// Check fails t if any non-test Go file in dir uses binary floating point, or if dir holds
// fewer than minFiles such files (so that a wrong directory cannot pass unnoticed).
func Check(t testing.TB, dir string, minFiles int) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		found, err := Findings(name, src)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range found {
			t.Errorf("binary floating point: %s", f)
		}
		checked++
	}
	if checked < minFiles {
		t.Fatalf("found %d non-test sources in %s, want at least %d", checked, dir, minFiles)
	}
}
