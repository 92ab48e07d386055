package storetest

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/store"
)

// byConversion is the rule of the listings of what one conversion caused: its ledger lines
// and deliveries (whichever affiliate, endpoint or status), and its records in the inbound
// log, and nothing of another conversion's.
func (s suite) byConversion(t *testing.T) {
	t.Run("LinesAndDeliveries", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		pa := conversionFor("by-conv-a", "aff-1", base)
		pb := conversionFor("by-conv-b", "aff-1", base)
		a, err := st.RecordConversion(ctx(t), pa)
		require.NoError(t, err, "rule: a valid RecordConversion succeeds")
		_, err = st.RecordConversion(ctx(t), pb)
		require.NoError(t, err, "rule: a valid RecordConversion succeeds")

		// A status change adds a reversal line (of another affiliate's line, to check that
		// affiliates do not matter) and a delivery to another endpoint.
		rev := reversalOf(pa.Ledger[0], base.Add(time.Hour))
		rev.AffiliateID = "aff-2"
		late := store.Delivery{
			ID: uuid.New(), ConversionID: a.ID, Endpoint: "other-endpoint", Method: http.MethodGet,
			URL: "https://other.example/pb", Status: store.DeliveryPending, NextAttemptAt: base.Add(time.Hour), CreatedAt: base.Add(time.Hour),
		}
		_, err = st.ChangeStatus(ctx(t), store.ChangeStatusParams{
			ConversionID: a.ID, From: event.StatusPending, To: event.StatusReversed, Reason: "chargeback", At: base.Add(time.Hour),
			Ledger: []store.LedgerLine{rev}, Deliveries: []store.Delivery{late},
		})
		require.NoError(t, err, "rule: a valid ChangeStatus succeeds")
		// An adjustment about the conversion, written on its own.
		adj := adjustment("aff-1", 250, money.EUR, base.Add(30*time.Minute))
		adj.ConversionID = a.ID
		require.NoError(t, st.InsertLedgerLines(ctx(t), store.InsertLedgerLinesParams{Lines: []store.LedgerLine{adj}}), "rule: a valid InsertLedgerLines succeeds")
		// Its first delivery dies after an attempt.
		leases, err := st.LeaseDeliveries(ctx(t), store.LeaseParams{Now: base.Add(3 * time.Second), LeaseFor: time.Minute, Limit: 10})
		require.NoError(t, err, "rule: a valid LeaseDeliveries succeeds")
		var token int64
		for _, l := range leases {
			if l.Delivery.ID == pa.Deliveries[0].ID {
				token = l.Token
			}
		}
		require.NotZero(t, token, "rule: a due delivery is leased")
		attempt := store.Attempt{StartedAt: base.Add(3 * time.Second), FinishedAt: base.Add(4 * time.Second), StatusCode: 500, Response: "boom", Error: "http_5xx"}
		_, err = st.RecordAttempt(ctx(t), store.RecordAttemptParams{DeliveryID: pa.Deliveries[0].ID, Token: token, Attempt: attempt, Status: store.DeliveryDead})
		require.NoError(t, err, "rule: a valid RecordAttempt succeeds")

		wantLines := []store.LedgerLine{pa.Ledger[0].Normalize(), adj.Normalize(), rev.Normalize()} // by CreatedAt
		for _, limit := range []int{0, 1, 2} {
			var got []store.LedgerLine
			p := store.ListConversionLinesParams{ConversionID: a.ID, Limit: limit}
			for range 10 {
				page, err := st.ListConversionLines(ctx(t), p)
				require.NoError(t, err, "rule: a valid ListConversionLines succeeds")
				got = append(got, page...)
				if limit == 0 || len(page) < limit {
					break
				}
				p.After = store.Cursor{At: page[len(page)-1].CreatedAt, ID: page[len(page)-1].ID}
			}
			require.Len(t, got, len(wantLines), "rule: ListConversionLines gives every line of the conversion, whichever affiliate and however written, and no other's (limit %d)", limit)
			for i := range wantLines {
				require.True(t, wantLines[i].Equal(got[i]), "rule: ListConversionLines orders by CreatedAt then ID, and returns each line as written (limit %d, line %d)", limit, i)
			}
		}

		ds, err := st.ListConversionDeliveries(ctx(t), store.ListConversionDeliveriesParams{ConversionID: a.ID})
		require.NoError(t, err, "rule: a valid ListConversionDeliveries succeeds")
		require.Equal(t, []uuid.UUID{pa.Deliveries[0].ID, late.ID}, []uuid.UUID{ds[0].ID, ds[len(ds)-1].ID}, "rule: ListConversionDeliveries orders by creation then ID")
		require.Len(t, ds, 2, "rule: ListConversionDeliveries gives every delivery of the conversion, in every status, and no other's")
		require.Equal(t, store.DeliveryDead, ds[0].Status, "rule: a listed delivery has its status")
		require.Equal(t, []store.Attempt{attempt.Normalize()}, ds[0].Attempts, "rule: a listed delivery has its attempts")
		require.Equal(t, store.DeliveryPending, ds[1].Status)
		page, err := st.ListConversionDeliveries(ctx(t), store.ListConversionDeliveriesParams{ConversionID: a.ID, Limit: 1, After: store.Cursor{At: ds[0].CreatedAt, ID: ds[0].ID}})
		require.NoError(t, err)
		require.Equal(t, []uuid.UUID{late.ID}, []uuid.UUID{page[0].ID}, "rule: ListConversionDeliveries pages after the cursor")
		require.Len(t, page, 1)

		none, err := st.ListConversionLines(ctx(t), store.ListConversionLinesParams{ConversionID: uuid.New()})
		require.NoError(t, err, "rule: a conversion with no lines lists none, and is no error")
		require.Empty(t, none)
		nd, err := st.ListConversionDeliveries(ctx(t), store.ListConversionDeliveriesParams{ConversionID: uuid.New()})
		require.NoError(t, err, "rule: a conversion with no deliveries lists none, and is no error")
		require.Empty(t, nd)
		for _, p := range []store.ListConversionDeliveriesParams{{}, {ConversionID: a.ID, Limit: -1}} {
			_, err = st.ListConversionDeliveries(ctx(t), p)
			require.ErrorIs(t, err, store.ErrInvalid, "rule: the zero conversion ID or a negative limit is ErrInvalid (%+v)", p)
		}
	})
	t.Run("Inbound", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		conv, other := uuid.New(), uuid.New()
		first := inboundAt("network-a", "accepted", base)
		first.ConversionID = conv
		retry := inboundAt("network-a", "duplicate", base.Add(time.Minute))
		retry.ConversionID, retry.Reason, retry.HTTPStatus = conv, "", 200
		elsewhere := inboundAt("network-a", "accepted", base.Add(2*time.Minute))
		elsewhere.ConversionID = other
		rejected := inboundAt("network-a", "rejected", base.Add(3*time.Minute))
		for _, r := range []store.InboundRecord{retry, rejected, first, elsewhere} {
			logInbound(t, st, r)
		}
		got := listInboundAll(t, st, store.ListInboundParams{ConversionID: conv})
		require.Equal(t, newestFirst(first, retry), inboundIDs(got...), "rule: a listing of a conversion gives its records alone, newest first")
		got = listInboundAll(t, st, store.ListInboundParams{ConversionID: conv, Outcome: "accepted"})
		require.Equal(t, inboundIDs(first), inboundIDs(got...), "rule: conversion and outcome apply together")
		got = listInboundAll(t, st, store.ListInboundParams{ConversionID: conv, Source: "network-b"})
		require.Empty(t, got, "rule: conversion and source apply together")
		page, err := st.ListInbound(ctx(t), store.ListInboundParams{ConversionID: conv, Limit: 1, After: store.Cursor{At: retry.ReceivedAt, ID: retry.ID}})
		require.NoError(t, err)
		require.Equal(t, inboundIDs(first), inboundIDs(page...), "rule: a listing of a conversion pages after the cursor")
		n, err := st.PruneInbound(ctx(t), store.PruneInboundParams{Before: base.Add(30 * time.Second)})
		require.NoError(t, err)
		require.Equal(t, 1, n)
		got = listInboundAll(t, st, store.ListInboundParams{ConversionID: conv})
		require.Equal(t, inboundIDs(retry), inboundIDs(got...), "rule: a pruned record is not listed by its conversion")
		require.True(t, slices.Equal(inboundIDs(elsewhere), inboundIDs(listInboundAll(t, st, store.ListInboundParams{ConversionID: other})...)),
			"rule: a prune keeps another conversion's records")
	})
}
