package s2s_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s"
	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/store"
)

// newFixtureWith is newFixture with the configuration cfg, and its commission programme.
func newFixtureWith(t *testing.T, st store.Store, cfg string) (*fixture, *commission.Program) {
	t.Helper()
	var c s2s.Config
	require.NoError(t, json.Unmarshal([]byte(cfg), &c))
	f := &fixture{st: st, now: seamNow}
	tr, err := s2s.New(st, c, &s2s.Options{Now: func() time.Time { return f.now }})
	require.NoError(t, err)
	h, err := postbackHandler(tr)
	require.NoError(t, err)
	f.tr, f.handler = tr, h
	return f, c.Commission
}

// life is a history sent through the handler and, beside it, the same history as
// commission events.
type life struct {
	f      *fixture
	events []commission.Event
	// post, when set, sends the postback q instead of f.send (through HTTP, in lifehttp_test.go).
	post func(t *testing.T, q url.Values) int
}

// send sends the postback q of event ev (its player, transaction and event time filled in)
// and keeps e, the same event for Replay, when it is a commission event.
func (l *life) send(t *testing.T, q url.Values, e *commission.Event) {
	t.Helper()
	q.Set("event", string(e.Type))
	q.Set("player_id", e.PlayerID)
	q.Set("occurred_at", fmt.Sprint(e.At.Unix()))
	if q.Get("txn_id") == "" {
		q.Set("txn_id", e.ID)
	}
	post := l.f.send
	if l.post != nil {
		post = l.post
	}
	require.Equal(t, http.StatusAccepted, post(t, q), "%s %s", e.Type, e.ID)
	l.events = append(l.events, *e)
}

// ledger is every ledger line of the affiliates, in the order the store lists each.
func (l *life) ledger(t *testing.T, affiliates ...string) []store.LedgerLine {
	var out []store.LedgerLine
	for _, a := range affiliates {
		out = append(out, l.f.ledger(t, a)...)
	}
	return out
}

// ibConfig is a Forex IB programme: a rebate of 8 USD a lot on EURUSD and 5 USD on anything
// else, shared 70% to the client's IB and 20% to its parent (the broker keeps 10%), and a
// 100 USD CPA on a first deposit of at least 200 USD.
const ibConfig = `{
	"attribution": {"default": {"lifetime": true, "windows": {"default": "30d"}}},
	"commission": {"parents": {"ib-1": "ib-master"},
		"default": [{"from": "2025-01-01T00:00:00Z", "plan": {"id": "ib", "currency": "USD", "rounding": "half_even",
			"cpa": {"amount": {"amount": "100.00", "currency": "USD"}, "baseline": {"min_ftd": {"amount": "200.00", "currency": "USD"}}},
			"ib": {"symbols": [{"symbol": "EURUSD", "per_lot": {"amount": "8.00", "currency": "USD"}}, {"per_lot": {"amount": "5.00", "currency": "USD"}}],
				"levels": ["70%", "20%"]}}}]}
}`

// TestTracker_ForexIBLife: a Forex client's life through the handler: a click of IB ib-1
// (whose parent is ib-master), registration, an FTD, trades per lot over days, one trade
// reversed. The ledger the store holds, rebuilt into statements, is what commission.Replay
// computes over the same events: the CPA, and every trade's rebate shared up the tree.
func TestTracker_ForexIBLife(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st store.Store) {
		f, prog := newFixtureWith(t, st, ibConfig)
		l := &life{f: f}
		day := seamNow.Add(-20 * 24 * time.Hour)
		click := f.click(t, "ib-1", day.Add(-time.Hour))
		usd := func(v string) money.Amount { return money.MustParse(v, money.USD) }
		ev := func(id string, ty event.Type, at time.Time) *commission.Event {
			return &commission.Event{ID: id, Type: ty, At: at, AffiliateID: "ib-1", PlayerID: "trader-1"}
		}
		l.send(t, url.Values{"click_id": {click.String()}}, ev("REG-1", event.Registration, day))
		ftd := ev("DEP-1", event.FTD, day.Add(time.Hour))
		ftd.Amount = usd("500.00")
		l.send(t, url.Values{"amount": {"500.00"}, "currency": {"USD"}}, ftd)
		for i, tr := range []struct{ symbol, lots string }{{"EURUSD", "1.5"}, {"GBPJPY", "0.3"}, {"EURUSD", "2"}, {"XAUUSD", "0.07"}} {
			e := ev(fmt.Sprintf("T-%d", i+1), event.Trade, day.Add(time.Duration(i+1)*24*time.Hour))
			e.Trade = commission.Trade{Symbol: tr.symbol, Lots: money.MustParseRate(tr.lots)}
			l.send(t, url.Values{"symbol": {tr.symbol}, "lots": {tr.lots}}, e)
		}
		rev := ev("T-2/reversal", event.Reversal, day.Add(5*24*time.Hour))
		rev.Reverses = "T-2"
		l.send(t, url.Values{"txn_id": {"T-2"}}, rev)

		lines := l.ledger(t, "ib-1", "ib-master")
		got := map[string]int{}
		for _, ln := range lines {
			got[ln.AffiliateID+" "+ln.Kind.String()+" "+ln.Rule.String()]++
		}
		require.Equal(t, map[string]int{
			"ib-1 accrual cpa": 1, "ib-1 accrual ib.lot": 4, "ib-master accrual ib.lot": 4,
			"ib-1 reversal ib.lot": 1, "ib-master reversal ib.lot": 1,
		}, got, "rule: the CPA, each trade's rebate at both levels, and the reversed trade's negative lines")
		requireReplayed(t, prog, lines, l.events)
	})
}

// propConfig is a prop firm's programme: 15% of each challenge's price, the first purchase
// of a trader only, clawed back when it is refunded, and 50 USD when the trader is funded.
const propConfig = `{
	"attribution": {"default": {"lifetime": true, "windows": {"default": "30d"}}},
	"commission": {"default": [{"from": "2025-01-01T00:00:00Z", "plan": {"id": "prop", "currency": "USD", "rounding": "half_even",
		"prop": {"rate": "15%", "funded": {"amount": "50.00", "currency": "USD"}, "clawback_refund": true}}}]}
}`

// TestTracker_PropLife: a prop-firm trader's life through the handler: registration, a
// challenge purchase (paid), a second one (a repeat: not paid), the first refunded (its CPA
// clawed back), then funded. The store's ledger is Replay's.
func TestTracker_PropLife(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st store.Store) {
		f, prog := newFixtureWith(t, st, propConfig)
		l := &life{f: f}
		day := seamNow.Add(-10 * 24 * time.Hour)
		click := f.click(t, "aff-prop", day.Add(-time.Hour))
		usd := func(v string) money.Amount { return money.MustParse(v, money.USD) }
		ev := func(id string, ty event.Type, at time.Time) *commission.Event {
			return &commission.Event{ID: id, Type: ty, At: at, AffiliateID: "aff-prop", PlayerID: "trader-2"}
		}
		l.send(t, url.Values{"click_id": {click.String()}}, ev("REG-2", event.Registration, day))
		for i, price := range []string{"299.00", "99.00"} {
			e := ev(fmt.Sprintf("P-%d", i+1), event.Purchase, day.Add(time.Duration(i+1)*time.Hour))
			e.Amount, e.AccountSize = usd(price), usd("100000.00")
			l.send(t, url.Values{"amount": {price}, "currency": {"USD"}, "account_size": {"100000.00"}}, e)
		}
		refund := ev("P-1/refund", event.Refund, day.Add(24*time.Hour))
		refund.Reverses = "P-1"
		l.send(t, url.Values{"txn_id": {"P-1"}}, refund)
		l.send(t, url.Values{}, ev("F-1", event.Funded, day.Add(3*24*time.Hour)))

		lines := l.ledger(t, "aff-prop")
		require.Len(t, lines, 3, "rule: the first purchase's CPA, its clawback, and the funded payment")
		require.Equal(t, commission.KindClawback, lines[1].Kind)
		require.Equal(t, usd("-44.85"), lines[1].Amount, "rule: the refund claws back 15% of 299.00")
		refunded := f.conversion(t, url.Values{"event": {"refund"}, "player_id": {"trader-2"}, "txn_id": {"P-1"}})
		require.Equal(t, refunded.ID, lines[1].ConversionID, "rule: the clawback is the refund's line")
		requireReplayed(t, prog, lines, l.events)
	})
}

// TestConfig_IBNotSupported: an IB plan that needs trade data a postback does not carry is
// refused with its field named.
func TestConfig_IBNotSupported(t *testing.T) {
	t.Parallel()
	for field, ib := range map[string]string{
		"ib.min_hold":         `"min_hold": "1m", "symbols": [{"per_lot": {"amount": "5.00", "currency": "USD"}}]`,
		"ib.spread":           `"spread": {"rate": "10%", "contract_size": 100000}, "symbols": [{"per_lot": {"amount": "5.00", "currency": "USD"}}]`,
		"ib.symbols[0].class": `"symbols": [{"class": "metals", "per_lot": {"amount": "5.00", "currency": "USD"}}]`,
	} {
		cfg := `{"commission": {"default": [{"from": "2025-01-01T00:00:00Z", "plan": {"id": "ib", "currency": "USD", "ib": {` + ib + `}}}]}}`
		var c s2s.Config
		require.NoError(t, json.Unmarshal([]byte(cfg), &c), field)
		err := c.Validate()
		require.ErrorIs(t, err, s2s.ErrInvalidConfig, field)
		require.ErrorContains(t, err, "default[0].plan."+field, "rule: the refusal names the field")
	}
}

// tieredIBConfig pays 10 USD a lot, 1.5 times that once the IB's clients traded 3 lots in
// the month.
const tieredIBConfig = `{
	"attribution": {"default": {"lifetime": true, "windows": {"default": "30d"}}},
	"commission": {"default": [{"from": "2025-01-01T00:00:00Z", "plan": {"id": "ib", "currency": "USD", "rounding": "half_even",
		"ib": {"symbols": [{"per_lot": {"amount": "10.00", "currency": "USD"}}],
			"tiers": [{"from": "0", "multiplier": "1"}, {"from": "3", "multiplier": "1.5"}]}}}]}
}`

// TestTracker_IBLotTiers: the lot tier of a trade is set by the volume the IB's clients
// traded before it in the period, which the store counts with each trade and from which a
// reversed trade is taken out, as Replay prices it.
func TestTracker_IBLotTiers(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st store.Store) {
		f, prog := newFixtureWith(t, st, tieredIBConfig)
		l := &life{f: f}
		day := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		click := f.click(t, "ib-1", day.Add(-time.Hour))
		ev := func(id string, ty event.Type, at time.Time) *commission.Event {
			return &commission.Event{ID: id, Type: ty, At: at, AffiliateID: "ib-1", PlayerID: "trader-3"}
		}
		l.send(t, url.Values{"click_id": {click.String()}}, ev("REG-3", event.Registration, day))
		trade := func(id, lots string, h int) {
			e := ev(id, event.Trade, day.Add(time.Duration(h)*time.Hour))
			e.Trade = commission.Trade{Symbol: "EURUSD", Lots: money.MustParseRate(lots)}
			l.send(t, url.Values{"symbol": {"EURUSD"}, "lots": {lots}}, e)
		}
		trade("T-1", "2", 1)   // 0 before: ×1
		trade("T-2", "1.5", 2) // 2 before: ×1
		trade("T-3", "1", 3)   // 3.5 before: ×1.5
		rev := ev("T-1/reversal", event.Reversal, day.Add(4*time.Hour))
		rev.Reverses = "T-1"
		l.send(t, url.Values{"txn_id": {"T-1"}}, rev)
		trade("T-4", "1", 5) // 2.5 before, T-1 taken out: ×1

		lines := l.ledger(t, "ib-1")
		require.Len(t, lines, 5)
		require.Equal(t, money.MustParse("15.00", money.USD), lines[2].Amount, "rule: the third trade is priced by the tier of 3.5 lots")
		require.Equal(t, money.MustParse("10.00", money.USD), lines[4].Amount, "rule: a reversed trade no longer counts towards the tier")
		requireReplayed(t, prog, lines, l.events)
	})
}

// TestTracker_IBLotTiersConcurrent: 20 concurrent trades of one lot each, with a tier that
// doubles the rebate from 10 lots: each is priced by the volume before it, so the first 10
// pay 10 USD and the next 10 pay 20 USD, whatever the order.
func TestTracker_IBLotTiersConcurrent(t *testing.T) {
	t.Parallel()
	cfg := strings.Replace(tieredIBConfig, `{"from": "3", "multiplier": "1.5"}`, `{"from": "10", "multiplier": "2"}`, 1)
	stores(t, func(t *testing.T, st store.Store) {
		f, _ := newFixtureWith(t, st, cfg)
		day := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		click := f.click(t, "ib-1", day.Add(-time.Hour))
		(&life{f: f}).send(t, url.Values{"click_id": {click.String()}},
			&commission.Event{ID: "REG-4", Type: event.Registration, At: day, AffiliateID: "ib-1", PlayerID: "trader-4"})
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Go(func() {
				q := url.Values{"event": {"trade"}, "player_id": {"trader-4"}, "txn_id": {fmt.Sprintf("T-%d", i)},
					"symbol": {"EURUSD"}, "lots": {"1"}, "occurred_at": {fmt.Sprint(day.Add(time.Hour).Unix())}}
				assert.Equal(t, http.StatusAccepted, f.send(t, q))
			})
		}
		wg.Wait()
		counts := map[string]int{}
		for _, l := range f.ledger(t, "ib-1") {
			counts[l.Amount.String()]++
		}
		require.Equal(t, map[string]int{"10.00 USD": 10, "20.00 USD": 10}, counts, "rule: each trade is priced by the volume before it")
	})
}
