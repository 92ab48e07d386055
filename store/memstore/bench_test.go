package memstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"runtime"
	"sync"
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

// The click benchmarks load 1,000,000 clicks, then look up random ones from every P. The
// baseline is what a user would write instead: one map behind one sync.RWMutex, holding the
// same clicks. Compare in one run:
//
//	go test -run=NONE -bench=Click -benchmem -cpu=1,2 ./store/memstore/
const loadedClicks = 1_000_000

// clickSet is the data both click benchmarks read: the clicks, a memstore and the baseline
// map holding them. It is built once and both structures stay alive, so that both timed loops
// run on the same heap (building a 200 MB structure right before one of them would bias it).
type clickSet struct {
	clicks []store.Click
	st     *memstore.Store
	m      *rwMutexMap
}

// rwMutexMap is the baseline: a plain map behind one RWMutex.
type rwMutexMap struct {
	mu sync.RWMutex
	m  map[clickid.ID]store.Click
}

var (
	clicksOnce sync.Once
	loaded     clickSet
)

func benchClicks(b *testing.B) clickSet {
	b.Helper()
	clicksOnce.Do(func() {
		gen := clickid.NewGenerator(nil)
		clicks := make([]store.Click, loadedClicks)
		at := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
		for i := range clicks {
			id, err := gen.New()
			if err != nil {
				panic(err)
			}
			clicks[i] = store.Click{ID: id, AffiliateID: "aff-42", CampaignID: "camp-7", CreatedAt: at}
		}
		st := memstore.New(nil)
		for start := 0; start < len(clicks); start += 1000 {
			if err := st.InsertClicks(context.Background(), store.InsertClicksParams{Clicks: clicks[start : start+1000]}); err != nil {
				panic(err)
			}
		}
		m := &rwMutexMap{m: make(map[clickid.ID]store.Click, len(clicks))}
		for _, c := range clicks {
			m.m[c.ID] = c
		}
		loaded = clickSet{clicks: clicks, st: st, m: m}
		// Finish the collection that loading started, so it runs in neither timed loop.
		runtime.GC()
		runtime.GC()
	})
	return loaded
}

var sinkClick store.Click

func BenchmarkGetClickParallel(b *testing.B) {
	set := benchClicks(b)
	clicks, st := set.clicks, set.st
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

func BenchmarkBaselineRWMutexMap(b *testing.B) {
	set := benchClicks(b)
	clicks, m := set.clicks, set.m
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
	st := memstore.New(nil)
	at := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		id := uuid.New()
		p := store.RecordConversionParams{
			Conversion: store.Conversion{
				ID: id, DedupKey: id.String(), Event: "ftd", AffiliateID: "aff-42", TransactionID: "tx",
				Amount: money.New(15000, money.EUR), Status: event.StatusPending, OccurredAt: at, ReceivedAt: at,
			},
			Ledger: []store.LedgerLine{{ID: uuid.New(), ConversionID: id, CreatedAt: at, Line: commission.Line{
				Kind: commission.KindAccrual, Rule: commission.RuleCPA, AffiliateID: "aff-42", At: at, Payable: at,
				Amount: money.New(5000, money.EUR), Base: money.New(0, money.EUR)}}},
			Deliveries: []store.Delivery{{ID: uuid.New(), ConversionID: id, Endpoint: "e", Method: http.MethodGet,
				URL: "https://t.example/pb", Status: store.DeliveryPending, NextAttemptAt: at, CreatedAt: at}},
		}
		if _, err := st.RecordConversion(b.Context(), p); err != nil {
			b.Fatal(err)
		}
	}
}

// The foreign-ID benchmarks load 100,000 clicks, each carrying a foreign click ID of its own
// (a gclid's length) but every tenth, which shares the ID of the click before it (a visitor
// who clicked twice), then look up random foreign IDs from every P. The baseline is what a
// user would write instead: one map from foreign ID to the latest click, behind one
// sync.RWMutex. Compare in one run:
//
//	go test -run=NONE -bench=Foreign -benchmem -cpu=1,2 ./store/memstore/
const foreignClicks = 100_000

type foreignSet struct {
	foreign []clickid.Foreign
	st      *memstore.Store
	mu      sync.RWMutex
	m       map[clickid.Foreign]store.Click
}

var (
	foreignOnce   sync.Once
	foreignLoaded *foreignSet
)

func benchForeign(b *testing.B) *foreignSet {
	b.Helper()
	foreignOnce.Do(func() {
		gen := clickid.NewGenerator(nil)
		set := &foreignSet{st: memstore.New(nil), m: make(map[clickid.Foreign]store.Click, foreignClicks)}
		at := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
		batch := make([]store.Click, 0, 1000)
		for i := range foreignClicks {
			id, err := gen.New()
			if err != nil {
				panic(err)
			}
			f := clickid.Foreign(fmt.Sprintf("Cj0KCQiA%088d", i-boolInt(i%10 == 9)))
			c := store.Click{ID: id, AffiliateID: "aff-42", CampaignID: "camp-7", ForeignClickID: f, CreatedAt: at.Add(time.Duration(i) * time.Millisecond)}
			batch = append(batch, c)
			if len(batch) == cap(batch) {
				if err := set.st.InsertClicks(context.Background(), store.InsertClicksParams{Clicks: batch}); err != nil {
					panic(err)
				}
				batch = batch[:0]
			}
			if i%10 != 9 {
				set.foreign = append(set.foreign, f)
			}
			set.m[f] = c
		}
		foreignLoaded = set
		runtime.GC()
		runtime.GC()
	})
	return foreignLoaded
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func BenchmarkGetClickByForeignParallel(b *testing.B) {
	set := benchForeign(b)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		r := rand.New(rand.NewPCG(rand.Uint64(), 1))
		var c store.Click
		for pb.Next() {
			var err error
			c, err = set.st.GetClickByForeign(b.Context(), store.GetClickByForeignParams{ForeignClickID: set.foreign[r.IntN(len(set.foreign))]})
			if err != nil {
				b.Error(err)
				return
			}
		}
		sinkClick = c
	})
}

func BenchmarkBaselineForeignRWMutexMap(b *testing.B) {
	set := benchForeign(b)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		r := rand.New(rand.NewPCG(rand.Uint64(), 1))
		var c store.Click
		for pb.Next() {
			f := set.foreign[r.IntN(len(set.foreign))]
			set.mu.RLock()
			v, ok := set.m[f]
			set.mu.RUnlock()
			if !ok {
				b.Error("missing")
				return
			}
			c = v
		}
		sinkClick = c
	})
}

// BenchmarkLogInbound logs one postback to the inbound log per operation, as the Tracker does
// for every postback. Its baseline is what a user would write instead: records appended to a
// slice, and indexed by ID in a map, under one mutex (with no order by source or outcome).
func BenchmarkLogInbound(b *testing.B) {
	st := memstore.New(nil)
	at := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	r := store.InboundRecord{Source: "network-a", Method: http.MethodGet, Outcome: "accepted", HTTPStatus: 202,
		Params: "clickid=06enwx3m8zc6w83y6r5qzq2c3r&sig=REDACTED", Duration: time.Millisecond}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		r.ID, r.ReceivedAt = uuid.UUID{byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i), 1}, at.Add(time.Duration(i)*time.Microsecond)
		if err := st.LogInbound(b.Context(), r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBaselineInboundSliceAndMap(b *testing.B) {
	var mu sync.Mutex
	var log []store.InboundRecord
	byID := map[uuid.UUID]int{}
	at := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	r := store.InboundRecord{Source: "network-a", Method: http.MethodGet, Outcome: "accepted", HTTPStatus: 202,
		Params: "clickid=06enwx3m8zc6w83y6r5qzq2c3r&sig=REDACTED", Duration: time.Millisecond}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		r.ID, r.ReceivedAt = uuid.UUID{byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i), 1}, at.Add(time.Duration(i)*time.Microsecond)
		mu.Lock()
		if _, ok := byID[r.ID]; ok {
			mu.Unlock()
			b.Fatal("duplicate")
		}
		byID[r.ID] = len(log)
		log = append(log, r)
		mu.Unlock()
	}
}
