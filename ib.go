package s2s

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/google/uuid"

	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/postback"
	"github.com/s2skit/s2s/store"
)

// lotScale is the precision of the counters of traded volume: 10^-8 standard lots.
const lotScale = 8

// lotUnits returns lots in units of 10^-lotScale lots; ok is false for a volume finer than
// that, or too large for a counter.
func lotUnits(lots money.Rate) (int64, bool) {
	u, s := lots.Coefficient(), lots.Scale()
	if s > lotScale || u <= 0 {
		return 0, false
	}
	for ; s < lotScale; s++ {
		if u > math.MaxInt64/10 {
			return 0, false
		}
		u *= 10
	}
	return u, true
}

// volume names the counters of the lots an affiliate's clients traded in a period (in
// lotUnits), and of those reversed since: the period's volume is their difference.
func volume(affiliate string, per commission.Period) (traded, back string) {
	bucket := "aff=" + escape(affiliate) + ":period=" + per.Start.UTC().Format(time.RFC3339)
	return "s2s:ib_lots:" + bucket, "s2s:ib_lots_back:" + bucket
}

// tradeLots names the counter that keeps the lots of trade conversion id, for its reversal.
func tradeLots(id uuid.UUID) string { return "s2s:trade_lots:conv=" + id.String() }

// trade computes the IB lines of a closed trade c, of pb.Lots lots of pb.Symbol: the
// per-lot rebate of the plan in force at c (commission.Plan.TradeLines), multiplied by the
// lot tier of the volume the affiliate's clients traded before it in the period, shared up
// the IB tree of Program.Parents by the plan's levels (TreeLines), one line per IB paid, as
// commission.Replay computes them. The trade's lots are added to the period's volume (a
// counter incremented, when the plan has tiers, with a limit of the volume read plus its
// own, so that of concurrent trades each is priced by the volume before it) and kept for
// its reversal, which takes them out again. The terms that need more of the trade than a
// postback carries are refused by Config.Validate (see supported).
func (t *Tracker) trade(ctx context.Context, cc *compiled, c *store.Conversion, pb *postback.Postback, now time.Time) (pay, error) {
	plan, err := planAt(cc, c)
	if err != nil || plan == nil {
		return pay{}, err
	}
	units, ok := lotUnits(pb.Lots)
	if !ok {
		t.log.LogAttrs(ctx, slog.LevelWarn, "s2s: no IB commission: the trade carries no lots, or lots finer than 10^-8",
			slog.String("transaction", c.TransactionID), slog.String("affiliate", c.AffiliateID))
		return pay{}, nil
	}
	at := c.EventTime()
	traded, back := volume(c.AffiliateID, commission.PeriodOf(at, cc.program.Period, cc.periodLoc))
	inc := store.Increment{Counter: traded, Delta: units}
	in := commission.TradeInput{AffiliateID: c.AffiliateID, PlayerID: c.PlayerID, EventID: eventID(c), At: at, Trade: tradeOf(pb)}
	if plan.IB != nil && len(plan.IB.Tiers) > 0 {
		n, err := t.counter(ctx, traded)
		if err != nil {
			return pay{}, err
		}
		r, err := t.counter(ctx, back)
		if err != nil {
			return pay{}, err
		}
		inc.Limit = n + units
		if in.PeriodLots, err = money.NewRate(n-r, lotScale); err != nil {
			return pay{}, fmt.Errorf("s2s: commission: period volume: %w", err)
		}
	}
	incs := []store.Increment{inc, {Counter: tradeLots(c.ID), Delta: units}}
	if plan.IB == nil {
		return pay{increments: incs}, nil
	}
	lot, spread, err := plan.TradeLines(in)
	if err != nil {
		return pay{}, fmt.Errorf("s2s: commission: %w", err)
	}
	chain := []string{c.AffiliateID}
	for a := cc.program.Parents[c.AffiliateID]; a != "" && len(chain) <= len(cc.program.Parents); a = cc.program.Parents[a] {
		chain = append(chain, a)
	}
	var out []commission.Line
	for _, l := range [...]commission.Line{lot, spread} {
		if l.Reason != "" {
			continue
		}
		parts, err := plan.TreeLines(l, chain)
		if err != nil {
			return pay{}, fmt.Errorf("s2s: commission: %w", err)
		}
		out = append(out, parts...)
	}
	p, err := t.lines(c, out, now)
	p.increments = incs
	return p, err
}

// unwindTrade returns the increment that takes the reversed trade o out of its period's
// volume, as Replay's reversal does: the lots it added, kept in its own counter.
func (t *Tracker) unwindTrade(ctx context.Context, cc *compiled, o *store.Conversion) ([]store.Increment, error) {
	n, err := t.counter(ctx, tradeLots(o.ID))
	if err != nil || n == 0 {
		return nil, err
	}
	_, back := volume(o.AffiliateID, commission.PeriodOf(o.EventTime(), cc.program.Period, cc.periodLoc))
	return []store.Increment{{Counter: back, Delta: n}}, nil
}

// tradeOf is the trade a postback reports, as commission reads it.
func tradeOf(pb *postback.Postback) commission.Trade {
	return commission.Trade{Symbol: pb.Symbol, Lots: pb.Lots}
}

// purchase computes the prop CPA of a challenge purchase c, at price c.Amount for an account
// of pb.AccountSize (commission.Plan.PurchaseLine), as Replay computes it. Whether it is
// the player's first purchase is a counter of the player's purchases, incremented by each
// with a limit of the count read plus one, so that of concurrent purchases one is first.
func (t *Tracker) purchase(ctx context.Context, cc *compiled, c *store.Conversion, pb *postback.Postback, now time.Time) (pay, error) {
	plan, err := planAt(cc, c)
	if err != nil || plan == nil {
		return pay{}, err
	}
	count := "s2s:purchases:" + playerKey(c)
	n, err := t.counter(ctx, count)
	if err != nil {
		return pay{}, err
	}
	inc := store.Increment{Counter: count, Delta: 1, Limit: n + 1}
	if plan.Prop == nil {
		return pay{increments: []store.Increment{inc}}, nil
	}
	price, fx, ok, err := cc.inPlan(plan, c.Amount)
	if err != nil {
		return pay{}, err
	}
	size, fx2, ok2, err := cc.inPlan(plan, pb.AccountSize)
	if err != nil {
		return pay{}, err
	}
	if !ok || !ok2 {
		// Never paid at a guessed rate: Config.Rates has none from this currency.
		t.log.LogAttrs(ctx, slog.LevelWarn, "s2s: no prop CPA computed: the purchase is not in the plan's currency, and no rate converts it",
			slog.String("plan", plan.ID), slog.String("amount", c.Amount.String()), slog.String("affiliate", c.AffiliateID))
		return pay{increments: []store.Increment{inc}}, nil
	}
	if fx == nil {
		fx = fx2 // both amounts are in one currency: one rate
	}
	l, err := plan.PurchaseLine(commission.PurchaseInput{AffiliateID: c.AffiliateID, PlayerID: c.PlayerID, EventID: eventID(c),
		At: c.EventTime(), Price: price, AccountSize: size, First: n == 0, FX: fx})
	if err != nil {
		return pay{}, fmt.Errorf("s2s: commission: %w", err)
	}
	var p pay
	if l.Reason == "" {
		if p, err = t.lines(c, []commission.Line{l}, now); err != nil {
			return pay{}, err
		}
	}
	p.increments = append(p.increments, inc)
	return p, nil
}

// funded computes the payment of a funded prop-firm account c: the plan's Prop.Funded, once
// per player (a counter with a limit of 1), as Replay computes it.
func (t *Tracker) funded(ctx context.Context, cc *compiled, c *store.Conversion, now time.Time) (pay, error) {
	plan, err := planAt(cc, c)
	if err != nil || plan == nil || plan.Prop == nil || plan.Prop.Funded.IsZero() {
		return pay{}, err
	}
	once := "s2s:funded:" + playerKey(c)
	n, err := t.counter(ctx, once)
	if err != nil || n > 0 {
		return pay{}, err
	}
	l := plan.FundedLine(c.AffiliateID, c.PlayerID, eventID(c), c.EventTime())
	p, err := t.lines(c, []commission.Line{l}, now)
	if err != nil {
		return pay{}, err
	}
	p.increments = []store.Increment{{Counter: once, Delta: 1, Limit: 1}}
	return p, nil
}
