package commission_test

import (
	"bufio"
	"os"
	"strings"
	"testing"

	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/stretchr/testify/require"
)

// TestGolden checks every model (RevShare with the MGA formula and an admin fee, whole and
// marginal tiers, hybrid CPA + RevShare, IB per lot and spread share, prop CPA, two-level
// sub-affiliate shares, FX-converted RevShare) against testdata/commission.golden, whose
// expected values were computed independently with Python's decimal module
// (testdata/gen_golden.py), over 24 currencies of exponents 0, 2, 3 and 4 and all six
// rounding modes.
func TestGolden(t *testing.T) {
	t.Parallel()
	f, err := os.Open("testdata/commission.golden")
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	models := map[string]int{}
	currencies := map[money.Currency]bool{}
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		lhs, rhs, ok := strings.Cut(line, " -> ")
		require.True(t, ok, "line %d", n)
		fields := strings.Fields(lhs)
		model, in, want := fields[0], kv(fields[1:]), kv(strings.Fields(rhs))
		cur, err := money.ParseCurrency(in["cur"])
		require.NoError(t, err)
		currencies[cur] = true
		var mode money.RoundingMode
		require.NoError(t, mode.UnmarshalText([]byte(in["mode"])))
		amt := func(s string) money.Amount { return money.MustParse(s, cur) }
		rate := money.MustParseRate
		got := map[string]string{}
		plan := commission.Plan{ID: "golden", Currency: cur, Rounding: mode}
		switch model {
		case "revshare":
			plan.RevShare = &commission.RevShare{Rate: rate(in["rate"]), AdminFee: rate(in["fee"]), NGR: mga}
			rev := commission.Revenue{GGR: amt(in["ggr"]), Bonuses: amt(in["bonuses"]), Deposits: amt(in["deposits"]), Withdrawals: amt(in["withdrawals"])}
			ngr, err := plan.NGR(&rev)
			require.NoError(t, err, "line %d", n)
			l, _, err := plan.RevShareLine(commission.RevShareInput{NGR: ngr})
			require.NoError(t, err, "line %d", n)
			got["ngr"], got["base"], got["commission"] = ngr.Decimal(), l.Base.Decimal(), l.Amount.Decimal()
		case "tiered":
			exp := pow(cur.Exponent())
			for _, marginal := range []bool{false, true} {
				plan.RevShare = &commission.RevShare{Marginal: marginal, Tiers: []commission.RateTier{
					{From: money.New(0, cur), Rate: rate("0.25")},
					{From: money.New(1000*exp, cur), Rate: rate("0.30")},
					{From: money.New(5000*exp, cur), Rate: rate("0.355")},
				}}
				require.NoError(t, plan.Validate())
				l, _, err := plan.RevShareLine(commission.RevShareInput{NGR: amt(in["base"])})
				require.NoError(t, err, "line %d", n)
				got[map[bool]string{false: "whole", true: "marginal"}[marginal]] = l.Amount.Decimal()
			}
		case "hybrid":
			plan.CPA = &commission.CPA{Amount: amt(in["cpa"])}
			plan.RevShare = &commission.RevShare{Rate: rate("0.35")}
			res, err := commission.Replay(program(plan), []commission.Event{
				{ID: "d", Type: event.Deposit, At: day(1), AffiliateID: "a", PlayerID: "p", Amount: money.New(1, cur)},
				{ID: "r", Type: event.Revenue, At: day(2), AffiliateID: "a", PlayerID: "p", Revenue: commission.Revenue{GGR: amt(in["ggr"])}},
			}, nil)
			require.NoError(t, err, "line %d", n)
			require.Len(t, res.Statements, 1)
			got["total"] = res.Statements[0].Total.Decimal()
		case "lot":
			mult := rate(in["multiplier"])
			plan.IB = &commission.IB{
				Symbols: []commission.SymbolRate{{PerLot: amt(in["per_lot"])}},
				Tiers:   []commission.LotTier{{From: rate("0"), Multiplier: rate("1")}, {From: rate("1"), Multiplier: mult}},
			}
			lot, _, err := plan.TradeLines(commission.TradeInput{PeriodLots: rate("1"),
				Trade: commission.Trade{Lots: rate(in["lots"]), Cent: in["cent"] == "true"}})
			require.NoError(t, err, "line %d", n)
			got["rebate"] = lot.Amount.Decimal()
		case "prop":
			plan.Prop = &commission.Prop{Rate: rate(in["rate"])}
			l, err := plan.PurchaseLine(commission.PurchaseInput{Price: amt(in["price"]), First: true})
			require.NoError(t, err, "line %d", n)
			got["commission"] = l.Amount.Decimal()
		case "spread":
			plan.IB = &commission.IB{Spread: &commission.SpreadShare{Rate: rate(in["share"]), ContractSize: 100_000, DampAbove: rate("3")}}
			_, spread, err := plan.TradeLines(commission.TradeInput{
				Trade: commission.Trade{Lots: rate(in["lots"]), Spread: rate(in["spread"]), AvgSpread: rate(in["avg"])}})
			require.NoError(t, err, "line %d", n)
			got["commission"] = spread.Amount.Decimal()
		case "sub":
			plan.CPA = &commission.CPA{Amount: amt(in["earnings"])}
			parent := plan
			parent.Sub = &commission.Sub{Levels: []commission.SubLevel{
				{Rate: rate(in["rate1"]), Basis: commission.OfEarnings}, {Rate: rate(in["rate2"]), Basis: commission.OfRevenue}}}
			require.NoError(t, parent.Validate())
			g := &commission.Program{
				Default:    []commission.Version{{From: t0, Plan: plan}},
				Affiliates: map[string][]commission.Version{"mid": {{From: t0, Plan: parent}}, "top": {{From: t0, Plan: parent}}},
				Parents:    map[string]string{"leaf": "mid", "mid": "top"},
			}
			res, err := commission.Replay(g, []commission.Event{
				{ID: "d", Type: event.Deposit, At: day(1), AffiliateID: "leaf", PlayerID: "p", Amount: money.New(1, cur)},
				{ID: "r", Type: event.Revenue, At: day(2), AffiliateID: "leaf", PlayerID: "p", Revenue: commission.Revenue{GGR: amt(in["ngr"])}},
			}, nil)
			require.NoError(t, err, "line %d", n)
			for _, s := range res.Statements {
				switch s.AffiliateID {
				case "mid":
					got["parent"] = s.Total.Decimal()
				case "top":
					got["grandparent"] = s.Total.Decimal()
				}
			}
		case "fx":
			from, err := money.ParseCurrency(in["from"])
			require.NoError(t, err)
			plan.RevShare = &commission.RevShare{Rate: rate("0.3")}
			fx := &money.ExchangeRate{From: from, To: cur, Rate: rate(in["rate"]), Source: "golden", At: day(1)}
			res, err := commission.Replay(program(plan), []commission.Event{{ID: "r", Type: event.Revenue, At: day(2),
				AffiliateID: "a", PlayerID: "p", Revenue: commission.Revenue{GGR: money.MustParse(in["ggr"], from)}, FX: fx}}, nil)
			require.NoError(t, err, "line %d", n)
			got["converted"], got["commission"] = res.Ledger[0].Base.Decimal(), res.Ledger[0].Amount.Decimal()
		default:
			t.Fatalf("line %d: unknown model %q", n, model)
		}
		require.NoError(t, plan.Validate(), "line %d", n)
		require.Equal(t, want, got, "line %d: %s", n, line)
		models[model]++
	}
	require.NoError(t, sc.Err())
	require.Len(t, models, 8)
	require.GreaterOrEqual(t, len(currencies), 20)
	for _, c := range []money.Currency{money.JPY, money.KWD, money.BHD, money.CLF} {
		require.True(t, currencies[c], "%s is in the golden table", c)
	}
}

func kv(fields []string) map[string]string {
	m := map[string]string{}
	for _, f := range fields {
		k, v, _ := strings.Cut(f, "=")
		m[k] = v
	}
	return m
}
