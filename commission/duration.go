package commission

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Duration is a length of time in a plan. In JSON it is a string: a Go duration such as
// "720h" or "90m", or a whole number of days such as "30d"; a JSON integer is also read as a
// number of days. It is encoded back as a Go duration string ("720h0m0s"), or as days ("30d")
// when it is a whole number of days. The zero value means "no limit" or "none", as each field
// says.
type Duration time.Duration

const day = 24 * time.Hour

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// String returns "30d" for a whole number of days and the time.Duration form otherwise.
func (d Duration) String() string {
	if d != 0 && time.Duration(d)%day == 0 {
		return strconv.FormatInt(int64(time.Duration(d)/day), 10) + "d"
	}
	return time.Duration(d).String()
}

// MarshalText implements encoding.TextMarshaler with the form String returns.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler: it accepts "30d" (whole days) or what
// time.ParseDuration accepts. Negative durations are refused.
func (d *Duration) UnmarshalText(text []byte) error {
	s := string(text)
	var v time.Duration
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.ParseInt(n, 10, 64)
		if err != nil || days < 0 || days > int64(1<<63-1)/int64(day) {
			return fmt.Errorf("%w: duration %q: want whole days like \"30d\" or a Go duration like \"720h\"", ErrInvalidPlan, s)
		}
		v = time.Duration(days) * day
	} else {
		var err error
		v, err = time.ParseDuration(s)
		if err != nil || v < 0 {
			return fmt.Errorf("%w: duration %q: want whole days like \"30d\" or a Go duration like \"720h\"", ErrInvalidPlan, s)
		}
	}
	*d = Duration(v)
	return nil
}

// UnmarshalJSON implements json.Unmarshaler: a string as UnmarshalText accepts, or a JSON
// integer of days.
func (d *Duration) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		s, err := strconv.Unquote(string(b))
		if err != nil {
			return fmt.Errorf("%w: duration %s: %v", ErrInvalidPlan, b, err)
		}
		return d.UnmarshalText([]byte(s))
	}
	if string(b) == "null" {
		return nil
	}
	return d.UnmarshalText(append(b, 'd'))
}
