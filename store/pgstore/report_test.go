package pgstore_test

import (
	"database/sql"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/store"
)

// fillReportTables writes, with raw INSERTs, the records of affiliates affiliates over the
// 90 days from t0: per affiliate, perAff clicks, conversions, ledger lines and revenue facts
// spread evenly over the days; and attempts of deliveries to 20 endpoints. Then it analyses
// the tables and marks their pages visible, as autovacuum would have, so that the planner
// knows their sizes and an index that covers a query is read alone.
func fillReportTables(t testing.TB, db *sql.DB, schema string, affiliates, perAff int) {
	t.Helper()
	ctx := t.Context()
	n := affiliates * perAff
	for _, q := range []string{
		`INSERT INTO {s}.clicks (id, affiliate_id, campaign_id, foreign_click_id, user_agent, landing, created_at)
			SELECT gen_random_uuid(), 'aff-' || (i % $2), 'camp-' || (i % 3), '', 'UA', '', $1::timestamptz + (i * interval '90 days') / $3
			FROM generate_series(1, $3::integer) AS i`,
		`INSERT INTO {s}.conversions (id, dedup_key, source, event, player_id, affiliate_id, campaign_id, transaction_id, status,
				occurred_at, received_at, decision_model, decision_reason, decision_code, foreign_click_id)
			SELECT gen_random_uuid(), 'k' || i, 'src', CASE WHEN i % 4 = 0 THEN 'ftd' ELSE 'registration' END, 'p' || i,
				'aff-' || (i % $2), 'camp-' || (i % 3), 't' || i, 'approved',
				$1::timestamptz + (i * interval '90 days') / $3, $1::timestamptz + (i * interval '90 days') / $3, '', '', '', ''
			FROM generate_series(1, $3::integer) AS i`,
		`INSERT INTO {s}.ledger_lines (id, affiliate_id, kind, amount_minor, currency, rule, created_at, plan, player, event, reverses,
				at, payable, statement_at, base_minor, base_currency, tier, level, mode)
			SELECT gen_random_uuid(), 'aff-' || (i % $2), 'accrual', 100, 'EUR', 'cpa', t, '', '', '', '', t, t, t, 100, 'EUR', 0, 0, 'half_even'
			FROM (SELECT i, $1::timestamptz + (i * interval '90 days') / $3 AS t FROM generate_series(1, $3::integer) AS i) AS g`,
		`INSERT INTO {s}.revenue_facts (id, source, transaction_id, affiliate_id, player_id, campaign_id, occurred_at, received_at,
				currency, ggr, bonuses, fees, taxes, deposits, withdrawals)
			SELECT gen_random_uuid(), 'src', 'r' || i, 'aff-' || (i % $2), 'p' || i, 'camp-' || (i % 3),
				$1::timestamptz + (i * interval '90 days') / $3, $1::timestamptz + (i * interval '90 days') / $3, 'EUR', -50, 1, 1, 1, 100, 0
			FROM generate_series(1, $3::integer) AS i`,
		`INSERT INTO {s}.deliveries (id, endpoint, method, url, status, next_attempt_at, created_at)
			SELECT ('00000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid, 'ep-' || (i % 20), 'GET', 'https://t.example/pb', 'delivered',
				$1::timestamptz + (i * interval '90 days') / $3, $1::timestamptz + (i * interval '90 days') / $3
			FROM generate_series(1, $3::integer / 4) AS i WHERE $2::integer > 0`,
		`INSERT INTO {s}.delivery_attempts (delivery_id, n, started_at, finished_at, status_code, response, error)
			SELECT d.id, a, d.created_at + a * interval '1 minute', d.created_at + a * interval '1 minute', CASE WHEN a = 3 THEN 200 ELSE 503 END, '', ''
			FROM {s}.deliveries AS d, generate_series(1, 3) AS a WHERE $1::timestamptz IS NOT NULL AND $2::integer > 0 AND $3::integer > 0`,
	} {
		_, err := db.ExecContext(ctx, strings.ReplaceAll(q, "{s}", schema), t0, affiliates, n)
		require.NoError(t, err)
	}
	for _, table := range []string{"clicks", "conversions", "ledger_lines", "revenue_facts", "deliveries", "delivery_attempts"} {
		_, err := db.ExecContext(ctx, "VACUUM ANALYZE "+schema+"."+table)
		require.NoError(t, err)
	}
}

// planNode is a node of an EXPLAIN (FORMAT JSON) plan.
type planNode struct {
	Type     string     `json:"Node Type"`
	Relation string     `json:"Relation Name"`
	Index    string     `json:"Index Name"`
	Plans    []planNode `json:"Plans"`
}

// walk calls f on n and every node under it.
func (n planNode) walk(f func(planNode)) {
	f(n)
	for _, c := range n.Plans {
		c.walk(f)
	}
}

// TestAggregate_ServedByIndexes checks, with EXPLAIN, that a report of one affiliate over
// one month reads every table it counts through an index, never with a Seq Scan: with 40
// affiliates' 1,000 records each in every table over 90 days, one affiliate's month is some
// 1% of a table. So is an endpoint's failure rate over a day.
func TestAggregate_ServedByIndexes(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	schema := newSchema(t, db)
	st := newStore(t, db, schema)
	fillReportTables(t, db, schema, 40, 1000)

	month := []time.Time{t0.AddDate(0, 1, 0), t0.AddDate(0, 1, 7), t0.AddDate(0, 1, 14), t0.AddDate(0, 1, 21), t0.AddDate(0, 2, 0)}
	stmts := st.ReportStatements(store.AggregateParams{AffiliateID: "aff-7", Bounds: month},
		store.CountAttemptsParams{Endpoint: "ep-3", From: t0.AddDate(0, 1, 0), To: t0.AddDate(0, 1, 1)})
	want := map[string]string{
		"clicks":            "clicks_affiliate_created",
		"conversions":       "conversions_affiliate_event_time",
		"revenue_facts":     "revenue_facts_affiliate_occurred",
		"ledger_lines":      "ledger_lines_affiliate_statement",
		"delivery_attempts": "delivery_attempts_finished",
	}
	require.Len(t, stmts, len(want))
	for table, index := range want {
		q := stmts[table]
		var js string
		require.NoError(t, db.QueryRowContext(t.Context(), "EXPLAIN (FORMAT JSON) "+q.SQL, q.Args...).Scan(&js))
		var plan []struct{ Plan planNode }
		require.NoError(t, json.Unmarshal([]byte(js), &plan))
		require.Len(t, plan, 1)
		used := false
		plan[0].Plan.walk(func(n planNode) {
			require.False(t, n.Type == "Seq Scan" && (n.Relation == table || n.Relation == "clicks" || n.Relation == "conversions"),
				"the %s aggregate of one affiliate's month scans %s whole:\n%s", table, n.Relation, js)
			if n.Index == index {
				used = true
			}
		})
		require.True(t, used, "the %s aggregate of one affiliate's month reads index %s:\n%s", table, index, js)
	}

	// And the statements are the ones Aggregate runs: its answer counts the month's records.
	got, err := st.Aggregate(t.Context(), store.AggregateParams{AffiliateID: "aff-7", Bounds: month})
	require.NoError(t, err)
	var clicks int64
	for _, c := range got.Clicks {
		clicks += c.Clicks
	}
	require.InDelta(t, 1000*31/90, clicks, 3, "a month holds a 90-day spread's share of the affiliate's clicks")
}

// reportByListing is the baseline of the report benchmarks: what a user without
// Aggregate writes for one affiliate's month: page through its conversions, ledger lines
// and revenue facts and count them in Go (the clicks it cannot count at all: no listing of
// clicks exists).
func reportByListing(b *testing.B, st store.Store, aff string, from, to time.Time) (convs, lines, facts int) {
	ctx := b.Context()
	cp := store.ListConversionsParams{AffiliateID: aff, From: from, To: to, Limit: 1000}
	for {
		page, err := st.ListConversions(ctx, cp)
		require.NoError(b, err)
		convs += len(page)
		if len(page) < cp.Limit {
			break
		}
		cp.After = store.Cursor{At: page[len(page)-1].EventTime(), ID: page[len(page)-1].ID}
	}
	lp := store.ListLedgerLinesParams{AffiliateID: aff, By: store.ByStatementTime, From: from, To: to, Limit: 1000}
	for {
		page, err := st.ListLedgerLines(ctx, lp)
		require.NoError(b, err)
		lines += len(page)
		if len(page) < lp.Limit {
			break
		}
		lp.After = store.Cursor{At: page[len(page)-1].StatementTime(), ID: page[len(page)-1].ID}
	}
	rp := store.ListRevenueParams{AffiliateID: aff, From: from, To: to, Limit: 1000}
	for {
		page, err := st.ListRevenue(ctx, rp)
		require.NoError(b, err)
		facts += len(page)
		if len(page) < rp.Limit {
			break
		}
		rp.After = store.Cursor{At: page[len(page)-1].OccurredAt, ID: page[len(page)-1].ID}
	}
	return convs, lines, facts
}

// BenchmarkReport: one affiliate's month in four weeks, of 40 affiliates' 3,000 records
// each per table over 90 days (some 1,000 of the affiliate's records per table in the
// month): Aggregate, which also counts the clicks, beside the listing baseline.
func BenchmarkReport(b *testing.B) {
	db := openDB(b)
	schema := newSchema(b, db)
	st := newStore(b, db, schema)
	fillReportTables(b, db, schema, 40, 3000)
	from, to := t0.AddDate(0, 1, 0), t0.AddDate(0, 2, 0)
	month := []time.Time{from, from.AddDate(0, 0, 7), from.AddDate(0, 0, 14), from.AddDate(0, 0, 21), to}
	b.Run("Aggregate", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, err := st.Aggregate(b.Context(), store.AggregateParams{AffiliateID: "aff-7", Bounds: month})
			require.NoError(b, err)
		}
	})
	b.Run("BaselineListAndCount", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			reportByListing(b, st, "aff-7", from, to)
		}
	})
}
