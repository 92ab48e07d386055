package clickid

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// randLen is the number of random bytes in an ID: 74 random bits fill rand_a (12 bits) and
// rand_b (62 bits) of the UUIDv7 layout; the 6 spare bits are dropped.
const randLen = 10

// GeneratorOptions configures a [Generator]. The zero value is the production default.
type GeneratorOptions struct {
	// Now returns the current time. Nil means the system clock (see [Generator]).
	Now func() time.Time
	// Rand is the source of random bytes. Nil means crypto/rand, read in blocks into per-CPU
	// buffers. A non-nil Rand is read directly, 10 bytes per ID, under a mutex, so it need not
	// be safe for concurrent use; give a deterministic reader in tests and crypto/rand (the
	// default) in production: click IDs travel in URLs and must not be guessable.
	Rand io.Reader
}

// Generator makes click IDs. It is safe for concurrent use and takes no global lock with the
// default options, so generation scales across cores.
//
// With a nil [GeneratorOptions.Now], the time comes from the system's wall clock, advanced by
// the monotonic clock between readings of the wall clock at most 100 ms apart: reading only
// the monotonic clock halves the cost of a time lookup. After a wall-clock step (an NTP jump, a
// resumed VM), timestamps can lag the new wall clock for at most 100 ms.
//
// IDs from one Generator are ordered by millisecond only: within a millisecond the order is
// random. There is no in-process sequence counter, because a counter would need a shared lock
// and would make the next ID guessable from the last.
type Generator struct {
	now     func() time.Time // nil: the anchored system clock
	clock   atomic.Pointer[clockAnchor]
	rand    io.Reader // nil: pooled crypto/rand
	randMu  sync.Mutex
	scratch [randLen]byte // read buffer for rand, guarded by randMu
	pool    sync.Pool     // of *randBuf
}

// NewGenerator returns a Generator with the given options; nil means defaults.
func NewGenerator(opts *GeneratorOptions) *Generator {
	g := &Generator{}
	if opts != nil {
		g.now = opts.Now
		g.rand = opts.Rand
	}
	return g
}

// defaultGenerator backs [New].
var defaultGenerator = NewGenerator(nil)

// New returns a new click ID from a Generator with default options: the system clock and
// crypto/rand.
func New() (ID, error) {
	return defaultGenerator.New()
}

// New returns a new click ID in the UUIDv7 layout. It fails only if a custom
// [GeneratorOptions.Rand] fails; the default source does not fail (crypto/rand.Read crashes
// the program rather than return an error since Go 1.24).
func (g *Generator) New() (ID, error) {
	var id ID
	var r [randLen]byte
	if err := g.fillRandom(&r); err != nil {
		return ID{}, err
	}
	ms := uint64(g.nowMilli())
	binary.BigEndian.PutUint32(id[0:4], uint32(ms>>16))
	binary.BigEndian.PutUint16(id[4:6], uint16(ms))
	copy(id[6:], r[:])
	// The version nibble and the variant bits overwrite 6 of the 80 random bits, leaving 74.
	id[6] = 0x70 | id[6]&0x0f
	id[8] = 0x80 | id[8]&0x3f
	return id, nil
}

// nowMilli returns the current Unix time in milliseconds.
func (g *Generator) nowMilli() int64 {
	if g.now != nil {
		return g.now().UnixMilli()
	}
	if a := g.clock.Load(); a != nil {
		if d := time.Since(a.mono); d >= 0 && d < 100*time.Millisecond {
			return (a.unixNano + int64(d)) / int64(time.Millisecond)
		}
	}
	t := time.Now()
	g.clock.Store(&clockAnchor{mono: t, unixNano: t.UnixNano()})
	return t.UnixMilli()
}

// clockAnchor is a reading of the system clock: time.Since(mono) reads only the monotonic
// clock, and unixNano plus that duration is the wall time.
type clockAnchor struct {
	mono     time.Time
	unixNano int64
}

// randBuf holds random bytes from crypto/rand for one P at a time (it lives in a sync.Pool).
// Bytes are handed out once and zeroed as they go.
type randBuf struct {
	b [512]byte
	n int // bytes of b already used
}

// fillRandom fills dst with random bytes. It takes an array pointer, not a slice, so that
// the caller's buffer never escapes through an io.Reader call on the default path.
func (g *Generator) fillRandom(dst *[randLen]byte) error {
	if g.rand != nil {
		return g.readCustom(dst)
	}
	rb, _ := g.pool.Get().(*randBuf)
	if rb == nil {
		rb = &randBuf{n: len(randBuf{}.b)}
	}
	if rb.n+randLen > len(rb.b) {
		rand.Read(rb.b[:]) // never returns an error; it crashes the program instead.
		rb.n = 0
	}
	used := rb.b[rb.n : rb.n+randLen]
	copy(dst[:], used)
	clear(used)
	rb.n += randLen
	g.pool.Put(rb)
	return nil
}

// readCustom reads from the caller's GeneratorOptions.Rand, one reader call at a time.
func (g *Generator) readCustom(dst *[randLen]byte) error {
	g.randMu.Lock()
	defer g.randMu.Unlock()
	if _, err := io.ReadFull(g.rand, g.scratch[:]); err != nil {
		return fmt.Errorf("clickid: read random bytes: %w", err)
	}
	*dst = g.scratch
	return nil
}
