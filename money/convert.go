package money

import (
	"math/big"
	"time"
)

// ExchangeRate converts amounts in From into To: one unit (a major unit, such as 1 EUR) of From
// is worth Rate units of To. Source (who published the rate, such as "ECB") and At (when it was
// valid) are required: they are recorded with every conversion so that it can be explained and
// re-run later. Rate must be positive.
//
// ExchangeRate is a plain value; Amount.Convert checks it, and the zero value is not valid.
type ExchangeRate struct {
	From   Currency  `json:"from"`
	To     Currency  `json:"to"`
	Rate   Rate      `json:"rate"`
	Source string    `json:"source"`
	At     time.Time `json:"at"`
}

// problem returns what is wrong with x, or "".
func (x ExchangeRate) problem() string {
	switch {
	case !x.From.Valid():
		return "From " + x.From.describe() + " is not a known currency"
	case !x.To.Valid():
		return "To " + x.To.describe() + " is not a known currency"
	case x.Rate.Sign() <= 0:
		return "the rate " + x.Rate.String() + " is not positive"
	case x.Source == "":
		return "no Source"
	case x.At.IsZero():
		return "no At time"
	}
	return ""
}

// Converted is the result of a conversion. It records what was converted and how, so that the
// conversion can be explained, stored and re-run with the same result.
type Converted struct {
	// Amount is the result, in the exchange rate's To currency.
	Amount Amount `json:"amount"`
	// Original is the amount that was converted, in the exchange rate's From currency.
	Original Amount `json:"original"`
	// Rate is the exchange rate used, with its source and time.
	Rate ExchangeRate `json:"rate"`
	// Mode is the rounding mode used for the one rounding step.
	Mode RoundingMode `json:"mode"`
}

// Convert converts a into x.To. The result in minor units of To is a's minor units × x.Rate ×
// 10^(To's exponent − From's exponent), computed exactly and rounded once with mode: 10.00 EUR at
// 1 EUR = 161.53 JPY is 1615 JPY with HalfEven.
//
// An invalid x (unknown currencies, a rate that is not positive, no Source, a zero At) is an
// error wrapping ErrInvalidRate; a not in x.From is an error wrapping ErrCurrencyMismatch; a
// result beyond int64 minor units is an error wrapping ErrOverflow; an undeclared mode is an
// error wrapping ErrInvalidMode.
func (a Amount) Convert(x ExchangeRate, mode RoundingMode) (Converted, error) {
	if p := x.problem(); p != "" {
		return Converted{}, newError(ErrInvalidRate, "convert %s: invalid exchange rate: %s", a, p)
	}
	if a.cur != x.From {
		return Converted{}, newError(ErrCurrencyMismatch, "convert %s with a %s to %s rate: currency mismatch", a, x.From, x.To)
	}
	if !mode.valid() {
		return Converted{}, newError(ErrInvalidMode, "convert %s: invalid rounding mode %d", a, uint8(mode))
	}
	// |result| = |minor| × coef × 10^diff / 10^scale, as num/den.
	diff := x.To.Exponent() - x.From.Exponent()
	num := new(big.Int).SetUint64(magnitude(a.minor))
	num.Mul(num, big.NewInt(x.Rate.coef))
	den := new(big.Int).SetUint64(pow10[x.Rate.scale])
	ten := big.NewInt(10)
	if diff > 0 {
		num.Mul(num, new(big.Int).Exp(ten, big.NewInt(int64(diff)), nil))
	} else if diff < 0 {
		den.Mul(den, new(big.Int).Exp(ten, big.NewInt(int64(-diff)), nil))
	}
	q, r := new(big.Int).QuoRem(num, den, new(big.Int))
	var rem remainder
	if r.Sign() != 0 {
		switch r.Lsh(r, 1).Cmp(den) {
		case -1:
			rem = remBelowHalf
		case 0:
			rem = remHalf
		default:
			rem = remAboveHalf
		}
	}
	neg := a.minor < 0
	if roundsAway(mode, neg, q.Bit(0) == 1, rem) {
		q.Add(q, big.NewInt(1))
	}
	if !q.IsUint64() || q.Uint64() > maxMagnitude(neg) {
		return Converted{}, newError(ErrOverflow, "convert %s to %s at %s: overflow", a, x.To, x.Rate)
	}
	return Converted{
		Amount:   Amount{minor: signed(q.Uint64(), neg), cur: x.To},
		Original: a,
		Rate:     x,
		Mode:     mode,
	}, nil
}
