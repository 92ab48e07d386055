package s2s_test

// The whole life, through HTTP: the lives of lives_test.go, sent as a host's visitors and
// operators send them (a tracking link followed to its redirect, signed s2s v1 postbacks to
// the PostbackHandler over a real connection), with the Tracker's Run delivering the
// affiliate's outbound postbacks to an httptest receiver, on an injected clock.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s"
	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/outbound"
	"github.com/s2skit/s2s/postback"
	"github.com/s2skit/s2s/store"
)

// lifeClock is the injected clock of an HTTP life, set by the test as its history unfolds
// and read by the Tracker, its sources and its worker.
type lifeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *lifeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *lifeClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// httpLife is a life sent through a Tracker served by an httptest.Server (the click handler
// at GET /click/{campaign}, the postback handler at /postback/{source}), whose Run delivers
// the outbound postbacks to an httptest receiver.
type httpLife struct {
	life
	clock *lifeClock
	srv   *httptest.Server
	got   chan url.Values // the queries the receiver was sent
	stop  func(t *testing.T)
	prog  *commission.Program
}

// withHTTP is the programme cfg served over HTTP: a campaign of each kind of business whose
// destination carries the click ID as cid, the source casino-x signing with seamKey, and
// every affiliate's conversions told to the receiver at RECEIVER.
func withHTTP(cfg string) string {
	return strings.TrimSuffix(strings.TrimSpace(cfg), "}") + `,
	"clicks": {"campaigns": [
		{"id": "casino", "destination": "https://casino.example/land?cid={click_id}&s1={sub1}"},
		{"id": "fx", "destination": "https://broker.example/open?cid={click_id}"},
		{"id": "prop", "destination": "https://prop.example/challenge?cid={click_id}"}]},
	"sources": ` + casinoX + `,
	"endpoints": [{"name": "aff-tracker", "allow_http": true,
		"url": "RECEIVER/pb?cid={click_id}&txn={transaction_id}&event={event}&status={status}&payout={payout}&aff={affiliate_id}"}],
	"routes": [{"endpoints": ["aff-tracker"]}]
}`
}

// newHTTPLife serves a Tracker on st with withHTTP(cfg), its clock at start, and runs it
// until the test ends (or stop).
func newHTTPLife(t *testing.T, st store.Store, cfg string, start time.Time) *httpLife {
	t.Helper()
	got := make(chan url.Values, 100)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.URL.Query()
	}))
	t.Cleanup(recv.Close)
	var c s2s.Config
	require.NoError(t, json.Unmarshal([]byte(strings.ReplaceAll(withHTTP(cfg), "RECEIVER", recv.URL)), &c))
	clock := &lifeClock{t: start}
	tr, err := s2s.New(st, c, &s2s.Options{Now: clock.Now,
		HTTPClient: outbound.NewClient(&outbound.ClientOptions{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, AllowHTTP: true}),
		// The clock jumps days between steps: a lease taken before a jump must outlast it,
		// or the attempt it ends would be refused as a lost lease and sent again.
		Worker: &outbound.WorkerOptions{LeaseFor: 365 * 24 * time.Hour}})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("GET /click/{campaign}", tr.ClickHandler())
	mux.Handle("/postback/{source}", tr.PostbackHandler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- tr.Run(ctx) }()
	var once sync.Once
	stop := func(t *testing.T) {
		once.Do(func() {
			cancel()
			require.ErrorIs(t, <-done, context.Canceled)
		})
	}
	t.Cleanup(func() { stop(t) })
	l := &httpLife{life: life{f: &fixture{st: st, tr: tr}}, clock: clock, srv: srv, got: got, stop: stop, prog: c.Commission}
	l.post = l.postback
	return l
}

// postback signs q as casino-x's operator does at the clock's time and sends it to the
// server; it returns the status.
func (l *httpLife) postback(t *testing.T, q url.Values) int {
	t.Helper()
	const path = "/postback/casino-x"
	signed, err := postback.SignQuery(path, q.Encode(), seamKey, l.clock.Now())
	require.NoError(t, err)
	resp, err := l.srv.Client().Get(l.srv.URL + path + "?" + signed)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	return resp.StatusCode
}

// click follows affiliate aff's tracking link of campaign at at, as a visitor's browser
// does, up to the redirect, and returns the click ID the destination carries.
func (l *httpLife) click(t *testing.T, campaign, aff string, at time.Time) string {
	t.Helper()
	l.clock.Set(at)
	c := *l.srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Get(l.srv.URL + "/click/" + campaign + "?" + url.Values{"aff": {aff}, "sub1": {"banner-7"}}.Encode())
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusFound, resp.StatusCode, "rule: a click is redirected")
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	require.Equal(t, "https", loc.Scheme)
	require.True(t, strings.HasSuffix(loc.Host, ".example"), "rule: to the campaign's destination, not %s", loc)
	id := loc.Query().Get("cid")
	require.NotEmpty(t, id, "rule: the destination carries the click ID")
	return id
}

// sendAt sends e at its own time (the clock a minute past it), as life.send does.
func (l *httpLife) sendAt(t *testing.T, q url.Values, e *commission.Event) {
	t.Helper()
	l.clock.Set(e.At.Add(time.Minute))
	l.send(t, q, e)
}

// delivered waits, up to a deadline, for n outbound postbacks at the receiver, and returns
// them by transaction ID and event.
func (l *httpLife) delivered(t *testing.T, n int) map[string]url.Values {
	t.Helper()
	deadline := time.NewTimer(20 * time.Second)
	defer deadline.Stop()
	out := map[string]url.Values{}
	for i := range n {
		select {
		case q := <-l.got:
			k := q.Get("txn") + " " + q.Get("event")
			require.NotContains(t, out, k, "rule: one delivery per conversion and endpoint")
			out[k] = q
		case <-deadline.C:
			t.Fatalf("%d of %d outbound postbacks arrived: %v", i, n, out)
		}
	}
	return out
}

// finish stops the Tracker's Run (which waits for the attempts in flight) and checks that
// the receiver was sent nothing more than the n postbacks delivered, each recorded
// delivered.
func (l *httpLife) finish(t *testing.T, n int) {
	t.Helper()
	l.stop(t)
	require.Empty(t, l.got, "rule: nothing is delivered but what the life caused")
	ds, err := l.f.st.ListDeliveries(t.Context(), store.ListDeliveriesParams{Status: store.DeliveryDelivered, Limit: 1000})
	require.NoError(t, err)
	require.Len(t, ds, n, "rule: each outbound postback is recorded delivered")
	pending := l.f.pending(t)
	require.Empty(t, pending, "rule: no delivery is left pending")
}

// igamingConfig is a casino's hybrid programme: a 50 EUR CPA on a first deposit of at least
// 100 EUR, and 30% RevShare of the player's net revenue, in monthly statements.
const igamingConfig = `{
	"attribution": {"default": {"lifetime": true, "windows": {"default": "30d"}}},
	"commission": {"default": [{"from": "2025-01-01T00:00:00Z", "plan": {"id": "hybrid", "currency": "EUR", "rounding": "half_even",
		"cpa": {"amount": {"amount": "50.00", "currency": "EUR"}, "baseline": {"min_ftd": {"amount": "100.00", "currency": "EUR"}}},
		"revshare": {"rate": "30%"}}}]}
}`

// TestTracker_IGamingLifeHTTP: a casino player's life through HTTP only: the affiliate's
// tracking link redirected with its click ID, the operator's signed registration carrying
// it back, an FTD, further deposits, revenue reports (one with negative GGR), and the
// month's close. The store's ledger of the month's statement, rebuilt into statements, is
// what commission.Replay computes over the same history, closing twice writes nothing, and
// each conversion's outbound postback reaches the affiliate's tracker once, the FTD's with
// its CPA as the payout.
func TestTracker_IGamingLifeHTTP(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st store.Store) {
		start := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
		l := newHTTPLife(t, st, igamingConfig, start)
		click := l.click(t, "casino", "aff-1", start)
		eur := func(v string) money.Amount { return money.MustParse(v, money.EUR) }
		ev := func(id string, ty event.Type, at time.Time, amount string) *commission.Event {
			e := &commission.Event{ID: id, Type: ty, At: at, AffiliateID: "aff-1", PlayerID: "player-1"}
			if amount != "" {
				e.Amount = eur(amount)
			}
			return e
		}
		l.sendAt(t, url.Values{"click_id": {click}}, ev("REG-1", event.Registration, start.Add(time.Hour), ""))
		l.sendAt(t, url.Values{"amount": {"150.00"}, "currency": {"EUR"}}, ev("DEP-1", event.FTD, start.Add(2*time.Hour), "150.00"))
		for i, amount := range []string{"80.00", "40.00"} {
			l.sendAt(t, url.Values{"amount": {amount}, "currency": {"EUR"}},
				ev(fmt.Sprintf("DEP-%d", i+2), event.Deposit, start.Add(time.Duration(i+3)*24*time.Hour), amount))
		}

		lines := l.ledger(t, "aff-1")
		require.Equal(t, map[commission.Kind]int{commission.KindAccrual: 1}, kinds(lines), "rule: the FTD's CPA, once")
		require.Equal(t, eur("50.00"), lines[0].Amount)
		requireReplayed(t, l.prog, lines, l.events)

		// The operator's revenue reports of March: the player lost, then won some back
		// (negative GGR). Revenue is commission when March closes, not before.
		for _, r := range []struct {
			id           string
			day          int
			ggr, bonuses string
		}{{"R-1", 20, "1000.00", "100.00"}, {"R-2", 28, "-250.50", ""}} {
			at := time.Date(2026, 3, r.day, 12, 0, 0, 0, time.UTC)
			e := ev("casino-x/"+r.id, event.Revenue, at, "")
			e.Received = at.Add(time.Minute)
			e.Revenue = commission.Revenue{GGR: eur(r.ggr)}
			q := url.Values{"txn_id": {r.id}, "currency": {"EUR"}, "ggr": {r.ggr}}
			if r.bonuses != "" {
				e.Revenue.Bonuses = eur(r.bonuses)
				q.Set("bonuses", r.bonuses)
			}
			l.sendAt(t, q, e)
		}
		require.Len(t, l.ledger(t, "aff-1"), 1, "rule: a revenue report earns nothing before its period closes")

		march := commission.PeriodOf(start, commission.Month, time.UTC)
		l.clock.Set(march.End.Add(24 * time.Hour))
		require.NoError(t, l.f.tr.ClosePeriod(t.Context(), march))
		lines = l.ledger(t, "aff-1")
		require.Equal(t, map[commission.Kind]int{commission.KindAccrual: 2}, kinds(lines), "rule: the close adds March's RevShare")
		require.Equal(t, eur("224.85"), lines[1].Amount, "rule: 30% of March's GGR, 1000.00 - 250.50 (a plan without a net revenue formula shares GGR)")
		require.NoError(t, l.f.tr.ClosePeriod(t.Context(), march))
		require.Len(t, l.ledger(t, "aff-1"), len(lines), "rule: closing twice writes nothing new")
		march2, err := l.f.st.ListLedgerLines(t.Context(), store.ListLedgerLinesParams{AffiliateID: "aff-1", By: store.ByStatementTime,
			From: march.Start, To: march.End, Limit: 1000})
		require.NoError(t, err)
		require.ElementsMatch(t, lines, march2, "rule: both lines are March's statement's")
		requireReplayed(t, l.prog, lines, l.events)

		got := l.delivered(t, 4)
		for _, k := range []string{"REG-1 registration", "DEP-1 ftd", "DEP-2 deposit", "DEP-3 deposit"} {
			require.Contains(t, got, k, "rule: each of the player's conversions is told to the affiliate")
			require.Equal(t, click, got[k].Get("cid"), "rule: %s carries the click's ID", k)
			require.Equal(t, "aff-1", got[k].Get("aff"))
		}
		require.Equal(t, "50.00", got["DEP-1 ftd"].Get("payout"), "rule: the FTD's postback carries its CPA")
		l.finish(t, 4)
	})
}

// ibTreeConfig is a Forex IB programme over a three-level tree (ib-2 was referred by ib-1,
// ib-1 by ib-master): a rebate of 8 USD a lot on EURUSD and 5 USD on anything else, shared
// 60% to the client's IB, 25% to its parent and 10% to the parent's parent.
const ibTreeConfig = `{
	"attribution": {"default": {"lifetime": true, "windows": {"default": "30d"}}},
	"commission": {"parents": {"ib-2": "ib-1", "ib-1": "ib-master"},
		"default": [{"from": "2025-01-01T00:00:00Z", "plan": {"id": "ib", "currency": "USD", "rounding": "half_even",
			"ib": {"symbols": [{"symbol": "EURUSD", "per_lot": {"amount": "8.00", "currency": "USD"}}, {"per_lot": {"amount": "5.00", "currency": "USD"}}],
				"levels": ["60%", "25%", "10%"]}}}]}
}`

// TestTracker_ForexIBLifeHTTP: two Forex clients through HTTP only, one of ib-2 (three
// levels up the tree) and one of ib-1 (two): each followed its IB's link, registered, and
// traded per lot. Every trade's rebate is shared up the tree as far as it goes, the
// statements are Replay's, and each conversion is told to the IB's tracker.
func TestTracker_ForexIBLifeHTTP(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st store.Store) {
		start := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
		l := newHTTPLife(t, st, ibTreeConfig, start)
		type trade struct{ id, symbol, lots string }
		for i, c := range []struct {
			ib, trader string
			trades     []trade
		}{
			{"ib-2", "trader-a", []trade{{"TA-1", "EURUSD", "1.5"}, {"TA-2", "GBPJPY", "0.3"}}},
			{"ib-1", "trader-b", []trade{{"TB-1", "EURUSD", "2"}}},
		} {
			day := start.Add(time.Duration(i) * 24 * time.Hour)
			click := l.click(t, "fx", c.ib, day)
			l.sendAt(t, url.Values{"click_id": {click}},
				&commission.Event{ID: "REG-" + c.trader, Type: event.Registration, At: day.Add(time.Hour), AffiliateID: c.ib, PlayerID: c.trader})
			for j, tr := range c.trades {
				e := &commission.Event{ID: tr.id, Type: event.Trade, At: day.Add(time.Duration(j+2) * time.Hour), AffiliateID: c.ib, PlayerID: c.trader,
					Trade: commission.Trade{Symbol: tr.symbol, Lots: money.MustParseRate(tr.lots)}}
				l.sendAt(t, url.Values{"symbol": {tr.symbol}, "lots": {tr.lots}}, e)
			}
		}

		lines := l.ledger(t, "ib-2", "ib-1", "ib-master")
		got := map[string]string{}
		for _, ln := range lines {
			require.Equal(t, commission.KindAccrual, ln.Kind)
			got[ln.EventID+" "+ln.AffiliateID] = ln.Amount.String()
		}
		require.Equal(t, map[string]string{
			"TA-1 ib-2": "7.20 USD", "TA-1 ib-1": "3.00 USD", "TA-1 ib-master": "1.20 USD",
			"TA-2 ib-2": "0.90 USD", "TA-2 ib-1": "0.38 USD", "TA-2 ib-master": "0.15 USD",
			"TB-1 ib-1": "9.60 USD", "TB-1 ib-master": "4.00 USD",
		}, got, "rule: each trade's rebate per lot, shared up the tree as far as it goes")
		requireReplayed(t, l.prog, lines, l.events)

		ds := l.delivered(t, 5)
		for _, k := range []string{"REG-trader-a registration", "TA-1 trade", "TA-2 trade", "REG-trader-b registration", "TB-1 trade"} {
			require.Contains(t, ds, k, "rule: each client's conversions are told to its IB's tracker")
		}
		require.Equal(t, "ib-2", ds["TA-1 trade"].Get("aff"))
		require.Equal(t, "ib-1", ds["TB-1 trade"].Get("aff"))
		l.finish(t, 5)
	})
}

// TestTracker_PropLifeHTTP: a prop-firm trader through HTTP only: the affiliate's link, a
// registration, a challenge purchase (its CPA paid), then its refund, sent twice as a
// sender's retry: the refund's clawback negates the CPA exactly once, the statements are
// Replay's, and the refund's outbound postback goes out to the affiliate's tracker.
func TestTracker_PropLifeHTTP(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st store.Store) {
		start := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
		l := newHTTPLife(t, st, propConfig, start)
		click := l.click(t, "prop", "aff-prop", start)
		usd := func(v string) money.Amount { return money.MustParse(v, money.USD) }
		ev := func(id string, ty event.Type, at time.Time) *commission.Event {
			return &commission.Event{ID: id, Type: ty, At: at, AffiliateID: "aff-prop", PlayerID: "trader-p"}
		}
		l.sendAt(t, url.Values{"click_id": {click}}, ev("REG-P", event.Registration, start.Add(time.Hour)))
		buy := ev("P-1", event.Purchase, start.Add(2*time.Hour))
		buy.Amount, buy.AccountSize = usd("299.00"), usd("100000.00")
		l.sendAt(t, url.Values{"amount": {"299.00"}, "currency": {"USD"}, "account_size": {"100000.00"}}, buy)
		refund := ev("P-1/refund", event.Refund, start.Add(26*time.Hour))
		refund.Reverses = "P-1"
		l.sendAt(t, url.Values{"txn_id": {"P-1"}}, refund)
		retry := url.Values{"event": {"refund"}, "player_id": {"trader-p"}, "txn_id": {"P-1"},
			"occurred_at": {fmt.Sprint(refund.At.Unix())}}
		require.Equal(t, http.StatusOK, l.postback(t, retry), "rule: the refund's retry is a duplicate")

		lines := l.ledger(t, "aff-prop")
		require.Equal(t, map[commission.Kind]int{commission.KindAccrual: 1, commission.KindClawback: 1}, kinds(lines),
			"rule: the purchase's CPA, and one clawback of it")
		require.Equal(t, usd("44.85"), lines[0].Amount, "rule: 15% of the challenge's 299.00")
		neg, err := lines[0].Amount.Neg()
		require.NoError(t, err)
		require.Equal(t, neg, lines[1].Amount, "rule: the clawback negates the CPA exactly")
		requireReplayed(t, l.prog, lines, l.events)

		ds := l.delivered(t, 3)
		for _, k := range []string{"REG-P registration", "P-1 purchase", "P-1 refund"} {
			require.Contains(t, ds, k, "rule: each conversion, the refund included, is told to the affiliate")
		}
		require.Equal(t, "44.85", ds["P-1 purchase"].Get("payout"))
		l.finish(t, 3)
	})
}
