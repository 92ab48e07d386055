//go:build !race

package attribution_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/attribution"
)

// TestRules_Allocs: fraud bounds and custom rules that find nothing allocate nothing; the
// Verdicts slice (and the verdict's sentence) is allocated only when a rule speaks. (The race
// detector's instrumentation allocates, hence !race.)
func TestRules_Allocs(t *testing.T) {
	last, life := benchInputs()
	quiet := func(attribution.Input, attribution.Decision) attribution.Verdict { return attribution.Verdict{} }
	d := withRules(t, fraudulent(), quiet, quiet)
	require.Zero(t, testing.AllocsPerRun(100, func() { sinkDecision = d.Decide(&last) }), "last-click FTD, fraud bounds and custom rules silent")
	require.Zero(t, testing.AllocsPerRun(100, func() { sinkDecision = d.Decide(&life) }), "lifetime deposit, fraud bounds and custom rules silent")
	require.Nil(t, d.Decide(&last).Verdicts)

	fast := last
	fast.Conversion.OccurredAt = last.Click.CreatedAt.Add(time.Second)
	require.NotZero(t, testing.AllocsPerRun(100, func() { sinkDecision = d.Decide(&fast) }), "a rule that speaks allocates its verdict")
}
