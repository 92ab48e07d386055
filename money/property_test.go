package money_test

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/money"
)

// The property tests use seeded generators, so every run checks the same cases.

// randInt64 returns a random int64 biased toward the interesting places: the int64 limits,
// zero and small values, and every magnitude in between.
func randInt64(r *rand.Rand) int64 {
	switch r.IntN(8) {
	case 0:
		edges := []int64{0, 1, -1, math.MaxInt64, math.MinInt64, math.MaxInt64 - 1, math.MinInt64 + 1, 5, -5, 50, -50}
		return edges[r.IntN(len(edges))]
	case 1:
		return int64(r.Uint64()) // uniform over all int64
	case 2:
		return math.MaxInt64 - r.Int64N(1000)
	case 3:
		return math.MinInt64 + r.Int64N(1000)
	default:
		p := int64(10)
		for range r.IntN(18) {
			p *= 10
		}
		v := r.Int64N(p)
		if r.IntN(2) == 0 {
			v = -v
		}
		return v
	}
}

// randRate returns a random rate with a random coefficient and scale.
func randRate(t *testing.T, r *rand.Rand) money.Rate {
	coef := randInt64(r)
	if r.IntN(3) == 0 {
		coef = r.Int64N(100000) - 50000
	}
	rate, err := money.NewRate(coef, r.IntN(19))
	require.NoError(t, err)
	return rate
}

// rat returns the exact value of a rate.
func rat(rate money.Rate) *big.Rat {
	den := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(rate.Scale())), nil)
	return new(big.Rat).SetFrac(big.NewInt(rate.Coefficient()), den)
}

// roundRat rounds x to an integer with mode. It is the oracle for MulRate and Convert, written
// independently of the package's rounding code.
func roundRat(x *big.Rat, mode money.RoundingMode) *big.Int {
	num, den := x.Num(), x.Denom()
	q, r := new(big.Int).QuoRem(num, den, new(big.Int)) // truncated toward zero
	if r.Sign() == 0 {
		return q
	}
	away := new(big.Int).Add(q, big.NewInt(int64(num.Sign()))) // the neighbour away from zero
	half := new(big.Int).Abs(r)
	half.Lsh(half, 1)
	c := half.Cmp(den) // compare the dropped part with 1/2
	switch mode {
	case money.Down:
		return q
	case money.Up:
		return away
	case money.Floor:
		if num.Sign() < 0 {
			return away
		}
		return q
	case money.Ceil:
		if num.Sign() > 0 {
			return away
		}
		return q
	case money.HalfUp:
		if c >= 0 {
			return away
		}
		return q
	case money.HalfEven:
		if c > 0 || (c == 0 && q.Bit(0) == 1) {
			return away
		}
		return q
	}
	panic("unknown mode")
}

func fitsInt64(v *big.Int) bool { return v.IsInt64() }

func TestProperty_AllocateSumsAndShares(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(2026, 1123))
	const cases = 100_000
	for i := range cases {
		total := randInt64(r)
		n := 1 + r.IntN(8)
		if r.IntN(20) == 0 {
			n = 17 + r.IntN(40) // the sorting path
		}
		maxW := int64(math.MaxInt64) / int64(n)
		if r.IntN(2) == 0 {
			maxW = 1 + r.Int64N(100)
		}
		weights := make([]int64, n)
		var sum int64
		for j := range weights {
			if r.IntN(5) > 0 {
				weights[j] = 1 + r.Int64N(maxW) // at most maxW, so the sum fits
			}
			sum += weights[j]
		}
		if sum == 0 {
			weights[r.IntN(n)] = 1
			sum = 1
		}
		a := money.New(total, money.EUR)
		parts, err := a.Allocate(weights...)
		require.NoError(t, err, "case %d: %d by %v", i, total, weights)
		require.Len(t, parts, n)

		got := new(big.Int)
		bigSum, bigTotal := big.NewInt(sum), big.NewInt(total)
		for j, p := range parts {
			require.Equal(t, money.EUR, p.Currency())
			got.Add(got, big.NewInt(p.Minor()))
			// |part×sum − total×w| < sum: the part is within one minor unit of its exact share.
			diff := new(big.Int).Mul(big.NewInt(p.Minor()), bigSum)
			diff.Sub(diff, new(big.Int).Mul(bigTotal, big.NewInt(weights[j])))
			require.Negative(t, diff.CmpAbs(bigSum), "case %d: part %d of %d by %v is %d", i, j, total, weights, p.Minor())
			if weights[j] == 0 {
				require.Zero(t, p.Minor(), "case %d: zero weight got a share", i)
			}
			if p.Minor() != 0 {
				require.Equal(t, a.Sign(), p.Sign(), "case %d: a part has the wrong sign", i)
			}
		}
		require.Zero(t, got.Cmp(bigTotal), "case %d: parts of %d by %v sum to %s", i, total, weights, got)
	}
}

func TestProperty_ParseDecimalRoundTrip(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(7, 11))
	all := allCurrencies()
	for i := range 100_000 {
		a := money.New(randInt64(r), all[r.IntN(len(all))])
		got, err := money.Parse(a.Decimal(), a.Currency(), nil)
		require.NoError(t, err, "case %d: %s", i, a)
		require.Equal(t, a, got, "case %d", i)

		var text money.Amount
		b, err := a.MarshalText()
		require.NoError(t, err)
		require.NoError(t, text.UnmarshalText(b))
		require.Equal(t, a, text, "case %d", i)
	}
}

func TestProperty_AddSubInverse(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 5))
	overflows := 0
	for i := range 100_000 {
		a, b := money.New(randInt64(r), money.USD), money.New(randInt64(r), money.USD)
		exactSum := new(big.Int).Add(big.NewInt(a.Minor()), big.NewInt(b.Minor()))
		sum, err := a.Add(b)
		if !fitsInt64(exactSum) {
			require.ErrorIs(t, err, money.ErrOverflow, "case %d: %d + %d", i, a.Minor(), b.Minor())
			overflows++
		} else {
			require.NoError(t, err, "case %d", i)
			require.Equal(t, exactSum.Int64(), sum.Minor())
			back, err := sum.Sub(b)
			require.NoError(t, err, "case %d: a + b - b", i)
			require.Equal(t, a, back, "case %d: a + b - b != a", i)
		}
		exactDiff := new(big.Int).Sub(big.NewInt(a.Minor()), big.NewInt(b.Minor()))
		diff, err := a.Sub(b)
		if !fitsInt64(exactDiff) {
			require.ErrorIs(t, err, money.ErrOverflow, "case %d: %d - %d", i, a.Minor(), b.Minor())
		} else {
			require.NoError(t, err)
			require.Equal(t, exactDiff.Int64(), diff.Minor())
		}
		neg, err := a.Neg()
		if a.Minor() == math.MinInt64 {
			require.ErrorIs(t, err, money.ErrOverflow)
		} else {
			require.NoError(t, err)
			require.Equal(t, -a.Minor(), neg.Minor())
		}
	}
	require.Greater(t, overflows, 1000, "the generator must reach the overflow cases")
}

func TestProperty_MulRateMatchesBigRat(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(11, 13))
	overflows := 0
	for i := range 200_000 {
		a := money.New(randInt64(r), money.KWD)
		rate := randRate(t, r)
		mode := modes[r.IntN(len(modes))]
		want := roundRat(new(big.Rat).Mul(new(big.Rat).SetInt64(a.Minor()), rat(rate)), mode)
		got, err := a.MulRate(rate, mode)
		if !fitsInt64(want) {
			require.ErrorIs(t, err, money.ErrOverflow, "case %d: %s × %s %s = %s", i, a, rate, mode, want)
			overflows++
			continue
		}
		require.NoError(t, err, "case %d: %s × %s %s", i, a, rate, mode)
		require.Equal(t, want.Int64(), got.Minor(), "case %d: %s × %s %s", i, a, rate, mode)
	}
	require.Greater(t, overflows, 1000, "the generator must reach the overflow cases")
}

func TestProperty_MulMatchesBig(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(17, 19))
	for i := range 100_000 {
		a, n := money.New(randInt64(r), money.EUR), randInt64(r)
		want := new(big.Int).Mul(big.NewInt(a.Minor()), big.NewInt(n))
		got, err := a.Mul(n)
		if !fitsInt64(want) {
			require.ErrorIs(t, err, money.ErrOverflow, "case %d", i)
			continue
		}
		require.NoError(t, err, "case %d", i)
		require.Equal(t, want.Int64(), got.Minor(), "case %d", i)
	}
}

func TestProperty_ConvertMatchesBigRat(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(23, 29))
	all := allCurrencies()
	for i := range 20_000 {
		from, to := all[r.IntN(len(all))], all[r.IntN(len(all))]
		rate := randRate(t, r)
		if rate.Sign() <= 0 {
			continue
		}
		a := money.New(randInt64(r), from)
		mode := modes[r.IntN(len(modes))]
		exact := new(big.Rat).Mul(new(big.Rat).SetInt64(a.Minor()), rat(rate))
		shift := new(big.Rat).SetFrac(
			new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(to.Exponent())), nil),
			new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(from.Exponent())), nil))
		want := roundRat(exact.Mul(exact, shift), mode)
		got, err := a.Convert(money.ExchangeRate{From: from, To: to, Rate: rate, Source: "test", At: ecbTime}, mode)
		if !fitsInt64(want) {
			require.ErrorIs(t, err, money.ErrOverflow, "case %d", i)
			continue
		}
		require.NoError(t, err, "case %d", i)
		require.Equal(t, money.New(want.Int64(), to), got.Amount, "case %d: %s at %s %s", i, a, rate, mode)
	}
}

func TestProperty_RateCmpAndText(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(31, 37))
	for i := range 100_000 {
		a, b := randRate(t, r), randRate(t, r)
		if r.IntN(10) == 0 {
			b = a
		}
		require.Equal(t, rat(a).Cmp(rat(b)), a.Cmp(b), "case %d: %s cmp %s", i, a, b)
		require.Equal(t, rat(a).Cmp(rat(b)) == 0, a == b, "case %d: normalised rates compare with ==", i)
		back, err := money.ParseRate(a.String())
		require.NoError(t, err, "case %d", i)
		require.Equal(t, a, back, "case %d", i)
	}
}
