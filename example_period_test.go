package s2s_test

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/s2skit/s2s"
	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/postback"
	"github.com/s2skit/s2s/store"
)

// A RevShare month: the casino's revenue reports of two players of aff-7 (one of whom won,
// so his GGR is negative), then the close of March, in the programme's zone, once its two
// days of grace are over. Closing again writes nothing.
func ExampleTracker_ClosePeriod() {
	var cfg s2s.Config
	err := json.Unmarshal([]byte(`{
		"attribution": {"default": {"lifetime": true, "windows": {"default": "30d"}}},
		"commission": {"zone": "Europe/Malta", "grace": "2d", "default": [{"from": "2026-01-01T00:00:00Z",
			"plan": {"id": "rs", "currency": "EUR", "revshare": {"rate": "30%", "carryover": "carry"}}}]}
	}`), &cfg)
	if err != nil {
		panic(err)
	}
	now := time.Date(2026, 3, 28, 12, 0, 0, 0, time.UTC)
	tr, err := s2s.New(nil, cfg, &s2s.Options{Now: func() time.Time { return now }})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	for _, p := range []string{"p-1", "p-2"} {
		_, _ = tr.Store().BindPlayer(ctx, store.PlayerBinding{PlayerID: p, AffiliateID: "aff-7", Method: store.BindManually, BoundAt: now.AddDate(0, -1, 0)})
	}
	// What a postback.Handler hands the Tracker for ?event=revenue&currency=EUR&ggr=...
	for _, r := range []struct{ player, txn, ggr string }{{"p-1", "R-1", "1200.00"}, {"p-2", "R-2", "-200.00"}} {
		pb := postback.Postback{Source: "casino-x", PlayerID: r.player, Event: event.Revenue, Status: event.StatusApproved, TransactionID: r.txn,
			Currency: money.EUR, Extra: []postback.Param{{Key: "ggr", Value: r.ggr}}, OccurredAt: now.AddDate(0, 0, -1), ReceivedAt: now}
		res, err := tr.Receive(ctx, &pb)
		fmt.Println(r.txn, res.Outcome, err)
	}

	loc, _ := time.LoadLocation("Europe/Malta")
	march := commission.PeriodOf(now, commission.Month, loc)
	fmt.Println(tr.ClosePeriod(ctx, march) != nil) // before April 3rd: still open
	now = time.Date(2026, 4, 3, 0, 0, 0, 0, loc)
	fmt.Println(tr.ClosePeriod(ctx, march), tr.ClosePeriod(ctx, march))
	lines, _ := tr.Store().ListLedgerLines(ctx, store.ListLedgerLinesParams{AffiliateID: "aff-7", By: store.ByStatementTime,
		From: march.Start, To: march.End})
	for _, l := range lines {
		fmt.Println(l.Kind, l.Rule, l.Amount, "of", l.Base)
	}
	// Output:
	// R-1 accepted <nil>
	// R-2 accepted <nil>
	// true
	// <nil> <nil>
	// accrual revshare 300.00 EUR of 1000.00 EUR
}
