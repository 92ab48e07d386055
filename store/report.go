package store

import (
	"cmp"
	"context"
	"fmt"
	"math/big"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
)

// ReportStore answers the counts and sums that reports are made of, per affiliate, campaign
// and period, from the stored records themselves: a store computes them where they are kept
// (pgstore with indexed aggregate queries), so that a report reads no record it does not
// count and lists none.
type ReportStore interface {
	// Aggregate returns, for each period of p.Periods and each affiliate and campaign with
	// records in it (only p.AffiliateID's and p.CampaignID's, each when it is set):
	//
	//   - the clicks, by CreatedAt;
	//   - the conversions by event type and current status, by [Conversion.EventTime];
	//   - the sums of the revenue facts in force, per currency, by OccurredAt: a fact that
	//     a recorded correction corrects is not in force (its correction replaces it, and
	//     is summed in its own period), so that a corrected report counts once;
	//   - the sums of the ledger lines by rule, kind and currency, by
	//     [commission.Line.StatementTime] (the statement a line is in), each line in the
	//     campaign of the conversion it refers to ("" for a line of none, such as a period's
	//     RevShare): reversals and clawbacks are negative lines, so the sum of a rule's
	//     kinds is its commission net of them.
	//
	// A record at an instant that is in no period (before the first bound, at or after the
	// last) is in none of the results. Groups with nothing in them are left out. Each slice
	// of the result is sorted as [Aggregates.Sort] sorts it. A sum past what an int64 of
	// minor units holds is an error, never a wrapped total. Parameters that fail
	// [AggregateParams.Validate] are ErrInvalid.
	Aggregate(ctx context.Context, p AggregateParams) (Aggregates, error)

	// CountAttempts returns how many delivery attempts to endpoint p.Endpoint finished in
	// [p.From, p.To), and how many of those failed: every attempt whose StatusCode is not
	// 2xx (no response, a 3xx, a 4xx or a 5xx), which is what an outbound worker delivers
	// on. It is the endpoint's failure rate over that window. An endpoint with no attempts
	// has zero counts and a nil error. Parameters that fail [CountAttemptsParams.Validate]
	// are ErrInvalid.
	CountAttempts(ctx context.Context, p CountAttemptsParams) (AttemptCounts, error)
}

// MaxPeriods is the most periods one [ReportStore.Aggregate] call may ask for: a daily
// report of some two and a half years.
const MaxPeriods = 1000

// AggregateParams is the argument of ReportStore.Aggregate.
type AggregateParams struct {
	AffiliateID string // only this affiliate's records; empty means every affiliate's
	CampaignID  string // only this campaign's records; empty means every campaign's
	// Bounds are the bounds of the periods, strictly ascending: period i is
	// [Bounds[i], Bounds[i+1]). Two bounds at least (one period), at most MaxPeriods+1.
	// Periods in a zone (days, weeks, months of commission.PeriodOf) are bounded by their
	// instants, so that a store needs no calendar.
	Bounds []time.Time
}

// Validate checks p: identifiers under [CheckKey]'s rules, and bounds that make 1 to
// MaxPeriods periods, strictly ascending. The error wraps ErrInvalid.
func (p AggregateParams) Validate() error {
	if err := checkKey("aggregate: affiliate id", p.AffiliateID, false); err != nil {
		return err
	}
	if err := checkKey("aggregate: campaign id", p.CampaignID, false); err != nil {
		return err
	}
	if len(p.Bounds) < 2 || len(p.Bounds) > MaxPeriods+1 {
		return invalid("aggregate: %d bounds, want 2 to %d (1 to %d periods)", len(p.Bounds), MaxPeriods+1, MaxPeriods)
	}
	for i, b := range p.Bounds {
		if b.IsZero() {
			return invalid("aggregate: bounds[%d] is the zero time", i)
		}
		if i > 0 && !NormalizeTime(b).After(NormalizeTime(p.Bounds[i-1])) {
			return invalid("aggregate: bounds[%d] is not after bounds[%d], at the store's precision", i, i-1)
		}
	}
	return nil
}

// Normalize returns p with its bounds at the store's precision ([NormalizeTime]), in a
// slice of its own: the form in which PeriodOf compares them.
func (p AggregateParams) Normalize() AggregateParams {
	b := make([]time.Time, len(p.Bounds))
	for i, t := range p.Bounds {
		b[i] = NormalizeTime(t)
	}
	p.Bounds = b
	return p
}

// PeriodOf returns the index of the period of p's bounds that holds t, and false when t is
// in none. p is normalised ([AggregateParams.Normalize]). Stores use it, so that every store
// puts a record in the same period.
func (p AggregateParams) PeriodOf(t time.Time) (int, bool) {
	t = NormalizeTime(t)
	if len(p.Bounds) == 0 || t.Before(p.Bounds[0]) || !t.Before(p.Bounds[len(p.Bounds)-1]) {
		return 0, false
	}
	// The first bound after t: t is in the period that ends there.
	return sort.Search(len(p.Bounds), func(i int) bool { return p.Bounds[i].After(t) }) - 1, true
}

// Group names what a row of [Aggregates] is about: a period (its index in
// AggregateParams.Bounds), an affiliate and a campaign ("" for records of no campaign).
type Group struct {
	Period      int
	AffiliateID string
	CampaignID  string
}

func compareGroup(a, b Group) int {
	return cmp.Or(cmp.Compare(a.Period, b.Period), strings.Compare(a.AffiliateID, b.AffiliateID), strings.Compare(a.CampaignID, b.CampaignID))
}

// ClickCount is the number of clicks of a group.
type ClickCount struct {
	Group
	Clicks int64
}

// ConversionCount is the number of conversions of a group with one event type and current
// status.
type ConversionCount struct {
	Group
	Event  event.Type
	Status event.Status
	Count  int64
}

// RevenueSum is the sum of the revenue facts in force of a group in one currency: each
// amount of [RevenueFact], signed, with the number of facts summed.
type RevenueSum struct {
	Group
	Facts       int64
	GGR         money.Amount
	Bonuses     money.Amount
	Fees        money.Amount
	Taxes       money.Amount
	Deposits    money.Amount
	Withdrawals money.Amount
}

// Currency returns the currency of s's amounts.
func (s RevenueSum) Currency() money.Currency { return s.GGR.Currency() }

// LedgerSum is the sum of the ledger lines of a group with one rule and kind, in one
// currency, with the number of lines summed.
type LedgerSum struct {
	Group
	Rule   commission.Rule
	Kind   commission.Kind
	Lines  int64
	Amount money.Amount
}

// Aggregates is the result of ReportStore.Aggregate.
type Aggregates struct {
	Clicks      []ClickCount
	Conversions []ConversionCount
	Revenue     []RevenueSum
	Ledger      []LedgerSum
}

// Sort sorts each slice of a by group (period, affiliate, campaign, each ascending, strings
// bytewise), then: conversions by event and status, revenue by currency, ledger sums by
// rule, kind and currency. Stores return their results sorted so.
func (a *Aggregates) Sort() {
	slices.SortFunc(a.Clicks, func(x, y ClickCount) int { return compareGroup(x.Group, y.Group) })
	slices.SortFunc(a.Conversions, func(x, y ConversionCount) int {
		return cmp.Or(compareGroup(x.Group, y.Group), strings.Compare(string(x.Event), string(y.Event)), strings.Compare(string(x.Status), string(y.Status)))
	})
	slices.SortFunc(a.Revenue, func(x, y RevenueSum) int {
		return cmp.Or(compareGroup(x.Group, y.Group), strings.Compare(x.Currency().String(), y.Currency().String()))
	})
	slices.SortFunc(a.Ledger, func(x, y LedgerSum) int {
		return cmp.Or(compareGroup(x.Group, y.Group), cmp.Compare(x.Rule, y.Rule), cmp.Compare(x.Kind, y.Kind),
			strings.Compare(x.Amount.Currency().String(), y.Amount.Currency().String()))
	})
}

// CountAttemptsParams is the argument of ReportStore.CountAttempts.
type CountAttemptsParams struct {
	Endpoint string    // required
	From, To time.Time // the window [From, To) of the attempts' FinishedAt; both required
}

// Validate checks p: an endpoint name under [CheckKey]'s rules and a window with From
// before To. The error wraps ErrInvalid.
func (p CountAttemptsParams) Validate() error {
	if err := checkKey("count attempts: endpoint", p.Endpoint, true); err != nil {
		return err
	}
	return checkRange("count attempts", p.From, p.To, 0)
}

// AttemptCounts are the attempts to an endpoint in a window, and how many of them failed.
type AttemptCounts struct {
	Attempts int64
	Failed   int64
}

// FailureRate returns the failed attempts per attempt.
func (c AttemptCounts) FailureRate() Ratio { return Ratio{Num: c.Failed, Den: c.Attempts} }

// Ratio is an exact ratio of two counts, such as FTDs per click or an endpoint's failed
// attempts per attempt: no float is involved.
// Its JSON is {"num":3,"den":40,"bps":750}, with "bps" null when Den is 0.
type Ratio struct {
	Num int64 `json:"num"`
	Den int64 `json:"den"`
}

// BasisPoints returns r in basis points (hundredths of a percent), rounded half up, and
// false when Den is 0 (a rate of nothing).
func (r Ratio) BasisPoints() (int64, bool) {
	if r.Den == 0 {
		return 0, false
	}
	n := new(big.Int).Mul(big.NewInt(r.Num), big.NewInt(20_000))
	d := new(big.Int).Mul(big.NewInt(r.Den), big.NewInt(2))
	n.Add(n, big.NewInt(r.Den))
	q := new(big.Int).Div(n, d) // (2·10⁴·num + den) / 2·den: half up, for counts that are not negative
	return q.Int64(), true
}

// String returns r as a percentage with two decimals ("7.50%"), or "n/a" when Den is 0.
func (r Ratio) String() string {
	bps, ok := r.BasisPoints()
	if !ok {
		return "n/a"
	}
	return fmt.Sprintf("%d.%02d%%", bps/100, bps%100)
}

// MarshalJSON implements json.Marshaler: {"num":3,"den":40,"bps":750}.
func (r Ratio) MarshalJSON() ([]byte, error) {
	bps, ok := r.BasisPoints()
	if !ok {
		return fmt.Appendf(nil, `{"num":%d,"den":%d,"bps":null}`, r.Num, r.Den), nil
	}
	return fmt.Appendf(nil, `{"num":%d,"den":%d,"bps":%d}`, r.Num, r.Den, bps), nil
}

// AttemptFailed reports whether a counts as a failure in [ReportStore.CountAttempts]: its
// StatusCode is not 2xx.
func AttemptFailed(a Attempt) bool { return a.StatusCode < 200 || a.StatusCode > 299 }
