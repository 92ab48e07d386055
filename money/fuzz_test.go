package money_test

import (
	"errors"
	"math/big"
	"regexp"
	"strings"
	"testing"

	"github.com/s2skit/s2s/money"
)

var (
	amountGrammar      = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)
	amountGrammarComma = regexp.MustCompile(`^-?[0-9]+([.,][0-9]+)?$`)
	rateGrammar        = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?(%|bp|bps)?$`)
	fuzzCurrencies     = []money.Currency{money.EUR, money.JPY, money.KWD, money.CLF, money.USD, money.BHD}
	sentinels          = []error{money.ErrSyntax, money.ErrPrecision, money.ErrOverflow, money.ErrCurrencyMismatch,
		money.ErrUnknownCurrency, money.ErrInvalidRate, money.ErrInvalidWeights, money.ErrInvalidMode}
)

// checkError fails unless err wraps a sentinel and has a bounded message that names a problem.
func checkError(t *testing.T, err error) {
	t.Helper()
	found := false
	for _, s := range sentinels {
		if errors.Is(err, s) {
			found = true
		}
	}
	if !found {
		t.Fatalf("error %q wraps no sentinel", err)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "money: ") || strings.HasSuffix(msg, ": invalid syntax") || len(msg) > 300 {
		t.Fatalf("bad message %q", msg)
	}
}

// decimalRat returns the exact value of a string that matches the amount grammar.
func decimalRat(t *testing.T, s string) *big.Rat {
	t.Helper()
	v, ok := new(big.Rat).SetString(strings.Replace(s, ",", ".", 1))
	if !ok {
		t.Fatalf("big.Rat cannot read %q", s)
	}
	return v
}

func FuzzParse(f *testing.F) {
	for _, c := range grammarCases {
		f.Add(c.in, uint8(0), uint8(0))
		f.Add(c.in, uint8(3), uint8(0b111))
	}
	f.Add("0.005", uint8(0), uint8(0b010))
	f.Add("9223372036854775807.5", uint8(1), uint8(0b1010))
	f.Fuzz(func(t *testing.T, s string, curIdx, flags uint8) {
		cur := fuzzCurrencies[int(curIdx)%len(fuzzCurrencies)]
		opts := &money.ParseOptions{
			DecimalComma: flags&1 != 0,
			Round:        flags&2 != 0,
			Mode:         money.RoundingMode((flags >> 2) % 6),
		}
		a, err := money.Parse(s, cur, opts)
		grammar := amountGrammar
		if opts.DecimalComma {
			grammar = amountGrammarComma
		}
		if err != nil {
			checkError(t, err)
			if errors.Is(err, money.ErrSyntax) && grammar.MatchString(s) {
				t.Fatalf("Parse(%q) refused a string of the grammar: %v", s, err)
			}
			if a != (money.Amount{}) {
				t.Fatalf("Parse(%q) returned %v with an error", s, a)
			}
			return
		}
		if !grammar.MatchString(s) {
			t.Fatalf("Parse(%q) accepted a string outside the grammar", s)
		}
		if a.Currency() != cur {
			t.Fatalf("Parse(%q) = %v, want currency %s", s, a, cur)
		}
		back, err := money.Parse(a.Decimal(), cur, nil)
		if err != nil || back != a {
			t.Fatalf("Parse(%q) = %v; Parse(Decimal()) = %v, %v", s, a, back, err)
		}
		// The value is the exact decimal, rounded once if rounding was asked for.
		exact := decimalRat(t, s)
		exact.Mul(exact, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(cur.Exponent())), nil)))
		mode := money.Down
		if opts.Round {
			mode = opts.Mode
		} else if !exact.IsInt() {
			t.Fatalf("Parse(%q) accepted a value that needs rounding: %v", s, a)
		}
		if want := roundRat(exact, mode); !want.IsInt64() || want.Int64() != a.Minor() {
			t.Fatalf("Parse(%q, %+v) = %d minor units, want %s", s, opts, a.Minor(), want)
		}
	})
}

func FuzzParseRate(f *testing.F) {
	for _, c := range grammarCases {
		f.Add(c.in)
		f.Add(c.in + "%")
	}
	for _, s := range []string{"0.35", "12.5%", "25bp", "25bps", "100%", "0.000000000000000001", "92233720368547758070%", "1e3", "%", "bp"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := money.ParseRate(s)
		if err != nil {
			checkError(t, err)
			if errors.Is(err, money.ErrSyntax) && rateGrammar.MatchString(s) {
				t.Fatalf("ParseRate(%q) refused a string of the grammar: %v", s, err)
			}
			return
		}
		if !rateGrammar.MatchString(s) {
			t.Fatalf("ParseRate(%q) accepted a string outside the grammar", s)
		}
		back, err := money.ParseRate(r.String())
		if err != nil || back != r {
			t.Fatalf("ParseRate(%q) = %v; ParseRate(String()) = %v, %v", s, r, back, err)
		}
		body, div := s, int64(1)
		for _, u := range []struct {
			suffix string
			div    int64
		}{{"%", 100}, {"bps", 10000}, {"bp", 10000}} {
			if strings.HasSuffix(s, u.suffix) {
				body, div = strings.TrimSuffix(s, u.suffix), u.div
				break
			}
		}
		want := decimalRat(t, body)
		want.Quo(want, new(big.Rat).SetInt64(div))
		if rat(r).Cmp(want) != 0 {
			t.Fatalf("ParseRate(%q) = %v, want %s", s, r, want.RatString())
		}
		if r.Scale() > 0 && r.Coefficient()%10 == 0 {
			t.Fatalf("ParseRate(%q) = %d×10^-%d is not normalised", s, r.Coefficient(), r.Scale())
		}
	})
}

func FuzzAllocate(f *testing.F) {
	f.Add(int64(5), int64(3), int64(7), int64(0), int64(0), uint8(2))
	f.Add(int64(10000), int64(1), int64(1), int64(1), int64(0), uint8(3))
	f.Add(int64(-9223372036854775808), int64(9223372036854775807), int64(0), int64(0), int64(0), uint8(1))
	f.Add(int64(9223372036854775807), int64(1), int64(0), int64(-1), int64(2), uint8(4))
	f.Fuzz(func(t *testing.T, total, w0, w1, w2, w3 int64, n uint8) {
		weights := []int64{w0, w1, w2, w3}[:1+int(n)%4]
		a := money.New(total, money.JPY)
		parts, err := a.Allocate(weights...)
		sum, negative := new(big.Int), false
		for _, w := range weights {
			sum.Add(sum, big.NewInt(w))
			negative = negative || w < 0
		}
		switch {
		case negative || sum.Sign() == 0:
			if !errors.Is(err, money.ErrInvalidWeights) {
				t.Fatalf("Allocate(%v) = %v, want ErrInvalidWeights", weights, err)
			}
			return
		case !sum.IsInt64():
			if !errors.Is(err, money.ErrOverflow) {
				t.Fatalf("Allocate(%v) = %v, want ErrOverflow", weights, err)
			}
			return
		case err != nil:
			t.Fatalf("Allocate(%d, %v): %v", total, weights, err)
		}
		got := new(big.Int)
		for i, p := range parts {
			got.Add(got, big.NewInt(p.Minor()))
			diff := new(big.Int).Mul(big.NewInt(p.Minor()), sum)
			diff.Sub(diff, new(big.Int).Mul(big.NewInt(total), big.NewInt(weights[i])))
			if diff.CmpAbs(sum) >= 0 {
				t.Fatalf("Allocate(%d, %v): part %d = %d is not within one unit of its share", total, weights, i, p.Minor())
			}
		}
		if got.Cmp(big.NewInt(total)) != 0 {
			t.Fatalf("Allocate(%d, %v) parts sum to %s", total, weights, got)
		}
	})
}
