package commission_test

import (
	"encoding/json"
	"testing"

	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/money"
	"github.com/stretchr/testify/require"
)

// plainJSON is a plan as an operator writes it: amounts as plain strings in the plan's
// currency, first tiers without "from", the NGR formula by name.
const plainJSON = `{
  "id": "vip", "currency": "EUR",
  "cpa": {"amount": "100.00", "countries": [{"country": "DE", "amount": "150"}],
          "tiers": [{"amount": "100"}, {"from": 11, "amount": "120"}],
          "baseline": {"min_ftd": "20", "min_deposits": "50.5"}, "cap": {"amount": "5000.00"}},
  "revshare": {"tiers": [{"rate": "25%"}, {"from": "10000", "rate": "30%"}], "ngr": "mga",
               "carryover": "ring_fence", "high_roller": "2500"},
  "ib": {"symbols": [{"per_lot": "5"}]},
  "prop": {"sizes": [{"amount": "20"}, {"from": "50000", "amount": "60"}], "funded": "200"}
}`

// explicitJSON is the same plan in the explicit form Plan encodes to.
const explicitJSON = `{
  "id": "vip", "currency": "EUR",
  "cpa": {"amount": {"amount": "100.00", "currency": "EUR"},
          "countries": [{"country": "DE", "amount": {"amount": "150", "currency": "EUR"}}],
          "tiers": [{"from": 1, "amount": {"amount": "100", "currency": "EUR"}}, {"from": 11, "amount": {"minor": 12000, "currency": "EUR"}}],
          "baseline": {"min_ftd": {"amount": "20", "currency": "EUR"}, "min_deposits": {"amount": "50.50", "currency": "EUR"}},
          "cap": {"amount": {"amount": "5000", "currency": "EUR"}}},
  "revshare": {"tiers": [{"from": {"amount": "0", "currency": "EUR"}, "rate": "25%"},
                         {"from": {"amount": "10000", "currency": "EUR"}, "rate": "30%"}],
               "ngr": [{"field": "ggr", "rate": "83.5%"}, {"field": "bonuses", "rate": "-1"},
                       {"field": "deposits", "rate": "-10%"}, {"field": "withdrawals", "rate": "-10%"}],
               "carryover": "ring_fence", "high_roller": {"amount": "2500", "currency": "EUR"}},
  "ib": {"symbols": [{"per_lot": {"amount": "5", "currency": "EUR"}}]},
  "prop": {"sizes": [{"from": {"amount": "0", "currency": "EUR"}, "amount": {"amount": "20", "currency": "EUR"}},
                     {"from": {"amount": "50000", "currency": "EUR"}, "amount": {"amount": "60", "currency": "EUR"}}],
           "funded": {"amount": "200", "currency": "EUR"}}
}`

func TestPlan_JSONAsAnOperatorWritesIt(t *testing.T) {
	t.Parallel()
	var plain, explicit commission.Plan
	require.NoError(t, json.Unmarshal([]byte(plainJSON), &plain))
	require.NoError(t, json.Unmarshal([]byte(explicitJSON), &explicit))
	require.NoError(t, plain.Validate())
	require.Equal(t, explicit, plain)
	require.Equal(t, eur("50.50"), plain.CPA.Baseline.MinDeposits)
	require.Equal(t, int64(1), plain.CPA.Tiers[0].From, "a first CPA tier starts at the first player")
	require.Equal(t, eur("0"), plain.RevShare.Tiers[0].From, "a first band starts at zero")
	require.Equal(t, eur("0"), plain.Prop.Sizes[0].From)
	require.Equal(t, mga, plain.RevShare.NGR)

	out, err := json.Marshal(&plain)
	require.NoError(t, err)
	require.Contains(t, string(out), `"amount":{"amount":"100.00","currency":"EUR"}`, "encoded explicitly")
	var back commission.Plan
	require.NoError(t, json.Unmarshal(out, &back))
	require.Equal(t, plain, back)

	// Through a program, as a whole programme is configured.
	var g commission.Program
	require.NoError(t, json.Unmarshal([]byte(`{"default":[{"from":"2026-01-01T00:00:00Z","plan":`+plainJSON+`}]}`), &g))
	require.NoError(t, g.Validate())
	require.Equal(t, plain, g.Default[0].Plan)
}

func TestPlan_JSONRefusals(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, json, want string
	}{
		{"plain amount without a currency", `{"id":"x","cpa":{"amount":"100"}}`,
			`commission: plan "x": cpa.amount: amount "100" as a plain string needs the plan's currency`},
		{"plain amount with an unknown currency", `{"id":"x","currency":"XYZ","cpa":{"amount":"100"}}`,
			`commission: plan "x": cpa.amount: amount "100" as a plain string needs the plan's currency`},
		{"plain amount with too many decimals", `{"id":"x","currency":"EUR","cpa":{"baseline":{"min_ftd":"20.001"}}}`, ""},
		{"plain amount as a number", `{"id":"x","currency":"EUR","cpa":{"amount":100}}`, ""},
		{"unknown formula", `{"id":"x","currency":"EUR","revshare":{"ngr":"gibraltar"}}`, ""},
		{"bad duration", `{"id":"x","currency":"EUR","cpa":{"hold":"soon"}}`, ""},
		{"misspelt requirement", `{"id":"x","currency":"EUR","cpa":{"amount":"100","baseline":{"minftd":"20"}}}`,
			`commission: invalid plan: plan "x": json: unknown field "minftd"`},
		{"misspelt term", `{"id":"x","currency":"EUR","revshare":{"ngr":[{"field":"ggr","rat":"1"}]}}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var p commission.Plan
			err := json.Unmarshal([]byte(tc.json), &p)
			require.ErrorIs(t, err, commission.ErrInvalidPlan)
			require.Regexp(t, `^commission: `, err.Error())
			if tc.want != "" {
				require.EqualError(t, err, tc.want)
			}
		})
	}
}

func TestNamedFormula(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]commission.Formula{commission.FormulaMGA: mga, commission.FormulaOntario: ontario} {
		f, err := commission.NamedFormula(name)
		require.NoError(t, err)
		require.Equal(t, want, f, name)
		f[0].Rate = money.MustParseRate("1") // a copy: changing it changes no preset
		again, err := commission.NamedFormula(name)
		require.NoError(t, err)
		require.Equal(t, want, again)

		var r commission.RevShare
		require.NoError(t, json.Unmarshal([]byte(`{"rate":"30%","ngr":"`+name+`"}`), &r))
		require.Equal(t, want, r.NGR)
	}
	_, err := commission.NamedFormula("malta")
	require.ErrorIs(t, err, commission.ErrInvalidPlan)
}

func TestProgram_JSONIsStrict(t *testing.T) {
	t.Parallel()
	var g commission.Program
	err := json.Unmarshal([]byte(`{"default":[{"form":"2026-01-01T00:00:00Z","plan":{"id":"p","currency":"EUR","cpa":{"amount":"1"}}}]}`), &g)
	require.ErrorIs(t, err, commission.ErrInvalidPlan)
	require.EqualError(t, err, `commission: invalid plan: program: json: unknown field "form"`)
	err = json.Unmarshal([]byte(`{"default":[{"from":"2026-01-01T00:00:00Z","plan":{"id":"p","currency":"EUR","cpa":{"amount":"1","hold":"1x"}}}]}`), &g)
	require.ErrorIs(t, err, commission.ErrInvalidPlan)
	require.Regexp(t, `^commission: plan "p": invalid plan: duration "1x"`, err.Error())
}
