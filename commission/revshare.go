package commission

import (
	"fmt"

	"github.com/s2skit/s2s/money"
)

// NGR returns the net gaming revenue of rev by the plan's RevShare formula: the sum of each
// term's field times its rate, computed exactly and rounded once with the plan's rounding
// mode. An empty formula is GGR. Amounts of rev in another currency than the plan's are an
// error wrapping ErrCurrency; a result beyond int64 minor units wraps ErrOverflow. NGR does
// not allocate unless it fails.
func (p *Plan) NGR(rev *Revenue) (money.Amount, error) {
	for _, a := range rev.fields() {
		if a.Currency() != p.Currency && !(a.Currency() == 0 && a.IsZero()) {
			return money.Amount{}, fmt.Errorf("%w: plan %q pays in %s, revenue is in %s", ErrCurrency, p.ID, p.Currency, a.Currency())
		}
	}
	var f Formula
	if p.RevShare != nil {
		f = p.RevShare.NGR
	}
	if len(f) == 0 {
		return money.New(rev.GGR.Minor(), p.Currency), nil
	}
	var acc accumulator
	for _, t := range f {
		acc.scale = max(acc.scale, t.Rate.Scale())
	}
	for _, t := range f {
		acc.add(rev.field(t.Field).Minor(), t.Rate)
	}
	n, ok := acc.round(p.Rounding)
	if !ok {
		return money.Amount{}, fmt.Errorf("%w: plan %q: NGR beyond int64 minor units of %s", ErrOverflow, p.ID, p.Currency)
	}
	return money.New(n, p.Currency), nil
}

// RevShareInput is one affiliate's revenue in one period, for RevShareLine.
type RevShareInput struct {
	AffiliateID string
	Period      Period
	// Players is how many players the revenue comes from (for Explain).
	Players int64
	// Revenue, if set, is the sum of the players' reports. Explain shows it; it is kept by
	// reference, so it must not be modified afterwards.
	Revenue *Revenue
	// NGR is the period's NGR: the sum of the players' NGR (Plan.NGR of each), less the
	// NGR of ring-fenced players.
	NGR money.Amount
	// Fenced is the NGR left out of NGR by the ring fence (for Explain).
	Fenced money.Amount
	// CarryIn is the negative balance carried from the previous period (zero or negative).
	CarryIn money.Amount
}

// RevShareLine computes the affiliate's RevShare for a period and returns the accrual line and
// the balance to carry into the next period.
//
// The base is NGR + CarryIn. A base that is not positive pays nothing, and is carried
// forward under CarryForward (and forgotten otherwise). A positive base first loses the
// admin fee (base × fee, rounded once), then earns the rate of its tier (the tier reached,
// on the whole base) or of each band (Marginal: each band's rate on the part of the base in
// it, summed exactly) rounded once. RevShareLine does not allocate unless it fails.
func (p *Plan) RevShareLine(in RevShareInput) (l Line, carryOut money.Amount, err error) {
	zero := money.New(0, p.Currency)
	l.Kind, l.Rule, l.Plan, l.AffiliateID = KindAccrual, RuleRevShare, p.ID, in.AffiliateID
	l.At, l.Payable, l.Period, l.Mode, l.Amount, l.Base = in.Period.End, in.Period.End, in.Period, p.Rounding, zero, zero
	r := p.RevShare
	if r == nil {
		l.Reason = "plan.no_revshare"
		return l, zero, nil
	}
	carryIn := in.CarryIn
	if carryIn.Currency() == 0 && carryIn.IsZero() {
		carryIn = zero
	}
	ngr := in.NGR
	if unset(ngr) {
		ngr = zero
	}
	base, err := ngr.Add(carryIn)
	if err != nil {
		return Line{}, zero, within(wrapMoney(err), "plan %q: NGR plus carry-in", p.ID)
	}
	fenced := in.Fenced
	if unset(fenced) {
		fenced = zero
	}
	d := &l.Detail // field by field: a Detail literal would be built, then copied
	d.Players, d.NGR, d.Fenced, d.CarryIn, d.RevShare = in.Players, ngr, fenced, carryIn, r
	if len(r.NGR) > 0 { // else GGR: Explain shows no terms
		d.Revenue = in.Revenue
	}
	if base.Sign() <= 0 {
		l.Base = base
		if r.Carryover == CarryForward {
			return l, base, nil
		}
		return l, zero, nil
	}
	if !r.AdminFee.IsZero() {
		fee, err := base.MulRate(r.AdminFee, p.Rounding)
		if err != nil {
			return Line{}, zero, overflow("admin fee", err)
		}
		if base, err = base.Sub(fee); err != nil {
			return Line{}, zero, overflow("admin fee", err)
		}
	}
	l.Base = base
	if len(r.Tiers) == 0 {
		l.Rate = r.Rate
		if l.Amount, err = base.MulRate(r.Rate, p.Rounding); err != nil {
			return Line{}, zero, overflow("revshare", err)
		}
		return l, zero, nil
	}
	for i, t := range r.Tiers {
		if t.From.Minor() <= base.Minor() {
			l.Tier, l.Rate = int32(i+1), t.Rate
		}
	}
	if !r.Marginal {
		if l.Amount, err = base.MulRate(l.Rate, p.Rounding); err != nil {
			return Line{}, zero, overflow("revshare", err)
		}
		return l, zero, nil
	}
	var acc accumulator
	for _, t := range r.Tiers {
		acc.scale = max(acc.scale, t.Rate.Scale())
	}
	for i := range int(l.Tier) {
		hi := base.Minor()
		if i+1 < len(r.Tiers) {
			hi = min(hi, r.Tiers[i+1].From.Minor())
		}
		acc.add(hi-r.Tiers[i].From.Minor(), r.Tiers[i].Rate)
	}
	n, ok := acc.round(p.Rounding)
	if !ok {
		return Line{}, zero, fmt.Errorf("%w: plan %q: marginal revshare", ErrOverflow, p.ID)
	}
	l.Amount, l.Rate = money.New(n, p.Currency), money.Rate{}
	return l, zero, nil
}

// wrapMoney adds ErrOverflow or ErrCurrency to an error of package money.
func wrapMoney(err error) error {
	if errorsIs(err, money.ErrCurrencyMismatch) {
		return fmt.Errorf("%w: %w", ErrCurrency, err)
	}
	return fmt.Errorf("%w: %w", ErrOverflow, err)
}
