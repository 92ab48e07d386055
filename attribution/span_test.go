package attribution_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/attribution"
)

func zone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}

func TestSpan_Text(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]attribution.Span{
		"30d":    attribution.Days(30),
		"1d":     attribution.Days(1),
		"36600d": attribution.Days(attribution.MaxSpanDays),
		"0d":     {},
		"0s":     {},
		"72h":    attribution.Exactly(72 * time.Hour),
		"90m":    attribution.Exactly(90 * time.Minute),
		"10s":    attribution.Exactly(10 * time.Second),
		"1.5h":   attribution.Exactly(90 * time.Minute),
		"250ms":  attribution.Exactly(250 * time.Millisecond),
	} {
		var s attribution.Span
		require.NoError(t, s.UnmarshalText([]byte(in)), in)
		require.Equal(t, want, s, in)
		out, err := s.MarshalText()
		require.NoError(t, err)
		var back attribution.Span
		require.NoError(t, back.UnmarshalText(out), "%s encodes as %s", in, out)
		require.Equal(t, s, back, "rule: a span round-trips through its text")
	}
	for s, want := range map[attribution.Span]string{
		attribution.Days(30):                         "30d",
		attribution.Exactly(72 * time.Hour):          "72h",
		attribution.Exactly(90 * time.Minute):        "1h30m",
		attribution.Exactly(10 * time.Second):        "10s",
		attribution.Exactly(time.Hour + time.Second): "1h0m1s",
		{}: "0s",
	} {
		require.Equal(t, want, s.String())
	}
	require.NotEqual(t, attribution.Days(1), attribution.Exactly(24*time.Hour), "rule: a day is not 24 hours")
	for _, bad := range []string{"", "d", "-1d", "+1d", "1.5d", "1e3d", " 3d", "3d ", "36601d", "9999999d", "-3h", "+3h", "3", "abc", "3h d", "1d2h"} {
		var s attribution.Span
		require.ErrorIs(t, s.UnmarshalText([]byte(bad)), attribution.ErrInvalidConfig, "%q", bad)
	}
	for _, bad := range []attribution.Span{attribution.Days(-1), attribution.Days(attribution.MaxSpanDays + 1), attribution.Exactly(-time.Second)} {
		require.False(t, bad.Valid())
		_, err := bad.MarshalText()
		require.ErrorIs(t, err, attribution.ErrInvalidConfig)
	}
	b, err := json.Marshal(struct {
		W attribution.Span `json:"w"`
	}{attribution.Days(7)})
	require.NoError(t, err)
	require.JSONEq(t, `{"w":"7d"}`, string(b))
}

// TestSpan_End: a day span ends at the same wall-clock time N days later in the zone, across
// DST changes in Europe/Malta and America/Toronto; a duration span ends exactly later.
func TestSpan_End(t *testing.T) {
	t.Parallel()
	malta, toronto := zone(t, "Europe/Malta"), zone(t, "America/Toronto")
	for _, tc := range []struct {
		name    string
		span    attribution.Span
		start   time.Time
		loc     *time.Location
		want    time.Time
		elapsed time.Duration
	}{
		{"Malta: 30 days over spring forward are 719 hours", attribution.Days(30),
			time.Date(2026, 3, 20, 10, 0, 0, 0, malta), malta, time.Date(2026, 4, 19, 10, 0, 0, 0, malta), 719 * time.Hour},
		{"Malta: 720h over spring forward ends an hour later on the clock", attribution.Exactly(720 * time.Hour),
			time.Date(2026, 3, 20, 10, 0, 0, 0, malta), malta, time.Date(2026, 4, 19, 11, 0, 0, 0, malta), 720 * time.Hour},
		{"Malta: 30 days over fall back are 721 hours", attribution.Days(30),
			time.Date(2026, 10, 10, 23, 30, 0, 0, malta), malta, time.Date(2026, 11, 9, 23, 30, 0, 0, malta), 721 * time.Hour},
		{"Toronto: 30 days over fall back are 721 hours", attribution.Days(30),
			time.Date(2026, 10, 20, 9, 0, 0, 0, toronto), toronto, time.Date(2026, 11, 19, 9, 0, 0, 0, toronto), 721 * time.Hour},
		{"Toronto: 30 days over spring forward are 719 hours", attribution.Days(30),
			time.Date(2026, 2, 20, 9, 0, 0, 0, toronto), toronto, time.Date(2026, 3, 22, 9, 0, 0, 0, toronto), 719 * time.Hour},
		{"Toronto: a time in the spring gap is pushed forward by the gap", attribution.Days(7),
			time.Date(2026, 3, 1, 2, 30, 0, 0, toronto), toronto, time.Date(2026, 3, 8, 7, 30, 0, 0, time.UTC), 168 * time.Hour},
		{"Malta: a time in the spring gap is pushed forward by the gap", attribution.Days(7),
			time.Date(2026, 3, 22, 2, 30, 0, 0, malta), malta, time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC), 168 * time.Hour},
		{"Toronto: a time that exists twice is the later (start in summer time)", attribution.Days(7),
			time.Date(2026, 10, 25, 1, 30, 0, 0, toronto), toronto, time.Date(2026, 11, 1, 6, 30, 0, 0, time.UTC), 169 * time.Hour},
		{"Malta: a time that exists twice is the later (start in summer time)", attribution.Days(7),
			time.Date(2026, 10, 18, 2, 30, 0, 0, malta), malta, time.Date(2026, 10, 25, 1, 30, 0, 0, time.UTC), 169 * time.Hour},
		{"Malta: a time that exists twice is the later (start in winter time)", attribution.Days(364),
			time.Date(2025, 10, 26, 2, 30, 0, 0, malta), malta, time.Date(2026, 10, 25, 1, 30, 0, 0, time.UTC), 364 * 24 * time.Hour},
		{"UTC when no zone is given", attribution.Days(1),
			time.Date(2026, 3, 28, 12, 0, 0, 0, malta), nil, time.Date(2026, 3, 29, 12, 0, 0, 0, malta).Add(time.Hour), 24 * time.Hour},
		{"leap day", attribution.Days(1),
			time.Date(2028, 2, 28, 12, 0, 0, 0, time.UTC), time.UTC, time.Date(2028, 2, 29, 12, 0, 0, 0, time.UTC), 24 * time.Hour},
	} {
		got := tc.span.End(tc.start, tc.loc)
		require.True(t, tc.want.Equal(got), "%s: want %s, got %s", tc.name, tc.want, got)
		require.Equal(t, tc.elapsed, got.Sub(tc.start), tc.name)
	}
	require.True(t, attribution.Span{}.End(time.Now(), time.UTC).IsZero(), "rule: no span, no end")
}

// TestSpan_EndOracle checks day spans against time.Date for every hour of two years in
// both zones: the same instant, except where the wall-clock time exists twice, where the
// end is the later instant with the same wall-clock time.
func TestSpan_EndOracle(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"Europe/Malta", "America/Toronto", "Australia/Lord_Howe", "UTC"} {
		loc := zone(t, name)
		for start := time.Date(2025, 1, 1, 0, 17, 0, 0, loc); start.Year() < 2027; start = start.Add(time.Hour) {
			for _, n := range []int{1, 7, 30} {
				got := attribution.Days(n).End(start, loc)
				l := start.In(loc)
				want := time.Date(l.Year(), l.Month(), l.Day()+n, l.Hour(), l.Minute(), l.Second(), l.Nanosecond(), time.UTC) // the wall clock
				g := got.In(loc)
				wall := time.Date(g.Year(), g.Month(), g.Day(), g.Hour(), g.Minute(), g.Second(), g.Nanosecond(), time.UTC)
				naive := time.Date(l.Year(), l.Month(), l.Day()+n, l.Hour(), l.Minute(), l.Second(), l.Nanosecond(), loc)
				nv := naive.In(loc)
				exists := time.Date(nv.Year(), nv.Month(), nv.Day(), nv.Hour(), nv.Minute(), nv.Second(), nv.Nanosecond(), time.UTC).Equal(want)
				switch {
				case !exists: // a gap: pushed forward by its length
					_, before := got.Add(-6 * time.Hour).Zone()
					_, after := got.Zone()
					require.Equal(t, time.Duration(after-before)*time.Second, wall.Sub(want), "%s %s +%dd: %s", name, start, n, g)
				case got.Equal(naive):
					require.True(t, wall.Equal(want))
				default: // twice: the later
					require.True(t, wall.Equal(want), "%s %s +%dd: %s, want the wall clock %s", name, start, n, g, want)
					require.True(t, got.After(naive), "%s %s +%dd: %s, time.Date %s", name, start, n, g, nv)
				}
				require.True(t, got.Add(-time.Nanosecond).In(loc).Before(got.In(loc)))
			}
		}
	}
}

// TestSpan_Contains: both ends are inside, one nanosecond beyond is not.
func TestSpan_Contains(t *testing.T) {
	t.Parallel()
	malta := zone(t, "Europe/Malta")
	start := time.Date(2026, 3, 20, 10, 0, 0, 0, malta)
	for _, s := range []attribution.Span{attribution.Days(30), attribution.Exactly(72 * time.Hour)} {
		end := s.End(start, malta)
		require.True(t, s.Contains(start, start, malta), s)
		require.True(t, s.Contains(start, end, malta), "%s: the end is inside", s)
		require.False(t, s.Contains(start, end.Add(time.Nanosecond), malta), "%s: a nanosecond later is outside", s)
		require.False(t, s.Contains(start, start.Add(-time.Nanosecond), malta), s)
	}
	require.True(t, attribution.Span{}.Contains(start, start.AddDate(50, 0, 0), malta), "rule: no span, no end")
	require.False(t, attribution.Span{}.Contains(start, start.Add(-1), malta))
}
