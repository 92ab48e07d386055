package pgstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/s2skit/s2s/store"
)

// closes is the table of closed periods; first is written by the INSERT itself (see
// ClosePeriod), never read back.
var closes = newTable("period_closes", []column[store.PeriodClose]{
	timestamp("start_at", func(c *store.PeriodClose) *time.Time { return &c.Start }),
	timestamp("end_at", func(c *store.PeriodClose) *time.Time { return &c.End }),
	timestamp("closed_at", func(c *store.PeriodClose) *time.Time { return &c.ClosedAt }),
	jsonCol("balances", func(c *store.PeriodClose) *[]store.Balance { return &c.Balances }),
})

// ClosePeriod implements [store.PeriodStore] in one transaction: an INSERT ... SELECT of the
// close that writes it only when it follows the last close (or none exists), skipping it
// (ON CONFLICT DO NOTHING) when its period, its end or the first close is taken; then the
// revenue facts it settles, in one UPDATE; then its lines, in batches. Only a refused close costs more statements, to say what it met.
func (s *Store) ClosePeriod(ctx context.Context, p store.ClosePeriodParams) (store.PeriodClose, error) {
	if err := p.Validate(); err != nil {
		return store.PeriodClose{}, err
	}
	p = p.Normalize()
	c := p.Close
	var refused bool
	err := s.run(ctx, statements, func(db dbtx) error {
		var w stmt
		start := w.arg(c.Start, "timestamptz")
		none := "NOT EXISTS (SELECT 1 FROM " + s.prefix + "period_closes)"
		w.sql("INSERT INTO ", s.prefix, "period_closes (start_at, end_at, first, closed_at, balances) SELECT ", start, ", ",
			w.arg(c.End, "timestamptz"), ", ", none, ", ", w.arg(c.ClosedAt, "timestamptz"), ", ")
		b, err := jsonValue(c.Balances)
		if err != nil {
			return err
		}
		w.sql(w.arg(b, "jsonb"), " WHERE ", none, " OR EXISTS (SELECT 1 FROM ", s.prefix, "period_closes WHERE end_at = ", start, ")",
			" ON CONFLICT DO NOTHING")
		res, err := w.exec(ctx, db)
		if err != nil {
			return wrap(err, "close period %s", c.Start)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			refused = err == nil
			return wrap(err, "close period %s", c.Start)
		}
		if err := s.settleFacts(ctx, db, c.Start, p.Facts); err != nil {
			return err
		}
		if len(p.Lines) == 0 {
			return nil
		}
		err = lineBatch.insert(ctx, db, s.prefix, p.Lines, store.MaxLines)
		if errors.Is(err, store.ErrDuplicate) {
			// A line of a close that is not recorded cannot be a retry of it.
			err = fmt.Errorf("pgstore: close of %s: a ledger line exists: %w", c.Start, store.ErrConflict)
		}
		return err
	})
	if err != nil || !refused {
		if err != nil {
			return store.PeriodClose{}, err
		}
		return c, nil
	}
	return s.closeRefused(ctx, c)
}

// settleFacts marks the revenue facts ids settled in the period that starts at start, in
// one UPDATE of the close's transaction, after the close's row: concurrent closes of the
// period wait for the one that inserted it, and roll back. A fact that is not stored or is
// settled already leaves the count short: ErrConflict, and the close rolls back.
func (s *Store) settleFacts(ctx context.Context, db dbtx, start time.Time, ids []uuid.UUID) error {
	if len(ids) == 0 {
		return nil
	}
	texts := make([]string, len(ids))
	for i, id := range ids {
		texts[i] = id.String()
	}
	var w stmt
	w.sql("UPDATE ", s.prefix, "revenue_facts SET settled_in = ", w.arg(start, "timestamptz"),
		" WHERE id = ANY(", w.arg(textArray(texts), "uuid[]"), ") AND settled_in IS NULL")
	res, err := w.exec(ctx, db)
	if err != nil {
		return wrap(err, "close of %s: settle revenue facts", start)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return wrap(err, "close of %s: settle revenue facts", start)
	}
	if n != int64(len(ids)) {
		return fmt.Errorf("pgstore: close of %s: %d of its %d revenue facts are not stored or settled already: %w", start, int64(len(ids))-n, len(ids), store.ErrConflict)
	}
	return nil
}

// closeRefused says why c was not inserted: its period is closed, or it does not follow the
// last close.
func (s *Store) closeRefused(ctx context.Context, c store.PeriodClose) (store.PeriodClose, error) {
	var old store.PeriodClose
	err := s.run(ctx, read, func(db dbtx) error {
		var q stmt
		q.sql("SELECT ", closes.selected, " FROM ", s.prefix, "period_closes WHERE start_at = ", q.arg(c.Start, "timestamptz"))
		var err error
		old, err = getRow(ctx, db, closes, &q)
		return err
	})
	switch {
	case err == nil:
		old = old.Normalize()
		if old.SameContent(c) {
			return old, fmt.Errorf("pgstore: period %s is closed: %w", c.Start, store.ErrDuplicate)
		}
		return old, fmt.Errorf("pgstore: period %s is closed with other content: %w", c.Start, store.ErrConflict)
	case !errors.Is(err, sql.ErrNoRows):
		return store.PeriodClose{}, wrap(err, "read close of %s", c.Start)
	}
	last, err := s.LastClose(ctx)
	if err != nil {
		return store.PeriodClose{}, err
	}
	return last, fmt.Errorf("pgstore: period %s does not follow the last close, which ends at %s: %w", c.Start, last.End, store.ErrConflict)
}

// LastClose implements [store.PeriodStore] with the unique index on end_at.
func (s *Store) LastClose(ctx context.Context) (store.PeriodClose, error) {
	var out store.PeriodClose
	err := s.run(ctx, read, func(db dbtx) error {
		var q stmt
		q.sql("SELECT ", closes.selected, " FROM ", s.prefix, "period_closes ORDER BY end_at DESC LIMIT 1")
		var err error
		out, err = getRow(ctx, db, closes, &q)
		return err
	})
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.PeriodClose{}, fmt.Errorf("pgstore: no period is closed: %w", store.ErrNotFound)
	case err != nil:
		return store.PeriodClose{}, wrap(err, "last close")
	}
	return out.Normalize(), nil
}
