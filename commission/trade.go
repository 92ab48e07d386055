package commission

import (
	"fmt"
	"math"
	"time"

	"github.com/s2skit/s2s/money"
)

// TradeInput is a closed trade for the IB calculator.
type TradeInput struct {
	AffiliateID string
	PlayerID    string
	EventID     string
	At          time.Time
	Trade       Trade
	// PeriodLots is the volume (in standard lots) the affiliate's clients already traded in
	// the period, for the volume tiers.
	PeriodLots money.Rate
	// FX is recorded on the lines, by reference.
	FX *money.ExchangeRate
}

// TradeLines computes the IB commission of a closed trade before it is shared up the IB tree:
// the per-lot rebate and the spread share (either line has a zero Amount and a Reason when it
// does not apply). Each amount is computed exactly and rounded once: lots × (1/100 on a cent
// account) × tier multiplier × rebate per lot, and spread × lots × contract size × share
// (with the average spread in place of an abnormal one). Use TreeLines to share them up the
// tree. An overflow is an error wrapping ErrOverflow.
func (p *Plan) TradeLines(in TradeInput) (lot, spread Line, err error) {
	zero := money.New(0, p.Currency)
	base := Line{
		Kind: KindAccrual, Plan: p.ID, AffiliateID: in.AffiliateID, PlayerID: in.PlayerID, EventID: in.EventID,
		At: in.At, Payable: in.At, Mode: p.Rounding, FX: in.FX, Amount: zero, Base: zero,
	}
	lot, spread = base, base
	lot.Rule, spread.Rule = RuleIBLot, RuleIBSpread
	ib := p.IB
	if ib == nil {
		lot.Reason, spread.Reason = "plan.no_ib", "plan.no_ib"
		return lot, spread, nil
	}
	t := in.Trade
	if ib.MinHold > 0 && t.Close.Sub(t.Open) < ib.MinHold.Std() {
		lot.Reason, spread.Reason = "ib.min_hold", "ib.min_hold"
		return lot, spread, nil
	}
	lots, err := standardLots(t)
	if err != nil {
		return Line{}, Line{}, err
	}
	unit, err := money.New(1, p.Currency).Mul(pow10[p.Currency.Exponent()])
	if err != nil {
		return Line{}, Line{}, overflow("unit", err)
	}
	// The per-lot rebate.
	mult := intRate(1)
	for _, tier := range ib.Tiers {
		if tier.From.Cmp(in.PeriodLots) <= 0 {
			mult = tier.Multiplier
		}
	}
	factor, err := mulRates(lots, mult)
	if err != nil {
		return Line{}, Line{}, err
	}
	lot.Rate, lot.Detail.IBRate, lot.Detail.Lots = mult, mult, lots
	if sr, ok := ib.match(t); !ok {
		lot.Reason = "ib.no_symbol_rate"
	} else if !sr.PerLot.IsZero() {
		lot.Detail.PerLot = sr.PerLot
		if lot.Amount, err = sr.PerLot.MulRate(factor, p.Rounding); err != nil {
			return Line{}, Line{}, overflow("ib lot rebate", err)
		}
	} else {
		perLot, err := mulRates(sr.Points, sr.PointSize)
		if err == nil {
			perLot, err = mulRates(perLot, intRate(sr.ContractSize))
		}
		var total money.Rate
		if err == nil {
			total, err = mulRates(perLot, factor)
		}
		if err != nil {
			return Line{}, Line{}, err
		}
		if lot.Detail.PerLot, err = unit.MulRate(perLot, p.Rounding); err != nil {
			return Line{}, Line{}, overflow("ib lot rebate", err)
		}
		if lot.Amount, err = unit.MulRate(total, p.Rounding); err != nil {
			return Line{}, Line{}, overflow("ib lot rebate", err)
		}
	}
	lot.Base, lot.Detail.Commission = lot.Amount, lot.Amount
	// The spread share.
	sp := ib.Spread
	if sp == nil || t.Spread.Sign() <= 0 {
		spread.Reason = "ib.no_spread_share"
		return lot, spread, nil
	}
	s := t.Spread
	if !sp.DampAbove.IsZero() && t.AvgSpread.Sign() > 0 {
		limit, err := mulRates(t.AvgSpread, sp.DampAbove)
		if err != nil {
			return Line{}, Line{}, err
		}
		if s.Cmp(limit) > 0 {
			s, spread.Detail.Damped = t.AvgSpread, true
		}
	}
	total, err := mulRates(s, lots)
	if err == nil {
		total, err = mulRates(total, intRate(sp.ContractSize))
	}
	var share money.Rate
	if err == nil {
		share, err = mulRates(total, sp.Rate)
	}
	if err != nil {
		return Line{}, Line{}, err
	}
	spread.Rate, spread.Detail.IBRate, spread.Detail.Lots = sp.Rate, sp.Rate, lots
	if spread.Amount, err = unit.MulRate(share, p.Rounding); err != nil {
		return Line{}, Line{}, overflow("ib spread share", err)
	}
	spread.Base, spread.Detail.Commission = spread.Amount, spread.Amount
	return lot, spread, nil
}

// standardLots returns the trade's volume in standard lots: its lots, or a hundredth of them
// on a cent account.
func standardLots(t Trade) (money.Rate, error) {
	if !t.Cent {
		return t.Lots, nil
	}
	return mulRates(t.Lots, money.BasisPoints(100))
}

// match returns the symbol rate for t: by symbol, else by class, else the default entry.
func (ib *IB) match(t Trade) (SymbolRate, bool) {
	def := -1
	cls := -1
	for i, s := range ib.Symbols {
		switch {
		case s.Symbol != "" && s.Symbol == t.Symbol:
			return s, true
		case s.Symbol == "" && s.Class != "" && s.Class == t.Class && cls < 0:
			cls = i
		case s.Symbol == "" && s.Class == "":
			def = i
		}
	}
	if cls >= 0 {
		return ib.Symbols[cls], true
	}
	if def >= 0 {
		return ib.Symbols[def], true
	}
	return SymbolRate{}, false
}

// TreeLines shares an IB line up the tree by the plan's IB.Levels: chain[0] is the client's
// own IB, chain[1] its parent, and so on. The parts are allocated with money's largest
// remainder method, so that the parts (with the broker's remainder) sum exactly to l.Amount;
// a level without an affiliate in chain stays with the broker. Without levels, or when
// l.Amount is zero, l is returned as it is.
func (p *Plan) TreeLines(l Line, chain []string) ([]Line, error) {
	if p.IB == nil || len(p.IB.Levels) == 0 || l.Amount.IsZero() {
		return []Line{l}, nil
	}
	weights := make([]int64, len(p.IB.Levels)+1)
	rest := pow10[maxScale]
	for i, r := range p.IB.Levels {
		weights[i] = r.Coefficient() * pow10[maxScale-r.Scale()]
		rest -= weights[i]
	}
	weights[len(weights)-1] = rest
	parts, err := l.Amount.Allocate(weights...)
	if err != nil {
		return nil, within(wrapMoney(err), "plan %q: ib.levels", p.ID)
	}
	var out []Line
	for i, r := range p.IB.Levels {
		if i >= len(chain) || chain[i] == "" {
			break
		}
		s := l
		s.AffiliateID, s.Amount, s.Base, s.Rate, s.Level = chain[i], parts[i], l.Amount, r, int32(i+1)
		out = append(out, s)
	}
	return out, nil
}

// FundedLine returns the payment of the prop-firm account of player, brought by affiliate,
// funded at at by the event eventID: the plan's Prop.Funded, payable at once. A player is
// paid once (Replay pays the first funded event of a player; a pipeline keeps its own
// count). A plan that pays nothing on funding gives a line with a zero Amount and a Reason.
func (p *Plan) FundedLine(affiliate, player, eventID string, at time.Time) Line {
	l := Line{Kind: KindAccrual, Rule: RulePropFunded, Plan: p.ID, AffiliateID: affiliate, PlayerID: player,
		EventID: eventID, At: at, Payable: at, Mode: p.Rounding, Amount: money.New(0, p.Currency), Base: money.New(0, p.Currency)}
	switch {
	case p.Prop == nil:
		l.Reason = "plan.no_prop"
	case p.Prop.Funded.IsZero():
		l.Reason = "prop.no_funded"
	default:
		l.Amount, l.Base = p.Prop.Funded, p.Prop.Funded
	}
	return l
}

// PurchaseInput is a prop-firm challenge purchase.
type PurchaseInput struct {
	AffiliateID string
	PlayerID    string
	EventID     string
	At          time.Time
	// Price is what the trader paid; AccountSize the size of the account bought.
	Price       money.Amount
	AccountSize money.Amount
	// First says this is the player's first purchase.
	First bool
	// FX is recorded on the line, by reference.
	FX *money.ExchangeRate
}

// PurchaseLine computes the prop-firm CPA of a challenge purchase: fixed, a rate of the price,
// a rate of the account size, or a fixed amount by account size. A repeat purchase earns
// nothing unless the plan pays every purchase (Reason "prop.repeat_purchase").
func (p *Plan) PurchaseLine(in PurchaseInput) (Line, error) {
	l := Line{
		Kind: KindAccrual, Rule: RulePropPurchase, Plan: p.ID, AffiliateID: in.AffiliateID, PlayerID: in.PlayerID,
		EventID: in.EventID, At: in.At, Payable: in.At, Mode: p.Rounding, FX: in.FX, Amount: money.New(0, p.Currency),
		Base: money.New(0, p.Currency),
	}
	pp := p.Prop
	switch {
	case pp == nil:
		l.Reason = "plan.no_prop"
		return l, nil
	case !in.First && !pp.Every:
		l.Reason = "prop.repeat_purchase"
		return l, nil
	}
	for _, a := range [...]*money.Amount{&in.Price, &in.AccountSize} {
		switch {
		case unset(*a):
			*a = l.Base // zero in the plan's currency
		case a.Currency() != p.Currency:
			return Line{}, fmt.Errorf("%w: plan %q pays in %s, purchase %s is in %s", ErrCurrency, p.ID, p.Currency, in.EventID, a.Currency())
		}
	}
	var err error
	switch {
	case len(pp.Sizes) > 0:
		l.Base = in.AccountSize
		for i, s := range pp.Sizes {
			if s.From.Minor() <= in.AccountSize.Minor() {
				l.Amount, l.Tier = s.Amount, int32(i+1)
			}
		}
		if l.Tier == 0 {
			l.Reason = "prop.size_below_tiers"
		}
		return l, nil
	case !pp.SizeRate.IsZero():
		l.Base, l.Rate = in.AccountSize, pp.SizeRate
	case !pp.Rate.IsZero():
		l.Base, l.Rate = in.Price, pp.Rate
	case pp.Amount.IsZero():
		l.Reason = "prop.funded_only"
		return l, nil
	default:
		l.Base, l.Amount = pp.Amount, pp.Amount
		return l, nil
	}
	if l.Amount, err = l.Base.MulRate(l.Rate, p.Rounding); err != nil {
		return Line{}, overflow("prop purchase", err)
	}
	return l, nil
}

// intRate returns n as a rate.
func intRate(n int64) money.Rate {
	r, _ := money.NewRate(n, 0) // scale 0 is always valid
	return r
}

// addRates returns a + b exactly.
func addRates(a, b money.Rate) (money.Rate, error) {
	s := max(a.Scale(), b.Scale())
	ac, ok1 := scaleUp(a.Coefficient(), s-a.Scale())
	bc, ok2 := scaleUp(b.Coefficient(), s-b.Scale())
	sum := ac + bc
	if !ok1 || !ok2 || (ac > 0 && bc > 0 && sum < 0) || (ac < 0 && bc < 0 && sum >= 0) {
		return money.Rate{}, fmt.Errorf("%w: %s + %s", ErrOverflow, a, b)
	}
	r, err := money.NewRate(sum, s)
	if err != nil {
		return money.Rate{}, fmt.Errorf("%w: %s + %s: %w", ErrOverflow, a, b, err)
	}
	return r, nil
}

// subRates returns a − b exactly.
func subRates(a, b money.Rate) (money.Rate, error) {
	if b.Coefficient() == math.MinInt64 {
		return money.Rate{}, fmt.Errorf("%w: %s − %s", ErrOverflow, a, b)
	}
	neg, err := money.NewRate(-b.Coefficient(), b.Scale())
	if err != nil {
		return money.Rate{}, fmt.Errorf("%w: %s − %s: %w", ErrOverflow, a, b, err)
	}
	return addRates(a, neg)
}

func scaleUp(c int64, d int) (int64, bool) {
	if d == 0 {
		return c, true
	}
	p := mul64(c, pow10[d])
	if p.hi != 0 && p.hi != ^uint64(0) || (p.hi == 0) != (int64(p.lo) >= 0) {
		return 0, false
	}
	return int64(p.lo), true
}
