// Package pgtest gives a test a pgstore.Store on a PostgreSQL schema of its own, on the
// server that S2S_TEST_POSTGRES_URL names, and lets the test's subprocesses open the same
// schema. It is test code (CI's dependency policy keeps ...test packages out of production),
// so it may link the pgx driver.
//
//	st, _ := pgtest.Store(t) // skips t without S2S_TEST_POSTGRES_URL
//
// A test that runs several handles, or subprocesses, on one schema makes the schema first:
//
//	sch := pgtest.New(t)
//	st, _ := sch.Open(t) // a pool of its own, as another process would have
//	cmd.Env = append(os.Environ(), sch.Env()...)
//	...
//	st, _ := pgtest.FromEnv(t).Open(t) // in the subprocess
//
// Schemas are named s2s_test_pgtest_<random>, so that concurrent runs on one server never
// meet, and dropped when the test that made them ends; a schema of that name that outlives
// its run was left by a process that was killed.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the driver the tests use; production code brings its own

	"github.com/s2skit/s2s/store/pgstore"
)

// The environment variables pgtest reads.
const (
	// EnvURL points the tests at a PostgreSQL server, e.g.
	// postgres://postgres@127.0.0.1:5432/test?sslmode=disable. bash .ci/run sets it; without
	// it, the tests that need PostgreSQL skip.
	EnvURL = "S2S_TEST_POSTGRES_URL"
	// EnvSchema names the schema a subprocess opens with FromEnv; Schema.Env sets it.
	EnvSchema = "S2S_TEST_POSTGRES_SCHEMA"
)

// MaxConns is the size of the pool Open makes, open and idle: a pool that keeps fewer idle
// connections than it opens (database/sql keeps 2 by default) closes and reopens
// connections under load, which a benchmark would measure instead of the store.
const MaxConns = 20

// dropTimeout bounds the drop of a schema at cleanup, which waits for the locks of any
// session still using it.
const dropTimeout = time.Minute

// Schema is a migrated schema on the test server.
type Schema struct {
	// URL is the server's, from EnvURL.
	URL string
	// Name is the schema's.
	Name string
}

// New creates and migrates a new schema, dropped when t ends, or skips t when EnvURL is
// not set.
func New(t testing.TB) Schema {
	t.Helper()
	url := os.Getenv(EnvURL)
	if url == "" {
		t.Skipf("PostgreSQL not configured: set %s (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run this test on pgstore; bash .ci/run does", EnvURL)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	s := Schema{URL: url, Name: "s2s_test_pgtest_" + hex.EncodeToString(b)}
	db := open(t, url, 1)
	// Registered after db's Close, so it runs before it: cleanups run last first. It has a
	// context of its own, as t.Context() is cancelled before cleanups run.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), dropTimeout)
		defer cancel()
		if _, err := db.ExecContext(ctx, "DROP SCHEMA IF EXISTS "+s.Name+" CASCADE"); err != nil {
			t.Errorf("pgtest: drop schema %s: %v", s.Name, err)
		}
	})
	if err := pgstore.Migrate(t.Context(), db, &pgstore.MigrateOptions{Schema: s.Name}); err != nil {
		t.Fatalf("pgtest: migrate schema %s: %v", s.Name, err)
	}
	return s
}

// Store returns a store on a new schema of its own, dropped when t ends, and its pool; it
// skips t when EnvURL is not set. It is New(t).Open(t).
func Store(t testing.TB) (*pgstore.Store, *sql.DB) {
	t.Helper()
	return New(t).Open(t)
}

// Open returns a store on the schema and its pool, closed when t ends. Each call opens a
// pool of its own (MaxConns connections), as another process on the schema would.
func (s Schema) Open(t testing.TB) (*pgstore.Store, *sql.DB) {
	t.Helper()
	db := open(t, s.URL, MaxConns)
	st, err := pgstore.New(db, &pgstore.Options{Schema: s.Name})
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return st, db
}

// Env returns the environment a subprocess needs to open the schema with FromEnv, as
// "NAME=value" entries to append to exec.Cmd.Env.
func (s Schema) Env() []string {
	return []string{EnvURL + "=" + s.URL, EnvSchema + "=" + s.Name}
}

// FromEnv returns the schema that the parent process passed with Schema.Env. It fails t if
// there is none: only a subprocess started with that environment calls it. The schema
// stays the parent's, which drops it.
func FromEnv(t testing.TB) Schema {
	t.Helper()
	s := Schema{URL: os.Getenv(EnvURL), Name: os.Getenv(EnvSchema)}
	if s.URL == "" || s.Name == "" {
		t.Fatalf("pgtest: %s and %s must both be set (Schema.Env gives them); got %q and %q", EnvURL, EnvSchema, s.URL, s.Name)
	}
	return s
}

// open opens a pool of n connections on url, closed when t ends, and checks that the server
// answers.
func open(t testing.TB, url string, n int) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatalf("pgtest: open %s: %v", EnvURL, err)
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	t.Cleanup(func() { _ = db.Close() })
	if err := db.PingContext(t.Context()); err != nil {
		t.Fatalf("pgtest: cannot reach PostgreSQL at %s: %v", EnvURL, err)
	}
	return db
}
