package commission_test

import (
	"testing"
	"time"

	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/stretchr/testify/require"
)

func lateProgram() *commission.Program {
	g := program(commission.Plan{ID: "rs", Currency: money.EUR, RevShare: &commission.RevShare{
		Rate: money.MustParseRate("30%"), Carryover: commission.CarryForward}})
	g.Grace = commission.Duration(48 * time.Hour)
	return g
}

func TestProgram_RevenuePeriod(t *testing.T) {
	t.Parallel()
	g := lateProgram()
	jan := commission.PeriodOf(day(10), commission.Month, nil)
	feb := commission.PeriodOf(day(40), commission.Month, nil)
	mar := commission.PeriodOf(day(70), commission.Month, nil)
	for _, tc := range []struct {
		name     string
		received time.Time
		want     commission.Period
		late     bool
	}{
		{"no receipt time is on time", time.Time{}, jan, false},
		{"received in the period", day(10), jan, false},
		{"received within the grace", jan.End.Add(48*time.Hour - time.Nanosecond), jan, false},
		{"received at the cutoff is late, in the next period", jan.End.Add(48 * time.Hour), feb, true},
		{"received after the next period's cutoff, in the period after", feb.End.Add(48 * time.Hour), mar, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, late := g.RevenuePeriod(day(10), tc.received, nil)
			require.Equal(t, tc.want, got, "rule: a report counts in its period until the cutoff (End plus Grace), later in the period whose cutoff comes next")
			require.Equal(t, tc.late, late)
		})
	}
}

func TestReplay_LateRevenue(t *testing.T) {
	t.Parallel()
	g := lateProgram()
	rev := func(id, player string, at, received time.Time, ggr string) commission.Event {
		return commission.Event{ID: id, Type: event.Revenue, At: at, Received: received, AffiliateID: "a", PlayerID: player,
			Revenue: commission.Revenue{GGR: eur(ggr)}}
	}
	res, err := commission.Replay(g, []commission.Event{
		rev("r1", "p1", day(10), day(10), "1000"),
		rev("r2", "p2", day(20), day(35), "500"),  // January's, received after its cutoff (February 2)
		rev("r3", "p1", day(40), day(40), "-200"), // February's: the player won
		rev("r4", "p3", day(25), day(32), "-50"),  // January's, within the grace
	}, nil)
	require.NoError(t, err)
	require.Len(t, res.Statements, 2)
	jan, feb := res.Statements[0], res.Statements[1]
	require.Equal(t, eur("285.00"), jan.Total, "January: 30% of 1000 − 50, the report within the grace included")
	require.Equal(t, []string{"accrual revshare a 0.00 EUR", "adjustment revshare a 90.00 EUR"}, amounts(feb.Lines),
		"rule: late revenue is an adjustment line of the next period, never an edit of the closed one")
	require.Equal(t, eur("500.00"), feb.Lines[1].Base, "the adjustment's base is the NGR the late revenue added")
	require.Equal(t, eur("-200.00"), feb.Lines[0].Base, "the period's own line is of its on-time revenue")
	require.Equal(t, eur("90.00"), feb.Total, "30% of (−200 + 500): the lines sum to the RevShare of the whole base")
	require.True(t, feb.CarryOut.IsZero(), "the carry-out is computed with the late revenue")
	require.Contains(t, feb.Lines[1].Explain(), "late revenue")
}

func TestProgram_Settle(t *testing.T) {
	t.Parallel()
	g := lateProgram()
	feb := commission.PeriodOf(day(40), commission.Month, nil)
	b := &commission.Balances{Carry: eur("-100")}
	lines, positive, err := g.Settle(&commission.Settlement{AffiliateID: "a", Period: feb,
		Revenue: map[string]*commission.Revenue{"p1": {GGR: eur("40")}},
		Late:    map[string]*commission.Revenue{"p2": {GGR: eur("-10")}}}, b)
	require.NoError(t, err)
	require.Equal(t, []string{"accrual revshare a 0.00 EUR", "adjustment revshare a 0.00 EUR", "carryover revshare a 0.00 EUR"}, amounts(lines))
	require.Equal(t, eur("-70.00"), b.Carry, "carry: −100 + 40 − 10")
	require.Equal(t, eur("40.00"), positive)
	require.Equal(t, eur("-70.00"), lines[2].Base)
}
