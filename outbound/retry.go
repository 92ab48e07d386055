package outbound

import (
	"net/http"
	"strings"
	"time"

	"github.com/s2skit/s2s/store"
)

// verdict is what a response (or the lack of one) means for a delivery.
type verdict uint8

const (
	// delivered: a 2xx. The receiver has the postback.
	delivered verdict = iota
	// retry: a failure that may pass: no response (a network error or a timeout), a 3xx
	// (redirects are never followed, and a receiver that moved may be fixed), 408, 425,
	// 429, or a 5xx other than 501.
	retry
	// reject: a failure that will not pass by itself: a 4xx other than 408, 410, 425 and
	// 429 (unless the endpoint retries client errors), and 501. Dead-lettered at once.
	reject
	// gone: a 410. Dead-lettered, and the endpoint is disabled.
	gone
)

// judge returns the verdict on an attempt that ended with HTTP status code (0 for no
// response), for an endpoint that retries client errors or not.
func judge(code int, retryClientErrors bool) verdict {
	switch {
	case code >= 200 && code <= 299:
		return delivered
	case code == http.StatusGone:
		return gone
	case code == http.StatusRequestTimeout, code == http.StatusTooEarly, code == http.StatusTooManyRequests:
		return retry
	case code >= 400 && code <= 499:
		if retryClientErrors {
			return retry
		}
		return reject
	case code == http.StatusNotImplemented:
		return reject
	default: // 0 (no response), 1xx that ended the exchange, 3xx, 5xx, and codes past 599
		return retry
	}
}

// parseRetryAfter returns the wait that a Retry-After header value asks for, at an attempt
// that finished at now: a number of seconds (delay-seconds, RFC 9110 §10.2.3) or an
// HTTP-date, which is taken relative to now (a date in the past asks for no wait). Values
// past limit are limit: the worker honours a receiver's wish within a cap, and retries at
// the cap rather than waiting for as long as any receiver asks. It reports false for an
// empty or malformed value, which asks for nothing.
func parseRetryAfter(v string, now time.Time, limit time.Duration) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if isDigits(v) {
		// delay-seconds is 1*DIGIT: any number of digits, so count without overflowing.
		var secs int64
		for i := range len(v) {
			secs = secs*10 + int64(v[i]-'0')
			if time.Duration(secs) > limit/time.Second {
				return limit, true
			}
		}
		return time.Duration(secs) * time.Second, true
	}
	at, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	d := at.Sub(now)
	return min(max(d, 0), limit), true
}

// isDigits reports whether s is a non-empty string of ASCII digits.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// A run is the attempts of a delivery from its first attempt, or from the first attempt
// after it was last replayed, to the attempt that delivered or dead-lettered it. Only the
// last run of a delivery can still be going (a delivered or dead one is attempted again only
// after a replay), and the store says when that run began: at the delivery's ReplayedAt, or
// at its first attempt if it was never replayed. So a replayed delivery gets a whole new
// schedule and horizon whatever its earlier attempts were, and a delivery that is merely
// retried keeps its run's start through restarts and across processes.

// currentRun returns the start of the run that the next attempt of d belongs to (the zero
// time if that attempt starts a new run) and how many attempts that run has had.
func currentRun(d store.Delivery) (start time.Time, n int) {
	for _, a := range d.Attempts {
		if a.StartedAt.Before(d.ReplayedAt) {
			continue // an attempt of a run before the last replay
		}
		if n == 0 {
			start = a.StartedAt
		}
		n++
	}
	return start, n
}

// schedule decides what becomes of a delivery after a failed attempt that the worker would
// retry: the time of its next attempt, or false if the delivery is dead-lettered because its
// run has reached the horizon. a is the attempt, runStart the start of its run (a.StartedAt
// for the first attempt of a run) and n its number within the run (1 for the first);
// wait is the wait the receiver asked for (Retry-After, capped), 0 for none.
func schedule(j *jitter, a store.Attempt, runStart time.Time, n int, wait, horizon time.Duration) (time.Time, bool) {
	deadline := runStart.Add(horizon)
	if !a.StartedAt.Before(deadline) {
		return time.Time{}, false
	}
	next := a.FinishedAt.Add(max(j.backoff(n), wait))
	if next.After(deadline) {
		// The last attempt of a run is made at the horizon, even if the receiver asked
		// for a longer wait: it is the last chance before the dead letter.
		next = deadline
	}
	if !next.After(a.FinishedAt) {
		// An attempt that finished past the deadline it started before.
		next = a.FinishedAt.Add(retryMinDelay)
	}
	return next, true
}
