package money_test

import (
	"math"
	"math/big"
	"strconv"
	"testing"

	"github.com/s2skit/s2s/money"
)

// Each benchmark sits beside a baseline of what a user would otherwise write, so the ratio is
// visible in one run: go test -run=NONE -bench=. -benchmem ./money/

func BenchmarkMulRate(b *testing.B) {
	b.ReportAllocs()
	a, r := money.New(15000, money.EUR), money.MustParseRate("0.35")
	for b.Loop() {
		if _, err := a.MulRate(r, money.HalfEven); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBaselineBigRatMulRate is the exact way without this package: math/big.Rat, then
// rounding to 2 decimals.
func BenchmarkBaselineBigRatMulRate(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		amount, ok1 := new(big.Rat).SetString("150.00")
		rate, ok2 := new(big.Rat).SetString("0.35")
		if !ok1 || !ok2 {
			b.Fatal("SetString")
		}
		if amount.Mul(amount, rate).FloatString(2) != "52.50" {
			b.Fatal("wrong result")
		}
	}
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := money.Parse("150.00", money.EUR, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBaselineParseFloat is the naive way: a binary float, scaled and rounded. (It accepts
// NaN, Inf, 1e3 and hex, and loses exactness beyond 2^53.)
func BenchmarkBaselineParseFloat(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		f, err := strconv.ParseFloat("150.00", 64)
		if err != nil {
			b.Fatal(err)
		}
		if int64(math.Round(f*100)) != 15000 {
			b.Fatal("wrong result")
		}
	}
}

// BenchmarkBaselineBigRatParse is the exact way without this package.
func BenchmarkBaselineBigRatParse(b *testing.B) {
	b.ReportAllocs()
	hundred := big.NewRat(100, 1)
	for b.Loop() {
		r, ok := new(big.Rat).SetString("150.00")
		if !ok {
			b.Fatal("SetString")
		}
		r.Mul(r, hundred)
		if !r.IsInt() || r.Num().Int64() != 15000 {
			b.Fatal("wrong result")
		}
	}
}

func BenchmarkAllocate(b *testing.B) {
	b.ReportAllocs()
	a := money.New(10000, money.EUR)
	for b.Loop() {
		if _, err := a.Allocate(1, 1, 1); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBaselineNaiveAllocate is the naive way: integer shares, the rest to the last part
// (it can overflow for large amounts and is biased toward the last part).
func BenchmarkBaselineNaiveAllocate(b *testing.B) {
	b.ReportAllocs()
	weights := []int64{1, 1, 1}
	for b.Loop() {
		if naiveAllocate(10000, weights)[2] != 3334 {
			b.Fatal("wrong result")
		}
	}
}

// naiveAllocate returns its parts like Allocate does, so that they live on the heap in both.
//
//go:noinline
func naiveAllocate(total int64, weights []int64) []int64 {
	var sum int64
	for _, w := range weights {
		sum += w
	}
	parts := make([]int64, len(weights))
	given := int64(0)
	for i, w := range weights {
		parts[i] = total * w / sum
		given += parts[i]
	}
	parts[len(parts)-1] += total - given
	return parts
}

func BenchmarkDecimal(b *testing.B) {
	b.ReportAllocs()
	a := money.New(15000, money.EUR)
	buf := make([]byte, 0, 32)
	for b.Loop() {
		buf = a.AppendDecimal(buf[:0])
	}
	if string(buf) != "150.00" {
		b.Fatal("wrong result")
	}
}

// BenchmarkBaselineFloatDecimal is the naive way: minor units to a float, formatted with 2
// decimals.
func BenchmarkBaselineFloatDecimal(b *testing.B) {
	b.ReportAllocs()
	minor := int64(15000)
	buf := make([]byte, 0, 32)
	for b.Loop() {
		buf = strconv.AppendFloat(buf[:0], float64(minor)/100, 'f', 2, 64)
	}
	if string(buf) != "150.00" {
		b.Fatal("wrong result")
	}
}
