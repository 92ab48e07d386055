package pgstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"github.com/s2skit/s2s/store"
)

// Counters. An increment is an UPSERT of the counter's row, in the statement that writes the
// record causing it, so it takes the row's lock there: INSERT ... ON CONFLICT DO UPDATE waits
// for a concurrent writer of the row to commit or roll back, then adds to the latest
// committed value (READ COMMITTED), and RETURNING gives the value after the increment, under
// the lock. The limit is checked on that value: if an increment passed its limit, the call
// rolls back its transaction (or savepoint), so no one ever sees the counter past it, and the
// next writer waiting on the row adds to the value as it was. A limit of 10 is therefore never
// 11, whatever the concurrency, and the check needs no subquery in the UPSERT, which keeps the
// SQL within what CockroachDB and YugabyteDB accept.
//
// The UPSERT's own WHERE refuses only what would overflow bigint (a counter stops at
// math.MaxInt64): such a row is locked and left as it is, so it is missing from RETURNING.
//
// A write's increments are sorted by counter (store's Normalize), and its UPSERT inserts them
// in that order, so that concurrent writes of the same counters take their locks in one order
// and cannot deadlock. A write takes its conversion's lock (the dedup key's insert, or
// ChangeStatus's UPDATE) before its counters'.

// insertIncrements writes, as a data-modifying CTE of w named name, the UPSERT of incs (sorted
// by counter) into the counters table of the schema prefix p: when guard names a CTE, only if
// that CTE has a row. The CTE returns the name and new value of each counter incremented. It
// writes nothing for no increments.
func insertIncrements(w *stmt, p, name string, incs []store.Increment, guard string) {
	if len(incs) == 0 {
		return
	}
	w.with(name)
	w.sql("INSERT INTO ", p, "counters AS k (name, value) SELECT v.name, v.value FROM (VALUES ")
	for i, inc := range incs {
		if i > 0 {
			w.sql(", ")
		}
		w.sql("(", w.arg(inc.Counter, "text"), ", ", w.arg(inc.Delta, "bigint"), ", ", strconv.Itoa(i), ")")
	}
	w.sql(") AS v (name, value, n)")
	if guard != "" {
		w.sql(" CROSS JOIN ", guard)
	}
	w.sql(" ORDER BY v.n ON CONFLICT (name) DO UPDATE SET value = k.value + EXCLUDED.value",
		" WHERE k.value <= 9223372036854775807 - EXCLUDED.value RETURNING k.name, k.value)")
}

// checkApplied checks the increments incs (sorted by counter) against applied, the new values
// that their UPSERT returned, and returns the *store.LimitError of the first one that passed its
// limit, or nil. The caller rolls back on error: the rows are still locked by its transaction,
// so the value read for an increment that the UPSERT refused is the one it met.
func (s *Store) checkApplied(ctx context.Context, db dbtx, incs []store.Increment, applied map[string]int64) error {
	for _, inc := range incs {
		v, ok := applied[inc.Counter]
		if ok {
			if err := inc.Check(v - inc.Delta); err != nil {
				return err
			}
			continue
		}
		var w stmt
		w.sql("SELECT value FROM ", s.prefix, "counters WHERE name = ", w.arg(inc.Counter, "text"))
		if err := w.queryRow(ctx, db, &v); err != nil {
			return wrap(err, "read counter %q", inc.Counter)
		}
		if err := inc.Check(v); err != nil {
			return err
		}
		return fmt.Errorf("pgstore: counter %q at %d was not incremented by %d", inc.Counter, v, inc.Delta)
	}
	return nil
}

// scanIncrements reads the rows (name, value) of the counters a statement incremented; a row
// whose name is NULL is the statement's count of the records it wrote besides (conversions
// inserted, parked events resolved), returned as inserted.
func scanIncrements(rows *sql.Rows) (inserted int64, applied map[string]int64, err error) {
	defer rows.Close()
	applied = map[string]int64{}
	for rows.Next() {
		var name sql.NullString
		var v int64
		if err := rows.Scan(&name, &v); err != nil {
			return 0, nil, err
		}
		if !name.Valid {
			inserted = v
			continue
		}
		applied[name.String] = v
	}
	return inserted, applied, rows.Err()
}

// GetCounter implements [store.CounterStore].
func (s *Store) GetCounter(ctx context.Context, counter string) (int64, error) {
	if err := store.CheckCounter(counter); err != nil {
		return 0, fmt.Errorf("pgstore: get counter: %w", err)
	}
	var v int64
	err := s.run(ctx, read, func(db dbtx) error {
		var w stmt
		w.sql("SELECT value FROM ", s.prefix, "counters WHERE name = ", w.arg(counter, "text"))
		err := w.queryRow(ctx, db, &v)
		if errors.Is(err, sql.ErrNoRows) {
			v = 0
			return nil
		}
		return err
	})
	if err != nil {
		return 0, wrap(err, "get counter %q", counter)
	}
	return v, nil
}
