package s2s_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/uuid"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s"
	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/internal/pgtest"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/postback"
	"github.com/s2skit/s2s/store"
	"github.com/s2skit/s2s/store/memstore"
)

// revShareConfig is an iGaming RevShare programme in Malta's months with two days' grace:
// 30% of NGR (GGR less bonuses and fees) with negative carryover, and for a parent 10% of
// what its sub-affiliates earn (sub-1 was referred by master).
const revShareConfig = `{
	"attribution": {"default": {"lifetime": true, "windows": {"default": "365d"}}},
	"commission": {"zone": "Europe/Malta", "grace": "2d", "parents": {"sub-1": "master"},
		"default": [{"from": "2025-01-01T00:00:00Z", "plan": {"id": "rs", "currency": "EUR", "rounding": "half_even",
			"revshare": {"rate": "30%", "carryover": "carry",
				"ngr": [{"field": "ggr", "rate": "1"}, {"field": "bonuses", "rate": "-1"}, {"field": "fees", "rate": "-1"}]},
			"sub": {"levels": [{"rate": "10%", "basis": "earnings"}]}}}]}
}`

var malta = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Malta")
	if err != nil {
		panic(err)
	}
	return loc
}()

// mt is an instant of 2026 in Malta.
func mt(month time.Month, day, hour int) time.Time {
	return time.Date(2026, month, day, hour, 0, 0, 0, malta)
}

// month is Malta's month of 2026.
func month(m time.Month) commission.Period {
	return commission.PeriodOf(mt(m, 1, 0), commission.Month, malta)
}

// register binds player to affiliate through the handler: a click, then its registration.
func register(t *testing.T, f *fixture, affiliate, player string) {
	t.Helper()
	f.now = mt(time.January, 1, 3)
	click := f.click(t, affiliate, mt(time.January, 1, 1))
	q := url.Values{"click_id": {click.String()}, "event": {"registration"}, "player_id": {player},
		"occurred_at": {fmt.Sprint(mt(time.January, 1, 2).Unix())}}
	require.Equal(t, http.StatusAccepted, f.send(t, q), "registration of %s", player)
}

// report sends a revenue report of player through the handler, received at f.now, and
// returns the status.
func report(t *testing.T, f *fixture, player, txn string, of time.Time, components ...string) int {
	t.Helper()
	q := url.Values{"event": {"revenue"}, "player_id": {player}, "txn_id": {txn}, "currency": {"EUR"},
		"occurred_at": {fmt.Sprint(of.Unix())}}
	for i := 0; i+1 < len(components); i += 2 {
		q.Set(components[i], components[i+1])
	}
	return f.send(t, q)
}

// history is the revenue facts of st as commission events, the history Replay is given: a
// report, and for a correction the reversal of the report it corrects, both at the
// correction's times.
func history(t *testing.T, st store.Store) []commission.Event {
	t.Helper()
	var out []commission.Event
	p := store.ListRevenueParams{From: time.Unix(0, 0), To: time.Unix(1<<40, 0), Limit: 1000}
	facts, err := st.ListRevenue(t.Context(), p)
	require.NoError(t, err)
	for _, f := range facts {
		id := f.Source + "/" + f.TransactionID
		if f.Corrects != "" {
			out = append(out, commission.Event{ID: id + "#reverses", Type: event.Reversal, Reverses: f.Source + "/" + f.Corrects,
				At: f.OccurredAt, Received: f.ReceivedAt, AffiliateID: f.AffiliateID, PlayerID: f.PlayerID})
		}
		out = append(out, commission.Event{ID: id, Type: event.Revenue, At: f.OccurredAt, Received: f.ReceivedAt,
			AffiliateID: f.AffiliateID, PlayerID: f.PlayerID, Revenue: commission.Revenue{GGR: f.GGR, Bonuses: f.Bonuses,
				Fees: f.Fees, Taxes: f.Taxes, Deposits: f.Deposits, Withdrawals: f.Withdrawals}})
	}
	return out
}

// statements are the statements of the affiliates rebuilt from the lines st holds.
func statements(t *testing.T, st store.Store, g *commission.Program, affiliates ...string) []commission.Statement {
	t.Helper()
	var lines []commission.Line
	for _, a := range affiliates {
		ls, err := st.ListLedgerLines(t.Context(), store.ListLedgerLinesParams{AffiliateID: a, By: store.ByStatementTime,
			From: time.Unix(0, 0), To: time.Unix(1<<40, 0), Limit: 1000})
		require.NoError(t, err)
		for _, l := range ls {
			lines = append(lines, l.Line)
		}
	}
	out, err := commission.Statements(g, lines, nil)
	require.NoError(t, err)
	return out
}

// normalised returns ss with each statement's lines in one order (kind, rule, player,
// level, sub-affiliate), whatever order they were computed or listed in.
func normalised(ss []commission.Statement) []commission.Statement {
	out := slices.Clone(ss)
	for i := range out {
		out[i].Lines = slices.Clone(out[i].Lines)
		slices.SortStableFunc(out[i].Lines, func(a, b commission.Line) int {
			return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Rule, b.Rule), strings.Compare(a.PlayerID, b.PlayerID),
				cmp.Compare(a.Level, b.Level), strings.Compare(a.Detail.Sub, b.Detail.Sub))
		})
	}
	return out
}

// requireReplay asserts that the statements written by the closes equal Replay's over the
// store's history: the test of ClosePeriod.
func requireReplay(t *testing.T, st store.Store, g *commission.Program, affiliates ...string) []commission.Statement {
	t.Helper()
	return requireReplayOf(t, st, g, history(t, st), affiliates...)
}

// requireReplayOf asserts that the statements written by the closes equal Replay's over
// events.
func requireReplayOf(t *testing.T, st store.Store, g *commission.Program, events []commission.Event, affiliates ...string) []commission.Statement {
	t.Helper()
	res, err := commission.Replay(g, events, nil)
	require.NoError(t, err)
	want, got := normalised(res.Statements), normalised(statements(t, st, g, affiliates...))
	require.Len(t, got, len(want), "rule: the closes wrote the statements Replay computes, no more, no fewer")
	for i := range want {
		w, g := want[i], got[i]
		require.Equal(t, w.AffiliateID, g.AffiliateID)
		require.True(t, w.Period.Start.Equal(g.Period.Start), "%s: period", w.AffiliateID)
		require.Equal(t, w.Total, g.Total, "rule: %s's statement of %s totals what Replay's does", w.AffiliateID, w.Period)
		require.Equal(t, w.CarryIn, g.CarryIn, "%s %s: carry-in", w.AffiliateID, w.Period)
		require.Equal(t, w.CarryOut, g.CarryOut, "%s %s: carry-out", w.AffiliateID, w.Period)
		require.Len(t, g.Lines, len(w.Lines), "%s %s: lines", w.AffiliateID, w.Period)
		for j := range w.Lines {
			require.True(t, w.Lines[j].Equal(g.Lines[j]), "rule: line %d of %s's statement of %s is Replay's:\nwant %s\ngot  %s",
				j, w.AffiliateID, w.Period, w.Lines[j].Explain(), g.Lines[j].Explain())
		}
	}
	return got
}

// revenueLife sends a RevShare history through the handler and closes its periods as they
// end: negative-GGR months (players who won), carry, a sub-affiliate, a late report and a
// late correction.
func revenueLife(t *testing.T, f *fixture) {
	t.Helper()
	for _, b := range [][2]string{{"aff-1", "p1"}, {"aff-1", "p2"}, {"sub-1", "p3"}, {"master", "p4"}} {
		register(t, f, b[0], b[1])
	}
	f.now = mt(time.January, 31, 12)
	for _, r := range [][]string{
		{"p1", "R-1", "10", "ggr", "1000.00", "bonuses", "100.00"},
		{"p2", "R-2", "20", "ggr", "-2500.00"}, // the player won: aff-1's January is negative
		{"p3", "R-3", "15", "ggr", "400.00"},
		{"p4", "R-4", "15", "ggr", "200.00", "fees", "-10.00"}, // a refunded fee
	} {
		var day int
		fmt.Sscan(r[2], &day)
		require.Equal(t, http.StatusAccepted, report(t, f, r[0], r[1], mt(time.January, day, 12), r[3:]...), "report %s", r[1])
	}
	f.now = mt(time.February, 3, 0) // past January's cutoff, February 3rd
	require.NoError(t, f.tr.ClosePeriod(t.Context(), month(time.January)))

	f.now = mt(time.February, 10, 0)
	require.Equal(t, http.StatusAccepted, report(t, f, "p1", "R-5", mt(time.February, 5, 12), "ggr", "1000.00"))
	require.Equal(t, http.StatusAccepted, report(t, f, "p3", "R-6", mt(time.February, 8, 12), "ggr", "500.00"))
	// Late: January's reports received after January was closed.
	require.Equal(t, http.StatusAccepted, report(t, f, "p2", "R-7", mt(time.January, 25, 12), "ggr", "700.00"))
	require.Equal(t, http.StatusAccepted, report(t, f, "p3", "R-3b", mt(time.January, 15, 12), "ggr", "300.00", "corrects", "R-3"))

	f.now = mt(time.March, 20, 0)
	require.Equal(t, http.StatusAccepted, report(t, f, "p4", "R-8", mt(time.March, 3, 12), "ggr", "-300.00"))
	require.Equal(t, http.StatusAccepted, report(t, f, "p1", "R-9", mt(time.March, 10, 12), "ggr", "50.00"))
	f.now = mt(time.April, 5, 0)
}

// TestTracker_ClosePeriod: a RevShare life through the handler, its periods closed as they
// end. The statements the closes wrote are the statements commission.Replay computes over
// the revenue facts the store holds, on both stores: January's negative carry, the
// sub-affiliate's share, and in February the adjustment lines of January's late report and
// late correction (January's statement is never edited). Closing again writes nothing.
func TestTracker_ClosePeriod(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st store.Store) {
		f, g := newFixtureWith(t, st, revShareConfig)
		revenueLife(t, f)
		jan := statements(t, st, g, "aff-1")
		require.NoError(t, f.tr.ClosePeriod(t.Context(), month(time.March)), "March closes February and March, in order")

		got := requireReplay(t, st, g, "aff-1", "sub-1", "master")
		require.Equal(t, normalised(jan)[0].Lines[0].Amount, normalised(statements(t, st, g, "aff-1"))[0].Lines[0].Amount,
			"rule: a closed period is never edited")
		byAff := map[string][]commission.Statement{}
		for _, s := range got {
			byAff[s.AffiliateID] = append(byAff[s.AffiliateID], s)
		}
		a := byAff["aff-1"]
		require.Len(t, a, 3)
		require.Equal(t, "-1600.00 EUR", a[0].CarryOut.String(), "January: 900 − 2500, the player's winnings carried")
		require.Equal(t, "0.00 EUR", a[0].Total.String())
		require.Equal(t, "30.00 EUR", a[1].Total.String(), "February: 30% of (1000 + 700 late − 1600 carried)")
		require.Equal(t, []string{"accrual revshare aff-1 0.00 EUR", "adjustment revshare aff-1 30.00 EUR"}, amounts(a[1].Lines),
			"rule: late revenue is an adjustment line in the next period")
		s1 := byAff["sub-1"]
		require.Equal(t, "-30.00 EUR", s1[1].Lines[1].Amount.String(), "the late correction (400 → 300) takes back 30% of 100")
		m := byAff["master"]
		require.Equal(t, "75.00 EUR", m[0].Total.String(), "January: 30% of 210 (200 GGR, a refunded fee of 10), and 10% of sub-1's 120")
		require.Equal(t, "-300.00 EUR", m[2].CarryOut.String(), "March: the player's winnings carried")

		before := statements(t, st, g, "aff-1", "sub-1", "master")
		last, err := st.LastClose(t.Context())
		require.NoError(t, err)
		for _, p := range []commission.Period{month(time.January), month(time.February), month(time.March)} {
			require.NoError(t, f.tr.ClosePeriod(t.Context(), p), "rule: closing a closed period is no error")
		}
		require.Equal(t, before, statements(t, st, g, "aff-1", "sub-1", "master"), "rule: closing twice writes nothing new")
		again, err := st.LastClose(t.Context())
		require.NoError(t, err)
		require.Equal(t, last, again)
	})
}

func amounts(lines []commission.Line) []string {
	var out []string
	for _, l := range lines {
		out = append(out, l.Kind.String()+" "+l.Rule.String()+" "+l.AffiliateID+" "+l.Amount.String())
	}
	return out
}

// TestTracker_ClosePeriodRefuses: a period not over (before its cutoff), a span that is not
// a period of the calendar, and a Tracker without a programme.
func TestTracker_ClosePeriodRefuses(t *testing.T) {
	t.Parallel()
	f, _ := newFixtureWith(t, memstore.New(nil), revShareConfig)
	f.now = mt(time.February, 2, 23) // January's cutoff is February 3rd, 00:00 in Malta
	require.ErrorIs(t, f.tr.ClosePeriod(t.Context(), month(time.January)), s2s.ErrPeriodOpen)
	f.now = mt(time.June, 1, 0)
	require.ErrorContains(t, f.tr.ClosePeriod(t.Context(), commission.Period{Start: mt(time.January, 2, 0), End: mt(time.February, 2, 0)}), "not a period")
	_, err := f.st.LastClose(t.Context())
	require.ErrorIs(t, err, store.ErrNotFound, "a refused close writes nothing")

	plain, err := s2s.New(memstore.New(nil), s2s.Config{}, nil)
	require.NoError(t, err)
	require.ErrorIs(t, plain.ClosePeriod(t.Context(), month(time.January)), s2s.ErrNoProgram)
}

// TestTracker_RevenueAnswers: a revenue report is recorded once (a retry is a duplicate, the
// same report ID with other amounts a conflict), a negative GGR is recorded as it is, and a
// report that cannot be recorded is rejected with a reason.
func TestTracker_RevenueAnswers(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st store.Store) {
		f, _ := newFixtureWith(t, st, revShareConfig)
		register(t, f, "aff-1", "p1")
		f.now = mt(time.January, 31, 12)
		of := mt(time.January, 20, 0)
		require.Equal(t, http.StatusAccepted, report(t, f, "p1", "R-1", of, "ggr", "-250.50", "bonuses", "10.00", "taxes", "-1.25"))
		got, err := st.GetRevenue(t.Context(), store.GetRevenueParams{Source: "casino-x", TransactionID: "R-1"})
		require.NoError(t, err)
		require.Equal(t, "aff-1", got.AffiliateID, "the report is credited to the player's affiliate")
		require.Equal(t, money.MustParse("-250.50", money.EUR), got.GGR, "rule: a player's winnings are a negative GGR, recorded")
		require.Equal(t, money.MustParse("-1.25", money.EUR), got.Taxes)
		require.True(t, got.OccurredAt.Equal(of))
		require.True(t, got.ReceivedAt.Equal(f.now), "the receive time is the Tracker's clock")

		require.Equal(t, http.StatusOK, report(t, f, "p1", "R-1", of, "ggr", "-250.50", "bonuses", "10.00", "taxes", "-1.25"),
			"rule: a retry is a duplicate")
		require.Equal(t, http.StatusConflict, report(t, f, "p1", "R-1", of, "ggr", "-250.00"), "rule: one report ID, other amounts: conflict")
		for name, c := range map[string][]string{
			"no ggr":                {"bonuses", "1.00"},
			"ggr beyond its places": {"ggr", "1.005"},
			"ggr with a plus":       {"ggr", "+1.00"},
			"ggr with a comma":      {"ggr", "1,00"},
			"corrects an unknown":   {"ggr", "1.00", "corrects", "R-404"},
			"a fee not an amount":   {"ggr", "1.00", "fees", "1e3"},
		} {
			require.Equal(t, http.StatusUnprocessableEntity, report(t, f, "p1", "R-"+name, of, c...), "rule: %s is rejected", name)
		}
		require.Equal(t, http.StatusUnprocessableEntity, report(t, f, "nobody", "R-x", of, "ggr", "1.00"), "rule: a player nobody brought is rejected")
		facts, err := st.ListRevenue(t.Context(), store.ListRevenueParams{From: time.Unix(0, 0), To: time.Unix(1<<40, 0)})
		require.NoError(t, err)
		require.Len(t, facts, 1, "rule: nothing refused is recorded")
	})
}

// TestTracker_ClosePeriodConcurrent: two Trackers on one store (for PostgreSQL, two pools,
// as two processes) close the same periods from many goroutines at once: one set of lines
// is written, the one Replay computes.
func TestTracker_ClosePeriodConcurrent(t *testing.T) {
	t.Parallel()
	run := func(t *testing.T, a, b store.Store) {
		f, g := newFixtureWith(t, a, revShareConfig)
		revenueLife(t, f)
		var c s2s.Config
		require.NoError(t, json.Unmarshal([]byte(revShareConfig), &c))
		other, err := s2s.New(b, c, &s2s.Options{Now: func() time.Time { return mt(time.April, 5, 0) }})
		require.NoError(t, err)
		var wg sync.WaitGroup
		errs := make(chan error, 32)
		for i := range 32 {
			tr := f.tr
			if i%2 == 1 {
				tr = other
			}
			wg.Go(func() { errs <- tr.ClosePeriod(t.Context(), month(time.March)) })
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err, "rule: a close that loses to a concurrent one is no error")
		}
		requireReplay(t, a, g, "aff-1", "sub-1", "master")
	}
	t.Run("memstore", func(t *testing.T) {
		t.Parallel()
		st := memstore.New(nil)
		run(t, st, st)
	})
	t.Run("pgstore", func(t *testing.T) {
		t.Parallel()
		schema := pgtest.New(t)
		a, _ := schema.Open(t)
		b, _ := schema.Open(t)
		run(t, a, b)
	})
}

// TestTracker_RunClosesDuePeriods, on synctest's clock: Run closes a period at its first
// sweep after its cutoff (its end plus the programme's two days of grace), not before.
func TestTracker_RunClosesDuePeriods(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var cfg s2s.Config
		require.NoError(t, json.Unmarshal([]byte(strings.Replace(revShareConfig, "2025-01-01", "1999-01-01", 1)), &cfg))
		st := memstore.New(nil)
		tr, err := s2s.New(st, cfg, &s2s.Options{SweepInterval: time.Hour})
		require.NoError(t, err)
		now := time.Now() // synctest's: 2000-01-01T00:00:00Z, in Malta's January
		_, err = st.RecordRevenue(t.Context(), store.RevenueFact{ID: uuid.New(), Source: "casino-x", TransactionID: "R-1",
			AffiliateID: "aff-1", PlayerID: "p1", OccurredAt: now.AddDate(0, 0, -20), ReceivedAt: now.AddDate(0, 0, -19),
			GGR: money.MustParse("100.00", money.EUR)})
		require.NoError(t, err)
		december := commission.PeriodOf(now.AddDate(0, 0, -20), commission.Month, malta)

		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- tr.Run(ctx) }()
		time.Sleep(december.End.Add(48*time.Hour).Sub(now) - time.Minute) // just before the cutoff
		synctest.Wait()
		if last, err := st.LastClose(t.Context()); err == nil {
			require.True(t, last.End.Before(december.End), "rule: a period is not closed before its cutoff")
		}
		time.Sleep(time.Hour)
		synctest.Wait()
		last, err := st.LastClose(t.Context())
		require.NoError(t, err, "rule: Run closes the period at its first sweep after the cutoff")
		require.True(t, last.Start.Equal(december.Start))
		lines, err := st.ListLedgerLines(t.Context(), store.ListLedgerLinesParams{AffiliateID: "aff-1", By: store.ByStatementTime,
			From: december.Start, To: december.End})
		require.NoError(t, err)
		require.Len(t, lines, 1)
		require.Equal(t, "30.00 EUR", lines[0].Amount.String())
		cancel()
		require.ErrorIs(t, <-done, context.Canceled)
	})
}

// TestTracker_RevenueStatus: a revenue report that its sender marks other than approved
// (pending, rejected, reversed) is not a revenue fact, and is rejected for that reason, not
// with an attribution code that would name the binding that credited it ("binding") or a
// parked reversal: a revenue fact has no status, and a report is corrected with corrects.
func TestTracker_RevenueStatus(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st store.Store) {
		f, _ := newFixtureWith(t, st, revShareConfig)
		register(t, f, "aff-1", "p1")
		f.now = mt(time.January, 31, 12)
		src := seamSource(t)
		for _, status := range []event.Status{event.StatusPending, event.StatusRejected, event.StatusReversed} {
			q := url.Values{"event": {"revenue"}, "player_id": {"p1"}, "txn_id": {"R-" + string(status)}, "currency": {"EUR"},
				"occurred_at": {fmt.Sprint(mt(time.January, 20, 0).Unix())}, "ggr": {"100.00"}, "status": {string(status)}}
			pb := receive(t, src, q)
			res, err := f.tr.Receive(t.Context(), &pb)
			require.NoError(t, err)
			require.Equal(t, postback.Rejected, res.Outcome, "rule: a %s revenue report is not recorded", status)
			require.Equal(t, postback.Reason("revenue_not_approved"), res.Reason, "rule: a %s revenue report is rejected for its status", status)
		}
		facts, err := st.ListRevenue(t.Context(), store.ListRevenueParams{From: time.Unix(0, 0), To: time.Unix(1<<40, 0)})
		require.NoError(t, err)
		require.Empty(t, facts, "rule: nothing refused is recorded")
	})
}

// closeHook is a store whose first ClosePeriod runs before first: what another process
// commits after a close listed the revenue facts and before it writes.
type closeHook struct {
	store.Store
	once   sync.Once
	before func()
}

func (h *closeHook) ClosePeriod(ctx context.Context, p store.ClosePeriodParams) (store.PeriodClose, error) {
	h.once.Do(h.before)
	return h.Store.ClosePeriod(ctx, p)
}

// TestTracker_ClosePeriodFactInFlight: a revenue report received before January's cutoff
// whose write commits while January is being closed (after the close listed the facts,
// before it wrote) is not in January, which never saw it; it is counted once, as an
// adjustment line of February, the next close. Its received time says January: only
// what the close marked settles a fact. The statements equal Replay's over the history
// in which the report was received when it became visible, after January's close.
func TestTracker_ClosePeriodFactInFlight(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st store.Store) {
		h := &closeHook{Store: st}
		f, g := newFixtureWith(t, h, revShareConfig)
		register(t, f, "aff-1", "p1")
		f.now = mt(time.January, 31, 12)
		require.Equal(t, http.StatusAccepted, report(t, f, "p1", "R-1", mt(time.January, 10, 12), "ggr", "1000.00"))
		closedAt := mt(time.February, 3, 1) // an hour past January's cutoff
		h.before = func() {
			f.now = mt(time.February, 2, 23) // received before the cutoff, committed after the close's listing
			require.Equal(t, http.StatusAccepted, report(t, f, "p1", "R-flight", mt(time.January, 20, 12), "ggr", "500.00"))
			f.now = closedAt
		}
		f.now = closedAt
		require.NoError(t, f.tr.ClosePeriod(t.Context(), month(time.January)))
		f.now = mt(time.March, 5, 0)
		require.NoError(t, f.tr.ClosePeriod(t.Context(), month(time.February)))

		got, err := st.GetRevenue(t.Context(), store.GetRevenueParams{Source: "casino-x", TransactionID: "R-flight"})
		require.NoError(t, err)
		require.True(t, got.SettledIn.Equal(month(time.February).Start), "rule: the fact in flight is settled by the next close")
		ss := normalised(statements(t, st, g, "aff-1"))
		require.Len(t, ss, 2)
		require.Equal(t, []string{"accrual revshare aff-1 300.00 EUR"}, amounts(ss[0].Lines), "January: 30% of 1000, without the fact it never saw")
		require.Equal(t, []string{"accrual revshare aff-1 0.00 EUR", "adjustment revshare aff-1 150.00 EUR"}, amounts(ss[1].Lines),
			"rule: a fact committed after its period's close read is counted once, as an adjustment of the next close")

		events := history(t, st)
		for i := range events {
			if events[i].ID == "casino-x/R-flight" {
				events[i].Received = closedAt // visible from January's close on
			}
		}
		requireReplayOf(t, st, g, events, "aff-1", "sub-1", "master")
	})
}
