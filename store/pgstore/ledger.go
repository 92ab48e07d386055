package pgstore

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/store"
)

// lines is the table of ledger lines: every field of the commission.Line a ledger line is
// the persisted form of, in a typed column of its own; its Detail in one JSON column; and its
// StatementTime, for listing by statement period. A line with a Reason belongs in no ledger
// (LedgerLine.Validate refuses it), so Reason has no column.
var lines = newTable("ledger_lines", []column[store.LedgerLine]{
	uuidCol("id", false, func(l *store.LedgerLine) *uuid.UUID { return &l.ID }),
	uuidCol("conversion_id", true, func(l *store.LedgerLine) *uuid.UUID { return &l.ConversionID }),
	timestamp("created_at", func(l *store.LedgerLine) *time.Time { return &l.CreatedAt }),
	textual("kind", func(l *store.LedgerLine) *commission.Kind { return &l.Kind }),
	textual("rule", func(l *store.LedgerLine) *commission.Rule { return &l.Rule }),
	plain("plan", "text", func(l *store.LedgerLine) *string { return &l.Plan }),
	plain("affiliate_id", "text", func(l *store.LedgerLine) *string { return &l.AffiliateID }),
	plain("player", "text", func(l *store.LedgerLine) *string { return &l.PlayerID }),
	plain("event", "text", func(l *store.LedgerLine) *string { return &l.EventID }),
	plain("reverses", "text", func(l *store.LedgerLine) *string { return &l.Reverses }),
	timestamp("at", func(l *store.LedgerLine) *time.Time { return &l.At }),
	timestamp("payable", func(l *store.LedgerLine) *time.Time { return &l.Payable }),
	timestamp("period_start", func(l *store.LedgerLine) *time.Time { return &l.Period.Start }),
	timestamp("period_end", func(l *store.LedgerLine) *time.Time { return &l.Period.End }),
},
	amount("amount_minor", "currency", func(l *store.LedgerLine) *money.Amount { return &l.Amount }),
	amount("base_minor", "base_currency", func(l *store.LedgerLine) *money.Amount { return &l.Base }),
	[]column[store.LedgerLine]{
		rate("rate", func(l *store.LedgerLine) *money.Rate { return &l.Rate }),
		plain("tier", "integer", func(l *store.LedgerLine) *int32 { return &l.Tier }),
		plain("level", "integer", func(l *store.LedgerLine) *int32 { return &l.Level }),
		textual("mode", func(l *store.LedgerLine) *money.RoundingMode { return &l.Mode }),
	},
	fxColumns(),
	[]column[store.LedgerLine]{
		jsonCol("detail", func(l *store.LedgerLine) *commission.Detail { return &l.Detail }),
		derived("statement_at", "timestamptz", func(l *store.LedgerLine) any { return store.NormalizeTime(l.StatementTime()) }),
	})

// fxColumns are the columns of a line's exchange rate, all NULL when it has none.
func fxColumns() []column[store.LedgerLine] {
	fx := newTable("", []column[money.ExchangeRate]{
		textual("fx_from", func(x *money.ExchangeRate) *money.Currency { return &x.From }),
		textual("fx_to", func(x *money.ExchangeRate) *money.Currency { return &x.To }),
		rate("fx_rate", func(x *money.ExchangeRate) *money.Rate { return &x.Rate }),
		text("fx_source", func(x *money.ExchangeRate) *string { return &x.Source }),
		timestamp("fx_at", func(x *money.ExchangeRate) *time.Time { return &x.At }),
	})
	return optional(fx, func(l *store.LedgerLine) **money.ExchangeRate { return &l.FX })
}

// InsertLedgerLines implements [store.LedgerStore] with one multi-row INSERT that skips the
// lines whose ID exists (ON CONFLICT DO NOTHING) instead of aborting, so that the stored lines
// can decide between ErrDuplicate and ErrConflict before the call is rolled back. A line whose
// conversion does not exist violates the foreign key, which is ErrInvalid.
func (s *Store) InsertLedgerLines(ctx context.Context, p store.InsertLedgerLinesParams) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if len(p.Lines) == 0 {
		return ctx.Err()
	}
	p = p.Normalize()
	return s.run(ctx, statements, func(db dbtx) error {
		return lineBatch.insert(ctx, db, s.prefix, p.Lines, store.MaxLines)
	})
}

// lineBatch inserts batches of ledger lines.
var lineBatch = batch[store.LedgerLine, uuid.UUID]{
	what:  "ledger line",
	table: lines,
	ids:   newTable("ledger_lines", []column[uuid.UUID]{uuidCol("id", false, func(id *uuid.UUID) *uuid.UUID { return id })}),
	key:   func(l *store.LedgerLine) uuid.UUID { return l.ID },
	text:  uuid.UUID.String,
	equal: store.LedgerLine.Equal,
}

// ListLedgerLines implements [store.LedgerStore]: by created_at, or by statement_at (the
// line's StatementTime, written with it), each with an index that starts with the affiliate.
func (s *Store) ListLedgerLines(ctx context.Context, p store.ListLedgerLinesParams) ([]store.LedgerLine, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	col := "created_at"
	if p.By == store.ByStatementTime {
		col = "statement_at"
	}
	var out []store.LedgerLine
	err := s.run(ctx, read, func(db dbtx) error {
		var err error
		out, err = listOfAffiliate(ctx, db, s.prefix, lines, col, p.AffiliateID, p.From, p.To, p.After, p.Limit)
		return err
	})
	if err != nil {
		return nil, wrap(err, "list ledger lines")
	}
	return out, nil
}

// ListConversionLines implements [store.LedgerStore] with the index ledger_lines_conversion.
func (s *Store) ListConversionLines(ctx context.Context, p store.ListConversionLinesParams) ([]store.LedgerLine, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	var out []store.LedgerLine
	err := s.run(ctx, read, func(db dbtx) error {
		var w stmt
		w.sql("SELECT ", lines.selected, " FROM ", s.prefix, lines.name, " WHERE conversion_id = ", w.arg(p.ConversionID, "uuid"))
		if p.After != (store.Cursor{}) {
			w.sql(" AND (created_at, id) > (", w.arg(store.NormalizeTime(p.After.At), "timestamptz"), ", ", w.arg(p.After.ID, "uuid"), ")")
		}
		w.sql(" ORDER BY created_at, id LIMIT ", w.arg(store.ListLimit(p.Limit, 100), "integer"))
		var err error
		out, err = list(ctx, db, lines, &w)
		return err
	})
	if err != nil {
		return nil, wrap(err, "list conversion lines")
	}
	return out, nil
}
