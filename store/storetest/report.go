package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/store"
)

// reportClick inserts a click of aff and camp at t.
func reportClick(t *testing.T, st store.Store, aff, camp string, at time.Time) {
	t.Helper()
	c := newClick(t)
	c.AffiliateID, c.CampaignID, c.CreatedAt, c.ForeignClickID = aff, camp, at, ""
	require.NoError(t, st.InsertClick(ctx(t), c), "rule: a valid InsertClick succeeds")
}

// reportConversion records a conversion of key, event ev, affiliate aff and campaign camp at
// occurred, with a CPA accrual of minor EUR cents payable at payable (none when minor is 0).
func reportConversion(t *testing.T, st store.Store, key string, ev event.Type, aff, camp string, occurred, payable time.Time, minor int64) store.RecordConversionParams {
	t.Helper()
	p := conversionFor(key, aff, occurred)
	p.Conversion.Event, p.Conversion.CampaignID, p.Deliveries = ev, camp, nil
	p.Ledger = nil
	if minor > 0 {
		l := cpaLine(p.Conversion.ID, aff, "player-"+key, occurred)
		l.Payable, l.Amount = payable, money.New(minor, money.EUR)
		p.Ledger = []store.LedgerLine{l}
	}
	_, err := st.RecordConversion(ctx(t), p)
	require.NoError(t, err, "rule: a valid RecordConversion succeeds")
	return p
}

func (s suite) report(t *testing.T) {
	day := 24 * time.Hour
	t0 := at(0)
	bounds := []time.Time{t0, t0.Add(day), t0.Add(2 * day)}
	g := func(period int, aff, camp string) store.Group {
		return store.Group{Period: period, AffiliateID: aff, CampaignID: camp}
	}

	// fill writes the records of the report cases, the same in every store.
	fill := func(t *testing.T, st store.Store) {
		t.Helper()
		// Clicks: the bounds put a click at a bound in the period it starts, and leave out
		// one just before the first bound and one at the last.
		reportClick(t, st, "aff-1", "camp-1", t0)
		reportClick(t, st, "aff-1", "camp-1", t0.Add(day-time.Microsecond))
		reportClick(t, st, "aff-1", "camp-2", t0.Add(day))
		reportClick(t, st, "aff-1", "", t0.Add(time.Hour))
		reportClick(t, st, "aff-2", "camp-1", t0.Add(time.Hour))
		reportClick(t, st, "aff-1", "camp-1", t0.Add(-time.Microsecond))
		reportClick(t, st, "aff-1", "camp-1", t0.Add(2*day))

		// Conversions, by event time: two registrations and an FTD of aff-1 in camp-1 on the
		// first day, the FTD reversed on the second (its reversal line in the second
		// period); an FTD without an event time (received on the second day); one of aff-2.
		reportConversion(t, st, "reg-1", event.Registration, "aff-1", "camp-1", t0.Add(time.Hour), t0.Add(time.Hour), 0)
		reportConversion(t, st, "reg-2", event.Registration, "aff-1", "camp-1", t0.Add(2*time.Hour), t0.Add(2*time.Hour), 0)
		ftd := reportConversion(t, st, "ftd-1", event.FTD, "aff-1", "camp-1", t0.Add(3*time.Hour), t0.Add(3*time.Hour), 5000)
		rev := reversalOf(ftd.Ledger[0], t0.Add(day+time.Hour))
		_, err := st.ChangeStatus(ctx(t), store.ChangeStatusParams{ConversionID: ftd.Conversion.ID, From: event.StatusPending,
			To: event.StatusReversed, Reason: "chargeback", At: t0.Add(day + time.Hour), Ledger: []store.LedgerLine{rev}})
		require.NoError(t, err, "rule: a valid ChangeStatus succeeds")
		untimed := conversionFor("ftd-2", "aff-1", t0.Add(day+2*time.Hour))
		untimed.Conversion.OccurredAt, untimed.Conversion.ReceivedAt = time.Time{}, t0.Add(day+2*time.Hour)
		untimed.Conversion.CampaignID, untimed.Deliveries, untimed.Ledger = "camp-2", nil, nil
		_, err = st.RecordConversion(ctx(t), untimed)
		require.NoError(t, err, "rule: a valid RecordConversion succeeds")
		reportConversion(t, st, "ftd-3", event.FTD, "aff-2", "camp-1", t0.Add(4*time.Hour), t0.Add(4*time.Hour), 7000)
		reportConversion(t, st, "ftd-late", event.FTD, "aff-1", "camp-1", t0.Add(2*day), t0.Add(2*day), 0)

		// A period line of no conversion (RevShare of the first day) and an adjustment.
		rs := store.LedgerLine{ID: uuid.New(), CreatedAt: t0.Add(day), Line: commission.Line{
			Kind: commission.KindAccrual, Rule: commission.RuleRevShare, Plan: "rs", AffiliateID: "aff-1",
			At: t0.Add(day), Payable: t0.Add(day), Period: commission.Period{Start: t0, End: t0.Add(day)},
			Amount: money.New(1234, money.EUR), Base: money.New(4936, money.EUR), Rate: money.MustParseRate("0.25"),
		}}
		require.NoError(t, st.InsertLedgerLines(ctx(t), store.InsertLedgerLinesParams{Lines: []store.LedgerLine{
			rs, adjustment("aff-1", -300, money.EUR, t0.Add(day+5*time.Hour)),
		}}), "rule: a valid InsertLedgerLines succeeds")

		// Revenue: a fact and its correction on the first day (the correction replaces it),
		// a fact in USD on the second, and one of aff-2.
		f1 := revenueFact("aff-1", "p-1", "r-1", t0.Add(time.Hour))
		recordRevenue(t, st, f1)
		f2 := revenueFact("aff-1", "p-1", "r-1b", t0.Add(2*time.Hour))
		f2.Corrects, f2.GGR = "r-1", money.New(-10_000, money.EUR)
		recordRevenue(t, st, f2)
		f3 := revenueFact("aff-1", "p-2", "r-2", t0.Add(day+time.Hour))
		f3.GGR, f3.Bonuses, f3.Fees, f3.Taxes, f3.Deposits = money.New(900, money.USD), money.Amount{}, money.Amount{}, money.Amount{}, money.New(1000, money.USD)
		recordRevenue(t, st, f3)
		recordRevenue(t, st, revenueFact("aff-2", "p-3", "r-3", t0.Add(time.Hour)))
	}
	eur := func(m int64) money.Amount { return money.New(m, money.EUR) }
	usd := func(m int64) money.Amount { return money.New(m, money.USD) }
	// The revenueFact amounts: GGR -12345 (here corrected to -10000), bonuses 2000, fees
	// 150, taxes -30, deposits 50000.
	aff1 := store.Aggregates{
		Clicks: []store.ClickCount{
			{Group: g(0, "aff-1", ""), Clicks: 1}, {Group: g(0, "aff-1", "camp-1"), Clicks: 2}, {Group: g(1, "aff-1", "camp-2"), Clicks: 1},
		},
		Conversions: []store.ConversionCount{
			{Group: g(0, "aff-1", "camp-1"), Event: event.FTD, Status: event.StatusReversed, Count: 1},
			{Group: g(0, "aff-1", "camp-1"), Event: event.Registration, Status: event.StatusPending, Count: 2},
			{Group: g(1, "aff-1", "camp-2"), Event: event.FTD, Status: event.StatusPending, Count: 1},
		},
		Revenue: []store.RevenueSum{
			{Group: g(0, "aff-1", "camp-1"), Facts: 1, GGR: eur(-10_000), Bonuses: eur(2000), Fees: eur(150), Taxes: eur(-30), Deposits: eur(50_000), Withdrawals: eur(0)},
			{Group: g(1, "aff-1", "camp-1"), Facts: 1, GGR: usd(900), Bonuses: usd(0), Fees: usd(0), Taxes: usd(0), Deposits: usd(1000), Withdrawals: usd(0)},
		},
		Ledger: []store.LedgerSum{
			{Group: g(0, "aff-1", ""), Rule: commission.RuleRevShare, Kind: commission.KindAccrual, Lines: 1, Amount: eur(1234)},
			{Group: g(0, "aff-1", "camp-1"), Rule: commission.RuleCPACountry, Kind: commission.KindAccrual, Lines: 1, Amount: eur(5000)},
			{Group: g(1, "aff-1", ""), Rule: commission.RuleAdjustment, Kind: commission.KindAdjustment, Lines: 1, Amount: eur(-300)},
			{Group: g(1, "aff-1", "camp-1"), Rule: commission.RuleCPACountry, Kind: commission.KindReversal, Lines: 1, Amount: eur(-5000)},
		},
	}

	t.Run("CountsAndSumsPerGroup", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		fill(t, st)
		got, err := st.Aggregate(ctx(t), store.AggregateParams{AffiliateID: "aff-1", Bounds: bounds})
		require.NoError(t, err, "rule: a valid Aggregate succeeds")
		require.Equal(t, aff1, got, "rule: Aggregate counts clicks by CreatedAt, conversions by event time, event and current status, "+
			"revenue facts in force (a corrected one replaced by its correction) per currency, and ledger lines by statement time, rule and kind "+
			"in the campaign of their conversion; a record at a bound is in the period it starts, and none outside the bounds")
	})

	t.Run("EveryAffiliateAndOneCampaign", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		fill(t, st)
		all, err := st.Aggregate(ctx(t), store.AggregateParams{Bounds: bounds})
		require.NoError(t, err, "rule: a valid Aggregate succeeds")
		require.Equal(t, []store.ClickCount{
			{Group: g(0, "aff-1", ""), Clicks: 1}, {Group: g(0, "aff-1", "camp-1"), Clicks: 2},
			{Group: g(0, "aff-2", "camp-1"), Clicks: 1}, {Group: g(1, "aff-1", "camp-2"), Clicks: 1},
		}, all.Clicks, "rule: Aggregate without an affiliate counts every affiliate's, sorted by period, affiliate and campaign")
		require.Len(t, all.Conversions, 4, "rule: every affiliate's conversions are counted")
		require.Len(t, all.Revenue, 3, "rule: every affiliate's revenue is summed")
		require.Len(t, all.Ledger, 5, "rule: every affiliate's lines are summed")

		one, err := st.Aggregate(ctx(t), store.AggregateParams{AffiliateID: "aff-1", CampaignID: "camp-1", Bounds: bounds[:2]})
		require.NoError(t, err, "rule: a valid Aggregate succeeds")
		require.Equal(t, store.Aggregates{
			Clicks:      aff1.Clicks[1:2],
			Conversions: aff1.Conversions[:2],
			Revenue:     aff1.Revenue[:1],
			Ledger:      aff1.Ledger[1:2],
		}, one, "rule: Aggregate with a campaign counts only that campaign's records (a line by its conversion's campaign), and one period only its own")

		none, err := st.Aggregate(ctx(t), store.AggregateParams{AffiliateID: "aff-9", Bounds: bounds})
		require.NoError(t, err, "rule: an affiliate without records is no error")
		require.True(t, len(none.Clicks)+len(none.Conversions)+len(none.Revenue)+len(none.Ledger) == 0,
			"rule: groups with nothing in them are left out: %+v", none)
	})

	t.Run("Refused", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		many := make([]time.Time, store.MaxPeriods+2)
		for i := range many {
			many[i] = t0.Add(time.Duration(i) * time.Hour)
		}
		for name, p := range map[string]store.AggregateParams{
			"NoBounds":        {},
			"OneBound":        {Bounds: bounds[:1]},
			"Descending":      {Bounds: []time.Time{t0.Add(day), t0}},
			"EqualAtMicros":   {Bounds: []time.Time{t0, t0.Add(time.Nanosecond)}},
			"ZeroBound":       {Bounds: []time.Time{{}, t0}},
			"TooManyPeriods":  {Bounds: many},
			"BadAffiliate":    {AffiliateID: "a\x00b", Bounds: bounds},
			"AffiliateTooBig": {AffiliateID: string(make([]byte, store.MaxKeyLen+1)), Bounds: bounds},
		} {
			_, err := st.Aggregate(ctx(t), p)
			require.ErrorIs(t, err, store.ErrInvalid, "rule: Aggregate with invalid parameters (%s) is ErrInvalid", name)
		}
		_, err := st.Aggregate(ctx(t), store.AggregateParams{Bounds: many[:store.MaxPeriods+1]})
		require.NoError(t, err, "rule: Aggregate takes MaxPeriods periods")
		_, err = st.CountAttempts(ctx(t), store.CountAttemptsParams{From: t0, To: t0.Add(day)})
		require.ErrorIs(t, err, store.ErrInvalid, "rule: CountAttempts without an endpoint is ErrInvalid")
		_, err = st.CountAttempts(ctx(t), store.CountAttemptsParams{Endpoint: "e", From: t0, To: t0})
		require.ErrorIs(t, err, store.ErrInvalid, "rule: CountAttempts with an empty window is ErrInvalid")
	})

	t.Run("AttemptsAndFailuresInAWindow", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		ds := recordWithDeliveries(t, st, "k-attempts", base, base, base)
		other := conversionFor("k-other", "aff-2", base)
		other.Ledger = nil
		other.Deliveries[0].NextAttemptAt, other.Deliveries[0].CreatedAt = base, base
		_, err := st.RecordConversion(ctx(t), other)
		require.NoError(t, err, "rule: a valid RecordConversion succeeds")

		// Each delivery of aff-1-postback fails once (no response, 503, 302) a minute apart,
		// then two are delivered; the other endpoint's attempt fails.
		codes := [][]int{{0, 200}, {503, 204}, {302}}
		start := base
		for round := range 2 {
			leases, err := st.LeaseDeliveries(ctx(t), store.LeaseParams{Now: start, LeaseFor: time.Minute, Limit: 10})
			require.NoError(t, err, "rule: a valid LeaseDeliveries succeeds")
			for _, l := range leases {
				code, status := 500, store.DeliveryPending
				for i, d := range ds {
					if d.ID == l.Delivery.ID {
						if round >= len(codes[i]) {
							code = -1
						} else {
							code = codes[i][round]
						}
					}
				}
				if code == -1 {
					continue
				}
				if code >= 200 && code <= 299 {
					status = store.DeliveryDelivered
				}
				_, err := st.RecordAttempt(ctx(t), store.RecordAttemptParams{DeliveryID: l.Delivery.ID, Token: l.Token,
					Attempt: attempt(start, code), Status: status, NextAttemptAt: start.Add(time.Minute)})
				require.NoError(t, err, "rule: an attempt under its lease is recorded")
			}
			start = start.Add(time.Minute)
		}
		count := func(from, to time.Time) store.AttemptCounts {
			c, err := st.CountAttempts(ctx(t), store.CountAttemptsParams{Endpoint: "aff-1-postback", From: from, To: to})
			require.NoError(t, err, "rule: a valid CountAttempts succeeds")
			return c
		}
		require.Equal(t, store.AttemptCounts{Attempts: 5, Failed: 3}, count(base, base.Add(time.Hour)),
			"rule: CountAttempts counts the endpoint's attempts that finished in the window, and as failed those without a 2xx status")
		require.Equal(t, store.AttemptCounts{Attempts: 3, Failed: 3}, count(base, base.Add(time.Minute)),
			"rule: an attempt that finished at or after the window's end is not counted")
		require.Equal(t, store.AttemptCounts{Attempts: 2}, count(base.Add(time.Minute), base.Add(time.Hour)),
			"rule: an attempt that finished before the window's start is not counted")
		none, err := st.CountAttempts(ctx(t), store.CountAttemptsParams{Endpoint: "nobody", From: base, To: base.Add(time.Hour)})
		require.NoError(t, err, "rule: an endpoint without attempts is no error")
		require.Equal(t, store.AttemptCounts{}, none, "rule: an endpoint without attempts has zero counts")
	})

	t.Run("CountsWhileWriting", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		handles := []store.Store{st}
		if s.h.Reopen != nil {
			handles = append(handles, s.h.Reopen(t, st))
		}
		const writers, each = 8, 25
		p := store.AggregateParams{AffiliateID: "aff-1", Bounds: bounds}
		total := func(a store.Aggregates) (clicks, convs int64) {
			for _, c := range a.Clicks {
				clicks += c.Clicks
			}
			for _, c := range a.Conversions {
				convs += c.Count
			}
			return clicks, convs
		}
		var wg sync.WaitGroup
		done := make(chan struct{})
		for w := range writers {
			wg.Go(func() {
				h := handles[w%len(handles)]
				for i := range each {
					at := t0.Add(time.Duration(w*each+i) * time.Minute)
					c := newClick(t)
					c.CampaignID, c.CreatedAt, c.ForeignClickID = "camp-1", at, ""
					assert.NoError(t, h.InsertClick(ctx(t), c), "rule: a valid InsertClick succeeds")
					cp := conversionFor(fmt.Sprintf("w%d-%d", w, i), "aff-1", at)
					cp.Deliveries = nil
					cp.Ledger[0].Payable = cp.Ledger[0].At
					_, err := h.RecordConversion(ctx(t), cp)
					assert.NoError(t, err, "rule: a valid RecordConversion succeeds")
				}
			})
		}
		var readers sync.WaitGroup
		for r := range 2 {
			readers.Go(func() {
				h := handles[r%len(handles)]
				var lastClicks, lastConvs int64
				for {
					select {
					case <-done:
						return
					default:
					}
					a, err := h.Aggregate(ctx(t), p)
					if !assert.NoError(t, err, "rule: Aggregate succeeds while records are written") {
						return
					}
					c, v := total(a)
					assert.GreaterOrEqual(t, c, lastClicks, "rule: a committed click stays counted")
					assert.GreaterOrEqual(t, v, lastConvs, "rule: a committed conversion stays counted")
					assert.LessOrEqual(t, c, int64(writers*each), "rule: Aggregate counts no click twice")
					lastClicks, lastConvs = c, v
				}
			})
		}
		wg.Wait()
		close(done)
		readers.Wait()
		a, err := st.Aggregate(ctx(t), p)
		require.NoError(t, err, "rule: a valid Aggregate succeeds")
		c, v := total(a)
		require.Equal(t, int64(writers*each), c, "rule: every click written concurrently is counted once")
		require.Equal(t, int64(writers*each), v, "rule: every conversion written concurrently is counted once")
		var lines int64
		for _, l := range a.Ledger {
			lines += l.Lines
		}
		require.Equal(t, int64(writers*each), lines, "rule: every line written concurrently is summed once")
	})
}
