package s2s_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s"
	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/store"
)

// trackerProgram is the commission programme of trackerConfig, as Replay takes it.
func trackerProgram(t *testing.T) *commission.Program {
	t.Helper()
	var cfg s2s.Config
	require.NoError(t, json.Unmarshal([]byte(trackerConfig), &cfg))
	return cfg.Commission
}

// requireReplayed checks the rule of the Tracker's commission: the store's ledger lines,
// rebuilt into statements with commission.Statements, are the statements commission.Replay
// computes over the same events, line by line.
func requireReplayed(t *testing.T, prog *commission.Program, got []store.LedgerLine, events []commission.Event) {
	t.Helper()
	res, err := commission.Replay(prog, events, nil)
	require.NoError(t, err, "the test's history replays")
	lines := make([]commission.Line, len(got))
	for i := range got {
		lines[i] = got[i].Line
	}
	sts, err := commission.Statements(prog, lines, nil)
	require.NoError(t, err)
	require.Len(t, sts, len(res.Statements), "rule: the store's ledger has the statements Replay computes")
	for i, want := range res.Statements {
		st := sts[i]
		require.Equal(t, want.AffiliateID, st.AffiliateID, "statement %d", i)
		require.True(t, want.Period.Start.Equal(st.Period.Start) && want.Period.End.Equal(st.Period.End), "statement %d: period %s, want %s", i, st.Period, want.Period)
		require.Equal(t, want.Total, st.Total, "rule: statement %d totals what Replay totals", i)
		require.Len(t, st.Lines, len(want.Lines), "rule: statement %d has Replay's lines", i)
		for j := range want.Lines {
			require.True(t, want.Lines[j].Equal(st.Lines[j]), "rule: statement %d line %d is Replay's line\nwant %s\ngot  %s",
				i, j, want.Lines[j].Explain(), st.Lines[j].Explain())
		}
	}
}

// kinds counts the ledger lines of each kind.
func kinds(ls []store.LedgerLine) map[commission.Kind]int {
	out := map[commission.Kind]int{}
	for _, l := range ls {
		out[l.Kind]++
	}
	return out
}

// ftdEvent is the commission event of the FTD ftd(click, player, txn) sends.
func ftdEvent(player, txn string) commission.Event {
	return commission.Event{ID: txn, Type: event.FTD, At: seamNow.Add(-time.Hour), AffiliateID: "aff-1", PlayerID: player,
		Amount: money.MustParse("150.00", money.EUR)}
}

// reversalEvent is the commission event of the reversal of txn at at.
func reversalEvent(player, txn string, at time.Time) commission.Event {
	return commission.Event{ID: txn + "/reversal", Type: event.Reversal, At: at, AffiliateID: "aff-1", PlayerID: player, Reverses: txn}
}

// TestTracker_ChargebackClawback: a chargeback of a paid FTD (the transaction again, status
// reversed), a reversal event of one, and a rejection of one on hold each write the negative
// line of its CPA in the status change, at the time of the event that asks for it, as Replay
// computes it; a retry writes nothing more.
func TestTracker_ChargebackClawback(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st store.Store) {
		prog := trackerProgram(t)
		later := seamNow.Add(-10 * time.Minute)
		for _, tc := range []struct {
			name  string
			first func(q url.Values)
			undo  func(q url.Values) url.Values
			at    time.Time // of the undoing event
		}{
			{"chargeback", func(url.Values) {}, func(q url.Values) url.Values {
				r := cloneQuery(q)
				r.Set("status", "reversed")
				r.Set("occurred_at", fmt.Sprint(later.Unix()))
				return r
			}, later},
			{"reversal event", func(url.Values) {}, func(q url.Values) url.Values {
				r := reversalOf(q.Get("player_id"), q.Get("txn_id"))
				r.Set("occurred_at", fmt.Sprint(later.Unix()))
				return r
			}, later},
			// A status update repeats the transaction as it was sent (another event time would
			// be other content): the rejection is at the FTD's time.
			{"rejection on hold", func(q url.Values) { q.Set("status", "pending") }, func(q url.Values) url.Values {
				r := cloneQuery(q)
				r.Set("status", "rejected")
				return r
			}, seamNow.Add(-time.Hour)},
		} {
			t.Run(tc.name, func(t *testing.T) {
				f := newFixture(t, st)
				aff := "aff-1"
				player, txn := "p-"+tc.name, "TX-"+tc.name
				q := ftd(f.click(t, aff, seamNow.Add(-2*time.Hour)), player, txn)
				tc.first(q)
				require.Equal(t, http.StatusAccepted, f.send(t, q))
				undo := tc.undo(q)
				require.Equal(t, http.StatusAccepted, f.send(t, undo))
				require.Equal(t, http.StatusOK, f.send(t, undo), "rule: the retry is a duplicate")

				var mine []store.LedgerLine
				for _, l := range f.ledger(t, aff) {
					if l.PlayerID == player {
						mine = append(mine, l)
					}
				}
				require.Equal(t, map[commission.Kind]int{commission.KindAccrual: 1, commission.KindReversal: 1}, kinds(mine),
					"rule: the change writes one negative line for the CPA, and its retry none")
				c := f.conversion(t, q)
				require.Equal(t, c.ID, mine[1].ConversionID, "rule: the negative line is the conversion's")
				require.Equal(t, money.MustParse("-50.00", money.EUR), mine[1].Amount)
				requireReplayed(t, prog, mine, []commission.Event{ftdEvent(player, txn), reversalEvent(player, txn, tc.at)})
			})
		}
	})
}

// TestTracker_ConcurrentChargebacks: 50 concurrent identical chargebacks of a paid FTD write
// its negative line exactly once, and one delivery.
func TestTracker_ConcurrentChargebacks(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st store.Store) {
		f := newFixture(t, st)
		q := ftd(f.click(t, "aff-1", seamNow.Add(-2*time.Hour)), "p-1", "TX-1")
		require.Equal(t, http.StatusAccepted, f.send(t, q))
		cb := cloneQuery(q)
		cb.Set("status", "reversed")
		var wg sync.WaitGroup
		codes := make([]int, 50)
		for i := range codes {
			wg.Go(func() { codes[i] = f.send(t, cb) })
		}
		wg.Wait()
		accepted := 0
		for _, c := range codes {
			require.Contains(t, []int{http.StatusAccepted, http.StatusOK, http.StatusConflict}, c)
			if c == http.StatusAccepted {
				accepted++
			}
		}
		require.Equal(t, 1, accepted, "rule: one chargeback of the 50 applies")
		require.Equal(t, map[commission.Kind]int{commission.KindAccrual: 1, commission.KindReversal: 1}, kinds(f.ledger(t, "aff-1")),
			"rule: one negative line, whatever the concurrency")
		require.Len(t, f.pending(t), 2, "rule: one delivery of the FTD and one of its reversal")
	})
}

// TestTracker_ParkedClawback: a reversal that arrives before its FTD is applied when the FTD
// lands, with the negative line of the CPA the FTD earned, at the reversal's time.
func TestTracker_ParkedClawback(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st store.Store) {
		f := newFixture(t, st)
		require.Equal(t, http.StatusAccepted, f.send(t, reversalOf("p-3", "TX-3")))
		require.Equal(t, http.StatusAccepted, f.send(t, ftd(f.click(t, "aff-1", seamNow.Add(-2*time.Hour)), "p-3", "TX-3")))
		lines := f.ledger(t, "aff-1")
		require.Equal(t, map[commission.Kind]int{commission.KindAccrual: 1, commission.KindReversal: 1}, kinds(lines),
			"rule: the parked reversal takes back the CPA")
		requireReplayed(t, trackerProgram(t), lines, []commission.Event{ftdEvent("p-3", "TX-3"), reversalEvent("p-3", "TX-3", seamNow)})
	})
}

func cloneQuery(q url.Values) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = append([]string(nil), v...)
	}
	return out
}
