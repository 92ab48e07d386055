package attribution

import (
	"time"

	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/store"
)

// Input is what a decision is made from. Decide reads it and keeps nothing of it but
// strings and values: the caller may reuse it.
type Input struct {
	// Conversion is the event as the sender described it: the record that
	// (*postback.Postback).Conversion builds (Source, Event, ClickID, ForeignClickID,
	// PlayerID, TransactionID, Amount, Status, OccurredAt, ReceivedAt, SubIDs). Its ID is
	// needed only by DedupEvery. What the receiver decides (AffiliateID, CampaignID, DedupKey,
	// Decision) is ignored: Decision.Apply fills it in.
	Conversion store.Conversion
	// Click is the click the event carries (Conversion.ClickID), as the store has it; nil if
	// the event carries none or the store knows no such click.
	Click *store.Click
	// Clicks are other known clicks of the player, for the click models; their order does
	// not matter. Clicks after the event are not candidates.
	Clicks []store.Click
	// Binding is the player's existing binding, if any.
	Binding *store.PlayerBinding
	// Claims are other claims on the player that came with the event: a promo code the
	// player entered, a signed token (btag), an operator's manual assignment. They compete
	// with the clicks by Config.Priority when the player is not bound yet.
	Claims []Claim
	// LastActivity is when the player was last active before this event (their last
	// conversion's event time), for re-attribution; zero if unknown, which never
	// re-attributes.
	LastActivity time.Time
	// Original is, for a reversal or a status update, the stored conversion it applies to
	// (found by transaction ID); nil if none is stored yet. The status machine (status.go)
	// parks a reversal whose original is missing.
	Original *store.Conversion
	// Now is the receive time, by the receiver's clock: the reference for clock skew.
	// Zero means Conversion.ReceivedAt.
	Now time.Time
	// PlayerHashes are hashed identifiers of the player that the operator supplies (of an
	// e-mail address, a phone number, a payment account...), and AffiliateHashes the same
	// identifiers of affiliates, hashed the same way, by affiliate ID: the self-referral
	// bound (Fraud.SelfReferral) flags an event one of whose PlayerHashes is among the
	// credited affiliate's. How to hash (say, hex SHA-256 of the normalised value, with a
	// key of the host's) is the host's choice; empty strings never match. AffiliateHashes
	// needs only the affiliates the event may credit (its click's, binding's and claims'),
	// or it may be one map of every affiliate, built once and shared by every Input: Decide
	// only reads it.
	PlayerHashes    []string
	AffiliateHashes map[string][]string
}

// Claim is a claim that a player belongs to an affiliate, other than the click the event
// carries: the affiliate behind a promo code, a signed token, or an operator's decision.
type Claim struct {
	Method      store.BindingMethod // required: BindByPromoCode, BindByToken, BindManually (a BindByClick claim is a click without its record)
	AffiliateID string              // required
	CampaignID  string              // optional
	ClickID     clickid.ID          // the click a token or click claim carries; zero if none
	// At is when the claim was made: a token's or click's time, from which the campaign's
	// click windows run; zero for a claim made with the event itself (a promo code entered
	// at registration), which no window limits.
	At time.Time
}

// Code is a decision's machine-readable reason: a stable name, under store.CheckKey's rules,
// that a store keeps beside the human sentence (store.Decision.Code) and a report can group
// by. Codes are never renamed once released.
type Code string

// The reason codes of attribution. The status machine, caps and rules (status.go, caps.go,
// rules.go) add their own.
const (
	// CodeClick: attributed to a click in its window (Decision.Model says first or last).
	CodeClick Code = "click"
	// CodeBinding: attributed to the affiliate the player is bound to.
	CodeBinding Code = "binding"
	// CodeReattributed: a bound player, inactive past Rules.Reattribute, re-attributed to a
	// new click.
	CodeReattributed Code = "reattributed"
	// CodeClaim: attributed to a promo code, token or manual claim (Decision.Model says
	// which).
	CodeClaim Code = "claim"
	// CodeNoClick: unattributed; the event carries no click, the player has no binding and
	// nothing claims them.
	CodeNoClick Code = "no_click"
	// CodeClickNotFound: unattributed; the event names a click that is not known, and
	// nothing else claims the player.
	CodeClickNotFound Code = "click_not_found"
	// CodeWindowExpired: rejected; the event occurred after the window of the click (or of
	// the registration) that would have credited it. Decision names that affiliate and
	// window.
	CodeWindowExpired Code = "window_expired"
	// CodeEventInFuture: rejected; the event claims to occur more than the skew tolerance
	// after its receipt.
	CodeEventInFuture Code = "event_in_future"
	// CodeEventBeforeClick: rejected; the event claims to occur more than the skew tolerance
	// before the click it carries.
	CodeEventBeforeClick Code = "event_before_click"
	// CodeMissingTransactionID: refused; the dedup mode needs a transaction ID and the event
	// has none. Decision.DedupKey is empty: there is nothing to record it under.
	CodeMissingTransactionID Code = "missing_transaction_id"
	// CodeMissingPlayerID: refused; the dedup mode needs a player ID (or, for a registration
	// without a transaction ID, a player or click ID) and the event has none.
	CodeMissingPlayerID Code = "missing_player_id"
	// CodeMissingConversionID: refused; DedupEvery needs the conversion's ID and the input
	// has none.
	CodeMissingConversionID Code = "missing_conversion_id"
)

// Action is what a rule (a fraud bound, a cap, a custom rule: caps.go, rules.go) asks of a
// decision. Actions are ordered by severity: when several rules speak, the most severe
// decides the status, and every rule's Verdict is kept on the Decision.
type Action uint8

// The actions, least severe first.
const (
	// Allow: the rule has nothing against the event.
	Allow Action = iota
	// Flag: the event goes through, with the rule's reason noted for review.
	Flag
	// Hold: the event is recorded pending, for review.
	Hold
	// Reject: the event is recorded rejected.
	Reject
)

// String returns "allow", "flag", "hold" or "reject".
func (a Action) String() string {
	switch a {
	case Allow:
		return "allow"
	case Flag:
		return "flag"
	case Hold:
		return "hold"
	case Reject:
		return "reject"
	}
	return "unknown"
}

// Verdict is a rule's answer: its action and why, as a Code and a human sentence.
type Verdict struct {
	Action Action
	Code   Code
	Reason string
}

// Decision is what Decide decided, and why: enough to answer "why did this conversion go to
// affiliate X, or to nobody" without anything else. Apply copies it onto the record a store
// keeps.
type Decision struct {
	// AffiliateID and CampaignID are who is credited; empty if nobody. A rejected decision
	// (CodeWindowExpired, a fraud rule) names the affiliate who would have been credited, and
	// a status change (Change) the stored conversion's affiliate: Attributed says whether
	// the affiliate named is credited.
	AffiliateID, CampaignID string
	// Model is the model that decided; ModelNone when nobody is credited for lack of a
	// candidate.
	Model Model
	// Status is the conversion's status: the sender's, unless a rule holds (pending) or
	// rejects it; for a status update or a reversal, the stored conversion's status after
	// the event (Change.To).
	Status event.Status
	// Code is the machine-readable reason; Reason the human sentence.
	Code Code

	// Method is how the credited affiliate claimed the player: by click, token, promo code
	// or manually (for ModelBinding, the binding's method); empty if nobody is credited.
	Method store.BindingMethod
	// ClickID and ClickAt are the click (or the claim's click and time) that decided, or
	// whose window expired, if any. For ModelBinding, ClickID is the binding's click.
	ClickID clickid.ID
	ClickAt time.Time
	// BoundAt is, for a bound player (ModelBinding, ModelReattribution), when the existing
	// binding was made.
	BoundAt time.Time
	// Window is the window that applied, Span its length and WindowEnd its last instant
	// (inclusive), in the campaign's zone; empty if none applied.
	Window    Window
	Span      Span
	WindowEnd time.Time
	// EventTime is the instant the windows were measured to: the event's OccurredAt, or its
	// ReceivedAt when the sender gave no event time (then ReceiptTime is true). Both times
	// stay on the conversion.
	EventTime   time.Time
	ReceiptTime bool

	// Binding is the player binding the store must create with the conversion; its PlayerID
	// is empty if none.
	Binding store.PlayerBinding
	// Rebind reports that Binding replaces the player's existing binding (re-attribution).
	// store.BindingStore.BindPlayer keeps a player's first binding, so a store must replace
	// it by other means.
	Rebind bool
	// Park reports that the event must be parked, not applied: a reversal that arrived
	// before its original (status.go).
	Park bool
	// Change is, for a status update or a reversal of a stored conversion (Input.Original),
	// the status machine's judgement: from which status to which, allowed or not and why
	// (status.go). It is the zero StatusChange for any other event.
	Change StatusChange
	// Verdicts are the rules' verdicts other than Allow, in the rules' order (rules.go).
	Verdicts []Verdict

	// Amount is the event's amount, for the counters (caps.go).
	Amount money.Amount
	// Unpaid reports that the event is credited, with its status, but must not be paid: it
	// was over a cap whose policy is CapUnpaid. Code is then CodeCapReached or
	// CodeCapCurrency, which is how a stored conversion says so, unless a rule held the
	// event (the hold's code: its review comes first). The commission step computes no
	// payable line for it; the affiliate is still credited with the player (and a binding
	// made).
	Unpaid bool

	key     keyParts   // what the dedup key is made of (dedup.go)
	event   event.Type // the event's type, for the caps
	basis   Code       // the attribution's own code, when a verdict replaced Code (rules.go, caps.go); else ""
	overCap bool       // over a cap: counts against none (caps.go)
	rules   *rules     // the compiled rules of the campaign credited (or the default)
	skew    time.Duration
	now     time.Time
}

// Attributed reports whether the conversion, as d leaves it, is credited to an affiliate:
// d names one (AffiliateID) and its Status is approved or pending. A decision names an
// affiliate it does not credit in two cases, and neither is attributed: a rejection names
// the affiliate who would have been credited (a window expired, a fraud rule, a cap), and a
// status change that reverses or rejects a stored conversion (Decision.Change) names the
// affiliate it credited, whose credit it takes back. A status change that leaves the
// conversion approved or pending (an approval, a duplicate) is attributed, as the stored
// conversion is; so is an unpaid one (Unpaid): credited, but paid nothing. A parked
// reversal names nobody.
func (d Decision) Attributed() bool {
	return d.AffiliateID != "" && (d.Status == event.StatusApproved || d.Status == event.StatusPending)
}

// Refused reports whether the event cannot be recorded at all: its dedup mode needs a field
// it lacks, so it has no dedup key (CodeMissingTransactionID, CodeMissingPlayerID,
// CodeMissingConversionID). A pipeline answers the sender with an error, as it does for a
// malformed postback.
func (d Decision) Refused() bool { return d.key.mode == "" }

// Apply fills in what the receiver decides on c, the conversion that was decided on:
// AffiliateID, CampaignID, Status, DedupKey and Decision (model, code and reason). The rest
// of c is left as it is.
func (d Decision) Apply(c *store.Conversion) {
	c.AffiliateID = d.AffiliateID
	c.CampaignID = d.CampaignID
	c.Status = d.Status
	// The key and the reason are cut from one string, made in one allocation: each
	// recorded postback has both.
	var buf [keyLen + 512]byte
	b := d.key.appendKey(buf[:0])
	n := len(b)
	both := string(d.appendReason(b))
	c.DedupKey = both[:n]
	c.Decision = store.Decision{Model: string(d.Model), Code: string(d.Code), Reason: both[n:]}
}
