package commission

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
)

// ReplayOptions are the settings of one call of Replay, Compare or Statements. A nil
// *ReplayOptions is the zero value.
type ReplayOptions struct {
	// LoadLocation resolves Program.Zone. Nil uses time.LoadLocation, which reads the
	// system's time zone database (or the copy a program embeds by importing time/tzdata);
	// pass a function to keep the replay free of that one read.
	LoadLocation func(name string) (*time.Location, error)
}

// ReplayResult is what a replay computed: the ledger, in order, and the statements per affiliate
// and period. Nothing is stored anywhere.
type ReplayResult struct {
	Ledger     []Line
	Statements []Statement
}

// Compare replays the same events against two programs (say, the current deal and a proposed
// one) and returns both results side by side.
func Compare(a, b *Program, events []Event, opts *ReplayOptions) (ra, rb *ReplayResult, err error) {
	if ra, err = Replay(a, events, opts); err != nil {
		return nil, nil, fmt.Errorf("program a: %w", err)
	}
	if rb, err = Replay(b, events, opts); err != nil {
		return nil, nil, fmt.Errorf("program b: %w", err)
	}
	return ra, rb, nil
}

type player struct {
	affiliate  string
	country    string
	registered time.Time
	verified   bool
	ftd        money.Amount
	ftdAt      time.Time
	deps       []dep
	wagered    money.Amount
	rounds     int64
	paidCPA    bool
	purchases  int
	funded     bool
}

type dep struct {
	at     time.Time
	amount money.Amount
	event  string
}

type apKey struct {
	aff   string
	start int64 // period start, Unix nanoseconds
}

type revBucket struct {
	period  Period
	players map[string]*Revenue
}

type replay struct {
	g        *Program
	loc      *time.Location
	unit     PeriodUnit
	ledger   []Line
	byEvent  map[string][]int // event ID → its lines in ledger
	events   map[string]*Event
	reversed map[string]bool
	players  map[string]*player
	cpaCount map[apKey]int64
	cpaTotal map[apKey]money.Amount
	lots     map[apKey]money.Rate
	revenue  map[apKey]*revBucket
	conv     map[string]Revenue      // revenue event → converted revenue
	wagers   map[string]money.Amount // wager event → converted amount
	ngrPos   map[apKey]money.Amount
}

// Replay runs an event history through a program and returns the ledger and the statements:
// a what-if simulation, or the recalculation of history, with the plan in force at each
// event's time (and, for RevShare and sub-affiliate shares, at each period's last instant).
// Nothing is stored. Events are processed in order of At (stably); a reversal, refund or reset
// must come after the event it names. To replay against a single plan, use a Program whose
// Default is one Version with the zero From; to compare two deals, use Compare.
//
// Registration, verification, deposit (and FTD, a deposit) and wager events update the
// player and check the CPA; revenue reports are summed per affiliate, period and player for
// RevShare; trades, purchases and funded events produce IB and prop lines; adjustments
// produce adjustment lines; other event types produce none (see Event). A reversal negates
// the lines of the reversed event, line by line, at the reversal's time (a reversed revenue
// report counts negatively in the reversal's period; a reversed deposit no longer counts
// towards the deposit baseline, though a paid CPA is reversed rather than requalified);
// refunds and resets claw back a purchase's lines when the plan says so. Then each
// affiliate's periods are settled in order with carryover, and sub-affiliate shares are
// added. Player IDs are global: one ID is one player whatever the affiliate. The first error
// stops the replay.
func Replay(g *Program, events []Event, opts *ReplayOptions) (*ReplayResult, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	loc, err := g.location(opts)
	if err != nil {
		return nil, err
	}
	r := &replay{
		g: g, loc: loc, unit: g.Period,
		byEvent: map[string][]int{}, events: map[string]*Event{}, reversed: map[string]bool{},
		players: map[string]*player{}, cpaCount: map[apKey]int64{}, cpaTotal: map[apKey]money.Amount{},
		lots: map[apKey]money.Rate{}, revenue: map[apKey]*revBucket{}, conv: map[string]Revenue{}, wagers: map[string]money.Amount{},
		ngrPos: map[apKey]money.Amount{},
	}
	order := make([]int, len(events))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return events[order[a]].At.Before(events[order[b]].At) })
	for _, i := range order {
		e := &events[i]
		if err := r.event(e); err != nil {
			return nil, fmt.Errorf("event %q (%s): %w", e.ID, e.Kind, err)
		}
	}
	if err := r.settle(); err != nil {
		return nil, err
	}
	if err := r.subShares(); err != nil {
		return nil, err
	}
	st, err := statements(r.loc, r.unit, r.ledger)
	if err != nil {
		return nil, err
	}
	return &ReplayResult{Ledger: r.ledger, Statements: st}, nil
}

func (r *replay) key(aff string, t time.Time) (apKey, Period) {
	p := PeriodOf(t, r.unit, r.loc)
	return apKey{aff, p.Start.UnixNano()}, p
}

func (r *replay) add(event string, l Line) {
	if event != "" {
		r.byEvent[event] = append(r.byEvent[event], len(r.ledger))
	}
	r.ledger = append(r.ledger, l)
}

// convert returns a in the plan's currency, converted with e.FX when needed.
func convert(p *Plan, e *Event, a money.Amount) (money.Amount, error) {
	if a.Currency() == p.Currency || (a.Currency() == 0 && a.IsZero()) {
		return money.New(a.Minor(), p.Currency), nil
	}
	if e.FX == nil {
		return money.Amount{}, fmt.Errorf("%w: %s for plan %q in %s", ErrCurrency, a, p.ID, p.Currency)
	}
	if e.FX.To != p.Currency {
		return money.Amount{}, fmt.Errorf("%w: exchange rate to %s for plan %q in %s", ErrCurrency, e.FX.To, p.ID, p.Currency)
	}
	c, err := a.Convert(*e.FX, p.Rounding)
	if err != nil {
		return money.Amount{}, fmt.Errorf("%w: %w", ErrCurrency, err)
	}
	return c.Amount, nil
}

func (r *replay) event(e *Event) error {
	if e.ID == "" || e.Affiliate == "" || e.Kind == "" {
		return fmt.Errorf("%w: missing id, kind or affiliate", ErrInvalidEvent)
	}
	if _, dup := r.events[e.ID]; dup {
		return fmt.Errorf("%w: duplicate event id", ErrInvalidEvent)
	}
	if e.FX != nil { // lines keep their own copy of the rate, not the caller's
		fx := *e.FX
		cp := *e
		cp.FX = &fx
		e = &cp
	}
	r.events[e.ID] = e
	ps := r.players[e.Player]
	if ps == nil {
		ps = &player{affiliate: e.Affiliate, registered: e.At}
		r.players[e.Player] = ps
	}
	kind := kindOf(e.Kind)
	if kind == event.Registration {
		ps.country, ps.registered, ps.verified = e.Country, e.At, e.Verified
	}
	if kind == event.Verification {
		ps.verified = true
	}
	p, err := r.g.PlanAt(e.Affiliate, e.At)
	if err != nil {
		if kind == event.Registration || kind == event.Verification {
			return nil
		}
		return err
	}
	amount, err := convert(p, e, e.Amount)
	if err != nil {
		return err
	}
	switch kind {
	case event.Registration, event.Verification:
	case event.Deposit:
		if amount.Sign() <= 0 {
			return fmt.Errorf("%w: deposit amount not positive", ErrInvalidEvent)
		}
		if ps.ftd.IsZero() {
			ps.ftd, ps.ftdAt = amount, e.At
		}
		ps.deps = append(ps.deps, dep{e.At, amount, e.ID})
	case event.Wager:
		if ps.wagered, err = add(ps.wagered, amount); err != nil {
			return err
		}
		r.wagers[e.ID] = amount
		ps.rounds += e.Rounds
	case event.Revenue:
		var rev Revenue
		src, dst := e.Revenue.fields(), rev.fields()
		for i := range src {
			if *dst[i], err = convert(p, e, *src[i]); err != nil {
				return err
			}
		}
		r.conv[e.ID] = rev
		return r.addRevenue(e, e.Player, rev, false)
	case event.Trade:
		return r.trade(p, e)
	case event.Purchase:
		first := ps.purchases == 0
		ps.purchases++
		size, err := convert(p, e, e.AccountSize)
		if err != nil {
			return err
		}
		l, err := p.PurchaseLine(PurchaseInput{Affiliate: e.Affiliate, Player: e.Player, Event: e.ID, At: e.At, Price: amount, AccountSize: size, First: first, FX: e.FX})
		if err != nil {
			return err
		}
		if l.Reason == "" {
			r.add(e.ID, l)
		}
		return nil
	case event.Funded:
		if p.Prop != nil && !p.Prop.Funded.IsZero() && !ps.funded {
			ps.funded = true
			l := Line{Kind: KindAccrual, Rule: RulePropFunded, Plan: p.ID, Affiliate: e.Affiliate, Player: e.Player,
				Event: e.ID, At: e.At, Payable: e.At, Amount: p.Prop.Funded, Base: p.Prop.Funded, Mode: p.Rounding}
			r.add(e.ID, l)
		}
		return nil
	case event.Adjustment:
		l := Line{Kind: KindAdjustment, Rule: RuleAdjustment, Plan: p.ID, Affiliate: e.Affiliate, Player: e.Player,
			Event: e.ID, At: e.At, Payable: e.At, Amount: amount, Base: amount, Mode: p.Rounding, FX: e.FX}
		r.add(e.ID, l)
		return nil
	case event.Refund, event.Reset:
		orig, ok := r.events[e.Reverses]
		if !ok || orig.Kind != event.Purchase {
			return fmt.Errorf("%w: %s of %q, which is not an earlier purchase", ErrInvalidEvent, e.Kind, e.Reverses)
		}
		if p.Prop == nil || (kind == event.Refund && !p.Prop.ClawbackRefund) || (kind == event.Reset && !p.Prop.ClawbackReset) {
			return nil
		}
		return r.reverse(e, KindClawback)
	case event.Reversal:
		orig, ok := r.events[e.Reverses]
		if !ok {
			return fmt.Errorf("%w: reversal of %q, which is not an earlier event", ErrInvalidEvent, e.Reverses)
		}
		if orig.Kind == event.Revenue {
			if r.reversed[orig.ID] {
				return fmt.Errorf("%w: %q is already reversed", ErrInvalidEvent, orig.ID)
			}
			r.reversed[orig.ID] = true
			return r.addRevenue(e, orig.Player, r.conv[orig.ID], true)
		}
		if err := r.unwind(orig); err != nil {
			return err
		}
		return r.reverse(e, KindReversal)
	default: // a custom event, or one that earns nothing under any plan
		return nil
	}
	return r.checkCPA(p, e, ps)
}

// kindOf returns how commission reads an event type: an FTD is a deposit, since commission
// counts which deposit is the first itself.
func kindOf(t event.Type) event.Type {
	if t == event.FTD {
		return event.Deposit
	}
	return t
}

// unwind takes a reversed deposit, wager or trade out of the player's and the period's
// running totals, so that later qualification and volume tiers no longer count it.
func (r *replay) unwind(orig *Event) error {
	ps := r.players[orig.Player]
	switch kindOf(orig.Kind) {
	case event.Deposit:
		for i, d := range ps.deps {
			if d.event == orig.ID {
				ps.deps = append(ps.deps[:i:i], ps.deps[i+1:]...)
				break
			}
		}
	case event.Wager:
		var err error
		if ps.wagered, err = ps.wagered.Sub(r.wagers[orig.ID]); err != nil {
			return wrapMoney(err)
		}
		ps.rounds -= orig.Rounds
	case event.Trade:
		lots := orig.Trade.Lots
		var err error
		if orig.Trade.Cent {
			if lots, err = mulRates(lots, money.BasisPoints(100)); err != nil {
				return err
			}
		}
		k, _ := r.key(orig.Affiliate, orig.At)
		if lots.Coefficient() == math.MinInt64 {
			return fmt.Errorf("%w: lots %s", ErrOverflow, lots)
		}
		neg, err := money.NewRate(-lots.Coefficient(), lots.Scale())
		if err != nil {
			return fmt.Errorf("%w: %w", ErrOverflow, err)
		}
		if r.lots[k], err = addRates(r.lots[k], neg); err != nil {
			return err
		}
	}
	return nil
}

func add(a, b money.Amount) (money.Amount, error) {
	if a.Currency() == 0 && a.IsZero() {
		return b, nil
	}
	s, err := a.Add(b)
	if err != nil {
		return money.Amount{}, wrapMoney(err)
	}
	return s, nil
}

// reverse appends the negation of every line of the event e reverses.
func (r *replay) reverse(e *Event, k Kind) error {
	if r.reversed[e.Reverses] {
		return fmt.Errorf("%w: %q is already reversed", ErrInvalidEvent, e.Reverses)
	}
	r.reversed[e.Reverses] = true
	for _, i := range r.byEvent[e.Reverses] {
		n, err := r.ledger[i].negate(k, e.ID, e.At)
		if err != nil {
			return err
		}
		r.add(e.ID, n)
	}
	return nil
}

func (r *replay) checkCPA(p *Plan, e *Event, ps *player) error {
	if p.CPA == nil || ps.paidCPA {
		return nil
	}
	var deposits money.Amount = money.New(0, p.Currency)
	for _, d := range ps.deps {
		if p.CPA.Baseline.DepositWindow > 0 && d.at.Sub(ps.ftdAt) > p.CPA.Baseline.DepositWindow.Std() {
			continue
		}
		var err error
		if deposits, err = add(deposits, d.amount); err != nil {
			return err
		}
	}
	k, _ := r.key(e.Affiliate, e.At)
	l, err := p.CPALine(CPAInput{
		Affiliate: e.Affiliate, Player: e.Player, Event: e.ID, At: e.At, Country: ps.country,
		Registered: ps.registered, FTD: ps.ftd, Deposits: deposits, Wagered: ps.wagered, Rounds: ps.rounds,
		Verified: ps.verified, PeriodCount: r.cpaCount[k], PeriodTotal: r.cpaTotal[k], FX: e.FX,
	})
	if err != nil || l.Reason != "" {
		return err
	}
	ps.paidCPA = true
	r.cpaCount[k]++
	if r.cpaTotal[k], err = add(r.cpaTotal[k], l.Amount); err != nil {
		return err
	}
	r.add(e.ID, l)
	return nil
}

func (r *replay) trade(p *Plan, e *Event) error {
	k, _ := r.key(e.Affiliate, e.At)
	lot, spread, err := p.TradeLines(TradeInput{Affiliate: e.Affiliate, Player: e.Player, Event: e.ID, At: e.At, Trade: e.Trade, PeriodLots: r.lots[k], FX: e.FX})
	if err != nil {
		return err
	}
	lots := e.Trade.Lots
	if e.Trade.Cent {
		if lots, err = mulRates(lots, money.BasisPoints(100)); err != nil {
			return err
		}
	}
	if r.lots[k], err = addRates(r.lots[k], lots); err != nil {
		return err
	}
	chain := []string{e.Affiliate}
	for a := r.g.Parents[e.Affiliate]; a != ""; a = r.g.Parents[a] {
		chain = append(chain, a)
	}
	for _, l := range [...]Line{lot, spread} {
		if l.Reason != "" || l.Amount.IsZero() {
			continue
		}
		parts, err := p.TreeLines(l, chain)
		if err != nil {
			return err
		}
		for _, s := range parts {
			r.add(e.ID, s)
		}
	}
	return nil
}

func (r *replay) addRevenue(e *Event, playerID string, rev Revenue, negate bool) error {
	k, per := r.key(e.Affiliate, e.At)
	b := r.revenue[k]
	if b == nil {
		b = &revBucket{period: per, players: map[string]*Revenue{}}
		r.revenue[k] = b
	}
	acc := b.players[playerID]
	if acc == nil {
		acc = &Revenue{}
		b.players[playerID] = acc
	}
	src, dst := rev.fields(), acc.fields()
	for i := range src {
		v := *src[i]
		if negate {
			var err error
			if v, err = v.Neg(); err != nil {
				return overflow("reverse revenue", err)
			}
		}
		var err error
		if *dst[i], err = add(*dst[i], v); err != nil {
			return err
		}
	}
	return nil
}

// settle computes the RevShare of every affiliate and period in order, with carryover.
func (r *replay) settle() error {
	keys := make([]apKey, 0, len(r.revenue))
	for k := range r.revenue {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].aff != keys[j].aff {
			return keys[i].aff < keys[j].aff
		}
		return keys[i].start < keys[j].start
	})
	carry := map[string]money.Amount{}
	fences := map[string]map[string]money.Amount{}
	for _, k := range keys {
		b := r.revenue[k]
		p, err := r.g.PlanAt(k.aff, b.period.End.Add(-time.Nanosecond))
		if err != nil {
			return err
		}
		zero := money.New(0, p.Currency)
		total, fencedOut, positive := zero, zero, zero
		var sum Revenue
		fence := fences[k.aff]
		if fence == nil {
			fence = map[string]money.Amount{}
			fences[k.aff] = fence
		}
		for _, id := range sortedKeys(b.players) {
			rev := b.players[id]
			ngr, err := p.NGR(rev)
			if err != nil {
				return fmt.Errorf("affiliate %q, period %s, player %q: %w", k.aff, b.period, id, err)
			}
			sd, ss := sum.fields(), rev.fields()
			for i := range sd {
				if *sd[i], err = add(*sd[i], *ss[i]); err != nil {
					return err
				}
			}
			contrib := ngr
			if p.RevShare != nil && p.RevShare.Carryover == RingFence {
				bal := fence[id]
				switch {
				case bal.Sign() < 0:
					if contrib, err = add(ngr, bal); err != nil {
						return err
					}
					if contrib.Sign() < 0 {
						fence[id], contrib = contrib, zero
					} else {
						delete(fence, id)
					}
				case ngr.Minor() <= -p.RevShare.HighRoller.Minor():
					fence[id], contrib = ngr, zero
				}
				d, err := ngr.Sub(contrib)
				if err != nil {
					return wrapMoney(err)
				}
				if fencedOut, err = fencedOut.Add(d); err != nil {
					return wrapMoney(err)
				}
			}
			if total, err = total.Add(contrib); err != nil {
				return wrapMoney(err)
			}
			if ngr.Sign() > 0 {
				if positive, err = positive.Add(ngr); err != nil {
					return wrapMoney(err)
				}
			}
		}
		r.ngrPos[k] = positive
		if p.RevShare == nil {
			continue // the NGR still counts for a parent's OfRevenue share
		}
		in := RevShareInput{Affiliate: k.aff, Period: b.period, Players: int64(len(b.players)), Revenue: &sum, NGR: total, Fenced: fencedOut, CarryIn: zero}
		if c, ok := carry[k.aff]; ok && !c.IsZero() {
			if c.Currency() != p.Currency {
				return fmt.Errorf("%w: affiliate %q, period %s: a balance of %s is carried into plan %q, which pays in %s",
					ErrCurrency, k.aff, b.period, c, p.ID, p.Currency)
			}
			in.CarryIn = c
		}
		l, out, err := p.RevShareLine(in)
		if err != nil {
			return fmt.Errorf("affiliate %q, period %s: %w", k.aff, b.period, err)
		}
		r.add("", l)
		carry[k.aff] = out
		if out.Sign() < 0 {
			r.add("", carryLine(l, "", out))
		}
		for _, id := range sortedKeys(fence) {
			r.add("", carryLine(l, id, fence[id]))
		}
	}
	return nil
}

// subShares adds the sub-affiliate lines: for every affiliate and period, each ancestor whose
// plan has a sub level at that depth earns its share of the affiliate's earnings or revenue.
func (r *replay) subShares() error {
	earn := map[apKey]money.Amount{}
	periods := map[apKey]Period{}
	for _, l := range r.ledger {
		if l.Kind == KindCarryover || l.Rule == RuleSub {
			continue
		}
		k, per := r.key(l.Affiliate, l.StatementTime())
		var err error
		if earn[k], err = add(earn[k], l.Amount); err != nil {
			return err
		}
		periods[k] = per
	}
	for k, b := range r.revenue {
		periods[k] = b.period
	}
	keys := make([]apKey, 0, len(periods))
	for k := range periods {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].start != keys[j].start {
			return keys[i].start < keys[j].start
		}
		return keys[i].aff < keys[j].aff
	})
	for _, k := range keys {
		per := periods[k]
		level := 0
		for parent := r.g.Parents[k.aff]; parent != ""; parent = r.g.Parents[parent] {
			level++
			p, err := r.g.PlanAt(parent, per.End.Add(-time.Nanosecond))
			if err != nil || p.Sub == nil || len(p.Sub.Levels) < level {
				continue
			}
			lv := p.Sub.Levels[level-1]
			base := earn[k]
			if lv.Basis == OfRevenue {
				base = r.ngrPos[k]
			}
			if base.IsZero() {
				continue
			}
			if base.Currency() != p.Currency {
				return fmt.Errorf("%w: sub-affiliate %q earns in %s, parent plan %q pays in %s", ErrCurrency, k.aff, base.Currency(), p.ID, p.Currency)
			}
			amt, err := base.MulRate(lv.Rate, p.Rounding)
			if err != nil {
				return overflow("sub-affiliate share", err)
			}
			l := Line{Kind: KindAccrual, Rule: RuleSub, Plan: p.ID, Affiliate: parent, At: per.End, Payable: per.End,
				Period: per, Amount: amt, Base: base, Rate: lv.Rate, Level: int32(level), Mode: p.Rounding,
				Detail: Detail{Sub: k.aff, Basis: lv.Basis}}
			r.add("", l)
		}
	}
	return nil
}

// carryLine returns the carryover line of a balance carried at the end of the period of the
// RevShare line l: the affiliate's (player empty) or a ring-fenced player's.
func carryLine(l Line, player string, balance money.Amount) Line {
	return Line{Kind: KindCarryover, Rule: RuleRevShare, Plan: l.Plan, Affiliate: l.Affiliate, Player: player,
		At: l.At, Payable: l.Payable, Period: l.Period, Amount: money.New(0, balance.Currency()), Base: balance,
		Mode: l.Mode, Detail: Detail{Carryover: l.Detail.Carryover}}
}
