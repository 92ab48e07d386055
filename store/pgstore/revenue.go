package pgstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/store"
)

// revenue is the table of revenue facts. Its amounts share one currency column: each amount
// column holds minor units, and a row read back gives every amount the currency (see
// fixCurrency).
var revenue = newTable("revenue_facts", []column[store.RevenueFact]{
	uuidCol("id", false, func(f *store.RevenueFact) *uuid.UUID { return &f.ID }),
	plain("source", "text", func(f *store.RevenueFact) *string { return &f.Source }),
	plain("transaction_id", "text", func(f *store.RevenueFact) *string { return &f.TransactionID }),
	plain("affiliate_id", "text", func(f *store.RevenueFact) *string { return &f.AffiliateID }),
	plain("player_id", "text", func(f *store.RevenueFact) *string { return &f.PlayerID }),
	plain("campaign_id", "text", func(f *store.RevenueFact) *string { return &f.CampaignID }),
	timestamp("occurred_at", func(f *store.RevenueFact) *time.Time { return &f.OccurredAt }),
	timestamp("received_at", func(f *store.RevenueFact) *time.Time { return &f.ReceivedAt }),
	nullText("corrects", func(f *store.RevenueFact) *string { return &f.Corrects }),
	timestamp("settled_in", func(f *store.RevenueFact) *time.Time { return &f.SettledIn }),
	{name: "currency", typ: "text", get: func(f *store.RevenueFact) (any, error) { return f.GGR.Currency().String(), nil },
		set: func(f *store.RevenueFact) any { return currencyDest{&f.GGR} }},
	minorCol("ggr", func(f *store.RevenueFact) *money.Amount { return &f.GGR }),
	minorCol("bonuses", func(f *store.RevenueFact) *money.Amount { return &f.Bonuses }),
	minorCol("fees", func(f *store.RevenueFact) *money.Amount { return &f.Fees }),
	minorCol("taxes", func(f *store.RevenueFact) *money.Amount { return &f.Taxes }),
	minorCol("deposits", func(f *store.RevenueFact) *money.Amount { return &f.Deposits }),
	minorCol("withdrawals", func(f *store.RevenueFact) *money.Amount { return &f.Withdrawals }),
})

// nullText is a text column whose empty string is NULL (a reference that a foreign key
// checks only when set).
func nullText[T any](name string, f func(*T) *string) column[T] {
	return column[T]{name: name, typ: "text", get: func(r *T) (any, error) {
		if s := *f(r); s != "" {
			return s, nil
		}
		return nil, nil
	}, set: func(r *T) any { return nullStringDest{f(r)} }}
}

type nullStringDest struct{ p *string }

func (d nullStringDest) Scan(src any) error {
	if src == nil {
		*d.p = ""
		return nil
	}
	b, err := asBytes(src)
	if err != nil {
		return err
	}
	*d.p = string(b)
	return nil
}

// minorCol is a bigint column of an amount's minor units, whose currency is in a column of
// its own.
func minorCol[T any](name string, f func(*T) *money.Amount) column[T] {
	return column[T]{name: name, typ: "bigint", get: func(r *T) (any, error) { return f(r).Minor(), nil },
		set: func(r *T) any { return minorDest{f(r)} }}
}

// fixCurrency gives every amount of f read back GGR's currency: the row's one currency.
func fixCurrency(f store.RevenueFact) store.RevenueFact {
	cur := f.GGR.Currency()
	for _, a := range []*money.Amount{&f.Bonuses, &f.Fees, &f.Taxes, &f.Deposits, &f.Withdrawals} {
		*a = money.New(a.Minor(), cur)
	}
	return f
}

// RecordRevenue implements [store.RevenueStore] with one INSERT ... ON CONFLICT DO NOTHING,
// whose unique constraints (the identity, the ID, one correction per fact) decide among
// concurrent calls, and whose foreign key refuses a correction of a fact not recorded. Only a
// refused fact costs more statements, to say what it met.
func (s *Store) RecordRevenue(ctx context.Context, f store.RevenueFact) (store.RevenueFact, error) {
	if err := f.Validate(); err != nil {
		return store.RevenueFact{}, err
	}
	f = f.Normalize()
	f.SettledIn = time.Time{} // recorded unsettled: a close settles it
	var out store.RevenueFact
	err := s.run(ctx, oneStatement, func(db dbtx) error {
		var w stmt
		insertInto(&w, s.prefix, revenue)
		values(&w, revenue, []store.RevenueFact{f})
		w.sql(" ON CONFLICT DO NOTHING")
		res, err := w.exec(ctx, db)
		if err != nil {
			if errors.Is(mapErr(err), store.ErrInvalid) {
				return fmt.Errorf("pgstore: revenue fact %s/%s corrects %q, which is not recorded: %w", f.Source, f.TransactionID, f.Corrects, mapErr(err))
			}
			return wrap(err, "record revenue %s/%s", f.Source, f.TransactionID)
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			out = f
			return wrap(err, "record revenue %s/%s", f.Source, f.TransactionID)
		}
		return s.revenueRefused(ctx, db, f, &out)
	})
	return out, err
}

// revenueRefused says why f was not inserted: its identity, its ID or its correction taken.
// Facts are never deleted, so one of them is.
func (s *Store) revenueRefused(ctx context.Context, db dbtx, f store.RevenueFact, out *store.RevenueFact) error {
	get := func(where func(q *stmt)) (store.RevenueFact, error) {
		var q stmt
		q.sql("SELECT ", revenue.selected, " FROM ", s.prefix, "revenue_facts WHERE ")
		where(&q)
		old, err := getRow(ctx, db, revenue, &q)
		return fixCurrency(old), err
	}
	bySource := func(col, v string) func(q *stmt) {
		return func(q *stmt) { q.sql("source = ", q.arg(f.Source, "text"), " AND ", col, " = ", q.arg(v, "text")) }
	}
	old, err := get(bySource("transaction_id", f.TransactionID))
	switch {
	case err == nil:
		*out = old
		if old.SameContent(f) {
			return fmt.Errorf("pgstore: revenue fact %s/%s: %w", f.Source, f.TransactionID, store.ErrDuplicate)
		}
		return fmt.Errorf("pgstore: revenue fact %s/%s exists with other content: %w", f.Source, f.TransactionID, store.ErrConflict)
	case !errors.Is(err, sql.ErrNoRows):
		return wrap(err, "read revenue fact %s/%s", f.Source, f.TransactionID)
	}
	old, err = get(func(q *stmt) { q.sql("id = ", q.arg(f.ID, "uuid")) })
	switch {
	case err == nil:
		*out = old
		return fmt.Errorf("pgstore: revenue fact id %s is taken by %s/%s: %w", f.ID, old.Source, old.TransactionID, store.ErrConflict)
	case !errors.Is(err, sql.ErrNoRows):
		return wrap(err, "read revenue fact %s", f.ID)
	}
	old, err = get(bySource("corrects", f.Corrects))
	switch {
	case err == nil:
		*out = old
		return fmt.Errorf("pgstore: revenue fact %s/%s is corrected already, by %s: %w", f.Source, f.Corrects, old.TransactionID, store.ErrConflict)
	case !errors.Is(err, sql.ErrNoRows):
		return wrap(err, "read correction of revenue fact %s/%s", f.Source, f.Corrects)
	}
	return fmt.Errorf("pgstore: revenue fact %s/%s was refused, and nothing it meets is found: %w", f.Source, f.TransactionID, store.ErrConflict)
}

// GetRevenue implements [store.RevenueStore], on the unique index of the identity.
func (s *Store) GetRevenue(ctx context.Context, p store.GetRevenueParams) (store.RevenueFact, error) {
	if err := p.Validate(); err != nil {
		return store.RevenueFact{}, err
	}
	var out store.RevenueFact
	err := s.run(ctx, read, func(db dbtx) error {
		var q stmt
		q.sql("SELECT ", revenue.selected, " FROM ", s.prefix, "revenue_facts WHERE source = ", q.arg(p.Source, "text"),
			" AND transaction_id = ", q.arg(p.TransactionID, "text"))
		f, err := getRow(ctx, db, revenue, &q)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("pgstore: revenue fact %s/%s: %w", p.Source, p.TransactionID, store.ErrNotFound)
		}
		out = fixCurrency(f)
		return wrap(err, "get revenue fact %s/%s", p.Source, p.TransactionID)
	})
	return out, err
}

// ListRevenue implements [store.RevenueStore] on an index: revenue_facts_affiliate_occurred
// for an affiliate's facts by occurred time, revenue_facts_occurred for every affiliate's
// (revenue_facts_unsettled for the unsettled ones), revenue_facts_received by received time.
func (s *Store) ListRevenue(ctx context.Context, p store.ListRevenueParams) ([]store.RevenueFact, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	col := "occurred_at"
	if p.By == store.ByReceivedAt {
		col = "received_at"
	}
	var out []store.RevenueFact
	err := s.run(ctx, read, func(db dbtx) error {
		var w stmt
		w.sql("SELECT ", revenue.selected, " FROM ", s.prefix, "revenue_facts WHERE ", col, " < ", w.arg(store.NormalizeTime(p.To), "timestamptz"))
		if p.AffiliateID != "" {
			w.sql(" AND affiliate_id = ", w.arg(p.AffiliateID, "text"))
		}
		if p.Unsettled {
			w.sql(" AND settled_in IS NULL")
		}
		w.sql(" AND ", col, " >= ", w.arg(store.NormalizeTime(p.From), "timestamptz"))
		w.page(col, p.After, p.From, store.ListLimit(p.Limit, 100))
		var err error
		out, err = list(ctx, db, revenue, &w)
		return err
	})
	if err != nil {
		return nil, wrap(err, "list revenue")
	}
	for i := range out {
		out[i] = fixCurrency(out[i])
	}
	return out, nil
}
