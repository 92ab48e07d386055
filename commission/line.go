package commission

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/s2skit/s2s/money"
)

// Kind is the kind of a ledger line. It encodes as its name ("accrual", ...).
type Kind uint8

// The line kinds. Reversals and clawbacks are negative lines; nothing is ever edited.
const (
	// KindAccrual is commission earned.
	KindAccrual Kind = iota + 1
	// KindReversal undoes the lines of a reversed event, line by line, with negated amounts.
	KindReversal
	// KindClawback takes back a commission after a refund or reset.
	KindClawback
	// KindCarryover records a negative RevShare balance at the end of a period: the
	// affiliate's base carried into the next period (CarryForward; Player empty) or a
	// ring-fenced player's balance (RingFence; Player set). Its Amount is always zero, so a
	// statement's total is the sum of its lines' amounts; Base holds the balance, negative.
	KindCarryover
	// KindAdjustment is a manual correction (RuleAdjustment), or what late revenue changed
	// of a period's RevShare (RuleRevShare: see Program.Settle).
	KindAdjustment
)

// kindNames holds the names of the kinds, indexed by Kind. It is never modified.
var kindNames = [...]string{"", "accrual", "reversal", "clawback", "carryover", "adjustment"}

// String returns the kind's name, such as "accrual".
func (k Kind) String() string { return enumName(kindNames[:], uint8(k), "Kind") }

// Valid reports whether k is one of the declared kinds: what MarshalText accepts, checked
// without making its text.
func (k Kind) Valid() bool { return k > 0 && int(k) < len(kindNames) }

// MarshalText implements encoding.TextMarshaler with the name String returns.
func (k Kind) MarshalText() ([]byte, error) { return enumMarshal(kindNames[:], uint8(k), "kind") }

// UnmarshalText implements encoding.TextUnmarshaler: it accepts the names String returns.
func (k *Kind) UnmarshalText(b []byte) error {
	return enumUnmarshal(kindNames[:], (*uint8)(k), b, "kind")
}

// Rule names the rule that produced a line. It encodes as its name ("cpa.tier", ...).
type Rule uint8

// The rules.
const (
	RuleCPA          Rule = iota + 1 // a fixed CPA
	RuleCPACountry                   // a CPA for the player's country
	RuleCPATier                      // a CPA of a volume tier
	RuleRevShare                     // RevShare of a period (and its carryover lines)
	RuleIBLot                        // an IB rebate per lot
	RuleIBSpread                     // an IB share of the spread
	RulePropPurchase                 // a prop-firm challenge CPA
	RulePropFunded                   // a prop-firm payout on a funded account
	RuleSub                          // a sub-affiliate share
	RuleAdjustment                   // a manual adjustment
)

// ruleNames holds the names of the rules, indexed by Rule. It is never modified.
var ruleNames = [...]string{"", "cpa", "cpa.country", "cpa.tier", "revshare", "ib.lot", "ib.spread", "prop.purchase", "prop.funded", "sub", "adjustment"}

// String returns the rule's name, such as "cpa.tier".
func (r Rule) String() string { return enumName(ruleNames[:], uint8(r), "Rule") }

// Valid reports whether r is one of the declared rules: what MarshalText accepts, checked
// without making its text.
func (r Rule) Valid() bool { return r > 0 && int(r) < len(ruleNames) }

// MarshalText implements encoding.TextMarshaler with the name String returns.
func (r Rule) MarshalText() ([]byte, error) { return enumMarshal(ruleNames[:], uint8(r), "rule") }

// UnmarshalText implements encoding.TextUnmarshaler: it accepts the names String returns.
func (r *Rule) UnmarshalText(b []byte) error {
	return enumUnmarshal(ruleNames[:], (*uint8)(r), b, "rule")
}

func enumName(names []string, v uint8, typ string) string {
	if v > 0 && int(v) < len(names) {
		return names[v]
	}
	return typ + "(" + strconv.Itoa(int(v)) + ")"
}

func enumMarshal(names []string, v uint8, what string) ([]byte, error) {
	if v > 0 && int(v) < len(names) {
		return []byte(names[v]), nil
	}
	return nil, fmt.Errorf("%w: unknown %s %d", ErrInvalidLine, what, v)
}

func enumUnmarshal(names []string, v *uint8, b []byte, what string) error {
	for i, n := range names {
		if i > 0 && n == string(b) {
			*v = uint8(i)
			return nil
		}
	}
	return fmt.Errorf("%w: unknown %s %q", ErrInvalidLine, what, b)
}

// Line is one immutable ledger line: an amount owed to an affiliate, the rule that produced it
// and the inputs it was computed from (its Detail). Explain renders them. A Line is a value:
// changing a copy changes no ledger.
//
// A line survives JSON, and so any store, whole: encoding a line and decoding it gives a line
// equal to it (Equal; reflect.DeepEqual too when its times are in UTC) that explains itself
// identically. A store keeps the exported fields as typed columns and Detail as one JSON value.
//
// A line with a Reason pays nothing and belongs in no ledger: it is how a calculator says why
// it did not pay. Every line without a Reason belongs in the ledger, even with a zero Amount:
// a RevShare line of a period whose base was not positive records its NGR and balance, a
// carryover line records a balance, and an amount may round to zero.
type Line struct {
	// Kind is accrual, reversal, clawback, carryover or adjustment.
	Kind Kind `json:"kind"`
	// Rule is the rule that produced the line (a reversal keeps the rule it reverses).
	Rule Rule `json:"rule"`
	// Plan is the ID of the plan in force.
	Plan string `json:"plan"`
	// AffiliateID is who is owed the amount.
	AffiliateID string `json:"affiliate"`
	// PlayerID is set on lines about one player.
	PlayerID string `json:"player,omitempty"`
	// EventID is the event that produced the line (for a reversal, the reversing event).
	EventID string `json:"event,omitempty"`
	// Reverses is the event whose line this line reverses or claws back.
	Reverses string `json:"reverses,omitempty"`
	// At is when the line accrued; Payable is when it is approved (At plus a hold). On a
	// period line (RevShare, sub-affiliate, carryover) both are the period's exclusive end,
	// Period.End: the instant the period closes, which is in the next period. Such a line
	// belongs to the statement of its Period all the same: see StatementTime.
	At      time.Time `json:"at"`
	Payable time.Time `json:"payable"`
	// Period is set on lines computed per period (RevShare, sub-affiliate, carryover).
	Period Period `json:"period,omitzero"`
	// Amount is the commission, in the plan's currency: positive for accruals (zero when
	// nothing was earned, see Line), either sign for adjustments, negative for reversals and
	// clawbacks (the negation of the line reversed, zero when it was zero), and always zero
	// for carryover lines.
	Amount money.Amount `json:"amount"`
	// Base is what the rule was applied to, in the plan's currency (the NGR base, a
	// purchase price, an account size, a rebate to share, a sub-affiliate's earnings, a
	// carried balance). Every line has one: a zero amount in the plan's currency when the
	// rule applied to nothing (an adjustment), never the zero money.Amount, which has no
	// currency and does not encode.
	Base money.Amount `json:"base"`
	// Rate is the rate the rule applied, if any: the RevShare rate (zero for marginal bands,
	// which Explain lists), a prop or sub-affiliate share, an IB tier multiplier or, on an
	// IB-tree line, the level's share of Base.
	Rate money.Rate `json:"rate,omitzero"`
	// Tier is the 1-based tier applied, 0 when none.
	Tier int32 `json:"tier,omitempty"`
	// Level is the sub-affiliate level (1 for the parent of the affiliate that earned) or
	// the IB-tree level (1 for the client's own IB, 2 for its parent), 0 when none.
	Level int32 `json:"level,omitempty"`
	// Mode is the rounding mode of the line's one rounding step.
	Mode money.RoundingMode `json:"mode"`
	// FX is the exchange rate that converted the event into the plan's currency, if any.
	FX *money.ExchangeRate `json:"fx,omitempty"`
	// Reason says why a calculator paid nothing, on a line that belongs in no ledger, such
	// as "baseline.min_ftd" or "cap.count". It is empty on every ledger line.
	Reason string `json:"reason,omitempty"`
	// Detail holds the rule's inputs and the parts of the plan it used, for Explain.
	Detail Detail `json:"detail,omitzero"`
}

// StatementTime is the instant that places the line in a statement: the start of its
// Period for a period line (RevShare, sub-affiliate, carryover), else Payable. March's
// RevShare line, payable at the end of March (April's first instant), is in March's
// statement. Statements and Replay group lines by it; a store lists a ledger by it.
func (l Line) StatementTime() time.Time {
	if !l.Period.IsZero() {
		return l.Period.Start
	}
	return l.Payable
}

// Equal reports whether l and m are the same line: every field equal, times as instants
// (time.Time.Equal, so a line read back from a store in another time zone is equal), the
// exchange rates and the details by value (RevShare terms, and revenue sums, that encode
// alike are the same).
func (l Line) Equal(m Line) bool {
	if !l.At.Equal(m.At) || !l.Payable.Equal(m.Payable) || !l.Period.Start.Equal(m.Period.Start) ||
		!l.Period.End.Equal(m.Period.End) || (l.FX == nil) != (m.FX == nil) {
		return false
	}
	if l.FX != nil {
		a, b := *l.FX, *m.FX
		if !a.At.Equal(b.At) {
			return false
		}
		a.At, b.At = time.Time{}, time.Time{}
		if a != b {
			return false
		}
	}
	if !sameTerms(l.Detail.RevShare, m.Detail.RevShare) || !sameJSON(l.Detail.Revenue, m.Detail.Revenue) {
		return false
	}
	l.At, l.Payable, l.Period, l.FX, l.Detail.RevShare, l.Detail.Revenue = time.Time{}, time.Time{}, Period{}, nil, nil, nil
	m.At, m.Payable, m.Period, m.FX, m.Detail.RevShare, m.Detail.Revenue = time.Time{}, time.Time{}, Period{}, nil, nil, nil
	return reflect.DeepEqual(l, m)
}

// sameJSON reports whether a and b are both nil, or encode alike: a revenue sum whose zero
// amounts have a currency and one read back, whose zero amounts (left out of its JSON) have
// none, are the same sum.
func sameJSON(a, b *Revenue) bool {
	if a == nil || b == nil {
		return a == b
	}
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(ja) == string(jb)
}

// sameTerms reports whether a and b are the same RevShare terms: equal, or encoding alike
// (an empty formula and none, a zero unused threshold and none, are the same terms).
func sameTerms(a, b *RevShare) bool {
	if a == b || a == nil || b == nil {
		return a == b
	}
	if reflect.DeepEqual(a, b) {
		return true
	}
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(ja) == string(jb)
}

// Negate returns the line that undoes l, as Replay writes it when the event that produced l
// is reversed (k is KindReversal) or a refund or reset claws a purchase back (KindClawback):
// kind k, Amount and Base negated, Reverses set to l's event, EventID to the undoing event,
// and At and Payable to its time at. Every other field is l's. A kind other than KindReversal
// or KindClawback is an error wrapping ErrInvalidLine, an amount that cannot be negated one
// wrapping ErrOverflow. A pipeline that writes clawbacks as they happen calls it on the lines
// it stored, so that its lines are the lines Replay computes.
func (l Line) Negate(k Kind, event string, at time.Time) (Line, error) {
	if k != KindReversal && k != KindClawback {
		return Line{}, fmt.Errorf("%w: negate into kind %s, want reversal or clawback", ErrInvalidLine, k)
	}
	return l.negate(k, event, at)
}

// negate returns the line reversed: kind k, every amount negated, the event set.
func (l Line) negate(k Kind, event string, at time.Time) (Line, error) {
	var err error
	r := l
	r.Kind, r.Reverses, r.EventID, r.At, r.Payable = k, l.EventID, event, at, at
	if r.Amount, err = l.Amount.Neg(); err != nil {
		return Line{}, overflow("reverse", err)
	}
	if r.Base, err = l.Base.Neg(); err != nil {
		return Line{}, overflow("reverse", err)
	}
	return r, nil
}

func overflow(op string, err error) error {
	return fmt.Errorf("%w: %s: %w", ErrOverflow, op, err)
}

// Explain returns a human-readable trace of the line: the rule, its inputs, the arithmetic
// and the rounding. It is computed from the line's recorded inputs when called, never at
// calculation time.
func (l Line) Explain() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s to %s", l.Kind, l.Rule, l.Amount, l.AffiliateID)
	if l.PlayerID != "" {
		fmt.Fprintf(&b, " for player %s", l.PlayerID)
	}
	if l.EventID != "" {
		fmt.Fprintf(&b, " (event %s", l.EventID)
		if l.Reverses != "" {
			fmt.Fprintf(&b, ", reversing %s", l.Reverses)
		}
		b.WriteString(")")
	}
	fmt.Fprintf(&b, ", plan %q\n", l.Plan)
	if !l.Period.Start.IsZero() {
		fmt.Fprintf(&b, "  period: %s\n", l.Period)
	}
	if l.Reason != "" {
		fmt.Fprintf(&b, "  not paid: %s\n", l.Reason)
	}
	if l.FX != nil {
		fmt.Fprintf(&b, "  converted at 1 %s = %s %s (%s, %s)\n", l.FX.From, l.FX.Rate, l.FX.To, l.FX.Source, l.FX.At.UTC().Format(time.RFC3339))
	}
	if l.Kind == KindReversal || l.Kind == KindClawback {
		fmt.Fprintf(&b, "  %s of the line of event %s, negated\n", l.Kind, l.Reverses)
	}
	switch l.Rule {
	case RuleCPA, RuleCPACountry, RuleCPATier:
		switch l.Rule {
		case RuleCPACountry:
			fmt.Fprintf(&b, "  rule: CPA for country %s\n", l.Detail.Country)
		case RuleCPATier:
			fmt.Fprintf(&b, "  rule: CPA tier %d (qualified player no. %d of the period)\n", l.Tier, l.Detail.Rank)
		default:
			b.WriteString("  rule: fixed CPA\n")
		}
		if l.Reason == "" {
			fmt.Fprintf(&b, "  amount: %s\n", l.Base)
		}
		if l.Payable.After(l.At) {
			fmt.Fprintf(&b, "  hold: payable from %s\n", l.Payable.UTC().Format(time.RFC3339))
		}
	case RuleRevShare:
		l.explainRevShare(&b)
	case RuleIBLot:
		d := &l.Detail
		fmt.Fprintf(&b, "  rule: rebate per lot on %s standard lots (cent lots count 1/100), tier multiplier %s\n", d.Lots, d.IBRate)
		fmt.Fprintf(&b, "  arithmetic: %s per lot × %s lots × %s = %s, rounded once (%s)\n", d.PerLot, d.Lots, d.IBRate, d.Commission, l.Mode)
	case RuleIBSpread:
		d := &l.Detail
		if d.Damped {
			b.WriteString("  spread above the damping threshold: the average spread is used (reduction factor average/spread)\n")
		}
		fmt.Fprintf(&b, "  arithmetic: spread × %s lots × contract size × %s = %s, rounded once (%s)\n", d.Lots, d.IBRate, d.Commission, l.Mode)
	case RulePropPurchase:
		switch {
		case !l.Rate.IsZero():
			fmt.Fprintf(&b, "  rule: %s of the purchase price or account size\n  arithmetic: %s × %s = %s, rounded once (%s)\n", l.Rate, l.Base, l.Rate, l.Amount, l.Mode)
		default:
			fmt.Fprintf(&b, "  rule: fixed challenge CPA %s\n", l.Base)
		}
	case RulePropFunded:
		fmt.Fprintf(&b, "  rule: payout on funded account, %s\n", l.Base)
	case RuleAdjustment:
		fmt.Fprintf(&b, "  manual adjustment of %s\n", l.Amount)
	case RuleSub:
		fmt.Fprintf(&b, "  rule: sub-affiliate level %d, %s of the %s of %s\n", l.Level, l.Rate, l.Detail.Basis, l.Detail.Sub)
		fmt.Fprintf(&b, "  arithmetic: %s × %s = %s, rounded once (%s)\n", l.Base, l.Rate, l.Amount, l.Mode)
	}
	if l.Level > 0 && l.Rule != RuleSub {
		fmt.Fprintf(&b, "  IB tree level %d: share %s of %s (largest-remainder allocation, shares sum exactly)\n", l.Level, l.Rate, l.Base)
	}
	return b.String()
}

func (l Line) explainRevShare(b *strings.Builder) {
	d, r := &l.Detail, l.Detail.RevShare
	if r == nil {
		// A line built by hand, without the calculator's detail.
		fmt.Fprintf(b, "  base %s × %s = %s, rounded once (%s)\n", l.Base, l.Rate, l.Amount, l.Mode)
		return
	}
	if l.Kind == KindCarryover {
		fmt.Fprintf(b, "  negative balance %s carried (policy %s)\n", l.Base, r.Carryover.orNone())
		return
	}
	if l.Kind == KindAdjustment {
		fmt.Fprintf(b, "  late revenue: %d player(s)' revenue of earlier periods, reported after their cutoff, adds %s to the period's NGR\n", d.Players, l.Base)
		fmt.Fprintf(b, "  adjustment: the period's RevShare with it, less its RevShare line without it = %s\n", l.Amount)
		return
	}
	raw, err := d.NGR.Add(d.Fenced)
	if err != nil || d.Fenced.IsZero() {
		raw = d.NGR
	}
	fmt.Fprintf(b, "  NGR of %d player(s): %s", d.Players, raw)
	switch {
	case len(r.NGR) == 0:
		b.WriteString(" = GGR")
	case d.Revenue != nil:
		b.WriteString(" = ")
		for i, t := range r.NGR {
			if i > 0 {
				b.WriteString(" + ")
			}
			fmt.Fprintf(b, "%s %s × %s", t.Field, d.Revenue.field(t.Field).Decimal(), t.Rate)
		}
		fmt.Fprintf(b, ", summed exactly, rounded once (%s)", l.Mode)
	}
	b.WriteString("\n")
	if !d.Fenced.IsZero() {
		fmt.Fprintf(b, "  ring-fenced high-roller NGR left out (or absorbed by a fenced balance): %s, NGR counted %s\n", d.Fenced, d.NGR)
	}
	fmt.Fprintf(b, "  carried in: %s\n", d.CarryIn)
	if !r.AdminFee.IsZero() {
		fmt.Fprintf(b, "  admin fee %s deducted, base %s\n", r.AdminFee, l.Base)
	} else {
		fmt.Fprintf(b, "  base: %s\n", l.Base)
	}
	switch {
	case l.Base.Sign() <= 0:
		b.WriteString("  base not positive: nothing paid\n")
	case len(r.Tiers) == 0 || l.Tier < 1 || int(l.Tier) > len(r.Tiers):
		fmt.Fprintf(b, "  arithmetic: %s × %s = %s, rounded once (%s)\n", l.Base, l.Rate, l.Amount, l.Mode)
	case !r.Marginal:
		fmt.Fprintf(b, "  tier %d reached (from %s): %s applies to the whole base\n", l.Tier, r.Tiers[l.Tier-1].From, l.Rate)
		fmt.Fprintf(b, "  arithmetic: %s × %s = %s, rounded once (%s)\n", l.Base, l.Rate, l.Amount, l.Mode)
	default:
		b.WriteString("  marginal bands:")
		for i := range int(l.Tier) {
			t := r.Tiers[i]
			hi := "∞"
			if i+1 < len(r.Tiers) {
				hi = r.Tiers[i+1].From.Decimal()
			}
			fmt.Fprintf(b, " [%s, %s) × %s;", t.From.Decimal(), hi, t.Rate)
		}
		fmt.Fprintf(b, " summed exactly = %s, rounded once (%s)\n", l.Amount, l.Mode)
	}
}

func (c Carryover) orNone() Carryover {
	if c == "" {
		return CarryNone
	}
	return c
}
