package commission

import (
	"fmt"
	"math"
	"math/bits"

	"github.com/s2skit/s2s/money"
)

// maxScale is the largest scale of a money.Rate.
const maxScale = 18

// pow10 holds 10^0 .. 10^18. It is never modified.
var pow10 = [...]int64{
	1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000,
	10_000_000_000, 100_000_000_000, 1_000_000_000_000, 10_000_000_000_000, 100_000_000_000_000,
	1_000_000_000_000_000, 10_000_000_000_000_000, 100_000_000_000_000_000, 1_000_000_000_000_000_000,
}

// i128 is a signed 128-bit integer in two's complement.
type i128 struct{ hi, lo uint64 }

func (x i128) neg() bool { return int64(x.hi) < 0 }

func (x i128) negate() i128 {
	lo, c := bits.Add64(^x.lo, 1, 0)
	return i128{^x.hi + c, lo}
}

// mul64 returns a × b exactly.
func mul64(a, b int64) i128 {
	ua, ub := absU(a), absU(b)
	hi, lo := bits.Mul64(ua, ub)
	r := i128{hi, lo}
	if (a < 0) != (b < 0) {
		r = r.negate()
	}
	return r
}

// add returns x + y and whether the sum overflowed.
func (x i128) add(y i128) (i128, bool) {
	lo, c := bits.Add64(x.lo, y.lo, 0)
	hi, _ := bits.Add64(x.hi, y.hi, c)
	s := i128{hi, lo}
	over := x.neg() == y.neg() && s.neg() != x.neg()
	return s, over
}

func absU(a int64) uint64 {
	if a < 0 {
		return uint64(-(a + 1)) + 1
	}
	return uint64(a)
}

// accumulator sums products of minor units and rates exactly, at one common scale, so that
// a sum of several terms is rounded once.
type accumulator struct {
	sum   i128
	scale int
	err   bool
}

// add adds minor × r to the sum. The sum's scale must have been set (setScale) to at least
// r's scale.
func (a *accumulator) add(minor int64, r money.Rate) {
	c := r.Coefficient()
	d := a.scale - r.Scale()
	if d < 0 {
		a.err = true
		return
	}
	if d > 0 {
		hi, lo := bits.Mul64(absU(c), uint64(pow10[d]))
		if hi != 0 || lo > math.MaxInt64 {
			a.err = true
			return
		}
		if c < 0 {
			c = -int64(lo)
		} else {
			c = int64(lo)
		}
	}
	p := mul64(minor, c)
	s, over := a.sum.add(p)
	if over {
		a.err = true
		return
	}
	a.sum = s
}

// round returns the sum rounded once to whole minor units with mode.
func (a *accumulator) round(mode money.RoundingMode) (int64, bool) {
	if a.err {
		return 0, false
	}
	x := a.sum
	neg := x.neg()
	if neg {
		x = x.negate()
	}
	d := uint64(pow10[a.scale])
	var q, rem uint64
	if x.hi == 0 {
		q, rem = x.lo/d, x.lo%d
	} else {
		if x.hi >= d {
			return 0, false // the quotient needs more than 64 bits
		}
		q, rem = bits.Div64(x.hi, x.lo, d)
	}
	if rem != 0 {
		var away bool
		twice := rem * 2 // rem < d ≤ 10^18, so no overflow
		switch mode {
		case money.HalfEven:
			away = twice > d || (twice == d && q%2 == 1)
		case money.HalfUp:
			away = twice >= d
		case money.Down:
		case money.Up:
			away = true
		case money.Floor:
			away = neg
		case money.Ceil:
			away = !neg
		}
		if away {
			if q == math.MaxUint64 {
				return 0, false
			}
			q++
		}
	}
	if neg {
		if q > 1<<63 {
			return 0, false
		}
		return -int64(q-1) - 1, true
	}
	if q > math.MaxInt64 {
		return 0, false
	}
	return int64(q), true
}

// mulRates returns a × b exactly, or an error wrapping ErrOverflow when the product does not
// fit a money.Rate (an int64 coefficient and at most 18 decimals). money has no such
// operation.
func mulRates(a, b money.Rate) (money.Rate, error) {
	hi, lo := bits.Mul64(absU(a.Coefficient()), absU(b.Coefficient()))
	scale := a.Scale() + b.Scale()
	// Drop trailing zeros of the product while the scale is too large or the product too wide.
	for (hi != 0 || lo > math.MaxInt64 || scale > maxScale) && scale > 0 {
		qhi, rhi := hi/10, hi%10
		qlo, r := bits.Div64(rhi, lo, 10)
		if r != 0 {
			break
		}
		hi, lo, scale = qhi, qlo, scale-1
	}
	if hi != 0 || lo > math.MaxInt64 || scale > maxScale {
		return money.Rate{}, fmt.Errorf("%w: %s × %s does not fit a rate", ErrOverflow, a, b)
	}
	c := int64(lo)
	if (a.Sign() < 0) != (b.Sign() < 0) {
		c = -c
	}
	r, err := money.NewRate(c, scale)
	if err != nil {
		return money.Rate{}, fmt.Errorf("%w: %s × %s: %v", ErrOverflow, a, b, err)
	}
	return r, nil
}
