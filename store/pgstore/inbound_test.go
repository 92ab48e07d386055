package pgstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/store"
)

// roundTrips is a pgx tracer that records the statements a pool's connections send and the
// statements they prepare, each a round trip to the server.
type roundTrips struct {
	mu       sync.Mutex
	queries  []string
	prepares int
}

func (r *roundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.queries = append(r.queries, data.SQL)
	return ctx
}

func (r *roundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (r *roundTrips) TracePrepareStart(ctx context.Context, _ *pgx.Conn, _ pgx.TracePrepareStartData) context.Context {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.prepares++
	return ctx
}

func (r *roundTrips) TracePrepareEnd(context.Context, *pgx.Conn, pgx.TracePrepareEndData) {}

// take returns the statements sent and prepared since the last take, and forgets them.
func (r *roundTrips) take() (queries []string, prepares int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	queries, prepares = r.queries, r.prepares
	r.queries, r.prepares = nil, 0
	return queries, prepares
}

// tracedDB opens a pool of one connection on the test server whose statements rt records.
func tracedDB(t *testing.T, rt *roundTrips) *sql.DB {
	t.Helper()
	cfg, err := pgx.ParseConfig(os.Getenv(envURL))
	require.NoError(t, err)
	cfg.Tracer = rt
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// TestLogInbound_OneRoundTrip: a record of the inbound log, written once per postback, costs
// one statement and one round trip (once the statement is prepared on the connection), in no
// transaction of its own; only a duplicate costs a second, to read the stored record.
func TestLogInbound_OneRoundTrip(t *testing.T) {
	t.Parallel()
	admin := openDB(t)
	schema := newSchema(t, admin)
	rt := &roundTrips{}
	st := newStore(t, tracedDB(t, rt), schema)
	record := func(at time.Time) store.InboundRecord {
		return store.InboundRecord{ID: uuid.New(), ReceivedAt: at, Source: "net", Method: "GET", Outcome: "accepted", HTTPStatus: 202,
			Params: "clickid=x&sig=REDACTED", ConversionID: uuid.New(), Duration: time.Millisecond}
	}
	require.NoError(t, st.LogInbound(t.Context(), record(t0))) // prepares the statement on the connection
	rt.take()

	for i := range 5 {
		require.NoError(t, st.LogInbound(t.Context(), record(t0.Add(time.Duration(i)*time.Second))))
		queries, prepares := rt.take()
		require.Len(t, queries, 1, "LogInbound sends one statement: %q", queries)
		require.Zero(t, prepares, "LogInbound sends a statement prepared before: one round trip")
		require.True(t, strings.HasPrefix(queries[0], "INSERT INTO"), "LogInbound's one statement is its INSERT, in no transaction: %q", queries[0])
	}
	dup := record(t0)
	require.NoError(t, st.LogInbound(t.Context(), dup))
	rt.take()
	require.ErrorIs(t, st.LogInbound(t.Context(), dup), store.ErrDuplicate)
	queries, _ := rt.take()
	require.Len(t, queries, 2, "a duplicate costs the INSERT and the read of the stored record: %q", queries)
}

// TestPruneInbound_Batches prunes a log of 25,000 old records and a few new ones: three
// DELETEs of at most 10,000 rows, each a statement of its own on the pool (no transaction),
// which delete the old records and keep the new.
func TestPruneInbound_Batches(t *testing.T) {
	t.Parallel()
	admin := openDB(t)
	schema := newSchema(t, admin)
	const old, fresh = 25_000, 3
	_, err := admin.ExecContext(t.Context(), fmt.Sprintf(`INSERT INTO %s.inbound_log (id, received_at, source, method, outcome, reason, http_status, params, duration_ns)
		SELECT gen_random_uuid(), $1::timestamptz - i * interval '1 second', 'net', 'GET', 'accepted', '', 202, '', 1000 FROM generate_series(1, %d) i`, schema, old), t0)
	require.NoError(t, err)
	rt := &roundTrips{}
	st := newStore(t, tracedDB(t, rt), schema)
	for i := range fresh {
		require.NoError(t, st.LogInbound(t.Context(), store.InboundRecord{ID: uuid.New(), ReceivedAt: t0.Add(time.Duration(i) * time.Second), Outcome: "rejected"}))
	}
	rt.take()

	n, err := st.PruneInbound(t.Context(), store.PruneInboundParams{Before: t0})
	require.NoError(t, err)
	require.Equal(t, old, n, "PruneInbound deletes every record before Before")
	queries, _ := rt.take()
	require.Len(t, queries, 3, "25,000 records are deleted in 3 statements of at most 10,000: %q", queries)
	for _, q := range queries {
		require.True(t, strings.HasPrefix(q, "DELETE"), "each step of a prune is a DELETE of its own, in no transaction: %q", q)
	}
	var left int
	require.NoError(t, admin.QueryRowContext(t.Context(), "SELECT count(*) FROM "+schema+".inbound_log").Scan(&left))
	require.Equal(t, fresh, left, "PruneInbound keeps the records received at Before and after")

	// A canceled context stops a prune before its first statement, having deleted nothing.
	canceled, cancel := context.WithCancel(t.Context())
	cancel()
	n, err = st.PruneInbound(canceled, store.PruneInboundParams{Before: t0.Add(time.Hour)})
	require.ErrorIs(t, err, context.Canceled)
	require.Zero(t, n)
}
