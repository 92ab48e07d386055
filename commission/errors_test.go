package commission_test

import (
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/stretchr/testify/require"
)

var sentinels = []error{commission.ErrInvalidPlan, commission.ErrNoPlan, commission.ErrCurrency,
	commission.ErrInvalidEvent, commission.ErrInvalidLine, commission.ErrOverflow}

// TestErrors: every error begins "commission: " once and wraps one of the sentinels.
func TestErrors(t *testing.T) {
	t.Parallel()
	big := money.New(math.MaxInt64, money.EUR)
	rs := commission.Plan{ID: "rs", Currency: money.EUR, RevShare: &commission.RevShare{Rate: money.MustParseRate("50%")}}
	ib := commission.Plan{ID: "ib", Currency: money.EUR, IB: &commission.IB{Symbols: []commission.SymbolRate{{PerLot: big}},
		Levels: []money.Rate{money.MustParseRate("50%")}}}
	replay := func(p commission.Plan, evs ...commission.Event) error {
		_, err := commission.Replay(program(p), evs, nil)
		return err
	}
	rev := func(id string, d int, ggr money.Amount) commission.Event {
		return commission.Event{ID: id, Type: event.Revenue, At: day(d), AffiliateID: "a", PlayerID: "p", Revenue: commission.Revenue{GGR: ggr}}
	}
	for name, err := range map[string]error{
		"invalid plan":    (&commission.Plan{ID: "x"}).Validate(),
		"invalid program": (&commission.Program{}).Validate(),
		"no plan":         replay(rs, commission.Event{ID: "e", Type: event.Deposit, At: t0.AddDate(-1, 0, 0), AffiliateID: "a", Amount: eur("1")}),
		"currency":        replay(cpaPlan(), commission.Event{ID: "e", Type: event.Deposit, At: day(1), AffiliateID: "a", Amount: usd("1")}),
		"invalid event":   replay(rs, commission.Event{ID: "e", Type: event.Reversal, At: day(1), AffiliateID: "a", Reverses: "nothing"}),
		"duplicate event": replay(rs, rev("e", 1, eur("1")), rev("e", 2, eur("1"))),
		"settle overflow": replay(rs, rev("e", 1, big), rev("f", 2, eur("1"))),
		"tree overflow":   replay(ib, commission.Event{ID: "t", Type: event.Trade, At: day(1), AffiliateID: "a", Trade: commission.Trade{Lots: money.MustParseRate("2")}}),
		"compare": func() error {
			_, _, err := commission.Compare(program(rs), &commission.Program{}, nil, nil)
			return err
		}(),
		"zone": func() error { g := program(rs); g.Zone = "Mars/Olympus"; return replay2(g) }(),
		"statements": func() error {
			_, err := commission.Statements(&commission.Program{Period: "year"}, nil, nil)
			return err
		}(),
		"mixed statement": statementsOf(commission.Line{AffiliateID: "a", At: day(1), Payable: day(1), Amount: eur("1")}, commission.Line{AffiliateID: "a", At: day(1), Payable: day(1), Amount: usd("1")}),
		"line kind":       json.Unmarshal([]byte(`{"kind":"bonus"}`), &commission.Line{}),
		"line rule":       json.Unmarshal([]byte(`{"kind":"accrual","rule":"bonus"}`), &commission.Line{}),
		"line detail":     json.Unmarshal([]byte(`{"kind":"accrual","detail":{"ngr":5}}`), &commission.Line{}),
		"encode bad line": func() error { _, err := json.Marshal(commission.Line{}); return err }(),
		"plan JSON":       json.Unmarshal([]byte(`{"id":"x","cpa":{"amount":7}}`), &commission.Plan{}),
		"duration":        json.Unmarshal([]byte(`"soon"`), new(commission.Duration)),
		"formula":         json.Unmarshal([]byte(`"none"`), new(commission.Formula)),
		"revshare carry": func() error {
			_, _, err := rs.RevShareLine(commission.RevShareInput{NGR: money.New(math.MinInt64, money.EUR), CarryIn: eur("-1")})
			return err
		}(),
		"cpa currency": func() error { p := cpaPlan(); _, err := p.CPALine(commission.CPAInput{FTD: usd("1")}); return err }(),
		"ngr overflow": func() error {
			_, err := (&commission.Plan{ID: "n", Currency: money.EUR, RevShare: &commission.RevShare{NGR: mga}}).NGR(&commission.Revenue{GGR: big, Bonuses: money.New(math.MinInt64, money.EUR)})
			return err
		}(),
	} {
		require.Error(t, err, name)
		msg := err.Error()
		if errors.Is(err, commission.ErrInvalidLine) && strings.HasPrefix(msg, "json: ") {
			msg = msg[strings.Index(msg, "commission: "):] // json.Marshal names the method that failed
		}
		require.True(t, strings.HasPrefix(msg, "commission: "), "%s: %q", name, msg)
		require.NotContains(t, msg[len("commission: "):], "commission: ", "%s: one prefix: %q", name, msg)
		wraps := false
		for _, s := range sentinels {
			wraps = wraps || errors.Is(err, s)
		}
		require.True(t, wraps, "%s wraps a sentinel: %q", name, msg)
	}
}

func replay2(g *commission.Program) error {
	_, err := commission.Replay(g, nil, nil)
	return err
}

func statementsOf(lines ...commission.Line) error {
	_, err := commission.Statements(&commission.Program{}, lines, nil)
	return err
}

// TestErrors_Source: every error the package's sources make starts from a sentinel
// (fmt.Errorf("%w: ..."), within or a planError), and only errors.go calls errors.New.
func TestErrors_Source(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	calls := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		fset := token.NewFileSet()
		file, err := parser.ParseFile(fset, f, nil, 0)
		require.NoError(t, err)
		ast.Inspect(file, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			pkg, _ := sel.X.(*ast.Ident)
			switch {
			case pkg == nil:
			case pkg.Name == "errors" && sel.Sel.Name == "New":
				calls++
				require.Equal(t, "errors.go", f, "%s: errors.New outside the sentinels", fset.Position(call.Pos()))
				lit := call.Args[0].(*ast.BasicLit)
				s, _ := strconv.Unquote(lit.Value)
				require.True(t, strings.HasPrefix(s, "commission: "), "%s: %s", fset.Position(call.Pos()), s)
			case pkg.Name == "fmt" && sel.Sel.Name == "Errorf":
				calls++
				lit, ok := call.Args[0].(*ast.BasicLit)
				require.True(t, ok, "%s: a constant format", fset.Position(call.Pos()))
				s, _ := strconv.Unquote(lit.Value)
				require.True(t, strings.HasPrefix(s, "%w: "), "%s: %q begins with its sentinel", fset.Position(call.Pos()), s)
				arg, ok := call.Args[1].(*ast.Ident)
				require.True(t, ok && strings.HasPrefix(arg.Name, "Err"), "%s: the first argument is a sentinel", fset.Position(call.Pos()))
			}
			return true
		})
	}
	require.Greater(t, calls, 30)
}
