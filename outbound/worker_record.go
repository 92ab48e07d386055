package outbound

import (
	"context"
	"errors"
	"time"

	"github.com/s2skit/s2s/store"
)

// Group commit. With a store that is a [store.AttemptRecorder], a Worker's attempts are not
// recorded one write each: every attempt that has finished hands its parameters to the
// run's recorders, and waits. A recorder takes whatever attempts are waiting (at most
// store.MaxLines) and records them with one RecordAttempts, one durable write, each under
// its own fencing token; then each attempt goes on (its result is reported) with its own
// outcome. A recorder that is idle records an attempt at once, alone: group commit adds no
// wait, and the batches grow only when the store is slower than the attempts, which is when
// they help. The recorders' writes are pipelined: while one commits, another prepares the
// next batch.
//
// Without the capability, each attempt calls RecordAttempt itself, as it always did.

// recorders is the number of batches of attempts being recorded at once.
const recorders = 2

// recording is one attempt handed to the recorders, and its outcome once recorded.
type recording struct {
	p       store.RecordAttemptParams
	expires time.Time // the lease's end, by the records' clock: the write's deadline
	d       store.Delivery
	err     error
	done    chan struct{} // closed once d and err are set
}

// recorder batches the attempts of one Run into RecordAttempts.
type recorder struct {
	st  store.AttemptRecorder
	now func() time.Time
	ctx context.Context // the run's, without its cancellation: a shutdown records what was sent
	in  chan *recording // closed by stop, once no attempt may send on it
	end chan struct{}   // closed once every recorder has returned
}

// newRecorder starts the recorders of a run on st.
func newRecorder(ctx context.Context, st store.AttemptRecorder, now func() time.Time, workers int) *recorder {
	rc := &recorder{
		st: st, now: now, ctx: context.WithoutCancel(ctx),
		in:  make(chan *recording, 2*workers+maxRecording(workers)),
		end: make(chan struct{}),
	}
	left := make(chan struct{}, recorders)
	for range recorders {
		go func() {
			defer func() { left <- struct{}{} }()
			rc.loop()
		}()
	}
	go func() {
		for range recorders {
			<-left
		}
		close(rc.end)
	}()
	return rc
}

// stop ends the recorders once they have recorded every attempt handed to them. No attempt
// may call record after it.
func (rc *recorder) stop() {
	close(rc.in)
	<-rc.end
}

// record records p with the next batch and returns its outcome. It blocks until the batch
// is written (or has failed), which the lease bounds.
func (rc *recorder) record(p store.RecordAttemptParams, expires time.Time) (store.Delivery, error) {
	x := &recording{p: p, expires: expires, done: make(chan struct{})}
	rc.in <- x
	<-x.done
	return x.d, x.err
}

// loop records batches until in is closed and drained.
func (rc *recorder) loop() {
	batch := make([]*recording, 0, 64)
	ps := make([]store.RecordAttemptParams, 0, 64)
	for first := range rc.in {
		batch = append(batch[:0], first)
	take:
		for len(batch) < store.MaxLines {
			select {
			case x, ok := <-rc.in:
				if !ok {
					break take
				}
				batch = append(batch, x)
			default:
				break take
			}
		}
		rc.write(batch, ps[:0])
		clear(batch) // let the recorded go
	}
}

// write records a batch with one RecordAttempts, by the earliest of its leases' ends (at
// least a second, as RecordAttempt's callers give), and hands each attempt its outcome.
func (rc *recorder) write(batch []*recording, ps []store.RecordAttemptParams) {
	deadline := batch[0].expires
	for _, x := range batch {
		ps = append(ps, x.p)
		if x.expires.Before(deadline) {
			deadline = x.expires
		}
	}
	ctx, cancel := context.WithTimeout(rc.ctx, max(deadline.Sub(rc.now()), time.Second))
	ds, errs := rc.st.RecordAttempts(ctx, ps)
	cancel()
	for i, x := range batch {
		if len(ds) == len(batch) && len(errs) == len(batch) {
			x.d, x.err = ds[i], errs[i]
		} else {
			x.err = errBadRecorder // retried, as a failed write
		}
		close(x.done)
	}
}

// errBadRecorder is the outcome of the attempts of a batch whose RecordAttempts answered
// results and errors of another number than its attempts, against its contract: they are
// not known to be recorded.
var errBadRecorder = errors.New("outbound: the store's RecordAttempts answered another number of results than of attempts")

// maxRecording returns how many delivered attempts of a worker with that many slots may
// wait for their recording without holding a slot (see Worker.attempt): enough for
// batches that outgrow the slots when the store is slower than the receivers, few enough
// that a store that stalls holds few leases.
func maxRecording(workers int) int {
	return min(8*workers, store.MaxLines)
}
