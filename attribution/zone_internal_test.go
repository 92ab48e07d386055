package attribution

import (
	"math/rand/v2"
	"testing"
	"time"
)

// zoneNames are the zones the table is checked in: daylight saving in the northern and the
// southern summer (Malta, Toronto, Santiago, Sydney), a half-hour change (Lord Howe), a
// day skipped (Apia, 30 December 2011) and a day jumped (Kwajalein, 1993), +14
// (Kiritimati), offsets changed for good (Moscow, Istanbul), odd offsets (St John's,
// Kathmandu), a two-hour change (Troll), a DST suspended each Ramadan (Casablanca), and UTC.
var zoneNames = []string{"UTC", "Europe/Malta", "America/Toronto", "America/Santiago", "Australia/Sydney",
	"Australia/Lord_Howe", "Pacific/Apia", "Pacific/Kwajalein", "Pacific/Kiritimati", "Europe/London",
	"Europe/Moscow", "Europe/Istanbul", "America/St_Johns", "Asia/Kathmandu", "Antarctica/Troll", "Africa/Casablanca"}

func loadZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestZone_Offsets: the table gives time.Location's offset at every instant: either side of
// every change, at a random time of every day of the table's years (so that no period of a
// day or more is missed), and at random instants in and beyond them. (Run once over every
// zone of the system's tzdata, 601 of them, this and TestZone_End found no difference.)
func TestZone_Offsets(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 8))
	for _, name := range zoneNames {
		loc := loadZone(t, name)
		z := newZone(loc)
		check := func(u int64) {
			_, want := time.Unix(u, 0).In(loc).Zone()
			if got := z.offset(u); got != int64(want) {
				t.Fatalf("%s: offset at %s: got %d, want %d", name, time.Unix(u, 0).UTC(), got, want)
			}
		}
		for i, s := range z.start {
			if i > 0 && z.off[i] == z.off[i-1] {
				t.Fatalf("%s: periods %d and %d have one offset: not merged", name, i-1, i)
			}
			for _, d := range []int64{-3601, -1, 0, 1, 3600} {
				check(s + d)
			}
		}
		for u := zoneFrom; u < zoneTo; u += 86400 {
			check(u + rng.Int64N(86400))
		}
		for range 20_000 {
			check(zoneFrom - 86400*365 + rng.Int64N(zoneTo-zoneFrom+2*86400*365))
		}
	}
}

// TestZone_End: a day window's end read from the table is Span.End's, for starts either
// side of every change in the zones above and at random, for windows of a day to a century;
// and a duration window ends exactly later.
func TestZone_End(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(9, 10))
	for _, name := range zoneNames {
		loc := loadZone(t, name)
		z := newZone(loc)
		check := func(start time.Time, s Span) {
			want, got := s.End(start, loc), z.end(s, start)
			if !got.Equal(want) {
				t.Fatalf("%s: %s from %s: got %s, want %s", name, s, start.In(loc), got.In(loc), want.In(loc))
			}
		}
		spans := []Span{Days(1), Days(2), Days(7), Days(30), Days(90), Days(365), Days(MaxSpanDays), Exactly(72 * time.Hour), {}}
		for _, s := range z.start {
			// Starts a window's length before a change, so that the end meets the change.
			for _, sp := range spans[:5] {
				for _, d := range []int64{-7200, -3600, -1800, -1, 0, 1, 1800, 3600, 7200} {
					check(time.Unix(s+d-int64(sp.days)*86400, int64(rng.IntN(1e9))), sp)
				}
			}
		}
		for range 20_000 {
			u := zoneFrom - 86400*365 + rng.Int64N(zoneTo-zoneFrom+2*86400*365)
			check(time.Unix(u, int64(rng.IntN(1e9))), spans[rng.IntN(len(spans))])
		}
	}
}

// TestZone_Local: the wall-clock time read from the table is what time.Time.In reads.
func TestZone_Local(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(11, 12))
	for _, name := range zoneNames {
		loc := loadZone(t, name)
		z := newZone(loc)
		for range 20_000 {
			tt := time.Unix(zoneFrom-86400*365+rng.Int64N(zoneTo-zoneFrom+2*86400*365), int64(rng.IntN(1e9)))
			l, got := tt.In(loc), z.local(tt)
			want := time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), l.Nanosecond(), time.UTC)
			if !got.Equal(want) || got.Location() != time.UTC {
				t.Fatalf("%s: %s: got %s, want %s", name, tt.UTC(), got, want)
			}
		}
	}
}

// TestZone_Years: the table's years are what its constants say, and a zone without changes
// (UTC, a fixed offset) is one period.
func TestZone_Years(t *testing.T) {
	t.Parallel()
	if got := time.Unix(zoneFrom, 0).UTC(); !got.Equal(time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("zoneFrom is %s", got)
	}
	if got := time.Unix(zoneTo, 0).UTC(); !got.Equal(time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("zoneTo is %s", got)
	}
	for _, loc := range []*time.Location{nil, time.UTC, time.FixedZone("X", -(9*3600 + 30*60))} {
		z := newZone(loc)
		if len(z.start) != 1 || z.minOff != z.maxOff {
			t.Fatalf("%v: %d periods", loc, len(z.start))
		}
	}
}

// BenchmarkNewZone: what New spends on each zone of a Config, beside loading the zone.
func BenchmarkNewZone(b *testing.B) {
	b.Run("baseline_load_location", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := time.LoadLocation("Europe/Malta"); err != nil {
				b.Fatal(err)
			}
		}
	})
	loc, err := time.LoadLocation("Europe/Malta")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("new_zone", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			newZone(loc)
		}
	})
}
