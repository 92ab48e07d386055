package memstore

import (
	"context"
	"fmt"
	"sort"

	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/store"
)

var _ store.ReportStore = (*Store)(nil)

// Aggregate implements [store.ReportStore] by walking the records it counts: every click,
// conversion and ledger line under their locks (one shard of clicks at a time), and the
// revenue facts of the periods' range, found by binary search. It costs a read of each
// record, which is what an in-memory store has: pgstore answers from indexes.
func (s *Store) Aggregate(ctx context.Context, p store.AggregateParams) (store.Aggregates, error) {
	if err := p.Validate(); err != nil {
		return store.Aggregates{}, err
	}
	if err := ctx.Err(); err != nil {
		return store.Aggregates{}, err
	}
	p = p.Normalize()
	match := func(aff, camp string) bool {
		return (p.AffiliateID == "" || aff == p.AffiliateID) && (p.CampaignID == "" || camp == p.CampaignID)
	}
	var out store.Aggregates

	clicks := map[store.Group]int64{}
	for i := range s.clicks {
		sh := &s.clicks[i]
		sh.mu.RLock()
		for _, c := range sh.m {
			if !match(c.AffiliateID, c.CampaignID) {
				continue
			}
			if n, ok := p.PeriodOf(c.CreatedAt); ok {
				clicks[store.Group{Period: n, AffiliateID: c.AffiliateID, CampaignID: c.CampaignID}]++
			}
		}
		sh.mu.RUnlock()
	}
	for g, n := range clicks {
		out.Clicks = append(out.Clicks, store.ClickCount{Group: g, Clicks: n})
	}

	type convKey struct {
		store.Group
		ev event.Type
		st event.Status
	}
	type lineKey struct {
		store.Group
		rule commission.Rule
		kind commission.Kind
		cur  money.Currency
	}
	convs := map[convKey]int64{}
	lines := map[lineKey]*store.LedgerSum{}
	var err error
	s.mu.RLock()
	for _, c := range s.conversions {
		if !match(c.AffiliateID, c.CampaignID) {
			continue
		}
		if n, ok := p.PeriodOf(c.EventTime()); ok {
			convs[convKey{store.Group{Period: n, AffiliateID: c.AffiliateID, CampaignID: c.CampaignID}, c.Event, c.Status}]++
		}
	}
	for _, l := range s.ledger {
		if p.AffiliateID != "" && l.AffiliateID != p.AffiliateID {
			continue // before the conversion's lookup
		}
		camp := ""
		if c, ok := s.conversions[l.ConversionID]; ok {
			camp = c.CampaignID
		}
		if !match(l.AffiliateID, camp) {
			continue
		}
		n, ok := p.PeriodOf(l.StatementTime())
		if !ok {
			continue
		}
		k := lineKey{store.Group{Period: n, AffiliateID: l.AffiliateID, CampaignID: camp}, l.Rule, l.Kind, l.Amount.Currency()}
		sum := lines[k]
		if sum == nil {
			sum = &store.LedgerSum{Group: k.Group, Rule: k.rule, Kind: k.kind, Amount: money.New(0, k.cur)}
			lines[k] = sum
		}
		sum.Lines++
		if sum.Amount, err = sum.Amount.Add(l.Amount); err != nil {
			break
		}
	}
	s.mu.RUnlock()
	if err != nil {
		return store.Aggregates{}, fmt.Errorf("memstore: aggregate ledger lines: %w", err)
	}
	for k, n := range convs {
		out.Conversions = append(out.Conversions, store.ConversionCount{Group: k.Group, Event: k.ev, Status: k.st, Count: n})
	}
	for _, sum := range lines {
		out.Ledger = append(out.Ledger, *sum)
	}

	if out.Revenue, err = s.revenue.aggregate(p, match); err != nil {
		return store.Aggregates{}, err
	}
	out.Sort()
	return out, nil
}

// aggregate sums the facts in force of the periods of p that match.
func (r *revenueFacts) aggregate(p store.AggregateParams, match func(aff, camp string) bool) ([]store.RevenueSum, error) {
	type key struct {
		store.Group
		cur money.Currency
	}
	sums := map[key]*store.RevenueSum{}
	from, to := p.Bounds[0], p.Bounds[len(p.Bounds)-1]
	r.mu.RLock()
	defer r.mu.RUnlock()
	fs := r.byOccurred
	i := sort.Search(len(fs), func(i int) bool { return !fs[i].OccurredAt.Before(from) })
	for _, f := range fs[i:] {
		if !f.OccurredAt.Before(to) {
			break
		}
		if !match(f.AffiliateID, f.CampaignID) {
			continue
		}
		if _, corrected := r.correctedBy[sourceTxn{f.Source, f.TransactionID}]; corrected {
			continue
		}
		n, ok := p.PeriodOf(f.OccurredAt)
		if !ok {
			continue
		}
		k := key{store.Group{Period: n, AffiliateID: f.AffiliateID, CampaignID: f.CampaignID}, f.Currency()}
		sum := sums[k]
		if sum == nil {
			z := money.New(0, k.cur)
			sum = &store.RevenueSum{Group: k.Group, GGR: z, Bonuses: z, Fees: z, Taxes: z, Deposits: z, Withdrawals: z}
			sums[k] = sum
		}
		if err := addFact(sum, f); err != nil {
			return nil, fmt.Errorf("memstore: aggregate revenue: %w", err)
		}
	}
	var out []store.RevenueSum
	for _, s := range sums {
		out = append(out, *s)
	}
	return out, nil
}

// addFact adds the amounts of f to sum, in f's currency, which is sum's.
func addFact(sum *store.RevenueSum, f *store.RevenueFact) error {
	sum.Facts++
	for _, a := range [...]struct{ to, v *money.Amount }{
		{&sum.GGR, &f.GGR}, {&sum.Bonuses, &f.Bonuses}, {&sum.Fees, &f.Fees},
		{&sum.Taxes, &f.Taxes}, {&sum.Deposits, &f.Deposits}, {&sum.Withdrawals, &f.Withdrawals},
	} {
		v, err := a.to.Add(*a.v)
		if err != nil {
			return err
		}
		*a.to = v
	}
	return nil
}

// CountAttempts implements [store.ReportStore] by walking the deliveries.
func (s *Store) CountAttempts(ctx context.Context, p store.CountAttemptsParams) (store.AttemptCounts, error) {
	if err := p.Validate(); err != nil {
		return store.AttemptCounts{}, err
	}
	if err := ctx.Err(); err != nil {
		return store.AttemptCounts{}, err
	}
	from, to := store.NormalizeTime(p.From), store.NormalizeTime(p.To)
	var out store.AttemptCounts
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, d := range s.deliveries {
		if d.d.Endpoint != p.Endpoint {
			continue
		}
		for _, a := range d.d.Attempts {
			if a.FinishedAt.Before(from) || !a.FinishedAt.Before(to) {
				continue
			}
			out.Attempts++
			if store.AttemptFailed(a) {
				out.Failed++
			}
		}
	}
	return out, nil
}
