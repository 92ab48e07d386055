package memstore

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/s2skit/s2s/store"
)

// revenueFacts are the revenue facts, under a lock of their own: they are written by
// revenue postbacks and read by period closes, apart from every other record.
type revenueFacts struct {
	mu          sync.RWMutex
	byKey       map[sourceTxn]*store.RevenueFact
	byID        map[uuid.UUID]*store.RevenueFact
	correctedBy map[sourceTxn]*store.RevenueFact // a corrected fact's key → its correction
	// byOccurred and byReceived hold every fact, ordered by store.CompareRevenue of their
	// time: a listing finds its page's start by binary search. unsettled holds the facts no
	// close has settled, ordered as byOccurred, for a close's listing.
	byOccurred, byReceived, unsettled []*store.RevenueFact
}

func newRevenueFacts() revenueFacts {
	return revenueFacts{
		byKey:       make(map[sourceTxn]*store.RevenueFact),
		byID:        make(map[uuid.UUID]*store.RevenueFact),
		correctedBy: make(map[sourceTxn]*store.RevenueFact),
	}
}

// insertBy inserts f into fs, ordered by store.CompareRevenue of b.
func insertBy(fs []*store.RevenueFact, f *store.RevenueFact, b store.RevenueTime) []*store.RevenueFact {
	cmp := func(x, y *store.RevenueFact) int { return store.CompareRevenue(b, *x, *y) }
	if n := len(fs); n == 0 || cmp(fs[n-1], f) < 0 {
		return append(fs, f)
	}
	i, _ := slices.BinarySearchFunc(fs, f, cmp)
	return slices.Insert(fs, i, f)
}

// RecordRevenue implements [store.RevenueStore].
func (s *Store) RecordRevenue(ctx context.Context, f store.RevenueFact) (store.RevenueFact, error) {
	if err := f.Validate(); err != nil {
		return store.RevenueFact{}, err
	}
	if err := ctx.Err(); err != nil {
		return store.RevenueFact{}, err
	}
	f = f.Normalize()
	f.SettledIn = time.Time{} // recorded unsettled: a close settles it
	r := &s.revenue
	r.mu.Lock()
	defer r.mu.Unlock()
	key := sourceTxn{f.Source, f.TransactionID}
	if old, ok := r.byKey[key]; ok {
		if old.SameContent(f) {
			return *old, fmt.Errorf("memstore: revenue fact %s/%s: %w", f.Source, f.TransactionID, store.ErrDuplicate)
		}
		return *old, fmt.Errorf("memstore: revenue fact %s/%s exists with other content: %w", f.Source, f.TransactionID, store.ErrConflict)
	}
	if old, ok := r.byID[f.ID]; ok {
		return *old, fmt.Errorf("memstore: revenue fact id %s is taken by %s/%s: %w", f.ID, old.Source, old.TransactionID, store.ErrConflict)
	}
	if f.Corrects != "" {
		orig := sourceTxn{f.Source, f.Corrects}
		if _, ok := r.byKey[orig]; !ok {
			return store.RevenueFact{}, fmt.Errorf("memstore: revenue fact %s/%s corrects %q, which is not recorded: %w", f.Source, f.TransactionID, f.Corrects, store.ErrInvalid)
		}
		if c, ok := r.correctedBy[orig]; ok {
			return *c, fmt.Errorf("memstore: revenue fact %s/%s is corrected already, by %s: %w", f.Source, f.Corrects, c.TransactionID, store.ErrConflict)
		}
	}
	p := new(store.RevenueFact)
	*p = f
	r.byKey[key] = p
	r.byID[p.ID] = p
	if f.Corrects != "" {
		r.correctedBy[sourceTxn{f.Source, f.Corrects}] = p
	}
	r.byOccurred = insertBy(r.byOccurred, p, store.ByOccurredAt)
	r.byReceived = insertBy(r.byReceived, p, store.ByReceivedAt)
	r.unsettled = insertBy(r.unsettled, p, store.ByOccurredAt)
	return f, nil
}

// settle marks the facts ids settled in the period that starts at start, all or none: a
// fact not stored or settled already is ErrConflict. The caller holds r.mu.
func (r *revenueFacts) settle(ids []uuid.UUID, start time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	for _, id := range ids {
		f, ok := r.byID[id]
		if !ok {
			return fmt.Errorf("memstore: close of %s: revenue fact %s is not stored: %w", start, id, store.ErrConflict)
		}
		if !f.SettledIn.IsZero() {
			return fmt.Errorf("memstore: close of %s: revenue fact %s is settled already, in %s: %w", start, id, f.SettledIn, store.ErrConflict)
		}
	}
	for _, id := range ids {
		r.byID[id].SettledIn = start
	}
	r.unsettled = slices.DeleteFunc(r.unsettled, func(f *store.RevenueFact) bool { return !f.SettledIn.IsZero() })
	return nil
}

// GetRevenue implements [store.RevenueStore].
func (s *Store) GetRevenue(ctx context.Context, p store.GetRevenueParams) (store.RevenueFact, error) {
	if err := p.Validate(); err != nil {
		return store.RevenueFact{}, err
	}
	if err := ctx.Err(); err != nil {
		return store.RevenueFact{}, err
	}
	r := &s.revenue
	r.mu.RLock()
	defer r.mu.RUnlock()
	f, ok := r.byKey[sourceTxn{p.Source, p.TransactionID}]
	if !ok {
		return store.RevenueFact{}, fmt.Errorf("memstore: revenue fact %s/%s: %w", p.Source, p.TransactionID, store.ErrNotFound)
	}
	return *f, nil
}

// ListRevenue implements [store.RevenueStore]: O(log n + k) for the k facts in the range it
// walks (all affiliates' facts: a listing of one affiliate skips the others').
func (s *Store) ListRevenue(ctx context.Context, p store.ListRevenueParams) ([]store.RevenueFact, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	from, to := store.NormalizeTime(p.From), store.NormalizeTime(p.To)
	limit := store.ListLimit(p.Limit, 100)
	r := &s.revenue
	r.mu.RLock()
	defer r.mu.RUnlock()
	fs := r.byOccurred
	switch {
	case p.By == store.ByReceivedAt:
		fs = r.byReceived
	case p.Unsettled:
		fs = r.unsettled
	}
	start := store.RevenueFact{}
	if p.By == store.ByReceivedAt {
		start.ReceivedAt = from
	} else {
		start.OccurredAt = from
	}
	cmp := func(x *store.RevenueFact, y store.RevenueFact) int { return store.CompareRevenue(p.By, *x, y) }
	i, _ := slices.BinarySearchFunc(fs, start, cmp)
	if c := p.After; c != (store.Cursor{}) {
		after := store.RevenueFact{ID: c.ID}
		if p.By == store.ByReceivedAt {
			after.ReceivedAt = store.NormalizeTime(c.At)
		} else {
			after.OccurredAt = store.NormalizeTime(c.At)
		}
		j, found := slices.BinarySearchFunc(fs, after, cmp)
		if found {
			j++
		}
		i = max(i, j)
	}
	var out []store.RevenueFact
	for ; i < len(fs) && len(out) < limit; i++ {
		f := fs[i]
		if !p.By.ListTime(*f).Before(to) {
			break
		}
		if (p.AffiliateID == "" || f.AffiliateID == p.AffiliateID) && (!p.Unsettled || f.SettledIn.IsZero()) {
			out = append(out, *f)
		}
	}
	return out, nil
}
