package memstore

import (
	"cmp"
	"context"
	"slices"

	"github.com/s2skit/s2s/store"
)

// LeaseDeliveriesByScan is LeaseDeliveries as memstore first wrote it: a scan of every
// delivery ever recorded, under the write lock, skipping those of disabled and excluded
// endpoints. It is the oracle of the due index's
// differential test and the baseline of its benchmark. A store leased with it must not be
// leased with LeaseDeliveries too: it keeps the index in step only as far as those tests need.
func (s *Store) LeaseDeliveriesByScan(ctx context.Context, p store.LeaseParams) ([]store.Lease, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	now := store.NormalizeTime(p.Now)
	expires := store.NormalizeTime(p.Now.Add(p.LeaseFor))
	s.mu.Lock()
	defer s.mu.Unlock()
	var due []*delivery
	for _, d := range s.deliveries {
		if d.d.Status == store.DeliveryPending && !d.d.NextAttemptAt.After(now) && !d.leaseExpires.After(now) &&
			!d.ep.state.Disabled && !slices.Contains(p.Exclude, d.d.Endpoint) {
			due = append(due, d)
		}
	}
	slices.SortFunc(due, func(a, b *delivery) int {
		return cmp.Or(a.d.NextAttemptAt.Compare(b.d.NextAttemptAt), slices.Compare(a.d.ID[:], b.d.ID[:]))
	})
	due = truncate(due, store.ListLimit(p.Limit, 10))
	leases := make([]store.Lease, len(due))
	for i, d := range due {
		d.token++
		d.leaseExpires = expires
		leases[i] = store.Lease{Delivery: cloneDelivery(&d.d), Token: d.token, ExpiresAt: expires}
	}
	return leases, nil
}
