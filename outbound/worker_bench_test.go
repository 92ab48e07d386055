package outbound_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/internal/pgtest"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/outbound"
	"github.com/s2skit/s2s/store"
	"github.com/s2skit/s2s/store/memstore"
)

// The worker's throughput to a receiver on loopback, on memstore and on pgstore, beside
// two baselines with the same concurrency sending the same requests: a bare http.Client
// loop, which records nothing (what leasing, rendering and recording every attempt cost
// over sending alone), and the same loop recording each delivery durably the way a user's
// own outbox would, with one autocommit UPDATE per attempt on the same PostgreSQL (what the
// worker's durability costs beside the simplest durable loop). Each operation is a batch of
// benchBatch deliveries (one conversion's), and ns/delivery is the figure to compare. The
// PostgreSQL benchmarks skip without S2S_TEST_POSTGRES_URL:
//
//	go test -run=NONE -bench=Worker -benchmem ./outbound/

const (
	benchBatch       = 1000
	benchConcurrency = 16
)

func benchReceiver(b *testing.B) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("ok"))
	}))
	b.Cleanup(srv.Close)
	return srv
}

// benchClient is the guarded client both sides use, allowing loopback. The baseline's
// requests are allowed http by their context, as the worker's are by their endpoint.
func benchClient() *http.Client {
	return outbound.NewClient(&outbound.ClientOptions{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
}

// BenchmarkWorker_BareClientBaseline sends the batch's requests with benchConcurrency
// goroutines and one client: the floor a worker is measured against.
func BenchmarkWorker_BareClientBaseline(b *testing.B) {
	srv := benchReceiver(b)
	c := benchClient()
	url := srv.URL + "/pb?eid=" + uuid.NewString() + "&tx=T1&payout=50.00"
	b.ReportAllocs()
	var cpu cpuMeter
	for b.Loop() {
		cpu.start()
		var wg sync.WaitGroup
		next := make(chan struct{}, benchBatch)
		for range benchBatch {
			next <- struct{}{}
		}
		close(next)
		for range benchConcurrency {
			wg.Go(func() {
				for range next {
					req, err := http.NewRequestWithContext(outbound.WithHTTPAllowed(context.Background()), http.MethodGet, url, nil)
					if err != nil {
						b.Error(err)
						return
					}
					resp, err := c.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, store.MaxTextLen))
					_ = resp.Body.Close()
				}
			})
		}
		wg.Wait()
		cpu.stop()
	}
	cpu.report(b, b.N*benchBatch)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchBatch), "ns/delivery")
}

// BenchmarkWorker_DurableClientBaseline is the bare client loop recording each delivery
// durably, as the simplest outbox of a user's own would: the batch's deliveries are rows of
// a table (inserted outside the timer, as the worker's conversion is), and each goroutine,
// after each request, marks its row delivered with one autocommit UPDATE, a commit each, on
// a pool of the size the worker's store has. It keeps no attempt log, no lease and no
// endpoint state: the floor of a loop that loses nothing the receiver accepted.
func BenchmarkWorker_DurableClientBaseline(b *testing.B) {
	sch := pgtest.New(b)
	_, db := sch.Open(b)
	tbl := sch.Name + ".bench_outbox"
	if _, err := db.ExecContext(b.Context(), "CREATE TABLE "+tbl+" (id uuid PRIMARY KEY, url text NOT NULL,"+
		" status text NOT NULL DEFAULT 'pending', attempts integer NOT NULL DEFAULT 0, status_code integer, finished_at timestamptz)"); err != nil {
		b.Fatal(err)
	}
	srv := benchReceiver(b)
	c := benchClient()
	type row struct {
		id  uuid.UUID
		url string
	}
	rows := make([]row, benchBatch)
	ids := make([]string, benchBatch)
	urls := make([]string, benchBatch)
	b.ReportAllocs()
	var cpu cpuMeter
	for b.Loop() {
		b.StopTimer()
		for i := range rows {
			rows[i].id = uuid.New()
			rows[i].url = srv.URL + "/pb?eid=" + rows[i].id.String() + "&tx=T1&payout=50.00"
			ids[i], urls[i] = rows[i].id.String(), rows[i].url
		}
		if _, err := db.ExecContext(b.Context(), "INSERT INTO "+tbl+" (id, url) SELECT * FROM unnest($1::uuid[], $2::text[])",
			"{"+strings.Join(ids, ",")+"}", "{"+strings.Join(quoted(urls), ",")+"}"); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		cpu.start()
		var next atomic.Int64
		var wg sync.WaitGroup
		for range benchConcurrency {
			wg.Go(func() {
				for i := next.Add(1) - 1; i < benchBatch; i = next.Add(1) - 1 {
					r := rows[i]
					req, err := http.NewRequestWithContext(outbound.WithHTTPAllowed(context.Background()), http.MethodGet, r.url, nil)
					if err != nil {
						b.Error(err)
						return
					}
					resp, err := c.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, store.MaxTextLen))
					_ = resp.Body.Close()
					if _, err := db.ExecContext(context.Background(), "UPDATE "+tbl+" SET status = 'delivered', attempts = attempts + 1,"+
						" status_code = $2, finished_at = $3 WHERE id = $1 AND status = 'pending'", r.id, resp.StatusCode, time.Now()); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		cpu.stop()
	}
	cpu.report(b, b.N*benchBatch)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchBatch), "ns/delivery")
}

// quoted returns each of ss as an element of a PostgreSQL array literal.
func quoted(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
	}
	return out
}

// BenchmarkWorker_Throughput delivers each batch through a Worker on memstore.
func BenchmarkWorker_Throughput(b *testing.B) {
	benchWorker(b, memstore.New(nil))
}

// BenchmarkWorker_ThroughputPostgres delivers each batch through a Worker on pgstore, on a
// schema of its own.
func BenchmarkWorker_ThroughputPostgres(b *testing.B) {
	st, _ := pgtest.Store(b)
	benchWorker(b, st)
}

// benchWorker measures a worker delivering batches from st.
func benchWorker(b *testing.B, st store.Store) {
	srv := benchReceiver(b)
	ep := &outbound.Endpoint{
		Name: "aff-1", URL: srv.URL + "/pb?eid={event_id}&tx={transaction_id}&payout={payout}",
		AllowHTTP: true, Concurrency: benchConcurrency,
	}
	if err := ep.Compile(); err != nil {
		b.Fatal(err)
	}
	var delivered sync.WaitGroup
	w, err := outbound.NewWorker(st, outbound.Endpoints{ep}.Lookup(), &outbound.WorkerOptions{
		Client: benchClient(), Workers: benchConcurrency,
		OnResult: func(r outbound.Result) {
			if r.Err != nil || r.Delivery.Status != store.DeliveryDelivered {
				b.Errorf("not delivered: %v %s", r.Err, r.Class)
			}
			delivered.Done()
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- w.Run(ctx) }()
	defer func() { cancel(); <-done }()

	b.ReportAllocs()
	var cpu cpuMeter
	for b.Loop() {
		b.StopTimer()
		p := benchConversion(b, ep)
		delivered.Add(benchBatch) // before the deliveries exist: a poll may send them at once
		if _, err := st.RecordConversion(ctx, p); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		cpu.start()
		w.Notify()
		delivered.Wait()
		cpu.stop()
	}
	cpu.report(b, b.N*benchBatch)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchBatch), "ns/delivery")
}

// benchConversion returns a conversion with benchBatch deliveries to ep.
func benchConversion(b *testing.B, ep *outbound.Endpoint) store.RecordConversionParams {
	now := time.Now()
	id := uuid.New()
	tx := id.String()
	c := store.Conversion{
		ID: id, DedupKey: "src:ftd:" + tx, Source: "src", Event: event.FTD, PlayerID: "p-" + tx,
		AffiliateID: "aff-1", TransactionID: tx, Amount: money.New(15000, money.EUR),
		Status: event.StatusApproved, OccurredAt: now, ReceivedAt: now,
		Decision: store.Decision{Model: "last_click", Code: "click", Reason: "bench"},
	}
	p := store.RecordConversionParams{Conversion: c, Deliveries: make([]store.Delivery, 0, benchBatch)}
	v := outbound.ValuesOf(c, money.New(5000, money.EUR))
	for range benchBatch {
		v.EventID = uuid.New()
		d, err := ep.Delivery(v, now)
		if err != nil {
			b.Fatal(err)
		}
		p.Deliveries = append(p.Deliveries, d)
	}
	return p
}
