// Package commissiontest helps test code that keeps or moves commission lines: a store, a
// service that closes periods, an export. Histories are event histories, each with its
// programme, that together produce a line of every rule and every kind; InUTC puts
// statements in a form that compares equal with reflect.DeepEqual (and testify's
// require.Equal) after a store gave their lines back in another time zone.
//
// A store test replays each history, stores the ledger, reads it back and checks that
// commission.Statements over the stored lines equals Replay's statements:
//
//	for _, h := range commissiontest.Histories() {
//		res, err := commission.Replay(h.Program, h.Events, nil)
//		... store res.Ledger, read it back in ledger order as lines ...
//		got, err := commission.Statements(h.Program, lines, nil)
//		require.Equal(t, commissiontest.InUTC(res.Statements), commissiontest.InUTC(got))
//	}
//
// It is a helper for tests: production code never imports it.
package commissiontest

import (
	"time"

	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
)

// History is an event history with the programme it runs through.
type History struct {
	// Name says what the history exercises.
	Name    string
	Program *commission.Program
	Events  []commission.Event
}

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func day(n int) time.Time { return t0.AddDate(0, 0, n) }

func eur(s string) money.Amount { return money.MustParse(s, money.EUR) }

func usd(s string) money.Amount { return money.MustParse(s, money.USD) }

func rate(s string) money.Rate { return money.MustParseRate(s) }

func mga() commission.Formula {
	return commission.Formula{
		{Field: commission.GGR, Rate: rate("83.5%")}, {Field: commission.Bonuses, Rate: rate("-1")},
		{Field: commission.Deposits, Rate: rate("-10%")}, {Field: commission.Withdrawals, Rate: rate("-10%")},
	}
}

func one(p commission.Plan) *commission.Program {
	return &commission.Program{Default: []commission.Version{{From: t0, Plan: p}}}
}

// Histories returns new copies of the histories. Between them they produce a line of every
// Rule and every Kind, exchange-rate conversions, holds, carried and ring-fenced balances,
// IB-tree and sub-affiliate levels, and statements in a time zone with summer time
// (Europe/Malta, which needs the system's time zone database or time/tzdata).
func Histories() []History {
	hybrid := commission.Plan{ID: "hybrid", Currency: money.EUR,
		CPA: &commission.CPA{Amount: eur("100"), Countries: []commission.CountryAmount{{Country: "DE", Amount: eur("150")}},
			Baseline: commission.Baseline{MinFTD: eur("20")}, Hold: commission.Duration(7 * 24 * time.Hour)},
		RevShare: &commission.RevShare{NGR: mga(), AdminFee: rate("5%"), Carryover: commission.CarryForward,
			Tiers: []commission.RateTier{{From: eur("0"), Rate: rate("25%")}, {From: eur("1000"), Rate: rate("30%")}}},
	}
	malta := one(hybrid)
	malta.Zone = "Europe/Malta"
	fx := &money.ExchangeRate{From: money.USD, To: money.EUR, Rate: rate("0.9"), Source: "ECB", At: day(9)}
	// March 31, 22:30 UTC is already April in Malta.
	lateMarch := time.Date(2026, 3, 31, 22, 30, 0, 0, time.UTC)

	tiers := commission.Plan{ID: "tiers", Currency: money.EUR, CPA: &commission.CPA{Amount: eur("80"),
		Tiers: []commission.CountTier{{From: 1, Amount: eur("80")}, {From: 3, Amount: eur("90")}}, Cap: commission.Cap{Count: 4}}}

	fence := commission.Plan{ID: "fence", Currency: money.EUR, RevShare: &commission.RevShare{Marginal: true,
		Tiers:     []commission.RateTier{{From: eur("0"), Rate: rate("25%")}, {From: eur("500"), Rate: rate("35%")}},
		Carryover: commission.RingFence, HighRoller: eur("500")}}

	ib := commission.Plan{ID: "ib", Currency: money.USD, IB: &commission.IB{
		Symbols: []commission.SymbolRate{
			{Symbol: "XAUUSD", PerLot: usd("15")},
			{Symbol: "EURUSD", Points: rate("0.5"), PointSize: rate("0.0001"), ContractSize: 100_000},
			{PerLot: usd("8")},
		},
		Spread: &commission.SpreadShare{Rate: rate("20%"), ContractSize: 100_000, DampAbove: rate("3")},
		Tiers:  []commission.LotTier{{From: rate("0"), Multiplier: rate("1")}, {From: rate("2"), Multiplier: rate("1.25")}},
		Levels: []money.Rate{rate("70%"), rate("20%")},
	}}
	ibProg := one(ib)
	ibProg.Parents = map[string]string{"ib1": "master"}
	trade := func(sym string, lots string, cent bool, spread string) commission.Trade {
		return commission.Trade{Symbol: sym, Lots: rate(lots), Cent: cent, Open: day(1), Close: day(2),
			Spread: rate(spread), AvgSpread: rate("0.0001")}
	}

	prop := commission.Plan{ID: "prop", Currency: money.USD, Prop: &commission.Prop{SizeRate: rate("0.1%"), Every: true,
		Funded: usd("20"), ClawbackRefund: true, ClawbackReset: true}}

	child := commission.Plan{ID: "child", Currency: money.EUR, CPA: &commission.CPA{Amount: eur("100")},
		RevShare: &commission.RevShare{Rate: rate("30%")}}
	parent := child
	parent.ID = "parent"
	parent.Sub = &commission.Sub{Levels: []commission.SubLevel{
		{Rate: rate("10%"), Basis: commission.OfEarnings}, {Rate: rate("2%"), Basis: commission.OfRevenue}}}
	subProg := &commission.Program{
		Default:    []commission.Version{{From: t0, Plan: child}},
		Affiliates: map[string][]commission.Version{"mid": {{From: t0, Plan: parent}}, "top": {{From: t0, Plan: parent}}},
		Parents:    map[string]string{"leaf": "mid", "mid": "top"},
	}

	return []History{
		{Name: "hybrid in Malta: CPA by country with a hold, FX, RevShare carried forward, reversals, adjustment",
			Program: malta, Events: []commission.Event{
				{ID: "reg-1", Type: event.Registration, At: day(1), AffiliateID: "aff", PlayerID: "p1", Country: "DE"},
				{ID: "dep-1", Type: event.Deposit, At: day(2), AffiliateID: "aff", PlayerID: "p1", Amount: eur("50")},
				{ID: "dep-2", Type: event.Deposit, At: day(9), AffiliateID: "aff", PlayerID: "p2", Amount: usd("40"), FX: fx},
				{ID: "rev-1", Type: event.Revenue, At: day(20), AffiliateID: "aff", PlayerID: "p1",
					Revenue: commission.Revenue{GGR: eur("-800"), Bonuses: eur("20")}},
				{ID: "rev-2", Type: event.Revenue, At: day(40), AffiliateID: "aff", PlayerID: "p1",
					Revenue: commission.Revenue{GGR: eur("3000"), Bonuses: eur("100"), Deposits: eur("2000"), Withdrawals: eur("500")}},
				{ID: "rev-3", Type: event.Revenue, At: day(41), AffiliateID: "aff", PlayerID: "p2",
					Revenue: commission.Revenue{GGR: eur("120")}},
				{ID: "xrev-3", Type: event.Reversal, At: day(45), AffiliateID: "aff", PlayerID: "p2", Reverses: "rev-3"},
				{ID: "cb-2", Type: event.Reversal, At: day(50), AffiliateID: "aff", PlayerID: "p2", Reverses: "dep-2"},
				{ID: "adj-1", Type: event.Adjustment, At: lateMarch, AffiliateID: "aff", Amount: eur("-2.50")},
			}},
		{Name: "CPA volume tiers and a count cap",
			Program: one(tiers), Events: func() []commission.Event {
				var evs []commission.Event
				for i, p := range []string{"a", "b", "c", "d", "e"} {
					evs = append(evs, commission.Event{ID: "dep-" + p, Type: event.Deposit, At: day(1 + i), AffiliateID: "aff", PlayerID: p, Amount: eur("10")})
				}
				return evs
			}()},
		{Name: "RevShare with marginal bands and a ring-fenced high roller",
			Program: one(fence), Events: []commission.Event{
				{ID: "hr-1", Type: event.Revenue, At: day(10), AffiliateID: "aff", PlayerID: "hr", Revenue: commission.Revenue{GGR: eur("-1000")}},
				{ID: "p-1", Type: event.Revenue, At: day(10), AffiliateID: "aff", PlayerID: "p", Revenue: commission.Revenue{GGR: eur("900")}},
				{ID: "hr-2", Type: event.Revenue, At: day(40), AffiliateID: "aff", PlayerID: "hr", Revenue: commission.Revenue{GGR: eur("-100")}},
				{ID: "p-2", Type: event.Revenue, At: day(40), AffiliateID: "aff", PlayerID: "p", Revenue: commission.Revenue{GGR: eur("-50")}},
				{ID: "hr-3", Type: event.Revenue, At: day(70), AffiliateID: "aff", PlayerID: "hr", Revenue: commission.Revenue{GGR: eur("1500")}},
			}},
		{Name: "Forex IB: per-lot rebates, points, a cent account, a damped spread share, a two-level tree, a reversed trade",
			Program: ibProg, Events: []commission.Event{
				{ID: "t1", Type: event.Trade, At: day(2), AffiliateID: "ib1", PlayerID: "c1", Trade: trade("XAUUSD", "2", false, "0")},
				{ID: "t2", Type: event.Trade, At: day(3), AffiliateID: "ib1", PlayerID: "c1", Trade: trade("EURUSD", "1.3", false, "0.0005")},
				{ID: "t3", Type: event.Trade, At: day(4), AffiliateID: "ib1", PlayerID: "c2", Trade: trade("GBPJPY", "10", true, "0.00012")},
				{ID: "x-t2", Type: event.Reversal, At: day(5), AffiliateID: "ib1", PlayerID: "c1", Reverses: "t2"},
			}},
		{Name: "prop firm: CPA on account size, payout on funded, refund and reset clawbacks",
			Program: one(prop), Events: []commission.Event{
				{ID: "b1", Type: event.Purchase, At: day(1), AffiliateID: "aff", PlayerID: "t", Amount: usd("500"), AccountSize: usd("100000")},
				{ID: "b2", Type: event.Purchase, At: day(2), AffiliateID: "aff", PlayerID: "t", Amount: usd("99"), AccountSize: usd("10000")},
				{ID: "f", Type: event.Funded, At: day(3), AffiliateID: "aff", PlayerID: "t"},
				{ID: "r1", Type: event.Refund, At: day(4), AffiliateID: "aff", PlayerID: "t", Reverses: "b1"},
				{ID: "s2", Type: event.Reset, At: day(35), AffiliateID: "aff", PlayerID: "t", Reverses: "b2"},
			}},
		{Name: "sub-affiliates two levels deep, on earnings and on revenue",
			Program: subProg, Events: []commission.Event{
				{ID: "d", Type: event.Deposit, At: day(1), AffiliateID: "leaf", PlayerID: "p", Amount: eur("10")},
				{ID: "r", Type: event.Revenue, At: day(2), AffiliateID: "leaf", PlayerID: "p", Revenue: commission.Revenue{GGR: eur("1000")}},
				{ID: "d2", Type: event.Deposit, At: day(3), AffiliateID: "mid", PlayerID: "q", Amount: eur("10")},
			}},
	}
}

// InUTC returns a copy of statements with every instant in UTC: the periods, the lines'
// times and their exchange rates' times. Statements rebuilt from lines that a store returned
// in another time zone then compare equal to Replay's with reflect.DeepEqual.
func InUTC(statements []commission.Statement) []commission.Statement {
	if statements == nil {
		return nil
	}
	out := make([]commission.Statement, len(statements))
	for i, s := range statements {
		s.Period = commission.Period{Start: s.Period.Start.UTC(), End: s.Period.End.UTC()}
		s.Lines = LinesInUTC(s.Lines)
		out[i] = s
	}
	return out
}

// LinesInUTC returns a copy of lines with every instant in UTC, as InUTC.
func LinesInUTC(lines []commission.Line) []commission.Line {
	if lines == nil {
		return nil
	}
	out := make([]commission.Line, len(lines))
	for i, l := range lines {
		l.At, l.Payable = l.At.UTC(), l.Payable.UTC()
		if !l.Period.IsZero() {
			l.Period = commission.Period{Start: l.Period.Start.UTC(), End: l.Period.End.UTC()}
		}
		if l.FX != nil {
			fx := *l.FX
			fx.At = fx.At.UTC()
			l.FX = &fx
		}
		out[i] = l
	}
	return out
}
