package commission_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func eur(s string) money.Amount { return money.MustParse(s, money.EUR) }

func day(n int) time.Time { return t0.Add(time.Duration(n) * 24 * time.Hour) }

func program(p commission.Plan) *commission.Program {
	return &commission.Program{Default: []commission.Version{{From: t0, Plan: p}}}
}

func amounts(lines []commission.Line) []string {
	var out []string
	for _, l := range lines {
		out = append(out, l.Kind.String()+" "+l.Rule.String()+" "+l.AffiliateID+" "+l.Amount.String())
	}
	return out
}

func cpaPlan() commission.Plan {
	return commission.Plan{ID: "cpa", Currency: money.EUR, CPA: &commission.CPA{
		Amount:    eur("100"),
		Countries: []commission.CountryAmount{{Country: "DE", Amount: eur("150")}},
		Baseline: commission.Baseline{
			MinFTD: eur("20"), MinDeposits: eur("50"), DepositWindow: commission.Duration(24 * time.Hour),
			MinWager: eur("100"), MinRounds: 10, Verified: true, Within: commission.Duration(30 * 24 * time.Hour),
		},
		Hold: commission.Duration(7 * 24 * time.Hour),
	}}
}

func TestReplay_CPAQualification(t *testing.T) {
	t.Parallel()
	reg := func(country string) commission.Event {
		return commission.Event{ID: "r", Type: event.Registration, At: day(0), AffiliateID: "a", PlayerID: "p", Country: country}
	}
	dep := func(id string, d int, amt string) commission.Event {
		return commission.Event{ID: id, Type: event.Deposit, At: day(d), AffiliateID: "a", PlayerID: "p", Amount: eur(amt)}
	}
	wager := commission.Event{ID: "w", Type: event.Wager, At: day(2), AffiliateID: "a", PlayerID: "p", Amount: eur("100"), Rounds: 10}
	kyc := commission.Event{ID: "k", Type: event.Verification, At: day(3), AffiliateID: "a", PlayerID: "p"}
	for _, tc := range []struct {
		name   string
		events []commission.Event
		want   []string
	}{
		{"qualifies on the last requirement", []commission.Event{reg("FR"), dep("d1", 1, "30"), dep("d2", 1, "20"), wager, kyc},
			[]string{"accrual cpa a 100.00 EUR"}},
		{"country amount", []commission.Event{reg("DE"), dep("d1", 1, "50"), wager, kyc}, []string{"accrual cpa.country a 150.00 EUR"}},
		{"FTD below minimum", []commission.Event{reg("FR"), dep("d1", 1, "10"), dep("d2", 1, "40"), wager, kyc}, nil},
		{"deposits outside the window", []commission.Event{reg("FR"), dep("d1", 1, "30"), dep("d2", 3, "20"), wager, kyc}, nil},
		{"not verified", []commission.Event{reg("FR"), dep("d1", 1, "50"), wager}, nil},
		{"too late after registration", []commission.Event{reg("FR"), dep("d1", 1, "50"), wager,
			{ID: "k", Type: event.Verification, At: day(31), AffiliateID: "a", PlayerID: "p"}}, nil},
		{"one CPA per player", []commission.Event{reg("FR"), dep("d1", 1, "50"), wager, kyc, dep("d3", 4, "500")},
			[]string{"accrual cpa a 100.00 EUR"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, err := commission.Replay(program(cpaPlan()), tc.events, nil)
			require.NoError(t, err)
			require.Equal(t, tc.want, amounts(res.Ledger))
			if len(res.Ledger) > 0 {
				l := res.Ledger[0]
				require.Equal(t, day(3), l.At)
				require.Equal(t, day(10), l.Payable, "a 7-day hold")
				require.Contains(t, l.Explain(), "hold: payable from 2026-01-11T00:00:00Z")
			}
		})
	}
}

func TestPlan_CPALine_TiersAndCaps(t *testing.T) {
	t.Parallel()
	p := commission.Plan{ID: "t", Currency: money.EUR, CPA: &commission.CPA{
		Amount: eur("100"),
		Tiers:  []commission.CountTier{{From: 1, Amount: eur("100")}, {From: 11, Amount: eur("120")}, {From: 51, Amount: eur("150")}},
		Cap:    commission.Cap{Count: 60, Amount: eur("7000")},
	}}
	require.NoError(t, p.Validate())
	for _, tc := range []struct {
		count  int64
		total  string
		want   string
		tier   int
		reason string
	}{
		{0, "0", "100.00 EUR", 1, ""},
		{10, "1000", "120.00 EUR", 2, ""},
		{50, "5800", "150.00 EUR", 3, ""},
		{55, "6900", "0.00 EUR", 0, "cap.amount"},
		{60, "0", "0.00 EUR", 0, "cap.count"},
	} {
		l, err := p.CPALine(commission.CPAInput{AffiliateID: "a", PlayerID: "p", At: day(1), FTD: eur("10"), PeriodCount: tc.count, PeriodTotal: eur(tc.total)})
		require.NoError(t, err)
		require.Equal(t, tc.want, l.Amount.String(), "count %d", tc.count)
		require.Equal(t, tc.tier, int(l.Tier))
		require.Equal(t, tc.reason, l.Reason)
	}
	_, err := p.CPALine(commission.CPAInput{FTD: money.MustParse("10", money.USD)})
	require.ErrorIs(t, err, commission.ErrCurrency)
}

func TestReplay_CPACapPerPeriod(t *testing.T) {
	t.Parallel()
	p := commission.Plan{ID: "cap", Currency: money.EUR, CPA: &commission.CPA{Amount: eur("100"), Cap: commission.Cap{Count: 2}}}
	var evs []commission.Event
	for i, d := range []int{1, 2, 3, 40} { // three in January, one in February
		id := string(rune('a' + i))
		evs = append(evs, commission.Event{ID: id, Type: event.Deposit, At: day(d), AffiliateID: "x", PlayerID: id, Amount: eur("10")})
	}
	res, err := commission.Replay(program(p), evs, nil)
	require.NoError(t, err)
	require.Len(t, res.Ledger, 3, "two in January (capped), one in February")
	require.Len(t, res.Statements, 2)
	require.Equal(t, "200.00 EUR", res.Statements[0].Total.String())
	require.Equal(t, "100.00 EUR", res.Statements[1].Total.String())
}

func TestReplay_FXRequired(t *testing.T) {
	t.Parallel()
	p := commission.Plan{ID: "eur", Currency: money.EUR, CPA: &commission.CPA{Amount: eur("100"), Baseline: commission.Baseline{MinFTD: eur("50")}}}
	ev := commission.Event{ID: "d", Type: event.Deposit, At: day(1), AffiliateID: "a", PlayerID: "p", Amount: money.MustParse("60.00", money.USD)}
	_, err := commission.Replay(program(p), []commission.Event{ev}, nil)
	require.ErrorIs(t, err, commission.ErrCurrency, "never guessed")

	ev.FX = &money.ExchangeRate{From: money.USD, To: money.EUR, Rate: money.MustParseRate("0.9"), Source: "ECB", At: day(1)}
	res, err := commission.Replay(program(p), []commission.Event{ev}, nil)
	require.NoError(t, err)
	require.Equal(t, []string{"accrual cpa a 100.00 EUR"}, amounts(res.Ledger), "60 USD = 54 EUR qualifies")
	require.Equal(t, ev.FX, res.Ledger[0].FX)
	require.Contains(t, res.Ledger[0].Explain(), "converted at 1 USD = 0.9 EUR (ECB")

	ev.Amount = money.MustParse("55.00", money.USD) // 49.50 EUR
	res, err = commission.Replay(program(p), []commission.Event{ev}, nil)
	require.NoError(t, err)
	require.Empty(t, res.Ledger)
}

func TestReplay_EffectiveDates(t *testing.T) {
	t.Parallel()
	mar := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	g := &commission.Program{Default: []commission.Version{
		{From: t0, Plan: commission.Plan{ID: "old", Currency: money.EUR, CPA: &commission.CPA{Amount: eur("100")}}},
		{From: mar, Plan: commission.Plan{ID: "new", Currency: money.EUR, CPA: &commission.CPA{Amount: eur("150")}}},
	}}
	evs := []commission.Event{
		{ID: "2", Type: event.Deposit, At: mar, AffiliateID: "a", PlayerID: "p2", Amount: eur("10")},
		{ID: "1", Type: event.Deposit, At: mar.Add(-time.Second), AffiliateID: "a", PlayerID: "p1", Amount: eur("10")},
	}
	res, err := commission.Replay(g, evs, nil)
	require.NoError(t, err)
	require.Equal(t, []string{"accrual cpa a 100.00 EUR", "accrual cpa a 150.00 EUR"}, amounts(res.Ledger))
	require.Equal(t, "old", res.Ledger[0].Plan)
	require.Equal(t, "new", res.Ledger[1].Plan)

	_, err = commission.Replay(g, []commission.Event{{ID: "0", Type: event.Deposit, At: t0.Add(-time.Hour), AffiliateID: "a", PlayerID: "p", Amount: eur("1")}}, nil)
	require.ErrorIs(t, err, commission.ErrNoPlan)
}

func TestPeriodOf_DST(t *testing.T) {
	t.Parallel()
	malta, err := time.LoadLocation("Europe/Malta")
	require.NoError(t, err)
	// March 2026: summer time starts on the 29th (CET → CEST); October: it ends on the 25th.
	p := commission.PeriodOf(time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC), commission.Month, malta)
	require.Equal(t, time.Date(2026, 2, 28, 23, 0, 0, 0, time.UTC), p.Start.UTC())
	require.Equal(t, time.Date(2026, 3, 31, 22, 0, 0, 0, time.UTC), p.End.UTC())
	require.Equal(t, 31*24*time.Hour-time.Hour, p.End.Sub(p.Start))
	o := commission.PeriodOf(time.Date(2026, 10, 31, 23, 30, 0, 0, time.UTC), commission.Month, malta)
	require.Equal(t, time.Date(2026, 11, 1, 0, 0, 0, 0, malta), o.Start, "23:30 UTC on Oct 31 is already November in Malta")
	d := commission.PeriodOf(time.Date(2026, 3, 29, 12, 0, 0, 0, malta), commission.Day, malta)
	require.Equal(t, 23*time.Hour, d.End.Sub(d.Start))
	w := commission.PeriodOf(time.Date(2026, 3, 29, 12, 0, 0, 0, malta), commission.Week, malta)
	require.Equal(t, time.Monday, w.Start.Weekday())
	require.Equal(t, 7*24*time.Hour-time.Hour, w.End.Sub(w.Start))
	require.True(t, p.Contains(p.Start))
	require.False(t, p.Contains(p.End))
}

func TestReplay_StatementsInZone(t *testing.T) {
	t.Parallel()
	malta, err := time.LoadLocation("Europe/Malta")
	require.NoError(t, err)
	g := program(commission.Plan{ID: "c", Currency: money.EUR, CPA: &commission.CPA{Amount: eur("10")}})
	g.Zone = "Europe/Malta"
	evs := []commission.Event{
		// 21:30 UTC on March 31 is 23:30 in Malta (CEST): March.
		{ID: "1", Type: event.Deposit, At: time.Date(2026, 3, 31, 21, 30, 0, 0, time.UTC), AffiliateID: "a", PlayerID: "p1", Amount: eur("1")},
		// 22:30 UTC is 00:30 on April 1 in Malta: April.
		{ID: "2", Type: event.Deposit, At: time.Date(2026, 3, 31, 22, 30, 0, 0, time.UTC), AffiliateID: "a", PlayerID: "p2", Amount: eur("1")},
		{ID: "3", Type: event.Adjustment, At: time.Date(2026, 4, 2, 0, 0, 0, 0, time.UTC), AffiliateID: "a", Amount: eur("-2.50")},
	}
	res, err := commission.Replay(g, evs, nil)
	require.NoError(t, err)
	require.Len(t, res.Statements, 2)
	require.Equal(t, time.Date(2026, 3, 1, 0, 0, 0, 0, malta), res.Statements[0].Period.Start)
	require.Equal(t, time.Date(2026, 4, 1, 0, 0, 0, 0, malta), res.Statements[0].Period.End)
	require.Equal(t, "10.00 EUR", res.Statements[0].Total.String())
	require.Equal(t, "7.50 EUR", res.Statements[1].Total.String(), "CPA 10 and an adjustment of -2.50")
	require.Equal(t, commission.KindAdjustment, res.Statements[1].Lines[1].Kind)

	_, err = commission.Replay(g, evs, &commission.ReplayOptions{LoadLocation: func(string) (*time.Location, error) {
		return nil, commission.ErrInvalidPlan
	}})
	require.ErrorIs(t, err, commission.ErrInvalidPlan)
}

func TestReplay_ReversedActivityNoLongerQualifies(t *testing.T) {
	t.Parallel()
	p := commission.Plan{ID: "w", Currency: money.EUR, CPA: &commission.CPA{Amount: eur("100"),
		Baseline: commission.Baseline{MinDeposits: eur("50"), MinWager: eur("100")}}}
	evs := []commission.Event{
		{ID: "d1", Type: event.Deposit, At: day(1), AffiliateID: "a", PlayerID: "p", Amount: eur("40")},
		{ID: "w1", Type: event.Wager, At: day(1), AffiliateID: "a", PlayerID: "p", Amount: eur("100"), Rounds: 5},
		{ID: "xw1", Type: event.Reversal, At: day(2), AffiliateID: "a", PlayerID: "p", Reverses: "w1"},
		{ID: "d2", Type: event.Deposit, At: day(3), AffiliateID: "a", PlayerID: "p", Amount: eur("10")}, // deposits reach 50
	}
	res, err := commission.Replay(program(p), evs, nil)
	require.NoError(t, err)
	require.Empty(t, res.Ledger, "the reversed wager no longer counts")
	evs = append(evs, commission.Event{ID: "w2", Type: event.Wager, At: day(4), AffiliateID: "a", PlayerID: "p", Amount: eur("100")})
	res, err = commission.Replay(program(p), evs, nil)
	require.NoError(t, err)
	require.Equal(t, []string{"accrual cpa a 100.00 EUR"}, amounts(res.Ledger))
	require.Equal(t, "w2", res.Ledger[0].EventID)
}

// TestReplay_UnpaidCPA: the result says why each player earned no CPA, from the last check.
func TestReplay_UnpaidCPA(t *testing.T) {
	t.Parallel()
	p := cpaPlan() // min FTD 20, deposits 50 within a day, wager 100 in 10 rounds, verified, within 30 days
	p.CPA.Cap = commission.Cap{Count: 1}
	evs := []commission.Event{
		// p1 qualifies, and uses up the cap of January.
		{ID: "r1", Type: event.Registration, At: day(0), AffiliateID: "a", PlayerID: "p1", Verified: true},
		{ID: "d1", Type: event.Deposit, At: day(1), AffiliateID: "a", PlayerID: "p1", Amount: eur("60")},
		{ID: "w1", Type: event.Wager, At: day(1), AffiliateID: "a", PlayerID: "p1", Amount: eur("100"), Rounds: 10},
		// p2 deposits too little, then enough, but never wagers.
		{ID: "d2", Type: event.Deposit, At: day(1), AffiliateID: "a", PlayerID: "p2", Amount: eur("10")},
		{ID: "d3", Type: event.Deposit, At: day(2), AffiliateID: "b", PlayerID: "p3", Amount: eur("60")},
		{ID: "w3", Type: event.Wager, At: day(2), AffiliateID: "b", PlayerID: "p3", Amount: eur("100"), Rounds: 10},
		// p4 meets everything after p1 took the cap.
		{ID: "r4", Type: event.Registration, At: day(2), AffiliateID: "a", PlayerID: "p4", Verified: true},
		{ID: "d4", Type: event.Deposit, At: day(3), AffiliateID: "a", PlayerID: "p4", Amount: eur("60")},
		{ID: "w4", Type: event.Wager, At: day(3), AffiliateID: "a", PlayerID: "p4", Amount: eur("100"), Rounds: 10},
	}
	res, err := commission.Replay(program(p), evs, nil)
	require.NoError(t, err)
	require.Equal(t, []string{"accrual cpa a 100.00 EUR"}, amounts(res.Ledger))
	var why []string
	for _, l := range res.UnpaidCPA {
		require.True(t, l.Amount.IsZero())
		require.Contains(t, l.Explain(), "not paid: "+l.Reason)
		why = append(why, l.AffiliateID+" "+l.PlayerID+" "+l.EventID+" "+l.Reason)
	}
	require.Equal(t, []string{
		"a p2 d2 baseline.min_ftd",
		"a p4 w4 cap.count",
		"b p3 w3 baseline.verified",
	}, why, "by affiliate and player; p1, who was paid, is not listed")
}

// TestReplay_RingFenceStaysUntilAbsorbed: once fenced, a player stays fenced, whatever the
// size or sign of his later NGR, until his balance is absorbed; only the rest counts.
func TestReplay_RingFenceStaysUntilAbsorbed(t *testing.T) {
	t.Parallel()
	p := commission.Plan{ID: "rf", Currency: money.EUR, RevShare: &commission.RevShare{Rate: money.MustParseRate("50%"),
		Carryover: commission.RingFence, HighRoller: eur("500")}}
	month := func(m int) time.Time { return time.Date(2026, time.Month(m), 10, 0, 0, 0, 0, time.UTC) }
	ggr := map[string][]string{
		"hr": {"-1000", "-100", "300", "900", "-200"}, // fenced, stays fenced (-100 is above the threshold), absorbed in month 4
		"p":  {"400", "-50", "100", "100", "100"},     // never fenced: -50 counts against the affiliate
	}
	var evs []commission.Event
	for _, pl := range []string{"hr", "p"} {
		for i, g := range ggr[pl] {
			evs = append(evs, commission.Event{ID: pl + strconv.Itoa(i), Type: event.Revenue, At: month(i + 1), AffiliateID: "a", PlayerID: pl,
				Revenue: commission.Revenue{GGR: eur(g)}})
		}
	}
	res, err := commission.Replay(program(p), evs, nil)
	require.NoError(t, err)
	require.Len(t, res.Statements, 5)
	var totals, fenced []string
	for _, s := range res.Statements {
		totals = append(totals, s.Total.Decimal())
		var f []string
		for _, b := range s.Fenced {
			f = append(f, b.PlayerID+" "+b.Amount.Decimal())
		}
		fenced = append(fenced, strings.Join(f, ","))
	}
	require.Equal(t, []string{"hr -1000.00", "hr -1100.00", "hr -800.00", "", ""}, fenced)
	// Month 4: 900 absorbs the 800 balance and 100 counts, with p's 100: 50% of 200. Month 5:
	// hr at -200 is not fenced again (above -500) and counts against p's 100.
	require.Equal(t, []string{"200.00", "0.00", "50.00", "100.00", "0.00"}, totals)
}
