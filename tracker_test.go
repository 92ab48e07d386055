package s2s_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s"
	"github.com/s2skit/s2s/attribution"
	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/internal/pgtest"
	"github.com/s2skit/s2s/postback"
	"github.com/s2skit/s2s/store"
	"github.com/s2skit/s2s/store/memstore"
)

// trackerConfig pays a 50 EUR CPA on an FTD of at least 100 EUR, caps paid FTDs at 10 a
// day in Europe/Malta (over the cap: recorded unpaid), and tells the affiliate's tracker.
const trackerConfig = `{
	"attribution": {
		"default": {"zone": "Europe/Malta", "windows": {"default": "30d"},
			"caps": [{"name": "daily_ftd", "events": ["ftd"], "scope": "affiliate", "period": "day", "count": 10, "over": "unpaid"}]}
	},
	"commission": {"default": [{"from": "2025-01-01T00:00:00Z", "plan": {"id": "cpa", "currency": "EUR", "rounding": "half_even",
		"cpa": {"amount": {"amount": "50.00", "currency": "EUR"}, "baseline": {"min_ftd": {"amount": "100.00", "currency": "EUR"}}}}}]},
	"endpoints": [{"name": "aff-1-tracker", "url": "https://aff.example/pb?cid={click_id}&txn={transaction_id}&status={status}&payout={payout}"}],
	"routes": [{"affiliate": "aff-1", "endpoints": ["aff-1-tracker"]}]
}`

// fixture is a Tracker on one store, behind postback's Handler for one signed source.
type fixture struct {
	st      store.Store
	tr      *s2s.Tracker
	handler http.Handler
	now     time.Time
}

func stores(t *testing.T, run func(t *testing.T, st store.Store)) {
	t.Run("memstore", func(t *testing.T) {
		t.Parallel()
		run(t, memstore.New(nil))
	})
	t.Run("pgstore", func(t *testing.T) {
		t.Parallel()
		st, _ := pgtest.Store(t)
		run(t, st)
	})
}

func newFixture(t *testing.T, st store.Store) *fixture {
	t.Helper()
	var cfg s2s.Config
	require.NoError(t, json.Unmarshal([]byte(trackerConfig), &cfg))
	f := &fixture{st: st, now: seamNow}
	tr, err := s2s.New(st, cfg, &s2s.Options{Now: func() time.Time { return f.now }})
	require.NoError(t, err)
	h, err := postbackHandler(tr)
	require.NoError(t, err)
	f.tr, f.handler = tr, h
	return f
}

func (f *fixture) click(t *testing.T, affiliate string, at time.Time) clickid.ID {
	t.Helper()
	id, err := clickid.New()
	require.NoError(t, err)
	require.NoError(t, f.st.InsertClick(t.Context(), store.Click{ID: id, AffiliateID: affiliate, CreatedAt: at}))
	return id
}

// send signs q as the operator would and sends it through the handler; it returns the
// status.
func (f *fixture) send(t *testing.T, q url.Values) int {
	t.Helper()
	rec := httptest.NewRecorder()
	f.handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/postback?"+mustSign(t, q, seamNow), nil))
	return rec.Code
}

func ftd(click clickid.ID, player, txn string) url.Values {
	return url.Values{"click_id": {click.String()}, "event": {"ftd"}, "player_id": {player}, "txn_id": {txn},
		"amount": {"150.00"}, "currency": {"EUR"}, "occurred_at": {fmt.Sprint(seamNow.Add(-time.Hour).Unix())}}
}

func (f *fixture) conversion(t *testing.T, q url.Values) store.Conversion {
	t.Helper()
	src := seamSource(t)
	pb := receive(t, src, q)
	c := pb.Conversion()
	key, _ := attributionKey(&c)
	got, err := f.st.GetConversionByKey(t.Context(), key)
	require.NoError(t, err)
	return got
}

func (f *fixture) ledger(t *testing.T, affiliate string) []store.LedgerLine {
	t.Helper()
	lines, err := f.st.ListLedgerLines(t.Context(), store.ListLedgerLinesParams{AffiliateID: affiliate,
		From: seamNow.AddDate(-1, 0, 0), To: seamNow.AddDate(1, 0, 0), Limit: 1000})
	require.NoError(t, err)
	return lines
}

func (f *fixture) pending(t *testing.T) []store.Delivery {
	t.Helper()
	ds, err := f.st.ListDeliveries(t.Context(), store.ListDeliveriesParams{Status: store.DeliveryPending, Limit: 1000})
	require.NoError(t, err)
	return ds
}

// TestTracker_Receive: a click, then the operator's signed FTD through the handler: accepted,
// credited to the click's affiliate, with a CPA line and a pending delivery; the retry is a
// duplicate that writes nothing.
func TestTracker_Receive(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st store.Store) {
		f := newFixture(t, st)
		click := f.click(t, "aff-1", seamNow.Add(-2*time.Hour))
		q := ftd(click, "p-1", "TX-1")
		require.Equal(t, http.StatusAccepted, f.send(t, q))

		c := f.conversion(t, q)
		require.Equal(t, "aff-1", c.AffiliateID, "rule: the FTD is credited to its click's affiliate")
		require.Equal(t, event.StatusApproved, c.Status)
		require.Equal(t, "click", c.Decision.Code)
		lines := f.ledger(t, "aff-1")
		require.Len(t, lines, 1, "rule: a qualifying FTD earns one CPA line")
		require.Equal(t, "50.00 EUR", lines[0].Amount.String())
		require.Equal(t, c.ID, lines[0].ConversionID)
		require.Equal(t, "TX-1", lines[0].EventID)
		ds := f.pending(t)
		require.Len(t, ds, 1, "rule: the affiliate's endpoint gets one delivery")
		require.Equal(t, "aff-1-tracker", ds[0].Endpoint)
		require.Contains(t, ds[0].URL, "txn=TX-1")
		require.Contains(t, ds[0].URL, "payout=50.00")
		bound, err := st.GetBinding(t.Context(), "p-1")
		if err == nil { // only a lifetime campaign binds
			require.Equal(t, "aff-1", bound.AffiliateID)
		}

		require.Equal(t, http.StatusOK, f.send(t, q), "rule: a retry is a duplicate")
		require.Len(t, f.ledger(t, "aff-1"), 1, "rule: a retry writes no line")
		require.Len(t, f.pending(t), 1, "rule: a retry writes no delivery")

		// A second FTD of the same player under another transaction is recorded, and pays
		// no second CPA.
		require.Equal(t, http.StatusAccepted, f.send(t, ftd(click, "p-1", "TX-2")))
		require.Len(t, f.ledger(t, "aff-1"), 1, "rule: a player earns one CPA")
	})
}

// TestTracker_ConcurrentRetries: 1,000 concurrent identical postbacks make one conversion,
// one CPA line and one delivery per endpoint.
func TestTracker_ConcurrentRetries(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st store.Store) {
		f := newFixture(t, st)
		click := f.click(t, "aff-1", seamNow.Add(-2*time.Hour))
		q := ftd(click, "p-1", "TX-1")
		const n = 1000
		codes := make([]int, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				codes[i] = f.send(t, q)
			})
		}
		close(start)
		wg.Wait()
		accepted := 0
		for _, code := range codes {
			switch code {
			case http.StatusAccepted:
				accepted++
			case http.StatusOK:
			default:
				t.Fatalf("rule: a retry is accepted or a duplicate, got %d", code)
			}
		}
		require.Equal(t, 1, accepted, "rule: exactly one of concurrent retries is recorded")
		require.Len(t, f.ledger(t, "aff-1"), 1)
		require.Len(t, f.pending(t), 1)
	})
}

// TestTracker_Cap: 100 concurrent distinct FTDs of one affiliate in one Malta day against
// a cap of 10: exactly 10 are paid; the other 90 are recorded unpaid with cap_reached.
func TestTracker_Cap(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st store.Store) {
		f := newFixture(t, st)
		click := f.click(t, "aff-1", seamNow.Add(-2*time.Hour))
		const n = 100
		codes := make([]int, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				codes[i] = f.send(t, ftd(click, fmt.Sprint("p-", i), fmt.Sprint("TX-", i)))
			})
		}
		close(start)
		wg.Wait()
		capped := 0
		for i, code := range codes {
			require.Equal(t, http.StatusAccepted, code, "rule: every FTD is recorded, over the cap or not")
			c := f.conversion(t, ftd(click, fmt.Sprint("p-", i), fmt.Sprint("TX-", i)))
			if c.Decision.Code == "cap_reached" {
				capped++
			}
		}
		require.Len(t, f.ledger(t, "aff-1"), 10, "rule: a cap of 10 pays exactly 10")
		require.Equal(t, 90, capped, "rule: the others are recorded with cap_reached")
	})
}

// TestTracker_Chargeback: the sender's chargeback of a stored FTD (its transaction again,
// status reversed) reverses the conversion; its retry is a duplicate.
func TestTracker_Chargeback(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st store.Store) {
		f := newFixture(t, st)
		click := f.click(t, "aff-1", seamNow.Add(-2*time.Hour))
		q := ftd(click, "p-1", "TX-1")
		require.Equal(t, http.StatusAccepted, f.send(t, q))
		q.Set("status", "reversed")
		require.Equal(t, http.StatusAccepted, f.send(t, q))
		c := f.conversion(t, q)
		require.Equal(t, event.StatusReversed, c.Status, "rule: a chargeback reverses the stored FTD")
		require.Len(t, c.History, 2)
		require.Equal(t, http.StatusOK, f.send(t, q), "rule: a second chargeback is a duplicate")
		require.Len(t, f.pending(t), 2, "rule: the affiliate is told of the reversal")
	})
}

// TestTracker_ReversalFirst: a reversal that arrives before its original is parked, not
// dropped and not recorded as a conversion; its retry is a duplicate.
func TestTracker_ReversalFirst(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st store.Store) {
		f := newFixture(t, st)
		q := url.Values{"event": {"reversal"}, "player_id": {"p-9"}, "txn_id": {"TX-9"}, "amount": {"150.00"}, "currency": {"EUR"}}
		require.Equal(t, http.StatusAccepted, f.send(t, q))
		parked, err := st.ListParked(t.Context(), store.ListParkedParams{Source: "casino-x", TransactionID: "TX-9", Unresolved: true})
		require.NoError(t, err)
		require.Len(t, parked, 1, "rule: a reversal before its original is parked")
		require.Equal(t, "parked_reversal", parked[0].Conversion.Decision.Code)
		require.Equal(t, http.StatusOK, f.send(t, q), "rule: the retry of a parked reversal is a duplicate")
		require.Empty(t, f.pending(t))
	})
}

// TestConfig_JSON: a Config round-trips through JSON, refuses unknown fields, and names the
// field of a problem.
func TestConfig_JSON(t *testing.T) {
	t.Parallel()
	var cfg s2s.Config
	require.NoError(t, json.Unmarshal([]byte(trackerConfig), &cfg))
	b, err := json.Marshal(&cfg)
	require.NoError(t, err)
	var back s2s.Config
	require.NoError(t, json.Unmarshal(b, &back), "%s", b)
	b2, err := json.Marshal(&back)
	require.NoError(t, err)
	require.JSONEq(t, string(b), string(b2), "rule: a config round-trips")

	err = json.Unmarshal([]byte(`{"atribution": {}}`), &cfg)
	require.ErrorIs(t, err, s2s.ErrInvalidConfig, "rule: an unknown field is an error")
	err = json.Unmarshal([]byte(`{"routes": [{"endpoints": ["x"], "afiliate": "a"}]}`), &cfg)
	require.ErrorIs(t, err, s2s.ErrInvalidConfig)

	bad := back
	bad.Routes = []s2s.Route{{AffiliateID: "aff-2", Endpoints: []string{"nope"}}}
	_, err = s2s.New(nil, bad, nil)
	require.ErrorIs(t, err, s2s.ErrInvalidConfig)
	require.ErrorContains(t, err, "routes[0].endpoints[0]")

	bad = back
	bad.Commission.Default[0].Plan.CPA.Baseline.Within = commission.Duration(24 * time.Hour)
	_, err = s2s.New(nil, bad, nil)
	require.ErrorContains(t, err, "default[0].plan.cpa.baseline.within", "rule: what the Tracker cannot compute exactly is refused, by field")
}

func postbackHandler(tr *s2s.Tracker) (http.Handler, error) {
	src, err := postback.NewSource("casino-x", postback.Auth{Method: postback.MethodSignedQuery, Keys: []postback.Key{seamKey}},
		&postback.SourceOptions{Now: func() time.Time { return seamNow }})
	if err != nil {
		return nil, err
	}
	return postback.NewHandler(src, tr, nil)
}

// attributionKey is the dedup key of the fixture's default policy.
func attributionKey(c *store.Conversion) (string, attribution.Code) {
	return attribution.Dedup{}.Key(c)
}

// registration is the operator's registration of player with transaction txn at at.
func registration(click clickid.ID, player, txn string, at time.Time) url.Values {
	return url.Values{"click_id": {click.String()}, "event": {"registration"}, "player_id": {player}, "txn_id": {txn},
		"occurred_at": {fmt.Sprint(at.Unix())}}
}

// TestTracker_ReversalOriginal: a reversal event finds what it reverses among its
// transaction's conversions by the rule of the Tracker's original, on both stores: one with
// an amount reverses only a conversion with an amount (the FTD, not the registration of its
// transaction, and it waits for the FTD when only the registration is stored), of several
// the latest by the sender's time (not by receipt), and its retry is a duplicate that never
// moves on to an earlier conversion. The lines are those Replay computes when the reversal
// names that conversion.
func TestTracker_ReversalOriginal(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st store.Store) {
		prog := trackerProgram(t)
		later := seamNow.Add(-10 * time.Minute)
		at := func(q url.Values, ts time.Time) url.Values {
			q.Set("occurred_at", fmt.Sprint(ts.Unix()))
			return q
		}
		status := func(f *fixture, q url.Values) event.Status { return f.conversion(t, q).Status }
		for _, tc := range []struct {
			name     string
			amount   bool // the reversal carries one
			regFirst bool // the registration is received before the FTD
		}{
			{"with an amount", true, true},
			{"with an amount, registration received last", true, false},
			{"without an amount", false, true},
			{"without an amount, registration received last", false, false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				f := newFixture(t, st)
				player, txn := "p-"+tc.name, "TX-"+tc.name
				click := f.click(t, "aff-1", seamNow.Add(-2*time.Hour))
				reg, dep := registration(click, player, txn, seamNow.Add(-90*time.Minute)), ftd(click, player, txn)
				first, second := reg, dep
				if !tc.regFirst {
					first, second = dep, reg
				}
				require.Equal(t, http.StatusAccepted, f.send(t, first))
				require.Equal(t, http.StatusAccepted, f.send(t, second))
				rev := at(reversalOf(player, txn), later)
				if !tc.amount {
					rev.Del("amount")
					rev.Del("currency")
				}
				require.Equal(t, http.StatusAccepted, f.send(t, rev))
				require.Equal(t, event.StatusReversed, status(f, dep), "rule: the latest conversion by the sender's time is reversed: the FTD")
				require.Equal(t, event.StatusApproved, status(f, reg), "rule: the registration of its transaction is not")
				require.Equal(t, http.StatusOK, f.send(t, rev), "rule: the retry is a duplicate")
				require.Equal(t, event.StatusApproved, status(f, reg), "rule: a retry never moves on to an earlier conversion")

				var mine []store.LedgerLine
				for _, l := range f.ledger(t, "aff-1") {
					if l.PlayerID == player {
						mine = append(mine, l)
					}
				}
				requireReplayed(t, prog, mine, []commission.Event{ftdEvent(player, txn), reversalEvent(player, txn, later)})
			})
		}

		t.Run("with an amount, before its FTD", func(t *testing.T) {
			f := newFixture(t, st)
			player, txn := "p-early", "TX-early"
			click := f.click(t, "aff-1", seamNow.Add(-2*time.Hour))
			reg, dep := registration(click, player, txn, seamNow.Add(-90*time.Minute)), ftd(click, player, txn)
			require.Equal(t, http.StatusAccepted, f.send(t, reg))
			rev := at(reversalOf(player, txn), later)
			require.Equal(t, http.StatusAccepted, f.send(t, rev))
			require.Len(t, f.parked(t, txn, true), 1, "rule: a reversal with an amount does not reverse a registration: it waits for its FTD")
			require.Equal(t, event.StatusApproved, status(f, reg))
			require.Equal(t, http.StatusAccepted, f.send(t, dep))
			require.Equal(t, event.StatusReversed, status(f, dep), "rule: the FTD, when it lands, takes the parked reversal")
			require.Equal(t, event.StatusApproved, status(f, reg))
			require.Empty(t, f.parked(t, txn, true))
		})

		t.Run("two with amounts", func(t *testing.T) {
			f := newFixture(t, st)
			player, txn := "p-two", "TX-two"
			click := f.click(t, "aff-1", seamNow.Add(-2*time.Hour))
			first := ftd(click, player, txn)
			dep := at(cloneQuery(first), seamNow.Add(-30*time.Minute))
			dep.Set("event", "deposit")
			dep.Set("amount", "20.00")
			require.Equal(t, http.StatusAccepted, f.send(t, dep)) // received first, happened last
			require.Equal(t, http.StatusAccepted, f.send(t, first))
			rev := at(reversalOf(player, txn), later)
			require.Equal(t, http.StatusAccepted, f.send(t, rev))
			require.Equal(t, event.StatusReversed, status(f, dep), "rule: of two with amounts, the latest by the sender's time")
			require.Equal(t, event.StatusApproved, status(f, first))
			require.Equal(t, http.StatusOK, f.send(t, rev), "rule: the retry is a duplicate")
			require.Equal(t, event.StatusApproved, status(f, first), "rule: a retry never moves on to an earlier conversion")
		})
	})
}

// reattributeConfig binds a player to the affiliate who acquired them, and lets a new click
// re-attribute a player inactive for 30 days.
const reattributeConfig = `{
	"attribution": {"default": {"windows": {"default": "90d"}, "lifetime": true, "reattribute": "30d"}}
}`

// day is the time of day n of a player's life, which ends at seamNow on day 60.
func day(n int) time.Time { return seamNow.AddDate(0, 0, n-60) }

// playerEvent is the operator's postback of event ty of player at at, with txn, carrying
// click when it is not zero.
func playerEvent(ty event.Type, click clickid.ID, player, txn string, at time.Time) url.Values {
	q := url.Values{"event": {string(ty)}, "player_id": {player}, "txn_id": {txn}, "occurred_at": {fmt.Sprint(at.Unix())}}
	if !click.IsZero() {
		q.Set("click_id", click.String())
	}
	if ty == event.Deposit {
		q.Set("amount", "20.00")
		q.Set("currency", "EUR")
	}
	return q
}

// TestTracker_LastActivity: the Tracker gives attribution the player's last activity from
// the store (the latest event time of their conversions as of the event), on both stores:
// a bound player idle for longer than the campaign's re-attribution span is credited to the
// new affiliate's click; one active within the span stays with the binding; a retry of the
// re-attributed event is a duplicate, decided from the same last activity.
func TestTracker_LastActivity(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st store.Store) {
		f, _ := newFixtureWith(t, st, reattributeConfig)
		for _, tc := range []struct {
			player   string
			active   int // the day of the player's last deposit before the new click of day 50
			want     string
			wantCode attribution.Code
		}{
			{"p-idle", 10, "aff-2", attribution.CodeReattributed},
			{"p-active", 45, "aff-1", attribution.CodeBinding},
		} {
			first := f.click(t, "aff-1", day(0).Add(-time.Hour))
			require.Equal(t, http.StatusAccepted, f.send(t, playerEvent(event.Registration, first, tc.player, tc.player+"-reg", day(0))))
			dep := playerEvent(event.Deposit, clickid.ID{}, tc.player, tc.player+"-dep-1", day(tc.active))
			require.Equal(t, http.StatusAccepted, f.send(t, dep))
			require.Equal(t, "aff-1", f.conversion(t, dep).AffiliateID, "a bound player's deposit follows the binding")

			second := f.click(t, "aff-2", day(50))
			q := playerEvent(event.Deposit, second, tc.player, tc.player+"-dep-2", day(55))
			require.Equal(t, http.StatusAccepted, f.send(t, q))
			c := f.conversion(t, q)
			require.Equal(t, tc.want, c.AffiliateID, "rule: %s, last active on day %d, is re-attributed only after 30 days idle", tc.player, tc.active)
			require.Equal(t, string(tc.wantCode), c.Decision.Code)
			require.Equal(t, http.StatusOK, f.send(t, q), "rule: the retry is a duplicate")
		}
	})
}
