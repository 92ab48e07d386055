package money

import "strconv"

// RoundingMode says how a result that falls between two minor units is rounded. Every
// operation that can produce such a result takes a RoundingMode explicitly and rounds exactly
// once. The zero value is HalfEven.
type RoundingMode uint8

// The rounding modes. They match the General Decimal Arithmetic specification and Python's
// decimal module (ROUND_HALF_EVEN, ROUND_HALF_UP, ROUND_DOWN, ROUND_UP, ROUND_FLOOR,
// ROUND_CEILING).
const (
	// HalfEven rounds to the nearest minor unit, ties to the even one (banker's rounding).
	// It is the default.
	HalfEven RoundingMode = iota
	// HalfUp rounds to the nearest minor unit, ties away from zero (commercial rounding).
	HalfUp
	// Down rounds toward zero (truncation).
	Down
	// Up rounds away from zero.
	Up
	// Floor rounds toward negative infinity.
	Floor
	// Ceil rounds toward positive infinity.
	Ceil
)

// modeNames holds the text form of each RoundingMode, indexed by mode. It is never modified.
var modeNames = [...]string{"half_even", "half_up", "down", "up", "floor", "ceil"}

// valid reports whether m is one of the declared modes.
func (m RoundingMode) valid() bool { return int(m) < len(modeNames) }

// Valid reports whether m is one of the declared modes: what MarshalText accepts, checked
// without making its text.
func (m RoundingMode) Valid() bool { return m.valid() }

// String returns the mode's name: "half_even", "half_up", "down", "up", "floor" or "ceil".
// An undeclared value returns "RoundingMode(N)".
func (m RoundingMode) String() string {
	if m.valid() {
		return modeNames[m]
	}
	return "RoundingMode(" + strconv.Itoa(int(m)) + ")"
}

// AppendText implements [encoding.TextAppender]: it appends the mode's name. An undeclared
// value is an error wrapping ErrInvalidMode.
func (m RoundingMode) AppendText(b []byte) ([]byte, error) {
	if !m.valid() {
		return b, m.invalid()
	}
	return append(b, modeNames[m]...), nil
}

// MarshalText implements [encoding.TextMarshaler]: it returns the mode's name. An undeclared
// value is an error wrapping ErrInvalidMode.
func (m RoundingMode) MarshalText() ([]byte, error) { return m.AppendText(nil) }

// UnmarshalText implements [encoding.TextUnmarshaler]: it accepts exactly the names that String
// returns for the declared modes ("half_even", ...). Anything else is an error wrapping
// ErrInvalidMode, and m is unchanged.
func (m *RoundingMode) UnmarshalText(text []byte) error {
	for i, name := range modeNames {
		if string(text) == name {
			*m = RoundingMode(i)
			return nil
		}
	}
	return newError(ErrInvalidMode, "unknown rounding mode %s: want one of half_even, half_up, down, up, floor, ceil", quote(string(text)))
}

// invalid returns the error for an undeclared mode.
func (m RoundingMode) invalid() error {
	return newError(ErrInvalidMode, "invalid rounding mode %d", uint8(m))
}

// remainder classifies what is dropped when a value is cut to a whole number of minor units.
type remainder uint8

const (
	remZero      remainder = iota // nothing dropped: the value is exact
	remBelowHalf                  // 0 < dropped < 1/2
	remHalf                       // dropped == 1/2
	remAboveHalf                  // 1/2 < dropped < 1
)

// classifyDigit classifies a dropped part given its first decimal digit and whether any digit
// after it is non-zero.
func classifyDigit(first byte, sticky bool) remainder {
	switch {
	case first == 0 && !sticky:
		return remZero
	case first < 5:
		return remBelowHalf
	case first == 5 && !sticky:
		return remHalf
	default:
		return remAboveHalf
	}
}

// classifyFraction classifies the dropped part rem/d, where 0 <= rem < d <= 1<<63.
func classifyFraction(rem, d uint64) remainder {
	if rem == 0 {
		return remZero
	}
	half := d - rem // compare rem with d-rem instead of 2*rem with d, which could overflow
	switch {
	case rem < half:
		return remBelowHalf
	case rem == half:
		return remHalf
	default:
		return remAboveHalf
	}
}

// roundsAway reports whether a magnitude that was cut toward zero must be incremented by one,
// given the mode, the sign of the exact value, whether the cut magnitude is odd, and the
// dropped remainder. The mode must be valid.
func roundsAway(m RoundingMode, neg, odd bool, r remainder) bool {
	if r == remZero {
		return false
	}
	switch m {
	case HalfEven:
		return r == remAboveHalf || (r == remHalf && odd)
	case HalfUp:
		return r >= remHalf
	case Up:
		return true
	case Floor:
		return neg
	case Ceil:
		return !neg
	default: // Down
		return false
	}
}
