package attribution

import (
	"slices"
	"time"
)

// zone is a campaign's IANA zone, compiled for calendar arithmetic: its offsets from UTC,
// period by period, over the years a decision meets (zoneFrom to zoneTo), found once by New
// with time.Time.ZoneBounds. Reading the table is an index and a step or two in a slice;
// asking time.Location is a binary search, or, for an instant past the zone file's last
// transition, a new reading of the zone's rule (its POSIX TZ string), except in the one
// period it caches (the one around the time the zone was loaded). A 30-day window across a
// DST change needs several such lookups, and they were half the cost of a decision.
//
// A zone is immutable once made and shared by every decision (and by every campaign of the
// Config in the same zone): it needs no lock. Outside its years, its methods do what Span.End
// and time.Time.In do with the time.Location, which is also what they are tested against.
type zone struct {
	loc *time.Location
	// start[i] is the instant (Unix seconds) at which period i begins, and off[i] the
	// offset (seconds east of UTC) in it; start[0] is zoneFrom, and the last period ends at
	// zoneTo. Periods of equal offset are merged: only the offset matters here.
	start []int64
	off   []int32
	// first[b] is the period in which bucket b (the bucketLen seconds from zoneFrom +
	// b×bucketLen) begins, so that finding the period of an instant takes an index and a
	// step or two, not a search.
	first []uint16
	// minOff and maxOff are the least and greatest of off.
	minOff, maxOff int32
}

// bucketShift sets the length of the buckets of zone.first: 2^21 s, some 24 days, shorter
// than nearly every period of every zone, so that a bucket holds one change or two.
const (
	bucketShift = 21
	bucketLen   = 1 << bucketShift
)

// The years the zone tables cover: from 1970 to 2100, which holds every click and event a
// tracker meets and the ends of their windows (a window of up to MaxSpanDays opened late
// in the century ends past 2100, and is computed with the time.Location, as are instants
// before 1970). A zone has one or two periods a year, so its table is a few hundred
// entries, built in well under a millisecond.
const (
	zoneFrom int64 = 0          // 1970-01-01T00:00:00Z
	zoneTo   int64 = 4102444800 // 2100-01-01T00:00:00Z
)

// newZone compiles loc (nil is UTC).
func newZone(loc *time.Location) *zone {
	if loc == nil {
		loc = time.UTC
	}
	z := &zone{loc: loc}
	offset := func(u int64) int32 {
		_, off := time.Unix(u, 0).In(loc).Zone()
		return int32(off)
	}
	for u := zoneFrom; u < zoneTo; {
		off := offset(u)
		if n := len(z.off); n == 0 || z.off[n-1] != off {
			z.start = append(z.start, u)
			z.off = append(z.off, off)
		}
		_, end := time.Unix(u, 0).In(loc).ZoneBounds()
		if end.IsZero() {
			break // the zone's last period goes on for ever
		}
		next := end.Unix()
		if next <= u {
			// ZoneBounds is wrong here: past the zone file's last transition, Go's reading of
			// the zone's rule ends a leap year a day early (in Europe/Malta, an instant of
			// 2040-12-31 is given a period that ended before it). Step a day instead, and
			// find a change of offset in it, if any, by bisection.
			next = u + 86400
			if offset(next) != off {
				lo, hi := u, next // offset(lo) is off, offset(hi) is not
				for hi-lo > 1 {
					if m := lo + (hi-lo)/2; offset(m) == off {
						lo = m
					} else {
						hi = m
					}
				}
				next = hi
			}
		}
		u = next
	}
	z.minOff, z.maxOff = slices.Min(z.off), slices.Max(z.off)
	z.first = make([]uint16, (zoneTo-zoneFrom+bucketLen-1)/bucketLen)
	i := 0
	for b := range z.first {
		for u := zoneFrom + int64(b)*bucketLen; i+1 < len(z.start) && z.start[i+1] <= u; {
			i++
		}
		z.first[b] = uint16(i)
	}
	return z
}

// period returns the index of the period that contains the Unix second u, and false if u
// is outside the table's years.
func (z *zone) period(u int64) (int, bool) {
	if u < zoneFrom || u >= zoneTo {
		return 0, false
	}
	// The last period whose start is ≤ u, from the one the bucket begins in.
	i := int(z.first[(u-zoneFrom)>>bucketShift])
	for i+1 < len(z.start) && z.start[i+1] <= u {
		i++
	}
	return i, true
}

// offset returns the offset of the zone at the Unix second u, in seconds east of UTC.
func (z *zone) offset(u int64) int64 {
	if i, ok := z.period(u); ok {
		return int64(z.off[i])
	}
	_, off := time.Unix(u, 0).In(z.loc).Zone()
	return int64(off)
}

// end returns s.End(start, z.loc), reading the table instead of the time.Location.
func (z *zone) end(s Span, start time.Time) time.Time {
	switch {
	case s.dur > 0:
		return start.Add(s.dur)
	case s.days > 0:
		return z.addDays(start, int(s.days))
	}
	return time.Time{}
}

// addDays returns start's wall-clock time n days later in the zone, as addDays does with
// the time.Location: a time the clocks skip is pushed forward by the gap, and a time that
// exists twice is the later of its two instants. The table makes it exact without addDays'
// assumption that a zone changes its offset at most once in 72 hours.
func (z *zone) addDays(start time.Time, n int) time.Time {
	u := start.Unix()
	i, ok := z.period(u)
	if !ok {
		return addDays(start, n, z.loc)
	}
	off := z.off[i]
	wall := u + int64(off) + int64(n)*86400 // the wall-clock time n days later, read as if UTC
	// Fast path: the instant with start's offset, if the zone has that offset then and no
	// later period could give the wall-clock time again (the clocks going back soon after).
	cand := wall - int64(off)
	if j, ok := z.period(cand); ok && z.off[j] == off && (j+1 == len(z.start) || z.start[j+1] > wall-int64(z.minOff)) {
		return time.Unix(cand, int64(start.Nanosecond())).In(z.loc)
	}
	r, ok := z.instant(wall)
	if !ok {
		return addDays(start, n, z.loc)
	}
	return time.Unix(r, int64(start.Nanosecond())).In(z.loc)
}

// instant returns the instant (Unix seconds) at which the zone's clocks read wall (a
// wall-clock time read as if UTC): the later one if they read it twice; if they never read
// it (it fell in a gap when the clocks went forward), wall read with the offset before the
// gap, which is as far past the gap's start as wall is. It is false outside the table.
func (z *zone) instant(wall int64) (int64, bool) {
	// An instant with that wall-clock time is within [lo, hi]: the zone's offsets bound it.
	lo, hi := wall-int64(z.maxOff), wall-int64(z.minOff)
	k0, ok := z.period(lo)
	if !ok || hi >= zoneTo {
		return 0, false
	}
	n := len(z.start)
	end := func(k int) int64 {
		if k+1 == n {
			return zoneTo
		}
		return z.start[k+1]
	}
	// The periods that may hold it, in order: of two that do, the later period has the
	// later instant.
	found, r := false, int64(0)
	for k := k0; k < n && z.start[k] <= hi; k++ {
		if u := wall - int64(z.off[k]); z.start[k] <= u && u < end(k) {
			found, r = true, u
		}
	}
	if found {
		return r, true
	}
	// A gap: the first period in which wall reads before the period began follows the gap;
	// the period before it (k0 is never that first one: wall read with its offset is ≥ lo)
	// has the offset before the gap.
	for k := k0 + 1; k < n && z.start[k] <= hi; k++ {
		if wall-int64(z.off[k]) < z.start[k] {
			return wall - int64(z.off[k-1]), true
		}
	}
	return 0, false // unreachable for a consistent table; time.Location settles it
}

// local returns the wall-clock time of t in the zone, as a time in UTC: what t.In(z.loc)
// reads, for Date and ISOWeek, without the time.Location's lookups.
func (z *zone) local(t time.Time) time.Time {
	u := t.Unix()
	if i, ok := z.period(u); ok {
		return time.Unix(u+int64(z.off[i]), int64(t.Nanosecond())).UTC()
	}
	l := t.In(z.loc)
	y, m, d := l.Date()
	hh, mm, ss := l.Clock()
	return time.Date(y, m, d, hh, mm, ss, l.Nanosecond(), time.UTC)
}
