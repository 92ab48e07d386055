package money_test

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/money"
)

func TestParseRate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in    string
		coef  int64
		scale int
		str   string
		err   error
		msg   string
	}{
		{in: "0.35", coef: 35, scale: 2, str: "0.35"},
		{in: "1.0843", coef: 10843, scale: 4, str: "1.0843"},
		{in: "12.5%", coef: 125, scale: 3, str: "0.125"},
		{in: "100%", coef: 1, scale: 0, str: "1"},
		{in: "25bp", coef: 25, scale: 4, str: "0.0025"},
		{in: "25bps", coef: 25, scale: 4, str: "0.0025"},
		{in: "10000bp", coef: 1, scale: 0, str: "1"},
		{in: "1.5bp", coef: 15, scale: 5, str: "0.00015"},
		{in: "3", coef: 3, scale: 0, str: "3"},
		{in: "300", coef: 300, scale: 0, str: "300"},
		{in: "-0.5", coef: -5, scale: 1, str: "-0.5"},
		{in: "-5%", coef: -5, scale: 2, str: "-0.05"},
		{in: "0.50", coef: 5, scale: 1, str: "0.5"},
		{in: "0.35000000000000000000000000", coef: 35, scale: 2, str: "0.35"},
		{in: "007.250", coef: 725, scale: 2, str: "7.25"},
		{in: "0", coef: 0, scale: 0, str: "0"},
		{in: "-0.000", coef: 0, scale: 0, str: "0"},
		{in: "0%", coef: 0, scale: 0, str: "0"},
		{in: "0.000000000000000001", coef: 1, scale: 18, str: "0.000000000000000001"},
		{in: "0.0000000000000001%", coef: 1, scale: 18, str: "0.000000000000000001"},
		{in: "9223372036854775807", coef: math.MaxInt64, scale: 0, str: "9223372036854775807"},
		{in: "-9223372036854775808", coef: math.MinInt64, scale: 0, str: "-9223372036854775808"},
		{in: "-9.223372036854775808", coef: math.MinInt64, scale: 18, str: "-9.223372036854775808"},
		{in: "92233720368547758070%", coef: math.MaxInt64, scale: 1, str: "922337203685477580.7"},

		{in: "", err: money.ErrSyntax, msg: "empty string"},
		{in: "%", err: money.ErrSyntax, msg: "missing digits before the unit"},
		{in: "bp", err: money.ErrSyntax, msg: "missing digits before the unit"},
		{in: "1e3", err: money.ErrSyntax, msg: "exponent notation is not allowed"},
		{in: "NaN", err: money.ErrSyntax, msg: "NaN is not allowed"},
		{in: "Inf%", err: money.ErrSyntax, msg: "infinity is not allowed"},
		{in: "+0.5", err: money.ErrSyntax, msg: "a plus sign is not allowed"},
		{in: "0,5", err: money.ErrSyntax, msg: "no thousands separators or decimal commas in a rate"},
		{in: "12.5 %", err: money.ErrSyntax, msg: "trailing whitespace is not allowed"},
		{in: "12.5%%", err: money.ErrSyntax, msg: "misplaced percent sign"},
		{in: "%5", err: money.ErrSyntax, msg: "misplaced percent sign"},
		{in: "5BP", err: money.ErrSyntax, msg: "unexpected character 'B'"},
		{in: "5bpbp", err: money.ErrSyntax, msg: "unexpected character 'b'"},
		{in: ".5", err: money.ErrSyntax, msg: "missing digits before the decimal separator"},
		{in: "0x10", err: money.ErrSyntax, msg: "hexadecimal notation is not allowed"},
		{in: "0.0000000000000000001", err: money.ErrPrecision, msg: `money: invalid rate "0.0000000000000000001": 19 decimal places, at most 18`},
		{in: "0.00000000000000001%", err: money.ErrPrecision, msg: "19 decimal places"},
		{in: "9223372036854775808", err: money.ErrOverflow, msg: "does not fit in an int64"},
		{in: "-9223372036854775809", err: money.ErrOverflow, msg: "does not fit in an int64"},
		{in: strings.Repeat("9", 30), err: money.ErrOverflow, msg: "does not fit in an int64"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			r, err := money.ParseRate(tt.in)
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
				require.Contains(t, err.Error(), tt.msg)
				require.Zero(t, r)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.coef, r.Coefficient())
			require.Equal(t, tt.scale, r.Scale())
			require.Equal(t, tt.str, r.String())
			again, err := money.ParseRate(r.String())
			require.NoError(t, err)
			require.Equal(t, r, again)
		})
	}
}

func TestRate_NormalisedEquality(t *testing.T) {
	t.Parallel()
	want := mustRate("0.5")
	for _, s := range []string{"0.50", "50%", "5000bp", "0.500000", "00.5"} {
		require.Equal(t, want, mustRate(s), s)
	}
	r, err := money.NewRate(500, 3)
	require.NoError(t, err)
	require.Equal(t, want, r)
	require.Equal(t, want, money.BasisPoints(5000))
	require.Equal(t, mustRate("0.0025"), money.BasisPoints(25))
	require.Equal(t, mustRate("-1"), money.BasisPoints(-10000))
	require.Equal(t, money.Rate{}, money.BasisPoints(0))
}

func TestNewRate(t *testing.T) {
	t.Parallel()
	r, err := money.NewRate(35, 2)
	require.NoError(t, err)
	require.Equal(t, "0.35", r.String())
	r, err = money.NewRate(math.MinInt64, 18)
	require.NoError(t, err)
	require.Equal(t, "-9.223372036854775808", r.String())
	r, err = money.NewRate(0, 18)
	require.NoError(t, err)
	require.Equal(t, money.Rate{}, r)
	for _, scale := range []int{-1, 19, 100} {
		_, err := money.NewRate(1, scale)
		require.ErrorIs(t, err, money.ErrInvalidRate, "scale %d", scale)
		require.Contains(t, err.Error(), "the scale must be 0 to 18")
	}
}

func TestRate_SignZero(t *testing.T) {
	t.Parallel()
	require.Equal(t, 1, mustRate("0.1").Sign())
	require.Equal(t, -1, mustRate("-0.1").Sign())
	require.Equal(t, 0, mustRate("0").Sign())
	require.True(t, money.Rate{}.IsZero())
	require.False(t, mustRate("0.000000000000000001").IsZero())
	require.Equal(t, "0", money.Rate{}.String())
}

func TestRate_Cmp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want int
	}{
		{"0.35", "0.35", 0},
		{"0.35", "35%", 0},
		{"0.35", "0.350000000000000001", -1},
		{"0.1", "0.09", 1},
		{"-0.1", "-0.09", -1},
		{"-0.1", "0", -1},
		{"0", "-0.000000000000000001", 1},
		{"-1", "1", -1},
		{"9223372036854775807", "9.223372036854775807", 1},
		{"9223372036854775807", "9223372036854775806", 1},
		{"-9223372036854775808", "-9223372036854775807", -1},
		{"-9.223372036854775808", "-9223372036854775808", 1},
		{"0.000000000000000001", "0.000000000000000002", -1},
		{"922337203685477580.7", "92233720368547758.07", 1},
		{"0.92233720368547758", "0.922337203685477581", -1},
		{"-922337203685477580.7", "-922337203685477580.6", -1},
	}
	for _, tt := range tests {
		a, b := mustRate(tt.a), mustRate(tt.b)
		require.Equal(t, tt.want, a.Cmp(b), "%s cmp %s", tt.a, tt.b)
		require.Equal(t, -tt.want, b.Cmp(a), "%s cmp %s", tt.b, tt.a)
	}
}

func TestRate_Text(t *testing.T) {
	t.Parallel()
	r := mustRate("12.5%")
	b, err := r.MarshalText()
	require.NoError(t, err)
	require.Equal(t, "0.125", string(b))
	b, err = r.AppendText([]byte("rate="))
	require.NoError(t, err)
	require.Equal(t, "rate=0.125", string(b))

	var got money.Rate
	require.NoError(t, got.UnmarshalText([]byte("25bp")))
	require.Equal(t, money.BasisPoints(25), got)
	err = got.UnmarshalText([]byte("1e-3"))
	require.ErrorIs(t, err, money.ErrSyntax)
	require.Equal(t, money.BasisPoints(25), got, "unchanged on error")

	type plan struct {
		Share money.Rate `json:"share"`
	}
	j, err := json.Marshal(plan{Share: mustRate("0.35")})
	require.NoError(t, err)
	require.JSONEq(t, `{"share":"0.35"}`, string(j))
	var p plan
	require.NoError(t, json.Unmarshal([]byte(`{"share":"35%"}`), &p))
	require.Equal(t, mustRate("0.35"), p.Share)
	require.Error(t, json.Unmarshal([]byte(`{"share":0.35}`), &p), "a JSON number is not a rate")
}

func TestMustParseRate(t *testing.T) {
	t.Parallel()
	require.Equal(t, money.BasisPoints(3500), money.MustParseRate("35%"))
	require.Panics(t, func() { money.MustParseRate("35 %") })
}

func TestRoundingMode_Text(t *testing.T) {
	t.Parallel()
	names := []string{"half_even", "half_up", "down", "up", "floor", "ceil"}
	for i, m := range modes {
		require.Equal(t, names[i], m.String())
		b, err := m.MarshalText()
		require.NoError(t, err)
		require.Equal(t, names[i], string(b))
		var got money.RoundingMode
		require.NoError(t, got.UnmarshalText(b))
		require.Equal(t, m, got)
	}
	var zero money.RoundingMode
	require.Equal(t, money.HalfEven, zero, "the zero value is HalfEven")

	bad := money.RoundingMode(6)
	require.Equal(t, "RoundingMode(6)", bad.String())
	_, err := bad.MarshalText()
	require.ErrorIs(t, err, money.ErrInvalidMode)

	got := money.Ceil
	for _, s := range []string{"HALF_EVEN", "halfeven", "", "half_even ", "bankers"} {
		err := got.UnmarshalText([]byte(s))
		require.ErrorIs(t, err, money.ErrInvalidMode, s)
		require.Contains(t, err.Error(), "unknown rounding mode")
		require.Equal(t, money.Ceil, got, "unchanged on error")
	}
}
