package pgstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/store"
)

func amountArgs(a money.Amount) (minor, currency any) {
	if a == (money.Amount{}) {
		return nil, nil
	}
	return a.Minor(), a.Currency().String()
}

func scanAmount(minor sql.Null[int64], code sql.Null[string]) (money.Amount, error) {
	if !minor.Valid {
		return money.Amount{}, nil
	}
	cur, err := money.ParseCurrency(code.V)
	if err != nil {
		return money.Amount{}, err
	}
	return money.New(minor.V, cur), nil
}

func scanConversion(r rowScanner) (store.Conversion, error) {
	var c store.Conversion
	var click, currency sql.Null[string]
	var minor sql.Null[int64]
	var ev, status, foreign string
	var subIDs []byte
	err := r.Scan(&c.ID, &c.DedupKey, &c.Source, &ev, &click, &c.PlayerID, &c.AffiliateID, &c.CampaignID,
		&c.TransactionID, &minor, &currency, &status, &c.OccurredAt, &c.ReceivedAt, &c.Decision.Model, &c.Decision.Reason,
		&foreign, &subIDs)
	if err != nil {
		return store.Conversion{}, err
	}
	c.Event = event.Type(ev)
	c.ForeignClickID = clickid.Foreign(foreign)
	if c.SubIDs, err = scanSubIDs(subIDs); err != nil {
		return store.Conversion{}, err
	}
	if click.Valid {
		if c.ClickID, err = clickid.Parse(click.V); err != nil {
			return store.Conversion{}, err
		}
	}
	if c.Amount, err = scanAmount(minor, currency); err != nil {
		return store.Conversion{}, err
	}
	c.Status = event.Status(status)
	c.OccurredAt = store.NormalizeTime(c.OccurredAt)
	c.ReceivedAt = store.NormalizeTime(c.ReceivedAt)
	return c, nil
}

// readConversion reads one conversion by query and argument, with its history.
func (s *Store) readConversion(ctx context.Context, db dbtx, query string, arg any) (store.Conversion, error) {
	c, err := scanConversion(db.QueryRowContext(ctx, query, arg))
	if err != nil {
		return store.Conversion{}, err
	}
	if err := s.loadHistory(ctx, db, []*store.Conversion{&c}); err != nil {
		return store.Conversion{}, err
	}
	return c, nil
}

// loadHistory fills the History of each conversion with one query.
func (s *Store) loadHistory(ctx context.Context, db dbtx, cs []*store.Conversion) error {
	if len(cs) == 0 {
		return nil
	}
	byID := make(map[uuid.UUID]*store.Conversion, len(cs))
	args := make([]any, len(cs))
	for i, c := range cs {
		byID[c.ID] = c
		args[i] = c.ID
	}
	rows, err := db.QueryContext(ctx, "SELECT conversion_id, status, reason, at FROM "+s.q.prefix+
		"conversion_history WHERE conversion_id IN ("+placeholders(1, len(cs))+") ORDER BY conversion_id, seq", args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id uuid.UUID
		var h store.StatusChange
		var status string
		if err := rows.Scan(&id, &status, &h.Reason, &h.At); err != nil {
			return err
		}
		h.Status = event.Status(status)
		h.At = store.NormalizeTime(h.At)
		byID[id].History = append(byID[id].History, h)
	}
	return rows.Err()
}

// placeholders returns "$from, $from+1, ..." for n parameters.
func placeholders(from, n int) string {
	b := make([]byte, 0, n*7)
	for i := range n {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(from+i), 10)
	}
	return string(b)
}

// RecordConversion implements [store.ConversionStore]: the conversion, its history's first
// entry, its ledger lines and its deliveries are written by one statement, which is atomic by
// itself and costs one round trip. The unique constraint on the dedup key, not the isolation
// level, decides which of concurrent records wins: INSERT ... ON CONFLICT DO NOTHING waits for
// a competing insert to commit or roll back.
func (s *Store) RecordConversion(ctx context.Context, p store.RecordConversionParams) (store.Conversion, error) {
	var out store.Conversion
	err := s.run(ctx, oneStatement, func(db dbtx) error {
		var err error
		out, err = s.recordConversion(ctx, db, p)
		return err
	})
	return out, err
}

func (s *Store) recordConversion(ctx context.Context, db dbtx, p store.RecordConversionParams) (store.Conversion, error) {
	if err := p.Validate(); err != nil {
		return store.Conversion{}, err
	}
	p = p.Normalize()
	c := p.Conversion
	query, args, err := s.recordStatement(p)
	if err != nil {
		return store.Conversion{}, err
	}
	var inserted int
	if err := db.QueryRowContext(ctx, query, args...).Scan(&inserted); err != nil {
		return store.Conversion{}, wrap(err, "record conversion %q", c.DedupKey)
	}
	if inserted == 1 {
		return c, nil
	}
	// The dedup key was taken: ON CONFLICT waited for the competing insert to commit, so the
	// original is visible now.
	old, err := s.readConversion(ctx, db, s.q.getConversionByKey, c.DedupKey)
	if err != nil {
		return store.Conversion{}, wrap(err, "read conversion %q", c.DedupKey)
	}
	if old.SameContent(c) {
		return old, fmt.Errorf("pgstore: conversion %q: %w", c.DedupKey, store.ErrDuplicate)
	}
	return old, fmt.Errorf("pgstore: conversion %q exists with other content: %w", c.DedupKey, store.ErrConflict)
}

// recordStatement builds the one statement that records a conversion: data-modifying CTEs
// insert the conversion (or nothing, if its dedup key is taken), then its first history entry,
// ledger lines and deliveries only for a conversion that was inserted. A single statement is
// atomic by itself, so recording costs one round trip and one commit.
func (s *Store) recordStatement(p store.RecordConversionParams) (string, []any, error) {
	c := p.Conversion
	minor, currency := amountArgs(c.Amount)
	subIDs, err := subIDsArg(c.SubIDs)
	if err != nil {
		return "", nil, err
	}
	args := []any{c.ID, c.DedupKey, c.Source, string(c.Event), nullable(c.ClickID), c.PlayerID, c.AffiliateID,
		c.CampaignID, c.TransactionID, minor, currency, string(c.Status), c.OccurredAt, c.ReceivedAt,
		c.Decision.Model, c.Decision.Reason, string(c.ForeignClickID), subIDs}
	var b strings.Builder
	b.WriteString("WITH c AS (")
	b.WriteString(s.q.insertConversion)
	b.WriteString(" RETURNING id), h AS (INSERT INTO " + s.q.prefix + "conversion_history (conversion_id, seq, status, reason, at) SELECT id, 0, $12, '', $14 FROM c)")
	param := func(v any, cast string) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args)) + "::" + cast
	}
	for i, l := range p.Ledger {
		la, err := lineArgs(l)
		if err != nil {
			return "", nil, err
		}
		fmt.Fprintf(&b, ", l%d AS (INSERT INTO %sledger_lines (%s) SELECT ", i, s.q.prefix, lineColumns)
		for j, a := range la {
			if j > 0 {
				b.WriteString(", ")
			}
			if j == 1 { // conversion_id
				b.WriteString("c.id")
				continue
			}
			b.WriteString(param(a, lineCasts[j]))
		}
		b.WriteString(" FROM c)")
	}
	for i, d := range p.Deliveries {
		da, err := deliveryArgs(d)
		if err != nil {
			return "", nil, err
		}
		// da: id, conversion_id, endpoint, method, url, header, body, status, next_attempt_at, created_at
		fmt.Fprintf(&b, ", d%d AS (INSERT INTO %sdeliveries (%s) SELECT %s, c.id, %s, %s, %s, %s, %s, %s, %s, %s FROM c)",
			i, s.q.prefix, deliveryColumns, param(da[0], "uuid"), param(da[2], "text"), param(da[3], "text"),
			param(da[4], "text"), param(da[5], "jsonb"), param(da[6], "bytea"), param(da[7], "text"),
			param(da[8], "timestamptz"), param(da[9], "timestamptz"))
	}
	b.WriteString(" SELECT count(*) FROM c")
	return b.String(), args, nil
}

// insertCaused writes the ledger lines and deliveries caused by a conversion.
func (s *Store) insertCaused(ctx context.Context, db dbtx, ledger []store.LedgerLine, deliveries []store.Delivery) error {
	for _, l := range ledger {
		args, err := lineArgs(l)
		if err != nil {
			return err
		}
		if _, err := db.ExecContext(ctx, s.q.insertLine, args...); err != nil {
			return wrap(err, "insert ledger line %s", l.ID)
		}
	}
	for _, d := range deliveries {
		args, err := deliveryArgs(d)
		if err != nil {
			return err
		}
		if _, err := db.ExecContext(ctx, s.q.insertDelivery, args...); err != nil {
			return wrap(err, "insert delivery %s", d.ID)
		}
	}
	return nil
}

// GetConversion implements [store.ConversionStore].
func (s *Store) GetConversion(ctx context.Context, id uuid.UUID) (store.Conversion, error) {
	if id == uuid.Nil {
		return store.Conversion{}, fmt.Errorf("pgstore: get conversion: the zero ID: %w", store.ErrInvalid)
	}
	var c store.Conversion
	err := s.run(ctx, read, func(db dbtx) error {
		var err error
		c, err = s.readConversion(ctx, db, s.q.getConversion, id)
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return store.Conversion{}, fmt.Errorf("pgstore: conversion %s: %w", id, store.ErrNotFound)
	}
	return c, wrap(err, "get conversion %s", id)
}

// GetConversionByKey implements [store.ConversionStore].
func (s *Store) GetConversionByKey(ctx context.Context, dedupKey string) (store.Conversion, error) {
	if err := store.CheckLookupKey(dedupKey); err != nil {
		return store.Conversion{}, fmt.Errorf("pgstore: get conversion: %w", err)
	}
	var c store.Conversion
	err := s.run(ctx, read, func(db dbtx) error {
		var err error
		c, err = s.readConversion(ctx, db, s.q.getConversionByKey, dedupKey)
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return store.Conversion{}, fmt.Errorf("pgstore: conversion %q: %w", dedupKey, store.ErrNotFound)
	}
	return c, wrap(err, "get conversion %q", dedupKey)
}

// ChangeStatus implements [store.ConversionStore]. The status is set by a conditional UPDATE
// on the expected current status, so of concurrent changes from one status exactly one applies.
func (s *Store) ChangeStatus(ctx context.Context, p store.ChangeStatusParams) (store.Conversion, error) {
	var out store.Conversion
	err := s.run(ctx, statements, func(db dbtx) error {
		var err error
		out, err = s.changeStatus(ctx, db, p)
		return err
	})
	return out, err
}

func (s *Store) changeStatus(ctx context.Context, db dbtx, p store.ChangeStatusParams) (store.Conversion, error) {
	if err := p.Validate(); err != nil {
		return store.Conversion{}, err
	}
	p = p.Normalize()
	res, err := db.ExecContext(ctx, s.q.setStatus, p.ConversionID, string(p.From), string(p.To))
	if err != nil {
		return store.Conversion{}, wrap(err, "change status of %s", p.ConversionID)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		if err != nil {
			return store.Conversion{}, wrap(err, "change status of %s", p.ConversionID)
		}
		cur, err := s.readConversion(ctx, db, s.q.getConversion, p.ConversionID)
		if errors.Is(err, sql.ErrNoRows) {
			return store.Conversion{}, fmt.Errorf("pgstore: conversion %s: %w", p.ConversionID, store.ErrNotFound)
		}
		if err != nil {
			return store.Conversion{}, wrap(err, "read conversion %s", p.ConversionID)
		}
		return cur, fmt.Errorf("pgstore: conversion %s is %s, not %s: %w", p.ConversionID, cur.Status, p.From, store.ErrConflict)
	}
	if _, err := db.ExecContext(ctx, s.q.insertHistory, p.ConversionID, string(p.To), p.Reason, p.At); err != nil {
		return store.Conversion{}, wrap(err, "insert history of %s", p.ConversionID)
	}
	if err := s.insertCaused(ctx, db, p.Ledger, p.Deliveries); err != nil {
		return store.Conversion{}, err
	}
	c, err := s.readConversion(ctx, db, s.q.getConversion, p.ConversionID)
	return c, wrap(err, "read conversion %s", p.ConversionID)
}

// cursorArgs returns the keyset position to list after: just before from when c is zero.
func cursorArgs(c store.Cursor, from time.Time) (time.Time, uuid.UUID) {
	if c.At.IsZero() && c.ID == uuid.Nil {
		return store.NormalizeTime(from).Add(-store.TimePrecision), uuid.Nil
	}
	return store.NormalizeTime(c.At), c.ID
}

// ListConversions implements [store.ConversionStore].
func (s *Store) ListConversions(ctx context.Context, p store.ListConversionsParams) ([]store.Conversion, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	at, id := cursorArgs(p.After, p.From)
	var out []store.Conversion
	err := s.run(ctx, read, func(db dbtx) error {
		rows, err := db.QueryContext(ctx, s.q.listConversions, p.AffiliateID, store.NormalizeTime(p.From),
			store.NormalizeTime(p.To), at, id, store.ListLimit(p.Limit, 100))
		if err != nil {
			return err
		}
		for rows.Next() {
			c, err := scanConversion(rows)
			if err != nil {
				rows.Close()
				return err
			}
			out = append(out, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		ptrs := make([]*store.Conversion, len(out))
		for i := range out {
			ptrs[i] = &out[i]
		}
		return s.loadHistory(ctx, db, ptrs)
	})
	if err != nil {
		return nil, wrap(err, "list conversions")
	}
	return out, nil
}

// lineCasts are the SQL types of lineColumns, in order.
var lineCasts = [...]string{"uuid", "uuid", "text", "text", "bigint", "text", "text", "text", "timestamptz", "timestamptz", "timestamptz", "jsonb", "timestamptz"}

// lineArgs returns the values of lineColumns for l: the commission line whole, as JSON, and
// its kind, rule, amount and period as typed columns.
func lineArgs(l store.LedgerLine) ([]any, error) {
	line, err := json.Marshal(l.Line)
	if err != nil {
		return nil, fmt.Errorf("pgstore: ledger line %s: %w", l.ID, err)
	}
	return []any{l.ID, nullable(l.ConversionID), l.Affiliate, l.Kind.String(), l.Amount.Minor(), l.Amount.Currency().String(),
		l.Rule.String(), "", nullable(l.Period.Start), nullable(l.Period.End), l.CreatedAt, string(line),
		store.NormalizeTime(l.StatementTime())}, nil
}

func scanLine(r rowScanner) (store.LedgerLine, error) {
	var l store.LedgerLine
	var conv sql.Null[string]
	var line []byte
	if err := r.Scan(&l.ID, &conv, &l.CreatedAt, &line); err != nil {
		return store.LedgerLine{}, err
	}
	if conv.Valid {
		var err error
		if l.ConversionID, err = uuid.Parse(conv.V); err != nil {
			return store.LedgerLine{}, err
		}
	}
	if line == nil {
		return store.LedgerLine{}, fmt.Errorf("ledger line %s was written before schema version 3 and has no line", l.ID)
	}
	if err := json.Unmarshal(line, &l.Line); err != nil {
		return store.LedgerLine{}, fmt.Errorf("ledger line %s: %w", l.ID, err)
	}
	return l.Normalize(), nil
}

// InsertLedgerLines implements [store.LedgerStore].
func (s *Store) InsertLedgerLines(ctx context.Context, p store.InsertLedgerLinesParams) error {
	return s.run(ctx, statements, func(db dbtx) error { return s.insertLines(ctx, db, p) })
}

// insertLines inserts each line with ON CONFLICT DO NOTHING, then compares the lines that
// exist already with the stored ones; an error makes the caller roll the call back. A line
// whose conversion does not exist violates the foreign key, which mapErr reports as
// ErrInvalid.
func (s *Store) insertLines(ctx context.Context, db dbtx, p store.InsertLedgerLinesParams) error {
	if err := p.Validate(); err != nil {
		return err
	}
	p = p.Normalize()
	var exists error
	for _, l := range p.Lines {
		args, err := lineArgs(l)
		if err != nil {
			return err
		}
		res, err := db.ExecContext(ctx, s.q.insertLine+" ON CONFLICT (id) DO NOTHING", args...)
		if err != nil {
			return wrap(err, "insert ledger line %s", l.ID)
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			if err != nil {
				return wrap(err, "insert ledger line %s", l.ID)
			}
			continue
		}
		old, err := scanLine(db.QueryRowContext(ctx, s.q.getLine, l.ID))
		if err != nil {
			return wrap(err, "read ledger line %s", l.ID)
		}
		if !old.Equal(l) {
			return fmt.Errorf("pgstore: ledger line %s exists with other content: %w", l.ID, store.ErrConflict)
		}
		exists = fmt.Errorf("pgstore: ledger line %s: %w", l.ID, store.ErrDuplicate)
	}
	return exists
}

// ListLedgerLines implements [store.LedgerStore].
func (s *Store) ListLedgerLines(ctx context.Context, p store.ListLedgerLinesParams) ([]store.LedgerLine, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	at, id := cursorArgs(p.After, p.From)
	var out []store.LedgerLine
	err := s.run(ctx, read, func(db dbtx) error {
		query := s.q.listLines
		if p.By == store.ByStatementTime {
			query = s.q.listLinesByStatement
		}
		rows, err := db.QueryContext(ctx, query, p.AffiliateID, store.NormalizeTime(p.From),
			store.NormalizeTime(p.To), at, id, store.ListLimit(p.Limit, 100))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			l, err := scanLine(rows)
			if err != nil {
				return err
			}
			out = append(out, l)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, wrap(err, "list ledger lines")
	}
	return out, nil
}
