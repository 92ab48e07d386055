package s2s

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// idSource makes the IDs of the records a Tracker writes (conversions, ledger lines,
// deliveries, inbound records): UUIDv7s as uuid.NewV7FromReader makes them (RFC 9562: a
// 48-bit Unix millisecond timestamp, 12 bits of the sub-millisecond time as a sequence that
// keeps the IDs of one source increasing, and the rest from the randomness), with no global
// lock (the sequence is one atomic word) and no allocation per ID (the randomness is read
// into pooled buffers). The zero idSource is not usable: set rand.
type idSource struct {
	rand io.Reader
	last atomic.Int64 // the last stamp given: Unix ms << 12 | sequence
	bufs sync.Pool    // of *[16]byte
}

// new returns a new ID.
func (g *idSource) new() (uuid.UUID, error) {
	b, _ := g.bufs.Get().(*[16]byte)
	if b == nil {
		b = new([16]byte)
	}
	_, err := io.ReadFull(g.rand, b[:])
	id := uuid.UUID(*b)
	g.bufs.Put(b)
	if err != nil {
		return uuid.Nil, fmt.Errorf("s2s: new id: %w", err)
	}
	stamp := g.stamp()
	ms := stamp >> 12
	id[0], id[1], id[2], id[3], id[4], id[5] = byte(ms>>40), byte(ms>>32), byte(ms>>24), byte(ms>>16), byte(ms>>8), byte(ms)
	id[6] = 0x70 | byte(stamp>>8)&0x0f // version 7
	id[7] = byte(stamp)
	id[8] = id[8]&0x3f | 0x80 // the RFC 9562 variant
	return id, nil
}

// stamp returns the next stamp: the clock's, or one more than the last when the clock has
// not moved past it, as uuid's getV7Time does under its lock.
func (g *idSource) stamp() int64 {
	nano := time.Now().UnixNano()
	ms := nano / int64(time.Millisecond)
	now := ms<<12 | (nano-ms*int64(time.Millisecond))>>8 // 1e6 ns >> 8 < 4096
	for {
		last := g.last.Load()
		next := now
		if next <= last {
			next = last + 1
		}
		if g.last.CompareAndSwap(last, next) {
			return next
		}
	}
}
