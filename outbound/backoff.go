package outbound

import (
	"encoding/binary"
	"io"
	"math/bits"
	"sync"
	"time"
)

// The retry schedule. After the n-th failed attempt of a run (n = 1 for the first), the next
// attempt is due after a delay drawn uniformly from [0, ceiling(n)) ("full jitter", AWS
// Architecture Blog, "Exponential Backoff and Jitter", 2015), where
//
//	ceiling(n) = min(retryMaxDelay, retryBaseDelay × 2^(n-1))
//
// and never sooner than retryMinDelay after the attempt finished. Jitter spreads the retries
// of many deliveries that failed together (a receiver's outage) instead of sending them back
// in lockstep when it recovers. The ceilings are
//
//	retry  1: 5 s        retry  6: 2 min 40 s   retry 11: 1 h 25 min
//	retry  2: 10 s       retry  7: 5 min 20 s   retry 12: 2 h 51 min
//	retry  3: 20 s       retry  8: 10 min 40 s  retry 13: 5 h 41 min
//	retry  4: 40 s       retry  9: 21 min 20 s  retry 14 and later: 6 h
//	retry  5: 1 min 20 s retry 10: 42 min 40 s
//
// The first 13 ceilings add up to 11 h 23 min. Over the default horizon
// (WorkerOptions.Horizon, 72 h), a delivery that keeps failing is attempted about 37 times on
// average, and at least 25 times (when every draw is the ceiling). The last attempt is made
// at the horizon itself; if it fails too, the delivery is dead-lettered.
const (
	retryBaseDelay = 5 * time.Second
	retryMaxDelay  = 6 * time.Hour
	retryMinDelay  = time.Second
)

// ceiling returns the upper bound of the delay after the n-th failed attempt of a run.
func ceiling(n int) time.Duration {
	d := retryBaseDelay
	for i := 1; i < n && d < retryMaxDelay; i++ { // doubling stops at the cap: no overflow
		d *= 2
	}
	return min(retryMaxDelay, d)
}

// jitter draws durations uniformly from [0, d) out of a source of random bytes. It is safe
// for concurrent use: an io.Reader need not be, so reads are serialised.
type jitter struct {
	mu  sync.Mutex
	src io.Reader
	buf [8]byte
}

// draw returns a duration in [0, d), or d itself (the most cautious delay: the whole
// ceiling) if the source fails to give 8 bytes. d must be positive.
func (j *jitter) draw(d time.Duration) time.Duration {
	j.mu.Lock()
	_, err := io.ReadFull(j.src, j.buf[:])
	u := binary.LittleEndian.Uint64(j.buf[:])
	j.mu.Unlock()
	if err != nil {
		return d
	}
	// The high word of u × d is floor(u × d / 2^64): uniform over [0, d) for uniform u,
	// exact in integers, and d = 1<<63-1 at most.
	hi, _ := bits.Mul64(u, uint64(d))
	return time.Duration(hi)
}

// backoff returns the delay before the next attempt after the n-th failed attempt of a run.
func (j *jitter) backoff(n int) time.Duration {
	return max(retryMinDelay, j.draw(ceiling(n)))
}
