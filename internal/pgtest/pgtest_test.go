package pgtest_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/internal/pgtest"
	"github.com/s2skit/s2s/store"
)

// schemaExists reports whether the schema exists on the server.
func schemaExists(t *testing.T, db *sql.DB, name string) bool {
	t.Helper()
	var n int
	require.NoError(t, db.QueryRowContext(context.Background(), "SELECT count(*) FROM pg_namespace WHERE nspname = $1", name).Scan(&n))
	return n == 1
}

// TestNew: the schema is migrated (a store works on it, and two handles see each other's
// writes), and dropped when the test that made it ends.
func TestNew(t *testing.T) {
	var sch pgtest.Schema
	var other *sql.DB
	t.Run("inner", func(t *testing.T) {
		sch = pgtest.New(t)
		a, _ := sch.Open(t)
		b, db := sch.Open(t)
		require.NotSame(t, a, b, "rule: each Open is a handle of its own")
		other = db

		_, err := a.DisableEndpoint(t.Context(), store.DisableEndpointParams{Name: "aff-1", Reason: "test", At: time.Now()})
		require.NoError(t, err, "rule: the schema is migrated")
		got, err := b.GetEndpoint(t.Context(), "aff-1")
		require.NoError(t, err)
		require.True(t, got.Disabled, "rule: another handle on the schema sees the write")
		require.True(t, schemaExists(t, db, sch.Name))

		env := sch.Env()
		require.Contains(t, env, pgtest.EnvSchema+"="+sch.Name)
		require.Contains(t, env, pgtest.EnvURL+"="+sch.URL)
	})
	if sch.Name == "" {
		t.Skip("PostgreSQL not configured: the inner test skipped")
	}

	// The inner test's pools are closed now; a pool of our own checks what is left.
	db, err := sql.Open("pgx", sch.URL)
	require.NoError(t, err)
	defer db.Close()
	require.False(t, schemaExists(t, db, sch.Name), "rule: the schema is dropped when its test ends")
	require.Error(t, other.PingContext(t.Context()), "rule: the pools Open made are closed when the test ends")
}

// TestFromEnv: a subprocess given Schema.Env finds the same schema.
func TestFromEnv(t *testing.T) {
	sch := pgtest.New(t)
	for _, kv := range sch.Env() {
		k, v, ok := strings.Cut(kv, "=")
		require.True(t, ok, kv)
		t.Setenv(k, v)
	}
	require.Equal(t, sch, pgtest.FromEnv(t))
}
