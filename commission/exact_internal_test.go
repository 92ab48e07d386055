package commission

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/s2skit/s2s/money"
	"github.com/stretchr/testify/require"
)

// bigRound is the oracle: x/10^scale rounded with mode, by math/big.
func bigRound(x *big.Int, scale int, mode money.RoundingMode) *big.Int {
	d := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)
	q, r := new(big.Int).QuoRem(x, d, new(big.Int))
	if r.Sign() == 0 {
		return q
	}
	neg := x.Sign() < 0
	twice := new(big.Int).Mul(new(big.Int).Abs(r), big.NewInt(2))
	c := twice.Cmp(d)
	var away bool
	switch mode {
	case money.HalfEven:
		away = c > 0 || (c == 0 && q.Bit(0) == 1)
	case money.HalfUp:
		away = c >= 0
	case money.Up:
		away = true
	case money.Floor:
		away = neg
	case money.Ceil:
		away = !neg
	}
	if away {
		if neg {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return q
}

func TestAccumulator_AgainstBig(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 11))
	edge := []int64{0, 1, -1, 5, -5, math.MaxInt64, math.MinInt64, math.MaxInt64 - 1, 1 << 62}
	pick := func() int64 {
		if rng.IntN(4) == 0 {
			return edge[rng.IntN(len(edge))]
		}
		return rng.Int64() >> rng.IntN(63)
	}
	for i := range 200_000 {
		n := 1 + rng.IntN(4)
		var acc accumulator
		rates := make([]money.Rate, n)
		minors := make([]int64, n)
		for j := range rates {
			c := pick() >> rng.IntN(40)
			r, err := money.NewRate(c, rng.IntN(19))
			require.NoError(t, err)
			rates[j], minors[j] = r, pick()
			acc.scale = max(acc.scale, r.Scale())
		}
		exact := new(big.Int)
		for j := range rates {
			acc.add(minors[j], rates[j])
			term := new(big.Int).Mul(big.NewInt(minors[j]), big.NewInt(rates[j].Coefficient()))
			term.Mul(term, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(acc.scale-rates[j].Scale())), nil))
			exact.Add(exact, term)
		}
		mode := money.RoundingMode(i % 6)
		got, ok := acc.round(mode)
		want := bigRound(exact, acc.scale, mode)
		if !acc.err && ok {
			require.Equal(t, want.Int64(), got, "case %d", i)
			require.True(t, want.IsInt64())
			continue
		}
		// A refusal is only allowed when an intermediate or the result is beyond 127 or 63 bits.
		lim := new(big.Int).Lsh(big.NewInt(1), 126)
		require.True(t, !want.IsInt64() || new(big.Int).Abs(exact).Cmp(lim) > 0 || acc.err, "case %d: refused %s", i, exact)
	}
}

// TestAccumulator_Ties is the tie table: x.5 at every scale rounds per mode.
func TestAccumulator_Ties(t *testing.T) {
	t.Parallel()
	want := map[money.RoundingMode][4]int64{ // 2.5, 3.5, -2.5, -3.5
		money.HalfEven: {2, 4, -2, -4}, money.HalfUp: {3, 4, -3, -4}, money.Down: {2, 3, -2, -3},
		money.Up: {3, 4, -3, -4}, money.Floor: {2, 3, -3, -4}, money.Ceil: {3, 4, -2, -3},
	}
	for scale := 1; scale <= 18; scale++ {
		for mode, w := range want {
			for i, minor := range []int64{25, 35, -25, -35} {
				// minor × 0.1, the 0.1 written with scale digits: 2.5, 3.5, -2.5, -3.5.
				var acc accumulator
				acc.scale = scale
				r, _ := money.NewRate(pow10[scale-1], scale) // 0.1
				acc.add(minor, r)
				got, ok := acc.round(mode)
				require.True(t, ok)
				require.Equal(t, w[i], got, "%d/10 at scale %d, %s", minor, scale, mode)
			}
		}
	}
}

func TestMulRates(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ a, b, want string }{
		{"0.01", "1.37", "0.0137"},
		{"0.0001", "100000", "10"},
		{"-0.5", "0.2", "-0.1"},
		{"0.000000001", "0.000000001", "0.000000000000000001"},
	} {
		got, err := mulRates(money.MustParseRate(tc.a), money.MustParseRate(tc.b))
		require.NoError(t, err)
		require.Equal(t, tc.want, got.String())
	}
	_, err := mulRates(money.MustParseRate("0.0000000001"), money.MustParseRate("0.000000001"))
	require.ErrorIs(t, err, ErrOverflow, "10^-19 has 19 decimals")
	_, err = mulRates(money.MustParseRate("9223372036854775807"), money.MustParseRate("3"))
	require.ErrorIs(t, err, ErrOverflow)
	s, err := addRates(money.MustParseRate("0.5"), money.MustParseRate("1.25"))
	require.NoError(t, err)
	require.Equal(t, "1.75", s.String())
	_, err = addRates(money.MustParseRate("9223372036854775807"), money.MustParseRate("1"))
	require.ErrorIs(t, err, ErrOverflow)
}
