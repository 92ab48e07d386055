package attribution_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/s2skit/s2s/attribution"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/store"
	"github.com/s2skit/s2s/store/memstore"
)

// A campaign pays at most 2 FTDs a day per affiliate, and records the others unpaid. The
// store enforces the cap atomically; the decision says what an FTD over it becomes.
func ExampleDecision_OverCap() {
	d, err := attribution.New(attribution.Config{Campaigns: []attribution.Campaign{{ID: "casino", Rules: attribution.Rules{
		Zone: "Europe/Malta",
		Caps: []attribution.Cap{{Name: "daily_ftd", Events: []event.Type{event.FTD}, Scope: attribution.CapPerAffiliate,
			Period: attribution.CapDay, Count: 2, Over: attribution.CapUnpaid}},
	}}}}, nil)
	if err != nil {
		panic(err)
	}
	st := memstore.New(nil)
	ctx := context.Background()
	at := time.Date(2026, 3, 29, 20, 0, 0, 0, time.UTC)
	k := store.Click{ID: cid(1), AffiliateID: "A-17", CampaignID: "casino", CreatedAt: at.Add(-time.Hour)}
	for i := range 3 {
		in := attribution.Input{Click: &k, Conversion: store.Conversion{
			ID: uuid.Must(uuid.NewV7()), Source: "casino-x", Event: event.FTD, ClickID: k.ID,
			PlayerID: fmt.Sprint("P-", i), TransactionID: fmt.Sprint("T-", i),
			Amount: money.MustParse("50.00", money.EUR), Status: event.StatusApproved,
			OccurredAt: at.Add(time.Duration(i) * time.Minute), ReceivedAt: at.Add(time.Hour),
		}}
		dec := d.Decide(&in)
		for {
			p := store.RecordConversionParams{Conversion: in.Conversion, Increments: dec.Increments(nil)}
			dec.Apply(&p.Conversion)
			_, err = st.RecordConversion(ctx, p)
			var limit *store.LimitError
			if errors.As(err, &limit) {
				if over, ok := dec.OverCap(limit.Counter); ok {
					dec = over // record it again, as the cap's policy says
					continue
				}
			}
			break
		}
		if err != nil {
			panic(err)
		}
		fmt.Printf("FTD %d: %s, %s, unpaid %t\n", i, dec.Status, dec.Code, dec.Unpaid)
	}
	n, _ := st.GetCounter(ctx, "cap:daily_ftd:aff=A-17:day=2026-03-29")
	fmt.Println("paid FTDs of A-17 on 29 March in Malta:", n)
	// Output:
	// FTD 0: approved, click, unpaid false
	// FTD 1: approved, click, unpaid false
	// FTD 2: approved, cap_reached, unpaid true
	// paid FTDs of A-17 on 29 March in Malta: 2
}
