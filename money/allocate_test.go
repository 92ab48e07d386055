package money_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/money"
)

func TestAmount_Allocate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		a       money.Amount
		weights []int64
		want    []int64
	}{
		{name: "Foemmel's conundrum", a: money.New(5, money.EUR), weights: []int64{3, 7}, want: []int64{2, 3}},
		{name: "thirds", a: money.New(10000, money.EUR), weights: []int64{1, 1, 1}, want: []int64{3334, 3333, 3333}},
		{name: "negative thirds mirror", a: money.New(-10000, money.EUR), weights: []int64{1, 1, 1}, want: []int64{-3334, -3333, -3333}},
		{name: "ties to lower index", a: money.New(2, money.EUR), weights: []int64{1, 1, 1}, want: []int64{1, 1, 0}},
		{name: "largest remainder wins over index", a: money.New(1, money.EUR), weights: []int64{1, 2}, want: []int64{0, 1}},
		{name: "zero weight gets zero", a: money.New(7, money.BHD), weights: []int64{0, 1, 0, 1}, want: []int64{0, 4, 0, 3}},
		{name: "only zero weights but one", a: money.New(100, money.EUR), weights: []int64{0, 0, 5}, want: []int64{0, 0, 100}},
		{name: "single weight", a: money.New(math.MinInt64, money.JPY), weights: []int64{42}, want: []int64{math.MinInt64}},
		{name: "zero amount", a: money.New(0, money.USD), weights: []int64{1, 2}, want: []int64{0, 0}},
		{name: "max halves", a: money.New(math.MaxInt64, money.EUR), weights: []int64{1, 1}, want: []int64{4611686018427387904, 4611686018427387903}},
		{name: "min halves", a: money.New(math.MinInt64, money.EUR), weights: []int64{1, 1}, want: []int64{-4611686018427387904, -4611686018427387904}},
		{name: "max weights", a: money.New(math.MaxInt64, money.JPY), weights: []int64{math.MaxInt64 - 1, 1}, want: []int64{math.MaxInt64 - 1, 1}},
		{name: "many parts (sort path)", a: money.New(10, money.EUR), weights: []int64{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},
			want: []int64{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
		{name: "many parts uneven", a: money.New(-100, money.EUR), weights: []int64{0, 3, 0, 3, 0, 3, 0, 3, 0, 3, 0, 3, 0, 3, 0, 3, 0, 3, 1},
			want: []int64{0, -11, 0, -11, 0, -11, 0, -11, 0, -11, 0, -11, 0, -11, 0, -10, 0, -10, -3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			parts, err := tt.a.Allocate(tt.weights...)
			require.NoError(t, err)
			got := make([]int64, len(parts))
			for i, p := range parts {
				got[i] = p.Minor()
				require.Equal(t, tt.a.Currency(), p.Currency())
			}
			require.Equal(t, tt.want, got)
		})
	}
}

func TestAmount_AllocateErrors(t *testing.T) {
	t.Parallel()
	a := money.MustParse("10.00", money.EUR)
	tests := []struct {
		name    string
		weights []int64
		err     error
		msg     string
	}{
		{name: "none", weights: nil, err: money.ErrInvalidWeights, msg: "money: allocate 10.00 EUR: no weights"},
		{name: "negative", weights: []int64{1, -1, 2}, err: money.ErrInvalidWeights, msg: "money: allocate 10.00 EUR: weight 1 is -1, weights must not be negative"},
		{name: "all zero", weights: []int64{0, 0}, err: money.ErrInvalidWeights, msg: "money: allocate 10.00 EUR: the weights sum to 0"},
		{name: "sum overflows", weights: []int64{math.MaxInt64, 1}, err: money.ErrOverflow, msg: "money: allocate 10.00 EUR: the weights sum beyond int64 (overflow)"},
		{name: "negative after an overflowing sum", weights: []int64{math.MaxInt64 - 18, 57, -61}, err: money.ErrInvalidWeights, msg: "weight 2 is -61"},
		{name: "sum overflows later", weights: []int64{1 << 62, 1 << 62, 1 << 62, 1 << 62}, err: money.ErrOverflow, msg: "the weights sum beyond int64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			parts, err := a.Allocate(tt.weights...)
			require.ErrorIs(t, err, tt.err)
			require.Contains(t, err.Error(), tt.msg)
			require.Nil(t, parts)
		})
	}
}

func TestAmount_AllocateDoesNotModifyWeights(t *testing.T) {
	t.Parallel()
	w := []int64{3, 0, 7}
	_, err := money.New(5, money.EUR).Allocate(w...)
	require.NoError(t, err)
	require.Equal(t, []int64{3, 0, 7}, w)
}
