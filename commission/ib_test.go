package commission_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/stretchr/testify/require"
)

func usd(s string) money.Amount { return money.MustParse(s, money.USD) }

func ibPlan() commission.Plan {
	return commission.Plan{ID: "ib", Currency: money.USD, IB: &commission.IB{
		Symbols: []commission.SymbolRate{
			{Symbol: "XAUUSD", PerLot: usd("15")},
			{Class: "metals", PerLot: usd("12")},
			{Symbol: "EURUSD", Points: money.MustParseRate("0.5"), PointSize: money.MustParseRate("0.0001"), ContractSize: 100_000},
			{PerLot: usd("8")},
		},
		MinHold: commission.Duration(2 * time.Minute),
		Spread:  &commission.SpreadShare{Rate: money.MustParseRate("20%"), ContractSize: 100_000, DampAbove: money.MustParseRate("3")},
		Tiers:   []commission.LotTier{{From: money.MustParseRate("0"), Multiplier: money.MustParseRate("1")}, {From: money.MustParseRate("100"), Multiplier: money.MustParseRate("1.25")}},
	}}
}

func TestPlan_TradeLines(t *testing.T) {
	t.Parallel()
	open := day(1)
	trade := func(sym, class, lots string) commission.Trade {
		return commission.Trade{Symbol: sym, Class: class, Lots: money.MustParseRate(lots), Open: open, Close: open.Add(time.Hour)}
	}
	for _, tc := range []struct {
		name       string
		tr         commission.Trade
		periodLots string
		lot, sprd  string
		reason     string
	}{
		{"by symbol", trade("XAUUSD", "metals", "2"), "0", "30.00 USD", "0.00 USD", ""},
		{"by class", trade("XAGUSD", "metals", "0.5"), "0", "6.00 USD", "0.00 USD", ""},
		{"points × point size × contract size", trade("EURUSD", "fx", "1.3"), "0", "6.50 USD", "0.00 USD", ""},
		{"default entry", trade("GBPJPY", "fx", "0.01"), "0", "0.08 USD", "0.00 USD", ""},
		{"cent account", func() commission.Trade { t := trade("GBPJPY", "fx", "1"); t.Cent = true; return t }(), "0", "0.08 USD", "0.00 USD", ""},
		{"volume tier", trade("XAUUSD", "metals", "2"), "100", "37.50 USD", "0.00 USD", ""},
		{"held too briefly", func() commission.Trade { t := trade("XAUUSD", "", "2"); t.Close = open.Add(time.Minute); return t }(), "0", "0.00 USD", "0.00 USD", "ib.min_hold"},
		// spread 0.00012 × 1 lot × 100000 = 12 USD, 20% = 2.40.
		{"spread share", func() commission.Trade {
			t := trade("EURUSD", "", "1")
			t.Spread, t.AvgSpread = money.MustParseRate("0.00012"), money.MustParseRate("0.0001")
			return t
		}(), "0", "5.00 USD", "2.40 USD", ""},
		// spread 0.0005 > 3 × 0.0001: the average is used, 0.0001 × 100000 × 20% = 2.00.
		{"damped spread", func() commission.Trade {
			t := trade("EURUSD", "", "1")
			t.Spread, t.AvgSpread = money.MustParseRate("0.0005"), money.MustParseRate("0.0001")
			return t
		}(), "0", "5.00 USD", "2.00 USD", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := ibPlan()
			lot, spread, err := p.TradeLines(commission.TradeInput{AffiliateID: "ib1", Trade: tc.tr, PeriodLots: money.MustParseRate(tc.periodLots)})
			require.NoError(t, err)
			require.Equal(t, tc.lot, lot.Amount.String())
			require.Equal(t, tc.sprd, spread.Amount.String())
			require.Equal(t, tc.reason, lot.Reason)
		})
	}
}

func TestReplay_IBTree(t *testing.T) {
	t.Parallel()
	p := ibPlan()
	p.IB.Levels = []money.Rate{money.MustParseRate("70%"), money.MustParseRate("20%"), money.MustParseRate("5%")}
	g := program(p)
	g.Parents = map[string]string{"ib1": "master", "master": "top"}
	tr := commission.Trade{Symbol: "XAUUSD", Lots: money.MustParseRate("0.07"), Open: day(1), Close: day(2)}
	res, err := commission.Replay(g, []commission.Event{{ID: "t", Type: event.Trade, At: day(2), AffiliateID: "ib1", PlayerID: "c", Trade: tr}}, nil)
	require.NoError(t, err)
	// 15 × 0.07 = 1.05 USD: 0.735 / 0.21 / 0.0525 / broker 0.0525 → largest remainder.
	require.Equal(t, []string{"accrual ib.lot ib1 0.74 USD", "accrual ib.lot master 0.21 USD", "accrual ib.lot top 0.05 USD"}, amounts(res.Ledger))
	require.Equal(t, int32(3), res.Ledger[2].Level)
	require.Contains(t, res.Ledger[1].Explain(), "IB tree level 2: share 0.2 of 1.05 USD")
}

// TestPlan_TreeLines_Allocation: over many random cases the parts and the broker's remainder
// sum exactly to the commission, and each part is within one minor unit of its exact share.
func TestPlan_TreeLines_Allocation(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for range 100_000 {
		n := 1 + rng.IntN(4)
		levels := make([]money.Rate, n)
		left := int64(10_000)
		for i := range levels {
			bp := rng.Int64N(left + 1)
			left -= bp
			levels[i] = money.BasisPoints(bp)
		}
		p := commission.Plan{ID: "t", Currency: money.KWD, IB: &commission.IB{Symbols: []commission.SymbolRate{{PerLot: money.New(1, money.KWD)}}, Levels: levels}}
		total := money.New(rng.Int64N(1_000_000_000)-1000, money.KWD)
		l := commission.Line{Amount: total}
		parts, err := p.TreeLines(l, []string{"a", "b", "c", "d"})
		require.NoError(t, err)
		require.Len(t, parts, n)
		var sum, bpSum int64
		for i, part := range parts {
			sum += part.Amount.Minor()
			bp := levels[i].Coefficient() * pow(4-levels[i].Scale())
			bpSum += bp
			exact2 := total.Minor() * bp // ×10^4
			diff := part.Amount.Minor()*10_000 - exact2
			require.Less(t, abs(diff), int64(10_000), "part %d of %s", i, total)
		}
		broker := total.Minor() - sum
		exact := total.Minor() * (10_000 - bpSum)
		require.Less(t, abs(broker*10_000-exact), int64(10_000), "broker's remainder")
	}
}

func pow(n int) int64 {
	r := int64(1)
	for range n {
		r *= 10
	}
	return r
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

func TestReplay_Prop(t *testing.T) {
	t.Parallel()
	buy := func(id string, d int, price, size string) commission.Event {
		return commission.Event{ID: id, Type: event.Purchase, At: day(d), AffiliateID: "a", PlayerID: "p", Amount: usd(price), AccountSize: usd(size)}
	}
	for _, tc := range []struct {
		name   string
		prop   commission.Prop
		events []commission.Event
		want   []string
	}{
		{"fixed, first purchase only", commission.Prop{Amount: usd("50")},
			[]commission.Event{buy("b1", 1, "99", "10000"), buy("b2", 5, "99", "10000")}, []string{"accrual prop.purchase a 50.00 USD"}},
		{"percent of price, every purchase", commission.Prop{Rate: money.MustParseRate("12.5%"), Every: true},
			[]commission.Event{buy("b1", 1, "99", "10000"), buy("b2", 5, "549", "100000")},
			[]string{"accrual prop.purchase a 12.38 USD", "accrual prop.purchase a 68.62 USD"}},
		{"percent of account size", commission.Prop{SizeRate: money.MustParseRate("0.1%")},
			[]commission.Event{buy("b1", 1, "549", "100000")}, []string{"accrual prop.purchase a 100.00 USD"}},
		{"by account size", commission.Prop{Sizes: []commission.SizeAmount{{From: usd("0"), Amount: usd("20")}, {From: usd("50000"), Amount: usd("60")}}, Every: true},
			[]commission.Event{buy("b1", 1, "99", "10000"), buy("b2", 2, "549", "100000")},
			[]string{"accrual prop.purchase a 20.00 USD", "accrual prop.purchase a 60.00 USD"}},
		{"refund clawback", commission.Prop{Amount: usd("50"), ClawbackRefund: true},
			[]commission.Event{buy("b1", 1, "99", "10000"), {ID: "r", Type: event.Refund, At: day(3), AffiliateID: "a", PlayerID: "p", Reverses: "b1"}},
			[]string{"accrual prop.purchase a 50.00 USD", "clawback prop.purchase a -50.00 USD"}},
		{"refund without clawback", commission.Prop{Amount: usd("50")},
			[]commission.Event{buy("b1", 1, "99", "10000"), {ID: "r", Type: event.Refund, At: day(3), AffiliateID: "a", PlayerID: "p", Reverses: "b1"}},
			[]string{"accrual prop.purchase a 50.00 USD"}},
		{"reset clawback", commission.Prop{Amount: usd("50"), ClawbackReset: true},
			[]commission.Event{buy("b1", 1, "99", "10000"), {ID: "r", Type: event.Reset, At: day(3), AffiliateID: "a", PlayerID: "p", Reverses: "b1"}},
			[]string{"accrual prop.purchase a 50.00 USD", "clawback prop.purchase a -50.00 USD"}},
		{"payout on funded, once", commission.Prop{Funded: usd("200")},
			[]commission.Event{buy("b1", 1, "99", "10000"), {ID: "f", Type: event.Funded, At: day(20), AffiliateID: "a", PlayerID: "p"},
				{ID: "f2", Type: event.Funded, At: day(40), AffiliateID: "a", PlayerID: "p"}},
			[]string{"accrual prop.funded a 200.00 USD"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, err := commission.Replay(program(commission.Plan{ID: "prop", Currency: money.USD, Prop: &tc.prop}), tc.events, nil)
			require.NoError(t, err)
			require.Equal(t, tc.want, amounts(res.Ledger))
		})
	}
}

func TestReplay_SubAffiliates(t *testing.T) {
	t.Parallel()
	child := commission.Plan{ID: "child", Currency: money.EUR, CPA: &commission.CPA{Amount: eur("100")}, RevShare: &commission.RevShare{Rate: money.MustParseRate("30%")}}
	parent := child
	parent.ID = "parent"
	parent.Sub = &commission.Sub{Levels: []commission.SubLevel{
		{Rate: money.MustParseRate("10%"), Basis: commission.OfEarnings},
		{Rate: money.MustParseRate("2%"), Basis: commission.OfRevenue},
	}}
	g := &commission.Program{
		Default:    []commission.Version{{From: t0, Plan: child}},
		Affiliates: map[string][]commission.Version{"mid": {{From: t0, Plan: parent}}, "top": {{From: t0, Plan: parent}}},
		Parents:    map[string]string{"leaf": "mid", "mid": "top"},
	}
	evs := []commission.Event{
		{ID: "d", Type: event.Deposit, At: day(1), AffiliateID: "leaf", PlayerID: "p", Amount: eur("10")},
		{ID: "r", Type: event.Revenue, At: day(2), AffiliateID: "leaf", PlayerID: "p", Revenue: commission.Revenue{GGR: eur("1000")}},
	}
	res, err := commission.Replay(g, evs, nil)
	require.NoError(t, err)
	// leaf earns 100 + 300; mid earns 10% of 400; top earns 2% of leaf's 1000 NGR (level 2).
	require.Equal(t, []string{
		"accrual cpa leaf 100.00 EUR", "accrual revshare leaf 300.00 EUR",
		"accrual sub mid 40.00 EUR", "accrual sub top 20.00 EUR",
	}, amounts(res.Ledger))
	require.Equal(t, int32(2), res.Ledger[3].Level)
	require.Contains(t, res.Ledger[2].Explain(), "sub-affiliate level 1, 0.1 of the earnings of leaf")
}
