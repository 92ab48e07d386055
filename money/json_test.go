package money_test

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/money"
)

func TestAmount_MarshalJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a    money.Amount
		want string
	}{
		{money.New(15000, money.EUR), `{"amount":"150.00","currency":"EUR"}`},
		{money.New(-5, money.EUR), `{"amount":"-0.05","currency":"EUR"}`},
		{money.New(1500, money.JPY), `{"amount":"1500","currency":"JPY"}`},
		{money.New(1, money.CLF), `{"amount":"0.0001","currency":"CLF"}`},
		{money.New(math.MinInt64, money.KWD), `{"amount":"-9223372036854775.808","currency":"KWD"}`},
	}
	for _, tt := range tests {
		b, err := json.Marshal(tt.a)
		require.NoError(t, err)
		require.Equal(t, tt.want, string(b))
		var got money.Amount
		require.NoError(t, json.Unmarshal(b, &got))
		require.Equal(t, tt.a, got)
	}

	_, err := json.Marshal(money.Amount{})
	require.ErrorIs(t, err, money.ErrUnknownCurrency)
	_, err = json.Marshal(money.New(5, 1))
	require.ErrorIs(t, err, money.ErrUnknownCurrency)
}

func TestAmount_UnmarshalJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want money.Amount
		err  error
		msg  string
	}{
		{name: "amount string", in: `{"amount":"150.00","currency":"EUR"}`, want: money.New(15000, money.EUR)},
		{name: "currency first", in: `{"currency":"JPY","amount":"-7"}`, want: money.New(-7, money.JPY)},
		{name: "whitespace", in: " {\n \"amount\" : \"1.5\" ,\t\"currency\":\"eur\" } ", want: money.New(150, money.EUR)},
		{name: "minor", in: `{"minor":15000,"currency":"EUR"}`, want: money.New(15000, money.EUR)},
		{name: "minor negative", in: `{"minor":-1,"currency":"CLF"}`, want: money.New(-1, money.CLF)},
		{name: "minor min", in: `{"minor":-9223372036854775808,"currency":"JPY"}`, want: money.New(math.MinInt64, money.JPY)},
		{name: "minor minus zero", in: `{"minor":-0,"currency":"JPY"}`, want: money.New(0, money.JPY)},

		{name: "amount as number", in: `{"amount":150.00,"currency":"EUR"}`, err: money.ErrSyntax, msg: `"amount" must be a JSON string such as "150.00", not the number 150.00`},
		{name: "amount as integer", in: `{"amount":150,"currency":"EUR"}`, err: money.ErrSyntax, msg: "not the number 150"},
		{name: "amount as huge number", in: `{"amount":` + strings.Repeat("9", 100) + `,"currency":"EUR"}`, err: money.ErrSyntax, msg: "not the number " + strings.Repeat("9", 32) + "… (100 bytes)"},
		{name: "amount null", in: `{"amount":null,"currency":"EUR"}`, err: money.ErrSyntax, msg: `"amount" must be a JSON string`},
		{name: "amount object", in: `{"amount":{"x":1},"currency":"EUR"}`, err: money.ErrSyntax, msg: `"amount" must be a JSON string`},
		{name: "amount and minor", in: `{"amount":"1.00","minor":100,"currency":"EUR"}`, err: money.ErrSyntax, msg: `want exactly one of "amount" and "minor"`},
		{name: "neither", in: `{"currency":"EUR"}`, err: money.ErrSyntax, msg: `want exactly one of "amount" and "minor"`},
		{name: "unknown field", in: `{"amount":"1.00","currency":"EUR","note":"x"}`, err: money.ErrSyntax, msg: `unknown field "note"`},
		{name: "field case matters", in: `{"Amount":"1.00","currency":"EUR"}`, err: money.ErrSyntax, msg: `unknown field "Amount"`},
		{name: "repeated field", in: `{"amount":"1.00","amount":"2.00","currency":"EUR"}`, err: money.ErrSyntax, msg: `repeated field "amount"`},
		{name: "missing currency", in: `{"amount":"1.00"}`, err: money.ErrSyntax, msg: `missing "currency"`},
		{name: "bad currency", in: `{"amount":"1.00","currency":"EURO"}`, err: money.ErrUnknownCurrency, msg: `unknown currency "EURO"`},
		{name: "unknown currency", in: `{"amount":"1.00","currency":"XXX"}`, err: money.ErrUnknownCurrency, msg: "not in the ISO 4217 table"},
		{name: "currency as number", in: `{"amount":"1.00","currency":978}`, err: money.ErrSyntax, msg: `"currency" must be a JSON string`},
		{name: "amount bad syntax", in: `{"amount":"1e3","currency":"EUR"}`, err: money.ErrSyntax, msg: "exponent notation is not allowed"},
		{name: "amount too precise", in: `{"amount":"1.005","currency":"EUR"}`, err: money.ErrPrecision, msg: "3 decimal places, EUR allows 2"},
		{name: "amount NaN", in: `{"amount":"NaN","currency":"EUR"}`, err: money.ErrSyntax, msg: "NaN is not allowed"},
		{name: "minor fraction", in: `{"minor":1.0,"currency":"EUR"}`, err: money.ErrSyntax, msg: `"minor" must be a JSON integer`},
		{name: "minor exponent", in: `{"minor":1e3,"currency":"EUR"}`, err: money.ErrSyntax, msg: "without fraction or exponent, not 1e3"},
		{name: "minor string", in: `{"minor":"100","currency":"EUR"}`, err: money.ErrSyntax, msg: `"minor" must be a JSON integer`},
		{name: "minor overflow", in: `{"minor":9223372036854775808,"currency":"EUR"}`, err: money.ErrOverflow, msg: `"minor" 9223372036854775808 is out of the int64 range`},
		{name: "array", in: `["1.00","EUR"]`, err: money.ErrSyntax, msg: "want an object"},
		{name: "string", in: `"150.00 EUR"`, err: money.ErrSyntax, msg: "want an object"},
		{name: "number", in: `150`, err: money.ErrSyntax, msg: "want an object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// Both through encoding/json and by a direct call.
			for _, decode := range []func(*money.Amount) error{
				func(a *money.Amount) error { return json.Unmarshal([]byte(tt.in), a) },
				func(a *money.Amount) error { return a.UnmarshalJSON([]byte(tt.in)) },
			} {
				got := money.New(1, money.USD)
				err := decode(&got)
				if tt.err != nil {
					require.ErrorIs(t, err, tt.err)
					require.Contains(t, err.Error(), tt.msg)
					require.Equal(t, money.New(1, money.USD), got, "unchanged on error")
					continue
				}
				require.NoError(t, err)
				require.Equal(t, tt.want, got)
			}
		})
	}
}

func TestAmount_UnmarshalJSONNull(t *testing.T) {
	t.Parallel()
	a := money.New(1, money.USD)
	require.NoError(t, json.Unmarshal([]byte(`null`), &a))
	require.Equal(t, money.New(1, money.USD), a, "null is a no-op")

	var s struct {
		Paid *money.Amount `json:"paid"`
	}
	require.NoError(t, json.Unmarshal([]byte(`{"paid":null}`), &s))
	require.Nil(t, s.Paid)
}

func TestAmount_UnmarshalJSONMalformed(t *testing.T) {
	t.Parallel()
	for _, in := range []string{`{`, `{"amount":"1.00",`, `{"amount":"1.00","currency":"EUR"} {}`, `{"amount"}`, ``} {
		a := money.New(1, money.USD)
		err := a.UnmarshalJSON([]byte(in))
		require.ErrorIs(t, err, money.ErrSyntax, "%q", in)
		require.Equal(t, money.New(1, money.USD), a)
	}
	// A huge hostile body is cut in the message.
	huge := `{"amount":"` + strings.Repeat("9", 64<<10) + `","currency":"EUR","x":1}`
	var a money.Amount
	err := json.Unmarshal([]byte(huge), &a)
	require.ErrorIs(t, err, money.ErrSyntax)
	require.Less(t, len(err.Error()), 300)
}

func TestAmount_JSONInStruct(t *testing.T) {
	t.Parallel()
	type conversion struct {
		Payout money.Amount `json:"payout"`
	}
	b, err := json.Marshal(conversion{Payout: money.MustParse("52.50", money.EUR)})
	require.NoError(t, err)
	require.Equal(t, `{"payout":{"amount":"52.50","currency":"EUR"}}`, string(b))
	var c conversion
	require.NoError(t, json.Unmarshal([]byte(`{"payout":{"minor":5250,"currency":"EUR"}}`), &c))
	require.Equal(t, money.New(5250, money.EUR), c.Payout)
}
