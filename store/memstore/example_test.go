package memstore_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/google/uuid"

	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/store"
	"github.com/s2skit/s2s/store/memstore"
)

// A sender retries a postback: the second record of the same dedup key is a duplicate, and
// the original comes back with it.
func Example() {
	ctx := context.Background()
	st := memstore.New()
	at := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

	record := func() (store.Conversion, error) {
		id := uuid.New()
		return st.RecordConversion(ctx, store.RecordConversionParams{
			Conversion: store.Conversion{
				ID: id, DedupKey: "network-a:ftd:TX-99812", Source: "network-a", Event: "ftd",
				PlayerID: "p-1", AffiliateID: "aff-42", TransactionID: "TX-99812",
				Amount: money.MustParse("150.00", money.EUR), Status: event.StatusPending,
				OccurredAt: at, ReceivedAt: at,
			},
			Ledger: []store.LedgerLine{{
				ID: uuid.New(), ConversionID: id, AffiliateID: "aff-42", Kind: store.LedgerAccrual,
				Amount: money.MustParse("50.00", money.EUR), Rule: "cpa", CreatedAt: at,
			}},
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
	fmt.Println(len(lines), lines[0].Amount)
	// Output:
	// true true
	// 1 50.00 EUR
}
