//go:build !race

package s2s_test

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// receiveAllocs is the most an FTD postback may allocate through BenchmarkReceive's path
// (parse, verify, resolve, decide, commission, record on memstore), its input excluded.
// What remains, one or two allocations each: the conversion's and the ledger line's IDs
// (uuid.NewV7FromReader), the decision's sentence and dedup key, the counter names of the
// CPA (paid once, first deposit, deposits) and their slice, the click found, the ledger
// line's slice, and memstore's copies (the record, its history, its normalised lines and
// increments, its indexes by transaction and conversion, the line's validation).
const receiveAllocs = 25

// TestReceive_Allocs holds the postback path to receiveAllocs allocations, so that a change
// that adds some fails here. (The race detector's instrumentation allocates, hence !race.)
func TestReceive_Allocs(t *testing.T) {
	f := newReceiveFixture(t)
	s := newQuerySigner(f.click, seamNow)
	const runs = 200
	qs := make([]string, runs+1) // AllocsPerRun runs once more, to warm up
	for i := range qs {
		qs[i] = s.query(uint64(i + 1))
	}
	ctx := t.Context()
	i := 0
	n := testing.AllocsPerRun(runs, func() {
		require.NoError(t, f.receive(ctx, qs[i]))
		i++
	})
	t.Logf("%.1f allocations per FTD postback", n)
	require.LessOrEqual(t, n, float64(receiveAllocs))
}
