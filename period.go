package s2s

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/store"
)

var (
	// ErrPeriodOpen is returned by ClosePeriod for a period whose cutoff (its end plus the
	// program's Grace) has not passed: reports of it may still come on time.
	ErrPeriodOpen = errors.New("s2s: the period is still open")
	// ErrNoProgram is returned by ClosePeriod when the configuration has no commission
	// program: there is nothing to settle.
	ErrNoProgram = errors.New("s2s: no commission program is configured")
)

// ClosePeriod closes period, a statement period of the commission program's calendar (its
// Zone and Period unit), and every earlier period not closed yet, in order: for each, the
// RevShare and sub-affiliate lines of every affiliate, computed from the revenue facts the
// store holds and the balances carried out of the period before (negative carryover, ring
// fences, as the plans say), written with the balances it carries out in one store call
// (store.PeriodStore). They are the lines commission.Replay computes over the same history:
// one implementation settles both (commission.Program.Settle and SubLines).
//
// A revenue fact counts in the period of its OccurredAt if it was received before that
// period's cutoff (its end plus the program's Grace), else, as late revenue, in the period
// whose cutoff comes next after it was received (commission.Program.RevenuePeriod): a
// closed period is never edited; what late revenue changes is an adjustment line of the
// period it counts in. A correction counts as its amounts less those of the report it
// corrects. Every fact is counted exactly once: a close lists the facts no close has
// settled and marks those it counts settled in its own store write
// (store.ClosePeriodParams.Facts), so that a fact whose write was still in flight when its
// period closed (committed after the close listed the facts) is counted by the next close,
// as late revenue, whatever its received time says. The first period ever closed is the one of the earliest revenue fact (or
// period itself, when there is none).
//
// ClosePeriod is idempotent: a period closed already (by this Tracker or any other on the
// same store) is not closed again, and closing it twice writes nothing new; its lines have
// IDs derived from the period, affiliate and rule, and of concurrent closes of one period
// the store records exactly one. A period whose cutoff has not passed is ErrPeriodOpen; a
// period that is not one of the calendar's is an error; without a commission program,
// ErrNoProgram. A fact whose affiliate has no plan at its time is left out, and logged; a
// fact in a currency that Config.Rates cannot convert into its plan's fails the close,
// which is tried again by the next call.
//
// A close reads the period's revenue facts into memory: it costs one listing of the
// unsettled facts up to the period's end, and one of each sub-affiliate's ledger lines of
// the period.
func (t *Tracker) ClosePeriod(ctx context.Context, period commission.Period) error {
	cc := t.cfg.Load()
	if cc.program == nil {
		return ErrNoProgram
	}
	g := cc.program
	if want := commission.PeriodOf(period.Start, g.Period, cc.periodLoc); !want.Start.Equal(period.Start) || !want.End.Equal(period.End) {
		return fmt.Errorf("s2s: close period %s: not a period of the program's calendar (%s in %s)", period, unitOf(g), cc.periodLoc)
	}
	now := t.now()
	if cutoff := period.End.Add(g.Grace.Std()); now.Before(cutoff) {
		return fmt.Errorf("%w: %s closes at %s", ErrPeriodOpen, period, cutoff.Format(time.RFC3339))
	}
	return t.closeThrough(ctx, cc, period.End, now)
}

// closeDue closes every period whose cutoff has passed at now: Run's periodic close.
func (t *Tracker) closeDue(ctx context.Context) error {
	cc := t.cfg.Load()
	if cc.program == nil {
		return nil
	}
	now := t.now()
	open := commission.PeriodOf(now.Add(-cc.program.Grace.Std()), cc.program.Period, cc.periodLoc)
	return t.closeThrough(ctx, cc, open.Start, now)
}

// closeThrough closes, in order, every period not closed yet that ends at or before end.
func (t *Tracker) closeThrough(ctx context.Context, cc *compiled, end time.Time, now time.Time) error {
	g := cc.program
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		var next commission.Period
		bal := map[string]*commission.Balances{}
		last, err := t.st.LastClose(ctx)
		switch {
		case err == nil:
			if !last.End.Before(end) {
				return nil // closed already
			}
			next = commission.PeriodOf(last.End, g.Period, cc.periodLoc)
			for _, b := range last.Balances {
				ab := bal[b.AffiliateID]
				if ab == nil {
					ab = &commission.Balances{Fenced: map[string]money.Amount{}}
					bal[b.AffiliateID] = ab
				}
				if b.PlayerID == "" {
					ab.Carry = b.Amount
				} else {
					ab.Fenced[b.PlayerID] = b.Amount
				}
			}
		case errors.Is(err, store.ErrNotFound):
			first := end.Add(-time.Nanosecond)
			fs, err := t.st.ListRevenue(ctx, store.ListRevenueParams{From: time.Unix(0, 0), To: end, Limit: 1})
			if err != nil {
				return fmt.Errorf("s2s: close period: first revenue fact: %w", err)
			}
			if len(fs) > 0 {
				first = fs[0].OccurredAt
			}
			next = commission.PeriodOf(first, g.Period, cc.periodLoc)
		default:
			return fmt.Errorf("s2s: close period: last close: %w", err)
		}
		if next.End.After(end) {
			return nil
		}
		p, err := t.settle(ctx, cc, next, bal, now)
		if err != nil {
			return fmt.Errorf("s2s: close period %s: %w", next, err)
		}
		_, err = t.st.ClosePeriod(ctx, p)
		switch {
		case err == nil:
		case errors.Is(err, store.ErrDuplicate), errors.Is(err, store.ErrConflict):
			// Closed by another process at the same time: go on from its close, unless
			// the store's last close did not move (then the conflict is not a race).
			if l, lerr := t.st.LastClose(ctx); lerr != nil || !l.End.After(last.End) {
				return fmt.Errorf("s2s: close period %s: %w", next, err)
			}
		default:
			return fmt.Errorf("s2s: close period %s: %w", next, err)
		}
	}
}

// periodRevenue is the revenue of the affiliates of one period, in their plans'
// currencies, by affiliate and player.
type periodRevenue map[string]*commission.Settlement

// settle computes the close of per: its lines and the balances it carries out.
func (t *Tracker) settle(ctx context.Context, cc *compiled, per commission.Period, bal map[string]*commission.Balances, now time.Time) (store.ClosePeriodParams, error) {
	g := cc.program
	rev := periodRevenue{}
	var settled []uuid.UUID
	lp := store.ListRevenueParams{By: store.ByOccurredAt, From: time.Unix(0, 0), To: per.End, Limit: 1000, Unsettled: true}
	for {
		fs, err := t.st.ListRevenue(ctx, lp)
		if err != nil {
			return store.ClosePeriodParams{}, fmt.Errorf("list revenue: %w", err)
		}
		for _, f := range fs {
			at, isLate := g.RevenuePeriod(f.OccurredAt, f.ReceivedAt, cc.periodLoc)
			switch {
			case at.Start.After(per.Start):
				continue // received after per's cutoff: late revenue of a later period
			case at.Start.Before(per.Start):
				// Of a period closed already, which did not see it (committed after that
				// close listed the unsettled facts): late revenue of this one.
				isLate = true
			}
			if err := t.count(ctx, cc, rev, per, f, isLate); err != nil {
				return store.ClosePeriodParams{}, err
			}
			settled = append(settled, f.ID)
		}
		if len(fs) < lp.Limit {
			break
		}
		l := fs[len(fs)-1]
		lp.After = store.Cursor{At: lp.By.ListTime(l), ID: l.ID}
	}
	var lines []commission.Line
	positive := map[string]money.Amount{}
	for _, aff := range slices.Sorted(maps.Keys(rev)) {
		b := bal[aff]
		if b == nil {
			b = &commission.Balances{}
			bal[aff] = b
		}
		ls, pos, err := g.Settle(rev[aff], b)
		if errors.Is(err, commission.ErrNoPlan) {
			t.log.LogAttrs(ctx, slog.LevelWarn, "s2s: no RevShare: the affiliate has no plan at the period's end",
				slog.String("affiliate", aff), slog.String("period", per.String()))
			continue
		}
		if err != nil {
			return store.ClosePeriodParams{}, err
		}
		lines, positive[aff] = append(lines, ls...), pos
	}
	for _, child := range slices.Sorted(maps.Keys(g.Parents)) {
		own, err := t.periodLines(ctx, child, per)
		if err != nil {
			return store.ClosePeriodParams{}, err
		}
		for _, l := range lines {
			if l.AffiliateID == child {
				own = append(own, l)
			}
		}
		earned, err := commission.Earnings(own)
		if err != nil {
			return store.ClosePeriodParams{}, fmt.Errorf("earnings of %q: %w", child, err)
		}
		subs, err := g.SubLines(child, per, earned, positive[child])
		if err != nil {
			return store.ClosePeriodParams{}, err
		}
		lines = append(lines, subs...)
	}
	p := store.ClosePeriodParams{Close: store.PeriodClose{Start: per.Start, End: per.End, ClosedAt: now}, Facts: settled}
	for _, aff := range slices.Sorted(maps.Keys(bal)) {
		b := bal[aff]
		if b.Carry.Sign() < 0 {
			p.Close.Balances = append(p.Close.Balances, store.Balance{AffiliateID: aff, Amount: b.Carry})
		}
		for _, player := range slices.Sorted(maps.Keys(b.Fenced)) {
			p.Close.Balances = append(p.Close.Balances, store.Balance{AffiliateID: aff, PlayerID: player, Amount: b.Fenced[player]})
		}
	}
	for _, l := range lines {
		p.Lines = append(p.Lines, store.LedgerLine{ID: periodLineID(l), CreatedAt: now, Line: l})
	}
	return p, nil
}

// count adds the revenue fact f (less the fact it corrects) to the revenue of per.
func (t *Tracker) count(ctx context.Context, cc *compiled, rev periodRevenue, per commission.Period, f store.RevenueFact, late bool) error {
	r, ok, err := t.inPlanRevenue(ctx, cc, f)
	if err != nil || !ok {
		return err
	}
	if f.Corrects != "" {
		old, err := t.st.GetRevenue(ctx, store.GetRevenueParams{Source: f.Source, TransactionID: f.Corrects})
		if err != nil {
			return fmt.Errorf("revenue fact %s/%s corrects %s: %w", f.Source, f.TransactionID, f.Corrects, err)
		}
		o, ok, err := t.inPlanRevenue(ctx, cc, old)
		if err != nil {
			return err
		}
		if ok {
			for _, x := range []struct{ a, b *money.Amount }{{&r.GGR, &o.GGR}, {&r.Bonuses, &o.Bonuses}, {&r.Fees, &o.Fees},
				{&r.Taxes, &o.Taxes}, {&r.Deposits, &o.Deposits}, {&r.Withdrawals, &o.Withdrawals}} {
				if *x.a, err = x.a.Sub(*x.b); err != nil {
					return fmt.Errorf("revenue fact %s/%s: correction: %w", f.Source, f.TransactionID, err)
				}
			}
		}
	}
	s := rev[f.AffiliateID]
	if s == nil {
		s = &commission.Settlement{AffiliateID: f.AffiliateID, Period: per}
		rev[f.AffiliateID] = s
	}
	m := &s.Revenue
	if late {
		m = &s.Late
	}
	if *m == nil {
		*m = map[string]*commission.Revenue{}
	}
	acc := (*m)[f.PlayerID]
	if acc == nil {
		acc = &commission.Revenue{}
		(*m)[f.PlayerID] = acc
	}
	for _, x := range []struct{ a, b *money.Amount }{{&acc.GGR, &r.GGR}, {&acc.Bonuses, &r.Bonuses}, {&acc.Fees, &r.Fees},
		{&acc.Taxes, &r.Taxes}, {&acc.Deposits, &r.Deposits}, {&acc.Withdrawals, &r.Withdrawals}} {
		if *x.a == (money.Amount{}) {
			*x.a = *x.b
			continue
		}
		if *x.a, err = x.a.Add(*x.b); err != nil {
			return fmt.Errorf("revenue of player %q: %w", f.PlayerID, err)
		}
	}
	return nil
}

// inPlanRevenue returns f's amounts as a commission.Revenue in the currency of the plan in
// force for its affiliate at its time (as Replay converts a report); ok is false, and the
// fact is logged, when the affiliate has no plan then.
func (t *Tracker) inPlanRevenue(ctx context.Context, cc *compiled, f store.RevenueFact) (r commission.Revenue, ok bool, err error) {
	plan, err := cc.program.PlanAt(f.AffiliateID, f.OccurredAt)
	if errors.Is(err, commission.ErrNoPlan) {
		t.log.LogAttrs(ctx, slog.LevelWarn, "s2s: revenue fact not counted: its affiliate has no plan at its time",
			slog.String("source", f.Source), slog.String("transaction", f.TransactionID), slog.String("affiliate", f.AffiliateID))
		return r, false, nil
	}
	if err != nil {
		return r, false, err
	}
	for _, x := range []struct{ dst, src *money.Amount }{{&r.GGR, &f.GGR}, {&r.Bonuses, &f.Bonuses}, {&r.Fees, &f.Fees},
		{&r.Taxes, &f.Taxes}, {&r.Deposits, &f.Deposits}, {&r.Withdrawals, &f.Withdrawals}} {
		a, _, conv, err := cc.inPlan(plan, *x.src)
		if err != nil {
			return r, false, err
		}
		if !conv {
			return r, false, fmt.Errorf("revenue fact %s/%s: %s is not in plan %q's %s, and Config.Rates has no rate to it", f.Source, f.TransactionID, x.src, plan.ID, plan.Currency)
		}
		*x.dst = a
	}
	return r, true, nil
}

// periodLines returns the ledger lines of affiliate in the statement of per, as stored.
func (t *Tracker) periodLines(ctx context.Context, affiliate string, per commission.Period) ([]commission.Line, error) {
	var out []commission.Line
	p := store.ListLedgerLinesParams{AffiliateID: affiliate, By: store.ByStatementTime, From: per.Start, To: per.End, Limit: 1000}
	for {
		ls, err := t.st.ListLedgerLines(ctx, p)
		if err != nil {
			return nil, fmt.Errorf("ledger of %q: %w", affiliate, err)
		}
		for _, l := range ls {
			out = append(out, l.Line)
		}
		if len(ls) < p.Limit {
			return out, nil
		}
		l := ls[len(ls)-1]
		p.After = store.Cursor{At: p.By.ListTime(l), ID: l.ID}
	}
}

// periodLineSpace is the UUIDv5 namespace of period lines' IDs.
var periodLineSpace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://github.com/s2skit/s2s#period-line"))

// periodLineID is the ID of a period line: a UUIDv5 of its period, affiliate, kind, rule,
// player, level and sub-affiliate, which name one line of a close, so that every process
// that closes a period gives its lines the same IDs.
func periodLineID(l commission.Line) uuid.UUID {
	b := make([]byte, 0, 128)
	b = l.Period.Start.UTC().AppendFormat(b, time.RFC3339Nano)
	for _, s := range []string{l.AffiliateID, l.Kind.String(), l.Rule.String(), l.PlayerID, strconv.Itoa(int(l.Level)), l.Detail.Sub} {
		b = append(b, 0)
		b = append(b, s...)
	}
	return uuid.NewSHA1(periodLineSpace, b)
}

// unitOf names the program's period unit.
func unitOf(g *commission.Program) commission.PeriodUnit { return cmp.Or(g.Period, commission.Month) }
