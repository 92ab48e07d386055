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
// the exact sentinel of every refusal via errors.Is, idempotency and conflicts, atomicity (a
// failure mid-record leaves nothing behind), lease expiry and fencing, replays (a replay
// records its time, which the attempts after it keep), and the concurrency rules (1,000
// concurrent records of one dedup key from 16 goroutines give exactly one conversion, one set
// of ledger lines and one set of deliveries, 20 times over; 50 concurrent records against a
// counter's limit of 10 record exactly 10, concurrent writes of the same counters in any
// order never deadlock, lookups by foreign click ID racing the inserts of the clicks that
// carry it find whole clicks, and the latest once they are done, of 64 concurrent parks of
// one event exactly one writes, and of 24 concurrent calls that resolve one parked event
// (status changes of as many conversions, and ResolveParked) exactly one applies, of 64
// concurrent logs of one inbound record exactly one writes, and concurrent logs, listings and
// prunes of the inbound log lose no record a prune did not delete). Besides:
//
//   - Ledger: every history of commission/commissiontest is replayed, its ledger stored and
//     read back, and commission.Statements over the stored lines must equal Replay's own;
//     each statement is what a listing by statement time over its period returns.
//   - Paging: every listing, paged the way go-cloud's blob drivertest pages, at page sizes
//     1, 2, 3, exactly the number of records and more: the pages together are the whole
//     listing, in order, with no record twice and only the last page short.
//   - Limits: listings of 1,100 records (conversions, ledger lines, deliveries, parked events,
//     inbound records) at the limits the contract names: Limit 0 is the default page (100;
//     10 for LeaseDeliveries), a limit above 1000 is 1000, and the page after a capped one
//     is the rest, exactly.
//   - Refusals: every method, with invalid parameters (ErrInvalid, also with a canceled
//     context: parameters are checked first) and with a canceled context
//     (context.Canceled); a refused write writes nothing, and the same valid call then
//     succeeds and writes, so that the check can fail.
//
// A failure message names the rule that was broken ("rule: ...").
//
// Production code must never import this package.
package storetest
