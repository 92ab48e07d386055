package outbound_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/mock/gomock"

	"github.com/s2skit/s2s/outbound"
	"github.com/s2skit/s2s/store"
	"github.com/s2skit/s2s/store/memstore"
	"github.com/s2skit/s2s/store/mockstoretest"
)

// Faults a real store does not produce on cue, injected with the generated mocks: the
// worker's calls go to a memstore, except the ones a test makes fail.

// faultyStore returns a mock store that forwards every call to st, for a test to
// override some.
func faultyStore(t *testing.T, st store.Store) *mockstoretest.MockStore {
	ctrl := gomock.NewController(t)
	m := mockstoretest.NewMockStore(ctrl)
	m.EXPECT().LeaseDeliveries(gomock.Any(), gomock.Any()).DoAndReturn(st.LeaseDeliveries).AnyTimes()
	m.EXPECT().GetEndpoint(gomock.Any(), gomock.Any()).DoAndReturn(st.GetEndpoint).AnyTimes()
	m.EXPECT().DisableEndpoint(gomock.Any(), gomock.Any()).DoAndReturn(st.DisableEndpoint).AnyTimes()
	return m
}

// batchingStore is a faultyStore that is a store.AttemptRecorder too, so that the worker
// records its attempts in batches.
type batchingStore struct {
	*mockstoretest.MockStore
	*mockstoretest.MockAttemptRecorder
}

// recordVia returns a store that forwards every call to mem except the recording of
// attempts, which goes to record, one attempt at a time: through RecordAttempt, or, if
// batched, through RecordAttempts, whose batches record calls for each attempt. times is
// how many calls of record are expected (a batch of one attempt in each call, in these
// tests, as each has one delivery).
func recordVia(t *testing.T, mem store.Store, batched bool, times int, record func(ctx context.Context, p store.RecordAttemptParams) (store.Delivery, error)) outbound.WorkerStore {
	m := faultyStore(t, mem)
	if !batched {
		m.EXPECT().RecordAttempt(gomock.Any(), gomock.Any()).DoAndReturn(record).Times(times)
		return m
	}
	ar := mockstoretest.NewMockAttemptRecorder(gomock.NewController(t))
	ar.EXPECT().RecordAttempts(gomock.Any(), gomock.Any()).DoAndReturn(func(ctx context.Context, ps []store.RecordAttemptParams) ([]store.Delivery, []error) {
		ds, errs := make([]store.Delivery, len(ps)), make([]error, len(ps))
		for i, p := range ps {
			ds[i], errs[i] = record(ctx, p)
		}
		return ds, errs
	}).Times(times)
	return batchingStore{MockStore: m, MockAttemptRecorder: ar}
}

// recordWays are the two ways a worker records its attempts: one by one, with a store
// that lacks store.AttemptRecorder (the fallback), and in batches.
var recordWays = map[string]bool{"one by one": false, "batched": true}

// TestWorker_LeaseLostMidAttempt: the lease is lost while the attempt is in flight (it
// expired and another worker took the delivery): the result is not recorded, the delivery
// is not touched again by this worker, and nothing follows from the failure (no disabling),
// whether the worker records attempts one by one or in batches.
func TestWorker_LeaseLostMidAttempt(t *testing.T) {
	for way, batched := range recordWays {
		t.Run(way, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				mem := memstore.New(nil)
				var recorded []store.RecordAttemptParams
				m := recordVia(t, mem, batched, 1, func(ctx context.Context, p store.RecordAttemptParams) (store.Delivery, error) {
					recorded = append(recorded, p)
					return store.Delivery{}, store.ErrLeaseLost
				})

				ep := endpoint(t, "aff-1")
				rc := &receiver{answer: always(http.StatusGone)}
				var logs bytes.Buffer
				results := make(chan outbound.Result, 10)
				w, err := outbound.NewWorker(m, outbound.Endpoints{ep}.Lookup(), &outbound.WorkerOptions{
					Client: &http.Client{Transport: rc}, Rand: maxRand{}, LeaseFor: time.Minute,
					Logger:   slog.New(slog.NewTextHandler(&logs, nil)),
					OnResult: func(r outbound.Result) { results <- r },
				})
				require.NoError(t, err)
				ds := enqueue(t, mem, time.Now(), ep)
				ctx, cancel := context.WithCancel(t.Context())
				done := make(chan error)
				go func() { done <- w.Run(ctx) }()
				r := <-results
				require.ErrorIs(t, r.Err, store.ErrLeaseLost)
				require.False(t, r.Disabled)
				synctest.Wait()
				cancel()
				<-done
				require.Len(t, recorded, 1)
				require.Len(t, rc.requests(), 1, "rule: the worker does not attempt the delivery again under its lost lease")
				d, err := mem.GetDelivery(t.Context(), ds[0].ID)
				require.NoError(t, err)
				require.Empty(t, d.Attempts, "rule: a lost lease records nothing")
				require.Equal(t, store.DeliveryPending, d.Status)
				s, err := mem.GetEndpoint(t.Context(), "aff-1")
				require.NoError(t, err)
				require.False(t, s.Disabled)
				require.Contains(t, logs.String(), "not recorded")
				require.NotContains(t, logs.String(), "receiver.test", "rule: logs name no URL")
			})
		})
	}
}

// TestWorker_RecordAttemptFails: the store fails to record an attempt, every time the worker
// tries: the result is reported and logged, the delivery stays as it was, and it is
// attempted again once its lease lapses (the receiver sees the same event ID again), then
// recorded. A store that fails once is retried at once, and the attempt recorded. Both
// whether the worker records attempts one by one or in batches (whose write fails).
func TestWorker_RecordAttemptFails(t *testing.T) {
	for way, batched := range recordWays {
		for name, failures := range map[string]int{"always": 3, "once": 1} {
			t.Run(way+"/"+name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					mem := memstore.New(nil)
					boom := errors.New("connection reset by database")
					var mu sync.Mutex
					calls := 0
					m := recordVia(t, mem, batched, failures+1, func(ctx context.Context, p store.RecordAttemptParams) (store.Delivery, error) {
						mu.Lock()
						calls++
						n := calls
						mu.Unlock()
						if n <= failures {
							return store.Delivery{}, boom
						}
						return mem.RecordAttempt(ctx, p)
					})

					ep := endpoint(t, "aff-1")
					rc := &receiver{}
					results := make(chan outbound.Result, 10)
					w, err := outbound.NewWorker(m, outbound.Endpoints{ep}.Lookup(), &outbound.WorkerOptions{
						Client: &http.Client{Transport: rc}, LeaseFor: time.Minute,
						OnResult: func(r outbound.Result) { results <- r },
					})
					require.NoError(t, err)
					ds := enqueue(t, mem, time.Now(), ep)
					ctx, cancel := context.WithCancel(t.Context())
					done := make(chan error)
					go func() { done <- w.Run(ctx) }()
					defer func() { cancel(); <-done }()
					r := <-results
					if failures == 1 {
						require.NoError(t, r.Err, "rule: a store that fails once is retried")
						require.Equal(t, store.DeliveryDelivered, r.Delivery.Status)
						require.Len(t, rc.requests(), 1)
						return
					}
					require.ErrorIs(t, r.Err, boom)
					d, err := mem.GetDelivery(t.Context(), ds[0].ID)
					require.NoError(t, err)
					require.Equal(t, store.DeliveryPending, d.Status, "rule: a failed record changes nothing")

					r = <-results // after the lease lapsed
					require.NoError(t, r.Err)
					require.Equal(t, store.DeliveryDelivered, r.Delivery.Status)
					got := rc.requests()
					require.Len(t, got, 2)
					require.Equal(t, got[0].EventID, got[1].EventID, "rule: the second send carries the same event ID, for the receiver to dedup")
					require.GreaterOrEqual(t, got[1].At.Sub(got[0].At), time.Minute, "rule: attempted again only once the lease lapsed")
				})
			})
		}
	}
}
