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

// inbound is the table of the inbound log: a row per postback received.
var inbound = newTable("inbound_log", []column[store.InboundRecord]{
	uuidCol("id", false, func(r *store.InboundRecord) *uuid.UUID { return &r.ID }),
	timestamp("received_at", func(r *store.InboundRecord) *time.Time { return &r.ReceivedAt }),
	plain("source", "text", func(r *store.InboundRecord) *string { return &r.Source }),
	plain("method", "text", func(r *store.InboundRecord) *string { return &r.Method }),
	plain("outcome", "text", func(r *store.InboundRecord) *string { return &r.Outcome }),
	plain("reason", "text", func(r *store.InboundRecord) *string { return &r.Reason }),
	plain("http_status", "integer", func(r *store.InboundRecord) *int { return &r.HTTPStatus }),
	plain("params", "text", func(r *store.InboundRecord) *string { return &r.Params }),
	uuidCol("conversion_id", true, func(r *store.InboundRecord) *uuid.UUID { return &r.ConversionID }),
	duration("duration_ns", func(r *store.InboundRecord) *time.Duration { return &r.Duration }),
	plain("remote_addr", "text", func(r *store.InboundRecord) *string { return &r.RemoteAddr }),
})

// duration is a bigint column of a duration, in nanoseconds.
func duration[T any](name string, f func(*T) *time.Duration) column[T] {
	return column[T]{name: name, typ: "bigint", get: func(r *T) (any, error) { return int64(*f(r)), nil },
		set: func(r *T) any { return (*int64)(f(r)) }}
}

// pruneBatch is how many rows of the inbound log a statement of PruneInbound deletes: enough
// that a prune of millions takes hundreds of statements, few enough that none holds its locks
// (or keeps its snapshot) for long.
const pruneBatch = 10_000

// LogInbound implements [store.InboundStore] with one INSERT ... ON CONFLICT (id) DO NOTHING:
// one statement and one round trip on the pool, in no transaction but its own. Only a
// refused record (its ID taken) costs a second, to tell a retry from a conflict.
func (s *Store) LogInbound(ctx context.Context, r store.InboundRecord) error {
	if err := r.Validate(); err != nil {
		return err
	}
	r = r.Normalize()
	return s.run(ctx, oneStatement, func(db dbtx) error {
		var w stmt
		insertInto(&w, s.prefix, inbound)
		values(&w, inbound, []store.InboundRecord{r})
		w.sql(" ON CONFLICT (id) DO NOTHING")
		res, err := w.exec(ctx, db)
		if err != nil {
			return wrap(err, "log inbound %s", r.ID)
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return wrap(err, "log inbound %s", r.ID)
		}
		var q stmt
		q.sql("SELECT ", inbound.selected, " FROM ", s.prefix, "inbound_log WHERE id = ", q.arg(r.ID, "uuid"))
		old, err := getRow(ctx, db, inbound, &q)
		if errors.Is(err, sql.ErrNoRows) {
			// Deleted by a prune since the INSERT met it: the ID was taken, and is no more.
			return fmt.Errorf("pgstore: inbound record %s was pruned as it was logged again: %w", r.ID, store.ErrConflict)
		}
		if err != nil {
			return wrap(err, "read inbound record %s", r.ID)
		}
		if old.Equal(r) {
			return fmt.Errorf("pgstore: inbound record %s: %w", r.ID, store.ErrDuplicate)
		}
		return fmt.Errorf("pgstore: inbound record %s exists with other content: %w", r.ID, store.ErrConflict)
	})
}

// ListInbound implements [store.InboundStore], newest first, walking back an index: of the
// conversion (inbound_log_conversion: conversion_id, received_at, id), else of the source (inbound_log_source: source, received_at, id), else of the outcome
// (inbound_log_outcome), else of them all (inbound_log_received: received_at, id), as the
// planner chooses.
func (s *Store) ListInbound(ctx context.Context, p store.ListInboundParams) ([]store.InboundRecord, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	var out []store.InboundRecord
	err := s.run(ctx, read, func(db dbtx) error {
		var w stmt
		w.sql("SELECT ", inbound.selected, " FROM ", s.prefix, "inbound_log WHERE TRUE")
		if p.Source != "" {
			w.sql(" AND source = ", w.arg(p.Source, "text"))
		}
		if p.Outcome != "" {
			w.sql(" AND outcome = ", w.arg(p.Outcome, "text"))
		}
		if p.ConversionID != uuid.Nil {
			w.sql(" AND conversion_id = ", w.arg(p.ConversionID, "uuid"))
		}
		if !p.From.IsZero() {
			w.sql(" AND received_at >= ", w.arg(store.NormalizeTime(p.From), "timestamptz"))
		}
		if !p.To.IsZero() {
			w.sql(" AND received_at < ", w.arg(store.NormalizeTime(p.To), "timestamptz"))
		}
		if p.After != (store.Cursor{}) {
			w.sql(" AND (received_at, id) < (", w.arg(store.NormalizeTime(p.After.At), "timestamptz"), ", ", w.arg(p.After.ID, "uuid"), ")")
		}
		w.sql(" ORDER BY received_at DESC, id DESC LIMIT ", w.arg(store.ListLimit(p.Limit, 100), "integer"))
		var err error
		out, err = list(ctx, db, inbound, &w)
		return err
	})
	if err != nil {
		return nil, wrap(err, "list inbound")
	}
	return out, nil
}

// PruneInbound implements [store.InboundStore] with DELETEs of at most pruneBatch rows each,
// oldest first on the index inbound_log_received, each a statement of its own (in a
// transaction-bound view, in a savepoint of the host's transaction each): a prune of ten
// million records is a thousand statements of some 30 ms each (10,000 rows and their four
// index entries), and never one long transaction. A canceled context stops it between two
// statements.
func (s *Store) PruneInbound(ctx context.Context, p store.PruneInboundParams) (int, error) {
	if err := p.Validate(); err != nil {
		return 0, err
	}
	before := store.NormalizeTime(p.Before)
	total := 0
	for {
		var n int64
		err := s.run(ctx, oneStatement, func(db dbtx) error {
			var w stmt
			// = ANY(ARRAY(...)), not IN (...): the planner deletes by the primary key the IDs
			// the index gave, where IN can hash-join them against a scan of the whole log.
			w.sql("DELETE FROM ", s.prefix, "inbound_log WHERE id = ANY(ARRAY(SELECT id FROM ", s.prefix,
				"inbound_log WHERE received_at < ", w.arg(before, "timestamptz"), " ORDER BY received_at, id LIMIT ",
				w.arg(pruneBatch, "integer"), "))")
			res, err := w.exec(ctx, db)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		total += int(n)
		if err != nil {
			return total, wrap(err, "prune inbound before %s", before.Format(time.RFC3339Nano))
		}
		if n < pruneBatch {
			return total, nil
		}
	}
}
