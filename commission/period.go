package commission

import (
	"fmt"
	"time"
)

// PeriodUnit is the length of a statement period.
type PeriodUnit string

// The period units. The zero value means Month.
const (
	Month PeriodUnit = "month"
	Week  PeriodUnit = "week" // Monday to Monday
	Day   PeriodUnit = "day"
)

// Period is the half-open interval [Start, End) of a statement period, with both instants in
// the period's time zone. Boundaries are local midnights computed with time.Date, so a month
// in Europe/Malta that spans a change to or from summer time has the right instants (and is
// an hour shorter or longer than its days suggest).
type Period struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// validate checks that u is a period unit (or empty, for Month).
func (u PeriodUnit) validate() error {
	switch u {
	case "", Month, Week, Day:
		return nil
	}
	return fmt.Errorf("%w: program: period: unknown unit %q (want month, week or day)", ErrInvalidPlan, u)
}

// PeriodOf returns the period of unit that contains t, in loc (nil means UTC). An unknown
// unit is treated as Month.
func PeriodOf(t time.Time, unit PeriodUnit, loc *time.Location) Period {
	if loc == nil {
		loc = time.UTC
	}
	lt := t.In(loc)
	y, m, d := lt.Date()
	var start, end time.Time
	switch unit {
	case Day:
		start = time.Date(y, m, d, 0, 0, 0, 0, loc)
		end = time.Date(y, m, d+1, 0, 0, 0, 0, loc)
	case Week:
		back := (int(lt.Weekday()) + 6) % 7 // days since Monday
		start = time.Date(y, m, d-back, 0, 0, 0, 0, loc)
		end = time.Date(y, m, d-back+7, 0, 0, 0, 0, loc)
	default:
		start = time.Date(y, m, 1, 0, 0, 0, 0, loc)
		end = time.Date(y, m+1, 1, 0, 0, 0, 0, loc)
	}
	return Period{Start: start, End: end}
}

// Contains reports whether t is in [Start, End).
func (p Period) Contains(t time.Time) bool { return !t.Before(p.Start) && t.Before(p.End) }

// IsZero reports whether p is the zero Period.
func (p Period) IsZero() bool { return p.Start.IsZero() && p.End.IsZero() }

// String returns the period as two RFC 3339 instants: "2026-03-01T00:00:00+01:00/2026-04-01T00:00:00+02:00".
func (p Period) String() string {
	return fmt.Sprintf("%s/%s", p.Start.Format(time.RFC3339), p.End.Format(time.RFC3339))
}
