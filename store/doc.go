// Package store defines the storage contract of s2s: the record types (clicks, player
// bindings, conversions with their status history, ledger lines, outbound deliveries with
// their attempts, the state of outbound endpoints, counters, parked events, the inbound
// log, revenue facts, closed periods), small role interfaces ([ClickStore], [BindingStore],
// [ConversionStore], [LedgerStore], [DeliveryStore], [EndpointStore], [CounterStore],
// [ParkedStore], [InboundStore], [RevenueStore], [ReportStore],
// [PeriodStore]) and the aggregate [Store], and the sentinel
// errors every implementation returns.
//
// Implementations: [github.com/s2skit/s2s/store/memstore] (in memory, the default) and
// [github.com/s2skit/s2s/store/pgstore] (PostgreSQL). Every implementation, ours or a third
// party's, must pass the conformance suite [github.com/s2skit/s2s/store/storetest].
//
// # The contract
//
// Each interface method's documentation is its contract: what the caller may pass, what the
// implementation must return. The rules that carry money:
//
//   - A conversion, its ledger lines, its outbound deliveries and the player binding it creates
//     commit together or not at all ([ConversionStore.RecordConversion]). A failure part-way
//     leaves nothing behind, no binding either.
//   - A player is bound once: the first binding wins, among concurrent records too, and a
//     record whose player is bound already keeps the stored binding and is recorded all the
//     same. Re-attribution replaces a binding only if it is still the one the caller decided
//     from ([RecordConversionParams].RebindFrom), else the record is refused with a
//     [*RebindError] (ErrConflict) carrying the binding stored now, so that of concurrent
//     rebinds exactly one applies.
//   - A transaction's conversions, every event type under one transaction ID of one source,
//     are found with one read ([ConversionStore.ListConversionsByTransaction]): how a
//     reversal finds its original whatever the dedup mode.
//   - The dedup key is unique. Among any number of concurrent records with one key exactly one
//     wins; the others get [ErrDuplicate] (same content, see [Conversion.SameContent]) or
//     [ErrConflict] (different content), with the stored original.
//   - Counters (caps, tier counts) change only with the record that causes them: an
//     [Increment] of a RecordConversion or ChangeStatus applies with it, all or nothing. An
//     increment with a Limit is exact under any concurrency: a write that would take the
//     counter past it is refused whole with [ErrLimit] (a [*LimitError] naming the counter),
//     so a cap of 10 is never 11. A retry (ErrDuplicate) applies no increment.
//   - History is appended, never edited: status changes are compare-and-set on the current
//     status and append to the history; reversals are negative ledger lines.
//   - Outbound deliveries are leased with an expiry and a fencing token: a worker whose lease
//     expired cannot record its attempt ([ErrLeaseLost]); dead deliveries can be replayed
//     under the same ID, which receivers use as the event ID, one at a time or every dead
//     delivery of an endpoint at once ([DeliveryStore.ReplayDeliveries]). A replay keeps the
//     attempt history and records when it was made ([Delivery].ReplayedAt), so that the
//     attempts after it start a new run of retries.
//   - Each endpoint has a state ([EndpointState]) that attempts update atomically with their
//     record, by when they finished (LastSuccessAt, FailingSince), so that a worker can
//     disable an endpoint that fails for too long ([EndpointStore.DisableEndpoint]): the
//     deliveries of a disabled endpoint, and of the endpoints a lease excludes
//     ([LeaseParams].Exclude), stay pending and are not leased until it is enabled again.
//     A store may record many attempts in one durable write ([AttemptRecorder], an optional
//     capability that memstore and pgstore have): each under its own lease, leaving the
//     endpoints' state as if recorded one by one in the order they finished.
//   - Invalid records are refused with [ErrInvalid] before anything is written: each record
//     type and each XxxParams has a Validate method, which implementations call, so the rules
//     live in one place and every store refuses the same things.
//   - A ledger line is the persisted form of a [commission.Line] ([LedgerLine]): every field,
//     its Detail included, survives a round trip, so a stored line explains itself and
//     [commission.Statements] over a store's lines equals [commission.Replay]'s statements.
//     A line refers to a conversion only once that conversion is recorded.
//   - A conversion keeps what its sender said, the event time included: a sender that gives
//     none leaves OccurredAt zero, so that its retry, received later, is a duplicate; it is
//     listed at its [Conversion.EventTime], OccurredAt or else ReceivedAt.
//   - An event that cannot be applied yet (a reversal before its original) is parked, never
//     dropped ([ParkedStore]): once under its dedup key, so that a retry is a duplicate, and
//     found again by its source and transaction ID. It is applied by the status change that
//     names it ([ChangeStatusParams].Resolve), in the same write, so that of any number of
//     concurrent attempts to apply it exactly one does.
//   - Every postback received, rejected ones included, is logged with what became of it
//     ([InboundStore]): one cheap write per postback, listed newest first by source, outcome
//     and time, and pruned by age for bounded retention.
//   - Revenue reports (iGaming RevShare) are kept as revenue facts ([RevenueStore]), signed
//     (a player's winnings make GGR negative), once per sender's report ID; a correction is
//     a new fact that names the one it corrects, never an edit. They are listed by the time
//     the revenue is of, for a period's close, and by the time they were received, to find
//     those that came after their period was closed.
//   - A click is found by its ID, or by the foreign click ID it carries
//     ([ClickStore.GetClickByForeign]): foreign IDs are not unique, so the latest click that
//     carries one, as of the event's time, is the one a postback names.
//   - Reports are counted and summed where the records are ([ReportStore]): clicks,
//     conversions by event and status, revenue facts in force and ledger lines by rule and
//     kind, per affiliate, campaign and period (periods given by their bounds, so that a
//     store needs no calendar), and an endpoint's attempts and failures over a window.
//   - Times are stored in UTC at microsecond precision ([NormalizeTime]); money as int64 minor
//     units and a currency code.
//
// # Imports
//
// store imports, of this module, only the leaf packages whose nouns its records hold:
// clickid, money, event and commission (which itself imports only money and event). It never
// imports postback, attribution or an implementation; they import it.
//
// # Concurrency
//
// Implementations are safe for concurrent use. Record values returned by a store are the
// caller's own: their slices and maps are not shared with the store.
//
// # Stability
//
// The store package is pre-1.0 and may change in any minor release: methods may be added to
// these interfaces. Optional capabilities come as separate interfaces detected by type
// assertion ([AttemptRecorder] is one).
package store
