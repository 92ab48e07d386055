package s2s_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s"
	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/outbound"
	"github.com/s2skit/s2s/postback"
	"github.com/s2skit/s2s/store"
	"github.com/s2skit/s2s/store/memstore"
)

// receiverFunc is an http.RoundTripper that answers every request itself: the affiliate's
// tracker, inside the test's bubble.
type receiverFunc func(*http.Request) (*http.Response, error)

func (f receiverFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestTracker_Run, on synctest's clock: Run's worker sends an FTD's delivery the moment
// Receive records it (not at the worker's next poll), its sweep applies a parked reversal
// that Receive could not, within one SweepInterval, and cancelling Run returns the cause
// after the worker stopped; a second Run meanwhile is ErrRunning.
func TestTracker_Run(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var (
			mu   sync.Mutex
			sent []time.Time
		)
		client := &http.Client{Transport: receiverFunc(func(r *http.Request) (*http.Response, error) {
			mu.Lock()
			sent = append(sent, time.Now())
			mu.Unlock()
			return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Header: http.Header{}, Request: r}, nil
		})}
		var cfg s2s.Config
		require.NoError(t, json.Unmarshal([]byte(trackerConfig), &cfg))
		fs := &flakyParked{Store: memstore.New(nil)}
		tr, err := s2s.New(fs, cfg, &s2s.Options{HTTPClient: client, SweepInterval: time.Minute})
		require.NoError(t, err)

		ctx, cancel := context.WithCancelCause(t.Context())
		done := make(chan error, 1)
		go func() { done <- tr.Run(ctx) }()
		synctest.Wait()
		require.ErrorIs(t, tr.Run(ctx), s2s.ErrRunning)

		click, err := clickid.New()
		require.NoError(t, err)
		now := time.Now()
		require.NoError(t, fs.InsertClick(ctx, store.Click{ID: click, AffiliateID: "aff-1", CreatedAt: now.Add(-time.Hour)}))
		ftd := postback.Postback{Source: "casino-x", ClickKind: postback.ClickNative, ClickID: click, PlayerID: "p-1",
			Event: event.FTD, Status: event.StatusApproved, TransactionID: "TX-1",
			Amount: money.MustParse("150.00", money.EUR), HasAmount: true, ReceivedAt: now}
		reversal := postback.Postback{Source: "casino-x", PlayerID: "p-1", Event: event.Reversal, TransactionID: "TX-1",
			Status: event.StatusApproved, Amount: money.MustParse("150.00", money.EUR), HasAmount: true, ReceivedAt: now}

		res, err := tr.Receive(ctx, &reversal)
		require.NoError(t, err)
		require.Equal(t, postback.Accepted, res.Outcome, "the reversal is parked")
		fs.fail.Store(true) // Receive cannot list the parked events as it records the original
		res, err = tr.Receive(ctx, &ftd)
		require.NoError(t, err)
		require.Equal(t, postback.Accepted, res.Outcome)
		fs.fail.Store(false)
		synctest.Wait()
		mu.Lock()
		require.Equal(t, []time.Time{now}, sent, "rule: Run's worker sends a delivery as soon as Receive records it")
		mu.Unlock()
		k := ftd.Conversion()
		key, _ := attributionKey(&k)
		c, err := fs.GetConversionByKey(ctx, key)
		require.NoError(t, err)
		require.Equal(t, event.StatusApproved, c.Status, "the reversal waits for the sweep")

		time.Sleep(time.Minute) // synctest's clock: one SweepInterval
		synctest.Wait()
		c, err = fs.GetConversionByKey(ctx, key)
		require.NoError(t, err)
		require.Equal(t, event.StatusReversed, c.Status, "rule: Run's sweep applies a parked reversal within one interval")

		stop := context.Canceled
		cancel(stop)
		require.ErrorIs(t, <-done, stop)
	})
}

// TestTracker_RunWorkerElsewhere: Run of a Tracker whose worker runs already (a host ran it
// itself) returns the worker's ErrRunning rather than running without a worker.
func TestTracker_RunWorkerElsewhere(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr, err := s2s.New(nil, s2s.Config{}, nil)
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		go func() { _ = tr.Worker().Run(ctx) }()
		synctest.Wait()
		require.ErrorIs(t, tr.Run(ctx), outbound.ErrRunning)
	})
}

// TestTracker_RunFlushesClicks, on synctest's clock: with batched clicks, Run flushes the
// buffer every ClickBatch.Interval, and cancelling Run writes the clicks still queued
// before Run returns.
func TestTracker_RunFlushesClicks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := memstore.New(nil)
		tr := batchTracker(t, st, 100, time.Minute)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- tr.Run(ctx) }()
		synctest.Wait()

		a := click(t, tr, t.Context(), "a")
		require.False(t, stored(t, st, a.ID), "a batched click waits in the buffer")
		time.Sleep(time.Minute) // synctest's clock: one ClickBatch.Interval
		synctest.Wait()
		require.True(t, stored(t, st, a.ID), "rule: Run flushes the click buffer every interval")

		b := click(t, tr, t.Context(), "b")
		c := click(t, tr, t.Context(), "c")
		require.False(t, stored(t, st, b.ID))
		cancel()
		require.ErrorIs(t, <-done, context.Canceled)
		require.True(t, stored(t, st, b.ID), "rule: Run's cancel flushes the queued clicks before it returns")
		require.True(t, stored(t, st, c.ID))
	})
}
