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

// TestMain runs the tests, then proves that they left no schema behind: a schema named with
// this run's prefix that still exists is a leak, and fails the run (after dropping it, so the
// server stays clean for the next run).
//
// Without a server it runs nothing, and says so in a way that plain `go test ./...` shows:
// go test prints only the "ok" line of a passing package, but marks it "[no tests to run]"
// when the test binary reports that no test ran. So a developer without PostgreSQL sees
//
//	ok  	github.com/s2skit/s2s/store/pgstore	0.004s [no tests to run]
//
// rather than an "ok" that looks like a pass, and -v shows why.
func TestMain(m *testing.M) {
	if os.Getenv(envURL) == "" {
		fmt.Printf("PostgreSQL tests not run: set %s (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run them against a real server; bash .ci/run does\n", envURL)
		fmt.Println("testing: warning: no tests to run") // the line go test turns into "[no tests to run]"
		os.Exit(0)
	}
	code := m.Run()
	if err := dropLeftovers(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}

// dropLeftovers drops the schemas of this run that still exist, and returns an error naming
// them if there were any.
func dropLeftovers() error {
	url := os.Getenv(envURL)
	if url == "" {
		return nil
	}
	db, err := sql.Open("pgx", url)
	if err != nil {
		return fmt.Errorf("leak check: %w", err)
	}
	defer db.Close()
	ctx := context.Background()
	rows, err := db.QueryContext(ctx, "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1) ORDER BY nspname", runID)
	if err != nil {
		return fmt.Errorf("leak check: %w", err)
	}
	var left []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return fmt.Errorf("leak check: %w", err)
		}
		left = append(left, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("leak check: %w", err)
	}
	for _, s := range left {
		if _, err := db.ExecContext(ctx, "DROP SCHEMA "+s+" CASCADE"); err != nil {
			return fmt.Errorf("leak check: drop %s: %w", s, err)
		}
	}
	if len(left) > 0 {
		return fmt.Errorf("FAIL: the tests left %d schemas behind (now dropped): %v; a test's cleanup must drop what it creates, with a context that is not cancelled yet", len(left), left)
	}
	return nil
}

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
		t.Fatalf("%s is not set: TestMain runs no test without it", envURL)
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
	dropSchemaAtCleanup(t, db, schema)
	require.NoError(t, pgstore.Migrate(t.Context(), db, &pgstore.MigrateOptions{Schema: schema}))
	return schema
}

// dropSchemaAtCleanup drops schema, if it exists, when t ends. It runs with a context of its
// own: t.Context() is cancelled before cleanup functions run.
func dropSchemaAtCleanup(t testing.TB, db *sql.DB, schema string) {
	t.Helper()
	t.Cleanup(func() {
		if _, err := db.ExecContext(context.Background(), "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
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
