package money

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// The sentinel errors of package money. Every error the package returns wraps exactly one of
// them, so callers test with [errors.Is]; the message of the returned error names the input
// and the problem.
var (
	// ErrSyntax reports a string that does not follow the grammar of an amount, a rate, a
	// rounding mode or a JSON or text encoding.
	ErrSyntax = errors.New("money: invalid syntax")
	// ErrPrecision reports more decimal places than the currency's exponent allows (or, for
	// a rate, more than 18).
	ErrPrecision = errors.New("money: too many decimal places")
	// ErrOverflow reports a result, an input or an intermediate value that does not fit in an
	// int64 of minor units (or of rate coefficient). Nothing ever wraps around.
	ErrOverflow = errors.New("money: overflow")
	// ErrCurrencyMismatch reports an operation on amounts in different currencies, or a
	// conversion of an amount that is not in the exchange rate's From currency.
	ErrCurrencyMismatch = errors.New("money: currency mismatch")
	// ErrUnknownCurrency reports a code that is not in the package's ISO 4217 table, or an
	// amount whose currency is missing or invalid where one is required.
	ErrUnknownCurrency = errors.New("money: unknown currency")
	// ErrInvalidRate reports an invalid Rate (a scale outside 0..18) or an invalid
	// ExchangeRate (unknown currencies, a rate that is not positive, no source, no time).
	ErrInvalidRate = errors.New("money: invalid rate")
	// ErrInvalidWeights reports weights for Amount.Allocate that are missing, negative or sum
	// to zero.
	ErrInvalidWeights = errors.New("money: invalid weights")
	// ErrInvalidMode reports a RoundingMode that is not one of the declared constants, or a
	// rounding mode name that UnmarshalText does not know.
	ErrInvalidMode = errors.New("money: invalid rounding mode")
)

// moneyError is an error with a descriptive message that wraps one sentinel.
type moneyError struct {
	msg string
	err error
}

func (e *moneyError) Error() string { return e.msg }
func (e *moneyError) Unwrap() error { return e.err }

// newError returns an error wrapping sentinel whose message is "money: " and the formatted text.
func newError(sentinel error, format string, args ...any) error {
	return &moneyError{msg: "money: " + fmt.Sprintf(format, args...), err: sentinel}
}

// maxQuoted is the number of bytes of an input that error messages show.
const maxQuoted = 32

// quote returns s quoted for an error message. Inputs longer than maxQuoted bytes are cut on
// a rune boundary and marked with "…" and their length, so that a huge hostile input never
// lands in a log whole.
func quote(s string) string {
	if len(s) <= maxQuoted {
		return strconv.Quote(s)
	}
	n := maxQuoted
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return strconv.Quote(s[:n]) + "… (" + strconv.Itoa(len(s)) + " bytes)"
}
