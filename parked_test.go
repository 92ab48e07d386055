package s2s_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/store"
)

// reversalOf is the sender's reversal event of transaction txn, which names no click.
func reversalOf(player, txn string) url.Values {
	return url.Values{"event": {"reversal"}, "player_id": {player}, "txn_id": {txn}, "amount": {"150.00"}, "currency": {"EUR"}}
}

func (f *fixture) parked(t *testing.T, txn string, unresolved bool) []store.ParkedEvent {
	t.Helper()
	st := f.st
	if fs, ok := st.(*flakyParked); ok {
		st = fs.Store // the test's own look, which never fails
	}
	ps, err := st.ListParked(t.Context(), store.ListParkedParams{Source: "casino-x", TransactionID: txn, Unresolved: unresolved})
	require.NoError(t, err)
	return ps
}

// reversals counts the reversed entries of c's history.
func reversals(c store.Conversion) int {
	n := 0
	for _, h := range c.History {
		if h.Status == event.StatusReversed {
			n++
		}
	}
	return n
}

// TestTracker_ParkedApplied: a reversal before its original is parked; the original, when it
// lands, is accepted and ends reversed, with the parked event resolved against it and the
// affiliate told of both; a retry of the reversal afterwards is a duplicate. A chargeback
// (the transaction again, status reversed) before its original goes the same way.
func TestTracker_ParkedApplied(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st store.Store) {
		f := newFixture(t, st)
		click := f.click(t, "aff-1", seamNow.Add(-2*time.Hour))
		chargeback := ftd(click, "p-2", "TX-2")
		chargeback.Set("status", "reversed")
		for _, tc := range []struct {
			name     string
			reversal url.Values
			original url.Values
		}{
			{"reversal event", reversalOf("p-1", "TX-1"), ftd(click, "p-1", "TX-1")},
			{"chargeback", chargeback, ftd(click, "p-2", "TX-2")},
		} {
			txn := tc.original.Get("txn_id")
			before := len(f.pending(t))
			require.Equal(t, http.StatusAccepted, f.send(t, tc.reversal), tc.name)
			require.Len(t, f.parked(t, txn, true), 1, "%s: rule: a reversal before its original is parked", tc.name)

			require.Equal(t, http.StatusAccepted, f.send(t, tc.original), "%s: rule: the original is accepted", tc.name)
			c := f.conversion(t, tc.original)
			require.Equal(t, event.StatusReversed, c.Status, "%s: rule: the parked reversal is applied to its original", tc.name)
			require.Len(t, c.History, 2, tc.name)
			require.Equal(t, event.StatusApproved, c.History[0].Status, "%s: rule: the history shows the original as sent, then the reversal", tc.name)
			require.Empty(t, f.parked(t, txn, true), "%s: rule: the applied event is resolved", tc.name)
			all := f.parked(t, txn, false)
			require.Len(t, all, 1)
			require.Equal(t, c.ID, all[0].AppliedTo, tc.name)
			require.Len(t, f.pending(t), before+2, "%s: rule: the affiliate is told of the conversion and of its reversal", tc.name)

			require.Equal(t, http.StatusOK, f.send(t, tc.reversal), "%s: rule: a retry of the applied reversal is a duplicate", tc.name)
			c = f.conversion(t, tc.original)
			require.Equal(t, 1, reversals(c), "%s: rule: retries reverse nothing again", tc.name)
			require.Len(t, f.pending(t), before+2, tc.name)
		}
		n, err := f.tr.ApplyParked(t.Context())
		require.NoError(t, err)
		require.Zero(t, n, "rule: the sweep finds nothing left to apply")
	})
}

// TestTracker_ParkedSettled: a parked reversal whose original is reversed already when it is
// applied (the sender's chargeback came first) is resolved without a second reversal.
func TestTracker_ParkedSettled(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st store.Store) {
		fs := &flakyParked{Store: st}
		f := newFixture(t, fs)
		click := f.click(t, "aff-1", seamNow.Add(-2*time.Hour))
		q := ftd(click, "p-1", "TX-1")
		require.Equal(t, http.StatusAccepted, f.send(t, reversalOf("p-1", "TX-1")))
		fs.fail.Store(true)
		require.Equal(t, http.StatusAccepted, f.send(t, q))
		cb := ftd(click, "p-1", "TX-1")
		cb.Set("status", "reversed")
		require.Equal(t, http.StatusAccepted, f.send(t, cb), "rule: the chargeback reverses the original")
		fs.fail.Store(false)

		n, err := f.tr.ApplyParked(t.Context())
		require.NoError(t, err)
		require.Equal(t, 1, n, "rule: the sweep resolves the parked reversal")
		c := f.conversion(t, q)
		require.Equal(t, 1, reversals(c), "rule: a reversal of a reversed conversion changes nothing")
		all := f.parked(t, "TX-1", false)
		require.Len(t, all, 1)
		require.True(t, all[0].Resolved())
		require.Equal(t, c.ID, all[0].AppliedTo, "rule: it is settled against its original")
	})
}

// TestTracker_ParkedSweep: when the parked events cannot be listed as the original is
// recorded, the original is still accepted and the reversal waits; 16 concurrent sweeps then
// apply it exactly once.
func TestTracker_ParkedSweep(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st store.Store) {
		fs := &flakyParked{Store: st}
		f := newFixture(t, fs)
		click := f.click(t, "aff-1", seamNow.Add(-2*time.Hour))
		q := ftd(click, "p-1", "TX-1")
		require.Equal(t, http.StatusAccepted, f.send(t, reversalOf("p-1", "TX-1")))
		fs.fail.Store(true)
		require.Equal(t, http.StatusAccepted, f.send(t, q), "rule: a failure to apply parked events does not fail the original")
		require.Equal(t, event.StatusApproved, f.conversion(t, q).Status)
		require.Len(t, f.parked(t, "TX-1", true), 1, "rule: the reversal waits for the sweep")

		_, err := f.tr.ApplyParked(t.Context())
		require.ErrorIs(t, err, errListParked, "rule: the sweep reports that it could not list")
		fs.fail.Store(false)

		const n = 16
		counts := make([]int, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				counts[i], errs[i] = f.tr.ApplyParked(t.Context())
			})
		}
		close(start)
		wg.Wait()
		total := 0
		for i := range n {
			require.NoError(t, errs[i])
			total += counts[i]
		}
		require.Equal(t, 1, total, "rule: of concurrent sweeps exactly one applies the parked event")
		c := f.conversion(t, q)
		require.Equal(t, event.StatusReversed, c.Status)
		require.Equal(t, 1, reversals(c), "rule: the reversal is applied once")
		require.Empty(t, f.parked(t, "TX-1", true))
	})
}

// TestTracker_ParkedConcurrent: the original received while sweeps run concurrently: the
// parked reversal is applied exactly once, by Receive or by one sweep.
func TestTracker_ParkedConcurrent(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st store.Store) {
		f := newFixture(t, st)
		click := f.click(t, "aff-1", seamNow.Add(-2*time.Hour))
		const rounds, sweepers = 8, 8
		for r := range rounds {
			player, txn := fmt.Sprint("p-", r), fmt.Sprint("TX-", r)
			require.Equal(t, http.StatusAccepted, f.send(t, reversalOf(player, txn)))
			var received atomic.Bool
			errs := make([]error, sweepers)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range sweepers {
				wg.Go(func() {
					<-start
					// Sweep until the original is received, then once more: every sweeper
					// races Receive, and at least once sees the original stored.
					for {
						done := received.Load()
						if _, err := f.tr.ApplyParked(t.Context()); err != nil {
							errs[i] = err
							return
						}
						if done {
							return
						}
					}
				})
			}
			var code int
			wg.Go(func() {
				<-start
				code = f.send(t, ftd(click, player, txn))
				received.Store(true)
			})
			close(start)
			wg.Wait()
			for _, err := range errs {
				require.NoError(t, err)
			}
			require.Equal(t, http.StatusAccepted, code)
			c := f.conversion(t, ftd(click, player, txn))
			require.Equal(t, event.StatusReversed, c.Status, "round %d", r)
			require.Len(t, c.History, 2, "round %d", r)
			require.Equal(t, 1, reversals(c), "round %d: rule: the parked reversal is applied exactly once", r)
			require.Empty(t, f.parked(t, txn, true), "round %d", r)
		}
	})
}

var errListParked = errors.New("test: list parked failed")

// flakyParked is a store whose ListParked fails while fail is set.
type flakyParked struct {
	store.Store
	fail atomic.Bool
}

func (s *flakyParked) ListParked(ctx context.Context, p store.ListParkedParams) ([]store.ParkedEvent, error) {
	if s.fail.Load() {
		return nil, errListParked
	}
	return s.Store.ListParked(ctx, p)
}
