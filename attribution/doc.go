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
// The package is being built (issue 11); its sections on models, windows, dedup and caps
// come with the code.
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
package attribution
