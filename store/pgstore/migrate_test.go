package pgstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/event"
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
// descending) and checks that the ups build the schema Migrate builds, that each down returns
// exactly to the schema of the version before it (the last one to an empty schema), and that
// the ups apply again after them.
func TestMigrations_AppliedByAnotherTool(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	ups, downs := migrationFiles(t)
	want := catalog(t, db, newSchema(t, db))

	// before[v] is the schema of version v, applied alone from an empty schema.
	before := make([][]string, len(ups)+1)
	for v := range len(ups) {
		schema := fmt.Sprintf("%s_v%d", runID, v)
		applier(t, db, schema)(ups[:v])
		before[v] = catalog(t, db, schema)
	}
	require.Empty(t, before[0], "version 0 is the empty schema")

	schema := runID + "_plain"
	apply := applier(t, db, schema)
	apply(ups)
	require.Equal(t, want, catalog(t, db, schema), "the up files build the schema that Migrate builds")
	for _, down := range downs {
		apply([]migrationFile{down})
		require.Equal(t, before[down.version-1], catalog(t, db, schema), "%s returns exactly to the schema of version %d", down.name, down.version-1)
	}
	apply(ups)
	require.Equal(t, want, catalog(t, db, schema), "the up files apply again after the downs")
}

// TestMigrations_UpDownUpWithData takes a schema with a row in every table down and up again,
// as golang-migrate would: each down applies with the rows of the version it leaves, the up
// after a down applies to what the down left, and after every down the ups build a schema
// into which the same rows are written again and read back equal.
func TestMigrations_UpDownUpWithData(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	ups, downs := migrationFiles(t)
	schema := runID + "_data"
	apply := applier(t, db, schema)
	tables := []string{"clicks", "player_bindings", "conversions", "conversion_history", "ledger_lines", "deliveries", "delivery_attempts", "counters", "endpoints", "parked_events", "inbound_log", "revenue_facts", "period_closes"}
	// counts returns the rows of each table, leaving out the tables that do not exist.
	counts := func() map[string]int {
		n := map[string]int{}
		for _, table := range tables {
			var exists bool
			require.NoError(t, db.QueryRowContext(t.Context(), "SELECT to_regclass($1) IS NOT NULL", schema+"."+table).Scan(&exists))
			if !exists {
				continue
			}
			var c int
			require.NoError(t, db.QueryRowContext(t.Context(), "SELECT count(*) FROM "+schema+"."+table).Scan(&c))
			n[table] = c
		}
		return n
	}

	apply(ups)
	st := newStore(t, db, schema)
	written := writeEveryTable(t, st)
	full := counts()
	for table, n := range full {
		require.Positive(t, n, "the test writes a row into %s", table)
	}

	// Down one version with the rows in place, and up again: the rows of the tables the
	// version before had stay; a table new in the last version goes with its down and comes
	// back empty.
	apply(downs[:1])
	kept := counts()
	for table, n := range kept {
		require.Equal(t, full[table], n, "%s keeps every row of %s", downs[0].name, table)
	}
	apply(ups[len(ups)-1:])
	again := maps.Clone(kept)
	for table := range full {
		if _, ok := kept[table]; !ok {
			again[table] = 0 // a table of the last version alone, dropped with its rows by its down
		}
	}
	require.Equal(t, again, counts(), "%s, after its down, keeps every row its down kept", ups[len(ups)-1].name)

	// Down all the way with the rows in place, up again: the same rows write and read back.
	apply(downs)
	require.Empty(t, catalog(t, db, schema), "the down files leave the schema empty, rows and all")
	apply(ups)
	require.Equal(t, written, writeEveryTable(t, st), "the same rows are written again after down and up, and read back equal")
	require.Equal(t, full, counts(), "the same rows, one each, again")
}

// everyTable is what writeEveryTable wrote, as read back.
type everyTable struct {
	Click       store.Click
	Binding     store.PlayerBinding
	Conversions []store.Conversion
	Lines       []store.LedgerLine
	Delivery    store.Delivery
	Counter     int64
	Endpoint    store.EndpointState
	Parked      []store.ParkedEvent
	Inbound     []store.InboundRecord
	Revenue     []store.RevenueFact
	Close       store.PeriodClose
}

// everyTableIDs are the IDs of the rows writeEveryTable writes: the same on every call.
var everyTableIDs = struct {
	click                                  clickid.ID
	timed, untimed, line, period, delivery uuid.UUID
	parked, parkedEvent, inbound           uuid.UUID
	revenue, correction                    uuid.UUID
}{clickid.MustParse("06enwx3m8zc6w83y6r5qzq2c3r"), uuid.New(), uuid.New(), uuid.New(), uuid.New(), uuid.New(), uuid.New(), uuid.New(), uuid.New(), uuid.New(), uuid.New()}

// writeEveryTable writes a row into every table of st's schema, through st, with the same
// IDs on every call: a click, a player binding, a conversion with its history, ledger line
// and delivery and one without an event time, a period line with every optional field of a
// line, an attempt, with its endpoint's state, the replay of the delivery it killed, a
// parked event with every field, applied to the first conversion, and a record of the
// inbound log with every field. It returns them as read back.
func writeEveryTable(t *testing.T, st *pgstore.Store) everyTable {
	t.Helper()
	ids := everyTableIDs
	ctx := t.Context()
	c := store.Click{ID: ids.click, AffiliateID: "aff-1", CampaignID: "camp-1", SubIDs: []string{"s1", "", "s3"},
		ForeignClickID: "gclid-1", UserAgent: "ua", Landing: "https://casino.example/", CreatedAt: t0}
	require.NoError(t, st.InsertClick(ctx, c))
	b, err := st.BindPlayer(ctx, store.PlayerBinding{PlayerID: "p-1", AffiliateID: "aff-1", ClickID: c.ID, Method: store.BindByClick, BoundAt: t0})
	require.NoError(t, err)

	p := recordParams("timed")
	p.Conversion.ID, p.Ledger[0].ID, p.Deliveries[0].ID = ids.timed, ids.line, ids.delivery
	p.Ledger[0].ConversionID, p.Deliveries[0].ConversionID = ids.timed, ids.timed
	p.Conversion.SubIDs, p.Conversion.ForeignClickID = []string{"s1"}, "net-1"
	p.Conversion.Decision = store.Decision{Model: "last_click", Code: "in_window", Reason: "the last click"}
	p.Increments = []store.Increment{{Counter: "cap:camp-1", Delta: 1, Limit: 10}}
	record(t, st, p)
	untimed := recordParams("untimed")
	untimed.Conversion.ID, untimed.Ledger, untimed.Deliveries = ids.untimed, nil, nil
	untimed.Conversion.OccurredAt = time.Time{}
	record(t, st, untimed)
	parked := parkedEvent("tx-parked")
	parked.ID, parked.Conversion.ID = ids.parked, ids.parkedEvent
	parked.Conversion.ClickID, parked.Conversion.ForeignClickID, parked.Conversion.SubIDs = c.ID, "net-1", []string{"s1", "", "s3"}
	parked.Conversion.PlayerID, parked.Conversion.AffiliateID, parked.Conversion.CampaignID = "p-1", "aff-1", "camp-1"
	parked.Conversion.Amount, parked.Conversion.OccurredAt = money.New(4200, money.EUR), t0.Add(-time.Minute)
	parked.Conversion.Decision = store.Decision{Model: "none", Code: "parked_reversal", Reason: "before its original"}
	park(t, st, parked)
	_, err = st.ChangeStatus(ctx, store.ChangeStatusParams{ConversionID: ids.timed, From: event.StatusPending, To: event.StatusApproved, At: t0.Add(time.Hour),
		Resolve: []uuid.UUID{ids.parked}})
	require.NoError(t, err)

	end := t0.AddDate(0, 1, 0)
	period := store.LedgerLine{ID: ids.period, CreatedAt: end, Line: commission.Line{
		Kind: commission.KindAccrual, Rule: commission.RuleRevShare, Plan: "vip", AffiliateID: "aff-1", PlayerID: "p-1",
		At: end, Payable: end, Period: commission.Period{Start: t0, End: end},
		Amount: money.New(1234, money.EUR), Base: money.New(567891, money.EUR), Rate: money.MustParseRate("0.35"),
		Tier: 2, Level: 1, Mode: money.HalfUp,
		FX:     &money.ExchangeRate{From: money.USD, To: money.EUR, Rate: money.MustParseRate("0.9123"), Source: "ECB", At: t0},
		Detail: commission.Detail{Country: "MT", Players: 3, NGR: money.New(567891, money.EUR)},
	}}
	require.NoError(t, st.InsertLedgerLines(ctx, store.InsertLedgerLinesParams{Lines: []store.LedgerLine{period}}))

	l := leaseOne(t, st, t0)
	_, err = st.RecordAttempt(ctx, store.RecordAttemptParams{DeliveryID: ids.delivery, Token: l.Token, Attempt: attemptAt(t0), Status: store.DeliveryDead})
	require.NoError(t, err)
	_, err = st.ReplayDelivery(ctx, store.ReplayDeliveryParams{DeliveryID: ids.delivery, At: t0.Add(2 * time.Hour)})
	require.NoError(t, err)

	var out everyTable
	out.Click, err = st.GetClick(ctx, c.ID)
	require.NoError(t, err)
	out.Binding, err = st.GetBinding(ctx, "p-1")
	require.NoError(t, err)
	require.Equal(t, b, out.Binding)
	out.Conversions, err = st.ListConversions(ctx, store.ListConversionsParams{AffiliateID: "aff-1", From: t0.Add(-time.Hour), To: t0.Add(time.Hour)})
	require.NoError(t, err)
	require.Len(t, out.Conversions, 2)
	out.Lines, err = st.ListLedgerLines(ctx, store.ListLedgerLinesParams{AffiliateID: "aff-1", From: t0.Add(-time.Hour), To: end.Add(time.Hour)})
	require.NoError(t, err)
	require.Len(t, out.Lines, 2)
	require.True(t, out.Lines[1].Equal(period.Normalize()), "the period line reads back equal")
	out.Delivery, err = st.GetDelivery(ctx, ids.delivery)
	require.NoError(t, err)
	require.Len(t, out.Delivery.Attempts, 1)
	require.Equal(t, t0.Add(2*time.Hour), out.Delivery.ReplayedAt, "the replay wrote its time")
	out.Counter, err = st.GetCounter(ctx, "cap:camp-1")
	require.NoError(t, err)
	require.Equal(t, int64(1), out.Counter)
	out.Endpoint, err = st.GetEndpoint(ctx, out.Delivery.Endpoint)
	require.NoError(t, err)
	require.False(t, out.Endpoint.FailingSince.IsZero(), "the dead attempt wrote its endpoint's state")
	out.Parked = parkedOf(t, st, "tx-parked")
	require.Len(t, out.Parked, 1)
	require.Equal(t, ids.timed, out.Parked[0].AppliedTo, "the status change resolved the parked event")
	want := parked.Normalize()
	want.ResolvedAt, want.AppliedTo = t0.Add(time.Hour), ids.timed
	require.Equal(t, want, out.Parked[0], "the parked event reads back with every field")

	in := inboundRecord(t0)
	in.ID, in.ConversionID, in.Reason = ids.inbound, ids.timed, "a_reason"
	require.NoError(t, st.LogInbound(ctx, in))
	out.Inbound, err = st.ListInbound(ctx, store.ListInboundParams{})
	require.NoError(t, err)
	require.Equal(t, []store.InboundRecord{in}, out.Inbound, "the inbound record reads back with every field")

	rev := store.RevenueFact{ID: ids.revenue, Source: "casino", TransactionID: "rep-1", AffiliateID: "aff-1", PlayerID: "p-1",
		CampaignID: "camp-1", OccurredAt: t0, ReceivedAt: t0.Add(time.Hour), GGR: money.New(-5000, money.EUR),
		Bonuses: money.New(100, money.EUR), Fees: money.New(20, money.EUR), Taxes: money.New(-3, money.EUR),
		Deposits: money.New(9000, money.EUR), Withdrawals: money.New(1, money.EUR)}
	fix := rev
	fix.ID, fix.TransactionID, fix.Corrects, fix.GGR = ids.correction, "rep-2", "rep-1", money.New(-4000, money.EUR)
	fix.ReceivedAt = t0.Add(2 * time.Hour)
	for _, f := range []store.RevenueFact{rev, fix} {
		_, err := st.RecordRevenue(ctx, f)
		require.NoError(t, err)
	}
	out.Revenue, err = st.ListRevenue(ctx, store.ListRevenueParams{AffiliateID: "aff-1", By: store.ByReceivedAt, From: t0, To: end})
	require.NoError(t, err)
	require.Len(t, out.Revenue, 2)
	require.True(t, out.Revenue[0].Equal(rev) && out.Revenue[1].Equal(fix), "the revenue facts read back with every field")

	closed := store.PeriodClose{Start: t0, End: end, ClosedAt: end.Add(time.Hour), Balances: []store.Balance{
		{AffiliateID: "aff-1", Amount: money.New(-4321, money.EUR)}, {AffiliateID: "aff-1", PlayerID: "p-1", Amount: money.New(-99, money.EUR)}}}
	_, err = st.ClosePeriod(ctx, store.ClosePeriodParams{Close: closed})
	require.NoError(t, err)
	out.Close, err = st.LastClose(ctx)
	require.NoError(t, err)
	require.Equal(t, closed.Normalize(), out.Close, "the period close reads back with its balances")
	return out
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

// TestMigrate_RefusesAnotherHistory: a schema whose recorded version 2 is not this library's
// version 2 (migrations rewritten after it was applied, or another tool's table) is refused,
// and nothing is applied on top of it.
func TestMigrate_RefusesAnotherHistory(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	schema := newSchema(t, db)
	_, err := db.ExecContext(t.Context(), "UPDATE "+schema+".s2s_migrations SET name = '0002_conversion_sender_ids' WHERE version = 2")
	require.NoError(t, err)
	_, err = db.ExecContext(t.Context(), "DELETE FROM "+schema+".s2s_migrations WHERE version > 2")
	require.NoError(t, err)
	var before int
	require.NoError(t, db.QueryRowContext(t.Context(), "SELECT count(*) FROM "+schema+".s2s_migrations").Scan(&before))

	err = pgstore.Migrate(t.Context(), db, &pgstore.MigrateOptions{Schema: schema})
	require.ErrorContains(t, err, `version 2 was applied as "0002_conversion_sender_ids"`, "rule: a version applied under another name is refused")
	var after int
	require.NoError(t, db.QueryRowContext(t.Context(), "SELECT count(*) FROM "+schema+".s2s_migrations").Scan(&after))
	require.Equal(t, before, after, "rule: a refused migration applies nothing")
}
