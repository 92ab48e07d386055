package pgstore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the driver the tests use; production code brings its own
	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/store"
	"github.com/s2skit/s2s/store/pgstore"
	"github.com/s2skit/s2s/store/storetest"
)

// envURL names the variable that points the tests at a PostgreSQL server, e.g.
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable. bash .ci/run sets it.
const envURL = "S2S_TEST_POSTGRES_URL"

// runID prefixes every schema this test run creates, so that concurrent runs on one server
// never meet, and so that leftovers of a killed run are recognisable.
var (
	runID   = newRunID()
	schemas atomic.Int64
)

func newRunID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return "s2s_test_" + hex.EncodeToString(b)
}

// openDB opens a pool on the test server, or skips the test when none is configured.
func openDB(t testing.TB) *sql.DB {
	t.Helper()
	url := os.Getenv(envURL)
	if url == "" {
		t.Skipf("PostgreSQL tests skipped: set %s (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run them against a real server; bash .ci/run does", envURL)
	}
	db, err := sql.Open("pgx", url)
	require.NoError(t, err)
	db.SetMaxOpenConns(20)
	t.Cleanup(func() { _ = db.Close() })
	require.NoError(t, db.PingContext(t.Context()), "cannot reach PostgreSQL at %s", envURL)
	return db
}

// newSchema migrates a new schema of its own for t, and drops it when t ends.
func newSchema(t testing.TB, db *sql.DB) string {
	t.Helper()
	schema := fmt.Sprintf("%s_%d", runID, schemas.Add(1))
	require.NoError(t, pgstore.Migrate(t.Context(), db, &pgstore.MigrateOptions{Schema: schema}))
	t.Cleanup(func() {
		_, err := db.ExecContext(context.WithoutCancel(t.Context()), "DROP SCHEMA "+schema+" CASCADE")
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return schema
}

func newStore(t testing.TB, db *sql.DB, schema string) *pgstore.Store {
	t.Helper()
	st, err := pgstore.New(db, &pgstore.Options{Schema: schema})
	require.NoError(t, err)
	return st
}

// schemaOf remembers the schema of each store the harness made, for Reopen.
var (
	schemaMu sync.Mutex
	schemaOf = map[store.Store]string{}
)

func TestConformance(t *testing.T) {
	db := openDB(t)
	other := openDB(t) // a second pool: a second process, for the concurrency rules
	storetest.Run(t, storetest.Harness{
		NewStore: func(t *testing.T) store.Store {
			schema := newSchema(t, db)
			st := newStore(t, db, schema)
			schemaMu.Lock()
			schemaOf[st] = schema
			schemaMu.Unlock()
			return st
		},
		Reopen: func(t *testing.T, s store.Store) store.Store {
			schemaMu.Lock()
			schema := schemaOf[s]
			schemaMu.Unlock()
			return newStore(t, other, schema)
		},
	})
}
