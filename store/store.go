package store

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/s2skit/s2s/clickid"
)

// Sentinel errors. Implementations return them wrapped with context, keeping any native error
// (a PostgreSQL unique violation, say) in the chain; callers test with errors.Is.
var (
	// ErrNotFound reports that the requested record does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrDuplicate reports a record whose key exists already with the same content: a retry.
	// Nothing was written, and the method returns the stored original with it.
	ErrDuplicate = errors.New("store: duplicate")
	// ErrConflict reports a record whose key exists already with different content, or a
	// status change whose expected current status does not match. Nothing was written, and the
	// method returns the stored record with it.
	ErrConflict = errors.New("store: conflict")
	// ErrLeaseLost reports a delivery lease that has expired or been taken by another worker:
	// its holder must not record the attempt. The fencing token makes this exact.
	ErrLeaseLost = errors.New("store: lease lost")
	// ErrInvalid reports a record or parameter that breaks the rules of its type. It is
	// returned before anything is written.
	ErrInvalid = errors.New("store: invalid")
	// ErrLimit reports a write refused because one of its increments would take a counter
	// past its limit (see [Increment]). Nothing of the write was written. Stores return it
	// as a [*LimitError], which names the counter.
	ErrLimit = errors.New("store: limit reached")
	// ErrSerialization reports that the database could not serialize the call with a
	// concurrent transaction and aborted it: SQLSTATE 40001 (serialization_failure), which
	// PostgreSQL raises under REPEATABLE READ or SERIALIZABLE where READ COMMITTED would have
	// waited and decided (ErrDuplicate, ErrConflict), and which serializable engines such as
	// CockroachDB raise as their retry error; or a deadlock (40P01). Nothing of the call was
	// written, and the same call may succeed when retried: a call on its own transaction is
	// retried as it is; a call in a host's transaction needs the whole transaction retried,
	// since its snapshot already lost. An in-memory store never returns it.
	ErrSerialization = errors.New("store: serialization failure")
)

// TimePrecision is the precision every store keeps: times are stored in UTC, truncated to the
// microsecond (PostgreSQL's timestamptz), so a record reads back equal however it is stored.
const TimePrecision = time.Microsecond

// NormalizeTime returns t in UTC, truncated to [TimePrecision] and without a monotonic clock
// reading: the form in which every store keeps and returns times.
func NormalizeTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(TimePrecision).Round(0)
}

// Every method honours its context: a canceled or expired context fails the call with the
// context's error (errors.Is(err, context.Canceled)), and a refused write writes nothing.
// Parameters are checked first: invalid parameters are ErrInvalid whatever the context, so
// that a call fails the same way in every store.

// Store is the whole storage contract of s2s: every role together. Implementations are safe
// for concurrent use by many goroutines (and, for shared databases, many processes), and must
// pass the conformance suite in package storetest.
//
// The store package is pre-1.0: methods may be added to these interfaces in minor releases.
// Optional capabilities come as separate interfaces detected by type assertion.
type Store interface {
	ClickStore
	BindingStore
	ConversionStore
	LedgerStore
	DeliveryStore
	EndpointStore
	CounterStore
	ParkedStore
	InboundStore
	RevenueStore
	ReportStore
	PeriodStore
}

// ClickStore keeps clicks.
type ClickStore interface {
	// InsertClick stores a click. The caller guarantees nothing: an invalid click is refused
	// with an error wrapping ErrInvalid. A click whose ID exists already is refused with
	// ErrDuplicate (identical click) or ErrConflict (another click with that ID).
	InsertClick(ctx context.Context, c Click) error

	// InsertClicks stores many clicks at once, for high click volume. It is all or nothing:
	// parameters that fail [InsertClicksParams.Validate] (an invalid click, an ID given twice,
	// too many clicks) are refused with ErrInvalid; a batch with clicks whose IDs exist
	// already fails with ErrConflict if one of them exists with other content, otherwise with
	// ErrDuplicate (the batch is a retry). A refused batch stores none of its clicks. An empty
	// batch is a no-op.
	InsertClicks(ctx context.Context, p InsertClicksParams) error

	// GetClick returns the click with the given ID, or an error wrapping ErrNotFound. The
	// zero ID, which no click has, is ErrInvalid. The returned click is the caller's own:
	// its slices are not shared with the store.
	GetClick(ctx context.Context, id clickid.ID) (Click, error)

	// GetClickByForeign returns a click by the foreign click ID it carries
	// ([Click].ForeignClickID: a network's click ID, a gclid), for a postback that names its
	// click by another party's ID. Foreign IDs are not unique: a visitor who follows a link
	// twice with one gclid makes two clicks that carry it, and two senders' IDs may be equal.
	// Of the clicks that carry p.ForeignClickID (of campaign p.CampaignID only, when it is
	// set) and were created at or before p.AsOf (at any time, when it is zero), it returns the
	// latest: by CreatedAt, then by ID. None is ErrNotFound, even when a click created after
	// p.AsOf carries the ID: a caller that wants to know (to reject an event that claims to
	// occur before its click, say) asks again with a zero AsOf. Parameters that fail
	// [GetClickByForeignParams.Validate] (no foreign ID, or one that no click can carry) are
	// ErrInvalid. The returned click is the caller's own.
	GetClickByForeign(ctx context.Context, p GetClickByForeignParams) (Click, error)
}

// BindingStore keeps the binding of players to the affiliates who acquired them.
type BindingStore interface {
	// BindPlayer records that b.PlayerID belongs to b.AffiliateID, if the player is not bound
	// yet: the first binding wins, and among concurrent calls for one player exactly one does.
	// For a player bound already it writes nothing and returns the stored binding with
	// ErrDuplicate (same affiliate, campaign and click) or ErrConflict (anything else).
	BindPlayer(ctx context.Context, b PlayerBinding) (PlayerBinding, error)

	// GetBinding returns the binding of a player, or an error wrapping ErrNotFound. A player
	// ID that no binding can have (empty, or failing [CheckKey]) is ErrInvalid.
	GetBinding(ctx context.Context, playerID string) (PlayerBinding, error)
}

// ConversionStore keeps conversions with their status history. It is where "exactly once" is
// won: a conversion, its ledger lines and its outbound deliveries commit together or not at
// all, and among any number of concurrent records with one dedup key exactly one wins.
type ConversionStore interface {
	// RecordConversion stores p.Conversion with its ledger lines and deliveries, atomically.
	//
	// If no conversion has p.Conversion.DedupKey, it writes everything and returns the
	// conversion as stored. Otherwise it writes nothing and returns the stored original with
	// an error wrapping ErrDuplicate (same content, see [Conversion.SameContent]) or
	// ErrConflict (different content). Among concurrent calls with one dedup key exactly one
	// writes. Invalid parameters are refused with ErrInvalid before anything is written. A
	// conversion ID taken under another dedup key, or a ledger line or delivery ID that exists
	// already, is ErrConflict, and writes nothing. Any other failure leaves nothing behind.
	//
	// p.Increments are applied with the record, all or nothing: if one of them would take
	// its counter past its limit ([Increment.Check]), nothing at all is written and the error
	// is a [*LimitError] wrapping ErrLimit, which names the counter. A duplicate or a conflict
	// applies no increment, and is reported as such whatever the counters say, so that a
	// retry always finds its original. Among concurrent writes incrementing one counter
	// against a limit, exactly as many apply as the limit allows.
	//
	// A status is not content: a record that differs from the stored one only in Status (a
	// sender's chargeback of a transaction it sent before) is ErrDuplicate too, and the
	// returned original's Status tells the caller that it is a status update, which it
	// applies with ChangeStatus.
	//
	// p.Binding, when set, is written with the conversion, in the same atomic write: a
	// conversion recorded with a binding never leaves the player unbound, and a refused
	// record binds no one. The first binding of a player wins, as with
	// [BindingStore.BindPlayer]: for a player bound already (by an earlier write, or by a
	// concurrent one that wins), the stored binding stays and the conversion is recorded
	// all the same, with a nil error; among concurrent records binding one player, exactly
	// one binding is stored. With p.RebindFrom set (re-attribution), p.Binding replaces the
	// stored binding instead, only if the stored binding is still p.RebindFrom
	// ([PlayerBinding.Equal]); otherwise (another write replaced it, or the player has no
	// binding) nothing is written and the error is a [*RebindError] wrapping ErrConflict,
	// which carries the binding stored now, so that among concurrent rebinds from one
	// binding exactly one applies. The rebind is checked after the dedup key (a duplicate
	// or a conflict is reported as such, so that a retry finds its original) and the IDs,
	// before the increments. The store keeps a player's current binding only, with the
	// method and time of the write that made it (the new binding's Method and BoundAt); the
	// binding it replaced is told by the player's conversions before the rebind.
	RecordConversion(ctx context.Context, p RecordConversionParams) (Conversion, error)

	// GetConversion returns the conversion with the given ID, or an error wrapping
	// ErrNotFound. The zero ID is ErrInvalid.
	GetConversion(ctx context.Context, id uuid.UUID) (Conversion, error)

	// GetConversionByKey returns the conversion with the given dedup key, or an error
	// wrapping ErrNotFound. A key that no conversion can have (empty, or failing
	// [CheckKey]) is ErrInvalid.
	GetConversionByKey(ctx context.Context, dedupKey string) (Conversion, error)

	// ListConversionsByTransaction returns the conversions of source p.Source whose
	// TransactionID is p.TransactionID, with their history, ordered by ReceivedAt then ID,
	// at most p.Limit of them (0 means 100; at most 1000), starting after p.After (the
	// ReceivedAt and ID of the last conversion seen) when it is set. A transaction may hold
	// several conversions, one per event type or dedup key (a registration and its first
	// deposit under one transaction ID, say), and only the source's: transaction IDs are
	// the senders', so another source's equal ID is another transaction. None is an empty
	// list, not an error. Parameters that fail [ListConversionsByTransactionParams.Validate]
	// are ErrInvalid. It is how a reversal finds the conversion it reverses whatever the
	// dedup mode, with one read.
	ListConversionsByTransaction(ctx context.Context, p ListConversionsByTransactionParams) ([]Conversion, error)

	// LastActivity returns the latest event time ([Conversion.EventTime]: OccurredAt, or
	// ReceivedAt when the sender gave none) of the conversions of player p.PlayerID whose
	// event time is at or before p.AsOf, whatever their source, affiliate, event or status:
	// when the player was last active as of an event at p.AsOf, which re-attribution after a
	// span of inactivity reads (attribution.Input.LastActivity). A player with no such
	// conversion has the zero time, with a nil error. Times are compared, and the time is
	// returned, as stored ([NormalizeTime]: p.AsOf too). Parameters that fail [LastActivityParams.Validate] are ErrInvalid.
	LastActivity(ctx context.Context, p LastActivityParams) (time.Time, error)

	// ChangeStatus appends a status change to a conversion, with the ledger lines and
	// deliveries it causes (a reversal's negative line, say), atomically. It applies only if
	// the conversion's current status is p.From; otherwise it writes nothing and returns the
	// stored conversion with an error wrapping ErrConflict, so that of two concurrent changes
	// from one status exactly one applies. History is never edited, only appended to. An
	// unknown conversion is ErrNotFound; invalid parameters are ErrInvalid; a ledger line or
	// delivery ID that exists already is ErrConflict. p.Increments apply with the change as
	// they do with RecordConversion: a change that would take a counter past its limit is
	// a [*LimitError] wrapping ErrLimit (checked after the status: a change from a status the
	// conversion no longer has is ErrConflict). A refused change writes nothing.
	//
	// p.Resolve names the parked events ([ParkedStore]) that the change applies: they are
	// marked resolved with it, at p.At and applied to the conversion, atomically, so that a
	// parked reversal is applied once or not at all. A parked event that does not exist is
	// ErrNotFound; else one resolved already (by a concurrent change, or by ResolveParked)
	// is ErrConflict, with the stored conversion, so that of any number of concurrent calls
	// that resolve one parked event exactly one applies, whichever conversions they change.
	// These are checked after the status and the IDs of the lines and deliveries, before the
	// increments, and either refuses the whole change.
	ChangeStatus(ctx context.Context, p ChangeStatusParams) (Conversion, error)

	// ListConversions returns the conversions of one affiliate whose [Conversion.EventTime]
	// (OccurredAt, or ReceivedAt for a conversion whose sender gave no event time) is in
	// [p.From, p.To), ordered by that time then ID, at most p.Limit of them (0 means 100; at
	// most 1000), starting after p.After (the EventTime and ID of the last conversion seen)
	// when it is set.
	ListConversions(ctx context.Context, p ListConversionsParams) ([]Conversion, error)
}

// LedgerStore keeps ledger lines, which are immutable once written.
type LedgerStore interface {
	// InsertLedgerLines stores lines that belong to no conversion being recorded (period
	// lines: RevShare, carryover, sub-affiliate shares; adjustments), all or nothing.
	// Parameters that fail [InsertLedgerLinesParams.Validate] are refused with ErrInvalid, and
	// so is a line whose ConversionID is set but names no recorded conversion: a line refers
	// to a conversion only once that conversion exists. Lines whose IDs exist already fail the
	// whole call with ErrConflict if one of them exists with other content, otherwise with
	// ErrDuplicate (the call is a retry). A refused call stores none of its lines. An empty
	// call is a no-op.
	InsertLedgerLines(ctx context.Context, p InsertLedgerLinesParams) error

	// ListLedgerLines returns the ledger lines of one affiliate whose p.By time (CreatedAt, or
	// the StatementTime of their commission line) is in [p.From, p.To), ordered by that time
	// then ID, at most p.Limit of them (0 means 100; at most 1000), starting after p.After
	// when it is set. Listed ByStatementTime over a period, they are the lines of the
	// affiliate's statement for that period.
	ListLedgerLines(ctx context.Context, p ListLedgerLinesParams) ([]LedgerLine, error)

	// ListConversionLines returns the ledger lines that refer to conversion p.ConversionID
	// (their ConversionID), whichever call wrote them (RecordConversion, ChangeStatus,
	// InsertLedgerLines), ordered by CreatedAt then ID, at most p.Limit of them (0 means 100;
	// at most 1000), starting after p.After (the CreatedAt and ID of the last line seen) when
	// it is set: what a reversal reads to negate what the conversion earned. A conversion
	// without lines, or one not recorded, has none (an empty result, not ErrNotFound).
	// Parameters that fail [ListConversionLinesParams.Validate] (the zero conversion ID) are
	// ErrInvalid.
	ListConversionLines(ctx context.Context, p ListConversionLinesParams) ([]LedgerLine, error)
}

// CounterStore reads the named counters that writes increment ([Increment]): caps, tier
// counts. Counters are written only with the records that cause them
// (RecordConversionParams.Increments, ChangeStatusParams.Increments), never on their own, so
// that a counter always equals what its records say.
type CounterStore interface {
	// GetCounter returns the value of a counter: the sum of the increments applied to it, 0
	// for a counter never incremented (with a nil error). A name that no counter can have
	// (empty, or failing [CheckCounter]) is ErrInvalid.
	GetCounter(ctx context.Context, counter string) (int64, error)
}

// DeliveryStore is the outbox of outbound postbacks. Deliveries are created with the
// conversion that causes them (RecordConversion, ChangeStatus); workers lease the due ones,
// attempt them and record each attempt.
type DeliveryStore interface {
	// LeaseDeliveries leases up to p.Limit pending deliveries whose next attempt is due at
	// p.Now, oldest due first, for p.LeaseFor. A delivery whose lease has expired is due
	// again. Each lease carries a new fencing token, so a worker whose lease expired (and
	// was given to another) can no longer record an attempt. Concurrent callers never lease
	// the same delivery at once.
	//
	// Deliveries to a disabled endpoint ([EndpointStore.DisableEndpoint]) and to the
	// endpoints named in p.Exclude are not leased: they stay pending, and are due again as
	// soon as their endpoint is enabled or no longer excluded.
	LeaseDeliveries(ctx context.Context, p LeaseParams) ([]Lease, error)

	// RecordAttempt records an attempt made under a lease and moves the delivery to
	// p.Status: delivered, dead (dead-lettered), or pending again for a retry due at
	// p.NextAttemptAt. It ends the lease. It fails with ErrLeaseLost, writing nothing, if the
	// lease's token is no longer the delivery's current one, the delivery is no longer
	// pending, or the lease has expired at p.Attempt.FinishedAt; an unknown delivery is
	// ErrNotFound.
	//
	// With the attempt, atomically, it updates the state of the delivery's endpoint
	// ([EndpointState]), which the store knows from then on: a delivered attempt sets
	// LastSuccessAt to its FinishedAt and clears FailingSince; any other sets FailingSince to
	// its FinishedAt unless it is set already. The state goes by FinishedAt, not by the order
	// in which attempts are recorded, so that concurrent workers' attempts, recorded in another
	// order than they finished, never move it back: LastSuccessAt only moves later; a
	// delivered attempt keeps a FailingSince after its FinishedAt (a failure that finished
	// later), and a failed attempt that finished at or before LastSuccessAt, or before
	// EnabledAt, does not count; a failed attempt that finished before FailingSince moves it
	// earlier. FailingSince, when set, is therefore after LastSuccessAt. An attempt refused
	// with ErrLeaseLost changes no endpoint state.
	RecordAttempt(ctx context.Context, p RecordAttemptParams) (Delivery, error)

	// GetDelivery returns a delivery with all its attempts, or an error wrapping ErrNotFound.
	// The zero ID is ErrInvalid.
	GetDelivery(ctx context.Context, id uuid.UUID) (Delivery, error)

	// ListDeliveries returns deliveries in status p.Status with their attempts, ordered by
	// creation then ID, at most p.Limit of them (0 means 100; at most 1000), starting after
	// p.After when it is set.
	ListDeliveries(ctx context.Context, p ListDeliveriesParams) ([]Delivery, error)

	// ListConversionDeliveries returns the deliveries caused by conversion p.ConversionID
	// (their ConversionID), in every status and to every endpoint, with their attempts,
	// ordered by creation then ID, at most p.Limit of them (0 means 100; at most 1000),
	// starting after p.After (the CreatedAt and ID of the last delivery seen) when it is set:
	// what a timeline of one event shows. A conversion without deliveries, or one not
	// recorded, has none (an empty result, not ErrNotFound). Parameters that fail
	// [ListConversionDeliveriesParams.Validate] (the zero conversion ID) are ErrInvalid.
	ListConversionDeliveries(ctx context.Context, p ListConversionDeliveriesParams) ([]Delivery, error)

	// ReplayDelivery makes a dead delivery pending again, due at p.At, keeping its ID (the
	// event ID receivers dedup on) and its attempt history, and sets its ReplayedAt to p.At
	// (a later replay moves it), which the attempts after it keep: where the history of
	// attempts made before the replay ends. A delivery that is not dead is ErrConflict; an
	// unknown one ErrNotFound.
	ReplayDelivery(ctx context.Context, p ReplayDeliveryParams) (Delivery, error)

	// ReplayDeliveries makes every dead delivery of endpoint p.Endpoint created before
	// p.CreatedBefore (every one, when it is zero) pending again, due at p.At, with
	// ReplayedAt p.At, as ReplayDelivery does for one, in a single step: a concurrent listing
	// sees all of them replayed or none. It returns how many it replayed; none is not an
	// error.
	ReplayDeliveries(ctx context.Context, p ReplayDeliveriesParams) (int, error)
}

// AttemptRecorder is an optional capability of a [DeliveryStore]: recording many attempts
// in one durable write, so that a worker with many attempts in flight pays one commit for
// all of those that finished together instead of one each (package outbound's Worker uses
// it when its store has it). Callers detect it by type assertion.
type AttemptRecorder interface {
	// RecordAttempts records each attempt of ps exactly as [DeliveryStore.RecordAttempt]
	// would, and returns, at the same index as its parameters, the delivery as that attempt
	// leaves it or the error RecordAttempt would return for it: each attempt is checked
	// against its own lease (ErrLeaseLost, ErrNotFound, or ErrInvalid for parameters that
	// fail [RecordAttemptParams.Validate]), and one refused never refuses the others. The
	// endpoints' state ([EndpointState]) ends as if the recorded attempts had been recorded
	// one by one in the order of their FinishedAt. A delivery named twice is recorded as if
	// its attempts came one after the other in the order of their FinishedAt: the first that
	// holds the current lease ends it, so the later ones are ErrLeaseLost.
	//
	// The caller guarantees nothing more, and may pass up to [MaxLines] attempts: past
	// that, each is ErrInvalid. What is recorded is durable when RecordAttempts returns, and
	// an attempt with a nil error is recorded. A failure of the write itself (the
	// connection, a canceled context) is the error of every attempt it did not record, and
	// those attempts may then be retried, one by one or together, under the same leases.
	RecordAttempts(ctx context.Context, ps []RecordAttemptParams) ([]Delivery, []error)
}

// ParkedReporter is an optional capability of a [ConversionStore] that is also a
// [ParkedStore]: recording a conversion and learning from the same write whether parked
// events wait for it, so that a pipeline lists the parked events of a transaction
// (ParkedStore.ListParked) only when some wait, instead of after every record. Callers
// detect it by type assertion.
type ParkedReporter interface {
	// RecordConversionParked records p exactly as [ConversionStore.RecordConversion] does,
	// with the same conversion and error, and reports, for a conversion it records (a nil
	// error), whether unresolved parked events of the conversion's Source and TransactionID
	// were stored as it recorded it: those whose ParkEvent returned before the call began are
	// reported. A conversion without a Source or a TransactionID, which no parked event can
	// name, reports false; so does every error. An event parked concurrently with the record
	// may be reported or not: a pipeline leaves it to its sweep, which lists every unresolved
	// event, as it does an event parked just after the record.
	RecordConversionParked(ctx context.Context, p RecordConversionParams) (Conversion, bool, error)
}

// EndpointStore keeps the delivery state of outbound endpoints: whether each is enabled, why
// and since when it is disabled, and when it last succeeded. Endpoints are configured by
// name elsewhere (package outbound); the store knows a name once an attempt was recorded for
// it or it was disabled, and any other name is an enabled endpoint with no history.
type EndpointStore interface {
	// GetEndpoint returns the state of the named endpoint. An endpoint the store does not
	// know is returned enabled, with zero times and a nil error. A name no endpoint can
	// have (empty, or failing [CheckKey]) is ErrInvalid.
	GetEndpoint(ctx context.Context, name string) (EndpointState, error)

	// ListEndpoints returns the endpoints the store knows, ordered by name, at most p.Limit
	// of them (0 means 100; at most 1000), starting after the name p.After when it is set.
	ListEndpoints(ctx context.Context, p ListEndpointsParams) ([]EndpointState, error)

	// DisableEndpoint disables an endpoint with p.Reason at p.At, so that its deliveries are
	// no longer leased, and returns its state. An endpoint disabled already keeps its first
	// reason and time, and is returned with an error wrapping ErrDuplicate.
	DisableEndpoint(ctx context.Context, p DisableEndpointParams) (EndpointState, error)

	// EnableEndpoint enables an endpoint at p.At and returns its state: its deliveries are
	// leased again, and FailingSince is cleared, so that failures before the re-enabling do
	// not count towards disabling it again. Enabling an enabled endpoint changes nothing and
	// returns its state with an error wrapping ErrDuplicate.
	EnableEndpoint(ctx context.Context, p EnableEndpointParams) (EndpointState, error)
}

// ParkedStore keeps parked events: events that cannot be applied yet, such as a reversal that
// arrived before the conversion it reverses (package attribution's Decision.Park). A pipeline
// parks such an event (ParkEvent) instead of dropping it; when it records a conversion, it
// lists the unresolved parked events of the conversion's source and transaction ID
// (ListParked), decides each again with that conversion as its original, and applies it with
// ChangeStatus, whose ChangeStatusParams.Resolve marks it resolved in the same write; one
// that needs no change (the conversion is reversed already) it resolves with ResolveParked.
// A store that is a [ParkedReporter] tells the pipeline, from the record's own write, whether
// any wait, so that it lists them only then. A sweep lists every unresolved event, oldest first, to catch those whose original was
// recorded while they were being parked.
//
// RecordConversion resolves nothing: an original is recorded as its sender sent it, and a
// parked event applied to it after, so that its history shows both, in order.
type ParkedStore interface {
	// ParkEvent stores a parked event. Its identity is its Conversion's DedupKey (the key
	// the event would be recorded under): if no parked event has it, ParkEvent stores p and
	// returns it as stored. Otherwise it writes nothing and returns the stored one with an
	// error wrapping ErrDuplicate (the same event, see [Conversion.SameContent]: a sender's
	// retry, parked again, resolved already or not) or ErrConflict (other content under that
	// key). An ID taken under another dedup key is ErrConflict, and writes nothing. Among
	// concurrent calls with one dedup key exactly one writes. Parameters that fail
	// [ParkedEvent.Validate] are ErrInvalid.
	ParkEvent(ctx context.Context, p ParkedEvent) (ParkedEvent, error)

	// ListParked returns parked events ordered by ParkedAt then ID, oldest first: those of
	// source p.Source (of every source, when it is empty) and of its transaction
	// p.TransactionID (of every transaction, when it is empty; a transaction ID needs its
	// source), only the unresolved ones when p.Unresolved is set; at most p.Limit of them
	// (0 means 100; at most 1000), starting after p.After (the ParkedAt and ID of the last
	// event seen) when it is set.
	ListParked(ctx context.Context, p ListParkedParams) ([]ParkedEvent, error)

	// ResolveParked marks the parked events p.IDs resolved at p.At, without a status change:
	// for an event that needs none (its conversion has the status it asks for), or that an
	// operator settles. p.AppliedTo, when set, names the conversion they were settled
	// against, which must be recorded, else the call is ErrInvalid (as a ledger line's
	// ConversionID is). It is all or nothing: then an event that does not exist is
	// ErrNotFound, else one resolved already is ErrConflict, and either resolves none of
	// p.IDs; of concurrent calls (ResolveParked or ChangeStatus) resolving one event exactly
	// one succeeds. No IDs is a no-op.
	ResolveParked(ctx context.Context, p ResolveParkedParams) error
}

// InboundStore is the inbound log: every postback received, rejected ones included, with
// what became of it, so that an operator can answer "why was my postback rejected". It is
// written once per postback, after the sender was answered (the record says with what), in
// a call of its own: a failure to log changes nothing of what the postback caused. Records
// are never changed; PruneInbound bounds how long they are kept.
type InboundStore interface {
	// LogInbound stores a record of the inbound log. A record whose ID exists already is
	// refused with ErrDuplicate (the identical record: a retry) or ErrConflict (another
	// record with that ID), and writes nothing; a record that fails [InboundRecord.Validate]
	// is ErrInvalid. ConversionID is kept as given: the store does not look the conversion
	// up, so that logging costs no read.
	LogInbound(ctx context.Context, r InboundRecord) error

	// ListInbound returns records of the inbound log, newest first: by ReceivedAt, then ID,
	// both descending. Only those of source p.Source, of outcome p.Outcome and of
	// conversion p.ConversionID (the conversion a record recorded or found), each when it is
	// set, received in [p.From, p.To) (a zero From or To is no bound); at most p.Limit of
	// them (0 means 100; at most 1000), starting after p.After (the ReceivedAt and ID of the
	// last record seen: the next page holds older records) when it is set.
	ListInbound(ctx context.Context, p ListInboundParams) ([]InboundRecord, error)

	// PruneInbound deletes the records received before p.Before and returns how many it
	// deleted, for bounded retention; none is not an error. It need not be atomic: a store
	// may delete in steps, so that a concurrent listing sees part of a prune, and a call
	// that fails part-way returns, with its error, how many it deleted before.
	PruneInbound(ctx context.Context, p PruneInboundParams) (int, error)
}

// RevenueStore keeps revenue facts ([RevenueFact]): the per-player revenue reports that
// RevShare is computed from when a period is closed. Facts are immutable: a correction is a
// new fact that names the one it corrects.
type RevenueStore interface {
	// RecordRevenue stores a revenue fact, unsettled (its SettledIn zero, whatever f's is),
	// and returns it as stored. Its identity is its
	// Source and TransactionID: if a fact has them already, it writes nothing and returns the
	// stored one with an error wrapping ErrDuplicate (the same report, see
	// [RevenueFact.SameContent]: a sender's retry) or ErrConflict (other content under that
	// identity). Among concurrent calls with one identity exactly one writes. An ID taken
	// under another identity is ErrConflict, and writes nothing.
	//
	// A correction (Corrects set) must name a fact of its Source that is recorded, else the
	// call is ErrInvalid (as a ledger line's ConversionID is); a fact is corrected once at
	// most: a second correction of one fact is ErrConflict, with the stored correction, and
	// among concurrent corrections of one fact exactly one is recorded. A fact that fails
	// [RevenueFact.Validate] is ErrInvalid.
	RecordRevenue(ctx context.Context, f RevenueFact) (RevenueFact, error)

	// GetRevenue returns the fact with the given identity, or an error wrapping ErrNotFound.
	// Parameters that fail [GetRevenueParams.Validate] are ErrInvalid.
	GetRevenue(ctx context.Context, p GetRevenueParams) (RevenueFact, error)

	// ListRevenue returns the facts of affiliate p.AffiliateID (of every affiliate, when it
	// is empty) whose p.By time (OccurredAt or ReceivedAt) is in [p.From, p.To), ordered by
	// that time then ID ([CompareRevenue]), at most p.Limit of them (0 means 100; at most
	// 1000), starting after p.After (the By time and ID of the last fact seen) when it is set;
	// with p.Unsettled, only the facts that no close has settled. Parameters that fail
	// [ListRevenueParams.Validate] are ErrInvalid.
	ListRevenue(ctx context.Context, p ListRevenueParams) ([]RevenueFact, error)
}

// PeriodStore keeps the closes of statement periods ([PeriodClose]): one chain of closed
// periods, each written once with its ledger lines and the balances it carries out, so that
// a period is settled once however many processes close it.
type PeriodStore interface {
	// ClosePeriod records p.Close with p.Lines, atomically: the close and every line, or
	// nothing. The close must follow the last one: its Start is the End of the close with the
	// latest End, or the store has none (then it is the first). If a close of p.Close.Start
	// exists, it writes nothing and returns the stored close with an error wrapping
	// ErrDuplicate (the same content, [PeriodClose.SameContent]: a second close of the
	// period) or ErrConflict (other content). A close that does not follow the last one is
	// ErrConflict, with the last close; so is a line whose ID exists (the whole call is
	// refused). It marks every fact of p.Facts settled in the close's period
	// ([RevenueFact.SettledIn]), in the same write: a fact that is not stored, or that a
	// close settled already, is ErrConflict, and nothing is written. Among concurrent calls
	// exactly one close of a period is recorded, and of concurrent first closes exactly one.
	// Parameters that fail [ClosePeriodParams.Validate] are ErrInvalid.
	ClosePeriod(ctx context.Context, p ClosePeriodParams) (PeriodClose, error)

	// LastClose returns the close with the latest End, or an error wrapping ErrNotFound when
	// no period is closed.
	LastClose(ctx context.Context) (PeriodClose, error)
}
