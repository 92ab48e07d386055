package pgstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/store"
)

var _ store.ParkedReporter = (*Store)(nil)

var conversions = newTable("conversions", []column[store.Conversion]{
	uuidCol("id", false, func(c *store.Conversion) *uuid.UUID { return &c.ID }),
	plain("dedup_key", "text", func(c *store.Conversion) *string { return &c.DedupKey }),
	plain("source", "text", func(c *store.Conversion) *string { return &c.Source }),
	text("event", func(c *store.Conversion) *event.Type { return &c.Event }),
	clickID("click_id", true, func(c *store.Conversion) *clickid.ID { return &c.ClickID }),
	text("foreign_click_id", func(c *store.Conversion) *clickid.Foreign { return &c.ForeignClickID }),
	strs("sub_ids", func(c *store.Conversion) *[]string { return &c.SubIDs }),
	plain("player_id", "text", func(c *store.Conversion) *string { return &c.PlayerID }),
	plain("affiliate_id", "text", func(c *store.Conversion) *string { return &c.AffiliateID }),
	plain("campaign_id", "text", func(c *store.Conversion) *string { return &c.CampaignID }),
	plain("transaction_id", "text", func(c *store.Conversion) *string { return &c.TransactionID }),
}, amount("amount_minor", "amount_currency", func(c *store.Conversion) *money.Amount { return &c.Amount }), []column[store.Conversion]{
	text("status", func(c *store.Conversion) *event.Status { return &c.Status }),
	timestamp("occurred_at", func(c *store.Conversion) *time.Time { return &c.OccurredAt }),
	timestamp("received_at", func(c *store.Conversion) *time.Time { return &c.ReceivedAt }),
	plain("decision_model", "text", func(c *store.Conversion) *string { return &c.Decision.Model }),
	plain("decision_reason", "text", func(c *store.Conversion) *string { return &c.Decision.Reason }),
	plain("decision_code", "text", func(c *store.Conversion) *string { return &c.Decision.Code }),
})

// historyRow is one row of conversion_history: a status change, numbered within its
// conversion from 0 (the status it was recorded with).
type historyRow struct {
	ConversionID uuid.UUID
	Seq          int
	store.StatusChange
}

var history = newTable("conversion_history", []column[historyRow]{
	uuidCol("conversion_id", false, func(h *historyRow) *uuid.UUID { return &h.ConversionID }),
	plain("seq", "integer", func(h *historyRow) *int { return &h.Seq }),
	text("status", func(h *historyRow) *event.Status { return &h.Status }),
	plain("reason", "text", func(h *historyRow) *string { return &h.Reason }),
	timestamp("at", func(h *historyRow) *time.Time { return &h.At }),
})

// readConversion reads the one conversion where col = v, with its history.
func (s *Store) readConversion(ctx context.Context, db dbtx, col string, v any, typ string) (store.Conversion, error) {
	var w stmt
	w.sql("SELECT ", conversions.selected, " FROM ", s.prefix, "conversions WHERE ", col, " = ", w.arg(v, typ))
	c, err := getRow(ctx, db, conversions, &w)
	if err != nil {
		return store.Conversion{}, err
	}
	cs := []store.Conversion{c}
	if err := s.loadHistory(ctx, db, cs); err != nil {
		return store.Conversion{}, err
	}
	return cs[0], nil
}

// loadHistory fills the History of each conversion of cs with one query.
func (s *Store) loadHistory(ctx context.Context, db dbtx, cs []store.Conversion) error {
	if len(cs) == 0 {
		return nil
	}
	byID := make(map[uuid.UUID]*store.Conversion, len(cs))
	ids := make([]string, len(cs))
	for i := range cs {
		byID[cs[i].ID] = &cs[i]
		ids[i] = cs[i].ID.String()
	}
	var w stmt
	w.sql("SELECT ", history.selected, " FROM ", s.prefix, "conversion_history WHERE conversion_id = ANY(",
		w.arg(textArray(ids), "uuid[]"), ") ORDER BY conversion_id, seq")
	rows, err := list(ctx, db, history, &w)
	if err != nil {
		return err
	}
	for _, h := range rows {
		c := byID[h.ConversionID]
		c.History = append(c.History, h.StatusChange)
	}
	return nil
}

// insertCaused writes, as a data-modifying CTE of w named name, an INSERT of the rows rs of
// table t: when guard names a CTE, only if that CTE has a row. It writes nothing for no rows.
func insertCaused[T any](w *stmt, p, name string, t *table[T], rs []T, guard string) {
	if len(rs) == 0 {
		return
	}
	w.with(name)
	insertInto(w, p, t)
	if guard == "" {
		values(w, t, rs)
	} else {
		w.sql("SELECT v.* FROM (")
		values(w, t, rs)
		w.sql(") AS v CROSS JOIN ", guard)
	}
	w.sql(")")
}

// RecordConversion implements [store.ConversionStore]: the conversion, its history's first
// entry, its ledger lines, its deliveries and its increments are written by one statement,
// which is atomic by itself and costs one round trip. The unique constraint on the dedup key,
// not the isolation level, decides which of concurrent records wins: INSERT ... ON CONFLICT
// DO NOTHING waits for a competing insert to commit or roll back.
//
// A record with increments or a rebind checks them in the same statement, which refuses
// itself (a division by zero, which aborts it whole) when an increment passed its limit or
// the rebind found another binding: so that a record that applies still costs one round
// trip and one commit. Only a refused one pays for a second try, in a transaction whose one
// statement returns the counters' values and the rebind's count unchecked, to tell which
// increment or binding refused it, and rolls back (see counters.go). The second try decides
// afresh: a counter that a concurrent write rolled back in between may let it apply.
func (s *Store) RecordConversion(ctx context.Context, p store.RecordConversionParams) (store.Conversion, error) {
	c, _, err := s.RecordConversionParked(ctx, p)
	return c, err
}

// RecordConversionParked implements [store.ParkedReporter]: RecordConversion's one statement
// also reads, on the index parked_events_transaction, whether an unresolved parked event of
// the conversion's transaction is stored, in the statement's snapshot: every event parked
// before the statement began is seen, at no extra round trip.
func (s *Store) RecordConversionParked(ctx context.Context, p store.RecordConversionParams) (store.Conversion, bool, error) {
	if err := p.Validate(); err != nil {
		return store.Conversion{}, false, err
	}
	p = p.Normalize()
	checked := len(p.Increments) > 0 || p.RebindFrom != nil
	out, waiting, err := s.recordIn(ctx, oneStatement, p, checked)
	if checked && errors.Is(err, errRefused) {
		out, waiting, err = s.recordIn(ctx, statements, p, false)
	}
	return out, waiting && err == nil, err
}

// errRefused is the error of a record whose statement refused itself (guarded, see
// recordStatement): it wrote nothing.
var errRefused = errors.New("pgstore: the record's statement refused its increments or rebind")

// divisionByZero is the SQLSTATE of the division by which a guarded record refuses itself.
const divisionByZero = "22012"

// recordIn runs RecordConversion's statement for p (normalised), guarded or not (see
// recordStatement), with the atomicity a: a guarded statement that refused itself is
// errRefused; unguarded, the statement's results are checked here, and a refusal rolls the
// transaction back.
func (s *Store) recordIn(ctx context.Context, a atomicity, p store.RecordConversionParams, guarded bool) (store.Conversion, bool, error) {
	c := p.Conversion
	var out store.Conversion
	var waiting bool
	err := s.run(ctx, a, func(db dbtx) error {
		inserted, applied, parked, err := s.record(ctx, db, p, guarded)
		var se sqlStater
		if guarded && errors.As(err, &se) && se.SQLState() == divisionByZero {
			return errRefused
		}
		if err != nil {
			return wrap(err, "record conversion %q", c.DedupKey)
		}
		if inserted == 1 {
			if p.RebindFrom != nil && applied[rebound] != 1 {
				// The binding to replace was not the stored one (the UPDATE waited for a
				// concurrent writer of the row and found it changed): roll back the record.
				return fmt.Errorf("pgstore: conversion %q: %w", c.DedupKey, s.rebindError(ctx, db, p.RebindFrom.PlayerID))
			}
			if err := s.checkApplied(ctx, db, p.Increments, applied); err != nil {
				return fmt.Errorf("pgstore: conversion %q: %w", c.DedupKey, err)
			}
			out, waiting = c, parked
			return nil
		}
		// The dedup key was taken: ON CONFLICT waited for the competing insert to commit, so the
		// original is visible now. Nothing was written, no increment either.
		if out, err = s.readConversion(ctx, db, "dedup_key", c.DedupKey, "text"); err != nil {
			return wrap(err, "read conversion %q", c.DedupKey)
		}
		if out.SameContent(c) {
			return fmt.Errorf("pgstore: conversion %q: %w", c.DedupKey, store.ErrDuplicate)
		}
		return fmt.Errorf("pgstore: conversion %q exists with other content: %w", c.DedupKey, store.ErrConflict)
	})
	return out, waiting, err
}

// rebound is the name of the row of recordStatement's results that counts the bindings a
// rebind replaced: the empty name, which no counter has (store.CheckCounter).
const rebound = ""

// parkedRow is the name of the row of recordStatement's results that is 1 when parked events
// of the conversion's transaction wait, else 0: a control character, which no counter's name
// has (store.CheckCounter). The statement spells it chr(1).
const parkedRow = "\x01"

// rebindError returns the *store.RebindError of a rebind of player that found another
// binding, or none, with the binding stored now.
func (s *Store) rebindError(ctx context.Context, db dbtx, player string) error {
	b, err := s.getBinding(ctx, db, player)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return &store.RebindError{PlayerID: player}
	case err != nil:
		return wrap(err, "read binding of %q", player)
	}
	return &store.RebindError{PlayerID: player, Stored: &b}
}

// record runs the statement of recordStatement, and returns how many conversions it inserted
// (0 or 1) and the new values of the counters it incremented, with, for a rebind, the count
// of bindings it replaced under the name rebound, and whether parked events of the
// conversion's transaction wait.
func (s *Store) record(ctx context.Context, db dbtx, p store.RecordConversionParams, guarded bool) (int64, map[string]int64, bool, error) {
	w := s.recordStatement(p, guarded)
	if len(p.Increments) == 0 && p.RebindFrom == nil {
		var inserted int64
		var parked bool
		err := w.queryRow(ctx, db, &inserted, &parked)
		return inserted, nil, parked, err
	}
	rows, err := w.query(ctx, db)
	if err != nil {
		return 0, nil, false, err
	}
	inserted, applied, err := scanIncrements(rows)
	return inserted, applied, applied[parkedRow] == 1, err
}

// recordStatement writes the one statement that records a conversion: data-modifying CTEs
// insert the conversion (or nothing, if its dedup key is taken), then its first history entry,
// ledger lines, deliveries, binding and increments only for a conversion that was inserted. A
// single statement is atomic by itself, so recording costs one round trip and one commit.
// Guarded, the count of conversions inserted is divided by zero when the conversion was
// inserted and an increment is missing from the UPSERT's results (it would overflow) or
// took its counter past its limit, or a rebind replaced no binding: the statement aborts,
// and nothing of it was written.
// Without increments or a rebind it returns the count of conversions inserted and whether
// parked events of the conversion's transaction wait; with them, rows (name, value): the
// count under a NULL name, the count of bindings replaced under the name rebound, whether
// parked events wait (1 or 0) under the name parkedRow, then each counter incremented with
// its new value.
//
// A first binding is an INSERT ... ON CONFLICT (player_id) DO NOTHING: it waits for a
// concurrent insert of the player's binding to commit, then keeps it, so that of concurrent
// records binding one player exactly one binding is stored and every record still commits. A
// rebind is an UPDATE of the player's row conditional on every column of the binding it
// replaces: a concurrent rebind of the row makes it wait, and then find the row changed and
// replace nothing, which RecordConversion turns into a rollback and a *store.RebindError.
func (s *Store) recordStatement(p store.RecordConversionParams, guarded bool) *stmt {
	c := p.Conversion
	w := new(stmt)
	// Each column costs a parameter of about 16 bytes ("$12::timestamptz, ") besides its name:
	// grow the buffers once.
	n := len(conversions.columns) + len(history.columns) + len(p.Ledger)*len(lines.columns) + len(p.Deliveries)*len(deliveries.columns) + 2*len(p.Increments)
	w.b.Grow(512 + n*40)
	w.args = make([]any, 0, n)
	w.with("c")
	insertInto(w, s.prefix, conversions)
	values(w, conversions, []store.Conversion{c})
	w.sql(" ON CONFLICT (dedup_key) DO NOTHING RETURNING id)")
	insertCaused(w, s.prefix, "h", history, []historyRow{{ConversionID: c.ID, StatusChange: c.History[0]}}, "c")
	insertCaused(w, s.prefix, "l", lines, p.Ledger, "c")
	insertDeliveries(w, s.prefix, "d", p.Deliveries, "c")
	if p.Binding != nil {
		writeBinding(w, s.prefix, "b", *p.Binding, p.RebindFrom, "c")
	}
	if len(p.Increments) == 0 && p.RebindFrom == nil {
		w.sql(" SELECT count(*), ")
		s.parkedWaiting(w, c)
		w.sql(" FROM c")
		return w
	}
	insertIncrements(w, s.prefix, "k", p.Increments, "c")
	w.sql(" SELECT NULL::text, count(*)")
	if guarded {
		w.sql(" / CASE WHEN EXISTS (SELECT 1 FROM c) AND (FALSE")
		if p.RebindFrom != nil {
			w.sql(" OR (SELECT count(*) FROM b) <> 1")
		}
		if len(p.Increments) > 0 {
			w.sql(" OR EXISTS (SELECT 1 FROM (VALUES ")
			for i, inc := range p.Increments {
				if i > 0 {
					w.sql(", ")
				}
				w.sql("(", w.arg(inc.Counter, "text"), ", ", w.arg(inc.Limit, "bigint"), ")")
			}
			w.sql(") AS l (name, lim) LEFT JOIN k ON k.name = l.name WHERE k.name IS NULL OR l.lim > 0 AND k.value > l.lim)")
		}
		w.sql(") THEN 0 ELSE 1 END")
	}
	w.sql(" FROM c UNION ALL SELECT chr(1), (")
	s.parkedWaiting(w, c)
	w.sql(")::integer::bigint")
	if p.RebindFrom != nil {
		w.sql(" UNION ALL SELECT '", rebound, "'::text, count(*) FROM b")
	}
	if len(p.Increments) > 0 {
		w.sql(" UNION ALL SELECT name, value FROM k")
	}
	return w
}

// parkedWaiting writes the boolean expression that is true when unresolved parked events of
// c's transaction are stored, by the index parked_events_transaction; false for a conversion
// that no parked event can name.
func (s *Store) parkedWaiting(w *stmt, c store.Conversion) {
	if c.Source == "" || c.TransactionID == "" {
		w.sql("FALSE")
		return
	}
	w.sql("EXISTS (SELECT 1 FROM ", s.prefix, "parked_events WHERE source = ", w.arg(c.Source, "text"),
		" AND transaction_id = ", w.arg(c.TransactionID, "text"), " AND resolved_at IS NULL)")
}

// writeBinding writes, as a data-modifying CTE of w named name, the binding b of a record,
// only if the CTE guard has a row: an insert that keeps a player's existing binding, or,
// with from, the UPDATE that replaces the player's binding only if it is still from, which
// returns the player of the row it replaced.
func writeBinding(w *stmt, p, name string, b store.PlayerBinding, from *store.PlayerBinding, guard string) {
	w.with(name)
	if from == nil {
		insertInto(w, p, bindings)
		w.sql("SELECT v.* FROM (")
		values(w, bindings, []store.PlayerBinding{b})
		w.sql(") AS v CROSS JOIN ", guard, " ON CONFLICT (player_id) DO NOTHING)")
		return
	}
	w.sql("UPDATE ", p, "player_bindings AS pb SET ")
	var set, match []string
	for _, c := range bindings.columns {
		if c.name != "player_id" {
			set = append(set, c.name+" = n."+c.name)
		}
		match = append(match, "pb."+c.name+" IS NOT DISTINCT FROM o."+c.name)
	}
	w.sql(strings.Join(set, ", "), " FROM (")
	values(w, bindings, []store.PlayerBinding{b})
	w.sql(") AS n (", bindings.names, "), (")
	values(w, bindings, []store.PlayerBinding{*from})
	w.sql(") AS o (", bindings.names, "), ", guard, " WHERE pb.player_id = n.player_id AND ", strings.Join(match, " AND "),
		" RETURNING pb.player_id)")
}

// GetConversion implements [store.ConversionStore].
func (s *Store) GetConversion(ctx context.Context, id uuid.UUID) (store.Conversion, error) {
	if id == uuid.Nil {
		return store.Conversion{}, fmt.Errorf("pgstore: get conversion: the zero ID: %w", store.ErrInvalid)
	}
	c, err := s.getConversion(ctx, "id", id, "uuid")
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
	c, err := s.getConversion(ctx, "dedup_key", dedupKey, "text")
	if errors.Is(err, sql.ErrNoRows) {
		return store.Conversion{}, fmt.Errorf("pgstore: conversion %q: %w", dedupKey, store.ErrNotFound)
	}
	return c, wrap(err, "get conversion %q", dedupKey)
}

func (s *Store) getConversion(ctx context.Context, col string, v any, typ string) (store.Conversion, error) {
	var c store.Conversion
	err := s.run(ctx, read, func(db dbtx) error {
		var err error
		c, err = s.readConversion(ctx, db, col, v, typ)
		return err
	})
	return c, err
}

// ListConversionsByTransaction implements [store.ConversionStore], by the index
// conversions_transaction on (source, transaction_id, received_at, id).
func (s *Store) ListConversionsByTransaction(ctx context.Context, p store.ListConversionsByTransactionParams) ([]store.Conversion, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	var out []store.Conversion
	err := s.run(ctx, read, func(db dbtx) error {
		var w stmt
		// transaction_id <> '' is the index's predicate, spelled in the query so that a generic
		// plan (a parameter of unknown value) still uses it; Validate refuses an empty ID.
		w.sql("SELECT ", conversions.selected, " FROM ", s.prefix, "conversions WHERE transaction_id <> '' AND source = ",
			w.arg(p.Source, "text"), " AND transaction_id = ", w.arg(p.TransactionID, "text"))
		if p.After != (store.Cursor{}) {
			w.sql(" AND (received_at, id) > (", w.arg(store.NormalizeTime(p.After.At), "timestamptz"), ", ", w.arg(p.After.ID, "uuid"), ")")
		}
		w.sql(" ORDER BY received_at, id LIMIT ", w.arg(store.ListLimit(p.Limit, 100), "integer"))
		var err error
		if out, err = list(ctx, db, conversions, &w); err != nil {
			return err
		}
		return s.loadHistory(ctx, db, out)
	})
	if err != nil {
		return nil, wrap(err, "list conversions of transaction %q of %q", p.TransactionID, p.Source)
	}
	return out, nil
}

// LastActivity implements [store.ConversionStore] with one query on the partial index
// conversions_player_event_time (player_id, event time), walked back from AsOf: one index
// entry read, whatever the number of the player's conversions.
func (s *Store) LastActivity(ctx context.Context, p store.LastActivityParams) (time.Time, error) {
	if err := p.Validate(); err != nil {
		return time.Time{}, err
	}
	var at time.Time
	err := s.run(ctx, read, func(db dbtx) error {
		var w stmt
		// player_id <> '' is the index's predicate, spelled in the query so that a generic
		// plan (a parameter of unknown value) still uses it; Validate refuses an empty ID.
		w.sql("SELECT coalesce(occurred_at, received_at) FROM ", s.prefix, "conversions WHERE player_id <> '' AND player_id = ",
			w.arg(p.PlayerID, "text"), " AND coalesce(occurred_at, received_at) <= ", w.arg(store.NormalizeTime(p.AsOf), "timestamptz"),
			" ORDER BY coalesce(occurred_at, received_at) DESC LIMIT 1")
		err := w.queryRow(ctx, db, timeDest{&at})
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		return err
	})
	if err != nil {
		return time.Time{}, wrap(err, "last activity of player %q", p.PlayerID)
	}
	return at, nil
}

// ChangeStatus implements [store.ConversionStore]. The status is set by a conditional UPDATE
// on the expected current status, so of concurrent changes from one status exactly one
// applies; the history entry, ledger lines, deliveries, increments and the resolution of the
// parked events it applies follow in one more statement, in the same transaction, which rolls
// back if an increment passed its limit or a parked event was not waiting (the UPDATE of the
// parked events resolves only those that wait, after waiting for a concurrent resolution).
func (s *Store) ChangeStatus(ctx context.Context, p store.ChangeStatusParams) (store.Conversion, error) {
	if err := p.Validate(); err != nil {
		return store.Conversion{}, err
	}
	p = p.Normalize()
	var out store.Conversion
	err := s.run(ctx, statements, func(db dbtx) error {
		var w stmt
		w.sql("UPDATE ", s.prefix, "conversions SET status = ", w.arg(string(p.To), "text"),
			" WHERE id = ", w.arg(p.ConversionID, "uuid"), " AND status = ", w.arg(string(p.From), "text"),
			" RETURNING ", conversions.selected)
		c, err := getRow(ctx, db, conversions, &w)
		if errors.Is(err, sql.ErrNoRows) {
			cur, err := s.readConversion(ctx, db, "id", p.ConversionID, "uuid")
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("pgstore: conversion %s: %w", p.ConversionID, store.ErrNotFound)
			}
			if err != nil {
				return wrap(err, "read conversion %s", p.ConversionID)
			}
			out = cur
			return fmt.Errorf("pgstore: conversion %s is %s, not %s: %w", p.ConversionID, cur.Status, p.From, store.ErrConflict)
		}
		if err != nil {
			return wrap(err, "change status of %s", p.ConversionID)
		}
		// The row is locked now, so the history read here is all of it, and the next
		// entry's number is exact.
		cs := []store.Conversion{c}
		if err := s.loadHistory(ctx, db, cs); err != nil {
			return wrap(err, "read history of %s", p.ConversionID)
		}
		c = cs[0]
		change := store.StatusChange{Status: p.To, Reason: p.Reason, At: p.At}
		var ins stmt
		insertCaused(&ins, s.prefix, "h", history, []historyRow{{ConversionID: c.ID, Seq: len(c.History), StatusChange: change}}, "")
		insertCaused(&ins, s.prefix, "l", lines, p.Ledger, "")
		insertDeliveries(&ins, s.prefix, "d", p.Deliveries, "")
		insertIncrements(&ins, s.prefix, "k", p.Increments, "")
		resolveParked(&ins, s.prefix, "r", p.Resolve, p.At, c.ID, "")
		var results []string
		if len(p.Resolve) > 0 {
			results = append(results, "SELECT NULL::text, count(*) FROM r") // the count of parked events resolved
		}
		if len(p.Increments) > 0 {
			results = append(results, "SELECT name, value FROM k")
		}
		if len(results) == 0 {
			ins.sql(" SELECT 1")
			if _, err := ins.exec(ctx, db); err != nil {
				return wrap(err, "change status of %s", p.ConversionID)
			}
		} else {
			ins.sql(" ", strings.Join(results, " UNION ALL "))
			rows, err := ins.query(ctx, db)
			if err != nil {
				return wrap(err, "change status of %s", p.ConversionID)
			}
			resolved, applied, err := scanIncrements(rows)
			if err != nil {
				return wrap(err, "change status of %s", p.ConversionID)
			}
			if int(resolved) != len(p.Resolve) {
				err := fmt.Errorf("pgstore: status change of %s: %w", p.ConversionID, s.unresolvable(ctx, db, p.Resolve))
				if errors.Is(err, store.ErrConflict) {
					c.Status = p.From // the conversion as it stays: the rollback undoes the UPDATE
					out = c
				}
				return err
			}
			if err := s.checkApplied(ctx, db, p.Increments, applied); err != nil {
				return fmt.Errorf("pgstore: status change of %s: %w", p.ConversionID, err)
			}
		}
		c.History = append(c.History, change)
		out = c
		return nil
	})
	return out, err
}

// eventTime is a conversion's store.Conversion.EventTime in SQL: occurred_at, NULL when the
// sender gave no event time, else received_at. The index conversions_affiliate_event_time is
// on this very expression, which a query must spell the same to use it.
const eventTime = "coalesce(occurred_at, received_at)"

// ListConversions implements [store.ConversionStore], by [store.Conversion.EventTime].
func (s *Store) ListConversions(ctx context.Context, p store.ListConversionsParams) ([]store.Conversion, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	var out []store.Conversion
	err := s.run(ctx, read, func(db dbtx) error {
		var err error
		if out, err = listOfAffiliate(ctx, db, s.prefix, conversions, eventTime, p.AffiliateID, p.From, p.To, p.After, p.Limit); err != nil {
			return err
		}
		return s.loadHistory(ctx, db, out)
	})
	if err != nil {
		return nil, wrap(err, "list conversions")
	}
	return out, nil
}
