package main

import (
	"encoding/json"
	"testing"

	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/commission/commissiontest"
	"github.com/s2skit/s2s/money"
	"github.com/stretchr/testify/require"
)

// These are the tests an operator writes for its own deal: they pin every amount, so a
// change to the deal's JSON that changes what anyone is paid fails here first.

func replay(t *testing.T, events []commission.Event) *commission.ReplayResult {
	t.Helper()
	g, err := LoadDeal([]byte(dealJSON))
	require.NoError(t, err)
	res, err := commission.Replay(g, events, nil)
	require.NoError(t, err)
	return res
}

func statement(t *testing.T, res *commission.ReplayResult, affiliate, month string) commission.Statement {
	t.Helper()
	for _, s := range res.Statements {
		if s.AffiliateID == affiliate && s.Period.Start.Format("2006-01") == month {
			return s
		}
	}
	t.Fatalf("no statement for %s in %s", affiliate, month)
	return commission.Statement{}
}

func TestDeal_Statements(t *testing.T) {
	t.Parallel()
	res := replay(t, Scenario())
	for _, tc := range []struct {
		affiliate, month string
		total, carryOut  string
	}{
		// March: one CPA (p2's FTD is below €20); p1's NGR is −1200×0.835 − 50 = −1052,
		// carried forward.
		{"aff-1", "2026-03", "100.00 EUR", "-1052.00 EUR"},
		// April, plan q2 (35%): NGR 3000×0.835 − 100 − 2500×0.1 = 2155, less 1052 carried =
		// 1103 → 386.05.
		{"aff-1", "2026-04", "386.05 EUR", "0.00 EUR"},
		// star's CPA is held 14 days, so it lands in April, together with its chargeback.
		{"star", "2026-04", "0.00 EUR", "0.00 EUR"},
	} {
		t.Run(tc.affiliate+" "+tc.month, func(t *testing.T) {
			t.Parallel()
			s := statement(t, res, tc.affiliate, tc.month)
			require.Equal(t, tc.total, s.Total.String())
			require.Equal(t, tc.carryOut, s.CarryOut.String())
		})
	}
}

func TestDeal_PlanChangeAppliesFromItsDate(t *testing.T) {
	t.Parallel()
	s := statement(t, replay(t, Scenario()), "aff-1", "2026-04")
	rs := s.Lines[len(s.Lines)-1]
	require.Equal(t, commission.RuleRevShare, rs.Rule)
	require.Equal(t, "hybrid-2026-q2", rs.Plan)
	require.Equal(t, money.MustParseRate("35%"), rs.Rate)
	require.Contains(t, rs.Explain(), "carried in: -1052.00 EUR")
}

func TestDeal_CPAQualification(t *testing.T) {
	t.Parallel()
	res := replay(t, Scenario())
	var cpa []string
	for _, l := range res.Ledger {
		if l.Rule == commission.RuleCPA {
			cpa = append(cpa, l.Kind.String()+" "+l.PlayerID+" "+l.Amount.String())
		}
	}
	require.Equal(t, []string{"accrual p1 100.00 EUR", "accrual p3 150.00 EUR", "reversal p3 -150.00 EUR"}, cpa)
}

func TestDeal_RefusesUnconvertedCurrency(t *testing.T) {
	t.Parallel()
	events := Scenario()
	events[1].Amount = money.MustParse("50.00", money.USD)
	g, err := LoadDeal([]byte(dealJSON))
	require.NoError(t, err)
	_, err = commission.Replay(g, events, nil)
	require.ErrorIs(t, err, commission.ErrCurrency)
}

func TestDeal_CompareWithAProposal(t *testing.T) {
	t.Parallel()
	current, err := LoadDeal([]byte(dealJSON))
	require.NoError(t, err)
	proposal, err := LoadDeal([]byte(dealJSON))
	require.NoError(t, err)
	proposal.Default[1].Plan.RevShare.Rate = money.MustParseRate("40%")
	a, b, err := commission.Compare(current, proposal, Scenario(), nil)
	require.NoError(t, err)
	require.Equal(t, "386.05 EUR", statement(t, a, "aff-1", "2026-04").Total.String())
	require.Equal(t, "441.20 EUR", statement(t, b, "aff-1", "2026-04").Total.String()) // 1103 × 40%
}

func TestDeal_WhyNoCPA(t *testing.T) {
	t.Parallel()
	res := replay(t, Scenario())
	require.Len(t, res.UnpaidCPA, 1)
	l := res.UnpaidCPA[0]
	require.Equal(t, "p2", l.PlayerID)
	require.Equal(t, "baseline.min_ftd", l.Reason, "p2's FTD of €10 is below €20")
	require.Equal(t, "dep-2", l.EventID)
}

// TestDeal_StoredLedger: the ledger kept as JSON (as a store keeps it) gives back the same
// statements, and every line explains itself as it did.
func TestDeal_StoredLedger(t *testing.T) {
	t.Parallel()
	g, err := LoadDeal([]byte(dealJSON))
	require.NoError(t, err)
	res := replay(t, Scenario())
	stored, err := json.Marshal(res.Ledger)
	require.NoError(t, err)
	var lines []commission.Line
	require.NoError(t, json.Unmarshal(stored, &lines))
	st, err := commission.Statements(g, lines, nil)
	require.NoError(t, err)
	require.Equal(t, commissiontest.InUTC(res.Statements), commissiontest.InUTC(st))
	for i, l := range lines {
		require.Equal(t, res.Ledger[i].Explain(), l.Explain())
	}
}
