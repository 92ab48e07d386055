package pgstore

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationLockKey is the advisory lock that serialises concurrent migrators: the ASCII of
// "s2s-migr".
const migrationLockKey int64 = 0x7332732d6d696772

// Migrations returns the embedded SQL migrations, for teams that apply them with their own
// tool instead of [Migrate]. They are laid out for golang-migrate
// (github.com/golang-migrate/migrate), which reads them as they are, through its iofs
// source: one pair of files per version, NNNN_title.up.sql and NNNN_title.down.sql, whose names
// follow golang-migrate's grammar ^([0-9]+)_(.*)\.(down|up)\.(.*)$, versions 1, 2, 3... Each file
// is plain SQL with no tool's annotations, applied whole (one Exec of its text, as
// golang-migrate does): the up files in ascending version order, the down files in
// descending order, with search_path set to the target schema, since the files use
// unqualified table names. Tools with another layout (goose, which wants "-- +goose Up"
// annotations in one file per version; dbmate; Flyway) cannot read them as they are.
//
// Use one tool or the other on a schema: Migrate records what it applied in its own table
// s2s_migrations and knows nothing of another tool's record. The tests apply the files as
// golang-migrate does, with plain ExecContext: the up files build the schema that Migrate
// builds, each down file returns exactly to the schema of the version before it (the last to
// an empty schema), with a row in every table, and the up files apply again after them.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic(err) // the directory is embedded: this cannot happen
	}
	return sub
}

// MigrateOptions configures [Migrate]. The zero value applies every migration to the default
// schema.
type MigrateOptions struct {
	// Schema is the schema to migrate; empty means [DefaultSchema]. It is created if missing.
	Schema string
}

type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the up migrations, in version order.
func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".up.sql")
		if !ok {
			continue
		}
		num, _, _ := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if err != nil {
			return nil, fmt.Errorf("pgstore: migration %s has no version number", e.Name())
		}
		b, err := migrationFiles.ReadFile(path.Join("migrations", e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: name, sql: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

// Migrate brings the schema up to date: it creates the schema if it does not exist, records
// applied versions in its table s2s_migrations, and applies the missing migrations, all in one
// transaction. It is safe to run concurrently from several processes: a transaction-scoped
// advisory lock serialises them, and the later ones find nothing to do. A version recorded
// under another name than this library's migration of that version is refused, and nothing
// is applied: the schema was made by other SQL. Versions newer than this library knows are
// left alone, so that an older build still starts during a rolling upgrade.
func Migrate(ctx context.Context, db *sql.DB, opts *MigrateOptions) error {
	schema := DefaultSchema
	if opts != nil && opts.Schema != "" {
		schema = opts.Schema
	}
	if err := checkSchema(schema); err != nil {
		return err
	}
	ms, err := migrations()
	if err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("pgstore: migrate: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	q := quoteIdent(schema)
	steps := []string{
		fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", migrationLockKey),
		"CREATE SCHEMA IF NOT EXISTS " + q,
		"SET LOCAL search_path TO " + q,
		`CREATE TABLE IF NOT EXISTS s2s_migrations (
			version    integer PRIMARY KEY,
			name       text NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now()
		)`,
	}
	for _, s := range steps {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("pgstore: migrate %s: %w", schema, err)
		}
	}
	applied := map[int]string{} // version → name
	rows, err := tx.QueryContext(ctx, "SELECT version, name FROM s2s_migrations")
	if err != nil {
		return fmt.Errorf("pgstore: migrate %s: read versions: %w", schema, err)
	}
	for rows.Next() {
		var v int
		var name string
		if err := rows.Scan(&v, &name); err != nil {
			rows.Close()
			return fmt.Errorf("pgstore: migrate %s: %w", schema, err)
		}
		applied[v] = name
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("pgstore: migrate %s: %w", schema, err)
	}
	rows.Close()
	for _, m := range ms {
		name, ok := applied[m.version]
		if ok && name != m.name {
			// A version applied under another name is other SQL: a build from before its
			// migrations were rewritten, or another program's table. Applying what follows on
			// top of a schema this library did not make would break it silently.
			return fmt.Errorf("pgstore: migrate %s: version %d was applied as %q, but this library's version %d is %q: the schema was not made by these migrations; migrate it by hand to %q, or start from a new schema",
				schema, m.version, name, m.version, m.name, m.name)
		}
		if ok {
			continue
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("pgstore: migrate %s: apply %s: %w", schema, m.name, err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO s2s_migrations (version, name) VALUES ($1, $2)", m.version, m.name); err != nil {
			return fmt.Errorf("pgstore: migrate %s: record %s: %w", schema, m.name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("pgstore: migrate %s: commit: %w", schema, err)
	}
	return nil
}
