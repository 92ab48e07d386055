package storetest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/store"
)

// counterIs checks that a counter has the value want.
func counterIs(t *testing.T, st store.Store, counter string, want int64, rule string, args ...any) {
	t.Helper()
	n, err := st.GetCounter(ctx(t), counter)
	require.NoError(t, err, "rule: a valid GetCounter succeeds")
	require.Equal(t, want, n, append([]any{"rule: " + rule}, args...)...)
}

// requireLimit checks that err is the *store.LimitError of counter, wrapping ErrLimit.
func requireLimit(t *testing.T, err error, want store.LimitError, rule string) {
	t.Helper()
	require.ErrorIs(t, err, store.ErrLimit, "rule: "+rule)
	var le *store.LimitError
	require.ErrorAs(t, err, &le, "rule: a refusal past a limit is a *store.LimitError")
	require.Equal(t, want, *le, "rule: the LimitError names the counter, its value, the increment and the limit")
	require.ErrorContains(t, err, fmt.Sprintf("%q", want.Counter), "rule: the error names the counter")
}

func (s suite) counters(t *testing.T) {
	t.Run("IncrementedWithTheirRecords", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		counterIs(t, st, "never", 0, "a counter never incremented is 0")
		long := strings.Repeat("é", store.MaxCounterLen/2) // 1024 bytes: the longest name
		p := conversionFor("k1", "aff-1", base)
		p.Increments = []store.Increment{
			{Counter: "tier:aff-1:2026-11", Delta: 3},
			{Counter: "cap:camp-1:2026-11-23", Delta: 1, Limit: 10},
			{Counter: long, Delta: 1},
		}
		_, err := st.RecordConversion(ctx(t), p)
		require.NoError(t, err, "rule: a valid RecordConversion with increments succeeds")
		counterIs(t, st, "tier:aff-1:2026-11", 3, "a record applies its increments")
		counterIs(t, st, "cap:camp-1:2026-11-23", 1, "a record applies its increments")
		counterIs(t, st, long, 1, "a counter's name of MaxCounterLen bytes is kept exactly")

		q := conversionFor("k2", "aff-1", base)
		q.Increments = []store.Increment{{Counter: "tier:aff-1:2026-11", Delta: 2}}
		_, err = st.RecordConversion(ctx(t), q)
		require.NoError(t, err, "rule: a valid RecordConversion with increments succeeds")
		counterIs(t, st, "tier:aff-1:2026-11", 5, "increments add up")

		_, err = st.ChangeStatus(ctx(t), store.ChangeStatusParams{ConversionID: p.Conversion.ID, From: event.StatusPending,
			To: event.StatusReversed, At: base.Add(time.Hour), Ledger: []store.LedgerLine{reversalOf(p.Ledger[0], base.Add(time.Hour))},
			Increments: []store.Increment{{Counter: "reversals:aff-1", Delta: 1}, {Counter: "tier:aff-1:2026-11", Delta: 1, Limit: 6}}})
		require.NoError(t, err, "rule: a valid ChangeStatus with increments succeeds")
		counterIs(t, st, "reversals:aff-1", 1, "a status change applies its increments")
		counterIs(t, st, "tier:aff-1:2026-11", 6, "a status change applies its increments, up to the limit itself")
	})
	t.Run("DuplicateAppliesNoIncrement", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		first := conversionFor("k1", "aff-1", base)
		first.Increments = []store.Increment{{Counter: "cap", Delta: 1, Limit: 1}, {Counter: "all", Delta: 1}}
		_, err := st.RecordConversion(ctx(t), first)
		require.NoError(t, err, "rule: a valid RecordConversion with increments succeeds")

		retry := conversionFor("k1", "aff-1", base)
		retry.Conversion.PlayerID = first.Conversion.PlayerID
		retry.Increments = first.Increments
		_, err = st.RecordConversion(ctx(t), retry)
		require.ErrorIs(t, err, store.ErrDuplicate, "rule: a retry is ErrDuplicate, not ErrLimit, though its increment would pass the limit")
		conflict := conversionFor("k1", "aff-1", base)
		conflict.Conversion.TransactionID = "another transaction"
		conflict.Increments = []store.Increment{{Counter: "all", Delta: 1}}
		_, err = st.RecordConversion(ctx(t), conflict)
		require.ErrorIs(t, err, store.ErrConflict, "rule: same dedup key with other content is ErrConflict")
		counterIs(t, st, "cap", 1, "a duplicate or a conflict applies no increment")
		counterIs(t, st, "all", 1, "a duplicate or a conflict applies no increment")
	})
	t.Run("LimitRefusesTheWholeWrite", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		first := conversionFor("k1", "aff-1", base)
		first.Increments = []store.Increment{{Counter: "cap", Delta: 1, Limit: 1}}
		_, err := st.RecordConversion(ctx(t), first)
		require.NoError(t, err, "rule: a valid RecordConversion with increments succeeds")

		// "all" sorts before "cap" and "zzz" after it: the refusal undoes both.
		p := conversionFor("k2", "aff-1", base)
		p.Increments = []store.Increment{{Counter: "zzz", Delta: 1}, {Counter: "cap", Delta: 1, Limit: 1}, {Counter: "all", Delta: 5}}
		_, err = st.RecordConversion(ctx(t), p)
		requireLimit(t, err, store.LimitError{Counter: "cap", Value: 1, Delta: 1, Limit: 1}, "an increment past its limit is ErrLimit")
		_, err = st.GetConversionByKey(ctx(t), "k2")
		require.ErrorIs(t, err, store.ErrNotFound, "rule: a write refused at a limit writes no conversion")
		_, err = st.GetDelivery(ctx(t), p.Deliveries[0].ID)
		require.ErrorIs(t, err, store.ErrNotFound, "rule: a write refused at a limit writes no delivery")
		lines, err := st.ListLedgerLines(ctx(t), store.ListLedgerLinesParams{AffiliateID: "aff-1", From: base.Add(-time.Hour), To: base.Add(time.Hour)})
		require.NoError(t, err, "rule: a valid ListLedgerLines succeeds")
		require.Len(t, lines, 1, "rule: a write refused at a limit writes no ledger line")
		counterIs(t, st, "cap", 1, "a counter is never past its limit")
		counterIs(t, st, "all", 0, "a write refused at a limit applies none of its increments")
		counterIs(t, st, "zzz", 0, "a write refused at a limit applies none of its increments")

		p.Increments[1].Limit = 2 // the limit is the caller's, with each increment
		_, err = st.RecordConversion(ctx(t), p)
		require.NoError(t, err, "rule: the same write under a higher limit succeeds: the refused one left nothing")
		counterIs(t, st, "cap", 2, "a record applies its increments")
		counterIs(t, st, "all", 5, "a record applies its increments")

		big := conversionFor("k3", "aff-1", base)
		big.Increments = []store.Increment{{Counter: "fresh", Delta: 3, Limit: 2}}
		_, err = st.RecordConversion(ctx(t), big)
		requireLimit(t, err, store.LimitError{Counter: "fresh", Value: 0, Delta: 3, Limit: 2}, "an increment past its limit is ErrLimit, for a new counter too")
		counterIs(t, st, "fresh", 0, "a refused increment of a new counter leaves it at 0")

		// A counter stops at math.MaxInt64, limit or no limit.
		top := conversionFor("k4", "aff-1", base)
		top.Increments = []store.Increment{{Counter: "top", Delta: math.MaxInt64}}
		_, err = st.RecordConversion(ctx(t), top)
		require.NoError(t, err, "rule: a counter may reach math.MaxInt64")
		over := conversionFor("k5", "aff-1", base)
		over.Increments = []store.Increment{{Counter: "top", Delta: 1}}
		_, err = st.RecordConversion(ctx(t), over)
		requireLimit(t, err, store.LimitError{Counter: "top", Value: math.MaxInt64, Delta: 1, Limit: math.MaxInt64}, "a counter never passes math.MaxInt64")
		counterIs(t, st, "top", math.MaxInt64, "a counter never wraps around")
	})
	t.Run("ChangeStatusAtALimit", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		p := conversionFor("k1", "aff-1", base)
		p.Increments = []store.Increment{{Counter: "cap", Delta: 1, Limit: 1}}
		_, err := st.RecordConversion(ctx(t), p)
		require.NoError(t, err, "rule: a valid RecordConversion with increments succeeds")
		change := store.ChangeStatusParams{ConversionID: p.Conversion.ID, From: event.StatusApproved, To: event.StatusReversed,
			At: base.Add(time.Hour), Ledger: []store.LedgerLine{reversalOf(p.Ledger[0], base.Add(time.Hour))},
			Deliveries: []store.Delivery{newDelivery(p.Conversion.ID, base)},
			Increments: []store.Increment{{Counter: "another", Delta: 1}, {Counter: "cap", Delta: 1, Limit: 1}}}
		_, err = st.ChangeStatus(ctx(t), change)
		require.ErrorIs(t, err, store.ErrConflict, "rule: a change from a status the conversion does not have is ErrConflict, whatever the counters say")
		change.From = event.StatusPending
		_, err = st.ChangeStatus(ctx(t), change)
		requireLimit(t, err, store.LimitError{Counter: "cap", Value: 1, Delta: 1, Limit: 1}, "a status change past a limit is ErrLimit")
		c, err := st.GetConversion(ctx(t), p.Conversion.ID)
		require.NoError(t, err, "rule: a valid GetConversion succeeds")
		require.Equal(t, event.StatusPending, c.Status, "rule: a status change refused at a limit changes no status")
		require.Len(t, c.History, 1, "rule: a status change refused at a limit appends no history")
		_, err = st.GetDelivery(ctx(t), change.Deliveries[0].ID)
		require.ErrorIs(t, err, store.ErrNotFound, "rule: a status change refused at a limit writes no delivery")
		lines, err := st.ListLedgerLines(ctx(t), store.ListLedgerLinesParams{AffiliateID: "aff-1", From: base.Add(-time.Hour), To: base.Add(2 * time.Hour)})
		require.NoError(t, err, "rule: a valid ListLedgerLines succeeds")
		require.Len(t, lines, 1, "rule: a status change refused at a limit writes no ledger line")
		counterIs(t, st, "another", 0, "a status change refused at a limit applies none of its increments")
	})
}

// counterConcurrency is the concurrency rule of counters: exact under any number of
// concurrent writers, across handles, and free of deadlocks whatever order a write gives its
// increments in.
func (s suite) counterConcurrency(t *testing.T) {
	t.Run("LimitIsExact", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		handles := []store.Store{st}
		if s.h.Reopen != nil {
			handles = append(handles, s.h.Reopen(t, st))
		}
		// 50 distinct conversions race for a cap of 10, 4 times over: exactly 10 are
		// recorded each time, the others refused with ErrLimit.
		const writers, limit = 50, 10
		for r := range 4 {
			counter := fmt.Sprintf("cap:%d", r)
			affiliate := fmt.Sprintf("aff-%d", r)
			wins := race(t, writers, func(i int) error {
				p := conversionFor(fmt.Sprintf("cap-%d-%d", r, i), affiliate, base)
				p.Increments = []store.Increment{{Counter: counter, Delta: 1, Limit: limit}, {Counter: "all:" + counter, Delta: 1}}
				_, err := handles[i%len(handles)].RecordConversion(t.Context(), p)
				return err
			}, "writes past a limit fail only with ErrLimit", store.ErrLimit)
			require.Equal(t, limit, wins, "rule: of concurrent writes against a limit of %d, exactly %d apply (repeat %d)", limit, limit, r)
			counterIs(t, st, counter, limit, "a counter under concurrent writes is exactly the sum of the writes that applied (repeat %d)", r)
			counterIs(t, st, "all:"+counter, limit, "a refused write applies none of its increments (repeat %d)", r)
			cs, err := st.ListConversions(ctx(t), store.ListConversionsParams{AffiliateID: affiliate, From: base.Add(-time.Hour), To: base.Add(time.Hour)})
			require.NoError(t, err, "rule: a valid ListConversions succeeds")
			require.Len(t, cs, limit, "rule: only the writes that applied their increments recorded a conversion (repeat %d)", r)
		}
	})
	t.Run("NoDeadlockInAnyOrder", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		handles := []store.Store{st}
		if s.h.Reopen != nil {
			handles = append(handles, s.h.Reopen(t, st))
		}
		// Every write increments the same four counters, given in its own random order, and
		// half of them also change a status: no write may fail, not even by deadlock.
		const writers = 40
		names := []string{"d", "b", "a", "c"}
		var mu sync.Mutex
		rng := rand.New(rand.NewPCG(1, 2))
		shuffled := func() []store.Increment {
			mu.Lock()
			defer mu.Unlock()
			incs := make([]store.Increment, len(names))
			for i, n := range names {
				incs[i] = store.Increment{Counter: n, Delta: 1}
			}
			rng.Shuffle(len(incs), func(i, j int) { incs[i], incs[j] = incs[j], incs[i] })
			return incs
		}
		wins := race(t, writers, func(i int) error {
			h := handles[i%len(handles)]
			p := conversionFor(fmt.Sprintf("order-%d", i), "aff-1", base)
			p.Ledger, p.Deliveries = nil, nil
			p.Increments = shuffled()
			if _, err := h.RecordConversion(t.Context(), p); err != nil {
				return err
			}
			if i%2 == 0 {
				return nil
			}
			_, err := h.ChangeStatus(t.Context(), store.ChangeStatusParams{ConversionID: p.Conversion.ID, From: event.StatusPending,
				To: event.StatusApproved, At: base.Add(time.Hour), Increments: shuffled()})
			return err
		}, "concurrent writes of the same counters, in any order, all succeed (no deadlock)")
		require.Equal(t, writers, wins, "rule: concurrent writes of the same counters all apply")
		for _, n := range names {
			counterIs(t, st, n, writers+writers/2, "every concurrent increment is counted (%s)", n)
		}
	})
}
