// Package attribution decides which affiliate earns a conversion, and says why.
//
// It is pure: no I/O and no clock of its own. A [Decider], compiled once from a [Config]
// (rules as data, JSON round trip, validated with errors that name the field), takes an
// [Input] (the canonical event as a store.Conversion, the click it carries, the player's
// other clicks, their binding, claims such as a promo code, and the receive time) and
// returns a [Decision]: the affiliate and campaign or nobody, the model that decided, the
// status, a machine-readable [Code] with a human sentence, the dedup key, the binding to
// create, the counter increments and whether the event must be parked.
//
// The package is being built (issue 11); its sections on models, windows and dedup come
// with the code.
//
// # Status
//
// A conversion's status is an event.Status: pending, approved, rejected or reversed. Senders'
// own words ("sale", "declined", "hold", Affise's "3") are mapped onto them in one place,
// postback's dialects (postback.Dialect.Statuses); this package owns the moves between them,
// [Transition]:
//
//	pending  → approved, rejected
//	approved → reversed
//
// Nothing leaves rejected or reversed, and nothing goes back to pending
// (CodeInvalidTransition, which changes nothing). Rejected and reversed both undo a
// conversion; which one it takes is a fact of the record, not the sender's word: one that
// counted (approved) is reversed, one that never counted (pending) is rejected, so a
// rejection of an approved conversion reverses it and a chargeback of a held one rejects it.
// Asking for the status a conversion has is a duplicate (CodeStatusUnchanged; a second
// reversal is CodeAlreadyReversed), so retries and repeated chargebacks change nothing.
//
// A rebill (Keitaro's word) is no status: it is a new event of a player who converted
// before, with a transaction ID of its own, decided like any event (a bound player's rebill
// follows the binding).
//
// An event about a stored conversion is decided with [Input.Original] set to that
// conversion: a status update of a transaction (the same dedup key, which the store answers
// with ErrDuplicate and the stored original) or a reversal (an event.Reversal event, or a
// status of reversed) of one found by its transaction ID. [Decision.Change] then says from
// which status to which, and whether it is allowed; an allowed change is written with
// store.ConversionStore.ChangeStatus(From: Change.From, To: Change.To, Reason:
// Decision.Reason()), whose compare-and-set on From settles two concurrent changes. The
// decision credits the original's affiliate and campaign; fraud rules do not run on it.
//
// A reversal whose original is not stored yet (Input.Original nil) is parked:
// [Decision.Park] is set, with CodeParkedReversal and a status of reversed. The caller must
// neither drop it nor count it as a conversion of its own: it keeps the event (under its
// [Decision.DedupKey], so that the sender's retry of it is a duplicate) and, when a
// conversion of its transaction is recorded, decides the parked event again with that
// conversion as Input.Original and applies the change in the same write. Keeping parked
// events is the store's and the Tracker's job; this package only says which events to park.
//
// # Fraud rules
//
// Rules judge a decision after attribution: they cannot change who is credited, only hold
// the event (pending, for review), reject it, or flag it (noted, status kept). Each rule that
// speaks leaves a [Verdict] (its [Action], a Code and a sentence) on [Decision.Verdicts],
// in the rules' order. The most severe action decides the status (Reject rejects and binds
// nobody; Hold makes the event pending and still binds the player, so that approving it
// later loses nothing; Flag keeps the status), and the first verdict of that action gives
// the decision its Code; Decision.Reason keeps the attribution's own sentence first and then
// every verdict's, so "why" still has its whole answer. A decision without verdicts has a
// nil Verdicts and allocates nothing.
//
// Rules judge only events that attribution credited or left unattributed, not ones it
// rejected (out of a window, a bad clock) or refused, not status updates and not parked
// reversals. The built-in rules are a campaign's fraud bounds, [Rules.Fraud], checked for the
// campaign credited, in this order:
//
//   - time to convert ([TimeToConvert]): from the click that credited a first-time deposit
//     (Fraud.FTD) or a registration (Fraud.Registration) to the event, a minimum (sooner is
//     CodeTooFast: click injection) and a maximum (later is CodeTooSlow: a stale click), each
//     with its action. Both ends are inclusive: an FTD exactly Min after its click passes, a
//     nanosecond sooner does not; one at the instant Max ends passes, a nanosecond later
//     does not. Day bounds are calendar days in the campaign's zone, as windows are. The
//     time runs from Decision.ClickAt (a click's or a signed token's time) to
//     Decision.EventTime; an event credited without a click time (a promo code, a binding
//     whose click the event does not carry) is not measured;
//   - self-referral (Fraud.SelfReferral): the player is the credited affiliate, by player ID
//     (the player ID is the affiliate ID) or by a hashed identifier: one of the hashes the
//     operator supplies for the player ([Input.PlayerHashes]) is one of the affiliate's
//     ([Input.AffiliateHashes], by affiliate ID). Both come with the Input, so that the
//     affiliates' identifiers stay the host's data, current at every decision, never a copy
//     in the configuration; a host with few affiliates builds one map and shares it.
//
// Then the custom rules run, in the order of [Options.Rules]: plain functions of the host
// ([Rule]) for what attribution cannot know, such as a blocklist of countries or the
// affiliates' own IP addresses against the click's. Each is given copies, the Input and
// the decision as attribution made it (before any rule spoke), so no rule can change the
// decision or depend on another's verdict, and their order matters only in which of two
// equally severe verdicts gives the Code. A verdict that cannot be kept (an unknown action,
// a code that is not a store key, no reason) becomes a Hold with CodeInvalidVerdict that
// names the rule. Rules that find nothing allocate nothing.
//
// Caps (below) come after the rules: an event a rule rejected counts against no cap, and
// one it holds keeps its place. A cap's verdict follows the same rule of severity, so an
// unpaid cap (a Flag) does not take the Code from a rule's Hold.
//
// # Caps
//
// A campaign's Rules.Caps limit what it credits: at most Count events, or events of at most
// Amount in all, per calendar day, ISO week (Monday to Sunday, of its ISO year: 31 December
// 2026 is in 2026-W53), calendar month or lifetime, per affiliate, per campaign or per
// affiliate in the campaign, optionally of some event types only. The common case, "10 paid
// FTDs a day per affiliate", is
//
//	{"name": "daily_ftd", "events": ["ftd"], "scope": "affiliate", "period": "day", "count": 10, "over": "unpaid"}
//
// Buckets are calendar periods in the campaign's zone (Rules.Zone), by the event time
// (Decision.EventTime: when the event occurred, so that a late postback counts in its own
// day): a day of 23 or 25 hours when the clocks change is one bucket, the last millisecond
// of a day and the midnight after it are in two. Each cap and bucket is a store counter
// named by the cap, its scope and the bucket, such as cap:daily_ftd:aff=A-17:day=2026-03-29
// ([CapCount.AppendCounter] says how names are escaped). Caps of scope affiliate that share
// a name share the affiliate's counters across the campaigns that have them, so that one
// cap can span a programme; validation requires them to measure alike.
//
// Amounts are exact: an amount cap adds up the events' amounts in minor units of its
// currency. An event in another currency is never converted: the cap cannot measure it,
// and treats it as over (CodeCapCurrency), so that nothing is paid past a cap unmeasured.
// Give a campaign one cap per currency its events come in.
//
// What counts: a new event that is credited and may be paid, approved or pending. A pending
// event (held by the sender or by a rule) keeps its place, so that approving it later
// needs no second check and never takes a cap past its limit; if it is rejected instead,
// its place is not given back (counters only grow). Rejected, refused and unattributed
// events count against nothing, nor do status changes of stored conversions (they counted
// when recorded) and parked reversals.
//
// Attribution is pure and cannot know a counter's value, so enforcing a cap takes two
// steps, exact under any concurrency because the store checks and increments atomically:
//
//  1. record the decision with its increments, each carrying the cap's limit
//     ([Decision.Increments] into store.RecordConversionParams.Increments);
//  2. if the store refuses the write with a *store.LimitError (errors.As), ask the decision
//     what to record instead, [Decision.OverCap](err.Counter), and record that: the cap's
//     policy applied (CapReject: rejected; CapHold: pending, for review; CapUnpaid:
//     credited with its status but [Decision.Unpaid], which the commission step pays
//     nothing for), with CodeCapReached and the cap's Verdict. It carries no increment, so
//     it is written whatever the counters say; an event over one cap counts against none.
//
// In code, with the caller's own increments (commission tiers) beside the caps':
//
//	dec := decider.Decide(&in)
//	for {
//		p := store.RecordConversionParams{Conversion: in.Conversion, Increments: dec.Increments(own)}
//		dec.Apply(&p.Conversion)
//		_, err := st.RecordConversion(ctx, p)
//		var limit *store.LimitError
//		if errors.As(err, &limit) {
//			if over, ok := dec.OverCap(limit.Counter); ok {
//				dec = over
//				continue
//			}
//		}
//		return dec, err
//	}
//
// Of 50 concurrent FTDs against a cap of 10, exactly 10 are credited and paid and 40 take
// the policy, on memstore and pgstore alike (TestCaps_Concurrent). A reviewer who approves a held one pays it past the cap, and no counter
// changes. Computing the caps' buckets and counter names allocates nothing
// ([Decision.AppendCapCounts], [CapCount.AppendCounter]); the store.Increments allocate
// their names.
package attribution
