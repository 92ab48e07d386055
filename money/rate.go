package money

import (
	"math/bits"
	"strings"
)

// maxScale is the largest Rate scale: 10^18 is the largest power of ten below 1<<63.
const maxScale = 18

// Rate is an exact decimal ratio, coefficient × 10^-scale with an int64 coefficient and a scale
// of 0 to 18: "0.35" is 35 × 10^-2. A Rate is normalised (the coefficient has no trailing zeros
// unless the scale is 0), so == compares values: ParseRate("0.50") == ParseRate("50%").
//
// Rate is a small comparable value whose methods never modify it. The zero value is the rate 0.
type Rate struct {
	coef  int64
	scale uint8
}

// NewRate returns the rate coef × 10^-scale: NewRate(35, 2) is 0.35. A scale outside 0..18 is
// an error wrapping ErrInvalidRate.
func NewRate(coef int64, scale int) (Rate, error) {
	if scale < 0 || scale > maxScale {
		return Rate{}, newError(ErrInvalidRate, "invalid rate %d×10^-%d: the scale must be 0 to %d", coef, scale, maxScale)
	}
	return normalize(coef, scale), nil
}

// BasisPoints returns the rate of bps hundredths of a percent: BasisPoints(250) is 0.025.
func BasisPoints(bps int64) Rate { return normalize(bps, 4) }

// normalize returns coef × 10^-scale with the trailing zeros of coef removed while scale > 0.
func normalize(coef int64, scale int) Rate {
	for scale > 0 && coef%10 == 0 {
		coef /= 10
		scale--
	}
	return Rate{coef: coef, scale: uint8(scale)}
}

// ParseRate returns the rate that s denotes. s follows the strict grammar of amounts (see
// Parse; '.' is the only decimal separator), optionally followed by "%" (percent), "bp" or "bps"
// (basis points): "0.35", "1.0843", "12.5%", "25bp" and "-3" are rates. There is no exponent
// notation.
//
// Trailing zeros are dropped, then the rate may have at most 18 decimal places ("0.125%" has 5)
// or the error wraps ErrPrecision; a coefficient beyond int64 is an error wrapping ErrOverflow;
// anything else the grammar refuses is an error wrapping ErrSyntax that names the problem.
func ParseRate(s string) (Rate, error) {
	body, extra := s, 0
	switch {
	case strings.HasSuffix(s, "%"):
		body, extra = s[:len(s)-1], 2
	case strings.HasSuffix(s, "bps"):
		body, extra = s[:len(s)-3], 4
	case strings.HasSuffix(s, "bp"):
		body, extra = s[:len(s)-2], 4
	}
	neg, ip, fp, ok := scanDecimal(body, false)
	if !ok {
		if body == "" && extra > 0 {
			return Rate{}, newError(ErrSyntax, "invalid rate %s: missing digits before the unit", quote(s))
		}
		return Rate{}, newError(ErrSyntax, "invalid rate %s: %s", quote(s), describeSyntax(body, false, true))
	}
	// The digits are ip followed by fp; the value is digits × 10^-scale.
	digit := func(i int) byte {
		if i < len(ip) {
			return ip[i]
		}
		return fp[i-len(ip)]
	}
	end, scale := len(ip)+len(fp), len(fp)+extra
	for scale > 0 && end > 0 && digit(end-1) == '0' {
		end--
		scale--
	}
	start := 0
	for start < end && digit(start) == '0' {
		start++
	}
	if start == end {
		return Rate{}, nil
	}
	if scale > maxScale {
		return Rate{}, newError(ErrPrecision, "invalid rate %s: %s, at most %d", quote(s), places(scale), maxScale)
	}
	var m uint64
	for i := start; i < end; i++ {
		if m > cutoff {
			return Rate{}, rateOverflow(s)
		}
		m = m*10 + uint64(digit(i)-'0')
	}
	if m > maxMagnitude(neg) {
		return Rate{}, rateOverflow(s)
	}
	return Rate{coef: signed(m, neg), scale: uint8(scale)}, nil
}

func rateOverflow(s string) error {
	return newError(ErrOverflow, "invalid rate %s: the coefficient does not fit in an int64 (overflow)", quote(s))
}

// MustParseRate is like ParseRate but panics if s cannot be parsed. It is meant for constants
// in programs and tests.
func MustParseRate(s string) Rate {
	r, err := ParseRate(s)
	if err != nil {
		panic(err)
	}
	return r
}

// Coefficient returns the rate's coefficient: 35 for 0.35.
func (r Rate) Coefficient() int64 { return r.coef }

// Scale returns the rate's scale, the power of ten that divides the coefficient: 2 for 0.35.
func (r Rate) Scale() int { return int(r.scale) }

// IsZero reports whether the rate is 0.
func (r Rate) IsZero() bool { return r.coef == 0 }

// Sign returns -1, 0 or +1 as the rate is negative, zero or positive.
func (r Rate) Sign() int {
	switch {
	case r.coef < 0:
		return -1
	case r.coef > 0:
		return 1
	}
	return 0
}

// Cmp compares r and o exactly and returns -1, 0 or +1 as r is less than, equal to or greater
// than o. It cannot overflow.
func (r Rate) Cmp(o Rate) int {
	rs, os := r.Sign(), o.Sign()
	switch {
	case rs < os:
		return -1
	case rs > os:
		return 1
	case rs == 0:
		return 0
	}
	s := max(r.scale, o.scale)
	rh, rl := bits.Mul64(magnitude(r.coef), pow10[s-r.scale])
	oh, ol := bits.Mul64(magnitude(o.coef), pow10[s-o.scale])
	c := 0
	switch {
	case rh < oh || (rh == oh && rl < ol):
		c = -1
	case rh > oh || (rh == oh && rl > ol):
		c = 1
	}
	return c * rs
}

// String returns the rate as a canonical decimal: "0.125", "3", "-0.5".
func (r Rate) String() string {
	var buf [48]byte
	return string(r.appendDecimal(buf[:0]))
}

// AppendText implements [encoding.TextAppender]: it appends the canonical decimal that String
// returns. It never fails.
func (r Rate) AppendText(b []byte) ([]byte, error) { return r.appendDecimal(b), nil }

// MarshalText implements [encoding.TextMarshaler]: it returns the canonical decimal that
// String returns, so JSON encodes a Rate as a string such as "0.35". It never fails.
func (r Rate) MarshalText() ([]byte, error) { return r.appendDecimal(nil), nil }

// UnmarshalText implements [encoding.TextUnmarshaler]: it accepts what ParseRate accepts. On
// error, r is unchanged.
func (r *Rate) UnmarshalText(text []byte) error {
	v, err := ParseRate(string(text))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

func (r Rate) appendDecimal(b []byte) []byte {
	if r.coef < 0 {
		b = append(b, '-')
	}
	return appendFixed(b, magnitude(r.coef), int(r.scale))
}

// appendFixed appends m × 10^-exp as a decimal with exactly exp decimals (none and no point if
// exp is 0) and at least one integer digit. exp must be 0 to 18.
func appendFixed(dst []byte, m uint64, exp int) []byte {
	var buf [40]byte // 20 digits of a uint64, 18 zeros of padding, '.', a leading '0'
	i := len(buf)
	for range exp {
		i--
		buf[i] = byte('0' + m%10)
		m /= 10
	}
	if exp > 0 {
		i--
		buf[i] = '.'
	}
	for {
		i--
		buf[i] = byte('0' + m%10)
		m /= 10
		if m == 0 {
			break
		}
	}
	return append(dst, buf[i:]...)
}
