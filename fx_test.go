package s2s_test

import (
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s"
	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/store"
)

// fxConfig is trackerConfig's CPA (50 EUR on a first deposit of at least 100 EUR) with a
// recorded USD to EUR rate.
const fxConfig = `{
	"attribution": {"default": {"lifetime": true, "windows": {"default": "90d"}}},
	"commission": {"default": [{"from": "2025-01-01T00:00:00Z", "plan": {"id": "cpa", "currency": "EUR", "rounding": "half_even",
		"cpa": {"amount": {"amount": "50.00", "currency": "EUR"}, "baseline": {"min_ftd": {"amount": "100.00", "currency": "EUR"}}}}}]},
	"rates": [{"from": "USD", "to": "EUR", "rate": "0.9", "source": "contract-2026-03", "at": "2026-03-01T00:00:00Z"}]
}`

// TestTracker_ExchangeRates: a deposit in another currency than the plan's is converted with
// the configured rate, which the CPA line records, as Replay converts an event with its FX;
// a deposit in a currency no rate converts earns nothing and is not the player's first.
func TestTracker_ExchangeRates(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st store.Store) {
		f, prog := newFixtureWith(t, st, fxConfig)
		rate := money.ExchangeRate{From: money.USD, To: money.EUR, Rate: money.MustParseRate("0.9"), Source: "contract-2026-03",
			At: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
		start := seamNow.Add(-5 * 24 * time.Hour)
		for _, p := range []string{"p-usd", "p-gbp"} {
			click := f.click(t, "aff-1", start.Add(-time.Hour))
			(&life{f: f}).send(t, url.Values{"click_id": {click.String()}},
				&commission.Event{ID: "REG-" + p, Type: event.Registration, At: start, AffiliateID: "aff-1", PlayerID: p})
		}
		usd := &life{f: f}
		usd.send(t, url.Values{"amount": {"120.00"}, "currency": {"USD"}}, &commission.Event{ID: "D-1", Type: event.FTD,
			At: start.Add(time.Hour), AffiliateID: "aff-1", PlayerID: "p-usd", Amount: money.MustParse("120.00", money.USD), FX: &rate})
		usd.send(t, url.Values{"amount": {"100.00"}, "currency": {"USD"}}, &commission.Event{ID: "D-2", Type: event.Deposit,
			At: start.Add(2 * time.Hour), AffiliateID: "aff-1", PlayerID: "p-usd", Amount: money.MustParse("100.00", money.USD), FX: &rate})
		gbp := &life{f: f}
		gbp.send(t, url.Values{"amount": {"50.00"}, "currency": {"GBP"}}, &commission.Event{ID: "G-1", Type: event.FTD,
			At: start.Add(time.Hour), AffiliateID: "aff-1", PlayerID: "p-gbp", Amount: money.MustParse("50.00", money.GBP)})
		gbp.send(t, url.Values{"amount": {"150.00"}, "currency": {"EUR"}}, &commission.Event{ID: "G-2", Type: event.Deposit,
			At: start.Add(2 * time.Hour), AffiliateID: "aff-1", PlayerID: "p-gbp", Amount: money.MustParse("150.00", money.EUR)})

		var mine, other []store.LedgerLine
		for _, l := range f.ledger(t, "aff-1") {
			if l.PlayerID == "p-usd" {
				mine = append(mine, l)
			} else {
				other = append(other, l)
			}
		}
		require.Len(t, mine, 1, "rule: 120.00 USD is 108.00 EUR, over the minimum: one CPA, at the first deposit")
		require.Equal(t, "D-1", mine[0].EventID)
		require.NotNil(t, mine[0].FX, "rule: the line records the rate it was converted with")
		requireReplayed(t, prog, mine, usd.events)
		// The GBP deposit, which no rate converts, is not counted: the EUR deposit after it is
		// the player's first, and earns the CPA.
		require.Len(t, other, 1)
		require.Equal(t, "G-2", other[0].EventID, "rule: an amount no rate converts is not counted")
	})
}

// TestConfig_Rates: rates are validated, each pair once, with the rate named.
func TestConfig_Rates(t *testing.T) {
	t.Parallel()
	for name, rates := range map[string]string{
		"rates[0]": `[{"from": "USD", "to": "EUR", "rate": "0.9", "at": "2026-03-01T00:00:00Z"}]`,
		"rates[1]": `[{"from": "USD", "to": "EUR", "rate": "0.9", "source": "a", "at": "2026-03-01T00:00:00Z"},
			{"from": "USD", "to": "EUR", "rate": "0.91", "source": "b", "at": "2026-03-02T00:00:00Z"}]`,
		"rates[0]:": `[{"from": "EUR", "to": "EUR", "rate": "1", "source": "a", "at": "2026-03-01T00:00:00Z"}]`,
	} {
		var c s2s.Config
		require.NoError(t, json.Unmarshal([]byte(`{"rates": `+rates+`}`), &c), name)
		err := c.Validate()
		require.ErrorIs(t, err, s2s.ErrInvalidConfig, name)
		require.ErrorContains(t, err, name, "rule: the refusal names the rate")
	}
}
