package attribution_test

import (
	"fmt"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/attribution"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/postback"
	"github.com/s2skit/s2s/store"
	"github.com/s2skit/s2s/store/memstore"
)

// TestTransition_EveryPair judges every pair of statuses, and two values that are not
// statuses: a status added to package event fails here until its row is written.
func TestTransition_EveryPair(t *testing.T) {
	t.Parallel()
	const (
		p   = event.StatusPending
		a   = event.StatusApproved
		rej = event.StatusRejected
		rev = event.StatusReversed
	)
	var (
		changed   = attribution.CodeStatusChanged
		unchanged = attribution.CodeStatusUnchanged
		again     = attribution.CodeAlreadyReversed
		invalid   = attribution.CodeInvalidTransition
	)
	type pair struct{ from, to event.Status }
	type want struct {
		to   event.Status // the status after
		code attribution.Code
	}
	table := map[pair]want{
		{p, p}: {p, unchanged}, {p, a}: {a, changed}, {p, rej}: {rej, changed}, {p, rev}: {rej, changed},
		{a, p}: {a, invalid}, {a, a}: {a, unchanged}, {a, rej}: {rev, changed}, {a, rev}: {rev, changed},
		{rej, p}: {rej, invalid}, {rej, a}: {rej, invalid}, {rej, rej}: {rej, unchanged}, {rej, rev}: {rej, unchanged},
		{rev, p}: {rev, invalid}, {rev, a}: {rev, invalid}, {rev, rej}: {rev, again}, {rev, rev}: {rev, again},
	}
	bogus := []event.Status{"", "Approved", "chargeback"}
	all := append(event.Statuses(), bogus...)
	for _, from := range all {
		for _, to := range all {
			got := attribution.Transition(from, to)
			name := fmt.Sprintf("%q → %q", from, to)
			require.Equal(t, from, got.From, name)
			require.Equal(t, to, got.Requested, name)
			w, ok := table[pair{from, to}]
			if slices.Contains(bogus, from) || slices.Contains(bogus, to) {
				require.False(t, ok)
				w = want{from, invalid}
			} else {
				require.True(t, ok, "rule: every pair of statuses has its row: %s", name)
			}
			require.Equal(t, w.code, got.Code, name)
			require.Equal(t, w.to, got.To, name)
			require.Equal(t, w.code == changed, got.Allowed(), name)
			require.Equal(t, w.code == unchanged || w.code == again, got.Duplicate(), name)
			require.False(t, got.IsZero(), name)
			if !got.Allowed() {
				require.Equal(t, from, got.To, "%s: rule: a move not allowed leaves the status as it is", name)
			} else {
				require.NotEqual(t, from, got.To, name)
			}
			require.NoError(t, store.CheckKey(string(got.Code)), name)
		}
	}
	require.True(t, attribution.StatusChange{}.IsZero())
}

// original is a stored, attributed, approved deposit with the dedup key Decide gives it.
func original(t *testing.T, d *attribution.Decider) store.Conversion {
	t.Helper()
	k := click(1, "aff-1", "casino", t0)
	in := ftd(&k, t0.Add(time.Hour))
	in.Conversion.Event = event.Deposit
	dec := d.Decide(&in)
	require.Equal(t, attribution.CodeClick, dec.Code)
	c := in.Conversion
	c.ID = uuid.New()
	dec.Apply(&c)
	require.NoError(t, c.Validate())
	return c
}

// update is the sender's later postback about the deposit original: the same transaction,
// with the status given.
func update(o store.Conversion, s event.Status) attribution.Input {
	c := o
	c.ID, c.AffiliateID, c.CampaignID, c.DedupKey, c.Decision = uuid.Nil, "", "", "", store.Decision{}
	c.Status = s
	c.ReceivedAt = o.ReceivedAt.Add(24 * time.Hour)
	c.OccurredAt = c.ReceivedAt.Add(-time.Minute)
	return attribution.Input{Conversion: c, Original: &o}
}

func TestDecide_StatusUpdate(t *testing.T) {
	t.Parallel()
	d := decider(t, casino())
	o := original(t, d)

	in := update(o, event.StatusReversed)
	dec := d.Decide(&in)
	require.Equal(t, attribution.CodeStatusChanged, dec.Code)
	require.Equal(t, attribution.StatusChange{From: event.StatusApproved, Requested: event.StatusReversed,
		To: event.StatusReversed, Code: attribution.CodeStatusChanged}, dec.Change)
	require.Equal(t, event.StatusReversed, dec.Status)
	require.Equal(t, "aff-1", dec.AffiliateID, "rule: an update is about the original's affiliate")
	require.Equal(t, "casino", dec.CampaignID)
	require.Equal(t, attribution.ModelLastClick, dec.Model, "the model that credited the original")
	require.Equal(t, o.DedupKey, dec.DedupKey(), "a status update has its transaction's key")
	require.False(t, dec.Park)
	require.Empty(t, dec.Binding.PlayerID)
	require.Contains(t, dec.Reason(), `the conversion of affiliate "aff-1" (campaign "casino"): moves from approved to reversed`)
	p := store.ChangeStatusParams{ConversionID: o.ID, From: dec.Change.From, To: dec.Change.To, Reason: dec.Reason(), At: in.Conversion.ReceivedAt}
	require.NoError(t, p.Validate(), "rule: the change is what the store's ChangeStatus takes")

	// A Reversal event of the transaction reverses it too, whatever status it carries.
	rv := update(o, event.StatusApproved)
	rv.Conversion.Event = event.Reversal
	dec = d.Decide(&rv)
	require.Equal(t, attribution.CodeStatusChanged, dec.Code)
	require.Equal(t, event.StatusReversed, dec.Change.To)
	require.NotEqual(t, o.DedupKey, dec.DedupKey(), "a Reversal event has a key of its own, to be recorded under")

	// Keitaro's sale → rejected is a chargeback: the approved conversion is reversed.
	in = update(o, event.StatusRejected)
	dec = d.Decide(&in)
	require.Equal(t, event.StatusReversed, dec.Change.To)
	require.Contains(t, dec.Reason(), "the sender asked for rejected, and a conversion that counted is reversed")

	// The second reversal of a reversed conversion is a duplicate.
	reversed := o
	reversed.Status = event.StatusReversed
	in = update(reversed, event.StatusReversed)
	dec = d.Decide(&in)
	require.Equal(t, attribution.CodeAlreadyReversed, dec.Code)
	require.True(t, dec.Change.Duplicate())
	require.Equal(t, event.StatusReversed, dec.Status)
	require.Contains(t, dec.Reason(), "a second reversal")

	// A retry of the original is a duplicate too.
	in = update(o, event.StatusApproved)
	dec = d.Decide(&in)
	require.Equal(t, attribution.CodeStatusUnchanged, dec.Code)
	require.True(t, dec.Change.Duplicate())

	// Approval of a held conversion.
	held := o
	held.Status = event.StatusPending
	in = update(held, event.StatusApproved)
	dec = d.Decide(&in)
	require.Equal(t, attribution.CodeStatusChanged, dec.Code)
	require.Equal(t, event.StatusApproved, dec.Status)

	// A chargeback of a held deposit rejects it: it never counted.
	in = update(held, event.StatusReversed)
	dec = d.Decide(&in)
	require.Equal(t, attribution.CodeStatusChanged, dec.Code)
	require.Equal(t, event.StatusRejected, dec.Status)
	require.Contains(t, dec.Reason(), "a conversion that never counted is rejected")

	// Refused: the conversion keeps its status, and the decision says why.
	rejected := o
	rejected.Status = event.StatusRejected
	for _, tc := range []struct {
		name   string
		o      store.Conversion
		to     event.Status
		reason string
	}{
		{"rejected is final", rejected, event.StatusApproved, "is rejected, a final status, and cannot become approved"},
		{"reversed is final", reversed, event.StatusPending, "is reversed, a final status, and cannot become pending"},
		{"no way back to pending", o, event.StatusPending, "is approved and cannot go back to pending"},
		{"not a status", o, "chargeback", `cannot take the status "chargeback"`},
	} {
		in := update(tc.o, tc.to)
		dec := d.Decide(&in)
		require.Equal(t, attribution.CodeInvalidTransition, dec.Code, tc.name)
		require.False(t, dec.Change.Allowed(), tc.name)
		require.Equal(t, tc.o.Status, dec.Status, "%s: rule: a refused change changes nothing", tc.name)
		require.Contains(t, dec.Reason(), tc.reason, tc.name)
		require.Contains(t, dec.Reason(), "refused, nothing changes", tc.name)
	}

	// An update is no exception to the clock: one from the future is rejected, not applied.
	in = update(o, event.StatusReversed)
	in.Conversion.OccurredAt = in.Conversion.ReceivedAt.Add(time.Hour)
	dec = d.Decide(&in)
	require.Equal(t, attribution.CodeEventInFuture, dec.Code)
	require.True(t, dec.Change.IsZero())
	// Nor to dedup: a reversal without the transaction ID it is found by is refused.
	in = update(o, event.StatusReversed)
	in.Conversion.TransactionID = ""
	dec = d.Decide(&in)
	require.True(t, dec.Refused())
	require.Equal(t, attribution.CodeMissingTransactionID, dec.Code)
}

// TestDecide_ReversalBeforeOriginal: a chargeback that overtakes its deposit is parked with
// its reason and its own key; once the deposit is recorded, deciding it again with the
// original reverses it, and a retry of it is then a duplicate.
func TestDecide_ReversalBeforeOriginal(t *testing.T) {
	t.Parallel()
	d := decider(t, casino())
	st := memstore.New(nil)
	k := click(1, "aff-1", "casino", t0)
	deposit := ftd(&k, t0.Add(time.Hour))
	deposit.Conversion.Event = event.Deposit

	chargeback := deposit
	chargeback.Conversion.Status = event.StatusReversed
	chargeback.Conversion.ReceivedAt = t0.Add(30 * time.Minute) // it arrives first
	chargeback.Conversion.OccurredAt = time.Time{}
	chargeback.Click = nil
	parked := d.Decide(&chargeback)
	require.True(t, parked.Park, "rule: a reversal before its original is parked")
	require.Equal(t, attribution.CodeParkedReversal, parked.Code)
	require.Equal(t, event.StatusReversed, parked.Status)
	require.Empty(t, parked.AffiliateID, "nobody is credited or debited yet")
	require.True(t, parked.Change.IsZero())
	require.False(t, parked.Refused())
	require.Contains(t, parked.Reason(), "parked: a reversal")
	require.Contains(t, parked.Reason(), "applied when its original is recorded")

	// The deposit lands: decided as if nothing were parked.
	dec := d.Decide(&deposit)
	require.Equal(t, attribution.CodeClick, dec.Code)
	require.Equal(t, parked.DedupKey(), dec.DedupKey(), "rule: the parked reversal is found under its original's key")
	rec := deposit.Conversion
	rec.ID = uuid.New()
	dec.Apply(&rec)
	_, err := st.RecordConversion(t.Context(), store.RecordConversionParams{Conversion: rec})
	require.NoError(t, err)

	// The parked reversal, decided again with its original, reverses it.
	o, err := st.GetConversionByKey(t.Context(), parked.DedupKey())
	require.NoError(t, err)
	chargeback.Original = &o
	dec = d.Decide(&chargeback)
	require.Equal(t, attribution.CodeStatusChanged, dec.Code)
	require.False(t, dec.Park)
	require.Equal(t, "aff-1", dec.AffiliateID)
	changed, err := st.ChangeStatus(t.Context(), store.ChangeStatusParams{ConversionID: o.ID, From: dec.Change.From, To: dec.Change.To,
		Reason: dec.Reason(), At: chargeback.Conversion.ReceivedAt})
	require.NoError(t, err)
	require.Equal(t, event.StatusReversed, changed.Status)

	// The sender retries the chargeback: a duplicate.
	chargeback.Original = &changed
	dec = d.Decide(&chargeback)
	require.Equal(t, attribution.CodeAlreadyReversed, dec.Code)
	require.True(t, dec.Change.Duplicate())

	// A Reversal event is parked the same way, whatever its status.
	rv := deposit
	rv.Conversion.Event, rv.Conversion.Status, rv.Click = event.Reversal, event.StatusApproved, nil
	dec = d.Decide(&rv)
	require.True(t, dec.Park)
	require.Equal(t, attribution.CodeParkedReversal, dec.Code)
	// Other statuses of an unknown transaction are new conversions, not updates.
	pending := deposit
	pending.Conversion.Status = event.StatusPending
	dec = d.Decide(&pending)
	require.False(t, dec.Park)
	require.Equal(t, attribution.CodeClick, dec.Code)
	require.True(t, dec.Change.IsZero())
}

// TestStatus_EveryDialectStatus drives every status that postback's dialects can produce (the
// native one and every preset: each status word they map, the status of a postback that
// sends none, and what an unknown word becomes) through parsing into the status machine:
// each is a status the machine knows, from every stored status, and none is refused as
// unknown. Dialects own the words; the machine owns the moves; this test fails on a drift
// between them.
func TestStatus_EveryDialectStatus(t *testing.T) {
	t.Parallel()
	d := decider(t, attribution.Config{})
	dialects := []*postback.Dialect{postback.Native()}
	for _, name := range postback.PresetNames() {
		dl, err := postback.Preset(name)
		require.NoError(t, err)
		dl.DefaultCurrency = "EUR"
		dialects = append(dialects, dl)
	}
	produced := map[event.Status]bool{}
	for _, dl := range dialects {
		src, err := postback.NewSource(dl.Name, postback.Auth{Method: postback.MethodNone},
			&postback.SourceOptions{Dialect: dl, Now: func() time.Time { return t0 }})
		require.NoError(t, err, dl.Name)
		words := []string{""} // no status parameter: the dialect's default
		if len(dl.Status) > 0 {
			words = append(words, "no-such-status")
			if dl.Statuses == nil {
				for _, s := range event.Statuses() {
					words = append(words, string(s))
				}
			}
			for w := range dl.Statuses {
				words = append(words, w)
			}
		}
		for _, w := range words {
			q := url.Values{dl.ClickID[0]: {"foreign-click-1"}}
			if dl.DefaultEvent == "" {
				q.Set(dl.Event[0], string(event.Deposit))
			}
			if len(dl.TransactionID) > 0 {
				q.Set(dl.TransactionID[0], "TX-1")
			}
			if w != "" {
				q.Set(dl.Status[0], w)
			}
			pb, err := src.ParseQuery("/postback", q.Encode())
			if err != nil {
				require.Equal(t, "no-such-status", w, "%s: %q: %v", dl.Name, w, err)
				require.Empty(t, dl.UnknownStatus, "%s: an unknown word is refused only without UnknownStatus", dl.Name)
				continue
			}
			require.True(t, pb.Status.Valid(), "%s: %q gives %q", dl.Name, w, pb.Status)
			produced[pb.Status] = true
			c := pb.Conversion()
			for _, from := range event.Statuses() {
				o := store.Conversion{ID: uuid.New(), Status: from, Event: c.Event, AffiliateID: "aff-1"}
				in := attribution.Input{Conversion: c, Original: &o}
				dec := d.Decide(&in)
				require.False(t, dec.Refused(), "%s: %q: %s", dl.Name, w, dec.Reason())
				require.Equal(t, attribution.Transition(from, dec.Change.Requested), dec.Change, "%s: %q from %s", dl.Name, w, from)
				require.True(t, dec.Change.Requested.Valid(), "%s: %q", dl.Name, w)
				require.NotContains(t, dec.Reason(), "not one of event's", "%s: %q from %s: rule: the machine knows every status postback produces", dl.Name, w, from)
			}
			// Without an original, the event is new (or a parked reversal): never an update.
			in := attribution.Input{Conversion: c}
			dec := d.Decide(&in)
			require.True(t, dec.Change.IsZero(), "%s: %q", dl.Name, w)
			require.Equal(t, pb.Status == event.StatusReversed, dec.Park, "%s: %q", dl.Name, w)
		}
	}
	for _, s := range []event.Status{event.StatusPending, event.StatusApproved, event.StatusRejected, event.StatusReversed} {
		require.True(t, produced[s], "postback can produce %s: the machine is tested on it", s)
	}
}

// TestDecide_Rebill: a rebill (Keitaro's status) is no status change but a new event of a
// player who converted before, with a transaction ID of its own: its own dedup key, decided
// like any event, a bound player's following the binding.
func TestDecide_Rebill(t *testing.T) {
	t.Parallel()
	keitaro, err := postback.Preset("keitaro")
	require.NoError(t, err)
	src, err := postback.NewSource("keitaro", postback.Auth{Method: postback.MethodNone},
		&postback.SourceOptions{Dialect: keitaro, Now: func() time.Time { return t0 }})
	require.NoError(t, err)
	d := decider(t, casino())
	b := store.PlayerBinding{PlayerID: "P-1", AffiliateID: "aff-1", CampaignID: "casino", Method: store.BindByClick, BoundAt: t0.Add(-time.Hour)}
	var keys []string
	for _, q := range []string{"subid=k1&tid=R-1&status=sale&payout=20&currency=usd", "subid=k1&tid=R-2&status=rebill&payout=20&currency=usd"} {
		pb, err := src.ParseQuery("/postback", q)
		require.NoError(t, err, q)
		in := attribution.Input{Conversion: pb.Conversion(), Binding: &b}
		dec := d.Decide(&in)
		require.Equal(t, attribution.CodeBinding, dec.Code, q)
		require.Equal(t, "aff-1", dec.AffiliateID, q)
		require.Equal(t, event.StatusApproved, dec.Status, q)
		require.True(t, dec.Change.IsZero(), "%s: rule: a rebill is no status change", q)
		require.False(t, dec.Park, q)
		keys = append(keys, dec.DedupKey())
	}
	require.NotEqual(t, keys[0], keys[1], "rule: a rebill is a new conversion, with a key of its own")
}

// TestDecision_Attributed: a decision is attributed when the conversion, as it leaves it, is
// credited: an affiliate named and a status of approved or pending. Rejections name the
// affiliate they do not credit; a reversal names the affiliate whose credit it takes back.
func TestDecision_Attributed(t *testing.T) {
	t.Parallel()
	d := decider(t, casino())
	o := original(t, d)
	held := o
	held.Status = event.StatusPending
	k := click(1, "aff-1", "casino", t0)
	pendingFTD := ftd(&k, t0.Add(time.Hour))
	pendingFTD.Conversion.Status = event.StatusPending
	over, ok := decider(t, capped(dailyFTDs(attribution.CapUnpaid))).Decide(ptr(ftd(&k, t0.Add(time.Hour)))).OverCap("cap:daily_ftd:aff=aff-1:day=2026-03-02")
	require.True(t, ok)
	for _, tc := range []struct {
		name       string
		dec        attribution.Decision
		affiliate  string
		attributed bool
	}{
		{"credited by a click", d.Decide(ptr(ftd(&k, t0.Add(time.Hour)))), "aff-1", true},
		{"credited, pending", d.Decide(&pendingFTD), "aff-1", true},
		{"over a cap, unpaid", over, "aff-1", true},
		{"unattributed", d.Decide(ptr(ftd(nil, t0))), "", false},
		{"out of its window", d.Decide(ptr(ftd(&k, t0.AddDate(0, 2, 0)))), "aff-1", false},
		{"a reversal of an approved conversion", d.Decide(ptr(update(o, event.StatusReversed))), "aff-1", false},
		{"a chargeback of a held one (rejected)", d.Decide(ptr(update(held, event.StatusReversed))), "aff-1", false},
		{"an approval of a held one", d.Decide(ptr(update(held, event.StatusApproved))), "aff-1", true},
		{"a retry of an approved one", d.Decide(ptr(update(o, event.StatusApproved))), "aff-1", true},
		{"parked", d.Decide(ptr(update(o, event.StatusReversed), func(in *attribution.Input) { in.Original = nil })), "", false},
	} {
		require.Equal(t, tc.affiliate, tc.dec.AffiliateID, tc.name)
		require.Equal(t, tc.attributed, tc.dec.Attributed(), "%s (%s, %s)", tc.name, tc.dec.Status, tc.dec.Code)
	}
}

// ptr returns a pointer to a copy of in, changed by the functions given.
func ptr(in attribution.Input, change ...func(*attribution.Input)) *attribution.Input {
	for _, f := range change {
		f(&in)
	}
	return &in
}
