package outbound_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/internal/pgtest"
	"github.com/s2skit/s2s/store"
)

// crashLeaseFor is the workers' lease in the crash test: longer than deliverWithin, so
// that the restarted worker delivers in time only if the store goes by the worker's
// clock, which is shifted past the killed worker's lease, and not by its own.
const crashLeaseFor = 10 * time.Minute

// TestWorker_PostgresCrash: a worker killed with SIGKILL between the receivers' 2xx and
// the recorded attempts loses nothing. The deliveries it had sent (one, or a few more when
// a delivered attempt's slot sent the next while the first was being recorded) stay
// pending, with no attempt recorded, until their leases lapse; a restarted worker then
// delivers them, so the receiver sees their event IDs twice (at least once delivery, which
// receivers dedup on), and every other delivery once. Both with the worker recording
// attempts in batches (pgstore is a store.AttemptRecorder) and one by one.
func TestWorker_PostgresCrash(t *testing.T) {
	for way, batched := range recordWays {
		t.Run(way, func(t *testing.T) { testPostgresCrash(t, !batched) })
	}
}

func testPostgresCrash(t *testing.T, oneByOne bool) {
	sch := pgtest.New(t)
	st, _ := sch.Open(t)
	rc, srv := newCountingReceiver(t)
	ep := pgEndpoint(t, srv.URL)
	ids := enqueueMany(t, st, ep, 5, 1)

	// The first worker has one attempt in flight at a time (it leases one), and stops in
	// its recording, after the receiver's answer: it is killed there.
	first := startWorkerProc(t, sch, helperConfig{Receiver: srv.URL, Name: "first", Workers: 1, LeaseFor: crashLeaseFor, BlockRecord: true, OneByOne: oneByOne})
	killed, err := uuid.Parse(first.waitLine("recording ", startWithin))
	require.NoError(t, err)
	first.kill()
	require.Equal(t, -1, first.cmd.ProcessState.ExitCode(), "the first worker is killed by a signal, not exited: %v%s", first.err, first.output())
	killedAt := time.Now()

	sentFirst, _, _ := rc.counts()
	require.Equal(t, 1, sentFirst[killed.String()], "the receiver answered the delivery the first worker was recording")
	if oneByOne {
		require.Len(t, sentFirst, 1, "one by one, the first worker's one slot waits for its recording")
	}
	for eid, n := range sentFirst {
		require.Equal(t, 1, n, "the first worker sent each delivery once: %s", eid)
		id, err := uuid.Parse(eid)
		require.NoError(t, err)
		d, err := st.GetDelivery(t.Context(), id)
		require.NoError(t, err)
		require.Equal(t, store.DeliveryPending, d.Status, "rule: a delivery whose attempt was not recorded stays pending")
		require.Empty(t, d.Attempts, "rule: the killed attempt left no record")
	}

	// The restarted worker's clock is past the first one's lease, as it would be after
	// crashLeaseFor.
	second := startWorkerProc(t, sch, helperConfig{Receiver: srv.URL, Name: "second", Workers: 4, LeaseFor: crashLeaseFor, ClockShift: crashLeaseFor + time.Second, OneByOne: oneByOne})
	waitDelivered(t, st, len(ids), deliverWithin, second)
	second.stop()

	sent, overlaps, byWorker := rc.counts()
	// What the first worker sent, a request that reached the receiver only after the kill
	// included.
	fromFirst := rc.sentBy("first")
	require.Empty(t, overlaps, "rule: no delivery is attempted by two workers at once")
	require.Equal(t, map[string]int{"first": len(fromFirst), "second": len(ids)}, byWorker, "the restarted worker sends every delivery, the first one's again")
	require.Len(t, sent, len(ids), "rule: nothing is lost: the receiver sees every delivery")
	for _, id := range ids {
		want := 1
		if fromFirst[id.String()] {
			want = 2 // once from the killed worker, once from the restarted one
		}
		require.Equal(t, want, sent[id.String()], "rule: the receiver sees an event ID at most twice, once if no worker died attempting it: %s", id)

		d, err := st.GetDelivery(t.Context(), id)
		require.NoError(t, err)
		require.Equal(t, store.DeliveryDelivered, d.Status, "rule: nothing is lost: %s", id)
		require.Len(t, d.Attempts, 1, "rule: only recorded attempts are stored; the killed one left none: %s", id)
		require.Equal(t, http.StatusOK, d.Attempts[0].StatusCode)
		require.False(t, d.Attempts[0].StartedAt.Before(killedAt.Add(crashLeaseFor)), "the attempt was made on the restarted worker's clock, past the lease: %s", id)
	}
}
