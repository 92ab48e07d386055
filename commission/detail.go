package commission

import (
	"encoding/json"
	"fmt"

	"github.com/s2skit/s2s/money"
)

// Detail is what a line keeps for Explain beyond its other fields: the inputs of its rule and
// the parts of the plan the rule used, as a snapshot, so that a line read back from JSON or
// from a store explains itself exactly as the line that was computed, with no plan at hand.
// Each field is set only on the lines of the rules it names; the others are zero.
//
// A Detail is one self-contained JSON value, so a store can keep it in one text or JSON
// column beside the line's other fields. Amounts encode with their currency whenever they
// are set, zero included, and are omitted when unset, so decoding gives back an equal Detail.
// The calculators share the plan's RevShare terms and the caller's Revenue with the detail
// rather than copy them (that is how they stay free of allocation, and small): treat them as
// immutable once used. Replay's lines share only the program's and its own copies.
type Detail struct {
	// Country is the player's country whose amount a country CPA paid (RuleCPACountry).
	Country string
	// Rank is the qualified player's 1-based rank among the affiliate's CPAs of the period
	// (RuleCPATier): the number the volume tier was chosen by.
	Rank int64

	// Players is how many players' revenue a RevShare line sums.
	Players int64
	// NGR is the NGR a RevShare line counted: the players' NGR less what the ring fence
	// left out.
	NGR money.Amount
	// Fenced is the NGR the ring fence left out of NGR (or that a fenced balance absorbed).
	Fenced money.Amount
	// CarryIn is the negative balance carried into the period (zero when none).
	CarryIn money.Amount
	// Revenue is the sum of the players' revenue reports, when the plan's NGR is a formula
	// and the line was computed from reports (Explain then shows each term).
	Revenue *Revenue
	// RevShare is the plan's RevShare terms that a RevShare or carryover line was computed
	// with: its formula, bands, admin fee and carryover policy.
	RevShare *RevShare

	// Lots is the trade's volume in standard lots (cent lots count 1/100), on IB lines.
	Lots money.Rate
	// IBRate is the rate of an IB line before it was shared up the IB tree: the volume
	// tier's multiplier of the rebate per lot (RuleIBLot) or the plan's share of the spread
	// (RuleIBSpread).
	IBRate money.Rate
	// PerLot is the rebate per standard lot (RuleIBLot).
	PerLot money.Amount
	// Commission is the trade's commission before it was shared up the IB tree.
	Commission money.Amount
	// Damped says the trade's spread was above the damping threshold, so its average
	// spread was used (RuleIBSpread).
	Damped bool

	// Sub is the sub-affiliate whose earnings or revenue a RuleSub line shares, and Basis
	// which of the two.
	Sub   string
	Basis Basis
}

// detailJSON is the encoding of a Detail: amounts are pointers, so that a zero amount in a
// currency is kept and an unset one is omitted.
type detailJSON struct {
	Country    string        `json:"country,omitempty"`
	Rank       int64         `json:"rank,omitempty"`
	Players    int64         `json:"players,omitempty"`
	NGR        *money.Amount `json:"ngr,omitempty"`
	Fenced     *money.Amount `json:"fenced,omitempty"`
	CarryIn    *money.Amount `json:"carry_in,omitempty"`
	Revenue    *revenueJSON  `json:"revenue,omitempty"`
	RevShare   *RevShare     `json:"revshare,omitempty"`
	Lots       money.Rate    `json:"lots,omitzero"`
	IBRate     money.Rate    `json:"ib_rate,omitzero"`
	PerLot     *money.Amount `json:"per_lot,omitempty"`
	Commission *money.Amount `json:"commission,omitempty"`
	Damped     bool          `json:"damped,omitempty"`
	Sub        string        `json:"sub,omitempty"`
	Basis      Basis         `json:"basis,omitempty"`
}

// revenueJSON is the encoding of a Revenue in a Detail, exact as detailJSON's amounts.
type revenueJSON struct {
	GGR         *money.Amount `json:"ggr,omitempty"`
	Bonuses     *money.Amount `json:"bonuses,omitempty"`
	Deposits    *money.Amount `json:"deposits,omitempty"`
	Withdrawals *money.Amount `json:"withdrawals,omitempty"`
	Fees        *money.Amount `json:"fees,omitempty"`
	Taxes       *money.Amount `json:"taxes,omitempty"`
	Adjustments *money.Amount `json:"adjustments,omitempty"`
}

func (r *revenueJSON) fields() [revenueFields]**money.Amount {
	return [...]**money.Amount{&r.GGR, &r.Bonuses, &r.Deposits, &r.Withdrawals, &r.Fees, &r.Taxes, &r.Adjustments}
}

// set returns a pointer to a, or nil when a is unset (no currency and zero).
func set(a money.Amount) *money.Amount {
	if unset(a) {
		return nil
	}
	return &a
}

// get returns *p, or the unset amount when p is nil.
func get(p *money.Amount) money.Amount {
	if p == nil {
		return money.Amount{}
	}
	return *p
}

// unset reports whether a is the zero Amount, with no currency.
func unset(a money.Amount) bool { return a.Currency() == 0 && a.IsZero() }

// IsZero reports whether d is the zero Detail.
func (d Detail) IsZero() bool {
	return d.Country == "" && d.Rank == 0 && d.Players == 0 && unset(d.NGR) && unset(d.Fenced) &&
		unset(d.CarryIn) && d.Revenue == nil && d.RevShare == nil && d.Lots.IsZero() && d.IBRate.IsZero() &&
		unset(d.PerLot) && unset(d.Commission) && !d.Damped && d.Sub == "" && d.Basis == ""
}

// MarshalJSON implements json.Marshaler: an object with the fields that are set, amounts as
// money's JSON objects, rates as strings.
func (d Detail) MarshalJSON() ([]byte, error) {
	j := detailJSON{
		Country: d.Country, Rank: d.Rank, Players: d.Players,
		NGR: set(d.NGR), Fenced: set(d.Fenced), CarryIn: set(d.CarryIn), RevShare: d.RevShare,
		Lots: d.Lots, IBRate: d.IBRate, PerLot: set(d.PerLot), Commission: set(d.Commission),
		Damped: d.Damped, Sub: d.Sub, Basis: d.Basis,
	}
	if d.Revenue != nil {
		j.Revenue = &revenueJSON{}
		src, dst := d.Revenue.fields(), j.Revenue.fields()
		for i := range src {
			*dst[i] = set(*src[i])
		}
	}
	b, err := json.Marshal(&j)
	if err != nil {
		return nil, fmt.Errorf("%w: detail: %w", ErrInvalidLine, err)
	}
	return b, nil
}

// UnmarshalJSON implements json.Unmarshaler: it accepts what MarshalJSON writes.
func (d *Detail) UnmarshalJSON(b []byte) error {
	var j detailJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("%w: detail: %w", ErrInvalidLine, err)
	}
	*d = Detail{
		Country: j.Country, Rank: j.Rank, Players: j.Players,
		NGR: get(j.NGR), Fenced: get(j.Fenced), CarryIn: get(j.CarryIn), RevShare: j.RevShare,
		Lots: j.Lots, IBRate: j.IBRate, PerLot: get(j.PerLot), Commission: get(j.Commission),
		Damped: j.Damped, Sub: j.Sub, Basis: j.Basis,
	}
	if j.Revenue != nil {
		d.Revenue = &Revenue{}
		src, dst := j.Revenue.fields(), d.Revenue.fields()
		for i := range src {
			*dst[i] = get(*src[i])
		}
	}
	return nil
}
