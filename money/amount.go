package money

import "math/bits"

// Amount is an exact amount of money: a whole number of the currency's minor units (cents for
// EUR, yen for JPY, fils for KWD) held in an int64, and its Currency. 150.00 EUR is 15000 minor
// units of EUR.
//
// Amount is a small comparable value; == compares both the minor units and the currency. Its
// methods never modify it. The zero value is 0 with no currency: arithmetic with an amount in a
// real currency reports ErrCurrencyMismatch, and it cannot be encoded as text or JSON. Start
// sums from New(0, cur).
type Amount struct {
	minor int64
	cur   Currency
}

// New returns the amount of minor units of cur: New(15000, EUR) is 150.00 EUR. It does not
// check cur; an amount with an invalid currency can be computed with but not encoded.
func New(minor int64, cur Currency) Amount { return Amount{minor: minor, cur: cur} }

// Minor returns the amount in minor units of its currency: 15000 for 150.00 EUR.
func (a Amount) Minor() int64 { return a.minor }

// Currency returns the amount's currency.
func (a Amount) Currency() Currency { return a.cur }

// IsZero reports whether the amount is zero, whatever its currency. (encoding/json's omitzero
// option uses it, so a zero amount in a real currency is omitted too.)
func (a Amount) IsZero() bool { return a.minor == 0 }

// Sign returns -1, 0 or +1 as the amount is negative, zero or positive.
func (a Amount) Sign() int {
	switch {
	case a.minor < 0:
		return -1
	case a.minor > 0:
		return 1
	}
	return 0
}

// Add returns a + b. Different currencies are an error wrapping ErrCurrencyMismatch, and a sum
// beyond int64 minor units is an error wrapping ErrOverflow.
func (a Amount) Add(b Amount) (Amount, error) {
	if a.cur != b.cur {
		return Amount{}, a.mismatch("add", b)
	}
	s := a.minor + b.minor
	if (a.minor^s)&(b.minor^s) < 0 {
		return Amount{}, newError(ErrOverflow, "add %s and %s: overflow", a, b)
	}
	return Amount{minor: s, cur: a.cur}, nil
}

// Sub returns a - b. Different currencies are an error wrapping ErrCurrencyMismatch, and a
// difference beyond int64 minor units is an error wrapping ErrOverflow.
func (a Amount) Sub(b Amount) (Amount, error) {
	if a.cur != b.cur {
		return Amount{}, newError(ErrCurrencyMismatch, "subtract %s from %s: currency mismatch", b, a)
	}
	d := a.minor - b.minor
	if (a.minor^b.minor)&(a.minor^d) < 0 {
		return Amount{}, newError(ErrOverflow, "subtract %s from %s: overflow", b, a)
	}
	return Amount{minor: d, cur: a.cur}, nil
}

// Neg returns -a. The one amount whose negation does not fit, math.MinInt64 minor units, is
// an error wrapping ErrOverflow.
func (a Amount) Neg() (Amount, error) {
	if a.minor == -1<<63 {
		return Amount{}, newError(ErrOverflow, "negate %s: overflow", a)
	}
	return Amount{minor: -a.minor, cur: a.cur}, nil
}

// Cmp compares a and b and returns -1, 0 or +1 as a is less than, equal to or greater than b.
// Different currencies are an error wrapping ErrCurrencyMismatch.
func (a Amount) Cmp(b Amount) (int, error) {
	if a.cur != b.cur {
		return 0, a.mismatch("compare", b)
	}
	switch {
	case a.minor < b.minor:
		return -1, nil
	case a.minor > b.minor:
		return 1, nil
	}
	return 0, nil
}

// Mul returns a × n, exactly. A product beyond int64 minor units is an error wrapping
// ErrOverflow.
func (a Amount) Mul(n int64) (Amount, error) {
	neg := (a.minor < 0) != (n < 0)
	hi, lo := bits.Mul64(magnitude(a.minor), magnitude(n))
	if hi != 0 || lo > maxMagnitude(neg) {
		return Amount{}, newError(ErrOverflow, "multiply %s by %d: overflow", a, n)
	}
	return Amount{minor: signed(lo, neg), cur: a.cur}, nil
}

// MulRate returns a × r, rounded once to a whole minor unit with mode. The product is computed
// exactly in 128 bits, so no precision is lost before the one rounding step; a result beyond
// int64 minor units is an error wrapping ErrOverflow, and an undeclared mode is an error wrapping
// ErrInvalidMode. MulRate does not allocate unless it returns an error.
//
// For a commission of 35% of 150.00 EUR, New(15000, EUR).MulRate(MustParseRate("0.35"), HalfEven)
// is 52.50 EUR.
func (a Amount) MulRate(r Rate, mode RoundingMode) (Amount, error) {
	if !mode.valid() {
		return Amount{}, newError(ErrInvalidMode, "multiply %s by rate %s: invalid rounding mode %d", a, r, uint8(mode))
	}
	neg := (a.minor < 0) != (r.coef < 0)
	hi, lo := bits.Mul64(magnitude(a.minor), magnitude(r.coef))
	d := pow10[r.scale]
	if hi >= d { // the quotient would not fit in 64 bits
		return Amount{}, a.mulRateOverflow(r)
	}
	q, rem := bits.Div64(hi, lo, d)
	limit := maxMagnitude(neg)
	if q > limit {
		return Amount{}, a.mulRateOverflow(r)
	}
	if roundsAway(mode, neg, q&1 == 1, classifyFraction(rem, d)) {
		if q == limit {
			return Amount{}, a.mulRateOverflow(r)
		}
		q++
	}
	return Amount{minor: signed(q, neg), cur: a.cur}, nil
}

func (a Amount) mulRateOverflow(r Rate) error {
	return newError(ErrOverflow, "multiply %s by rate %s: overflow", a, r)
}

// mismatch returns the ErrCurrencyMismatch error for an operation on a and b.
func (a Amount) mismatch(op string, b Amount) error {
	return newError(ErrCurrencyMismatch, "%s %s and %s: currency mismatch", op, a, b)
}

// pow10 holds 10^0 to 10^18, the divisors of every Rate scale. It is never modified.
var pow10 = [19]uint64{
	1,
	10,
	100,
	1000,
	10000,
	100000,
	1000000,
	10000000,
	100000000,
	1000000000,
	10000000000,
	100000000000,
	1000000000000,
	10000000000000,
	100000000000000,
	1000000000000000,
	10000000000000000,
	100000000000000000,
	1000000000000000000,
}
