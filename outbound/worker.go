package outbound

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/s2skit/s2s/store"
)

// WorkerStore is what a Worker needs of a store: the outbox and the endpoints' state.
// Every store.Store is one.
type WorkerStore interface {
	store.DeliveryStore
	store.EndpointStore
}

// Worker defaults.
const (
	// DefaultWorkers is the number of attempts a Worker has in flight at once.
	DefaultWorkers = 16
	// DefaultLeaseFor is how long a Worker leases a delivery: past it, another worker may
	// attempt it. It must outlast an attempt and its recording.
	DefaultLeaseFor = 2 * time.Minute
	// DefaultPollInterval is how often an idle Worker looks for due deliveries.
	DefaultPollInterval = time.Second
	// DefaultHorizon is how long the attempts of a delivery run before it is dead-lettered.
	DefaultHorizon = 72 * time.Hour
	// DefaultMaxRetryAfter is the longest wait a receiver's Retry-After obtains.
	DefaultMaxRetryAfter = time.Hour
	// DefaultDisableAfter is how long an endpoint fails without a success before it is
	// disabled.
	DefaultDisableAfter = 5 * 24 * time.Hour
	// DefaultConcurrency is an endpoint's attempts in flight at once when it sets none.
	DefaultConcurrency = 4
)

// The reasons a Worker writes when it disables an endpoint (EndpointState.DisabledReason):
// the text starts with the cause's word, so that a report can group by it.
const (
	// ReasonGone starts the reason of an endpoint disabled because it answered 410 Gone.
	ReasonGone = "gone"
	// ReasonFailing starts the reason of an endpoint disabled after WorkerOptions.DisableAfter
	// with no success.
	ReasonFailing = "failing"
)

// WorkerOptions configures NewWorker. The zero value (and nil) are the defaults.
type WorkerOptions struct {
	// Client sends the requests; nil means NewClient(nil), which reaches public https
	// destinations only (see the Security section). A test that delivers to an httptest
	// server on loopback gives NewClient(&ClientOptions{Allow: ...}) (and endpoints with
	// AllowHTTP). The worker uses a copy that never follows a redirect, whatever the
	// client's CheckRedirect.
	Client *http.Client
	// Now is the clock of the records: every time the worker leases by or records (an
	// attempt's times, a retry's due time, a disabling) comes from it; nil means time.Now.
	// Waits (polls, timeouts, rate limits) are on the runtime's timers. Leases are judged by
	// this clock, not the store's: a lease expires at its holder's Now plus LeaseFor, by the
	// clock of the worker that leases next. Workers sharing a store must have clocks that
	// agree within the lease's margin of ten seconds, less the time a recording takes (see
	// the package's # Operations); the database host's clock does not matter.
	Now func() time.Time
	// Rand is the randomness of the retry jitter; nil means crypto/rand.Reader.
	Rand io.Reader
	// Logger gets a record per dead letter, per disabled endpoint, per store failure (at
	// most one a minute while the store keeps failing to lease) and per endpoint the worker
	// cannot send to; nil discards them. Records never hold a secret or a URL.
	Logger *slog.Logger
	// Workers is the number of attempts in flight at once; 0 means DefaultWorkers.
	Workers int
	// LeaseFor is how long a delivery is leased, by the leasing worker's clock (Now); 0
	// means DefaultLeaseFor. It must exceed Timeout by more than ten seconds: the worker
	// starts an attempt only if, by its own clock, the attempt ends ten seconds before its
	// lease does, the margin for recording it and for the skew between the clocks of the
	// workers sharing the store (see the package's # Operations). A longer lease does not
	// widen that margin for an attempt that starts late in its lease; it makes the
	// deliveries of a worker that died wait longer before another attempts them.
	LeaseFor time.Duration
	// PollInterval is how often an idle worker looks for due deliveries; 0 means
	// DefaultPollInterval. Notify makes it look at once.
	PollInterval time.Duration
	// Timeout bounds each attempt, from the connection to the end of the response's body
	// read; 0 means DefaultTimeout. The client's own timeout applies too.
	Timeout time.Duration
	// MaxResponse is how much of a response's body an attempt keeps; 0 means
	// store.MaxTextLen, which is also the most it may be.
	MaxResponse int
	// Horizon is how long the attempts of a delivery run, from its first (or its replay),
	// before it is dead-lettered; 0 means DefaultHorizon.
	Horizon time.Duration
	// MaxRetryAfter caps the wait a receiver's Retry-After obtains; 0 means
	// DefaultMaxRetryAfter.
	MaxRetryAfter time.Duration
	// DisableAfter is how long an endpoint may fail with no success before the worker
	// disables it; 0 means DefaultDisableAfter, and a negative value never disables for
	// failing (a 410 still does).
	DisableAfter time.Duration
	// OnResult, if set, is called after every attempt, from the goroutine that made it,
	// once the store has (or has not) recorded it. It must not block for long.
	OnResult func(Result)
}

// Result is the outcome of one attempt, as WorkerOptions.OnResult sees it.
type Result struct {
	// Delivery is the delivery as the store has it after the attempt (with the attempt,
	// its new status and next attempt time), or as it was leased if the attempt was not
	// recorded (Err is set).
	Delivery store.Delivery
	// Attempt is the attempt: its times, status code, kept response and failure class.
	Attempt store.Attempt
	// Class is the attempt's failure class; empty if it delivered.
	Class FailureClass
	// Disabled reports that the attempt disabled the endpoint (a 410, or failing for
	// WorkerOptions.DisableAfter).
	Disabled bool
	// Sent reports that a request was sent. It is false for a delivery that could not be
	// made into a request (its URL's host is no longer the endpoint's, say), which is
	// dead-lettered with an attempt of class ClassURL and no status.
	Sent bool
	// Err is why the attempt was not recorded: an error wrapping store.ErrLeaseLost (the
	// lease expired and the delivery may be another worker's), or the store's failure
	// (retried a few times first). The delivery is then attempted again once its lease
	// lapses.
	Err error
}

// Worker sends the deliveries of a store's outbox: it leases due deliveries, attempts
// each through its Endpoint, and records every attempt under the lease. See the package's
// Delivery and Operations sections. Its methods are safe for concurrent use, and Run runs
// once at a time.
type Worker struct {
	st        WorkerStore
	endpoints func(name string) (*Endpoint, bool)
	client    *http.Client
	now       func() time.Time
	jit       *jitter
	log       *slog.Logger
	onResult  func(Result)

	workers       int
	leaseFor      time.Duration
	poll          time.Duration
	timeout       time.Duration
	maxResponse   int
	horizon       time.Duration
	maxRetryAfter time.Duration
	disableAfter  time.Duration

	notify  chan struct{} // Notify's wake-up, buffered 1
	running sync.Mutex    // held by Run

	checkMu   sync.Mutex
	checkedAt map[string]time.Time // when each endpoint's state was last read for auto-disabling
}

// NewWorker returns a Worker that sends the deliveries of st, finding each one's Endpoint
// by name with endpoints ([Endpoints.Lookup] is one; it must be safe for concurrent use and
// return compiled endpoints). A delivery whose endpoint it does not find is left pending
// (see the Delivery section). Bad options are an error naming the field.
func NewWorker(st WorkerStore, endpoints func(name string) (*Endpoint, bool), opts *WorkerOptions) (*Worker, error) {
	if st == nil {
		return nil, errors.New("outbound: worker: a store is required")
	}
	if endpoints == nil {
		return nil, errors.New("outbound: worker: an endpoints function is required")
	}
	var o WorkerOptions
	if opts != nil {
		o = *opts
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"LeaseFor", o.LeaseFor}, {"PollInterval", o.PollInterval}, {"Timeout", o.Timeout},
		{"Horizon", o.Horizon}, {"MaxRetryAfter", o.MaxRetryAfter},
	} {
		if d.v < 0 {
			return nil, fmt.Errorf("outbound: worker: %s is %s, want 0 (the default) or more", d.name, d.v)
		}
	}
	w := &Worker{
		st:            st,
		endpoints:     endpoints,
		now:           o.Now,
		log:           o.Logger,
		onResult:      o.OnResult,
		workers:       cmp.Or(o.Workers, DefaultWorkers),
		leaseFor:      cmp.Or(o.LeaseFor, DefaultLeaseFor),
		poll:          cmp.Or(o.PollInterval, DefaultPollInterval),
		timeout:       cmp.Or(o.Timeout, DefaultTimeout),
		maxResponse:   cmp.Or(o.MaxResponse, store.MaxTextLen),
		horizon:       cmp.Or(o.Horizon, DefaultHorizon),
		maxRetryAfter: cmp.Or(o.MaxRetryAfter, DefaultMaxRetryAfter),
		disableAfter:  cmp.Or(o.DisableAfter, DefaultDisableAfter),
		notify:        make(chan struct{}, 1),
		checkedAt:     map[string]time.Time{},
	}
	switch {
	case w.workers < 0 || w.workers > store.MaxLines:
		return nil, fmt.Errorf("outbound: worker: Workers is %d, want 0 to %d", o.Workers, store.MaxLines)
	case w.leaseFor <= w.timeout+leaseMargin:
		return nil, fmt.Errorf("outbound: worker: LeaseFor (%s) must exceed Timeout (%s) by more than %s, so that an attempt ends within its lease", w.leaseFor, w.timeout, leaseMargin)
	case w.maxResponse < 0 || w.maxResponse > store.MaxTextLen:
		return nil, fmt.Errorf("outbound: worker: MaxResponse is %d, want 0 to %d", o.MaxResponse, store.MaxTextLen)
	}
	c := NewClient(nil)
	if o.Client != nil {
		c = o.Client
	}
	cc := *c
	cc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	// The client's timeout bounds each attempt, from the connection to the end of the
	// body's read (ReadBody closes it), as Timeout says: no context and timer of the
	// worker's own per attempt besides the one the client makes.
	if cc.Timeout <= 0 || cc.Timeout > w.timeout {
		cc.Timeout = w.timeout
	}
	w.client = &cc
	if w.now == nil {
		w.now = time.Now
	}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	w.jit = &jitter{src: cmp.Or[io.Reader](o.Rand, rand.Reader)}
	return w, nil
}

// ErrRunning is returned by Run for a Worker that is running already.
var ErrRunning = errors.New("outbound: the worker is running already")

const (
	// leaseMargin is the time an attempt's lease must have left beyond the attempt's
	// timeout when it starts: for recording the attempt, and for clocks that disagree a
	// little.
	leaseMargin = 10 * time.Second
	// disableCheckEvery is how often, at most, a worker reads an endpoint's state after a
	// failure to see whether it has failed for DisableAfter.
	disableCheckEvery = time.Minute
	// logEvery is how often, at most, a worker logs that leasing keeps failing.
	logEvery = time.Minute
)

// Notify tells the worker that deliveries may be due (a conversion was just recorded, a
// delivery replayed), so that it leases at once instead of at its next poll. It never
// blocks.
func (w *Worker) Notify() {
	select {
	case w.notify <- struct{}{}:
	default:
	}
}

// Replay makes a dead delivery pending again, due now, with the same ID (the event ID the
// receiver dedups on), its attempt history kept and a new schedule. A delivery that is not
// dead is an error wrapping store.ErrConflict.
func (w *Worker) Replay(ctx context.Context, id uuid.UUID) (store.Delivery, error) {
	d, err := w.st.ReplayDelivery(ctx, store.ReplayDeliveryParams{DeliveryID: id, At: w.now()})
	if err == nil {
		w.Notify()
	}
	return d, err
}

// ReplayEndpoint replays every dead delivery of the endpoint, as Replay does for one, and
// returns how many.
func (w *Worker) ReplayEndpoint(ctx context.Context, name string) (int, error) {
	n, err := w.st.ReplayDeliveries(ctx, store.ReplayDeliveriesParams{Endpoint: name, At: w.now()})
	if err == nil && n > 0 {
		w.Notify()
	}
	return n, err
}

// Enable enables a disabled endpoint, so that its pending deliveries are sent again, and
// restarts the clock of its auto-disabling. Its dead deliveries stay dead: ReplayEndpoint
// sends them. Enabling an enabled endpoint is an error wrapping store.ErrDuplicate.
func (w *Worker) Enable(ctx context.Context, name string) (store.EndpointState, error) {
	s, err := w.st.EnableEndpoint(ctx, store.EnableEndpointParams{Name: name, At: w.now()})
	if err == nil {
		w.Notify()
	}
	return s, err
}

// Run sends deliveries until ctx is done, then stops leasing, waits for the attempts in
// flight to finish (each within Timeout) and be recorded (within its lease), and returns
// context.Cause(ctx). Deliveries it leased but had not started (those of a lease that was
// running when ctx ended included) are left to their leases, which lapse: they are
// attempted after LeaseFor, by this or another worker. A store that
// fails is retried at every poll and logged, never a reason to stop. A Worker runs once at
// a time: Run while another Run of w is running returns ErrRunning at once (for more
// attempts at once, raise WorkerOptions.Workers, or run several Workers).
func (w *Worker) Run(ctx context.Context) error {
	if !w.running.TryLock() {
		return ErrRunning
	}
	defer w.running.Unlock()
	r := &run{w: w, ctx: ctx, done: make(chan ended, w.workers), leased: make(chan leased, 1), eps: map[string]*epState{}, work: make(chan job)}
	// An attempt runs to its end even once ctx is done, so that a shutdown records what was
	// sent: the contexts of its request, made once for every attempt of the run.
	r.sendCtx = context.WithoutCancel(ctx)
	r.sendHTTPCtx = WithHTTPAllowed(r.sendCtx)
	if ar, ok := w.st.(store.AttemptRecorder); ok {
		r.rec = newRecorder(ctx, ar, w.now)
	}
	r.loop()
	r.stopServing()
	return context.Cause(ctx)
}

// run is the state of one Run: only its loop goroutine touches it, and the attempts it
// starts report back on done.
type run struct {
	w    *Worker
	ctx  context.Context
	done chan ended // each attempt that ended, or that freed its slot before its recording
	rec  *recorder  // nil if the store records attempts one by one only

	sendCtx, sendHTTPCtx context.Context // the requests' contexts: ctx without its cancellation, and that allowing http

	attempts   sync.WaitGroup // the attempts, which may outlive their slots
	goroutines sync.WaitGroup // the goroutines that make them (see start)
	work       chan job       // unbuffered: an attempt handed to an idle goroutine
	recording  atomic.Int64   // delivered attempts waiting for their recording, their slots freed

	leasing              bool            // a lease is running, which reports on leased
	leased               chan leased     // buffered 1
	disabledWhileLeasing map[string]bool // endpoints disabled while the lease ran: drop their leases
	tokenAt              time.Time       // when, at the last lease, an endpoint out of rate tokens has one again (runtime clock)

	inflight int                  // attempts running
	queued   int                  // leases waiting for their endpoint's concurrency or rate
	eps      map[string]*epState  // per endpoint in use
	unusable map[string]*Endpoint // endpoints the worker cannot send to now (see markUnusable)
	failedAt time.Time            // when a failure to lease was last logged (runtime clock)
	failures int                  // failures to lease since then
}

// ended is an attempt that ended, as its goroutine reports it to the loop.
type ended struct {
	endpoint string
	ep       *Endpoint
	// noSecret is set when the delivery needs a secret the endpoint does not have:
	// nothing was sent or recorded.
	noSecret error
	// disabled is set when the attempt disabled the endpoint.
	disabled bool
}

// epState is what the loop knows of one endpoint. Its times are on the runtime clock,
// like the timers the loop waits on.
type epState struct {
	inflight int
	queue    []store.Lease // leased, waiting for a slot or a rate token, oldest first
	tokens   float64       // rate tokens left, at most the endpoint's RatePerSecond
	refillAt time.Time     // when tokens was last topped up
}

func (r *run) loop() {
	w := r.w
	timer := time.NewTimer(w.poll)
	defer timer.Stop()
	woke := true     // by the timer, Notify or the start, since the last lease: lease even for a few free slots
	eventful := true // something happened since the last lease (or it leased all it asked): look at leasing
	for {
		if r.ctx.Err() != nil {
			r.drain()
			return
		}
		now, mono := w.now(), time.Now()
		r.recheckUnusable()
		wait := r.startQueued(now, mono)
		// Leases waiting in queues hold no attempt slot, but are at most leaseAhead ×
		// Workers in all: a worker holds up to Workers attempts in flight and that many
		// leased ahead, so that a slot that frees starts its next attempt at once, without
		// waiting on the store.
		free := r.free()
		// Lease when woken, when idle, or for at least a quarter of the slots: not once per
		// attempt that ends. The lease runs on a goroutine of its own, one at a time, so
		// that the attempts leased ahead start while the store leases the next ones.
		if eventful && !r.leasing && free > 0 && (woke || r.inflight == 0 || free >= max(1, w.workers/4)) {
			exclude, untilToken := r.exclude(mono)
			r.tokenAt = time.Time{}
			if untilToken < time.Duration(math.MaxInt64) {
				r.tokenAt = mono.Add(untilToken)
			}
			r.lease(store.LeaseParams{Now: now, LeaseFor: w.leaseFor, Limit: free, Exclude: exclude})
			woke, eventful = false, false
		}
		if !r.tokenAt.IsZero() {
			if d := r.tokenAt.Sub(mono); d > 0 {
				wait = min(wait, d)
			} else {
				// Past: the timer woke the loop for it, and woke says to lease when it may
				// (not before a slot is free, which would spin on a timer that is due).
				r.tokenAt = time.Time{}
			}
		}
		// Since Go 1.23 a timer's channel holds no stale tick after Stop or Reset (go.mod's
		// go line opts in), so Reset alone rearms it.
		timer.Reset(min(wait, w.poll))
		select {
		case <-r.ctx.Done():
		case got := <-r.leased:
			// More may be due when the store leased all that was asked: lease again at once.
			eventful = r.accepted(got, time.Now()) || eventful
		case e := <-r.done:
			r.finished(e)
			// Take every other attempt that ended too, so that the next lease fills all
			// the free slots at once.
			for more := true; more; {
				select {
				case e := <-r.done:
					r.finished(e)
				default:
					more = false
				}
			}
			eventful = true
		case <-w.notify:
			woke, eventful = true, true
		case <-timer.C:
			woke, eventful = true, true
		}
	}
}

// leased is the outcome of a lease, as its goroutine reports it to the loop.
type leased struct {
	leases []store.Lease
	err    error
	limit  int
}

// lease leases deliveries on a goroutine of its own, which reports on r.leased.
func (r *run) lease(p store.LeaseParams) {
	r.leasing = true
	go func() {
		ls, err := r.w.st.LeaseDeliveries(r.ctx, p)
		r.leased <- leased{leases: ls, err: err, limit: p.Limit}
	}()
}

// accepted takes the outcome of a lease, and reports whether the store may have more due
// (it leased as many as it was asked for).
func (r *run) accepted(got leased, mono time.Time) bool {
	r.leasing = false
	dropped := r.disabledWhileLeasing
	r.disabledWhileLeasing = nil
	switch {
	case got.err != nil && r.ctx.Err() != nil:
		return false
	case got.err != nil:
		r.leaseFailed(mono, got.err)
		return false
	}
	r.failures = 0
	for _, l := range got.leases {
		if !dropped[l.Delivery.Endpoint] {
			r.accept(l) // else leased before its endpoint was disabled: left to lapse
		}
	}
	return len(got.leases) == got.limit
}

// leaseAhead is how many leases a worker holds waiting, per attempt slot (and per unit of an
// endpoint's concurrency): enough that the attempts that end while a lease is running
// (milliseconds on PostgreSQL) find their next ones leased, and that each lease takes many
// deliveries at once; few enough that a lease waits seconds at most for its slot, far
// inside its LeaseFor.
const leaseAhead = 4

// free returns how many deliveries the worker may lease now: what makes up Workers in
// flight and leaseAhead × Workers leased ahead, within leaseAhead × Workers leased ahead,
// and at most store.MaxLines at once.
func (r *run) free() int {
	ahead := leaseAhead * r.w.workers
	return min(r.w.workers+ahead-r.inflight-r.queued, ahead-r.queued, store.MaxLines)
}

// leaseFailed logs a failure to lease, at most once per logEvery.
func (r *run) leaseFailed(mono time.Time, err error) {
	r.failures++
	if !r.failedAt.IsZero() && mono.Sub(r.failedAt) < logEvery {
		return
	}
	r.w.log.LogAttrs(r.ctx, slog.LevelError, "outbound: leasing deliveries failed",
		slog.String("error", err.Error()), slog.Int("failures", r.failures))
	r.failedAt, r.failures = mono, 0
}

// drain waits for the attempts in flight, and for those whose slots are free but which are
// still being recorded, and drops the queued leases, at shutdown.
func (r *run) drain() {
	if r.leasing {
		r.leasing = false
		<-r.leased // its leases lapse
	}
	for r.inflight > 0 {
		r.finished(<-r.done)
	}
	r.attempts.Wait()
	for _, s := range r.eps {
		s.queue = nil
	}
	r.queued = 0
}

// finished accounts for an attempt that ended.
func (r *run) finished(e ended) {
	r.inflight--
	s := r.eps[e.endpoint]
	s.inflight--
	switch {
	case e.noSecret != nil:
		r.markUnusable(e.endpoint, e.ep, e.noSecret)
	case e.disabled:
		r.dropQueue(e.endpoint) // their leases lapse; the store leases nothing of it now
		if r.leasing {
			if r.disabledWhileLeasing == nil {
				r.disabledWhileLeasing = map[string]bool{}
			}
			r.disabledWhileLeasing[e.endpoint] = true
		}
	}
}

// dropQueue drops the leases queued for an endpoint, leaving them to lapse.
func (r *run) dropQueue(name string) {
	if s := r.eps[name]; s != nil {
		r.queued -= len(s.queue)
		s.queue = nil
	}
}

// accept takes a new lease: queued for its endpoint, or dropped (left to lapse) if the
// worker cannot send to the endpoint.
func (r *run) accept(l store.Lease) {
	name := l.Delivery.Endpoint
	if _, bad := r.unusable[name]; bad {
		return
	}
	if _, ok := r.w.endpoints(name); !ok {
		r.markUnusable(name, nil, nil)
		return
	}
	s := r.eps[name]
	if s == nil {
		s = &epState{tokens: -1}
		r.eps[name] = s
	}
	s.queue = append(s.queue, l)
	r.queued++
}

// markUnusable stops the worker leasing an endpoint's deliveries, drops those it has
// queued, and logs why once: the endpoints function does not know it (ep nil), or ep lacks
// a secret its deliveries need (noSecret). It is usable again once the endpoints function
// returns another *Endpoint for it.
func (r *run) markUnusable(name string, ep *Endpoint, noSecret error) {
	if r.unusable == nil {
		r.unusable = map[string]*Endpoint{}
	}
	if _, already := r.unusable[name]; already {
		return
	}
	r.unusable[name] = ep
	r.dropQueue(name)
	if ep == nil {
		r.w.log.LogAttrs(r.ctx, slog.LevelError, "outbound: no endpoint of that name is configured; its deliveries stay pending",
			slog.String("endpoint", name))
		return
	}
	r.w.log.LogAttrs(r.ctx, slog.LevelError, "outbound: the endpoint lacks a secret its deliveries need; they stay pending until its configuration changes",
		slog.String("endpoint", name), slog.String("error", noSecret.Error()))
}

// recheckUnusable makes usable again the endpoints whose configuration changed.
func (r *run) recheckUnusable() {
	for name, bad := range r.unusable {
		if ep, ok := r.w.endpoints(name); ok && ep != bad {
			delete(r.unusable, name)
		}
	}
}

// exclude returns the endpoints not to lease from now: those the worker cannot send to, at
// their concurrency, out of rate tokens, or with leases queued already; and how long until
// an endpoint out of tokens has one again. The store accepts at most store.MaxLines names;
// past that, a lease of an excluded endpoint waits in its queue.
func (r *run) exclude(mono time.Time) ([]string, time.Duration) {
	var out []string
	wait := time.Duration(math.MaxInt64)
	for name := range r.unusable {
		out = append(out, name)
	}
	for name, s := range r.eps {
		if s.inflight == 0 && len(s.queue) == 0 && mono.Sub(s.refillAt) >= time.Second {
			// Idle, with its rate tokens full again: forget it, so that the map holds
			// only the endpoints in use.
			delete(r.eps, name)
			continue
		}
		switch {
		case len(s.queue) >= leaseAhead*r.concurrency(name):
			// Leased ahead as far as its concurrency allows: lease its next ones when these
			// start.
			out = append(out, name)
		case !r.hasToken(name, s, mono):
			out = append(out, name)
			wait = min(wait, r.untilToken(name, s))
		}
	}
	if len(out) > store.MaxLines {
		slices.Sort(out)
		out = out[:store.MaxLines]
	}
	return out, wait
}

// concurrency returns the most attempts in flight to the named endpoint.
func (r *run) concurrency(name string) int {
	if ep, ok := r.w.endpoints(name); ok && ep.Concurrency > 0 {
		return ep.Concurrency
	}
	return DefaultConcurrency
}

// hasToken tops up the endpoint's rate tokens at mono and reports whether one is left.
func (r *run) hasToken(name string, s *epState, mono time.Time) bool {
	ep, ok := r.w.endpoints(name)
	if !ok || ep.RatePerSecond <= 0 {
		return true
	}
	rate := float64(ep.RatePerSecond)
	switch {
	case s.tokens < 0: // first sight: a full second's worth
		s.tokens, s.refillAt = rate, mono
	case mono.After(s.refillAt):
		s.tokens = min(rate, s.tokens+mono.Sub(s.refillAt).Seconds()*rate)
		s.refillAt = mono
	}
	return s.tokens >= 1
}

// untilToken returns how long until an endpoint out of rate tokens has one again.
func (r *run) untilToken(name string, s *epState) time.Duration {
	ep, ok := r.w.endpoints(name)
	if !ok || ep.RatePerSecond <= 0 {
		return 0
	}
	need := (1 - s.tokens) / float64(ep.RatePerSecond) * float64(time.Second)
	return time.Duration(math.Ceil(need))
}

// startQueued starts the queued attempts that the worker's slots and their endpoints'
// concurrency and rate allow, and returns how long until a rate token lets another start
// (or a long wait if none is waiting for one). now is the records' clock, mono the
// runtime's.
func (r *run) startQueued(now, mono time.Time) time.Duration {
	wait := time.Duration(math.MaxInt64)
	if r.ctx.Err() != nil {
		return wait // stopping: start nothing more
	}
	for name, s := range r.eps {
		for len(s.queue) > 0 && s.inflight < r.concurrency(name) && r.inflight < r.w.workers {
			if !r.hasToken(name, s, mono) {
				wait = min(wait, r.untilToken(name, s))
				break
			}
			l := s.queue[0]
			s.queue = s.queue[1:]
			r.queued--
			if now.Add(r.w.timeout + leaseMargin).After(l.ExpiresAt) {
				continue // too late to finish within the lease: let it lapse
			}
			ep, ok := r.w.endpoints(name)
			if !ok {
				r.markUnusable(name, nil, nil)
				break
			}
			if s.tokens >= 1 {
				s.tokens--
			}
			s.inflight++
			r.inflight++
			r.start(job{l: l, ep: ep, name: name})
		}
		if len(s.queue) == 0 {
			s.queue = nil
		}
	}
	return wait
}

// job is an attempt to make: a lease, and the endpoint of its delivery under its name.
type job struct {
	l    store.Lease
	ep   *Endpoint
	name string
}

// start runs the attempt j on an idle goroutine of the run's, or on a new one if none is
// idle: the goroutines outlive their attempts, so that an attempt costs no goroutine of its
// own (nor the growth of a new one's stack).
func (r *run) start(j job) {
	r.attempts.Add(1)
	select {
	case r.work <- j:
	default:
		r.goroutines.Add(1)
		go r.serve(j)
	}
}

// serve makes the attempt j, then those that start hands it, until stop.
func (r *run) serve(j job) {
	defer r.goroutines.Done()
	for ok := true; ok; j, ok = <-r.work {
		r.do(j)
	}
}

// stopServing ends the run's idle goroutines, once no attempt is running, and waits for
// them.
func (r *run) stopServing() {
	close(r.work)
	r.goroutines.Wait()
}

// do makes the attempt j and reports its end on r.done: once the receiver has answered, if
// the attempt's recording frees its slot (see Worker.attempt), or else once it is recorded.
func (r *run) do(j job) {
	defer r.attempts.Done()
	released := false
	sctx := r.sendCtx
	if j.ep.AllowHTTP {
		sctx = r.sendHTTPCtx
	}
	res := r.w.attempt(r.ctx, sctx, j.l, j.ep, r.rec, func() {
		if r.recording.Add(1) > int64(maxRecording(r.w.workers)) {
			r.recording.Add(-1)
			return // enough are waiting: this one keeps its slot
		}
		released = true
		r.done <- ended{endpoint: j.name, ep: j.ep}
	})
	if released {
		r.recording.Add(-1)
		return
	}
	r.done <- ended{endpoint: j.name, ep: j.ep, noSecret: res.noSecret, disabled: res.Disabled}
}

// outcome is an attempt's Result, or why none was made.
type outcome struct {
	Result
	noSecret error // the delivery needs a secret the endpoint does not have: nothing done
}

// attempt sends one leased delivery to its endpoint and records the attempt, with rec's
// next batch or, if rec is nil, by itself. The request is sent under sctx, which is ctx
// without its cancellation (allowing http if the endpoint does): the attempt runs to its end
// even if ctx is done, so that a shutdown records what was sent; the client's timeout bounds
// it, and the lease bounds its recording. A delivered attempt calls release once the receiver has answered, before
// its recording, if rec records it: nothing that follows a success concerns its slot or its
// endpoint's concurrency (a failure may disable the endpoint, which its slot's end reports),
// so the slot may send the next delivery while this one waits for its batch. One by one,
// the slot is held until the attempt is recorded, which bounds the store's concurrent
// writes by Workers.
func (w *Worker) attempt(ctx, sctx context.Context, l store.Lease, ep *Endpoint, rec *recorder, release func()) outcome {
	d := l.Delivery
	start := w.now()
	a := store.Attempt{StartedAt: start}
	var (
		v     verdict
		class FailureClass
		resp  *http.Response
	)
	req, err := ep.Request(sctx, d, start)
	switch {
	case errors.Is(err, errNoSecret):
		return outcome{noSecret: err}
	case err != nil:
		// A delivery that cannot be sent as it is stored: it was rendered for another
		// configuration. Nothing is sent; it is dead-lettered, visibly.
		a.FinishedAt, class, v = start, ClassURL, reject
		w.log.LogAttrs(ctx, slog.LevelError, "outbound: a delivery cannot be sent as stored; it is dead-lettered unsent",
			slog.String("endpoint", d.Endpoint), slog.String("delivery", d.ID.String()), slog.String("error", err.Error()))
	default:
		resp, err = w.client.Do(req)
		var text string
		if resp != nil {
			var rerr error
			// Read past the cap by the longest secret, so that one cut by the cap is still
			// found and blanked before the text is cut to the cap.
			secrets := w.secretsOf(ep, req)
			text, _, rerr = ReadBody(resp, w.maxResponse+longest(secrets))
			if err == nil && rerr != nil && (resp.StatusCode < 200 || resp.StatusCode > 299) {
				// A failure whose body could not be read: its class is the reading's. A 2xx
				// is delivered whatever follows its status line: the receiver has accepted.
				err = rerr
			}
			if len(secrets) > 0 {
				text = RedactSecrets(text, secrets...)
			}
			text = cutValid(text, w.maxResponse)
		}
		a.FinishedAt = w.now()
		a.Response = text
		class = Classify(resp, err)
		if resp != nil && resp.StatusCode >= 100 && resp.StatusCode <= 599 {
			a.StatusCode = resp.StatusCode // other codes are no status a store keeps; the class says "other"
		}
		v = retry // no response: a network error, a refused address, a timeout
		if a.StatusCode != 0 {
			v = judge(a.StatusCode, ep.RetryClientErrors)
		}
	}
	a.Error = string(class)

	p := store.RecordAttemptParams{DeliveryID: d.ID, Token: l.Token, Attempt: a}
	switch v {
	case delivered:
		p.Status = store.DeliveryDelivered
	case reject, gone:
		p.Status = store.DeliveryDead
	default:
		runStart, n := currentRun(d)
		if n == 0 {
			runStart = start
		}
		var wait time.Duration
		if resp != nil {
			wait, _ = parseRetryAfter(resp.Header.Get("Retry-After"), a.FinishedAt, w.maxRetryAfter)
		}
		if next, ok := schedule(w.jit, a, runStart, n+1, wait, w.horizon); ok {
			p.Status, p.NextAttemptAt = store.DeliveryPending, next
		} else {
			p.Status = store.DeliveryDead
		}
	}

	if v == delivered && rec != nil && release != nil {
		release()
	}
	res := outcome{Result: Result{Delivery: d, Attempt: a, Class: class, Sent: req != nil}}
	recorded, err := w.record(ctx, rec, l, p)
	switch {
	case err != nil:
		res.Err = err
		level := slog.LevelError
		if errors.Is(err, store.ErrLeaseLost) {
			level = slog.LevelWarn
		}
		w.log.LogAttrs(ctx, level, "outbound: an attempt was not recorded; the delivery is attempted again when its lease lapses",
			slog.String("endpoint", d.Endpoint), slog.String("delivery", d.ID.String()),
			slog.Int("status", a.StatusCode), slog.String("class", string(class)), slog.String("error", err.Error()))
	default:
		res.Delivery = recorded
		if p.Status == store.DeliveryDead {
			w.log.LogAttrs(ctx, slog.LevelWarn, "outbound: delivery dead-lettered",
				slog.String("endpoint", d.Endpoint), slog.String("delivery", d.ID.String()),
				slog.Int("status", a.StatusCode), slog.String("class", string(class)), slog.Int("attempts", len(recorded.Attempts)))
		}
		if v != delivered && req != nil {
			res.Disabled = w.maybeDisable(ctx, d.Endpoint, v == gone, a)
		}
	}
	if w.onResult != nil {
		w.onResult(res.Result)
	}
	return res
}

// record records an attempt under its lease, with rec's next batch or (rec nil) with
// RecordAttempt, even at shutdown, retrying a store that fails (the fencing token makes a
// retry safe) until the lease ends, for at most three tries. A batch's attempt that the
// store refuses (ErrLeaseLost) is refused alone; one that fails with its whole batch is
// retried with a later batch.
func (w *Worker) record(ctx context.Context, rec *recorder, l store.Lease, p store.RecordAttemptParams) (store.Delivery, error) {
	// rctx bounds the writes and the pauses by the lease. It is made when first needed: a
	// batch has a deadline of its own, so an attempt recorded at its first try makes none.
	var rctx context.Context
	cancel := context.CancelFunc(func() {})
	defer func() { cancel() }()
	bounded := func() context.Context {
		if rctx == nil {
			left := max(l.ExpiresAt.Sub(w.now()), time.Second) // by the records' clock, which set ExpiresAt
			rctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), left)
		}
		return rctx
	}
	var err error
	for try, pause := 0, 100*time.Millisecond; try < 3; try, pause = try+1, pause*4 {
		var d store.Delivery
		if rec != nil {
			d, err = rec.record(p, l.ExpiresAt)
		} else {
			d, err = w.st.RecordAttempt(bounded(), p)
		}
		if err == nil || errors.Is(err, store.ErrLeaseLost) || errors.Is(err, store.ErrInvalid) || errors.Is(err, store.ErrNotFound) {
			return d, err
		}
		t := time.NewTimer(pause)
		select {
		case <-bounded().Done():
			t.Stop()
			return store.Delivery{}, err
		case <-t.C:
		}
	}
	return store.Delivery{}, err
}

// secretsOf returns what must not be kept of a response to req: the endpoint's secrets and
// the request's signatures, which a receiver's error page may echo.
func (w *Worker) secretsOf(ep *Endpoint, req *http.Request) []string {
	if len(ep.Secrets) == 0 && ep.Signing.Secret == "" && len(req.Header["Webhook-Signature"]) == 0 && ep.Signing.Scheme != SchemeS2SV1 {
		return nil // nothing to blank: the common endpoint, unsigned and without secrets
	}
	out := make([]string, 0, len(ep.Secrets)+3)
	for _, s := range ep.Secrets {
		out = append(out, s)
	}
	if ep.Signing.Secret != "" {
		out = append(out, ep.Signing.Secret)
	}
	if sig := req.Header.Get("Webhook-Signature"); sig != "" {
		out = append(out, sig)
	}
	if ep.Signing.Scheme == SchemeS2SV1 {
		if sig := req.URL.Query().Get("sig"); sig != "" {
			out = append(out, sig)
		}
	}
	return out
}

// longest returns the length of the longest form in which RedactSecrets finds a secret.
func longest(secrets []string) int {
	n := 0
	for _, s := range secrets {
		n = max(n, len(s), len(url.QueryEscape(s)), len(url.PathEscape(s)))
	}
	return n
}

// maybeDisable disables the endpoint after a failed attempt a that was recorded: at once
// for a 410, else if it has had no success for DisableAfter (read from the store at most
// once per disableCheckEvery per endpoint). It reports whether it did.
func (w *Worker) maybeDisable(ctx context.Context, name string, goneNow bool, a store.Attempt) bool {
	var reason string
	if goneNow {
		reason = ReasonGone + ": the receiver answered 410 Gone at " + a.FinishedAt.UTC().Format(time.RFC3339) + "; ask its owner before enabling it again"
	} else {
		if w.disableAfter < 0 || !w.dueCheck(name, a.FinishedAt) {
			return false
		}
		s, err := w.st.GetEndpoint(ctx, name)
		if err != nil {
			w.log.LogAttrs(ctx, slog.LevelError, "outbound: reading an endpoint's state failed",
				slog.String("endpoint", name), slog.String("error", err.Error()))
			return false
		}
		if s.Disabled || s.FailingSince.IsZero() || a.FinishedAt.Sub(s.FailingSince) < w.disableAfter {
			return false
		}
		since := "never"
		if !s.LastSuccessAt.IsZero() {
			since = s.LastSuccessAt.UTC().Format(time.RFC3339)
		}
		reason = fmt.Sprintf("%s: no successful delivery since %s, failing since %s (more than %s)",
			ReasonFailing, since, s.FailingSince.UTC().Format(time.RFC3339), w.disableAfter)
	}
	_, err := w.st.DisableEndpoint(ctx, store.DisableEndpointParams{Name: name, Reason: reason, At: a.FinishedAt})
	switch {
	case errors.Is(err, store.ErrDuplicate):
		return false // disabled already, by another worker
	case err != nil:
		w.log.LogAttrs(ctx, slog.LevelError, "outbound: disabling an endpoint failed",
			slog.String("endpoint", name), slog.String("error", err.Error()))
		return false
	}
	w.log.LogAttrs(ctx, slog.LevelWarn, "outbound: endpoint disabled", slog.String("endpoint", name), slog.String("reason", reason))
	return true
}

// dueCheck reports whether the endpoint's state is to be read after a failure at t: the
// first failure, or disableCheckEvery after the last read.
func (w *Worker) dueCheck(name string, t time.Time) bool {
	w.checkMu.Lock()
	defer w.checkMu.Unlock()
	last, ok := w.checkedAt[name]
	if ok && t.Sub(last) < disableCheckEvery && t.Sub(last) >= 0 {
		return false
	}
	if len(w.checkedAt) >= maxChecked {
		clear(w.checkedAt) // bounded memory: forgetting only makes a read sooner
	}
	w.checkedAt[name] = t
	return true
}

// maxChecked bounds the endpoints whose last state read a Worker remembers.
const maxChecked = 10_000
