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

// TestWorker_PostgresCrash: a worker killed with SIGKILL between the receiver's 2xx and
// the recorded attempt loses nothing. The delivery it was attempting stays pending, with no
// attempt recorded, until its lease lapses; a restarted worker then delivers it, so the
// receiver sees its event ID twice (at least once delivery, which receivers dedup on), and
// every other delivery once.
func TestWorker_PostgresCrash(t *testing.T) {
	sch := pgtest.New(t)
	st, _ := sch.Open(t)
	rc, srv := newCountingReceiver(t)
	ep := pgEndpoint(t, srv.URL)
	ids := enqueueMany(t, st, ep, 5, 1)

	// The first worker attempts one delivery at a time (it leases one), and stops in
	// RecordAttempt, after the receiver's answer: it is killed there.
	first := startWorkerProc(t, sch, helperConfig{Receiver: srv.URL, Name: "first", Workers: 1, LeaseFor: crashLeaseFor, BlockRecord: true})
	killed, err := uuid.Parse(first.waitLine("recording ", startWithin))
	require.NoError(t, err)
	first.kill()
	require.Equal(t, -1, first.cmd.ProcessState.ExitCode(), "the first worker is killed by a signal, not exited: %v%s", first.err, first.output())
	killedAt := time.Now()

	sent, _, _ := rc.counts()
	require.Equal(t, map[string]int{killed.String(): 1}, sent, "the receiver answered the one delivery the first worker sent")
	d, err := st.GetDelivery(t.Context(), killed)
	require.NoError(t, err)
	require.Equal(t, store.DeliveryPending, d.Status, "rule: a delivery whose attempt was not recorded stays pending")
	require.Empty(t, d.Attempts, "rule: the killed attempt left no record")

	// The restarted worker's clock is past the first one's lease, as it would be after
	// crashLeaseFor.
	second := startWorkerProc(t, sch, helperConfig{Receiver: srv.URL, Name: "second", Workers: 4, LeaseFor: crashLeaseFor, ClockShift: crashLeaseFor + time.Second})
	waitDelivered(t, st, len(ids), deliverWithin, second)
	second.stop()

	sent, overlaps, byWorker := rc.counts()
	require.Empty(t, overlaps, "rule: no delivery is attempted by two workers at once")
	require.Equal(t, map[string]int{"first": 1, "second": len(ids)}, byWorker, "the restarted worker sends every delivery, the killed one again")
	require.Len(t, sent, len(ids), "rule: nothing is lost: the receiver sees every delivery")
	for _, id := range ids {
		want := 1
		if id == killed {
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
