package outbound

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/s2skit/s2s/store"
)

// Group commit. With a store that is a [store.AttemptRecorder], a Worker's attempts are not
// recorded one write each: every attempt that has finished hands its parameters to the
// run's recorder. At most `recorders` batches are being written at once, each by the
// goroutine of one of the attempts in it, its writer (there is no goroutine of the
// recorder's own to hop to). An attempt that finds fewer writers at work becomes one and
// records itself at once, with whatever attempts are waiting (at most store.MaxLines in
// all), with one RecordAttempts, one durable write, each under its own fencing token; any
// other attempt waits. A writer that has written its batch hands each attempt of it its own
// outcome, and the writer's role to the oldest attempt still waiting, which writes the next
// batch, itself first. So group commit adds no wait: an attempt that finds the store idle
// is recorded alone, by itself, and the batches grow only when the store is slower than the
// attempts, which is when they help. The writes are pipelined: while one commits, another
// writer prepares the next batch.
//
// Without the capability, each attempt calls RecordAttempt itself, as it always did.

// recorders is the number of batches of attempts being recorded at once.
const recorders = 2

// recording is one attempt handed to the recorder, and its outcome once recorded.
type recording struct {
	p       store.RecordAttemptParams
	expires time.Time // the lease's end, by the records' clock: the write's deadline
	d       store.Delivery
	err     error
	// lead is set, before done is signalled, when the attempt is made the next writer
	// instead of being recorded.
	lead bool
	done chan struct{} // buffered 1: signalled once d and err are set, or lead
}

// batchBuf is a writer's batch and its parameters, kept for the next writer.
type batchBuf struct {
	recs []*recording
	ps   []store.RecordAttemptParams
}

var batchBufs = sync.Pool{New: func() any { return &batchBuf{} }}

// recorder batches the attempts of one Run into RecordAttempts.
type recorder struct {
	st  store.AttemptRecorder
	now func() time.Time
	ctx context.Context // the run's, without its cancellation: a shutdown records what was sent

	mu      sync.Mutex
	waiting []*recording // handed in and not taken into a batch yet, oldest first
	writers int          // batches being written, at most recorders
	// free are the recordings that attempts have finished with, their channels drained,
	// for the next ones. (A pool of the run's own, not a sync.Pool: a channel made in a
	// testing/synctest bubble must stay in it.)
	free []*recording
}

// newRecorder returns the recorder of a run on st. It has no goroutine of its own: the
// attempts write their batches, and the run's end waits for its attempts.
func newRecorder(ctx context.Context, st store.AttemptRecorder, now func() time.Time) *recorder {
	return &recorder{st: st, now: now, ctx: context.WithoutCancel(ctx)}
}

// record records p with the next batch and returns its outcome. It blocks until the batch
// is written (or has failed), which the lease bounds.
func (rc *recorder) record(p store.RecordAttemptParams, expires time.Time) (store.Delivery, error) {
	rc.mu.Lock()
	var x *recording
	if n := len(rc.free); n > 0 {
		x = rc.free[n-1]
		rc.free[n-1] = nil
		rc.free = rc.free[:n-1]
	} else {
		x = &recording{done: make(chan struct{}, 1)}
	}
	x.p, x.expires = p, expires
	lead := rc.writers < recorders
	if lead {
		rc.writers++
	} else {
		rc.waiting = append(rc.waiting, x)
	}
	rc.mu.Unlock()
	if !lead {
		<-x.done
		lead = x.lead
	}
	if lead {
		rc.lead(x)
	}
	d, err := x.d, x.err
	*x = recording{done: x.done}
	rc.mu.Lock()
	rc.free = append(rc.free, x)
	rc.mu.Unlock()
	return d, err
}

// lead writes, as one of the writers, the batch of x and of the attempts waiting, hands
// them their outcomes, and hands the writer's role to the oldest attempt still waiting, if
// any.
func (rc *recorder) lead(x *recording) {
	b := batchBufs.Get().(*batchBuf)
	batch := append(b.recs[:0], x)
	rc.mu.Lock()
	n := min(len(rc.waiting), store.MaxLines-1)
	batch = append(batch, rc.waiting[:n]...)
	rc.waiting = rc.take(n)
	rc.mu.Unlock()

	b.ps = rc.write(batch, b.ps[:0])
	for _, y := range batch[1:] {
		y.done <- struct{}{}
	}

	rc.mu.Lock()
	var next *recording
	if len(rc.waiting) > 0 {
		next = rc.waiting[0]
		rc.waiting = rc.take(1)
	} else {
		rc.writers--
	}
	rc.mu.Unlock()
	if next != nil {
		next.lead = true
		next.done <- struct{}{}
	}
	clear(batch) // let the recorded go
	b.recs = batch[:0]
	batchBufs.Put(b)
}

// take removes the n oldest of the waiting attempts, and returns what waits then. Under mu.
func (rc *recorder) take(n int) []*recording {
	left := copy(rc.waiting, rc.waiting[n:])
	clear(rc.waiting[left:])
	return rc.waiting[:left]
}

// write records a batch with one RecordAttempts, by the earliest of its leases' ends (at
// least a second, as RecordAttempt's callers give), sets each attempt's outcome, and
// returns ps emptied, for the next batch.
func (rc *recorder) write(batch []*recording, ps []store.RecordAttemptParams) []store.RecordAttemptParams {
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
	}
	clear(ps)
	return ps[:0]
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
