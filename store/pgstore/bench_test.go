package pgstore_test

import (
	"database/sql"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/store"
)

// The benchmarks run against S2S_TEST_POSTGRES_URL (they skip without it), each beside the
// raw database/sql statement a user would otherwise write, in a schema of its own:
//
//	S2S_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test?sslmode=disable \
//	    go test -run=NONE -bench=. -benchmem ./store/pgstore/

const batchRows = 1000

func benchClickBatch(b *testing.B, gen *clickid.Generator) []store.Click {
	b.Helper()
	at := time.Now().UTC()
	cs := make([]store.Click, batchRows)
	for i := range cs {
		id, err := gen.New()
		if err != nil {
			b.Fatal(err)
		}
		cs[i] = store.Click{ID: id, AffiliateID: "aff-42", CampaignID: "camp-7", SubIDs: []string{"s1", "s2"}, CreatedAt: at}
	}
	return cs
}

// BenchmarkInsertClicksBatch inserts batches of 1,000 clicks with InsertClicks.
func BenchmarkInsertClicksBatch(b *testing.B) {
	db := openDB(b)
	st := newStore(b, db, newSchema(b, db))
	gen := clickid.NewGenerator(nil)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		cs := benchClickBatch(b, gen)
		b.StartTimer()
		if err := st.InsertClicks(b.Context(), store.InsertClicksParams{Clicks: cs}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batchRows)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkBaselineRawMultiRowInsert inserts the same batches into the same table with one
// hand-written multi-row INSERT in a transaction.
func BenchmarkBaselineRawMultiRowInsert(b *testing.B) {
	db := openDB(b)
	schema := newSchema(b, db)
	gen := clickid.NewGenerator(nil)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		cs := benchClickBatch(b, gen)
		b.StartTimer()
		var sb strings.Builder
		sb.WriteString("INSERT INTO " + schema + ".clicks (id, affiliate_id, campaign_id, sub_ids, foreign_click_id, ip, user_agent, landing, created_at) VALUES ")
		args := make([]any, 0, 9*len(cs))
		for i, c := range cs {
			if i > 0 {
				sb.WriteString(",")
			}
			n := len(args)
			sb.WriteString("(")
			for j := 1; j <= 9; j++ {
				if j > 1 {
					sb.WriteString(",")
				}
				sb.WriteString("$" + strconv.Itoa(n+j))
			}
			sb.WriteString(")")
			args = append(args, c.ID.UUIDString(), c.AffiliateID, c.CampaignID, `["s1","s2"]`, "", nil, "", "", c.CreatedAt)
		}
		tx, err := db.BeginTx(b.Context(), nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tx.ExecContext(b.Context(), sb.String(), args...); err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batchRows)/b.Elapsed().Seconds(), "rows/s")
}

func benchRecord() store.RecordConversionParams {
	id := uuid.Must(uuid.NewV7())
	at := time.Now().UTC()
	return store.RecordConversionParams{
		Conversion: store.Conversion{
			ID: id, DedupKey: id.String(), Event: "ftd", AffiliateID: "aff-42", TransactionID: "tx",
			Amount: money.New(15000, money.EUR), Status: event.StatusPending, OccurredAt: at, ReceivedAt: at,
		},
		Ledger: []store.LedgerLine{{ID: uuid.Must(uuid.NewV7()), ConversionID: id, CreatedAt: at, Line: commission.Line{
			Kind: commission.KindAccrual, Rule: commission.RuleCPA, AffiliateID: "aff-42", At: at, Payable: at,
			Amount: money.New(5000, money.EUR), Base: money.New(0, money.EUR)}}},
		Deliveries: []store.Delivery{{ID: uuid.Must(uuid.NewV7()), ConversionID: id, Endpoint: "e", Method: http.MethodGet,
			URL: "https://t.example/pb", Status: store.DeliveryPending, NextAttemptAt: at, CreatedAt: at}},
	}
}

// BenchmarkRecordConversion records one conversion with one ledger line and one delivery per
// durable transaction, on one connection.
func BenchmarkRecordConversion(b *testing.B) {
	db := openDB(b)
	st := newStore(b, db, newSchema(b, db))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := st.RecordConversion(b.Context(), benchRecord()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "conversions/s")
}

// BenchmarkRecordConversionParallel8 does the same from 8 workers: concurrent commits share
// PostgreSQL's WAL flushes (group commit).
func BenchmarkRecordConversionParallel8(b *testing.B) {
	db := openDB(b)
	st := newStore(b, db, newSchema(b, db))
	b.SetParallelism(max(1, 8/runtime.GOMAXPROCS(0))) // 8 workers on 1, 2, 4 or 8 Ps
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := st.RecordConversion(b.Context(), benchRecord()); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "conversions/s")
}

// BenchmarkBaselineSingleInsert is the floor: one raw single-row autocommit INSERT of a
// conversion row per operation, with nothing else.
func BenchmarkBaselineSingleInsert(b *testing.B) {
	db := openDB(b)
	schema := newSchema(b, db)
	q := "INSERT INTO " + schema + `.conversions (id, dedup_key, source, event, player_id, affiliate_id, campaign_id,
		transaction_id, amount_minor, amount_currency, status, occurred_at, received_at, decision_model, decision_reason)
		VALUES ($1, $2, '', 'ftd', '', 'aff-42', '', 'tx', 15000, 'EUR', 'pending', $3, $3, '', '')`
	b.ReportAllocs()
	for b.Loop() {
		id := uuid.Must(uuid.NewV7())
		if _, err := db.ExecContext(b.Context(), q, id, id.String(), time.Now()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "conversions/s")
}

// BenchmarkLeaseDeliveries leases 10 pending deliveries of endpoint e that fall due every 2
// minutes (each lease lasts one): the outbound worker's poll. NoBacklog is the baseline. In
// the others, 100,000 more pending deliveries, due before e's, wait for endpoints that the
// lease must not lease from, or are the ones it leases:
//
//   - DisabledBacklog: of an endpoint disabled after they were recorded;
//   - RecordedWhileDisabled: of an endpoint disabled before they were recorded;
//   - ManyDisabled: of 100 disabled endpoints, 1,000 each;
//   - ExcludedBacklog: of an endpoint that the worker excludes (at its concurrency or rate
//     limit), which the lease's walk in leasing order passes row by row;
//   - EnabledAgain: of an endpoint disabled, then enabled again, whose deliveries are the 10
//     the lease takes, the oldest due;
//   - ManyEndpoints: of 200 enabled endpoints, 500 each, of which the lease takes the 10
//     oldest due: no backlog, but many endpoints with due deliveries.
//
// Each runs on a vacuumed table, as autovacuum leaves it.
//
//	S2S_TEST_POSTGRES_URL=... go test -run=NONE -bench=LeaseDeliveries -benchmem ./store/pgstore/
func BenchmarkLeaseDeliveries(b *testing.B) {
	const backlog, pending = 100_000, 10
	t0 := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	// insertBacklog inserts n pending deliveries due from t0 on, a millisecond apart, spread
	// over endpoints prefix0, prefix1, ... prefix(endpoints-1), as a raw INSERT.
	insertBacklog := func(b *testing.B, db *sql.DB, schema, prefix string, endpoints, n int) {
		b.Helper()
		_, err := db.ExecContext(b.Context(), "INSERT INTO "+schema+`.deliveries (id, endpoint, method, url, status, next_attempt_at, created_at)
			SELECT gen_random_uuid(), $3 || (i % $4::integer), 'GET', 'https://t.example/pb', 'pending', $1::timestamptz + i * interval '1 millisecond', $1
			FROM generate_series(1, $2::integer) AS i`, t0, n, prefix, endpoints)
		if err != nil {
			b.Fatal(err)
		}
	}
	disable := func(b *testing.B, st store.Store, names ...string) {
		b.Helper()
		for _, name := range names {
			if _, err := st.DisableEndpoint(b.Context(), store.DisableEndpointParams{Name: name, Reason: "410 Gone", At: t0}); err != nil {
				b.Fatal(err)
			}
		}
	}
	for _, name := range []string{"NoBacklog", "DisabledBacklog", "RecordedWhileDisabled", "ManyDisabled", "ExcludedBacklog", "EnabledAgain", "ManyEndpoints"} {
		b.Run(name, func(b *testing.B) {
			db := openDB(b)
			schema := newSchema(b, db)
			st := newStore(b, db, schema)
			p := store.LeaseParams{Now: t0.Add(time.Hour), LeaseFor: time.Minute, Limit: pending}
			switch name {
			case "DisabledBacklog":
				insertBacklog(b, db, schema, "down", 1, backlog)
				disable(b, st, "down0")
			case "RecordedWhileDisabled":
				disable(b, st, "down")
				for i := range backlog / store.MaxLines {
					rec := benchRecord()
					rec.Deliveries = make([]store.Delivery, store.MaxLines)
					for j := range rec.Deliveries {
						rec.Deliveries[j] = store.Delivery{ID: uuid.Must(uuid.NewV7()), ConversionID: rec.Conversion.ID, Endpoint: "down", Method: http.MethodGet,
							URL: "https://t.example/pb", Status: store.DeliveryPending, NextAttemptAt: t0.Add(time.Duration(i*store.MaxLines+j) * time.Millisecond), CreatedAt: t0}
					}
					if _, err := st.RecordConversion(b.Context(), rec); err != nil {
						b.Fatal(err)
					}
				}
			case "ManyDisabled":
				insertBacklog(b, db, schema, "down", 100, backlog)
				names := make([]string, 100)
				for i := range names {
					names[i] = "down" + strconv.Itoa(i)
				}
				disable(b, st, names...)
			case "ExcludedBacklog":
				insertBacklog(b, db, schema, "busy", 1, backlog)
				p.Exclude = []string{"busy0"}
			case "EnabledAgain":
				insertBacklog(b, db, schema, "down", 1, backlog)
				disable(b, st, "down0")
				if _, err := st.EnableEndpoint(b.Context(), store.EnableEndpointParams{Name: "down0", At: t0}); err != nil {
					b.Fatal(err)
				}
			case "ManyEndpoints":
				insertBacklog(b, db, schema, "ep", 200, backlog)
			}
			rec := benchRecord()
			rec.Deliveries = nil
			for range pending {
				rec.Deliveries = append(rec.Deliveries, store.Delivery{ID: uuid.Must(uuid.NewV7()), ConversionID: rec.Conversion.ID, Endpoint: "e",
					Method: http.MethodGet, URL: "https://t.example/pb", Status: store.DeliveryPending, NextAttemptAt: t0.Add(time.Hour), CreatedAt: t0})
			}
			if _, err := st.RecordConversion(b.Context(), rec); err != nil {
				b.Fatal(err)
			}
			if _, err := db.ExecContext(b.Context(), "VACUUM ANALYZE "+schema+".deliveries"); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				ls, err := st.LeaseDeliveries(b.Context(), p)
				if err != nil || len(ls) != pending {
					b.Fatal(err, len(ls))
				}
				p.Now = p.Now.Add(2 * time.Minute)
			}
		})
	}
}

func benchInbound() store.InboundRecord {
	return store.InboundRecord{ID: uuid.Must(uuid.NewV7()), ReceivedAt: time.Now(), Source: "network-a", Method: http.MethodGet,
		Outcome: "accepted", HTTPStatus: 202, Params: "clickid=06enwx3m8zc6w83y6r5qzq2c3r&event=ftd&amount=150.00&currency=EUR&txid=T-1&sig=REDACTED",
		ConversionID: uuid.Must(uuid.NewV7()), Duration: 1500 * time.Microsecond}
}

// BenchmarkLogInbound logs one postback to the inbound log per operation, durably, on one
// connection: what the Tracker adds to every postback. Its baseline,
// BenchmarkBaselineInboundInsert, is the same row written by a hand-written autocommit
// INSERT into the same table (with the same indexes).
func BenchmarkLogInbound(b *testing.B) {
	db := openDB(b)
	st := newStore(b, db, newSchema(b, db))
	b.ReportAllocs()
	for b.Loop() {
		if err := st.LogInbound(b.Context(), benchInbound()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkBaselineInboundInsert(b *testing.B) {
	db := openDB(b)
	schema := newSchema(b, db)
	q := "INSERT INTO " + schema + `.inbound_log (id, received_at, source, method, outcome, reason, http_status, params, conversion_id, duration_ns)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`
	b.ReportAllocs()
	for b.Loop() {
		r := benchInbound()
		if _, err := db.ExecContext(b.Context(), q, r.ID, r.ReceivedAt, r.Source, r.Method, r.Outcome, r.Reason, r.HTTPStatus, r.Params, r.ConversionID, int64(r.Duration)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkRecordAttemptParallel16 records, from 16 goroutines at once, attempts of
// deliveries to one endpoint, each under its own lease: what the outbound worker does at a
// concurrency of 16 to one receiver. Delivered is a steady stream of successes (each moves
// the endpoint's LastSuccessAt); Failing a steady stream of retries of an endpoint that is
// failing already (none changes its FailingSince). Its baseline,
// BenchmarkBaselineAttemptUpdateParallel16, is a raw autocommit UPDATE of each delivery's
// status from as many goroutines: one round trip and one commit an attempt.
func BenchmarkRecordAttemptParallel16(b *testing.B) {
	for _, name := range []string{"Delivered", "Failing"} {
		b.Run(name, func(b *testing.B) {
			db := openDB(b)
			schema := newSchema(b, db)
			st := newStore(b, db, schema)
			ls := leaseBench(b, db, st, schema, b.N)
			status := store.DeliveryDelivered
			if name == "Failing" {
				status = store.DeliveryPending
			}
			var next atomic.Int64
			b.SetParallelism(max(1, 16/runtime.GOMAXPROCS(0)))
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					l := ls[next.Add(1)-1]
					now := time.Now()
					p := store.RecordAttemptParams{DeliveryID: l.Delivery.ID, Token: l.Token, Status: status, NextAttemptAt: now.Add(time.Hour),
						Attempt: store.Attempt{StartedAt: now, FinishedAt: now, StatusCode: 200}}
					if status == store.DeliveryPending {
						p.Attempt.StatusCode = 503
					}
					if _, err := st.RecordAttempt(b.Context(), p); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "attempts/s")
		})
	}
}

// BenchmarkBaselineAttemptUpdateParallel16 is the floor of BenchmarkRecordAttemptParallel16:
// a raw autocommit UPDATE of each delivery's status, from 16 goroutines at once.
func BenchmarkBaselineAttemptUpdateParallel16(b *testing.B) {
	db := openDB(b)
	schema := newSchema(b, db)
	st := newStore(b, db, schema)
	ls := leaseBench(b, db, st, schema, b.N)
	q := "UPDATE " + schema + ".deliveries SET status = 'delivered', lease_expires_at = NULL WHERE id = $1"
	var next atomic.Int64
	b.SetParallelism(max(1, 16/runtime.GOMAXPROCS(0)))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l := ls[next.Add(1)-1]
			if _, err := db.ExecContext(b.Context(), q, l.Delivery.ID.String()); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "attempts/s")
}

// leaseBench inserts n pending deliveries to the endpoint e, due now, and leases them all
// for an hour.
func leaseBench(b *testing.B, db *sql.DB, st store.Store, schema string, n int) []store.Lease {
	b.Helper()
	now := time.Now()
	_, err := db.ExecContext(b.Context(), "INSERT INTO "+schema+`.deliveries (id, endpoint, method, url, status, next_attempt_at, created_at)
		SELECT gen_random_uuid(), 'e', 'GET', 'https://t.example/pb', 'pending', $1::timestamptz - interval '1 minute', $1
		FROM generate_series(1, $2::integer)`, now, n)
	if err != nil {
		b.Fatal(err)
	}
	var ls []store.Lease
	for len(ls) < n {
		got, err := st.LeaseDeliveries(b.Context(), store.LeaseParams{Now: now, LeaseFor: time.Hour, Limit: 1000})
		if err != nil || len(got) == 0 {
			b.Fatal(err, len(got))
		}
		ls = append(ls, got...)
	}
	return ls
}
