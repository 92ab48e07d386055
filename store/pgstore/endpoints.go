package pgstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/s2skit/s2s/store"
)

// Endpoint state. An endpoint has a row in endpoints once the store knows it: its first
// recorded attempt or its first disabling inserts it, with INSERT ... ON CONFLICT DO UPDATE,
// which takes the row's lock, so that concurrent writers of one endpoint's state (attempts,
// disablings) wait for each other and each applies its change to the latest committed row
// (READ COMMITTED): no update is lost, and of concurrent disablings exactly one applies.
// RecordAttempt updates the row in the statement that records the attempt, and only when the
// attempt changes it (see recordEndpointState): an attempt that changes nothing takes no lock
// on it, so attempts of one endpoint that is failing already do not wait for each other, and
// those that change it hold its lock only for the end of their one statement and its commit.
// LeaseDeliveries reads it, without a lock, to skip the deliveries of disabled endpoints.
//
// Held deliveries. So that a disabled endpoint's backlog costs a lease nothing, its pending
// deliveries are held (deliveries.held): out of the index deliveries_due that a lease walks
// in leasing order, in deliveries_held, by endpoint. DisableEndpoint holds them; a delivery
// recorded (RecordConversion, ChangeStatus) or replayed for a disabled endpoint is held as
// it is written, and a retry takes the state its endpoint's row has in the snapshot of
// RecordAttempt's statement. EnableEndpoint leaves them held: the lease takes the held
// deliveries of enabled endpoints from deliveries_held, each endpoint's oldest first, merged
// with its walk of deliveries_due, and each is indexed as due again when its attempt is
// recorded.
//
// The flag is never trusted: it says where a pending delivery is indexed, not whether it may
// be leased, and the lease checks the endpoint's state wherever it finds a delivery. So the
// writes that set it take no lock for it, and a race leaves at worst a flag that no longer
// matches its endpoint: a delivery recorded, or a retry's attempt, while its endpoint is being
// disabled is not held (the lease walks over it, as it walked over every one before), and one
// recorded while its endpoint is being enabled is held (the lease finds it in
// deliveries_held). Neither is ever leased wrongly or left unleased.

var endpointStates = newTable("endpoints", []column[store.EndpointState]{
	plain("name", "text", func(e *store.EndpointState) *string { return &e.Name }),
	plain("disabled", "boolean", func(e *store.EndpointState) *bool { return &e.Disabled }),
	plain("reason", "text", func(e *store.EndpointState) *string { return &e.DisabledReason }),
	timestamp("disabled_at", func(e *store.EndpointState) *time.Time { return &e.DisabledAt }),
	timestamp("enabled_at", func(e *store.EndpointState) *time.Time { return &e.EnabledAt }),
	timestamp("last_success_at", func(e *store.EndpointState) *time.Time { return &e.LastSuccessAt }),
	timestamp("failing_since", func(e *store.EndpointState) *time.Time { return &e.FailingSince }),
})

// recordEndpointState writes, as data-modifying CTEs of w, the update of the state of the
// endpoint of the delivery that the CTE u returns, if it returns one, with an attempt that
// finished at finished (a placeholder), as [store.DeliveryStore.RecordAttempt] says: by
// FinishedAt, so that an attempt recorded late never moves the state back.
//
// It writes only what the attempt changes: a plain UPDATE whose WHERE says whether it changes
// the row, so that an attempt that changes nothing (a failure of an endpoint failing already,
// a success recorded after a later one) takes no lock on the row, and does not wait for the
// attempts that do. READ COMMITTED evaluates that WHERE again on the latest version of the
// row once it holds its lock, so no update is lost. An endpoint without a row in the
// statement's snapshot is inserted instead, with INSERT ... ON CONFLICT DO UPDATE, which
// applies the same change to the row that a concurrent first attempt inserted.
func recordEndpointState(w *stmt, p, u, finished string, delivered bool) {
	// set and changes are the change and the condition that it changes the row e.
	set := "failing_since = " + finished
	changes := "(e.last_success_at IS NULL OR " + finished + " > e.last_success_at)" +
		" AND (e.enabled_at IS NULL OR " + finished + " >= e.enabled_at)" +
		" AND (e.failing_since IS NULL OR " + finished + " < e.failing_since)"
	col := "failing_since"
	if delivered {
		set = "last_success_at = GREATEST(e.last_success_at, " + finished + "), failing_since = CASE WHEN e.failing_since > " + finished + " THEN e.failing_since END"
		changes = "(e.last_success_at IS NULL OR e.last_success_at < " + finished + " OR e.failing_since <= " + finished + ")"
		col = "last_success_at"
	}
	w.with("ep_new")
	w.sql("INSERT INTO ", p, "endpoints AS e (name, disabled, reason, ", col, ") SELECT ", u, ".endpoint, false, '', ", finished,
		" FROM ", u, " WHERE NOT EXISTS (SELECT FROM ", p, "endpoints AS x WHERE x.name = ", u, ".endpoint)",
		" ON CONFLICT (name) DO UPDATE SET ", set, " WHERE ", changes, ")")
	w.with("ep")
	w.sql("UPDATE ", p, "endpoints AS e SET ", set, " WHERE e.name = (SELECT endpoint FROM ", u, ") AND ", changes, ")")
}

// readEndpoint reads the state of an endpoint: enabled, with zero times, if it has no row.
func (s *Store) readEndpoint(ctx context.Context, db dbtx, name string) (store.EndpointState, error) {
	var w stmt
	w.sql("SELECT ", endpointStates.selected, " FROM ", s.prefix, "endpoints WHERE name = ", w.arg(name, "text"))
	e, err := getRow(ctx, db, endpointStates, &w)
	if errors.Is(err, sql.ErrNoRows) {
		return store.EndpointState{Name: name}, nil
	}
	return e, wrap(err, "get endpoint %q", name)
}

// GetEndpoint implements [store.EndpointStore].
func (s *Store) GetEndpoint(ctx context.Context, name string) (store.EndpointState, error) {
	if err := store.CheckLookupKey(name); err != nil {
		return store.EndpointState{}, fmt.Errorf("pgstore: get endpoint: %w", err)
	}
	var e store.EndpointState
	err := s.run(ctx, read, func(db dbtx) error {
		var err error
		e, err = s.readEndpoint(ctx, db, name)
		return err
	})
	return e, err
}

// ListEndpoints implements [store.EndpointStore], on the primary key, whose collation ("C")
// orders names by their bytes.
func (s *Store) ListEndpoints(ctx context.Context, p store.ListEndpointsParams) ([]store.EndpointState, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	var out []store.EndpointState
	err := s.run(ctx, read, func(db dbtx) error {
		var w stmt
		w.sql("SELECT ", endpointStates.selected, " FROM ", s.prefix, "endpoints WHERE name > ", w.arg(p.After, "text"),
			" ORDER BY name LIMIT ", w.arg(store.ListLimit(p.Limit, 100), "integer"))
		var err error
		out, err = list(ctx, db, endpointStates, &w)
		return err
	})
	if err != nil {
		return nil, wrap(err, "list endpoints")
	}
	return out, nil
}

// DisableEndpoint implements [store.EndpointStore] with one UPSERT that applies only to an
// enabled endpoint: of concurrent calls, the first to lock the row applies, and the others,
// waiting for its lock, then find the endpoint disabled. Before it, in the same transaction,
// an UPDATE holds the endpoint's pending deliveries (see Held deliveries above): a cost in the
// endpoint's backlog, paid once, so that no lease pays it. The deliveries' rows are locked
// before the endpoint's, in the order RecordAttempt locks them, so that the two never wait
// for each other in a cycle.
func (s *Store) DisableEndpoint(ctx context.Context, p store.DisableEndpointParams) (store.EndpointState, error) {
	if err := p.Validate(); err != nil {
		return store.EndpointState{}, err
	}
	var out store.EndpointState
	err := s.run(ctx, statements, func(db dbtx) error {
		var hold stmt
		hold.sql("UPDATE ", s.prefix, "deliveries SET held = true WHERE endpoint = ", hold.arg(p.Name, "text"),
			" AND status = 'pending' AND NOT held")
		if _, err := hold.exec(ctx, db); err != nil {
			return wrap(err, "disable endpoint %q: hold its deliveries", p.Name)
		}
		var w stmt
		w.sql("INSERT INTO ", s.prefix, "endpoints AS e (", endpointStates.names, ") ")
		values(&w, endpointStates, []store.EndpointState{{Name: p.Name, Disabled: true, DisabledReason: p.Reason, DisabledAt: store.NormalizeTime(p.At)}})
		w.sql(" ON CONFLICT (name) DO UPDATE SET disabled = true, reason = EXCLUDED.reason, disabled_at = EXCLUDED.disabled_at",
			" WHERE NOT e.disabled RETURNING ", endpointStates.selected)
		var err error
		out, err = getRow(ctx, db, endpointStates, &w)
		if errors.Is(err, sql.ErrNoRows) {
			if out, err = s.readEndpoint(ctx, db, p.Name); err != nil {
				return err
			}
			return fmt.Errorf("pgstore: endpoint %q is disabled already: %w", p.Name, store.ErrDuplicate)
		}
		return wrap(err, "disable endpoint %q", p.Name)
	})
	return out, err
}

// EnableEndpoint implements [store.EndpointStore] with one UPDATE that applies only to a
// disabled endpoint. Its held deliveries stay held, and are leased from deliveries_held (see
// Held deliveries above): enabling costs nothing in the endpoint's backlog.
func (s *Store) EnableEndpoint(ctx context.Context, p store.EnableEndpointParams) (store.EndpointState, error) {
	if err := p.Validate(); err != nil {
		return store.EndpointState{}, err
	}
	var out store.EndpointState
	err := s.run(ctx, oneStatement, func(db dbtx) error {
		var w stmt
		w.sql("UPDATE ", s.prefix, "endpoints SET disabled = false, reason = '', disabled_at = NULL, failing_since = NULL, enabled_at = ",
			w.arg(store.NormalizeTime(p.At), "timestamptz"), " WHERE name = ", w.arg(p.Name, "text"), " AND disabled RETURNING ", endpointStates.selected)
		var err error
		out, err = getRow(ctx, db, endpointStates, &w)
		if errors.Is(err, sql.ErrNoRows) {
			if out, err = s.readEndpoint(ctx, db, p.Name); err != nil {
				return err
			}
			return fmt.Errorf("pgstore: endpoint %q is enabled already: %w", p.Name, store.ErrDuplicate)
		}
		return wrap(err, "enable endpoint %q", p.Name)
	})
	return out, err
}

// arrayQuoter escapes an element of a quoted array literal.
var arrayQuoter = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

// quotedArray returns strings as a PostgreSQL array literal of quoted elements, for
// "= ANY($n::text[])": one parameter for any number of names, whatever their characters
// (store.CheckKey has refused control characters already).
func quotedArray(ss []string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, v := range ss {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		b.WriteString(arrayQuoter.Replace(v))
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}
