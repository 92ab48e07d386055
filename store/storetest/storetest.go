package storetest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // the replayed histories keep statements in Europe/Malta, on any machine

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/commission/commissiontest"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/store"
)

// Harness makes stores for the suite.
type Harness struct {
	// NewStore returns a new, empty store, isolated from every other store it returns, and
	// registers its cleanup with t.Cleanup. It is called once per subtest, possibly from
	// parallel subtests. Required.
	NewStore func(t *testing.T) store.Store

	// Reopen, if set, returns a second handle on the data of s, as another process would open
	// it (its own connection pool, say). The concurrency rules then race callers across both
	// handles. A store that lives in one process (in memory) leaves it nil.
	Reopen func(t *testing.T, s store.Store) store.Store
}

// Run runs the conformance suite against the stores that h makes: one subtest per rule of the
// store contract, each named for its rule. Every implementation of store.Store must pass it.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.NewStore == nil {
		t.Fatal("storetest: Harness.NewStore is required")
	}
	s := suite{h: h}
	t.Run("Click", s.clicks)
	t.Run("Binding", s.bindings)
	t.Run("Conversion", s.conversions)
	t.Run("Ledger", s.ledger)
	t.Run("Counter", s.counters)
	t.Run("Delivery", s.deliveries)
	t.Run("AttemptBatch", s.attemptBatches)
	t.Run("Endpoint", s.endpoints)
	t.Run("Parked", s.parked)
	t.Run("Inbound", s.inbound)
	t.Run("ByConversion", s.byConversion)
	t.Run("Revenue", s.revenue)
	t.Run("Report", s.report)
	t.Run("Period", s.periods)
	t.Run("Paging", s.paging)
	t.Run("Limits", s.limits)
	t.Run("Refusals", s.refusals)
	t.Run("Concurrency", s.concurrency)
}

type suite struct{ h Harness }

// base is the suite's reference time: in a zone east of UTC and with nanoseconds, so that
// normalisation to UTC and to microseconds is visible.
var base = time.Date(2026, 11, 23, 12, 30, 45, 123_456_789, time.FixedZone("UTC+3", 3*3600))

// at returns base plus d, normalised as stores keep times.
func at(d time.Duration) time.Time { return store.NormalizeTime(base.Add(d)) }

func ctx(t *testing.T) context.Context { return t.Context() }

func newClick(t *testing.T) store.Click {
	t.Helper()
	id, err := clickid.New()
	require.NoError(t, err, "rule: a valid clickid.New succeeds")
	return store.Click{
		ID:             id,
		AffiliateID:    "aff-1",
		CampaignID:     "camp-1",
		SubIDs:         []string{"sub-a", "", "sub-c"},
		ForeignClickID: "gclid-Cj0KCQiA",
		IP:             netip.MustParseAddr("203.0.113.7"),
		UserAgent:      "Mozilla/5.0",
		Landing:        "https://casino.example/welcome?x=1",
		CreatedAt:      base,
	}
}

// conversionFor returns RecordConversionParams for a conversion with one ledger line and one
// delivery, all with new IDs.
func conversionFor(key, affiliate string, occurred time.Time) store.RecordConversionParams {
	id := uuid.New()
	return store.RecordConversionParams{
		Conversion: store.Conversion{
			ID:             id,
			DedupKey:       key,
			Source:         "network-a",
			Event:          event.FTD,
			ForeignClickID: "net-click-" + clickid.Foreign(key),
			SubIDs:         []string{"sub-a", "", "sub-c"},
			PlayerID:       "player-" + key,
			AffiliateID:    affiliate,
			CampaignID:     "camp-1",
			TransactionID:  "tx-" + key,
			Amount:         money.New(15000, money.EUR),
			Status:         event.StatusPending,
			OccurredAt:     occurred,
			ReceivedAt:     occurred.Add(2 * time.Second),
			Decision:       store.Decision{Model: "last_click", Code: "in_window", Reason: "click within the 30-day window"},
		},
		Ledger: []store.LedgerLine{cpaLine(id, affiliate, "player-"+key, occurred.Add(2*time.Second))},
		Deliveries: []store.Delivery{{
			ID: uuid.New(), ConversionID: id, Endpoint: "affiliate-" + affiliate, Method: http.MethodGet,
			URL:    "https://tracker.example/postback?cid=" + key,
			Header: http.Header{"X-Test": {"1"}}, Status: store.DeliveryPending,
			NextAttemptAt: occurred.Add(2 * time.Second), CreatedAt: occurred.Add(2 * time.Second),
		}},
	}
}

// cpaLine returns a CPA accrual of 50.00 EUR for a first deposit of 150.00 EUR, payable
// after a week's hold, caused by conversion id.
func cpaLine(conversion uuid.UUID, affiliate, player string, at time.Time) store.LedgerLine {
	return store.LedgerLine{ID: uuid.New(), ConversionID: conversion, CreatedAt: at, Line: commission.Line{
		Kind: commission.KindAccrual, Rule: commission.RuleCPACountry, Plan: "default", AffiliateID: affiliate,
		PlayerID: player, EventID: "tx-" + player, At: at, Payable: at.Add(7 * 24 * time.Hour),
		Amount: money.New(5000, money.EUR), Base: money.New(15000, money.EUR), Mode: money.HalfUp,
		FX:     &money.ExchangeRate{From: money.USD, To: money.EUR, Rate: money.MustParseRate("0.9"), Source: "ECB", At: base},
		Detail: commission.Detail{Country: "DE"},
	}}
}

// reversalOf returns the line that reverses l at t.
func reversalOf(l store.LedgerLine, t time.Time) store.LedgerLine {
	r := l
	r.ID, r.CreatedAt = uuid.New(), t
	r.Kind, r.Reverses, r.EventID, r.At, r.Payable = commission.KindReversal, l.EventID, "chargeback-"+l.EventID, t, t
	r.Amount, r.Base = money.New(-l.Amount.Minor(), l.Amount.Currency()), money.New(-l.Base.Minor(), l.Base.Currency())
	return r
}

// carryLine returns a period line of affiliate that carries a balance of minor units of cur
// out of the month that starts at start.
func carryLine(affiliate string, minor int64, cur money.Currency, start time.Time) store.LedgerLine {
	end := start.AddDate(0, 1, 0)
	return store.LedgerLine{ID: uuid.New(), CreatedAt: end, Line: commission.Line{
		Kind: commission.KindCarryover, Rule: commission.RuleRevShare, Plan: "rs", AffiliateID: affiliate,
		At: end, Payable: end, Period: commission.Period{Start: start, End: end},
		Amount: money.New(0, cur), Base: money.New(minor, cur), Detail: commission.Detail{RevShare: &commission.RevShare{Carryover: commission.CarryForward}},
	}}
}

// adjustment returns an adjustment of minor units of cur for affiliate, written at t.
func adjustment(affiliate string, minor int64, cur money.Currency, t time.Time) store.LedgerLine {
	return store.LedgerLine{ID: uuid.New(), CreatedAt: t, Line: commission.Line{
		Kind: commission.KindAdjustment, Rule: commission.RuleAdjustment, AffiliateID: affiliate,
		At: t, Payable: t, Amount: money.New(minor, cur), Base: money.New(0, cur),
	}}
}

// requireSameLines checks that got are the lines want, as a store keeps them.
func requireSameLines(t *testing.T, want, got []store.LedgerLine, rule string, args ...any) {
	t.Helper()
	want = slices.Clone(want)
	for i := range want {
		want[i] = want[i].Normalize()
	}
	require.Equal(t, want, got, append([]any{"rule: " + rule}, args...)...)
	for i := range want {
		require.True(t, want[i].Equal(got[i]), append([]any{"rule: " + rule + " (by Equal)"}, args...)...)
		require.Equal(t, want[i].Explain(), got[i].Explain(), "rule: a line read back explains itself identically (its times in UTC)")
	}
}

// requireSameConversion compares a stored conversion with what was recorded.
func requireSameConversion(t *testing.T, want, got store.Conversion, rule string) {
	t.Helper()
	want = want.Normalize()
	got.History = nil
	want.History = nil
	require.Equal(t, want, got, "rule: "+rule)
}

func (s suite) clicks(t *testing.T) {
	t.Run("ByForeignID", s.clicksByForeign)
	t.Run("RoundTripNormalized", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		c := newClick(t)
		c.IP = netip.MustParseAddr("::ffff:203.0.113.7")
		require.NoError(t, st.InsertClick(ctx(t), c), "rule: a valid click is stored")
		got, err := st.GetClick(ctx(t), c.ID)
		require.NoError(t, err, "rule: a valid GetClick succeeds")
		want := c
		want.CreatedAt = at(0)
		want.IP = netip.MustParseAddr("203.0.113.7")
		require.Equal(t, want, got, "rule: a click reads back field for field, times in UTC at microsecond precision, the IP unmapped")
		require.Equal(t, time.UTC, got.CreatedAt.Location(), "rule: times are returned in UTC")
	})
	t.Run("TextKeptExactly", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		c := newClick(t)
		c.SubIDs = []string{`quote"d`, `back\slash`, "tab\tand\nnewline", "ünïcödé 🎰", "<&>", "[1,2]"}
		c.UserAgent = "ua with 'quotes' and \\ backslash"
		require.NoError(t, st.InsertClick(ctx(t), c), "rule: a valid InsertClick succeeds")
		got, err := st.GetClick(ctx(t), c.ID)
		require.NoError(t, err, "rule: a valid GetClick succeeds")
		require.Equal(t, c.SubIDs, got.SubIDs, "rule: text fields read back byte for byte")
		require.Equal(t, c.UserAgent, got.UserAgent, "rule: text fields read back byte for byte")
		require.ErrorIs(t, st.InsertClick(ctx(t), c), store.ErrDuplicate, "rule: the same click again is ErrDuplicate, whatever its text")
	})
	t.Run("EmptyOptionalFields", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		c := store.Click{ID: newClick(t).ID, AffiliateID: "a", SubIDs: []string{}, CreatedAt: base}
		require.NoError(t, st.InsertClick(ctx(t), c), "rule: a valid InsertClick succeeds")
		got, err := st.GetClick(ctx(t), c.ID)
		require.NoError(t, err, "rule: a valid GetClick succeeds")
		require.Nil(t, got.SubIDs, "rule: no sub IDs read back as nil")
		require.False(t, got.IP.IsValid(), "rule: no IP reads back as the zero netip.Addr")
	})
	t.Run("NotFound", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		_, err := st.GetClick(ctx(t), newClick(t).ID)
		require.ErrorIs(t, err, store.ErrNotFound, "rule: an unknown click is ErrNotFound")
	})
	t.Run("DuplicateAndConflict", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		c := newClick(t)
		require.NoError(t, st.InsertClick(ctx(t), c), "rule: a valid InsertClick succeeds")
		require.ErrorIs(t, st.InsertClick(ctx(t), c), store.ErrDuplicate, "rule: the same click again is ErrDuplicate")
		other := c
		other.AffiliateID = "aff-2"
		require.ErrorIs(t, st.InsertClick(ctx(t), other), store.ErrConflict, "rule: another click with the same ID is ErrConflict")
		got, err := st.GetClick(ctx(t), c.ID)
		require.NoError(t, err, "rule: a valid GetClick succeeds")
		require.Equal(t, "aff-1", got.AffiliateID, "rule: a refused click changes nothing")
	})
	t.Run("ReturnedCopyIsTheCallers", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		c := newClick(t)
		require.NoError(t, st.InsertClick(ctx(t), c), "rule: a valid InsertClick succeeds")
		c.SubIDs[0] = "changed by caller after insert"
		got, err := st.GetClick(ctx(t), c.ID)
		require.NoError(t, err, "rule: a valid GetClick succeeds")
		require.Equal(t, "sub-a", got.SubIDs[0], "rule: the store keeps its own copy of an inserted click")
		got.SubIDs[0] = "changed by caller after get"
		again, err := st.GetClick(ctx(t), c.ID)
		require.NoError(t, err, "rule: a valid GetClick succeeds")
		require.Equal(t, "sub-a", again.SubIDs[0], "rule: a returned click does not share slices with the store")
	})
	t.Run("InvalidRefused", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		for name, mutate := range map[string]func(*store.Click){
			"NoID":          func(c *store.Click) { c.ID = clickid.ID{} },
			"NoAffiliate":   func(c *store.Click) { c.AffiliateID = "" },
			"NoTime":        func(c *store.Click) { c.CreatedAt = time.Time{} },
			"LongAffiliate": func(c *store.Click) { c.AffiliateID = string(make([]byte, store.MaxKeyLen+1)) },
			"NULInText":     func(c *store.Click) { c.UserAgent = "a\x00b" },
			"BadUTF8":       func(c *store.Click) { c.Landing = "\xff" },
			"TooManySubIDs": func(c *store.Click) { c.SubIDs = make([]string, store.MaxSubIDs+1) },
			"BadForeignID":  func(c *store.Click) { c.ForeignClickID = "has space" },
		} {
			c := newClick(t)
			mutate(&c)
			require.ErrorIs(t, st.InsertClick(ctx(t), c), store.ErrInvalid, "rule: an invalid click (%s) is ErrInvalid", name)
			if !c.ID.IsZero() {
				_, err := st.GetClick(ctx(t), c.ID)
				require.ErrorIs(t, err, store.ErrNotFound, "rule: an invalid click (%s) writes nothing", name)
			}
		}
	})
	t.Run("BatchAllOrNothing", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		existing := newClick(t)
		require.NoError(t, st.InsertClick(ctx(t), existing), "rule: a valid InsertClick succeeds")
		batch := []store.Click{newClick(t), newClick(t), newClick(t)}
		require.NoError(t, st.InsertClicks(ctx(t), store.InsertClicksParams{Clicks: batch}), "rule: a valid batch is stored")
		for _, c := range batch {
			got, err := st.GetClick(ctx(t), c.ID)
			require.NoError(t, err, "rule: every click of a stored batch is readable")
			require.Equal(t, c.Normalize(), got, "rule: a batch's clicks read back field for field")
		}
		require.ErrorIs(t, st.InsertClicks(ctx(t), store.InsertClicksParams{Clicks: batch}), store.ErrDuplicate,
			"rule: a batch whose clicks all exist already, identical, is ErrDuplicate (a retry)")

		changed := existing
		changed.Landing = "https://elsewhere.example/"
		for _, tc := range []struct {
			name string
			bad  []store.Click
			want error
			rule string
		}{
			{"ExistingIdentical", []store.Click{newClick(t), existing, newClick(t)}, store.ErrDuplicate,
				"a batch with a click that exists already, identical, is ErrDuplicate"},
			{"ExistingChanged", []store.Click{newClick(t), changed, newClick(t)}, store.ErrConflict,
				"a batch with another click under an existing ID is ErrConflict"},
			{"IdenticalThenChanged", []store.Click{batch[0], newClick(t), changed}, store.ErrConflict,
				"a batch with both an identical and a changed existing click is ErrConflict"},
			{"ChangedThenIdentical", []store.Click{changed, newClick(t), batch[0]}, store.ErrConflict,
				"a batch with both a changed and an identical existing click is ErrConflict"},
			{"RepeatedID", func() []store.Click { c := newClick(t); return []store.Click{c, newClick(t), c} }(), store.ErrInvalid,
				"a batch that gives one ID twice is ErrInvalid"},
			{"InvalidClick", []store.Click{newClick(t), {AffiliateID: "no-id", CreatedAt: base}}, store.ErrInvalid,
				"a batch with an invalid click is ErrInvalid"},
			{"TooMany", func() []store.Click {
				cs := make([]store.Click, store.MaxClicks+1)
				for i := range cs {
					cs[i] = newClick(t)
				}
				return cs
			}(), store.ErrInvalid, "a batch of more than MaxClicks clicks is ErrInvalid"},
		} {
			err := st.InsertClicks(ctx(t), store.InsertClicksParams{Clicks: tc.bad})
			require.ErrorIs(t, err, tc.want, "rule: %s (%s)", tc.rule, tc.name)
			for _, c := range tc.bad {
				if c.ID == existing.ID || c.ID == batch[0].ID || c.ID.IsZero() {
					continue
				}
				_, err := st.GetClick(ctx(t), c.ID)
				require.ErrorIs(t, err, store.ErrNotFound, "rule: a refused batch (%s) stores none of its clicks", tc.name)
			}
		}
		got, err := st.GetClick(ctx(t), existing.ID)
		require.NoError(t, err, "rule: a valid GetClick succeeds")
		require.Equal(t, existing.Normalize(), got, "rule: a refused batch changes no stored click")
		require.NoError(t, st.InsertClicks(ctx(t), store.InsertClicksParams{}), "rule: an empty batch is a no-op")
	})
}

func (s suite) bindings(t *testing.T) {
	newBinding := func(player, affiliate string) store.PlayerBinding {
		return store.PlayerBinding{PlayerID: player, AffiliateID: affiliate, CampaignID: "c", Method: store.BindByClick, BoundAt: base}
	}
	t.Run("FirstWins", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		b := newBinding("p1", "aff-1")
		got, err := st.BindPlayer(ctx(t), b)
		require.NoError(t, err, "rule: a valid BindPlayer succeeds")
		require.Equal(t, at(0), got.BoundAt, "rule: the binding is returned as stored")

		old, err := st.BindPlayer(ctx(t), b)
		require.ErrorIs(t, err, store.ErrDuplicate, "rule: the same binding again is ErrDuplicate")
		require.Equal(t, got, old, "rule: a duplicate binding returns the stored one")

		other := newBinding("p1", "aff-2")
		old, err = st.BindPlayer(ctx(t), other)
		require.ErrorIs(t, err, store.ErrConflict, "rule: binding a bound player elsewhere is ErrConflict")
		require.Equal(t, "aff-1", old.AffiliateID, "rule: a conflicting binding returns the stored one")

		stored, err := st.GetBinding(ctx(t), "p1")
		require.NoError(t, err, "rule: a valid GetBinding succeeds")
		require.Equal(t, got, stored, "rule: the first binding is kept")
	})
	t.Run("NotFoundAndInvalid", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		_, err := st.GetBinding(ctx(t), "nobody")
		require.ErrorIs(t, err, store.ErrNotFound, "rule: an unbound player is ErrNotFound")
		bad := newBinding("", "aff")
		_, err = st.BindPlayer(ctx(t), bad)
		require.ErrorIs(t, err, store.ErrInvalid, "rule: a binding without a player is ErrInvalid")
		bad = newBinding("p", "aff")
		bad.Method = "guess"
		_, err = st.BindPlayer(ctx(t), bad)
		require.ErrorIs(t, err, store.ErrInvalid, "rule: an unknown binding method is ErrInvalid")
	})
}

func (s suite) conversions(t *testing.T) {
	t.Run("ByTransaction", s.conversionsByTransaction)
	t.Run("LastActivity", s.lastActivity)
	t.Run("WithBinding", s.recordedBinding)
	t.Run("RoundTripWithLedgerAndDeliveries", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		p := conversionFor("k1", "aff-1", base)
		got, err := st.RecordConversion(ctx(t), p)
		require.NoError(t, err, "rule: a valid RecordConversion succeeds")
		requireSameConversion(t, p.Conversion, got, "RecordConversion returns the conversion as stored")
		require.Equal(t, []store.StatusChange{{Status: event.StatusPending, At: at(2 * time.Second)}}, got.History,
			"rule: the history starts with the recorded status at the received time")

		byID, err := st.GetConversion(ctx(t), p.Conversion.ID)
		require.NoError(t, err, "rule: a valid GetConversion succeeds")
		require.Equal(t, got, byID, "rule: GetConversion returns what RecordConversion stored")
		byKey, err := st.GetConversionByKey(ctx(t), "k1")
		require.NoError(t, err, "rule: a valid GetConversionByKey succeeds")
		require.Equal(t, got, byKey, "rule: GetConversionByKey returns the same conversion")

		p.Conversion.SubIDs[0] = "changed by caller after record"
		byKey.SubIDs[2] = "changed by caller after get"
		again, err := st.GetConversion(ctx(t), p.Conversion.ID)
		require.NoError(t, err, "rule: a valid GetConversion succeeds")
		require.Equal(t, []string{"sub-a", "", "sub-c"}, again.SubIDs, "rule: a conversion's sub IDs are not shared between the store and its callers")

		lines, err := st.ListLedgerLines(ctx(t), store.ListLedgerLinesParams{AffiliateID: "aff-1", From: base.Add(-time.Hour), To: base.Add(time.Hour)})
		require.NoError(t, err, "rule: a valid ListLedgerLines succeeds")
		requireSameLines(t, p.Ledger, lines, "the conversion's ledger lines are stored with it, every field of their commission line included")

		d, err := st.GetDelivery(ctx(t), p.Deliveries[0].ID)
		require.NoError(t, err, "rule: a valid GetDelivery succeeds")
		require.Equal(t, p.Deliveries[0].Normalize(), d, "rule: the conversion's deliveries are stored with it")
	})
	t.Run("NoAmount", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		p := conversionFor("reg", "aff-1", base)
		p.Conversion.Event = event.Registration
		p.Conversion.Amount = money.Amount{}
		p.Conversion.SubIDs = []string{}
		p.Conversion.ForeignClickID = ""
		p.Conversion.ClickID = newClick(t).ID
		got, err := st.RecordConversion(ctx(t), p)
		require.NoError(t, err, "rule: a valid RecordConversion succeeds")
		require.Equal(t, money.Amount{}, got.Amount, "rule: a conversion without an amount reads back without one")
		require.Nil(t, got.SubIDs, "rule: a conversion without sub IDs reads back with nil SubIDs")
		stored, err := st.GetConversion(ctx(t), p.Conversion.ID)
		require.NoError(t, err, "rule: a valid GetConversion succeeds")
		require.Nil(t, stored.SubIDs, "rule: a conversion without sub IDs reads back with nil SubIDs")
		require.Empty(t, stored.ForeignClickID, "rule: a conversion without a foreign click ID reads back without one")
		require.Equal(t, p.Conversion.ClickID, got.ClickID, "rule: a conversion keeps its click ID")
	})
	t.Run("DuplicateReturnsOriginal", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		first := conversionFor("k1", "aff-1", base)
		stored, err := st.RecordConversion(ctx(t), first)
		require.NoError(t, err, "rule: a valid RecordConversion succeeds")

		retry := conversionFor("k1", "aff-1", base) // new IDs, same content
		retry.Conversion.PlayerID = first.Conversion.PlayerID
		retry.Conversion.ReceivedAt = base.Add(time.Minute)
		retry.Conversion.Decision = store.Decision{Model: "first_click", Code: "cap_reached", Reason: "decided otherwise"}
		got, err := st.RecordConversion(ctx(t), retry)
		require.ErrorIs(t, err, store.ErrDuplicate, "rule: same dedup key and same content is ErrDuplicate, however it was attributed (Decision) and received")
		require.Equal(t, stored, got, "rule: a duplicate returns the stored original")
		_, err = st.GetConversion(ctx(t), retry.Conversion.ID)
		require.ErrorIs(t, err, store.ErrNotFound, "rule: a duplicate writes no conversion")
		_, err = st.GetDelivery(ctx(t), retry.Deliveries[0].ID)
		require.ErrorIs(t, err, store.ErrNotFound, "rule: a duplicate writes no delivery")
	})
	t.Run("NoEventTime", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		// A sender that gives no event time: the conversion keeps OccurredAt zero, as sent.
		first := conversionFor("no-time", "aff-1", base)
		first.Conversion.OccurredAt = time.Time{}
		stored, err := st.RecordConversion(ctx(t), first)
		require.NoError(t, err, "rule: a conversion without an event time (zero OccurredAt) is valid")
		require.True(t, stored.OccurredAt.IsZero(), "rule: a conversion without an event time reads back without one")
		require.Equal(t, at(2*time.Second), stored.EventTime(), "rule: a conversion without an event time is placed at its ReceivedAt")
		got, err := st.GetConversion(ctx(t), first.Conversion.ID)
		require.NoError(t, err, "rule: a valid GetConversion succeeds")
		require.Equal(t, stored, got, "rule: GetConversion returns what RecordConversion stored, OccurredAt zero")

		// The sender's retry, received 30 seconds later, says the same: a duplicate.
		retry := conversionFor("no-time", "aff-1", base)
		retry.Conversion.PlayerID = first.Conversion.PlayerID
		retry.Conversion.OccurredAt = time.Time{}
		retry.Conversion.ReceivedAt = first.Conversion.ReceivedAt.Add(30 * time.Second)
		dup, err := st.RecordConversion(ctx(t), retry)
		require.ErrorIs(t, err, store.ErrDuplicate, "rule: a retry without an event time, received later, is ErrDuplicate")
		require.Equal(t, stored, dup, "rule: a duplicate returns the stored original, received at the first arrival")

		// A record of the key that now gives an event time says something else: a conflict.
		timed := conversionFor("no-time", "aff-1", base)
		timed.Conversion.PlayerID = first.Conversion.PlayerID
		timed.Conversion.OccurredAt = first.Conversion.ReceivedAt
		_, err = st.RecordConversion(ctx(t), timed)
		require.ErrorIs(t, err, store.ErrConflict, "rule: a set OccurredAt differs from a zero one, even if equal to the ReceivedAt")

		listed, err := st.ListConversions(ctx(t), store.ListConversionsParams{AffiliateID: "aff-1", From: at(2 * time.Second), To: at(3 * time.Second)})
		require.NoError(t, err, "rule: a valid ListConversions succeeds")
		require.Equal(t, []store.Conversion{stored}, listed, "rule: a conversion without an event time is listed at its ReceivedAt")
		none, err := st.ListConversions(ctx(t), store.ListConversionsParams{AffiliateID: "aff-1", From: base.Add(-time.Hour), To: base})
		require.NoError(t, err, "rule: a valid ListConversions succeeds")
		require.Empty(t, none, "rule: a conversion without an event time is listed at its ReceivedAt, nowhere else")
	})
	t.Run("ConflictReturnsOriginal", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		first := conversionFor("k1", "aff-1", base)
		stored, err := st.RecordConversion(ctx(t), first)
		require.NoError(t, err, "rule: a valid RecordConversion succeeds")
		for name, mutate := range map[string]func(*store.Conversion){
			"Amount":       func(c *store.Conversion) { c.Amount = money.New(15001, money.EUR) },
			"Currency":     func(c *store.Conversion) { c.Amount = money.New(15000, money.USD) },
			"Event":        func(c *store.Conversion) { c.Event = event.Deposit },
			"Transaction":  func(c *store.Conversion) { c.TransactionID = "other" },
			"ForeignClick": func(c *store.Conversion) { c.ForeignClickID = "other-click" },
			"SubID":        func(c *store.Conversion) { c.SubIDs = []string{"sub-a", "", "sub-X"} },
			"SubIDCount":   func(c *store.Conversion) { c.SubIDs = []string{"sub-a", "", "sub-c", ""} },
			"NoSubIDs":     func(c *store.Conversion) { c.SubIDs = nil },
			"OccurredAt":   func(c *store.Conversion) { c.OccurredAt = c.OccurredAt.Add(time.Microsecond) },
			"NoOccurredAt": func(c *store.Conversion) { c.OccurredAt = time.Time{} },
		} {
			p := conversionFor("k1", "aff-1", base)
			p.Conversion.PlayerID = first.Conversion.PlayerID
			mutate(&p.Conversion)
			got, err := st.RecordConversion(ctx(t), p)
			require.ErrorIs(t, err, store.ErrConflict, "rule: same dedup key with a different %s is ErrConflict", name)
			require.Equal(t, stored, got, "rule: a conflict returns the stored original (%s)", name)
		}
	})
	t.Run("SubMicrosecondDifferenceIsDuplicate", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		first := conversionFor("k1", "aff-1", base)
		_, err := st.RecordConversion(ctx(t), first)
		require.NoError(t, err, "rule: a valid RecordConversion succeeds")
		retry := conversionFor("k1", "aff-1", base.Add(time.Nanosecond))
		retry.Conversion.PlayerID = first.Conversion.PlayerID
		_, err = st.RecordConversion(ctx(t), retry)
		require.ErrorIs(t, err, store.ErrDuplicate, "rule: content is compared at the store's microsecond precision")
	})
	t.Run("InvalidRefusedBeforeWriting", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		for name, mutate := range map[string]func(*store.RecordConversionParams){
			"NoID":          func(p *store.RecordConversionParams) { p.Conversion.ID = uuid.Nil },
			"NoDedupKey":    func(p *store.RecordConversionParams) { p.Conversion.DedupKey = "" },
			"NoEvent":       func(p *store.RecordConversionParams) { p.Conversion.Event = "" },
			"TooManySubIDs": func(p *store.RecordConversionParams) { p.Conversion.SubIDs = make([]string, store.MaxSubIDs+1) },
			"NULInSubID":    func(p *store.RecordConversionParams) { p.Conversion.SubIDs = []string{"a\x00b"} },
			"LongSubID": func(p *store.RecordConversionParams) {
				p.Conversion.SubIDs = []string{strings.Repeat("s", store.MaxSubIDLen+1)}
			},
			"BadForeignClickID":       func(p *store.RecordConversionParams) { p.Conversion.ForeignClickID = "has space" },
			"ControlCharInEvent":      func(p *store.RecordConversionParams) { p.Conversion.Event = "ftd\n" },
			"NegativeAmount":          func(p *store.RecordConversionParams) { p.Conversion.Amount = money.New(-1, money.EUR) },
			"AmountWithoutCurrency":   func(p *store.RecordConversionParams) { p.Conversion.Amount = money.New(100, 0) },
			"UnknownStatus":           func(p *store.RecordConversionParams) { p.Conversion.Status = "maybe" },
			"NoReceivedAt":            func(p *store.RecordConversionParams) { p.Conversion.ReceivedAt = time.Time{} },
			"LedgerOfOtherConv":       func(p *store.RecordConversionParams) { p.Ledger[0].ConversionID = uuid.New() },
			"NegativeAccrual":         func(p *store.RecordConversionParams) { p.Ledger[0].Amount = money.New(-1, money.EUR) },
			"PositiveReversal":        func(p *store.RecordConversionParams) { p.Ledger[0].Kind = commission.KindReversal },
			"LedgerWithoutCurrency":   func(p *store.RecordConversionParams) { p.Ledger[0].Amount = money.New(1, 0) },
			"LedgerWithoutAffiliate":  func(p *store.RecordConversionParams) { p.Ledger[0].AffiliateID = "" },
			"LedgerWithoutBase":       func(p *store.RecordConversionParams) { p.Ledger[0].Base = money.Amount{} },
			"LedgerBaseInOtherCur":    func(p *store.RecordConversionParams) { p.Ledger[0].Base = money.New(15000, money.USD) },
			"DeliveryNotPending":      func(p *store.RecordConversionParams) { p.Deliveries[0].Status = store.DeliveryDelivered },
			"DeliveryBadMethod":       func(p *store.RecordConversionParams) { p.Deliveries[0].Method = "PUT" },
			"DeliveryNoURL":           func(p *store.RecordConversionParams) { p.Deliveries[0].URL = "" },
			"DeliveryOfOtherConv":     func(p *store.RecordConversionParams) { p.Deliveries[0].ConversionID = uuid.New() },
			"DeliveryReplayed":        func(p *store.RecordConversionParams) { p.Deliveries[0].ReplayedAt = base },
			"SameIDTwice":             func(p *store.RecordConversionParams) { p.Deliveries[0].ID = p.Ledger[0].ID },
			"DecisionModelNewline":    func(p *store.RecordConversionParams) { p.Conversion.Decision.Model = "last\nclick" },
			"DecisionCodeControlChar": func(p *store.RecordConversionParams) { p.Conversion.Decision.Code = "cap\x7freached" },
			"DecisionCodeTooLong": func(p *store.RecordConversionParams) {
				p.Conversion.Decision.Code = strings.Repeat("c", store.MaxKeyLen+1)
			},
			"DecisionReasonNUL": func(p *store.RecordConversionParams) { p.Conversion.Decision.Reason = "a\x00b" },
			"IncrementNoCounter": func(p *store.RecordConversionParams) {
				p.Increments = []store.Increment{{Delta: 1}}
			},
			"IncrementZeroDelta": func(p *store.RecordConversionParams) {
				p.Increments = []store.Increment{{Counter: "c", Delta: 0}}
			},
			"IncrementNegativeDelta": func(p *store.RecordConversionParams) {
				p.Increments = []store.Increment{{Counter: "c", Delta: -1}}
			},
			"IncrementNegativeLimit": func(p *store.RecordConversionParams) {
				p.Increments = []store.Increment{{Counter: "c", Delta: 1, Limit: -1}}
			},
			"IncrementLongCounter": func(p *store.RecordConversionParams) {
				p.Increments = []store.Increment{{Counter: strings.Repeat("c", store.MaxCounterLen+1), Delta: 1}}
			},
			"IncrementCounterNewline": func(p *store.RecordConversionParams) {
				p.Increments = []store.Increment{{Counter: "c\n", Delta: 1}}
			},
			"IncrementCounterBadUTF8": func(p *store.RecordConversionParams) {
				p.Increments = []store.Increment{{Counter: "c\xff", Delta: 1}}
			},
			"IncrementCounterTwice": func(p *store.RecordConversionParams) {
				p.Increments = []store.Increment{{Counter: "c", Delta: 1}, {Counter: "d", Delta: 1}, {Counter: "c", Delta: 2}}
			},
			"TooManyIncrements": func(p *store.RecordConversionParams) {
				for i := range store.MaxLines + 1 {
					p.Increments = append(p.Increments, store.Increment{Counter: fmt.Sprint("c", i), Delta: 1})
				}
			},
			"MismatchedCurrencies": func(p *store.RecordConversionParams) {
				extra := p.Ledger[0]
				extra.ID, extra.Amount = uuid.New(), money.New(100, money.USD)
				p.Ledger = append(p.Ledger, extra)
			},
		} {
			p := conversionFor("bad-"+name, "aff-1", base)
			p.Increments = []store.Increment{{Counter: "bad", Delta: 1}}
			mutate(&p)
			_, err := st.RecordConversion(ctx(t), p)
			require.ErrorIs(t, err, store.ErrInvalid, "rule: invalid parameters (%s) are ErrInvalid", name)
			_, err = st.GetConversionByKey(ctx(t), "bad-"+name)
			require.ErrorIs(t, err, store.ErrNotFound, "rule: invalid parameters (%s) write nothing", name)
			n, err := st.GetCounter(ctx(t), "bad")
			require.NoError(t, err, "rule: a valid GetCounter succeeds")
			require.Zero(t, n, "rule: invalid parameters (%s) increment nothing", name)
		}
	})
	t.Run("FailureMidRecordLeavesNothing", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		first := conversionFor("k1", "aff-1", base)
		_, err := st.RecordConversion(ctx(t), first)
		require.NoError(t, err, "rule: a valid RecordConversion succeeds")

		// The second conversion reuses the first one's delivery ID: its conversion row can be
		// written, then its delivery cannot. Nothing of it may remain.
		p := conversionFor("k2", "aff-1", base)
		p.Deliveries = append(p.Deliveries, p.Deliveries[0])
		p.Deliveries[1].ID = first.Deliveries[0].ID
		_, err = st.RecordConversion(ctx(t), p)
		require.ErrorIs(t, err, store.ErrConflict, "rule: a record with a delivery ID that exists already is ErrConflict")
		_, err = st.GetConversionByKey(ctx(t), "k2")
		require.ErrorIs(t, err, store.ErrNotFound, "rule: a failed record leaves no conversion behind")
		_, err = st.GetDelivery(ctx(t), p.Deliveries[0].ID)
		require.ErrorIs(t, err, store.ErrNotFound, "rule: a failed record leaves no delivery behind")
		lines, err := st.ListLedgerLines(ctx(t), store.ListLedgerLinesParams{AffiliateID: "aff-1", From: base.Add(-time.Hour), To: base.Add(time.Hour)})
		require.NoError(t, err, "rule: a valid ListLedgerLines succeeds")
		require.Len(t, lines, 1, "rule: a failed record leaves no ledger line behind")

		_, err = st.RecordConversion(ctx(t), conversionFor("k2", "aff-1", base))
		require.NoError(t, err, "rule: after a failed record, the dedup key is free")
	})
	t.Run("TakenIDsAreConflicts", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		first := conversionFor("k1", "aff-1", base)
		_, err := st.RecordConversion(ctx(t), first)
		require.NoError(t, err, "rule: a valid RecordConversion succeeds")

		sameID := conversionFor("k2", "aff-1", base)
		sameID.Conversion.ID = first.Conversion.ID
		sameID.Ledger[0].ConversionID, sameID.Deliveries[0].ConversionID = first.Conversion.ID, first.Conversion.ID
		_, err = st.RecordConversion(ctx(t), sameID)
		require.ErrorIs(t, err, store.ErrConflict, "rule: a conversion ID taken under another dedup key is ErrConflict")
		takenLine := conversionFor("k3", "aff-1", base)
		takenLine.Ledger[0].ID = first.Ledger[0].ID
		_, err = st.RecordConversion(ctx(t), takenLine)
		require.ErrorIs(t, err, store.ErrConflict, "rule: a record with a ledger line ID that exists already is ErrConflict")
		for _, key := range []string{"k2", "k3"} {
			_, err = st.GetConversionByKey(ctx(t), key)
			require.ErrorIs(t, err, store.ErrNotFound, "rule: a record refused for a taken ID writes nothing (%s)", key)
		}

		change := store.ChangeStatusParams{ConversionID: first.Conversion.ID, From: event.StatusPending, To: event.StatusReversed, At: base.Add(time.Hour),
			Ledger: []store.LedgerLine{reversalOf(first.Ledger[0], base.Add(time.Hour))}}
		change.Ledger[0].ID = first.Ledger[0].ID
		_, err = st.ChangeStatus(ctx(t), change)
		require.ErrorIs(t, err, store.ErrConflict, "rule: a status change with a ledger line ID that exists already is ErrConflict")
		change.Ledger[0].ID = uuid.New()
		change.Deliveries = []store.Delivery{newDelivery(first.Conversion.ID, base)}
		change.Deliveries[0].ID = first.Deliveries[0].ID
		_, err = st.ChangeStatus(ctx(t), change)
		require.ErrorIs(t, err, store.ErrConflict, "rule: a status change with a delivery ID that exists already is ErrConflict")
		c, err := st.GetConversion(ctx(t), first.Conversion.ID)
		require.NoError(t, err, "rule: a valid GetConversion succeeds")
		require.Equal(t, event.StatusPending, c.Status, "rule: a refused status change changes no status")
		require.Len(t, c.History, 1, "rule: a refused status change appends no history")
		lines, err := st.ListLedgerLines(ctx(t), store.ListLedgerLinesParams{AffiliateID: "aff-1", From: base, To: base.Add(2 * time.Hour)})
		require.NoError(t, err, "rule: a valid ListLedgerLines succeeds")
		require.Len(t, lines, 1, "rule: a refused status change writes no ledger line")

		_, err = st.RecordAttempt(ctx(t), store.RecordAttemptParams{DeliveryID: uuid.New(), Token: 1, Attempt: attempt(base, 200), Status: store.DeliveryDelivered})
		require.ErrorIs(t, err, store.ErrNotFound, "rule: an attempt on an unknown delivery is ErrNotFound")
	})
	t.Run("ChangeStatus", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		p := conversionFor("k1", "aff-1", base)
		_, err := st.RecordConversion(ctx(t), p)
		require.NoError(t, err, "rule: a valid RecordConversion succeeds")

		approved, err := st.ChangeStatus(ctx(t), store.ChangeStatusParams{
			ConversionID: p.Conversion.ID, From: event.StatusPending, To: event.StatusApproved,
			Reason: "hold period over", At: base.Add(time.Hour),
		})
		require.NoError(t, err, "rule: a valid ChangeStatus succeeds")
		require.Equal(t, event.StatusApproved, approved.Status, "rule: ChangeStatus sets the status")

		reversal := reversalOf(p.Ledger[0], base.Add(2*time.Hour))
		stale := store.ChangeStatusParams{
			ConversionID: p.Conversion.ID, From: event.StatusPending, To: event.StatusReversed,
			Reason: "chargeback", At: base.Add(2 * time.Hour), Ledger: []store.LedgerLine{reversal},
		}
		got, err := st.ChangeStatus(ctx(t), stale)
		require.ErrorIs(t, err, store.ErrConflict, "rule: a change from a status the conversion no longer has is ErrConflict")
		require.Equal(t, event.StatusApproved, got.Status, "rule: a refused change returns the stored conversion")

		stale.From = event.StatusApproved
		reversed, err := st.ChangeStatus(ctx(t), stale)
		require.NoError(t, err, "rule: a valid ChangeStatus succeeds")
		require.Equal(t, []store.StatusChange{
			{Status: event.StatusPending, At: at(2 * time.Second)},
			{Status: event.StatusApproved, Reason: "hold period over", At: at(time.Hour)},
			{Status: event.StatusReversed, Reason: "chargeback", At: at(2 * time.Hour)},
		}, reversed.History, "rule: status changes are appended to the history, never edits")

		lines, err := st.ListLedgerLines(ctx(t), store.ListLedgerLinesParams{AffiliateID: "aff-1", From: base.Add(-time.Hour), To: base.Add(3 * time.Hour)})
		require.NoError(t, err, "rule: a valid ListLedgerLines succeeds")
		require.Len(t, lines, 2, "rule: a status change writes its ledger lines")
		sum := int64(0)
		for _, l := range lines {
			sum += l.Amount.Minor()
		}
		require.Zero(t, sum, "rule: an accrual and its reversal net to zero")

		_, err = st.ChangeStatus(ctx(t), store.ChangeStatusParams{ConversionID: uuid.New(), From: event.StatusPending, To: event.StatusApproved, At: base})
		require.ErrorIs(t, err, store.ErrNotFound, "rule: a change to an unknown conversion is ErrNotFound")
	})
	t.Run("ListOrderAndRange", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		for i := range 7 {
			// Out of order, two at the same instant, one at each range boundary.
			offsets := []time.Duration{3, 1, 1, 0, 5, 6, -1}
			p := conversionFor(fmt.Sprintf("k%d", i), "aff-1", base.Add(offsets[i]*time.Minute))
			_, err := st.RecordConversion(ctx(t), p)
			require.NoError(t, err, "rule: a valid RecordConversion succeeds")
		}
		_, err := st.RecordConversion(ctx(t), conversionFor("other", "aff-2", base.Add(2*time.Minute)))
		require.NoError(t, err, "rule: a valid RecordConversion succeeds")

		from, to := base, base.Add(6*time.Minute)
		all, err := st.ListConversions(ctx(t), store.ListConversionsParams{AffiliateID: "aff-1", From: from, To: to})
		require.NoError(t, err, "rule: a valid ListConversions succeeds")
		require.Len(t, all, 5, "rule: the range is [From, To): the conversion at To and the one before From are excluded, other affiliates too")
		for i := 1; i < len(all); i++ {
			prev, cur := all[i-1], all[i]
			ordered := prev.EventTime().Before(cur.EventTime()) ||
				(prev.EventTime().Equal(cur.EventTime()) && string(prev.ID[:]) < string(cur.ID[:]))
			require.True(t, ordered, "rule: conversions are ordered by event time, then ID")
		}

		_, err = st.ListConversions(ctx(t), store.ListConversionsParams{AffiliateID: "aff-1", From: to, To: from})
		require.ErrorIs(t, err, store.ErrInvalid, "rule: an empty or reversed range is ErrInvalid")
	})
}

func (s suite) ledger(t *testing.T) {
	lines := func(ls ...store.LedgerLine) store.InsertLedgerLinesParams {
		return store.InsertLedgerLinesParams{Lines: ls}
	}
	t.Run("ListConversionLines", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		p := conversionFor("k1", "aff-1", base)
		second := cpaLine(p.Conversion.ID, "aff-1", "player-k1", base) // created before the first line
		p.Ledger = append(p.Ledger, second)
		_, err := st.RecordConversion(ctx(t), p)
		require.NoError(t, err, "rule: a valid RecordConversion succeeds")
		other := conversionFor("k2", "aff-1", base)
		_, err = st.RecordConversion(ctx(t), other)
		require.NoError(t, err, "rule: a valid RecordConversion succeeds")

		reversal := reversalOf(p.Ledger[0], base.Add(time.Hour))
		_, err = st.ChangeStatus(ctx(t), store.ChangeStatusParams{ConversionID: p.Conversion.ID, From: event.StatusPending,
			To: event.StatusRejected, At: base.Add(time.Hour), Ledger: []store.LedgerLine{reversal}})
		require.NoError(t, err, "rule: a valid ChangeStatus succeeds")
		adj := adjustment("aff-1", -100, money.EUR, base.Add(2*time.Hour))
		adj.ConversionID = p.Conversion.ID
		require.NoError(t, st.InsertLedgerLines(ctx(t), lines(adj)), "rule: a line of a recorded conversion is stored")

		got, err := st.ListConversionLines(ctx(t), store.ListConversionLinesParams{ConversionID: p.Conversion.ID})
		require.NoError(t, err, "rule: a valid ListConversionLines succeeds")
		requireSameLines(t, []store.LedgerLine{second, p.Ledger[0], reversal, adj}, got,
			"ListConversionLines returns the conversion's lines, whichever call wrote them, by CreatedAt, and no other conversion's")

		page, err := st.ListConversionLines(ctx(t), store.ListConversionLinesParams{ConversionID: p.Conversion.ID, Limit: 2})
		require.NoError(t, err, "rule: a valid ListConversionLines succeeds")
		requireSameLines(t, []store.LedgerLine{second, p.Ledger[0]}, page, "a page holds at most Limit lines, in order")
		last := page[len(page)-1]
		rest, err := st.ListConversionLines(ctx(t), store.ListConversionLinesParams{ConversionID: p.Conversion.ID,
			After: store.Cursor{At: last.CreatedAt, ID: last.ID}})
		require.NoError(t, err, "rule: a valid ListConversionLines succeeds")
		requireSameLines(t, []store.LedgerLine{reversal, adj}, rest, "the next page starts after the cursor")

		none, err := st.ListConversionLines(ctx(t), store.ListConversionLinesParams{ConversionID: uuid.New()})
		require.NoError(t, err, "rule: a conversion not recorded has no lines, and that is not an error")
		require.Empty(t, none, "rule: a conversion not recorded has no lines")

		_, err = st.ListConversionLines(ctx(t), store.ListConversionLinesParams{})
		require.ErrorIs(t, err, store.ErrInvalid, "rule: the zero conversion ID is ErrInvalid")
		_, err = st.ListConversionLines(ctx(t), store.ListConversionLinesParams{ConversionID: p.Conversion.ID, Limit: -1})
		require.ErrorIs(t, err, store.ErrInvalid, "rule: a negative limit is ErrInvalid")
	})
	t.Run("PeriodLines", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		carry := carryLine("aff-1", -12345, money.KWD, base)
		require.NoError(t, st.InsertLedgerLines(ctx(t), lines(carry)), "rule: a valid period line is stored")
		require.ErrorIs(t, st.InsertLedgerLines(ctx(t), lines(carry)), store.ErrDuplicate,
			"rule: the same line again is ErrDuplicate")
		changed := carry
		changed.Base = money.New(-1, money.KWD)
		fresh := func() store.LedgerLine { return adjustment("aff-1", 5, money.KWD, base) }
		other := fresh()
		require.NoError(t, st.InsertLedgerLines(ctx(t), lines(other)), "rule: a valid InsertLedgerLines succeeds")
		otherChanged := other
		otherChanged.Amount = money.New(6, money.KWD)
		recorded := conversionFor("k1", "aff-1", base)
		_, err := st.RecordConversion(ctx(t), recorded)
		require.NoError(t, err, "rule: a valid RecordConversion succeeds")
		ofUnknown, ofRecorded := fresh(), fresh()
		ofUnknown.ConversionID, ofRecorded.ConversionID = uuid.New(), recorded.Conversion.ID
		repeated := fresh()
		tooMany := make([]store.LedgerLine, store.MaxLines+1)
		for i := range tooMany {
			tooMany[i] = fresh()
		}
		for _, tc := range []struct {
			name string
			p    store.InsertLedgerLinesParams
			want error
			rule string
		}{
			{"Changed", lines(fresh(), changed), store.ErrConflict, "another line with an existing ID is ErrConflict"},
			{"IdenticalThenChanged", lines(carry, fresh(), otherChanged), store.ErrConflict, "a call with an identical and a changed existing line is ErrConflict"},
			{"ExistingIdentical", lines(fresh(), carry), store.ErrDuplicate, "a call with a line that exists already, identical, is ErrDuplicate"},
			{"RepeatedID", lines(repeated, fresh(), repeated), store.ErrInvalid, "a call that gives one line ID twice is ErrInvalid"},
			{"UnknownConversion", lines(fresh(), ofUnknown), store.ErrInvalid, "a line whose conversion was never recorded is ErrInvalid"},
			{"InvalidLine", lines(fresh(), adjustment("", 1, money.KWD, base)), store.ErrInvalid, "a call with an invalid line is ErrInvalid"},
			{"TooMany", lines(tooMany...), store.ErrInvalid, "a call of more than MaxLines lines is ErrInvalid"},
		} {
			require.ErrorIs(t, st.InsertLedgerLines(ctx(t), tc.p), tc.want, "rule: %s (%s)", tc.rule, tc.name)
		}
		require.NoError(t, st.InsertLedgerLines(ctx(t), lines(ofRecorded)), "rule: a line may name a recorded conversion")
		require.NoError(t, st.InsertLedgerLines(ctx(t), lines()), "rule: an empty call is a no-op")

		got, err := st.ListLedgerLines(ctx(t), store.ListLedgerLinesParams{AffiliateID: "aff-1", From: base, To: base.AddDate(0, 1, 1)})
		require.NoError(t, err, "rule: a valid ListLedgerLines succeeds")
		got = slices.DeleteFunc(got, func(l store.LedgerLine) bool { return l.ID == recorded.Ledger[0].ID })
		require.ElementsMatch(t, []store.LedgerLine{carry.Normalize(), other.Normalize(), ofRecorded.Normalize()}, got, "rule: a refused call writes none of its lines")
		for _, l := range got {
			if l.ID == carry.ID {
				require.True(t, l.Amount.IsZero(), "rule: a carryover line keeps a zero amount")
				require.Equal(t, money.New(-12345, money.KWD), l.Base, "rule: a carryover line keeps its balance in Base, in minor units and currency")
			}
		}
	})
	t.Run("InvalidRefused", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		for name, bad := range map[string]func() store.LedgerLine{
			"NoID":        func() store.LedgerLine { l := adjustment("aff-1", 1, money.EUR, base); l.ID = uuid.Nil; return l },
			"NoAffiliate": func() store.LedgerLine { return adjustment("", 1, money.EUR, base) },
			"NoCurrency":  func() store.LedgerLine { return adjustment("aff-1", 1, 0, base) },
			"NoCreatedAt": func() store.LedgerLine {
				l := adjustment("aff-1", 1, money.EUR, base)
				l.CreatedAt = time.Time{}
				return l
			},
			"NoAt": func() store.LedgerLine { l := adjustment("aff-1", 1, money.EUR, base); l.At = time.Time{}; return l },
			"NoPayable": func() store.LedgerLine {
				l := adjustment("aff-1", 1, money.EUR, base)
				l.Payable = time.Time{}
				return l
			},
			"PayableBeforeAt": func() store.LedgerLine {
				l := cpaLine(uuid.Nil, "aff-1", "p", base)
				l.Payable = base.Add(-time.Second)
				return l
			},
			"UnknownKind": func() store.LedgerLine { l := adjustment("aff-1", 1, money.EUR, base); l.Kind = 0; return l },
			"UnknownRule": func() store.LedgerLine { l := adjustment("aff-1", 1, money.EUR, base); l.Rule = 200; return l },
			"UnknownMode": func() store.LedgerLine { l := adjustment("aff-1", 1, money.EUR, base); l.Mode = 200; return l },
			"NegativeAccrual": func() store.LedgerLine {
				l := cpaLine(uuid.Nil, "aff-1", "p", base)
				l.Amount = money.New(-1, money.EUR)
				return l
			},
			"PositiveReversal": func() store.LedgerLine {
				l := reversalOf(cpaLine(uuid.Nil, "aff-1", "p", base), base)
				l.Amount = money.New(1, money.EUR)
				return l
			},
			"PositiveClawback": func() store.LedgerLine {
				l := cpaLine(uuid.Nil, "aff-1", "p", base)
				l.Kind = commission.KindClawback
				return l
			},
			"CarryoverAmount": func() store.LedgerLine {
				l := carryLine("aff-1", -100, money.EUR, base)
				l.Amount = money.New(-100, money.EUR)
				return l
			},
			"PositiveCarryover": func() store.LedgerLine { return carryLine("aff-1", 100, money.EUR, base) },
			"NoBase":            func() store.LedgerLine { l := cpaLine(uuid.Nil, "aff-1", "p", base); l.Base = money.Amount{}; return l },
			"FXIntoOther":       func() store.LedgerLine { l := cpaLine(uuid.Nil, "aff-1", "p", base); l.FX.To = money.GBP; return l },
			"FXWithoutSource":   func() store.LedgerLine { l := cpaLine(uuid.Nil, "aff-1", "p", base); l.FX.Source = ""; return l },
			"DetailNoCurrency": func() store.LedgerLine {
				l := cpaLine(uuid.Nil, "aff-1", "p", base)
				l.Detail.PerLot = money.New(5, 0)
				return l
			},
			"BaseOtherCurrency": func() store.LedgerLine {
				l := cpaLine(uuid.Nil, "aff-1", "p", base)
				l.Base = money.New(1, money.USD)
				return l
			},
			"WithReason":   func() store.LedgerLine { l := cpaLine(uuid.Nil, "aff-1", "p", base); l.Reason = "cap.count"; return l },
			"NegativeTier": func() store.LedgerLine { l := cpaLine(uuid.Nil, "aff-1", "p", base); l.Tier = -1; return l },
			"HalfAPeriod": func() store.LedgerLine {
				l := carryLine("aff-1", -1, money.EUR, base)
				l.Period.End = time.Time{}
				return l
			},
			"ReversedPeriod": func() store.LedgerLine {
				l := carryLine("aff-1", -1, money.EUR, base)
				l.Period.End = l.Period.Start
				return l
			},
			"ControlCharInEvent": func() store.LedgerLine { l := cpaLine(uuid.Nil, "aff-1", "p", base); l.EventID = "tx\x00"; return l },
			"LongPlan": func() store.LedgerLine {
				l := cpaLine(uuid.Nil, "aff-1", "p", base)
				l.Plan = strings.Repeat("p", store.MaxKeyLen+1)
				return l
			},
		} {
			l := bad()
			require.ErrorIs(t, st.InsertLedgerLines(ctx(t), lines(l)), store.ErrInvalid, "rule: an invalid ledger line (%s) is ErrInvalid", name)
			p := conversionFor("bad-"+name, "aff-1", base)
			l.ConversionID = p.Conversion.ID
			p.Ledger = []store.LedgerLine{l}
			_, err := st.RecordConversion(ctx(t), p)
			require.ErrorIs(t, err, store.ErrInvalid, "rule: an invalid ledger line (%s) is ErrInvalid in RecordConversion too", name)
		}
		got, err := st.ListLedgerLines(ctx(t), store.ListLedgerLinesParams{AffiliateID: "aff-1", From: base.AddDate(-1, 0, 0), To: base.AddDate(1, 0, 0)})
		require.NoError(t, err, "rule: a valid ListLedgerLines succeeds")
		require.Empty(t, got, "rule: invalid ledger lines write nothing")
	})
	t.Run("ReturnedCopyIsTheCallers", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		l := cpaLine(uuid.Nil, "aff-1", "p", base)
		l.Detail.RevShare = &commission.RevShare{Tiers: []commission.RateTier{{From: money.New(0, money.EUR), Rate: money.MustParseRate("25%")}}}
		require.NoError(t, st.InsertLedgerLines(ctx(t), lines(l)), "rule: a valid InsertLedgerLines succeeds")
		want := l.Normalize()
		l.FX.Source, l.Detail.RevShare.Tiers[0].Rate = "changed by caller after insert", money.MustParseRate("99%")
		list := func() []store.LedgerLine {
			got, err := st.ListLedgerLines(ctx(t), store.ListLedgerLinesParams{AffiliateID: "aff-1", From: base, To: base.Add(time.Second)})
			require.NoError(t, err, "rule: a valid ListLedgerLines succeeds")
			return got
		}
		got := list()
		requireSameLines(t, []store.LedgerLine{want}, got, "the store keeps its own copy of an inserted line, its exchange rate and detail included")
		got[0].FX.Source, got[0].Detail.RevShare.Tiers[0].Rate = "changed by caller after list", money.MustParseRate("99%")
		requireSameLines(t, []store.LedgerLine{want}, list(), "a listed line shares nothing with the store")
	})
	t.Run("ListByStatementTime", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		march := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		april := march.AddDate(0, 1, 0)
		carry := carryLine("aff-1", -500, money.EUR, march)              // March's line, written and payable on April 1
		held := cpaLine(uuid.Nil, "aff-1", "p", march.AddDate(0, 0, 28)) // accrued in March, payable in April
		adj := adjustment("aff-1", 700, money.EUR, march.AddDate(0, 0, 3))
		require.NoError(t, st.InsertLedgerLines(ctx(t), lines(carry, held, adj)), "rule: a valid InsertLedgerLines succeeds")
		list := func(by store.LedgerTime, from, to time.Time) []uuid.UUID {
			got, err := st.ListLedgerLines(ctx(t), store.ListLedgerLinesParams{AffiliateID: "aff-1", By: by, From: from, To: to})
			require.NoError(t, err, "rule: a valid ListLedgerLines succeeds")
			ids := []uuid.UUID{}
			for _, l := range got {
				ids = append(ids, l.ID)
			}
			return ids
		}
		require.Equal(t, []uuid.UUID{adj.ID, held.ID}, list(store.ByCreatedAt, march, april), "rule: ByCreatedAt lists the lines written in the range")
		require.Equal(t, []uuid.UUID{carry.ID, adj.ID}, list(store.ByStatementTime, march, april),
			"rule: ByStatementTime lists the lines of the period's statement: a period line by its period's start, others by payable time, in that order")
		require.Equal(t, []uuid.UUID{held.ID}, list(store.ByStatementTime, april, april.AddDate(0, 1, 0)), "rule: a held line is in the statement of the period it is payable in")
		_, err := st.ListLedgerLines(ctx(t), store.ListLedgerLinesParams{AffiliateID: "aff-1", By: 9, From: march, To: april})
		require.ErrorIs(t, err, store.ErrInvalid, "rule: an unknown LedgerTime is ErrInvalid")
	})
	t.Run("ReplayedLedgerRoundTrips", func(t *testing.T) {
		t.Parallel()
		for _, h := range commissiontest.Histories() {
			t.Run(h.Name, func(t *testing.T) {
				st := s.h.NewStore(t)
				res, err := commission.Replay(h.Program, h.Events, nil)
				require.NoError(t, err, "rule: a valid commission.Replay succeeds")
				require.NotEmpty(t, res.Ledger, "a history with no ledger proves nothing")
				stored := storeLedger(t, st, res.Ledger)

				affiliates := []string{}
				for _, l := range stored {
					if !slices.Contains(affiliates, l.AffiliateID) {
						affiliates = append(affiliates, l.AffiliateID)
					}
				}
				var read []commission.Line
				for _, aff := range affiliates {
					for _, l := range listAll(t, st, store.ListLedgerLinesParams{AffiliateID: aff, From: base.AddDate(-1, 0, 0), To: base.AddDate(1, 0, 0), Limit: 7}) {
						read = append(read, l.Line)
					}
				}
				require.Len(t, read, len(res.Ledger), "rule: every line of a ledger is stored and listed")
				got, err := commission.Statements(h.Program, read, nil)
				require.NoError(t, err, "rule: a valid commission.Statements succeeds")
				require.Equal(t, commissiontest.InUTC(res.Statements), commissiontest.InUTC(got),
					"rule: statements rebuilt from the lines a store returns equal Replay's own")

				for _, want := range res.Statements {
					listed := listAll(t, st, store.ListLedgerLinesParams{AffiliateID: want.AffiliateID, By: store.ByStatementTime, From: want.Period.Start, To: want.Period.End, Limit: 3})
					slices.SortFunc(listed, func(a, b store.LedgerLine) int { return a.CreatedAt.Compare(b.CreatedAt) }) // ledger order
					require.Len(t, listed, len(want.Lines), "rule: listed ByStatementTime over a period, a ledger gives the lines of its statement (%s %s)", want.AffiliateID, want.Period)
					for i, l := range listed {
						require.True(t, want.Lines[i].Equal(l.Line), "rule: listed ByStatementTime over a period, a ledger gives the lines of its statement (%s %s, line %d)", want.AffiliateID, want.Period, i)
						inUTC := store.LedgerLine{Line: want.Lines[i]}.Normalize()
						require.Equal(t, inUTC.Explain(), l.Explain(), "rule: a line read back explains itself identically (its times in UTC)")
					}
				}
			})
		}
	})
}

// storeLedger stores a replayed ledger, in ledger order: each line of an event (a line with
// an Event and no Period) with a conversion of its own, through RecordConversion, the others
// through InsertLedgerLines. CreatedAt and IDs grow in ledger order, so a listing by
// creation gives the ledger back in order. It returns the lines as stored.
func storeLedger(t *testing.T, st store.Store, ledger []commission.Line) []store.LedgerLine {
	t.Helper()
	out := make([]store.LedgerLine, len(ledger))
	var batch []store.LedgerLine
	flush := func() {
		require.NoError(t, st.InsertLedgerLines(ctx(t), store.InsertLedgerLinesParams{Lines: batch}), "rule: a replayed ledger's period lines are stored")
		batch = nil
	}
	for i, l := range ledger {
		sl := store.LedgerLine{ID: orderedID(i), CreatedAt: at(time.Duration(i) * time.Microsecond), Line: l}
		if l.EventID != "" && l.Period.IsZero() {
			p := conversionFor(fmt.Sprintf("replay-%d", i), l.AffiliateID, base)
			sl.ConversionID = p.Conversion.ID
			p.Ledger, p.Deliveries = []store.LedgerLine{sl}, nil
			_, err := st.RecordConversion(ctx(t), p)
			require.NoError(t, err, "rule: a replayed ledger's event lines are recorded with their conversion")
		} else {
			batch = append(batch, sl)
		}
		out[i] = sl
	}
	flush()
	return out
}

// orderedID returns an ID that sorts after orderedID(i-1).
func orderedID(i int) uuid.UUID {
	id := uuid.New()
	id[0], id[1], id[2], id[3] = byte(i>>24), byte(i>>16), byte(i>>8), byte(i)
	return id
}

// listAll pages through a ledger listing with p.Limit and returns every line, checking that
// each page holds at most p.Limit lines.
func listAll(t *testing.T, st store.Store, p store.ListLedgerLinesParams) []store.LedgerLine {
	t.Helper()
	var out []store.LedgerLine
	for {
		page, err := st.ListLedgerLines(ctx(t), p)
		require.NoError(t, err, "rule: a valid ListLedgerLines succeeds")
		require.LessOrEqual(t, len(page), p.Limit, "rule: a listing returns at most Limit records")
		if len(page) == 0 {
			return out
		}
		out = append(out, page...)
		last := page[len(page)-1]
		p.After = store.Cursor{At: p.By.ListTime(last), ID: last.ID}
	}
}

func newDelivery(conversion uuid.UUID, due time.Time) store.Delivery {
	return store.Delivery{
		ID: uuid.New(), ConversionID: conversion, Endpoint: "aff-1-postback", Method: http.MethodPost,
		URL: "https://tracker.example/pb", Body: []byte(`{"event":"ftd"}`), Status: store.DeliveryPending,
		NextAttemptAt: due, CreatedAt: base,
	}
}

// recordWithDeliveries records a conversion that causes the given deliveries.
func recordWithDeliveries(t *testing.T, st store.Store, key string, dues ...time.Time) []store.Delivery {
	t.Helper()
	p := conversionFor(key, "aff-1", base)
	p.Deliveries = nil
	for _, due := range dues {
		p.Deliveries = append(p.Deliveries, newDelivery(p.Conversion.ID, due))
	}
	_, err := st.RecordConversion(ctx(t), p)
	require.NoError(t, err, "rule: a valid RecordConversion succeeds")
	return p.Deliveries
}

func attempt(start time.Time, code int) store.Attempt {
	return store.Attempt{StartedAt: start, FinishedAt: start.Add(120 * time.Millisecond), StatusCode: code, Response: "ok"}
}

func (s suite) deliveries(t *testing.T) {
	t.Run("LeaseDueOldestFirst", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		ds := recordWithDeliveries(t, st, "k1", base.Add(2*time.Minute), base, base.Add(time.Minute), base.Add(time.Hour))
		leases, err := st.LeaseDeliveries(ctx(t), store.LeaseParams{Now: base.Add(2 * time.Minute), LeaseFor: time.Minute, Limit: 2})
		require.NoError(t, err, "rule: a valid LeaseDeliveries succeeds")
		require.Len(t, leases, 2, "rule: at most Limit deliveries are leased")
		require.Equal(t, ds[1].ID, leases[0].Delivery.ID, "rule: the oldest due delivery is leased first")
		require.Equal(t, ds[2].ID, leases[1].Delivery.ID, "rule: due deliveries are leased oldest due first")
		require.Equal(t, at(3*time.Minute), leases[0].ExpiresAt, "rule: a lease expires LeaseFor after Now")

		more, err := st.LeaseDeliveries(ctx(t), store.LeaseParams{Now: base.Add(2 * time.Minute), LeaseFor: time.Minute})
		require.NoError(t, err, "rule: a valid LeaseDeliveries succeeds")
		require.Len(t, more, 1, "rule: leased deliveries are not leased again while the lease holds; future ones are not due")
		require.Equal(t, ds[0].ID, more[0].Delivery.ID, "rule: a delivery that became due is leased")
	})
	t.Run("OutcomesAndAttempts", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		ds := recordWithDeliveries(t, st, "k1", base, base)
		leases, err := st.LeaseDeliveries(ctx(t), store.LeaseParams{Now: base, LeaseFor: time.Minute})
		require.NoError(t, err, "rule: a valid LeaseDeliveries succeeds")
		require.Len(t, leases, 2, "rule: every due delivery is leased")
		byID := map[uuid.UUID]store.Lease{leases[0].Delivery.ID: leases[0], leases[1].Delivery.ID: leases[1]}

		retryAt := base.Add(5 * time.Minute)
		d, err := st.RecordAttempt(ctx(t), store.RecordAttemptParams{
			DeliveryID: ds[0].ID, Token: byID[ds[0].ID].Token, Attempt: attempt(base, 503), Status: store.DeliveryPending, NextAttemptAt: retryAt,
		})
		require.NoError(t, err, "rule: a valid RecordAttempt succeeds")
		require.Equal(t, store.DeliveryPending, d.Status, "rule: a retry leaves the delivery pending")
		require.Equal(t, at(5*time.Minute), d.NextAttemptAt, "rule: a retry is due at NextAttemptAt")
		require.Equal(t, []store.Attempt{attempt(base, 503).Normalize()}, d.Attempts, "rule: every attempt is recorded")
		require.Equal(t, 120*time.Millisecond, d.Attempts[0].Latency(), "rule: an attempt keeps its times at microsecond precision")

		d, err = st.RecordAttempt(ctx(t), store.RecordAttemptParams{
			DeliveryID: ds[1].ID, Token: byID[ds[1].ID].Token, Attempt: attempt(base, 200), Status: store.DeliveryDelivered,
		})
		require.NoError(t, err, "rule: a valid RecordAttempt succeeds")
		require.Equal(t, store.DeliveryDelivered, d.Status, "rule: a delivered outcome marks the delivery delivered")
		_, err = st.RecordAttempt(ctx(t), store.RecordAttemptParams{
			DeliveryID: ds[1].ID, Token: byID[ds[1].ID].Token, Attempt: attempt(base, 200), Status: store.DeliveryDelivered,
		})
		require.ErrorIs(t, err, store.ErrLeaseLost, "rule: a lease is used up by its attempt")

		none, err := st.LeaseDeliveries(ctx(t), store.LeaseParams{Now: base.Add(time.Minute), LeaseFor: time.Minute})
		require.NoError(t, err, "rule: a valid LeaseDeliveries succeeds")
		require.Empty(t, none, "rule: a retry is not due before NextAttemptAt; a delivered one never again")

		leases, err = st.LeaseDeliveries(ctx(t), store.LeaseParams{Now: retryAt, LeaseFor: time.Minute})
		require.NoError(t, err, "rule: a valid LeaseDeliveries succeeds")
		require.Len(t, leases, 1, "rule: a retry is due again at NextAttemptAt")
		require.Len(t, leases[0].Delivery.Attempts, 1, "rule: a leased delivery carries its attempts")
		dead, err := st.RecordAttempt(ctx(t), store.RecordAttemptParams{
			DeliveryID: ds[0].ID, Token: leases[0].Token, Attempt: attempt(retryAt, 410), Status: store.DeliveryDead,
		})
		require.NoError(t, err, "rule: a valid RecordAttempt succeeds")
		require.Equal(t, store.DeliveryDead, dead.Status, "rule: a dead outcome dead-letters the delivery")

		listed, err := st.ListDeliveries(ctx(t), store.ListDeliveriesParams{Status: store.DeliveryDead})
		require.NoError(t, err, "rule: a valid ListDeliveries succeeds")
		require.Equal(t, []store.Delivery{dead}, listed, "rule: deliveries are listed by status with their attempts")

		replayed, err := st.ReplayDelivery(ctx(t), store.ReplayDeliveryParams{DeliveryID: ds[0].ID, At: base.Add(time.Hour)})
		require.NoError(t, err, "rule: a valid ReplayDelivery succeeds")
		require.Equal(t, store.DeliveryPending, replayed.Status, "rule: a replay makes a dead delivery pending")
		require.Equal(t, ds[0].ID, replayed.ID, "rule: a replay keeps the delivery (event) ID")
		require.Len(t, replayed.Attempts, 2, "rule: a replay keeps the attempt history")
		_, err = st.ReplayDelivery(ctx(t), store.ReplayDeliveryParams{DeliveryID: ds[1].ID, At: base})
		require.ErrorIs(t, err, store.ErrConflict, "rule: only a dead delivery is replayed")
		_, err = st.ReplayDelivery(ctx(t), store.ReplayDeliveryParams{DeliveryID: uuid.New(), At: base})
		require.ErrorIs(t, err, store.ErrNotFound, "rule: replaying an unknown delivery is ErrNotFound")
	})
	t.Run("ReplayedAt", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		ds := recordWithDeliveries(t, st, "k1", base)
		id := ds[0].ID
		// readsAt checks that every read of the delivery (GetDelivery, ListDeliveries by its
		// status and, if it is due at now, LeaseDeliveries) returns ReplayedAt want, and
		// returns the lease, if it took one.
		readsAt := func(want time.Time, now time.Time, rule string) (l store.Lease, leased bool) {
			t.Helper()
			got, err := st.GetDelivery(ctx(t), id)
			require.NoError(t, err, "rule: a valid GetDelivery succeeds")
			require.Equal(t, want, got.ReplayedAt, "rule: %s (GetDelivery)", rule)
			listed, err := st.ListDeliveries(ctx(t), store.ListDeliveriesParams{Status: got.Status})
			require.NoError(t, err, "rule: a valid ListDeliveries succeeds")
			require.Len(t, listed, 1, "rule: deliveries are listed by status")
			require.Equal(t, want, listed[0].ReplayedAt, "rule: %s (ListDeliveries)", rule)
			if now.IsZero() {
				return store.Lease{}, false
			}
			ls, err := st.LeaseDeliveries(ctx(t), store.LeaseParams{Now: now, LeaseFor: time.Minute})
			require.NoError(t, err, "rule: a valid LeaseDeliveries succeeds")
			require.Len(t, ls, 1, "rule: a due delivery is leased")
			require.Equal(t, want, ls[0].Delivery.ReplayedAt, "rule: %s (LeaseDeliveries)", rule)
			return ls[0], true
		}
		record := func(l store.Lease, a store.Attempt, status store.DeliveryStatus, next time.Time, want time.Time, rule string) {
			t.Helper()
			d, err := st.RecordAttempt(ctx(t), store.RecordAttemptParams{DeliveryID: id, Token: l.Token, Attempt: a, Status: status, NextAttemptAt: next})
			require.NoError(t, err, "rule: a valid RecordAttempt succeeds")
			require.Equal(t, want, d.ReplayedAt, "rule: %s (RecordAttempt)", rule)
		}
		replay := func(when time.Time, want time.Time, rule string) {
			t.Helper()
			d, err := st.ReplayDelivery(ctx(t), store.ReplayDeliveryParams{DeliveryID: id, At: when})
			require.NoError(t, err, "rule: a valid ReplayDelivery succeeds")
			require.Equal(t, want, d.ReplayedAt, "rule: %s (ReplayDelivery)", rule)
		}

		l, _ := readsAt(time.Time{}, base, "a new delivery was never replayed: its ReplayedAt is zero")
		record(l, attempt(base, 400), store.DeliveryDead, time.Time{}, time.Time{}, "an attempt of a delivery never replayed leaves ReplayedAt zero")
		readsAt(time.Time{}, time.Time{}, "a dead delivery never replayed has a zero ReplayedAt")

		replay(base.Add(72*time.Hour), at(72*time.Hour), "a replay sets ReplayedAt to its At, normalised")
		l, _ = readsAt(at(72*time.Hour), base.Add(72*time.Hour), "a replayed delivery reads with ReplayedAt the replay's At")
		retry := base.Add(73 * time.Hour)
		record(l, attempt(base.Add(72*time.Hour), 503), store.DeliveryPending, retry, at(72*time.Hour), "an attempt after a replay keeps its ReplayedAt (a retry)")
		l, _ = readsAt(at(72*time.Hour), retry, "a retried delivery keeps the ReplayedAt of its replay")
		record(l, attempt(retry, 503), store.DeliveryDead, time.Time{}, at(72*time.Hour), "an attempt after a replay keeps its ReplayedAt (a dead letter)")
		readsAt(at(72*time.Hour), time.Time{}, "a delivery dead again keeps the ReplayedAt of its replay")

		replay(base.Add(100*time.Hour), at(100*time.Hour), "a second replay moves ReplayedAt to its At")
		l, _ = readsAt(at(100*time.Hour), base.Add(100*time.Hour), "a delivery replayed twice reads with the second replay's At")
		record(l, attempt(base.Add(100*time.Hour), 200), store.DeliveryDelivered, time.Time{}, at(100*time.Hour), "an attempt after a replay keeps its ReplayedAt (delivered)")
		readsAt(at(100*time.Hour), time.Time{}, "a delivered delivery keeps the ReplayedAt of its last replay")
		got, err := st.GetDelivery(ctx(t), id)
		require.NoError(t, err, "rule: a valid GetDelivery succeeds")
		require.Len(t, got.Attempts, 4, "rule: replays keep the attempt history")
	})
	t.Run("LeaseExpiryAndFencing", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		ds := recordWithDeliveries(t, st, "k1", base)
		first, err := st.LeaseDeliveries(ctx(t), store.LeaseParams{Now: base, LeaseFor: time.Minute})
		require.NoError(t, err, "rule: a valid LeaseDeliveries succeeds")
		require.Len(t, first, 1, "rule: a due delivery is leased")

		notYet, err := st.LeaseDeliveries(ctx(t), store.LeaseParams{Now: base.Add(59 * time.Second), LeaseFor: time.Minute})
		require.NoError(t, err, "rule: a valid LeaseDeliveries succeeds")
		require.Empty(t, notYet, "rule: a delivery is not leased again before its lease expires")

		second, err := st.LeaseDeliveries(ctx(t), store.LeaseParams{Now: base.Add(time.Minute), LeaseFor: time.Minute})
		require.NoError(t, err, "rule: a valid LeaseDeliveries succeeds")
		require.Len(t, second, 1, "rule: a delivery whose lease has expired is due again")
		require.NotEqual(t, first[0].Token, second[0].Token, "rule: each lease has a new fencing token")

		_, err = st.RecordAttempt(ctx(t), store.RecordAttemptParams{
			DeliveryID: ds[0].ID, Token: first[0].Token, Attempt: attempt(base.Add(50*time.Second), 200), Status: store.DeliveryDelivered,
		})
		require.ErrorIs(t, err, store.ErrLeaseLost, "rule: the holder of an expired, re-leased lease cannot record its attempt")

		late := attempt(base.Add(90*time.Second), 200)
		late.FinishedAt = base.Add(2 * time.Minute) // the second lease expires at base+2m
		_, err = st.RecordAttempt(ctx(t), store.RecordAttemptParams{
			DeliveryID: ds[0].ID, Token: second[0].Token, Attempt: late, Status: store.DeliveryDelivered,
		})
		require.ErrorIs(t, err, store.ErrLeaseLost, "rule: an attempt that finishes when its lease has expired is refused")

		d, err := st.GetDelivery(ctx(t), ds[0].ID)
		require.NoError(t, err, "rule: a valid GetDelivery succeeds")
		require.Equal(t, store.DeliveryPending, d.Status, "rule: refused attempts change nothing")
		require.Empty(t, d.Attempts, "rule: refused attempts are not recorded")

		third, err := st.LeaseDeliveries(ctx(t), store.LeaseParams{Now: base.Add(2 * time.Minute), LeaseFor: time.Minute})
		require.NoError(t, err, "rule: a valid LeaseDeliveries succeeds")
		require.Len(t, third, 1, "rule: a delivery whose lease expired is due again")
		d, err = st.RecordAttempt(ctx(t), store.RecordAttemptParams{
			DeliveryID: ds[0].ID, Token: third[0].Token, Attempt: attempt(base.Add(2*time.Minute), 204), Status: store.DeliveryDelivered,
		})
		require.NoError(t, err, "rule: the current lease holder records its attempt")
		require.Equal(t, store.DeliveryDelivered, d.Status, "rule: the current lease holder's attempt marks the delivery delivered")
	})
}

func (s suite) concurrency(t *testing.T) {
	t.Run("Counters", s.counterConcurrency)
	t.Run("Endpoints", s.endpointConcurrency)
	t.Run("ForeignLookupsWhileInserting", s.foreignConcurrency)
	t.Run("Parked", s.parkedConcurrency)
	t.Run("Inbound", s.inboundConcurrency)
	t.Run("RecordedBindings", s.bindingConcurrency)
	t.Run("OneDedupKeyExactlyOnce", func(t *testing.T) {
		// 1,000 records of one dedup key from 16 goroutines, repeated 20 times: exactly one
		// conversion, one set of ledger lines and one set of deliveries each time.
		st := s.h.NewStore(t)
		handles := []store.Store{st}
		if s.h.Reopen != nil {
			handles = append(handles, s.h.Reopen(t, st))
		}
		const repeats, records, goroutines = 20, 1000, 16
		for r := range repeats {
			key := fmt.Sprintf("race-%d", r)
			affiliate := fmt.Sprintf("aff-%d", r)
			var wg sync.WaitGroup
			var mu sync.Mutex
			wins, dups := 0, 0
			var other []error
			jobs := make(chan int, records)
			for i := range records {
				jobs <- i
			}
			close(jobs)
			for g := range goroutines {
				h := handles[g%len(handles)]
				wg.Go(func() {
					for range jobs {
						p := conversionFor(key, affiliate, base)
						p.Conversion.PlayerID = "player"
						_, err := h.RecordConversion(t.Context(), p)
						mu.Lock()
						switch {
						case err == nil:
							wins++
						case errors.Is(err, store.ErrDuplicate):
							dups++
						default:
							other = append(other, err)
						}
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			require.Empty(t, other, "rule: concurrent records of one key fail only with ErrDuplicate (repeat %d)", r)
			require.Equal(t, 1, wins, "rule: exactly one of concurrent records with one dedup key wins (repeat %d)", r)
			require.Equal(t, records-1, dups, "rule: every other concurrent record is ErrDuplicate (repeat %d)", r)

			lines, err := st.ListLedgerLines(t.Context(), store.ListLedgerLinesParams{AffiliateID: affiliate, From: base.Add(-time.Hour), To: base.Add(time.Hour)})
			require.NoError(t, err, "rule: a valid ListLedgerLines succeeds")
			require.Len(t, lines, 1, "rule: exactly one set of ledger lines for one dedup key (repeat %d)", r)
			pending, err := st.ListDeliveries(t.Context(), store.ListDeliveriesParams{Status: store.DeliveryPending, Limit: 1000})
			require.NoError(t, err, "rule: a valid ListDeliveries succeeds")
			require.Len(t, pending, r+1, "rule: exactly one set of deliveries for one dedup key (repeat %d)", r)
		}
	})
	t.Run("ConflictingContentExactlyOnce", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		wins := race(t, 200, func(i int) error {
			p := conversionFor("contested", "aff-1", base)
			p.Conversion.PlayerID = "player"
			p.Conversion.Amount = money.New(int64(1000+i%2), money.EUR) // two contents
			_, err := st.RecordConversion(t.Context(), p)
			return err
		}, "racing records fail only with ErrDuplicate or ErrConflict", store.ErrDuplicate, store.ErrConflict)
		require.Equal(t, 1, wins, "rule: exactly one of racing records with different content wins")
	})
	t.Run("OneStatusChangeWins", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		p := conversionFor("k1", "aff-1", base)
		_, err := st.RecordConversion(ctx(t), p)
		require.NoError(t, err, "rule: a valid RecordConversion succeeds")
		wins := race(t, 50, func(i int) error {
			to := event.StatusApproved
			if i%2 == 1 {
				to = event.StatusRejected
			}
			_, err := st.ChangeStatus(t.Context(), store.ChangeStatusParams{
				ConversionID: p.Conversion.ID, From: event.StatusPending, To: to, At: base.Add(time.Hour),
			})
			return err
		}, "losing status changes are ErrConflict", store.ErrConflict)
		require.Equal(t, 1, wins, "rule: of concurrent changes from one status, exactly one applies")
		c, err := st.GetConversion(ctx(t), p.Conversion.ID)
		require.NoError(t, err, "rule: a valid GetConversion succeeds")
		require.Len(t, c.History, 2, "rule: exactly one change is appended")
	})
	t.Run("OneBindingWins", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		wins := race(t, 64, func(i int) error {
			_, err := st.BindPlayer(t.Context(), store.PlayerBinding{
				PlayerID: "p1", AffiliateID: fmt.Sprintf("aff-%d", i%4), Method: store.BindByClick, BoundAt: base,
			})
			return err
		}, "losing bindings are ErrDuplicate or ErrConflict", store.ErrDuplicate, store.ErrConflict)
		require.Equal(t, 1, wins, "rule: of concurrent bindings of one player, exactly one wins")
	})
	t.Run("LeasesAreExclusive", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		handles := []store.Store{st}
		if s.h.Reopen != nil {
			handles = append(handles, s.h.Reopen(t, st))
		}
		dues := make([]time.Time, 40)
		for i := range dues {
			dues[i] = base
		}
		recordWithDeliveries(t, st, "k1", dues...)
		var wg sync.WaitGroup
		var mu sync.Mutex
		leased := map[uuid.UUID]int{}
		for g := range 8 {
			h := handles[g%len(handles)]
			wg.Go(func() {
				for range 3 {
					ls, err := h.LeaseDeliveries(t.Context(), store.LeaseParams{Now: base, LeaseFor: time.Minute, Limit: 3})
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					for _, l := range ls {
						leased[l.Delivery.ID]++
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		require.Len(t, leased, 40, "rule: concurrent workers lease every due delivery")
		for id, n := range leased {
			require.Equal(t, 1, n, "rule: concurrent workers never hold the same delivery at once (%s)", id)
		}
	})
}

// race runs f(0) to f(n-1) at once, each on its own goroutine, and returns how many returned
// nil. Every error must wrap one of allowed; rule says which contract rule that is.
func race(t *testing.T, n int, f func(i int) error, rule string, allowed ...error) (wins int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { errs[i] = f(i) })
	}
	wg.Wait()
	for _, err := range errs {
		if err == nil {
			wins++
			continue
		}
		ok := false
		for _, a := range allowed {
			ok = ok || errors.Is(err, a)
		}
		require.True(t, ok, "rule: %s; got %v", rule, err)
	}
	return wins
}
