package proctest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the driver the tests use

	"github.com/s2skit/s2s/internal/pgtest"
)

// Database creates a database of its own on the server that S2S_TEST_POSTGRES_URL names,
// dropped when t ends (with the sessions still on it), and returns its URL; it skips t
// when the variable is not set. It is for a program that keeps tables of its own beside
// s2s's, such as examples/operator: a whole database keeps them apart from every other
// test's. Databases are named s2s_test_db_<random>.
func Database(t testing.TB) string {
	t.Helper()
	base := os.Getenv(pgtest.EnvURL)
	if base == "" {
		t.Skipf("PostgreSQL not configured: set %s (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run this test; bash .ci/run does", pgtest.EnvURL)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("proctest: %s: %v", pgtest.EnvURL, err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "s2s_test_db_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("proctest: open %s: %v", pgtest.EnvURL, err)
	}
	t.Cleanup(func() { _ = admin.Close() })
	if _, err := admin.ExecContext(t.Context(), "CREATE DATABASE "+name); err != nil {
		t.Fatalf("proctest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("proctest: drop database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}
