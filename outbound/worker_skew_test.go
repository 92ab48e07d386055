package outbound_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/internal/pgtest"
	"github.com/s2skit/s2s/outbound"
	"github.com/s2skit/s2s/store"
	"github.com/s2skit/s2s/store/memstore"
)

// TestWorker_ClockSkew: leases are judged by the workers' clocks, never the store's, as the
// package's # Operations says. On both stores, at a time far from the database host's
// (2031): a lease taken by worker A is held, whatever the store's clock, until a clock
// reaches A's time plus LeaseFor; worker B, whose clock is ahead of A's by LeaseFor (a skew
// far past the margin), takes it over while A's attempt is in flight, and sends the delivery
// again with the same event ID; B's attempt is recorded, and A's is refused as a lost lease.
func TestWorker_ClockSkew(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		open func(t *testing.T) store.Store
	}{
		{"memstore", func(*testing.T) store.Store { return memstore.New(nil) }},
		{"pgstore", func(t *testing.T) store.Store { st, _ := pgtest.Store(t); return st }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := tc.open(t)
			ep := endpoint(t, "aff-1")
			t0 := time.Date(2031, 7, 1, 12, 0, 0, 0, time.UTC)
			d := enqueue(t, st, t0, ep)[0]

			// The receiver holds the first request (A's) until released, and answers the
			// others at once.
			inFlight, release := make(chan struct{}), make(chan struct{})
			var once sync.Once
			rc := &receiver{answer: func(n int, _ *http.Request) (*http.Response, error) {
				if n == 1 {
					once.Do(func() { close(inFlight) })
					<-release
				}
				return respond(http.StatusOK, "ok", nil), nil
			}}
			client := &http.Client{Transport: rc}
			worker := func(name string, now time.Time) (chan outbound.Result, func()) {
				results := make(chan outbound.Result, 10)
				w, err := outbound.NewWorker(st, outbound.Endpoints{ep}.Lookup(), &outbound.WorkerOptions{
					Client: client, Now: func() time.Time { return now }, PollInterval: 10 * time.Millisecond,
					OnResult: func(r outbound.Result) { results <- r },
				})
				require.NoError(t, err, name)
				ctx, cancel := context.WithCancel(t.Context())
				done := make(chan error, 1)
				go func() { done <- w.Run(ctx) }()
				var stopped sync.Once
				stop := func() {
					stopped.Do(func() {
						cancel()
						require.ErrorIs(t, <-done, context.Canceled, name)
					})
				}
				t.Cleanup(stop)
				return results, stop
			}
			wait := func(what string, c <-chan struct{}) {
				t.Helper()
				select {
				case <-c:
				case <-time.After(time.Minute):
					t.Fatalf("%s: not within a minute", what)
				}
			}

			resultsA, stopA := worker("A", t0)
			defer func() {
				select {
				case <-release:
				default:
					close(release)
				}
			}()
			wait("A's attempt", inFlight)

			expires := t0.Add(outbound.DefaultLeaseFor)
			ls, err := st.LeaseDeliveries(t.Context(), store.LeaseParams{Now: expires.Add(-time.Millisecond), LeaseFor: time.Minute})
			require.NoError(t, err)
			require.Empty(t, ls, "rule: a lease is held until the time of its holder plus LeaseFor, whatever the store's clock")

			resultsB, stopB := worker("B", expires)
			var b outbound.Result
			select {
			case b = <-resultsB:
			case <-time.After(time.Minute):
				t.Fatal("B's attempt: not within a minute")
			}
			require.NoError(t, b.Err, "rule: a clock past the lease's expiry takes the lease over, and records its attempt")
			require.Equal(t, store.DeliveryDelivered, b.Delivery.Status)

			close(release)
			var a outbound.Result
			select {
			case a = <-resultsA:
			case <-time.After(time.Minute):
				t.Fatal("A's result: not within a minute")
			}
			require.ErrorIs(t, a.Err, store.ErrLeaseLost, "rule: the holder of a lease taken over records nothing")
			stopA()
			stopB()

			got := rc.requests()
			require.Len(t, got, 2, "rule: the delivery is sent by both workers")
			require.Equal(t, got[0].EventID, got[1].EventID, "rule: with one event ID, which the receiver dedups on")
			stored, err := st.GetDelivery(t.Context(), d.ID)
			require.NoError(t, err)
			require.Equal(t, store.DeliveryDelivered, stored.Status)
			require.Len(t, stored.Attempts, 1, "rule: one attempt recorded, B's")
			require.True(t, stored.Attempts[0].StartedAt.Equal(expires), "rule: B's attempt, at B's time")
		})
	}
}
