package commission

import "errors"

// The sentinel errors of package commission. Every error the package returns wraps one of
// them, so callers test with errors.Is; errors that come from package money keep the money
// sentinel in the chain as well (an overflow wraps both ErrOverflow and money.ErrOverflow).
var (
	// ErrInvalidPlan reports a plan or program that fails validation. The message names the
	// plan and the bad field, as in `commission: plan "vip": revshare.tiers[2].from: overlaps
	// tiers[1]`.
	ErrInvalidPlan = errors.New("commission: invalid plan")
	// ErrNoPlan reports an event or period for which no plan is in force: it falls before the
	// first effective date of the affiliate's plan history.
	ErrNoPlan = errors.New("commission: no plan in force")
	// ErrCurrency reports an event in a currency the plan does not use and for which no
	// exchange rate was supplied. Commission is never computed on a guessed rate.
	ErrCurrency = errors.New("commission: currency needs an exchange rate")
	// ErrInvalidEvent reports an event that cannot be used: no ID, kind or affiliate, a
	// duplicate ID, a missing field its kind requires, or a reversal of an event that is not
	// in the history. It also reports an unknown line kind or rule name in JSON.
	ErrInvalidEvent = errors.New("commission: invalid event")
	// ErrOverflow reports a result or an intermediate value beyond the int64 range of minor
	// units, or a rate product beyond a money.Rate. Nothing ever wraps around.
	ErrOverflow = errors.New("commission: overflow")
)

func errorsIs(err, target error) bool { return errors.Is(err, target) }
