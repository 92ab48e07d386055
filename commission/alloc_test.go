//go:build !race

// The race detector changes what allocates, so allocation counts mean nothing under -race:
// this test is compiled only without it, and .ci/run runs it in a pass of its own.

package commission_test

import (
	"testing"

	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/money"
	"github.com/stretchr/testify/require"
)

// TestCalculators_NoAllocs holds the calculators to their promise: they do not allocate, the
// detail a line keeps for Explain included.
func TestCalculators_NoAllocs(t *testing.T) {
	cpa := cpaPlan()
	cpaIn := commission.CPAInput{AffiliateID: "a", PlayerID: "p", EventID: "d", At: day(3), Country: "DE", Registered: day(0),
		FTD: eur("50"), Deposits: eur("80"), Wagered: eur("300"), Rounds: 40, Verified: true}
	rs := tiered(true)
	rs.RevShare.NGR, rs.RevShare.AdminFee = mga, money.MustParseRate("5%")
	rev := commission.Revenue{GGR: eur("84000.17"), Bonuses: eur("1000"), Deposits: eur("20000"), Withdrawals: eur("8000")}
	rsIn := commission.RevShareInput{AffiliateID: "a", Players: 1, Revenue: &rev, NGR: eur("12345.67"), CarryIn: eur("-100")}
	ib := ibPlan()
	trade := commission.TradeInput{AffiliateID: "ib1", PlayerID: "c", EventID: "t", At: day(2), PeriodLots: money.MustParseRate("150"),
		Trade: commission.Trade{Symbol: "EURUSD", Lots: money.MustParseRate("1.3"), Cent: true, Open: day(1), Close: day(2),
			Spread: money.MustParseRate("0.0005"), AvgSpread: money.MustParseRate("0.0001")}}
	prop := commission.Plan{ID: "prop", Currency: money.USD, Prop: &commission.Prop{SizeRate: money.MustParseRate("0.1%")}}
	buy := commission.PurchaseInput{AffiliateID: "a", PlayerID: "p", EventID: "b", At: day(1), Price: usd("500"), AccountSize: usd("100000"), First: true}
	for name, f := range map[string]func(){
		"CPALine":        func() { _, _ = cpa.CPALine(cpaIn) },
		"CPALine unpaid": func() { in := cpaIn; in.Verified = false; _, _ = cpa.CPALine(in) },
		"NGR":            func() { _, _ = rs.NGR(&rev) },
		"RevShareLine":   func() { _, _, _ = rs.RevShareLine(rsIn) },
		"TradeLines":     func() { _, _, _ = ib.TradeLines(trade) },
		"PurchaseLine":   func() { _, _ = prop.PurchaseLine(buy) },
	} {
		require.Zero(t, testing.AllocsPerRun(200, f), "%s allocates", name)
	}
}
