package memstore_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/google/uuid"

	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/store"
	"github.com/s2skit/s2s/store/memstore"
)

// A sender retries a postback: the second record of the same dedup key is a duplicate, and
// the original comes back with it. The CPA line that the first record stored reads back as
// the commission line it was, and explains itself.
func Example() {
	ctx := context.Background()
	st := memstore.New(nil)
	at := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	plan := &commission.Plan{ID: "default", Currency: money.EUR, CPA: &commission.CPA{Amount: money.MustParse("50.00", money.EUR)}}

	record := func() (store.Conversion, error) {
		id := uuid.New()
		cpa, err := plan.CPALine(commission.CPAInput{
			AffiliateID: "aff-42", PlayerID: "p-1", EventID: "TX-99812", At: at, FTD: money.MustParse("150.00", money.EUR),
		})
		if err != nil {
			return store.Conversion{}, err
		}
		return st.RecordConversion(ctx, store.RecordConversionParams{
			Conversion: store.Conversion{
				ID: id, DedupKey: "network-a:ftd:TX-99812", Source: "network-a", Event: event.FTD,
				PlayerID: "p-1", AffiliateID: "aff-42", TransactionID: "TX-99812",
				Amount: money.MustParse("150.00", money.EUR), Status: event.StatusPending,
				OccurredAt: at, ReceivedAt: at,
			},
			Ledger: []store.LedgerLine{{ID: uuid.New(), ConversionID: id, CreatedAt: at, Line: cpa}},
		})
	}

	first, err := record()
	if err != nil {
		log.Fatal(err)
	}
	again, err := record()
	fmt.Println(errors.Is(err, store.ErrDuplicate), again.ID == first.ID)

	lines, err := st.ListLedgerLines(ctx, store.ListLedgerLinesParams{AffiliateID: "aff-42", From: at, To: at.Add(time.Hour)})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(lines), lines[0].Kind, lines[0].Rule, lines[0].Amount)
	// Output:
	// true true
	// 1 accrual cpa 50.00 EUR
}
