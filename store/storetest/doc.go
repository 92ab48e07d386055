// Package storetest is the conformance suite of the store contract. Every implementation of
// [store.Store], ours or a third party's, must pass it:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, storetest.Harness{
//			NewStore: func(t *testing.T) store.Store { return mystore.New(...) },
//		})
//	}
//
// Run executes one named subtest per rule of the contract: round trips and normalisation,
// the sentinels via errors.Is, idempotency and conflicts, atomicity (a failure mid-record
// leaves nothing behind), ordering and paging, lease expiry and fencing, context
// cancellation, and the concurrency rules (1,000 concurrent records of one dedup key from 16
// goroutines give exactly one conversion, one set of ledger lines and one set of deliveries,
// 20 times over). A failure message names the rule that was broken.
//
// Production code must never import this package.
package storetest
