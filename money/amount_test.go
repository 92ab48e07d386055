package money_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/money"
)

func TestAmount_Accessors(t *testing.T) {
	t.Parallel()
	a := money.New(-15000, money.EUR)
	require.Equal(t, int64(-15000), a.Minor())
	require.Equal(t, money.EUR, a.Currency())
	require.False(t, a.IsZero())
	require.Equal(t, -1, a.Sign())
	require.Equal(t, 1, money.New(1, money.JPY).Sign())
	require.Equal(t, 0, money.New(0, money.JPY).Sign())
	require.True(t, money.New(0, money.JPY).IsZero())

	var zero money.Amount
	require.True(t, zero.IsZero())
	require.Equal(t, money.Currency(0), zero.Currency())
	require.Equal(t, "0", zero.String())
}

func TestAmount_AddSub(t *testing.T) {
	t.Parallel()
	eur := func(m int64) money.Amount { return money.New(m, money.EUR) }
	tests := []struct {
		name       string
		a, b       money.Amount
		sum, diff  int64
		sumErr     error
		diffErr    error
		sumMessage string
	}{
		{name: "small", a: eur(150), b: eur(25), sum: 175, diff: 125},
		{name: "negative", a: eur(-150), b: eur(25), sum: -125, diff: -175},
		{name: "max plus zero", a: eur(math.MaxInt64), b: eur(0), sum: math.MaxInt64, diff: math.MaxInt64},
		{name: "max plus one", a: eur(math.MaxInt64), b: eur(1), sumErr: money.ErrOverflow, diff: math.MaxInt64 - 1,
			sumMessage: "money: add 92233720368547758.07 EUR and 0.01 EUR: overflow"},
		{name: "min minus one", a: eur(math.MinInt64), b: eur(1), sum: math.MinInt64 + 1, diffErr: money.ErrOverflow},
		{name: "min plus min", a: eur(math.MinInt64), b: eur(math.MinInt64), sumErr: money.ErrOverflow, diff: 0},
		{name: "max minus min", a: eur(math.MaxInt64), b: eur(math.MinInt64), sum: -1, diffErr: money.ErrOverflow},
		{name: "zero minus min", a: eur(0), b: eur(math.MinInt64), sum: math.MinInt64, diffErr: money.ErrOverflow},
		{name: "min minus max", a: eur(math.MinInt64), b: eur(math.MaxInt64), sumErr: nil, sum: -1, diffErr: money.ErrOverflow},
		{name: "minus one minus min", a: eur(-1), b: eur(math.MinInt64), sumErr: money.ErrOverflow, diff: math.MaxInt64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sum, err := tt.a.Add(tt.b)
			if tt.sumErr != nil {
				require.ErrorIs(t, err, tt.sumErr)
				if tt.sumMessage != "" {
					require.EqualError(t, err, tt.sumMessage)
				}
			} else {
				require.NoError(t, err)
				require.Equal(t, money.New(tt.sum, money.EUR), sum)
			}
			diff, err := tt.a.Sub(tt.b)
			if tt.diffErr != nil {
				require.ErrorIs(t, err, tt.diffErr)
			} else {
				require.NoError(t, err)
				require.Equal(t, money.New(tt.diff, money.EUR), diff)
			}
		})
	}
}

func TestAmount_CurrencyMismatch(t *testing.T) {
	t.Parallel()
	a, b := money.MustParse("1.00", money.EUR), money.MustParse("1.00", money.USD)
	_, err := a.Add(b)
	require.ErrorIs(t, err, money.ErrCurrencyMismatch)
	require.EqualError(t, err, "money: add 1.00 EUR and 1.00 USD: currency mismatch")
	_, err = a.Sub(b)
	require.ErrorIs(t, err, money.ErrCurrencyMismatch)
	require.EqualError(t, err, "money: subtract 1.00 USD from 1.00 EUR: currency mismatch")
	_, err = a.Cmp(b)
	require.ErrorIs(t, err, money.ErrCurrencyMismatch)
	_, err = a.Add(money.Amount{})
	require.ErrorIs(t, err, money.ErrCurrencyMismatch, "the zero Amount has no currency")
	require.EqualError(t, err, "money: add 1.00 EUR and 0: currency mismatch")
}

func TestAmount_Neg(t *testing.T) {
	t.Parallel()
	for _, m := range []int64{0, 1, -1, 15000, math.MaxInt64, math.MinInt64 + 1} {
		got, err := money.New(m, money.KWD).Neg()
		require.NoError(t, err)
		require.Equal(t, money.New(-m, money.KWD), got)
	}
	_, err := money.New(math.MinInt64, money.KWD).Neg()
	require.ErrorIs(t, err, money.ErrOverflow)
	require.EqualError(t, err, "money: negate -9223372036854775.808 KWD: overflow")
}

func TestAmount_Cmp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b int64
		want int
	}{
		{1, 2, -1}, {2, 1, 1}, {5, 5, 0}, {math.MinInt64, math.MaxInt64, -1}, {math.MaxInt64, math.MinInt64, 1}, {-1, 0, -1},
	}
	for _, tt := range tests {
		got, err := money.New(tt.a, money.JPY).Cmp(money.New(tt.b, money.JPY))
		require.NoError(t, err)
		require.Equal(t, tt.want, got, "%d cmp %d", tt.a, tt.b)
	}
}

func TestAmount_Mul(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, n int64
		want int64
		err  error
	}{
		{a: 150, n: 3, want: 450},
		{a: -150, n: 3, want: -450},
		{a: -150, n: -3, want: 450},
		{a: 0, n: math.MinInt64, want: 0},
		{a: math.MaxInt64, n: 1, want: math.MaxInt64},
		{a: math.MaxInt64, n: -1, want: -math.MaxInt64},
		{a: math.MinInt64, n: 1, want: math.MinInt64},
		{a: math.MinInt64, n: -1, err: money.ErrOverflow},
		{a: math.MaxInt64, n: 2, err: money.ErrOverflow},
		{a: 1 << 62, n: 2, err: money.ErrOverflow},
		{a: -(1 << 62), n: 2, want: math.MinInt64},
		{a: 1 << 32, n: 1 << 32, err: money.ErrOverflow},
		{a: math.MinInt64, n: math.MinInt64, err: money.ErrOverflow},
		{a: 3037000499, n: 3037000499, want: 9223372030926249001},
	}
	for _, tt := range tests {
		got, err := money.New(tt.a, money.EUR).Mul(tt.n)
		if tt.err != nil {
			require.ErrorIs(t, err, tt.err, "%d × %d", tt.a, tt.n)
			continue
		}
		require.NoError(t, err, "%d × %d", tt.a, tt.n)
		require.Equal(t, money.New(tt.want, money.EUR), got, "%d × %d", tt.a, tt.n)
	}
}

func TestAmount_MulRate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		a    money.Amount
		rate string
		mode money.RoundingMode
		want string // in a's currency, or "" with err
		err  error
	}{
		{name: "commission", a: money.MustParse("150.00", money.EUR), rate: "0.35", want: "52.50"},
		{name: "percent", a: money.MustParse("150.00", money.EUR), rate: "12.5%", want: "18.75"},
		{name: "basis points", a: money.MustParse("1000.00", money.USD), rate: "25bp", want: "2.50"},
		{name: "tie half even down", a: money.MustParse("0.05", money.EUR), rate: "0.5", want: "0.02"},
		{name: "tie half even up", a: money.MustParse("0.07", money.EUR), rate: "0.5", want: "0.04"},
		{name: "tie half up", a: money.MustParse("0.05", money.EUR), rate: "0.5", mode: money.HalfUp, want: "0.03"},
		{name: "negative tie half up", a: money.MustParse("-0.05", money.EUR), rate: "0.5", mode: money.HalfUp, want: "-0.03"},
		{name: "negative floor", a: money.MustParse("-0.05", money.EUR), rate: "0.5", mode: money.Floor, want: "-0.03"},
		{name: "negative ceil", a: money.MustParse("-0.05", money.EUR), rate: "0.5", mode: money.Ceil, want: "-0.02"},
		{name: "negative rate", a: money.MustParse("10.00", money.EUR), rate: "-0.333", mode: money.Down, want: "-3.33"},
		{name: "JPY tie", a: money.MustParse("5", money.JPY), rate: "0.1", want: "0"},
		{name: "KWD", a: money.MustParse("1.000", money.KWD), rate: "0.0005", mode: money.HalfUp, want: "0.001"},
		{name: "CLF", a: money.MustParse("0.0003", money.CLF), rate: "0.5", want: "0.0002"},
		{name: "zero rate", a: money.MustParse("150.00", money.EUR), rate: "0", want: "0.00"},
		{name: "max times one", a: money.New(math.MaxInt64, money.EUR), rate: "1", want: "92233720368547758.07"},
		{name: "min times one", a: money.New(math.MinInt64, money.EUR), rate: "1", want: "-92233720368547758.08"},
		{name: "min times minus one", a: money.New(math.MinInt64, money.EUR), rate: "-1", err: money.ErrOverflow},
		{name: "max times 1.5", a: money.New(math.MaxInt64, money.EUR), rate: "1.5", err: money.ErrOverflow},
		{name: "max times huge", a: money.New(math.MaxInt64, money.EUR), rate: "9223372036854775807", err: money.ErrOverflow},
		{name: "max times almost one", a: money.New(math.MaxInt64, money.EUR), rate: "0.999999999999999999", mode: money.Up, want: "92233720368547757.98"},
		// (MaxInt64-9) × 1.000000000000000001 = MaxInt64 + 0.2233720368547758: fits only rounded down.
		{name: "rounds up past max", a: money.New(math.MaxInt64-9, money.JPY), rate: "1.000000000000000001", mode: money.Up, err: money.ErrOverflow},
		{name: "rounds down to max", a: money.New(math.MaxInt64-9, money.JPY), rate: "1.000000000000000001", mode: money.Down, want: "9223372036854775807"},
		{name: "rounds up to max", a: money.New(math.MaxInt64-10, money.JPY), rate: "1.000000000000000001", mode: money.Up, want: "9223372036854775807"},
		{name: "rounds down to min", a: money.New(math.MinInt64+9, money.JPY), rate: "1.000000000000000001", mode: money.Ceil, want: "-9223372036854775808"},
		{name: "rounds past min", a: money.New(math.MinInt64+9, money.JPY), rate: "1.000000000000000001", mode: money.Floor, err: money.ErrOverflow},
		{name: "min times one plus", a: money.New(math.MinInt64, money.JPY), rate: "1.000000000000000001", mode: money.Down, err: money.ErrOverflow},
		{name: "invalid mode", a: money.MustParse("1.00", money.EUR), rate: "0.5", mode: 6, err: money.ErrInvalidMode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.a.MulRate(mustRate(tt.rate), tt.mode)
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
				require.Zero(t, got)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got.Decimal())
			require.Equal(t, tt.a.Currency(), got.Currency())
		})
	}
}

func TestAmount_MulRateMessage(t *testing.T) {
	t.Parallel()
	_, err := money.New(math.MaxInt64, money.EUR).MulRate(mustRate("2"), money.HalfEven)
	require.EqualError(t, err, "money: multiply 92233720368547758.07 EUR by rate 2: overflow")
}

func TestAmount_MulRateDoesNotAllocate(t *testing.T) {
	a, r := money.New(15000, money.EUR), mustRate("0.35")
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := a.MulRate(r, money.HalfEven); err != nil {
			t.Fatal(err)
		}
	})
	require.Zero(t, allocs)
}
