package commission

import (
	"fmt"
	"sort"
	"time"
)

// Program is a whole affiliate programme as data: the default plan history, per-affiliate
// overrides, the sub-affiliate (and IB) tree and the statement calendar. It encodes to and
// from JSON.
type Program struct {
	// Default is the plan history that applies to affiliates without an override.
	Default []Version `json:"default"`
	// Affiliates overrides the default history for the named affiliates.
	Affiliates map[string][]Version `json:"affiliates,omitempty"`
	// Parents maps an affiliate to the affiliate that referred it (its parent in the
	// sub-affiliate or IB tree).
	Parents map[string]string `json:"parents,omitempty"`
	// Zone is the IANA time zone of statement periods, such as "Europe/Malta". Empty is UTC.
	Zone string `json:"zone,omitempty"`
	// Period is the statement period. Empty is Month.
	Period PeriodUnit `json:"period,omitempty"`
	// Grace is how long after a period's end revenue reports are still counted in it (the
	// period's cutoff is its End plus Grace). A report received later is late: it counts in
	// the period whose cutoff comes next after its receipt, where settlement shows what it
	// changed as an adjustment line (see RevenuePeriod and Settle). Zero counts every
	// report received after its period's end as late.
	Grace Duration `json:"grace,omitzero"`
}

// Version is a plan with the instant it takes effect. It stays in force until the next
// version of the same history.
type Version struct {
	From time.Time `json:"from"`
	Plan Plan      `json:"plan"`
}

// Validate checks every plan, that each history is in strictly increasing order of From, that
// the tree has no cycle, and the period unit. The error wraps ErrInvalidPlan and names the
// bad field.
func (g *Program) Validate() error {
	if len(g.Default) == 0 && len(g.Affiliates) == 0 {
		return fmt.Errorf("%w: program: no plans", ErrInvalidPlan)
	}
	check := func(name string, h []Version) error {
		for i := range h {
			if err := h[i].Plan.Validate(); err != nil {
				pe := *err.(*planError) // Validate returns nothing else
				pe.where = fmt.Sprintf("%s[%d]", name, i)
				return &pe
			}
			if i > 0 && !h[i].From.After(h[i-1].From) {
				return fmt.Errorf("%w: program: %s[%d].from: not after %s[%d].from", ErrInvalidPlan, name, i, name, i-1)
			}
		}
		return nil
	}
	if err := check("default", g.Default); err != nil {
		return err
	}
	for _, a := range sortedKeys(g.Affiliates) {
		if len(g.Affiliates[a]) == 0 {
			return fmt.Errorf("%w: program: affiliates[%q]: empty history", ErrInvalidPlan, a)
		}
		if err := check(fmt.Sprintf("affiliates[%q]", a), g.Affiliates[a]); err != nil {
			return err
		}
	}
	for _, a := range sortedKeys(g.Parents) {
		seen := map[string]bool{a: true}
		for p := g.Parents[a]; p != ""; p = g.Parents[p] {
			if seen[p] {
				return fmt.Errorf("%w: program: parents[%q]: cycle through %q", ErrInvalidPlan, a, p)
			}
			seen[p] = true
		}
	}
	if g.Grace < 0 {
		return fmt.Errorf("%w: program: grace: negative", ErrInvalidPlan)
	}
	return g.Period.validate()
}

// RevenuePeriod returns the period a revenue report counts in, in loc (nil means UTC): the
// period of of (the instant the revenue is of), unless the report was received after that
// period's cutoff (End plus Grace), in which case it is late and counts in the first period
// whose cutoff is after received. A zero received is never late. Replay places revenue
// reports and their reversals with it, and so does a pipeline that closes periods as they
// end, so that both count every report in one period.
func (g *Program) RevenuePeriod(of, received time.Time, loc *time.Location) (p Period, late bool) {
	p = PeriodOf(of, g.Period, loc)
	if received.IsZero() || received.Before(p.End.Add(g.Grace.Std())) {
		return p, false
	}
	return PeriodOf(received.Add(-g.Grace.Std()), g.Period, loc), true
}

// PlanAt returns the plan in force for affiliate at t: the latest version of the affiliate's
// override history (or of the default history) whose From is not after t. Before the first
// version there is no plan, and the error wraps ErrNoPlan.
func (g *Program) PlanAt(affiliate string, t time.Time) (*Plan, error) {
	h, ok := g.Affiliates[affiliate]
	if !ok {
		h = g.Default
	}
	i := sort.Search(len(h), func(i int) bool { return h[i].From.After(t) }) - 1
	if i < 0 {
		return nil, fmt.Errorf("%w: affiliate %q at %s", ErrNoPlan, affiliate, t.UTC().Format(time.RFC3339))
	}
	return &h[i].Plan, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
