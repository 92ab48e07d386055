package memstore

import (
	"context"
	"fmt"

	"github.com/s2skit/s2s/store"
)

// ClosePeriod implements [store.PeriodStore]: under mu, with the ledger, and the revenue
// facts' lock, so that the close, its lines and the facts it settles are written together.
func (s *Store) ClosePeriod(ctx context.Context, p store.ClosePeriodParams) (store.PeriodClose, error) {
	if err := p.Validate(); err != nil {
		return store.PeriodClose{}, err
	}
	if err := ctx.Err(); err != nil {
		return store.PeriodClose{}, err
	}
	p = p.Normalize()
	c := p.Close
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, old := range s.closes {
		if old.Start.Equal(c.Start) {
			if old.SameContent(c) {
				return cloneClose(old), fmt.Errorf("memstore: period %s is closed: %w", c.Start, store.ErrDuplicate)
			}
			return cloneClose(old), fmt.Errorf("memstore: period %s is closed with other content: %w", c.Start, store.ErrConflict)
		}
	}
	if n := len(s.closes); n > 0 && !s.closes[n-1].End.Equal(c.Start) {
		last := s.closes[n-1]
		return cloneClose(last), fmt.Errorf("memstore: period %s does not follow the last close, which ends at %s: %w", c.Start, last.End, store.ErrConflict)
	}
	for _, l := range p.Lines {
		if _, ok := s.ledger[l.ID]; ok {
			return store.PeriodClose{}, fmt.Errorf("memstore: close of %s: ledger line %s exists: %w", c.Start, l.ID, store.ErrConflict)
		}
	}
	// The facts' lock is taken under mu, never the other way round.
	s.revenue.mu.Lock()
	defer s.revenue.mu.Unlock()
	if err := s.revenue.settle(p.Facts, c.Start); err != nil {
		return store.PeriodClose{}, err
	}
	for _, l := range p.Lines {
		s.addLine(l)
	}
	s.closes = append(s.closes, c)
	return cloneClose(c), nil
}

// LastClose implements [store.PeriodStore].
func (s *Store) LastClose(ctx context.Context) (store.PeriodClose, error) {
	if err := ctx.Err(); err != nil {
		return store.PeriodClose{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if len(s.closes) == 0 {
		return store.PeriodClose{}, fmt.Errorf("memstore: no period is closed: %w", store.ErrNotFound)
	}
	return cloneClose(s.closes[len(s.closes)-1]), nil
}

// cloneClose returns c with balances of the caller's own.
func cloneClose(c store.PeriodClose) store.PeriodClose {
	c.Balances = append([]store.Balance(nil), c.Balances...)
	if len(c.Balances) == 0 {
		c.Balances = nil
	}
	return c
}
