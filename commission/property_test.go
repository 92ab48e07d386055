package commission_test

import (
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/stretchr/testify/require"
)

// TestReplay_SubShareProperties: over random trees of earnings and level rates, each
// sub-affiliate share is within half a minor unit of its exact value (HalfEven), the shares
// of all levels never exceed the earnings when the rates sum to at most 100%, and a period
// whose earnings are reversed nets every share to zero.
func TestReplay_SubShareProperties(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 5))
	for i := range 300 {
		cur := []money.Currency{money.EUR, money.JPY, money.KWD, money.CLF}[i%4]
		depth := 1 + rng.IntN(4)
		left := int64(10_000)
		levels := make([]commission.SubLevel, depth)
		for j := range levels {
			bp := rng.Int64N(left/2 + 1)
			left -= bp
			levels[j] = commission.SubLevel{Rate: money.BasisPoints(bp), Basis: commission.OfEarnings}
		}
		earn := 1 + rng.Int64N(1_000_000_000)
		leaf := commission.Plan{ID: "leaf", Currency: cur, CPA: &commission.CPA{Amount: money.New(earn, cur)}}
		parent := commission.Plan{ID: "parent", Currency: cur, Sub: &commission.Sub{Levels: levels}}
		g := &commission.Program{Default: []commission.Version{{From: t0, Plan: parent}},
			Affiliates: map[string][]commission.Version{"a0": {{From: t0, Plan: leaf}}}, Parents: map[string]string{}}
		for j := 1; j <= depth; j++ {
			g.Parents["a"+string(rune('0'+j-1))] = "a" + string(rune('0'+j))
		}
		evs := []commission.Event{{ID: "d", Type: event.Deposit, At: day(1), AffiliateID: "a0", PlayerID: "p", Amount: money.New(1, cur)}}
		res, err := commission.Replay(g, evs, nil)
		require.NoError(t, err)
		var shares int64
		for _, l := range res.Ledger {
			if l.Rule != commission.RuleSub {
				continue
			}
			r := levels[l.Level-1].Rate
			exact2 := 2 * earn * r.Coefficient() * pow(4-r.Scale()) // ×2×10^4
			require.LessOrEqual(t, abs(2*l.Amount.Minor()*10_000-exact2), int64(10_000), "level %d", l.Level)
			shares += l.Amount.Minor()
		}
		require.LessOrEqual(t, shares, earn)

		evs = append(evs, commission.Event{ID: "x", Type: event.Reversal, At: day(2), AffiliateID: "a0", PlayerID: "p", Reverses: "d"})
		res, err = commission.Replay(g, evs, nil)
		require.NoError(t, err)
		for _, s := range res.Statements {
			require.True(t, s.Total.IsZero(), "%s nets to zero after the reversal", s.AffiliateID)
		}
	}
}

// TestReplay_Concurrent replays one shared program and history from many goroutines: the
// package has no shared mutable state, so every result is the same (run with -race).
func TestReplay_Concurrent(t *testing.T) {
	t.Parallel()
	plan := commission.Plan{ID: "h", Currency: money.EUR, CPA: &commission.CPA{Amount: eur("100")},
		RevShare: &commission.RevShare{NGR: mga, Tiers: tiered(true).RevShare.Tiers, Marginal: true, Carryover: commission.CarryForward}}
	g := program(plan)
	var evs []commission.Event
	for i := range 200 {
		id := string(rune('a'+i%26)) + string(rune('a'+i/26))
		evs = append(evs,
			commission.Event{ID: "d" + id, Type: event.Deposit, At: day(i % 60), AffiliateID: "aff", PlayerID: id, Amount: eur("30")},
			commission.Event{ID: "r" + id, Type: event.Revenue, At: day(i % 60), AffiliateID: "aff", PlayerID: id,
				Revenue: commission.Revenue{GGR: money.New(int64(i*7919%200_000-50_000), money.EUR)}})
	}
	want, err := commission.Replay(g, evs, nil)
	require.NoError(t, err)
	var wg sync.WaitGroup
	results := make([]*commission.ReplayResult, 16)
	errs := make([]error, 16)
	for i := range results {
		wg.Go(func() { results[i], errs[i] = commission.Replay(g, evs, nil) })
	}
	wg.Wait()
	for i := range results {
		require.NoError(t, errs[i])
		require.Equal(t, len(want.Ledger), len(results[i].Ledger))
		for j := range want.Statements {
			require.Equal(t, want.Statements[j].Total, results[i].Statements[j].Total)
		}
	}
}
