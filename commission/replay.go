package commission

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
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

// ReplayResult is what a replay computed. Nothing is stored anywhere.
type ReplayResult struct {
	// Ledger is every ledger line, in the order computed: the events' lines in order of
	// their time, then the periods' RevShare and carryover lines, then sub-affiliate lines.
	Ledger []Line
	// Statements are the ledger's statements per affiliate and period (see Statements).
	Statements []Statement
	// UnpaidCPA says why players earned no CPA: for each player checked for a CPA under a
	// plan that has one who never earned it, the line of the last check. Its Reason names
	// the first requirement the player did not meet then ("baseline.min_ftd",
	// "baseline.verified", "cap.count"...), its EventID and At the event checked. These lines
	// are in no ledger. By affiliate, then player.
	UnpaidCPA []Line
}

// Compare replays the same events against two programs (say, the current deal and a proposed
// one) and returns both results side by side.
func Compare(a, b *Program, events []Event, opts *ReplayOptions) (ra, rb *ReplayResult, err error) {
	if ra, err = Replay(a, events, opts); err != nil {
		return nil, nil, within(err, "program a")
	}
	if rb, err = Replay(b, events, opts); err != nil {
		return nil, nil, within(err, "program b")
	}
	return ra, rb, nil
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
// towards the baseline, and a reversed first deposit is no longer the FTD, the next deposit
// is; a paid CPA is reversed rather than requalified; an
// adjustment, a reversal, a refund or a reset is not reversed, so every reversal line is
// negative or zero); refunds and resets claw back a purchase's lines when the plan says so. Then each
// affiliate's periods are settled in order with carryover, and sub-affiliate shares are
// added. Player IDs are global: one ID is one player whatever the affiliate.
//
// The ledger holds every line the calculators return without a Reason (see Line); the
// result's UnpaidCPA says why players earned no CPA. The first error stops the replay.
func Replay(g *Program, events []Event, opts *ReplayOptions) (*ReplayResult, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	loc, err := g.location(opts)
	if err != nil {
		return nil, err
	}
	r := &replay{g: g, loc: loc, unit: g.Period,
		events: map[string]seen{}, players: map[string]*player{}, periods: map[apKey]*periodState{}}
	order := make([]int, len(events))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return events[order[a]].At.Before(events[order[b]].At) })
	for _, i := range order {
		e := &events[i]
		if err := r.event(e); err != nil {
			return nil, within(err, "event %q (%s)", e.ID, e.Type)
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
	return &ReplayResult{Ledger: r.ledger, Statements: st, UnpaidCPA: r.unpaidCPA()}, nil
}

// replay is the state of one Replay: the ledger, what it knows of each event, player and
// affiliate period.
type replay struct {
	g       *Program
	loc     *time.Location
	unit    PeriodUnit
	ledger  []Line
	events  map[string]seen
	players map[string]*player
	periods map[apKey]*periodState
}

// seen is what the replay keeps of an event it processed.
type seen struct {
	e        *Event
	first, n int // its lines: ledger[first : first+n], added while it was processed
	reversed bool
}

// player is what the replay knows of a player.
type player struct {
	country    string
	registered time.Time
	verified   bool
	deps       []dep // deposits in order, not reversed: deps[0] is the FTD
	wagered    money.Amount
	rounds     int64
	paidCPA    bool
	unpaid     unpaid // the last CPA check, while it fails
	purchases  int
	funded     bool
}

// unpaid is a failed CPA check: its event, plan and reason. The line CPALine returned is
// built again from it, when the replay is done, for the players who never earned a CPA.
type unpaid struct {
	e      *Event
	p      *Plan
	reason string
}

type dep struct {
	at     time.Time
	amount money.Amount
	event  string
}

// apKey names an affiliate's period.
type apKey struct {
	aff   string
	start int64 // period start, Unix nanoseconds
}

// periodState is what the replay knows of one affiliate's period.
type periodState struct {
	period   Period
	cpaCount int64               // CPAs paid in the period
	cpaTotal money.Amount        // their sum
	lots     money.Rate          // standard lots traded in the period
	revenue  map[string]*Revenue // reported on time, by player
	late     map[string]*Revenue // reported late, counted in this period, by player
	positive money.Amount        // the positive NGR of its players, for OfRevenue sub shares
	earned   money.Amount        // the affiliate's earnings in the period, for OfEarnings shares
}

// period returns the state of the affiliate's period that contains t.
func (r *replay) period(aff string, t time.Time) *periodState {
	p := PeriodOf(t, r.unit, r.loc)
	k := apKey{aff, p.Start.UnixNano()}
	ps := r.periods[k]
	if ps == nil {
		ps = &periodState{period: p}
		r.periods[k] = ps
	}
	return ps
}

// byAffiliate orders periods by affiliate, then start; byStart by start, then affiliate.
func byAffiliate(a, b apKey) int {
	return cmp.Or(strings.Compare(a.aff, b.aff), cmp.Compare(a.start, b.start))
}
func byStart(a, b apKey) int {
	return cmp.Or(cmp.Compare(a.start, b.start), strings.Compare(a.aff, b.aff))
}

func (r *replay) add(l Line) { r.ledger = append(r.ledger, l) }

// convert returns a in the plan's currency, converted with e.FX when needed.
func convert(p *Plan, e *Event, a money.Amount) (money.Amount, error) {
	if a.Currency() == p.Currency || unset(a) {
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

// kindOf returns how commission reads an event type: an FTD is a deposit, since commission
// counts which deposit is the first itself.
func kindOf(t event.Type) event.Type {
	if t == event.FTD {
		return event.Deposit
	}
	return t
}

// event processes one event and records it, with its lines, for later reversals.
func (r *replay) event(e *Event) error {
	if e.ID == "" || e.AffiliateID == "" || e.Type == "" {
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
	first := len(r.ledger)
	if err := r.apply(e); err != nil {
		return err
	}
	r.events[e.ID] = seen{e: e, first: first, n: len(r.ledger) - first}
	return nil
}

// apply processes one event. Every kind is handled by one call, which returns.
func (r *replay) apply(e *Event) error {
	ps := r.players[e.PlayerID]
	if ps == nil {
		ps = &player{registered: e.At}
		r.players[e.PlayerID] = ps
	}
	kind := kindOf(e.Type)
	switch kind { // facts about the player, whatever the plan
	case event.Registration:
		ps.country, ps.registered, ps.verified = e.Country, e.At, e.Verified
	case event.Verification:
		ps.verified = true
	}
	p, err := r.g.PlanAt(e.AffiliateID, e.At)
	if err != nil {
		if kind == event.Registration || kind == event.Verification {
			return nil // a player may register before the affiliate's first plan
		}
		return err
	}
	switch kind {
	case event.Registration, event.Verification:
		return r.checkCPA(p, e, ps)
	case event.Deposit:
		return r.deposit(p, e, ps)
	case event.Wager:
		return r.wager(p, e, ps)
	case event.Revenue:
		return r.revenueReport(p, e)
	case event.Trade:
		return r.trade(p, e)
	case event.Purchase:
		return r.purchase(p, e, ps)
	case event.Funded:
		return r.funded(p, e, ps)
	case event.Adjustment:
		return r.adjustment(p, e)
	case event.Refund, event.Reset:
		return r.clawback(p, e, kind)
	case event.Reversal:
		return r.reversal(e)
	}
	return nil // a custom event, or one that earns nothing under any plan
}

func (r *replay) deposit(p *Plan, e *Event, ps *player) error {
	amount, err := convert(p, e, e.Amount)
	if err != nil {
		return err
	}
	if amount.Sign() <= 0 {
		return fmt.Errorf("%w: deposit amount not positive", ErrInvalidEvent)
	}
	ps.deps = append(ps.deps, dep{e.At, amount, e.ID})
	return r.checkCPA(p, e, ps)
}

func (r *replay) wager(p *Plan, e *Event, ps *player) error {
	amount, err := convert(p, e, e.Amount)
	if err != nil {
		return err
	}
	if amount.Sign() < 0 || e.Rounds < 0 {
		return fmt.Errorf("%w: wager amount or rounds negative", ErrInvalidEvent)
	}
	if ps.wagered, err = add(ps.wagered, amount); err != nil {
		return err
	}
	ps.rounds += e.Rounds
	return r.checkCPA(p, e, ps)
}

// checkCPA checks whether the player qualifies for the plan's CPA now, and pays it if so.
func (r *replay) checkCPA(p *Plan, e *Event, ps *player) error {
	if p.CPA == nil || ps.paidCPA {
		return nil
	}
	var ftd dep // the first deposit not reversed
	if len(ps.deps) > 0 {
		ftd = ps.deps[0]
	}
	deposits := money.New(0, p.Currency)
	for _, d := range ps.deps {
		if p.CPA.Baseline.DepositWindow > 0 && d.at.Sub(ftd.at) > p.CPA.Baseline.DepositWindow.Std() {
			continue
		}
		var err error
		if deposits, err = add(deposits, d.amount); err != nil {
			return err
		}
	}
	per := r.period(e.AffiliateID, e.At)
	l, err := p.CPALine(CPAInput{
		AffiliateID: e.AffiliateID, PlayerID: e.PlayerID, EventID: e.ID, At: e.At, Country: ps.country,
		Registered: ps.registered, FTD: ftd.amount, Deposits: deposits, Wagered: ps.wagered, Rounds: ps.rounds,
		Verified: ps.verified, PeriodCount: per.cpaCount, PeriodTotal: per.cpaTotal, FX: e.FX,
	})
	switch {
	case err != nil:
		return err
	case l.Reason != "":
		ps.unpaid = unpaid{e, p, l.Reason}
		return nil
	}
	ps.paidCPA = true
	per.cpaCount++
	if per.cpaTotal, err = add(per.cpaTotal, l.Amount); err != nil {
		return err
	}
	r.add(l)
	return nil
}

// unpaidCPA returns the line of the last failed CPA check of every player who never earned
// a CPA.
func (r *replay) unpaidCPA() []Line {
	n := 0
	for _, ps := range r.players {
		if !ps.paidCPA && ps.unpaid.e != nil {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	out := make([]Line, 0, n)
	for _, ps := range r.players {
		if u := ps.unpaid; !ps.paidCPA && u.e != nil {
			var l Line
			u.p.unpaidCPA(&l, u.e.AffiliateID, u.e.PlayerID, u.e.ID, u.e.At, u.e.FX)
			l.Reason = u.reason
			out = append(out, l)
		}
	}
	sort.Slice(out, func(i, j int) bool { // player IDs are unique: the order is total
		if out[i].AffiliateID != out[j].AffiliateID {
			return out[i].AffiliateID < out[j].AffiliateID
		}
		return out[i].PlayerID < out[j].PlayerID
	})
	return out
}

func (r *replay) revenueReport(p *Plan, e *Event) error {
	rev, err := convertRevenue(p, e)
	if err != nil {
		return err
	}
	return r.addRevenue(e.AffiliateID, e.At, e.Received, e.PlayerID, &rev, add)
}

// convertRevenue returns the revenue report of e in the plan's currency.
func convertRevenue(p *Plan, e *Event) (Revenue, error) {
	var rev Revenue
	err := rev.combine(&e.Revenue, func(_, a money.Amount) (money.Amount, error) { return convert(p, e, a) })
	return rev, err
}

// addRevenue combines rev into the player's revenue of the affiliate's period that a report
// of t received at received counts in (Program.RevenuePeriod), on time or late, with op
// (add, or subtract for a reversed report).
func (r *replay) addRevenue(aff string, t, received time.Time, playerID string, rev *Revenue, op func(a, b money.Amount) (money.Amount, error)) error {
	pp, late := r.g.RevenuePeriod(t, received, r.loc)
	per := r.period(aff, pp.Start)
	m := &per.revenue
	if late {
		m = &per.late
	}
	if *m == nil {
		*m = map[string]*Revenue{}
	}
	acc := (*m)[playerID]
	if acc == nil {
		acc = &Revenue{}
		(*m)[playerID] = acc
	}
	return acc.combine(rev, op)
}

func (r *replay) trade(p *Plan, e *Event) error {
	if e.Trade.Lots.Sign() <= 0 {
		return fmt.Errorf("%w: trade lots not positive", ErrInvalidEvent)
	}
	per := r.period(e.AffiliateID, e.At)
	lot, spread, err := p.TradeLines(TradeInput{AffiliateID: e.AffiliateID, PlayerID: e.PlayerID, EventID: e.ID, At: e.At, Trade: e.Trade, PeriodLots: per.lots, FX: e.FX})
	if err != nil {
		return err
	}
	lots, err := standardLots(e.Trade)
	if err != nil {
		return err
	}
	if per.lots, err = addRates(per.lots, lots); err != nil {
		return err
	}
	chain := []string{e.AffiliateID}
	for a := r.g.Parents[e.AffiliateID]; a != ""; a = r.g.Parents[a] {
		chain = append(chain, a)
	}
	for _, l := range [...]Line{lot, spread} {
		if l.Reason != "" {
			continue
		}
		parts, err := p.TreeLines(l, chain)
		if err != nil {
			return err
		}
		for _, s := range parts {
			r.add(s)
		}
	}
	return nil
}

func (r *replay) purchase(p *Plan, e *Event, ps *player) error {
	first := ps.purchases == 0
	ps.purchases++
	price, err := convert(p, e, e.Amount)
	if err != nil {
		return err
	}
	size, err := convert(p, e, e.AccountSize)
	if err != nil {
		return err
	}
	if price.Sign() < 0 || size.Sign() < 0 {
		return fmt.Errorf("%w: purchase price or account size negative", ErrInvalidEvent)
	}
	l, err := p.PurchaseLine(PurchaseInput{AffiliateID: e.AffiliateID, PlayerID: e.PlayerID, EventID: e.ID, At: e.At, Price: price, AccountSize: size, First: first, FX: e.FX})
	if err != nil {
		return err
	}
	if l.Reason == "" {
		r.add(l)
	}
	return nil
}

func (r *replay) funded(p *Plan, e *Event, ps *player) error {
	if p.Prop == nil || p.Prop.Funded.IsZero() || ps.funded {
		return nil
	}
	ps.funded = true
	r.add(p.FundedLine(e.AffiliateID, e.PlayerID, e.ID, e.At))
	return nil
}

func (r *replay) adjustment(p *Plan, e *Event) error {
	amount, err := convert(p, e, e.Amount)
	if err != nil {
		return err
	}
	r.add(Line{Kind: KindAdjustment, Rule: RuleAdjustment, Plan: p.ID, AffiliateID: e.AffiliateID, PlayerID: e.PlayerID,
		EventID: e.ID, At: e.At, Payable: e.At, Amount: amount, Base: amount, Mode: p.Rounding, FX: e.FX})
	return nil
}

// clawback claws back the lines of a refunded or reset purchase, when the plan says so.
func (r *replay) clawback(p *Plan, e *Event, kind event.Type) error {
	orig, ok := r.events[e.Reverses]
	if !ok || orig.e.Type != event.Purchase {
		return fmt.Errorf("%w: %s of %q, which is not an earlier purchase", ErrInvalidEvent, e.Type, e.Reverses)
	}
	if p.Prop == nil || (kind == event.Refund && !p.Prop.ClawbackRefund) || (kind == event.Reset && !p.Prop.ClawbackReset) {
		return nil
	}
	return r.reverse(e, orig, KindClawback)
}

func (r *replay) reversal(e *Event) error {
	orig, ok := r.events[e.Reverses]
	if !ok {
		return fmt.Errorf("%w: reversal of %q, which is not an earlier event", ErrInvalidEvent, e.Reverses)
	}
	if orig.reversed {
		return fmt.Errorf("%w: %q is already reversed", ErrInvalidEvent, orig.e.ID)
	}
	switch orig.e.Type {
	case event.Adjustment, event.Reversal, event.Refund, event.Reset:
		return fmt.Errorf("%w: %q is a %s, which is not reversed: correct it with an adjustment", ErrInvalidEvent, orig.e.ID, orig.e.Type)
	}
	if err := r.unwind(orig.e, e); err != nil {
		return err
	}
	return r.reverse(e, orig, KindReversal)
}

// unwind takes a reversed deposit, wager, trade or revenue report out of the player's and
// the period's running totals, so that later qualification and volume tiers no longer count
// it and a reversed report counts negatively in the reversal's period. It recomputes what
// the event added (the same plan, the same exchange rate: the same amounts).
func (r *replay) unwind(e *Event, reversal *Event) error {
	ps := r.players[e.PlayerID]
	switch kindOf(e.Type) {
	case event.Deposit:
		for i, d := range ps.deps {
			if d.event == e.ID {
				ps.deps = append(ps.deps[:i:i], ps.deps[i+1:]...)
				break
			}
		}
	case event.Wager:
		p, err := r.g.PlanAt(e.AffiliateID, e.At)
		if err != nil {
			return err
		}
		amount, err := convert(p, e, e.Amount)
		if err != nil {
			return err
		}
		if ps.wagered, err = subtract(ps.wagered, amount); err != nil {
			return err
		}
		ps.rounds -= e.Rounds
	case event.Trade:
		lots, err := standardLots(e.Trade)
		if err != nil {
			return err
		}
		per := r.period(e.AffiliateID, e.At)
		if per.lots, err = subRates(per.lots, lots); err != nil {
			return err
		}
	case event.Revenue:
		p, err := r.g.PlanAt(e.AffiliateID, e.At)
		if err != nil {
			return err
		}
		rev, err := convertRevenue(p, e)
		if err != nil {
			return err
		}
		return r.addRevenue(reversal.AffiliateID, reversal.At, reversal.Received, e.PlayerID, &rev, subtract)
	}
	return nil
}

// reverse appends, as lines of e, the negation of every line of the event orig, kind k.
func (r *replay) reverse(e *Event, orig seen, k Kind) error {
	if orig.reversed {
		return fmt.Errorf("%w: %q is already reversed", ErrInvalidEvent, orig.e.ID)
	}
	orig.reversed = true
	r.events[orig.e.ID] = orig
	for i := orig.first; i < orig.first+orig.n; i++ {
		n, err := r.ledger[i].negate(k, e.ID, e.At)
		if err != nil {
			return err
		}
		r.add(n)
	}
	return nil
}

// add returns a + b; an unset a counts as zero.
func add(a, b money.Amount) (money.Amount, error) {
	if unset(a) {
		return b, nil
	}
	s, err := a.Add(b)
	if err != nil {
		return money.Amount{}, wrapMoney(err)
	}
	return s, nil
}

// subtract returns a − b; an unset a counts as zero.
func subtract(a, b money.Amount) (money.Amount, error) {
	n, err := b.Neg()
	if err != nil {
		return money.Amount{}, overflow("subtract", err)
	}
	return add(a, n)
}

// ringFence returns what a player's period NGR adds to the affiliate's base under RingFence,
// and updates the player's fenced balance. A fenced player's NGR goes to his balance until
// it is absorbed, and only what is left over counts; a player who is not fenced becomes
// fenced when his NGR is at or below minus threshold.
func (b *Balances) ringFence(player string, ngr, threshold money.Amount) (money.Amount, error) {
	zero := money.New(0, ngr.Currency())
	if bal, fenced := b.Fenced[player]; fenced {
		left, err := add(bal, ngr)
		if err != nil {
			return money.Amount{}, err
		}
		if left.Sign() < 0 {
			b.Fenced[player] = left
			return zero, nil
		}
		delete(b.Fenced, player)
		return left, nil
	}
	if ngr.Sign() < 0 && ngr.Minor() <= -threshold.Minor() {
		b.Fenced[player] = ngr
		return zero, nil
	}
	return ngr, nil
}

// settle computes the RevShare of every affiliate's periods with revenue, in order, with
// carryover (Program.Settle).
func (r *replay) settle() error {
	affiliates := map[string]*Balances{}
	for _, k := range slices.SortedFunc(maps.Keys(r.periods), byAffiliate) {
		per := r.periods[k]
		if per.revenue == nil && per.late == nil {
			continue
		}
		b := affiliates[k.aff]
		if b == nil {
			b = &Balances{}
			affiliates[k.aff] = b
		}
		lines, positive, err := r.g.Settle(&Settlement{AffiliateID: k.aff, Period: per.period, Revenue: per.revenue, Late: per.late}, b)
		if err != nil {
			return within(err, "affiliate %q, period %s", k.aff, per.period)
		}
		per.positive = positive
		r.ledger = append(r.ledger, lines...)
	}
	return nil
}

// carryLine returns the carryover line of a balance carried at the end of the period of the
// RevShare line l: the affiliate's (player empty) or a ring-fenced player's.
func carryLine(l Line, player string, balance money.Amount) Line {
	return Line{Kind: KindCarryover, Rule: RuleRevShare, Plan: l.Plan, AffiliateID: l.AffiliateID, PlayerID: player,
		At: l.At, Payable: l.Payable, Period: l.Period, Amount: money.New(0, balance.Currency()), Base: balance,
		Mode: l.Mode, Detail: Detail{RevShare: l.Detail.RevShare}}
}

// subShares adds the sub-affiliate lines: for every affiliate and period, each ancestor whose
// plan has a sub level at that depth earns its share of the affiliate's earnings or revenue
// (Program.SubLines).
func (r *replay) subShares() error {
	for _, l := range r.ledger {
		if !earns(l) {
			continue
		}
		per := r.period(l.AffiliateID, l.StatementTime())
		var err error
		if per.earned, err = add(per.earned, l.Amount); err != nil {
			return err
		}
	}
	for _, k := range slices.SortedFunc(maps.Keys(r.periods), byStart) {
		per := r.periods[k]
		lines, err := r.g.SubLines(k.aff, per.period, per.earned, per.positive)
		if err != nil {
			return err
		}
		r.ledger = append(r.ledger, lines...)
	}
	return nil
}
