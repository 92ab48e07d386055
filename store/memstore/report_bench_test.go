package memstore_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/store"
	"github.com/s2skit/s2s/store/memstore"
)

// BenchmarkReport: one affiliate's month in four weeks, of 40 affiliates' 3,000 clicks,
// conversions (each with a CPA line) and revenue facts over 90 days: Aggregate beside the
// baseline a user without it writes, paging through the affiliate's conversions, ledger
// lines and revenue facts and counting them (it cannot count clicks: no listing exists).
//
//	go test -run=NONE -bench=Report -benchmem ./store/memstore/
func BenchmarkReport(b *testing.B) {
	const affiliates, per = 40, 3000
	st := memstore.New(nil)
	ctx := b.Context()
	t0 := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	n := affiliates * per
	for i := range n {
		at := t0.Add(time.Duration(i) * ((90 * 24 * time.Hour) / time.Duration(n)))
		aff, camp := fmt.Sprintf("aff-%d", i%affiliates), fmt.Sprintf("camp-%d", i%3)
		id, err := clickid.New()
		if err != nil {
			b.Fatal(err)
		}
		if err := st.InsertClick(ctx, store.Click{ID: id, AffiliateID: aff, CampaignID: camp, CreatedAt: at}); err != nil {
			b.Fatal(err)
		}
		conv := uuid.New()
		_, err = st.RecordConversion(ctx, store.RecordConversionParams{Conversion: store.Conversion{ID: conv, DedupKey: fmt.Sprint("k", i),
			Event: event.FTD, PlayerID: fmt.Sprint("p", i), AffiliateID: aff, CampaignID: camp, Status: event.StatusApproved,
			OccurredAt: at, ReceivedAt: at},
			Ledger: []store.LedgerLine{{ID: uuid.New(), ConversionID: conv, CreatedAt: at, Line: commission.Line{Kind: commission.KindAccrual,
				Rule: commission.RuleCPA, AffiliateID: aff, At: at, Payable: at, Amount: money.New(5000, money.EUR), Base: money.New(0, money.EUR)}}}})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := st.RecordRevenue(ctx, store.RevenueFact{ID: uuid.New(), Source: "src", TransactionID: fmt.Sprint("r", i), AffiliateID: aff,
			PlayerID: fmt.Sprint("p", i), CampaignID: camp, OccurredAt: at, ReceivedAt: at, GGR: money.New(-50, money.EUR)}); err != nil {
			b.Fatal(err)
		}
	}
	from, to := t0.AddDate(0, 1, 0), t0.AddDate(0, 2, 0)
	month := []time.Time{from, from.AddDate(0, 0, 7), from.AddDate(0, 0, 14), from.AddDate(0, 0, 21), to}
	b.Run("Aggregate", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := st.Aggregate(ctx, store.AggregateParams{AffiliateID: "aff-7", Bounds: month}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("BaselineListAndCount", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			cp := store.ListConversionsParams{AffiliateID: "aff-7", From: from, To: to, Limit: 1000}
			for {
				page, err := st.ListConversions(ctx, cp)
				if err != nil {
					b.Fatal(err)
				}
				if len(page) < cp.Limit {
					break
				}
				cp.After = store.Cursor{At: page[len(page)-1].EventTime(), ID: page[len(page)-1].ID}
			}
			lp := store.ListLedgerLinesParams{AffiliateID: "aff-7", By: store.ByStatementTime, From: from, To: to, Limit: 1000}
			for {
				page, err := st.ListLedgerLines(ctx, lp)
				if err != nil {
					b.Fatal(err)
				}
				if len(page) < lp.Limit {
					break
				}
				lp.After = store.Cursor{At: page[len(page)-1].StatementTime(), ID: page[len(page)-1].ID}
			}
			rp := store.ListRevenueParams{AffiliateID: "aff-7", From: from, To: to, Limit: 1000}
			for {
				page, err := st.ListRevenue(ctx, rp)
				if err != nil {
					b.Fatal(err)
				}
				if len(page) < rp.Limit {
					break
				}
				rp.After = store.Cursor{At: page[len(page)-1].OccurredAt, ID: page[len(page)-1].ID}
			}
		}
	})
}
