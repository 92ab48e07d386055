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

// parkedEvents is the table of parked events: a conversion's columns, its ID as event_id,
// beside the parked event's own.
var parkedEvents = newTable("parked_events",
	[]column[store.ParkedEvent]{uuidCol("id", false, func(p *store.ParkedEvent) *uuid.UUID { return &p.ID })},
	renamed(embedded(conversions, func(p *store.ParkedEvent) *store.Conversion { return &p.Conversion }), "id", "event_id"),
	[]column[store.ParkedEvent]{
		timestamp("parked_at", func(p *store.ParkedEvent) *time.Time { return &p.ParkedAt }),
		timestamp("resolved_at", func(p *store.ParkedEvent) *time.Time { return &p.ResolvedAt }),
		uuidCol("applied_to", true, func(p *store.ParkedEvent) *uuid.UUID { return &p.AppliedTo }),
	})

// renamed returns cols with the column from named to.
func renamed[T any](cols []column[T], from, to string) []column[T] {
	for i := range cols {
		if cols[i].name == from {
			cols[i].name = to
		}
	}
	return cols
}

// readParked reads the one parked event where col = v.
func (s *Store) readParked(ctx context.Context, db dbtx, col string, v any, typ string) (store.ParkedEvent, error) {
	var w stmt
	w.sql("SELECT ", parkedEvents.selected, " FROM ", s.prefix, "parked_events WHERE ", col, " = ", w.arg(v, typ))
	return getRow(ctx, db, parkedEvents, &w)
}

// ParkEvent implements [store.ParkedStore] with one INSERT ... ON CONFLICT DO NOTHING, which
// waits for a competing insert of the dedup key (or the ID) to commit or roll back, so that
// of concurrent calls exactly one writes; the stored event then decides between a duplicate
// and a conflict.
func (s *Store) ParkEvent(ctx context.Context, p store.ParkedEvent) (store.ParkedEvent, error) {
	if err := p.Validate(); err != nil {
		return store.ParkedEvent{}, err
	}
	p = p.Normalize()
	key := p.Conversion.DedupKey
	var out store.ParkedEvent
	err := s.run(ctx, oneStatement, func(db dbtx) error {
		var w stmt
		insertInto(&w, s.prefix, parkedEvents)
		values(&w, parkedEvents, []store.ParkedEvent{p})
		w.sql(" ON CONFLICT DO NOTHING")
		res, err := w.exec(ctx, db)
		if err != nil {
			return wrap(err, "park event %q", key)
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			out = p
			return wrap(err, "park event %q", key)
		}
		old, err := s.readParked(ctx, db, "dedup_key", key, "text")
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("pgstore: parked event id %s exists under another dedup key: %w", p.ID, store.ErrConflict)
		}
		if err != nil {
			return wrap(err, "read parked event %q", key)
		}
		out = old
		if old.Conversion.SameContent(p.Conversion) {
			return fmt.Errorf("pgstore: parked event %q: %w", key, store.ErrDuplicate)
		}
		return fmt.Errorf("pgstore: parked event %q exists with other content: %w", key, store.ErrConflict)
	})
	return out, err
}

// ListParked implements [store.ParkedStore]: a listing of one transaction (or one source) on
// the index parked_events_transaction (source, transaction_id, parked_at, id), a sweep's
// listing of every unresolved event on the partial index parked_events_waiting (parked_at,
// id) of the events that wait; a listing of every event, resolved ones included, sorts them.
func (s *Store) ListParked(ctx context.Context, p store.ListParkedParams) ([]store.ParkedEvent, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	var out []store.ParkedEvent
	err := s.run(ctx, read, func(db dbtx) error {
		var w stmt
		w.sql("SELECT ", parkedEvents.selected, " FROM ", s.prefix, "parked_events WHERE TRUE")
		if p.Source != "" {
			w.sql(" AND source = ", w.arg(p.Source, "text"))
		}
		if p.TransactionID != "" {
			w.sql(" AND transaction_id = ", w.arg(p.TransactionID, "text"))
		}
		if p.Unresolved {
			w.sql(" AND resolved_at IS NULL")
		}
		if p.After != (store.Cursor{}) {
			w.sql(" AND (parked_at, id) > (", w.arg(store.NormalizeTime(p.After.At), "timestamptz"), ", ", w.arg(p.After.ID, "uuid"), ")")
		}
		w.sql(" ORDER BY parked_at, id LIMIT ", w.arg(store.ListLimit(p.Limit, 100), "integer"))
		var err error
		out, err = list(ctx, db, parkedEvents, &w)
		return err
	})
	if err != nil {
		return nil, wrap(err, "list parked")
	}
	return out, nil
}

// resolveParked writes, as a data-modifying CTE of w named name, the UPDATE that resolves the
// parked events ids at at, applied to appliedTo (none when it is the nil UUID), and returns
// their IDs: only those that wait, so that a concurrent resolution, which the UPDATE waits
// for, leaves an event out. When guard is set, it is a condition every row must meet too.
// It writes nothing for no IDs.
func resolveParked(w *stmt, p, name string, ids []uuid.UUID, at time.Time, appliedTo uuid.UUID, guard string) {
	if len(ids) == 0 {
		return
	}
	text := make([]string, len(ids))
	for i, id := range ids {
		text[i] = id.String()
	}
	var to any
	if appliedTo != uuid.Nil {
		to = appliedTo.String()
	}
	w.with(name)
	w.sql("UPDATE ", p, "parked_events SET resolved_at = ", w.arg(at, "timestamptz"), ", applied_to = ", w.arg(to, "uuid"),
		" WHERE id = ANY(", w.arg(textArray(text), "uuid[]"), ") AND resolved_at IS NULL")
	if guard != "" {
		w.sql(" AND ", guard)
	}
	w.sql(" RETURNING id)")
}

// unresolvable returns why the parked events ids were not all resolved: ErrNotFound for one
// that does not exist, else ErrConflict for one resolved already. It runs after the UPDATE
// that skipped them, in its transaction, and under READ COMMITTED sees what a concurrent
// resolution committed.
func (s *Store) unresolvable(ctx context.Context, db dbtx, ids []uuid.UUID) error {
	text := make([]string, len(ids))
	for i, id := range ids {
		text[i] = id.String()
	}
	var w stmt
	w.sql("SELECT id, resolved_at FROM ", s.prefix, "parked_events WHERE id = ANY(", w.arg(textArray(text), "uuid[]"), ")")
	rows, err := w.query(ctx, db)
	if err != nil {
		return wrap(err, "read parked events")
	}
	defer rows.Close()
	resolved := make(map[uuid.UUID]time.Time, len(ids))
	for rows.Next() {
		var id uuid.UUID
		var at time.Time
		if err := rows.Scan(&id, timeDest{&at}); err != nil {
			return wrap(err, "read parked events")
		}
		resolved[id] = at
	}
	if err := rows.Err(); err != nil {
		return wrap(err, "read parked events")
	}
	for _, id := range ids {
		if _, ok := resolved[id]; !ok {
			return fmt.Errorf("parked event %s: %w", id, store.ErrNotFound)
		}
	}
	for _, id := range ids {
		if at := resolved[id]; !at.IsZero() {
			return fmt.Errorf("parked event %s was resolved at %s: %w", id, at.Format(time.RFC3339Nano), store.ErrConflict)
		}
	}
	return fmt.Errorf("pgstore: parked events %v could not be resolved, yet wait", ids)
}

// ResolveParked implements [store.ParkedStore] with one UPDATE in a transaction, which it
// rolls back when the UPDATE resolved fewer events than it was given. The UPDATE takes the
// rows' locks and resolves only those that wait, so that of concurrent resolutions of one
// event exactly one finds it waiting.
func (s *Store) ResolveParked(ctx context.Context, p store.ResolveParkedParams) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if len(p.IDs) == 0 {
		return ctx.Err()
	}
	p = p.Normalize()
	return s.run(ctx, statements, func(db dbtx) error {
		var w stmt
		guard := ""
		if p.AppliedTo != uuid.Nil {
			// Checked here, not by the foreign key, which would check only the rows updated:
			// an unknown conversion is ErrInvalid whatever the events.
			guard = "EXISTS (SELECT 1 FROM " + s.prefix + "conversions WHERE id = " + w.arg(p.AppliedTo, "uuid") + ")"
		}
		resolveParked(&w, s.prefix, "r", p.IDs, p.At, p.AppliedTo, guard)
		w.sql(" SELECT count(*) FROM r")
		var n int
		if err := w.queryRow(ctx, db, &n); err != nil {
			return wrap(err, "resolve parked")
		}
		if n == len(p.IDs) {
			return nil
		}
		if p.AppliedTo != uuid.Nil {
			var exists bool
			var q stmt
			q.sql("SELECT EXISTS (SELECT 1 FROM ", s.prefix, "conversions WHERE id = ", q.arg(p.AppliedTo, "uuid"), ")")
			if err := q.queryRow(ctx, db, &exists); err != nil {
				return wrap(err, "read conversion %s", p.AppliedTo)
			}
			if !exists {
				return fmt.Errorf("pgstore: resolve parked: conversion %s does not exist: %w", p.AppliedTo, store.ErrInvalid)
			}
		}
		return fmt.Errorf("pgstore: resolve parked: %w", s.unresolvable(ctx, db, p.IDs))
	})
}
