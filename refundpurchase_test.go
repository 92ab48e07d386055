package s2s_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/store"
)

// TestTracker_RefundFindsItsPurchase: a refund claws back the purchase of its own
// transaction (its source's purchase with the refund's transaction ID), found exactly, never
// a purchase its dedup key would guess. Under a dedup mode that keys purchases by player
// (player_event), the player's second purchase is a conflict of the first and is not
// recorded, and its refund claws back nothing, where the dedup key of "the purchase" is the
// first's; under one that keys every purchase apart (every), the player's two purchases are
// both recorded, and each refund claws back its own, where no dedup key finds either.
func TestTracker_RefundFindsItsPurchase(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		mode   string
		second int    // the status the second purchase is answered
		refund string // the transaction refunded
		back   string // the purchase clawed back, "" if none
	}{
		{"player_event", http.StatusConflict, "P-2", ""},
		{"every", http.StatusAccepted, "P-1", "P-1"},
		{"every", http.StatusAccepted, "P-2", ""}, // the second purchase earned nothing
	} {
		t.Run(tc.mode+"/"+tc.refund, func(t *testing.T) {
			t.Parallel()
			cfg := strings.Replace(propConfig, `"attribution": {`,
				`"attribution": {"dedup": {"events": {"purchase": "`+tc.mode+`"}}, `, 1)
			stores(t, func(t *testing.T, st store.Store) {
				f, prog := newFixtureWith(t, st, cfg)
				l := &life{f: f}
				day := seamNow.Add(-10 * 24 * time.Hour)
				click := f.click(t, "aff-prop", day.Add(-time.Hour))
				usd := func(v string) money.Amount { return money.MustParse(v, money.USD) }
				ev := func(id string, ty event.Type, at time.Time) *commission.Event {
					return &commission.Event{ID: id, Type: ty, At: at, AffiliateID: "aff-prop", PlayerID: "trader-1"}
				}
				l.send(t, url.Values{"click_id": {click.String()}}, ev("REG-1", event.Registration, day))
				first := ev("P-1", event.Purchase, day.Add(time.Hour))
				first.Amount, first.AccountSize = usd("299.00"), usd("100000.00")
				l.send(t, url.Values{"amount": {"299.00"}, "currency": {"USD"}, "account_size": {"100000.00"}}, first)
				second := url.Values{"event": {"purchase"}, "player_id": {"trader-1"}, "txn_id": {"P-2"},
					"occurred_at": {fmt.Sprint(day.Add(2 * time.Hour).Unix())},
					"amount":      {"99.00"}, "currency": {"USD"}, "account_size": {"100000.00"}}
				require.Equal(t, tc.second, f.send(t, second), "the second purchase")
				if tc.second == http.StatusAccepted {
					e := ev("P-2", event.Purchase, day.Add(2*time.Hour))
					e.Amount, e.AccountSize = usd("99.00"), usd("100000.00")
					l.events = append(l.events, *e)
				}
				refund := ev(tc.refund+"/refund", event.Refund, day.Add(24*time.Hour))
				refund.Reverses = tc.refund
				l.send(t, url.Values{"txn_id": {tc.refund}}, refund)
				if tc.second != http.StatusAccepted {
					// Replay refuses a refund of an event it was never given: the history it
					// is compared with is the one without the refund, which earns nothing.
					l.events = l.events[:len(l.events)-1]
				}

				lines := l.ledger(t, "aff-prop")
				if tc.back == "" {
					require.Equal(t, map[commission.Kind]int{commission.KindAccrual: 1}, kinds(lines),
						"rule: the refund of %s claws back no other purchase", tc.refund)
				} else {
					require.Equal(t, map[commission.Kind]int{commission.KindAccrual: 1, commission.KindClawback: 1}, kinds(lines),
						"rule: the refund of %s claws back its purchase", tc.refund)
					require.Equal(t, usd("-44.85"), lines[1].Amount, "rule: the clawback negates %s's CPA", tc.back)
				}
				requireReplayed(t, prog, lines, l.events)
			})
		})
	}
}
