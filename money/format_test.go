package money_test

import (
	"encoding"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/money"
)

// The encoding interfaces the value types implement.
var (
	_ encoding.TextAppender    = money.Amount{}
	_ encoding.TextMarshaler   = money.Amount{}
	_ encoding.TextUnmarshaler = (*money.Amount)(nil)
	_ encoding.TextAppender    = money.Currency(0)
	_ encoding.TextUnmarshaler = (*money.Currency)(nil)
	_ encoding.TextAppender    = money.Rate{}
	_ encoding.TextUnmarshaler = (*money.Rate)(nil)
	_ encoding.TextAppender    = money.RoundingMode(0)
	_ encoding.TextUnmarshaler = (*money.RoundingMode)(nil)
)

func TestAmount_Decimal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a    money.Amount
		want string
	}{
		{money.New(15000, money.EUR), "150.00"},
		{money.New(-5, money.EUR), "-0.05"},
		{money.New(0, money.EUR), "0.00"},
		{money.New(1500, money.JPY), "1500"},
		{money.New(-1, money.JPY), "-1"},
		{money.New(1, money.CLF), "0.0001"},
		{money.New(-12345, money.KWD), "-12.345"},
		{money.New(math.MaxInt64, money.EUR), "92233720368547758.07"},
		{money.New(math.MinInt64, money.EUR), "-92233720368547758.08"},
		{money.New(math.MinInt64, money.CLF), "-922337203685477.5808"},
		{money.New(42, 0), "42"},
		{money.Amount{}, "0"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, tt.a.Decimal())
		require.Equal(t, "x="+tt.want, string(tt.a.AppendDecimal([]byte("x="))))
	}
}

func TestAmount_AppendDecimalDoesNotAllocate(t *testing.T) {
	buf := make([]byte, 0, 64)
	a := money.New(math.MinInt64, money.EUR)
	allocs := testing.AllocsPerRun(100, func() {
		buf = a.AppendDecimal(buf[:0])
	})
	require.Zero(t, allocs)
	require.Equal(t, "-92233720368547758.08", string(buf))
}

func TestAmount_String(t *testing.T) {
	t.Parallel()
	require.Equal(t, "150.00 EUR", money.New(15000, money.EUR).String())
	require.Equal(t, "-1500 JPY", money.New(-1500, money.JPY).String())
	require.Equal(t, "0", money.Amount{}.String())
	require.Equal(t, "7 %!Currency(1)", money.New(7, 1).String())
}

func TestAmount_Text(t *testing.T) {
	t.Parallel()
	t.Run("round trip", func(t *testing.T) {
		t.Parallel()
		for _, a := range []money.Amount{
			money.New(15000, money.EUR), money.New(-1, money.CLF), money.New(math.MinInt64, money.JPY), money.New(0, money.BHD),
		} {
			b, err := a.MarshalText()
			require.NoError(t, err)
			require.Equal(t, a.String(), string(b))
			var got money.Amount
			require.NoError(t, got.UnmarshalText(b))
			require.Equal(t, a, got)
		}
		b, err := money.New(15000, money.EUR).AppendText([]byte("total: "))
		require.NoError(t, err)
		require.Equal(t, "total: 150.00 EUR", string(b))
	})
	t.Run("lower-case code", func(t *testing.T) {
		t.Parallel()
		var got money.Amount
		require.NoError(t, got.UnmarshalText([]byte("1.5 eur")))
		require.Equal(t, money.New(150, money.EUR), got)
	})
	t.Run("no currency cannot be encoded", func(t *testing.T) {
		t.Parallel()
		_, err := money.Amount{}.MarshalText()
		require.ErrorIs(t, err, money.ErrUnknownCurrency)
		_, err = money.New(1, 1).AppendText(nil)
		require.ErrorIs(t, err, money.ErrUnknownCurrency)
	})
	t.Run("refused", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			in  string
			err error
		}{
			{"150.00EUR", money.ErrSyntax},
			{"150.00  EUR", money.ErrSyntax},
			{" 150.00 EUR", money.ErrSyntax},
			{"150.00 EUR ", money.ErrSyntax},
			{"EUR 150.00", money.ErrSyntax},
			{"150.00", money.ErrSyntax},
			{"", money.ErrSyntax},
			{" EUR", money.ErrSyntax},
			{"150.00 EURO", money.ErrSyntax},
			{"150.00 ABC", money.ErrUnknownCurrency},
			{"1e3 EUR", money.ErrSyntax},
			{"150.005 EUR", money.ErrPrecision},
			{"150,00 EUR", money.ErrSyntax},
			{"92233720368547758.08 EUR", money.ErrOverflow},
		}
		for _, tt := range tests {
			got := money.New(1, money.USD)
			err := got.UnmarshalText([]byte(tt.in))
			require.ErrorIs(t, err, tt.err, "%q", tt.in)
			require.Equal(t, money.New(1, money.USD), got, "unchanged on error")
		}
	})
}

// TestRoundingMode_Valid: Valid accepts exactly the modes that MarshalText names, for every
// value of the byte.
func TestRoundingMode_Valid(t *testing.T) {
	t.Parallel()
	for v := range 256 {
		_, err := money.RoundingMode(v).MarshalText()
		require.Equal(t, err == nil, money.RoundingMode(v).Valid(), "rule: RoundingMode(%d).Valid agrees with MarshalText", v)
	}
	require.True(t, money.HalfEven.Valid())
}
