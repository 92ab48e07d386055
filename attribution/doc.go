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
//	decider, err := attribution.New(cfg, nil) // once; safe for concurrent use
//	...
//	in := attribution.Input{Conversion: pb.Conversion(), Click: click, Binding: binding, Now: now}
//	dec := decider.Decide(&in)
//	dec.Apply(&in.Conversion) // affiliate, campaign, status, dedup key and reason, onto the record
//
// "Why did this conversion go to affiliate X, or to nobody?" has its answer on every
// decision, rejections and refusals included: [Decision.Code] (stable, for reports) and
// [Decision.Reason] (a sentence with the click, the window, its end and the zone).
//
// # Models
//
// Who is credited depends first on whether the player is bound (Input.Binding):
//
//   - A bound player's events follow the binding ([ModelBinding], CodeBinding): later
//     deposits, trades and revenue go to the affiliate who acquired the player, whatever
//     newer click or claim the event carries, and no click window limits them. A campaign
//     binds for life when its Rules.Lifetime is set: the first attributed event of an
//     unbound player with a player ID creates the binding ([Decision.Binding], BoundAt the
//     event time), which the store writes with the conversion. A rejected event binds
//     nobody; a held one binds, so that approving it later loses nothing.
//   - Re-attribution, off by default: when the binding's campaign sets Rules.Reattribute and
//     the player was inactive that long (from Input.LastActivity), a click or timed claim
//     made after the inactivity, in its window, credits its affiliate instead
//     ([ModelReattribution], CodeReattributed; [Decision.Rebind] if that campaign binds).
//     Without a known last activity, nobody is re-attributed.
//   - An unbound player's clicks and claims compete: the event's click (Input.Click), the
//     player's other clicks (Input.Clicks) and the claims that came with it (Input.Claims: a
//     promo code, a signed token, an operator's manual assignment). The best-ranked method
//     with a candidate in its window wins: Config.Priority, by default promo code, then
//     signed token (btag), then click, then manual ([DefaultPriority]); so a player who
//     entered an IB's promo code is that IB's, whatever link they came through. Among the
//     candidates of that method, Config.Model chooses: the latest ([ModelLastClick], the
//     default) or the earliest ([ModelFirstClick]), by time to the millisecond, then by click
//     ID (the larger is the later), then by affiliate and campaign ID, so that ties at the
//     same millisecond are broken the same way in every store and the order of Clicks and
//     Claims never matters.
//   - Nobody: an event with no candidate is recorded unattributed, with the sender's status
//     and its reason (CodeNoClick; CodeClickNotFound if it named a click nobody knows),
//     never dropped and never guessed. An event whose every candidate is out of its window
//     is rejected (CodeWindowExpired), naming the best of them.
//
// [Decision.Attributed] says whether the result credits an affiliate.
//
// # Windows
//
// A campaign's Windows say how long after a click an event may occur and still be credited
// to it: Registration (click → registration), FTD (click → first-time deposit), Events (click
// → an event of another type: deposit, trade, a custom goal) and Default (click → any event
// without a window of its own); RegistrationFTD bounds a bound player's first-time deposit,
// from the binding (registration → FTD). A window is a [Span]: the zero Span is no window.
// A claim made with the event (a promo code entered at registration: Claim.At zero) has no
// window; a token's runs from its click's time.
//
// Windows are measured on the event's time, Decision.EventTime: when it occurred
// (OccurredAt, as the sender says), or when it was received if the sender gave no time
// (Decision.ReceiptTime). Both stay on the conversion, so a late postback counts in its own
// day and a report can tell the two apart.
//
// Both ends are inclusive. A window opened by a click at C ends at [Decision.WindowEnd] E,
// the instant C plus the Span: an event at exactly E is credited, one a nanosecond later is
// CodeWindowExpired. At the other end, an event may precede its click by up to the clock-skew
// tolerance (Config.Skew, DefaultSkew 5 minutes), exactly that much included: the sender's
// and our clocks differ. An event claiming to precede the click it carries by more is
// rejected (CodeEventBeforeClick); another click of the player made that long after the
// event is no candidate. An event claiming to occur more than the tolerance after its
// receipt (Input.Now) is rejected too (CodeEventInFuture). Neither is ever clamped to a
// plausible time.
//
// A Span of days ("30d") is calendar days in the campaign's IANA zone (Rules.Zone; empty is
// UTC), not 24-hour blocks: it ends at the click's wall-clock time that many days later.
// Across a DST change that is an hour (in Lord Howe, half an hour) more or less than n×24
// hours: 30 days from 10:00 on 20 March in Europe/Malta end at 10:00 on 19 April, 719 hours
// later. A wall-clock time
// the clocks skip that night is pushed forward by the gap, one that exists twice is the
// later instant, so a window is never shorter than its days. A Span of a duration ("72h")
// is exact elapsed time. [Span.End] computes an end; New compiles each zone once, so that
// deciding reads no file and takes no lock.
//
// # Dedup
//
// Each event is recorded once, under its dedup key ([Decision.DedupKey], set on the record
// by Apply; [Dedup.Key] makes it alone). Config.Dedup names the mode of every event, with
// per-type exceptions (Dedup.Events); it is the programme's, not a campaign's, so that an
// event's key never depends on who wins it. The modes:
//
//   - [DedupEventTransaction] (the default): once per source, event and transaction ID; an
//     event that happens once for a player or a click (a registration, a verification, a
//     vendor's main conversion) may come without one, and is then once per player, else
//     per foreign click ID, else per click. Its keys are those postback made before
//     attribution took the key over, so stored keys still meet their retries;
//   - [DedupTransaction]: once per source and transaction ID, whatever the event;
//   - [DedupPlayerEvent]: once per source, event and player, such as one FTD per player;
//   - [DedupEvery]: every postback, keyed by its conversion ID (store.Conversion.ID).
//
// Every key holds the source, so two senders' "T1" never meet. A key never collapses when a
// field is empty: a mode that needs a field refuses an event without it
// (CodeMissingTransactionID, CodeMissingPlayerID, CodeMissingConversionID; [Decision.Refused],
// an empty DedupKey), and the pipeline answers the sender with an error. A key is a version
// prefix per mode and a SHA-256 in hex of length-prefixed parts, so that no two sets of
// parts give one key and keys of two modes never meet.
//
// The store settles what a key meets (store.Conversion.SameContent): the same content
// (a retry, however late: the key holds no time) is a duplicate, answered with the stored
// original; other content under one key is a conflict, never a silent duplicate (under
// DedupPlayerEvent, a second FTD of a player with another transaction ID); the same content
// with another status is a status update, decided with the stored conversion as
// Input.Original (# Status).
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
//
// # Concurrency
//
// A Decider is immutable once New returns: any number of goroutines may call Decide at once
// (custom rules must allow it: see [Rule]). Decide allocates nothing unless a rule or a cap
// speaks; Reason and DedupKey build their strings when asked.
//
// # Errors
//
// Decide never fails: a refusal, a rejection and an unattributed event are decisions with
// their Code. A Config that does not decode or validate is an error wrapping
// [ErrInvalidConfig] that names the field (campaigns[2].windows.ftd).
package attribution
