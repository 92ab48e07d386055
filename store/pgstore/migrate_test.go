package pgstore_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/store"
	"github.com/s2skit/s2s/store/pgstore"
)

// golangMigrateName is golang-migrate's grammar of a migration file's name
// (source.Regex in github.com/golang-migrate/migrate/v4/source/parse.go): version, title,
// direction, extension.
var golangMigrateName = regexp.MustCompile(`^([0-9]+)_(.*)\.(down|up)\.(.*)$`)

// migrationFile is one file of pgstore.Migrations, as golang-migrate reads its name.
type migrationFile struct {
	name    string
	version uint64
	up      bool
	sql     string
}

// migrationFiles reads pgstore.Migrations, checking every name against golang-migrate's
// grammar, and returns the up files in ascending version order and the down files in
// descending order: the order in which golang-migrate applies them.
func migrationFiles(t *testing.T) (ups, downs []migrationFile) {
	t.Helper()
	entries, err := fs.ReadDir(pgstore.Migrations(), ".")
	require.NoError(t, err)
	require.NotEmpty(t, entries)
	for _, e := range entries {
		m := golangMigrateName.FindStringSubmatch(e.Name())
		require.NotNil(t, m, "%s follows golang-migrate's grammar NNNN_title.(up|down).ext", e.Name())
		v, err := strconv.ParseUint(m[1], 10, 64)
		require.NoError(t, err, "%s: the version is an unsigned integer, as golang-migrate parses it", e.Name())
		require.Equal(t, "sql", m[4], "%s: plain SQL", e.Name())
		b, err := fs.ReadFile(pgstore.Migrations(), e.Name())
		require.NoError(t, err)
		f := migrationFile{name: e.Name(), version: v, up: m[3] == "up", sql: string(b)}
		if f.up {
			ups = append(ups, f)
		} else {
			downs = append(downs, f)
		}
	}
	slices.SortFunc(ups, func(a, b migrationFile) int { return int(a.version) - int(b.version) })
	slices.SortFunc(downs, func(a, b migrationFile) int { return int(b.version) - int(a.version) })
	return ups, downs
}

// TestMigrations_Files checks the files against what golang-migrate requires and what pgstore
// promises of them: golang-migrate's names, one up and one down file per version, versions
// 1, 2, 3... (golang-migrate refuses a version given twice), plain SQL with unqualified names
// and none of another tool's annotations.
func TestMigrations_Files(t *testing.T) {
	t.Parallel()
	ups, downs := migrationFiles(t)
	require.Len(t, downs, len(ups), "every version has an up and a down file")
	for i, up := range ups {
		require.Equal(t, uint64(i+1), up.version, "%s: versions are 1, 2, 3, ... with no gap or repeat", up.name)
		down := downs[len(downs)-1-i]
		require.Equal(t, up.version, down.version, "%s has its down file", up.name)
		require.Equal(t, strings.TrimSuffix(up.name, ".up.sql"), strings.TrimSuffix(down.name, ".down.sql"), "an up and its down file share their title")
	}
	for _, f := range append(ups, downs...) {
		require.NotContains(t, f.sql, "s2s.", "%s uses unqualified names, for any schema", f.name)
		require.NotContains(t, f.sql, "+goose", "%s carries no goose annotation", f.name)
		require.NotContains(t, strings.ToUpper(sqlWithoutComments(f.sql)), "SEARCH_PATH", "%s leaves search_path to whoever applies it", f.name)
	}
}

// sqlWithoutComments returns the SQL text q without its -- comments.
func sqlWithoutComments(q string) string {
	var b strings.Builder
	for line := range strings.Lines(q) {
		code, _, _ := strings.Cut(line, "--")
		b.WriteString(code)
	}
	return b.String()
}

// applier creates schema, dropped when t ends, and returns a func that applies migration files
// to it as golang-migrate does: each file's whole text in one plain ExecContext, on a
// connection whose search_path is the schema.
func applier(t *testing.T, db *sql.DB, schema string) func([]migrationFile) {
	t.Helper()
	dropSchemaAtCleanup(t, db, schema)
	_, err := db.ExecContext(t.Context(), "CREATE SCHEMA "+schema)
	require.NoError(t, err)
	conn, err := db.Conn(t.Context())
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	_, err = conn.ExecContext(t.Context(), "SET search_path TO "+schema)
	require.NoError(t, err)
	return func(files []migrationFile) {
		t.Helper()
		for _, f := range files {
			_, err := conn.ExecContext(t.Context(), f.sql)
			require.NoError(t, err, "%s applies with a plain ExecContext", f.name)
		}
	}
}

// TestMigrations_AppliedByAnotherTool applies the files as golang-migrate does (each file's
// whole text in one ExecContext, with search_path set to the schema: ups ascending, downs
// descending) and checks that the ups build the schema Migrate builds, that the downs leave
// the schema empty, and that the ups apply again after them.
func TestMigrations_AppliedByAnotherTool(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	ups, downs := migrationFiles(t)
	want := catalog(t, db, newSchema(t, db))

	schema := runID + "_plain"
	apply := applier(t, db, schema)

	apply(ups)
	require.Equal(t, want, catalog(t, db, schema), "the up files build the schema that Migrate builds")
	apply(downs)
	require.Empty(t, catalog(t, db, schema), "the down files, in reverse order, leave the schema empty")
	apply(ups)
	require.Equal(t, want, catalog(t, db, schema), "the up files apply again after the downs")
}

// TestMigrations_LedgerLineColumns moves a ledger line across migration 4, which takes the
// lines that version 3 kept whole as JSON into typed columns: a line written as version 3
// wrote it reads back equal through pgstore after the up file, and the down file rebuilds the
// JSON that version 3 reads.
func TestMigrations_LedgerLineColumns(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	ups, downs := migrationFiles(t)
	require.GreaterOrEqual(t, len(ups), 4)
	schema := runID + "_v3"
	apply := applier(t, db, schema)
	apply(ups[:3])

	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	l := store.LedgerLine{ID: uuid.New(), CreatedAt: at.Add(time.Minute), Line: commission.Line{
		Kind: commission.KindAccrual, Rule: commission.RuleRevShare, Plan: "vip", AffiliateID: "aff-1", PlayerID: "p-1",
		EventID: "e-1", Reverses: "e-0", At: at, Payable: at.Add(24 * time.Hour),
		Period: commission.Period{Start: at.AddDate(0, -1, 0), End: at},
		Amount: money.New(-1234, money.EUR), Base: money.New(567891, money.EUR), Rate: money.MustParseRate("0.350"),
		Tier: 2, Level: 1, Mode: money.HalfUp,
		FX: &money.ExchangeRate{From: money.USD, To: money.EUR, Rate: money.MustParseRate("0.9123"), Source: "ECB", At: at},
		Detail: commission.Detail{Country: "MT", Players: 3, NGR: money.New(0, money.EUR),
			RevShare: &commission.RevShare{Tiers: []commission.RateTier{{From: money.New(0, money.EUR), Rate: money.MustParseRate("25%")}}}},
	}}
	line, err := json.Marshal(l.Line)
	require.NoError(t, err)
	// The row as version 3 wrote it.
	_, err = db.ExecContext(t.Context(), `INSERT INTO `+schema+`.ledger_lines (id, affiliate_id, kind, amount_minor, currency, rule, detail,
		period_start, period_end, created_at, line, statement_at) VALUES ($1, $2, $3, $4, $5, $6, '', $7, $8, $9, $10, $11)`,
		l.ID.String(), l.AffiliateID, l.Kind.String(), l.Amount.Minor(), "EUR", l.Rule.String(), l.Period.Start, l.Period.End,
		l.CreatedAt, string(line), l.StatementTime())
	require.NoError(t, err)

	apply(ups[3:4])
	st := newStore(t, db, schema)
	for _, by := range []store.LedgerTime{store.ByCreatedAt, store.ByStatementTime} {
		got, err := st.ListLedgerLines(t.Context(), store.ListLedgerLinesParams{AffiliateID: "aff-1", By: by,
			From: at.AddDate(0, -2, 0), To: at.AddDate(0, 1, 0)})
		require.NoError(t, err)
		require.Len(t, got, 1)
		require.True(t, got[0].Equal(l), "up 4: the line of version 3 reads back equal\n got %+v\nwant %+v", got[0], l)
	}

	apply(downs[len(downs)-4 : len(downs)-3])
	var back []byte
	require.NoError(t, db.QueryRowContext(t.Context(), "SELECT line FROM "+schema+".ledger_lines WHERE id = $1", l.ID.String()).Scan(&back))
	var got commission.Line
	require.NoError(t, json.Unmarshal(back, &got), "down 4 writes JSON that commission.Line reads: %s", back)
	require.True(t, got.Equal(l.Line), "down 4 rebuilds version 3's line\n got %+v\nwant %+v", got, l.Line)
}

// catalog describes what schema holds (every relation with its columns, constraints and
// indexes; every type and function), with the schema's name taken out, so that two schemas
// compare equal when they hold the same. Migrate's own table s2s_migrations is left out.
func catalog(t *testing.T, db *sql.DB, schema string) []string {
	t.Helper()
	queries := []string{
		`SELECT 'column ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) ||
			CASE WHEN a.attnotnull THEN ' not null' ELSE '' END || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
		LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
		WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND c.relname <> 's2s_migrations'
		ORDER BY c.relname, a.attnum`,
		`SELECT 'relation ' || c.relname || ' ' || c.relkind::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relname NOT LIKE 's2s_migrations%' ORDER BY c.relname`,
		`SELECT 'constraint ' || c.relname || ' ' || k.conname || ' ' || pg_get_constraintdef(k.oid)
		FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relname <> 's2s_migrations' ORDER BY c.relname, k.conname`,
		`SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename <> 's2s_migrations' ORDER BY indexname`,
		`SELECT 'type ' || t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
		WHERE n.nspname = $1 AND t.typname NOT LIKE '%s2s_migrations' ORDER BY t.typname`,
		`SELECT 'function ' || p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
		WHERE n.nspname = $1 ORDER BY p.proname`,
	}
	var out []string
	for _, q := range queries {
		rows, err := db.QueryContext(context.Background(), q, schema)
		require.NoError(t, err)
		for rows.Next() {
			var s string
			require.NoError(t, rows.Scan(&s))
			out = append(out, strings.ReplaceAll(s, schema+".", "S."))
		}
		require.NoError(t, rows.Err())
		rows.Close()
	}
	return out
}

// TestMigrate_Concurrent runs Migrate on one new schema from several pools at once, as several
// processes starting together would.
func TestMigrate_Concurrent(t *testing.T) {
	t.Parallel()
	schema := runID + "_migrate"
	admin := openDB(t)
	dropSchemaAtCleanup(t, admin, schema)
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for range 6 {
		db := openDB(t)
		wg.Go(func() { errs <- pgstore.Migrate(t.Context(), db, &pgstore.MigrateOptions{Schema: schema}) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err, "concurrent migrators all succeed")
	}
	ups, _ := migrationFiles(t)
	var n int
	require.NoError(t, admin.QueryRowContext(t.Context(), "SELECT count(*) FROM "+schema+".s2s_migrations").Scan(&n))
	require.Equal(t, len(ups), n, "each version is recorded once")
	require.NoError(t, pgstore.Migrate(t.Context(), admin, &pgstore.MigrateOptions{Schema: schema}), "migrating again is a no-op")
	require.NoError(t, admin.QueryRowContext(t.Context(), "SELECT count(*) FROM "+schema+".s2s_migrations").Scan(&n))
	require.Equal(t, len(ups), n, fmt.Sprintf("migrating again records nothing: %d versions", len(ups)))
}
