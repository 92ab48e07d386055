package money

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ParseOptions relaxes Parse. The zero value (and a nil *ParseOptions) is the strict default:
// '.' is the only decimal separator and digits beyond the currency's exponent are an error.
type ParseOptions struct {
	// DecimalComma also accepts ',' as the decimal separator ("10,5"). Thousands separators
	// are never accepted: with DecimalComma, "1,000" means 1.000.
	DecimalComma bool
	// Round rounds digits beyond the currency's exponent with Mode instead of refusing them.
	// The digits are rounded exactly once, however many there are.
	Round bool
	// Mode is the rounding mode used when Round is true. Its zero value is HalfEven.
	Mode RoundingMode
}

// Parse returns the amount that the decimal string s denotes in currency cur.
//
// The grammar is strict: an optional leading '-', one or more ASCII digits, then optionally the
// decimal separator ('.', or also ',' with ParseOptions.DecimalComma) and one or more digits.
// Leading zeros are allowed and "-0" is zero. Nothing else is accepted: no '+', whitespace,
// thousands or '_' separators, exponents, hexadecimal, NaN, infinities or non-ASCII digits;
// such input is an error wrapping ErrSyntax that names the problem.
//
// s may have at most cur.Exponent() decimals ("10.005" EUR is an error wrapping ErrPrecision,
// and so is "10.500": decimals are counted, not their value) unless opts.Round is set, in which
// case the excess is rounded once with opts.Mode. A value beyond the int64 range of minor units,
// before or after rounding, is an error wrapping ErrOverflow. An invalid cur is an error
// wrapping ErrUnknownCurrency. A nil opts means the zero ParseOptions.
//
// Parse does not allocate unless it returns an error.
func Parse(s string, cur Currency, opts *ParseOptions) (Amount, error) {
	var o ParseOptions
	if opts != nil {
		o = *opts
	}
	exp := cur.Exponent()
	if exp < 0 {
		return Amount{}, newError(ErrUnknownCurrency, "invalid amount %s: currency %s is not a known currency", quote(s), cur.describe())
	}
	neg, ip, fp, ok := scanDecimal(s, o.DecimalComma)
	if !ok {
		return Amount{}, syntaxError("amount", s, o.DecimalComma)
	}
	if o.Round && !o.Mode.valid() {
		return Amount{}, newError(ErrInvalidMode, "invalid amount %s: invalid rounding mode %d", quote(s), uint8(o.Mode))
	}
	if len(fp) > exp && !o.Round {
		return Amount{}, newError(ErrPrecision, "invalid amount %s for %s: %s, %s allows %d", quote(s), cur, places(len(fp)), cur, exp)
	}
	m, ok := accumulate(0, ip)
	n := min(len(fp), exp)
	if ok {
		m, ok = accumulate(m, fp[:n])
	}
	for ; ok && n < exp; n++ {
		m, ok = accumulate(m, "0")
	}
	limit := maxMagnitude(neg)
	if !ok || m > limit {
		return Amount{}, parseOverflow(s, cur)
	}
	if len(fp) > exp {
		sticky := strings.TrimRight(fp[exp+1:], "0") != ""
		if roundsAway(o.Mode, neg, m&1 == 1, classifyDigit(fp[exp]-'0', sticky)) {
			if m == limit {
				return Amount{}, parseOverflow(s, cur)
			}
			m++
		}
	}
	return Amount{minor: signed(m, neg), cur: cur}, nil
}

// MustParse is like Parse with nil options but panics if s cannot be parsed. It is meant for
// constants in programs and tests.
func MustParse(s string, cur Currency) Amount {
	a, err := Parse(s, cur, nil)
	if err != nil {
		panic(err)
	}
	return a
}

// places returns "1 decimal place" or "n decimal places".
func places(n int) string {
	if n == 1 {
		return "1 decimal place"
	}
	return strconv.Itoa(n) + " decimal places"
}

func parseOverflow(s string, cur Currency) error {
	return newError(ErrOverflow, "invalid amount %s for %s: out of the int64 range of minor units (overflow)", quote(s), cur)
}

// scanDecimal splits s by the strict grammar -?[0-9]+([.][0-9]+)? (with ',' also a separator if
// comma is set) into its sign, integer digits and fraction digits. ok is false if s does not
// match.
func scanDecimal(s string, comma bool) (neg bool, ip, fp string, ok bool) {
	i := 0
	if len(s) > 0 && s[0] == '-' {
		neg = true
		i = 1
	}
	start := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i == start {
		return false, "", "", false
	}
	ip = s[start:i]
	if i == len(s) {
		return neg, ip, "", true
	}
	if c := s[i]; c != '.' && (!comma || c != ',') {
		return false, "", "", false
	}
	i++
	fs := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i == fs || i != len(s) {
		return false, "", "", false
	}
	return neg, ip, s[fs:], true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// cutoff is the largest magnitude m for which m*10+9 cannot pass 1<<64:
// 922337203685477580*10 + 9 = 9223372036854775809.
const cutoff = (1 << 63) / 10

// accumulate appends the decimal digits to m. It reports false once the value passes
// 1<<63 + 9, which is beyond every int64 magnitude, so the caller reports an overflow; otherwise
// the caller still compares the result with its limit.
func accumulate(m uint64, digits string) (uint64, bool) {
	for i := 0; i < len(digits); i++ {
		if m > cutoff {
			return 0, false
		}
		m = m*10 + uint64(digits[i]-'0')
	}
	return m, true
}

// maxMagnitude is the largest magnitude of an int64 with the given sign.
func maxMagnitude(neg bool) uint64 {
	if neg {
		return 1 << 63
	}
	return 1<<63 - 1
}

// signed returns the int64 with magnitude m (at most maxMagnitude(neg)) and the given sign.
func signed(m uint64, neg bool) int64 {
	v := int64(m) // 1<<63 becomes math.MinInt64, which is right for neg
	if neg {
		v = -v
	}
	return v
}

// magnitude returns |v| as a uint64 (exact for math.MinInt64).
func magnitude(v int64) uint64 {
	if v < 0 {
		return -uint64(v)
	}
	return uint64(v)
}

// syntaxError returns the ErrSyntax error for an input that scanDecimal refused.
func syntaxError(what, s string, comma bool) error {
	return newError(ErrSyntax, "invalid %s %s: %s", what, quote(s), describeSyntax(s, comma, what == "rate"))
}

// describeSyntax names the first problem of a string that the strict grammar refuses. It runs
// on the error path only.
func describeSyntax(s string, comma, rate bool) string {
	if s == "" {
		return "empty string"
	}
	for i, r := range s {
		if unicode.IsSpace(r) {
			switch {
			case i == 0:
				return "leading whitespace is not allowed"
			case strings.TrimRightFunc(s[i:], unicode.IsSpace) == "":
				return "trailing whitespace is not allowed"
			default:
				return "whitespace inside a number is not allowed"
			}
		}
	}
	for _, r := range s {
		switch {
		case r < utf8.RuneSelf:
			continue
		case r == '\u2212':
			return "the minus sign must be ASCII '-', not U+2212"
		case unicode.IsDigit(r):
			return fmt.Sprintf("non-ASCII digit %q is not allowed: only 0-9", r)
		default:
			return fmt.Sprintf("non-ASCII character %q is not allowed", r)
		}
	}
	body := s
	if body[0] == '-' {
		body = body[1:]
	}
	if body == "" {
		return "missing digits after the minus sign"
	}
	if body[0] == '+' {
		return "a plus sign is not allowed"
	}
	switch strings.ToLower(body) {
	case "nan":
		return "NaN is not allowed"
	case "inf", "infinity":
		return "infinity is not allowed"
	}
	if len(body) >= 2 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X') {
		return "hexadecimal notation is not allowed"
	}
	seenSep := false
	before, after := 0, 0
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case isDigit(c):
			if seenSep {
				after++
			} else {
				before++
			}
		case c == '.' || (comma && c == ','):
			if seenSep {
				return "more than one decimal separator"
			}
			if before == 0 {
				return fmt.Sprintf("missing digits before the decimal separator %q", c)
			}
			seenSep = true
		case c == ',' && rate:
			return "',' is not allowed: no thousands separators or decimal commas in a rate"
		case c == ',':
			return "',' is not allowed: no thousands separators, and a decimal comma needs ParseOptions.DecimalComma"
		case c == 'e' || c == 'E':
			return "exponent notation is not allowed"
		case c == 'x' || c == 'X' || c == 'p' || c == 'P':
			return "hexadecimal notation is not allowed"
		case c == '_':
			return "digit separator '_' is not allowed"
		case c == '-':
			return "misplaced minus sign"
		case c == '+':
			return "a plus sign is not allowed"
		case c == '%' && rate:
			return "misplaced percent sign"
		default:
			return fmt.Sprintf("unexpected character %q", c)
		}
	}
	if seenSep && after == 0 {
		return "missing digits after the decimal separator"
	}
	if before == 0 {
		return "missing digits"
	}
	return "invalid syntax"
}
