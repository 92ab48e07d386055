package memstore

import (
	"cmp"
	"container/heap"
	"slices"
	"time"
)

// The outbox index. LeaseDeliveries must find the due pending deliveries among every
// delivery ever recorded, most of them delivered or dead long ago, under the write lock that
// also serialises recording conversions: a scan of them all would make every worker's poll
// cost O(all deliveries). Instead, each pending delivery is in exactly one of two heaps:
//
//   - ready, by (NextAttemptAt, ID): pending and not leased, or leased by a lease that had
//     expired at some caller's now. The deliveries due at now are its top ones, in leasing
//     order;
//   - leased, by (lease expiry, ID): pending and leased. When a lease has expired at a
//     caller's now, the delivery moves back to ready, at its NextAttemptAt; its lease stays
//     as it was, so that its holder can still record an attempt that finished in time.
//
// Callers' clocks need not agree: a delivery popped from ready whose lease has not expired at
// this caller's now goes back to leased, so a delivery is leased exactly when the contract's
// rule (pending, due and its lease expired, at the caller's now) says so.
//
// Delivered and dead deliveries are in neither. Leasing k deliveries, with m expired leases
// to move back, costs O((k+m) log n) for n pending deliveries.

// dueIndex holds the two heaps. s.mu guards it.
type dueIndex struct {
	ready  deliveryHeap
	leased deliveryHeap
}

func newDueIndex() dueIndex {
	return dueIndex{
		ready: deliveryHeap{
			less: func(a, b *delivery) int { return cmpAt(a.d.NextAttemptAt, a, b.d.NextAttemptAt, b) },
			pos:  func(d *delivery) *int { return &d.readyPos },
		},
		leased: deliveryHeap{
			less: func(a, b *delivery) int { return cmpAt(a.leaseExpires, a, b.leaseExpires, b) },
			pos:  func(d *delivery) *int { return &d.leasedPos },
		},
	}
}

// cmpAt orders deliveries by a time, then by ID.
func cmpAt(at time.Time, a *delivery, bt time.Time, b *delivery) int {
	return cmp.Or(at.Compare(bt), slices.Compare(a.d.ID[:], b.d.ID[:]))
}

// pending puts a pending, unleased delivery (new, replayed or rescheduled) in ready.
func (x *dueIndex) pending(d *delivery) { x.ready.add(d) }

// done takes a delivery out of both heaps: its attempt was recorded.
func (x *dueIndex) done(d *delivery) {
	x.ready.remove(d)
	x.leased.remove(d)
}

// lease leases up to limit deliveries due at now, oldest due first, until expires, with new
// fencing tokens, and returns them.
func (x *dueIndex) lease(now, expires time.Time, limit int) []*delivery {
	for x.leased.len() > 0 && !x.leased.top().leaseExpires.After(now) {
		x.ready.add(x.leased.pop()) // its lease has expired: due again at its NextAttemptAt
	}
	var out []*delivery
	for len(out) < limit && x.ready.len() > 0 && !x.ready.top().d.NextAttemptAt.After(now) {
		d := x.ready.pop()
		if d.leaseExpires.After(now) {
			// Its lease expired by an earlier caller's clock, not by this one's.
			x.leased.add(d)
			continue
		}
		d.token++
		d.leaseExpires = expires
		x.leased.add(d)
		out = append(out, d)
	}
	return out
}

// deliveryHeap is a min-heap of deliveries by less, which records each delivery's index in
// the delivery itself (pos), so that a delivery is removed in O(log n). A position of 0
// means "not in this heap"; the heap stores index+1.
type deliveryHeap struct {
	items []*delivery
	less  func(a, b *delivery) int
	pos   func(d *delivery) *int
}

func (h *deliveryHeap) len() int        { return len(h.items) }
func (h *deliveryHeap) top() *delivery  { return h.items[0] }
func (h *deliveryHeap) pop() *delivery  { return heap.Pop((*heapOf)(h)).(*delivery) }
func (h *deliveryHeap) add(d *delivery) { heap.Push((*heapOf)(h), d) }

// remove takes d out of the heap if it is in it.
func (h *deliveryHeap) remove(d *delivery) {
	if i := *h.pos(d); i > 0 {
		heap.Remove((*heapOf)(h), i-1)
	}
}

// heapOf implements heap.Interface for a deliveryHeap.
type heapOf deliveryHeap

func (h *heapOf) Len() int           { return len(h.items) }
func (h *heapOf) Less(i, j int) bool { return h.less(h.items[i], h.items[j]) < 0 }
func (h *heapOf) Swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	*h.pos(h.items[i]) = i + 1
	*h.pos(h.items[j]) = j + 1
}
func (h *heapOf) Push(x any) {
	d := x.(*delivery)
	h.items = append(h.items, d)
	*h.pos(d) = len(h.items)
}
func (h *heapOf) Pop() any {
	n := len(h.items) - 1
	d := h.items[n]
	h.items[n] = nil
	h.items = h.items[:n]
	*h.pos(d) = 0
	return d
}
