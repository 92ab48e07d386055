package commission_test

import (
	"testing"

	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/stretchr/testify/require"
)

// TestLine_Explain pins the trace of each rule: the inputs, the arithmetic and the rounding.
func TestLine_Explain(t *testing.T) {
	t.Parallel()
	ib := ibPlan()
	ib.IB.Levels = []money.Rate{money.MustParseRate("70%"), money.MustParseRate("20%")}
	ibg := program(ib)
	ibg.Parents = map[string]string{"ib1": "master"}
	tr := commission.Trade{Symbol: "EURUSD", Lots: money.MustParseRate("2"), Open: day(1), Close: day(2),
		Spread: money.MustParseRate("0.0005"), AvgSpread: money.MustParseRate("0.0001")}
	ibRes, err := commission.Replay(ibg, []commission.Event{{ID: "t", Type: event.Trade, At: day(2), AffiliateID: "ib1", PlayerID: "c", Trade: tr}}, nil)
	require.NoError(t, err)

	prop := commission.Plan{ID: "prop", Currency: money.USD, Prop: &commission.Prop{SizeRate: money.MustParseRate("0.1%"), ClawbackRefund: true, Funded: usd("20")}}
	propRes, err := commission.Replay(program(prop), []commission.Event{
		{ID: "b", Type: event.Purchase, At: day(1), AffiliateID: "a", PlayerID: "p", Amount: usd("500"), AccountSize: usd("100000")},
		{ID: "f", Type: event.Funded, At: day(2), AffiliateID: "a", PlayerID: "p"},
		{ID: "r", Type: event.Refund, At: day(3), AffiliateID: "a", PlayerID: "p", Reverses: "b"},
	}, nil)
	require.NoError(t, err)

	rf := commission.Plan{ID: "rf", Currency: money.EUR, RevShare: &commission.RevShare{Rate: money.MustParseRate("30%"), Carryover: commission.RingFence, HighRoller: eur("500")}}
	rfRes, err := commission.Replay(program(rf), []commission.Event{
		{ID: "1", Type: event.Revenue, At: day(1), AffiliateID: "a", PlayerID: "hr", Revenue: commission.Revenue{GGR: eur("-1000")}},
		{ID: "2", Type: event.Revenue, At: day(1), AffiliateID: "a", PlayerID: "p2", Revenue: commission.Revenue{GGR: eur("300")}},
	}, nil)
	require.NoError(t, err)

	tier := cpaPlan()
	tier.CPA.Countries = nil
	tier.CPA.Tiers = []commission.CountTier{{From: 1, Amount: eur("80")}, {From: 3, Amount: eur("90")}}
	cpa, err := tier.CPALine(commission.CPAInput{AffiliateID: "a", PlayerID: "p", Registered: day(0), At: day(1), FTD: eur("50"), Deposits: eur("50"),
		Wagered: eur("100"), Rounds: 10, Verified: true, PeriodCount: 3})
	require.NoError(t, err)

	for _, tc := range []struct {
		name string
		line commission.Line
		want []string
	}{
		{"ib lot, tree level 1", ibRes.Ledger[0], []string{
			"accrual ib.lot 7.00 USD to ib1 for player c (event t)",
			"arithmetic: 5.00 USD per lot × 2 lots × 1 = 10.00 USD, rounded once (half_even)",
			"IB tree level 1: share 0.7 of 10.00 USD"}},
		{"ib spread, damped, tree level 2", ibRes.Ledger[3], []string{
			"accrual ib.spread 0.80 USD to master",
			"the average spread is used",
			"spread × 2 lots × contract size × 0.2 = 4.00 USD"}},
		{"prop purchase", propRes.Ledger[0], []string{"100000.00 USD × 0.001 = 100.00 USD, rounded once (half_even)"}},
		{"prop funded", propRes.Ledger[1], []string{"payout on funded account, 20.00 USD"}},
		{"prop clawback", propRes.Ledger[2], []string{"clawback prop.purchase -100.00 USD", "reversing b", "clawback of the line of event b, negated"}},
		{"ring fence", rfRes.Ledger[0], []string{
			"NGR of 2 player(s): -700.00 EUR = GGR",
			"ring-fenced high-roller NGR left out (or absorbed by a fenced balance): -1000.00 EUR, NGR counted 300.00 EUR",
			"300.00 EUR × 0.3 = 90.00 EUR"}},
		{"fenced balance", rfRes.Ledger[1], []string{"carryover revshare 0.00 EUR to a for player hr", "negative balance -1000.00 EUR carried (policy ring_fence)"}},
		{"cpa tier", cpa, []string{"rule: CPA tier 2 (qualified player no. 4 of the period)", "amount: 90.00 EUR", "hold: payable from 2026-01-09T00:00:00Z"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := tc.line.Explain()
			for _, w := range tc.want {
				require.Contains(t, got, w)
			}
		})
	}
}
