package storetest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/store"
)

// pagingRecords is how many records each listing of the paging tests holds.
const pagingRecords = 11

// pagingTimes returns pagingRecords times out of order, with two pairs of ties (which the
// ID then orders) and one before 1970 (which a cursor must not assume away).
func pagingTimes() []time.Time {
	ts := make([]time.Time, pagingRecords)
	for i := range ts {
		ts[i] = at(time.Duration((i*7)%pagingRecords) * time.Minute)
	}
	ts[3], ts[8] = ts[5], ts[9]
	ts[10] = time.Date(1960, 5, 1, 12, 0, 0, 0, time.UTC)
	return ts
}

// keyed is a record's listing key: its sort time and ID.
type keyed struct {
	at time.Time
	id uuid.UUID
}

// order returns the IDs of ks in listing order: by time, then ID.
func order(ks []keyed) []uuid.UUID {
	ks = slices.Clone(ks)
	slices.SortFunc(ks, func(a, b keyed) int { return cmp.Or(a.at.Compare(b.at), slices.Compare(a.id[:], b.id[:])) })
	ids := make([]uuid.UUID, len(ks))
	for i, k := range ks {
		ids[i] = k.id
	}
	return ids
}

// checkPaging pages through a listing the way go-cloud's blob drivertest does, at page sizes
// 1, 2, 3, exactly the number of records and more than all of them: every page holds at most
// Limit records, only the last is short, no record comes twice, and the pages together are
// want, in order. Limit 0 (the default page) lists all of them at once.
func checkPaging[T any](t *testing.T, listing string, want []uuid.UUID, list func(after store.Cursor, limit int) ([]T, error), key func(T) keyed) {
	t.Helper()
	for _, size := range []int{1, 2, 3, len(want), len(want) + 5} {
		var got []uuid.UUID
		seen := map[uuid.UUID]bool{}
		after := store.Cursor{}
		for pages := 0; ; pages++ {
			require.LessOrEqual(t, pages, len(want)+1, "rule: paging through %s ends (limit %d)", listing, size)
			page, err := list(after, size)
			require.NoError(t, err, "rule: %s pages with a cursor (limit %d)", listing, size)
			require.LessOrEqual(t, len(page), size, "rule: a page of %s holds at most Limit records (limit %d)", listing, size)
			for _, r := range page {
				k := key(r)
				require.False(t, seen[k.id], "rule: paging through %s never returns a record twice (limit %d)", listing, size)
				seen[k.id] = true
				got = append(got, k.id)
			}
			if len(page) < size {
				if len(page) > 0 {
					rest, err := list(store.Cursor{At: key(page[len(page)-1]).at, ID: key(page[len(page)-1]).id}, size)
					require.NoError(t, err, "rule: %s pages with a cursor (limit %d)", listing, size)
					require.Empty(t, rest, "rule: a short page of %s is the last (limit %d)", listing, size)
				}
				break
			}
			last := key(page[len(page)-1])
			after = store.Cursor{At: last.at, ID: last.id}
		}
		require.Equal(t, want, got, "rule: the pages of %s together are the whole listing, in order (limit %d)", listing, size)
	}
	all, err := list(store.Cursor{}, 0)
	require.NoError(t, err, "rule: %s lists with the default limit", listing)
	ids := make([]uuid.UUID, len(all))
	for i, r := range all {
		ids[i] = key(r).id
	}
	require.Equal(t, want, ids, "rule: Limit 0 lists up to the default page (100) of %s", listing)
}

func (s suite) paging(t *testing.T) {
	t.Run("ListConversions", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		from, to := time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), at(time.Hour)
		var want []keyed
		for i, occurred := range pagingTimes() {
			p := conversionFor(fmt.Sprintf("k%d", i), "aff-1", occurred)
			if i%3 == 1 {
				// No event time: placed at its ReceivedAt, which a received time that
				// sorts elsewhere (a day after the others) would betray if it were used.
				p.Conversion.OccurredAt, p.Conversion.ReceivedAt = time.Time{}, occurred
			} else {
				p.Conversion.ReceivedAt = occurred.Add(24 * time.Hour)
			}
			_, err := st.RecordConversion(ctx(t), p)
			require.NoError(t, err, "rule: a valid conversion is recorded")
			want = append(want, keyed{store.NormalizeTime(occurred), p.Conversion.ID})
		}
		for _, noise := range []store.RecordConversionParams{
			conversionFor("other-affiliate", "aff-2", base), conversionFor("at-to", "aff-1", to), conversionFor("before-from", "aff-1", from.Add(-time.Second)),
		} {
			_, err := st.RecordConversion(ctx(t), noise)
			require.NoError(t, err, "rule: a valid conversion is recorded")
		}
		checkPaging(t, "ListConversions", order(want), func(after store.Cursor, limit int) ([]store.Conversion, error) {
			return st.ListConversions(ctx(t), store.ListConversionsParams{AffiliateID: "aff-1", From: from, To: to, After: after, Limit: limit})
		}, func(c store.Conversion) keyed { return keyed{c.EventTime(), c.ID} })
	})
	t.Run("ListLedgerLines", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		from, to := time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), at(48*time.Hour)
		var byCreated, byStatement []keyed
		var lines []store.LedgerLine
		times := pagingTimes()
		for i, created := range times {
			// Payable in another order than created, so that the two listings differ.
			l := adjustment("aff-1", int64(i+1), money.EUR, created)
			l.At, l.Payable = times[(i+4)%len(times)], times[(i+4)%len(times)]
			if i%3 == 0 { // held: payable later than it accrued
				l.Payable = l.At.Add(time.Duration(i) * time.Hour)
			}
			lines = append(lines, l)
			byCreated = append(byCreated, keyed{store.NormalizeTime(created), l.ID})
			byStatement = append(byStatement, keyed{store.NormalizeTime(l.StatementTime()), l.ID})
		}
		noise := adjustment("aff-2", 1, money.EUR, base)
		require.NoError(t, st.InsertLedgerLines(ctx(t), store.InsertLedgerLinesParams{Lines: append(lines, noise)}), "rule: valid lines are stored")
		require.NotEqual(t, order(byCreated), order(byStatement), "the two orders differ, or the test proves nothing")
		for _, by := range []store.LedgerTime{store.ByCreatedAt, store.ByStatementTime} {
			want := order(byCreated)
			if by == store.ByStatementTime {
				want = order(byStatement)
			}
			checkPaging(t, fmt.Sprintf("ListLedgerLines (By %d)", by), want, func(after store.Cursor, limit int) ([]store.LedgerLine, error) {
				return st.ListLedgerLines(ctx(t), store.ListLedgerLinesParams{AffiliateID: "aff-1", By: by, From: from, To: to, After: after, Limit: limit})
			}, func(l store.LedgerLine) keyed { return keyed{by.ListTime(l), l.ID} })
		}
	})
	t.Run("ListDeliveries", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		p := conversionFor("k1", "aff-1", base)
		p.Deliveries = nil
		var want []keyed
		for _, created := range pagingTimes() {
			d := newDelivery(p.Conversion.ID, base)
			d.CreatedAt = created
			p.Deliveries = append(p.Deliveries, d)
			want = append(want, keyed{store.NormalizeTime(created), d.ID})
		}
		dead := newDelivery(p.Conversion.ID, base.Add(-time.Hour)) // due first, so leased first
		p.Deliveries = append(p.Deliveries, dead)
		_, err := st.RecordConversion(ctx(t), p)
		require.NoError(t, err, "rule: a valid conversion is recorded with its deliveries")
		leases, err := st.LeaseDeliveries(ctx(t), store.LeaseParams{Now: base.Add(-time.Hour), LeaseFor: time.Minute, Limit: 1})
		require.NoError(t, err, "rule: a due delivery is leased")
		require.Len(t, leases, 1, "rule: at most Limit deliveries are leased")
		_, err = st.RecordAttempt(ctx(t), store.RecordAttemptParams{DeliveryID: dead.ID, Token: leases[0].Token,
			Attempt: attempt(base.Add(-time.Hour), 410), Status: store.DeliveryDead})
		require.NoError(t, err, "rule: the lease holder records its attempt")
		checkPaging(t, "ListDeliveries", order(want), func(after store.Cursor, limit int) ([]store.Delivery, error) {
			return st.ListDeliveries(ctx(t), store.ListDeliveriesParams{Status: store.DeliveryPending, After: after, Limit: limit})
		}, func(d store.Delivery) keyed { return keyed{d.CreatedAt, d.ID} })
	})
	t.Run("ListParked", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		var all, waiting, ofTxn []keyed
		for i, parked := range pagingTimes() {
			txn := fmt.Sprintf("tx-%d", i)
			if i%2 == 0 {
				txn = "tx-even"
			}
			e := parkedFor("network-a", txn, parked)
			e.Conversion.DedupKey = fmt.Sprintf("k%d", i)
			park(t, st, e)
			k := keyed{store.NormalizeTime(parked), e.ID}
			all = append(all, k)
			if i%2 == 0 {
				ofTxn = append(ofTxn, k)
			}
			if i%4 == 1 {
				require.NoError(t, st.ResolveParked(ctx(t), store.ResolveParkedParams{IDs: []uuid.UUID{e.ID}, At: base}), "rule: a valid ResolveParked succeeds")
			} else {
				waiting = append(waiting, k)
			}
		}
		noise := parkedFor("network-b", "tx-even", base)
		noise.Conversion.DedupKey = "noise"
		park(t, st, noise)
		require.NoError(t, st.ResolveParked(ctx(t), store.ResolveParkedParams{IDs: []uuid.UUID{noise.ID}, At: base}), "rule: a valid ResolveParked succeeds")
		for _, tc := range []struct {
			name string
			p    store.ListParkedParams
			want []keyed
		}{
			{"Source", store.ListParkedParams{Source: "network-a"}, all},
			{"Waiting", store.ListParkedParams{Unresolved: true}, waiting},
			{"Transaction", store.ListParkedParams{Source: "network-a", TransactionID: "tx-even"}, ofTxn},
		} {
			checkPaging(t, "ListParked ("+tc.name+")", order(tc.want), func(after store.Cursor, limit int) ([]store.ParkedEvent, error) {
				p := tc.p
				p.After, p.Limit = after, limit
				return st.ListParked(ctx(t), p)
			}, func(e store.ParkedEvent) keyed { return keyed{e.ParkedAt, e.ID} })
		}
	})
	t.Run("ListInbound", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		var all, rejected []store.InboundRecord
		for i, received := range pagingTimes() {
			r := inboundAt("network-a", []string{"accepted", "rejected"}[i%2], received)
			logInbound(t, st, r)
			all = append(all, r)
			if i%2 == 1 {
				rejected = append(rejected, r)
			}
		}
		logInbound(t, st, inboundAt("network-b", "rejected", base))
		for _, tc := range []struct {
			name string
			p    store.ListInboundParams
			want []store.InboundRecord
		}{
			{"Source", store.ListInboundParams{Source: "network-a"}, all},
			{"SourceAndOutcome", store.ListInboundParams{Source: "network-a", Outcome: "rejected"}, rejected},
			{"Range", store.ListInboundParams{Source: "network-a", From: time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), To: at(time.Hour)}, all},
		} {
			checkPaging(t, "ListInbound ("+tc.name+")", newestFirst(tc.want...), func(after store.Cursor, limit int) ([]store.InboundRecord, error) {
				p := tc.p
				p.After, p.Limit = after, limit
				return st.ListInbound(ctx(t), p)
			}, func(r store.InboundRecord) keyed { return keyed{r.ReceivedAt, r.ID} })
		}
	})
}

// limitRecords is how many records the limit tests list: more than the largest page.
const limitRecords = 1100

// checkLimits lists want (in listing order, more than 1000 of them) at the limits that the
// contract gives a meaning: 0 is the default page (def), a limit above 1000 is 1000, 1000 is
// itself; and pages on from the cursor of a page of 1000 to the rest.
func checkLimits[T any](t *testing.T, listing string, def int, want []uuid.UUID, list func(after store.Cursor, limit int) ([]T, error), key func(T) keyed) {
	t.Helper()
	require.Greater(t, len(want), 1000, "the limit test of %s needs more records than the largest page", listing)
	ids := func(rs []T) []uuid.UUID {
		out := make([]uuid.UUID, len(rs))
		for i, r := range rs {
			out[i] = key(r).id
		}
		return out
	}
	for _, tc := range []struct{ limit, want int }{{0, def}, {1, 1}, {999, 999}, {1000, 1000}, {1001, 1000}, {5000, 1000}} {
		page, err := list(store.Cursor{}, tc.limit)
		require.NoError(t, err, "rule: %s lists with limit %d", listing, tc.limit)
		require.Equal(t, want[:tc.want], ids(page), "rule: %s with Limit %d returns the first %d records (0 means %d; at most 1000)", listing, tc.limit, tc.want, def)
	}
	first, err := list(store.Cursor{}, 5000)
	require.NoError(t, err, "rule: %s lists with limit 5000", listing)
	last := key(first[len(first)-1])
	rest, err := list(store.Cursor{At: last.at, ID: last.id}, 5000)
	require.NoError(t, err, "rule: %s pages with a cursor", listing)
	require.Equal(t, want[1000:], ids(rest), "rule: the page after a capped page of %s is the rest, exactly", listing)
}

func (s suite) limits(t *testing.T) {
	t.Run("ListConversions", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		var want []keyed
		for i := range limitRecords {
			p := conversionFor(fmt.Sprintf("limit-%d", i), "aff-1", at(time.Duration(i%97)*time.Second))
			p.Ledger, p.Deliveries = nil, nil
			_, err := st.RecordConversion(ctx(t), p)
			require.NoError(t, err, "rule: a valid conversion is recorded")
			want = append(want, keyed{store.NormalizeTime(p.Conversion.OccurredAt), p.Conversion.ID})
		}
		checkLimits(t, "ListConversions", 100, order(want), func(after store.Cursor, limit int) ([]store.Conversion, error) {
			return st.ListConversions(ctx(t), store.ListConversionsParams{AffiliateID: "aff-1", From: base.Add(-time.Hour), To: base.Add(time.Hour), After: after, Limit: limit})
		}, func(c store.Conversion) keyed { return keyed{c.EventTime(), c.ID} })
	})
	t.Run("ListLedgerLines", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		var all []store.LedgerLine
		var want []keyed
		for i := range limitRecords {
			l := adjustment("aff-1", int64(i+1), money.EUR, at(time.Duration(i%97)*time.Second))
			all = append(all, l)
			want = append(want, keyed{l.CreatedAt, l.ID})
		}
		for start := 0; start < len(all); start += store.MaxLines {
			batch := all[start:min(start+store.MaxLines, len(all))]
			require.NoError(t, st.InsertLedgerLines(ctx(t), store.InsertLedgerLinesParams{Lines: batch}), "rule: valid lines are stored")
		}
		checkLimits(t, "ListLedgerLines", 100, order(want), func(after store.Cursor, limit int) ([]store.LedgerLine, error) {
			return st.ListLedgerLines(ctx(t), store.ListLedgerLinesParams{AffiliateID: "aff-1", From: base.Add(-time.Hour), To: base.Add(time.Hour), After: after, Limit: limit})
		}, func(l store.LedgerLine) keyed { return keyed{l.CreatedAt, l.ID} })
	})
	t.Run("DeliveriesListedAndLeased", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		var want, due []keyed
		for c, n := range []int{store.MaxLines, limitRecords - store.MaxLines} {
			p := conversionFor(fmt.Sprintf("k%d", c), "aff-1", base)
			p.Deliveries = nil
			for i := range n {
				d := newDelivery(p.Conversion.ID, at(time.Duration((i*7)%101)*time.Second))
				d.CreatedAt = at(time.Duration(i%89) * time.Second)
				p.Deliveries = append(p.Deliveries, d)
				want = append(want, keyed{d.CreatedAt, d.ID})
				due = append(due, keyed{d.NextAttemptAt, d.ID})
			}
			_, err := st.RecordConversion(ctx(t), p)
			require.NoError(t, err, "rule: a valid conversion is recorded with its deliveries")
		}
		checkLimits(t, "ListDeliveries", 100, order(want), func(after store.Cursor, limit int) ([]store.Delivery, error) {
			return st.ListDeliveries(ctx(t), store.ListDeliveriesParams{Status: store.DeliveryPending, After: after, Limit: limit})
		}, func(d store.Delivery) keyed { return keyed{d.CreatedAt, d.ID} })

		// Leasing: Limit 0 means 10, and at most 1000, oldest due first.
		now := base.Add(time.Hour)
		dueOrder := order(due)
		var leasedIDs []uuid.UUID
		for _, tc := range []struct{ limit, want int }{{0, 10}, {5000, 1000}} {
			ls, err := st.LeaseDeliveries(ctx(t), store.LeaseParams{Now: now, LeaseFor: time.Hour, Limit: tc.limit})
			require.NoError(t, err, "rule: a valid LeaseDeliveries succeeds")
			require.Len(t, ls, tc.want, "rule: LeaseDeliveries with Limit %d leases %d (0 means 10; at most 1000)", tc.limit, tc.want)
			for _, l := range ls {
				leasedIDs = append(leasedIDs, l.Delivery.ID)
			}
		}
		require.Equal(t, dueOrder[:1010], leasedIDs, "rule: deliveries are leased oldest due first, each once")
	})
	t.Run("ListParked", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		var want []keyed
		for i := range limitRecords {
			e := parkedFor("network-a", fmt.Sprintf("tx-%d", i), at(time.Duration(i%97)*time.Second))
			park(t, st, e)
			want = append(want, keyed{e.ParkedAt, e.ID})
		}
		checkLimits(t, "ListParked", 100, order(want), func(after store.Cursor, limit int) ([]store.ParkedEvent, error) {
			return st.ListParked(ctx(t), store.ListParkedParams{Unresolved: true, After: after, Limit: limit})
		}, func(e store.ParkedEvent) keyed { return keyed{e.ParkedAt, e.ID} })
	})
	t.Run("ListInbound", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		var all []store.InboundRecord
		for i := range limitRecords {
			r := inboundAt("network-a", "accepted", at(time.Duration(i%97)*time.Second))
			logInbound(t, st, r)
			all = append(all, r)
		}
		checkLimits(t, "ListInbound", 100, newestFirst(all...), func(after store.Cursor, limit int) ([]store.InboundRecord, error) {
			return st.ListInbound(ctx(t), store.ListInboundParams{After: after, Limit: limit})
		}, func(r store.InboundRecord) keyed { return keyed{r.ReceivedAt, r.ID} })
	})
}

// refusal is what a refusal test does with one method on a store of its own: calls with
// invalid parameters, a valid call, and, for a write, whether its effect is visible.
type refusal struct {
	invalid map[string]func(ctx context.Context) error // each must fail with ErrInvalid
	valid   func(ctx context.Context) error            // succeeds, or fails with the context's error
	written func(t *testing.T) bool                    // for a write: whether valid's effect is visible; nil for reads
}

// refusals checks every method of the contract: invalid parameters are ErrInvalid (with a
// canceled context too: parameters are checked first) and a canceled context is
// context.Canceled, and neither writes anything; then the valid call
// succeeds on a live context (so the refusals refused a call that could succeed) and, for a
// write, its effect becomes visible (so the check that nothing was written can fail).
func (s suite) refusals(t *testing.T) {
	for _, tc := range slices.Concat(refusalCases, endpointRefusalCases, foreignRefusalCases, parkedRefusalCases, inboundRefusalCases) {
		t.Run(tc.method, func(t *testing.T) {
			t.Parallel()
			st := s.h.NewStore(t)
			r := tc.prepare(t, st)
			require.NotEmpty(t, r.invalid, "every method has an invalid-parameter case")
			canceled, cancel := context.WithCancel(t.Context())
			cancel()
			for name, call := range r.invalid {
				require.ErrorIs(t, call(ctx(t)), store.ErrInvalid, "rule: %s with invalid parameters (%s) is ErrInvalid", tc.method, name)
				require.ErrorIs(t, call(canceled), store.ErrInvalid, "rule: parameters are checked before the context: %s with invalid parameters (%s) and a canceled context is ErrInvalid", tc.method, name)
			}
			require.ErrorIs(t, r.valid(canceled), context.Canceled, "rule: %s honours a canceled context", tc.method)
			if r.written != nil {
				require.False(t, r.written(t), "rule: a refused %s (invalid or canceled) writes nothing", tc.method)
			}
			require.NoError(t, r.valid(ctx(t)), "rule: the same valid %s succeeds on a live context", tc.method)
			if r.written != nil {
				require.True(t, r.written(t), "rule: a valid %s writes", tc.method)
			}
		})
	}
}

// found reports whether err says the record exists: nil, or else ErrNotFound.
func found(t *testing.T, err error) bool {
	t.Helper()
	if err != nil {
		require.ErrorIs(t, err, store.ErrNotFound, "rule: a missing record is ErrNotFound")
		return false
	}
	return true
}

// leased records a conversion with one delivery due at base, and leases it.
func leased(t *testing.T, st store.Store) store.Lease {
	t.Helper()
	recordWithDeliveries(t, st, "leased", base)
	ls, err := st.LeaseDeliveries(ctx(t), store.LeaseParams{Now: base, LeaseFor: time.Minute})
	require.NoError(t, err, "rule: a due delivery is leased")
	require.Len(t, ls, 1, "rule: a due delivery is leased")
	return ls[0]
}

var refusalCases = []struct {
	method  string
	prepare func(t *testing.T, st store.Store) refusal
}{
	{"InsertClick", func(t *testing.T, st store.Store) refusal {
		c := newClick(t)
		return refusal{
			invalid: map[string]func(context.Context) error{
				"Empty":       func(ctx context.Context) error { return st.InsertClick(ctx, store.Click{}) },
				"NoAffiliate": func(ctx context.Context) error { d := c; d.AffiliateID = ""; return st.InsertClick(ctx, d) },
			},
			valid: func(ctx context.Context) error { return st.InsertClick(ctx, c) },
			written: func(t *testing.T) bool {
				_, err := st.GetClick(ctx(t), c.ID)
				return found(t, err)
			},
		}
	}},
	{"InsertClicks", func(t *testing.T, st store.Store) refusal {
		batch := []store.Click{newClick(t), newClick(t)}
		return refusal{
			invalid: map[string]func(context.Context) error{
				"InvalidClick": func(ctx context.Context) error {
					return st.InsertClicks(ctx, store.InsertClicksParams{Clicks: []store.Click{batch[0], {}}})
				},
				"RepeatedID": func(ctx context.Context) error {
					return st.InsertClicks(ctx, store.InsertClicksParams{Clicks: []store.Click{batch[0], batch[0]}})
				},
			},
			valid: func(ctx context.Context) error { return st.InsertClicks(ctx, store.InsertClicksParams{Clicks: batch}) },
			written: func(t *testing.T) bool {
				_, err := st.GetClick(ctx(t), batch[0].ID)
				return found(t, err)
			},
		}
	}},
	{"GetClick", func(t *testing.T, st store.Store) refusal {
		c := newClick(t)
		require.NoError(t, st.InsertClick(ctx(t), c), "rule: a valid click is stored")
		return refusal{
			invalid: map[string]func(context.Context) error{
				"ZeroID": func(ctx context.Context) error { _, err := st.GetClick(ctx, [16]byte{}); return err },
			},
			valid: func(ctx context.Context) error { _, err := st.GetClick(ctx, c.ID); return err },
		}
	}},
	{"BindPlayer", func(t *testing.T, st store.Store) refusal {
		b := store.PlayerBinding{PlayerID: "p1", AffiliateID: "aff-1", Method: store.BindByClick, BoundAt: base}
		return refusal{
			invalid: map[string]func(context.Context) error{
				"Empty": func(ctx context.Context) error { _, err := st.BindPlayer(ctx, store.PlayerBinding{}); return err },
				"UnknownMethod": func(ctx context.Context) error {
					c := b
					c.Method = "guess"
					_, err := st.BindPlayer(ctx, c)
					return err
				},
			},
			valid: func(ctx context.Context) error { _, err := st.BindPlayer(ctx, b); return err },
			written: func(t *testing.T) bool {
				_, err := st.GetBinding(ctx(t), b.PlayerID)
				return found(t, err)
			},
		}
	}},
	{"GetBinding", func(t *testing.T, st store.Store) refusal {
		_, err := st.BindPlayer(ctx(t), store.PlayerBinding{PlayerID: "p1", AffiliateID: "aff-1", Method: store.BindByClick, BoundAt: base})
		require.NoError(t, err, "rule: a valid binding is stored")
		return refusal{
			invalid: map[string]func(context.Context) error{
				"Empty":   func(ctx context.Context) error { _, err := st.GetBinding(ctx, ""); return err },
				"NUL":     func(ctx context.Context) error { _, err := st.GetBinding(ctx, "p\x001"); return err },
				"BadUTF8": func(ctx context.Context) error { _, err := st.GetBinding(ctx, "p\xff"); return err },
				"TooLong": func(ctx context.Context) error {
					_, err := st.GetBinding(ctx, string(make([]byte, store.MaxKeyLen+1)))
					return err
				},
				"Linebreak": func(ctx context.Context) error { _, err := st.GetBinding(ctx, "p1\n"); return err },
			},
			valid: func(ctx context.Context) error { _, err := st.GetBinding(ctx, "p1"); return err },
		}
	}},
	{"RecordConversion", func(t *testing.T, st store.Store) refusal {
		p := conversionFor("k1", "aff-1", base)
		p.Increments = []store.Increment{{Counter: "cap", Delta: 1, Limit: 1}}
		return refusal{
			invalid: map[string]func(context.Context) error{
				"NoDedupKey": func(ctx context.Context) error {
					q := p
					q.Conversion.DedupKey = ""
					_, err := st.RecordConversion(ctx, q)
					return err
				},
				"Empty": func(ctx context.Context) error {
					_, err := st.RecordConversion(ctx, store.RecordConversionParams{})
					return err
				},
			},
			valid: func(ctx context.Context) error { _, err := st.RecordConversion(ctx, p); return err },
			written: func(t *testing.T) bool {
				_, err := st.GetConversionByKey(ctx(t), "k1")
				conv := found(t, err)
				_, err = st.GetDelivery(ctx(t), p.Deliveries[0].ID)
				require.Equal(t, conv, found(t, err), "rule: a conversion and its deliveries are written together or not at all")
				n, err := st.GetCounter(ctx(t), "cap")
				require.NoError(t, err, "rule: a valid GetCounter succeeds")
				require.Equal(t, conv, n == 1, "rule: a conversion and its increments are written together or not at all")
				return conv
			},
		}
	}},
	{"GetCounter", func(t *testing.T, st store.Store) refusal {
		p := conversionFor("k1", "aff-1", base)
		p.Increments = []store.Increment{{Counter: "cap", Delta: 2}}
		_, err := st.RecordConversion(ctx(t), p)
		require.NoError(t, err, "rule: a valid conversion is recorded")
		return refusal{
			invalid: map[string]func(context.Context) error{
				"Empty":   func(ctx context.Context) error { _, err := st.GetCounter(ctx, ""); return err },
				"NUL":     func(ctx context.Context) error { _, err := st.GetCounter(ctx, "c\x00ap"); return err },
				"BadUTF8": func(ctx context.Context) error { _, err := st.GetCounter(ctx, "cap\xff"); return err },
				"TooLong": func(ctx context.Context) error {
					_, err := st.GetCounter(ctx, strings.Repeat("c", store.MaxCounterLen+1))
					return err
				},
			},
			valid: func(ctx context.Context) error {
				n, err := st.GetCounter(ctx, "cap")
				if err == nil && n != 2 {
					return fmt.Errorf("counter is %d, want the 2 recorded", n)
				}
				return err
			},
		}
	}},
	{"GetConversion", func(t *testing.T, st store.Store) refusal {
		p := conversionFor("k1", "aff-1", base)
		_, err := st.RecordConversion(ctx(t), p)
		require.NoError(t, err, "rule: a valid conversion is recorded")
		return refusal{
			invalid: map[string]func(context.Context) error{
				"NilID": func(ctx context.Context) error { _, err := st.GetConversion(ctx, uuid.Nil); return err },
			},
			valid: func(ctx context.Context) error { _, err := st.GetConversion(ctx, p.Conversion.ID); return err },
		}
	}},
	{"GetConversionByKey", func(t *testing.T, st store.Store) refusal {
		_, err := st.RecordConversion(ctx(t), conversionFor("k1", "aff-1", base))
		require.NoError(t, err, "rule: a valid conversion is recorded")
		return refusal{
			invalid: map[string]func(context.Context) error{
				"Empty":   func(ctx context.Context) error { _, err := st.GetConversionByKey(ctx, ""); return err },
				"NUL":     func(ctx context.Context) error { _, err := st.GetConversionByKey(ctx, "k\x001"); return err },
				"BadUTF8": func(ctx context.Context) error { _, err := st.GetConversionByKey(ctx, "k\xff"); return err },
			},
			valid: func(ctx context.Context) error { _, err := st.GetConversionByKey(ctx, "k1"); return err },
		}
	}},
	{"ChangeStatus", func(t *testing.T, st store.Store) refusal {
		p := conversionFor("k1", "aff-1", base)
		_, err := st.RecordConversion(ctx(t), p)
		require.NoError(t, err, "rule: a valid conversion is recorded")
		change := store.ChangeStatusParams{ConversionID: p.Conversion.ID, From: event.StatusPending, To: event.StatusReversed, At: base.Add(time.Hour),
			Ledger: []store.LedgerLine{reversalOf(p.Ledger[0], base.Add(time.Hour))}}
		return refusal{
			invalid: map[string]func(context.Context) error{
				"Empty": func(ctx context.Context) error {
					_, err := st.ChangeStatus(ctx, store.ChangeStatusParams{})
					return err
				},
				"UnknownStatus": func(ctx context.Context) error {
					c := change
					c.To = "gone"
					_, err := st.ChangeStatus(ctx, c)
					return err
				},
				"LineOfOther": func(ctx context.Context) error {
					c := change
					c.Ledger = []store.LedgerLine{reversalOf(p.Ledger[0], base)}
					c.Ledger[0].ConversionID = uuid.New()
					_, err := st.ChangeStatus(ctx, c)
					return err
				},
			},
			valid: func(ctx context.Context) error { _, err := st.ChangeStatus(ctx, change); return err },
			written: func(t *testing.T) bool {
				c, err := st.GetConversion(ctx(t), p.Conversion.ID)
				require.NoError(t, err, "rule: a recorded conversion is found")
				lines, err := st.ListLedgerLines(ctx(t), store.ListLedgerLinesParams{AffiliateID: "aff-1", From: base, To: base.Add(2 * time.Hour)})
				require.NoError(t, err, "rule: a valid listing succeeds")
				require.Equal(t, c.Status == event.StatusReversed, len(lines) == 2, "rule: a status change and its ledger lines are written together or not at all")
				return c.Status == event.StatusReversed
			},
		}
	}},
	{"ListConversions", func(t *testing.T, st store.Store) refusal {
		return refusal{
			invalid: map[string]func(context.Context) error{
				"NoAffiliate": func(ctx context.Context) error {
					_, err := st.ListConversions(ctx, store.ListConversionsParams{From: base, To: base.Add(time.Hour)})
					return err
				},
				"NoRange": func(ctx context.Context) error {
					_, err := st.ListConversions(ctx, store.ListConversionsParams{AffiliateID: "aff-1"})
					return err
				},
				"ReversedRange": func(ctx context.Context) error {
					_, err := st.ListConversions(ctx, store.ListConversionsParams{AffiliateID: "aff-1", From: base, To: base.Add(-time.Hour)})
					return err
				},
				"NegativeLimit": func(ctx context.Context) error {
					_, err := st.ListConversions(ctx, store.ListConversionsParams{AffiliateID: "aff-1", From: base, To: base.Add(time.Hour), Limit: -1})
					return err
				},
			},
			valid: func(ctx context.Context) error {
				_, err := st.ListConversions(ctx, store.ListConversionsParams{AffiliateID: "aff-1", From: base, To: base.Add(time.Hour)})
				return err
			},
		}
	}},
	{"InsertLedgerLines", func(t *testing.T, st store.Store) refusal {
		l := adjustment("aff-1", 100, money.EUR, base)
		return refusal{
			invalid: map[string]func(context.Context) error{
				"NoAffiliate": func(ctx context.Context) error {
					return st.InsertLedgerLines(ctx, store.InsertLedgerLinesParams{Lines: []store.LedgerLine{l, adjustment("", 1, money.EUR, base)}})
				},
				"RepeatedID": func(ctx context.Context) error {
					return st.InsertLedgerLines(ctx, store.InsertLedgerLinesParams{Lines: []store.LedgerLine{l, l}})
				},
			},
			valid: func(ctx context.Context) error {
				return st.InsertLedgerLines(ctx, store.InsertLedgerLinesParams{Lines: []store.LedgerLine{l}})
			},
			written: func(t *testing.T) bool {
				lines, err := st.ListLedgerLines(ctx(t), store.ListLedgerLinesParams{AffiliateID: "aff-1", From: base, To: base.Add(time.Hour)})
				require.NoError(t, err, "rule: a valid listing succeeds")
				return len(lines) == 1
			},
		}
	}},
	{"ListLedgerLines", func(t *testing.T, st store.Store) refusal {
		return refusal{
			invalid: map[string]func(context.Context) error{
				"NoAffiliate": func(ctx context.Context) error {
					_, err := st.ListLedgerLines(ctx, store.ListLedgerLinesParams{From: base, To: base.Add(time.Hour)})
					return err
				},
				"NoRange": func(ctx context.Context) error {
					_, err := st.ListLedgerLines(ctx, store.ListLedgerLinesParams{AffiliateID: "aff-1"})
					return err
				},
				"UnknownBy": func(ctx context.Context) error {
					_, err := st.ListLedgerLines(ctx, store.ListLedgerLinesParams{AffiliateID: "aff-1", By: 7, From: base, To: base.Add(time.Hour)})
					return err
				},
				"NegativeLimit": func(ctx context.Context) error {
					_, err := st.ListLedgerLines(ctx, store.ListLedgerLinesParams{AffiliateID: "aff-1", From: base, To: base.Add(time.Hour), Limit: -1})
					return err
				},
			},
			valid: func(ctx context.Context) error {
				_, err := st.ListLedgerLines(ctx, store.ListLedgerLinesParams{AffiliateID: "aff-1", By: store.ByStatementTime, From: base, To: base.Add(time.Hour)})
				return err
			},
		}
	}},
	{"LeaseDeliveries", func(t *testing.T, st store.Store) refusal {
		recordWithDeliveries(t, st, "k1", base)
		return refusal{
			invalid: map[string]func(context.Context) error{
				"NoNow": func(ctx context.Context) error {
					_, err := st.LeaseDeliveries(ctx, store.LeaseParams{LeaseFor: time.Minute})
					return err
				},
				"NoLeaseFor": func(ctx context.Context) error {
					_, err := st.LeaseDeliveries(ctx, store.LeaseParams{Now: base})
					return err
				},
				"NegativeLimit": func(ctx context.Context) error {
					_, err := st.LeaseDeliveries(ctx, store.LeaseParams{Now: base, LeaseFor: time.Minute, Limit: -1})
					return err
				},
			},
			// The valid lease must find the delivery: a refused lease took nothing.
			valid: func(ctx context.Context) error {
				ls, err := st.LeaseDeliveries(ctx, store.LeaseParams{Now: base, LeaseFor: time.Minute})
				if err == nil && len(ls) != 1 {
					return fmt.Errorf("leased %d deliveries, want the 1 that a refused lease left", len(ls))
				}
				return err
			},
		}
	}},
	{"RecordAttempt", func(t *testing.T, st store.Store) refusal {
		l := leased(t, st)
		p := store.RecordAttemptParams{DeliveryID: l.Delivery.ID, Token: l.Token, Attempt: attempt(base, 200), Status: store.DeliveryDelivered}
		return refusal{
			invalid: map[string]func(context.Context) error{
				"Empty": func(ctx context.Context) error {
					_, err := st.RecordAttempt(ctx, store.RecordAttemptParams{})
					return err
				},
				"UnknownStatus": func(ctx context.Context) error {
					q := p
					q.Status = "lost"
					_, err := st.RecordAttempt(ctx, q)
					return err
				},
				"RetryNotLater": func(ctx context.Context) error {
					q := p
					q.Status = store.DeliveryPending
					_, err := st.RecordAttempt(ctx, q)
					return err
				},
				"FinishedFirst": func(ctx context.Context) error {
					q := p
					q.Attempt.FinishedAt = q.Attempt.StartedAt.Add(-time.Second)
					_, err := st.RecordAttempt(ctx, q)
					return err
				},
			},
			valid: func(ctx context.Context) error { _, err := st.RecordAttempt(ctx, p); return err },
			written: func(t *testing.T) bool {
				d, err := st.GetDelivery(ctx(t), l.Delivery.ID)
				require.NoError(t, err, "rule: a recorded delivery is found")
				require.Equal(t, d.Status == store.DeliveryDelivered, len(d.Attempts) == 1, "rule: an attempt and the status it leads to are written together")
				return len(d.Attempts) == 1
			},
		}
	}},
	{"GetDelivery", func(t *testing.T, st store.Store) refusal {
		ds := recordWithDeliveries(t, st, "k1", base)
		return refusal{
			invalid: map[string]func(context.Context) error{
				"NilID": func(ctx context.Context) error { _, err := st.GetDelivery(ctx, uuid.Nil); return err },
			},
			valid: func(ctx context.Context) error { _, err := st.GetDelivery(ctx, ds[0].ID); return err },
		}
	}},
	{"ListDeliveries", func(t *testing.T, st store.Store) refusal {
		return refusal{
			invalid: map[string]func(context.Context) error{
				"NoStatus": func(ctx context.Context) error {
					_, err := st.ListDeliveries(ctx, store.ListDeliveriesParams{})
					return err
				},
				"UnknownStatus": func(ctx context.Context) error {
					_, err := st.ListDeliveries(ctx, store.ListDeliveriesParams{Status: "lost"})
					return err
				},
				"NegativeLimit": func(ctx context.Context) error {
					_, err := st.ListDeliveries(ctx, store.ListDeliveriesParams{Status: store.DeliveryDead, Limit: -1})
					return err
				},
			},
			valid: func(ctx context.Context) error {
				_, err := st.ListDeliveries(ctx, store.ListDeliveriesParams{Status: store.DeliveryDead})
				return err
			},
		}
	}},
	{"ReplayDelivery", func(t *testing.T, st store.Store) refusal {
		l := leased(t, st)
		_, err := st.RecordAttempt(ctx(t), store.RecordAttemptParams{DeliveryID: l.Delivery.ID, Token: l.Token, Attempt: attempt(base, 410), Status: store.DeliveryDead})
		require.NoError(t, err, "rule: the lease holder records its attempt")
		p := store.ReplayDeliveryParams{DeliveryID: l.Delivery.ID, At: base.Add(time.Hour)}
		return refusal{
			invalid: map[string]func(context.Context) error{
				"NilID": func(ctx context.Context) error {
					_, err := st.ReplayDelivery(ctx, store.ReplayDeliveryParams{At: base})
					return err
				},
				"NoAt": func(ctx context.Context) error {
					_, err := st.ReplayDelivery(ctx, store.ReplayDeliveryParams{DeliveryID: l.Delivery.ID})
					return err
				},
			},
			valid: func(ctx context.Context) error { _, err := st.ReplayDelivery(ctx, p); return err },
			written: func(t *testing.T) bool {
				d, err := st.GetDelivery(ctx(t), l.Delivery.ID)
				require.NoError(t, err, "rule: a recorded delivery is found")
				return d.Status == store.DeliveryPending
			},
		}
	}},
}
