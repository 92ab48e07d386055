package s2s

import (
	"fmt"

	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/money"
)

// MaxRates is the most exchange rates a Config holds.
const MaxRates = 1000

// Rates are recorded exchange rates, as configuration: each a money.ExchangeRate with the
// Source and time it was taken from (a programme's contract rate for the month, say), at
// most one per pair of currencies (From, To) and at most MaxRates. The Tracker converts an
// event's amount into its plan's currency with the rate from the amount's currency to the
// plan's, and records it on the event's lines (commission.Line.FX), as commission.Replay
// converts an event with its FX. It never guesses: an amount with no rate to its plan's
// currency earns nothing (the event is recorded, and logged), and no rate is ever inverted
// or chained through a third currency.
type Rates []money.ExchangeRate

// Validate checks r: every rate valid (known currencies, a positive rate, a Source, a
// time), From and To different, each pair once. The error names the rate: rates[2].
func (r Rates) Validate() error {
	if len(r) > MaxRates {
		return fmt.Errorf("%w: rates: %d rates, at most %d", ErrInvalidConfig, len(r), MaxRates)
	}
	seen := make(map[[2]money.Currency]int, len(r))
	for i, x := range r {
		if x.From == x.To {
			return fmt.Errorf("%w: rates[%d]: a rate from %s to itself", ErrInvalidConfig, i, x.From)
		}
		if _, err := money.New(1, x.From).Convert(x, money.HalfEven); err != nil {
			return fmt.Errorf("%w: rates[%d]: %w", ErrInvalidConfig, i, err)
		}
		k := [2]money.Currency{x.From, x.To}
		if j, dup := seen[k]; dup {
			return fmt.Errorf("%w: rates[%d]: a second rate from %s to %s (rates[%d])", ErrInvalidConfig, i, x.From, x.To, j)
		}
		seen[k] = i
	}
	return nil
}

// index returns the rates by pair, each its own copy.
func (r Rates) index() map[[2]money.Currency]money.ExchangeRate {
	if len(r) == 0 {
		return nil
	}
	out := make(map[[2]money.Currency]money.ExchangeRate, len(r))
	for _, x := range r {
		out[[2]money.Currency{x.From, x.To}] = x
	}
	return out
}

// inPlan returns a in plan's currency: a itself when it is in that currency (or zero), else
// a converted with the configured rate from its currency to the plan's, rounded by the
// plan's rounding mode, with that rate. ok is false when no rate is configured.
func (cc *compiled) inPlan(plan *commission.Plan, a money.Amount) (out money.Amount, fx *money.ExchangeRate, ok bool, err error) {
	if a.Currency() == plan.Currency || a.IsZero() && a.Currency() == 0 {
		return money.New(a.Minor(), plan.Currency), nil, true, nil
	}
	x, found := cc.rates[[2]money.Currency{a.Currency(), plan.Currency}]
	if !found {
		return money.Amount{}, nil, false, nil
	}
	c, err := a.Convert(x, plan.Rounding)
	if err != nil {
		return money.Amount{}, nil, false, fmt.Errorf("s2s: commission: convert %s: %w", a, err)
	}
	return c.Amount, &x, true, nil
}
