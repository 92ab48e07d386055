package storetest

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/store"
)

// inTransaction returns RecordConversionParams for a conversion of event ty under the
// transaction txn of source, of player, received at received.
func inTransaction(key, source, txn, player string, ty event.Type, received time.Time) store.RecordConversionParams {
	p := conversionFor(key, "aff-1", received.Add(-2*time.Second))
	p.Conversion.Source, p.Conversion.TransactionID, p.Conversion.PlayerID, p.Conversion.Event = source, txn, player, ty
	p.Conversion.ReceivedAt = received
	return p
}

// byTransaction lists every conversion of a transaction, page after page of size limit.
func byTransaction(t *testing.T, st store.Store, source, txn string, limit int) []store.Conversion {
	t.Helper()
	p := store.ListConversionsByTransactionParams{Source: source, TransactionID: txn, Limit: limit}
	var out []store.Conversion
	for range 100 {
		page, err := st.ListConversionsByTransaction(ctx(t), p)
		require.NoError(t, err, "rule: a valid ListConversionsByTransaction succeeds")
		require.LessOrEqual(t, len(page), store.ListLimit(limit, 100), "rule: a page holds at most Limit conversions")
		out = append(out, page...)
		if len(page) < store.ListLimit(limit, 100) {
			return out
		}
		last := page[len(page)-1]
		p.After = store.Cursor{At: last.ReceivedAt, ID: last.ID}
	}
	t.Fatal("rule: paging through a transaction ends")
	return nil
}

// conversionIDs returns the IDs of cs, in order.
func conversionIDs(cs []store.Conversion) []uuid.UUID {
	out := make([]uuid.UUID, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

// conversionsByTransaction is the contract of ConversionStore.ListConversionsByTransaction.
func (s suite) conversionsByTransaction(t *testing.T) {
	t.Run("EventTypesOfOneTransaction", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		reg := inTransaction("reg", "casino", "tx-1", "p1", event.Registration, base)
		ftd := inTransaction("ftd", "casino", "tx-1", "p1", event.FTD, base.Add(time.Minute))
		otherSource := inTransaction("other-source", "network-b", "tx-1", "p1", event.FTD, base.Add(30*time.Second))
		otherTxn := inTransaction("other-txn", "casino", "tx-10", "p1", event.FTD, base.Add(30*time.Second))
		prefix := inTransaction("prefix", "casino", "tx-", "p1", event.FTD, base.Add(30*time.Second))
		noTxn := inTransaction("no-txn", "casino", "", "p1", event.Deposit, base.Add(30*time.Second))
		// Recorded out of the order of receipt: the order listed is ReceivedAt's.
		for _, p := range []store.RecordConversionParams{ftd, otherSource, reg, otherTxn, prefix, noTxn} {
			_, err := st.RecordConversion(ctx(t), p)
			require.NoError(t, err, "rule: a valid RecordConversion succeeds")
		}
		_, err := st.ChangeStatus(ctx(t), store.ChangeStatusParams{ConversionID: ftd.Conversion.ID, From: event.StatusPending,
			To: event.StatusApproved, Reason: "settled", At: base.Add(time.Hour)})
		require.NoError(t, err, "rule: a valid ChangeStatus succeeds")

		got := byTransaction(t, st, "casino", "tx-1", 0)
		require.Equal(t, []uuid.UUID{reg.Conversion.ID, ftd.Conversion.ID}, conversionIDs(got),
			"rule: the conversions of a transaction are every event type under its ID, of its source only, by ReceivedAt")
		want, err := st.GetConversion(ctx(t), ftd.Conversion.ID)
		require.NoError(t, err, "rule: a valid GetConversion succeeds")
		require.Equal(t, want, got[1], "rule: a listed conversion is the stored one, its history included")
		require.Len(t, got[1].History, 2, "rule: a listed conversion carries its whole history")

		got[0].SubIDs[0] = "changed by the caller"
		again := byTransaction(t, st, "casino", "tx-1", 0)
		require.Equal(t, "sub-a", again[0].SubIDs[0], "rule: listed conversions are the caller's own")

		require.Equal(t, []uuid.UUID{otherSource.Conversion.ID}, conversionIDs(byTransaction(t, st, "network-b", "tx-1", 0)),
			"rule: another source's equal transaction ID is another transaction")
		require.Empty(t, byTransaction(t, st, "casino", "tx-2", 0), "rule: a transaction with no conversion is an empty list, not an error")
		require.Empty(t, byTransaction(t, st, "Casino", "tx-1", 0), "rule: a source is matched exactly, case included")
	})
	t.Run("OrderAndPaging", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		// Seven conversions of one transaction, four of them received at one instant, so that
		// the ID orders them; recorded in an order that is neither.
		var want []uuid.UUID
		var ps []store.RecordConversionParams
		for i := range 7 {
			received := base.Add(time.Duration(max(i-3, 0)) * time.Minute)
			p := inTransaction(fmt.Sprintf("k%d", i), "casino", "tx-1", "p1", event.Deposit, received)
			p.Conversion.ID = orderedID(i)
			p.Ledger[0].ConversionID, p.Deliveries[0].ConversionID = p.Conversion.ID, p.Conversion.ID
			want = append(want, p.Conversion.ID)
			ps = append(ps, p)
		}
		for _, i := range []int{5, 2, 0, 6, 3, 1, 4} {
			_, err := st.RecordConversion(ctx(t), ps[i])
			require.NoError(t, err, "rule: a valid RecordConversion succeeds")
		}
		for _, limit := range []int{0, 1, 2, 3, 7, 1000} {
			require.Equal(t, want, conversionIDs(byTransaction(t, st, "casino", "tx-1", limit)),
				"rule: pages of %d list every conversion of the transaction once, by ReceivedAt then ID", limit)
		}
		page, err := st.ListConversionsByTransaction(ctx(t), store.ListConversionsByTransactionParams{Source: "casino", TransactionID: "tx-1",
			After: store.Cursor{At: base, ID: want[1]}, Limit: 2})
		require.NoError(t, err, "rule: a valid ListConversionsByTransaction succeeds")
		require.Equal(t, want[2:4], conversionIDs(page), "rule: a page starts after its cursor, ReceivedAt and ID, and holds at most Limit conversions")
	})
	t.Run("InvalidRefused", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		for name, p := range map[string]store.ListConversionsByTransactionParams{
			"no source":                {TransactionID: "tx-1"},
			"no transaction":           {Source: "casino"},
			"control character":        {Source: "casino", TransactionID: "tx\n1"},
			"NUL":                      {Source: "casino\x00", TransactionID: "tx-1"},
			"transaction too long":     {Source: "casino", TransactionID: strings.Repeat("x", store.MaxKeyLen+1)},
			"invalid UTF-8":            {Source: "casino", TransactionID: "tx-\xff"},
			"negative limit":           {Source: "casino", TransactionID: "tx-1", Limit: -1},
			"source with a C1 control": {Source: "casino\u0085", TransactionID: "tx-1"},
		} {
			_, err := st.ListConversionsByTransaction(ctx(t), p)
			require.ErrorIs(t, err, store.ErrInvalid, "rule: a listing of a transaction no conversion can have (%s) is ErrInvalid", name)
		}
	})
}

// bindingOf returns a binding of player to affiliate, made at bound.
func bindingOf(player, affiliate string, bound time.Time) store.PlayerBinding {
	return store.PlayerBinding{PlayerID: player, AffiliateID: affiliate, CampaignID: "camp-1", Method: store.BindByClick, BoundAt: bound}
}

// binding returns the binding of player, or nil if it has none.
func binding(t *testing.T, st store.Store, player string) *store.PlayerBinding {
	t.Helper()
	b, err := st.GetBinding(ctx(t), player)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	require.NoError(t, err, "rule: a valid GetBinding succeeds or is ErrNotFound")
	return &b
}

// withBinding returns p (of player) with a binding of its player to affiliate, made at bound.
func withBinding(p store.RecordConversionParams, affiliate string, bound time.Time) store.RecordConversionParams {
	b := bindingOf(p.Conversion.PlayerID, affiliate, bound)
	p.Binding = &b
	return p
}

// recordedBinding is the contract of RecordConversionParams.Binding and RebindFrom.
func (s suite) recordedBinding(t *testing.T) {
	t.Run("WrittenWithTheConversion", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		p := withBinding(conversionFor("reg", "aff-1", base), "aff-1", base)
		p.Binding.ClickID = newClick(t).ID
		_, err := st.RecordConversion(ctx(t), p)
		require.NoError(t, err, "rule: a valid RecordConversion with a binding succeeds")
		require.Equal(t, p.Binding.Normalize(), *binding(t, st, p.Conversion.PlayerID), "rule: the binding of a record is stored with it, field for field")
	})
	t.Run("FirstBindingWins", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		first := withBinding(conversionFor("reg", "aff-1", base), "aff-1", base)
		_, err := st.RecordConversion(ctx(t), first)
		require.NoError(t, err, "rule: a valid RecordConversion with a binding succeeds")
		second := withBinding(conversionFor("ftd", "aff-2", base.Add(time.Hour)), "aff-2", base.Add(time.Hour))
		second.Conversion.PlayerID, second.Binding.PlayerID = first.Conversion.PlayerID, first.Conversion.PlayerID
		_, err = st.RecordConversion(ctx(t), second)
		require.NoError(t, err, "rule: a record whose player is bound already is recorded all the same, with a nil error")
		_, err = st.GetConversion(ctx(t), second.Conversion.ID)
		require.NoError(t, err, "rule: a record whose player is bound already is stored")
		require.Equal(t, first.Binding.Normalize(), *binding(t, st, first.Conversion.PlayerID), "rule: the first binding of a player wins: a record keeps the stored one")

		// A player bound by BindPlayer keeps that binding too.
		manual := bindingOf("p-manual", "aff-9", base)
		manual.Method = store.BindManually
		_, err = st.BindPlayer(ctx(t), manual)
		require.NoError(t, err, "rule: a valid BindPlayer succeeds")
		third := withBinding(conversionFor("other", "aff-3", base), "aff-3", base)
		third.Conversion.PlayerID, third.Binding.PlayerID = "p-manual", "p-manual"
		_, err = st.RecordConversion(ctx(t), third)
		require.NoError(t, err, "rule: a record whose player is bound already is recorded all the same")
		require.Equal(t, manual.Normalize(), *binding(t, st, "p-manual"), "rule: a record never replaces a binding without RebindFrom")
	})
	t.Run("RefusedRecordBindsNoOne", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		// Refused for a counter's limit: nothing, the binding included.
		capped := withBinding(conversionFor("capped", "aff-1", base), "aff-1", base)
		capped.Increments = []store.Increment{{Counter: "cap", Delta: 2, Limit: 1}}
		_, err := st.RecordConversion(ctx(t), capped)
		require.ErrorIs(t, err, store.ErrLimit, "rule: an increment past its limit refuses the record")
		require.Nil(t, binding(t, st, capped.Conversion.PlayerID), "rule: a refused record (ErrLimit) binds no one")

		// Refused for a taken delivery ID, after the conversion could be written.
		first := conversionFor("first", "aff-1", base)
		_, err = st.RecordConversion(ctx(t), first)
		require.NoError(t, err, "rule: a valid RecordConversion succeeds")
		taken := withBinding(conversionFor("taken", "aff-1", base), "aff-1", base)
		taken.Deliveries[0].ID = first.Deliveries[0].ID
		_, err = st.RecordConversion(ctx(t), taken)
		require.ErrorIs(t, err, store.ErrConflict, "rule: a record with a delivery ID that exists already is ErrConflict")
		require.Nil(t, binding(t, st, taken.Conversion.PlayerID), "rule: a failed record leaves no binding behind")

		// A duplicate writes nothing, a binding neither.
		dup := withBinding(conversionFor("first", "aff-1", base), "aff-2", base)
		dup.Conversion.PlayerID, dup.Binding.PlayerID = first.Conversion.PlayerID, first.Conversion.PlayerID
		_, err = st.RecordConversion(ctx(t), dup)
		require.ErrorIs(t, err, store.ErrDuplicate, "rule: a retry is ErrDuplicate")
		require.Nil(t, binding(t, st, first.Conversion.PlayerID), "rule: a duplicate binds no one")

		// Invalid: nothing.
		for name, p := range map[string]store.RecordConversionParams{
			"another player's binding": func() store.RecordConversionParams {
				p := withBinding(conversionFor("bad-player", "aff-1", base), "aff-1", base)
				p.Binding.PlayerID = "someone-else"
				return p
			}(),
			"an invalid binding": func() store.RecordConversionParams {
				p := withBinding(conversionFor("bad-method", "aff-1", base), "aff-1", base)
				p.Binding.Method = "guess"
				return p
			}(),
			"a rebind without a binding": func() store.RecordConversionParams {
				p := conversionFor("bad-rebind", "aff-1", base)
				from := bindingOf(p.Conversion.PlayerID, "aff-1", base)
				p.RebindFrom = &from
				return p
			}(),
			"a rebind from another player's binding": func() store.RecordConversionParams {
				p := withBinding(conversionFor("bad-from", "aff-1", base), "aff-1", base)
				from := bindingOf("someone-else", "aff-1", base)
				p.RebindFrom = &from
				return p
			}(),
		} {
			_, err := st.RecordConversion(ctx(t), p)
			require.ErrorIs(t, err, store.ErrInvalid, "rule: a record with %s is ErrInvalid", name)
			_, err = st.GetConversion(ctx(t), p.Conversion.ID)
			require.ErrorIs(t, err, store.ErrNotFound, "rule: a record with %s writes nothing", name)
			require.Nil(t, binding(t, st, p.Conversion.PlayerID), "rule: a record with %s binds no one", name)
			require.Nil(t, binding(t, st, "someone-else"), "rule: a record with %s binds no one", name)
		}
	})
	t.Run("RebindAsSeen", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		reg := withBinding(conversionFor("reg", "aff-1", base), "aff-1", base)
		_, err := st.RecordConversion(ctx(t), reg)
		require.NoError(t, err, "rule: a valid RecordConversion with a binding succeeds")
		player, seen := reg.Conversion.PlayerID, reg.Binding.Normalize()

		re := withBinding(conversionFor("re", "aff-2", base.Add(90*24*time.Hour)), "aff-2", base.Add(90*24*time.Hour))
		re.Conversion.PlayerID, re.Binding.PlayerID = player, player
		re.Binding.Method = store.BindByToken
		re.RebindFrom = &seen
		_, err = st.RecordConversion(ctx(t), re)
		require.NoError(t, err, "rule: a rebind from the stored binding succeeds")
		require.Equal(t, re.Binding.Normalize(), *binding(t, st, player), "rule: a rebind replaces the binding, with the new binding's method and time")

		again, err := st.RecordConversion(ctx(t), re)
		require.ErrorIs(t, err, store.ErrDuplicate, "rule: a retry of a rebind is ErrDuplicate, not a rebind conflict: the dedup key is checked first")
		require.Equal(t, re.Conversion.ID, again.ID, "rule: a retry of a rebind returns the stored original")

		// A rebind from the binding as it was before: stale.
		stale := withBinding(conversionFor("stale", "aff-3", base.Add(91*24*time.Hour)), "aff-3", base.Add(91*24*time.Hour))
		stale.Conversion.PlayerID, stale.Binding.PlayerID = player, player
		stale.RebindFrom = &seen
		stale.Increments = []store.Increment{{Counter: "rebinds", Delta: 1}}
		got, err := st.RecordConversion(ctx(t), stale)
		require.ErrorIs(t, err, store.ErrConflict, "rule: a rebind from a binding that is no longer stored is ErrConflict")
		var rebind *store.RebindError
		require.ErrorAs(t, err, &rebind, "rule: a stale rebind is a *RebindError")
		require.Equal(t, player, rebind.PlayerID, "rule: a RebindError names the player")
		require.NotNil(t, rebind.Stored, "rule: a RebindError carries the binding stored now")
		require.Equal(t, re.Binding.Normalize(), *rebind.Stored, "rule: a RebindError carries the binding stored now, field for field")
		require.Zero(t, got, "rule: a stale rebind returns the zero Conversion")
		_, err = st.GetConversion(ctx(t), stale.Conversion.ID)
		require.ErrorIs(t, err, store.ErrNotFound, "rule: a stale rebind writes no conversion")
		_, err = st.GetDelivery(ctx(t), stale.Deliveries[0].ID)
		require.ErrorIs(t, err, store.ErrNotFound, "rule: a stale rebind writes no delivery")
		n, err := st.GetCounter(ctx(t), "rebinds")
		require.NoError(t, err, "rule: a valid GetCounter succeeds")
		require.Zero(t, n, "rule: a stale rebind applies no increment")
		require.Equal(t, re.Binding.Normalize(), *binding(t, st, player), "rule: a stale rebind leaves the binding as it is")

		// Equal means every field: the same affiliate bound at another time is another binding.
		near := re.Binding.Normalize()
		near.BoundAt = near.BoundAt.Add(time.Microsecond)
		stale.RebindFrom, stale.Increments = &near, nil
		_, err = st.RecordConversion(ctx(t), stale)
		require.ErrorAs(t, err, &rebind, "rule: a rebind from a binding that differs in BoundAt alone is a *RebindError")

		// A rebind of a player with no binding.
		lone := withBinding(conversionFor("lone", "aff-2", base), "aff-2", base)
		from := bindingOf(lone.Conversion.PlayerID, "aff-1", base)
		lone.RebindFrom = &from
		_, err = st.RecordConversion(ctx(t), lone)
		require.ErrorAs(t, err, &rebind, "rule: a rebind of a player with no binding is a *RebindError")
		require.Nil(t, rebind.Stored, "rule: the RebindError of a player with no binding carries no binding")
		require.Nil(t, binding(t, st, lone.Conversion.PlayerID), "rule: a refused rebind binds no one")
	})
}

// bindingConcurrency races records that bind one player.
func (s suite) bindingConcurrency(t *testing.T) {
	t.Run("OneBindingOfConcurrentFirstRecords", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		handles := []store.Store{st}
		if s.h.Reopen != nil {
			handles = append(handles, s.h.Reopen(t, st))
		}
		// Readers watch the binding while 64 records of one player, each with a binding to
		// another affiliate, race: once a binding is seen, it is the one that stays.
		const records = 64
		var seen sync.Map // affiliate ID -> true
		var done atomic.Bool
		var readers sync.WaitGroup
		for g := range 4 {
			h := handles[g%len(handles)]
			readers.Go(func() {
				for !done.Load() {
					b, err := h.GetBinding(t.Context(), "p1")
					if err == nil {
						seen.Store(b.AffiliateID, true)
					} else if !errors.Is(err, store.ErrNotFound) {
						t.Error(err)
						return
					}
				}
			})
		}
		wins := race(t, records, func(i int) error {
			p := withBinding(conversionFor(fmt.Sprintf("k%d", i), fmt.Sprintf("aff-%d", i), base), fmt.Sprintf("aff-%d", i), base)
			p.Conversion.PlayerID, p.Binding.PlayerID = "p1", "p1"
			_, err := handles[i%len(handles)].RecordConversion(t.Context(), p)
			return err
		}, "records that bind a player bound already still succeed")
		done.Store(true)
		readers.Wait()
		require.Equal(t, records, wins, "rule: every record of concurrent first records of one player is recorded")
		final := binding(t, st, "p1")
		require.NotNil(t, final, "rule: one of concurrent first records of a player binds it")
		seen.Range(func(k, _ any) bool {
			require.Equal(t, final.AffiliateID, k, "rule: of concurrent first bindings exactly one is ever stored: a binding seen is never replaced")
			return true
		})
	})
	t.Run("OneRebindFromOneBinding", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		handles := []store.Store{st}
		if s.h.Reopen != nil {
			handles = append(handles, s.h.Reopen(t, st))
		}
		from := bindingOf("p1", "aff-0", base)
		_, err := st.BindPlayer(ctx(t), from)
		require.NoError(t, err, "rule: a valid BindPlayer succeeds")
		from = from.Normalize()
		const records = 48
		var mu sync.Mutex
		var won []store.RecordConversionParams
		var lost []*store.RebindError
		var lostIDs []uuid.UUID
		race(t, records, func(i int) error {
			p := withBinding(conversionFor(fmt.Sprintf("k%d", i), fmt.Sprintf("aff-%d", i+1), base.Add(time.Hour)), fmt.Sprintf("aff-%d", i+1), base.Add(time.Hour))
			p.Conversion.PlayerID, p.Binding.PlayerID = "p1", "p1"
			p.RebindFrom = &from
			_, err := handles[i%len(handles)].RecordConversion(t.Context(), p)
			mu.Lock()
			defer mu.Unlock()
			var rebind *store.RebindError
			switch {
			case err == nil:
				won = append(won, p)
			case errors.As(err, &rebind):
				lost, lostIDs = append(lost, rebind), append(lostIDs, p.Conversion.ID)
			}
			return err
		}, "losing rebinds are ErrConflict", store.ErrConflict)
		require.Len(t, won, 1, "rule: of concurrent rebinds from one binding exactly one applies")
		require.Len(t, lost, records-1, "rule: every other concurrent rebind is a *RebindError")
		final := binding(t, st, "p1")
		require.Equal(t, won[0].Binding.Normalize(), *final, "rule: the binding is the winning rebind's")
		for i, r := range lost {
			require.NotNil(t, r.Stored, "rule: a losing rebind's RebindError carries the binding stored now")
			require.Equal(t, *final, *r.Stored, "rule: a losing rebind's RebindError carries the winner's binding")
			_, err := st.GetConversion(ctx(t), lostIDs[i])
			require.ErrorIs(t, err, store.ErrNotFound, "rule: a losing rebind writes no conversion")
		}
	})
}
