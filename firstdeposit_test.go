package s2s_test

import (
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/store"
)

// cappedCPAConfig pays a 50 EUR CPA on a first deposit of at least 100 EUR, at most one CPA
// a month (the programme's default period).
const cappedCPAConfig = `{
	"attribution": {"default": {"lifetime": true, "windows": {"default": "90d"}}},
	"commission": {"default": [{"from": "2025-01-01T00:00:00Z", "plan": {"id": "cpa", "currency": "EUR", "rounding": "half_even",
		"cpa": {"amount": {"amount": "50.00", "currency": "EUR"}, "baseline": {"min_ftd": {"amount": "100.00", "currency": "EUR"}},
			"cap": {"count": 1}}}}]}
}`

// TestTracker_CPAFirstDeposit: the Tracker checks the CPA where Replay does, with the
// player's first deposit as the FTD whatever the sender calls it: a player who sends only
// deposits is paid on the first; a first deposit below the minimum is the FTD even when a
// larger one comes labelled ftd; a CPA the monthly cap refused is paid at the player's next
// deposit in a month with room. Each history's ledger is Replay's.
func TestTracker_CPAFirstDeposit(t *testing.T) {
	t.Parallel()
	eur := func(v string) money.Amount { return money.MustParse(v, money.EUR) }
	type dep struct {
		id     string
		ty     event.Type
		amount string
		at     time.Duration // before seamNow
	}
	for _, tc := range []struct {
		name  string
		deps  []dep
		other bool // another player takes the month's one CPA first
		want  int  // CPA lines of the player
	}{
		{"deposits only", []dep{{"D-1", event.Deposit, "150.00", 50}, {"D-2", event.Deposit, "300.00", 40}}, false, 1},
		{"first deposit below the minimum", []dep{{"D-1", event.Deposit, "50.00", 50}, {"D-2", event.FTD, "150.00", 40}}, false, 0},
		{"capped, then paid next month", []dep{{"D-1", event.FTD, "150.00", 40 * 24}, {"D-2", event.Deposit, "20.00", 5 * 24}}, true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			stores(t, func(t *testing.T, st store.Store) {
				f, prog := newFixtureWith(t, st, cappedCPAConfig)
				l := &life{f: f}
				start := seamNow.Add(-60 * 24 * time.Hour) // in January; the deposits run into March
				for _, p := range []string{"p-other", "p-1"} {
					if p == "p-other" && !tc.other {
						continue
					}
					click := f.click(t, "aff-1", start.Add(-time.Hour))
					l.send(t, url.Values{"click_id": {click.String()}},
						&commission.Event{ID: "REG-" + p, Type: event.Registration, At: start, AffiliateID: "aff-1", PlayerID: p})
				}
				if tc.other {
					l.send(t, url.Values{"amount": {"500.00"}, "currency": {"EUR"}}, &commission.Event{ID: "O-1", Type: event.FTD,
						At: seamNow.Add(-41 * 24 * time.Hour), AffiliateID: "aff-1", PlayerID: "p-other", Amount: eur("500.00")})
				}
				for _, d := range tc.deps {
					l.send(t, url.Values{"amount": {d.amount}, "currency": {"EUR"}}, &commission.Event{ID: d.id, Type: d.ty,
						At: seamNow.Add(-d.at * time.Hour), AffiliateID: "aff-1", PlayerID: "p-1", Amount: eur(d.amount)})
				}
				lines := l.ledger(t, "aff-1")
				n := 0
				for _, ln := range lines {
					if ln.PlayerID == "p-1" {
						n++
					}
				}
				require.Equal(t, tc.want, n, "rule: the player's CPA lines")
				requireReplayed(t, prog, lines, l.events)
			})
		})
	}
}

// baselineConfig pays a 50 EUR CPA to a player who deposited 200 EUR in all, wagered 100
// EUR and passed verification, at the event that completes it.
const baselineConfig = `{
	"attribution": {"default": {"lifetime": true, "windows": {"default": "90d"}}},
	"commission": {"default": [{"from": "2025-01-01T00:00:00Z", "plan": {"id": "cpa", "currency": "EUR", "rounding": "half_even",
		"cpa": {"amount": {"amount": "50.00", "currency": "EUR"}, "baseline": {"min_ftd": {"amount": "10.00", "currency": "EUR"},
			"min_deposits": {"amount": "200.00", "currency": "EUR"}, "min_wager": {"amount": "100.00", "currency": "EUR"}, "verified": true}}}}]}
}`

// TestTracker_CPABaseline: a baseline of deposits, wagering and verification is computed
// from the player's facts the store counts with each record, a reversed deposit taken out
// of them, and the CPA is paid at the event that completes it, as Replay pays it.
func TestTracker_CPABaseline(t *testing.T) {
	t.Parallel()
	eur := func(v string) money.Amount { return money.MustParse(v, money.EUR) }
	type step struct {
		id     string
		ty     event.Type
		amount string // also sent
		undoes string // a reversal of this event
	}
	for _, tc := range []struct {
		name  string
		steps []step
		paid  string // the event that earns the CPA
	}{
		{"verification completes it", []step{
			{"D-1", event.FTD, "100.00", ""}, {"D-2", event.Deposit, "150.00", ""}, {"W-1", event.Wager, "120.00", ""},
			{"V-1", event.Verification, "", ""},
		}, "V-1"},
		{"a reversed deposit no longer counts", []step{
			{"D-1", event.FTD, "100.00", ""}, {"D-2", event.Deposit, "150.00", ""}, {"D-2/reversal", event.Reversal, "", "D-2"},
			{"W-1", event.Wager, "200.00", ""}, {"V-1", event.Verification, "", ""}, {"D-3", event.Deposit, "120.00", ""},
		}, "D-3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			stores(t, func(t *testing.T, st store.Store) {
				f, prog := newFixtureWith(t, st, baselineConfig)
				l := &life{f: f}
				start := seamNow.Add(-30 * 24 * time.Hour)
				click := f.click(t, "aff-1", start.Add(-time.Hour))
				l.send(t, url.Values{"click_id": {click.String()}},
					&commission.Event{ID: "REG-1", Type: event.Registration, At: start, AffiliateID: "aff-1", PlayerID: "p-1"})
				for i, s := range tc.steps {
					e := &commission.Event{ID: s.id, Type: s.ty, At: start.Add(time.Duration(i+1) * time.Hour), AffiliateID: "aff-1",
						PlayerID: "p-1", Reverses: s.undoes}
					q := url.Values{}
					if s.amount != "" {
						e.Amount = eur(s.amount)
						q = url.Values{"amount": {s.amount}, "currency": {"EUR"}}
					}
					if s.undoes != "" {
						q.Set("txn_id", s.undoes)
					}
					l.send(t, q, e)
				}
				lines := l.ledger(t, "aff-1")
				require.Len(t, lines, 1, "rule: one CPA")
				require.Equal(t, tc.paid, lines[0].EventID, "rule: the CPA is paid at the event that completes the baseline")
				requireReplayed(t, prog, lines, l.events)
			})
		})
	}
}

// roundsConfig pays a 50 EUR CPA to a player with a first deposit of 10 EUR who played 100
// rounds.
const roundsConfig = `{
	"attribution": {"default": {"lifetime": true, "windows": {"default": "90d"}}},
	"commission": {"default": [{"from": "2025-01-01T00:00:00Z", "plan": {"id": "cpa", "currency": "EUR", "rounding": "half_even",
		"cpa": {"amount": {"amount": "50.00", "currency": "EUR"}, "baseline": {"min_ftd": {"amount": "10.00", "currency": "EUR"}, "min_rounds": 100}}}}]}
}`

// TestTracker_CPARounds: min_rounds counts the rounds of the player's wagers (the postback's
// rounds), a reversed wager's taken out, as Replay counts them.
func TestTracker_CPARounds(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st store.Store) {
		f, prog := newFixtureWith(t, st, roundsConfig)
		l := &life{f: f}
		start := seamNow.Add(-30 * 24 * time.Hour)
		click := f.click(t, "aff-1", start.Add(-time.Hour))
		ev := func(id string, ty event.Type, h int) *commission.Event {
			return &commission.Event{ID: id, Type: ty, At: start.Add(time.Duration(h) * time.Hour), AffiliateID: "aff-1", PlayerID: "p-1"}
		}
		l.send(t, url.Values{"click_id": {click.String()}}, ev("REG-1", event.Registration, 0))
		d := ev("D-1", event.FTD, 1)
		d.Amount = money.MustParse("20.00", money.EUR)
		l.send(t, url.Values{"amount": {"20.00"}, "currency": {"EUR"}}, d)
		wager := func(id string, rounds int64, h int) {
			w := ev(id, event.Wager, h)
			w.Amount, w.Rounds = money.MustParse("5.00", money.EUR), rounds
			l.send(t, url.Values{"amount": {"5.00"}, "currency": {"EUR"}, "rounds": {strconv.FormatInt(rounds, 10)}}, w)
		}
		wager("W-1", 80, 2)
		r := ev("W-1/reversal", event.Reversal, 3)
		r.Reverses = "W-1"
		l.send(t, url.Values{"txn_id": {"W-1"}}, r)
		wager("W-2", 30, 4) // 30 rounds counted, not 110
		wager("W-3", 70, 5) // 100: paid
		lines := l.ledger(t, "aff-1")
		require.Len(t, lines, 1)
		require.Equal(t, "W-3", lines[0].EventID, "rule: the reversed wager's rounds no longer count")
		requireReplayed(t, prog, lines, l.events)
	})
}
