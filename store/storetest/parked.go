package storetest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/store"
)

// parkedFor returns a reversal of transaction txn of source, parked at parked, under a dedup
// key of its own, with new IDs.
func parkedFor(source, txn string, parked time.Time) store.ParkedEvent {
	return store.ParkedEvent{ID: uuid.New(), ParkedAt: parked, Conversion: store.Conversion{
		ID:            uuid.New(),
		DedupKey:      "reversal:" + source + ":" + txn,
		Source:        source,
		Event:         event.Reversal,
		TransactionID: txn,
		SubIDs:        []string{"sub-a", "", "sub-c"},
		PlayerID:      "player-" + txn,
		Amount:        money.New(15000, money.EUR),
		Status:        event.StatusReversed,
		OccurredAt:    parked.Add(-time.Minute),
		ReceivedAt:    parked,
		Decision:      store.Decision{Code: "parked_reversal", Reason: "a reversal arrived before the conversion it reverses"},
	}}
}

// originalOf records the conversion that the parked event e reverses (same source and
// transaction), approved, and returns its parameters.
func originalOf(t *testing.T, st store.Store, e store.ParkedEvent) store.RecordConversionParams {
	t.Helper()
	p := conversionFor("original:"+e.Conversion.Source+":"+e.Conversion.TransactionID, "aff-1", base)
	p.Conversion.Source, p.Conversion.TransactionID, p.Conversion.Status = e.Conversion.Source, e.Conversion.TransactionID, event.StatusApproved
	_, err := st.RecordConversion(ctx(t), p)
	require.NoError(t, err, "rule: a valid RecordConversion succeeds")
	return p
}

// park parks e, which must be new.
func park(t *testing.T, st store.Store, e store.ParkedEvent) store.ParkedEvent {
	t.Helper()
	got, err := st.ParkEvent(ctx(t), e)
	require.NoError(t, err, "rule: a valid ParkEvent succeeds")
	return got
}

// parkedIs returns the parked event id as a listing of its transaction returns it.
func parkedIs(t *testing.T, st store.Store, e store.ParkedEvent) store.ParkedEvent {
	t.Helper()
	ls, err := st.ListParked(ctx(t), store.ListParkedParams{Source: e.Conversion.Source, TransactionID: e.Conversion.TransactionID, Limit: 1000})
	require.NoError(t, err, "rule: a valid ListParked succeeds")
	for _, l := range ls {
		if l.ID == e.ID {
			return l
		}
	}
	require.Failf(t, "parked event not listed", "rule: a parked event is listed by its source and transaction (%s)", e.ID)
	return store.ParkedEvent{}
}

// parkedIDs returns the IDs of es, in their order.
func parkedIDs(es ...store.ParkedEvent) []uuid.UUID {
	out := make([]uuid.UUID, len(es))
	for i, e := range es {
		out[i] = e.ID
	}
	return out
}

// reversal returns the change that reverses the approved conversion p at t, with its
// negative line and a delivery, resolving the parked events ids.
func reversal(p store.RecordConversionParams, t time.Time, ids ...uuid.UUID) store.ChangeStatusParams {
	return store.ChangeStatusParams{ConversionID: p.Conversion.ID, From: event.StatusApproved, To: event.StatusReversed,
		Reason: "parked reversal applied", At: t, Ledger: []store.LedgerLine{reversalOf(p.Ledger[0], t)},
		Deliveries: []store.Delivery{newDelivery(p.Conversion.ID, t)}, Resolve: ids}
}

func (s suite) parked(t *testing.T) {
	t.Run("RoundTripNormalized", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		e := parkedFor("network-a", "tx-1", base)
		got := park(t, st, e)
		want := e
		want.ParkedAt, want.Conversion.ReceivedAt, want.Conversion.OccurredAt = at(0), at(0), at(-time.Minute)
		require.Equal(t, want, got, "rule: ParkEvent returns the event as stored: field for field, times in UTC at microsecond precision, no History")
		require.Equal(t, time.UTC, got.ParkedAt.Location(), "rule: times are returned in UTC")
		require.False(t, got.Resolved(), "rule: a new parked event waits")
		require.Equal(t, got, parkedIs(t, st, e), "rule: a listed parked event is the one stored")

		e.Conversion.SubIDs[0] = "changed by caller after park"
		listed := parkedIs(t, st, e)
		require.Equal(t, "sub-a", listed.Conversion.SubIDs[0], "rule: the store keeps its own copy of a parked event")
		listed.Conversion.SubIDs[2] = "changed by caller after list"
		require.Equal(t, "sub-c", parkedIs(t, st, e).Conversion.SubIDs[2], "rule: a listed parked event does not share slices with the store")

		untimed := parkedFor("network-a", "tx-2", base)
		untimed.Conversion.OccurredAt, untimed.Conversion.Amount, untimed.Conversion.SubIDs = time.Time{}, money.Amount{}, []string{}
		got = park(t, st, untimed)
		require.True(t, got.Conversion.OccurredAt.IsZero(), "rule: a parked event without an event time reads back without one")
		require.Equal(t, money.Amount{}, parkedIs(t, st, untimed).Conversion.Amount, "rule: a parked event without an amount reads back without one")
		require.Nil(t, parkedIs(t, st, untimed).Conversion.SubIDs, "rule: a parked event without sub IDs reads back with nil SubIDs")
	})
	t.Run("DuplicateAndConflict", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		e := parkedFor("network-a", "tx-1", base)
		stored := park(t, st, e)

		retry := parkedFor("network-a", "tx-1", base.Add(time.Minute)) // new IDs, received and parked later
		retry.Conversion.OccurredAt = e.Conversion.OccurredAt          // what the sender said, again
		retry.Conversion.Decision = store.Decision{Code: "other", Reason: "decided otherwise"}
		retry.Conversion.Status = event.StatusRejected
		got, err := st.ParkEvent(ctx(t), retry)
		require.ErrorIs(t, err, store.ErrDuplicate, "rule: the same event under its dedup key is ErrDuplicate, however it was received, decided or parked, whatever its status")
		require.Equal(t, stored, got, "rule: a duplicate parked event returns the stored one")
		got, err = st.ParkEvent(ctx(t), e)
		require.ErrorIs(t, err, store.ErrDuplicate, "rule: the same parked event again is ErrDuplicate")
		require.Equal(t, stored, got, "rule: a duplicate parked event returns the stored one")

		for name, mutate := range map[string]func(*store.Conversion){
			"Amount":     func(c *store.Conversion) { c.Amount = money.New(15001, money.EUR) },
			"Event":      func(c *store.Conversion) { c.Event = event.Deposit },
			"Player":     func(c *store.Conversion) { c.PlayerID = "someone else" },
			"SubID":      func(c *store.Conversion) { c.SubIDs = []string{"sub-a"} },
			"OccurredAt": func(c *store.Conversion) { c.OccurredAt = c.OccurredAt.Add(time.Microsecond) },
		} {
			other := parkedFor("network-a", "tx-1", base)
			mutate(&other.Conversion)
			got, err := st.ParkEvent(ctx(t), other)
			require.ErrorIs(t, err, store.ErrConflict, "rule: another event under a parked event's dedup key is ErrConflict (%s)", name)
			require.Equal(t, stored, got, "rule: a conflicting parked event returns the stored one (%s)", name)
		}
		taken := parkedFor("network-a", "tx-2", base)
		taken.ID = e.ID
		_, err = st.ParkEvent(ctx(t), taken)
		require.ErrorIs(t, err, store.ErrConflict, "rule: a parked event ID taken under another dedup key is ErrConflict")
		ls, err := st.ListParked(ctx(t), store.ListParkedParams{})
		require.NoError(t, err, "rule: a valid ListParked succeeds")
		require.Equal(t, []store.ParkedEvent{stored}, ls, "rule: a duplicate or conflicting parked event writes nothing")

		original := originalOf(t, st, e)
		_, err = st.ChangeStatus(ctx(t), reversal(original, base.Add(time.Hour), e.ID))
		require.NoError(t, err, "rule: a valid ChangeStatus succeeds")
		got, err = st.ParkEvent(ctx(t), retry)
		require.ErrorIs(t, err, store.ErrDuplicate, "rule: a retry of a parked event that was applied is ErrDuplicate")
		require.Equal(t, at(time.Hour), got.ResolvedAt, "rule: a duplicate of an applied parked event returns it as stored, resolved")
	})
	t.Run("InvalidRefused", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		for name, mutate := range map[string]func(*store.ParkedEvent){
			"NoID":             func(e *store.ParkedEvent) { e.ID = uuid.Nil },
			"NoConversionID":   func(e *store.ParkedEvent) { e.Conversion.ID = uuid.Nil },
			"NoDedupKey":       func(e *store.ParkedEvent) { e.Conversion.DedupKey = "" },
			"NoSource":         func(e *store.ParkedEvent) { e.Conversion.Source = "" },
			"NoTransaction":    func(e *store.ParkedEvent) { e.Conversion.TransactionID = "" },
			"NoEvent":          func(e *store.ParkedEvent) { e.Conversion.Event = "" },
			"UnknownStatus":    func(e *store.ParkedEvent) { e.Conversion.Status = "maybe" },
			"NegativeAmount":   func(e *store.ParkedEvent) { e.Conversion.Amount = money.New(-1, money.EUR) },
			"NoReceivedAt":     func(e *store.ParkedEvent) { e.Conversion.ReceivedAt = time.Time{} },
			"NoParkedAt":       func(e *store.ParkedEvent) { e.ParkedAt = time.Time{} },
			"ResolvedAlready":  func(e *store.ParkedEvent) { e.ResolvedAt = base },
			"AppliedAlready":   func(e *store.ParkedEvent) { e.AppliedTo = uuid.New() },
			"NewlineInTxn":     func(e *store.ParkedEvent) { e.Conversion.TransactionID = "tx\n1" },
			"LongSource":       func(e *store.ParkedEvent) { e.Conversion.Source = strings.Repeat("s", store.MaxKeyLen+1) },
			"NULInReason":      func(e *store.ParkedEvent) { e.Conversion.Decision.Reason = "a\x00b" },
			"BadForeignClick":  func(e *store.ParkedEvent) { e.Conversion.ForeignClickID = "has space" },
			"TooManySubIDs":    func(e *store.ParkedEvent) { e.Conversion.SubIDs = make([]string, store.MaxSubIDs+1) },
			"ControlCharInKey": func(e *store.ParkedEvent) { e.Conversion.DedupKey = "k\x7f" },
		} {
			e := parkedFor("network-a", "tx-"+name, base)
			mutate(&e)
			_, err := st.ParkEvent(ctx(t), e)
			require.ErrorIs(t, err, store.ErrInvalid, "rule: an invalid parked event (%s) is ErrInvalid", name)
		}
		ls, err := st.ListParked(ctx(t), store.ListParkedParams{})
		require.NoError(t, err, "rule: a valid ListParked succeeds")
		require.Empty(t, ls, "rule: invalid parked events write nothing")
	})
	t.Run("ListedBySourceAndTransaction", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		late := park(t, st, parkedFor("network-a", "tx-1", base.Add(time.Hour)))
		early := parkedFor("network-a", "tx-1", base)
		early.Conversion.DedupKey += ":status"
		early = park(t, st, early)
		otherTxn := park(t, st, parkedFor("network-a", "tx-2", base.Add(2*time.Hour)))
		otherSource := park(t, st, parkedFor("network-b", "tx-1", base.Add(-time.Hour)))
		done := park(t, st, parkedFor("network-b", "tx-3", base.Add(-2*time.Hour)))
		require.NoError(t, st.ResolveParked(ctx(t), store.ResolveParkedParams{IDs: []uuid.UUID{done.ID}, At: base}), "rule: a valid ResolveParked succeeds")
		done.ResolvedAt = at(0)

		for _, tc := range []struct {
			name string
			p    store.ListParkedParams
			want []store.ParkedEvent
			rule string
		}{
			{"Transaction", store.ListParkedParams{Source: "network-a", TransactionID: "tx-1"}, []store.ParkedEvent{early, late},
				"a listing of a transaction gives the events of that source and transaction, oldest first"},
			{"TransactionOfOtherSource", store.ListParkedParams{Source: "network-b", TransactionID: "tx-1"}, []store.ParkedEvent{otherSource},
				"a transaction ID is a source's own: another source's events of it are not listed"},
			{"UnknownTransaction", store.ListParkedParams{Source: "network-a", TransactionID: "tx-9"}, nil,
				"a transaction with no parked event lists none"},
			{"Source", store.ListParkedParams{Source: "network-a"}, []store.ParkedEvent{early, late, otherTxn},
				"a listing of a source gives its events of every transaction, oldest first"},
			{"Every", store.ListParkedParams{}, []store.ParkedEvent{done, otherSource, early, late, otherTxn},
				"a listing without source gives every parked event, resolved ones included, oldest first"},
			{"Waiting", store.ListParkedParams{Unresolved: true}, []store.ParkedEvent{otherSource, early, late, otherTxn},
				"a sweep's listing (Unresolved) gives every event that waits, oldest first"},
			{"WaitingOfSource", store.ListParkedParams{Source: "network-b", Unresolved: true}, []store.ParkedEvent{otherSource},
				"Unresolved leaves out the resolved events of a source"},
			{"ResolvedOfTransaction", store.ListParkedParams{Source: "network-b", TransactionID: "tx-3"}, []store.ParkedEvent{done},
				"a listing of a transaction without Unresolved includes its resolved events"},
			{"WaitingOfTransaction", store.ListParkedParams{Source: "network-b", TransactionID: "tx-3", Unresolved: true}, nil,
				"Unresolved leaves out the resolved events of a transaction"},
		} {
			got, err := st.ListParked(ctx(t), tc.p)
			require.NoError(t, err, "rule: a valid ListParked succeeds")
			if tc.want == nil {
				require.Empty(t, got, "rule: %s (%s)", tc.rule, tc.name)
				continue
			}
			require.Equal(t, tc.want, got, "rule: %s (%s)", tc.rule, tc.name)
		}
		_, err := st.ListParked(ctx(t), store.ListParkedParams{TransactionID: "tx-1"})
		require.ErrorIs(t, err, store.ErrInvalid, "rule: a listing by transaction ID without its source is ErrInvalid")
	})
	t.Run("AppliedByChangeStatus", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		e := park(t, st, parkedFor("network-a", "tx-1", base))
		second := parkedFor("network-a", "tx-1", base.Add(time.Second))
		second.Conversion.DedupKey += ":again"
		second = park(t, st, second)
		untouched := park(t, st, parkedFor("network-a", "tx-2", base))
		original := originalOf(t, st, e)

		waiting, err := st.ListParked(ctx(t), store.ListParkedParams{Source: "network-a", TransactionID: "tx-1", Unresolved: true})
		require.NoError(t, err, "rule: a valid ListParked succeeds")
		require.Equal(t, parkedIDs(e, second), parkedIDs(waiting...), "rule: the events parked for a recorded original are listed for it")

		change := reversal(original, base.Add(time.Hour), second.ID, e.ID)
		c, err := st.ChangeStatus(ctx(t), change)
		require.NoError(t, err, "rule: a ChangeStatus that resolves waiting parked events succeeds")
		require.Equal(t, event.StatusReversed, c.Status, "rule: a change that resolves parked events applies")
		for _, p := range []store.ParkedEvent{e, second} {
			got := parkedIs(t, st, p)
			require.Equal(t, at(time.Hour), got.ResolvedAt, "rule: a parked event resolved by a change is resolved at the change's At")
			require.Equal(t, original.Conversion.ID, got.AppliedTo, "rule: a parked event resolved by a change is applied to the changed conversion")
			require.True(t, got.Resolved(), "rule: a resolved parked event reports so")
		}
		require.False(t, parkedIs(t, st, untouched).Resolved(), "rule: a change resolves only the parked events it names")
		waiting, err = st.ListParked(ctx(t), store.ListParkedParams{Unresolved: true})
		require.NoError(t, err, "rule: a valid ListParked succeeds")
		require.Equal(t, parkedIDs(untouched), parkedIDs(waiting...), "rule: applied events are no longer listed as waiting")
		lines, err := st.ListLedgerLines(ctx(t), store.ListLedgerLinesParams{AffiliateID: "aff-1", From: base.Add(-time.Hour), To: base.Add(2 * time.Hour)})
		require.NoError(t, err, "rule: a valid ListLedgerLines succeeds")
		require.Len(t, lines, 2, "rule: a change that resolves parked events writes its ledger lines")
	})
	t.Run("ResolveRefusedWritesNothing", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		e := park(t, st, parkedFor("network-a", "tx-1", base))
		gone := park(t, st, parkedFor("network-a", "tx-2", base))
		require.NoError(t, st.ResolveParked(ctx(t), store.ResolveParkedParams{IDs: []uuid.UUID{gone.ID}, At: base}), "rule: a valid ResolveParked succeeds")
		original := originalOf(t, st, e)
		unchanged := func(name string) {
			t.Helper()
			c, err := st.GetConversion(ctx(t), original.Conversion.ID)
			require.NoError(t, err, "rule: a valid GetConversion succeeds")
			require.Equal(t, event.StatusApproved, c.Status, "rule: a refused change that resolves parked events changes no status (%s)", name)
			require.Len(t, c.History, 1, "rule: a refused change that resolves parked events appends no history (%s)", name)
			require.False(t, parkedIs(t, st, e).Resolved(), "rule: a refused change resolves no parked event (%s)", name)
			lines, err := st.ListLedgerLines(ctx(t), store.ListLedgerLinesParams{AffiliateID: "aff-1", From: base.Add(-time.Hour), To: base.Add(2 * time.Hour)})
			require.NoError(t, err, "rule: a valid ListLedgerLines succeeds")
			require.Len(t, lines, 1, "rule: a refused change that resolves parked events writes no ledger line (%s)", name)
			counterIs(t, st, "reversals", 0, "a refused change that resolves parked events applies no increment (%s)", name)
		}
		stored, err := st.GetConversion(ctx(t), original.Conversion.ID)
		require.NoError(t, err, "rule: a valid GetConversion succeeds")

		for _, tc := range []struct {
			name    string
			resolve []uuid.UUID
			want    error
			rule    string
		}{
			{"Unknown", []uuid.UUID{e.ID, uuid.New()}, store.ErrNotFound, "a change that resolves a parked event that does not exist is ErrNotFound"},
			{"Resolved", []uuid.UUID{e.ID, gone.ID}, store.ErrConflict, "a change that resolves a parked event resolved already is ErrConflict"},
			{"UnknownAndResolved", []uuid.UUID{gone.ID, uuid.New()}, store.ErrNotFound, "a parked event that does not exist is ErrNotFound, whatever the others"},
			{"Twice", []uuid.UUID{e.ID, e.ID}, store.ErrInvalid, "a change that names a parked event twice is ErrInvalid"},
			{"ZeroID", []uuid.UUID{uuid.Nil}, store.ErrInvalid, "a change that resolves the zero ID is ErrInvalid"},
			{"TooMany", make([]uuid.UUID, store.MaxLines+1), store.ErrInvalid, "a change that resolves more than MaxLines parked events is ErrInvalid"},
		} {
			change := reversal(original, base.Add(time.Hour), tc.resolve...)
			change.Increments = []store.Increment{{Counter: "reversals", Delta: 1}}
			got, err := st.ChangeStatus(ctx(t), change)
			require.ErrorIs(t, err, tc.want, "rule: %s (%s)", tc.rule, tc.name)
			if tc.want == store.ErrConflict {
				require.Equal(t, stored, got, "rule: a change refused for a resolved parked event returns the stored conversion")
			}
			unchanged(tc.name)
			_, err = st.GetDelivery(ctx(t), change.Deliveries[0].ID)
			require.ErrorIs(t, err, store.ErrNotFound, "rule: a refused change that resolves parked events writes no delivery (%s)", tc.name)
		}

		stale := reversal(original, base.Add(time.Hour), e.ID)
		stale.From = event.StatusPending
		_, err = st.ChangeStatus(ctx(t), stale)
		require.ErrorIs(t, err, store.ErrConflict, "rule: a change from a status the conversion does not have is ErrConflict, whatever it resolves")
		unchanged("StaleStatus")
		capped := reversal(original, base.Add(time.Hour), e.ID)
		capped.Increments = []store.Increment{{Counter: "reversals", Delta: 2, Limit: 1}}
		_, err = st.ChangeStatus(ctx(t), capped)
		require.ErrorIs(t, err, store.ErrLimit, "rule: a change past a limit is ErrLimit, whatever it resolves")
		unchanged("Limit")

		_, err = st.ChangeStatus(ctx(t), reversal(original, base.Add(time.Hour), e.ID))
		require.NoError(t, err, "rule: the same change without the refused parts succeeds: the refusals left nothing")
		require.True(t, parkedIs(t, st, e).Resolved(), "rule: a change that applies resolves its parked events")
	})
	t.Run("ResolveParked", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		a := park(t, st, parkedFor("network-a", "tx-1", base))
		b := park(t, st, parkedFor("network-a", "tx-2", base.Add(time.Second)))
		c := park(t, st, parkedFor("network-a", "tx-3", base.Add(2*time.Second)))
		original := originalOf(t, st, a)
		resolve := func(p store.ResolveParkedParams) error { return st.ResolveParked(ctx(t), p) }
		waiting := func() []uuid.UUID {
			ls, err := st.ListParked(ctx(t), store.ListParkedParams{Unresolved: true})
			require.NoError(t, err, "rule: a valid ListParked succeeds")
			return parkedIDs(ls...)
		}

		require.ErrorIs(t, resolve(store.ResolveParkedParams{IDs: []uuid.UUID{a.ID, uuid.New()}, At: base}), store.ErrNotFound,
			"rule: resolving a parked event that does not exist is ErrNotFound")
		require.ErrorIs(t, resolve(store.ResolveParkedParams{IDs: []uuid.UUID{a.ID}, AppliedTo: uuid.New(), At: base}), store.ErrInvalid,
			"rule: resolving against a conversion that is not recorded is ErrInvalid")
		require.ErrorIs(t, resolve(store.ResolveParkedParams{IDs: []uuid.UUID{uuid.New()}, AppliedTo: uuid.New(), At: base}), store.ErrInvalid,
			"rule: a conversion that is not recorded is ErrInvalid whatever the parked events")
		require.ErrorIs(t, resolve(store.ResolveParkedParams{IDs: []uuid.UUID{a.ID, a.ID}, At: base}), store.ErrInvalid,
			"rule: resolving one parked event twice in a call is ErrInvalid")
		require.ErrorIs(t, resolve(store.ResolveParkedParams{IDs: []uuid.UUID{a.ID}}), store.ErrInvalid, "rule: resolving without At is ErrInvalid")
		require.Equal(t, parkedIDs(a, b, c), waiting(), "rule: a refused ResolveParked resolves nothing")

		require.NoError(t, resolve(store.ResolveParkedParams{IDs: []uuid.UUID{b.ID, a.ID}, AppliedTo: original.Conversion.ID, At: base.Add(time.Minute)}),
			"rule: a valid ResolveParked succeeds")
		for _, e := range []store.ParkedEvent{a, b} {
			got := parkedIs(t, st, e)
			require.Equal(t, at(time.Minute), got.ResolvedAt, "rule: ResolveParked resolves its events at At")
			require.Equal(t, original.Conversion.ID, got.AppliedTo, "rule: ResolveParked keeps the conversion they were settled against")
		}
		require.ErrorIs(t, resolve(store.ResolveParkedParams{IDs: []uuid.UUID{c.ID, a.ID}, At: base}), store.ErrConflict,
			"rule: resolving a parked event resolved already is ErrConflict")
		require.Equal(t, parkedIDs(c), waiting(), "rule: a ResolveParked refused for one event resolves none of the others")
		require.NoError(t, resolve(store.ResolveParkedParams{IDs: []uuid.UUID{c.ID}, At: base.Add(time.Minute)}), "rule: a valid ResolveParked succeeds")
		got := parkedIs(t, st, c)
		require.True(t, got.Resolved(), "rule: ResolveParked without a conversion resolves")
		require.Equal(t, uuid.Nil, got.AppliedTo, "rule: an event settled against no conversion has a zero AppliedTo")
		require.Empty(t, waiting(), "rule: resolved events no longer wait")
		require.NoError(t, resolve(store.ResolveParkedParams{At: base}), "rule: a ResolveParked of no IDs is a no-op")

		_, err := st.ChangeStatus(ctx(t), reversal(original, base.Add(time.Hour), a.ID))
		require.ErrorIs(t, err, store.ErrConflict, "rule: a change that resolves an event settled by ResolveParked is ErrConflict")
	})
	t.Run("RecordReportsWaiting", s.recordReportsWaiting)
}

// recordReportsWaiting checks store.ParkedReporter, on stores that have it (for a store
// without the capability it checks nothing, and skips nothing): a record reports the
// unresolved parked events of its own source and transaction, with and without increments
// and a binding, and nothing with an error.
func (s suite) recordReportsWaiting(t *testing.T) {
	if _, ok := s.h.NewStore(t).(store.ParkedReporter); !ok {
		return
	}
	t.Parallel()
	st := s.h.NewStore(t)
	r := st.(store.ParkedReporter)
	record := func(p store.RecordConversionParams) bool {
		t.Helper()
		got, waiting, err := r.RecordConversionParked(ctx(t), p)
		require.NoError(t, err, "rule: a valid RecordConversionParked succeeds")
		require.Equal(t, p.Conversion.ID, got.ID, "rule: RecordConversionParked returns the conversion as RecordConversion does")
		return waiting
	}
	of := func(key string, e store.ParkedEvent) store.RecordConversionParams {
		p := conversionFor(key, "aff-1", base)
		p.Conversion.Source, p.Conversion.TransactionID = e.Conversion.Source, e.Conversion.TransactionID
		return p
	}
	a := park(t, st, parkedFor("network-a", "tx-1", base))
	b := park(t, st, parkedFor("network-a", "tx-2", base))

	require.False(t, record(conversionFor("alone", "aff-1", base)), "rule: a record of a transaction without parked events reports none")
	other := of("other-source", a)
	other.Conversion.Source = "network-b"
	require.False(t, record(other), "rule: the parked events of another source's equal transaction ID do not wait for the record")
	noTxn := conversionFor("no-txn", "aff-1", base)
	noTxn.Conversion.TransactionID = ""
	require.False(t, record(noTxn), "rule: a record without a transaction ID reports no parked event")

	first := of("first-of-tx-1", a)
	require.True(t, record(first), "rule: a record reports the unresolved parked events of its transaction")
	_, waiting, err := r.RecordConversionParked(ctx(t), first)
	require.ErrorIs(t, err, store.ErrDuplicate, "rule: RecordConversionParked refuses a retry as RecordConversion does")
	require.False(t, waiting, "rule: a refused record reports no parked event")

	counted := of("counted-of-tx-2", b)
	counted.Increments = []store.Increment{{Counter: "waiting-cap", Delta: 1, Limit: 1}}
	bound := store.PlayerBinding{PlayerID: counted.Conversion.PlayerID, AffiliateID: "aff-1", CampaignID: "camp-1", Method: store.BindByClick, BoundAt: base}
	counted.Binding = &bound
	require.True(t, record(counted), "rule: a record with increments and a binding reports the parked events as well")
	over := of("over-of-tx-2", b)
	over.Increments = counted.Increments
	_, waiting, err = r.RecordConversionParked(ctx(t), over)
	require.ErrorIs(t, err, store.ErrLimit, "rule: RecordConversionParked refuses a limit as RecordConversion does")
	require.False(t, waiting, "rule: a refused record reports no parked event")

	require.NoError(t, st.ResolveParked(ctx(t), store.ResolveParkedParams{IDs: []uuid.UUID{a.ID}, AppliedTo: first.Conversion.ID, At: base.Add(time.Minute)}),
		"rule: a valid ResolveParked succeeds")
	require.False(t, record(of("second-of-tx-1", a)), "rule: resolved parked events no longer wait")
}

// parkedConcurrency is the concurrency rule of parked events: of any number of concurrent
// calls that park one event, exactly one writes; of any number that resolve one, exactly one
// applies, whether they change one conversion, several, or none.
func (s suite) parkedConcurrency(t *testing.T) {
	handles := func(t *testing.T, st store.Store) []store.Store {
		hs := []store.Store{st}
		if s.h.Reopen != nil {
			hs = append(hs, s.h.Reopen(t, st))
		}
		return hs
	}
	t.Run("OneParkWins", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		hs := handles(t, st)
		wins := race(t, 64, func(i int) error {
			e := parkedFor("network-a", "tx-1", base.Add(time.Duration(i)*time.Second))
			if i%4 == 3 {
				e.Conversion.Amount = money.New(1, money.EUR) // other content
			}
			_, err := hs[i%len(hs)].ParkEvent(t.Context(), e)
			return err
		}, "concurrent parks of one event fail only with ErrDuplicate or ErrConflict", store.ErrDuplicate, store.ErrConflict)
		require.Equal(t, 1, wins, "rule: of concurrent parks of one dedup key, exactly one writes")
		ls, err := st.ListParked(ctx(t), store.ListParkedParams{})
		require.NoError(t, err, "rule: a valid ListParked succeeds")
		require.Len(t, ls, 1, "rule: concurrent parks of one event store one")
	})
	t.Run("OneResolutionWins", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		hs := handles(t, st)
		// Each repeat: one parked event, which 24 callers resolve at once: 16 with a change of
		// a conversion of their own (so that no status decides between them), 8 with
		// ResolveParked. Exactly one may apply, and only its conversion may change.
		const repeats, changers, settlers = 5, 16, 8
		for r := range repeats {
			e := park(t, st, parkedFor("network-a", fmt.Sprintf("tx-%d", r), base))
			originals := make([]store.RecordConversionParams, changers)
			for i := range originals {
				originals[i] = conversionFor(fmt.Sprintf("original-%d-%d", r, i), fmt.Sprintf("aff-%d", r), base)
				originals[i].Conversion.Status = event.StatusApproved
				_, err := st.RecordConversion(ctx(t), originals[i])
				require.NoError(t, err, "rule: a valid RecordConversion succeeds")
			}
			var mu sync.Mutex
			applied := map[int]bool{}
			wins := race(t, changers+settlers, func(i int) error {
				h := hs[i%len(hs)]
				if i >= changers {
					return h.ResolveParked(t.Context(), store.ResolveParkedParams{IDs: []uuid.UUID{e.ID}, At: base.Add(time.Hour)})
				}
				_, err := h.ChangeStatus(t.Context(), reversal(originals[i], base.Add(time.Hour), e.ID))
				if err == nil {
					mu.Lock()
					applied[i] = true
					mu.Unlock()
				}
				return err
			}, "concurrent resolutions of one parked event fail only with ErrConflict", store.ErrConflict)
			require.Equal(t, 1, wins, "rule: of concurrent calls that resolve one parked event, exactly one applies (repeat %d)", r)
			changed := 0
			for i, o := range originals {
				c, err := st.GetConversion(ctx(t), o.Conversion.ID)
				require.NoError(t, err, "rule: a valid GetConversion succeeds")
				if c.Status == event.StatusReversed {
					changed++
					require.True(t, applied[i], "rule: only the change that resolved the parked event changed its conversion (repeat %d)", r)
					require.Equal(t, o.Conversion.ID, parkedIs(t, st, e).AppliedTo, "rule: the parked event is applied to the conversion of the change that won (repeat %d)", r)
				}
			}
			require.LessOrEqual(t, changed, 1, "rule: of concurrent changes that resolve one parked event, at most one changes its conversion (repeat %d)", r)
			require.True(t, parkedIs(t, st, e).Resolved(), "rule: a parked event resolved by one of concurrent callers is resolved (repeat %d)", r)
		}
	})
}

// parkedRefusalCases are the refusal cases (see refusals) of the parked-event methods, and of
// ChangeStatus's Resolve.
var parkedRefusalCases = []struct {
	method  string
	prepare func(t *testing.T, st store.Store) refusal
}{
	{"ParkEvent", func(t *testing.T, st store.Store) refusal {
		e := parkedFor("network-a", "tx-1", base)
		return refusal{
			invalid: map[string]func(context.Context) error{
				"Empty": func(ctx context.Context) error { _, err := st.ParkEvent(ctx, store.ParkedEvent{}); return err },
				"NoTransaction": func(ctx context.Context) error {
					f := e
					f.Conversion.TransactionID = ""
					_, err := st.ParkEvent(ctx, f)
					return err
				},
			},
			valid: func(ctx context.Context) error { _, err := st.ParkEvent(ctx, e); return err },
			written: func(t *testing.T) bool {
				ls, err := st.ListParked(ctx(t), store.ListParkedParams{Source: "network-a", TransactionID: "tx-1"})
				require.NoError(t, err, "rule: a valid ListParked succeeds")
				return len(ls) == 1
			},
		}
	}},
	{"ListParked", func(t *testing.T, st store.Store) refusal {
		park(t, st, parkedFor("network-a", "tx-1", base))
		return refusal{
			invalid: map[string]func(context.Context) error{
				"TransactionWithoutSource": func(ctx context.Context) error {
					_, err := st.ListParked(ctx, store.ListParkedParams{TransactionID: "tx-1"})
					return err
				},
				"BadSource": func(ctx context.Context) error {
					_, err := st.ListParked(ctx, store.ListParkedParams{Source: "network\x00a"})
					return err
				},
				"LongTransaction": func(ctx context.Context) error {
					_, err := st.ListParked(ctx, store.ListParkedParams{Source: "network-a", TransactionID: strings.Repeat("t", store.MaxKeyLen+1)})
					return err
				},
				"NegativeLimit": func(ctx context.Context) error {
					_, err := st.ListParked(ctx, store.ListParkedParams{Limit: -1})
					return err
				},
			},
			valid: func(ctx context.Context) error {
				ls, err := st.ListParked(ctx, store.ListParkedParams{Source: "network-a", TransactionID: "tx-1", Unresolved: true})
				if err == nil && len(ls) != 1 {
					return fmt.Errorf("listed %d parked events, want the 1 parked", len(ls))
				}
				return err
			},
		}
	}},
	{"ResolveParked", func(t *testing.T, st store.Store) refusal {
		e := park(t, st, parkedFor("network-a", "tx-1", base))
		p := store.ResolveParkedParams{IDs: []uuid.UUID{e.ID}, At: base}
		return refusal{
			invalid: map[string]func(context.Context) error{
				"NoAt": func(ctx context.Context) error { return st.ResolveParked(ctx, store.ResolveParkedParams{IDs: p.IDs}) },
				"ZeroID": func(ctx context.Context) error {
					return st.ResolveParked(ctx, store.ResolveParkedParams{IDs: []uuid.UUID{uuid.Nil}, At: base})
				},
				"Twice": func(ctx context.Context) error {
					return st.ResolveParked(ctx, store.ResolveParkedParams{IDs: []uuid.UUID{e.ID, e.ID}, At: base})
				},
			},
			valid: func(ctx context.Context) error { return st.ResolveParked(ctx, p) },
			written: func(t *testing.T) bool {
				return parkedIs(t, st, e).Resolved()
			},
		}
	}},
	{"ChangeStatusResolve", func(t *testing.T, st store.Store) refusal {
		e := park(t, st, parkedFor("network-a", "tx-1", base))
		original := originalOf(t, st, e)
		change := reversal(original, base.Add(time.Hour), e.ID)
		return refusal{
			invalid: map[string]func(context.Context) error{
				"ResolveTwice": func(ctx context.Context) error {
					_, err := st.ChangeStatus(ctx, reversal(original, base.Add(time.Hour), e.ID, e.ID))
					return err
				},
				"ResolveZeroID": func(ctx context.Context) error {
					_, err := st.ChangeStatus(ctx, reversal(original, base.Add(time.Hour), uuid.Nil))
					return err
				},
			},
			valid: func(ctx context.Context) error { _, err := st.ChangeStatus(ctx, change); return err },
			written: func(t *testing.T) bool {
				c, err := st.GetConversion(ctx(t), original.Conversion.ID)
				require.NoError(t, err, "rule: a recorded conversion is found")
				resolved := parkedIs(t, st, e).Resolved()
				require.Equal(t, c.Status == event.StatusReversed, resolved, "rule: a status change and the parked events it resolves are written together or not at all")
				return resolved
			},
		}
	}},
}
