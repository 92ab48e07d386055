// Package memstore is the in-memory implementation of [store.Store]: the default store of
// s2s, and the one to use in tests.
//
//	st := memstore.New(nil)
//	err := st.InsertClick(ctx, store.Click{ID: id, AffiliateID: "aff-42", CreatedAt: now})
//
// It keeps everything in maps and loses it when the process ends. Clicks, the high-volume
// read path, are spread over 64 shards by a random byte of their ID, each with its own
// read-write lock, so that concurrent lookups of different clicks rarely meet; the clicks
// that carry a foreign click ID are indexed by it in 64 more shards, by a hash of the ID, each
// entry the clicks of one foreign ID in order of creation, so that GetClickByForeign finds the
// latest without a scan. Conversions, ledger lines, deliveries, endpoint state and parked
// events share one lock, which makes a conversion and what it causes atomic, an attempt and
// its endpoint's state too, and a status change and the parked events it resolves. Counters
// are spread over 256 shards by a hash of their name, and player bindings over 64 by a hash of
// the player ID, each shard with a lock of its own: a record takes the shards of its counters
// and binding (in index order) before the shared lock, checks its limits and rebind there,
// and writes them after it releases the shared lock, still holding the shards. So a counter's
// limit is exact and a binding is written with its conversion, atomically, while the shared
// lock is held for the conversion's indexes alone, and records of different players run side
// by side for the rest. A record is stored in one allocation with the first entries of its
// history, its transaction's index and its ledger lines. Parked events are indexed by source and
// transaction, and the unresolved ones kept apart, so that the listing a recorded original
// needs reads its transaction's events alone; conversions are indexed by source and
// transaction too, in order of receipt, for ListConversionsByTransaction, and the event times
// of a player's conversions are kept in order, for LastActivity (a binary search).
//
// The inbound log has a lock of its own, so that logging a postback never waits for the
// writes it caused. Its records are allocated 1,024 at a time and kept in order of receipt,
// all together and by source and by outcome, so that LogInbound costs no allocation of its
// own (about 1 µs, beside 1.3–2 µs for a slice and a map under one mutex:
// BenchmarkLogInbound), a listing walks back from its page's start, found by binary search,
// and PruneInbound cuts the beginnings. Memory grows with the log: a host that keeps a
// memstore running prunes it.
//
// Pending deliveries are indexed by when they are due (see due.go): a ready heap per endpoint
// by next attempt, a heap of the enabled endpoints by their first ready delivery, and one of
// the leased ones by lease expiry. A worker's LeaseDeliveries costs O(k log n) for the k it
// leases among n pending, whatever the number delivered, dead, or waiting for a disabled or
// excluded endpoint (which adds O(log e) for each excluded endpoint of e): with 100,000
// settled deliveries and 10 due, about 4 µs against 5–7 ms for a scan of them all
// (BenchmarkLeaseDeliveries); with 100,000 more pending for a disabled or excluded endpoint,
// the same 3–4 µs against 8 ms (BenchmarkLeaseDeliveriesBehindBacklog). ReplayDeliveries
// finds the dead deliveries of its endpoint without a scan of the others.
//
// # Concurrency
//
// A Store is safe for concurrent use by any number of goroutines.
package memstore
