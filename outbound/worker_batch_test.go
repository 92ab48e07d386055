package outbound_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/outbound"
	"github.com/s2skit/s2s/store"
	"github.com/s2skit/s2s/store/memstore"
)

// Group commit: a worker on a store.AttemptRecorder records the attempts that finished
// together with one RecordAttempts, reports each result only once its batch is written, and
// lets a delivered attempt's slot send the next delivery while it is being recorded.

// gatedStore is a memstore whose RecordAttempts waits until gate is closed, and which
// remembers each batch and which deliveries it has recorded.
type gatedStore struct {
	*memstore.Store
	gate chan struct{}

	mu        sync.Mutex
	batches   []int              // the size of each RecordAttempts
	committed map[uuid.UUID]bool // the deliveries whose attempt a RecordAttempts has returned recorded
}

func newGatedStore() *gatedStore {
	return &gatedStore{Store: memstore.New(nil), gate: make(chan struct{}), committed: map[uuid.UUID]bool{}}
}

func (s *gatedStore) RecordAttempts(ctx context.Context, ps []store.RecordAttemptParams) ([]store.Delivery, []error) {
	<-s.gate
	ds, errs := s.Store.RecordAttempts(ctx, ps)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.batches = append(s.batches, len(ps))
	for i, p := range ps {
		if errs[i] == nil {
			s.committed[p.DeliveryID] = true
		}
	}
	return ds, errs
}

func (s *gatedStore) RecordAttempt(context.Context, store.RecordAttemptParams) (store.Delivery, error) {
	panic("outbound test: a worker on an AttemptRecorder records through RecordAttempts")
}

func (s *gatedStore) wasCommitted(id uuid.UUID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.committed[id]
}

const (
	batchSlots      = 4  // the worker's Workers, and its endpoint's Concurrency
	batchDeliveries = 20 // deliveries in each test
)

// gatedWorker starts a worker on st with batchSlots slots, sending to rc, and enqueues
// batchDeliveries deliveries. stop cancels its Run and waits for it.
func gatedWorker(t *testing.T, st *gatedStore, rc *receiver, onResult func(outbound.Result)) (ids map[uuid.UUID]bool, stop func() error) {
	ep := endpoint(t, "aff-1", func(ep *outbound.Endpoint) { ep.Concurrency = batchSlots })
	w, err := outbound.NewWorker(st, outbound.Endpoints{ep}.Lookup(), &outbound.WorkerOptions{
		Client: &http.Client{Transport: rc}, Rand: maxRand{}, Workers: batchSlots, OnResult: onResult,
	})
	require.NoError(t, err)
	ids = map[uuid.UUID]bool{}
	for range batchDeliveries {
		for _, d := range enqueue(t, st, time.Now(), ep) {
			ids[d.ID] = true
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once sync.Once
	var runErr error
	stop = func() error {
		once.Do(func() { cancel(); runErr = <-done })
		return runErr
	}
	t.Cleanup(func() { _ = stop() })
	return ids, stop
}

// TestWorker_GroupCommit: while the store is writing, the deliveries that the receiver
// accepted wait for their recording without holding their slots, so the worker sends all
// of them (more than its slots) before any is recorded; none is reported before the write
// that records it returns; and they are recorded in fewer writes than attempts, each
// attempt once.
func TestWorker_GroupCommit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := newGatedStore()
		rc := &receiver{}
		results := make(chan outbound.Result, batchDeliveries)
		var early []uuid.UUID // reported before their write returned: must stay empty
		var mu sync.Mutex
		ids, stop := gatedWorker(t, st, rc, func(r outbound.Result) {
			if !st.wasCommitted(r.Delivery.ID) {
				mu.Lock()
				early = append(early, r.Delivery.ID)
				mu.Unlock()
			}
			results <- r
		})
		synctest.Wait() // every goroutine waits: the writes, on the gate
		require.Len(t, rc.requests(), batchDeliveries, "rule: a delivered attempt frees its slot before its recording")
		require.Empty(t, results, "rule: no result is reported before its attempt is recorded")

		close(st.gate)
		for range batchDeliveries {
			r := <-results
			require.NoError(t, r.Err)
			require.Equal(t, store.DeliveryDelivered, r.Delivery.Status, "the result is the delivery as recorded")
			require.True(t, ids[r.Delivery.ID])
		}
		require.ErrorIs(t, stop(), context.Canceled)
		require.Empty(t, early, "rule: no result is reported before its attempt is recorded")
		sum, largest := 0, 0
		for _, n := range st.batches {
			sum += n
			largest = max(largest, n)
		}
		require.Equal(t, batchDeliveries, sum, "every attempt is recorded once: %v", st.batches)
		require.Greater(t, largest, 1, "rule: attempts that finished together are recorded together: %v", st.batches)
		for id := range ids {
			d, err := st.GetDelivery(t.Context(), id)
			require.NoError(t, err)
			require.Equal(t, store.DeliveryDelivered, d.Status)
			require.Len(t, d.Attempts, 1)
		}
	})
}

// TestWorker_GroupCommitFailureHoldsSlot: a failed attempt holds its slot until it is
// recorded (what follows a failure, disabling the endpoint, concerns the slot's next
// attempt), so the worker sends no more than its slots while the store is writing.
func TestWorker_GroupCommitFailureHoldsSlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := newGatedStore()
		rc := &receiver{answer: always(http.StatusServiceUnavailable)}
		_, stop := gatedWorker(t, st, rc, nil)
		synctest.Wait()
		require.Len(t, rc.requests(), batchSlots, "rule: a failed attempt holds its slot until it is recorded")
		close(st.gate)
		require.ErrorIs(t, stop(), context.Canceled)
	})
}

// TestWorker_GroupCommitShutdown: a worker stopped while its store is writing returns only
// once every attempt it sent is recorded, those whose slots were freed included.
func TestWorker_GroupCommitShutdown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := newGatedStore()
		rc := &receiver{}
		ids, stop := gatedWorker(t, st, rc, nil)
		synctest.Wait()
		require.Len(t, rc.requests(), batchDeliveries)
		stopped := make(chan error, 1)
		go func() { stopped <- stop() }()
		synctest.Wait()
		require.Empty(t, stopped, "rule: Run waits for the attempts it sent to be recorded")
		close(st.gate)
		require.ErrorIs(t, <-stopped, context.Canceled)
		for id := range ids {
			d, err := st.GetDelivery(t.Context(), id)
			require.NoError(t, err)
			require.Equal(t, store.DeliveryDelivered, d.Status, "rule: what was sent before the shutdown is recorded")
		}
	})
}

// slowLeaseStore is a memstore whose leases after the first take the deliveries at once
// but return them only once gate is closed: a lease that is running while the worker's
// attempts go on.
type slowLeaseStore struct {
	*memstore.Store
	gate chan struct{}

	mu    sync.Mutex
	calls int
}

func (s *slowLeaseStore) LeaseDeliveries(ctx context.Context, p store.LeaseParams) ([]store.Lease, error) {
	ls, err := s.Store.LeaseDeliveries(ctx, p)
	s.mu.Lock()
	s.calls++
	n := s.calls
	s.mu.Unlock()
	if n > 1 {
		<-s.gate
	}
	return ls, err
}

// TestWorker_DisabledWhileLeasing: the worker leases on a goroutine of its own while its
// attempts run, so an attempt may disable its endpoint (a 410) while a lease that took
// more of the endpoint's deliveries is running: those are not attempted, as the ones
// queued already are not, and are left to their leases.
func TestWorker_DisabledWhileLeasing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := &slowLeaseStore{Store: memstore.New(nil), gate: make(chan struct{})}
		ep := endpoint(t, "aff-1", func(e *outbound.Endpoint) { e.Concurrency = 1 })
		rc := &receiver{answer: func(int, *http.Request) (*http.Response, error) {
			time.Sleep(time.Second) // the next lease is running by then
			return respond(http.StatusGone, "", nil), nil
		}}
		w, err := outbound.NewWorker(st, outbound.Endpoints{ep}.Lookup(), &outbound.WorkerOptions{
			Client: &http.Client{Transport: rc}, Rand: maxRand{}, Workers: 1,
		})
		require.NoError(t, err)
		for range 3 {
			enqueue(t, st, time.Now(), ep)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- w.Run(ctx) }()
		advance(time.Minute) // the first attempt disabled the endpoint; the second lease waits
		st.mu.Lock()
		calls := st.calls
		st.mu.Unlock()
		require.Equal(t, 2, calls, "the second lease ran while the first attempt did")
		require.True(t, func() bool { s, _ := st.GetEndpoint(t.Context(), "aff-1"); return s.Disabled }())
		close(st.gate)
		advance(time.Hour)
		require.Len(t, rc.requests(), 1, "rule: nothing more goes to an endpoint that answered 410, even what a running lease took")
		cancel()
		require.ErrorIs(t, <-done, context.Canceled)
	})
}

// TestWorker_RateWaitNoSpin: the time at which a rate-limited endpoint has a token again
// wakes the worker once; while it has no free slot to lease for (a slow attempt in flight,
// another leased ahead), it waits for the slot instead of for a timer that is due already,
// which would spin its loop until the slot freed.
func TestWorker_RateWaitNoSpin(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var loops atomic.Int64 // the worker reads its clock once per turn of its loop, and per record
		now := func() time.Time {
			if loops.Add(1) > 100_000 {
				panic("outbound test: the worker's loop spins")
			}
			return time.Now()
		}
		rated := endpoint(t, "rated", func(e *outbound.Endpoint) { e.RatePerSecond, e.Concurrency = 1, 1 })
		slow := endpoint(t, "slow", func(e *outbound.Endpoint) {
			e.URL, e.Concurrency = "http://receiver.test/slow?eid={event_id}&tx={transaction_id}", 1
		})
		h := newHarness(t, &outbound.WorkerOptions{Workers: 1, Now: now}, rated, slow)
		h.rc.answer = func(_ int, r *http.Request) (*http.Response, error) {
			if r.URL.Path == "/slow" {
				time.Sleep(20 * time.Second) // within the attempt's timeout
			}
			return respond(http.StatusOK, "ok", nil), nil
		}
		t0 := time.Now()
		// Due in this order: rated (its token spent as it is sent), ten slow ones (one in
		// flight at a time, the others leased ahead until no slot is left to lease for),
		// rated again.
		enqueue(t, h.st, t0.Add(-time.Hour), rated)
		for i := range 10 {
			enqueue(t, h.st, t0.Add(time.Duration(i-50)*time.Second), slow)
		}
		enqueue(t, h.st, t0.Add(-time.Second), rated)
		h.start()
		advance(10 * time.Minute)
		require.Len(t, h.rc.requests(), 12)
		require.Less(t, loops.Load(), int64(10_000), "rule: the worker's loop waits, it does not spin")
	})
}

// TestWorker_MemstoreWorkers: several Workers sharing one memstore, on the real clock and
// real sockets, under the race detector, each recording in batches and leasing while its
// attempts run: none attempts a delivery another holds, every delivery is sent once and
// delivered with one attempt (TestWorker_PostgresHandles is the same on pgstore).
func TestWorker_MemstoreWorkers(t *testing.T) {
	st := memstore.New(nil)
	rc, srv := newCountingReceiver(t)
	ep := pgEndpoint(t, srv.URL)

	ctx, cancel := context.WithCancel(t.Context())
	var running sync.WaitGroup
	errs := make([]error, pgWorkers)
	for i := range pgWorkers {
		w, err := outbound.NewWorker(st, outbound.Endpoints{ep}.Lookup(), &outbound.WorkerOptions{
			Client: namedClient(fmt.Sprintf("w%d", i+1)), Workers: pgWorkerSlots, PollInterval: 10 * time.Millisecond,
		})
		require.NoError(t, err)
		running.Go(func() { errs[i] = w.Run(ctx) })
	}
	t.Cleanup(func() {
		cancel()
		running.Wait()
	})
	ids := enqueueMany(t, st, ep, pgDeliveries, pgPerConversion)
	waitDelivered(t, st, len(ids), deliverWithin)
	cancel()
	running.Wait()
	for _, err := range errs {
		require.ErrorIs(t, err, context.Canceled, "rule: Run returns the context's cause")
	}
	requireOneAttemptEach(t, st, rc, ids)
}
