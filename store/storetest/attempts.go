package storetest

import (
	"errors"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/store"
)

// attemptBatches checks store.AttemptRecorder, on stores that have it: for a store without
// the capability it checks nothing (and skips nothing, so that a run shows no skipped test
// for a capability a store does not claim).
func (s suite) attemptBatches(t *testing.T) {
	if _, ok := s.h.NewStore(t).(store.AttemptRecorder); !ok {
		return
	}
	recorder := func(t *testing.T, st store.Store) store.AttemptRecorder {
		t.Helper()
		r, ok := st.(store.AttemptRecorder)
		require.True(t, ok, "the store has no store.AttemptRecorder")
		return r
	}
	t.Run("TextKeptExactly", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		rec := recorder(t, st)
		texts := []string{`a "quoted" \ back\slash`, `{braces},commas,NULL`, "", "NULL", `\"`, " spaced ", "é ü 中文 \u00e9"}
		dues := make([]time.Time, len(texts))
		for i := range dues {
			dues[i] = base
		}
		ds := recordWithDeliveries(t, st, "k1", dues...)
		leases, err := st.LeaseDeliveries(ctx(t), store.LeaseParams{Now: base, LeaseFor: time.Minute, Limit: len(texts)})
		require.NoError(t, err, "rule: a valid LeaseDeliveries succeeds")
		require.Len(t, leases, len(texts), "rule: every due delivery is leased")
		tok := map[uuid.UUID]int64{}
		for _, l := range leases {
			tok[l.Delivery.ID] = l.Token
		}
		ps := make([]store.RecordAttemptParams, len(texts))
		for i, text := range texts {
			a := attempt(base, 503)
			a.Response, a.Error = text, text
			ps[i] = store.RecordAttemptParams{DeliveryID: ds[i].ID, Token: tok[ds[i].ID], Attempt: a, Status: store.DeliveryPending, NextAttemptAt: base.Add(time.Minute)}
		}
		got, errs := rec.RecordAttempts(ctx(t), ps)
		for i, text := range texts {
			require.NoError(t, errs[i], "rule: an attempt under its lease is recorded")
			require.Equal(t, []store.Attempt{ps[i].Attempt.Normalize()}, got[i].Attempts, "rule: a batched attempt's text is kept exactly (%q)", text)
			d, err := st.GetDelivery(ctx(t), ds[i].ID)
			require.NoError(t, err, "rule: a valid GetDelivery succeeds")
			require.Equal(t, got[i], d, "rule: the delivery a batch returns is the one the store keeps (%q)", text)
		}
	})
	t.Run("EachAttemptUnderItsOwnLease", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		rec := recorder(t, st)
		ds := recordWithDeliveries(t, st, "k1", base, base, base, base)
		leases, err := st.LeaseDeliveries(ctx(t), store.LeaseParams{Now: base, LeaseFor: time.Minute})
		require.NoError(t, err, "rule: a valid LeaseDeliveries succeeds")
		require.Len(t, leases, 4, "rule: every due delivery is leased")
		tok := map[uuid.UUID]int64{}
		for _, l := range leases {
			tok[l.Delivery.ID] = l.Token
		}
		retryAt := base.Add(5 * time.Minute)
		ps := []store.RecordAttemptParams{
			{DeliveryID: ds[0].ID, Token: tok[ds[0].ID], Attempt: attempt(base, 200), Status: store.DeliveryDelivered},
			{DeliveryID: ds[1].ID, Token: tok[ds[1].ID] + 1, Attempt: attempt(base, 200), Status: store.DeliveryDelivered},
			{DeliveryID: uuid.New(), Token: 1, Attempt: attempt(base, 200), Status: store.DeliveryDelivered},
			{DeliveryID: ds[2].ID, Token: tok[ds[2].ID], Attempt: attempt(base, 503), Status: store.DeliveryPending, NextAttemptAt: retryAt},
			{DeliveryID: ds[3].ID, Token: tok[ds[3].ID], Attempt: attempt(base, 503), Status: store.DeliveryPending}, // no NextAttemptAt
			{DeliveryID: ds[0].ID, Token: tok[ds[0].ID], Attempt: attempt(base.Add(time.Second), 200), Status: store.DeliveryDelivered},
		}
		got, errs := rec.RecordAttempts(ctx(t), ps)
		require.Len(t, got, len(ps), "rule: RecordAttempts returns a delivery per attempt, at its index")
		require.Len(t, errs, len(ps), "rule: RecordAttempts returns an error per attempt, at its index")
		require.NoError(t, errs[0], "rule: an attempt under its lease is recorded, whatever the others in its batch")
		require.Equal(t, store.DeliveryDelivered, got[0].Status, "rule: a batched attempt moves its delivery as RecordAttempt does")
		require.Equal(t, []store.Attempt{attempt(base, 200).Normalize()}, got[0].Attempts, "rule: a batched attempt is recorded with the delivery's history")
		require.ErrorIs(t, errs[1], store.ErrLeaseLost, "rule: a batched attempt with a stale token is ErrLeaseLost")
		require.ErrorIs(t, errs[2], store.ErrNotFound, "rule: a batched attempt of an unknown delivery is ErrNotFound")
		require.NoError(t, errs[3], "rule: a batched retry under its lease is recorded")
		require.Equal(t, at(5*time.Minute), got[3].NextAttemptAt, "rule: a batched retry is due at NextAttemptAt")
		require.ErrorIs(t, errs[4], store.ErrInvalid, "rule: batched parameters that fail Validate are ErrInvalid")
		require.ErrorIs(t, errs[5], store.ErrLeaseLost, "rule: a delivery named twice: its later attempt finds the lease ended by the first")

		for i, want := range map[int]store.DeliveryStatus{0: store.DeliveryDelivered, 1: store.DeliveryPending, 2: store.DeliveryPending, 3: store.DeliveryPending} {
			d, err := st.GetDelivery(ctx(t), ds[i].ID)
			require.NoError(t, err, "rule: a valid GetDelivery succeeds")
			require.Equal(t, want, d.Status, "rule: a batch writes only the attempts it records (delivery %d)", i)
		}
		d, err := st.GetDelivery(ctx(t), ds[2].ID)
		require.NoError(t, err, "rule: a valid GetDelivery succeeds")
		require.Equal(t, got[3], d, "rule: the delivery a batch returns is the one the store keeps")
		d, err = st.GetDelivery(ctx(t), ds[1].ID)
		require.NoError(t, err, "rule: a valid GetDelivery succeeds")
		require.Empty(t, d.Attempts, "rule: an attempt refused with ErrLeaseLost writes nothing")
		_, err = st.RecordAttempt(ctx(t), store.RecordAttemptParams{DeliveryID: ds[1].ID, Token: tok[ds[1].ID], Attempt: attempt(base, 200), Status: store.DeliveryDelivered})
		require.NoError(t, err, "rule: a lease untouched by a refused batched attempt still records")

		none, errs := rec.RecordAttempts(ctx(t), nil)
		require.Empty(t, none, "rule: an empty batch returns nothing")
		require.Empty(t, errs, "rule: an empty batch returns no errors")
		_, errs = rec.RecordAttempts(ctx(t), make([]store.RecordAttemptParams, store.MaxLines+1))
		require.ErrorIs(t, errs[0], store.ErrInvalid, "rule: more than MaxLines attempts are ErrInvalid")
	})
	t.Run("AsIfOneByOneInFinishedAtOrder", func(t *testing.T) {
		t.Parallel()
		// The same histories on two stores, recorded one by one on one and in batches on the
		// other, leave the same deliveries and endpoint states.
		one, batched := s.h.NewStore(t), s.h.NewStore(t)
		rec := recorder(t, batched)
		rnd := rand.New(rand.NewPCG(12, 2026))
		endpoints := []string{"ep-a", "ep-b", "ep-c"}
		now := base
		for round := range 40 {
			now = now.Add(time.Hour)
			if rnd.IntN(6) == 0 {
				// Re-enable an endpoint, so that EnabledAt excludes earlier failures.
				name := endpoints[rnd.IntN(len(endpoints))]
				for _, st := range []store.Store{one, batched} {
					_, err := st.DisableEndpoint(ctx(t), store.DisableEndpointParams{Name: name, Reason: "test", At: now.Add(-2 * time.Hour)})
					require.NoError(t, err, "rule: a valid DisableEndpoint succeeds")
					_, err = st.EnableEndpoint(ctx(t), store.EnableEndpointParams{Name: name, At: now.Add(-time.Hour)})
					require.NoError(t, err, "rule: a valid EnableEndpoint succeeds")
				}
			}
			p := conversionFor("k"+string(rune('a'+round%26))+uuid.NewString(), "aff-1", now)
			p.Deliveries = nil
			for range 1 + rnd.IntN(8) {
				d := newDelivery(p.Conversion.ID, now)
				d.Endpoint = endpoints[rnd.IntN(len(endpoints))]
				p.Deliveries = append(p.Deliveries, d)
			}
			tokens := make([]map[uuid.UUID]int64, 2)
			for k, st := range []store.Store{one, batched} {
				_, err := st.RecordConversion(ctx(t), p)
				require.NoError(t, err, "rule: a valid RecordConversion succeeds")
				ls, err := st.LeaseDeliveries(ctx(t), store.LeaseParams{Now: now, LeaseFor: time.Hour, Limit: 1000})
				require.NoError(t, err, "rule: a valid LeaseDeliveries succeeds")
				tokens[k] = map[uuid.UUID]int64{}
				for _, l := range ls {
					tokens[k][l.Delivery.ID] = l.Token
				}
			}
			var ps []store.RecordAttemptParams
			for _, d := range p.Deliveries {
				start := now.Add(time.Duration(rnd.IntN(150)-120) * time.Minute) // some before the endpoint's last state
				a := store.Attempt{StartedAt: start, FinishedAt: start.Add(time.Duration(rnd.IntN(3)) * time.Second), StatusCode: 200}
				q := store.RecordAttemptParams{DeliveryID: d.ID, Attempt: a, Status: store.DeliveryDelivered}
				switch rnd.IntN(3) {
				case 0:
					q.Attempt.StatusCode, q.Status = 410, store.DeliveryDead
				case 1:
					q.Attempt.StatusCode, q.Status, q.NextAttemptAt = 503, store.DeliveryPending, now.Add(100*time.Hour)
				}
				ps = append(ps, q)
			}
			// One by one, in FinishedAt order, on one store.
			order := make([]int, len(ps))
			for i := range order {
				order[i] = i
			}
			slices.SortStableFunc(order, func(i, j int) int { return ps[i].Attempt.FinishedAt.Compare(ps[j].Attempt.FinishedAt) })
			wantErr := make([]bool, len(ps))
			for _, i := range order {
				q := ps[i]
				q.Token = tokens[0][q.DeliveryID]
				if i%5 == 4 {
					q.Token++ // a lost lease, on both stores
				}
				_, err := one.RecordAttempt(ctx(t), q)
				wantErr[i] = err != nil
			}
			// In one shuffled batch on the other.
			bs := slices.Clone(ps)
			for i := range bs {
				bs[i].Token = tokens[1][bs[i].DeliveryID]
				if i%5 == 4 {
					bs[i].Token++
				}
			}
			perm := rnd.Perm(len(bs))
			shuffled := make([]store.RecordAttemptParams, len(bs))
			for i, j := range perm {
				shuffled[j] = bs[i]
			}
			_, errs := rec.RecordAttempts(ctx(t), shuffled)
			for i, j := range perm {
				require.Equal(t, wantErr[i], errs[j] != nil, "rule: a batched attempt is refused exactly when RecordAttempt refuses it (round %d: %v)", round, errs[j])
			}
			for _, name := range endpoints {
				a, err := one.GetEndpoint(ctx(t), name)
				require.NoError(t, err, "rule: a valid GetEndpoint succeeds")
				b, err := batched.GetEndpoint(ctx(t), name)
				require.NoError(t, err, "rule: a valid GetEndpoint succeeds")
				require.Equal(t, a, b, "rule: a batch leaves the endpoint state that recording its attempts one by one in FinishedAt order leaves (round %d, %s)", round, name)
			}
			for _, d := range p.Deliveries {
				a, err := one.GetDelivery(ctx(t), d.ID)
				require.NoError(t, err, "rule: a valid GetDelivery succeeds")
				b, err := batched.GetDelivery(ctx(t), d.ID)
				require.NoError(t, err, "rule: a valid GetDelivery succeeds")
				require.Equal(t, a, b, "rule: a batch leaves each delivery as RecordAttempt leaves it (round %d)", round)
			}
		}
	})
	t.Run("ConcurrentBatches", func(t *testing.T) {
		t.Parallel()
		// Goroutines on every handle record batches of the same leases: each attempt is
		// recorded once, by one batch, the others are ErrLeaseLost, and the endpoints' state
		// is the one their recorded attempts say.
		st := s.h.NewStore(t)
		handles := []store.Store{st}
		if s.h.Reopen != nil {
			handles = append(handles, s.h.Reopen(t, st))
		}
		recorder(t, st)
		const n = 60
		p := conversionFor("k1", "aff-1", base)
		p.Deliveries = nil
		for i := range n {
			d := newDelivery(p.Conversion.ID, base)
			d.Endpoint = []string{"ep-a", "ep-b", "ep-c"}[i%3]
			p.Deliveries = append(p.Deliveries, d)
		}
		_, err := st.RecordConversion(ctx(t), p)
		require.NoError(t, err, "rule: a valid RecordConversion succeeds")
		ls, err := st.LeaseDeliveries(ctx(t), store.LeaseParams{Now: base, LeaseFor: time.Hour, Limit: n})
		require.NoError(t, err, "rule: a valid LeaseDeliveries succeeds")
		require.Len(t, ls, n, "rule: every due delivery is leased")
		ps := make([]store.RecordAttemptParams, n)
		for i, l := range ls {
			a := store.Attempt{StartedAt: base.Add(time.Duration(i) * time.Second), FinishedAt: base.Add(time.Duration(i) * time.Second), StatusCode: 200}
			ps[i] = store.RecordAttemptParams{DeliveryID: l.Delivery.ID, Token: l.Token, Attempt: a, Status: store.DeliveryDelivered}
			// Every failure finishes after every success, so that the endpoints' state does not
			// depend on the order the batches record them in.
			switch {
			case i >= n/2 && i%2 == 0:
				ps[i].Attempt.StatusCode, ps[i].Status = http.StatusGone, store.DeliveryDead
			case i >= n/2:
				ps[i].Attempt.StatusCode, ps[i].Status, ps[i].NextAttemptAt = http.StatusServiceUnavailable, store.DeliveryPending, base.Add(time.Hour)
			}
		}
		const goroutines = 8
		var wg sync.WaitGroup
		var mu sync.Mutex
		recorded := map[uuid.UUID]int{}
		for g := range goroutines {
			r := handles[g%len(handles)].(store.AttemptRecorder)
			wg.Go(func() {
				rnd := rand.New(rand.NewPCG(uint64(g), 7))
				mine := slices.Clone(ps)
				rnd.Shuffle(len(mine), func(i, j int) { mine[i], mine[j] = mine[j], mine[i] })
				for len(mine) > 0 {
					k := min(len(mine), 1+rnd.IntN(16))
					_, errs := r.RecordAttempts(t.Context(), mine[:k])
					mu.Lock()
					for i, err := range errs {
						switch {
						case err == nil:
							recorded[mine[i].DeliveryID]++
						case !errors.Is(err, store.ErrLeaseLost):
							t.Errorf("rule: concurrent batches of the same leases record or refuse each attempt with ErrLeaseLost, never fail: %v", err)
						}
					}
					mu.Unlock()
					mine = mine[k:]
				}
			})
		}
		wg.Wait()
		require.Len(t, recorded, n, "rule: concurrent batches record every attempt")
		for id, c := range recorded {
			require.Equal(t, 1, c, "rule: concurrent batches record an attempt under one lease once (%s)", id)
		}
		for _, name := range []string{"ep-a", "ep-b", "ep-c"} {
			var want store.EndpointState
			for i := range ps {
				if ls[i].Delivery.Endpoint != name {
					continue
				}
				f := at(time.Duration(i) * time.Second)
				if ps[i].Status == store.DeliveryDelivered {
					want.LastSuccessAt = f
				}
			}
			for i := range ps {
				if f := at(time.Duration(i) * time.Second); ls[i].Delivery.Endpoint == name && ps[i].Status != store.DeliveryDelivered && f.After(want.LastSuccessAt) && want.FailingSince.IsZero() {
					want.FailingSince = f
				}
			}
			got, err := st.GetEndpoint(ctx(t), name)
			require.NoError(t, err, "rule: a valid GetEndpoint succeeds")
			require.Equal(t, want.LastSuccessAt, got.LastSuccessAt, "rule: after concurrent batches, LastSuccessAt is the latest delivered attempt's FinishedAt (%s)", name)
			require.Equal(t, want.FailingSince, got.FailingSince, "rule: after concurrent batches, FailingSince is the first failure after the last success (%s)", name)
		}
	})
}
