package s2s_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s"
	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/store"
	"github.com/s2skit/s2s/store/memstore"
)

func batchTracker(t testing.TB, st store.Store, size int, interval time.Duration) *s2s.Tracker {
	t.Helper()
	return clickTracker(t, st, &s2s.Options{ClickBatch: s2s.ClickBatch{Size: size, Interval: interval}})
}

func click(t testing.TB, tr *s2s.Tracker, ctx context.Context, sub string) s2s.ClickResult {
	t.Helper()
	res, err := tr.Click(ctx, s2s.ClickRequest{CampaignID: "summer", AffiliateID: "aff-1", SubIDs: []string{sub}})
	require.NoError(t, err)
	return res
}

func stored(t testing.TB, st store.Store, id clickid.ID) bool {
	t.Helper()
	_, err := st.GetClick(context.Background(), id)
	if errors.Is(err, store.ErrNotFound) {
		return false
	}
	require.NoError(t, err)
	return true
}

// TestTracker_ClickBatchConcurrent: many goroutines click while the loop flushes; when the
// loop stops, every click is stored, in batches, on both stores.
func TestTracker_ClickBatchConcurrent(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st store.Store) {
		fs := &faultStore{Store: st}
		tr := batchTracker(t, fs, 16, time.Millisecond)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- s2s.RunClicks(tr, ctx) }()
		const goroutines, each = 32, 25
		ids := make([][]clickid.ID, goroutines)
		var wg sync.WaitGroup
		for g := range goroutines {
			wg.Go(func() {
				for i := range each {
					res, err := tr.Click(t.Context(), s2s.ClickRequest{CampaignID: "summer", AffiliateID: "aff-1", SubIDs: []string{fmt.Sprint(g, "-", i)}})
					if err != nil {
						t.Error(err)
						return
					}
					ids[g] = append(ids[g], res.ID)
				}
			})
		}
		wg.Wait()
		cancel()
		require.NoError(t, <-done, "rule: the loop's last flush on stop succeeds")
		for g := range ids {
			for _, id := range ids[g] {
				require.True(t, stored(t, st, id), "rule: no click is lost: %s", id)
			}
		}
		// A stop does not cut a write in flight, so that no write's answer is lost: every
		// click is counted by the write that stored it.
		require.EqualValues(t, goroutines*each, fs.inserts.Load(), "rule: every click is stored once")
		require.Positive(t, fs.batches.Load(), "rule: clicks are written in batches")
	})
}

// TestTracker_ClickBatchInterval: a click waits at most the interval, by the fake clock.
func TestTracker_ClickBatchInterval(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		st := memstore.New(nil)
		tr := batchTracker(t, st, 100, 2*time.Second)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- s2s.RunClicks(tr, ctx) }()

		a := click(t, tr, t.Context(), "a")
		require.False(t, stored(t, st, a.ID), "rule: a batched click waits in the buffer")
		time.Sleep(time.Second)
		synctest.Wait()
		b := click(t, tr, t.Context(), "b")
		require.False(t, stored(t, st, a.ID), "rule: no flush before the interval")
		time.Sleep(time.Second)
		synctest.Wait()
		require.True(t, stored(t, st, a.ID), "rule: flushed at the interval")
		require.True(t, stored(t, st, b.ID))

		c := click(t, tr, t.Context(), "c")
		cancel()
		require.NoError(t, <-done)
		require.True(t, stored(t, st, c.ID), "rule: stopping the loop flushes the buffer")
	})
}

// TestTracker_ClickBatchFull: the click that fills the buffer flushes it; FlushClicks
// flushes the rest.
func TestTracker_ClickBatchFull(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st store.Store) {
		fs := &faultStore{Store: st}
		tr := batchTracker(t, fs, 3, time.Hour)
		var ids []clickid.ID
		for i := range 4 {
			ids = append(ids, click(t, tr, t.Context(), fmt.Sprint(i)).ID)
		}
		require.EqualValues(t, 1, fs.batches.Load(), "rule: the third click flushed the buffer")
		for _, id := range ids[:3] {
			require.True(t, stored(t, st, id))
		}
		require.False(t, stored(t, st, ids[3]), "rule: the fourth waits")
		require.NoError(t, tr.FlushClicks(t.Context()))
		require.True(t, stored(t, st, ids[3]), "rule: FlushClicks writes what waits")
		require.NoError(t, tr.FlushClicks(t.Context()), "rule: an empty flush is a no-op")
		require.EqualValues(t, 4, fs.inserts.Load())
	})
}

// TestTracker_ClickBatchStoreFailure: a failed flush keeps its clicks; a click that finds
// the buffer full is written through and its failure returned; nothing is dropped silently.
func TestTracker_ClickBatchStoreFailure(t *testing.T) {
	t.Parallel()
	st := &faultStore{Store: memstore.New(nil)}
	tr := batchTracker(t, st, 2, time.Hour)
	st.fail.Store(true)
	a := click(t, tr, t.Context(), "a")
	b := click(t, tr, t.Context(), "b") // fills the buffer: its flush fails, the batch is kept
	res, err := tr.Click(t.Context(), s2s.ClickRequest{CampaignID: "summer", AffiliateID: "aff-1"})
	require.ErrorIs(t, err, errStoreDown, "rule: a click past a full buffer is written through, and its failure returned")
	require.NotEmpty(t, res.URL)
	require.ErrorIs(t, tr.FlushClicks(t.Context()), errStoreDown)

	st.fail.Store(false)
	require.NoError(t, tr.FlushClicks(t.Context()))
	require.True(t, stored(t, st, a.ID), "rule: a failed batch is kept for the next flush")
	require.True(t, stored(t, st, b.ID))
	require.False(t, stored(t, st, res.ID))
	require.EqualValues(t, 2, st.inserts.Load())
}

// TestTracker_ClickBatchOptions: sizes out of range are refused.
func TestTracker_ClickBatchOptions(t *testing.T) {
	t.Parallel()
	for _, b := range []s2s.ClickBatch{{Size: -1}, {Size: store.MaxClicks + 1}, {Size: 10, Interval: -time.Second}} {
		_, err := s2s.New(nil, clickCfg(t), &s2s.Options{ClickBatch: b})
		require.ErrorIs(t, err, s2s.ErrInvalidConfig, "%+v", b)
	}
	tr := clickTracker(t, nil, nil)
	require.NoError(t, tr.FlushClicks(t.Context()), "rule: without batching, FlushClicks does nothing")
	require.NoError(t, s2s.RunClicks(tr, t.Context()), "rule: without batching, the loop returns at once")
}

// lostAnswer is a store whose next InsertClicks stores its batch and then fails, as a write
// whose commit landed but whose answer was lost (a cut connection, a cancelled context).
type lostAnswer struct {
	store.Store
	lose atomic.Bool
}

func (s *lostAnswer) InsertClicks(ctx context.Context, p store.InsertClicksParams) error {
	err := s.Store.InsertClicks(ctx, p)
	if err == nil && s.lose.CompareAndSwap(true, false) {
		return errStoreDown
	}
	return err
}

// TestTracker_ClickBatchLostAnswer: a batch whose write committed but answered a failure is
// kept and written again with the clicks queued since, in one batch that the store refuses
// as a duplicate (some of its clicks exist, so none is written): the clicks queued since are
// still stored, on both stores. (TestTracker_ClickBatchConcurrent once lost clicks so, when
// a stop cancelled a flush in flight on PostgreSQL.)
func TestTracker_ClickBatchLostAnswer(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st store.Store) {
		ls := &lostAnswer{Store: st}
		tr := batchTracker(t, ls, 10, time.Hour)
		a := click(t, tr, t.Context(), "a")
		b := click(t, tr, t.Context(), "b")
		ls.lose.Store(true)
		require.ErrorIs(t, tr.FlushClicks(t.Context()), errStoreDown, "the write landed, and answered a failure")
		require.True(t, stored(t, st, a.ID), "the write landed")
		c := click(t, tr, t.Context(), "c") // queued behind the kept batch
		require.NoError(t, tr.FlushClicks(t.Context()), "rule: a batch that is partly a retry is written")
		for _, res := range []s2s.ClickResult{a, b, c} {
			require.True(t, stored(t, st, res.ID), "rule: no click is lost behind a retried batch: %s", res.ID)
		}
	})
}
