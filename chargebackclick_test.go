package s2s_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/store"
)

// TestTracker_ChargebackClickHTTP: the outbound postbacks of the status changes of
// conversions that came through the player's binding (their postbacks name no click) carry
// the click that acquired the player, as the conversions' own postbacks do: a chargeback of
// the FTD (the transaction again, status reversed), a reversal event of a deposit, and a
// reversal that arrived before its deposit, applied when the deposit lands. The receiver of
// every one of them sees the original click ID.
func TestTracker_ChargebackClickHTTP(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st store.Store) {
		start := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
		l := newHTTPLife(t, st, igamingConfig, start)
		click := l.click(t, "casino", "aff-1", start)
		ev := func(id string, ty event.Type, at time.Time) *commission.Event {
			return &commission.Event{ID: id, Type: ty, At: at, AffiliateID: "aff-1", PlayerID: "player-1"}
		}
		eur := func(amount string) url.Values { return url.Values{"amount": {amount}, "currency": {"EUR"}} }
		l.sendAt(t, url.Values{"click_id": {click}}, ev("REG-1", event.Registration, start.Add(time.Hour)))
		ftdAt := start.Add(2 * time.Hour)
		l.sendAt(t, eur("150.00"), ev("DEP-1", event.FTD, ftdAt))
		l.sendAt(t, eur("80.00"), ev("DEP-2", event.Deposit, start.Add(3*time.Hour)))

		undo := func(q url.Values, at time.Time) {
			t.Helper()
			l.clock.Set(at)
			require.Equal(t, http.StatusAccepted, l.postback(t, q), "%v", q)
		}
		// The FTD charged back: its transaction again, as it was sent, with status reversed.
		chargeback := eur("150.00")
		chargeback.Set("event", "ftd")
		chargeback.Set("player_id", "player-1")
		chargeback.Set("txn_id", "DEP-1")
		chargeback.Set("occurred_at", fmt.Sprint(ftdAt.Unix()))
		chargeback.Set("status", "reversed")
		undo(chargeback, start.Add(5*time.Hour))
		// A reversal event of the deposit, which names its transaction only.
		rev := eur("80.00")
		rev.Set("event", "reversal")
		rev.Set("player_id", "player-1")
		rev.Set("txn_id", "DEP-2")
		undo(rev, start.Add(6*time.Hour))
		// A reversal that arrives before its deposit is parked, and applied when it lands.
		early := eur("40.00")
		early.Set("event", "reversal")
		early.Set("player_id", "player-1")
		early.Set("txn_id", "DEP-3")
		undo(early, start.Add(7*time.Hour))
		l.sendAt(t, eur("40.00"), ev("DEP-3", event.Deposit, start.Add(8*time.Hour)))

		// The registration, the FTD and two deposits, and the three reversals.
		const n = 7
		deadline := time.NewTimer(20 * time.Second)
		defer deadline.Stop()
		got := map[string]url.Values{}
		for i := range n {
			select {
			case q := <-l.got:
				k := q.Get("txn") + " " + q.Get("event") + " " + q.Get("status")
				require.NotContains(t, got, k, "rule: one delivery per change and endpoint")
				got[k] = q
			case <-deadline.C:
				t.Fatalf("%d of %d outbound postbacks arrived: %v", i, n, got)
			}
		}
		for _, k := range []string{"DEP-1 ftd reversed", "DEP-2 deposit reversed", "DEP-3 deposit reversed"} {
			require.Contains(t, got, k, "rule: each reversal is told to the affiliate")
			require.Equal(t, click, got[k].Get("cid"), "rule: the outbound postback of %s carries the click that acquired the player", k)
			require.Equal(t, "aff-1", got[k].Get("aff"))
		}
		for k, q := range got {
			require.Equal(t, click, q.Get("cid"), "rule: %s carries the click's ID", k)
		}
		l.finish(t, n)
	})
}
