package store_test

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/store"
)

func TestRatio_BasisPoints(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		r    store.Ratio
		bps  int64
		text string
	}{
		{store.Ratio{Num: 2, Den: 3}, 6667, "66.67%"},
		{store.Ratio{Num: 1, Den: 3}, 3333, "33.33%"},
		{store.Ratio{Num: 1, Den: 8}, 1250, "12.50%"},
		{store.Ratio{Num: 1, Den: 20_000}, 1, "0.01%"}, // half up
		{store.Ratio{Num: 1, Den: 20_001}, 0, "0.00%"},
		{store.Ratio{Num: 3, Den: 1}, 30_000, "300.00%"},
		{store.Ratio{Num: math.MaxInt64, Den: math.MaxInt64}, 10_000, "100.00%"}, // no overflow
	} {
		bps, ok := c.r.BasisPoints()
		require.True(t, ok)
		require.Equal(t, c.bps, bps, "%v", c.r)
		require.Equal(t, c.text, c.r.String())
	}
	_, ok := store.Ratio{Num: 0, Den: 0}.BasisPoints()
	require.False(t, ok, "a rate of nothing has no basis points")
	require.Equal(t, "n/a", store.Ratio{}.String())
	js, err := json.Marshal(store.Ratio{})
	require.NoError(t, err)
	require.JSONEq(t, `{"num":0,"den":0,"bps":null}`, string(js))
}
