package outbound_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/internal/pgtest"
	"github.com/s2skit/s2s/outbound"
	"github.com/s2skit/s2s/store"
)

// Workers sharing one PostgreSQL, on the real clock and real sockets: in one process on
// separate pools, and in separate processes. The processes are this test binary run again
// (the os/exec re-exec pattern): TestHelperProcess_PGWorker runs a worker when envHelper
// says so. A worker process stops when its stdin closes, so that a parent that dies takes
// its workers with it; the tests kill the ones still running at cleanup. Every wait is on a
// condition, with a deadline that fails the test and shows the workers' output.

// envHelper marks a worker subprocess, and holds its helperConfig as JSON.
const envHelper = "S2S_TEST_OUTBOUND_PG_WORKER"

// workerHeader names the worker that sent a request, so that the receiver can tell which
// workers took part.
const workerHeader = "S2s-Test-Worker"

// Bounds on the waits: generous, as the machine may be loaded (CI runs every package's
// tests at once, under -race). They are failures, never the way a test passes.
const (
	startWithin   = time.Minute     // a worker process writes "ready"
	deliverWithin = 2 * time.Minute // every delivery is delivered
	stopWithin    = time.Minute     // a worker process exits once its stdin is closed
)

// helperConfig is what a worker subprocess runs.
type helperConfig struct {
	Receiver string        // the receiver's base URL, for the endpoint
	Name     string        // the worker's name, sent in workerHeader
	Workers  int           // WorkerOptions.Workers
	LeaseFor time.Duration // WorkerOptions.LeaseFor; 0 is the default
	// BlockRecord stops the worker between the receiver's answer and the recorded attempt:
	// its store's RecordAttempt and RecordAttempts write "recording <delivery ID>" to stdout
	// for each attempt and block, until the process is stopped or killed, recording nothing.
	BlockRecord bool
	// OneByOne hides the store's store.AttemptRecorder, so that the worker records its
	// attempts with RecordAttempt, one by one.
	OneByOne bool
	// ClockShift is added to the worker's clock, so that a restarted worker sees the leases
	// of a killed one expired without the test waiting for them.
	ClockShift time.Duration
}

// pgEndpoint is the endpoint the workers send to: the receiver at base, on loopback.
func pgEndpoint(t testing.TB, base string) *outbound.Endpoint {
	t.Helper()
	ep := &outbound.Endpoint{Name: "aff-1", URL: base + "/pb?eid={event_id}&tx={transaction_id}", AllowHTTP: true, Concurrency: 8}
	require.NoError(t, ep.Compile())
	return ep
}

// namedClient is the guarded client, allowing loopback, that names the worker in
// workerHeader.
func namedClient(name string) *http.Client {
	c := outbound.NewClient(&outbound.ClientOptions{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	next := c.Transport
	c.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		r.Header.Set(workerHeader, name)
		return next.RoundTrip(r)
	})
	return c
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestHelperProcess_PGWorker is not a test: it is the body of the worker subprocesses that
// the tests here start, and it returns at once in any other run. It runs a worker on the
// schema its parent passed (pgtest.Schema.Env), writes "ready" to stdout, and runs until
// its stdin closes.
func TestHelperProcess_PGWorker(t *testing.T) {
	js := os.Getenv(envHelper)
	if js == "" {
		return
	}
	var cfg helperConfig
	require.NoError(t, json.Unmarshal([]byte(js), &cfg))
	st, _ := pgtest.FromEnv(t).Open(t)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin) // until the parent closes it, or dies
		stop()
	}()
	var ws outbound.WorkerStore = st
	switch {
	case cfg.BlockRecord && cfg.OneByOne:
		ws = blockingStore{WorkerStore: st, stop: ctx.Done()}
	case cfg.BlockRecord:
		ws = blockingBatches{blockingStore{WorkerStore: st, stop: ctx.Done()}}
	case cfg.OneByOne:
		ws = struct{ outbound.WorkerStore }{st}
	}
	now := time.Now
	if cfg.ClockShift != 0 {
		now = func() time.Time { return time.Now().Add(cfg.ClockShift) }
	}
	w, err := outbound.NewWorker(ws, outbound.Endpoints{pgEndpoint(t, cfg.Receiver)}.Lookup(), &outbound.WorkerOptions{
		Client: namedClient(cfg.Name), Now: now, Workers: cfg.Workers, LeaseFor: cfg.LeaseFor,
		PollInterval: 10 * time.Millisecond,
		Logger:       slog.New(slog.NewTextHandler(os.Stderr, nil)),
	})
	require.NoError(t, err)
	fmt.Println("ready")
	require.ErrorIs(t, w.Run(ctx), context.Canceled)
}

// blockingStore stops a worker between the receiver's answer and the recorded attempt (see
// helperConfig.BlockRecord).
type blockingStore struct {
	outbound.WorkerStore
	stop <-chan struct{}
}

func (s blockingStore) RecordAttempt(ctx context.Context, p store.RecordAttemptParams) (store.Delivery, error) {
	fmt.Printf("recording %s\n", p.DeliveryID)
	<-s.stop
	return store.Delivery{}, errors.New("outbound test: stopped before recording the attempt")
}

// blockingBatches is a blockingStore that is a store.AttemptRecorder, as pgstore is.
type blockingBatches struct{ blockingStore }

func (s blockingBatches) RecordAttempts(ctx context.Context, ps []store.RecordAttemptParams) ([]store.Delivery, []error) {
	for _, p := range ps {
		fmt.Printf("recording %s\n", p.DeliveryID)
	}
	<-s.stop
	errs := make([]error, len(ps))
	for i := range errs {
		errs[i] = errors.New("outbound test: stopped before recording the attempts")
	}
	return make([]store.Delivery, len(ps)), errs
}

// workerProc is a worker subprocess.
type workerProc struct {
	t      *testing.T
	name   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr bytes.Buffer  // read only once done is closed
	done   chan struct{} // closed once the process has exited and its output is read
	err    error         // cmd.Wait's, set before done is closed

	mu   sync.Mutex
	out  []string      // the lines of its stdout so far
	more chan struct{} // signalled, without blocking, at each line
}

// startWorkerProc starts a worker subprocess on sch, killed at cleanup if it still runs.
func startWorkerProc(t *testing.T, sch pgtest.Schema, cfg helperConfig) *workerProc {
	t.Helper()
	js, err := json.Marshal(cfg)
	require.NoError(t, err)
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess_PGWorker$", "-test.count=1", "-test.timeout=10m")
	cmd.Env = append(append(os.Environ(), sch.Env()...), envHelper+"="+string(js))
	p := &workerProc{t: t, name: cfg.Name, cmd: cmd, done: make(chan struct{}), more: make(chan struct{}, 1)}
	cmd.Stderr = &p.stderr
	p.stdin, err = cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.mu.Lock()
			p.out = append(p.out, sc.Text())
			p.mu.Unlock()
			select {
			case p.more <- struct{}{}:
			default:
			}
		}
		p.err = cmd.Wait() // after the last read of stdout, as StdoutPipe requires
		close(p.done)
	}()
	t.Cleanup(p.kill)
	return p
}

// output returns what the process wrote, for a failure message; its stderr only once it
// has exited.
func (p *workerProc) output() string {
	p.mu.Lock()
	out := strings.Join(p.out, "\n")
	p.mu.Unlock()
	errOut := "(still running)"
	if p.exited() {
		errOut = p.stderr.String()
	}
	return fmt.Sprintf("\n--- worker %s stdout:\n%s\n--- worker %s stderr:\n%s", p.name, out, p.name, errOut)
}

func (p *workerProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitLine waits for a line of the process's stdout that starts with prefix, and returns
// the rest of it. The process exiting first, or a wait of more than within, fails t.
func (p *workerProc) waitLine(prefix string, within time.Duration) string {
	p.t.Helper()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	for seen := 0; ; {
		exited := p.exited() // before reading the lines, so that none written before the exit is missed
		p.mu.Lock()
		lines := p.out[seen:]
		seen = len(p.out)
		p.mu.Unlock()
		for _, l := range lines {
			if rest, ok := strings.CutPrefix(l, prefix); ok {
				return rest
			}
		}
		if exited {
			p.t.Fatalf("worker %s exited (%v) before writing %q%s", p.name, p.err, prefix, p.output())
		}
		select {
		case <-p.more:
		case <-p.done:
		case <-deadline.C:
			p.t.Fatalf("worker %s wrote no %q within %s%s", p.name, prefix, within, p.output())
		}
	}
}

// stop closes the process's stdin, which stops its worker, and waits for it to exit
// successfully.
func (p *workerProc) stop() {
	p.t.Helper()
	_ = p.stdin.Close()
	select {
	case <-p.done:
	case <-time.After(stopWithin):
		p.kill()
		p.t.Fatalf("worker %s did not stop within %s of its stdin closing; killed%s", p.name, stopWithin, p.output())
	}
	require.NoError(p.t, p.err, "worker %s failed%s", p.name, p.output())
}

// kill kills the process with SIGKILL, if it still runs, and waits for it to exit.
func (p *workerProc) kill() {
	if p.exited() {
		return
	}
	if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		p.t.Errorf("kill worker %s: %v", p.name, err)
	}
	select {
	case <-p.done:
	case <-time.After(stopWithin):
		p.t.Errorf("worker %s did not exit within %s of SIGKILL", p.name, stopWithin)
	}
}

// countingReceiver is a receiver that answers 200 and counts, per event ID, the requests
// it has handled and the most it was handling at once.
type countingReceiver struct {
	mu       sync.Mutex
	inFlight map[string]int             // event ID → requests being handled now
	sent     map[string]int             // event ID → requests handled
	overlaps map[string]int             // event ID → the most handled at once, where more than one
	byWorker map[string]int             // workerHeader → requests
	from     map[string]map[string]bool // workerHeader → the event IDs it sent
}

func newCountingReceiver(t *testing.T) (*countingReceiver, *httptest.Server) {
	rc := &countingReceiver{inFlight: map[string]int{}, sent: map[string]int{}, overlaps: map[string]int{}, byWorker: map[string]int{}, from: map[string]map[string]bool{}}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	return rc, srv
}

func (rc *countingReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	eid := r.URL.Query().Get("eid")
	rc.mu.Lock()
	rc.inFlight[eid]++
	if n := rc.inFlight[eid]; n > 1 {
		rc.overlaps[eid] = max(rc.overlaps[eid], n)
	}
	rc.sent[eid]++
	rc.byWorker[r.Header.Get(workerHeader)]++
	if rc.from[r.Header.Get(workerHeader)] == nil {
		rc.from[r.Header.Get(workerHeader)] = map[string]bool{}
	}
	rc.from[r.Header.Get(workerHeader)][eid] = true
	rc.mu.Unlock()
	// The body is buffered until the handler returns, so the client has its answer only
	// after the request is counted out of flight: a worker that attempts the delivery
	// again only once it has the answer never overlaps with itself here.
	_, _ = w.Write([]byte("ok"))
	rc.mu.Lock()
	rc.inFlight[eid]--
	rc.mu.Unlock()
}

// counts returns copies of the receiver's counts.
func (rc *countingReceiver) counts() (sent, overlaps, byWorker map[string]int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return cloneMap(rc.sent), cloneMap(rc.overlaps), cloneMap(rc.byWorker)
}

// sentBy returns the event IDs that the named worker sent.
func (rc *countingReceiver) sentBy(name string) map[string]bool {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := map[string]bool{}
	for k := range rc.from[name] {
		out[k] = true
	}
	return out
}

func cloneMap(m map[string]int) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// allDeliveries returns every delivery of st in status s, page by page.
func allDeliveries(t *testing.T, st store.DeliveryStore, s store.DeliveryStatus) []store.Delivery {
	t.Helper()
	var out []store.Delivery
	var after store.Cursor
	for {
		page, err := st.ListDeliveries(context.Background(), store.ListDeliveriesParams{Status: s, After: after, Limit: 1000})
		require.NoError(t, err)
		out = append(out, page...)
		if len(page) < 1000 {
			return out
		}
		last := page[len(page)-1]
		after = store.Cursor{At: last.CreatedAt, ID: last.ID}
	}
}

// waitDelivered waits until want deliveries of st are delivered, polling it. A wait of more
// than within fails t, and so does a worker process that exits meanwhile.
func waitDelivered(t *testing.T, st store.DeliveryStore, want int, within time.Duration, procs ...*workerProc) {
	t.Helper()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		n := len(allDeliveries(t, st, store.DeliveryDelivered))
		if n == want {
			return
		}
		for _, p := range procs {
			if p.exited() {
				t.Fatalf("worker %s exited (%v) with %d of %d deliveries delivered%s", p.name, p.err, n, want, p.output())
			}
		}
		select {
		case <-tick.C:
		case <-deadline.C:
			var out strings.Builder
			for _, p := range procs {
				p.kill() // so that its stderr can be shown
				out.WriteString(p.output())
			}
			t.Fatalf("after %s, %d of %d deliveries are delivered%s", within, n, want, out.String())
		}
	}
}

// enqueueMany records conversions of perConversion deliveries each to ep, n deliveries in
// all, and returns their IDs.
func enqueueMany(t *testing.T, st store.Store, ep *outbound.Endpoint, n, perConversion int) []uuid.UUID {
	t.Helper()
	eps := make([]*outbound.Endpoint, perConversion)
	for i := range eps {
		eps[i] = ep
	}
	var ids []uuid.UUID
	for len(ids) < n {
		for _, d := range enqueue(t, st, time.Now(), eps[:min(perConversion, n-len(ids))]...) {
			ids = append(ids, d.ID)
		}
	}
	return ids
}

// requireOneAttemptEach checks what several workers on one store did with the deliveries
// ids: none was in flight twice at once, each was sent exactly once and is delivered with
// one attempt, and at least two workers took part.
func requireOneAttemptEach(t *testing.T, st store.DeliveryStore, rc *countingReceiver, ids []uuid.UUID) {
	t.Helper()
	sent, overlaps, byWorker := rc.counts()
	t.Logf("requests per worker: %v", byWorker)
	require.Empty(t, overlaps, "rule: no delivery is attempted by two workers at once while its lease is valid")
	require.Len(t, sent, len(ids), "rule: the receiver sees every delivery, and nothing else")
	for _, id := range ids {
		require.Equal(t, 1, sent[id.String()], "rule: each delivery is sent once (no lease lapsed, none was leased twice): %s", id)
	}
	delivered := allDeliveries(t, st, store.DeliveryDelivered)
	require.Len(t, delivered, len(ids))
	for _, d := range delivered {
		require.True(t, slices.Contains(ids, d.ID), "unknown delivery %s", d.ID)
		require.Len(t, d.Attempts, 1, "rule: one attempt recorded per delivery: %s", d.ID)
		require.Equal(t, http.StatusOK, d.Attempts[0].StatusCode)
	}
	// A test in which one worker did everything proved nothing about several.
	require.GreaterOrEqual(t, len(byWorker), 2, "at least two workers must take part for the test to mean anything: %v", byWorker)
}

const (
	pgWorkers       = 4   // workers sharing the store
	pgWorkerSlots   = 8   // attempts in flight in each
	pgDeliveries    = 400 // deliveries in all
	pgPerConversion = 20  // deliveries per conversion
)

// TestWorker_PostgresProcesses: several worker processes sharing one PostgreSQL never
// attempt one delivery concurrently while a lease is valid: every delivery is sent once and
// delivered with one attempt.
func TestWorker_PostgresProcesses(t *testing.T) {
	sch := pgtest.New(t)
	st, _ := sch.Open(t)
	rc, srv := newCountingReceiver(t)
	ep := pgEndpoint(t, srv.URL)

	procs := make([]*workerProc, pgWorkers)
	for i := range procs {
		procs[i] = startWorkerProc(t, sch, helperConfig{Receiver: srv.URL, Name: fmt.Sprintf("p%d", i+1), Workers: pgWorkerSlots})
	}
	for _, p := range procs {
		p.waitLine("ready", startWithin) // every worker is polling before the first delivery exists
	}
	ids := enqueueMany(t, st, ep, pgDeliveries, pgPerConversion)
	waitDelivered(t, st, len(ids), deliverWithin, procs...)
	for _, p := range procs {
		p.stop()
	}
	requireOneAttemptEach(t, st, rc, ids)
}

// TestWorker_PostgresHandles: the same in one process, with several Workers on pgstore
// handles of their own (a pool each), under the race detector.
func TestWorker_PostgresHandles(t *testing.T) {
	sch := pgtest.New(t)
	st, _ := sch.Open(t)
	rc, srv := newCountingReceiver(t)
	ep := pgEndpoint(t, srv.URL)

	ctx, cancel := context.WithCancel(t.Context())
	var running sync.WaitGroup
	errs := make([]error, pgWorkers)
	for i := range pgWorkers {
		wst, _ := sch.Open(t)
		w, err := outbound.NewWorker(wst, outbound.Endpoints{ep}.Lookup(), &outbound.WorkerOptions{
			Client: namedClient(fmt.Sprintf("w%d", i+1)), Workers: pgWorkerSlots, PollInterval: 10 * time.Millisecond,
		})
		require.NoError(t, err)
		running.Go(func() { errs[i] = w.Run(ctx) })
	}
	// Registered after the pools', so it runs before they are closed, even if the test fails.
	t.Cleanup(func() {
		cancel()
		running.Wait()
	})
	ids := enqueueMany(t, st, ep, pgDeliveries, pgPerConversion)
	waitDelivered(t, st, len(ids), deliverWithin)
	cancel()
	running.Wait()
	for _, err := range errs {
		require.ErrorIs(t, err, context.Canceled, "rule: Run returns the context's cause")
	}
	requireOneAttemptEach(t, st, rc, ids)
}
