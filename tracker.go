package s2s

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/s2skit/s2s/attribution"
	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/outbound"
	"github.com/s2skit/s2s/postback"
	"github.com/s2skit/s2s/store"
	"github.com/s2skit/s2s/store/memstore"
)

// Options are the settings of New. The zero Options (or nil) are the defaults.
type Options struct {
	// Now is the clock: the receive time of decisions and the time of every record written.
	// Nil means time.Now.
	Now func() time.Time
	// Rand is the randomness of the IDs the Tracker gives conversions, ledger lines and
	// deliveries (UUIDv7); nil means crypto/rand.Reader.
	Rand io.Reader
	// Logger gets a record per receiver failure, per parked event the Tracker cannot apply
	// yet, and per event it records without a commission it cannot compute; nil discards.
	Logger *slog.Logger
	// HTTPClient is the client of the Tracker's delivery worker, unless Worker.Client is
	// set; nil means outbound.NewClient(nil), which reaches public https destinations only.
	HTTPClient *http.Client
	// Worker are the options of the Tracker's delivery worker (see [Tracker.Worker]); nil
	// means the defaults. Its Client, Now, Rand and Logger default to the ones above.
	Worker *outbound.WorkerOptions
	// SweepInterval is how often Run does its periodic work (see [Tracker.Run]); zero means
	// DefaultSweepInterval.
	SweepInterval time.Duration
	// ClickBatch, when its Size is set, makes Click queue clicks and write them in batches
	// (see ClickBatch); the zero value writes each click before Click returns.
	ClickBatch ClickBatch
	// Observer is told of every postback the PostbackHandler answers; its nil functions are
	// not called.
	Observer Observer
}

// Tracker is the pipeline of a tracker: it receives verified postbacks (it is a
// postback.Receiver), resolves their click or player binding, decides with attribution,
// computes the per-event commission, and writes the conversion with its ledger lines,
// counter increments and outbound deliveries in one store call. A Tracker is safe for
// concurrent use; New compiles its Config once.
type Tracker struct {
	st     store.Store
	cfg    atomic.Pointer[compiled] // replaced whole by SetConfig
	now    func() time.Time
	rand   io.Reader
	log    *slog.Logger
	client *http.Client
	worker *outbound.Worker
	sweep  time.Duration
	run    sync.Mutex // held by Run
	clicks clickState
	obs    Observer
	ids    idSource // of the records' IDs, from rand
}

// compiled is what New and SetConfig make of a Config, immutable once published: a postback
// loads it once and is decided, paid and routed by one configuration from start to end.
type compiled struct {
	decider       *attribution.Decider
	dedup         attribution.Dedup
	skew          time.Duration
	program       *commission.Program
	periodLoc     *time.Location
	endpoints     outbound.Endpoints
	lookup        func(name string) (*outbound.Endpoint, bool)
	routes        []Route
	clicks        *compiledClicks
	sources       map[string]*builtSource                  // by name, served by PostbackHandler
	retention     time.Duration                            // of the inbound log
	campaignZones map[string]string                        // each campaign's IANA zone, by ID, for reports
	rates         map[[2]money.Currency]money.ExchangeRate // Config.Rates, by (From, To)
	// reattribute holds, by campaign ID ("" for the default rules), whether a player bound in
	// the campaign may be re-attributed (attribution.Rules.Reattribute): only then does a
	// postback read the player's last activity.
	reattribute map[string]bool
}

// reattributes reports whether a player bound in campaign may be re-attributed, by the
// campaign's rules or, for a campaign without rules of its own, the default rules.
func (cc *compiled) reattributes(campaign string) bool {
	if r, ok := cc.reattribute[campaign]; ok {
		return r
	}
	return cc.reattribute[""]
}

var _ postback.Receiver = (*Tracker)(nil)

// New validates cfg and returns a Tracker that keeps its records in st. A nil st is a new
// in-memory store (memstore.New(nil)): the zero-setup default, whose records last as long as
// the process. An invalid cfg is an error wrapping ErrInvalidConfig that names the field.
// New keeps its own copy of what it compiles from cfg.
func New(st store.Store, cfg Config, opts *Options) (*Tracker, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if st == nil {
		st = memstore.New(nil)
	}
	t := &Tracker{st: st, now: o.Now, rand: o.Rand, log: o.Logger, client: o.HTTPClient, sweep: o.SweepInterval, obs: o.Observer}
	if err := t.clicks.init(&o); err != nil {
		return nil, err
	}
	if t.now == nil {
		t.now = time.Now
	}
	if t.rand == nil {
		t.rand = rand.Reader
	}
	t.ids.rand = t.rand
	if t.log == nil {
		t.log = slog.New(slog.DiscardHandler)
	}
	cc, err := t.compile(cfg)
	if err != nil {
		return nil, err
	}
	t.cfg.Store(cc)
	switch {
	case t.sweep < 0:
		return nil, fmt.Errorf("s2s: Options.SweepInterval is %s, want 0 (the default) or more", t.sweep)
	case t.sweep == 0:
		t.sweep = DefaultSweepInterval
	}
	if t.worker, err = t.newWorker(o.Worker); err != nil {
		return nil, fmt.Errorf("s2s: Options.Worker: %w", err)
	}
	return t, nil
}

// SetConfig replaces the Tracker's configuration with cfg, atomically: a postback being
// received when it is called is finished under the configuration it started with, and every
// one received after it returns is under cfg; none is dropped. An invalid cfg is an error
// wrapping ErrInvalidConfig, as New's, and the running configuration stays. The delivery
// workers built by Worker see cfg's endpoints from then on.
func (t *Tracker) SetConfig(cfg Config) error {
	cc, err := t.compile(cfg)
	if err != nil {
		return err
	}
	t.cfg.Store(cc)
	return nil
}

// compile validates cfg and compiles it.
func (t *Tracker) compile(cfg Config) (*compiled, error) {
	// Validate compiles the endpoints in place: it compiles the Tracker's own copies, so
	// that the caller's Config stays theirs to change, or to pass to New and SetConfig from
	// several goroutines at once. Decoding the copies checks them as Validate would.
	eps, err := jsonClone(&cfg.Endpoints)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	cfg.Endpoints = *eps
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	d, err := attribution.New(cfg.Attribution, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: attribution: %w", ErrInvalidConfig, err)
	}
	cc := &compiled{
		decider: d, dedup: cfg.Attribution.Dedup, skew: cfg.Attribution.Skew.Duration(),
		endpoints: *eps, lookup: eps.Lookup(), routes: cloneRoutes(cfg.Routes),
		rates: cfg.Rates.index(), campaignZones: campaignZones(cfg.Attribution),
	}
	if cc.skew == 0 {
		cc.skew = attribution.DefaultSkew
	}
	cc.reattribute = map[string]bool{"": !cfg.Attribution.Default.Reattribute.IsZero()}
	for _, c := range cfg.Attribution.Campaigns {
		cc.reattribute[c.ID] = !c.Reattribute.IsZero()
	}
	if cc.clicks, err = cfg.Clicks.compile(); err != nil {
		return nil, err
	}
	if cc.sources, err = t.compileSources(cc, cfg.Sources); err != nil {
		return nil, err
	}
	cc.retention = cfg.Inbound.retention()
	if cfg.Commission != nil {
		b, err := jsonClone(cfg.Commission)
		if err != nil {
			return nil, fmt.Errorf("%w: commission: %w", ErrInvalidConfig, err)
		}
		cc.program = b
		cc.periodLoc = time.UTC
		if z := cc.program.Zone; z != "" {
			if cc.periodLoc, err = time.LoadLocation(z); err != nil {
				return nil, fmt.Errorf("%w: commission.zone: %w", ErrInvalidConfig, err)
			}
		}
	}
	return cc, nil
}

// Store returns the store the Tracker writes to.
func (t *Tracker) Store() store.Store { return t.st }

// Worker returns the Tracker's delivery worker: the one Run runs, which sends the
// deliveries of the Tracker's store to its configured endpoints (as SetConfig changes them).
// Its Replay, ReplayEndpoint and Enable are the operator's actions; a host that sends from
// other processes too runs more workers of its own with outbound.NewWorker on the same store.
func (t *Tracker) Worker() *outbound.Worker { return t.worker }

func (t *Tracker) newWorker(opts *outbound.WorkerOptions) (*outbound.Worker, error) {
	var o outbound.WorkerOptions
	if opts != nil {
		o = *opts
	}
	if o.Client == nil {
		o.Client = t.client
	}
	if o.Now == nil {
		o.Now = t.now
	}
	if o.Rand == nil {
		o.Rand = t.rand
	}
	if o.Logger == nil {
		o.Logger = t.log
	}
	return outbound.NewWorker(t.st, func(name string) (*outbound.Endpoint, bool) {
		return t.cfg.Load().lookup(name)
	}, &o)
}

// maxAttempts bounds the writes of one postback: a write refused for a counter (a cap, the
// CPA's once-per-player or period counters) is decided again with the counters as they are
// then, which settles in a few rounds even under heavy contention for one counter.
const maxAttempts = 64

// Receive implements postback.Receiver: it records pb and answers what became of it.
//
//   - Accepted: a new conversion, recorded with its ledger lines, counter increments,
//     deliveries and the player binding it creates or replaces (re-attribution) in one
//     store call; a status update (a chargeback, an approval) of a stored conversion,
//     applied with ChangeStatus; or a reversal whose original is not stored yet, parked
//     (store.ParkedStore) to be applied when the original lands. A reversal event applies
//     to one conversion of its source's transaction: the latest by the sender's time
//     (OccurredAt), whatever its status, of those that are not adjustments, reversals,
//     refunds or resets and, when the reversal carries an amount, that carry one; so its
//     retry is a duplicate, and a chargeback never reverses a registration. When
//     it records a conversion, Receive applies the parked events it is the original of
//     (see ApplyParked); a failure to apply one is logged, not returned, and left to the
//     sweep.
//   - Duplicate: a retry of a postback recorded before; nothing is written.
//   - Conflict: the dedup key of a stored conversion with other content, or a status
//     update that lost to a concurrent one; nothing is written.
//   - Rejected: an event attribution refuses to record (no field its dedup mode needs),
//     or a status change the status machine does not allow; the Reason is attribution's
//     Code.
//
// An event that attribution rejects (out of its window, a fraud rule, a cap that rejects)
// is still recorded, with its status and reason, and answered Accepted: the sender's
// postback arrived and was kept. A store failure is returned as an error (the Handler
// answers 503, and the sender retries).
func (t *Tracker) Receive(ctx context.Context, pb *postback.Postback) (postback.Result, error) {
	return t.receiveWith(ctx, t.cfg.Load(), pb)
}

// receiveWith is Receive under the configuration cc, which the caller loaded once for the
// whole postback (see PostbackHandler).
func (t *Tracker) receiveWith(ctx context.Context, cc *compiled, pb *postback.Postback) (postback.Result, error) {
	res, err := t.receive(ctx, cc, pb)
	if err != nil {
		t.log.LogAttrs(ctx, slog.LevelError, "s2s: postback not recorded",
			slog.String("source", pb.Source), slog.String("event", string(pb.Event)), slog.String("error", err.Error()))
	}
	return res, err
}

func (t *Tracker) receive(ctx context.Context, cc *compiled, pb *postback.Postback) (postback.Result, error) {
	id, err := t.newID()
	if err != nil {
		return postback.Result{}, err
	}
	sc := new(scratch)
	in := &sc.in
	in.Conversion, in.Now = pb.Conversion(), t.now()
	in.Conversion.ID = id
	if err := t.resolve(ctx, cc, pb, sc); err != nil {
		return postback.Result{}, err
	}
	dec := cc.decider.Decide(in)
	switch {
	case dec.Refused():
		return rejected(dec.Code), nil
	case pb.Event == event.Revenue:
		return t.revenue(ctx, in, dec, pb)
	case dec.Park:
		return t.park(ctx, in, dec)
	case !dec.Change.IsZero():
		return t.change(ctx, cc, in.Original, dec, pb)
	}
	return t.record(ctx, cc, sc, dec, pb)
}

// scratch is the memory of one postback's way through Receive, in one allocation instead
// of one each: its attribution.Input, the click and binding the Input points to, and the
// backing arrays of its counter increments and ledger lines. Nothing of it outlives the
// postback: the store copies what it keeps.
type scratch struct {
	in      attribution.Input
	click   store.Click
	binding store.PlayerBinding
	incs    [8]store.Increment
	lines   [1]store.LedgerLine
}

// resolve fills in what the store knows of the event: the click it names (ours, or by the
// foreign ID it carries), the claim of a signed token, the player's binding, and for a
// reversal the stored conversion it reverses.
func (t *Tracker) resolve(ctx context.Context, cc *compiled, pb *postback.Postback, sc *scratch) error {
	in := &sc.in
	c := &in.Conversion
	switch {
	case pb.ClickID != (clickid.ID{}):
		var err error
		if sc.click, err = t.st.GetClick(ctx, pb.ClickID); err == nil {
			in.Click = &sc.click
		} else if !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("s2s: get click: %w", err)
		}
		if pb.ClickKind == postback.ClickToken && pb.TokenAffiliateID != "" {
			in.Claims = append(in.Claims, attribution.Claim{Method: store.BindByToken, AffiliateID: pb.TokenAffiliateID,
				CampaignID: pb.TokenCampaignID, ClickID: pb.ClickID, At: pb.ClickID.Timestamp()})
		}
	case pb.ForeignClickID != "":
		// The latest click carrying the ID as of the event, within the clock-skew tolerance
		// that attribution grants an event before its click.
		var err error
		if sc.click, err = t.st.GetClickByForeign(ctx, store.GetClickByForeignParams{ForeignClickID: pb.ForeignClickID, AsOf: c.EventTime().Add(cc.skew)}); err == nil {
			in.Click = &sc.click
		} else if !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("s2s: get click by foreign id: %w", err)
		}
	}
	if c.PlayerID != "" {
		if err := t.resolveBinding(ctx, cc, sc); err != nil {
			return err
		}
	}
	if c.Event == event.Reversal || c.Status == event.StatusReversed {
		o, err := t.original(ctx, cc, c)
		if err != nil {
			return err
		}
		in.Original = o
	}
	return nil
}

// resolveBinding fills in the binding of the event's player, as the store has it now, and,
// for a player whose binding's campaign re-attributes after a span of inactivity, the
// player's last activity as of the event (the latest event time of their conversions at or
// before it, see store.ConversionStore.LastActivity). An event at the time of another of
// the player's (a retry, or one of concurrent re-attributing events that lost its rebind
// to the other) finds the player active: it follows the binding.
func (t *Tracker) resolveBinding(ctx context.Context, cc *compiled, sc *scratch) error {
	in := &sc.in
	c := &in.Conversion
	in.Binding, in.LastActivity = nil, time.Time{}
	b, err := t.st.GetBinding(ctx, c.PlayerID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil
	case err != nil:
		return fmt.Errorf("s2s: get binding: %w", err)
	}
	sc.binding = b
	in.Binding = &sc.binding
	if !cc.reattributes(b.CampaignID) {
		return nil
	}
	at := c.EventTime()
	if at.IsZero() {
		at = in.Now
	}
	if in.LastActivity, err = t.st.LastActivity(ctx, store.LastActivityParams{PlayerID: c.PlayerID, AsOf: at}); err != nil {
		return fmt.Errorf("s2s: last activity of the player: %w", err)
	}
	return nil
}

// original finds the stored conversion that c, a reversal or a status change, applies to;
// nil if none is stored yet (c is then parked).
//
// A status change of an event of its own type (a chargeback, which repeats its transaction
// with a status of reversed) applies to the conversion with its own dedup key: the
// transaction as it was sent, exactly.
//
// A reversal event names only its source and transaction ID, which may hold several
// conversions (a registration and its FTD under one transaction ID, or deposits under a
// dedup mode that keeps each). It reverses one of them, found with one read of the
// transaction (store.ConversionStore.ListConversionsByTransaction) by this rule:
//
//   - only what Replay can reverse is a candidate: not an adjustment, a reversal, a refund
//     or a reset (commission.Replay refuses to reverse those);
//   - a reversal that carries an amount reverses money: only the conversions that carry an
//     amount are candidates, so that a chargeback of a deposit never reverses the
//     registration of its transaction, and one that arrives before its FTD waits for the
//     FTD even when the registration is stored (it is parked until then);
//   - of the candidates, the latest by the sender's own time (Conversion.EventTime), then
//     by receipt, then by ID, whatever its status. A retry of the reversal therefore finds
//     the conversion it reversed, and is a duplicate, as Replay refuses a second reversal of
//     one event: it never moves on to reverse an earlier conversion of the transaction. To
//     reverse an earlier one, the sender sends that event's own status change, which finds
//     it by its dedup key.
//
// The choice is deterministic (it depends on what is stored, not on the order of a read),
// so the parked-event sweep, Receive and a Replay over the same history agree on it.
func (t *Tracker) original(ctx context.Context, cc *compiled, c *store.Conversion) (*store.Conversion, error) {
	if c.Event != event.Reversal {
		key, code := cc.dedup.Key(c)
		if code != "" {
			return nil, nil
		}
		o, err := t.st.GetConversionByKey(ctx, key)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return nil, nil
		case err != nil:
			return nil, fmt.Errorf("s2s: get conversion by key: %w", err)
		}
		return &o, nil
	}
	if c.Source == "" || c.TransactionID == "" {
		return nil, nil // no transaction to find it in
	}
	withAmount := c.Amount.Minor() > 0
	var found *store.Conversion
	p := store.ListConversionsByTransactionParams{Source: c.Source, TransactionID: c.TransactionID, Limit: txnPage}
	for {
		page, err := t.st.ListConversionsByTransaction(ctx, p)
		if err != nil {
			return nil, fmt.Errorf("s2s: list conversions of transaction %q: %w", c.TransactionID, err)
		}
		for i := range page {
			o := &page[i]
			switch o.Event {
			case event.Reversal, event.Refund, event.Reset, event.Adjustment:
				continue
			}
			if withAmount && o.Amount.Minor() <= 0 {
				continue
			}
			if found == nil || laterEvent(o, found) {
				found = o
			}
		}
		if len(page) < p.Limit {
			return found, nil
		}
		last := &page[len(page)-1]
		p.After = store.Cursor{At: last.ReceivedAt, ID: last.ID}
	}
}

// txnPage is how many conversions of a transaction original reads at a time: a
// transaction holds a few.
const txnPage = 100

// laterEvent reports whether a comes after b by the sender's time, then by receipt, then by
// ID: a total order, so that the latest of a set does not depend on how it was listed.
func laterEvent(a, b *store.Conversion) bool {
	if c := a.EventTime().Compare(b.EventTime()); c != 0 {
		return c > 0
	}
	if c := a.ReceivedAt.Compare(b.ReceivedAt); c != 0 {
		return c > 0
	}
	return bytes.Compare(a.ID[:], b.ID[:]) > 0
}

// park keeps a reversal whose original is not stored yet.
func (t *Tracker) park(ctx context.Context, in *attribution.Input, dec attribution.Decision) (postback.Result, error) {
	p := store.ParkedEvent{ID: in.Conversion.ID, Conversion: in.Conversion, ParkedAt: t.now()}
	dec.Apply(&p.Conversion)
	_, err := t.st.ParkEvent(ctx, p)
	if o, ok := writeOutcome(err); ok {
		return postback.Result{Outcome: o}, nil
	}
	return postback.Result{}, fmt.Errorf("s2s: park event: %w", err)
}

// writeOutcome is the answer to a postback whose one store write returned err: Accepted
// when it wrote, Duplicate for a retry of what is stored (store.ErrDuplicate), Conflict for
// other content under its identity (store.ErrConflict). ok is false for any other error,
// which is the caller's to explain or return.
func writeOutcome(err error) (o postback.Outcome, ok bool) {
	switch {
	case err == nil:
		return postback.Accepted, true
	case errors.Is(err, store.ErrDuplicate):
		return postback.Duplicate, true
	case errors.Is(err, store.ErrConflict):
		return postback.Conflict, true
	}
	return 0, false
}

// change applies a status change of the stored conversion o, as dec judged it, with the
// reversal lines of what o earned when the change gives it back (see changeStatus).
func (t *Tracker) change(ctx context.Context, cc *compiled, o *store.Conversion, dec attribution.Decision, pb *postback.Postback) (postback.Result, error) {
	switch {
	case dec.Change.Duplicate():
		return postback.Result{Outcome: postback.Duplicate, ConversionID: o.ID}, nil
	case !dec.Change.Allowed():
		return rejected(dec.Change.Code), nil
	}
	err := t.changeStatus(ctx, cc, o, dec, eventTime(pb), nil)
	switch {
	case err == nil:
		return postback.Result{Outcome: postback.Accepted, ConversionID: o.ID}, nil
	case errors.Is(err, store.ErrConflict):
		return postback.Result{Outcome: postback.Conflict, ConversionID: o.ID}, nil
	}
	return postback.Result{}, fmt.Errorf("s2s: change status of %s %s: %w", pb.Event, pb.TransactionID, err)
}

// record writes a new conversion with everything it causes, in one store call per attempt.
func (t *Tracker) record(ctx context.Context, cc *compiled, sc *scratch, dec attribution.Decision, pb *postback.Postback) (postback.Result, error) {
	in := &sc.in
	for range maxAttempts {
		now := t.now()
		p := store.RecordConversionParams{Conversion: in.Conversion, Increments: dec.Increments(nil)}
		dec.Apply(&p.Conversion)
		pay, err := t.commission(ctx, cc, &p.Conversion, &dec, pb, now, sc)
		if err != nil {
			return postback.Result{}, err
		}
		p.Ledger = pay.lines
		if len(p.Increments) == 0 {
			p.Increments = pay.increments // no caps counted: the commission's, as they are
		} else {
			p.Increments = append(p.Increments, pay.increments...)
		}
		if dec.Attributed() && len(cc.routes) > 0 {
			told, err := t.withClick(ctx, in, &dec, p.Conversion)
			if err != nil {
				return postback.Result{}, err
			}
			if p.Deliveries, err = t.deliveries(cc, told, pay.payout, now); err != nil {
				return postback.Result{}, err
			}
		}
		guard := bindWith(cc, &p, in, &dec)
		stored, waiting, err := t.recordConversion(ctx, p)
		switch {
		case err == nil:
			if len(p.Deliveries) > 0 {
				t.worker.Notify()
			}
			// The reversals that arrived before this conversion wait for it: applied now,
			// after it is recorded, so that its history shows both in order. This fails
			// nothing: what cannot be applied now is left to the sweep (ApplyParked).
			if waiting {
				t.resolveParked(ctx, cc, &stored)
			}
			return postback.Result{Outcome: postback.Accepted, ConversionID: stored.ID}, nil
		case err != nil && bindingMoved(err, guard):
			// Another write bound the player (or rebound them) since the binding was read:
			// nothing was written. Decide again from the binding as it is now, which this
			// event then follows (or, re-attributed still, replaces as it is now).
			if err := t.resolveBinding(ctx, cc, sc); err != nil {
				return postback.Result{}, err
			}
			dec = cc.decider.Decide(in)
			continue
		case isLimit(err):
			if over, ok := dec.OverCap(limitOf(err).Counter); ok {
				dec = over
			}
			// Else one of the commission's counters moved under us: compute again.
			continue
		case errors.Is(err, store.ErrDuplicate):
			o := stored // moved to the heap on this path only
			return t.duplicate(ctx, cc, in, dec, &o, pb)
		case errors.Is(err, store.ErrConflict):
			return postback.Result{Outcome: postback.Conflict}, nil
		}
		return postback.Result{}, fmt.Errorf("s2s: record conversion: %w", err)
	}
	return postback.Result{}, fmt.Errorf("s2s: record conversion: counters or the player's binding still moving after %d attempts", maxAttempts)
}

// bindingMoved reports whether err refused a record because the player's binding changed
// since it was read: a rebind that found another binding, or the first binding's guard (the
// counter guard) refused. Its variables live here, so that a record that succeeds does not
// pay for them.
func bindingMoved(err error, guard string) bool {
	var rebind *store.RebindError
	if errors.As(err, &rebind) {
		return true
	}
	limit := limitOf(err)
	return guard != "" && limit != nil && limit.Counter == guard
}

// boundCounter names the counter that a player's first binding increments, with a limit of
// one: of concurrent records binding one unbound player, the store applies exactly one, and
// refuses the others whole (store.LimitError), which are decided again from the binding
// the winner wrote. Without it the store would keep the first binding and record the others
// all the same, credited to the affiliate of a binding that lost.
func boundCounter(player string) string { return "s2s:bound:player=" + escape(player) }

// bindWith puts the binding that dec creates into p, to be written in the same atomic write
// as the conversion: a first binding with its guard, the increment of boundCounter (whose
// name it returns), or a rebind (re-attribution) from the binding dec was decided from
// (RecordConversionParams.RebindFrom), which the store applies only if that is still the
// player's binding.
//
// A decision that follows the binding of a campaign that re-attributes is guarded too: it
// "rebinds" the player from that binding to itself, so that it is recorded only if no
// concurrent re-attribution replaced the binding since it was read (else the store refuses
// it with a *store.RebindError, and it is decided again). Only such a campaign's binding
// can change under a decision, so only its decisions pay for the guard.
func bindWith(cc *compiled, p *store.RecordConversionParams, in *attribution.Input, dec *attribution.Decision) string {
	if dec.Binding.PlayerID == "" {
		if in.Binding != nil && cc.reattributes(in.Binding.CampaignID) {
			b, from := *in.Binding, *in.Binding
			p.Binding, p.RebindFrom = &b, &from
		}
		return ""
	}
	b := dec.Binding
	p.Binding = &b
	if dec.Rebind && in.Binding != nil {
		from := *in.Binding
		p.RebindFrom = &from
		return ""
	}
	guard := boundCounter(b.PlayerID)
	// In place: p.Increments is this attempt's own (the commission makes its increments
	// anew at each attempt), with room in the postback's scratch.
	p.Increments = append(p.Increments, store.Increment{Counter: guard, Delta: 1, Limit: 1})
	return guard
}

// isLimit reports whether err is a counter's *store.LimitError.
func isLimit(err error) bool { return limitOf(err) != nil }

// limitOf returns the *store.LimitError in err's chain, or nil.
func limitOf(err error) *store.LimitError {
	var limit *store.LimitError
	if errors.As(err, &limit) {
		return limit
	}
	return nil
}

// duplicate answers a postback whose dedup key and content a stored conversion has: a
// retry, or the sender's status update of its transaction.
func (t *Tracker) duplicate(ctx context.Context, cc *compiled, in *attribution.Input, dec attribution.Decision, stored *store.Conversion, pb *postback.Postback) (postback.Result, error) {
	// The decision of the retry is the original's, but for the counters: the same status,
	// or one a cap moved the original from, is a retry. Its binding was written with the
	// original; bind heals one that an older write lost.
	if dec.Status == stored.Status || capped(stored) && pb.Status != event.StatusRejected && pb.Status != event.StatusReversed {
		if err := t.bind(ctx, dec); err != nil {
			return postback.Result{}, err
		}
		return postback.Result{Outcome: postback.Duplicate, ConversionID: stored.ID}, nil
	}
	in.Original = stored
	update := cc.decider.Decide(in)
	if update.Change.IsZero() {
		return postback.Result{Outcome: postback.Duplicate, ConversionID: stored.ID}, nil
	}
	return t.change(ctx, cc, stored, update, pb)
}

// capped reports whether c was recorded with a cap's policy rather than as decided.
func capped(c *store.Conversion) bool {
	return c.Decision.Code == string(attribution.CodeCapReached) || c.Decision.Code == string(attribution.CodeCapCurrency)
}

// bind writes, for a retry (answered Duplicate), the first binding its decision creates,
// which the original wrote with itself (see bindWith): so that a conversion recorded before
// the store took bindings with it, and whose binding a crash lost, still binds the player
// by the sender's retry. BindPlayer keeps the first binding, so it changes nothing of a
// player bound already.
func (t *Tracker) bind(ctx context.Context, dec attribution.Decision) error {
	if dec.Binding.PlayerID == "" || dec.Rebind {
		return nil // a rebind is written with its conversion, or not at all
	}
	_, err := t.st.BindPlayer(ctx, dec.Binding)
	if err == nil || errors.Is(err, store.ErrDuplicate) || errors.Is(err, store.ErrConflict) {
		return nil // a player is bound once: the first binding wins
	}
	return fmt.Errorf("s2s: bind player: %w", err)
}

// deliveries renders the outbound postbacks of conversion c to the endpoints routed to its
// affiliate and campaign, each endpoint once.
func (t *Tracker) deliveries(cc *compiled, c store.Conversion, payout money.Amount, now time.Time) ([]store.Delivery, error) {
	if len(cc.routes) == 0 || c.AffiliateID == "" {
		return nil, nil
	}
	var out []store.Delivery
	seen := map[string]bool{}
	for _, r := range cc.routes {
		if r.AffiliateID != "" && r.AffiliateID != c.AffiliateID || r.CampaignID != "" && r.CampaignID != c.CampaignID {
			continue
		}
		for _, name := range r.Endpoints {
			if seen[name] {
				continue
			}
			seen[name] = true
			e, _ := cc.lookup(name)
			id, err := t.newID()
			if err != nil {
				return nil, err
			}
			v := outbound.ValuesOf(c, payout)
			v.EventID = id
			d, err := e.Delivery(v, now)
			if err != nil {
				return nil, fmt.Errorf("s2s: delivery to %q: %w", name, err)
			}
			out = append(out, d)
		}
	}
	return out, nil
}

func (t *Tracker) newID() (uuid.UUID, error) { return t.ids.new() }

// rejected is the answer to an event the Tracker refuses, with attribution's code as the
// reason.
func rejected(code attribution.Code) postback.Result {
	return postback.Result{Outcome: postback.Rejected, Reason: postback.Reason(code)}
}

func cloneRoutes(rs []Route) []Route {
	out := make([]Route, len(rs))
	for i, r := range rs {
		out[i] = r
		out[i].Endpoints = append([]string(nil), r.Endpoints...)
	}
	return out
}
