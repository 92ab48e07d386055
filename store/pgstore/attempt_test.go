package pgstore_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/store"
)

// TestRecordAttempt_UnchangedStateTakesNoLock checks what the conformance suite cannot see:
// an attempt that changes nothing of its endpoint's state (a failure of an endpoint failing
// already, a success recorded after a later one) does not lock the endpoint's row, so it does
// not wait for a transaction that holds that lock, as concurrent attempts that change it do.
func TestRecordAttempt_UnchangedStateTakesNoLock(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	schema := newSchema(t, db)
	h := heldTest{t: t, db: db, schema: schema, st: newStore(t, db, schema)}
	t0 := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	for range 4 {
		h.record("e", t0)
	}
	ls, err := h.st.LeaseDeliveries(t.Context(), store.LeaseParams{Now: t0, LeaseFor: time.Hour, Limit: 10})
	require.NoError(t, err)
	require.Len(t, ls, 4)
	attempt := func(ctx context.Context, l store.Lease, finished time.Time, status store.DeliveryStatus) error {
		p := store.RecordAttemptParams{DeliveryID: l.Delivery.ID, Token: l.Token, Status: status,
			Attempt: store.Attempt{StartedAt: finished, FinishedAt: finished, StatusCode: http.StatusServiceUnavailable}}
		if status == store.DeliveryPending {
			p.NextAttemptAt = finished.Add(time.Hour)
		}
		_, err := h.st.RecordAttempt(ctx, p)
		return err
	}
	// e fails from t0+10m on, after a success at t0+5m.
	require.NoError(t, attempt(t.Context(), ls[0], t0.Add(5*time.Minute), store.DeliveryDelivered))
	require.NoError(t, attempt(t.Context(), ls[1], t0.Add(10*time.Minute), store.DeliveryPending))

	lock, err := db.BeginTx(t.Context(), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = lock.Rollback() })
	_, err = lock.ExecContext(t.Context(), "SELECT FROM "+schema+".endpoints WHERE name = 'e' FOR UPDATE")
	require.NoError(t, err)

	// A failure after FailingSince changes nothing: it is recorded while the row is locked.
	// The deadline only bounds a wait for a lock that the old statement would take.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	require.NoError(t, attempt(ctx, ls[2], t0.Add(20*time.Minute), store.DeliveryPending),
		"a failure that changes no endpoint state waits for no lock on the endpoint's row")
	require.NoError(t, attempt(ctx, ls[3], t0.Add(time.Minute), store.DeliveryDelivered),
		"a success before LastSuccessAt and FailingSince changes no endpoint state and waits for no lock on the endpoint's row")
	require.NoError(t, lock.Rollback())

	e, err := h.st.GetEndpoint(t.Context(), "e")
	require.NoError(t, err)
	require.Equal(t, store.EndpointState{Name: "e", LastSuccessAt: t0.Add(5 * time.Minute), FailingSince: t0.Add(10 * time.Minute)}, e)
}
