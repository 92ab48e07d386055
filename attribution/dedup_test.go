package attribution_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/attribution"
	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/store"
)

var vectorClick = clickid.MustParse("01j3st4z2efcd9y00w5mz4ypkb")

// TestDedup_KeyCompat pins a few keys of the default mode, in the code: they are byte for
// byte the keys that postback's (*Postback).DedupKey made before attribution took it over
// (TestDedup_Vectors pins 226 more), so that keys stored by earlier versions still meet
// their retries.
func TestDedup_KeyCompat(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		c    store.Conversion
		want string
	}{
		{store.Conversion{Source: "casino-x", Event: event.FTD, ClickID: vectorClick, PlayerID: "P-1", TransactionID: "TX-1"},
			"v1:fa598343597e52ac8ac44f1b99f03687ed768fda20afd1f538179d56a625e8c1"},
		{store.Conversion{Source: "casino-x", Event: event.Registration, ClickID: vectorClick, PlayerID: "P-1"},
			"v1:1e56a043ebf271588cc9a391763b12c72f4292b93035dbf183d8cff5db359d1d"},
		{store.Conversion{Source: "casino-x", Event: event.Registration, ClickID: vectorClick},
			"v1:834271b463dd9d1fc65c1054edfdeb3741b97ce6481ab454cf5a0a95a3e32f77"},
		{store.Conversion{Source: "casino-x", Event: event.Registration, ForeignClickID: "gclid-Cj0KCQ"},
			"v1:ccc1251ab0f39ee597743730717a75dfa9bb5c8e31bc7cd5af053948b9c6826c"},
		{store.Conversion{Event: event.Deposit, TransactionID: "T1", PlayerID: "P"},
			"v1:8e284a40a3175c057d1eccfb9a640f36b9d40b67d4cf9044cd056479807010b3"},
		{store.Conversion{Source: "broker-ü", Event: "custom_goal", TransactionID: "T-ü-2"},
			"v1:38d19e36c62e977980ad6ce09f32af47ba5a44e45ec1139d035d359aee7c0b3a"},
		{store.Conversion{Source: "casino-x", Event: event.Reversal, TransactionID: "TX-1"},
			"v1:d11a36d4611a75c7bd6af92a985bdee3cd9d7bac5c7275cac9c50c20bd3df947"},
		{store.Conversion{Source: "s", Event: event.Conversion, ClickID: vectorClick},
			"v1:c0835194741c33dd409984977f1fb38545b7ed34a82bb87f1bbab1cef6fca012"},
	} {
		key, code := attribution.Dedup{}.Key(&tc.c)
		require.Empty(t, code)
		require.Equal(t, tc.want, key, "%+v", tc.c)
		explicit, _ := attribution.Dedup{Mode: attribution.DedupEventTransaction}.Key(&tc.c)
		require.Equal(t, tc.want, explicit, "rule: the zero Dedup is DedupEventTransaction")
		require.NoError(t, store.CheckKey(key))
	}
}

// TestDedup_DefaultMode: what the default mode's key is made of: the source, the event and
// the transaction ID; without one, for an event that happens once for a player or a click,
// the player ID, else the foreign click ID, else the click ID. Nothing else (status, amount,
// times, sub IDs, the click or player beside a transaction) changes it; parts never run
// into each other, and a transaction ID never meets a player ID.
func TestDedup_DefaultMode(t *testing.T) {
	t.Parallel()
	keyOf := func(c store.Conversion) string {
		t.Helper()
		k, code := attribution.Dedup{}.Key(&c)
		require.Empty(t, code)
		return k
	}
	with := func(c store.Conversion, f func(*store.Conversion)) store.Conversion { f(&c); return c }
	t0 := time.Unix(1732350000, 0).UTC()
	ftd := store.Conversion{Source: "casino-x", Event: event.FTD, ClickID: vectorClick, PlayerID: "P-1", TransactionID: "TX-1",
		Status: event.StatusPending, ReceivedAt: t0}
	key := keyOf(ftd)
	for name, c := range map[string]store.Conversion{
		"a retry, later":                   with(ftd, func(c *store.Conversion) { c.ReceivedAt = t0.Add(time.Hour) }),
		"another status (a status change)": with(ftd, func(c *store.Conversion) { c.Status = event.StatusApproved }),
		"another amount (a conflict, for the store to tell)": with(ftd, func(c *store.Conversion) {
			c.Amount = money.MustParse("5.00", money.EUR)
		}),
		"another click or player":         with(ftd, func(c *store.Conversion) { c.PlayerID = "P-2"; c.ClickID = clickid.ID{1} }),
		"another event time, sub IDs, ID": with(ftd, func(c *store.Conversion) { c.OccurredAt = t0; c.SubIDs = []string{"s"}; c.ID = uuid.New() }),
	} {
		require.Equal(t, key, keyOf(c), name)
	}
	seen := map[string]string{key: "ftd"}
	for name, c := range map[string]store.Conversion{
		"another transaction":                 with(ftd, func(c *store.Conversion) { c.TransactionID = "TX-2" }),
		"another event of the transaction":    with(ftd, func(c *store.Conversion) { c.Event = event.Reversal }),
		"another source":                      with(ftd, func(c *store.Conversion) { c.Source = "casino-y" }),
		"parts that shift (source and event)": with(ftd, func(c *store.Conversion) { c.Source, c.Event = "casino-xf", "td" }),
		"the registration of the same player": with(ftd, func(c *store.Conversion) { c.TransactionID = ""; c.Event = event.Registration }),
		"a transaction ID that is the player ID": with(ftd, func(c *store.Conversion) {
			c.TransactionID, c.Event = "P-1", event.Registration
		}),
	} {
		k := keyOf(c)
		require.NotContains(t, seen, k, name)
		seen[k] = name
	}
	reg := store.Conversion{Source: "casino-x", Event: event.Registration, ClickID: vectorClick, PlayerID: "P-1", ReceivedAt: t0}
	require.Equal(t, keyOf(reg), keyOf(with(reg, func(c *store.Conversion) { c.ClickID = clickid.ID{2} })), "one registration per player, whichever click")
	require.NotEqual(t, keyOf(reg), keyOf(with(reg, func(c *store.Conversion) { c.PlayerID = "P-2" })))
	byClick := with(reg, func(c *store.Conversion) { c.PlayerID = "" })
	require.Equal(t, keyOf(byClick), keyOf(with(byClick, func(c *store.Conversion) { c.ReceivedAt = t0.Add(time.Minute) })))
	require.NotEqual(t, keyOf(byClick), keyOf(with(byClick, func(c *store.Conversion) { c.ClickID = clickid.ID{2} })))
	foreign := with(byClick, func(c *store.Conversion) {
		c.ClickID, c.ForeignClickID = clickid.ID{}, clickid.Foreign(vectorClick.String())
	})
	require.NotEqual(t, keyOf(byClick), keyOf(foreign), "a foreign ID never meets a native one")
}

// TestDedup_Refusals: a mode that needs a field refuses an event without it, never
// collapsing it onto a key without the field.
func TestDedup_Refusals(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		mode attribution.DedupMode
		c    store.Conversion
		want attribution.Code
	}{
		{"a deposit without a transaction", attribution.DedupEventTransaction,
			store.Conversion{Source: "s", Event: event.Deposit, PlayerID: "P", ClickID: vectorClick}, attribution.CodeMissingTransactionID},
		{"a registration with nothing to key it", attribution.DedupEventTransaction,
			store.Conversion{Source: "s", Event: event.Registration}, attribution.CodeMissingPlayerID},
		{"transaction mode without one", attribution.DedupTransaction,
			store.Conversion{Source: "s", Event: event.Registration, PlayerID: "P"}, attribution.CodeMissingTransactionID},
		{"player mode without a player", attribution.DedupPlayerEvent,
			store.Conversion{Source: "s", Event: event.FTD, TransactionID: "T"}, attribution.CodeMissingPlayerID},
		{"every without an ID", attribution.DedupEvery,
			store.Conversion{Source: "s", Event: event.FTD, TransactionID: "T", PlayerID: "P"}, attribution.CodeMissingConversionID},
	} {
		key, code := attribution.Dedup{Mode: tc.mode}.Key(&tc.c)
		require.Empty(t, key, tc.name)
		require.Equal(t, tc.want, code, tc.name)
	}
	ok := store.Conversion{Source: "s", Event: event.FTD, TransactionID: "T", PlayerID: "P", ID: uuid.New()}
	for _, m := range []attribution.DedupMode{attribution.DedupEventTransaction, attribution.DedupTransaction, attribution.DedupPlayerEvent, attribution.DedupEvery} {
		key, code := attribution.Dedup{Mode: m}.Key(&ok)
		require.Empty(t, code, m)
		require.Regexp(t, `^[vtpe]1:[0-9a-f]{64}$`, key, m)
	}
}

// TestDedup_Namespaced: in every mode, the source is part of the key, so two senders' "T1"
// never meet; and keys of two modes never meet either.
func TestDedup_Namespaced(t *testing.T) {
	t.Parallel()
	c := store.Conversion{ID: uuid.New(), Source: "network-a", Event: event.FTD, PlayerID: "P", TransactionID: "T1", ClickID: vectorClick}
	other := c
	other.Source = "network-b"
	seen := map[string]attribution.DedupMode{}
	for _, m := range []attribution.DedupMode{attribution.DedupEventTransaction, attribution.DedupTransaction, attribution.DedupPlayerEvent, attribution.DedupEvery} {
		a, _ := attribution.Dedup{Mode: m}.Key(&c)
		b, _ := attribution.Dedup{Mode: m}.Key(&other)
		require.NotEqual(t, a, b, "%s: rule: keys are namespaced by source", m)
		for _, k := range []string{a, b} {
			require.NotContains(t, seen, k, m)
			seen[k] = m
		}
	}
}
