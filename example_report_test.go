package s2s_test

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/s2skit/s2s"
	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/postback"
	"github.com/s2skit/s2s/store"
)

// A day's report of one affiliate: four clicks, a registration and an FTD, the rates
// exact, the CPA by rule, and the casino's revenue report of the player, who won.
func ExampleTracker_Report() {
	var cfg s2s.Config
	err := json.Unmarshal([]byte(`{
		"attribution": {"default": {"windows": {"default": "30d"}}},
		"commission": {"zone": "Europe/Malta", "default": [{"from": "2026-01-01T00:00:00Z", "plan": {"id": "cpa", "currency": "EUR",
			"cpa": {"amount": {"amount": "50.00", "currency": "EUR"}, "baseline": {}}}}]}
	}`), &cfg)
	if err != nil {
		panic(err)
	}
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	tr, err := s2s.New(nil, cfg, &s2s.Options{Now: func() time.Time { return now }})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	var first clickid.ID
	for i := range 4 {
		id, _ := clickid.New()
		if i == 0 {
			first = id
		}
		_ = tr.Store().InsertClick(ctx, store.Click{ID: id, AffiliateID: "aff-42", CampaignID: "spring", CreatedAt: now.Add(-2 * time.Hour)})
	}
	for _, ev := range []event.Type{event.Registration, event.FTD} {
		pb := postback.Postback{Source: "casino-x", ClickKind: postback.ClickNative, ClickID: first, PlayerID: "p-1",
			Event: ev, Status: event.StatusApproved, TransactionID: "TX-" + string(ev), ReceivedAt: now}
		if ev == event.FTD {
			pb.Amount, pb.HasAmount = money.MustParse("150.00", money.EUR), true
		}
		if _, err := tr.Receive(ctx, &pb); err != nil {
			panic(err)
		}
	}
	_, _ = tr.Store().RecordRevenue(ctx, store.RevenueFact{ID: [16]byte{1}, Source: "casino-x", TransactionID: "REV-1",
		AffiliateID: "aff-42", PlayerID: "p-1", CampaignID: "spring", OccurredAt: now, ReceivedAt: now,
		GGR: money.MustParse("-80.00", money.EUR)})

	rep, err := tr.Report(ctx, s2s.ReportQuery{AffiliateID: "aff-42", Period: commission.Day, From: now.Add(-time.Hour), To: now})
	if err != nil {
		panic(err)
	}
	for _, r := range rep.Rows {
		fmt.Println(r.Period.Start.Format("2006-01-02 MST"), r.AffiliateID, r.CampaignID)
		fmt.Println("clicks", r.Clicks, "registrations", r.Registrations, "ftds", r.FTDs, "ftd rate", r.FTDRate, "per registration", r.RegistrationFTDRate)
		for _, c := range r.Commission {
			fmt.Println(c.Rule, "net", c.Net)
		}
		for _, v := range r.Revenue {
			fmt.Println("ggr", v.GGR)
		}
	}
	// Output:
	// 2026-03-10 CET aff-42 spring
	// clicks 4 registrations 1 ftds 1 ftd rate 25.00% per registration 100.00%
	// cpa net 50.00 EUR
	// ggr -80.00 EUR
}
