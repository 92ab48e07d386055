package s2s

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/google/uuid"

	"github.com/s2skit/s2s/attribution"
	"github.com/s2skit/s2s/store"
)

// parkedPage is how many parked events a sweep lists at a time.
const parkedPage = 100

// ApplyParked is the sweep of parked events: it lists every unresolved parked event, oldest
// first, and applies each whose original is now stored, as Receive does when it records
// that original. It catches the events whose original was recorded while they were being
// parked, and those that Receive could not apply (a store failure after the original was
// recorded). Run will call it periodically; until then a host calls it on a timer of its
// own. It returns how many parked events it resolved: applied to their original, or
// settled against it without a change (the original is reversed already).
//
// A parked event whose original is still missing waits for a later sweep. Concurrent sweeps,
// and a sweep concurrent with Receive, are safe: the store applies each parked event once
// (ChangeStatusParams.Resolve), and the loser of a race leaves it to the winner. A failure to
// apply one event is logged and the sweep goes on; the first such failure is returned, with
// the count, after the sweep. A failure to list ends the sweep.
func (t *Tracker) ApplyParked(ctx context.Context) (int, error) {
	cc := t.cfg.Load()
	n := 0
	var first error
	p := store.ListParkedParams{Unresolved: true, Limit: parkedPage}
	for {
		page, err := t.st.ListParked(ctx, p)
		if err != nil {
			return n, errors.Join(first, fmt.Errorf("s2s: list parked events: %w", err))
		}
		for i := range page {
			e := &page[i]
			o, err := t.original(ctx, cc, &e.Conversion)
			if err == nil && o != nil {
				var done bool
				done, err = t.applyParked(ctx, cc, e, o)
				if done {
					n++
				}
			}
			if err != nil {
				if ctx.Err() != nil {
					return n, errors.Join(first, err)
				}
				t.logParked(ctx, e, err)
				if first == nil {
					first = err
				}
			}
		}
		if len(page) < parkedPage {
			return n, first
		}
		last := page[len(page)-1]
		p.After = store.Cursor{At: last.ParkedAt, ID: last.ID}
	}
}

// recordConversion records p, and reports whether parked events may wait for the conversion
// it records: as the store tells from the same write (store.ParkedReporter), or, from a store
// that cannot tell, always, so that resolveParked looks.
func (t *Tracker) recordConversion(ctx context.Context, p store.RecordConversionParams) (store.Conversion, bool, error) {
	if r, ok := t.st.(store.ParkedReporter); ok {
		return r.RecordConversionParked(ctx, p)
	}
	c, err := t.st.RecordConversion(ctx, p)
	return c, err == nil, err
}

// resolveParked applies the parked events of a conversion just recorded: those of its
// source and transaction that it is the original of. It fails nothing: the conversion is
// recorded, and an event it cannot apply now is logged and left to ApplyParked.
func (t *Tracker) resolveParked(ctx context.Context, cc *compiled, c *store.Conversion) {
	if c.Source == "" || c.TransactionID == "" {
		return
	}
	p := store.ListParkedParams{Source: c.Source, TransactionID: c.TransactionID, Unresolved: true, Limit: parkedPage}
	for {
		page, err := t.st.ListParked(ctx, p)
		if err != nil {
			t.log.LogAttrs(ctx, slog.LevelError, "s2s: parked events not listed; the sweep applies them",
				slog.String("source", c.Source), slog.String("transaction", c.TransactionID), slog.String("error", err.Error()))
			return
		}
		for i := range page {
			e := &page[i]
			// The original as Receive would find it for this event, not c itself: of a
			// transaction's events, a reversal event reverses the one the rule of original
			// picks, which need not be c.
			o, err := t.original(ctx, cc, &e.Conversion)
			if err == nil && o != nil {
				_, err = t.applyParked(ctx, cc, e, o)
			}
			if err != nil {
				t.logParked(ctx, e, err)
			}
		}
		if len(page) < parkedPage {
			return
		}
		last := page[len(page)-1]
		p.After = store.Cursor{At: last.ParkedAt, ID: last.ID}
	}
}

// applyParked decides the parked event e again with o as its original and applies it: an
// allowed change with ChangeStatus (changeStatus: with the reversal lines of what o earned,
// at e's event time), which resolves e in the same write, so that it is applied once or not
// at all; a change that is a duplicate (o is reversed already) or that
// the status machine refuses with ResolveParked, settled against o, since it will never
// apply to o. It reports whether it resolved e. A concurrent applier that resolved e first
// (or changed o's status first) makes the write ErrConflict or ErrNotFound: not a failure,
// e is left to whoever won, or to the next sweep.
func (t *Tracker) applyParked(ctx context.Context, cc *compiled, e *store.ParkedEvent, o *store.Conversion) (bool, error) {
	in := attribution.Input{Conversion: e.Conversion, Original: o, Now: t.now()}
	dec := cc.decider.Decide(&in)
	now := t.now()
	if dec.Change.IsZero() || !dec.Change.Allowed() {
		if !dec.Change.Duplicate() {
			t.log.LogAttrs(ctx, slog.LevelWarn, "s2s: parked event settled without a change",
				slog.String("parked", e.ID.String()), slog.String("conversion", o.ID.String()), slog.String("reason", dec.Reason()))
		}
		err := t.st.ResolveParked(ctx, store.ResolveParkedParams{IDs: []uuid.UUID{e.ID}, AppliedTo: o.ID, At: now})
		return t.parkedOutcome(e, err)
	}
	err := t.changeStatus(ctx, cc, o, dec, e.Conversion.EventTime(), []uuid.UUID{e.ID})
	return t.parkedOutcome(e, err)
}

// parkedOutcome reads the store's answer to a write that resolves the parked event e.
func (t *Tracker) parkedOutcome(e *store.ParkedEvent, err error) (bool, error) {
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrNotFound):
		return false, nil
	}
	return false, fmt.Errorf("s2s: apply parked event %s: %w", e.ID, err)
}

func (t *Tracker) logParked(ctx context.Context, e *store.ParkedEvent, err error) {
	t.log.LogAttrs(ctx, slog.LevelError, "s2s: parked event not applied; the sweep tries again",
		slog.String("parked", e.ID.String()), slog.String("source", e.Conversion.Source),
		slog.String("transaction", e.Conversion.TransactionID), slog.String("error", err.Error()))
}
