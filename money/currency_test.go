package money_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/money"
)

func TestCurrency_Constants(t *testing.T) {
	t.Parallel()
	require.Len(t, currencyConstants, 170)
	for name, cur := range currencyConstants {
		want := money.Currency(name[0]-'@')<<10 | money.Currency(name[1]-'@')<<5 | money.Currency(name[2]-'@')
		require.Equal(t, want, cur, "constant %s does not pack its own letters", name)
		require.Equal(t, name, cur.String())
		got, err := money.ParseCurrency(name)
		require.NoError(t, err)
		require.Equal(t, cur, got)
	}
}

func TestCurrency_Table(t *testing.T) {
	t.Parallel()
	all := allCurrencies()
	require.Len(t, all, 170, "ISO 4217 from iso-codes 4.15 (181) + ZWG + XCG - 13 non-currency codes")
	for _, c := range all {
		require.Contains(t, currencyConstants, c.String(), "a known currency without a constant")
	}

	t.Run("exponents", func(t *testing.T) {
		t.Parallel()
		want := map[string]int{}
		for _, c := range strings.Fields("BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF") {
			want[c] = 0
		}
		for _, c := range strings.Fields("BHD IQD JOD KWD LYD OMR TND") {
			want[c] = 3
		}
		for _, c := range strings.Fields("CLF UYW") {
			want[c] = 4
		}
		for _, c := range all {
			exp, ok := want[c.String()]
			if !ok {
				exp = 2
			}
			require.Equal(t, exp, c.Exponent(), "exponent of %s", c)
		}
		require.Equal(t, 0, money.JPY.Exponent())
		require.Equal(t, 2, money.EUR.Exponent())
		require.Equal(t, 3, money.KWD.Exponent())
		require.Equal(t, 4, money.CLF.Exponent())
	})

	t.Run("dropped non-currency codes", func(t *testing.T) {
		t.Parallel()
		for _, code := range strings.Fields("XAG XAU XBA XBB XBC XBD XDR XPD XPT XSU XTS XUA XXX") {
			_, err := money.ParseCurrency(code)
			require.ErrorIs(t, err, money.ErrUnknownCurrency, code)
		}
	})

	t.Run("added and withdrawn codes", func(t *testing.T) {
		t.Parallel()
		for _, code := range strings.Fields("ZWG XCG HRK SLL CUC ZWL ANG VED VES SLE") {
			c, err := money.ParseCurrency(code)
			require.NoError(t, err, code)
			require.Equal(t, 2, c.Exponent(), code)
		}
	})
}

func TestParseCurrency(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    money.Currency
		wantMsg string // the error message; "" for success
	}{
		{in: "EUR", want: money.EUR},
		{in: "eur", want: money.EUR},
		{in: "Jpy", want: money.JPY},
		{in: "CLF", want: money.CLF},
		{in: "ZWG", want: money.ZWG},
		{in: "", wantMsg: `money: unknown currency "": a currency code is 3 ASCII letters`},
		{in: "EU", wantMsg: `money: unknown currency "EU": a currency code is 3 ASCII letters`},
		{in: "EURO", wantMsg: `money: unknown currency "EURO": a currency code is 3 ASCII letters`},
		{in: " EUR", wantMsg: `money: unknown currency " EUR": a currency code is 3 ASCII letters`},
		{in: "E1R", wantMsg: `money: unknown currency "E1R": a currency code is 3 ASCII letters`},
		{in: "E@R", wantMsg: `money: unknown currency "E@R": a currency code is 3 ASCII letters`},
		{in: "EU[", wantMsg: `money: unknown currency "EU[": a currency code is 3 ASCII letters`},
		{in: "ÉU", wantMsg: `money: unknown currency "ÉU": a currency code is 3 ASCII letters`},
		{in: "ABC", wantMsg: `money: unknown currency "ABC": not in the ISO 4217 table`},
		{in: "XXX", wantMsg: `money: unknown currency "XXX": not in the ISO 4217 table`},
		{in: strings.Repeat("A", 100), wantMsg: `money: unknown currency "` + strings.Repeat("A", 32) + `"… (100 bytes): a currency code is 3 ASCII letters`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := money.ParseCurrency(tt.in)
			if tt.wantMsg != "" {
				require.ErrorIs(t, err, money.ErrUnknownCurrency)
				require.EqualError(t, err, tt.wantMsg)
				require.Zero(t, got)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestCurrency_String(t *testing.T) {
	t.Parallel()
	require.Equal(t, "EUR", money.EUR.String())
	require.Equal(t, "XCG", money.XCG.String())
	require.Equal(t, "", money.Currency(0).String())
	require.Equal(t, "%!Currency(1)", money.Currency(1).String())
	require.Equal(t, -1, money.Currency(0).Exponent())
	require.Equal(t, -1, money.Currency(1).Exponent())
	require.False(t, money.Currency(0).Valid())
	require.False(t, money.Currency(1).Valid())
	require.True(t, money.EUR.Valid())
}

func TestCurrency_Text(t *testing.T) {
	t.Parallel()
	t.Run("round trip", func(t *testing.T) {
		t.Parallel()
		for _, c := range allCurrencies() {
			b, err := c.MarshalText()
			require.NoError(t, err)
			require.Equal(t, c.String(), string(b))
			var got money.Currency
			require.NoError(t, got.UnmarshalText(b))
			require.Equal(t, c, got)
		}
	})
	t.Run("append", func(t *testing.T) {
		t.Parallel()
		b, err := money.KWD.AppendText([]byte("in "))
		require.NoError(t, err)
		require.Equal(t, "in KWD", string(b))
	})
	t.Run("invalid currency cannot be encoded", func(t *testing.T) {
		t.Parallel()
		for _, c := range []money.Currency{0, 1, 0x7fff} {
			_, err := c.MarshalText()
			require.ErrorIs(t, err, money.ErrUnknownCurrency)
		}
	})
	t.Run("unmarshal error leaves the value", func(t *testing.T) {
		t.Parallel()
		c := money.USD
		err := c.UnmarshalText([]byte("EURO"))
		require.ErrorIs(t, err, money.ErrUnknownCurrency)
		require.Equal(t, money.USD, c)
	})
	t.Run("json and map keys", func(t *testing.T) {
		t.Parallel()
		b, err := json.Marshal(map[money.Currency]int{money.EUR: 1, money.JPY: 2})
		require.NoError(t, err)
		require.JSONEq(t, `{"EUR":1,"JPY":2}`, string(b))
		var m map[money.Currency]int
		require.NoError(t, json.Unmarshal([]byte(`{"usd":3}`), &m))
		require.Equal(t, map[money.Currency]int{money.USD: 3}, m)
		err = json.Unmarshal([]byte(`{"US":3}`), &m)
		require.True(t, errors.Is(err, money.ErrUnknownCurrency), "%v", err)
	})
}
