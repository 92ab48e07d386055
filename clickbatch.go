package s2s

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/store"
)

// ClickBatch are the settings of batched clicks, for high click volume: Click queues each
// click in a bounded buffer, written with one store.InsertClicks call when it holds Size
// clicks, every Interval (by the Tracker's Run), and by FlushClicks (which Run calls when it
// stops). The zero value (Size 0) is synchronous: Click writes its click before it returns.
//
// The cost is a loss window: a process that crashes loses the clicks buffered since the
// last flush, at most Size clicks and never older than Interval while the store accepts
// writes (with a failing store, the batches it refused are kept for the next flush too,
// and beyond Size the clicks are written one by one, their failures returned by Click). The
// postbacks of a lost click are still attributed with "token" click IDs.
type ClickBatch struct {
	// Size is the most clicks buffered, 1 to store.MaxClicks; 0 means synchronous clicks.
	Size int
	// Interval is the longest a click waits in the buffer while Run runs; 0 means one
	// second.
	Interval time.Duration
}

// DefaultClickInterval is the default ClickBatch.Interval.
const DefaultClickInterval = time.Second

// clickState is the Tracker's own state for clicks, which lasts across SetConfig.
type clickState struct {
	gen   *clickid.Generator
	batch *clickBatch // nil: synchronous clicks
}

// init sets s up from the Tracker's options.
func (s *clickState) init(o *Options) error {
	// The Generator reads its own fast clock and per-CPU randomness unless the options
	// inject them (a test's clock, a deterministic reader).
	s.gen = clickid.NewGenerator(&clickid.GeneratorOptions{Now: o.Now, Rand: o.Rand})
	b := o.ClickBatch
	switch {
	case b.Size < 0 || b.Size > store.MaxClicks:
		return fmt.Errorf("%w: options: click batch: size %d: want 0 (synchronous) to %d", ErrInvalidConfig, b.Size, store.MaxClicks)
	case b.Interval < 0:
		return fmt.Errorf("%w: options: click batch: interval %s: want 0 (the default) or more", ErrInvalidConfig, b.Interval)
	case b.Size == 0:
		return nil
	}
	s.batch = &clickBatch{size: b.Size, interval: b.Interval}
	if s.batch.interval == 0 {
		s.batch.interval = DefaultClickInterval
	}
	return nil
}

// clickBatch is the buffer of batched clicks.
type clickBatch struct {
	size     int
	interval time.Duration

	mu      sync.Mutex
	pending []store.Click // at most size, plus the batches a failed flush put back

	flushMu sync.Mutex // one flush at a time, so that FlushClicks returns after every earlier one
}

// add queues c. The click that fills the buffer flushes it, in its caller; a click that
// finds the buffer full (a flush failed, or is under way with a backlog) is written
// through, by itself, and its failure returned.
func (b *clickBatch) add(ctx context.Context, t *Tracker, c store.Click) error {
	b.mu.Lock()
	n := len(b.pending)
	if n >= b.size {
		b.mu.Unlock()
		if err := t.st.InsertClick(ctx, c); err != nil {
			return fmt.Errorf("s2s: insert click (the click buffer is full): %w", err)
		}
		return nil
	}
	if b.pending == nil {
		b.pending = make([]store.Click, 0, b.size)
	}
	b.pending = append(b.pending, c)
	full := n+1 == b.size
	b.mu.Unlock()
	if full {
		// The visitor's click is queued whatever becomes of the flush: a failure is logged,
		// and the batch kept for the next one. A visitor who leaves does not cancel the
		// batch of the others.
		if err := t.FlushClicks(context.WithoutCancel(ctx)); err != nil {
			t.log.LogAttrs(ctx, slog.LevelError, "s2s: click batch not written, kept for the next flush", slog.String("error", err.Error()))
		}
	}
	return nil
}

// FlushClicks writes the clicks that batched mode (Options.ClickBatch) holds: when it
// returns nil, every click queued before the call is stored. On a store failure the clicks
// stay queued for the next flush and the error is returned. Clicks the store refuses as
// conflicting with a stored click of their ID are logged and dropped: no retry can store
// them. Without batched clicks it does nothing.
func (t *Tracker) FlushClicks(ctx context.Context) error {
	b := t.clicks.batch
	if b == nil {
		return nil
	}
	b.flushMu.Lock()
	defer b.flushMu.Unlock()
	for {
		b.mu.Lock()
		batch := b.pending
		if len(batch) > store.MaxClicks {
			batch = batch[:store.MaxClicks:store.MaxClicks]
			b.pending = b.pending[store.MaxClicks:]
		} else {
			b.pending = nil
		}
		b.mu.Unlock()
		if len(batch) == 0 {
			return nil
		}
		if rest, err := t.insertClicks(ctx, batch); err != nil {
			b.mu.Lock()
			b.pending = append(rest, b.pending...)
			b.mu.Unlock()
			return err
		}
	}
}

// insertClicks writes a batch, and returns the clicks it did not store with the error. A
// batch refused whole for some of its clicks is written click by click, so that the others
// are stored: one that conflicts (no retry fixes it), and one that is a duplicate, since
// ErrDuplicate says only that some of its clicks are stored already and none of the batch
// was written. That is the batch of a retry after a write whose answer was lost (it
// committed, and said it failed): the clicks queued since are behind it in one batch.
func (t *Tracker) insertClicks(ctx context.Context, batch []store.Click) ([]store.Click, error) {
	err := t.st.InsertClicks(ctx, store.InsertClicksParams{Clicks: batch})
	switch {
	case err == nil:
		return nil, nil
	case !errors.Is(err, store.ErrDuplicate) && !errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrInvalid):
		return batch, fmt.Errorf("s2s: insert clicks: %w", err)
	}
	for i := range batch {
		err := t.st.InsertClick(ctx, batch[i])
		switch {
		case err == nil, errors.Is(err, store.ErrDuplicate):
		case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrInvalid):
			t.log.LogAttrs(ctx, slog.LevelError, "s2s: click dropped: the store refuses it",
				slog.String("click_id", batch[i].ID.String()), slog.String("error", err.Error()))
		default:
			return batch[i:len(batch):len(batch)], fmt.Errorf("s2s: insert click: %w", err) // those before i are stored
		}
	}
	return nil, nil
}

// runClicks flushes batched clicks every ClickBatch.Interval until ctx is done, then once
// more, so that a clean stop loses nothing. It returns the last flush's error. Run starts
// it; without batched clicks it returns at once.
//
// Every flush runs with ctx's values but not its cancellation: a stop never cuts a write
// in flight, whose answer would be lost while the store may have committed it (the write
// is then finished, and the last flush writes what remains).
func (t *Tracker) runClicks(ctx context.Context) error {
	b := t.clicks.batch
	if b == nil {
		return nil
	}
	tick := time.NewTicker(b.interval)
	defer tick.Stop()
	flush := context.WithoutCancel(ctx)
	for {
		select {
		case <-ctx.Done():
			return t.FlushClicks(flush)
		case <-tick.C:
			if err := t.FlushClicks(flush); err != nil {
				t.log.LogAttrs(ctx, slog.LevelError, "s2s: click batch not written, kept for the next flush", slog.String("error", err.Error()))
			}
		}
	}
}
