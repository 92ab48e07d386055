package memstore_test

import (
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/store"
	"github.com/s2skit/s2s/store/memstore"
)

// The click benchmarks load 1,000,000 clicks, then look up random ones from every P. The
// baseline is what a user would write instead: one map behind one sync.RWMutex, holding the
// same clicks. Compare in one run:
//
//	go test -run=NONE -bench=Click -benchmem -cpu=1,2 ./store/memstore/
const loadedClicks = 1_000_000

var (
	clicksOnce sync.Once
	loaded     []store.Click
)

func benchClicks(b *testing.B) []store.Click {
	b.Helper()
	clicksOnce.Do(func() {
		gen := clickid.NewGenerator(nil)
		loaded = make([]store.Click, loadedClicks)
		at := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
		for i := range loaded {
			id, err := gen.New()
			if err != nil {
				panic(err)
			}
			loaded[i] = store.Click{ID: id, AffiliateID: "aff-42", CampaignID: "camp-7", CreatedAt: at}
		}
	})
	return loaded
}

var sinkClick store.Click

func BenchmarkGetClickParallel(b *testing.B) {
	clicks := benchClicks(b)
	st := memstore.New()
	for start := 0; start < len(clicks); start += 1000 {
		if err := st.InsertClicks(b.Context(), clicks[start:start+1000]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		r := rand.New(rand.NewPCG(rand.Uint64(), 1))
		var c store.Click
		for pb.Next() {
			var err error
			c, err = st.GetClick(b.Context(), clicks[r.IntN(len(clicks))].ID)
			if err != nil {
				b.Error(err)
				return
			}
		}
		sinkClick = c
	})
}

// rwMutexMap is the baseline: a plain map behind one RWMutex.
type rwMutexMap struct {
	mu sync.RWMutex
	m  map[clickid.ID]store.Click
}

func BenchmarkBaselineRWMutexMap(b *testing.B) {
	clicks := benchClicks(b)
	m := &rwMutexMap{m: make(map[clickid.ID]store.Click, len(clicks))}
	for _, c := range clicks {
		m.m[c.ID] = c
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		r := rand.New(rand.NewPCG(rand.Uint64(), 1))
		var c store.Click
		for pb.Next() {
			id := clicks[r.IntN(len(clicks))].ID
			m.mu.RLock()
			v, ok := m.m[id]
			m.mu.RUnlock()
			if !ok {
				b.Error("missing")
				return
			}
			c = v
		}
		sinkClick = c
	})
}

// BenchmarkRecordConversion records a conversion with one ledger line and one delivery.
func BenchmarkRecordConversion(b *testing.B) {
	st := memstore.New()
	at := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		id := uuid.New()
		p := store.RecordConversionParams{
			Conversion: store.Conversion{
				ID: id, DedupKey: id.String(), Event: "ftd", AffiliateID: "aff-42", TransactionID: "tx",
				Amount: money.New(15000, money.EUR), Status: store.StatusPending, OccurredAt: at, ReceivedAt: at,
			},
			Ledger: []store.LedgerLine{{ID: uuid.New(), ConversionID: id, AffiliateID: "aff-42", Kind: store.LedgerAccrual,
				Amount: money.New(5000, money.EUR), CreatedAt: at}},
			Deliveries: []store.Delivery{{ID: uuid.New(), ConversionID: id, Endpoint: "e", Method: http.MethodGet,
				URL: "https://t.example/pb", Status: store.DeliveryPending, NextAttemptAt: at, CreatedAt: at}},
		}
		if _, err := st.RecordConversion(b.Context(), p); err != nil {
			b.Fatal(err)
		}
	}
}
