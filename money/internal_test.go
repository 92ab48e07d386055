package money

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCurrencyTable_SortedUniquePacked(t *testing.T) {
	t.Parallel()
	require.Len(t, currencyTable, 170)
	for i, ci := range currencyTable {
		require.Len(t, ci.code, 3, "row %d", i)
		var packed Currency
		for j := range 3 {
			c := ci.code[j]
			require.True(t, 'A' <= c && c <= 'Z', "row %d: code %q is not upper-case ASCII", i, ci.code)
			packed = packed<<5 | Currency(c-'@')
		}
		require.Equal(t, packed, ci.cur, "row %d: %s is not packed from its letters", i, ci.code)
		require.NotEmpty(t, ci.name, "row %d: %s has no name", i, ci.code)
		require.Contains(t, []int8{0, 2, 3, 4}, ci.exp, "row %d: %s", i, ci.code)
		if i > 0 {
			prev := currencyTable[i-1]
			require.Less(t, prev.code, ci.code, "row %d: codes not sorted and unique", i)
			require.Less(t, prev.cur, ci.cur, "row %d: values not sorted and unique", i)
		}
		require.Equal(t, i, find(ci.cur), "find(%s)", ci.code)
	}
}

// TestCurrencyTable_Constants checks that currency_table.go declares exactly one exported
// constant per table row, named by its code. (currency_constants_test.go then checks that each
// constant's value packs the letters of its name.)
func TestCurrencyTable_Constants(t *testing.T) {
	t.Parallel()
	f, err := parser.ParseFile(token.NewFileSet(), "currency_table.go", nil, parser.SkipObjectResolution)
	require.NoError(t, err)
	var consts []string
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); ok && id.Name == "Currency" {
				for _, n := range vs.Names {
					consts = append(consts, n.Name)
				}
			}
		}
	}
	codes := make([]string, 0, len(currencyTable))
	for _, ci := range currencyTable {
		codes = append(codes, ci.code)
	}
	require.Equal(t, codes, consts)
}

func TestFind_NotInTable(t *testing.T) {
	t.Parallel()
	for _, c := range []Currency{0, 1, AED - 1, ZWL + 1, 1<<15 - 1, 1<<16 - 1} {
		require.Equal(t, -1, find(c), "find(%d)", c)
	}
}

// TestFind_EveryValue checks the hash table against a scan of the table for every
// Currency value.
func TestFind_EveryValue(t *testing.T) {
	t.Parallel()
	for c := range 1 << 16 {
		want := -1
		for i, ci := range currencyTable {
			if ci.cur == Currency(c) {
				want = i
			}
		}
		if got := find(Currency(c)); got != want {
			t.Fatalf("find(%d) = %d, want %d", c, got, want)
		}
	}
}

func TestPow10(t *testing.T) {
	t.Parallel()
	p := uint64(1)
	for i, v := range pow10 {
		require.Equal(t, p, v, "pow10[%d]", i)
		p *= 10
	}
	require.Len(t, pow10, maxScale+1)
}

func TestClassifyFraction(t *testing.T) {
	t.Parallel()
	tests := []struct {
		rem, d uint64
		want   remainder
	}{
		{0, 1, remZero},
		{0, 100, remZero},
		{1, 100, remBelowHalf},
		{49, 100, remBelowHalf},
		{50, 100, remHalf},
		{51, 100, remAboveHalf},
		{99, 100, remAboveHalf},
		{1, 3, remBelowHalf},
		{2, 3, remAboveHalf},
		{1 << 62, 1 << 63, remHalf},
		{1<<62 - 1, 1 << 63, remBelowHalf},
		{1<<62 + 1, 1 << 63, remAboveHalf},
		{1<<63 - 1, 1 << 63, remAboveHalf},
		{499999999999999999, 1e18, remBelowHalf},
		{500000000000000000, 1e18, remHalf},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, classifyFraction(tt.rem, tt.d), "%d/%d", tt.rem, tt.d)
	}
}

func TestClassifyDigit(t *testing.T) {
	t.Parallel()
	require.Equal(t, remZero, classifyDigit(0, false))
	require.Equal(t, remBelowHalf, classifyDigit(0, true))
	require.Equal(t, remBelowHalf, classifyDigit(4, true))
	require.Equal(t, remHalf, classifyDigit(5, false))
	require.Equal(t, remAboveHalf, classifyDigit(5, true))
	require.Equal(t, remAboveHalf, classifyDigit(9, false))
}

func TestRoundsAway(t *testing.T) {
	t.Parallel()
	// want[mode] for (neg, odd, remainder) in the order of the cases below.
	type key struct {
		neg, odd bool
		r        remainder
	}
	cases := []key{
		{false, false, remBelowHalf}, {false, false, remHalf}, {false, true, remHalf}, {false, false, remAboveHalf},
		{true, false, remBelowHalf}, {true, false, remHalf}, {true, true, remHalf}, {true, false, remAboveHalf},
	}
	want := map[RoundingMode][]bool{
		HalfEven: {false, false, true, true, false, false, true, true},
		HalfUp:   {false, true, true, true, false, true, true, true},
		Down:     {false, false, false, false, false, false, false, false},
		Up:       {true, true, true, true, true, true, true, true},
		Floor:    {false, false, false, false, true, true, true, true},
		Ceil:     {true, true, true, true, false, false, false, false},
	}
	for mode, w := range want {
		for i, k := range cases {
			require.Equal(t, w[i], roundsAway(mode, k.neg, k.odd, k.r), "%s %+v", mode, k)
		}
		require.False(t, roundsAway(mode, true, true, remZero), "%s: exact values never round", mode)
	}
}

func TestAccumulate(t *testing.T) {
	t.Parallel()
	m, ok := accumulate(0, "9223372036854775807")
	require.True(t, ok)
	require.Equal(t, uint64(1<<63-1), m)
	m, ok = accumulate(0, "9223372036854775809") // past 1<<63, within the 1<<64 margin
	require.True(t, ok)
	require.Equal(t, uint64(9223372036854775809), m)
	_, ok = accumulate(0, "92233720368547758090")
	require.False(t, ok)
	m, ok = accumulate(0, strings.Repeat("0", 1000)+"12")
	require.True(t, ok)
	require.Equal(t, uint64(12), m)
}

func TestQuote(t *testing.T) {
	t.Parallel()
	require.Equal(t, `"1.00"`, quote("1.00"))
	long := strings.Repeat("7", 64<<10)
	q := quote(long)
	require.Equal(t, `"`+strings.Repeat("7", maxQuoted)+`"… (65536 bytes)`, q)
	// A cut never splits a rune.
	multi := strings.Repeat("a", maxQuoted-1) + "é" + strings.Repeat("b", 10)
	require.Equal(t, `"`+strings.Repeat("a", maxQuoted-1)+`"… (43 bytes)`, quote(multi))
}
