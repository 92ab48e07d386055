package pgstore_test

import (
	"database/sql"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/store"
	"github.com/s2skit/s2s/store/pgstore"
)

// heldTest is a schema for TestHeld: its store, and SQL on its deliveries.
type heldTest struct {
	t      *testing.T
	db     *sql.DB
	schema string
	st     *pgstore.Store
}

// record records a conversion that causes one delivery to endpoint, due at due.
func (h heldTest) record(endpoint string, due time.Time) uuid.UUID {
	h.t.Helper()
	p := recordParams(uuid.NewString())
	p.Deliveries[0].Endpoint, p.Deliveries[0].NextAttemptAt = endpoint, due
	record(h.t, h.st, p)
	return p.Deliveries[0].ID
}

// held reports whether the delivery is held.
func (h heldTest) held(id uuid.UUID) bool {
	h.t.Helper()
	var held bool
	require.NoError(h.t, h.db.QueryRowContext(h.t.Context(), "SELECT held FROM "+h.schema+".deliveries WHERE id = $1", id).Scan(&held))
	return held
}

// setHeld sets the held flag of a delivery, as a write racing an endpoint's disabling or
// enabling can leave it.
func (h heldTest) setHeld(id uuid.UUID, held bool) {
	h.t.Helper()
	_, err := h.db.ExecContext(h.t.Context(), "UPDATE "+h.schema+".deliveries SET held = $2 WHERE id = $1", id, held)
	require.NoError(h.t, err)
}

// lease leases every delivery due at now, for an hour, and returns their IDs in leasing order.
func (h heldTest) lease(now time.Time, exclude ...string) []uuid.UUID {
	h.t.Helper()
	ls, err := h.st.LeaseDeliveries(h.t.Context(), store.LeaseParams{Now: now, LeaseFor: time.Hour, Limit: 100, Exclude: exclude})
	require.NoError(h.t, err)
	ids := make([]uuid.UUID, len(ls))
	for i, l := range ls {
		ids[i] = l.Delivery.ID
	}
	return ids
}

// attempt records a failed attempt under l that finished at finished: a retry due a minute
// later, or dead.
func (h heldTest) attempt(l store.Lease, finished time.Time, status store.DeliveryStatus) {
	h.t.Helper()
	p := store.RecordAttemptParams{DeliveryID: l.Delivery.ID, Token: l.Token, Status: status,
		Attempt: store.Attempt{StartedAt: finished.Add(-time.Second), FinishedAt: finished, StatusCode: http.StatusServiceUnavailable}}
	if status == store.DeliveryPending {
		p.NextAttemptAt = finished.Add(time.Minute)
	}
	_, err := h.st.RecordAttempt(h.t.Context(), p)
	require.NoError(h.t, err)
}

// TestHeld_Writes checks where the pending deliveries of a disabled endpoint are kept (see
// Held deliveries in endpoints.go), which the conformance suite cannot see: every write made
// while their endpoint is disabled holds them, out of the index that leases walk, and no
// other write does; enabling leaves them held, and the lease takes them in their turn.
func TestHeld_Writes(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	schema := newSchema(t, db)
	h := heldTest{t: t, db: db, schema: schema, st: newStore(t, db, schema)}
	ctx := t.Context()

	retried, inFlight, dead, deadToo := h.record("down", t0), h.record("down", t0), h.record("down", t0), h.record("down", t0)
	ls, err := h.st.LeaseDeliveries(ctx, store.LeaseParams{Now: t0, LeaseFor: time.Hour})
	require.NoError(t, err)
	require.Len(t, ls, 4)
	byID := map[uuid.UUID]store.Lease{}
	for _, l := range ls {
		byID[l.Delivery.ID] = l
	}
	h.attempt(byID[retried], t0.Add(time.Second), store.DeliveryPending)
	h.attempt(byID[dead], t0.Add(time.Second), store.DeliveryDead)
	h.attempt(byID[deadToo], t0.Add(time.Second), store.DeliveryDead)
	require.False(t, h.held(retried), "a retry of an enabled endpoint is not held")

	_, err = h.st.DisableEndpoint(ctx, store.DisableEndpointParams{Name: "down", Reason: "410 Gone", At: t0.Add(2 * time.Second)})
	require.NoError(t, err)
	require.True(t, h.held(retried), "DisableEndpoint holds the endpoint's pending deliveries")
	require.True(t, h.held(inFlight), "DisableEndpoint holds the endpoint's pending deliveries, leased or not")
	require.False(t, h.held(dead), "DisableEndpoint holds no dead delivery")
	h.attempt(byID[inFlight], t0.Add(3*time.Second), store.DeliveryPending)
	require.True(t, h.held(inFlight), "a retry of a disabled endpoint is held")
	_, err = h.st.ReplayDelivery(ctx, store.ReplayDeliveryParams{DeliveryID: dead, At: t0.Add(4 * time.Second)})
	require.NoError(t, err)
	require.True(t, h.held(dead), "a replay of a disabled endpoint's delivery is held")
	n, err := h.st.ReplayDeliveries(ctx, store.ReplayDeliveriesParams{Endpoint: "down", At: t0.Add(4 * time.Second)})
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.True(t, h.held(deadToo), "the replays of ReplayDeliveries of a disabled endpoint are held")
	late := h.record("down", t0.Add(-time.Minute))
	require.True(t, h.held(late), "a delivery recorded for a disabled endpoint is held")
	up := h.record("up", t0.Add(time.Minute))
	require.False(t, h.held(up), "a delivery recorded for an enabled endpoint is not held")

	now := t0.Add(2 * time.Hour)
	require.Equal(t, []uuid.UUID{up}, h.lease(now), "a disabled endpoint's held deliveries are not leased")
	_, err = h.st.EnableEndpoint(ctx, store.EnableEndpointParams{Name: "down", At: now})
	require.NoError(t, err)
	require.True(t, h.held(late), "EnableEndpoint leaves the endpoint's deliveries held")
	require.Empty(t, h.lease(now, "down"), "an excluded endpoint's held deliveries are not leased")
	replays := []uuid.UUID{dead, deadToo} // both due at t0+4s: by ID
	slices.SortFunc(replays, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
	require.Equal(t, append(append([]uuid.UUID{late}, replays...), retried, inFlight), h.lease(now),
		"an enabled endpoint's held deliveries are leased, oldest due first")
	ls, err = h.st.LeaseDeliveries(ctx, store.LeaseParams{Now: now.Add(time.Hour), LeaseFor: time.Hour, Limit: 1})
	require.NoError(t, err)
	require.Equal(t, late, ls[0].Delivery.ID, "the oldest due is leased first")
	h.attempt(ls[0], now.Add(time.Hour), store.DeliveryPending)
	require.False(t, h.held(late), "a retry of an endpoint enabled again is no longer held")
}

// TestHeld_IsAHint checks that the flag is only a hint: a lease never leases a disabled
// endpoint's delivery that is not held, and leases an enabled endpoint's held delivery in its
// turn, as writes that race an endpoint's disabling or enabling can leave them.
func TestHeld_IsAHint(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	schema := newSchema(t, db)
	h := heldTest{t: t, db: db, schema: schema, st: newStore(t, db, schema)}
	stray := h.record("gone", t0)
	_, err := h.st.DisableEndpoint(t.Context(), store.DisableEndpointParams{Name: "gone", Reason: "410 Gone", At: t0})
	require.NoError(t, err)
	h.setHeld(stray, false)
	early := h.record("fine", t0.Add(-time.Hour))
	h.setHeld(early, true)
	other := h.record("other", t0)
	require.Equal(t, []uuid.UUID{other}, h.lease(t0, "fine"), "a disabled endpoint's delivery that is not held is not leased, nor an excluded endpoint's held one")
	require.Equal(t, []uuid.UUID{early}, h.lease(t0), "an enabled endpoint's held delivery is leased")
}

// explainLease runs the statement of LeaseDeliveries for p under EXPLAIN (ANALYZE, BUFFERS),
// in a transaction that it rolls back, and returns the plan and the shared buffers that
// finding the deliveries to lease touched (every node under the UPDATE, which then writes
// the leases): what the lease's search costs, however loaded the machine is.
func explainLease(t *testing.T, db *sql.DB, st *pgstore.Store, p store.LeaseParams) (plan string, buffers int) {
	t.Helper()
	q, args := st.LeaseStatement(p)
	tx, err := db.BeginTx(t.Context(), nil)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback() }()
	var js string
	require.NoError(t, tx.QueryRowContext(t.Context(), "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) "+q, args...).Scan(&js))
	type node struct {
		Type  string `json:"Node Type"`
		Hit   int    `json:"Shared Hit Blocks"`
		Read  int    `json:"Shared Read Blocks"`
		Plans []node
	}
	var out []struct{ Plan node }
	require.NoError(t, json.Unmarshal([]byte(js), &out))
	require.Len(t, out, 1)
	require.Equal(t, "ModifyTable", out[0].Plan.Type, "the lease is an UPDATE")
	for _, n := range out[0].Plan.Plans {
		buffers += n.Hit + n.Read
	}
	return js, buffers
}

// TestLeaseDeliveries_DisabledBacklogCostsNothing checks, by the buffers that the lease's
// search touches, that a lease of 10 due deliveries behind 20,000 due deliveries of a
// disabled endpoint, recorded after it was disabled, costs what it costs when the 20,000 are
// due after them, in the same table; and behind 20,000 recorded before it was disabled, at
// most a buffer per heap page of them, until vacuum runs.
func TestLeaseDeliveries_DisabledBacklogCostsNothing(t *testing.T) {
	t.Parallel()
	const backlog, pending = 20_000, 10
	due := t0.Add(time.Hour) // when the 10 are due; the backlog is due from t0 on, or from t0+2h
	// insert inserts the backlog with a raw INSERT.
	insert := func(t *testing.T, db *sql.DB, schema, endpoint string, from time.Time) {
		_, err := db.ExecContext(t.Context(), "INSERT INTO "+schema+`.deliveries (id, endpoint, method, url, status, next_attempt_at, created_at)
			SELECT gen_random_uuid(), $3, 'GET', 'https://t.example/pb', 'pending', $1::timestamptz + i * interval '1 millisecond', $1
			FROM generate_series(1, $2::integer) AS i`, from, backlog, endpoint)
		require.NoError(t, err)
	}
	disable := func(t *testing.T, st *pgstore.Store) {
		_, err := st.DisableEndpoint(t.Context(), store.DisableEndpointParams{Name: "down", Reason: "410 Gone", At: t0})
		require.NoError(t, err)
	}
	cost := func(t *testing.T, setup func(st *pgstore.Store, db *sql.DB, schema string)) int {
		db := openDB(t)
		schema := newSchema(t, db)
		st := newStore(t, db, schema)
		setup(st, db, schema)
		p := recordParams(uuid.NewString())
		p.Deliveries = nil
		for range pending {
			p.Deliveries = append(p.Deliveries, store.Delivery{ID: uuid.New(), ConversionID: p.Conversion.ID, Endpoint: "e", Method: http.MethodGet,
				URL: "https://t.example/pb", Status: store.DeliveryPending, NextAttemptAt: due, CreatedAt: t0})
		}
		record(t, st, p)
		_, err := db.ExecContext(t.Context(), "VACUUM ANALYZE "+schema+".deliveries")
		require.NoError(t, err)
		plan, buffers := explainLease(t, db, st, store.LeaseParams{Now: due, LeaseFor: time.Minute, Limit: pending})
		t.Logf("%d buffers:\n%s", buffers, plan)
		return buffers
	}
	later := cost(t, func(_ *pgstore.Store, db *sql.DB, schema string) { insert(t, db, schema, "later", due.Add(time.Hour)) })
	before := cost(t, func(st *pgstore.Store, db *sql.DB, schema string) {
		insert(t, db, schema, "down", t0)
		disable(t, st)
	})
	after := cost(t, func(st *pgstore.Store, _ *sql.DB, _ string) {
		disable(t, st)
		for i := range backlog / store.MaxLines {
			p := recordParams(uuid.NewString())
			p.Deliveries = make([]store.Delivery, store.MaxLines)
			for j := range p.Deliveries {
				p.Deliveries[j] = store.Delivery{ID: uuid.New(), ConversionID: p.Conversion.ID, Endpoint: "down", Method: http.MethodGet,
					URL: "https://t.example/pb", Status: store.DeliveryPending, NextAttemptAt: t0.Add(time.Duration(i*store.MaxLines+j) * time.Millisecond), CreatedAt: t0}
			}
			record(t, st, p)
		}
	})
	// A few buffers more: the probes of the index of held deliveries that find the disabled
	// endpoint, and skip it (9), and the visibility map's pages, which locking the 10 rows
	// touches when vacuum could mark their pages all-visible, and on a shared server may
	// not have in one case and have in another (10).
	const slack = 32
	require.LessOrEqual(t, after, later+slack, "a disabled endpoint's backlog, recorded while it was disabled, costs a lease nothing")
	// Holding the backlog leaves its old versions in deliveries_due until vacuum removes
	// them, which it cannot while a transaction older than the hold runs (on a shared server,
	// anyone's): a lease then visits each heap page of them once, about 50 deliveries a page,
	// where a walk over the backlog, not held, reads two buffers a delivery.
	require.LessOrEqual(t, before, later+slack+backlog/30, "a disabled endpoint's backlog, recorded before it was disabled, costs a lease nothing but, until vacuum removes the old versions that the hold left, a buffer per page of them")
}
