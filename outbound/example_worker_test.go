package outbound_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"time"

	"github.com/google/uuid"

	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/outbound"
	"github.com/s2skit/s2s/store"
	"github.com/s2skit/s2s/store/memstore"
)

// ExampleWorker records a conversion with a postback to an affiliate's tracker, and runs a
// worker that sends it.
func ExampleWorker() {
	// The affiliate's tracker (here on loopback, which the client is told to allow).
	tracker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Println("tracker got: status", r.URL.Query().Get("status"), "payout", r.URL.Query().Get("payout"))
	}))
	defer tracker.Close()

	ep := &outbound.Endpoint{
		Name:      "aff-42",
		URL:       tracker.URL + "/postback?cid={foreign_click_id}&status={status}&payout={payout}&eid={event_id}",
		AllowHTTP: true, // loopback in this example; real endpoints are https
	}
	if err := ep.Compile(); err != nil {
		panic(err)
	}

	// The conversion and its delivery are written together.
	st := memstore.New(nil)
	now := time.Now()
	conv := store.Conversion{
		ID: uuid.New(), DedupKey: "casino:ftd:T1", Source: "casino", Event: event.FTD,
		ForeignClickID: "trk-8812", PlayerID: "p-1", AffiliateID: "aff-42", TransactionID: "T1",
		Amount: money.New(15000, money.EUR), Status: event.StatusApproved, OccurredAt: now, ReceivedAt: now,
	}
	v := outbound.ValuesOf(conv, money.New(5000, money.EUR))
	v.EventID = uuid.New()
	d, err := ep.Delivery(v, now)
	if err != nil {
		panic(err)
	}
	if _, err := st.RecordConversion(context.Background(), store.RecordConversionParams{Conversion: conv, Deliveries: []store.Delivery{d}}); err != nil {
		panic(err)
	}

	results := make(chan outbound.Result, 1)
	w, err := outbound.NewWorker(st, outbound.Endpoints{ep}.Lookup(), &outbound.WorkerOptions{
		Client:   outbound.NewClient(&outbound.ClientOptions{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}),
		OnResult: func(r outbound.Result) { results <- r },
	})
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- w.Run(ctx) }()

	r := <-results
	fmt.Println("delivery:", r.Delivery.Status, "after", len(r.Delivery.Attempts), "attempt, HTTP", r.Attempt.StatusCode)
	cancel()
	fmt.Println("worker:", <-done)
	// Output:
	// tracker got: status approved payout 50.00
	// delivery: delivered after 1 attempt, HTTP 200
	// worker: context canceled
}
