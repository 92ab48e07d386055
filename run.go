package s2s

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// DefaultSweepInterval is how often Run does its periodic work unless
// Options.SweepInterval says otherwise.
const DefaultSweepInterval = time.Minute

// ErrRunning is returned by Run for a Tracker that is running already.
var ErrRunning = errors.New("s2s: the tracker is running already")

// Run runs the Tracker's background work until ctx is done:
//
//   - the delivery worker ([Tracker.Worker]), which Receive wakes as soon as it records a
//     delivery, so that an outbound postback leaves at once rather than at the worker's
//     next poll;
//   - every SweepInterval (Options), the sweep of parked events ([Tracker.ApplyParked]),
//     the pruning of the inbound log to its retention ([Tracker.PruneInbound]) and the
//     close of every statement period whose cutoff (its end plus the commission
//     program's Grace) has passed ([Tracker.ClosePeriod]: idempotent, so that several
//     processes on one store may all run it);
//   - with batched clicks (Options.ClickBatch), the flush of the click buffer every
//     ClickBatch.Interval, and once more when ctx is done ([Tracker.FlushClicks]).
//
// A failure of the periodic work is logged and tried again at the next interval, never a
// reason to stop. When ctx is done, Run stops the sweeps, flushes the queued clicks, waits
// for the worker to finish the attempts in flight (see outbound.Worker.Run), and returns
// context.Cause(ctx); a click the last flush could not write stays queued (and is logged),
// for a later FlushClicks or Run. A Tracker
// runs once at a time: Run while another Run is running returns ErrRunning at once, and so
// does it if the worker is run elsewhere already. The Tracker receives postbacks whether or
// not Run runs: what Run does not send or sweep waits in the store.
func (t *Tracker) Run(ctx context.Context) error {
	if !t.run.TryLock() {
		return ErrRunning
	}
	defer t.run.Unlock()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		wg     sync.WaitGroup
		werr   error
		failed = make(chan struct{})
	)
	wg.Go(func() {
		if werr = t.worker.Run(ctx); ctx.Err() == nil {
			close(failed) // the worker ended on its own: it was running already
		}
	})
	wg.Go(func() { t.sweeps(ctx) })
	if t.clicks.batch != nil {
		wg.Go(func() {
			if err := t.runClicks(ctx); err != nil {
				t.log.LogAttrs(ctx, slog.LevelError, "s2s: queued clicks not written when Run stopped; FlushClicks writes them",
					slog.String("error", err.Error()))
			}
		})
	}
	select {
	case <-ctx.Done():
	case <-failed:
		cancel(werr)
	}
	wg.Wait()
	return context.Cause(ctx) // the caller's cause, or the worker's error that ended the run
}

// sweeps does Run's periodic work every t.sweep until ctx is done.
func (t *Tracker) sweeps(ctx context.Context) {
	tick := time.NewTicker(t.sweep)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if _, err := t.ApplyParked(ctx); err != nil && ctx.Err() == nil {
			t.log.LogAttrs(ctx, slog.LevelError, "s2s: sweep of parked events failed; it runs again at the next interval",
				slog.String("error", err.Error()))
		}
		if _, err := t.PruneInbound(ctx); err != nil && ctx.Err() == nil {
			t.log.LogAttrs(ctx, slog.LevelError, "s2s: pruning of the inbound log failed; it runs again at the next interval",
				slog.String("error", err.Error()))
		}
		if err := t.closeDue(ctx); err != nil && ctx.Err() == nil {
			t.log.LogAttrs(ctx, slog.LevelError, "s2s: closing the periods due failed; it runs again at the next interval",
				slog.String("error", err.Error()))
		}
	}
}
