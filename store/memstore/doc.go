// Package memstore is the in-memory implementation of [store.Store]: the default store of
// s2s, and the one to use in tests.
//
//	st := memstore.New(nil)
//	err := st.InsertClick(ctx, store.Click{ID: id, AffiliateID: "aff-42", CreatedAt: now})
//
// It keeps everything in maps and loses it when the process ends. Clicks, the high-volume
// read path, are spread over 64 shards by a random byte of their ID, each with its own
// read-write lock, so that concurrent lookups of different clicks rarely meet. Conversions,
// ledger lines, deliveries and counters share one lock, which makes a conversion and what it
// causes atomic, and a counter's limit exact. Pending deliveries are indexed by when they are due (two heaps: ready by next
// attempt, leased by lease expiry), so that a worker's LeaseDeliveries costs O(k log n) for
// the k it leases among n pending, whatever the number delivered or dead: with 100,000
// settled deliveries and 10 due, about 12 µs against 6–12 ms for a scan of them all
// (BenchmarkLeaseDeliveries).
//
// # Concurrency
//
// A Store is safe for concurrent use by any number of goroutines.
package memstore
