package s2s

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/s2skit/s2s/attribution"
	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/store"
)

// ErrInvalidQuery reports a [ReportQuery] (or a status query) that Report refuses: the
// message names the field.
var ErrInvalidQuery = errors.New("s2s: invalid query")

// ReportQuery asks [Tracker.Report] for a report: one row per period, affiliate and
// campaign.
type ReportQuery struct {
	// AffiliateID keeps only this affiliate's rows; empty means every affiliate's. A report
	// of one affiliate is the one a store answers from indexes alone (see
	// store.ReportStore).
	AffiliateID string `json:"affiliate,omitempty"`
	// CampaignID keeps only this campaign's rows; empty means every campaign's.
	CampaignID string `json:"campaign,omitempty"`
	// Period is the length of the report's periods: commission.Day, Week (Monday to Monday)
	// or Month. Empty means the commission programme's period (Month when it has none).
	Period commission.PeriodUnit `json:"period,omitempty"`
	// Zone is the IANA time zone of the periods' calendar. Empty means, with a CampaignID,
	// the campaign's zone as attribution keeps it (its Rules.Zone, or the Default rules'
	// for a campaign not listed; UTC where that is empty), so that a report's days are its
	// caps' days; without one, the commission programme's zone (its statements'), else UTC.
	Zone string `json:"zone,omitempty"`
	// From and To are the range: the report has the periods from the one that holds From to
	// the one that holds the instant before To, whole, at most store.MaxPeriods of them.
	// Both required, From before To.
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// Report is what [Tracker.Report] returns: the periods' rows, and the calendar they are in.
type Report struct {
	Period commission.PeriodUnit `json:"period"`
	Zone   string                `json:"zone"`
	// Periods are the report's periods, in order, each whole, in Zone.
	Periods []commission.Period `json:"periods"`
	// Rows are the rows with anything in them, ordered by period, affiliate and campaign.
	Rows []ReportRow `json:"rows"`
}

// ReportRow is one affiliate's figures in one campaign and period.
//
// Clicks are counted by when they were made, conversions by their event time (the time the
// sender gave, else when it was received) and current status, revenue by the time it is of
// (the facts in force: a corrected report is counted once, as corrected), and commission by
// the statement its lines are in, in the campaign of the conversion that earned it (a
// period's RevShare and an adjustment, of no conversion, are in the row of no campaign).
type ReportRow struct {
	Period      commission.Period `json:"period"`
	AffiliateID string            `json:"affiliate"`
	CampaignID  string            `json:"campaign"`
	Clicks      int64             `json:"clicks"`
	// Registrations and FTDs are the conversions of event registration and ftd, as the
	// senders named them, that are pending or approved now: neither rejected nor reversed.
	// Events has every event type in every status.
	Registrations int64 `json:"registrations"`
	FTDs          int64 `json:"ftds"`
	// The conversion rates, exact: registrations per click, FTDs per click and FTDs per
	// registration.
	RegistrationRate    store.Ratio  `json:"registration_rate"`
	FTDRate             store.Ratio  `json:"ftd_rate"`
	RegistrationFTDRate store.Ratio  `json:"registration_ftd_rate"`
	Events              []EventCount `json:"events,omitempty"`
	// Revenue are the sums of the revenue facts in force, one per currency.
	Revenue []RevenueTotal `json:"revenue,omitempty"`
	// Commission is what the rows' ledger lines sum to, by rule and currency.
	Commission []CommissionTotal `json:"commission,omitempty"`
}

// EventCount is the number of conversions of one event type in one current status.
type EventCount struct {
	Event  event.Type   `json:"event"`
	Status event.Status `json:"status"`
	Count  int64        `json:"count"`
}

// CommissionTotal is the commission of one rule in one currency: its accruals, its
// adjustments, what reversals and clawbacks took back (never positive) and the net of
// them all, which is what the rule's lines sum to.
type CommissionTotal struct {
	Rule      commission.Rule `json:"rule"`
	Lines     int64           `json:"lines"`
	Accrued   money.Amount    `json:"accrued"`
	Adjusted  money.Amount    `json:"adjusted"`
	TakenBack money.Amount    `json:"taken_back"`
	Net       money.Amount    `json:"net"`
}

// RevenueTotal is the sum of the revenue facts in force in one currency (the currency of
// its amounts), signed as they were reported: a GGR is negative where players won.
type RevenueTotal struct {
	Facts       int64        `json:"facts"`
	GGR         money.Amount `json:"ggr"`
	Bonuses     money.Amount `json:"bonuses"`
	Fees        money.Amount `json:"fees"`
	Taxes       money.Amount `json:"taxes"`
	Deposits    money.Amount `json:"deposits"`
	Withdrawals money.Amount `json:"withdrawals"`
}

// Report returns the report that q asks for, from the store's aggregates
// (store.ReportStore): per affiliate, campaign and period, the clicks, registrations and
// FTDs with their conversion rates, the revenue reported per currency and the commission
// by rule, net of reversals and clawbacks. Amounts are exact, per currency: nothing is
// converted. An invalid q is an error wrapping ErrInvalidQuery that names the field.
func (t *Tracker) Report(ctx context.Context, q ReportQuery) (Report, error) {
	cc := t.cfg.Load()
	unit, loc, err := cc.calendar(q)
	if err != nil {
		return Report{}, err
	}
	periods, err := periodsOf(q, unit, loc)
	if err != nil {
		return Report{}, err
	}
	p := store.AggregateParams{AffiliateID: q.AffiliateID, CampaignID: q.CampaignID, Bounds: make([]time.Time, 0, len(periods)+1)}
	for _, per := range periods {
		p.Bounds = append(p.Bounds, per.Start)
	}
	p.Bounds = append(p.Bounds, periods[len(periods)-1].End)
	if err := p.Validate(); err != nil {
		return Report{}, fmt.Errorf("%w: %w", ErrInvalidQuery, err)
	}
	agg, err := t.st.Aggregate(ctx, p)
	if err != nil {
		return Report{}, fmt.Errorf("s2s: report: %w", err)
	}
	out := Report{Period: unit, Zone: loc.String(), Periods: periods}
	if out.Rows, err = rowsOf(agg, periods); err != nil {
		return Report{}, err
	}
	return out, nil
}

// calendar returns the period unit and zone of q's report.
func (cc *compiled) calendar(q ReportQuery) (commission.PeriodUnit, *time.Location, error) {
	unit := q.Period
	if unit == "" && cc.program != nil {
		unit = cc.program.Period
	}
	switch unit {
	case "":
		unit = commission.Month
	case commission.Day, commission.Week, commission.Month:
	default:
		return "", nil, fmt.Errorf("%w: period: %q, want day, week or month", ErrInvalidQuery, q.Period)
	}
	zone := q.Zone
	switch {
	case zone != "":
	case q.CampaignID != "":
		z, ok := cc.campaignZones[q.CampaignID]
		if !ok {
			z = cc.campaignZones[""] // the Default rules': the campaign is not listed
		}
		if z == "" {
			return unit, time.UTC, nil // attribution's calendar of the campaign
		}
		zone = z
	case cc.periodLoc != nil:
		return unit, cc.periodLoc, nil
	default:
		return unit, time.UTC, nil
	}
	loc, err := time.LoadLocation(zone)
	if err != nil || zone == "Local" || strings.ContainsAny(zone, "\\") {
		return "", nil, fmt.Errorf("%w: zone: %q is not an IANA time zone", ErrInvalidQuery, zone)
	}
	return unit, loc, nil
}

// campaignZones returns the zone of each campaign of c by ID, as attribution keeps it
// (empty for UTC), and under "" (no campaign's ID) the zone of the Default rules, which
// are those of every campaign not listed.
func campaignZones(c attribution.Config) map[string]string {
	out := map[string]string{"": c.Default.Zone}
	for _, k := range c.Campaigns {
		out[k.ID] = k.Zone
	}
	return out
}

// periodsOf returns the periods of unit in loc that cover [q.From, q.To).
func periodsOf(q ReportQuery, unit commission.PeriodUnit, loc *time.Location) ([]commission.Period, error) {
	if q.From.IsZero() || q.To.IsZero() {
		return nil, fmt.Errorf("%w: from and to are required", ErrInvalidQuery)
	}
	if !q.From.Before(q.To) {
		return nil, fmt.Errorf("%w: from (%s) is not before to (%s)", ErrInvalidQuery, q.From.Format(time.RFC3339), q.To.Format(time.RFC3339))
	}
	var out []commission.Period
	for per := commission.PeriodOf(q.From, unit, loc); per.Start.Before(q.To); per = commission.PeriodOf(per.End, unit, loc) {
		if len(out) == store.MaxPeriods {
			return nil, fmt.Errorf("%w: from %s to %s is more than %d %s periods", ErrInvalidQuery,
				q.From.Format(time.RFC3339), q.To.Format(time.RFC3339), store.MaxPeriods, unit)
		}
		out = append(out, per)
	}
	return out, nil
}

// rowsOf makes the rows of agg, whose groups are periods of periods.
func rowsOf(agg store.Aggregates, periods []commission.Period) ([]ReportRow, error) {
	rows := map[store.Group]*ReportRow{}
	row := func(g store.Group) *ReportRow {
		r := rows[g]
		if r == nil {
			r = &ReportRow{Period: periods[g.Period], AffiliateID: g.AffiliateID, CampaignID: g.CampaignID}
			rows[g] = r
		}
		return r
	}
	for _, c := range agg.Clicks {
		row(c.Group).Clicks += c.Clicks
	}
	for _, c := range agg.Conversions {
		r := row(c.Group)
		r.Events = append(r.Events, EventCount{Event: c.Event, Status: c.Status, Count: c.Count})
		if c.Status == event.StatusRejected || c.Status == event.StatusReversed {
			continue
		}
		switch c.Event {
		case event.Registration:
			r.Registrations += c.Count
		case event.FTD:
			r.FTDs += c.Count
		}
	}
	for _, s := range agg.Revenue {
		r := row(s.Group)
		r.Revenue = append(r.Revenue, RevenueTotal{Facts: s.Facts, GGR: s.GGR, Bonuses: s.Bonuses, Fees: s.Fees,
			Taxes: s.Taxes, Deposits: s.Deposits, Withdrawals: s.Withdrawals})
	}
	for _, l := range agg.Ledger {
		if err := row(l.Group).addLines(l); err != nil {
			return nil, err
		}
	}
	out := make([]ReportRow, 0, len(rows))
	for _, r := range rows {
		r.RegistrationRate = store.Ratio{Num: r.Registrations, Den: r.Clicks}
		r.FTDRate = store.Ratio{Num: r.FTDs, Den: r.Clicks}
		r.RegistrationFTDRate = store.Ratio{Num: r.FTDs, Den: r.Registrations}
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b ReportRow) int {
		return cmp.Or(a.Period.Start.Compare(b.Period.Start), strings.Compare(a.AffiliateID, b.AffiliateID), strings.Compare(a.CampaignID, b.CampaignID))
	})
	return out, nil
}

// addLines adds a ledger sum to r's commission: to its rule and currency's total, which
// the store's sums come to in order of rule and currency.
func (r *ReportRow) addLines(l store.LedgerSum) error {
	cur := l.Amount.Currency()
	i := slices.IndexFunc(r.Commission, func(c CommissionTotal) bool { return c.Rule == l.Rule && c.Net.Currency() == cur })
	if i < 0 {
		z := money.New(0, cur)
		r.Commission = append(r.Commission, CommissionTotal{Rule: l.Rule, Accrued: z, Adjusted: z, TakenBack: z, Net: z})
		i = len(r.Commission) - 1
	}
	c := &r.Commission[i]
	c.Lines += l.Lines
	var part *money.Amount
	switch l.Kind {
	case commission.KindAccrual:
		part = &c.Accrued
	case commission.KindAdjustment:
		part = &c.Adjusted
	case commission.KindReversal, commission.KindClawback:
		part = &c.TakenBack
	}
	var err error
	if part != nil {
		if *part, err = part.Add(l.Amount); err != nil {
			return fmt.Errorf("s2s: report: %s %s: %w", l.Rule, l.Kind, err)
		}
	}
	if c.Net, err = c.Net.Add(l.Amount); err != nil {
		return fmt.Errorf("s2s: report: %s net: %w", l.Rule, err)
	}
	return nil
}
