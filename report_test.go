package s2s_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s"
	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/store"
	"github.com/s2skit/s2s/store/memstore"
)

// fillReport sends, through the postback handler, a registration and two FTDs of aff-1's
// three clicks (two CPAs of 50.00 EUR), then writes a reversal of one CPA, an adjustment
// and a revenue report with its correction to the store: the records of the report tests.
func fillReport(t *testing.T, f *fixture) {
	t.Helper()
	clicks := []clickid.ID{
		f.click(t, "aff-1", seamNow.Add(-3*time.Hour)), f.click(t, "aff-1", seamNow.Add(-3*time.Hour)),
		f.click(t, "aff-1", seamNow.Add(-3*time.Hour)),
	}
	f.click(t, "aff-2", seamNow.Add(-3*time.Hour))
	require.Equal(t, http.StatusAccepted, f.send(t, registration(clicks[0], "p-1", "REG-1", seamNow.Add(-90*time.Minute))))
	q1 := ftd(clicks[0], "p-1", "TX-1")
	require.Equal(t, http.StatusAccepted, f.send(t, q1))
	require.Equal(t, http.StatusAccepted, f.send(t, ftd(clicks[1], "p-2", "TX-2")))

	c1 := f.conversion(t, q1)
	lines, err := f.st.ListConversionLines(t.Context(), store.ListConversionLinesParams{ConversionID: c1.ID})
	require.NoError(t, err)
	require.Len(t, lines, 1)
	back := lines[0]
	back.ID, back.CreatedAt = uuid.New(), seamNow
	back.Kind, back.Reverses, back.EventID, back.At, back.Payable = commission.KindClawback, back.EventID, back.EventID+"/refund", seamNow, seamNow
	back.Amount, back.Base = money.New(-back.Amount.Minor(), money.EUR), money.New(-back.Base.Minor(), money.EUR)
	adj := store.LedgerLine{ID: uuid.New(), CreatedAt: seamNow, Line: commission.Line{Kind: commission.KindAdjustment,
		Rule: commission.RuleAdjustment, AffiliateID: "aff-1", At: seamNow, Payable: seamNow,
		Amount: money.New(-1_000, money.EUR), Base: money.New(0, money.EUR)}}
	require.NoError(t, f.st.InsertLedgerLines(t.Context(), store.InsertLedgerLinesParams{Lines: []store.LedgerLine{back, adj}}))

	fact := store.RevenueFact{ID: uuid.New(), Source: "casino", TransactionID: "R-1", AffiliateID: "aff-1", PlayerID: "p-1",
		OccurredAt: seamNow.Add(-time.Hour), ReceivedAt: seamNow, GGR: money.New(-5_000, money.EUR)}
	_, err = f.st.RecordRevenue(t.Context(), fact)
	require.NoError(t, err)
	fix := fact
	fix.ID, fix.TransactionID, fix.Corrects, fix.GGR = uuid.New(), "R-1b", "R-1", money.New(-4_000, money.EUR)
	_, err = f.st.RecordRevenue(t.Context(), fix)
	require.NoError(t, err)
}

// TestTracker_Report: the report of aff-1's day counts its clicks, its registration and its
// FTDs with exact rates, the revenue in force (the corrected report once, as corrected, a
// player's winnings negative), and the CPA by rule net of its clawback, beside the
// adjustment; on both stores.
func TestTracker_Report(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st store.Store) {
		f := newFixture(t, st)
		fillReport(t, f)
		malta, err := time.LoadLocation("Europe/Malta")
		require.NoError(t, err)
		rep, err := f.tr.Report(t.Context(), s2s.ReportQuery{AffiliateID: "aff-1", Period: commission.Day, Zone: "Europe/Malta",
			From: seamNow.Add(-24 * time.Hour), To: seamNow})
		require.NoError(t, err)
		require.Equal(t, commission.Day, rep.Period)
		require.Equal(t, "Europe/Malta", rep.Zone)
		day := commission.PeriodOf(seamNow, commission.Day, malta)
		require.Len(t, rep.Periods, 2, "rule: the report has the whole periods that its range touches")
		require.Equal(t, day, rep.Periods[1])

		eur := func(m int64) money.Amount { return money.New(m, money.EUR) }
		require.Equal(t, []s2s.ReportRow{{
			Period: day, AffiliateID: "aff-1", Clicks: 3, Registrations: 1, FTDs: 2,
			RegistrationRate: store.Ratio{Num: 1, Den: 3}, FTDRate: store.Ratio{Num: 2, Den: 3}, RegistrationFTDRate: store.Ratio{Num: 2, Den: 1},
			Events: []s2s.EventCount{
				{Event: event.FTD, Status: event.StatusApproved, Count: 2},
				{Event: event.Registration, Status: event.StatusApproved, Count: 1},
			},
			Revenue: []s2s.RevenueTotal{{Facts: 1, GGR: eur(-4_000), Bonuses: eur(0), Fees: eur(0), Taxes: eur(0), Deposits: eur(0), Withdrawals: eur(0)}},
			Commission: []s2s.CommissionTotal{
				{Rule: commission.RuleCPA, Lines: 3, Accrued: eur(10_000), Adjusted: eur(0), TakenBack: eur(-5_000), Net: eur(5_000)},
				{Rule: commission.RuleAdjustment, Lines: 1, Accrued: eur(0), Adjusted: eur(-1_000), TakenBack: eur(0), Net: eur(-1_000)},
			},
		}}, rep.Rows)

		all, err := f.tr.Report(t.Context(), s2s.ReportQuery{From: seamNow.Add(-time.Hour), To: seamNow})
		require.NoError(t, err)
		require.Equal(t, commission.Month, all.Period, "rule: a programme without a period reports by month")
		require.Equal(t, "UTC", all.Zone, "rule: a programme without a zone reports in UTC")
		require.Len(t, all.Rows, 2, "rule: a report of every affiliate has a row per affiliate")
		require.Equal(t, "aff-2", all.Rows[1].AffiliateID)
		require.Equal(t, int64(1), all.Rows[1].Clicks)
		require.Equal(t, store.Ratio{Num: 0, Den: 1}, all.Rows[1].FTDRate)

		camp, err := f.tr.Report(t.Context(), s2s.ReportQuery{CampaignID: "camp-x", Period: commission.Day, From: seamNow.Add(-time.Hour), To: seamNow})
		require.NoError(t, err)
		require.Equal(t, "Europe/Malta", camp.Zone, "rule: a campaign's report is in its zone (here the default rules', for a campaign not listed)")
		require.Equal(t, day, camp.Periods[0], "rule: its days are the campaign's days")
		require.Empty(t, camp.Rows, "rule: a campaign's report has only its rows")

		js, err := json.Marshal(rep.Rows[0])
		require.NoError(t, err)
		require.Contains(t, string(js), `"ftd_rate":{"num":2,"den":3,"bps":6667}`, "rule: rates are exact in JSON, with basis points")
		require.Contains(t, string(js), `"ggr":{"amount":"-40.00","currency":"EUR"}`, "rule: money is a decimal string in JSON")
		require.Contains(t, string(js), `"taken_back":{"amount":"-50.00","currency":"EUR"}`)
	})
}

// TestTracker_ReportRefusesBadQueries: each bad query is ErrInvalidQuery, naming its field.
func TestTracker_ReportRefusesBadQueries(t *testing.T) {
	t.Parallel()
	f := newFixture(t, memstore.New(nil))
	for name, q := range map[string]s2s.ReportQuery{
		"NoRange":        {},
		"Backwards":      {From: seamNow, To: seamNow.Add(-time.Hour)},
		"Empty":          {From: seamNow, To: seamNow},
		"UnknownPeriod":  {Period: "year", From: seamNow.Add(-time.Hour), To: seamNow},
		"UnknownZone":    {Zone: "Mars/Olympus", From: seamNow.Add(-time.Hour), To: seamNow},
		"LocalZone":      {Zone: "Local", From: seamNow.Add(-time.Hour), To: seamNow},
		"TooManyPeriods": {Period: commission.Day, From: seamNow.AddDate(-3, 0, 0), To: seamNow},
		"BadAffiliateID": {AffiliateID: "a\x00", From: seamNow.Add(-time.Hour), To: seamNow},
		"LongCampaignID": {CampaignID: string(make([]byte, store.MaxKeyLen+1)), From: seamNow.Add(-time.Hour), To: seamNow},
	} {
		_, err := f.tr.Report(t.Context(), q)
		require.ErrorIs(t, err, s2s.ErrInvalidQuery, name)
	}
}
