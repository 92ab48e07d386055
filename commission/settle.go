package commission

import (
	"fmt"
	"maps"
	"time"

	"github.com/s2skit/s2s/money"
)

// Balances are what an affiliate carries from one settled period into the next: the
// negative RevShare base of CarryForward, and the negative balances of ring-fenced players
// (RingFence). The zero Balances carry nothing. Settle updates them.
type Balances struct {
	// Carry is the negative base carried forward; zero (or the zero money.Amount) is none.
	Carry money.Amount
	// Fenced are the ring-fenced players' negative balances, by player.
	Fenced map[string]money.Amount
}

// clone returns a copy of b that Settle can change without changing b.
func (b *Balances) clone() *Balances {
	return &Balances{Carry: b.Carry, Fenced: maps.Clone(b.Fenced)}
}

// Settlement is one affiliate's period to settle: the revenue its players brought in it,
// by player, in the plan's currency.
type Settlement struct {
	AffiliateID string
	Period      Period
	// Revenue is the revenue reported on time, by player (see Program.RevenuePeriod).
	Revenue map[string]*Revenue
	// Late is the revenue of earlier periods reported after their cutoff, which counts in
	// this period, by player; negative amounts are the reports' corrections.
	Late map[string]*Revenue
}

// Settle computes the RevShare lines of one affiliate's period, as Replay does, from its
// revenue and the balances carried in, and updates b to the balances carried out. The plan
// is the one in force at the period's last instant.
//
// The lines are, in order: the RevShare line of the revenue reported on time (with the
// carried-in base); when there is late revenue, an adjustment line (KindAdjustment,
// RuleRevShare) of what the late revenue changes: the RevShare of the period with it, less
// the line before, so that the lines sum to the RevShare of the whole base; and the
// carryover lines of the balances carried out (computed with the late revenue). A plan
// without RevShare gives no lines. Settle also returns the positive NGR of the period's
// players (with the late revenue), which an OfRevenue sub-affiliate share is taken of.
func (g *Program) Settle(s *Settlement, b *Balances) (lines []Line, positive money.Amount, err error) {
	p, err := g.PlanAt(s.AffiliateID, s.Period.End.Add(-time.Nanosecond))
	if err != nil {
		return nil, money.Amount{}, err
	}
	if b.Fenced == nil {
		b.Fenced = map[string]money.Amount{}
	}
	all := s.Revenue
	var onTime *Balances
	if len(s.Late) > 0 {
		all = make(map[string]*Revenue, len(s.Revenue)+len(s.Late))
		for _, m := range []map[string]*Revenue{s.Revenue, s.Late} {
			for id, rev := range m {
				acc := all[id]
				if acc == nil {
					acc = &Revenue{}
					all[id] = acc
				}
				if err := acc.combine(rev, add); err != nil {
					return nil, money.Amount{}, within(err, "player %q", id)
				}
			}
		}
		onTime = b.clone()
	}
	l, positive, ok, err := settleRun(p, s.AffiliateID, s.Period, all, b)
	if err != nil || !ok {
		return nil, positive, err
	}
	lines = append(lines, l)
	if onTime != nil {
		first, _, _, err := settleRun(p, s.AffiliateID, s.Period, s.Revenue, onTime)
		if err != nil {
			return nil, money.Amount{}, err
		}
		adj := Line{Kind: KindAdjustment, Rule: RuleRevShare, Plan: p.ID, AffiliateID: s.AffiliateID,
			At: l.At, Payable: l.Payable, Period: l.Period, Mode: l.Mode,
			Detail: Detail{Players: int64(len(s.Late)), RevShare: l.Detail.RevShare}}
		if adj.Amount, err = subtract(l.Amount, first.Amount); err != nil {
			return nil, money.Amount{}, err
		}
		if adj.Base, err = subtract(l.Detail.NGR, first.Detail.NGR); err != nil {
			return nil, money.Amount{}, err
		}
		adj.Detail.NGR = adj.Base
		lines = append(lines[:0], first, adj)
	}
	if b.Carry.Sign() < 0 {
		lines = append(lines, carryLine(l, "", b.Carry))
	}
	for _, id := range sortedKeys(b.Fenced) {
		lines = append(lines, carryLine(l, id, b.Fenced[id]))
	}
	return lines, positive, nil
}

// settleRun computes the RevShare line of revenue for the affiliate's period with plan p
// and updates b; ok is false, with no line, when p has no RevShare. It returns the positive
// NGR of the players either way.
func settleRun(p *Plan, aff string, per Period, revenue map[string]*Revenue, b *Balances) (l Line, positive money.Amount, ok bool, err error) {
	zero := money.New(0, p.Currency)
	fencing := p.RevShare != nil && p.RevShare.Carryover == RingFence
	total, fenced := zero, zero
	positive = zero
	var sum Revenue
	for _, id := range sortedKeys(revenue) {
		rev := revenue[id]
		ngr, err := p.NGR(rev)
		if err != nil {
			return Line{}, zero, false, within(err, "player %q", id)
		}
		if err := sum.combine(rev, add); err != nil {
			return Line{}, zero, false, err
		}
		counted := ngr
		if fencing {
			if counted, err = b.ringFence(id, ngr, p.RevShare.HighRoller); err != nil {
				return Line{}, zero, false, err
			}
			out, err := subtract(ngr, counted)
			if err == nil {
				fenced, err = add(fenced, out)
			}
			if err != nil {
				return Line{}, zero, false, err
			}
		}
		if total, err = add(total, counted); err != nil {
			return Line{}, zero, false, err
		}
		if ngr.Sign() > 0 {
			if positive, err = add(positive, ngr); err != nil {
				return Line{}, zero, false, err
			}
		}
	}
	if p.RevShare == nil {
		return Line{}, positive, false, nil // the NGR still counts for a parent's OfRevenue share
	}
	in := RevShareInput{AffiliateID: aff, Period: per, Players: int64(len(revenue)), Revenue: &sum, NGR: total, Fenced: fenced, CarryIn: zero}
	if c := b.Carry; !c.IsZero() {
		if c.Currency() != p.Currency {
			return Line{}, zero, false, fmt.Errorf("%w: a balance of %s is carried into plan %q, which pays in %s", ErrCurrency, c, p.ID, p.Currency)
		}
		in.CarryIn = c
	}
	l, out, err := p.RevShareLine(in)
	if err != nil {
		return Line{}, zero, false, err
	}
	b.Carry = out
	return l, positive, true, nil
}

// earns reports whether l counts in its affiliate's earnings that an OfEarnings
// sub-affiliate share is taken of: every line but carryover lines and sub-affiliate shares.
func earns(l Line) bool { return l.Kind != KindCarryover && l.Rule != RuleSub }

// Earnings returns the earnings of lines that an OfEarnings sub-affiliate share is taken of:
// the sum of their amounts, carryover lines and sub-affiliate shares left out. Lines of
// several currencies are an error wrapping ErrCurrency. None is the zero money.Amount.
func Earnings(lines []Line) (money.Amount, error) {
	var sum money.Amount
	for _, l := range lines {
		if !earns(l) {
			continue
		}
		var err error
		if sum, err = add(sum, l.Amount); err != nil {
			return money.Amount{}, err
		}
	}
	return sum, nil
}

// SubLines returns the sub-affiliate lines that the ancestors of affiliate earn for its
// period per, as Replay computes them: each ancestor whose plan (in force at the period's
// last instant) has a sub level at its depth earns that level's rate of earned (OfEarnings:
// the affiliate's Earnings in the period) or of positive (OfRevenue: its players' positive
// NGR, as Settle returns it). A zero base gives no line.
func (g *Program) SubLines(affiliate string, per Period, earned, positive money.Amount) ([]Line, error) {
	var out []Line
	level := 0
	for parent := g.Parents[affiliate]; parent != ""; parent = g.Parents[parent] {
		level++
		p, err := g.PlanAt(parent, per.End.Add(-time.Nanosecond))
		if err != nil || p.Sub == nil || len(p.Sub.Levels) < level {
			continue
		}
		lv := p.Sub.Levels[level-1]
		base := earned
		if lv.Basis == OfRevenue {
			base = positive
		}
		if base.IsZero() {
			continue // nothing earned, nothing to share
		}
		if base.Currency() != p.Currency {
			return nil, fmt.Errorf("%w: sub-affiliate %q earns in %s, parent plan %q pays in %s", ErrCurrency, affiliate, base.Currency(), p.ID, p.Currency)
		}
		amt, err := base.MulRate(lv.Rate, p.Rounding)
		if err != nil {
			return nil, overflow("sub-affiliate share", err)
		}
		out = append(out, Line{Kind: KindAccrual, Rule: RuleSub, Plan: p.ID, AffiliateID: parent, At: per.End, Payable: per.End,
			Period: per, Amount: amt, Base: base, Rate: lv.Rate, Level: int32(level), Mode: p.Rounding,
			Detail: Detail{Sub: affiliate, Basis: lv.Basis}})
	}
	return out, nil
}
