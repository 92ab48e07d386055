package outbound

import (
	"bytes"
	"crypto/rand"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// constReader gives the same byte forever.
type constReader byte

func (c constReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(c)
	}
	return len(p), nil
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("no entropy") }

func TestCeiling(t *testing.T) {
	t.Parallel()
	want := []time.Duration{
		5 * time.Second, 10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second,
		160 * time.Second, 320 * time.Second, 640 * time.Second, 1280 * time.Second, 2560 * time.Second,
		5120 * time.Second, 10240 * time.Second, 20480 * time.Second, 6 * time.Hour, 6 * time.Hour,
	}
	for i, w := range want {
		require.Equal(t, w, ceiling(i+1), "rule: the ceiling after failure %d is min(6 h, 5 s × 2^%d)", i+1, i)
	}
	for _, n := range []int{16, 33, 64, 1000, 1 << 30} {
		require.Equal(t, 6*time.Hour, ceiling(n), "rule: the ceiling never passes 6 h, nor overflows (n=%d)", n)
	}
	require.Equal(t, 5*time.Second, ceiling(0), "rule: n below 1 is the first retry")
}

func TestJitter_draw(t *testing.T) {
	t.Parallel()
	d := time.Hour
	low := (&jitter{src: constReader(0)}).draw(d)
	require.Equal(t, time.Duration(0), low, "rule: all-zero randomness draws the bottom of the range")
	high := (&jitter{src: constReader(0xff)}).draw(d)
	require.Less(t, high, d, "rule: the draw is below the ceiling")
	require.Greater(t, high, d-time.Microsecond, "rule: all-ones randomness draws the top of the range")
	half := (&jitter{src: bytes.NewReader([]byte{0, 0, 0, 0, 0, 0, 0, 0x80})}).draw(d)
	require.Equal(t, d/2, half, "rule: 2^63 of 2^64 draws half the range")
	require.Equal(t, d, (&jitter{src: failingReader{}}).draw(d), "rule: a failing source gives the whole ceiling, the cautious delay")
}

// TestJitter_uniform checks that draws from crypto/rand spread over the whole range: each
// tenth of it gets a share near a tenth (the bounds are many standard deviations wide, so
// the test fails for a biased draw, not by chance).
func TestJitter_uniform(t *testing.T) {
	t.Parallel()
	j := &jitter{src: rand.Reader}
	const n, buckets = 100000, 10
	d := 10 * time.Second
	var counts [buckets]int
	for range n {
		x := j.draw(d)
		require.GreaterOrEqual(t, x, time.Duration(0))
		require.Less(t, x, d)
		counts[x/(d/buckets)]++
	}
	for i, c := range counts {
		require.InDelta(t, n/buckets, c, 600, "rule: bucket %d of the range gets its share", i)
	}
}

func TestJitter_backoffFloor(t *testing.T) {
	t.Parallel()
	j := &jitter{src: constReader(0)}
	for n := 1; n < 20; n++ {
		require.Equal(t, retryMinDelay, j.backoff(n), "rule: a retry is never sooner than 1 s after the attempt")
	}
}

func TestJitter_concurrent(t *testing.T) {
	t.Parallel()
	j := &jitter{src: rand.Reader}
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for n := range 200 {
				d := j.backoff(n)
				if d < retryMinDelay || d > ceiling(n) {
					t.Errorf("backoff(%d) = %v, out of [%v, %v]", n, d, retryMinDelay, ceiling(n))
				}
			}
		})
	}
	wg.Wait()
}
