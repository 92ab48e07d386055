package clickid_test

import (
	"bytes"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/clickid"
)

// TestGenerator_NoCollisions makes 1,000,000 IDs from 16 goroutines sharing one generator
// and the package default, and requires every one to be distinct and well formed.
func TestGenerator_NoCollisions(t *testing.T) {
	t.Parallel()
	const goroutines, perGoroutine = 16, 62_500
	gen := clickid.NewGenerator(nil)
	results := make([][]clickid.ID, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			ids := make([]clickid.ID, 0, perGoroutine)
			for i := range perGoroutine {
				newID := gen.New
				if i%2 == 1 {
					newID = clickid.New
				}
				id, err := newID()
				if err != nil {
					t.Error(err)
					return
				}
				ids = append(ids, id)
			}
			results[g] = ids
		})
	}
	wg.Wait()

	seen := make(map[clickid.ID]struct{}, goroutines*perGoroutine)
	for _, ids := range results {
		require.Len(t, ids, perGoroutine)
		for _, id := range ids {
			_, dup := seen[id]
			require.False(t, dup, "collision on %s", id)
			seen[id] = struct{}{}
			require.Equal(t, byte(0x70), id[6]&0xf0, "version nibble of %s", id)
			require.Equal(t, byte(0x80), id[8]&0xc0, "variant bits of %s", id)
		}
	}
	require.Len(t, seen, goroutines*perGoroutine)
}

// TestGenerator_RandomBitsVary checks that each of the 74 random bits takes both values, so
// none of them is stuck (a bug that would cut the ID space without any collision showing).
func TestGenerator_RandomBitsVary(t *testing.T) {
	t.Parallel()
	var or, and clickid.ID
	for i := range and {
		and[i] = 0xff
	}
	for range 4096 {
		id, err := clickid.New()
		require.NoError(t, err)
		for i := range id {
			or[i] |= id[i]
			and[i] &= id[i]
		}
	}
	// Bytes 6..15 minus the version nibble and the variant bits: 74 bits that must vary.
	varying := clickid.ID{6: 0x0f, 7: 0xff, 8: 0x3f, 9: 0xff, 10: 0xff, 11: 0xff, 12: 0xff, 13: 0xff, 14: 0xff, 15: 0xff}
	for i := 6; i < 16; i++ {
		require.Equal(t, varying[i], (or[i]^and[i])&varying[i], "byte %d has stuck bits", i)
	}
}

func TestGenerator_Deterministic(t *testing.T) {
	t.Parallel()
	at := time.UnixMilli(0x0190_f3a2_7c4e)
	gen := clickid.NewGenerator(&clickid.GeneratorOptions{
		Now:  func() time.Time { return at },
		Rand: bytes.NewReader(bytes.Repeat([]byte{0xff, 0x00}, 10)),
	})
	id, err := gen.New()
	require.NoError(t, err)
	// Timestamp 0190f3a27c4e; random ff00ff00ff00ff00ff00 with version 7 and variant 10.
	require.Equal(t, "0190f3a2-7c4e-7f00-bf00-ff00ff00ff00", id.UUIDString())
	require.Equal(t, at.UTC(), id.Timestamp())

	id2, err := gen.New()
	require.NoError(t, err)
	require.Equal(t, id, id2, "the same clock and bytes give the same id")

	_, err = gen.New()
	require.ErrorIs(t, err, io.EOF, "the reader has run dry")
	require.ErrorContains(t, err, "clickid: read random bytes")
}

func TestGenerator_RandError(t *testing.T) {
	t.Parallel()
	boom := errors.New("entropy source down")
	gen := clickid.NewGenerator(&clickid.GeneratorOptions{Rand: failingReader{boom}})
	id, err := gen.New()
	require.ErrorIs(t, err, boom)
	require.True(t, id.IsZero(), "no partial id on error")
}

// TestGenerator_CustomRandConcurrent shares a reader that is not safe for concurrent use
// between goroutines: the generator must serialise its reads (run with -race).
func TestGenerator_CustomRandConcurrent(t *testing.T) {
	t.Parallel()
	const n = 400
	src := make([]byte, 10*n)
	for i := range src {
		src[i] = byte(i * 7)
	}
	gen := clickid.NewGenerator(&clickid.GeneratorOptions{Rand: bytes.NewReader(src)})
	var wg sync.WaitGroup
	ids := make(chan clickid.ID, n)
	for range 8 {
		wg.Go(func() {
			for range n / 8 {
				id, err := gen.New()
				if err != nil {
					t.Error(err)
					return
				}
				ids <- id
			}
		})
	}
	wg.Wait()
	close(ids)
	require.Len(t, ids, n)
}

// TestGenerator_SystemClock checks that the default clock (the wall clock advanced by the
// monotonic clock) agrees with time.Now, on the first call (which reads the wall clock) and
// on the next ones (which read only the monotonic clock).
func TestGenerator_SystemClock(t *testing.T) {
	t.Parallel()
	gen := clickid.NewGenerator(nil)
	for range 3 {
		before := time.Now().Truncate(time.Millisecond)
		id, err := gen.New()
		require.NoError(t, err)
		after := time.Now()
		ts := id.Timestamp()
		require.False(t, ts.Before(before), "timestamp %v before %v", ts, before)
		require.False(t, ts.After(after), "timestamp %v after %v", ts, after)
	}
}

type failingReader struct{ err error }

func (r failingReader) Read([]byte) (int, error) { return 0, r.err }
