package outbound

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/store"
)

func TestJudge(t *testing.T) {
	t.Parallel()
	cases := []struct {
		codes        []int
		want, wantRC verdict // without and with RetryClientErrors
		rule         string
	}{
		{[]int{200, 201, 202, 204, 299}, delivered, delivered, "a 2xx is delivered"},
		{[]int{0}, retry, retry, "no response (network error, timeout) is retried"},
		{[]int{301, 302, 303, 307, 308}, retry, retry, "a 3xx is a failure, retried, never followed"},
		{[]int{408, 425, 429}, retry, retry, "408, 425 and 429 are retried"},
		{[]int{500, 502, 503, 504, 599}, retry, retry, "a 5xx other than 501 is retried"},
		{[]int{501}, reject, reject, "501 is dead at once"},
		{[]int{410}, gone, gone, "410 dead-letters and disables the endpoint, whatever the endpoint says"},
		{[]int{400, 401, 403, 404, 405, 409, 422, 499}, reject, retry, "another 4xx is dead at once unless the endpoint retries client errors"},
		{[]int{100, 600, 999}, retry, retry, "an odd status is a failure, retried"},
	}
	for _, c := range cases {
		for _, code := range c.codes {
			require.Equal(t, c.want, judge(code, false), "rule: %s (%d)", c.rule, code)
			require.Equal(t, c.wantRC, judge(code, true), "rule: %s (%d, RetryClientErrors)", c.rule, code)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	const limit = time.Hour
	cases := []struct {
		v    string
		want time.Duration
		ok   bool
		rule string
	}{
		{"0", 0, true, "0 seconds asks for no wait"},
		{"120", 2 * time.Minute, true, "delay-seconds"},
		{" 7 ", 7 * time.Second, true, "surrounding space is ignored"},
		{"3600", time.Hour, true, "at the cap"},
		{"3601", time.Hour, true, "seconds past the cap are the cap"},
		{"99999999999999999999999999", time.Hour, true, "a huge number is the cap, not an overflow"},
		{"Wed, 02 Dec 2026 10:05:00 GMT", 5 * time.Minute, true, "an IMF-fixdate"},
		{"Wednesday, 02-Dec-26 10:00:30 GMT", 30 * time.Second, true, "an RFC 850 date"},
		{"Wed Dec  2 10:00:09 2026", 9 * time.Second, true, "an ANSI C date"},
		{"Wed, 02 Dec 2026 13:00:00 GMT", time.Hour, true, "a date past the cap is the cap"},
		{"Wed, 02 Dec 2026 09:00:00 GMT", 0, true, "a date in the past asks for no wait"},
		{"", 0, false, "empty asks for nothing"},
		{"-5", 0, false, "a negative number is malformed"},
		{"1.5", 0, false, "a fraction is malformed"},
		{"+5", 0, false, "a sign is malformed"},
		{"soon", 0, false, "words are malformed"},
		{"2026-12-02T10:05:00Z", 0, false, "RFC 3339 is not an HTTP-date"},
	}
	for _, c := range cases {
		got, ok := parseRetryAfter(c.v, now, limit)
		require.Equal(t, c.ok, ok, "rule: %s (%q)", c.rule, c.v)
		require.Equal(t, c.want, got, "rule: %s (%q)", c.rule, c.v)
	}
}

// FuzzParseRetryAfter checks parseRetryAfter against a plain oracle: strconv for
// delay-seconds, http.ParseTime for dates, and the cap for both.
func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"0", "120", "3601", "99999999999999999999", "Wed, 02 Dec 2026 10:05:00 GMT",
		"Wednesday, 02-Dec-26 10:00:30 GMT", "Wed Dec  2 10:00:09 2026", "", " 1 ", "-1", "1e3", "0x10"} {
		f.Add(s, int64(time.Hour))
	}
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string, limitNS int64) {
		limit := time.Duration(limitNS)
		if limit < 0 {
			limit = -limit
		}
		if limit < 0 { // math.MinInt64
			limit = 0
		}
		got, ok := parseRetryAfter(v, now, limit)
		if got < 0 || got > limit {
			t.Fatalf("parseRetryAfter(%q) = %v, out of [0, %v]", v, got, limit)
		}
		s := strings.TrimSpace(v)
		var want time.Duration
		var wantOK bool
		if isDigits(s) {
			wantOK = true
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || n > int64(limit/time.Second) {
				want = limit
			} else {
				want = time.Duration(n) * time.Second
			}
		} else if at, err := http.ParseTime(s); err == nil {
			wantOK = true
			want = min(max(at.Sub(now), 0), limit)
		}
		if ok != wantOK || got != want {
			t.Fatalf("parseRetryAfter(%q, cap %v) = %v, %v; oracle %v, %v", v, limit, got, ok, want, wantOK)
		}
	})
}

func TestCurrentRun(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	at := func(d time.Duration, code int) store.Attempt {
		return store.Attempt{StartedAt: t0.Add(d), FinishedAt: t0.Add(d + time.Second), StatusCode: code}
	}
	cases := []struct {
		name      string
		history   []store.Attempt
		replayed  time.Duration // 0: never
		wantStart time.Time
		wantN     int
	}{
		{"no attempts: the next starts a run", nil, 0, time.Time{}, 0},
		{"the attempts of a delivery never replayed are one run", []store.Attempt{at(0, 503), at(time.Minute, 0), at(time.Hour, 429)}, 0, t0, 3},
		{"replayed, and not attempted since: the next starts a run", []store.Attempt{at(0, 503), at(72*time.Hour, 503)}, 80 * time.Hour, time.Time{}, 0},
		{"after a replay, the run starts at the first attempt since", []store.Attempt{at(0, 503), at(72*time.Hour, 503), at(100*time.Hour, 500), at(101*time.Hour, 502)}, 99 * time.Hour, t0.Add(100 * time.Hour), 2},
		{"whatever ended the run before the replay", []store.Attempt{at(0, 400), at(100*time.Hour, 503)}, 100 * time.Hour, t0.Add(100 * time.Hour), 1},
	}
	for _, c := range cases {
		d := store.Delivery{Attempts: c.history}
		if c.replayed != 0 {
			d.ReplayedAt = t0.Add(c.replayed)
		}
		start, n := currentRun(d)
		require.Equal(t, c.wantStart, start, "rule: %s", c.name)
		require.Equal(t, c.wantN, n, "rule: %s", c.name)
	}
}

func TestSchedule(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	const horizon = 72 * time.Hour
	top := &jitter{src: constReader(0xff)}
	attempt := func(start time.Duration) store.Attempt {
		return store.Attempt{StartedAt: t0.Add(start), FinishedAt: t0.Add(start + 100*time.Millisecond)}
	}

	a := attempt(0)
	next, ok := schedule(top, a, t0, 1, 0, horizon)
	require.True(t, ok)
	require.WithinRange(t, next, a.FinishedAt.Add(5*time.Second-time.Millisecond), a.FinishedAt.Add(5*time.Second), "rule: the first retry is within 5 s")

	next, ok = schedule(top, a, t0, 1, 10*time.Minute, horizon)
	require.True(t, ok)
	require.Equal(t, a.FinishedAt.Add(10*time.Minute), next, "rule: a Retry-After longer than the backoff is honoured")

	next, ok = schedule(&jitter{src: constReader(0)}, a, t0, 1, 0, horizon)
	require.True(t, ok)
	require.Equal(t, a.FinishedAt.Add(time.Second), next, "rule: never sooner than 1 s after the attempt")

	a = attempt(70 * time.Hour)
	next, ok = schedule(top, a, t0, 20, 0, horizon)
	require.True(t, ok)
	require.Equal(t, t0.Add(horizon), next, "rule: the last retry of a run is at the horizon exactly")

	next, ok = schedule(top, a, t0, 20, 24*time.Hour, horizon)
	require.True(t, ok)
	require.Equal(t, t0.Add(horizon), next, "rule: even when the receiver asks to wait past it")

	a = attempt(horizon)
	_, ok = schedule(top, a, t0, 21, 0, horizon)
	require.False(t, ok, "rule: a failure at the horizon is dead-lettered")

	a = store.Attempt{StartedAt: t0.Add(horizon - time.Second), FinishedAt: t0.Add(horizon + 5*time.Second)}
	next, ok = schedule(top, a, t0, 21, 0, horizon)
	require.True(t, ok, "rule: an attempt that started before the horizon is retried once more")
	require.Equal(t, a.FinishedAt.Add(time.Second), next, "rule: ...after the attempt, even if it ended past the horizon")
}
