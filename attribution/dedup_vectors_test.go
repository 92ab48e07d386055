package attribution_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/attribution"
	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/store"
)

// keyVector is one pinned dedup key of the default mode: an event's fields, and the key
// postback.(*Postback).DedupKey made of them.
type keyVector struct {
	Source         string `json:"source"`
	Event          string `json:"event"`
	ClickID        string `json:"click_id,omitempty"`
	ForeignClickID string `json:"foreign_click_id,omitempty"`
	PlayerID       string `json:"player_id,omitempty"`
	TransactionID  string `json:"transaction_id,omitempty"`
	Key            string `json:"key"`
}

func (v *keyVector) conversion() store.Conversion {
	c := store.Conversion{Source: v.Source, Event: event.Type(v.Event), ForeignClickID: clickid.Foreign(v.ForeignClickID),
		PlayerID: v.PlayerID, TransactionID: v.TransactionID}
	if v.ClickID != "" {
		c.ClickID = clickid.MustParse(v.ClickID)
	}
	return c
}

// keyVectorInputs are the events of the vectors: every event type with a transaction ID,
// the events that may come without one by player, foreign click and click, lengths either
// side of the varint's one-byte limit (127, 128) up to store.MaxKeyLen, non-ASCII text,
// parts that shift between fields, and random events.
func keyVectorInputs() []keyVector {
	click := vectorClick.String()
	var vs []keyVector
	types := append(event.Types(), "custom_goal", "revenue_report", "x")
	for _, t := range types {
		vs = append(vs, keyVector{Source: "casino-x", Event: string(t), ClickID: click, PlayerID: "P-1", TransactionID: "TX-1"})
	}
	for _, t := range []event.Type{event.Registration, event.Verification, event.Conversion} {
		vs = append(vs,
			keyVector{Source: "casino-x", Event: string(t), ClickID: click, PlayerID: "P-1"},
			keyVector{Source: "casino-x", Event: string(t), ForeignClickID: "gclid-Cj0KCQiA"},
			keyVector{Source: "casino-x", Event: string(t), ClickID: click},
			keyVector{Source: "casino-x", Event: string(t), PlayerID: "P-1", ForeignClickID: "f-1"},
			keyVector{Source: "casino-x", Event: string(t), TransactionID: "P-1"},
		)
	}
	for _, n := range []int{1, 126, 127, 128, 129, 200, store.MaxKeyLen} {
		long := strings.Repeat("t", n)
		vs = append(vs,
			keyVector{Source: long, Event: "ftd", TransactionID: "T"},
			keyVector{Source: "s", Event: "ftd", TransactionID: long},
			keyVector{Source: "s", Event: "registration", PlayerID: long},
			keyVector{Source: "s", Event: "conversion", ForeignClickID: long},
		)
	}
	vs = append(vs,
		keyVector{Source: "", Event: "deposit", TransactionID: "T1", PlayerID: "P"},
		keyVector{Source: "casino-xf", Event: "td", TransactionID: "TX-1"},
		keyVector{Source: "casino-x", Event: "ftd", TransactionID: "TX-1"},
		keyVector{Source: "broker-ü", Event: "custom_goal", TransactionID: "T-ü-2"},
		keyVector{Source: "東京", Event: "registration", PlayerID: "プレイヤー"},
		keyVector{Source: "s", Event: "registration", ForeignClickID: click},
	)
	rng := rand.New(rand.NewPCG(2026, 11))
	word := func() string {
		const chars = "abcXYZ0189-_.:~ éü€"
		b := make([]rune, 1+rng.IntN(20))
		for i := range b {
			b[i] = []rune(chars)[rng.IntN(len([]rune(chars)))]
		}
		return string(b)
	}
	for range 200 {
		v := keyVector{Source: word(), Event: string(types[rng.IntN(len(types))])}
		if rng.IntN(4) > 0 {
			v.TransactionID = word()
		}
		switch rng.IntN(3) {
		case 0:
			var id clickid.ID
			for i := range id {
				id[i] = byte(rng.IntN(256))
			}
			id[6] = 0x70 | id[6]&0x0f // a version 7 ID
			id[8] = 0x80 | id[8]&0x3f // of the RFC 9562 variant
			v.ClickID = id.String()
		case 1:
			v.ForeignClickID = word()
		}
		if rng.IntN(2) == 0 {
			v.PlayerID = word()
		}
		vs = append(vs, v)
	}
	// Only events the default mode keys: the others (a deposit without a transaction ID)
	// postback's parser refuses too, and no key of them was ever stored.
	kept := vs[:0]
	for _, v := range vs {
		c := v.conversion()
		if _, code := (attribution.Dedup{}).Key(&c); code == "" {
			kept = append(kept, v)
		}
	}
	return kept
}

// TestDedup_Vectors: the default mode's keys are byte for byte the keys of
// testdata/dedup_keys.json, which postback's (*Postback).DedupKey made (a test with an
// -update flag wrote them with it, and checked attribution's against them) before
// attribution became the one builder of dedup keys: keys stored by earlier versions still
// meet their retries.
func TestDedup_Vectors(t *testing.T) {
	t.Parallel()
	const path = "testdata/dedup_keys.json"
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var vs []keyVector
	require.NoError(t, json.Unmarshal(b, &vs))
	inputs := keyVectorInputs()
	require.Len(t, vs, len(inputs))
	d := decider(t, attribution.Config{})
	for i, v := range vs {
		name := fmt.Sprintf("vector %d (%s/%s)", i, v.Source, v.Event)
		in := inputs[i]
		in.Key = v.Key
		require.Equal(t, in, v, "%s: the vector's event is the input's", name)
		c := v.conversion()
		key, code := attribution.Dedup{}.Key(&c)
		require.Empty(t, code, name)
		require.Equal(t, v.Key, key, name)
		input := attribution.Input{Conversion: c}
		require.Equal(t, v.Key, d.Decide(&input).DedupKey(), "%s: Decide's key is Dedup.Key's", name)
		require.NoError(t, store.CheckKey(key), name)
	}
}
