package commission

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	"github.com/s2skit/s2s/internal/jsonfield"
	"github.com/s2skit/s2s/money"
)

// UnmarshalJSON implements json.Unmarshaler, for plans as an operator writes them, strictly
// (a field the plan does not define is an error, so a misspelt requirement is never dropped):
//   - an amount is money's JSON object ({"amount":"5000.00","currency":"EUR"}) or, since a
//     plan has one currency, a plain JSON string ("5000.00") in the plan's "currency";
//   - the first tier of cpa.tiers, revshare.tiers and prop.sizes may leave out "from": it
//     starts at the bottom (the first qualified player, or zero in the plan's currency);
//   - revshare.ngr is a Formula's terms or the name of a preset, such as "mga" (see
//     NamedFormula).
//
// The plan encodes back in the explicit form (amounts as objects, every from, the formula's
// terms), which decodes to an equal plan. A plain-string amount in a plan without a valid
// currency is an error wrapping ErrInvalidPlan that names the field.
func (p *Plan) UnmarshalJSON(b []byte) error {
	type plain Plan // Plan without its methods
	var tree any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // numbers go back out exactly as they came
	if err := dec.Decode(&tree); err != nil {
		return fmt.Errorf("%w: plan: %w", ErrInvalidPlan, err)
	}
	obj, _ := tree.(map[string]any)
	var cur money.Currency
	if code, ok := obj["currency"].(string); ok {
		cur, _ = money.ParseCurrency(code) // an invalid code fails below, in the plain decoding
	}
	id, _ := obj["id"].(string)
	w := amountWalker{plan: id, cur: cur}
	if _, err := w.walk(tree, reflect.TypeFor[plain](), ""); err != nil {
		return err
	}
	if w.changed {
		var err error
		if b, err = json.Marshal(tree); err != nil {
			return fmt.Errorf("%w: plan %q: %w", ErrInvalidPlan, id, err)
		}
	}
	if err := strict(b, (*plain)(p)); err != nil {
		if errors.Is(err, ErrInvalidPlan) {
			return within(err, "plan %q", id)
		}
		return fmt.Errorf("%w: plan %q: %w", ErrInvalidPlan, id, err)
	}
	p.defaultFirstTiers()
	return nil
}

// strict decodes the JSON value b into v, refusing fields v has not: in a deal, a misspelt
// field ("minftd") would otherwise be a requirement silently dropped.
func strict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// UnmarshalJSON implements json.Unmarshaler. Like a Plan's, a Program's JSON may have no
// field the type does not define: a misspelt "form" would otherwise put a version in force
// from the year 1. The error wraps ErrInvalidPlan.
func (g *Program) UnmarshalJSON(b []byte) error {
	type plain Program // Program without its methods
	if err := strict(b, (*plain)(g)); err != nil {
		if errors.Is(err, ErrInvalidPlan) {
			return err
		}
		return fmt.Errorf("%w: program: %w", ErrInvalidPlan, err)
	}
	return nil
}

// defaultFirstTiers gives a first tier decoded without "from" its bottom.
func (p *Plan) defaultFirstTiers() {
	if c := p.CPA; c != nil && len(c.Tiers) > 0 && c.Tiers[0].From == 0 {
		c.Tiers[0].From = 1
	}
	if !p.Currency.Valid() {
		return
	}
	if r := p.RevShare; r != nil && len(r.Tiers) > 0 && unset(r.Tiers[0].From) {
		r.Tiers[0].From = money.New(0, p.Currency)
	}
	if pp := p.Prop; pp != nil && len(pp.Sizes) > 0 && unset(pp.Sizes[0].From) {
		pp.Sizes[0].From = money.New(0, p.Currency)
	}
}

var amountType = reflect.TypeFor[money.Amount]()

// amountWalker rewrites the plain-string amounts of a decoded JSON plan into money's objects,
// guided by the Plan type: a string where the type has a money.Amount is an amount.
type amountWalker struct {
	plan    string
	cur     money.Currency
	changed bool
}

func (w *amountWalker) walk(v any, t reflect.Type, path string) (any, error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == amountType:
		s, ok := v.(string)
		if !ok {
			return v, nil
		}
		if !w.cur.Valid() {
			return nil, &planError{plan: w.plan, field: path, problem: fmt.Sprintf("amount %q as a plain string needs the plan's currency", s)}
		}
		w.changed = true
		return map[string]any{"amount": s, "currency": w.cur.String()}, nil
	case t.Kind() == reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return v, nil
		}
		for key, val := range obj {
			f, ok := jsonfield.ByName(t, key)
			if !ok {
				continue
			}
			name := key
			if path != "" {
				name = path + "." + key
			}
			var err error
			if obj[key], err = w.walk(val, f.Type, name); err != nil {
				return nil, err
			}
		}
	case t.Kind() == reflect.Slice:
		list, ok := v.([]any)
		if !ok {
			return v, nil
		}
		for i, val := range list {
			var err error
			if list[i], err = w.walk(val, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return nil, err
			}
		}
	}
	return v, nil
}

// The names of the NGR formula presets, for NamedFormula and for a plan's "ngr" in JSON.
const (
	// FormulaMGA is GGR × 83.5% − bonuses − (deposits + withdrawals) × 10%: the NGR of
	// players under a Malta Gaming Authority licence, as an MGA- and Ontario-licensed
	// operator publishes it for its affiliates (Conquestador Affiliates, FAQ,
	// https://affiliates.conquestador.com/faq/3).
	FormulaMGA = "mga"
	// FormulaOntario is GGR × 65% − bonuses − (deposits + withdrawals) × 5%: the NGR of
	// players in Ontario (licensed by the AGCO, operating under an agreement with iGaming
	// Ontario), from the same published terms (https://affiliates.conquestador.com/faq/3).
	FormulaOntario = "ontario"
)

// NamedFormula returns a new copy of the NGR formula preset called name (FormulaMGA or
// FormulaOntario). Presets are one operator's published terms: check them against the terms
// of the deal at hand, and write the formula's terms out when they differ. An unknown name
// is an error wrapping ErrInvalidPlan.
func NamedFormula(name string) (Formula, error) {
	var ggr, payments string
	switch name {
	case FormulaMGA:
		ggr, payments = "83.5%", "-10%"
	case FormulaOntario:
		ggr, payments = "65%", "-5%"
	default:
		return nil, fmt.Errorf("%w: unknown NGR formula %q (want %q, %q or a list of terms)", ErrInvalidPlan, name, FormulaMGA, FormulaOntario)
	}
	return Formula{
		{Field: GGR, Rate: money.MustParseRate(ggr)},
		{Field: Bonuses, Rate: intRate(-1)},
		{Field: Deposits, Rate: money.MustParseRate(payments)},
		{Field: Withdrawals, Rate: money.MustParseRate(payments)},
	}, nil
}

// UnmarshalJSON implements json.Unmarshaler: a list of terms, or the name of a preset as a
// JSON string, such as "mga" (see NamedFormula). It encodes as its list of terms.
func (f *Formula) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var name string
		if err := json.Unmarshal(b, &name); err != nil {
			return err
		}
		named, err := NamedFormula(name)
		if err != nil {
			return err
		}
		*f = named
		return nil
	}
	var terms []Term
	if err := strict(b, &terms); err != nil {
		return fmt.Errorf("%w: ngr: %w", ErrInvalidPlan, err)
	}
	*f = terms
	return nil
}
