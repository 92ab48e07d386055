//go:build !race

package attribution_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/attribution"
	"github.com/s2skit/s2s/store"
)

// TestDecide_Allocs: deciding allocates nothing, with caps or without, nor does computing
// the caps' buckets and counter names into the caller's buffers; the store.Increments
// allocate their counters' names, one each. (The race detector's instrumentation allocates,
// hence !race.)
func TestDecide_Allocs(t *testing.T) {
	last, life := benchInputs()
	d := decider(t, casino())
	require.Zero(t, testing.AllocsPerRun(100, func() { sinkDecision = d.Decide(&last) }), "last-click FTD")
	require.Zero(t, testing.AllocsPerRun(100, func() { sinkDecision = d.Decide(&life) }), "lifetime deposit")

	monthly := attribution.Cap{Name: "monthly", Scope: attribution.CapPerAffiliateCampaign, Period: attribution.CapMonth, Count: 100, Over: attribution.CapHold}
	dc := decider(t, capped(dailyFTDs(attribution.CapReject), monthly))
	var counts [attribution.MaxCaps]attribution.CapCount
	var name [256]byte
	n := 0
	require.Zero(t, testing.AllocsPerRun(100, func() {
		dec := dc.Decide(&last)
		cs := dec.AppendCapCounts(counts[:0])
		n = len(cs)
		for _, c := range cs {
			sinkBytes = c.AppendCounter(name[:0])
		}
	}), "deciding with caps, their buckets and counters' names")
	require.Equal(t, 2, n)
	incs := make([]store.Increment, 0, attribution.MaxCaps)
	require.Equal(t, 2.0, testing.AllocsPerRun(100, func() { sinkIncs = dc.Decide(&last).Increments(incs[:0]) }),
		"one allocation per increment: its counter's name")
}

// TestDecision_ReasonAllocs: the sentence of a decision is rendered in one allocation, its
// string, whatever the path (click, binding); Apply, which stores it with the dedup key,
// cuts both from one string, made in one allocation.
func TestDecision_ReasonAllocs(t *testing.T) {
	last, life := benchInputs()
	d := decider(t, casino())
	for name, in := range map[string]*attribution.Input{"last-click FTD": &last, "lifetime deposit": &life} {
		dec := d.Decide(in)
		require.NotEmpty(t, dec.Reason())
		require.Equal(t, 1.0, testing.AllocsPerRun(100, func() { sinkString = dec.Reason() }), "%s: Reason", name)
		var c store.Conversion
		require.Equal(t, 1.0, testing.AllocsPerRun(100, func() { dec.Apply(&c) }), "%s: Apply", name)
		require.Equal(t, dec.DedupKey(), c.DedupKey, "%s: rule: Apply stores the dedup key", name)
		require.Equal(t, dec.Reason(), c.Decision.Reason, "%s: rule: Apply stores the reason", name)
	}
}
