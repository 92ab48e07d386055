package commission_test

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
)

func ExamplePlan_RevShareLine() {
	mga, err := commission.NamedFormula(commission.FormulaMGA) // GGR×83.5% − bonuses − (deposits+withdrawals)×10%
	if err != nil {
		panic(err)
	}
	plan := commission.Plan{ID: "tiers", Currency: money.EUR, RevShare: &commission.RevShare{
		Marginal: true,
		Tiers: []commission.RateTier{
			{From: money.MustParse("0", money.EUR), Rate: money.MustParseRate("25%")},
			{From: money.MustParse("10000", money.EUR), Rate: money.MustParseRate("30%")},
		},
		NGR: mga,
	}}
	if err := plan.Validate(); err != nil {
		panic(err)
	}
	rev := commission.Revenue{
		GGR: money.MustParse("20000", money.EUR), Bonuses: money.MustParse("500", money.EUR),
		Deposits: money.MustParse("9000", money.EUR), Withdrawals: money.MustParse("3000", money.EUR),
	}
	ngr, _ := plan.NGR(&rev)
	line, _, _ := plan.RevShareLine(commission.RevShareInput{AffiliateID: "aff-7", Players: 1, NGR: ngr, Revenue: &rev})
	fmt.Println(ngr, "→", line.Amount)
	fmt.Print(line.Explain())
	// Output:
	// 15000.00 EUR → 4000.00 EUR
	// accrual revshare 4000.00 EUR to aff-7, plan "tiers"
	//   NGR of 1 player(s): 15000.00 EUR = ggr 20000.00 × 0.835 + bonuses 500.00 × -1 + deposits 9000.00 × -0.1 + withdrawals 3000.00 × -0.1, summed exactly, rounded once (half_even)
	//   carried in: 0.00 EUR
	//   base: 15000.00 EUR
	//   marginal bands: [0.00, 10000.00) × 0.25; [10000.00, ∞) × 0.3; summed exactly = 4000.00 EUR, rounded once (half_even)
}

func ExampleReplay() {
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	eur := func(s string) money.Amount { return money.MustParse(s, money.EUR) }
	plan := commission.Plan{ID: "hybrid", Currency: money.EUR,
		CPA:      &commission.CPA{Amount: eur("100"), Baseline: commission.Baseline{MinFTD: eur("20")}},
		RevShare: &commission.RevShare{Rate: money.MustParseRate("30%"), Carryover: commission.CarryForward},
	}
	prog := &commission.Program{Zone: "Europe/Malta", Default: []commission.Version{{From: start, Plan: plan}}}
	events := []commission.Event{
		{ID: "dep-1", Type: event.Deposit, At: start.Add(24 * time.Hour), AffiliateID: "aff-1", PlayerID: "p1", Amount: eur("50")},
		{ID: "dep-2", Type: event.FTD, At: start.Add(48 * time.Hour), AffiliateID: "aff-1", PlayerID: "p2", Amount: eur("10")},
		{ID: "rev-3", Type: event.Revenue, At: start.AddDate(0, 0, 20), AffiliateID: "aff-1", PlayerID: "p1",
			Revenue: commission.Revenue{GGR: eur("-400")}},
		{ID: "rev-4", Type: event.Revenue, At: start.AddDate(0, 1, 10), AffiliateID: "aff-1", PlayerID: "p1",
			Revenue: commission.Revenue{GGR: eur("1000")}},
		{ID: "chargeback", Type: event.Reversal, At: start.AddDate(0, 1, 12), AffiliateID: "aff-1", PlayerID: "p1", Reverses: "dep-1"},
	}
	res, err := commission.Replay(prog, events, nil)
	if err != nil {
		panic(err)
	}
	for _, s := range res.Statements {
		fmt.Printf("%s %s: total %s, carry out %s\n", s.AffiliateID, s.Period.Start.Format("2006-01"), s.Total, s.CarryOut)
		for _, l := range s.Lines {
			fmt.Printf("  %-9s %-8s %s\n", l.Kind, l.Rule, l.Amount)
		}
	}
	for _, l := range res.UnpaidCPA {
		fmt.Printf("no CPA for %s: %s (at event %s)\n", l.PlayerID, l.Reason, l.EventID)
	}
	// Output:
	// aff-1 2026-03: total 100.00 EUR, carry out -400.00 EUR
	//   accrual   cpa      100.00 EUR
	//   accrual   revshare 0.00 EUR
	//   carryover revshare 0.00 EUR
	// aff-1 2026-04: total 80.00 EUR, carry out 0.00 EUR
	//   reversal  cpa      -100.00 EUR
	//   accrual   revshare 180.00 EUR
	// no CPA for p2: baseline.min_ftd (at event dep-2)
}

func ExamplePlan_Validate() {
	eur := func(s string) money.Amount { return money.MustParse(s, money.EUR) }
	plan := commission.Plan{ID: "vip", Currency: money.EUR, RevShare: &commission.RevShare{Tiers: []commission.RateTier{
		{From: eur("0"), Rate: money.MustParseRate("25%")},
		{From: eur("10000"), Rate: money.MustParseRate("30%")},
		{From: eur("10000"), Rate: money.MustParseRate("35%")},
	}}}
	fmt.Println(plan.Validate())
	// Output:
	// commission: plan "vip": revshare.tiers[2].from: overlaps tiers[1]
}

func ExamplePlan_CPALine() {
	eur := func(s string) money.Amount { return money.MustParse(s, money.EUR) }
	plan := commission.Plan{ID: "cpa", Currency: money.EUR, CPA: &commission.CPA{
		Amount:    eur("100"),
		Countries: []commission.CountryAmount{{Country: "DE", Amount: eur("150")}},
		Baseline:  commission.Baseline{MinFTD: eur("20"), Verified: true},
	}}
	at := time.Date(2026, 3, 3, 12, 0, 0, 0, time.UTC)
	in := commission.CPAInput{AffiliateID: "aff-1", PlayerID: "p1", EventID: "dep-1", At: at, Country: "DE", FTD: eur("25")}
	l, _ := plan.CPALine(in)
	fmt.Println(l.Amount, l.Reason)
	in.Verified = true
	l, _ = plan.CPALine(in)
	fmt.Println(l.Amount, l.Rule)
	// Output:
	// 0.00 EUR baseline.verified
	// 150.00 EUR cpa.country
}

// A plan as an operator writes it: amounts as plain strings in the plan's currency, a first
// band without "from", the NGR formula by name.
func ExamplePlan_UnmarshalJSON() {
	var plan commission.Plan
	err := json.Unmarshal([]byte(`{
	  "id": "vip", "currency": "EUR",
	  "cpa": {"amount": "100.00", "baseline": {"min_ftd": "20"}},
	  "revshare": {"ngr": "mga", "tiers": [{"rate": "25%"}, {"from": "10000", "rate": "30%"}]}
	}`), &plan)
	if err != nil {
		panic(err)
	}
	fmt.Println(plan.Validate())
	fmt.Println(plan.CPA.Amount, plan.CPA.Baseline.MinFTD)
	fmt.Println(plan.RevShare.Tiers[0].From, plan.RevShare.Tiers[1].From, len(plan.RevShare.NGR), "terms")
	// Output:
	// <nil>
	// 100.00 EUR 20.00 EUR
	// 0.00 EUR 10000.00 EUR 4 terms
}

// A ledger kept as JSON, as a store keeps it, gives back Replay's statements, and each line
// explains itself as it did.
func ExampleStatements() {
	eur := func(s string) money.Amount { return money.MustParse(s, money.EUR) }
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	prog := &commission.Program{Default: []commission.Version{{From: start, Plan: commission.Plan{ID: "rs", Currency: money.EUR,
		RevShare: &commission.RevShare{Rate: money.MustParseRate("30%"), Carryover: commission.CarryForward}}}}}
	res, err := commission.Replay(prog, []commission.Event{
		{ID: "r1", Type: event.Revenue, At: start.AddDate(0, 0, 9), AffiliateID: "aff-1", PlayerID: "p1", Revenue: commission.Revenue{GGR: eur("-200")}},
		{ID: "r2", Type: event.Revenue, At: start.AddDate(0, 1, 9), AffiliateID: "aff-1", PlayerID: "p1", Revenue: commission.Revenue{GGR: eur("1000")}},
	}, nil)
	if err != nil {
		panic(err)
	}
	stored, err := json.Marshal(res.Ledger)
	if err != nil {
		panic(err)
	}
	var lines []commission.Line
	if err := json.Unmarshal(stored, &lines); err != nil {
		panic(err)
	}
	st, err := commission.Statements(prog, lines, nil)
	if err != nil {
		panic(err)
	}
	for _, s := range st {
		fmt.Printf("%s %s: total %s, carried in %s, out %s\n", s.AffiliateID, s.Period.Start.Format("2006-01"), s.Total, s.CarryIn, s.CarryOut)
	}
	last := st[1].Lines[0]
	fmt.Println(last.Equal(res.Statements[1].Lines[0]), last.StatementTime().Format("2006-01-02"), "payable", last.Payable.Format("2006-01-02"))
	fmt.Print(last.Explain())
	// Output:
	// aff-1 2026-03: total 0.00 EUR, carried in 0.00 EUR, out -200.00 EUR
	// aff-1 2026-04: total 240.00 EUR, carried in -200.00 EUR, out 0.00 EUR
	// true 2026-04-01 payable 2026-05-01
	// accrual revshare 240.00 EUR to aff-1, plan "rs"
	//   period: 2026-04-01T00:00:00Z/2026-05-01T00:00:00Z
	//   NGR of 1 player(s): 1000.00 EUR = GGR
	//   carried in: -200.00 EUR
	//   base: 800.00 EUR
	//   arithmetic: 800.00 EUR × 0.3 = 240.00 EUR, rounded once (half_even)
}
