package commission

import (
	"fmt"

	"github.com/s2skit/s2s/money"
)

// IB is a Forex introducing-broker model: a rebate per lot traded, by symbol or instrument
// class, and a share of the spread, shared up a multi-level IB tree.
type IB struct {
	// Symbols price a lot. A trade uses the entry whose Symbol equals the trade's symbol,
	// else the one whose Class equals the trade's class, else the entry with neither set.
	// A trade that matches none earns no rebate.
	Symbols []SymbolRate `json:"symbols,omitempty"`
	// MinHold is the shortest time between open and close for a trade to earn anything.
	MinHold Duration `json:"min_hold,omitzero"`
	// Spread, if set, also pays a share of the spread.
	Spread *SpreadShare `json:"spread,omitempty"`
	// Tiers multiply the rebate by the lots the affiliate's clients already traded in the
	// period: the tier with the largest From not above that volume applies. Their From
	// values strictly increase from 0.
	Tiers []LotTier `json:"tiers,omitempty"`
	// Levels share each trade's commission up the IB tree (Program.Parents): Levels[0] to
	// the client's own IB, Levels[1] to its parent, and so on; what the shares leave (100%
	// minus their sum) stays with the broker. The parts are allocated with
	// money.Amount.Allocate, so they always sum exactly to the commission. Empty pays the
	// whole commission to the client's IB.
	Levels []money.Rate `json:"levels,omitempty"`
}

// SymbolRate prices one lot of a symbol or class, as a fixed amount (PerLot) or in points:
// Points × PointSize × ContractSize in the plan's currency.
type SymbolRate struct {
	Symbol string `json:"symbol,omitempty"`
	Class  string `json:"class,omitempty"`
	// PerLot is the rebate per standard lot.
	PerLot money.Amount `json:"per_lot,omitzero"`
	// Points, PointSize and ContractSize give the rebate per lot when PerLot is unset, as
	// in 0.5 points × 0.0001 × 100000 = 5 per lot.
	Points       money.Rate `json:"points,omitzero"`
	PointSize    money.Rate `json:"point_size,omitzero"`
	ContractSize int64      `json:"contract_size,omitempty"`
}

// SpreadShare pays Rate of the spread revenue: spread × lots × contract size. When a trade's
// spread exceeds DampAbove × its average spread (a news spike), the average is used instead:
// the reduction factor average/spread applied to the spread revenue, computed exactly.
type SpreadShare struct {
	Rate         money.Rate `json:"rate"`
	ContractSize int64      `json:"contract_size"`
	DampAbove    money.Rate `json:"damp_above,omitzero"`
}

// LotTier multiplies the IB rebate from a period volume of From lots.
type LotTier struct {
	From       money.Rate `json:"from"`
	Multiplier money.Rate `json:"multiplier"`
}

// Prop is a prop-firm model: a CPA on challenge purchases and a payment when an account is
// funded, clawed back on refund or reset.
type Prop struct {
	// Exactly one of Amount (fixed), Rate (of the purchase price), SizeRate (of the account
	// size) and Sizes (a fixed amount by account size) prices a purchase.
	Amount   money.Amount `json:"amount,omitzero"`
	Rate     money.Rate   `json:"rate,omitzero"`
	SizeRate money.Rate   `json:"size_rate,omitzero"`
	Sizes    []SizeAmount `json:"sizes,omitempty"`
	// Every pays every purchase of a player; otherwise only the first.
	Every bool `json:"every,omitempty"`
	// Funded is paid once per player when an account is funded (payout-on-funded).
	Funded money.Amount `json:"funded,omitzero"`
	// ClawbackRefund and ClawbackReset claw back a purchase's commission when it is refunded
	// or reset.
	ClawbackRefund bool `json:"clawback_refund,omitempty"`
	ClawbackReset  bool `json:"clawback_reset,omitempty"`
}

// SizeAmount prices challenges from an account size of From. In JSON, the first size may
// leave out "from" (it is zero in the plan's currency).
type SizeAmount struct {
	From   money.Amount `json:"from"`
	Amount money.Amount `json:"amount"`
}

func (ib *IB) validate(v *validator) {
	if len(ib.Symbols) == 0 && ib.Spread == nil {
		v.fail("ib", "no symbols and no spread share")
	}
	for i, s := range ib.Symbols {
		f := fmt.Sprintf("ib.symbols[%d]", i)
		for j := range i {
			if ib.Symbols[j].Symbol == s.Symbol && ib.Symbols[j].Class == s.Class {
				v.fail(f, fmt.Sprintf("duplicates symbols[%d]", j))
			}
		}
		if s.Symbol != "" && s.Class != "" {
			v.fail(f, "set symbol or class, not both")
		}
		// A zero amount is unset, as in the JSON encoding (omitzero): a set amount is non-zero.
		if !s.PerLot.IsZero() {
			v.amount(f+".per_lot", s.PerLot, true)
			if !s.Points.IsZero() {
				v.fail(f+".points", "set per_lot or points, not both")
			}
		} else {
			if s.Points.Sign() <= 0 || s.PointSize.Sign() <= 0 || s.ContractSize <= 0 {
				v.fail(f, "needs per_lot, or positive points, point_size and contract_size")
			}
		}
	}
	if sp := ib.Spread; sp != nil {
		v.share("ib.spread.rate", sp.Rate)
		if sp.ContractSize <= 0 {
			v.fail("ib.spread.contract_size", "not positive")
		}
		if sp.DampAbove.Sign() < 0 || (!sp.DampAbove.IsZero() && sp.DampAbove.Cmp(intRate(1)) < 0) {
			v.fail("ib.spread.damp_above", "below 1")
		}
	}
	for i, t := range ib.Tiers {
		f := fmt.Sprintf("ib.tiers[%d]", i)
		switch {
		case i == 0 && !t.From.IsZero():
			v.fail(f+".from", "the first tier must start at 0")
		case i > 0 && t.From.Cmp(ib.Tiers[i-1].From) <= 0:
			v.fail(f+".from", fmt.Sprintf("overlaps tiers[%d]", i-1))
		}
		if t.Multiplier.Sign() <= 0 {
			v.fail(f+".multiplier", "not positive")
		}
	}
	var sum int64 // at scale 18; each valid share is at most 10^18
	for i, l := range ib.Levels {
		if l.Sign() < 0 || l.Cmp(intRate(1)) > 0 {
			v.share(fmt.Sprintf("ib.levels[%d]", i), l)
			break
		}
		sum += l.Coefficient() * pow10[maxScale-l.Scale()]
		if sum > pow10[maxScale] {
			v.fail("ib.levels", "shares sum over 100%")
			break
		}
	}
	if ib.MinHold < 0 {
		v.fail("ib.min_hold", "negative")
	}
}

func (pp *Prop) validate(v *validator) {
	n := 0
	if !pp.Amount.IsZero() { // zero is unset, as in the JSON encoding
		n++
		v.amount("prop.amount", pp.Amount, true)
	}
	if !pp.Rate.IsZero() {
		n++
		v.share("prop.rate", pp.Rate)
	}
	if !pp.SizeRate.IsZero() {
		n++
		v.share("prop.size_rate", pp.SizeRate)
	}
	if len(pp.Sizes) > 0 {
		n++
	}
	for i, s := range pp.Sizes {
		f := fmt.Sprintf("prop.sizes[%d]", i)
		v.amount(f+".from", s.From, true)
		if i > 0 && !less(pp.Sizes[i-1].From, s.From) {
			v.fail(f+".from", fmt.Sprintf("overlaps sizes[%d]", i-1))
		}
		v.amount(f+".amount", s.Amount, true)
	}
	if n != 1 && !(n == 0 && !pp.Funded.IsZero()) {
		v.fail("prop", "set exactly one of amount, rate, size_rate and sizes")
	}
	v.amount("prop.funded", pp.Funded, false)
}
