package store_test

import (
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/google/uuid"

	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/store"
)

// A ledger line is a commission line with the identity a store gives it: what commission
// computed is what is stored, and the store's rules are checked once, by Validate.
func ExampleLedgerLine() {
	at := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	plan := &commission.Plan{ID: "default", Currency: money.EUR, CPA: &commission.CPA{
		Amount: money.MustParse("50.00", money.EUR), Hold: commission.Duration(7 * 24 * time.Hour),
	}}
	cpa, err := plan.CPALine(commission.CPAInput{AffiliateID: "aff-42", PlayerID: "p-1", EventID: "TX-1", At: at, FTD: money.MustParse("150.00", money.EUR)})
	if err != nil {
		log.Fatal(err)
	}
	line := store.LedgerLine{ID: uuid.New(), ConversionID: uuid.New(), CreatedAt: at, Line: cpa}
	fmt.Println(line.Validate())
	fmt.Println(line.Kind, line.Rule, line.Amount, "in the statement of", line.StatementTime().Format(time.DateOnly))

	// A carryover keeps its balance in Base and a zero Amount.
	carry := line
	carry.Kind, carry.Amount = commission.KindCarryover, money.MustParse("-12.00", money.EUR)
	fmt.Println(errors.Is(carry.Validate(), store.ErrInvalid))

	// Every line has a base: an adjustment's, which applies no rule to anything, is zero in
	// its currency. The zero money.Amount, which has no currency, is no base.
	adj := store.LedgerLine{ID: uuid.New(), CreatedAt: at, Line: commission.Line{
		Kind: commission.KindAdjustment, Rule: commission.RuleAdjustment, AffiliateID: "aff-42", At: at, Payable: at,
		Amount: money.MustParse("-5.00", money.EUR), Base: money.New(0, money.EUR),
	}}
	fmt.Println(adj.Validate())
	adj.Base = money.Amount{}
	fmt.Println(errors.Is(adj.Validate(), store.ErrInvalid))
	// Output:
	// <nil>
	// accrual cpa 50.00 EUR in the statement of 2026-11-30
	// true
	// <nil>
	// true
}

// A batch is validated whole before anything is written: one ID given twice refuses it.
func ExampleInsertClicksParams_Validate() {
	at := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	id := clickid.MustParse("06enwx3m8zc6w83y6r5qzq2c3r")
	c := store.Click{ID: id, AffiliateID: "aff-42", CreatedAt: at}
	err := store.InsertClicksParams{Clicks: []store.Click{c, c}}.Validate()
	fmt.Println(errors.Is(err, store.ErrInvalid))
	fmt.Println(err)
	// Output:
	// true
	// store: invalid: insert clicks: click 1 of the batch has the ID of click 0, 06enwx3m8zc6w83y6r5qzq2c3r
}

// A sender that gives no event time: the conversion keeps OccurredAt zero, as sent, and is
// placed at its receive time. The sender's retry, received 30 seconds later, says the same
// things, so a store finds it a duplicate.
func ExampleConversion_EventTime() {
	received := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	c := store.Conversion{ID: uuid.New(), DedupKey: "v1:reg-p-1", Source: "network-a", Event: event.Registration,
		PlayerID: "p-1", Status: event.StatusApproved, ReceivedAt: received}
	retry := c
	retry.ReceivedAt = received.Add(30 * time.Second)
	fmt.Println(c.Validate())
	fmt.Println(c.EventTime().Format(time.TimeOnly), c.SameContent(retry))

	// With an event time, that is the conversion's place, and a retry must repeat it.
	c.OccurredAt = received.Add(-time.Hour)
	fmt.Println(c.EventTime().Format(time.TimeOnly), c.SameContent(retry))
	// Output:
	// <nil>
	// 12:00:00 true
	// 11:00:00 false
}
