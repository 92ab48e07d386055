package memstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/s2skit/s2s/store"
)

// inboundSlab is how many records of the inbound log are allocated at once: a record is
// logged per postback, so that logging one costs no allocation of its own. A slab holds
// records received one after another, which a prune frees together.
const inboundSlab = 1024

// inboundLog is the inbound log, under a lock of its own: it is written once per postback,
// apart from the writes the postback causes, and must not wait for them.
type inboundLog struct {
	mu   sync.RWMutex
	byID map[uuid.UUID]*store.InboundRecord
	// all, and the records of each source and of each outcome, oldest first (by
	// ReceivedAt, then ID): a listing walks one of them back from where its page starts,
	// and a prune cuts their beginnings.
	all       []*store.InboundRecord
	bySource  map[string][]*store.InboundRecord
	byOutcome map[string][]*store.InboundRecord
	// byConversion holds the records of each conversion (those with a ConversionID),
	// oldest first too: a conversion's postback and its retries.
	byConversion map[uuid.UUID][]*store.InboundRecord
	slab         []store.InboundRecord
}

func newInboundLog() inboundLog {
	return inboundLog{
		byID:      make(map[uuid.UUID]*store.InboundRecord),
		bySource:  make(map[string][]*store.InboundRecord),
		byOutcome: make(map[string][]*store.InboundRecord),

		byConversion: make(map[uuid.UUID][]*store.InboundRecord),
	}
}

// compareInbound orders records by ReceivedAt, then ID.
func compareInbound(a, b *store.InboundRecord) int {
	return cmp.Or(a.ReceivedAt.Compare(b.ReceivedAt), slices.Compare(a.ID[:], b.ID[:]))
}

// insertOrdered inserts r into rs, which is ordered by compareInbound: at the end, for the
// newest record, without a search.
func insertOrdered(rs []*store.InboundRecord, r *store.InboundRecord) []*store.InboundRecord {
	if n := len(rs); n == 0 || compareInbound(rs[n-1], r) < 0 {
		return append(rs, r)
	}
	i, _ := slices.BinarySearchFunc(rs, r, compareInbound)
	return slices.Insert(rs, i, r)
}

// LogInbound implements [store.InboundStore]. It costs O(1) for a record newer than those
// logged before it, and no allocation but the amortised growth of the log.
func (s *Store) LogInbound(ctx context.Context, r store.InboundRecord) error {
	if err := r.Validate(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	r = r.Normalize()
	l := &s.inbound
	l.mu.Lock()
	defer l.mu.Unlock()
	if old, ok := l.byID[r.ID]; ok {
		if old.Equal(r) {
			return fmt.Errorf("memstore: inbound record %s: %w", r.ID, store.ErrDuplicate)
		}
		return fmt.Errorf("memstore: inbound record %s exists with other content: %w", r.ID, store.ErrConflict)
	}
	if len(l.slab) == cap(l.slab) {
		l.slab = make([]store.InboundRecord, 0, inboundSlab)
	}
	l.slab = append(l.slab, r)
	p := &l.slab[len(l.slab)-1]
	l.byID[p.ID] = p
	l.all = insertOrdered(l.all, p)
	l.bySource[p.Source] = insertOrdered(l.bySource[p.Source], p)
	l.byOutcome[p.Outcome] = insertOrdered(l.byOutcome[p.Outcome], p)
	if p.ConversionID != uuid.Nil {
		l.byConversion[p.ConversionID] = insertOrdered(l.byConversion[p.ConversionID], p)
	}
	return nil
}

// ListInbound implements [store.InboundStore]: it walks back the records of the conversion
// (or else of the source, or else of the outcome, or else all of them) from where its page starts, found by binary
// search, skipping those of another outcome: O(log n + k) for the k records it walks.
func (s *Store) ListInbound(ctx context.Context, p store.ListInboundParams) ([]store.InboundRecord, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	from, to := store.NormalizeTime(p.From), store.NormalizeTime(p.To)
	limit := store.ListLimit(p.Limit, 100)
	l := &s.inbound
	l.mu.RLock()
	defer l.mu.RUnlock()
	rs := l.all
	switch {
	case p.ConversionID != uuid.Nil:
		rs = l.byConversion[p.ConversionID]
	case p.Source != "":
		rs = l.bySource[p.Source]
	case p.Outcome != "":
		rs = l.byOutcome[p.Outcome]
	}
	// end is the first record the page must not hold: the first received at or after To,
	// or, after a cursor, the first at or after the cursor's position.
	end := len(rs)
	if !to.IsZero() {
		end, _ = slices.BinarySearchFunc(rs, to, func(r *store.InboundRecord, t time.Time) int {
			if r.ReceivedAt.Before(t) {
				return -1
			}
			return 1
		})
	}
	if c := p.After; c != (store.Cursor{}) {
		at := store.NormalizeTime(c.At)
		i, _ := slices.BinarySearchFunc(rs[:end], &store.InboundRecord{ReceivedAt: at, ID: c.ID}, compareInbound)
		end = i
	}
	var out []store.InboundRecord
	for i := end - 1; i >= 0 && len(out) < limit; i-- {
		r := rs[i]
		if !from.IsZero() && r.ReceivedAt.Before(from) {
			break
		}
		if (p.Source == "" || r.Source == p.Source) && (p.Outcome == "" || r.Outcome == p.Outcome) &&
			(p.ConversionID == uuid.Nil || r.ConversionID == p.ConversionID) {
			out = append(out, *r)
		}
	}
	return out, nil
}

// PruneInbound implements [store.InboundStore], atomically: O(k + m log n) for the k records
// it deletes, found at the beginnings of the log's m orders (all, and one per source and per
// outcome).
func (s *Store) PruneInbound(ctx context.Context, p store.PruneInboundParams) (int, error) {
	if err := p.Validate(); err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	before := store.NormalizeTime(p.Before)
	l := &s.inbound
	l.mu.Lock()
	defer l.mu.Unlock()
	n := prefixBefore(l.all, before)
	for _, r := range l.all[:n] {
		delete(l.byID, r.ID)
		// The records of a conversion are cut as they are met: a prune costs nothing for
		// the conversions it does not touch.
		if cid := r.ConversionID; cid != uuid.Nil {
			if rs, ok := l.byConversion[cid]; ok {
				if rs = cutPrefix(rs, prefixBefore(rs, before)); len(rs) == 0 {
					delete(l.byConversion, cid)
				} else {
					l.byConversion[cid] = rs
				}
			}
		}
	}
	l.all = cutPrefix(l.all, n)
	for _, m := range []map[string][]*store.InboundRecord{l.bySource, l.byOutcome} {
		for k, rs := range m {
			if rs = cutPrefix(rs, prefixBefore(rs, before)); len(rs) == 0 {
				delete(m, k)
			} else {
				m[k] = rs
			}
		}
	}
	return n, nil
}

// prefixBefore returns how many records of rs, oldest first, were received before t.
func prefixBefore(rs []*store.InboundRecord, t time.Time) int {
	n, _ := slices.BinarySearchFunc(rs, t, func(r *store.InboundRecord, t time.Time) int {
		if r.ReceivedAt.Before(t) {
			return -1
		}
		return 1
	})
	return n
}

// cutPrefix returns rs without its first n records, whose slots it clears so that the
// records (and their slabs) can be collected.
func cutPrefix(rs []*store.InboundRecord, n int) []*store.InboundRecord {
	clear(rs[:n])
	return rs[n:]
}
