package attribution

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// MaxSpanDays is the longest Span in days accepted (100 years): beyond it a window is a
// mistake, and calendar arithmetic stays far from time.Time's limits.
const MaxSpanDays = 36_600

// Span is the length of a window or a bound: either a number of calendar days in the
// campaign's IANA zone ([Days], "30d" in JSON) or an exact elapsed time ([Exactly], a Go
// duration such as "72h" in JSON). The zero Span is none: no window, no bound.
//
// The two kinds differ across a daylight-saving change. 30 days from 10:00 on 20 March in
// Europe/Malta ends at 10:00 on 19 April, 719 elapsed hours later, because the clocks went
// forward in between; "720h" ends at 11:00. Days are what a programme's terms mean by "a
// 30-day window"; hours are for the short bounds (a 10s time to convert, a 72h hold).
//
// A Span is comparable; two Spans are equal if they are of one kind and length ("24h" is not
// "1d").
type Span struct {
	days int32         // calendar days, or 0
	dur  time.Duration // exact elapsed time, or 0; never both set
}

// Days returns a Span of n calendar days (n ≥ 0). [Span.End] of it is the same wall-clock
// time n days later in the zone given. A negative n or one past MaxSpanDays gives the zero
// Span's opposite: an invalid Span that [Span.Valid] reports.
func Days(n int) Span {
	if n < 0 || n > MaxSpanDays {
		return Span{days: -1}
	}
	return Span{days: int32(n)}
}

// Exactly returns a Span of the exact elapsed time d (d ≥ 0). A negative d gives an invalid
// Span ([Span.Valid]).
func Exactly(d time.Duration) Span {
	if d < 0 {
		return Span{dur: -1}
	}
	return Span{dur: d}
}

// IsZero reports whether s is the zero Span: none.
func (s Span) IsZero() bool { return s.days == 0 && s.dur == 0 }

// Valid reports whether s is a Span that Days or Exactly can make from a valid length.
func (s Span) Valid() bool {
	return s.days >= 0 && s.dur >= 0 && int(s.days) <= MaxSpanDays && (s.days == 0 || s.dur == 0)
}

// Days returns the number of calendar days of a day Span, 0 for any other.
func (s Span) Days() int { return int(s.days) }

// Duration returns the exact elapsed time of a duration Span, 0 for any other.
func (s Span) Duration() time.Duration { return s.dur }

// End returns the instant at which a window of s opened at start ends, in the zone loc (nil
// is UTC); for the zero Span, the zero time (no end).
//
// A duration Span ends exactly s later (start.Add). A day Span ends at start's wall-clock
// time s days later in loc, so a 30-day window opened at 23:30 ends at 23:30, summer time or
// not. When that wall-clock time does not exist (the clocks went forward past it that night),
// the end is pushed forward by the gap (02:30 in a gap from 02:00 to 03:00 is 03:30); when it
// exists twice (the clocks went back), the end is the later of the two. Either way the
// window is never shorter than its days say.
//
// The end belongs to the window: an event at exactly End is inside it (see [Span.Contains]).
// Compare the instant End returns, not its location, which may be start's or loc.
func (s Span) End(start time.Time, loc *time.Location) time.Time {
	switch {
	case s.dur > 0:
		return start.Add(s.dur)
	case s.days > 0:
		return addDays(start, int(s.days), loc)
	}
	return time.Time{}
}

// Contains reports whether t falls in the window of s opened at start, in the zone loc:
// start ≤ t ≤ s.End(start, loc). Both ends are inclusive: an event at the instant the window
// ends is inside it, one nanosecond later outside. The zero Span contains every t not before
// start.
func (s Span) Contains(start, t time.Time, loc *time.Location) bool {
	if t.Before(start) {
		return false
	}
	return s.IsZero() || !t.After(s.End(start, loc))
}

// addDays returns start's wall-clock time n days later in loc.
func addDays(start time.Time, n int, loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	// Fast path: when the offset from UTC is the same at start and at n×24h later, that
	// instant has start's wall-clock time n days later, whatever happened in between. It is
	// the answer unless the clocks go back in the next hours (the time may then exist again,
	// later), which the general path below settles.
	local := start.In(loc)
	_, off := local.Zone()
	cand := start.Add(time.Duration(n) * 24 * time.Hour)
	if _, off2 := cand.In(loc).Zone(); off2 == off {
		if _, off3 := cand.Add(3 * time.Hour).In(loc).Zone(); off3 == off {
			return cand
		}
	}
	y, m, d := local.Date()
	hh, mm, ss := local.Clock()
	// wall is the target wall-clock time read as if it were UTC; the instant is wall less
	// the zone's offset at that instant. Real zones change their offset at most once in 72
	// hours, so the offsets a day and a half either side are the two candidates.
	wall := time.Date(y, m, d+n, hh, mm, ss, local.Nanosecond(), time.UTC)
	_, before := wall.Add(-36 * time.Hour).In(loc).Zone()
	_, after := wall.Add(36 * time.Hour).In(loc).Zone()
	tb := wall.Add(-time.Duration(before) * time.Second)
	ta := wall.Add(-time.Duration(after) * time.Second)
	_, ob := tb.In(loc).Zone()
	_, oa := ta.In(loc).Zone()
	switch okb, oka := ob == before, oa == after; {
	case okb && oka: // the wall-clock time exists twice (or once, if before == after): the later
		if ta.After(tb) {
			return ta.In(loc)
		}
		return tb.In(loc)
	case oka:
		return ta.In(loc)
	case okb:
		return tb.In(loc)
	}
	// The wall-clock time does not exist: it fell in a gap. Read with the offset before the
	// gap, it is pushed forward by the gap's length.
	return tb.In(loc)
}

// String returns "30d" for a day Span, a Go duration without its trailing zero units ("72h",
// "1h30m", "10s") for a duration Span, and "0s" for the zero Span.
func (s Span) String() string {
	switch {
	case s.days != 0:
		return strconv.Itoa(int(s.days)) + "d"
	case s.dur != 0:
		v := s.dur.String()
		if strings.HasSuffix(v, "m0s") {
			v = strings.TrimSuffix(v, "0s")
		}
		if strings.HasSuffix(v, "h0m") {
			v = strings.TrimSuffix(v, "0m")
		}
		return v
	}
	return "0s"
}

// MarshalText implements encoding.TextMarshaler with the form String returns. An invalid
// Span is an error.
func (s Span) MarshalText() ([]byte, error) {
	if !s.Valid() {
		return nil, fmt.Errorf("%w: invalid span", ErrInvalidConfig)
	}
	return []byte(s.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler: "30d" (whole calendar days, at most
// MaxSpanDays) or a non-negative Go duration ("72h", "90m", "1h30m", "10s"). "0d" and "0s"
// are the zero Span. Anything else is an error wrapping ErrInvalidConfig.
func (s *Span) UnmarshalText(text []byte) error {
	v, ok := parseSpan(string(text))
	if !ok {
		return fmt.Errorf("%w: span %q: want whole days like \"30d\" or a Go duration like \"72h\"", ErrInvalidConfig, text)
	}
	*s = v
	return nil
}

// parseSpan parses the text form of a Span.
func parseSpan(t string) (Span, bool) {
	if n, ok := strings.CutSuffix(t, "d"); ok {
		if n == "" || len(n) > 6 || strings.TrimLeft(n, "0123456789") != "" {
			return Span{}, false
		}
		days, err := strconv.Atoi(n)
		if err != nil || days > MaxSpanDays {
			return Span{}, false
		}
		return Span{days: int32(days)}, true
	}
	d, err := time.ParseDuration(t)
	if err != nil || d < 0 || t == "" || t[0] == '+' || t[0] == '-' {
		return Span{}, false
	}
	return Span{dur: d}, true
}

// appendText appends the form String returns.
func (s Span) appendText(b []byte) []byte {
	if s.days != 0 {
		return append(strconv.AppendInt(b, int64(s.days), 10), 'd')
	}
	return append(b, s.String()...)
}
