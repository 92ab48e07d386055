package pgstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/s2skit/s2s/store"
)

var deliveries = newTable("deliveries", []column[store.Delivery]{
	uuidCol("id", false, func(d *store.Delivery) *uuid.UUID { return &d.ID }),
	uuidCol("conversion_id", true, func(d *store.Delivery) *uuid.UUID { return &d.ConversionID }),
	plain("endpoint", "text", func(d *store.Delivery) *string { return &d.Endpoint }),
	plain("method", "text", func(d *store.Delivery) *string { return &d.Method }),
	plain("url", "text", func(d *store.Delivery) *string { return &d.URL }),
	jsonCol("header", func(d *store.Delivery) *http.Header { return &d.Header }),
	bytea("body", func(d *store.Delivery) *[]byte { return &d.Body }),
	text("status", func(d *store.Delivery) *store.DeliveryStatus { return &d.Status }),
	timestamp("next_attempt_at", func(d *store.Delivery) *time.Time { return &d.NextAttemptAt }),
	timestamp("created_at", func(d *store.Delivery) *time.Time { return &d.CreatedAt }),
	timestamp("replayed_at", func(d *store.Delivery) *time.Time { return &d.ReplayedAt }),
})

// leases is what LeaseDeliveries returns of a leased delivery's row: the delivery and its new
// fencing token.
var leases = newTable("deliveries", embedded(deliveries, func(l *store.Lease) *store.Delivery { return &l.Delivery }), []column[store.Lease]{
	plain("lease_token", "bigint", func(l *store.Lease) *int64 { return &l.Token }),
})

// leaseRow is a row of LeaseDeliveries' statement: a lease, and whether its delivery has
// attempts to load.
type leaseRow struct {
	store.Lease
	attempted bool
}

// leaseRows reads leaseStatement's rows; its column attempted is an expression that the
// statement names so.
var leaseRows = newTable("deliveries", embedded(leases, func(r *leaseRow) *store.Lease { return &r.Lease }), []column[leaseRow]{
	plain("attempted", "boolean", func(r *leaseRow) *bool { return &r.attempted }),
})

// attemptRow is one row of delivery_attempts: an attempt, numbered within its delivery from 1.
type attemptRow struct {
	DeliveryID uuid.UUID
	N          int
	store.Attempt
}

var attempts = newTable("delivery_attempts", []column[attemptRow]{
	uuidCol("delivery_id", false, func(a *attemptRow) *uuid.UUID { return &a.DeliveryID }),
	plain("n", "integer", func(a *attemptRow) *int { return &a.N }),
	timestamp("started_at", func(a *attemptRow) *time.Time { return &a.StartedAt }),
	timestamp("finished_at", func(a *attemptRow) *time.Time { return &a.FinishedAt }),
	plain("status_code", "integer", func(a *attemptRow) *int { return &a.StatusCode }),
	plain("response", "text", func(a *attemptRow) *string { return &a.Response }),
	plain("error", "text", func(a *attemptRow) *string { return &a.Error }),
})

// loadAttempts fills the Attempts of each delivery of ds with one query; at points into each
// element the delivery to fill.
func (s *Store) loadAttempts(ctx context.Context, db dbtx, ds []*store.Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	byID := make(map[uuid.UUID]*store.Delivery, len(ds))
	ids := make([]string, len(ds))
	for i, d := range ds {
		byID[d.ID] = d
		ids[i] = d.ID.String()
	}
	var w stmt
	w.sql("SELECT ", attempts.selected, " FROM ", s.prefix, "delivery_attempts WHERE delivery_id = ANY(",
		w.arg(textArray(ids), "uuid[]"), ") ORDER BY delivery_id, n")
	rows, err := list(ctx, db, attempts, &w)
	if err != nil {
		return err
	}
	for _, a := range rows {
		d := byID[a.DeliveryID]
		d.Attempts = append(d.Attempts, a.Attempt)
	}
	return nil
}

// withAttempts loads the attempts of the deliveries ds.
func (s *Store) withAttempts(ctx context.Context, db dbtx, ds []store.Delivery) error {
	ptrs := make([]*store.Delivery, len(ds))
	for i := range ds {
		ptrs[i] = &ds[i]
	}
	return s.loadAttempts(ctx, db, ptrs)
}

// readDelivery reads a delivery with its attempts.
func (s *Store) readDelivery(ctx context.Context, db dbtx, id uuid.UUID) (store.Delivery, error) {
	var w stmt
	w.sql("SELECT ", deliveries.selected, " FROM ", s.prefix, "deliveries WHERE id = ", w.arg(id, "uuid"))
	d, err := getRow(ctx, db, deliveries, &w)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Delivery{}, fmt.Errorf("pgstore: delivery %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Delivery{}, wrap(err, "get delivery %s", id)
	}
	return d, wrap(s.loadAttempts(ctx, db, []*store.Delivery{&d}), "get delivery %s: attempts", id)
}

// insertDeliveries writes, as a data-modifying CTE of w named name, the INSERT of the new
// deliveries ds, as insertCaused does: when guard names a CTE, only if that CTE has a row.
// Each is held if its endpoint is disabled (see Held deliveries in endpoints.go), which a
// probe of the endpoints' primary key tells. It writes nothing for no deliveries.
func insertDeliveries(w *stmt, p, name string, ds []store.Delivery, guard string) {
	if len(ds) == 0 {
		return
	}
	w.with(name)
	w.sql("INSERT INTO ", p, "deliveries (", deliveries.names, ", held) SELECT v.*, ", disabledEndpoint(p, "v.endpoint"), " FROM (")
	values(w, deliveries, ds)
	w.sql(") AS v (", deliveries.names, ")")
	if guard != "" {
		w.sql(" CROSS JOIN ", guard)
	}
	w.sql(")")
}

// disabledEndpoint returns the SQL condition that the endpoint named by the expression name
// is disabled: a probe of the endpoints' primary key. An endpoint with no row is enabled.
func disabledEndpoint(p, name string) string {
	return "EXISTS (SELECT FROM " + p + "endpoints AS e WHERE e.name = " + name + " AND e.disabled)"
}

// LeaseDeliveries implements [store.DeliveryStore] with one UPDATE over FOR UPDATE SKIP
// LOCKED subqueries: concurrent workers, in any number of processes, skip each other's rows
// instead of waiting for them, and each lease increments the delivery's fencing token.
//
// The deliveries it may lease are found in two places (see Held deliveries in
// endpoints.go), each in leasing order, and merged:
//
//   - the index deliveries_due, which holds the pending deliveries that are not held, walked
//     in leasing order: the deliveries of excluded endpoints and, by a probe of the
//     endpoints' primary key, of disabled ones (which are held, but for a race) are skipped
//     row by row;
//   - the index deliveries_held, by endpoint: a loose index scan (one probe per endpoint)
//     finds the endpoints that have held deliveries, and for each that is enabled and not
//     excluded, its oldest due ones are taken. An endpoint enabled again is one; a disabled
//     endpoint is skipped whole.
//
// So a lease costs the due deliveries it takes, plus the due deliveries of excluded
// endpoints that come before them in leasing order, plus a probe per endpoint with held
// deliveries: a disabled endpoint's backlog costs it nothing (see BenchmarkLeaseDeliveries).
// Each place locks at most Limit deliveries; those of them that the merge does not take are
// unlocked, untouched, when the statement commits.
func (s *Store) LeaseDeliveries(ctx context.Context, p store.LeaseParams) ([]store.Lease, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	now := store.NormalizeTime(p.Now)
	expires := store.NormalizeTime(p.Now.Add(p.LeaseFor))
	var out []store.Lease
	err := s.run(ctx, oneStatement, func(db dbtx) error {
		w := s.leaseStatement(p, now, expires)
		rows, err := list(ctx, db, leaseRows, w)
		if err != nil {
			return err
		}
		slices.SortFunc(rows, func(a, b leaseRow) int {
			return cmp.Or(a.Delivery.NextAttemptAt.Compare(b.Delivery.NextAttemptAt), slices.Compare(a.Delivery.ID[:], b.Delivery.ID[:]))
		})
		out = make([]store.Lease, len(rows))
		var ptrs []*store.Delivery // the deliveries with attempts: a first attempt has none to read
		for i := range rows {
			out[i] = rows[i].Lease
			out[i].ExpiresAt = expires
			if rows[i].attempted {
				ptrs = append(ptrs, &out[i].Delivery)
			}
		}
		return s.loadAttempts(ctx, db, ptrs)
	})
	if err != nil {
		return nil, wrap(err, "lease deliveries")
	}
	return out, nil
}

// leaseStatement returns the statement of LeaseDeliveries: leases expiring at expires of the
// deliveries due at now that p selects.
func (s *Store) leaseStatement(p store.LeaseParams, now, expires time.Time) *stmt {
	w := new(stmt)
	w.b.Grow(1800 + 9*len(s.prefix)) // about the statement's length, so that it grows once
	at := w.arg(now, "timestamptz")
	limit := w.arg(store.ListLimit(p.Limit, 10), "integer")
	excluded := func(string) string { return "" }
	if len(p.Exclude) > 0 {
		names := w.arg(quotedArray(p.Exclude), "text[]")
		excluded = func(col string) string { return " AND NOT " + col + " = ANY(" + names + ")" }
	}
	d := s.prefix + "deliveries"
	due := func(t string) string {
		return " AND " + t + ".next_attempt_at <= " + at + " AND (" + t + ".lease_expires_at IS NULL OR " + t + ".lease_expires_at <= " + at + ")"
	}
	// held_eps is every endpoint with held deliveries, and a NULL that ends the scan.
	w.sql("WITH RECURSIVE held_eps (endpoint) AS (",
		"(SELECT endpoint FROM ", d, " WHERE status = 'pending' AND held ORDER BY endpoint LIMIT 1)",
		" UNION ALL SELECT (SELECT h.endpoint FROM ", d, " AS h WHERE h.status = 'pending' AND h.held AND h.endpoint > held_eps.endpoint",
		" ORDER BY h.endpoint LIMIT 1) FROM held_eps WHERE held_eps.endpoint IS NOT NULL)")
	w.sql(" UPDATE ", d, " SET lease_token = lease_token + 1, lease_expires_at = ", w.arg(expires, "timestamptz"),
		" WHERE id IN (SELECT id FROM (",
		"SELECT * FROM (SELECT id, next_attempt_at FROM ", d, " AS u WHERE u.status = 'pending' AND NOT u.held", due("u"),
		" AND NOT ", disabledEndpoint(s.prefix, "u.endpoint"), excluded("u.endpoint"),
		" ORDER BY u.next_attempt_at, u.id LIMIT ", limit, " FOR UPDATE SKIP LOCKED) AS unheld",
		" UNION ALL SELECT held.id, held.next_attempt_at FROM held_eps CROSS JOIN LATERAL (SELECT id, next_attempt_at FROM ", d, " AS x",
		" WHERE x.endpoint = held_eps.endpoint AND x.status = 'pending' AND x.held", due("x"),
		" ORDER BY x.next_attempt_at, x.id LIMIT ", limit, " FOR UPDATE SKIP LOCKED) AS held",
		" WHERE held_eps.endpoint IS NOT NULL AND NOT ", disabledEndpoint(s.prefix, "held_eps.endpoint"), excluded("held_eps.endpoint"),
		") AS due ORDER BY next_attempt_at, id LIMIT ", limit, ") RETURNING ", leases.selected,
		", EXISTS (SELECT FROM ", s.prefix, "delivery_attempts AS a WHERE a.delivery_id = ", d, ".id) AS attempted")
	return w
}

// recorded is a row of RecordAttempt's statement: the delivery as the attempt leaves it, with
// one of its attempts. The two tables' columns have no name in common.
type recorded struct {
	Delivery store.Delivery
	Attempt  attemptRow
}

var recordedRows = newTable("deliveries",
	embedded(deliveries, func(r *recorded) *store.Delivery { return &r.Delivery }),
	embedded(attempts, func(r *recorded) *attemptRow { return &r.Attempt }))

// RecordAttempt implements [store.DeliveryStore] with one statement, atomic by itself, which
// costs one round trip:
//
//   - an UPDATE of the delivery checks the fencing token, the status and the lease's expiry
//     in its WHERE, which READ COMMITTED evaluates again on the latest version of the row
//     once it holds the row's lock, and writes the delivery's new status;
//   - only if it did, the attempt is inserted, numbered after the attempts the statement's
//     snapshot holds: an attempt is only recorded under the delivery's row lock, by the
//     holder of the current lease, and recording one ends the lease, so if the UPDATE matched,
//     no attempt was recorded since the lease was taken (before the statement began) and the
//     count is exact;
//   - only if it did, the endpoint's state is updated (see Endpoint state in endpoints.go),
//     with a write only when the attempt changes it, and the delivery's row locked first, in
//     the order DisableEndpoint locks them;
//   - the statement returns the delivery once for each of its attempts, the new one included.
//
// No row is an unknown delivery or a lost lease, which a read of the delivery tells apart. A
// retry is held if its endpoint is disabled, as the statement's snapshot reads it (see Held
// deliveries in endpoints.go).
func (s *Store) RecordAttempt(ctx context.Context, p store.RecordAttemptParams) (store.Delivery, error) {
	if err := p.Validate(); err != nil {
		return store.Delivery{}, err
	}
	a := p.Attempt.Normalize()
	var out store.Delivery
	err := s.run(ctx, oneStatement, func(db dbtx) error {
		var w stmt
		id := w.arg(p.DeliveryID, "uuid")
		finished := w.arg(a.FinishedAt, "timestamptz")
		next, held := "next_attempt_at", "false" // kept, unless the attempt schedules a retry
		if p.Status == store.DeliveryPending {
			next, held = w.arg(store.NormalizeTime(p.NextAttemptAt), "timestamptz"), disabledEndpoint(s.prefix, "d.endpoint")
		}
		w.with("u")
		w.sql("UPDATE ", s.prefix, "deliveries AS d SET status = ", w.arg(string(p.Status), "text"), ", next_attempt_at = ", next,
			", held = ", held, ", lease_expires_at = NULL WHERE id = ", id, " AND lease_token = ", w.arg(p.Token, "bigint"),
			" AND status = 'pending' AND lease_expires_at > ", finished, " RETURNING ", deliveries.selected, ")")
		w.with("a")
		insertInto(&w, s.prefix, attempts)
		w.sql("SELECT ")
		for i, c := range attempts.columns {
			if i > 0 {
				w.sql(", ")
			}
			if c.name == "n" {
				w.sql("(SELECT count(*) FROM ", s.prefix, "delivery_attempts AS x WHERE x.delivery_id = u.id) + 1")
			} else {
				w.sql("v.", c.name)
			}
		}
		w.sql(" FROM (")
		values(&w, attempts, []attemptRow{{DeliveryID: p.DeliveryID, Attempt: a}})
		w.sql(") AS v (", attempts.names, ") CROSS JOIN u RETURNING ", attempts.selected, ")")
		recordEndpointState(&w, s.prefix, "u", finished, p.Status == store.DeliveryDelivered)
		w.sql(" SELECT ", recordedRows.selected, " FROM u CROSS JOIN (SELECT ", attempts.selected, " FROM ", s.prefix,
			"delivery_attempts WHERE delivery_id = ", id, " UNION ALL SELECT ", attempts.selected, " FROM a) AS t ORDER BY t.n")
		rows, err := list(ctx, db, recordedRows, &w)
		if err != nil {
			return wrap(err, "record attempt of %s", p.DeliveryID)
		}
		if len(rows) == 0 {
			if _, err := s.readDelivery(ctx, db, p.DeliveryID); err != nil {
				return err
			}
			return fmt.Errorf("pgstore: delivery %s, lease %d: %w", p.DeliveryID, p.Token, store.ErrLeaseLost)
		}
		out = rows[0].Delivery
		out.Attempts = make([]store.Attempt, len(rows))
		for i, r := range rows {
			out.Attempts[i] = r.Attempt.Attempt
		}
		return nil
	})
	return out, err
}

// GetDelivery implements [store.DeliveryStore].
func (s *Store) GetDelivery(ctx context.Context, id uuid.UUID) (store.Delivery, error) {
	if id == uuid.Nil {
		return store.Delivery{}, fmt.Errorf("pgstore: get delivery: the zero ID: %w", store.ErrInvalid)
	}
	var d store.Delivery
	err := s.run(ctx, read, func(db dbtx) error {
		var err error
		d, err = s.readDelivery(ctx, db, id)
		return err
	})
	return d, err
}

// ListDeliveries implements [store.DeliveryStore].
func (s *Store) ListDeliveries(ctx context.Context, p store.ListDeliveriesParams) ([]store.Delivery, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	var out []store.Delivery
	err := s.run(ctx, read, func(db dbtx) error {
		var w stmt
		w.sql("SELECT ", deliveries.selected, " FROM ", s.prefix, "deliveries WHERE status = ", w.arg(string(p.Status), "text"))
		if p.Endpoint != "" {
			w.sql(" AND endpoint = ", w.arg(p.Endpoint, "text"))
		}
		w.page("created_at", p.After, time.Time{}, store.ListLimit(p.Limit, 100))
		var err error
		if out, err = list(ctx, db, deliveries, &w); err != nil {
			return err
		}
		return s.withAttempts(ctx, db, out)
	})
	if err != nil {
		return nil, wrap(err, "list deliveries")
	}
	return out, nil
}

// ListConversionDeliveries implements [store.DeliveryStore] on the index
// deliveries_conversion (conversion_id, created_at, id).
func (s *Store) ListConversionDeliveries(ctx context.Context, p store.ListConversionDeliveriesParams) ([]store.Delivery, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	var out []store.Delivery
	err := s.run(ctx, read, func(db dbtx) error {
		var w stmt
		w.sql("SELECT ", deliveries.selected, " FROM ", s.prefix, "deliveries WHERE conversion_id = ", w.arg(p.ConversionID, "uuid"))
		w.page("created_at", p.After, time.Time{}, store.ListLimit(p.Limit, 100))
		var err error
		if out, err = list(ctx, db, deliveries, &w); err != nil {
			return err
		}
		return s.withAttempts(ctx, db, out)
	})
	if err != nil {
		return nil, wrap(err, "list deliveries of conversion %s", p.ConversionID)
	}
	return out, nil
}

// ReplayDelivery implements [store.DeliveryStore].
func (s *Store) ReplayDelivery(ctx context.Context, p store.ReplayDeliveryParams) (store.Delivery, error) {
	if err := p.Validate(); err != nil {
		return store.Delivery{}, err
	}
	var out store.Delivery
	err := s.run(ctx, statements, func(db dbtx) error {
		var w stmt
		replayAt := w.arg(store.NormalizeTime(p.At), "timestamptz")
		w.sql("UPDATE ", s.prefix, "deliveries SET status = 'pending', next_attempt_at = ", replayAt, ", replayed_at = ", replayAt,
			", held = ", disabledEndpoint(s.prefix, "deliveries.endpoint"),
			", lease_expires_at = NULL WHERE id = ", w.arg(p.DeliveryID, "uuid"), " AND status = 'dead' RETURNING ", deliveries.selected)
		d, err := getRow(ctx, db, deliveries, &w)
		if errors.Is(err, sql.ErrNoRows) {
			if out, err = s.readDelivery(ctx, db, p.DeliveryID); err != nil {
				return err
			}
			return fmt.Errorf("pgstore: delivery %s is %s, only a dead delivery is replayed: %w", p.DeliveryID, out.Status, store.ErrConflict)
		}
		if err != nil {
			return wrap(err, "replay delivery %s", p.DeliveryID)
		}
		out = d
		return wrap(s.loadAttempts(ctx, db, []*store.Delivery{&out}), "replay delivery %s: attempts", p.DeliveryID)
	})
	return out, err
}

// ReplayDeliveries implements [store.DeliveryStore] with one UPDATE, on the index
// deliveries_endpoint_status_created: atomic by itself, so a concurrent reader sees all of
// them replayed or none; a concurrent replay of the same deliveries waits for its locks, then
// finds them no longer dead, so each is replayed once.
func (s *Store) ReplayDeliveries(ctx context.Context, p store.ReplayDeliveriesParams) (int, error) {
	if err := p.Validate(); err != nil {
		return 0, err
	}
	var n int64
	err := s.run(ctx, oneStatement, func(db dbtx) error {
		var w stmt
		replayAt := w.arg(store.NormalizeTime(p.At), "timestamptz")
		endpoint := w.arg(p.Endpoint, "text")
		w.sql("UPDATE ", s.prefix, "deliveries SET status = 'pending', next_attempt_at = ", replayAt, ", replayed_at = ", replayAt,
			", held = ", disabledEndpoint(s.prefix, endpoint),
			", lease_expires_at = NULL WHERE endpoint = ", endpoint, " AND status = 'dead'")
		if !p.CreatedBefore.IsZero() {
			w.sql(" AND created_at < ", w.arg(store.NormalizeTime(p.CreatedBefore), "timestamptz"))
		}
		res, err := w.exec(ctx, db)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, wrap(err, "replay deliveries of %q", p.Endpoint)
	}
	return int(n), nil
}
