package money_test

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/money"
)

var ecbTime = time.Date(2026, 11, 23, 16, 0, 0, 0, time.UTC)

func fx(from, to money.Currency, rate string) money.ExchangeRate {
	return money.ExchangeRate{From: from, To: to, Rate: mustRate(rate), Source: "ECB", At: ecbTime}
}

func TestAmount_Convert(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		a    money.Amount
		x    money.ExchangeRate
		mode money.RoundingMode
		want string
	}{
		{name: "EUR to USD", a: money.MustParse("52.50", money.EUR), x: fx(money.EUR, money.USD, "1.0843"), want: "56.93"},
		{name: "EUR to USD down", a: money.MustParse("52.50", money.EUR), x: fx(money.EUR, money.USD, "1.0843"), mode: money.Down, want: "56.92"},
		{name: "EUR to JPY", a: money.MustParse("10.00", money.EUR), x: fx(money.EUR, money.JPY, "161.53"), want: "1615"},
		{name: "JPY to EUR tie", a: money.MustParse("1", money.JPY), x: fx(money.JPY, money.EUR, "0.005"), want: "0.00"},
		{name: "JPY to EUR tie up", a: money.MustParse("1", money.JPY), x: fx(money.JPY, money.EUR, "0.005"), mode: money.HalfUp, want: "0.01"},
		{name: "EUR to KWD", a: money.MustParse("100.00", money.EUR), x: fx(money.EUR, money.KWD, "0.3312"), want: "33.120"},
		{name: "KWD to CLF", a: money.MustParse("1.000", money.KWD), x: fx(money.KWD, money.CLF, "0.0857"), want: "0.0857"},
		{name: "CLF to JPY negative", a: money.MustParse("-0.0001", money.CLF), x: fx(money.CLF, money.JPY, "5500"), mode: money.Floor, want: "-1"},
		{name: "CLF to JPY negative ceil", a: money.MustParse("-0.0001", money.CLF), x: fx(money.CLF, money.JPY, "5500"), mode: money.Ceil, want: "0"},
		{name: "same currency", a: money.MustParse("1.00", money.CHF), x: fx(money.CHF, money.CHF, "1"), want: "1.00"},
		{name: "max to smaller exponent", a: money.New(math.MaxInt64, money.CLF), x: fx(money.CLF, money.JPY, "1"), want: "922337203685478"},
		{name: "min to smaller exponent", a: money.New(math.MinInt64, money.KWD), x: fx(money.KWD, money.EUR, "1"), want: "-9223372036854775.81"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := tt.a.Convert(tt.x, tt.mode)
			require.NoError(t, err)
			require.Equal(t, tt.want, c.Amount.Decimal())
			require.Equal(t, tt.x.To, c.Amount.Currency())
			require.Equal(t, tt.a, c.Original)
			require.Equal(t, tt.x, c.Rate)
			require.Equal(t, tt.mode, c.Mode)
			// A re-run gives the same result.
			again, err := c.Original.Convert(c.Rate, c.Mode)
			require.NoError(t, err)
			require.Equal(t, c, again)
		})
	}
}

func TestAmount_ConvertErrors(t *testing.T) {
	t.Parallel()
	eur := money.MustParse("10.00", money.EUR)
	good := fx(money.EUR, money.USD, "1.0843")
	tests := []struct {
		name string
		a    money.Amount
		x    func(x money.ExchangeRate) money.ExchangeRate
		mode money.RoundingMode
		err  error
		msg  string
	}{
		{name: "zero exchange rate", a: eur, x: func(money.ExchangeRate) money.ExchangeRate { return money.ExchangeRate{} },
			err: money.ErrInvalidRate, msg: "money: convert 10.00 EUR: invalid exchange rate: From (none) is not a known currency"},
		{name: "unknown To", a: eur, x: func(x money.ExchangeRate) money.ExchangeRate { x.To = 1; return x },
			err: money.ErrInvalidRate, msg: "To %!Currency(1) is not a known currency"},
		{name: "zero rate", a: eur, x: func(x money.ExchangeRate) money.ExchangeRate { x.Rate = money.Rate{}; return x },
			err: money.ErrInvalidRate, msg: "the rate 0 is not positive"},
		{name: "negative rate", a: eur, x: func(x money.ExchangeRate) money.ExchangeRate { x.Rate = mustRate("-1.08"); return x },
			err: money.ErrInvalidRate, msg: "the rate -1.08 is not positive"},
		{name: "no source", a: eur, x: func(x money.ExchangeRate) money.ExchangeRate { x.Source = ""; return x },
			err: money.ErrInvalidRate, msg: "no Source"},
		{name: "no time", a: eur, x: func(x money.ExchangeRate) money.ExchangeRate { x.At = time.Time{}; return x },
			err: money.ErrInvalidRate, msg: "no At time"},
		{name: "wrong currency", a: money.MustParse("10.00", money.USD), x: func(x money.ExchangeRate) money.ExchangeRate { return x },
			err: money.ErrCurrencyMismatch, msg: "money: convert 10.00 USD with a EUR to USD rate: currency mismatch"},
		{name: "invalid mode", a: eur, x: func(x money.ExchangeRate) money.ExchangeRate { return x }, mode: 200,
			err: money.ErrInvalidMode, msg: "invalid rounding mode 200"},
		{name: "overflow to larger exponent", a: money.New(math.MaxInt64, money.JPY),
			x:   func(money.ExchangeRate) money.ExchangeRate { return fx(money.JPY, money.EUR, "1") },
			err: money.ErrOverflow, msg: "money: convert 9223372036854775807 JPY to EUR at 1: overflow"},
		{name: "overflow by rate", a: money.New(math.MinInt64, money.EUR),
			x:    func(money.ExchangeRate) money.ExchangeRate { return fx(money.EUR, money.USD, "1.000000000000000001") },
			mode: money.Down, err: money.ErrOverflow, msg: "overflow"},
		{name: "overflow by rounding", a: money.New(math.MaxInt64-9, money.EUR),
			x:    func(money.ExchangeRate) money.ExchangeRate { return fx(money.EUR, money.USD, "1.000000000000000001") },
			mode: money.Up, err: money.ErrOverflow, msg: "overflow"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := tt.a.Convert(tt.x(good), tt.mode)
			require.ErrorIs(t, err, tt.err)
			require.Contains(t, err.Error(), tt.msg)
			require.Zero(t, c)
		})
	}
}

func TestConverted_JSON(t *testing.T) {
	t.Parallel()
	c, err := money.MustParse("52.50", money.EUR).Convert(fx(money.EUR, money.USD, "1.0843"), money.HalfUp)
	require.NoError(t, err)
	b, err := json.Marshal(c)
	require.NoError(t, err)
	require.JSONEq(t, `{
		"amount": {"amount":"56.93","currency":"USD"},
		"original": {"amount":"52.50","currency":"EUR"},
		"rate": {"from":"EUR","to":"USD","rate":"1.0843","source":"ECB","at":"2026-11-23T16:00:00Z"},
		"mode": "half_up"
	}`, string(b))
	var back money.Converted
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, c, back)
}
