package s2s

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/s2skit/s2s/attribution"
	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/postback"
	"github.com/s2skit/s2s/store"
)

// linesPage is how many of a conversion's ledger lines a clawback reads at a time.
const linesPage = 1000

// undoes reports whether a conversion moved to status s gives back what it earned: a
// reversal (a chargeback of a conversion that counted) or a rejection (of one on hold).
func undoes(s event.Status) bool { return s == event.StatusReversed || s == event.StatusRejected }

// undoneCounter names the counter that the write taking back conversion id's lines
// increments, with a limit of 1: its lines are taken back once, by its reversal or by the
// clawback of a refund or reset of it, whichever is written first.
func undoneCounter(id uuid.UUID) string { return "s2s:undone:conv=" + id.String() }

// reversalID is the commission event ID of the reversal of conversion o (a chargeback, a
// reversal event, a rejection): o's event ID and "/reversal". A conversion is reversed or
// rejected once (both are final), so the ID names one event.
func reversalID(o *store.Conversion) string { return eventID(o) + "/" + string(event.Reversal) }

// eventTime is the time of the event pb reports: its OccurredAt, else when it was received,
// as [store.Conversion.EventTime] places a conversion.
func eventTime(pb *postback.Postback) time.Time {
	if pb.OccurredAt.IsZero() {
		return pb.ReceivedAt
	}
	return pb.OccurredAt
}

// undo returns the lines that take back what conversion o earned, as commission.Replay
// writes them for the event ev at at (kind k: KindReversal for a reversal of o, KindClawback
// for a refund or reset of it): the negation (commission.Line.Negate) of every accrual line
// stored for o, caused by conversion by (o itself for a status change, the refund for a
// clawback) and created at now, with the increment of o's undone counter. Lines of o that
// are not accruals (adjustments, or a reversal's own lines) are not undone: Replay reverses
// no adjustment, reversal, refund or reset. None when o earned nothing, or when its lines
// were taken back already.
//
// Undoing changes no other counter, as Replay changes no state: a player whose CPA is
// reversed has had his CPA (it is reversed, not requalified), and a period's CPA count and
// total, which tiers and caps read, keep the CPAs paid in it.
func (t *Tracker) undo(ctx context.Context, o *store.Conversion, k commission.Kind, ev string, at, now time.Time, by uuid.UUID) (pay, error) {
	guard := undoneCounter(o.ID)
	n, err := t.counter(ctx, guard)
	if err != nil || n > 0 {
		return pay{}, err
	}
	var out pay
	p := store.ListConversionLinesParams{ConversionID: o.ID, Limit: linesPage}
	for {
		page, err := t.st.ListConversionLines(ctx, p)
		if err != nil {
			return pay{}, fmt.Errorf("s2s: list ledger lines of conversion %s: %w", o.ID, err)
		}
		for i := range page {
			l := &page[i]
			if l.Kind != commission.KindAccrual {
				continue
			}
			neg, err := l.Negate(k, ev, at)
			if err != nil {
				return pay{}, fmt.Errorf("s2s: commission: %w", err)
			}
			id, err := t.newID()
			if err != nil {
				return pay{}, err
			}
			out.lines = append(out.lines, store.LedgerLine{ID: id, ConversionID: by, CreatedAt: now, Line: neg})
		}
		if len(page) < linesPage {
			break
		}
		last := page[len(page)-1]
		p.After = store.Cursor{At: last.CreatedAt, ID: last.ID}
	}
	if len(out.lines) > 0 {
		out.increments = []store.Increment{{Counter: guard, Delta: 1, Limit: 1}}
	}
	return out, nil
}

// changeStatus applies the status change dec judged of the stored conversion o, asked for by
// an event at at, in one ChangeStatus call: the change, with the parked events it resolves,
// the deliveries that tell o's affiliate (naming the click that decided o, see changeTold), and, when the change gives back what o earned
// (undoes), the reversal lines of undo with the increment of o's undone counter. A write
// refused for that counter lost to a refund's clawback of o: it is computed again, without
// the lines. The store's error is returned as it is, for the caller to read.
func (t *Tracker) changeStatus(ctx context.Context, cc *compiled, o *store.Conversion, dec attribution.Decision, at time.Time, resolve []uuid.UUID) error {
	told, err := t.changeTold(ctx, cc, *o)
	if err != nil {
		return err
	}
	for range maxAttempts {
		now := t.now()
		p := store.ChangeStatusParams{ConversionID: o.ID, From: dec.Change.From, To: dec.Change.To, Reason: dec.Reason(),
			At: now, Resolve: resolve}
		if undoes(dec.Change.To) {
			u, err := t.undo(ctx, o, commission.KindReversal, reversalID(o), at, now, o.ID)
			if err != nil {
				return err
			}
			p.Ledger, p.Increments = u.lines, append(u.increments, unwind(cc, o)...)
			var back []store.Increment
			switch {
			case o.Event == event.Trade && cc.program != nil:
				back, err = t.unwindTrade(ctx, cc, o)
			case o.Event == event.Wager:
				back, err = t.unwindRounds(ctx, o)
			}
			if err != nil {
				return err
			}
			p.Increments = append(p.Increments, back...)
		}
		after := told
		after.Status = dec.Change.To
		ds, err := t.deliveries(cc, after, money.Amount{}, now)
		if err != nil {
			return err
		}
		p.Deliveries = ds
		_, err = t.st.ChangeStatus(ctx, p)
		if err == nil && len(p.Deliveries) > 0 {
			t.worker.Notify()
		}
		if limit := (*store.LimitError)(nil); errors.As(err, &limit) && limit.Counter == undoneCounter(o.ID) {
			continue
		}
		return err
	}
	return fmt.Errorf("s2s: change status of conversion %s: its undone counter still moving after %d attempts", o.ID, maxAttempts)
}

// refund computes the clawback of a refund or reset c of a prop-firm challenge purchase: the
// negation of the purchase's lines, when the plan in force at c claws back on that event
// (Prop.ClawbackRefund, Prop.ClawbackReset), as Replay computes it. The purchase is the
// conversion of event purchase with c's source and transaction ID (purchaseOf).
func (t *Tracker) refund(ctx context.Context, cc *compiled, c *store.Conversion, now time.Time) (pay, error) {
	at := c.EventTime()
	plan, err := cc.program.PlanAt(c.AffiliateID, at)
	switch {
	case errors.Is(err, commission.ErrNoPlan):
		return pay{}, nil
	case err != nil:
		return pay{}, fmt.Errorf("s2s: commission: %w", err)
	}
	pp := plan.Prop
	if pp == nil || c.Event == event.Refund && !pp.ClawbackRefund || c.Event == event.Reset && !pp.ClawbackReset {
		return pay{}, nil
	}
	o, err := t.purchaseOf(ctx, c)
	if err != nil || o == nil {
		if err == nil {
			t.log.LogAttrs(ctx, slog.LevelWarn, "s2s: no clawback: the purchase is not stored",
				slog.String("event", string(c.Event)), slog.String("transaction", c.TransactionID), slog.String("affiliate", c.AffiliateID))
		}
		return pay{}, err
	}
	return t.undo(ctx, o, commission.KindClawback, eventID(c), at, now, c.ID)
}

// purchaseOf returns the stored purchase that the refund or reset c names, nil if none is
// stored: a conversion of event purchase with c's source and transaction ID, which is the
// commission event c reverses (Replay's Reverses: the purchase's event ID is its
// transaction ID), found with one read of the transaction
// (store.ConversionStore.ListConversionsByTransaction), as original finds a reversal's. It
// is never guessed from a dedup key: under a dedup mode that keys purchases by player, the
// key of "c's purchase" is the player's first purchase whatever c's transaction, and under
// one that keys every purchase apart, no key finds it. Of several purchases of the
// transaction (a mode that keeps each), the latest by laterEvent, so that the choice does
// not depend on the order of a read.
func (t *Tracker) purchaseOf(ctx context.Context, c *store.Conversion) (*store.Conversion, error) {
	if c.Source == "" || c.TransactionID == "" {
		return nil, nil
	}
	var found *store.Conversion
	p := store.ListConversionsByTransactionParams{Source: c.Source, TransactionID: c.TransactionID, Limit: txnPage}
	for {
		page, err := t.st.ListConversionsByTransaction(ctx, p)
		if err != nil {
			return nil, fmt.Errorf("s2s: list conversions of transaction %q: %w", c.TransactionID, err)
		}
		for i := range page {
			o := &page[i]
			if o.Event == event.Purchase && (found == nil || laterEvent(o, found)) {
				found = o
			}
		}
		if len(page) < p.Limit {
			return found, nil
		}
		last := &page[len(page)-1]
		p.After = store.Cursor{At: last.ReceivedAt, ID: last.ID}
	}
}
