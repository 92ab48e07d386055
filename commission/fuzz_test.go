package commission_test

import (
	"encoding/json"
	"testing"

	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/commission/commissiontest"
	"github.com/s2skit/s2s/money"
	"github.com/stretchr/testify/require"
)

// FuzzPlanJSON: decoding never panics; a plan that decodes and validates re-encodes to a plan
// that still validates and encodes the same, and its calculators never panic.
func FuzzPlanJSON(f *testing.F) {
	f.Add([]byte(hybridJSON))
	f.Add([]byte(plainJSON))
	f.Add([]byte(`{"id":"p","currency":"KWD","prop":{"sizes":[{"from":{"minor":0,"currency":"KWD"},"amount":{"amount":"1.500","currency":"KWD"}}]}}`))
	f.Add([]byte(`{"id":"ib","currency":"USD","ib":{"symbols":[{"per_lot":{"amount":"5","currency":"USD"}}],"levels":["70%","0.2"]}}`))
	f.Add([]byte(`{"id":"r","currency":"JPY","revshare":{"rate":"0.3","carryover":"ring_fence","high_roller":{"amount":"100000","currency":"JPY"}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var p commission.Plan
		if json.Unmarshal(data, &p) != nil || p.Validate() != nil {
			return
		}
		out, err := json.Marshal(&p)
		require.NoError(t, err)
		var q commission.Plan
		require.NoError(t, json.Unmarshal(out, &q), "%s", out)
		require.NoError(t, q.Validate())
		// A zero optional amount is omitted, so p and q may differ in the currency of a zero;
		// the encoding itself is stable.
		again, err := json.Marshal(&q)
		require.NoError(t, err)
		require.JSONEq(t, string(out), string(again))
		one := money.New(12345, p.Currency)
		_, _ = p.CPALine(commission.CPAInput{FTD: one, Deposits: one, Wagered: one, Verified: true})
		rev := commission.Revenue{GGR: one, Bonuses: one, Deposits: one, Withdrawals: one}
		if ngr, err := p.NGR(&rev); err == nil {
			_, _, _ = p.RevShareLine(commission.RevShareInput{NGR: ngr})
		}
		_, _, _ = p.TradeLines(commission.TradeInput{Trade: commission.Trade{Symbol: "EURUSD", Lots: money.MustParseRate("1.5"), Spread: money.MustParseRate("0.0002"), AvgSpread: money.MustParseRate("0.0001")}})
		_, _ = p.PurchaseLine(commission.PurchaseInput{Price: one, AccountSize: one, First: true})
	})
}

// FuzzLineJSON: decoding a stored line never panics; a line that decodes explains itself
// without panicking, and encodes to a line Equal to it that explains itself identically.
func FuzzLineJSON(f *testing.F) {
	for _, h := range commissiontest.Histories() {
		res, err := commission.Replay(h.Program, h.Events, nil)
		require.NoError(f, err)
		for _, l := range res.Ledger {
			b, err := json.Marshal(l)
			require.NoError(f, err)
			f.Add(b)
		}
	}
	f.Add([]byte(`{"kind":"accrual","rule":"revshare","amount":{"minor":1,"currency":"EUR"},"base":{"minor":1,"currency":"EUR"},"tier":9,"mode":"half_even","detail":{"ngr":{"minor":1,"currency":"EUR"},"marginal":true,"tiers":[{"from":{"minor":0,"currency":"EUR"},"rate":"0.3"}]}}`))
	f.Add([]byte(`{"kind":"accrual","rule":"revshare","amount":{"minor":0,"currency":"EUR"},"base":{"minor":0,"currency":"EUR"},"mode":"half_even","detail":{"formula":[],"tiers":[]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var l commission.Line
		if json.Unmarshal(data, &l) != nil {
			return
		}
		explained := l.Explain()
		out, err := json.Marshal(l)
		if err != nil {
			return // a line decoded without its amounts cannot be encoded
		}
		var back commission.Line
		require.NoError(t, json.Unmarshal(out, &back), "%s", out)
		require.True(t, l.Equal(back), "%s", out)
		require.Equal(t, explained, back.Explain())
	})
}
