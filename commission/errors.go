package commission

import (
	"errors"
	"fmt"
	"strings"
)

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
	// in the history.
	ErrInvalidEvent = errors.New("commission: invalid event")
	// ErrInvalidLine reports a ledger line that cannot be encoded or decoded: an unknown
	// kind or rule, or a malformed detail.
	ErrInvalidLine = errors.New("commission: invalid line")
	// ErrOverflow reports a result or an intermediate value beyond the int64 range of minor
	// units, or a rate product beyond a money.Rate. Nothing ever wraps around.
	ErrOverflow = errors.New("commission: overflow")
)

func errorsIs(err, target error) bool { return errors.Is(err, target) }

// prefix begins every error message of the package.
const prefix = "commission: "

// contextError is an error of the package with the context it happened in, placed after
// the package prefix: `commission: event "d1" (deposit): currency needs an exchange rate:
// ...`. It wraps the error, and so its sentinel.
type contextError struct {
	context string
	err     error
}

func (e *contextError) Error() string {
	return prefix + e.context + ": " + strings.TrimPrefix(e.err.Error(), prefix)
}

func (e *contextError) Unwrap() error { return e.err }

// within returns err in the context that format and args describe.
func within(err error, format string, args ...any) error {
	return &contextError{context: fmt.Sprintf(format, args...), err: err}
}
