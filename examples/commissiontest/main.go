// Command commissiontest shows how an operator tests its own affiliate deal: the deal is data
// (the JSON below, as it would come from a configuration store), a scenario is a list of
// events, and commission.Replay computes the ledger and the statements without storing
// anything. Run it with
//
//	go run ./examples/commissiontest
//
// and read main_test.go for the unit tests of the deal: every amount asserted, every rule
// explained.
package main

import (
	"encoding/json"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
)

// dealJSON is the programme: a hybrid deal (CPA €100 after a €20 FTD within 30 days of
// registration, plus 30% RevShare on MGA NGR carried forward when negative), raised to 35%
// from April, and a VIP override for the affiliate "star". Statements are monthly in Malta.
// Amounts are plain strings in each plan's currency, and "mga" names the MGA NGR formula.
const dealJSON = `{
  "zone": "Europe/Malta",
  "period": "month",
  "default": [
    {"from": "2026-01-01T00:00:00+01:00", "plan": {
      "id": "hybrid-2026", "currency": "EUR", "rounding": "half_even",
      "cpa": {"amount": "100.00", "baseline": {"min_ftd": "20.00", "within": "30d"}},
      "revshare": {"rate": "30%", "carryover": "carry", "ngr": "mga"}}},
    {"from": "2026-04-01T00:00:00+02:00", "plan": {
      "id": "hybrid-2026-q2", "currency": "EUR", "rounding": "half_even",
      "cpa": {"amount": "100.00", "baseline": {"min_ftd": "20.00", "within": "30d"}},
      "revshare": {"rate": "35%", "carryover": "carry", "ngr": "mga"}}}
  ],
  "affiliates": {
    "star": [{"from": "2026-01-01T00:00:00+01:00", "plan": {
      "id": "star-vip", "currency": "EUR",
      "cpa": {"amount": "150.00", "hold": "14d"}}}]
  }
}`

// LoadDeal decodes and validates the programme.
func LoadDeal(data []byte) (*commission.Program, error) {
	var g commission.Program
	if err := json.Unmarshal(data, &g); err != nil {
		return nil, fmt.Errorf("decode deal: %w", err)
	}
	if err := g.Validate(); err != nil {
		return nil, err
	}
	return &g, nil
}

// Scenario is a quarter of events: two players for "aff-1", one for "star", a chargeback.
func Scenario() []commission.Event {
	malta, err := time.LoadLocation("Europe/Malta")
	if err != nil {
		panic(err) // the examples need the system's time zone database
	}
	at := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 12, 0, 0, 0, malta) }
	eur := func(s string) money.Amount { return money.MustParse(s, money.EUR) }
	return []commission.Event{
		{ID: "reg-1", Type: event.Registration, At: at(3, 2), AffiliateID: "aff-1", PlayerID: "p1", Country: "MT"},
		{ID: "dep-1", Type: event.Deposit, At: at(3, 3), AffiliateID: "aff-1", PlayerID: "p1", Amount: eur("50.00")},
		{ID: "reg-2", Type: event.Registration, At: at(3, 5), AffiliateID: "aff-1", PlayerID: "p2", Country: "DE"},
		{ID: "dep-2", Type: event.Deposit, At: at(3, 6), AffiliateID: "aff-1", PlayerID: "p2", Amount: eur("10.00")}, // below the FTD minimum
		{ID: "rev-1", Type: event.Revenue, At: at(3, 31), AffiliateID: "aff-1", PlayerID: "p1",
			Revenue: commission.Revenue{GGR: eur("-1200.00"), Bonuses: eur("50.00")}}, // a big winner: NGR −1050
		{ID: "rev-2", Type: event.Revenue, At: at(4, 30), AffiliateID: "aff-1", PlayerID: "p1",
			Revenue: commission.Revenue{GGR: eur("3000.00"), Bonuses: eur("100.00"), Deposits: eur("2000.00"), Withdrawals: eur("500.00")}},
		{ID: "reg-3", Type: event.Registration, At: at(3, 20), AffiliateID: "star", PlayerID: "p3"},
		{ID: "dep-3", Type: event.Deposit, At: at(3, 21), AffiliateID: "star", PlayerID: "p3", Amount: eur("500.00")},
		{ID: "cb-3", Type: event.Reversal, At: at(4, 2), AffiliateID: "star", PlayerID: "p3", Reverses: "dep-3"},
	}
}

func main() {
	log.SetFlags(0)
	g, err := LoadDeal([]byte(dealJSON))
	if err != nil {
		log.Fatal(err)
	}
	res, err := commission.Replay(g, Scenario(), nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range res.Statements {
		fmt.Printf("== %s, %s: %s (carry in %s, carry out %s)\n", s.AffiliateID, s.Period.Start.Format("January 2006"), s.Total, s.CarryIn, s.CarryOut)
		for _, l := range s.Lines {
			fmt.Print(l.Explain())
		}
	}
	for _, l := range res.UnpaidCPA {
		fmt.Printf("== no CPA for %s (%s): %s, at event %s\n", l.PlayerID, l.AffiliateID, l.Reason, l.EventID)
	}
	// A line as a store keeps it: its fields and the detail that explains it.
	if err := json.NewEncoder(os.Stdout).Encode(res.Statements[0].Lines[0]); err != nil {
		log.Fatal(err)
	}
}
