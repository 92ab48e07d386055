package commission_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/commission/commissiontest"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/stretchr/testify/require"
)

// TestLine_RoundTrip: every line of every rule and kind survives JSON whole. The decoded
// line is equal to the original (deep-equal once its times are in UTC), explains itself
// identically, and statements rebuilt from decoded lines are Replay's own.
func TestLine_RoundTrip(t *testing.T) {
	t.Parallel()
	kinds, rules := map[commission.Kind]bool{}, map[commission.Rule]bool{}
	for _, h := range commissiontest.Histories() {
		t.Run(h.Name, func(t *testing.T) {
			res, err := commission.Replay(h.Program, h.Events, nil)
			require.NoError(t, err)
			require.NotEmpty(t, res.Ledger)
			var back []commission.Line
			for i, l := range res.Ledger {
				kinds[l.Kind], rules[l.Rule] = true, true
				b, err := json.Marshal(l)
				require.NoError(t, err, "line %d", i)
				var d commission.Line
				require.NoError(t, json.Unmarshal(b, &d), "line %d: %s", i, b)
				require.True(t, l.Equal(d), "line %d: %s", i, b)
				require.True(t, d.Equal(l), "line %d: %s", i, b)
				require.Equal(t, commissiontest.LinesInUTC([]commission.Line{l}), commissiontest.LinesInUTC([]commission.Line{d}), "line %d", i)
				if h.Program.Zone == "" {
					require.Equal(t, l, d, "line %d: a UTC line deep-equals its decoding", i)
				}
				require.Equal(t, l.Explain(), d.Explain(), "line %d: %s", i, b)
				again, err := json.Marshal(d)
				require.NoError(t, err)
				require.JSONEq(t, string(b), string(again), "line %d: the encoding is stable", i)
				back = append(back, d)
			}
			st, err := commission.Statements(h.Program, back, nil)
			require.NoError(t, err)
			require.Equal(t, commissiontest.InUTC(res.Statements), commissiontest.InUTC(st))
			for i := range st {
				for j := range st[i].Lines {
					require.Equal(t, res.Statements[i].Lines[j].Explain(), st[i].Lines[j].Explain())
				}
			}
		})
	}
	for k := commission.KindAccrual; k <= commission.KindAdjustment; k++ {
		require.True(t, kinds[k], "the histories produce a %s line", k)
	}
	for r := commission.RuleCPA; r <= commission.RuleAdjustment; r++ {
		require.True(t, rules[r], "the histories produce a %s line", r)
	}
}

func TestLine_JSON(t *testing.T) {
	t.Parallel()
	res, err := commission.Replay(program(commission.Plan{ID: "rs", Currency: money.EUR, RevShare: &commission.RevShare{Rate: money.MustParseRate("30%")}}),
		[]commission.Event{{ID: "r", Type: event.Revenue, At: day(3), AffiliateID: "a", PlayerID: "p", Revenue: commission.Revenue{GGR: eur("100")}}}, nil)
	require.NoError(t, err)
	b, err := json.Marshal(res.Ledger[0])
	require.NoError(t, err)
	require.JSONEq(t, `{"kind":"accrual","rule":"revshare","plan":"rs","affiliate":"a",
		"at":"2026-02-01T00:00:00Z","payable":"2026-02-01T00:00:00Z",
		"period":{"start":"2026-01-01T00:00:00Z","end":"2026-02-01T00:00:00Z"},
		"amount":{"amount":"30.00","currency":"EUR"},"base":{"amount":"100.00","currency":"EUR"},
		"rate":"0.3","mode":"half_even",
		"detail":{"players":1,"ngr":{"amount":"100.00","currency":"EUR"},"fenced":{"amount":"0.00","currency":"EUR"},
			"carry_in":{"amount":"0.00","currency":"EUR"},"revshare":{"rate":"0.3"}}}`, string(b))
	var back commission.Line
	require.Error(t, json.Unmarshal([]byte(`{"kind":"bonus"}`), &back))
}

func TestLine_Equal(t *testing.T) {
	t.Parallel()
	malta, err := time.LoadLocation("Europe/Malta")
	require.NoError(t, err)
	fx := &money.ExchangeRate{From: money.USD, To: money.EUR, Rate: money.MustParseRate("0.9"), Source: "ECB", At: day(1)}
	l := commission.Line{Kind: commission.KindAccrual, Rule: commission.RuleCPA, Plan: "p", AffiliateID: "a", At: day(1), Payable: day(2),
		Amount: eur("1"), Base: eur("1"), FX: fx,
		Detail: commission.Detail{RevShare: &commission.RevShare{Rate: money.MustParseRate("30%"), NGR: mga}}}
	m := l
	m.At, m.Payable = l.At.In(malta), l.Payable.In(malta)
	fx2 := *fx
	fx2.At = fx.At.In(malta)
	m.FX = &fx2
	m.Detail.RevShare = &commission.RevShare{Rate: money.MustParseRate("30%"), NGR: append(commission.Formula(nil), mga...)}
	require.True(t, l.Equal(m), "the same instants in another zone, the same rate and detail by value")
	m.Detail.RevShare.NGR, m.Detail.RevShare.Tiers = mga, []commission.RateTier{}
	require.True(t, l.Equal(m), "terms that encode alike are the same")
	for name, change := range map[string]func(*commission.Line){
		"amount":  func(l *commission.Line) { l.Amount = eur("2") },
		"at":      func(l *commission.Line) { l.At = l.At.Add(time.Nanosecond) },
		"period":  func(l *commission.Line) { l.Period.End = day(3) },
		"no fx":   func(l *commission.Line) { l.FX = nil },
		"fx rate": func(l *commission.Line) { f := *l.FX; f.Rate = money.MustParseRate("0.91"); l.FX = &f },
		"fx at":   func(l *commission.Line) { f := *l.FX; f.At = day(2); l.FX = &f },
		"terms": func(l *commission.Line) {
			l.Detail.RevShare = &commission.RevShare{Rate: money.MustParseRate("30%"), NGR: mga[:1]}
		},
		"detail": func(l *commission.Line) { l.Detail.Players = 2 },
	} {
		c := m
		change(&c)
		require.False(t, l.Equal(c), name)
		require.False(t, c.Equal(l), name)
	}
}

// TestLine_Negate: the negation of every line of a history is the line Replay writes when
// the event is reversed; a kind other than reversal or clawback is refused.
func TestLine_Negate(t *testing.T) {
	t.Parallel()
	eur := func(v string) money.Amount { return money.MustParse(v, money.EUR) }
	prog := &commission.Program{Default: []commission.Version{{Plan: commission.Plan{ID: "cpa", Currency: money.EUR,
		CPA: &commission.CPA{Amount: eur("50.00"), Hold: commission.Duration(7 * 24 * time.Hour)}}}}}
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	back := at.Add(48 * time.Hour)
	events := []commission.Event{
		{ID: "d1", Type: event.FTD, At: at, AffiliateID: "a", PlayerID: "p", Amount: eur("150.00")},
		{ID: "r1", Type: event.Reversal, At: back, AffiliateID: "a", PlayerID: "p", Reverses: "d1"},
	}
	res, err := commission.Replay(prog, events, nil)
	require.NoError(t, err)
	require.Len(t, res.Ledger, 2)
	got, err := res.Ledger[0].Negate(commission.KindReversal, "r1", back)
	require.NoError(t, err)
	require.True(t, got.Equal(res.Ledger[1]), "rule: Negate is Replay's reversal line\nwant %s\ngot  %s", res.Ledger[1].Explain(), got.Explain())
	require.True(t, got.Payable.Equal(back), "rule: a reversal is payable when it happens, whatever the original's hold")

	_, err = res.Ledger[0].Negate(commission.KindAccrual, "r1", back)
	require.ErrorIs(t, err, commission.ErrInvalidLine, "rule: only a reversal or a clawback negates a line")
}

// TestKindRule_Valid: Valid accepts exactly the values that MarshalText names, for every
// value of the byte.
func TestKindRule_Valid(t *testing.T) {
	t.Parallel()
	for v := range 256 {
		_, err := commission.Kind(v).MarshalText()
		require.Equal(t, err == nil, commission.Kind(v).Valid(), "rule: Kind(%d).Valid agrees with MarshalText", v)
		_, err = commission.Rule(v).MarshalText()
		require.Equal(t, err == nil, commission.Rule(v).Valid(), "rule: Rule(%d).Valid agrees with MarshalText", v)
	}
	require.True(t, commission.KindAccrual.Valid())
	require.False(t, commission.Kind(0).Valid(), "rule: the zero Kind is not a kind")
}
