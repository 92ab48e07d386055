package s2s_test

// The seams between the packages: what one package hands on, the next accepts, with the same
// meaning. Each package tests itself; these tests drive one package into the next, so that a
// drift between them (a renamed event, a status one side does not know, a value one accepts
// and the other refuses) fails here even when every package's own tests pass.

import (
	"errors"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/attribution"
	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/postback"
	"github.com/s2skit/s2s/store"
	"github.com/s2skit/s2s/store/memstore"
)

var (
	seamKey = postback.Key{ID: "k1", Secret: []byte("a-secret-of-at-least-24-bytes!!")}
	seamNow = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
)

func seamSource(t *testing.T) *postback.Source {
	t.Helper()
	src, err := postback.NewSource("casino-x", postback.Auth{Method: postback.MethodSignedQuery, Keys: []postback.Key{seamKey}},
		&postback.SourceOptions{Now: func() time.Time { return seamNow }})
	require.NoError(t, err)
	return src
}

// receive signs q as the operator would and parses it as the tracker does.
func receive(t *testing.T, src *postback.Source, q url.Values) postback.Postback {
	t.Helper()
	pb, err := src.ParseQuery("/postback", mustSign(t, q, seamNow))
	require.NoError(t, err, "query %s", q.Encode())
	return pb
}

// conversionOf is the record a pipeline keeps for pb: the sender's part exactly as postback
// gives it (Postback.Conversion), and the receiver's (an ID, an affiliate, and the dedup key
// of attribution's default mode, which keys every postback that parsing accepts).
func conversionOf(t *testing.T, pb *postback.Postback) store.Conversion {
	t.Helper()
	c := pb.Conversion()
	key, code := attribution.Dedup{}.Key(&c)
	require.Empty(t, code, "rule: attribution keys every postback that parsing accepts")
	c.ID, c.DedupKey, c.AffiliateID = uuid.Must(uuid.NewV7()), key, "aff-1"
	return c
}

// seamPlan pays a CPA on a 100 EUR FTD, 30% RevShare on GGR, a prop CPA on purchases and a
// rebate per lot: between them, every known event earns or counts for something.
func seamPlan() *commission.Program {
	eur := func(v string) money.Amount { return money.MustParse(v, money.EUR) }
	return &commission.Program{Default: []commission.Version{{From: seamNow.AddDate(-1, 0, 0), Plan: commission.Plan{
		ID: "hybrid", Currency: money.EUR,
		CPA:      &commission.CPA{Amount: eur("50.00"), Baseline: commission.Baseline{MinFTD: eur("100.00")}},
		RevShare: &commission.RevShare{Rate: money.MustParseRate("30%")},
		Prop:     &commission.Prop{Amount: eur("20.00"), Every: true, Funded: eur("100.00"), ClawbackRefund: true},
		IB:       &commission.IB{Symbols: []commission.SymbolRate{{PerLot: eur("5.00")}}},
	}}}}
}

// TestSeams_EveryEventTypeFlowsThrough sends a postback of every event type the library
// knows, and a custom one, through parsing, the store and commission: each keeps its name,
// the store accepts the record it becomes, and commission accepts it as an event.
func TestSeams_EveryEventTypeFlowsThrough(t *testing.T) {
	t.Parallel()
	src := seamSource(t)
	st := memstore.New(nil)
	types := append(event.Types(), "goal_3") // a custom event goes through unchanged too
	var events []commission.Event
	for i, ty := range types {
		q := url.Values{
			"event": {string(ty)}, "player_id": {"p-1"}, "txn_id": {fmt.Sprintf("TX-%d", i)},
			"amount": {"150.00"}, "currency": {"EUR"}, "sub1": {"banner-7"},
			"occurred_at": {fmt.Sprint(seamNow.Add(time.Duration(i-len(types)) * time.Minute).Unix())},
		}
		if ty == event.Reversal {
			q.Set("amount", "-150.00") // senders send a reversal's amount with either sign
		}
		pb := receive(t, src, q)
		require.Equal(t, ty, pb.Event, "rule: an event is parsed under the name it was sent with")
		require.Equal(t, "150.00 EUR", pb.Amount.String(), "rule: an amount is kept as its magnitude, as a store keeps it")

		c, err := st.RecordConversion(t.Context(), store.RecordConversionParams{Conversion: conversionOf(t, &pb)})
		require.NoError(t, err, "rule: the store accepts every postback that parsing accepts (%s)", ty)
		require.Equal(t, ty, c.Event, "rule: the store keeps the event's name")

		ev := commission.Event{ID: pb.TransactionID, Type: pb.Event, At: pb.OccurredAt, AffiliateID: c.AffiliateID, PlayerID: pb.PlayerID, Amount: pb.Amount}
		switch ty {
		case event.Reversal:
			ev.Reverses = "TX-2" // the FTD, and its CPA
		case event.Refund, event.Reset:
			ev.Reverses = "TX-5" // the purchase
			ev.Amount = money.Amount{}
		case event.Revenue:
			ev.Revenue = commission.Revenue{GGR: pb.Amount}
			ev.Amount = money.Amount{}
		case event.Trade:
			ev.Trade = commission.Trade{Symbol: "EURUSD", Lots: money.MustParseRate("1"), Open: pb.OccurredAt.Add(-time.Hour), Close: pb.OccurredAt}
			ev.Amount = money.Amount{}
		case event.Purchase:
			ev.AccountSize = money.MustParse("10000.00", money.EUR)
		}
		events = append(events, ev)
	}
	res, err := commission.Replay(seamPlan(), events, nil)
	require.NoError(t, err, "rule: commission accepts every event type that postback produces")

	earned := map[event.Type]bool{}
	kinds := map[string]event.Type{}
	for _, e := range events {
		kinds[e.ID] = e.Type
	}
	for _, l := range res.Ledger {
		earned[kinds[l.EventID]] = true
	}
	for _, ty := range []event.Type{event.FTD, event.Purchase, event.Trade, event.Funded, event.Adjustment, event.Reversal, event.Refund} {
		require.True(t, earned[ty], "rule: commission reads postback's %q as the event it names (no line came of it)", ty)
	}
	require.False(t, earned["goal_3"], "rule: a custom event earns nothing unless a plan says so")
}

// TestSeams_EveryStatusFlowsThrough sends each status, and checks that the store keeps it
// and can move a conversion from it.
func TestSeams_EveryStatusFlowsThrough(t *testing.T) {
	t.Parallel()
	src := seamSource(t)
	st := memstore.New(nil)
	for i, s := range event.Statuses() {
		pb := receive(t, src, url.Values{"event": {"deposit"}, "status": {string(s)}, "player_id": {"p-2"},
			"txn_id": {fmt.Sprintf("TXS-%d", i)}, "amount": {"10.00"}, "currency": {"EUR"}})
		require.Equal(t, s, pb.Status, "rule: a status is parsed under the name it was sent with")
		c, err := st.RecordConversion(t.Context(), store.RecordConversionParams{Conversion: conversionOf(t, &pb)})
		require.NoError(t, err, "rule: the store accepts every status that parsing produces (%s)", s)
		require.Equal(t, s, c.Status)
		to := event.StatusReversed
		if s == to {
			to = event.StatusApproved
		}
		_, err = st.ChangeStatus(t.Context(), store.ChangeStatusParams{ConversionID: c.ID, From: s, To: to, At: seamNow.Add(time.Hour)})
		require.NoError(t, err, "rule: the store moves a conversion from every status postback produces (%s)", s)
	}
}

// TestSeams_RetryIsADuplicate sends one postback twice, as a sender's retry does, and checks
// that the key postback gives it and the content the store compares make the second a
// duplicate, not a conflict and not a second conversion.
func TestSeams_RetryIsADuplicate(t *testing.T) {
	t.Parallel()
	src := seamSource(t)
	st := memstore.New(nil)
	q := url.Values{"event": {"ftd"}, "player_id": {"p-3"}, "txn_id": {"TX-1"}, "amount": {"150.00"}, "currency": {"EUR"},
		"sub1": {"a"}, "sub3": {"c"}, "occurred_at": {fmt.Sprint(seamNow.Add(-time.Hour).Unix())}}
	first := receive(t, src, q)
	orig, err := st.RecordConversion(t.Context(), store.RecordConversionParams{Conversion: conversionOf(t, &first)})
	require.NoError(t, err)
	require.Equal(t, []string{"a", "", "c"}, orig.SubIDs, "rule: the conversion keeps the sub IDs the sender sent, by position")

	retry := receive(t, src, q)
	got, err := st.RecordConversion(t.Context(), store.RecordConversionParams{Conversion: conversionOf(t, &retry)})
	require.ErrorIs(t, err, store.ErrDuplicate, "rule: a retry of a postback is a duplicate in the store")
	require.Equal(t, orig.ID, got.ID)

	q.Set("amount", "1500.00")
	changed := receive(t, src, q)
	_, err = st.RecordConversion(t.Context(), store.RecordConversionParams{Conversion: conversionOf(t, &changed)})
	require.ErrorIs(t, err, store.ErrConflict, "rule: the same transaction with another amount is a conflict")
	require.False(t, errors.Is(err, store.ErrDuplicate))
}

// TestSeams_RetryWithoutEventTime sends a postback without an event time, and its retry half
// a minute later: the store keeps the event time as sent (none), so the retry is a duplicate,
// not a conflict over a receive time that differs on every arrival.
func TestSeams_RetryWithoutEventTime(t *testing.T) {
	t.Parallel()
	now := seamNow
	src, err := postback.NewSource("casino-x", postback.Auth{Method: postback.MethodSignedQuery, Keys: []postback.Key{seamKey}},
		&postback.SourceOptions{Now: func() time.Time { return now }})
	require.NoError(t, err)
	st := memstore.New(nil)
	q := url.Values{"event": {"deposit"}, "player_id": {"p-4"}, "txn_id": {"TX-9"}, "amount": {"20.00"}, "currency": {"EUR"}}

	first := receive(t, src, q)
	require.True(t, first.OccurredAt.IsZero(), "the sender gave no event time")
	orig, err := st.RecordConversion(t.Context(), store.RecordConversionParams{Conversion: conversionOf(t, &first)})
	require.NoError(t, err)
	require.Equal(t, seamNow, orig.EventTime(), "rule: without an event time, a conversion happened when it was received")

	now = now.Add(30 * time.Second)
	retry, err := src.ParseQuery("/postback", mustSign(t, q, now))
	require.NoError(t, err)
	got, err := st.RecordConversion(t.Context(), store.RecordConversionParams{Conversion: conversionOf(t, &retry)})
	require.ErrorIs(t, err, store.ErrDuplicate, "rule: a retry without an event time is a duplicate, whenever it arrives")
	require.Equal(t, orig.ID, got.ID)
}

func mustSign(t *testing.T, q url.Values, at time.Time) string {
	t.Helper()
	signed, err := postback.SignQuery("/postback", q.Encode(), seamKey, at)
	require.NoError(t, err)
	return signed
}

// TestSeams_StatusUpdate sends a deposit, then the sender's chargeback of the same
// transaction: the content is the same, so the store answers a duplicate with the stored
// conversion, and its other status is the update the receiver applies with ChangeStatus.
func TestSeams_StatusUpdate(t *testing.T) {
	t.Parallel()
	src := seamSource(t)
	st := memstore.New(nil)
	q := url.Values{"event": {"deposit"}, "player_id": {"p-5"}, "txn_id": {"TX-5"}, "amount": {"80.00"}, "currency": {"EUR"},
		"status": {"approved"}, "occurred_at": {fmt.Sprint(seamNow.Add(-time.Hour).Unix())}}
	first := receive(t, src, q)
	orig, err := st.RecordConversion(t.Context(), store.RecordConversionParams{Conversion: conversionOf(t, &first)})
	require.NoError(t, err)

	q.Set("status", "reversed")
	q.Set("amount", "-80.00") // as some networks send a chargeback
	update := receive(t, src, q)
	require.Equal(t, conversionOf(t, &first).DedupKey, conversionOf(t, &update).DedupKey, "rule: a status update has its transaction's dedup key")
	got, err := st.RecordConversion(t.Context(), store.RecordConversionParams{Conversion: conversionOf(t, &update)})
	require.ErrorIs(t, err, store.ErrDuplicate, "rule: a status update is the same content, which the store calls a duplicate")
	require.Equal(t, orig.ID, got.ID)
	require.Equal(t, event.StatusApproved, got.Status, "the store returns the status it holds")
	require.NotEqual(t, got.Status, update.Status, "so the receiver sees the update")

	changed, err := st.ChangeStatus(t.Context(), store.ChangeStatusParams{ConversionID: got.ID, From: got.Status, To: update.Status, At: update.ReceivedAt})
	require.NoError(t, err)
	require.Equal(t, event.StatusReversed, changed.Status)
}
