package pgstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/store"
)

var _ store.ReportStore = (*Store)(nil)

// Aggregate implements [store.ReportStore] with four aggregate queries, one per table, each
// a GROUP BY over the range of the periods that an index finds: for one affiliate,
// clicks_affiliate_created (migration 15, which holds the campaign too, so that clicks are
// counted from the index alone), conversions_affiliate_event_time, revenue_facts_affiliate_occurred
// and ledger_lines_affiliate_statement. A record's period is width_bucket of its time over
// the bounds, so the database needs no calendar. The revenue facts in force are those that
// no fact corrects, which the unique index of corrections answers; a ledger line's campaign
// is its conversion's, read by primary key. A report of every
// affiliate reads each table's rows of the range (revenue facts by revenue_facts_occurred);
// report one affiliate at a time where clicks are many.
//
// The four queries are not one snapshot: a record written meanwhile may be counted in one
// slice and not yet in another.
func (s *Store) Aggregate(ctx context.Context, p store.AggregateParams) (store.Aggregates, error) {
	if err := p.Validate(); err != nil {
		return store.Aggregates{}, err
	}
	var out store.Aggregates
	err := s.run(ctx, read, func(db dbtx) error {
		if err := s.aggregateClicks(ctx, db, p, &out); err != nil {
			return wrap(err, "aggregate clicks")
		}
		if err := s.aggregateConversions(ctx, db, p, &out); err != nil {
			return wrap(err, "aggregate conversions")
		}
		if err := s.aggregateRevenue(ctx, db, p, &out); err != nil {
			return wrap(err, "aggregate revenue")
		}
		if err := s.aggregateLedger(ctx, db, p, &out); err != nil {
			return wrap(err, "aggregate ledger lines")
		}
		return nil
	})
	if err != nil {
		return store.Aggregates{}, err
	}
	out.Sort()
	return out, nil
}

// bounds returns the bounds of p as a timestamptz[] literal, for width_bucket: a text that
// every driver passes as it is.
func bounds(p store.AggregateParams) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, t := range p.Bounds {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(store.NormalizeTime(t).Format(time.RFC3339Nano))
	}
	b.WriteByte('}')
	return b.String()
}

// aggregateQuery writes the start of an aggregate over table (as alias x): the period of
// each row by the time expression col (spelled as its index spells it), its affiliate and
// campaign (the expression camp), then the columns cols; the rows of the periods' range, of
// p's affiliate and campaign.
func (s *Store) aggregateQuery(w *stmt, p store.AggregateParams, table, col, camp, cols string) {
	w.sql("SELECT width_bucket(", col, ", ", w.arg(bounds(p), "timestamptz[]"), ") - 1, x.affiliate_id, ", camp, ", ", cols,
		" FROM ", s.prefix, table, " AS x WHERE ", col, " >= ", w.arg(store.NormalizeTime(p.Bounds[0]), "timestamptz"),
		" AND ", col, " < ", w.arg(store.NormalizeTime(p.Bounds[len(p.Bounds)-1]), "timestamptz"))
	if p.AffiliateID != "" {
		w.sql(" AND x.affiliate_id = ", w.arg(p.AffiliateID, "text"))
	}
	if p.CampaignID != "" {
		w.sql(" AND ", camp, " = ", w.arg(p.CampaignID, "text"))
	}
}

// scanAll runs w and scans each row with scan.
func scanAll(ctx context.Context, db dbtx, w *stmt, scan func(*sql.Rows) error) error {
	rows, err := w.query(ctx, db)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (s *Store) clicksAggregate(p store.AggregateParams) *stmt {
	w := new(stmt)
	s.aggregateQuery(w, p, "clicks", "x.created_at", "x.campaign_id", "count(*)")
	w.sql(" GROUP BY 1, 2, 3")
	return w
}

func (s *Store) aggregateClicks(ctx context.Context, db dbtx, p store.AggregateParams, out *store.Aggregates) error {
	return scanAll(ctx, db, s.clicksAggregate(p), func(rows *sql.Rows) error {
		var c store.ClickCount
		if err := rows.Scan(&c.Period, &c.AffiliateID, &c.CampaignID, &c.Clicks); err != nil {
			return err
		}
		out.Clicks = append(out.Clicks, c)
		return nil
	})
}

func (s *Store) conversionsAggregate(p store.AggregateParams) *stmt {
	w := new(stmt)
	s.aggregateQuery(w, p, "conversions", "coalesce(x.occurred_at, x.received_at)", "x.campaign_id", "x.event, x.status, count(*)")
	w.sql(" GROUP BY 1, 2, 3, 4, 5")
	return w
}

func (s *Store) aggregateConversions(ctx context.Context, db dbtx, p store.AggregateParams, out *store.Aggregates) error {
	return scanAll(ctx, db, s.conversionsAggregate(p), func(rows *sql.Rows) error {
		var c store.ConversionCount
		var ev, st string
		if err := rows.Scan(&c.Period, &c.AffiliateID, &c.CampaignID, &ev, &st, &c.Count); err != nil {
			return err
		}
		c.Event, c.Status = event.Type(ev), event.Status(st)
		out.Conversions = append(out.Conversions, c)
		return nil
	})
}

func (s *Store) revenueAggregate(p store.AggregateParams) *stmt {
	w := new(stmt)
	s.aggregateQuery(w, p, "revenue_facts", "x.occurred_at", "x.campaign_id",
		"x.currency, count(*), sum(x.ggr)::bigint, sum(x.bonuses)::bigint, sum(x.fees)::bigint, sum(x.taxes)::bigint, "+
			"sum(x.deposits)::bigint, sum(x.withdrawals)::bigint")
	w.sql(" AND NOT EXISTS (SELECT 1 FROM ", s.prefix, "revenue_facts AS c WHERE c.source = x.source AND c.corrects = x.transaction_id)",
		" GROUP BY 1, 2, 3, 4")
	return w
}

func (s *Store) aggregateRevenue(ctx context.Context, db dbtx, p store.AggregateParams, out *store.Aggregates) error {
	return scanAll(ctx, db, s.revenueAggregate(p), func(rows *sql.Rows) error {
		var r store.RevenueSum
		var cur string
		var ggr, bonuses, fees, taxes, deposits, withdrawals int64
		if err := rows.Scan(&r.Period, &r.AffiliateID, &r.CampaignID, &cur, &r.Facts, &ggr, &bonuses, &fees, &taxes, &deposits, &withdrawals); err != nil {
			return err
		}
		c, err := money.ParseCurrency(cur)
		if err != nil {
			return fmt.Errorf("revenue currency %q: %w", cur, err)
		}
		r.GGR, r.Bonuses, r.Fees, r.Taxes = money.New(ggr, c), money.New(bonuses, c), money.New(fees, c), money.New(taxes, c)
		r.Deposits, r.Withdrawals = money.New(deposits, c), money.New(withdrawals, c)
		out.Revenue = append(out.Revenue, r)
		return nil
	})
}

func (s *Store) ledgerAggregate(p store.AggregateParams) *stmt {
	w := new(stmt)
	// The campaign of a line is its conversion's, read by primary key for each line of the
	// range (a join would hash every conversion).
	s.aggregateQuery(w, p, "ledger_lines", "x.statement_at",
		"coalesce((SELECT c.campaign_id FROM "+s.prefix+"conversions AS c WHERE c.id = x.conversion_id), '')",
		"x.rule, x.kind, x.currency, count(*), sum(x.amount_minor)::bigint")
	w.sql(" GROUP BY 1, 2, 3, 4, 5, 6")
	return w
}

func (s *Store) aggregateLedger(ctx context.Context, db dbtx, p store.AggregateParams, out *store.Aggregates) error {
	return scanAll(ctx, db, s.ledgerAggregate(p), func(rows *sql.Rows) error {
		var l store.LedgerSum
		var rule, kind, cur string
		var minor int64
		if err := rows.Scan(&l.Period, &l.AffiliateID, &l.CampaignID, &rule, &kind, &cur, &l.Lines, &minor); err != nil {
			return err
		}
		if err := l.Rule.UnmarshalText([]byte(rule)); err != nil {
			return err
		}
		if err := l.Kind.UnmarshalText([]byte(kind)); err != nil {
			return err
		}
		c, err := money.ParseCurrency(cur)
		if err != nil {
			return fmt.Errorf("ledger currency %q: %w", cur, err)
		}
		l.Amount = money.New(minor, c)
		out.Ledger = append(out.Ledger, l)
		return nil
	})
}

// CountAttempts implements [store.ReportStore] with one aggregate over the attempts that
// finished in the window, found by delivery_attempts_finished (migration 15), joined to
// their deliveries by primary key for the endpoint.
func (s *Store) CountAttempts(ctx context.Context, p store.CountAttemptsParams) (store.AttemptCounts, error) {
	if err := p.Validate(); err != nil {
		return store.AttemptCounts{}, err
	}
	var out store.AttemptCounts
	err := s.run(ctx, read, func(db dbtx) error {
		w := s.attemptsCount(p)
		return wrap(w.queryRow(ctx, db, &out.Attempts, &out.Failed), "count attempts of endpoint %s", p.Endpoint)
	})
	return out, err
}

func (s *Store) attemptsCount(p store.CountAttemptsParams) *stmt {
	w := new(stmt)
	w.sql("SELECT count(*), count(*) FILTER (WHERE a.status_code NOT BETWEEN 200 AND 299) FROM ", s.prefix,
		"delivery_attempts AS a JOIN ", s.prefix, "deliveries AS d ON d.id = a.delivery_id WHERE a.finished_at >= ",
		w.arg(store.NormalizeTime(p.From), "timestamptz"), " AND a.finished_at < ", w.arg(store.NormalizeTime(p.To), "timestamptz"),
		" AND d.endpoint = ", w.arg(p.Endpoint, "text"))
	return w
}
