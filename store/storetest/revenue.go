package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/store"
)

// revenueFact returns a revenue fact of affiliate aff and player, report txn of source
// "casino-a", of the revenue at occurred, received a minute later, with a new ID: a
// player who won (negative GGR) with bonuses, fees and taxes, and no withdrawals reported.
func revenueFact(aff, player, txn string, occurred time.Time) store.RevenueFact {
	return store.RevenueFact{
		ID: uuid.New(), Source: "casino-a", TransactionID: txn, AffiliateID: aff, PlayerID: player, CampaignID: "camp-1",
		OccurredAt: occurred, ReceivedAt: occurred.Add(time.Minute),
		GGR: money.New(-12_345, money.EUR), Bonuses: money.New(2_000, money.EUR), Fees: money.New(150, money.EUR),
		Taxes: money.New(-30, money.EUR), Deposits: money.New(50_000, money.EUR),
	}
}

// recordRevenue records f, which must be new, and returns it as stored.
func recordRevenue(t *testing.T, st store.Store, f store.RevenueFact) store.RevenueFact {
	t.Helper()
	got, err := st.RecordRevenue(ctx(t), f)
	require.NoError(t, err, "rule: a valid RecordRevenue of a new fact succeeds")
	return got
}

// listRevenueAll pages through the listing p with pages of limit and returns every fact.
func listRevenueAll(t *testing.T, st store.Store, p store.ListRevenueParams, limit int) []store.RevenueFact {
	t.Helper()
	p.Limit = limit
	var out []store.RevenueFact
	for range 10_000 {
		page, err := st.ListRevenue(ctx(t), p)
		require.NoError(t, err, "rule: a valid ListRevenue succeeds")
		out = append(out, page...)
		if len(page) < limit {
			return out
		}
		last := page[len(page)-1]
		p.After = store.Cursor{At: p.By.ListTime(last), ID: last.ID}
	}
	t.Fatal("rule: paging through a listing ends")
	return nil
}

func revenueIDs(fs ...store.RevenueFact) []uuid.UUID {
	out := make([]uuid.UUID, len(fs))
	for i, f := range fs {
		out[i] = f.ID
	}
	return out
}

func (s suite) revenue(t *testing.T) {
	t.Run("RoundTripSignedAmounts", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		f := revenueFact("aff-1", "p-1", "rep-1", base)
		got := recordRevenue(t, st, f)
		want := f.Normalize()
		require.True(t, got.Equal(want), "rule: RecordRevenue returns the fact as stored, normalised")
		require.Equal(t, money.New(0, money.EUR), got.Withdrawals, "rule: an amount not reported is kept as a zero of the fact's currency")
		back, err := st.GetRevenue(ctx(t), store.GetRevenueParams{Source: "casino-a", TransactionID: "rep-1"})
		require.NoError(t, err, "rule: a recorded fact is found by its identity")
		require.Equal(t, want, back, "rule: a fact reads back exactly as stored, negative amounts included")
		require.Equal(t, int64(-12_345), back.GGR.Minor(), "rule: a negative GGR (the player won) survives the round trip")
		require.Equal(t, int64(-30), back.Taxes.Minor(), "rule: any amount may be negative")

		_, err = st.GetRevenue(ctx(t), store.GetRevenueParams{Source: "casino-a", TransactionID: "rep-2"})
		require.ErrorIs(t, err, store.ErrNotFound, "rule: an unknown identity is ErrNotFound")
		_, err = st.GetRevenue(ctx(t), store.GetRevenueParams{Source: "casino-a"})
		require.ErrorIs(t, err, store.ErrInvalid, "rule: an identity without a transaction ID is ErrInvalid")
	})

	t.Run("RetryIsDuplicateOtherContentConflict", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		f := recordRevenue(t, st, revenueFact("aff-1", "p-1", "rep-1", base))

		retry := revenueFact("aff-1", "p-1", "rep-1", base)
		retry.ReceivedAt = base.Add(time.Hour)
		retry.Withdrawals = money.New(0, money.EUR)
		got, err := st.RecordRevenue(ctx(t), retry)
		require.ErrorIs(t, err, store.ErrDuplicate, "rule: the same report again (new ID, received later, an unreported amount sent as zero) is ErrDuplicate")
		require.Equal(t, f.ID, got.ID, "rule: a duplicate returns the stored original")

		other := revenueFact("aff-1", "p-1", "rep-1", base)
		other.GGR = money.New(-12_346, money.EUR)
		got, err = st.RecordRevenue(ctx(t), other)
		require.ErrorIs(t, err, store.ErrConflict, "rule: other content under a recorded identity is ErrConflict")
		require.Equal(t, f.ID, got.ID, "rule: a conflict returns the stored original")

		taken := revenueFact("aff-1", "p-1", "rep-2", base)
		taken.ID = f.ID
		_, err = st.RecordRevenue(ctx(t), taken)
		require.ErrorIs(t, err, store.ErrConflict, "rule: an ID taken under another identity is ErrConflict")
		_, err = st.GetRevenue(ctx(t), store.GetRevenueParams{Source: "casino-a", TransactionID: "rep-2"})
		require.ErrorIs(t, err, store.ErrNotFound, "rule: a refused fact writes nothing")

		elsewhere := revenueFact("aff-1", "p-1", "rep-1", base)
		elsewhere.Source = "casino-b"
		recordRevenue(t, st, elsewhere) // rule: the identity is the source's: another source's rep-1 is another fact
	})

	t.Run("Corrections", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		recordRevenue(t, st, revenueFact("aff-1", "p-1", "rep-1", base))

		orphan := revenueFact("aff-1", "p-1", "rep-9", base)
		orphan.Corrects = "rep-8"
		_, err := st.RecordRevenue(ctx(t), orphan)
		require.ErrorIs(t, err, store.ErrInvalid, "rule: a correction of a fact not recorded is ErrInvalid")

		other := revenueFact("aff-1", "p-1", "rep-1", base)
		other.Source, other.TransactionID, other.Corrects = "casino-b", "rep-2", "rep-1"
		_, err = st.RecordRevenue(ctx(t), other)
		require.ErrorIs(t, err, store.ErrInvalid, "rule: a correction names a fact of its own source")

		c := revenueFact("aff-1", "p-1", "rep-2", base)
		c.Corrects, c.GGR = "rep-1", money.New(-10_000, money.EUR)
		c = recordRevenue(t, st, c)
		require.Equal(t, "rep-1", c.Corrects, "rule: a correction keeps the fact it corrects")

		again := revenueFact("aff-1", "p-1", "rep-3", base)
		again.Corrects = "rep-1"
		got, err := st.RecordRevenue(ctx(t), again)
		require.ErrorIs(t, err, store.ErrConflict, "rule: a fact is corrected once at most")
		require.Equal(t, c.ID, got.ID, "rule: a second correction returns the stored correction")

		cc := revenueFact("aff-1", "p-1", "rep-4", base)
		cc.Corrects = "rep-2"
		recordRevenue(t, st, cc) // rule: a correction may itself be corrected

		self := revenueFact("aff-1", "p-1", "rep-5", base)
		self.Corrects = "rep-5"
		_, err = st.RecordRevenue(ctx(t), self)
		require.ErrorIs(t, err, store.ErrInvalid, "rule: a fact does not correct itself")
	})

	t.Run("Refusals", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		for name, mut := range map[string]func(f *store.RevenueFact){
			"no id":             func(f *store.RevenueFact) { f.ID = uuid.Nil },
			"no source":         func(f *store.RevenueFact) { f.Source = "" },
			"no transaction":    func(f *store.RevenueFact) { f.TransactionID = "" },
			"no affiliate":      func(f *store.RevenueFact) { f.AffiliateID = "" },
			"no player":         func(f *store.RevenueFact) { f.PlayerID = "" },
			"control character": func(f *store.RevenueFact) { f.PlayerID = "p\n1" },
			"no occurred time":  func(f *store.RevenueFact) { f.OccurredAt = time.Time{} },
			"no received time":  func(f *store.RevenueFact) { f.ReceivedAt = time.Time{} },
			"no ggr currency":   func(f *store.RevenueFact) { f.GGR = money.Amount{} },
			"two currencies":    func(f *store.RevenueFact) { f.Fees = money.New(1, money.USD) },
		} {
			f := revenueFact("aff-1", "p-1", "rep-1", base)
			mut(&f)
			_, err := st.RecordRevenue(ctx(t), f)
			require.ErrorIs(t, err, store.ErrInvalid, "rule: a fact that breaks a rule is ErrInvalid (%s)", name)
		}
		_, err := st.ListRevenue(ctx(t), store.ListRevenueParams{From: base, To: base})
		require.ErrorIs(t, err, store.ErrInvalid, "rule: a listing needs From before To")
		_, err = st.ListRevenue(ctx(t), store.ListRevenueParams{From: base, To: base.Add(time.Hour), By: 7})
		require.ErrorIs(t, err, store.ErrInvalid, "rule: an unknown RevenueTime is ErrInvalid")
	})

	t.Run("ListByTimeAffiliateAndPages", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		var all, aff1 []store.RevenueFact
		for i := range 25 {
			aff := fmt.Sprintf("aff-%d", i%2)
			// occurred in reverse order of receipt, some at one instant, so that the two
			// orders differ and ties are broken by ID
			f := revenueFact(aff, fmt.Sprintf("p-%d", i), fmt.Sprintf("rep-%d", i), base.Add(time.Duration(30-i/2)*time.Hour))
			f.ReceivedAt = base.Add(time.Duration(100+i) * time.Hour)
			f = recordRevenue(t, st, f)
			all = append(all, f)
			if aff == "aff-1" {
				aff1 = append(aff1, f)
			}
		}
		sorted := func(b store.RevenueTime, fs []store.RevenueFact, from, to time.Time) []uuid.UUID {
			var in []store.RevenueFact
			for _, f := range fs {
				if tt := b.ListTime(f); !tt.Before(from) && tt.Before(to) {
					in = append(in, f)
				}
			}
			for i := range in { // insertion sort by CompareRevenue
				for j := i; j > 0 && store.CompareRevenue(b, in[j-1], in[j]) > 0; j-- {
					in[j-1], in[j] = in[j], in[j-1]
				}
			}
			return revenueIDs(in...)
		}
		from, to := at(20*time.Hour), at(28*time.Hour)
		for _, limit := range []int{1, 3, 1000} {
			got := listRevenueAll(t, st, store.ListRevenueParams{From: from, To: to}, limit)
			require.Equal(t, sorted(store.ByOccurredAt, all, from, to), revenueIDs(got...),
				"rule: facts are listed by OccurredAt then ID, in [From, To), pages of %d joined without gap or repeat", limit)
			got = listRevenueAll(t, st, store.ListRevenueParams{AffiliateID: "aff-1", From: from, To: to}, limit)
			require.Equal(t, sorted(store.ByOccurredAt, aff1, from, to), revenueIDs(got...),
				"rule: an affiliate's listing holds its facts only, in order (pages of %d)", limit)
			rf, rt := at(105*time.Hour), at(120*time.Hour)
			got = listRevenueAll(t, st, store.ListRevenueParams{By: store.ByReceivedAt, From: rf, To: rt}, limit)
			require.Equal(t, sorted(store.ByReceivedAt, all, rf, rt), revenueIDs(got...),
				"rule: ByReceivedAt lists by ReceivedAt then ID, in [From, To) (pages of %d)", limit)
		}
		page, err := st.ListRevenue(ctx(t), store.ListRevenueParams{From: base, To: base.Add(1000 * time.Hour)})
		require.NoError(t, err)
		require.Len(t, page, 25, "rule: a limit of 0 lists up to 100")
		require.Equal(t, all[0], func() store.RevenueFact {
			for _, f := range page {
				if f.ID == all[0].ID {
					return f
				}
			}
			return store.RevenueFact{}
		}(), "rule: a listed fact is the fact as stored")
	})

	t.Run("ConcurrentIdenticalRecordsWriteOne", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		handles := []store.Store{st}
		if s.h.Reopen != nil {
			handles = append(handles, s.h.Reopen(t, st))
		}
		recordRevenue(t, st, revenueFact("aff-1", "p-1", "rep-0", base))
		const n = 50
		for _, txn := range []string{"rep-1", "fix-0"} {
			var wg sync.WaitGroup
			var mu sync.Mutex
			wins, dups, conflicts := 0, 0, 0
			var other []error
			for i := range n {
				h := handles[i%len(handles)]
				wg.Go(func() {
					f := revenueFact("aff-1", "p-1", txn, base)
					if txn == "fix-0" {
						// n distinct corrections of one fact: exactly one is recorded
						f.TransactionID, f.Corrects = fmt.Sprintf("fix-%d", i+1), "rep-0"
					}
					_, err := h.RecordRevenue(t.Context(), f)
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						wins++
					case errors.Is(err, store.ErrDuplicate):
						dups++
					case errors.Is(err, store.ErrConflict):
						conflicts++
					default:
						other = append(other, err)
					}
				})
			}
			wg.Wait()
			require.Empty(t, other, "rule: concurrent records fail with nothing but ErrDuplicate or ErrConflict")
			require.Equal(t, 1, wins, "rule: among concurrent records of one identity (or corrections of one fact) exactly one writes (%s)", txn)
			if txn == "rep-1" {
				require.Equal(t, n-1, dups, "rule: the others are duplicates of it")
			} else {
				require.Equal(t, n-1, conflicts, "rule: the other corrections are conflicts")
			}
		}
		got := listRevenueAll(t, st, store.ListRevenueParams{From: base, To: base.Add(time.Second)}, 1000)
		require.Len(t, got, 3, "rule: the races stored one fact each, beside the corrected one")
	})
}
