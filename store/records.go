package store

import (
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
)

// Limits on record fields. Longer values are refused with ErrInvalid, never truncated.
const (
	MaxKeyLen       = 255       // identifiers: affiliate, campaign, player, source, event, transaction, dedup key, rule, endpoint, decision code
	MaxCounterLen   = 1024      // bytes of a counter's name (an Increment's Counter), which may compose several identifiers
	MaxSubIDs       = 30        // sub IDs per click or conversion
	MaxSubIDLen     = 512       // bytes per sub ID
	MaxUserAgentLen = 1024      // bytes of a click's user agent
	MaxURLLen       = 8 << 10   // bytes of a landing or delivery URL
	MaxTextLen      = 16 << 10  // bytes of free text: a decision or status reason, a ledger line's detail, an attempt's response or error
	MaxBodyLen      = 256 << 10 // bytes of a delivery's request body
	MaxLines        = 1000      // ledger lines, deliveries or increments written in one call
	MaxClicks       = 10_000    // clicks inserted in one InsertClicks call
)

// Click is one click on an affiliate's tracking link.
type Click struct {
	ID             clickid.ID      // required, not zero
	AffiliateID    string          // required
	CampaignID     string          // optional
	SubIDs         []string        // the affiliate's sub IDs, by position (sub1 first); optional
	ForeignClickID clickid.Foreign // a click ID from another party (gclid, a network's ID); optional
	IP             netip.Addr      // the visitor's address; optional
	UserAgent      string          // optional
	Landing        string          // the landing URL the click was sent to; optional
	CreatedAt      time.Time       // required
}

// BindingMethod says how a player came to be bound to an affiliate.
type BindingMethod string

// Binding methods.
const (
	BindByClick     BindingMethod = "click"      // a click ID carried by the registration
	BindByToken     BindingMethod = "token"      // a signed token (btag) carrying the affiliate
	BindByPromoCode BindingMethod = "promo_code" // a promo code entered by the player
	BindManually    BindingMethod = "manual"     // an operator's decision
)

// PlayerBinding records that a player belongs to the affiliate who acquired them (lifetime
// binding).
type PlayerBinding struct {
	PlayerID    string        // required
	AffiliateID string        // required
	CampaignID  string        // optional
	ClickID     clickid.ID    // the click that acquired the player; zero if none
	Method      BindingMethod // required
	BoundAt     time.Time     // required
}

// Decision is why a conversion went to its affiliate (or to none): the attribution model that
// decided, a machine-readable code and a human-readable reason, so that "why did this go to
// affiliate X" always has an answer, for people and for programs (reports, alerts).
type Decision struct {
	Model  string // e.g. "last_click", "lifetime_binding"; optional, CheckKey rules
	Code   string // a stable machine-readable reason code, e.g. "cap_reached"; optional, CheckKey rules
	Reason string // human-readable, at most MaxTextLen bytes
}

// Increment is a change to a named counter (a cap's count of paid conversions in a day, an
// affiliate's count of FTDs this period for tiers) that a write applies atomically with the
// record that causes it: [RecordConversionParams.Increments], [ChangeStatusParams.Increments].
// A counter that was never incremented is 0; counters only grow.
//
// With a Limit, the increment is a check too: a write whose increment would take the counter
// past its Limit is refused whole with [ErrLimit] (a [*LimitError] naming the counter), and
// writes nothing, so that among any number of concurrent writes against a limit of 10 at
// most 10 apply. Limit is the caller's to give with each increment: the store keeps only the
// counter's value.
type Increment struct {
	Counter string // required: at most MaxCounterLen bytes, CheckKey's characters
	Delta   int64  // positive
	Limit   int64  // 0 means none; else the counter after the increment is at most Limit
}

// Validate checks i against the rules of Increment. The error wraps ErrInvalid.
func (i Increment) Validate() error {
	if err := CheckCounter(i.Counter); err != nil {
		return err
	}
	if i.Delta <= 0 {
		return invalid("increment of counter %q: delta %d, want a positive delta", i.Counter, i.Delta)
	}
	if i.Limit < 0 {
		return invalid("increment of counter %q: negative limit %d (0 means none)", i.Counter, i.Limit)
	}
	return nil
}

// Check returns nil if the increment may apply to a counter at value, else the
// [*LimitError] (wrapping ErrLimit) of a counter it would take past its limit: past Limit when
// it has one, and in every case past math.MaxInt64, where a counter stops. Stores call it, so
// that every store refuses the same increments.
func (i Increment) Check(value int64) error {
	limit := int64(math.MaxInt64)
	if i.Limit > 0 {
		limit = i.Limit
	}
	if value > limit-i.Delta { // no overflow: limit >= 0 and Delta > 0
		return &LimitError{Counter: i.Counter, Value: value, Delta: i.Delta, Limit: limit}
	}
	return nil
}

// CheckCounter checks the name of a counter: required, at most [MaxCounterLen] bytes, with
// CheckKey's characters (valid UTF-8, no control character). [CounterStore.GetCounter] calls
// it, so that a name no counter can have is ErrInvalid in every store. The error wraps
// [ErrInvalid].
func CheckCounter(counter string) error {
	if counter == "" {
		return invalid("counter: a name is required")
	}
	if p := textProblem(counter, MaxCounterLen); p != "" {
		return invalid("counter %s", p)
	}
	return nil
}

// LimitError is the error of a write refused because one of its increments would take a
// counter past its limit: it wraps [ErrLimit] and names the counter, so that a caller with
// several limited counters (a daily and a monthly cap) knows which one was reached
// (errors.As). Nothing of the write was written.
type LimitError struct {
	Counter string // the counter the increment would have taken past Limit
	Value   int64  // the counter's value when the write was refused
	Delta   int64  // the refused increment
	Limit   int64  // its limit: the Increment's, or math.MaxInt64 for one without a limit
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("store: limit reached: counter %q is at %d, and %d more passes its limit of %d", e.Counter, e.Value, e.Delta, e.Limit)
}

// Unwrap returns ErrLimit.
func (e *LimitError) Unwrap() error { return ErrLimit }

// RebindError is the error of a record refused because the binding it was to replace
// ([RecordConversionParams].RebindFrom) is no longer the player's: a concurrent write
// replaced it, or the player has none. It wraps [ErrConflict] and carries the binding stored
// now, so that the caller decides again from it (errors.As). Nothing of the record was
// written, and the conversion returned with it is the zero Conversion.
type RebindError struct {
	PlayerID string
	Stored   *PlayerBinding // the player's binding now; nil if the player has none
}

// Error implements error.
func (e *RebindError) Error() string {
	if e.Stored == nil {
		return fmt.Sprintf("store: conflict: player %q has no binding to replace", e.PlayerID)
	}
	return fmt.Sprintf("store: conflict: the binding of player %q to replace is no longer the stored one (affiliate %q, bound at %s)",
		e.PlayerID, e.Stored.AffiliateID, e.Stored.BoundAt.Format(time.RFC3339Nano))
}

// Unwrap returns ErrConflict.
func (e *RebindError) Unwrap() error { return ErrConflict }

// StatusChange is one entry of a conversion's status history.
type StatusChange struct {
	Status event.Status
	Reason string
	At     time.Time
}

// Conversion is a recorded conversion event: a registration, a deposit, a trade, a purchase,
// a revenue report, a reversal...
//
// Its statuses are [event.Status]: the attribution package owns the rules for moving between
// them; the store records what it is told, compare-and-set on the current status.
type Conversion struct {
	ID             uuid.UUID       // required, not zero; time-ordered (uuid.NewV7) keys index best
	DedupKey       string          // required: the key under which exactly one conversion exists
	Source         string          // the sender it came from; optional
	Event          event.Type      // required: event.Registration, event.FTD, ... or a custom name
	ClickID        clickid.ID      // zero if none
	ForeignClickID clickid.Foreign // the click ID the sender sent when it is not one of ours (another tracker's, a gclid); optional
	SubIDs         []string        // the sub IDs the sender sent, by position (sub1 first), under a Click's rules; optional
	PlayerID       string          // optional
	AffiliateID    string          // the affiliate it is attributed to; empty if none
	CampaignID     string          // optional
	TransactionID  string          // the sender's transaction ID; optional
	Amount         money.Amount    // the event's amount (a deposit, a purchase); the zero Amount if none; never negative
	Status         event.Status    // required: the current status
	OccurredAt     time.Time       // when the event happened, as the sender said; zero if the sender did not say (see EventTime)
	ReceivedAt     time.Time       // required: when the postback was received
	Decision       Decision        // the attribution decision

	// History is the status history, oldest first, written by the store: RecordConversion
	// starts it with Status at ReceivedAt (its own History is ignored) and ChangeStatus
	// appends to it.
	History []StatusChange
}

// EventTime returns the time the conversion is placed at: OccurredAt, when the sender said
// when the event happened, else ReceivedAt. [ConversionStore.ListConversions] selects and
// orders by it, and a Cursor of that listing carries it.
func (c Conversion) EventTime() time.Time {
	if c.OccurredAt.IsZero() {
		return c.ReceivedAt
	}
	return c.OccurredAt
}

// SameContent reports whether c and o describe the same event: whether they say the same
// things the sender said about it. A sender's retry repeats its request, so every field the
// sender sent is compared (Source, Event, ClickID, ForeignClickID, SubIDs position by
// position, PlayerID, TransactionID, Amount, and OccurredAt at the store's time precision),
// except the status, which a later status change may move. Two records of one dedup key with
// the same content are a duplicate; with different content, a conflict, so that what a second
// request says differently is never dropped silently. Received time, attribution and status
// are not compared: they belong to the receiver, not to the event. A nil and an empty SubIDs
// are the same.
//
// OccurredAt is compared as the sender sent it: two zero OccurredAt (a sender that sends no
// event time, and its retry) are the same, so a retry received later is a duplicate; a zero
// and a set OccurredAt differ. A pipeline passes on what the sender said and never fills in
// a missing event time itself (the receive time differs on every retry): [Conversion.EventTime]
// supplies one where a time is needed.
func (c Conversion) SameContent(o Conversion) bool {
	return c.Source == o.Source && c.Event == o.Event && c.ClickID == o.ClickID &&
		c.ForeignClickID == o.ForeignClickID && slices.Equal(c.SubIDs, o.SubIDs) &&
		c.PlayerID == o.PlayerID && c.TransactionID == o.TransactionID && c.Amount == o.Amount &&
		NormalizeTime(c.OccurredAt).Equal(NormalizeTime(o.OccurredAt))
}

// LedgerLine is one immutable entry of what an affiliate is owed: the persisted form of a
// [commission.Line], with the identity a store gives it. Corrections are new lines (a
// reversal's negative line), never edits.
//
// Every field of the embedded Line survives a store round trip, Detail included, so a line
// read back from a store explains itself (Explain) exactly as the line that was computed,
// and [commission.Statements] over the lines a store returns gives the statements
// [commission.Replay] returned. Kind and Rule are commission's: the store has no names of
// its own for them.
//
// The rules a store enforces (Validate): a known Kind, Rule and Mode; AffiliateID required;
// an Amount in a known currency, never negative for an accrual, never positive for a
// reversal or a clawback, and zero for a carryover line, whose balance is its Base (never
// positive); a Base always, in the Amount's currency: a zero amount of that currency when
// the rule applied to nothing (an adjustment), never the zero money.Amount, which has no
// currency (and which a commission.Line cannot encode as JSON); At and Payable set, Payable
// not before At; a Period with a start before its end, or none; no Reason (a line with a
// Reason pays nothing and belongs in no ledger).
type LedgerLine struct {
	ID           uuid.UUID // required, not zero
	ConversionID uuid.UUID // the conversion that caused it; zero for a period line
	CreatedAt    time.Time // required: when the line was written
	commission.Line
}

// Equal reports whether l and o are the same line: the same ID, conversion and creation
// instant, and lines that are [commission.Line.Equal].
func (l LedgerLine) Equal(o LedgerLine) bool {
	return l.ID == o.ID && l.ConversionID == o.ConversionID && l.CreatedAt.Equal(o.CreatedAt) && l.Line.Equal(o.Line)
}

// DeliveryStatus is the status of an outbound delivery.
type DeliveryStatus string

// Delivery statuses.
const (
	DeliveryPending   DeliveryStatus = "pending"   // waiting for an attempt, due at NextAttemptAt
	DeliveryDelivered DeliveryStatus = "delivered" // the receiver accepted it
	DeliveryDead      DeliveryStatus = "dead"      // given up (dead letter); ReplayDelivery revives it
)

// Valid reports whether s is one of the DeliveryStatus constants.
func (s DeliveryStatus) Valid() bool {
	return s == DeliveryPending || s == DeliveryDelivered || s == DeliveryDead
}

// Delivery is an outbound postback in the outbox: the request to send, its status and every
// attempt made.
type Delivery struct {
	ID            uuid.UUID   // required, not zero; also the event ID receivers dedup on
	ConversionID  uuid.UUID   // the conversion that caused it; zero if none
	Endpoint      string      // required: the configured endpoint it goes to
	Method        string      // required: "GET" or "POST"
	URL           string      // required
	Header        http.Header // optional
	Body          []byte      // optional
	Status        DeliveryStatus
	NextAttemptAt time.Time // when a pending delivery is due; required on creation
	CreatedAt     time.Time // required
	// ReplayedAt is when the delivery was last replayed (ReplayDelivery, ReplayDeliveries:
	// the replay's At); zero if never. Written by the store, it is kept through the attempts
	// that follow the replay, so that the attempts before it are told from those after it
	// (an outbound worker starts a new run of retries there). Zero on creation.
	ReplayedAt time.Time
	Attempts   []Attempt // written by the store, oldest first
}

// Attempt is one attempt to deliver.
type Attempt struct {
	StartedAt  time.Time // required
	FinishedAt time.Time // required, not before StartedAt
	StatusCode int       // the HTTP status, 0 if there was no response
	Response   string    // the start of the response body (at most MaxTextLen bytes), secrets redacted by the caller
	Error      string    // the failure class, if any, secrets redacted by the caller
}

// Latency returns how long the attempt took.
func (a Attempt) Latency() time.Duration { return a.FinishedAt.Sub(a.StartedAt) }

// Lease is a delivery leased to a worker until ExpiresAt, with the fencing token that the
// worker must present to record its attempt.
type Lease struct {
	Delivery  Delivery
	Token     int64
	ExpiresAt time.Time
}

// InboundRecord is one entry of the inbound log ([InboundStore]): a postback as it was
// received and what became of it. Its vocabulary belongs to the packages that decide: the
// store keeps Outcome and Reason as text under CheckKey's rules.
type InboundRecord struct {
	ID         uuid.UUID // required, not zero; time-ordered (uuid.NewV7) keys index best
	ReceivedAt time.Time // required
	Source     string    // the source (sender) it was received for; optional
	Method     string    // the HTTP method it came with; empty if it came by other means
	// RemoteAddr is the network address it came from, as the receiving server saw it (net/http's
	// Request.RemoteAddr, "host:port"), under CheckKey's rules; empty if unknown.
	RemoteAddr string
	// Outcome is what became of it, as package postback names it (its Outcome's String:
	// "accepted", "duplicate", "rejected", "conflict"). Required.
	Outcome string
	// Reason is why, for a postback that was not accepted: package postback's Reason, or
	// attribution's Code. Optional.
	Reason string
	// HTTPStatus is the status the sender was answered; 0 if it was not answered over HTTP.
	HTTPStatus int
	// Params are the parameters as received, secrets (a signature, a token) redacted by the
	// caller: at most MaxTextLen bytes of valid UTF-8 without NUL, which a caller logging a
	// malformed postback cuts and cleans to (a store refuses, never truncates).
	Params       string
	ConversionID uuid.UUID     // the conversion it recorded or found; zero if none
	Duration     time.Duration // how long it took to answer; never negative
}

// Validate checks r against the rules of InboundRecord. The error wraps ErrInvalid and names
// the first broken rule.
func (r InboundRecord) Validate() error {
	if r.ID == uuid.Nil {
		return invalid("inbound record: id is required")
	}
	if err := checkTime("inbound record: received at", r.ReceivedAt); err != nil {
		return err
	}
	for _, f := range []struct {
		name, v  string
		required bool
	}{
		{"inbound record: source", r.Source, false},
		{"inbound record: method", r.Method, false},
		{"inbound record: remote address", r.RemoteAddr, false},
		{"inbound record: outcome", r.Outcome, true},
		{"inbound record: reason", r.Reason, false},
	} {
		if err := checkKey(f.name, f.v, f.required); err != nil {
			return err
		}
	}
	if r.HTTPStatus < 0 || r.HTTPStatus > 999 {
		return invalid("inbound record %s: http status %d, want 0 (none) or a status code", r.ID, r.HTTPStatus)
	}
	if err := checkText("inbound record: params", r.Params, MaxTextLen); err != nil {
		return err
	}
	if r.Duration < 0 {
		return invalid("inbound record %s: negative duration %s", r.ID, r.Duration)
	}
	return nil
}

// Normalize returns r with its time normalised.
func (r InboundRecord) Normalize() InboundRecord {
	r.ReceivedAt = NormalizeTime(r.ReceivedAt)
	return r
}

// Equal reports whether r and o are the same record, field by field.
func (r InboundRecord) Equal(o InboundRecord) bool {
	return r.ID == o.ID && r.ReceivedAt.Equal(o.ReceivedAt) && r.Source == o.Source && r.Method == o.Method && r.RemoteAddr == o.RemoteAddr &&
		r.Outcome == o.Outcome && r.Reason == o.Reason && r.HTTPStatus == o.HTTPStatus && r.Params == o.Params &&
		r.ConversionID == o.ConversionID && r.Duration == o.Duration
}

// ListInboundParams is the argument of InboundStore.ListInbound.
type ListInboundParams struct {
	Source  string // only the records of this source; empty means every source
	Outcome string // only the records of this outcome; empty means every outcome
	// ConversionID, when set, keeps only the records of this conversion: those that
	// recorded or found it (a conversion's postback and its retries).
	ConversionID uuid.UUID
	From, To     time.Time // range [From, To) of ReceivedAt; a zero From or To is no bound
	After        Cursor    // the ReceivedAt and ID of the last record seen; the page after it is older
	Limit        int       // 0 means 100; at most 1000
}

// Validate checks p.
func (p ListInboundParams) Validate() error {
	if err := checkKey("list inbound: source", p.Source, false); err != nil {
		return err
	}
	if err := checkKey("list inbound: outcome", p.Outcome, false); err != nil {
		return err
	}
	if !p.From.IsZero() && !p.To.IsZero() && !p.To.After(p.From) {
		return invalid("list inbound: the range needs From before To")
	}
	if p.Limit < 0 {
		return invalid("list inbound: negative limit")
	}
	return nil
}

// PruneInboundParams is the argument of InboundStore.PruneInbound.
type PruneInboundParams struct {
	Before time.Time // required: the records received before it are deleted
}

// Validate checks p.
func (p PruneInboundParams) Validate() error {
	return checkTime("prune inbound: before", p.Before)
}

// Cursor is a position in an ordered listing: the sort time and ID of the last record seen.
// The zero Cursor is the start.
type Cursor struct {
	At time.Time
	ID uuid.UUID
}

// InsertClicksParams is the argument of ClickStore.InsertClicks: a batch of clicks, stored
// all or nothing.
type InsertClicksParams struct {
	Clicks []Click // at most MaxClicks, with distinct IDs; empty is a no-op
}

// GetClickByForeignParams is the argument of ClickStore.GetClickByForeign: which click a
// foreign click ID names.
type GetClickByForeignParams struct {
	ForeignClickID clickid.Foreign // required
	CampaignID     string          // only the clicks of this campaign; empty means every campaign
	// AsOf excludes the clicks created after it: a pipeline gives the event's time (with its
	// clock skew tolerance), so that a click made after the event is not the one it carries.
	// Zero means no bound.
	AsOf time.Time
}

// InsertLedgerLinesParams is the argument of LedgerStore.InsertLedgerLines: lines that belong
// to no conversion being recorded (period lines: RevShare, carryover, sub-affiliate shares;
// adjustments), stored all or nothing.
type InsertLedgerLinesParams struct {
	Lines []LedgerLine // at most MaxLines, with distinct IDs; empty is a no-op
}

// RecordConversionParams is the argument of ConversionStore.RecordConversion: the conversion
// and what it causes, written together or not at all.
type RecordConversionParams struct {
	Conversion Conversion
	Ledger     []LedgerLine // their ConversionID must be Conversion.ID
	Deliveries []Delivery   // their ConversionID must be Conversion.ID; Status must be pending
	Increments []Increment  // the counters it increments, each counter at most once, in any order
	// Binding, when set, is the player binding the conversion creates (a registration's
	// acquisition), written with it, atomically: its PlayerID must be Conversion.PlayerID.
	// The first binding of a player wins: a player bound already keeps the stored binding,
	// and the conversion is recorded all the same (it is not refused for it). Without
	// RebindFrom, a binding never replaces another.
	Binding *PlayerBinding
	// RebindFrom, when set, makes Binding replace the player's binding (re-attribution),
	// provided that the stored binding is still RebindFrom, field for field
	// ([PlayerBinding.Equal]): the binding the caller decided from. Else the record is
	// refused whole with a [*RebindError] wrapping ErrConflict, so that the caller decides
	// again with the binding as it is now. It needs Binding, of the same player.
	RebindFrom *PlayerBinding
}

// ListConversionsByTransactionParams is the argument of
// ConversionStore.ListConversionsByTransaction: the conversions of one transaction of one
// source.
type ListConversionsByTransactionParams struct {
	Source        string // required: transaction IDs are the senders'
	TransactionID string // required
	After         Cursor // the ReceivedAt and ID of the last conversion seen
	Limit         int    // 0 means 100; at most 1000
}

// LastActivityParams is the argument of ConversionStore.LastActivity: the player's
// activity as of an instant.
type LastActivityParams struct {
	PlayerID string    // required
	AsOf     time.Time // required: only conversions whose event time is at or before it count
}

// ChangeStatusParams is the argument of ConversionStore.ChangeStatus.
type ChangeStatusParams struct {
	ConversionID uuid.UUID
	From         event.Status // the status the caller expects the conversion to have now
	To           event.Status
	Reason       string
	At           time.Time
	Ledger       []LedgerLine // their ConversionID must be ConversionID
	Deliveries   []Delivery   // their ConversionID must be ConversionID; Status must be pending
	Increments   []Increment  // the counters it increments, each counter at most once, in any order
	// Resolve names the parked events that the change applies, each at most once (at most
	// MaxLines): they are resolved with it, at At, applied to ConversionID.
	Resolve []uuid.UUID
}

// ParkedEvent is an event that cannot be applied yet: a reversal (or another change of a
// conversion) that arrived before the conversion it is about, which package attribution
// parks (Decision.Park). It is kept until it is applied to its conversion
// (ChangeStatusParams.Resolve) or settled without a change (ParkedStore.ResolveParked).
//
// The rules a store enforces (Validate): an ID; a Conversion that is valid, with a Source
// and a TransactionID (by which the event is found again when its original is recorded); a
// ParkedAt; and a ResolvedAt and AppliedTo left zero, for the store to write.
type ParkedEvent struct {
	ID uuid.UUID // required, not zero
	// Conversion is the event as it was received and decided, in the form of the conversion
	// it would be: what the sender said (Source, Event, TransactionID, Status, Amount,
	// OccurredAt, ReceivedAt, SubIDs...), the dedup key it would be recorded under (the
	// parked event's identity, so that a sender's retry of it is a duplicate), and its
	// Decision, whose Code (attribution's "parked_reversal") and Reason say why it waits.
	// Its ID is the one the receiver gave the event. Its History is not kept.
	Conversion Conversion
	ParkedAt   time.Time // required: when it was parked
	// ResolvedAt is when the event was applied or settled, zero while it waits. Written by
	// the store; zero on creation.
	ResolvedAt time.Time
	// AppliedTo is the conversion the event was applied to (or settled against), written by
	// the store with ResolvedAt; zero while it waits, and for an event settled against none.
	AppliedTo uuid.UUID
}

// Resolved reports whether p has been applied or settled.
func (p ParkedEvent) Resolved() bool { return !p.ResolvedAt.IsZero() }

// ListParkedParams is the argument of ParkedStore.ListParked.
type ListParkedParams struct {
	Source        string // only the events of this source; empty means every source
	TransactionID string // only the events of this transaction of Source; empty means every transaction
	Unresolved    bool   // only the events that wait: not applied, not settled
	After         Cursor // the ParkedAt and ID of the last event seen
	Limit         int    // 0 means 100; at most 1000
}

// ResolveParkedParams is the argument of ParkedStore.ResolveParked.
type ResolveParkedParams struct {
	IDs       []uuid.UUID // the parked events to resolve, each at most once; at most MaxLines
	AppliedTo uuid.UUID   // the recorded conversion they were settled against; zero if none
	At        time.Time   // required: when they are resolved
}

// ListConversionsParams is the argument of ConversionStore.ListConversions.
type ListConversionsParams struct {
	AffiliateID string
	From, To    time.Time // range [From, To) of the conversions' EventTime; both required
	After       Cursor    // the EventTime and ID of the last conversion seen
	Limit       int       // 0 means 100; at most 1000
}

// LedgerTime names the time of a ledger line by which a listing selects and orders lines.
type LedgerTime uint8

// The times a ledger is listed by.
const (
	// ByCreatedAt lists lines by CreatedAt: when they were written. It is the zero value.
	ByCreatedAt LedgerTime = iota
	// ByStatementTime lists lines by [commission.Line.StatementTime]: the instant that puts a
	// line in a statement (a period line's Period.Start, else Payable). The lines of one
	// affiliate's statement for a period are the lines listed ByStatementTime over the
	// period, which is what [commission.Statements] groups them by.
	ByStatementTime
)

// ListLedgerLinesParams is the argument of LedgerStore.ListLedgerLines.
type ListLedgerLinesParams struct {
	AffiliateID string
	By          LedgerTime // the time that From, To and After are about; the zero value is ByCreatedAt
	From, To    time.Time  // range [From, To) of the By time; both required
	After       Cursor     // the By time and ID of the last line seen
	Limit       int
}

// ListConversionLinesParams is the argument of LedgerStore.ListConversionLines.
type ListConversionLinesParams struct {
	ConversionID uuid.UUID // required, not zero
	After        Cursor    // the CreatedAt and ID of the last line seen
	Limit        int       // 0 means 100; at most 1000
}

// Validate checks p: a conversion ID, and a limit that is not negative. The error wraps
// ErrInvalid.
func (p ListConversionLinesParams) Validate() error {
	if p.ConversionID == uuid.Nil {
		return invalid("list conversion lines: conversion id is required")
	}
	if p.Limit < 0 {
		return invalid("list conversion lines: negative limit")
	}
	return nil
}

// ListTime returns the time of l that a listing by b selects and orders by.
func (b LedgerTime) ListTime(l LedgerLine) time.Time {
	if b == ByStatementTime {
		return l.StatementTime()
	}
	return l.CreatedAt
}

// LeaseParams is the argument of DeliveryStore.LeaseDeliveries.
type LeaseParams struct {
	Now      time.Time     // required: the worker's clock
	LeaseFor time.Duration // required, positive
	Limit    int           // 0 means 10; at most 1000
	// Exclude names endpoints whose deliveries are not to be leased now (a worker's
	// endpoints at their concurrency or rate limit); at most MaxLines names, each a valid
	// endpoint name.
	Exclude []string
}

// RecordAttemptParams is the argument of DeliveryStore.RecordAttempt: the attempt and the
// status the delivery moves to after it.
type RecordAttemptParams struct {
	DeliveryID uuid.UUID
	Token      int64 // the fencing token of the lease
	Attempt    Attempt
	// Status is the delivery's status after the attempt: DeliveryDelivered (done),
	// DeliveryDead (given up: dead-lettered) or DeliveryPending (a retry, due at
	// NextAttemptAt).
	Status        DeliveryStatus
	NextAttemptAt time.Time // required for a retry (Status DeliveryPending), after the attempt; ignored otherwise
}

// ListConversionDeliveriesParams is the argument of DeliveryStore.ListConversionDeliveries.
type ListConversionDeliveriesParams struct {
	ConversionID uuid.UUID // required, not zero
	After        Cursor    // the CreatedAt and ID of the last delivery seen
	Limit        int       // 0 means 100; at most 1000
}

// Validate checks p: a conversion ID, and a limit that is not negative. The error wraps
// ErrInvalid.
func (p ListConversionDeliveriesParams) Validate() error {
	if p.ConversionID == uuid.Nil {
		return invalid("list conversion deliveries: conversion id is required")
	}
	if p.Limit < 0 {
		return invalid("list conversion deliveries: negative limit")
	}
	return nil
}

// ListDeliveriesParams is the argument of DeliveryStore.ListDeliveries.
type ListDeliveriesParams struct {
	Status   DeliveryStatus
	Endpoint string // only the deliveries to this endpoint; empty means every endpoint
	After    Cursor // created-at and ID of the last delivery seen
	Limit    int
}

// ReplayDeliveriesParams is the argument of DeliveryStore.ReplayDeliveries.
type ReplayDeliveriesParams struct {
	Endpoint      string    // required
	CreatedBefore time.Time // only deliveries created before it; zero means every one
	At            time.Time // required: when the replays are due
}

// EndpointState is the delivery state of an outbound endpoint, as the store keeps it.
type EndpointState struct {
	Name           string
	Disabled       bool
	DisabledReason string    // why it is disabled, as the disabler wrote it; empty when enabled
	DisabledAt     time.Time // since when it is disabled; zero when enabled
	EnabledAt      time.Time // when it was last enabled by EnableEndpoint; zero if never
	LastSuccessAt  time.Time // the FinishedAt of its last delivered attempt; zero if none
	// FailingSince is the FinishedAt of the first failed attempt since its last success (or
	// since it was enabled), zero when its last attempt succeeded: how long it has been
	// failing, which is what auto-disabling goes by. When set, it is after LastSuccessAt
	// (see [DeliveryStore.RecordAttempt]).
	FailingSince time.Time
}

// ListEndpointsParams is the argument of EndpointStore.ListEndpoints.
type ListEndpointsParams struct {
	After string // the name of the last endpoint seen; empty is the start
	Limit int
}

// DisableEndpointParams is the argument of EndpointStore.DisableEndpoint.
type DisableEndpointParams struct {
	Name   string    // required
	Reason string    // required: why, for the operator who re-enables it; at most MaxTextLen bytes
	At     time.Time // required
}

// EnableEndpointParams is the argument of EndpointStore.EnableEndpoint.
type EnableEndpointParams struct {
	Name string    // required
	At   time.Time // required
}

// ReplayDeliveryParams is the argument of DeliveryStore.ReplayDelivery.
type ReplayDeliveryParams struct {
	DeliveryID uuid.UUID
	At         time.Time // when the replay is due
}

// ListLimit returns the number of records a listing returns for a requested limit: def for
// 0, at most 1000. Negative limits are refused by Validate.
func ListLimit(limit, def int) int {
	if limit == 0 {
		return def
	}
	return min(limit, 1000)
}

// invalid returns an error wrapping ErrInvalid.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}

// CheckKey checks v against the rules of an identifier field (an affiliate, campaign, player,
// source, event or transaction ID, a dedup key...): at most [MaxKeyLen] bytes of valid UTF-8
// with no control character (C0, DEL or C1: no NUL, no newline, no tab). The empty string
// passes; whether a field is required is the record's rule. The error wraps [ErrInvalid].
//
// It is exported so that the packages that accept identifiers from outside (postback, say)
// refuse at their door exactly what a store would refuse, instead of accepting a value that
// can never be stored.
func CheckKey(v string) error {
	if p := keyProblem(v); p != "" {
		return invalid("identifier %s", p)
	}
	return nil
}

// CheckLookupKey checks a key that a lookup is given (GetBinding's player ID,
// GetConversionByKey's dedup key): one that a record can have, so not empty and passing
// [CheckKey]. Stores call it so that a key no record can have is ErrInvalid in every store,
// rather than ErrNotFound in one and a database's encoding error in another. The error wraps
// ErrInvalid.
func CheckLookupKey(key string) error {
	if key == "" {
		return invalid("an empty key names no record")
	}
	return CheckKey(key)
}

// keyProblem says what breaks the rules of an identifier in v, or "" if nothing does.
func keyProblem(v string) string { return textProblem(v, MaxKeyLen) }

// textProblem says what breaks CheckKey's rules, with a length of at most max bytes, in v, or
// "" if nothing does.
func textProblem(v string, max int) string {
	if len(v) > max {
		return fmt.Sprintf("has %d bytes, at most %d allowed", len(v), max)
	}
	if !utf8.ValidString(v) {
		return "is not valid UTF-8"
	}
	for _, r := range v {
		if r < 0x20 || (r >= 0x7f && r <= 0x9f) {
			return fmt.Sprintf("contains the control character %U", r)
		}
	}
	return ""
}

// checkKey checks an identifier field.
func checkKey(field, v string, required bool) error {
	if v == "" && required {
		return invalid("%s is required", field)
	}
	if p := keyProblem(v); p != "" {
		return invalid("%s %s", field, p)
	}
	return nil
}

// checkText checks that a text field is valid UTF-8 without NUL (which PostgreSQL text cannot
// hold) and at most max bytes.
func checkText(field, v string, max int) error {
	if len(v) > max {
		return invalid("%s has %d bytes, at most %d allowed", field, len(v), max)
	}
	if !utf8.ValidString(v) {
		return invalid("%s is not valid UTF-8", field)
	}
	for i := range len(v) {
		if v[i] == 0 {
			return invalid("%s contains a NUL byte", field)
		}
	}
	return nil
}

// checkSubIDs checks the sub IDs of a record: at most MaxSubIDs, each text of at most
// MaxSubIDLen bytes.
func checkSubIDs(record string, subIDs []string) error {
	if len(subIDs) > MaxSubIDs {
		return invalid("%s: %d sub ids, at most %d allowed", record, len(subIDs), MaxSubIDs)
	}
	for i, s := range subIDs {
		if checkText("", s, MaxSubIDLen) != nil { // the field's name is made for the error only
			return fmt.Errorf("%w (sub id %d)", checkText(record+": sub id", s, MaxSubIDLen), i+1)
		}
	}
	return nil
}

// CheckSubID checks v against the rules of one sub ID of a [Click] or [Conversion]: at most
// [MaxSubIDLen] bytes of valid UTF-8 without NUL (sub IDs are free text: spaces, tabs and
// newlines are kept as sent). The empty string, an unsent sub ID, passes. The error wraps
// [ErrInvalid]. Like [CheckKey], it is exported so that what accepts sub IDs from outside
// refuses exactly what a store would.
func CheckSubID(v string) error { return checkText("sub id", v, MaxSubIDLen) }

// checkForeign checks an optional foreign click ID.
func checkForeign(field string, f clickid.Foreign) error {
	if f == "" {
		return nil
	}
	if _, err := clickid.ParseForeign(string(f)); err != nil {
		return invalid("%s: %v", field, err)
	}
	return nil
}

// cloneSubIDs returns subIDs in a slice of its own, nil when empty.
func cloneSubIDs(subIDs []string) []string {
	if len(subIDs) == 0 {
		return nil
	}
	return slices.Clone(subIDs)
}

func checkTime(field string, t time.Time) error {
	if t.IsZero() {
		return invalid("%s is required", field)
	}
	return nil
}

func checkAmount(field string, a money.Amount, optional bool) error {
	if optional && a == (money.Amount{}) {
		return nil
	}
	if !a.Currency().Valid() {
		return invalid("%s has no known currency", field)
	}
	return nil
}

// Validate checks c against the rules of Click, and returns an error wrapping ErrInvalid
// that names the first broken rule.
func (c Click) Validate() error {
	if c.ID.IsZero() {
		return invalid("click: id is required")
	}
	if err := checkKey("click: affiliate id", c.AffiliateID, true); err != nil {
		return err
	}
	if err := checkKey("click: campaign id", c.CampaignID, false); err != nil {
		return err
	}
	if err := checkSubIDs("click", c.SubIDs); err != nil {
		return err
	}
	if err := checkForeign("click: foreign id", c.ForeignClickID); err != nil {
		return err
	}
	if err := checkText("click: user agent", c.UserAgent, MaxUserAgentLen); err != nil {
		return err
	}
	if err := checkText("click: landing", c.Landing, MaxURLLen); err != nil {
		return err
	}
	return checkTime("click: created at", c.CreatedAt)
}

// Normalize returns c as every store keeps it: times normalised, an empty SubIDs as nil, the
// IP unmapped (an IPv4-mapped IPv6 address as IPv4), slices not shared with c.
func (c Click) Normalize() Click {
	c.CreatedAt = NormalizeTime(c.CreatedAt)
	c.SubIDs = cloneSubIDs(c.SubIDs)
	c.IP = c.IP.Unmap()
	return c
}

// Equal reports whether c and o are the same click, field by field.
func (c Click) Equal(o Click) bool {
	return c.ID == o.ID && c.AffiliateID == o.AffiliateID && c.CampaignID == o.CampaignID &&
		slices.Equal(c.SubIDs, o.SubIDs) && c.ForeignClickID == o.ForeignClickID && c.IP == o.IP &&
		c.UserAgent == o.UserAgent && c.Landing == o.Landing && c.CreatedAt.Equal(o.CreatedAt)
}

// Validate checks b against the rules of PlayerBinding.
func (b PlayerBinding) Validate() error {
	if err := checkKey("binding: player id", b.PlayerID, true); err != nil {
		return err
	}
	if err := checkKey("binding: affiliate id", b.AffiliateID, true); err != nil {
		return err
	}
	if err := checkKey("binding: campaign id", b.CampaignID, false); err != nil {
		return err
	}
	switch b.Method {
	case BindByClick, BindByToken, BindByPromoCode, BindManually:
	default:
		return invalid("binding: unknown method %q", b.Method)
	}
	return checkTime("binding: bound at", b.BoundAt)
}

// Normalize returns b with its time normalised.
func (b PlayerBinding) Normalize() PlayerBinding {
	b.BoundAt = NormalizeTime(b.BoundAt)
	return b
}

// SameBinding reports whether b and o bind the player the same way: same affiliate, campaign
// and click. A second BindPlayer with the same binding is a duplicate, otherwise a conflict.
func (b PlayerBinding) SameBinding(o PlayerBinding) bool {
	return b.PlayerID == o.PlayerID && b.AffiliateID == o.AffiliateID && b.CampaignID == o.CampaignID && b.ClickID == o.ClickID
}

// Equal reports whether b and o are the same binding, field by field: SameBinding, and the
// same method and time. A rebind replaces a binding only if it is still Equal to the one the
// caller saw (RecordConversionParams.RebindFrom).
func (b PlayerBinding) Equal(o PlayerBinding) bool {
	return b.SameBinding(o) && b.Method == o.Method && b.BoundAt.Equal(o.BoundAt)
}

// Validate checks c against the rules of Conversion.
func (c Conversion) Validate() error {
	if c.ID == uuid.Nil {
		return invalid("conversion: id is required")
	}
	for _, f := range []struct {
		name, v  string
		required bool
	}{
		{"conversion: dedup key", c.DedupKey, true},
		{"conversion: source", c.Source, false},
		{"conversion: event", string(c.Event), true},
		{"conversion: player id", c.PlayerID, false},
		{"conversion: affiliate id", c.AffiliateID, false},
		{"conversion: campaign id", c.CampaignID, false},
		{"conversion: transaction id", c.TransactionID, false},
		{"conversion: decision model", c.Decision.Model, false},
		{"conversion: decision code", c.Decision.Code, false},
	} {
		if err := checkKey(f.name, f.v, f.required); err != nil {
			return err
		}
	}
	if err := checkSubIDs("conversion", c.SubIDs); err != nil {
		return err
	}
	if err := checkForeign("conversion: foreign click id", c.ForeignClickID); err != nil {
		return err
	}
	if err := checkText("conversion: decision reason", c.Decision.Reason, MaxTextLen); err != nil {
		return err
	}
	if err := checkAmount("conversion: amount", c.Amount, true); err != nil {
		return err
	}
	if c.Amount.Sign() < 0 {
		return invalid("conversion: amount %s is negative; a reversal is a status change with negative ledger lines", c.Amount)
	}
	if !c.Status.Valid() {
		return invalid("conversion: unknown status %q", c.Status)
	}
	return checkTime("conversion: received at", c.ReceivedAt)
}

// Normalize returns c with its times normalised, an empty SubIDs as nil (others not shared
// with c), and its History reset to the record's first entry, as RecordConversion stores it.
func (c Conversion) Normalize() Conversion {
	return c.NormalizeIn(make([]StatusChange, 1))
}

// NormalizeIn is Normalize with the History's entry written in history, which must have a
// length of one or more: for a store that keeps a record and its History in one allocation.
// The History returned is history[:1:1].
func (c Conversion) NormalizeIn(history []StatusChange) Conversion {
	c.SubIDs = cloneSubIDs(c.SubIDs)
	c.OccurredAt = NormalizeTime(c.OccurredAt)
	c.ReceivedAt = NormalizeTime(c.ReceivedAt)
	history[0] = StatusChange{Status: c.Status, At: c.ReceivedAt}
	c.History = history[:1:1]
	return c
}

// Validate checks l against the rules of LedgerLine.
func (l LedgerLine) Validate() error {
	if l.ID == uuid.Nil {
		return invalid("ledger line: id is required")
	}
	for _, f := range []struct {
		name, v  string
		required bool
	}{
		{"ledger line: affiliate", l.AffiliateID, true},
		{"ledger line: plan", l.Plan, false},
		{"ledger line: player", l.PlayerID, false},
		{"ledger line: event", l.EventID, false},
		{"ledger line: reverses", l.Reverses, false},
		{"ledger line: detail: country", l.Detail.Country, false},
		{"ledger line: detail: sub", l.Detail.Sub, false},
	} {
		if err := checkKey(f.name, f.v, f.required); err != nil {
			return err
		}
	}
	if !l.Kind.Valid() {
		return invalid("ledger line %s: unknown kind %d", l.ID, l.Kind)
	}
	if !l.Rule.Valid() {
		return invalid("ledger line %s: unknown rule %d", l.ID, l.Rule)
	}
	if !l.Mode.Valid() {
		return invalid("ledger line %s: unknown rounding mode %d", l.ID, l.Mode)
	}
	if err := checkAmount("ledger line: amount", l.Amount, false); err != nil {
		return err
	}
	if l.Base == (money.Amount{}) {
		return invalid("ledger line %s: a base is required: a zero amount of %s when the rule applied to nothing", l.ID, l.Amount.Currency())
	}
	if l.Base.Currency() != l.Amount.Currency() {
		return invalid("ledger line %s: base %s is not in the amount's currency %s", l.ID, l.Base, l.Amount.Currency())
	}
	if err := checkFX(l); err != nil {
		return err
	}
	if err := checkDetailAmounts(l); err != nil {
		return err
	}
	switch l.Kind {
	case commission.KindAccrual:
		if l.Amount.Sign() < 0 {
			return invalid("ledger line %s: an accrual of %s is negative; use a reversal, clawback or adjustment", l.ID, l.Amount)
		}
	case commission.KindReversal, commission.KindClawback:
		if l.Amount.Sign() > 0 {
			return invalid("ledger line %s: a %s of %s is positive", l.ID, l.Kind, l.Amount)
		}
	case commission.KindCarryover:
		if !l.Amount.IsZero() {
			return invalid("ledger line %s: a carryover's amount is zero, not %s; its balance is its base", l.ID, l.Amount)
		}
		if l.Base.Sign() > 0 {
			return invalid("ledger line %s: a carryover carries a negative balance, not %s", l.ID, l.Base)
		}
	}
	if l.Reason != "" {
		return invalid("ledger line %s: a line with a reason (%q) pays nothing and belongs in no ledger", l.ID, l.Reason)
	}
	if l.Tier < 0 || l.Level < 0 {
		return invalid("ledger line %s: negative tier or level", l.ID)
	}
	if l.Period.Start.IsZero() != l.Period.End.IsZero() || (!l.Period.Start.IsZero() && !l.Period.End.After(l.Period.Start)) {
		return invalid("ledger line %s: period must have a start before its end, or neither", l.ID)
	}
	if err := checkTime("ledger line: at", l.At); err != nil {
		return err
	}
	if err := checkTime("ledger line: payable", l.Payable); err != nil {
		return err
	}
	if l.Payable.Before(l.At) {
		return invalid("ledger line %s: payable before it accrued", l.ID)
	}
	return checkTime("ledger line: created at", l.CreatedAt)
}

// checkFX checks a line's exchange rate, if any: known currencies, into the line's currency,
// a positive rate, a source and a time.
func checkFX(l LedgerLine) error {
	x := l.FX
	if x == nil {
		return nil
	}
	if !x.From.Valid() || x.To != l.Amount.Currency() || x.Rate.Sign() <= 0 || x.At.IsZero() {
		return invalid("ledger line %s: exchange rate %s→%s at %s: want known currencies into the line's %s, a positive rate and a time", l.ID, x.From, x.To, x.Rate, l.Amount.Currency())
	}
	return checkKey("ledger line: exchange rate source", x.Source, true)
}

// checkDetailAmounts checks that every amount of a line's Detail is unset or in a known
// currency: what a store can keep.
func checkDetailAmounts(l LedgerLine) error {
	d := l.Detail
	as := []money.Amount{d.NGR, d.Fenced, d.CarryIn, d.PerLot, d.Commission}
	if r := d.Revenue; r != nil {
		as = append(as, r.GGR, r.Bonuses, r.Deposits, r.Withdrawals, r.Fees, r.Taxes, r.Adjustments)
	}
	if r := d.RevShare; r != nil {
		as = append(as, r.HighRoller)
		for _, t := range r.Tiers {
			as = append(as, t.From)
		}
	}
	for _, a := range as {
		if a != (money.Amount{}) && !a.Currency().Valid() {
			return invalid("ledger line %s: an amount of its detail has no known currency", l.ID)
		}
	}
	return nil
}

// Normalize returns l with its times normalised and the values it refers to (its exchange
// rate, and its Detail's revenue and RevShare terms) copied, so that it shares nothing with l.
func (l LedgerLine) Normalize() LedgerLine {
	l.CreatedAt = NormalizeTime(l.CreatedAt)
	l.At = NormalizeTime(l.At)
	l.Payable = NormalizeTime(l.Payable)
	l.Period.Start = NormalizeTime(l.Period.Start)
	l.Period.End = NormalizeTime(l.Period.End)
	if l.FX != nil {
		fx := *l.FX
		fx.At = NormalizeTime(fx.At)
		l.FX = &fx
	}
	if l.Detail.Revenue != nil {
		rev := *l.Detail.Revenue
		l.Detail.Revenue = &rev
	}
	if l.Detail.RevShare != nil {
		rs := *l.Detail.RevShare
		rs.NGR, rs.Tiers = slices.Clone(rs.NGR), slices.Clone(rs.Tiers)
		l.Detail.RevShare = &rs
	}
	return l
}

// Validate checks d against the rules of a new Delivery: pending, due at NextAttemptAt, never
// replayed, with no attempts yet.
func (d Delivery) Validate() error {
	if d.ID == uuid.Nil {
		return invalid("delivery: id is required")
	}
	if err := checkKey("delivery: endpoint", d.Endpoint, true); err != nil {
		return err
	}
	if d.Method != http.MethodGet && d.Method != http.MethodPost {
		return invalid("delivery %s: method %q, want GET or POST", d.ID, d.Method)
	}
	if d.URL == "" {
		return invalid("delivery %s: url is required", d.ID)
	}
	if err := checkText("delivery: url", d.URL, MaxURLLen); err != nil {
		return err
	}
	if len(d.Body) > MaxBodyLen {
		return invalid("delivery %s: body has %d bytes, at most %d allowed", d.ID, len(d.Body), MaxBodyLen)
	}
	for k, vs := range d.Header {
		if err := checkText("delivery: header name", k, MaxKeyLen); err != nil {
			return err
		}
		for _, v := range vs {
			if err := checkText("delivery: header "+k, v, MaxTextLen); err != nil {
				return err
			}
		}
	}
	if d.Status != DeliveryPending {
		return invalid("delivery %s: a new delivery is pending, not %q", d.ID, d.Status)
	}
	if len(d.Attempts) != 0 {
		return invalid("delivery %s: a new delivery has no attempts", d.ID)
	}
	if !d.ReplayedAt.IsZero() {
		return invalid("delivery %s: a new delivery was never replayed: ReplayedAt is written by the store", d.ID)
	}
	if err := checkTime("delivery: next attempt at", d.NextAttemptAt); err != nil {
		return err
	}
	return checkTime("delivery: created at", d.CreatedAt)
}

// Normalize returns d with its times normalised and its header and body not shared with d.
func (d Delivery) Normalize() Delivery {
	d.NextAttemptAt = NormalizeTime(d.NextAttemptAt)
	d.CreatedAt = NormalizeTime(d.CreatedAt)
	d.ReplayedAt = NormalizeTime(d.ReplayedAt)
	if len(d.Header) == 0 {
		d.Header = nil
	} else {
		d.Header = d.Header.Clone()
	}
	if len(d.Body) == 0 {
		d.Body = nil
	} else {
		d.Body = slices.Clone(d.Body)
	}
	d.Attempts = nil
	return d
}

// Validate checks a against the rules of Attempt.
func (a Attempt) Validate() error {
	if err := checkTime("attempt: started at", a.StartedAt); err != nil {
		return err
	}
	if err := checkTime("attempt: finished at", a.FinishedAt); err != nil {
		return err
	}
	if a.FinishedAt.Before(a.StartedAt) {
		return invalid("attempt: finished before it started")
	}
	if a.StatusCode < 0 || a.StatusCode > 999 {
		return invalid("attempt: status code %d", a.StatusCode)
	}
	if err := checkText("attempt: response", a.Response, MaxTextLen); err != nil {
		return err
	}
	return checkText("attempt: error", a.Error, MaxTextLen)
}

// Normalize returns a with its times normalised.
func (a Attempt) Normalize() Attempt {
	a.StartedAt = NormalizeTime(a.StartedAt)
	a.FinishedAt = NormalizeTime(a.FinishedAt)
	return a
}

// checkCaused checks the ledger lines and deliveries caused by conversion id: valid, theirs,
// with distinct IDs, and one currency per affiliate (an event credits an affiliate in one
// currency; converting is the caller's job, with a recorded rate).
func checkCaused(id uuid.UUID, ledger []LedgerLine, deliveries []Delivery) error {
	if len(ledger) > MaxLines || len(deliveries) > MaxLines {
		return invalid("at most %d ledger lines and %d deliveries per call", MaxLines, MaxLines)
	}
	seen := make(map[uuid.UUID]bool, len(ledger)+len(deliveries))
	currencies := make(map[string]money.Currency, 2)
	for _, l := range ledger {
		if err := l.Validate(); err != nil {
			return err
		}
		if l.ConversionID != id {
			return invalid("ledger line %s: conversion id %s, want %s", l.ID, l.ConversionID, id)
		}
		if cur, ok := currencies[l.AffiliateID]; ok && cur != l.Amount.Currency() {
			return invalid("ledger line %s: mismatched currencies: affiliate %q is credited in %s and %s by one event", l.ID, l.AffiliateID, cur, l.Amount.Currency())
		}
		currencies[l.AffiliateID] = l.Amount.Currency()
		if seen[l.ID] {
			return invalid("ledger line %s: id given twice", l.ID)
		}
		seen[l.ID] = true
	}
	for _, d := range deliveries {
		if err := d.Validate(); err != nil {
			return err
		}
		if d.ConversionID != id {
			return invalid("delivery %s: conversion id %s, want %s", d.ID, d.ConversionID, id)
		}
		if seen[d.ID] {
			return invalid("delivery %s: id given twice", d.ID)
		}
		seen[d.ID] = true
	}
	return nil
}

// Validate checks p: at most MaxClicks clicks, each valid, no ID given twice. The error wraps
// ErrInvalid and names the first broken rule and the click's position in the batch.
func (p InsertClicksParams) Validate() error {
	return checkBatch("insert clicks", "click", p.Clicks, MaxClicks, Click.Validate, func(c Click) clickid.ID { return c.ID })
}

// checkBatch checks the records of a batch write: at most max of them, each valid, no key
// given twice. The error wraps ErrInvalid and names the record's position in the batch.
func checkBatch[T any, K comparable](call, record string, batch []T, max int, validate func(T) error, key func(T) K) error {
	if len(batch) > max {
		return invalid("%s: %d %ss, at most %d per call", call, len(batch), record, max)
	}
	seen := make(map[K]int, len(batch))
	for i, r := range batch {
		if err := validate(r); err != nil {
			return fmt.Errorf("%s: %s %d of the batch: %w", call, record, i, err)
		}
		k := key(r)
		if j, ok := seen[k]; ok {
			return invalid("%s: %s %d of the batch has the ID of %s %d, %v", call, record, i, record, j, k)
		}
		seen[k] = i
	}
	return nil
}

// Validate checks p: a foreign click ID that a click can carry, and a campaign ID under
// CheckKey's rules.
func (p GetClickByForeignParams) Validate() error {
	if p.ForeignClickID == "" {
		return invalid("get click by foreign id: a foreign click id is required")
	}
	if err := checkForeign("get click by foreign id: foreign click id", p.ForeignClickID); err != nil {
		return err
	}
	return checkKey("get click by foreign id: campaign id", p.CampaignID, false)
}

// Normalize returns p with every click normalised, in a slice of its own.
func (p InsertClicksParams) Normalize() InsertClicksParams {
	p.Clicks = normalizeAll(p.Clicks, Click.Normalize)
	return p
}

// Validate checks p: at most MaxLines lines, each valid, no ID given twice. The error wraps
// ErrInvalid and names the first broken rule and the line's position in the batch.
func (p InsertLedgerLinesParams) Validate() error {
	return checkBatch("insert ledger lines", "ledger line", p.Lines, MaxLines, LedgerLine.Validate, func(l LedgerLine) uuid.UUID { return l.ID })
}

// Normalize returns p with every line normalised, in a slice of its own.
func (p InsertLedgerLinesParams) Normalize() InsertLedgerLinesParams {
	p.Lines = normalizeAll(p.Lines, LedgerLine.Normalize)
	return p
}

// Validate checks p: the conversion, lines and deliveries that belong to it, and valid
// increments of distinct counters.
func (p RecordConversionParams) Validate() error {
	if err := p.Conversion.Validate(); err != nil {
		return err
	}
	if err := checkCaused(p.Conversion.ID, p.Ledger, p.Deliveries); err != nil {
		return err
	}
	if err := checkIncrements("record conversion", p.Increments); err != nil {
		return err
	}
	if p.Binding != nil {
		if err := p.Binding.Validate(); err != nil {
			return fmt.Errorf("record conversion: %w", err)
		}
		if p.Binding.PlayerID != p.Conversion.PlayerID {
			return invalid("record conversion: binding: player id %q is not the conversion's player id %q", p.Binding.PlayerID, p.Conversion.PlayerID)
		}
	}
	if p.RebindFrom != nil {
		if p.Binding == nil {
			return invalid("record conversion: rebind from: needs the binding that replaces it")
		}
		if err := p.RebindFrom.Validate(); err != nil {
			return fmt.Errorf("record conversion: rebind from: %w", err)
		}
		if p.RebindFrom.PlayerID != p.Binding.PlayerID {
			return invalid("record conversion: rebind from: player id %q is not the binding's player id %q", p.RebindFrom.PlayerID, p.Binding.PlayerID)
		}
	}
	return nil
}

// Normalize returns p with every record normalised, and its increments in a slice of its own,
// sorted by counter: the order in which stores apply them (and a database locks their rows),
// so that concurrent writes of the same counters cannot deadlock.
func (p RecordConversionParams) Normalize() RecordConversionParams {
	p.Conversion = p.Conversion.Normalize()
	p.Ledger = normalizeAll(p.Ledger, LedgerLine.Normalize)
	p.Deliveries = normalizeAll(p.Deliveries, Delivery.Normalize)
	p.Increments = sortedIncrements(p.Increments)
	if p.Binding != nil {
		b := p.Binding.Normalize()
		p.Binding = &b
	}
	if p.RebindFrom != nil {
		b := p.RebindFrom.Normalize()
		p.RebindFrom = &b
	}
	return p
}

// checkIncrements checks the increments of a write: at most MaxLines, each valid, no counter
// given twice.
func checkIncrements(call string, incs []Increment) error {
	if len(incs) > MaxLines {
		return invalid("%s: %d increments, at most %d per call", call, len(incs), MaxLines)
	}
	seen := make(map[string]int, len(incs))
	for i, inc := range incs {
		if err := inc.Validate(); err != nil {
			return fmt.Errorf("%s: increment %d: %w", call, i, err)
		}
		if j, ok := seen[inc.Counter]; ok {
			return invalid("%s: increments %d and %d are of one counter %q: give one increment per counter", call, j, i, inc.Counter)
		}
		seen[inc.Counter] = i
	}
	return nil
}

// sortedIncrements returns incs sorted by counter, in a slice of its own; nil when empty.
func sortedIncrements(incs []Increment) []Increment {
	if len(incs) == 0 {
		return nil
	}
	out := slices.Clone(incs)
	slices.SortFunc(out, func(a, b Increment) int { return strings.Compare(a.Counter, b.Counter) })
	return out
}

// Validate checks p.
func (p ChangeStatusParams) Validate() error {
	if p.ConversionID == uuid.Nil {
		return invalid("status change: conversion id is required")
	}
	if !p.From.Valid() || !p.To.Valid() {
		return invalid("status change: unknown status %q or %q", p.From, p.To)
	}
	if err := checkText("status change: reason", p.Reason, MaxTextLen); err != nil {
		return err
	}
	if err := checkTime("status change: at", p.At); err != nil {
		return err
	}
	if err := checkCaused(p.ConversionID, p.Ledger, p.Deliveries); err != nil {
		return err
	}
	if err := checkIncrements("status change", p.Increments); err != nil {
		return err
	}
	return checkResolve("status change", p.Resolve)
}

// Normalize returns p with every record normalised, its increments sorted by counter, as
// [RecordConversionParams.Normalize] does, and the parked events it resolves sorted by ID, in
// slices of their own.
func (p ChangeStatusParams) Normalize() ChangeStatusParams {
	p.At = NormalizeTime(p.At)
	p.Ledger = normalizeAll(p.Ledger, LedgerLine.Normalize)
	p.Deliveries = normalizeAll(p.Deliveries, Delivery.Normalize)
	p.Increments = sortedIncrements(p.Increments)
	p.Resolve = sortedIDs(p.Resolve)
	return p
}

// checkResolve checks the IDs of the parked events a call resolves: at most MaxLines, none
// zero, none given twice.
func checkResolve(call string, ids []uuid.UUID) error {
	if len(ids) > MaxLines {
		return invalid("%s: %d parked events to resolve, at most %d per call", call, len(ids), MaxLines)
	}
	seen := make(map[uuid.UUID]int, len(ids))
	for i, id := range ids {
		if id == uuid.Nil {
			return invalid("%s: parked event %d to resolve has the zero ID", call, i)
		}
		if j, ok := seen[id]; ok {
			return invalid("%s: parked events %d and %d to resolve are one, %s: give each once", call, j, i, id)
		}
		seen[id] = i
	}
	return nil
}

// sortedIDs returns ids sorted, in a slice of its own; nil when empty.
func sortedIDs(ids []uuid.UUID) []uuid.UUID {
	if len(ids) == 0 {
		return nil
	}
	out := slices.Clone(ids)
	slices.SortFunc(out, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
	return out
}

// Validate checks p against the rules of a new ParkedEvent. The error wraps ErrInvalid and
// names the first broken rule.
func (p ParkedEvent) Validate() error {
	if p.ID == uuid.Nil {
		return invalid("parked event: id is required")
	}
	if err := p.Conversion.Validate(); err != nil {
		return fmt.Errorf("parked event %s: %w", p.ID, err)
	}
	if p.Conversion.Source == "" || p.Conversion.TransactionID == "" {
		return invalid("parked event %s: a source and a transaction id are required, by which it is found when its original is recorded", p.ID)
	}
	if err := checkTime("parked event: parked at", p.ParkedAt); err != nil {
		return err
	}
	if !p.ResolvedAt.IsZero() || p.AppliedTo != uuid.Nil {
		return invalid("parked event %s: a new parked event is unresolved: ResolvedAt and AppliedTo are written by the store", p.ID)
	}
	return nil
}

// Normalize returns p as every store keeps it: its times normalised, its Conversion
// normalised without a History, its slices not shared with p.
func (p ParkedEvent) Normalize() ParkedEvent {
	p.Conversion = p.Conversion.Normalize()
	p.Conversion.History = nil
	p.ParkedAt = NormalizeTime(p.ParkedAt)
	p.ResolvedAt = NormalizeTime(p.ResolvedAt)
	return p
}

// Validate checks p.
func (p ListParkedParams) Validate() error {
	if err := checkKey("list parked: source", p.Source, false); err != nil {
		return err
	}
	if err := checkKey("list parked: transaction id", p.TransactionID, false); err != nil {
		return err
	}
	if p.TransactionID != "" && p.Source == "" {
		return invalid("list parked: a transaction id needs its source: transaction IDs are the senders'")
	}
	if p.Limit < 0 {
		return invalid("list parked: negative limit")
	}
	return nil
}

// Validate checks p.
func (p ResolveParkedParams) Validate() error {
	if err := checkResolve("resolve parked", p.IDs); err != nil {
		return err
	}
	return checkTime("resolve parked: at", p.At)
}

// Normalize returns p with its time normalised and its IDs sorted, in a slice of its own.
func (p ResolveParkedParams) Normalize() ResolveParkedParams {
	p.At = NormalizeTime(p.At)
	p.IDs = sortedIDs(p.IDs)
	return p
}

func normalizeAll[T any](in []T, f func(T) T) []T {
	if len(in) == 0 {
		return nil
	}
	out := make([]T, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}

func checkRange(what string, from, to time.Time, limit int) error {
	if from.IsZero() || to.IsZero() || !to.After(from) {
		return invalid("%s: the range needs From before To", what)
	}
	if limit < 0 {
		return invalid("%s: negative limit", what)
	}
	return nil
}

// Validate checks p: a source and a transaction ID, each passing [CheckKey], and a limit
// that is not negative.
func (p ListConversionsByTransactionParams) Validate() error {
	if err := checkKey("list conversions by transaction: source", p.Source, true); err != nil {
		return err
	}
	if err := checkKey("list conversions by transaction: transaction id", p.TransactionID, true); err != nil {
		return err
	}
	if p.Limit < 0 {
		return invalid("list conversions by transaction: negative limit")
	}
	return nil
}

// Validate checks p: a player ID passing [CheckKey] and an AsOf that is not zero.
func (p LastActivityParams) Validate() error {
	if err := checkKey("last activity: player id", p.PlayerID, true); err != nil {
		return err
	}
	if p.AsOf.IsZero() {
		return invalid("last activity: the zero AsOf")
	}
	return nil
}

// Validate checks p.
func (p ListConversionsParams) Validate() error {
	if err := checkKey("list conversions: affiliate id", p.AffiliateID, true); err != nil {
		return err
	}
	return checkRange("list conversions", p.From, p.To, p.Limit)
}

// Validate checks p.
func (p ListLedgerLinesParams) Validate() error {
	if err := checkKey("list ledger lines: affiliate id", p.AffiliateID, true); err != nil {
		return err
	}
	if p.By != ByCreatedAt && p.By != ByStatementTime {
		return invalid("list ledger lines: unknown LedgerTime %d", p.By)
	}
	return checkRange("list ledger lines", p.From, p.To, p.Limit)
}

// Validate checks p.
func (p LeaseParams) Validate() error {
	if p.Now.IsZero() || p.LeaseFor <= 0 || p.Limit < 0 {
		return invalid("lease: Now and a positive LeaseFor are required, Limit must not be negative")
	}
	if len(p.Exclude) > MaxLines {
		return invalid("lease: %d excluded endpoints, at most %d allowed", len(p.Exclude), MaxLines)
	}
	for _, name := range p.Exclude {
		if err := checkKey("lease: excluded endpoint", name, true); err != nil {
			return err
		}
	}
	return nil
}

// Validate checks p.
func (p RecordAttemptParams) Validate() error {
	if p.DeliveryID == uuid.Nil {
		return invalid("record attempt: delivery id is required")
	}
	if err := p.Attempt.Validate(); err != nil {
		return err
	}
	switch p.Status {
	case DeliveryDelivered, DeliveryDead:
	case DeliveryPending:
		if !p.NextAttemptAt.After(p.Attempt.FinishedAt) {
			return invalid("record attempt: a retry (status pending) needs NextAttemptAt after the attempt")
		}
	default:
		return invalid("record attempt: unknown delivery status %q", p.Status)
	}
	return nil
}

// Validate checks p.
func (p ListDeliveriesParams) Validate() error {
	if !p.Status.Valid() {
		return invalid("list deliveries: unknown status %q", p.Status)
	}
	if err := checkKey("list deliveries: endpoint", p.Endpoint, false); err != nil {
		return err
	}
	if p.Limit < 0 {
		return invalid("list deliveries: negative limit")
	}
	return nil
}

// Validate checks p.
func (p ReplayDeliveryParams) Validate() error {
	if p.DeliveryID == uuid.Nil || p.At.IsZero() {
		return invalid("replay delivery: delivery id and At are required")
	}
	return nil
}

// Validate checks p.
func (p ReplayDeliveriesParams) Validate() error {
	if err := checkKey("replay deliveries: endpoint", p.Endpoint, true); err != nil {
		return err
	}
	if p.At.IsZero() {
		return invalid("replay deliveries: At is required")
	}
	return nil
}

// Validate checks p.
func (p ListEndpointsParams) Validate() error {
	if err := checkKey("list endpoints: after", p.After, false); err != nil {
		return err
	}
	if p.Limit < 0 {
		return invalid("list endpoints: negative limit")
	}
	return nil
}

// Validate checks p.
func (p DisableEndpointParams) Validate() error {
	if err := checkKey("disable endpoint: name", p.Name, true); err != nil {
		return err
	}
	if p.Reason == "" {
		return invalid("disable endpoint %s: a reason is required", p.Name)
	}
	if err := checkText("disable endpoint: reason", p.Reason, MaxTextLen); err != nil {
		return err
	}
	return checkTime("disable endpoint: at", p.At)
}

// Validate checks p.
func (p EnableEndpointParams) Validate() error {
	if err := checkKey("enable endpoint: name", p.Name, true); err != nil {
		return err
	}
	return checkTime("enable endpoint: at", p.At)
}
