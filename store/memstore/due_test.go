package memstore_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/store"
	"github.com/s2skit/s2s/store/memstore"
)

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// recordDeliveries records a conversion with deliveries to endpoint "e" due at the given
// times, with IDs of the caller's choice (so that two stores get the same ones).
func recordDeliveries(tb testing.TB, st *memstore.Store, ids []uuid.UUID, dues []time.Time) {
	tb.Helper()
	recordDeliveriesTo(tb, st, func(int) string { return "e" }, ids, dues)
}

// recordDeliveriesTo is recordDeliveries with the endpoint of each delivery given by its
// position.
func recordDeliveriesTo(tb testing.TB, st *memstore.Store, endpoint func(i int) string, ids []uuid.UUID, dues []time.Time) {
	tb.Helper()
	id := ids[0] // a conversion ID of the caller's choice, too
	p := store.RecordConversionParams{Conversion: store.Conversion{
		ID: id, DedupKey: id.String(), Event: event.FTD, Status: event.StatusPending, OccurredAt: t0, ReceivedAt: t0,
	}}
	for i, due := range dues {
		p.Deliveries = append(p.Deliveries, store.Delivery{ID: ids[i], ConversionID: id, Endpoint: endpoint(i), Method: http.MethodGet,
			URL: "https://t.example/pb", Status: store.DeliveryPending, NextAttemptAt: due, CreatedAt: t0})
	}
	_, err := st.RecordConversion(context.Background(), p)
	require.NoError(tb, err)
}

// TestStore_LeaseDeliveries_MatchesScan runs one random history of records (to three
// endpoints), leases (by clocks that disagree, with random limits, lease times and excluded
// endpoints), attempts (by current and by stale lease holders, finishing in time or late),
// replays (one, or every dead delivery of an endpoint) and endpoints disabled and enabled,
// against two stores: one leasing with the due index, one with the scan it replaced. They
// must lease the same deliveries, in the same order, with the same tokens and expiries, and
// accept and refuse the same attempts.
func TestStore_LeaseDeliveries_MatchesScan(t *testing.T) {
	t.Parallel()
	for seed := range uint64(20) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(seed, 1))
			ctx := t.Context()
			indexed, scanned := memstore.New(nil), memstore.New(nil)
			clock := func() time.Time { return t0.Add(time.Duration(rng.IntN(600)) * time.Second) }
			var held []store.Lease
			var dead []uuid.UUID
			endpoints := []string{"e0", "e1", "e2"}
			endpointOf := func(int) string { return endpoints[rng.IntN(len(endpoints))] }
			for step := range 400 {
				switch op := rng.IntN(12); {
				case op == 10: // disable or enable an endpoint
					name := endpoints[rng.IntN(len(endpoints))]
					var a, b store.EndpointState
					var errA, errB error
					if rng.IntN(2) == 0 {
						p := store.DisableEndpointParams{Name: name, Reason: "gone", At: clock()}
						a, errA = indexed.DisableEndpoint(ctx, p)
						b, errB = scanned.DisableEndpoint(ctx, p)
					} else {
						p := store.EnableEndpointParams{Name: name, At: clock()}
						a, errA = indexed.EnableEndpoint(ctx, p)
						b, errB = scanned.EnableEndpoint(ctx, p)
					}
					require.Equal(t, errB == nil, errA == nil, "rule: the stores disable and enable alike (step %d)", step)
					require.Equal(t, b, a, "rule: the stores keep the same endpoint state (step %d)", step)
				case op == 11: // replay every dead delivery of an endpoint
					p := store.ReplayDeliveriesParams{Endpoint: endpoints[rng.IntN(len(endpoints))], At: clock()}
					if rng.IntN(2) == 0 {
						p.CreatedBefore = t0.Add(time.Duration(rng.IntN(3)-1) * time.Second)
					}
					a, errA := indexed.ReplayDeliveries(ctx, p)
					b, errB := scanned.ReplayDeliveries(ctx, p)
					require.NoError(t, errA)
					require.NoError(t, errB)
					require.Equal(t, b, a, "rule: the stores replay as many deliveries (step %d)", step)
				case op < 2: // record a conversion with 1 to 4 deliveries
					n := 1 + rng.IntN(4)
					ids, dues := make([]uuid.UUID, n), make([]time.Time, n)
					for i := range n {
						ids[i], dues[i] = uuid.New(), clock()
						if i > 0 && rng.IntN(4) == 0 {
							dues[i] = dues[i-1] // ties, ordered by ID
						}
					}
					eps := make([]string, n)
					for i := range eps {
						eps[i] = endpointOf(i)
					}
					recordDeliveriesTo(t, indexed, func(i int) string { return eps[i] }, ids, dues)
					recordDeliveriesTo(t, scanned, func(i int) string { return eps[i] }, ids, dues)
				case op < 6: // lease, by a clock that need not agree with the last one
					p := store.LeaseParams{Now: clock(), LeaseFor: time.Duration(1+rng.IntN(120)) * time.Second, Limit: rng.IntN(5)}
					for _, name := range endpoints {
						if rng.IntN(4) == 0 {
							p.Exclude = append(p.Exclude, name)
						}
					}
					a, errA := indexed.LeaseDeliveries(ctx, p)
					b, errB := scanned.LeaseDeliveriesByScan(ctx, p)
					require.NoError(t, errA)
					require.NoError(t, errB)
					require.Equal(t, b, a, "rule: the due index leases what the scan leases, in order (step %d)", step)
					held = append(held, a...)
				case op < 9 && len(held) > 0: // an attempt by a lease holder, current or stale
					i := rng.IntN(len(held))
					l := held[i]
					held = append(held[:i], held[i+1:]...)
					start := l.ExpiresAt.Add(-time.Duration(rng.IntN(90)) * time.Second)
					p := store.RecordAttemptParams{DeliveryID: l.Delivery.ID, Token: l.Token,
						Attempt: store.Attempt{StartedAt: start, FinishedAt: start.Add(time.Second), StatusCode: 200}}
					switch rng.IntN(3) {
					case 0:
						p.Status = store.DeliveryDelivered
					case 1:
						p.Status = store.DeliveryDead
					default:
						p.Status, p.NextAttemptAt = store.DeliveryPending, start.Add(time.Duration(2+rng.IntN(300))*time.Second)
					}
					a, errA := indexed.RecordAttempt(ctx, p)
					b, errB := scanned.RecordAttempt(ctx, p)
					require.Equal(t, errB == nil, errA == nil, "rule: the stores accept and refuse the same attempts (step %d): %v, %v", step, errA, errB)
					if errA != nil {
						require.ErrorIs(t, errA, store.ErrLeaseLost, "rule: a stale or late attempt is ErrLeaseLost")
						continue
					}
					require.Equal(t, b, a, "rule: an attempt leaves the same delivery (step %d)", step)
					if a.Status == store.DeliveryDead {
						dead = append(dead, a.ID)
					}
				case len(dead) > 0: // replay a dead delivery
					i := rng.IntN(len(dead))
					p := store.ReplayDeliveryParams{DeliveryID: dead[i], At: clock()}
					dead = append(dead[:i], dead[i+1:]...)
					a, errA := indexed.ReplayDelivery(ctx, p)
					b, errB := scanned.ReplayDelivery(ctx, p)
					require.Equal(t, errB == nil, errA == nil, "rule: the stores replay the same deliveries")
					if errA != nil {
						require.True(t, errors.Is(errA, store.ErrConflict), "rule: only a dead delivery is replayed")
						continue
					}
					require.Equal(t, b, a, "rule: a replay leaves the same delivery (step %d)", step)
				}
			}
		})
	}
}

// BenchmarkLeaseDeliveries leases from an outbox of 100,000 deliveries already delivered or
// dead and 10 pending ones, which fall due again every 2 minutes (each lease lasts one): the
// outbound worker's poll. The baseline is the scan that LeaseDeliveries replaced.
//
//	go test -run=NONE -bench=LeaseDeliveries -benchmem ./store/memstore/
func BenchmarkLeaseDeliveries(b *testing.B) {
	const settled, pending = 100_000, 10
	for _, bc := range []struct {
		name  string
		lease func(*memstore.Store, context.Context, store.LeaseParams) ([]store.Lease, error)
	}{
		{"Index", (*memstore.Store).LeaseDeliveries},
		{"ScanBaseline", (*memstore.Store).LeaseDeliveriesByScan},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			st := memstore.New(nil)
			var ids []uuid.UUID
			var dues []time.Time
			for range settled {
				ids, dues = append(ids, uuid.New()), append(dues, t0)
			}
			for start := 0; start < settled; start += 1000 {
				recordDeliveries(b, st, ids[start:start+1000], dues[start:start+1000])
			}
			for done := 0; done < settled; {
				ls, err := st.LeaseDeliveries(ctx, store.LeaseParams{Now: t0, LeaseFor: time.Minute, Limit: 1000})
				if err != nil || len(ls) == 0 {
					b.Fatal(err, len(ls))
				}
				for i, l := range ls {
					status := store.DeliveryDelivered
					if i%10 == 0 {
						status = store.DeliveryDead
					}
					_, err := st.RecordAttempt(ctx, store.RecordAttemptParams{DeliveryID: l.Delivery.ID, Token: l.Token,
						Attempt: store.Attempt{StartedAt: t0, FinishedAt: t0.Add(time.Second)}, Status: status})
					if err != nil {
						b.Fatal(err)
					}
				}
				done += len(ls)
			}
			ids, dues = ids[:0], dues[:0]
			for range pending {
				ids, dues = append(ids, uuid.New()), append(dues, t0.Add(time.Hour))
			}
			recordDeliveries(b, st, ids, dues)
			now := t0.Add(time.Hour)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				ls, err := bc.lease(st, ctx, store.LeaseParams{Now: now, LeaseFor: time.Minute, Limit: pending})
				if err != nil || len(ls) != pending {
					b.Fatal(err, len(ls))
				}
				now = now.Add(2 * time.Minute)
			}
		})
	}
}

// BenchmarkLeaseDeliveriesBehindBacklog leases as BenchmarkLeaseDeliveries does, 10 pending
// deliveries that fall due every 2 minutes, from an outbox where 100,000 more pending
// deliveries, all due before them, wait for an endpoint that is disabled, or that the
// worker excludes (at its concurrency limit): the poll while one receiver is down for days.
// The index never looks at the backlog; the baseline, the scan, skips it delivery by
// delivery.
//
//	go test -run=NONE -bench=LeaseDeliveries -benchmem ./store/memstore/
func BenchmarkLeaseDeliveriesBehindBacklog(b *testing.B) {
	const backlog, pending = 100_000, 10
	for _, why := range []string{"Disabled", "Excluded"} {
		for _, bc := range []struct {
			name  string
			lease func(*memstore.Store, context.Context, store.LeaseParams) ([]store.Lease, error)
		}{
			{"Index", (*memstore.Store).LeaseDeliveries},
			{"ScanBaseline", (*memstore.Store).LeaseDeliveriesByScan},
		} {
			b.Run(why+"/"+bc.name, func(b *testing.B) {
				ctx := context.Background()
				st := memstore.New(nil)
				ids, dues := make([]uuid.UUID, 1000), make([]time.Time, 1000)
				for start := 0; start < backlog; start += len(ids) {
					for i := range ids {
						ids[i], dues[i] = uuid.New(), t0.Add(time.Duration(start+i)*time.Millisecond)
					}
					recordDeliveriesTo(b, st, func(int) string { return "down" }, ids, dues)
				}
				p := store.LeaseParams{LeaseFor: time.Minute, Limit: pending}
				if why == "Disabled" {
					if _, err := st.DisableEndpoint(ctx, store.DisableEndpointParams{Name: "down", Reason: "410 Gone", At: t0}); err != nil {
						b.Fatal(err)
					}
				} else {
					p.Exclude = []string{"down"}
				}
				ids, dues = ids[:pending], dues[:pending]
				for i := range pending {
					ids[i], dues[i] = uuid.New(), t0.Add(time.Hour)
				}
				recordDeliveries(b, st, ids, dues)
				p.Now = t0.Add(time.Hour)
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					ls, err := bc.lease(st, ctx, p)
					if err != nil || len(ls) != pending {
						b.Fatal(err, len(ls))
					}
					p.Now = p.Now.Add(2 * time.Minute)
				}
			})
		}
	}
}
