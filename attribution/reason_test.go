package attribution_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/attribution"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/store"
)

// declaredCodes returns the values of the package's Code constants, read from its source,
// so that a code added without a path to it in TestDecision_ReasonEveryCode fails it.
func declaredCodes(t *testing.T) map[attribution.Code]bool {
	t.Helper()
	fset := token.NewFileSet()
	codes := map[attribution.Code]bool{}
	entries, err := os.ReadDir(".")
	require.NoError(t, err)
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, e.Name(), nil, 0)
		require.NoError(t, err)
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Code" {
					continue
				}
				for _, v := range vs.Values {
					s, err := strconv.Unquote(v.(*ast.BasicLit).Value)
					require.NoError(t, err)
					codes[attribution.Code(s)] = true
				}
			}
		}
	}
	require.Greater(t, len(codes), 20, "the parse found the codes")
	return codes
}

// TestDecision_ReasonEveryCode: "why did this conversion go to affiliate X, or to nobody?"
// is answered from the decision alone on every path: each of the package's codes is reached
// here, and each decision has a sentence of its own (not the bare code) that names the
// affiliate it names, fits a store's text, and goes onto a record the store accepts.
func TestDecision_ReasonEveryCode(t *testing.T) {
	t.Parallel()
	d := decider(t, casino())
	k := click(1, "aff-1", "casino", t0)
	in := func(c *store.Click, at time.Time, change ...func(*attribution.Input)) *attribution.Input {
		return ptr(ftd(c, at), change...)
	}
	b := store.PlayerBinding{PlayerID: "P-1", AffiliateID: "aff-b", CampaignID: "casino", ClickID: cid(2), Method: store.BindByClick, BoundAt: t0}
	last := t0.AddDate(0, 1, 0)
	late := click(5, "aff-new", "casino", last.AddDate(0, 0, 200))
	o := original(t, d)
	held, reversed := o, o
	held.Status, reversed.Status = event.StatusPending, event.StatusReversed
	fraud := decider(t, fraudulent())
	badRule := withRules(t, casino(), func(attribution.Input, attribution.Decision) attribution.Verdict {
		return attribution.Verdict{Action: attribution.Hold}
	})
	eurCap := attribution.Cap{Name: "eur", Scope: attribution.CapPerCampaign, Period: attribution.CapMonth,
		Amount: money.MustParse("1000.00", money.EUR), Over: attribution.CapHold}
	capped := decider(t, capped(dailyFTDs(attribution.CapReject), eurCap))
	over, ok := capped.Decide(in(&k, t0.Add(time.Hour))).OverCap("cap:daily_ftd:aff=aff-1:day=2026-03-02")
	require.True(t, ok)
	every := decider(t, attribution.Config{Dedup: attribution.Dedup{Mode: attribution.DedupEvery}})

	decisions := map[attribution.Code]attribution.Decision{
		attribution.CodeClick:   d.Decide(in(&k, t0.Add(time.Hour))),
		attribution.CodeBinding: d.Decide(in(nil, t0.Add(time.Hour), func(i *attribution.Input) { i.Binding = &b })),
		attribution.CodeClaim: d.Decide(in(nil, t0, func(i *attribution.Input) {
			i.Claims = []attribution.Claim{{Method: store.BindByPromoCode, AffiliateID: "aff-p"}}
		})),
		attribution.CodeNoClick:    d.Decide(in(nil, t0)),
		attribution.CodeTooFast:    fraud.Decide(in(&k, t0.Add(time.Second))),
		attribution.CodeTooSlow:    fraud.Decide(in(&k, t0.AddDate(0, 0, 40))),
		attribution.CodeCapReached: over,
		attribution.CodeReattributed: d.Decide(in(&late, late.CreatedAt.Add(time.Hour), func(i *attribution.Input) {
			i.Conversion.Event, i.Binding, i.LastActivity = event.Deposit, &b, last
		})),
		attribution.CodeClickNotFound:    d.Decide(in(nil, t0, func(i *attribution.Input) { i.Conversion.ClickID = cid(9) })),
		attribution.CodeWindowExpired:    d.Decide(in(&k, t0.AddDate(0, 2, 0))),
		attribution.CodeEventInFuture:    d.Decide(in(&k, t0.Add(time.Hour), func(i *attribution.Input) { i.Now = t0 })),
		attribution.CodeEventBeforeClick: d.Decide(in(&k, t0.Add(-time.Hour))),
		attribution.CodeMissingTransactionID: d.Decide(in(&k, t0.Add(time.Hour), func(i *attribution.Input) {
			i.Conversion.TransactionID = ""
		})),
		attribution.CodeMissingPlayerID: d.Decide(in(nil, t0, func(i *attribution.Input) {
			i.Conversion.Event, i.Conversion.TransactionID, i.Conversion.PlayerID = event.Registration, "", ""
		})),
		attribution.CodeMissingConversionID: every.Decide(in(&k, t0.Add(time.Hour))),
		attribution.CodeStatusChanged:       d.Decide(ptr(update(o, event.StatusReversed))),
		attribution.CodeStatusUnchanged:     d.Decide(ptr(update(o, event.StatusApproved))),
		attribution.CodeAlreadyReversed:     d.Decide(ptr(update(reversed, event.StatusReversed))),
		attribution.CodeInvalidTransition:   d.Decide(ptr(update(held, "chargeback"))),
		attribution.CodeParkedReversal: d.Decide(in(&k, t0.Add(time.Hour), func(i *attribution.Input) {
			i.Conversion.Event = event.Reversal
		})),
		attribution.CodeSelfReferral:   fraud.Decide(in(&k, t0.Add(time.Hour), func(i *attribution.Input) { i.Conversion.PlayerID = "aff-1" })),
		attribution.CodeInvalidVerdict: badRule.Decide(in(&k, t0.Add(time.Hour))),
		attribution.CodeCapCurrency: capped.Decide(in(&k, t0.Add(time.Hour), func(i *attribution.Input) {
			i.Conversion.Amount = money.MustParse("50.00", money.USD)
		})),
	}
	codes := declaredCodes(t)
	for code := range codes {
		dec, ok := decisions[code]
		require.True(t, ok, "code %q: no path to it in the test", code)
		name := string(code)
		require.Equal(t, code, dec.Code, "%s: %s", name, dec.Reason())
		reason := dec.Reason()
		require.NotEmpty(t, reason, name)
		require.LessOrEqual(t, len(reason), store.MaxTextLen, name)
		require.NotEqual(t, name, reason, "%s: a sentence of its own, not the bare code", name)
		first, _, _ := strings.Cut(reason, "; ")
		for c := range codes {
			require.False(t, strings.HasSuffix(first, ": "+string(c)), "%s: the attribution's sentence is not the bare code %s: %s", name, c, reason)
		}
		if dec.AffiliateID != "" {
			require.Contains(t, reason, strconv.Quote(dec.AffiliateID), "%s: the reason names the affiliate the decision names", name)
		} else if !dec.Park { // a parked reversal is about a conversion not yet known
			require.Contains(t, reason, "nobody", name)
		}
		if dec.Refused() {
			require.Empty(t, dec.DedupKey(), name)
			continue
		}
		c := ptr(ftd(&k, t0)).Conversion
		c.ID = uuid.New()
		dec.Apply(&c)
		require.NoError(t, c.Validate(), "%s: the record passes the store's rules", name)
	}
}
