// Package memstore is the in-memory implementation of [store.Store]: the default store of
// s2s, and the one to use in tests.
//
//	st := memstore.New(nil)
//	err := st.InsertClick(ctx, store.Click{ID: id, AffiliateID: "aff-42", CreatedAt: now})
//
// It keeps everything in maps and loses it when the process ends. Clicks, the high-volume
// read path, are spread over 64 shards by a random byte of their ID, each with its own
// read-write lock, so that concurrent lookups of different clicks rarely meet. Conversions,
// ledger lines and deliveries share one lock, which makes a conversion and what it causes
// atomic.
//
// # Concurrency
//
// A Store is safe for concurrent use by any number of goroutines.
package memstore
