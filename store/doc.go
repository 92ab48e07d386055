// Package store will define the storage contract of s2s: record types for clicks, player
// bindings, conversions, ledger lines and outbound deliveries; small role interfaces and an
// aggregate Store; and the sentinel errors ErrNotFound, ErrDuplicate and ErrConflict.
//
// Its central promise: a conversion, its ledger lines and its outbound deliveries commit
// together or not at all, and among any number of concurrent attempts with one dedup key
// exactly one wins.
//
// Implementations: [github.com/s2skit/s2s/store/memstore] (in memory, the default) and
// [github.com/s2skit/s2s/store/pgstore] (PostgreSQL). Every implementation must pass
// [github.com/s2skit/s2s/store/storetest]. This package has no code yet.
package store
