package commission

import (
	"fmt"
	"sort"
	"time"

	"github.com/s2skit/s2s/money"
)

// Statement is what an affiliate earned in one period: the lines payable in it, their total,
// and the RevShare balances carried in and out.
type Statement struct {
	AffiliateID string
	Period      Period
	// Lines are the affiliate's lines whose StatementTime is in Period, in ledger order.
	Lines []Line
	// Total is the sum of the lines' amounts (it may be negative after reversals).
	Total money.Amount
	// CarryIn and CarryOut are the negative RevShare bases carried from the previous period
	// and into the next one (CarryForward only): the CarryIn of the period's RevShare line
	// and the Base of its carryover line, zero when there are none.
	CarryIn, CarryOut money.Amount
	// Fenced lists the ring-fenced players' negative balances at the end of the period
	// (RingFence only), by player: the Base of each player's carryover line.
	Fenced []Balance
}

// Balance is a player's carried balance.
type Balance struct {
	PlayerID string
	Amount   money.Amount
}

// Statements groups ledger lines into statements per affiliate and period of prog's
// calendar (its Zone and Period), as Replay does: a line belongs to the period that contains
// its StatementTime, so a RevShare line is in the statement of the period it was computed
// for, although it is payable at that period's end. The carried balances are read from the
// lines (a RevShare line's Detail.CarryIn, the carryover lines' Base), so lines read back
// from a store, carryover lines included and in ledger order, give the statements Replay
// returned. Statements are sorted by affiliate, then period; a statement keeps its lines in
// the order of lines.
//
// Only prog's calendar is used (opts.LoadLocation resolves its zone; nil opts are the
// defaults). Lines of one statement in different currencies are an error wrapping
// ErrCurrency; an unknown zone or period unit wraps ErrInvalidPlan.
func Statements(prog *Program, lines []Line, opts *ReplayOptions) ([]Statement, error) {
	if err := prog.Period.validate(); err != nil {
		return nil, err
	}
	loc, err := prog.location(opts)
	if err != nil {
		return nil, err
	}
	return statements(loc, prog.Period, lines)
}

// location resolves the program's zone with opts.LoadLocation (time.LoadLocation if nil).
func (g *Program) location(opts *ReplayOptions) (*time.Location, error) {
	if g.Zone == "" {
		return time.UTC, nil
	}
	load := time.LoadLocation
	if opts != nil && opts.LoadLocation != nil {
		load = opts.LoadLocation
	}
	loc, err := load(g.Zone)
	if err != nil {
		return nil, fmt.Errorf("%w: program: zone %q: %v", ErrInvalidPlan, g.Zone, err)
	}
	return loc, nil
}

func statements(loc *time.Location, unit PeriodUnit, lines []Line) ([]Statement, error) {
	// First the statement of each line, and how many lines each has, so that each
	// statement's lines are allocated once.
	idx := map[apKey]int{}
	var out []Statement
	of := make([]int, len(lines))
	var count []int
	for n, l := range lines {
		per := PeriodOf(l.StatementTime(), unit, loc)
		k := apKey{l.AffiliateID, per.Start.UnixNano()}
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			zero := money.New(0, l.Amount.Currency())
			out = append(out, Statement{AffiliateID: l.AffiliateID, Period: per, Total: zero, CarryIn: zero, CarryOut: zero})
			count = append(count, 0)
		}
		of[n] = i
		count[i]++
	}
	for i := range out {
		out[i].Lines = make([]Line, 0, count[i])
	}
	for n, l := range lines {
		s := &out[of[n]]
		s.Lines = append(s.Lines, l)
		var err error
		if s.Total, err = s.Total.Add(l.Amount); err != nil {
			return nil, within(wrapMoney(err), "statement of %q for %s", l.AffiliateID, s.Period)
		}
		switch {
		case l.Rule != RuleRevShare:
		case l.Kind == KindAccrual:
			s.CarryIn = l.Detail.CarryIn
		case l.Kind == KindCarryover && l.PlayerID == "":
			s.CarryOut = l.Base
		case l.Kind == KindCarryover:
			s.Fenced = append(s.Fenced, Balance{l.PlayerID, l.Base})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].AffiliateID != out[j].AffiliateID {
			return out[i].AffiliateID < out[j].AffiliateID
		}
		return out[i].Period.Start.Before(out[j].Period.Start)
	})
	return out, nil
}
