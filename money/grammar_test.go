package money_test

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/money"
)

// grammarCase is one row of the amount grammar table. The fuzz targets are seeded with its
// inputs.
type grammarCase struct {
	name string
	in   string
	cur  money.Currency
	opts *money.ParseOptions
	want int64  // minor units, if err is nil
	err  error  // the sentinel the error must wrap
	msg  string // text the error message must contain (it names the problem)
}

var (
	comma     = &money.ParseOptions{DecimalComma: true}
	roundEven = &money.ParseOptions{Round: true}
	roundUp   = &money.ParseOptions{Round: true, Mode: money.HalfUp}
	roundAway = &money.ParseOptions{Round: true, Mode: money.Up}
	roundDown = &money.ParseOptions{Round: true, Mode: money.Down}
	roundFl   = &money.ParseOptions{Round: true, Mode: money.Floor}
)

var grammarCases = []grammarCase{
	// Accepted.
	{name: "two decimals", in: "150.00", cur: money.EUR, want: 15000},
	{name: "integer", in: "150", cur: money.EUR, want: 15000},
	{name: "one decimal", in: "150.5", cur: money.EUR, want: 15050},
	{name: "leading zeros", in: "007.50", cur: money.EUR, want: 750},
	{name: "many leading zeros", in: strings.Repeat("0", 200) + "1.00", cur: money.EUR, want: 100},
	{name: "negative", in: "-12.34", cur: money.EUR, want: -1234},
	{name: "minus zero", in: "-0", cur: money.EUR, want: 0},
	{name: "minus zero with decimals", in: "-0.00", cur: money.EUR, want: 0},
	{name: "JPY zero", in: "0", cur: money.JPY, want: 0},
	{name: "JPY integer", in: "1500", cur: money.JPY, want: 1500},
	{name: "KWD three decimals", in: "1.234", cur: money.KWD, want: 1234},
	{name: "CLF four decimals", in: "0.0001", cur: money.CLF, want: 1},
	{name: "decimal comma with option", in: "10,5", cur: money.EUR, opts: comma, want: 1050},
	{name: "dot still accepted with comma option", in: "10.5", cur: money.EUR, opts: comma, want: 1050},
	{name: "comma option: 1,000 KWD is 1.000", in: "1,000", cur: money.KWD, opts: comma, want: 1000},
	{name: "max int64 EUR", in: "92233720368547758.07", cur: money.EUR, want: math.MaxInt64},
	{name: "min int64 EUR", in: "-92233720368547758.08", cur: money.EUR, want: math.MinInt64},
	{name: "max int64 JPY", in: "9223372036854775807", cur: money.JPY, want: math.MaxInt64},
	{name: "min int64 CLF", in: "-922337203685477.5808", cur: money.CLF, want: math.MinInt64},
	{name: "round half even tie to even", in: "10.005", cur: money.EUR, opts: roundEven, want: 1000},
	{name: "round half even tie up to even", in: "10.015", cur: money.EUR, opts: roundEven, want: 1002},
	{name: "round half up tie", in: "10.005", cur: money.EUR, opts: roundUp, want: 1001},
	{name: "round JPY tie", in: "0.5", cur: money.JPY, opts: roundEven, want: 0},
	{name: "round KWD tie", in: "0.0005", cur: money.KWD, opts: roundUp, want: 1},
	{name: "round CLF tie", in: "-0.00005", cur: money.CLF, opts: roundUp, want: -1},
	{name: "round tiny up", in: "0.000000000000000000000001", cur: money.EUR, opts: roundAway, want: 1},
	{name: "round tiny floor", in: "-0.000000000000000000000001", cur: money.EUR, opts: roundFl, want: -1},
	{name: "round tiny half even", in: "0.005000000000000000000001", cur: money.EUR, opts: roundEven, want: 1},
	{name: "round with nothing to round", in: "1.5", cur: money.EUR, opts: roundUp, want: 150},
	{name: "round down at max", in: "9223372036854775807.5", cur: money.JPY, opts: roundDown, want: math.MaxInt64},

	// Refused: syntax.
	{name: "empty", in: "", cur: money.EUR, err: money.ErrSyntax, msg: "empty string"},
	{name: "minus alone", in: "-", cur: money.EUR, err: money.ErrSyntax, msg: "missing digits after the minus sign"},
	{name: "plus sign", in: "+1", cur: money.EUR, err: money.ErrSyntax, msg: "a plus sign is not allowed"},
	{name: "leading space", in: " 1", cur: money.EUR, err: money.ErrSyntax, msg: "leading whitespace is not allowed"},
	{name: "trailing space", in: "1 ", cur: money.EUR, err: money.ErrSyntax, msg: "trailing whitespace is not allowed"},
	{name: "trailing newline", in: "1\n", cur: money.EUR, err: money.ErrSyntax, msg: "trailing whitespace is not allowed"},
	{name: "leading tab", in: "\t1", cur: money.EUR, err: money.ErrSyntax, msg: "leading whitespace is not allowed"},
	{name: "inner space", in: "1 000", cur: money.EUR, err: money.ErrSyntax, msg: "whitespace inside a number is not allowed"},
	{name: "inner no-break space", in: "1\u00a0000", cur: money.EUR, err: money.ErrSyntax, msg: "whitespace inside a number is not allowed"},
	{name: "amount with code", in: "10.00 EUR", cur: money.EUR, err: money.ErrSyntax, msg: "whitespace inside a number is not allowed"},
	{name: "no digits after point", in: "1.", cur: money.EUR, err: money.ErrSyntax, msg: "missing digits after the decimal separator"},
	{name: "no digits before point", in: ".5", cur: money.EUR, err: money.ErrSyntax, msg: "missing digits before the decimal separator '.'"},
	{name: "negative no digits before point", in: "-.5", cur: money.EUR, err: money.ErrSyntax, msg: "missing digits before the decimal separator '.'"},
	{name: "thousands separator", in: "1,000", cur: money.EUR, err: money.ErrSyntax, msg: "',' is not allowed: no thousands separators"},
	{name: "decimal comma without option", in: "10,5", cur: money.EUR, err: money.ErrSyntax, msg: "a decimal comma needs ParseOptions.DecimalComma"},
	{name: "thousands and decimal", in: "1,000.50", cur: money.EUR, err: money.ErrSyntax, msg: "',' is not allowed"},
	{name: "comma then point with option", in: "1.000,5", cur: money.EUR, opts: comma, err: money.ErrSyntax, msg: "more than one decimal separator"},
	{name: "two points", in: "1.2.3", cur: money.EUR, err: money.ErrSyntax, msg: "more than one decimal separator"},
	{name: "NaN", in: "NaN", cur: money.EUR, err: money.ErrSyntax, msg: "NaN is not allowed"},
	{name: "nan lower", in: "nan", cur: money.EUR, err: money.ErrSyntax, msg: "NaN is not allowed"},
	{name: "Inf", in: "Inf", cur: money.EUR, err: money.ErrSyntax, msg: "infinity is not allowed"},
	{name: "negative Infinity", in: "-Infinity", cur: money.EUR, err: money.ErrSyntax, msg: "infinity is not allowed"},
	{name: "plus Inf", in: "+Inf", cur: money.EUR, err: money.ErrSyntax, msg: "a plus sign is not allowed"},
	{name: "exponent", in: "1e3", cur: money.EUR, err: money.ErrSyntax, msg: "exponent notation is not allowed"},
	{name: "exponent upper negative", in: "1.5E-3", cur: money.EUR, err: money.ErrSyntax, msg: "exponent notation is not allowed"},
	{name: "hex float", in: "0x1p4", cur: money.EUR, err: money.ErrSyntax, msg: "hexadecimal notation is not allowed"},
	{name: "hex integer", in: "0XFF", cur: money.EUR, err: money.ErrSyntax, msg: "hexadecimal notation is not allowed"},
	{name: "underscore", in: "1_000", cur: money.EUR, err: money.ErrSyntax, msg: "digit separator '_' is not allowed"},
	{name: "arabic-indic digits", in: "١٢", cur: money.EUR, err: money.ErrSyntax, msg: "non-ASCII digit '١' is not allowed"},
	{name: "fullwidth digit", in: "１", cur: money.EUR, err: money.ErrSyntax, msg: "non-ASCII digit"},
	{name: "unicode minus", in: "−1", cur: money.EUR, err: money.ErrSyntax, msg: "the minus sign must be ASCII '-'"},
	{name: "invalid UTF-8", in: "1\xff", cur: money.EUR, err: money.ErrSyntax, msg: "non-ASCII character"},
	{name: "double minus", in: "--1", cur: money.EUR, err: money.ErrSyntax, msg: "misplaced minus sign"},
	{name: "trailing minus", in: "1-", cur: money.EUR, err: money.ErrSyntax, msg: "misplaced minus sign"},
	{name: "letters", in: "12abc", cur: money.EUR, err: money.ErrSyntax, msg: "unexpected character 'a'"},
	{name: "currency symbol", in: "$10", cur: money.EUR, err: money.ErrSyntax, msg: "unexpected character '$'"},
	{name: "apostrophe separator", in: "1'000", cur: money.EUR, err: money.ErrSyntax, msg: `unexpected character '\''`},
	{name: "percent", in: "10%", cur: money.EUR, err: money.ErrSyntax, msg: "unexpected character '%'"},

	// Refused: precision.
	{name: "too many decimals", in: "10.005", cur: money.EUR, err: money.ErrPrecision, msg: `money: invalid amount "10.005" for EUR: 3 decimal places, EUR allows 2`},
	{name: "trailing zeros count", in: "10.500", cur: money.EUR, err: money.ErrPrecision, msg: "3 decimal places, EUR allows 2"},
	{name: "decimal in JPY", in: "1.5", cur: money.JPY, err: money.ErrPrecision, msg: "1 decimal place, JPY allows 0"},
	{name: "five decimals in CLF", in: "0.00001", cur: money.CLF, err: money.ErrPrecision, msg: "5 decimal places, CLF allows 4"},
	{name: "comma option: 1,000 EUR is 1.000", in: "1,000", cur: money.EUR, opts: comma, err: money.ErrPrecision, msg: "3 decimal places, EUR allows 2"},

	// Refused: overflow.
	{name: "above max EUR", in: "92233720368547758.08", cur: money.EUR, err: money.ErrOverflow, msg: "out of the int64 range of minor units"},
	{name: "below min EUR", in: "-92233720368547758.09", cur: money.EUR, err: money.ErrOverflow, msg: "out of the int64 range"},
	{name: "above max JPY", in: "9223372036854775808", cur: money.JPY, err: money.ErrOverflow, msg: "out of the int64 range"},
	{name: "huge", in: strings.Repeat("9", 40), cur: money.JPY, err: money.ErrOverflow, msg: "out of the int64 range"},
	{name: "overflow after rounding", in: "9223372036854775807.5", cur: money.JPY, opts: roundUp, err: money.ErrOverflow, msg: "out of the int64 range"},
	{name: "overflow after rounding negative", in: "-92233720368547758.085", cur: money.EUR, opts: roundUp, err: money.ErrOverflow, msg: "out of the int64 range"},

	// Refused: currency and mode.
	{name: "no currency", in: "1.00", cur: 0, err: money.ErrUnknownCurrency, msg: "currency (none) is not a known currency"},
	{name: "unknown currency", in: "1.00", cur: 1, err: money.ErrUnknownCurrency, msg: "is not a known currency"},
	{name: "invalid mode", in: "1.005", cur: money.EUR, opts: &money.ParseOptions{Round: true, Mode: 9}, err: money.ErrInvalidMode, msg: "invalid rounding mode 9"},
}

func TestParse_Grammar(t *testing.T) {
	t.Parallel()
	require.GreaterOrEqual(t, len(grammarCases), 40)
	for _, tt := range grammarCases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := money.Parse(tt.in, tt.cur, tt.opts)
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
				require.Contains(t, err.Error(), tt.msg)
				require.True(t, strings.HasPrefix(err.Error(), "money: "), err.Error())
				require.Zero(t, got)
				return
			}
			require.NoError(t, err)
			require.Equal(t, money.New(tt.want, tt.cur), got)
		})
	}
}

func TestParse_MessageQuotesInput(t *testing.T) {
	t.Parallel()
	_, err := money.Parse("1e3", money.EUR, nil)
	require.EqualError(t, err, `money: invalid amount "1e3": exponent notation is not allowed`)

	// A huge hostile input is cut in the message.
	_, err = money.Parse(strings.Repeat("1", 64<<10)+"x", money.EUR, nil)
	require.ErrorIs(t, err, money.ErrSyntax)
	require.Less(t, len(err.Error()), 200)
	require.Contains(t, err.Error(), `"11111111111111111111111111111111"… (65537 bytes)`)
}

func TestParse_NilOptionsAreStrict(t *testing.T) {
	t.Parallel()
	for _, opts := range []*money.ParseOptions{nil, {}} {
		_, err := money.Parse("10,5", money.EUR, opts)
		require.ErrorIs(t, err, money.ErrSyntax)
		_, err = money.Parse("10.555", money.EUR, opts)
		require.ErrorIs(t, err, money.ErrPrecision)
	}
}

func TestParse_DoesNotAllocate(t *testing.T) {
	opts := &money.ParseOptions{DecimalComma: true, Round: true, Mode: money.HalfUp}
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := money.Parse("150.00", money.EUR, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := money.Parse("-1234,5678", money.KWD, opts); err != nil {
			t.Fatal(err)
		}
	})
	require.Zero(t, allocs)
}

func TestMustParse(t *testing.T) {
	t.Parallel()
	require.Equal(t, money.New(15000, money.EUR), money.MustParse("150.00", money.EUR))
	require.PanicsWithError(t, `money: invalid amount "1e3": exponent notation is not allowed`, func() {
		money.MustParse("1e3", money.EUR)
	})
}
