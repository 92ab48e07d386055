package memstore

import (
	"cmp"
	"container/heap"
	"slices"
	"time"

	"github.com/s2skit/s2s/store"
)

// The outbox index. LeaseDeliveries must find the due pending deliveries among every
// delivery ever recorded, most of them delivered or dead long ago, under the write lock that
// also serialises recording conversions: a scan of them all would make every worker's poll
// cost O(all deliveries). Instead, each pending delivery is in exactly one of two places:
//
//   - its endpoint's ready heap, by (NextAttemptAt, ID): pending and not leased, or leased
//     by a lease that had expired at some caller's now;
//   - leased, one heap for every endpoint, by (lease expiry, ID): pending and leased. When a
//     lease has expired at a caller's now, the delivery moves back to its endpoint's ready
//     heap, at its NextAttemptAt; its lease stays as it was, so that its holder can still
//     record an attempt that finished in time.
//
// The endpoints that are enabled and have a ready delivery are in heads, a heap of
// endpoints by the (NextAttemptAt, ID) of their ready heap's top. The due deliveries of
// enabled endpoints, in leasing order, are therefore a merge that heads does: the top of
// the top endpoint's ready heap is the next one. A disabled endpoint is not in heads, so its
// backlog, however long, is never looked at until it is enabled again; an endpoint that a
// caller excludes is taken out of heads for that call, when leasing meets it, and put back
// at the end.
//
// Callers' clocks need not agree: a delivery popped from ready whose lease has not expired at
// this caller's now goes back to leased, so a delivery is leased exactly when the contract's
// rule (pending, due, its lease expired at the caller's now, its endpoint enabled and not
// excluded) says so.
//
// Delivered and dead deliveries are in no heap. Leasing k deliveries, with m expired leases
// to move back and x excluded endpoints met, costs O((k+m) (log n + log e) + x log e) for n
// pending deliveries of e endpoints, whatever the number of deliveries delivered, dead, or
// waiting for a disabled or excluded endpoint. Disabling or enabling an endpoint costs
// O(log e).

// endpoint is an outbound endpoint: its state as the store keeps it, and its pending
// deliveries that are ready to lease. s.mu guards it.
type endpoint struct {
	state store.EndpointState
	// known says whether the store knows the endpoint ([store.EndpointStore]): an attempt
	// was recorded for it, or it was disabled. An endpoint that only has deliveries is
	// unknown, and not listed.
	known   bool
	ready   indexedHeap[delivery]
	dead    map[*delivery]struct{} // its dead deliveries, which ReplayDeliveries revives
	headPos int                    // 1 + its index in due.heads, 0 when not there
}

// dueIndex holds the heaps. s.mu guards it.
type dueIndex struct {
	heads  indexedHeap[endpoint]
	leased indexedHeap[delivery]
}

func newDueIndex() dueIndex {
	return dueIndex{
		heads: indexedHeap[endpoint]{
			less: func(a, b *endpoint) int { return cmpDue(a.ready.top(), b.ready.top()) },
			pos:  func(e *endpoint) *int { return &e.headPos },
		},
		leased: indexedHeap[delivery]{
			less: func(a, b *delivery) int { return cmpAt(a.leaseExpires, a, b.leaseExpires, b) },
			pos:  func(d *delivery) *int { return &d.leasedPos },
		},
	}
}

// newEndpoint returns the state of an endpoint the store does not know yet.
func newEndpoint(name string) *endpoint {
	return &endpoint{
		state: store.EndpointState{Name: name},
		ready: indexedHeap[delivery]{less: cmpDue, pos: func(d *delivery) *int { return &d.readyPos }},
		dead:  map[*delivery]struct{}{},
	}
}

// cmpDue orders deliveries by when they are due, then by ID: the leasing order.
func cmpDue(a, b *delivery) int { return cmpAt(a.d.NextAttemptAt, a, b.d.NextAttemptAt, b) }

// cmpAt orders deliveries by a time, then by ID.
func cmpAt(at time.Time, a *delivery, bt time.Time, b *delivery) int {
	return cmp.Or(at.Compare(bt), slices.Compare(a.d.ID[:], b.d.ID[:]))
}

// settle puts e in heads, moves it there, or takes it out, after its ready heap or its
// state changed: it is in heads exactly when it is enabled and has a ready delivery.
func (x *dueIndex) settle(e *endpoint) {
	want := !e.state.Disabled && e.ready.len() > 0
	switch in := e.headPos > 0; {
	case want && in:
		x.heads.fix(e)
	case want:
		x.heads.add(e)
	case in:
		x.heads.remove(e)
	}
}

// ready puts a pending, unleased delivery (new, replayed, rescheduled, or whose lease
// expired) in its endpoint's ready heap.
func (x *dueIndex) ready(d *delivery) {
	d.ep.ready.add(d)
	x.settle(d.ep)
}

// done takes a delivery out of every heap: its attempt was recorded.
func (x *dueIndex) done(d *delivery) {
	if d.readyPos > 0 {
		d.ep.ready.remove(d)
		x.settle(d.ep)
	}
	x.leased.remove(d)
}

// lease leases up to limit deliveries due at now, oldest due first, of endpoints that are
// enabled and not excluded, until expires, with new fencing tokens, and returns them.
func (x *dueIndex) lease(now, expires time.Time, limit int, excluded map[string]bool) []*delivery {
	for x.leased.len() > 0 && !x.leased.top().leaseExpires.After(now) {
		x.ready(x.leased.pop()) // its lease has expired: due again at its NextAttemptAt
	}
	var out []*delivery
	var aside []*endpoint // excluded endpoints taken out of heads for this call
	for len(out) < limit && x.heads.len() > 0 {
		e := x.heads.top()
		d := e.ready.top()
		if d.d.NextAttemptAt.After(now) {
			break
		}
		if excluded[e.state.Name] {
			x.heads.pop()
			aside = append(aside, e)
			continue
		}
		e.ready.pop()
		x.settle(e)
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
	for _, e := range aside {
		x.settle(e)
	}
	return out
}

// indexedHeap is a min-heap of *T by less, which records each element's index in the element
// itself (pos), so that an element is removed or moved in O(log n). A position of 0 means
// "not in this heap"; the heap stores index+1.
type indexedHeap[T any] struct {
	items []*T
	less  func(a, b *T) int
	pos   func(v *T) *int
}

func (h *indexedHeap[T]) len() int { return len(h.items) }
func (h *indexedHeap[T]) top() *T  { return h.items[0] }
func (h *indexedHeap[T]) pop() *T  { return heap.Pop((*heapOf[T])(h)).(*T) }
func (h *indexedHeap[T]) add(v *T) { heap.Push((*heapOf[T])(h), v) }
func (h *indexedHeap[T]) fix(v *T) { heap.Fix((*heapOf[T])(h), *h.pos(v)-1) }
func (h *indexedHeap[T]) remove(v *T) {
	if i := *h.pos(v); i > 0 {
		heap.Remove((*heapOf[T])(h), i-1)
	}
}

// heapOf implements heap.Interface for an indexedHeap.
type heapOf[T any] indexedHeap[T]

func (h *heapOf[T]) Len() int           { return len(h.items) }
func (h *heapOf[T]) Less(i, j int) bool { return h.less(h.items[i], h.items[j]) < 0 }
func (h *heapOf[T]) Swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	*h.pos(h.items[i]) = i + 1
	*h.pos(h.items[j]) = j + 1
}
func (h *heapOf[T]) Push(x any) {
	v := x.(*T)
	h.items = append(h.items, v)
	*h.pos(v) = len(h.items)
}
func (h *heapOf[T]) Pop() any {
	n := len(h.items) - 1
	v := h.items[n]
	h.items[n] = nil
	h.items = h.items[:n]
	*h.pos(v) = 0
	return v
}
