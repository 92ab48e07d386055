package commission_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/stretchr/testify/require"
)

var (
	mga = commission.Formula{
		{Field: commission.GGR, Rate: money.MustParseRate("83.5%")}, {Field: commission.Bonuses, Rate: money.MustParseRate("-1")},
		{Field: commission.Deposits, Rate: money.MustParseRate("-10%")}, {Field: commission.Withdrawals, Rate: money.MustParseRate("-10%")},
	}
	ontario = commission.Formula{
		{Field: commission.GGR, Rate: money.MustParseRate("65%")}, {Field: commission.Bonuses, Rate: money.MustParseRate("-1")},
		{Field: commission.Deposits, Rate: money.MustParseRate("-5%")}, {Field: commission.Withdrawals, Rate: money.MustParseRate("-5%")},
	}
)

func TestPlan_NGR(t *testing.T) {
	t.Parallel()
	rev := commission.Revenue{GGR: eur("10000"), Bonuses: eur("1000"), Deposits: eur("20000"), Withdrawals: eur("8000"), Fees: eur("50"), Taxes: eur("70")}
	for _, tc := range []struct {
		name string
		f    commission.Formula
		rev  commission.Revenue
		mode money.RoundingMode
		want string
	}{
		{"GGR by default", nil, rev, money.HalfEven, "10000.00 EUR"},
		{"MGA", mga, rev, money.HalfEven, "4550.00 EUR"},
		{"Ontario", ontario, rev, money.HalfEven, "4100.00 EUR"},
		{"fees and taxes as amounts", commission.Formula{{Field: commission.GGR, Rate: money.MustParseRate("1")},
			{Field: commission.Fees, Rate: money.MustParseRate("-1")}, {Field: commission.Taxes, Rate: money.MustParseRate("-1")}}, rev, money.HalfEven, "9880.00 EUR"},
		// 100.01×0.835 − 0.05×0.1 = 83.50335: the terms are summed exactly, then rounded once.
		{"rounded once", mga, commission.Revenue{GGR: eur("100.01"), Deposits: eur("0.05")}, money.HalfEven, "83.50 EUR"},
		// 0.03×0.835 = 0.02505 → a tie would be lost if each term were rounded first.
		{"half-up at the end", mga, commission.Revenue{GGR: eur("0.03"), Deposits: eur("0.05")}, money.HalfUp, "0.02 EUR"},
		{"negative GGR", mga, commission.Revenue{GGR: eur("-500"), Bonuses: eur("100")}, money.HalfEven, "-517.50 EUR"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := commission.Plan{ID: "n", Currency: money.EUR, Rounding: tc.mode, RevShare: &commission.RevShare{Rate: money.MustParseRate("30%"), NGR: tc.f}}
			require.NoError(t, p.Validate())
			got, err := p.NGR(&tc.rev)
			require.NoError(t, err)
			require.Equal(t, tc.want, got.String())
		})
	}
	p := commission.Plan{ID: "n", Currency: money.EUR, RevShare: &commission.RevShare{NGR: mga}}
	_, err := p.NGR(&commission.Revenue{GGR: money.MustParse("1", money.USD)})
	require.ErrorIs(t, err, commission.ErrCurrency)
	_, err = p.NGR(&commission.Revenue{GGR: money.New(math.MaxInt64, money.EUR), Bonuses: money.New(math.MinInt64, money.EUR)})
	require.ErrorIs(t, err, commission.ErrOverflow)
}

func tiered(marginal bool) commission.Plan {
	return commission.Plan{ID: "tiers", Currency: money.EUR, RevShare: &commission.RevShare{
		Tiers: []commission.RateTier{
			{From: eur("0"), Rate: money.MustParseRate("25%")},
			{From: eur("10000"), Rate: money.MustParseRate("30%")},
			{From: eur("50000"), Rate: money.MustParseRate("35%")},
		},
		Marginal: marginal,
	}}
}

func TestPlan_RevShareLine_Tiers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		ngr      string
		marginal bool
		want     string
		tier     int
	}{
		{"9999.99", false, "2500.00 EUR", 1}, // 2499.9975 → 2500.00
		{"10000", false, "3000.00 EUR", 2},
		{"60000", false, "21000.00 EUR", 3},
		{"9999.99", true, "2500.00 EUR", 1},
		{"10000", true, "2500.00 EUR", 2},
		{"60000", true, "2500.00 EUR", 3}, // placeholder, checked below
		{"0", false, "0.00 EUR", 0},
		{"-100", true, "0.00 EUR", 0},
	} {
		p := tiered(tc.marginal)
		l, carry, err := p.RevShareLine(commission.RevShareInput{AffiliateID: "a", NGR: eur(tc.ngr)})
		require.NoError(t, err)
		require.True(t, carry.IsZero())
		want := tc.want
		if tc.ngr == "60000" && tc.marginal {
			want = "18000.00 EUR" // 10000×25% + 40000×30% + 10000×35%
		}
		require.Equal(t, want, l.Amount.String(), "NGR %s marginal %v", tc.ngr, tc.marginal)
		require.Equal(t, tc.tier, int(l.Tier))
	}
	fee := tiered(false)
	fee.RevShare.AdminFee = money.MustParseRate("10%")
	l, _, err := fee.RevShareLine(commission.RevShareInput{AffiliateID: "a", NGR: eur("11000")})
	require.NoError(t, err)
	require.Equal(t, "9900.00 EUR", l.Base.String(), "the admin fee comes off before the tier is found")
	require.Equal(t, "2475.00 EUR", l.Amount.String())
	require.Contains(t, l.Explain(), "admin fee 0.1 deducted, base 9900.00 EUR")
}

// TestRevShare_TierMonotonicity: more NGR never earns less, in both tier modes, and the
// marginal mode never pays more than the whole-tier mode.
func TestRevShare_TierMonotonicity(t *testing.T) {
	t.Parallel()
	whole, marginal := tiered(false), tiered(true)
	prev := [2]int64{-1, -1}
	for ngr := int64(0); ngr <= 7_000_000; ngr += 9_973 {
		var got [2]int64
		for i, p := range []commission.Plan{whole, marginal} {
			l, _, err := p.RevShareLine(commission.RevShareInput{NGR: money.New(ngr, money.EUR)})
			require.NoError(t, err)
			got[i] = l.Amount.Minor()
			require.GreaterOrEqual(t, got[i], prev[i], "NGR %d mode %d", ngr, i)
		}
		require.LessOrEqual(t, got[1], got[0])
		prev = got
	}
}

func TestReplay_CarryoverSequences(t *testing.T) {
	t.Parallel()
	month := func(m time.Month) time.Time { return time.Date(2026, m, 15, 0, 0, 0, 0, time.UTC) }
	ggr := map[string][3]string{"hr": {"-1000", "600", "1000"}, "p2": {"200", "-100", "100"}}
	var evs []commission.Event
	for _, pl := range []string{"hr", "p2"} {
		for i, g := range ggr[pl] {
			evs = append(evs, commission.Event{ID: pl + string(rune('1'+i)), Type: event.Revenue, At: month(time.Month(i + 1)),
				AffiliateID: "a", PlayerID: pl, Revenue: commission.Revenue{GGR: eur(g)}})
		}
	}
	for _, tc := range []struct {
		policy commission.Carryover
		totals [3]string
		carry  [3]string
		fenced [3][]commission.Balance
	}{
		{commission.CarryNone, [3]string{"0.00", "150.00", "330.00"}, [3]string{"0.00", "0.00", "0.00"}, [3][]commission.Balance{}},
		{commission.CarryForward, [3]string{"0.00", "0.00", "240.00"}, [3]string{"-800.00", "-300.00", "0.00"}, [3][]commission.Balance{}},
		{commission.RingFence, [3]string{"60.00", "0.00", "210.00"}, [3]string{"0.00", "0.00", "0.00"},
			[3][]commission.Balance{{{PlayerID: "hr", Amount: eur("-1000")}}, {{PlayerID: "hr", Amount: eur("-400")}}, nil}},
	} {
		t.Run(string(tc.policy), func(t *testing.T) {
			t.Parallel()
			p := commission.Plan{ID: "rs", Currency: money.EUR, RevShare: &commission.RevShare{Rate: money.MustParseRate("30%"), Carryover: tc.policy}}
			if tc.policy == commission.RingFence {
				p.RevShare.HighRoller = eur("500")
			}
			res, err := commission.Replay(program(p), evs, nil)
			require.NoError(t, err)
			require.Len(t, res.Statements, 3)
			for i, s := range res.Statements {
				require.Equal(t, tc.totals[i]+" EUR", s.Total.String(), "period %d", i+1)
				require.Equal(t, tc.carry[i]+" EUR", s.CarryOut.String(), "period %d", i+1)
				require.Equal(t, tc.fenced[i], s.Fenced, "period %d", i+1)
				if i > 0 {
					require.Equal(t, res.Statements[i-1].CarryOut, s.CarryIn)
				}
			}
		})
	}
}

func TestReplay_ReversalSymmetry(t *testing.T) {
	t.Parallel()
	plan := commission.Plan{ID: "h", Currency: money.EUR,
		CPA:      &commission.CPA{Amount: eur("100")},
		RevShare: &commission.RevShare{Rate: money.MustParseRate("35%"), NGR: mga},
		Prop:     &commission.Prop{Rate: money.MustParseRate("15%"), Every: true, ClawbackRefund: true},
		IB:       &commission.IB{Symbols: []commission.SymbolRate{{PerLot: eur("7.50")}}},
	}
	orig := []commission.Event{
		{ID: "dep", Type: event.Deposit, At: day(1), AffiliateID: "a", PlayerID: "p", Amount: eur("77.77")},
		{ID: "rev", Type: event.Revenue, At: day(2), AffiliateID: "a", PlayerID: "p", Revenue: commission.Revenue{GGR: eur("1234.57"), Bonuses: eur("10.01"), Deposits: eur("77.77")}},
		{ID: "buy", Type: event.Purchase, At: day(3), AffiliateID: "a", PlayerID: "p", Amount: eur("99.99")},
		{ID: "trd", Type: event.Trade, At: day(4), AffiliateID: "a", PlayerID: "p", Trade: commission.Trade{Symbol: "EURUSD", Lots: money.MustParseRate("1.37")}},
	}
	alone, err := commission.Replay(program(plan), orig, nil)
	require.NoError(t, err)
	require.Len(t, alone.Ledger, 4)
	// CPA 100 + prop 15% of 99.99 = 15.00 + IB 7.50 × 1.37 = 10.28 + 35% of NGR
	// (1234.57×0.835 − 10.01 − 77.77×0.1 = 1013.07895 → 1013.08) = 354.58.
	require.Equal(t, "479.86 EUR", alone.Statements[0].Total.String())
	evs := append([]commission.Event{}, orig...)
	for i, e := range orig {
		kind := event.Reversal
		if e.Type == event.Purchase {
			kind = event.Refund
		}
		evs = append(evs, commission.Event{ID: "x" + e.ID, Type: kind, At: day(10 + i), AffiliateID: "a", PlayerID: "p", Reverses: e.ID})
	}
	res, err := commission.Replay(program(plan), evs, nil)
	require.NoError(t, err)
	require.Len(t, res.Statements, 1)
	require.Equal(t, "0.00 EUR", res.Statements[0].Total.String(), "an event plus its reversal nets zero")
	byEvent := map[string]commission.Line{}
	for _, l := range res.Ledger {
		byEvent[l.EventID] = l
	}
	for _, e := range []string{"dep", "buy", "trd"} {
		o, r := byEvent[e], byEvent["x"+e]
		neg, err := o.Amount.Neg()
		require.NoError(t, err)
		require.Equal(t, neg, r.Amount, "commission of the reversal of %s is minus the original", e)
		require.Equal(t, e, r.Reverses)
		require.Contains(t, r.Explain(), "negated")
	}
	require.Equal(t, commission.KindClawback, byEvent["xbuy"].Kind)
	_, err = commission.Replay(program(plan), append(evs, commission.Event{ID: "again", Type: event.Reversal, At: day(30), AffiliateID: "a", PlayerID: "p", Reverses: "dep"}), nil)
	require.ErrorIs(t, err, commission.ErrInvalidEvent, "a second reversal of the same event")
}

func TestOverflow(t *testing.T) {
	t.Parallel()
	big := money.New(math.MaxInt64, money.EUR)
	p := commission.Plan{ID: "o", Currency: money.EUR, RevShare: &commission.RevShare{Rate: money.MustParseRate("50%"), Carryover: commission.CarryForward}}
	_, _, err := p.RevShareLine(commission.RevShareInput{NGR: big, CarryIn: eur("0")})
	require.NoError(t, err, "half of max fits")
	_, _, err = p.RevShareLine(commission.RevShareInput{NGR: money.New(math.MinInt64, money.EUR), CarryIn: eur("-1")})
	require.ErrorIs(t, err, commission.ErrOverflow)
	require.True(t, errors.Is(err, money.ErrOverflow))
	ib := commission.Plan{ID: "ib", Currency: money.EUR, IB: &commission.IB{Symbols: []commission.SymbolRate{{PerLot: big}}}}
	_, _, err = ib.TradeLines(commission.TradeInput{Trade: commission.Trade{Lots: money.MustParseRate("2")}})
	require.ErrorIs(t, err, commission.ErrOverflow)
	cpa := commission.Plan{ID: "c", Currency: money.EUR, CPA: &commission.CPA{Amount: big, Cap: commission.Cap{Amount: big}}}
	_, err = cpa.CPALine(commission.CPAInput{FTD: eur("1"), PeriodTotal: big})
	require.ErrorIs(t, err, commission.ErrOverflow)
	evs := []commission.Event{
		{ID: "1", Type: event.Revenue, At: day(1), AffiliateID: "a", PlayerID: "p", Revenue: commission.Revenue{GGR: big}},
		{ID: "2", Type: event.Revenue, At: day(2), AffiliateID: "a", PlayerID: "p", Revenue: commission.Revenue{GGR: eur("0.01")}},
	}
	_, err = commission.Replay(program(p), evs, nil)
	require.ErrorIs(t, err, commission.ErrOverflow)
}
