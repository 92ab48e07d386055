package attribution_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/attribution"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/internal/pgtest"
	"github.com/s2skit/s2s/store"
	"github.com/s2skit/s2s/store/memstore"
)

// record is the Tracker's side of the cap protocol: record the decision with its caps'
// increments (and the caller's own, here a count of every FTD recorded); if the store
// refuses because a cap's counter is full, record what the decision says instead.
func record(ctx context.Context, st store.Store, d *attribution.Decider, in *attribution.Input) (attribution.Decision, error) {
	dec := d.Decide(in)
	own := store.Increment{Counter: "ftds:" + in.Click.AffiliateID, Delta: 1}
	for {
		p := store.RecordConversionParams{Conversion: in.Conversion, Increments: dec.Increments([]store.Increment{own})}
		dec.Apply(&p.Conversion)
		_, err := st.RecordConversion(ctx, p)
		var limit *store.LimitError
		if errors.As(err, &limit) {
			if over, ok := dec.OverCap(limit.Counter); ok {
				dec = over
				continue
			}
		}
		return dec, err
	}
}

// TestCaps_Concurrent: 50 concurrent FTDs of one affiliate in one day against a cap of 10:
// exactly 10 are credited and paid, 40 take the cap's policy, on every store. The counters
// say the same, and a sender's retry of any of them is a duplicate that changes nothing.
func TestCaps_Concurrent(t *testing.T) {
	t.Parallel()
	stores := map[string]func(t *testing.T) store.Store{
		"memstore": func(*testing.T) store.Store { return memstore.New(nil) },
		"pgstore":  newPGStore,
	}
	for _, name := range []string{"memstore", "pgstore"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for _, tc := range []struct {
				over   attribution.CapPolicy
				status event.Status
				unpaid bool
			}{
				{attribution.CapReject, event.StatusRejected, false},
				{attribution.CapUnpaid, event.StatusApproved, true},
				{attribution.CapHold, event.StatusPending, false},
			} {
				t.Run(string(tc.over), func(t *testing.T) {
					t.Parallel()
					concurrentCap(t, stores[name](t), tc.over, tc.status, tc.unpaid)
				})
			}
		})
	}
}

func concurrentCap(t *testing.T, st store.Store, over attribution.CapPolicy, overStatus event.Status, unpaid bool) {
	const n, limit = 50, 10
	monthly := attribution.Cap{Name: "monthly", Events: []event.Type{event.FTD}, Scope: attribution.CapPerAffiliate,
		Period: attribution.CapMonth, Count: 1000, Over: attribution.CapReject}
	d := decider(t, capped(dailyFTDs(over), monthly))
	at := time.Date(2026, 3, 29, 21, 0, 0, 0, time.UTC) // 23:00 in Malta, on the day of 23 hours
	inputs := make([]attribution.Input, n)
	for i := range inputs {
		in := capFTD("casino", "aff-1", at.Add(time.Duration(i)*time.Second))
		in.Conversion.ID = uuid.Must(uuid.NewV7())
		in.Conversion.PlayerID = fmt.Sprint("P-", i)
		in.Conversion.TransactionID = fmt.Sprint("T-", i)
		inputs[i] = in
	}
	decs := make([]attribution.Decision, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			decs[i], errs[i] = record(t.Context(), st, d, &inputs[i])
		})
	}
	close(start)
	wg.Wait()

	paid, capped := 0, 0
	for i, dec := range decs {
		require.NoError(t, errs[i], "rule: every event is recorded, over the cap or not")
		stored, err := st.GetConversionByKey(t.Context(), dec.DedupKey())
		require.NoError(t, err)
		require.Equal(t, dec.Status, stored.Status, "rule: the store keeps what was decided")
		require.Equal(t, string(dec.Code), stored.Decision.Code, "rule: the store keeps what was decided")
		switch dec.Code {
		case attribution.CodeClick:
			paid++
			require.Equal(t, event.StatusApproved, dec.Status)
			require.False(t, dec.Unpaid)
		case attribution.CodeCapReached:
			capped++
			require.Equal(t, overStatus, dec.Status, "rule: the cap's policy decides")
			require.Equal(t, unpaid, dec.Unpaid, "rule: the cap's policy decides")
			require.Equal(t, "aff-1", dec.AffiliateID)
			require.Contains(t, stored.Decision.Reason, "cap:daily_ftd:aff=aff-1:day=2026-03-29")
		default:
			t.Fatalf("unexpected code %s: %s", dec.Code, dec.Reason())
		}
	}
	require.Equal(t, limit, paid, "rule: exactly as many are paid as the cap allows")
	require.Equal(t, n-limit, capped, "rule: every other one takes the cap's policy")
	counter := func(name string) int64 {
		v, err := st.GetCounter(t.Context(), name)
		require.NoError(t, err)
		return v
	}
	require.Equal(t, int64(limit), counter("cap:daily_ftd:aff=aff-1:day=2026-03-29"), "rule: the cap's counter is at its limit, never past it")
	require.Equal(t, int64(limit), counter("cap:monthly:aff=aff-1:month=2026-03"), "rule: an event over one cap counts against none")
	require.Equal(t, int64(n), counter("ftds:aff-1"), "rule: the caller's own increments go with every record")

	// A sender's retry, of a paid event or of one over the cap, is a duplicate: the store
	// finds the original before it looks at a counter, and nothing changes.
	for _, i := range []int{0, n - 1} {
		_, err := record(t.Context(), st, d, &inputs[i])
		require.ErrorIs(t, err, store.ErrDuplicate, "rule: a retry is a duplicate, whatever the counters say")
	}
	require.Equal(t, int64(limit), counter("cap:daily_ftd:aff=aff-1:day=2026-03-29"))
	require.Equal(t, int64(n), counter("ftds:aff-1"))

	// The next day is a new bucket.
	next := capFTD("casino", "aff-1", time.Date(2026, 3, 29, 22, 0, 0, 0, time.UTC)) // midnight in Malta
	next.Conversion.ID = uuid.Must(uuid.NewV7())
	next.Conversion.PlayerID, next.Conversion.TransactionID = "P-next", "T-next"
	dec, err := record(t.Context(), st, d, &next)
	require.NoError(t, err)
	require.Equal(t, attribution.CodeClick, dec.Code, "rule: midnight in the campaign's zone opens a new day: %s", dec.Reason())
	require.Equal(t, int64(1), counter("cap:daily_ftd:aff=aff-1:day=2026-03-30"))
}

// newPGStore returns a pgstore.Store on a schema of its own (internal/pgtest), or skips t
// when S2S_TEST_POSTGRES_URL is not set.
func newPGStore(t *testing.T) store.Store {
	t.Helper()
	st, _ := pgtest.Store(t)
	return st
}
