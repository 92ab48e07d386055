package commission_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/money"
	"github.com/stretchr/testify/require"
)

const hybridJSON = `{
  "id": "vip",
  "currency": "EUR",
  "rounding": "half_up",
  "cpa": {
    "amount": {"amount": "100.00", "currency": "EUR"},
    "countries": [{"country": "DE", "amount": {"amount": "150.00", "currency": "EUR"}}],
    "baseline": {"min_ftd": {"amount": "20.00", "currency": "EUR"}, "verified": true, "within": "30d"},
    "hold": "720h",
    "cap": {"count": 50}
  },
  "revshare": {
    "rate": "0",
    "tiers": [
      {"from": {"amount": "0.00", "currency": "EUR"}, "rate": "25%"},
      {"from": {"amount": "10000.00", "currency": "EUR"}, "rate": "30%"},
      {"from": {"amount": "50000.00", "currency": "EUR"}, "rate": "35%"}
    ],
    "ngr": [
      {"field": "ggr", "rate": "83.5%"}, {"field": "bonuses", "rate": "-1"},
      {"field": "deposits", "rate": "-10%"}, {"field": "withdrawals", "rate": "-10%"}
    ],
    "admin_fee": "5%",
    "carryover": "carry"
  },
  "sub": {"levels": [{"rate": "5%", "basis": "earnings"}]}
}`

func TestPlan_JSONRoundTrip(t *testing.T) {
	t.Parallel()
	var p commission.Plan
	require.NoError(t, json.Unmarshal([]byte(hybridJSON), &p))
	require.NoError(t, p.Validate())
	require.Equal(t, money.HalfUp, p.Rounding)
	require.Equal(t, money.MustParse("150.00", money.EUR), p.CPA.Countries[0].Amount)
	require.Equal(t, 720*time.Hour, p.CPA.Hold.Std())
	require.Equal(t, 30*24*time.Hour, p.CPA.Baseline.Within.Std())
	require.Equal(t, money.MustParseRate("0.835"), p.RevShare.NGR[0].Rate)
	out, err := json.Marshal(&p)
	require.NoError(t, err)
	require.NotContains(t, string(out), `"amount":1`, "amounts are never JSON numbers")
	require.Contains(t, string(out), `"hold":"30d"`)
	var q commission.Plan
	require.NoError(t, json.Unmarshal(out, &q))
	require.Equal(t, p, q)
}

func TestDuration_JSON(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{`"720h"`, 720 * time.Hour, true},
		{`"30d"`, 30 * 24 * time.Hour, true},
		{`7`, 7 * 24 * time.Hour, true},
		{`"90m"`, 90 * time.Minute, true},
		{`"-1h"`, 0, false},
		{`"1.5d"`, 0, false},
		{`"soon"`, 0, false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			var d commission.Duration
			err := json.Unmarshal([]byte(tc.in), &d)
			if !tc.ok {
				require.ErrorIs(t, err, commission.ErrInvalidPlan)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, d.Std())
		})
	}
}

func TestPlan_Validate(t *testing.T) {
	t.Parallel()
	eur := func(s string) money.Amount { return money.MustParse(s, money.EUR) }
	rs := func(mut func(*commission.RevShare)) commission.Plan {
		r := &commission.RevShare{Tiers: []commission.RateTier{
			{From: eur("0"), Rate: money.MustParseRate("25%")},
			{From: eur("1000"), Rate: money.MustParseRate("30%")},
			{From: eur("5000"), Rate: money.MustParseRate("35%")},
		}}
		mut(r)
		return commission.Plan{ID: "vip", Currency: money.EUR, RevShare: r}
	}
	for _, tc := range []struct {
		name string
		plan commission.Plan
		want string
	}{
		{"overlapping tiers", rs(func(r *commission.RevShare) { r.Tiers[2].From = eur("1000") }),
			`commission: plan "vip": revshare.tiers[2].from: overlaps tiers[1]`},
		{"rate over 100%", rs(func(r *commission.RevShare) { r.Tiers[1].Rate = money.MustParseRate("120%") }),
			`commission: plan "vip": revshare.tiers[1].rate: 1.2 is outside 0..100%`},
		{"tier in another currency", rs(func(r *commission.RevShare) { r.Tiers[1].From = money.MustParse("1000", money.USD) }),
			`commission: plan "vip": revshare.tiers[1].from: currency USD, the plan pays in EUR`},
		{"unknown carryover", rs(func(r *commission.RevShare) { r.Carryover = "sometimes" }),
			`commission: plan "vip": revshare.carryover: unknown policy "sometimes" (want none, carry or ring_fence)`},
		{"ring fence without threshold", rs(func(r *commission.RevShare) { r.Carryover = commission.RingFence }),
			`commission: plan "vip": revshare.high_roller: missing`},
		{"unknown NGR field", rs(func(r *commission.RevShare) {
			r.NGR = commission.Formula{{Field: "vibes", Rate: money.MustParseRate("1")}}
		}), `commission: plan "vip": revshare.ngr[0].field: unknown field "vibes"`},
		{"unknown currency", commission.Plan{ID: "x", Currency: 0, CPA: &commission.CPA{}},
			`commission: plan "x": currency: unknown currency`},
		{"negative cap", commission.Plan{ID: "c", Currency: money.EUR, CPA: &commission.CPA{Amount: eur("50"), Cap: commission.Cap{Count: -1}}},
			`commission: plan "c": cpa.cap.count: negative`},
		{"negative cap amount", commission.Plan{ID: "c", Currency: money.EUR, CPA: &commission.CPA{Amount: eur("50"), Cap: commission.Cap{Amount: eur("-1")}}},
			`commission: plan "c": cpa.cap.amount: negative (-1.00 EUR)`},
		{"no model", commission.Plan{ID: "e", Currency: money.EUR},
			`commission: plan "e": plan: no model: set cpa, revshare, ib, prop or sub`},
		{"IB levels over 100%", commission.Plan{ID: "ib", Currency: money.USD, IB: &commission.IB{
			Symbols: []commission.SymbolRate{{PerLot: money.MustParse("5", money.USD)}},
			Levels:  []money.Rate{money.MustParseRate("70%"), money.MustParseRate("40%")}}},
			`commission: plan "ib": ib.levels: shares sum over 100%`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.plan.Validate()
			require.ErrorIs(t, err, commission.ErrInvalidPlan)
			require.EqualError(t, err, tc.want)
		})
	}
	ok := rs(func(*commission.RevShare) {})
	require.NoError(t, ok.Validate())
}

func TestProgram_PlanAt(t *testing.T) {
	t.Parallel()
	eur := func(s string) money.Amount { return money.MustParse(s, money.EUR) }
	cpa := func(id, amt string) commission.Plan {
		return commission.Plan{ID: id, Currency: money.EUR, CPA: &commission.CPA{Amount: eur(amt)}}
	}
	jan := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	mar := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	g := commission.Program{
		Default:    []commission.Version{{From: jan, Plan: cpa("std", "100")}, {From: mar, Plan: cpa("std2", "120")}},
		Affiliates: map[string][]commission.Version{"star": {{From: jan, Plan: cpa("star", "200")}}},
	}
	require.NoError(t, g.Validate())
	for _, tc := range []struct {
		aff  string
		at   time.Time
		want string
	}{
		{"a1", jan, "std"},
		{"a1", mar.Add(-time.Nanosecond), "std"},
		{"a1", mar, "std2"},
		{"star", mar, "star"},
	} {
		p, err := g.PlanAt(tc.aff, tc.at)
		require.NoError(t, err)
		require.Equal(t, tc.want, p.ID, "%s at %s", tc.aff, tc.at)
	}
	_, err := g.PlanAt("a1", jan.Add(-time.Second))
	require.ErrorIs(t, err, commission.ErrNoPlan)

	bad := g
	bad.Default = []commission.Version{{From: mar, Plan: cpa("a", "1")}, {From: jan, Plan: cpa("b", "1")}}
	require.ErrorIs(t, bad.Validate(), commission.ErrInvalidPlan)
	cyc := g
	cyc.Parents = map[string]string{"a": "b", "b": "a"}
	err = cyc.Validate()
	require.ErrorIs(t, err, commission.ErrInvalidPlan)
	require.Contains(t, err.Error(), "cycle")

	// JSON round-trip of a whole program.
	out, err := json.Marshal(&g)
	require.NoError(t, err)
	var h commission.Program
	require.NoError(t, json.Unmarshal(out, &h))
	require.Equal(t, g, h)
	require.True(t, errors.Is(h.Validate(), nil))
}

func TestProgram_ValidateNamesTheVersion(t *testing.T) {
	t.Parallel()
	bad := commission.Plan{ID: "vip", Currency: money.EUR, CPA: &commission.CPA{Amount: money.MustParse("-5", money.EUR)}}
	g := commission.Program{Affiliates: map[string][]commission.Version{"star": {{Plan: bad}}}}
	err := g.Validate()
	require.ErrorIs(t, err, commission.ErrInvalidPlan)
	require.EqualError(t, err, `commission: program: affiliates["star"][0]: plan "vip": cpa.amount: negative (-5.00 EUR)`)
	g.Period = "fortnight"
	g.Affiliates["star"][0].Plan.CPA.Amount = money.MustParse("5", money.EUR)
	require.EqualError(t, g.Validate(), `commission: invalid plan: program: period: unknown unit "fortnight" (want month, week or day)`)
}

func TestPlan_JSONRoundTrip_IBAndProp(t *testing.T) {
	t.Parallel()
	const src = `{"id":"fx","currency":"USD","rounding":"half_even",
	  "ib":{"symbols":[{"symbol":"XAUUSD","per_lot":{"amount":"15.00","currency":"USD"}},
	                   {"class":"fx","points":"0.5","point_size":"0.0001","contract_size":100000}],
	        "min_hold":"2m","spread":{"rate":"20%","contract_size":100000,"damp_above":"3"},
	        "tiers":[{"from":"0","multiplier":"1"},{"from":"100","multiplier":"1.25"}],"levels":["70%","20%"]},
	  "prop":{"sizes":[{"from":{"amount":"0","currency":"USD"},"amount":{"amount":"20","currency":"USD"}}],
	          "every":true,"funded":{"amount":"200","currency":"USD"},"clawback_refund":true}}`
	var p commission.Plan
	require.NoError(t, json.Unmarshal([]byte(src), &p))
	require.NoError(t, p.Validate())
	require.Equal(t, 2*time.Minute, p.IB.MinHold.Std())
	require.Equal(t, money.MustParseRate("0.7"), p.IB.Levels[0])
	out, err := json.Marshal(&p)
	require.NoError(t, err)
	var q commission.Plan
	require.NoError(t, json.Unmarshal(out, &q))
	require.Equal(t, p, q)
}
