package s2s_test

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/s2skit/s2s"
	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/postback"
	"github.com/s2skit/s2s/store"
)

// A Tracker in memory: a click, then the operator's FTD for it, received twice.
func ExampleTracker_Receive() {
	var cfg s2s.Config
	err := json.Unmarshal([]byte(`{
		"attribution": {"default": {"windows": {"default": "30d"}}},
		"commission": {"default": [{"from": "2026-01-01T00:00:00Z", "plan": {"id": "cpa", "currency": "EUR",
			"cpa": {"amount": {"amount": "50.00", "currency": "EUR"}, "baseline": {}}}}]}
	}`), &cfg)
	if err != nil {
		panic(err)
	}
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	tr, err := s2s.New(nil, cfg, &s2s.Options{Now: func() time.Time { return now }}) // nil: an in-memory store
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	click, err := clickid.New()
	if err != nil {
		panic(err)
	}
	_ = tr.Store().InsertClick(ctx, store.Click{ID: click, AffiliateID: "aff-42", CreatedAt: now.Add(-time.Hour)})

	// What a postback.Handler hands the Tracker once a postback parsed and verified.
	pb := postback.Postback{Source: "casino-x", ClickKind: postback.ClickNative, ClickID: click, PlayerID: "p-1",
		Event: event.FTD, Status: event.StatusApproved, TransactionID: "TX-1",
		Amount: money.MustParse("150.00", money.EUR), HasAmount: true, ReceivedAt: now}
	for range 2 {
		res, err := tr.Receive(ctx, &pb)
		fmt.Println(res.Outcome, err)
	}
	lines, _ := tr.Store().ListLedgerLines(ctx, store.ListLedgerLinesParams{AffiliateID: "aff-42", From: now.Add(-time.Hour), To: now.Add(time.Hour)})
	for _, l := range lines {
		fmt.Println(l.Rule, l.Amount, "for", l.PlayerID)
	}
	// Output:
	// accepted <nil>
	// duplicate <nil>
	// cpa 50.00 EUR for p-1
}

// A tracking link: Click records the click and returns where to send the visitor.
func ExampleTracker_Click() {
	var cfg s2s.Config
	err := json.Unmarshal([]byte(`{"clicks": {"campaigns": [
		{"id": "summer", "destination": "https://casino.example/land?cid={click_id}&s1={sub1}"}]}}`), &cfg)
	if err != nil {
		panic(err)
	}
	tr, err := s2s.New(nil, cfg, nil)
	if err != nil {
		panic(err)
	}
	res, err := tr.Click(context.Background(), s2s.ClickRequest{CampaignID: "summer", AffiliateID: "aff-42", SubIDs: []string{"//evil.example"}})
	if err != nil {
		panic(err)
	}
	c, _ := tr.Store().GetClick(context.Background(), res.ID)
	fmt.Println(res.URL == "https://casino.example/land?cid="+res.ID.String()+"&s1=%2F%2Fevil.example", c.AffiliateID)
	// Output:
	// true aff-42
}
