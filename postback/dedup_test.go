package postback_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/postback"
	"github.com/s2skit/s2s/store"
)

// TestParseQuery_TransactionID: every event that a player can cause more than once needs a
// transaction ID, or two of them would share one dedup key; only a registration, a
// verification and a vendor's main conversion may come without one.
func TestParseQuery_TransactionID(t *testing.T) {
	t.Parallel()
	src := openSource(t, nil)
	once := map[event.Type]bool{event.Registration: true, event.Verification: true, event.Conversion: true}
	for _, typ := range append(event.Types(), "custom_goal", "revenue_report") {
		_, err := src.ParseQuery("/p", "click_id=a&player_id=p&event="+string(typ))
		if once[typ] {
			require.NoError(t, err, typ)
		} else {
			require.Equal(t, postback.ReasonMissingTxnID, postback.ReasonOf(err), typ)
			require.Equal(t, 422, postback.StatusCode(postback.ReasonOf(err)))
		}
		_, err = src.ParseQuery("/p", "click_id=a&player_id=p&txn_id=T-1&event="+string(typ))
		require.NoError(t, err, typ)
	}
	// The money-moving events, named.
	for _, typ := range []event.Type{event.FTD, event.Deposit, event.Purchase, event.Trade, event.Revenue, event.Reversal, event.Refund} {
		_, err := src.ParseQuery("/p", "click_id=a&event="+string(typ)+"&amount=1.00&currency=EUR&occurred_at=1732350000")
		require.Equal(t, postback.ReasonMissingTxnID, postback.ReasonOf(err), "%s, even with an event time", typ)
	}
	// A preset's default event is a conversion: one per click, as vendors count it.
	binom, err := postback.Preset("binom")
	require.NoError(t, err)
	pb, err := openSource(t, &postback.SourceOptions{Dialect: binom}).ParseQuery("/click.php", "cnv_id=c1&payout=1.00&cnv_currency=EUR")
	require.NoError(t, err)
	require.Equal(t, event.Conversion, pb.Event)
}

func TestPostback_DedupKey(t *testing.T) {
	t.Parallel()
	id := clickid.MustParse("01j3st4z2efcd9y00w5mz4ypkb")
	ftd := postback.Postback{Source: "casino-x", Event: event.FTD, ClickKind: postback.ClickNative, ClickID: id,
		PlayerID: "P-1", TransactionID: "TX-1", Status: event.StatusPending, ReceivedAt: t0}
	reg := postback.Postback{Source: "casino-x", Event: event.Registration, ClickKind: postback.ClickNative, ClickID: id,
		PlayerID: "P-1", ReceivedAt: t0}
	with := func(p postback.Postback, f func(*postback.Postback)) postback.Postback { f(&p); return p }
	keyOf := func(p postback.Postback) string { return p.DedupKey() }
	key := ftd.DedupKey()
	require.Regexp(t, "^v1:[0-9a-f]{64}$", key)
	require.NoError(t, store.CheckKey(key), "a store takes it as a dedup key")

	same := map[string]postback.Postback{
		"a retry, later, with another key ID": with(ftd, func(p *postback.Postback) { p.ReceivedAt = t0.Add(time.Hour); p.KeyID = "k2" }),
		"another status (a status change)":    with(ftd, func(p *postback.Postback) { p.Status = event.StatusApproved }),
		"another amount (a conflict, for the store to tell)": with(ftd, func(p *postback.Postback) {
			p.HasAmount = true
		}),
		"another click or player": with(ftd, func(p *postback.Postback) { p.PlayerID = "P-2"; p.ClickID = clickid.ID{1} }),
		"another event time":      with(ftd, func(p *postback.Postback) { p.OccurredAt = t0 }),
	}
	for name, p := range same {
		require.Equal(t, key, p.DedupKey(), name)
	}
	differs := map[string]postback.Postback{
		"another transaction":                 with(ftd, func(p *postback.Postback) { p.TransactionID = "TX-2" }),
		"another event of the transaction":    with(ftd, func(p *postback.Postback) { p.Event = event.Reversal }),
		"another source":                      with(ftd, func(p *postback.Postback) { p.Source = "casino-y" }),
		"parts that shift (source and event)": with(ftd, func(p *postback.Postback) { p.Source, p.Event = "casino-xf", "td" }),
		"the registration of the same player": with(ftd, func(p *postback.Postback) {
			p.TransactionID = ""
			p.Event = event.Registration
		}),
	}
	seen := map[string]string{key: "ftd"}
	for name, p := range differs {
		k := p.DedupKey()
		require.NotContains(t, seen, k, name)
		seen[k] = name
	}

	// Without a transaction ID: once per player, or else per click.
	regKey := reg.DedupKey()
	require.Equal(t, regKey, keyOf(with(reg, func(p *postback.Postback) { p.ClickID = clickid.ID{2} })),
		"one registration per player, whichever click")
	require.NotEqual(t, regKey, keyOf(with(reg, func(p *postback.Postback) { p.PlayerID = "P-2" })))
	byClick := with(reg, func(p *postback.Postback) { p.PlayerID = "" })
	require.Equal(t, byClick.DedupKey(), keyOf(with(byClick, func(p *postback.Postback) { p.ReceivedAt = t0.Add(time.Minute) })))
	require.NotEqual(t, byClick.DedupKey(), keyOf(with(byClick, func(p *postback.Postback) { p.ClickID = clickid.ID{2} })))
	foreign := with(byClick, func(p *postback.Postback) {
		p.ClickKind, p.ClickID, p.ForeignClickID = postback.ClickForeign, clickid.ID{}, clickid.Foreign(id.String())
	})
	require.NotEqual(t, byClick.DedupKey(), foreign.DedupKey(), "a foreign ID never meets a native one")
	require.NotEqual(t, regKey, keyOf(with(reg, func(p *postback.Postback) { p.PlayerID = ""; p.TransactionID = "P-1" })),
		"a transaction ID never meets a player ID")

	// Parsed: a retry of a registration sent without a transaction ID or event time, some
	// minutes later, has the key of the first.
	c := &clock{t: t0}
	src := openSource(t, &postback.SourceOptions{Now: c.Now})
	first, err := src.ParseQuery("/p", "click_id="+id.String()+"&player_id=P-1&event=registration")
	require.NoError(t, err)
	c.t = t0.Add(5 * time.Minute)
	retry, err := src.ParseQuery("/p", "click_id="+id.String()+"&player_id=P-1&event=registration")
	require.NoError(t, err)
	require.NotEqual(t, first.ReceivedAt, retry.ReceivedAt)
	require.Equal(t, first.DedupKey(), retry.DedupKey())
}
