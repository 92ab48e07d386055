//go:build !race

package s2s_test

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// receiveAllocs is the most an FTD postback may allocate through BenchmarkReceive's path
// (parse, verify, resolve, decide, commission, record on memstore), its input excluded.
// What remains (from the memory profile of BenchmarkReceive): the postback's scratch (its
// attribution.Input, click, binding, increments and ledger line, in one), the decision's
// dedup key and sentence (one string), the CPA's counter names (one string), memstore's
// record (the conversion with its history, its first ledger line and its slot in its
// transaction's index, in one), and amortised map growth.
const receiveAllocs = 5

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
