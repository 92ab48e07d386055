package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/store"
)

// month returns the n-th month from December 2026, in UTC.
func month(n int) (start, end time.Time) {
	start = time.Date(2026, time.December+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	return start, start.AddDate(0, 1, 0)
}

// periodClose returns the close of the n-th month, with a carried base of aff-1 and a
// ring-fenced player of aff-2.
func periodClose(n int) store.PeriodClose {
	start, end := month(n)
	return store.PeriodClose{Start: start, End: end, ClosedAt: end.Add(time.Hour), Balances: []store.Balance{
		{AffiliateID: "aff-2", PlayerID: "whale", Amount: money.New(-900_00, money.EUR)},
		{AffiliateID: "aff-1", Amount: money.New(-120_50, money.EUR)},
	}}
}

// periodLine returns a RevShare line of aff-1 for the n-th month.
func periodLine(n int) store.LedgerLine {
	start, end := month(n)
	return store.LedgerLine{ID: uuid.New(), CreatedAt: end.Add(time.Hour), Line: commission.Line{
		Kind: commission.KindAccrual, Rule: commission.RuleRevShare, Plan: "rs", AffiliateID: "aff-1",
		At: end, Payable: end, Period: commission.Period{Start: start, End: end},
		Amount: money.New(30_00, money.EUR), Base: money.New(100_00, money.EUR), Rate: money.MustParseRate("30%"),
	}}
}

func (s suite) periods(t *testing.T) {
	t.Run("CloseWritesCloseAndLines", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		_, err := st.LastClose(ctx(t))
		require.ErrorIs(t, err, store.ErrNotFound, "rule: a store with no close has no last close")
		c, l := periodClose(0), periodLine(0)
		got, err := st.ClosePeriod(ctx(t), store.ClosePeriodParams{Close: c, Lines: []store.LedgerLine{l}})
		require.NoError(t, err, "rule: the first close of a store is recorded")
		want := c.Normalize()
		require.Equal(t, want, got, "rule: ClosePeriod returns the close as stored, balances sorted")
		last, err := st.LastClose(ctx(t))
		require.NoError(t, err)
		require.Equal(t, want, last, "rule: the close reads back with its balances, negative amounts and all")
		lines, err := st.ListLedgerLines(ctx(t), store.ListLedgerLinesParams{AffiliateID: "aff-1", By: store.ByStatementTime, From: c.Start, To: c.End})
		require.NoError(t, err)
		require.Len(t, lines, 1, "rule: the close's lines are written with it")
		require.True(t, lines[0].Equal(l.Normalize()))

		next := periodClose(1)
		next.Balances = nil
		_, err = st.ClosePeriod(ctx(t), store.ClosePeriodParams{Close: next, Lines: []store.LedgerLine{periodLine(1)}})
		require.NoError(t, err, "rule: a close that follows the last one is recorded")
		last, err = st.LastClose(ctx(t))
		require.NoError(t, err)
		require.Equal(t, next.Normalize(), last, "rule: the last close is the one with the latest end")
		require.Nil(t, last.Balances, "rule: a close without balances reads back without")
	})

	t.Run("SecondCloseWritesNothing", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		c := periodClose(0)
		_, err := st.ClosePeriod(ctx(t), store.ClosePeriodParams{Close: c, Lines: []store.LedgerLine{periodLine(0)}})
		require.NoError(t, err)
		again := c
		again.ClosedAt = c.ClosedAt.Add(time.Hour)
		other := periodLine(0)
		got, err := st.ClosePeriod(ctx(t), store.ClosePeriodParams{Close: again, Lines: []store.LedgerLine{other}})
		require.ErrorIs(t, err, store.ErrDuplicate, "rule: a second close of a period with the same content is ErrDuplicate")
		require.Equal(t, c.Normalize(), got, "rule: a duplicate close returns the stored one")
		changed := c
		changed.Balances = changed.Balances[:1]
		_, err = st.ClosePeriod(ctx(t), store.ClosePeriodParams{Close: changed})
		require.ErrorIs(t, err, store.ErrConflict, "rule: a second close of a period with other balances is ErrConflict")
		lines, err := st.ListLedgerLines(ctx(t), store.ListLedgerLinesParams{AffiliateID: "aff-1", By: store.ByStatementTime, From: c.Start, To: c.End})
		require.NoError(t, err)
		require.Len(t, lines, 1, "rule: a refused close writes none of its lines")
	})

	t.Run("CloseMustFollowTheLast", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		_, err := st.ClosePeriod(ctx(t), store.ClosePeriodParams{Close: periodClose(0)})
		require.NoError(t, err)
		got, err := st.ClosePeriod(ctx(t), store.ClosePeriodParams{Close: periodClose(2), Lines: []store.LedgerLine{periodLine(2)}})
		require.ErrorIs(t, err, store.ErrConflict, "rule: a close that skips a period is ErrConflict")
		require.Equal(t, periodClose(0).Normalize(), got, "rule: a close that does not follow is answered with the last close")
		lines, err := st.ListLedgerLines(ctx(t), store.ListLedgerLinesParams{AffiliateID: "aff-1", By: store.ByStatementTime, From: time.Unix(0, 0), To: time.Unix(1<<40, 0)})
		require.NoError(t, err)
		require.Empty(t, lines, "rule: a refused close writes none of its lines")
		_, err = st.ClosePeriod(ctx(t), store.ClosePeriodParams{Close: periodClose(-1)})
		require.ErrorIs(t, err, store.ErrConflict, "rule: a close before the first is ErrConflict: there is one first close")
	})

	t.Run("LineThatExistsRefusesTheClose", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		l := periodLine(0)
		require.NoError(t, st.InsertLedgerLines(ctx(t), store.InsertLedgerLinesParams{Lines: []store.LedgerLine{l}}))
		_, err := st.ClosePeriod(ctx(t), store.ClosePeriodParams{Close: periodClose(0), Lines: []store.LedgerLine{l}})
		require.ErrorIs(t, err, store.ErrConflict, "rule: a close with a line whose ID exists is ErrConflict")
		_, err = st.LastClose(ctx(t))
		require.ErrorIs(t, err, store.ErrNotFound, "rule: a refused close is not recorded")
	})

	t.Run("InvalidIsRefused", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		for name, mutate := range map[string]func(p *store.ClosePeriodParams){
			"no start":           func(p *store.ClosePeriodParams) { p.Close.Start = time.Time{} },
			"end before start":   func(p *store.ClosePeriodParams) { p.Close.End = p.Close.Start },
			"no closed at":       func(p *store.ClosePeriodParams) { p.Close.ClosedAt = time.Time{} },
			"positive balance":   func(p *store.ClosePeriodParams) { p.Close.Balances[0].Amount = money.New(1, money.EUR) },
			"balance twice":      func(p *store.ClosePeriodParams) { p.Close.Balances[1] = p.Close.Balances[0] },
			"no affiliate":       func(p *store.ClosePeriodParams) { p.Close.Balances[0].AffiliateID = "" },
			"line of conversion": func(p *store.ClosePeriodParams) { p.Lines[0].ConversionID = uuid.New() },
		} {
			p := store.ClosePeriodParams{Close: periodClose(0), Lines: []store.LedgerLine{periodLine(0)}}
			p.Close.Balances = append([]store.Balance(nil), p.Close.Balances...)
			mutate(&p)
			_, err := st.ClosePeriod(ctx(t), p)
			require.ErrorIs(t, err, store.ErrInvalid, "rule: an invalid close is ErrInvalid (%s)", name)
		}
		_, err := st.LastClose(ctx(t))
		require.ErrorIs(t, err, store.ErrNotFound, "rule: an invalid close writes nothing")
	})

	t.Run("CloseSettlesItsFacts", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		start, end := month(0)
		facts := []store.RevenueFact{
			revenueFact("aff-1", "p-1", "rep-1", start.Add(time.Hour)),
			revenueFact("aff-1", "p-2", "rep-2", start.Add(2*time.Hour)),
			revenueFact("aff-2", "p-3", "rep-3", start.Add(3*time.Hour)),
		}
		for i := range facts {
			f := facts[i]
			f.SettledIn = start // the store's, not the caller's
			facts[i] = recordRevenue(t, st, f)
			require.True(t, facts[i].SettledIn.IsZero(), "rule: RecordRevenue records a fact unsettled")
		}
		unsettled := store.ListRevenueParams{From: time.Unix(0, 0), To: end, Unsettled: true}
		require.Equal(t, revenueIDs(facts...), revenueIDs(listRevenueAll(t, st, unsettled, 2)...), "rule: an unsettled listing lists every fact no close settled")

		_, err := st.ClosePeriod(ctx(t), store.ClosePeriodParams{Close: periodClose(0), Facts: revenueIDs(facts[0], facts[2])})
		require.NoError(t, err)
		for i, f := range facts {
			got, err := st.GetRevenue(ctx(t), store.GetRevenueParams{Source: f.Source, TransactionID: f.TransactionID})
			require.NoError(t, err)
			if i == 1 {
				require.True(t, got.SettledIn.IsZero(), "rule: a fact the close did not count stays unsettled")
				continue
			}
			require.True(t, got.SettledIn.Equal(start), "rule: the close marks the facts it counts settled in its period")
		}
		require.Equal(t, revenueIDs(facts[1]), revenueIDs(listRevenueAll(t, st, unsettled, 2)...), "rule: an unsettled listing leaves out the settled facts")
		require.Len(t, listRevenueAll(t, st, store.ListRevenueParams{From: time.Unix(0, 0), To: end}, 2), 3, "rule: a listing without Unsettled lists settled facts too")

		next := periodClose(1)
		for name, ids := range map[string][]uuid.UUID{
			"a fact settled already":    revenueIDs(facts[1], facts[0]),
			"a fact that is not stored": {facts[1].ID, uuid.New()},
		} {
			_, err = st.ClosePeriod(ctx(t), store.ClosePeriodParams{Close: next, Lines: []store.LedgerLine{periodLine(1)}, Facts: ids})
			require.ErrorIs(t, err, store.ErrConflict, "rule: a close that settles %s is ErrConflict", name)
			last, err := st.LastClose(ctx(t))
			require.NoError(t, err)
			require.True(t, last.Start.Equal(start), "rule: a close refused for its facts is not recorded (%s)", name)
			require.Equal(t, revenueIDs(facts[1]), revenueIDs(listRevenueAll(t, st, unsettled, 2)...), "rule: a refused close settles none of its facts (%s)", name)
		}
		_, err = st.ClosePeriod(ctx(t), store.ClosePeriodParams{Close: next, Facts: []uuid.UUID{facts[1].ID, facts[1].ID}})
		require.ErrorIs(t, err, store.ErrInvalid, "rule: a fact given twice is ErrInvalid")
	})

	t.Run("ConcurrentClosesSettleOnce", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		handles := []store.Store{st}
		if s.h.Reopen != nil {
			handles = append(handles, s.h.Reopen(t, st))
		}
		start, end := month(0)
		f := recordRevenue(t, st, revenueFact("aff-1", "p-1", "rep-1", start.Add(time.Hour)))
		const n = 20
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Go(func() {
				c := periodClose(0)
				c.ClosedAt = c.ClosedAt.Add(time.Duration(i) * time.Second)
				_, err := handles[i%len(handles)].ClosePeriod(t.Context(), store.ClosePeriodParams{Close: c, Facts: []uuid.UUID{f.ID}})
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		wins := 0
		for err := range errs {
			switch {
			case err == nil:
				wins++
			case errors.Is(err, store.ErrDuplicate), errors.Is(err, store.ErrConflict):
			default:
				require.NoError(t, err, "rule: concurrent closes fail with nothing but ErrDuplicate or ErrConflict")
			}
		}
		require.Equal(t, 1, wins, "rule: among concurrent closes of a period exactly one is recorded")
		got, err := st.GetRevenue(ctx(t), store.GetRevenueParams{Source: f.Source, TransactionID: f.TransactionID})
		require.NoError(t, err)
		require.True(t, got.SettledIn.Equal(start), "rule: the recorded close settled the fact")
		require.Empty(t, listRevenueAll(t, st, store.ListRevenueParams{From: time.Unix(0, 0), To: end, Unsettled: true}, 10))
	})

	t.Run("ConcurrentClosesRecordOne", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		handles := []store.Store{st}
		if s.h.Reopen != nil {
			handles = append(handles, s.h.Reopen(t, st))
		}
		const n = 40
		// Round 0: n first closes of n months, none the month after another; round 1: n
		// closes of the month after the winner, each with lines of its own.
		for round := range 2 {
			var first store.PeriodClose
			if round == 1 {
				var err error
				first, err = st.LastClose(ctx(t))
				require.NoError(t, err)
			}
			var wg sync.WaitGroup
			var mu sync.Mutex
			wins := 0
			var other []error
			for i := range n {
				wg.Go(func() {
					c, l := periodClose(2*i), periodLine(2*i)
					if round == 1 {
						c.Start, c.End = first.End, first.End.AddDate(0, 1, 0)
						l.Period = commission.Period{Start: c.Start, End: c.End}
					}
					_, err := handles[i%len(handles)].ClosePeriod(t.Context(), store.ClosePeriodParams{Close: c, Lines: []store.LedgerLine{l}})
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						wins++
					case errors.Is(err, store.ErrDuplicate), errors.Is(err, store.ErrConflict):
					default:
						other = append(other, err)
					}
				})
			}
			wg.Wait()
			require.Empty(t, other, "rule: concurrent closes fail with nothing but ErrDuplicate or ErrConflict")
			require.Equal(t, 1, wins, "rule: among concurrent closes (round %d) exactly one is recorded", round)
		}
		lines, err := st.ListLedgerLines(ctx(t), store.ListLedgerLinesParams{AffiliateID: "aff-1", By: store.ByStatementTime, From: time.Unix(0, 0), To: time.Unix(1<<40, 0)})
		require.NoError(t, err)
		require.Len(t, lines, 2, "rule: only the recorded closes' lines are written")
	})
}
