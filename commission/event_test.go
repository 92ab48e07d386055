package commission_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/stretchr/testify/require"
)

// TestReplay_FTDIsADeposit: commission counts which deposit is the first itself. An FTD is a
// deposit; one sent for a player who already deposited is a further deposit and never
// replaces the first deposit's amount.
func TestReplay_FTDIsADeposit(t *testing.T) {
	t.Parallel()
	p := commission.Plan{ID: "cpa", Currency: money.EUR, CPA: &commission.CPA{Amount: eur("100"),
		Baseline: commission.Baseline{MinFTD: eur("20"), MinDeposits: eur("60")}}}
	for _, tc := range []struct {
		name   string
		events []commission.Event
		want   []string
	}{
		{"an FTD qualifies as the first deposit", []commission.Event{
			{ID: "f", Type: event.FTD, At: day(1), AffiliateID: "a", PlayerID: "p", Amount: eur("60")},
		}, []string{"accrual cpa a 100.00 EUR"}},
		{"an FTD after a deposit is a further deposit", []commission.Event{
			{ID: "d", Type: event.Deposit, At: day(1), AffiliateID: "a", PlayerID: "p", Amount: eur("10")},
			{ID: "f", Type: event.FTD, At: day(2), AffiliateID: "a", PlayerID: "p", Amount: eur("50")},
		}, nil},
		{"a charged-back FTD is no longer the first deposit", []commission.Event{
			{ID: "f", Type: event.FTD, At: day(1), AffiliateID: "a", PlayerID: "p", Amount: eur("50")},
			{ID: "cb", Type: event.Reversal, At: day(2), AffiliateID: "a", PlayerID: "p", Reverses: "f"},
			{ID: "d", Type: event.Deposit, At: day(3), AffiliateID: "a", PlayerID: "p", Amount: eur("10")},
			{ID: "d2", Type: event.Deposit, At: day(4), AffiliateID: "a", PlayerID: "p", Amount: eur("60")},
		}, nil},
		{"a second FTD counts towards the deposits", []commission.Event{
			{ID: "f1", Type: event.FTD, At: day(1), AffiliateID: "a", PlayerID: "p", Amount: eur("30")},
			{ID: "f2", Type: event.FTD, At: day(2), AffiliateID: "a", PlayerID: "p", Amount: eur("30")},
		}, []string{"accrual cpa a 100.00 EUR"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, err := commission.Replay(program(p), tc.events, nil)
			require.NoError(t, err)
			require.Equal(t, tc.want, amounts(res.Ledger))
		})
	}
}

// TestReplay_EveryEventType: every event type of package event replays without error; the
// ones no plan pays for (and custom events) produce no line, and can still be reversed.
func TestReplay_EveryEventType(t *testing.T) {
	t.Parallel()
	p := commission.Plan{ID: "all", Currency: money.EUR, CPA: &commission.CPA{Amount: eur("100")}}
	for _, typ := range append(event.Types(), "network_goal_7") {
		t.Run(string(typ), func(t *testing.T) {
			t.Parallel()
			e := commission.Event{ID: "e", Type: typ, At: day(1), AffiliateID: "a", PlayerID: "p", Amount: eur("10"),
				Trade: commission.Trade{Symbol: "EURUSD", Lots: money.MustParseRate("1")}}
			evs := []commission.Event{e}
			switch typ {
			case event.Reversal, event.Refund, event.Reset:
				evs = []commission.Event{{ID: "b", Type: event.Purchase, At: day(0), AffiliateID: "a", PlayerID: "p", Amount: eur("10")}, e}
				evs[1].Reverses = "b"
			case event.Conversion, "network_goal_7":
				evs = append(evs, commission.Event{ID: "x", Type: event.Reversal, At: day(2), AffiliateID: "a", PlayerID: "p", Reverses: "e"})
			}
			res, err := commission.Replay(program(p), evs, nil)
			require.NoError(t, err)
			if !typ.Known() || typ == event.Conversion {
				require.Empty(t, res.Ledger, "%s earns nothing", typ)
			}
		})
	}
	_, err := commission.Replay(program(p), []commission.Event{{ID: "e", At: day(1), AffiliateID: "a", PlayerID: "p"}}, nil)
	require.ErrorIs(t, err, commission.ErrInvalidEvent, "an event without a kind")
}

// TestImports holds the package to its import rule: the standard library, money and event
// (and internal/jsonfield, a leaf of the standard library shared with attribution's decoder).
func TestImports(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	allowed := map[string]bool{
		"github.com/s2skit/s2s/money": true, "github.com/s2skit/s2s/event": true,
		"github.com/s2skit/s2s/internal/jsonfield": true,
	}
	checked := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		ast, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		require.NoError(t, err)
		for _, imp := range ast.Imports {
			path, err := strconv.Unquote(imp.Path.Value)
			require.NoError(t, err)
			std := !strings.Contains(strings.SplitN(path, "/", 2)[0], ".")
			require.True(t, std || allowed[path], "%s imports %s", f, path)
		}
		checked++
	}
	require.Greater(t, checked, 5)
}

// TestReplay_RefusesNegativeActivity: an event whose amount cannot be negative is refused
// when it is, rather than earning a negative accrual.
func TestReplay_RefusesNegativeActivity(t *testing.T) {
	t.Parallel()
	p := commission.Plan{ID: "all", Currency: money.EUR, CPA: &commission.CPA{Amount: eur("100")},
		IB:   &commission.IB{Symbols: []commission.SymbolRate{{PerLot: eur("5")}}},
		Prop: &commission.Prop{Rate: money.MustParseRate("10%")}}
	for name, e := range map[string]commission.Event{
		"deposit":      {Type: event.Deposit, Amount: eur("-10")},
		"zero deposit": {Type: event.FTD},
		"wager":        {Type: event.Wager, Amount: eur("-10")},
		"rounds":       {Type: event.Wager, Amount: eur("10"), Rounds: -1},
		"trade":        {Type: event.Trade, Trade: commission.Trade{Symbol: "EURUSD", Lots: money.MustParseRate("-1")}},
		"no lots":      {Type: event.Trade, Trade: commission.Trade{Symbol: "EURUSD"}},
		"price":        {Type: event.Purchase, Amount: eur("-99")},
		"account size": {Type: event.Purchase, Amount: eur("99"), AccountSize: eur("-1")},
	} {
		e.ID, e.At, e.AffiliateID, e.PlayerID = "e", day(1), "a", "p"
		_, err := commission.Replay(program(p), []commission.Event{e}, nil)
		require.ErrorIs(t, err, commission.ErrInvalidEvent, name)
	}
}

// TestReplay_ReversalsAreNegative: what takes money back (an adjustment, a reversal, a
// refund, a reset) is not reversed, so no reversal line pays: it is corrected with an
// adjustment.
func TestReplay_ReversalsAreNegative(t *testing.T) {
	t.Parallel()
	p := commission.Plan{ID: "p", Currency: money.EUR, CPA: &commission.CPA{Amount: eur("100")},
		Prop: &commission.Prop{Amount: eur("50"), ClawbackRefund: true, ClawbackReset: true}}
	base := []commission.Event{
		{ID: "d", Type: event.Deposit, At: day(1), AffiliateID: "a", PlayerID: "p", Amount: eur("10")},
		{ID: "x", Type: event.Reversal, At: day(2), AffiliateID: "a", PlayerID: "p", Reverses: "d"},
		{ID: "adj", Type: event.Adjustment, At: day(2), AffiliateID: "a", Amount: eur("-2.50")},
		{ID: "b1", Type: event.Purchase, At: day(2), AffiliateID: "a", PlayerID: "q", Amount: eur("99")},
		{ID: "b2", Type: event.Purchase, At: day(2), AffiliateID: "a", PlayerID: "r", Amount: eur("99")},
		{ID: "ref", Type: event.Refund, At: day(3), AffiliateID: "a", PlayerID: "q", Reverses: "b1"},
		{ID: "rst", Type: event.Reset, At: day(3), AffiliateID: "a", PlayerID: "r", Reverses: "b2"},
	}
	res, err := commission.Replay(program(p), base, nil)
	require.NoError(t, err)
	for _, l := range res.Ledger {
		if l.Kind == commission.KindReversal || l.Kind == commission.KindClawback {
			require.LessOrEqual(t, l.Amount.Sign(), 0, "%s", l.Explain())
		}
	}
	for _, id := range []string{"x", "adj", "ref", "rst"} {
		evs := append(append([]commission.Event(nil), base...),
			commission.Event{ID: "undo", Type: event.Reversal, At: day(5), AffiliateID: "a", Reverses: id})
		_, err := commission.Replay(program(p), evs, nil)
		require.ErrorIs(t, err, commission.ErrInvalidEvent, "a reversal of %s", id)
		require.ErrorContains(t, err, "correct it with an adjustment")
	}
}
