package outbound_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/outbound"
	"github.com/s2skit/s2s/store"
	"github.com/s2skit/s2s/store/memstore"
)

// The worker's semantics are tested inside testing/synctest bubbles: time is the bubble's
// fake clock, which moves only when every goroutine of the bubble is blocked, so a
// schedule of hours runs in milliseconds and every instant is exact. The receiver is an
// http.RoundTripper in the bubble (no socket: a goroutine blocked on a socket is not
// "durably blocked", and the clock would never move); the real client and sockets are
// tested in worker_net_test.go.

// receiver is a fake receiver: it answers each request with answer and remembers it.
type receiver struct {
	mu     sync.Mutex
	got    []received
	answer func(n int, r *http.Request) (*http.Response, error) // n counts from 1
}

type received struct {
	At      time.Time
	EventID string // the eid query parameter
	Header  http.Header
}

func (rc *receiver) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
	}
	rc.mu.Lock()
	rc.got = append(rc.got, received{At: time.Now(), EventID: r.URL.Query().Get("eid"), Header: r.Header.Clone()})
	n := len(rc.got)
	answer := rc.answer
	rc.mu.Unlock()
	if answer == nil {
		return respond(http.StatusOK, "ok", nil), nil
	}
	return answer(n, r)
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

// respond makes a response as a handler would.
func respond(code int, body string, h http.Header) *http.Response {
	rec := httptest.NewRecorder()
	for k, v := range h {
		rec.Header()[k] = v
	}
	rec.WriteHeader(code)
	_, _ = rec.WriteString(body)
	return rec.Result()
}

func always(code int) func(int, *http.Request) (*http.Response, error) {
	return func(int, *http.Request) (*http.Response, error) { return respond(code, "", nil), nil }
}

// maxRand is a randomness source of 0xff bytes: every jitter draw is (almost) its ceiling,
// so retry times are known exactly.
type maxRand struct{}

func (maxRand) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 0xff
	}
	return len(p), nil
}

// endpoint returns a compiled endpoint that sends to the fake receiver's host.
func endpoint(t *testing.T, name string, edit ...func(*outbound.Endpoint)) *outbound.Endpoint {
	t.Helper()
	ep := &outbound.Endpoint{Name: name, URL: "http://receiver.test/pb?eid={event_id}&tx={transaction_id}", AllowHTTP: true}
	for _, f := range edit {
		f(ep)
	}
	require.NoError(t, ep.Compile())
	return ep
}

// enqueue records a conversion with one delivery to each endpoint, rendered at now, and
// returns the deliveries.
func enqueue(t *testing.T, st store.Store, now time.Time, eps ...*outbound.Endpoint) []store.Delivery {
	t.Helper()
	id := uuid.New()
	tx := "tx-" + id.String()[:8]
	c := store.Conversion{
		ID: id, DedupKey: "src:ftd:" + tx, Source: "src", Event: event.FTD, PlayerID: "p-" + tx,
		AffiliateID: "aff-1", TransactionID: tx, Amount: money.New(15000, money.EUR),
		Status: event.StatusApproved, OccurredAt: now, ReceivedAt: now,
		Decision: store.Decision{Model: "last_click", Code: "click", Reason: "test"},
	}
	p := store.RecordConversionParams{Conversion: c}
	for _, ep := range eps {
		v := outbound.ValuesOf(c, money.New(5000, money.EUR))
		v.EventID = uuid.New()
		d, err := ep.Delivery(v, now)
		require.NoError(t, err)
		p.Deliveries = append(p.Deliveries, d)
	}
	_, err := st.RecordConversion(t.Context(), p)
	require.NoError(t, err)
	return p.Deliveries
}

// harness runs a worker in a bubble.
type harness struct {
	t       *testing.T
	st      store.Store
	rc      *receiver
	w       *outbound.Worker
	eps     map[string]*outbound.Endpoint
	epsMu   sync.Mutex
	results chan outbound.Result
	stop    func() error
}

func newHarness(t *testing.T, opts *outbound.WorkerOptions, eps ...*outbound.Endpoint) *harness {
	t.Helper()
	h := &harness{t: t, st: memstore.New(nil), rc: &receiver{}, eps: map[string]*outbound.Endpoint{}, results: make(chan outbound.Result, 1000)}
	for _, ep := range eps {
		h.eps[ep.Name] = ep
	}
	o := outbound.WorkerOptions{}
	if opts != nil {
		o = *opts
	}
	o.Client = &http.Client{Transport: h.rc, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if o.Rand == nil {
		o.Rand = maxRand{}
	}
	o.OnResult = func(r outbound.Result) { h.results <- r }
	w, err := outbound.NewWorker(h.st, h.lookup, &o)
	require.NoError(t, err)
	h.w = w
	return h
}

func (h *harness) lookup(name string) (*outbound.Endpoint, bool) {
	h.epsMu.Lock()
	defer h.epsMu.Unlock()
	ep, ok := h.eps[name]
	return ep, ok
}

func (h *harness) setEndpoint(ep *outbound.Endpoint) {
	h.epsMu.Lock()
	defer h.epsMu.Unlock()
	h.eps[ep.Name] = ep
}

// start runs the worker until the test ends or stop is called.
func (h *harness) start() {
	ctx, cancel := context.WithCancel(h.t.Context())
	done := make(chan error, 1)
	go func() { done <- h.w.Run(ctx) }()
	var once sync.Once
	var err error
	h.stop = func() error {
		once.Do(func() {
			cancel()
			err = <-done
		})
		return err
	}
	h.t.Cleanup(func() {
		require.ErrorIs(h.t, h.stop(), context.Canceled, "rule: Run returns the context's cause")
	})
}

// advance moves the bubble's fake clock by d and waits until every goroutine is blocked.
func advance(d time.Duration) {
	time.Sleep(d) // the bubble's clock: no real time passes
	synctest.Wait()
}

func (h *harness) delivery(id uuid.UUID) store.Delivery {
	h.t.Helper()
	d, err := h.st.GetDelivery(h.t.Context(), id)
	require.NoError(h.t, err)
	return d
}

func (h *harness) endpointState(name string) store.EndpointState {
	h.t.Helper()
	s, err := h.st.GetEndpoint(h.t.Context(), name)
	require.NoError(h.t, err)
	return s
}

func TestWorker_Delivers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ep := endpoint(t, "aff-1", func(e *outbound.Endpoint) {
			e.Secrets = map[string]string{"whsec": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
			e.Signing = outbound.Signing{Scheme: outbound.SchemeStandardWebhooks, Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
		})
		h := newHarness(t, nil, ep)
		h.rc.answer = func(int, *http.Request) (*http.Response, error) {
			return respond(http.StatusOK, "thanks, whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", nil), nil
		}
		start := time.Now()
		ds := enqueue(t, h.st, start, ep)
		h.start()
		synctest.Wait()
		require.ErrorIs(t, h.w.Run(t.Context()), outbound.ErrRunning, "rule: a Worker runs once at a time")

		got := h.rc.requests()
		require.Len(t, got, 1, "rule: a due delivery is sent once")
		require.Equal(t, ds[0].ID.String(), got[0].EventID, "rule: the event ID is the delivery's ID")
		require.Equal(t, ds[0].ID.String(), got[0].Header.Get("webhook-id"), "rule: signed with the event ID as webhook-id")

		d := h.delivery(ds[0].ID)
		require.Equal(t, store.DeliveryDelivered, d.Status, "rule: a 2xx delivers")
		require.Len(t, d.Attempts, 1)
		a := d.Attempts[0]
		require.Equal(t, http.StatusOK, a.StatusCode)
		require.Empty(t, a.Error, "rule: a delivered attempt has no failure class")
		require.Equal(t, "thanks, "+outbound.Redacted, a.Response, "rule: secrets echoed by a receiver are redacted before they are stored")
		require.True(t, a.StartedAt.Equal(start), "rule: attempt times come from the clock")

		r := <-h.results
		require.Equal(t, store.DeliveryDelivered, r.Delivery.Status, "rule: OnResult sees the delivery as recorded")
		require.NoError(t, r.Err)
		require.False(t, h.endpointState("aff-1").LastSuccessAt.IsZero(), "rule: a success is kept on the endpoint")
	})
}

// TestWorker_RetrySchedule: failures are retried on the full-jitter schedule (every draw
// at its ceiling here), and dead-lettered at the horizon, whose last attempt is made at
// the horizon exactly.
func TestWorker_RetrySchedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ep := endpoint(t, "aff-1")
		h := newHarness(t, &outbound.WorkerOptions{Horizon: time.Hour}, ep)
		h.rc.answer = always(http.StatusServiceUnavailable)
		start := time.Now()
		ds := enqueue(t, h.st, start, ep)
		h.start()
		advance(2 * time.Hour)

		got := h.rc.requests()
		// Ceilings 5 s, 10 s, 20 s, ... (a draw of 0xff... is the ceiling less a hair,
		// rounded down to the nanosecond), polled every second: each retry is sent at the
		// first poll at or after it is due.
		var want []time.Duration
		at := time.Duration(0)
		for n := 1; at < time.Hour; n++ {
			want = append(want, at)
			at += 5 * time.Second << (n - 1)
		}
		want = append(want, time.Hour)
		require.Len(t, got, len(want), "rule: retried until the horizon, then dead")
		for i, r := range got {
			require.InDelta(t, want[i].Seconds(), r.At.Sub(start).Seconds(), 1.0, "attempt %d", i+1)
		}
		require.Equal(t, time.Hour, got[len(got)-1].At.Sub(start), "rule: the last attempt is at the horizon exactly")
		for _, r := range got {
			require.Equal(t, ds[0].ID.String(), r.EventID, "rule: every retry carries the same event ID")
		}
		d := h.delivery(ds[0].ID)
		require.Equal(t, store.DeliveryDead, d.Status, "rule: a failure at the horizon dead-letters")
		require.Len(t, d.Attempts, len(want))
		for _, a := range d.Attempts {
			require.Equal(t, 503, a.StatusCode)
			require.Equal(t, string(outbound.ClassHTTP5xx), a.Error, "rule: the attempt keeps its failure class")
		}
	})
}

// TestWorker_RetryAfter: a Retry-After in seconds or as a date lengthens the wait, within
// MaxRetryAfter.
func TestWorker_RetryAfter(t *testing.T) {
	for name, tc := range map[string]struct {
		header func(now time.Time) string
		want   time.Duration
	}{
		"seconds":       {func(time.Time) string { return "120" }, 120 * time.Second},
		"date":          {func(now time.Time) string { return now.Add(300 * time.Second).UTC().Format(http.TimeFormat) }, 300 * time.Second},
		"capped":        {func(time.Time) string { return "86400" }, 10 * time.Minute},
		"shorter":       {func(time.Time) string { return "1" }, 5 * time.Second}, // the backoff is longer
		"malformed":     {func(time.Time) string { return "soon" }, 5 * time.Second},
		"date in past":  {func(now time.Time) string { return now.Add(-time.Hour).UTC().Format(http.TimeFormat) }, 5 * time.Second},
		"capped (date)": {func(now time.Time) string { return now.Add(48 * time.Hour).UTC().Format(http.TimeFormat) }, 10 * time.Minute},
	} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ep := endpoint(t, "aff-1")
				h := newHarness(t, &outbound.WorkerOptions{MaxRetryAfter: 10 * time.Minute}, ep)
				h.rc.answer = func(n int, _ *http.Request) (*http.Response, error) {
					if n > 1 {
						return respond(http.StatusOK, "", nil), nil
					}
					return respond(http.StatusTooManyRequests, "", http.Header{"Retry-After": {tc.header(time.Now())}}), nil
				}
				start := time.Now()
				ds := enqueue(t, h.st, start, ep)
				h.start()
				advance(time.Hour)
				got := h.rc.requests()
				require.Len(t, got, 2)
				require.InDelta(t, tc.want.Seconds(), got[1].At.Sub(start).Seconds(), 1.0, "rule: the retry waits what Retry-After asks, within the cap")
				require.GreaterOrEqual(t, got[1].At.Sub(start), tc.want-time.Nanosecond)
				require.Equal(t, store.DeliveryDelivered, h.delivery(ds[0].ID).Status)
			})
		})
	}
}

// TestWorker_Verdicts: what each response does to the delivery.
func TestWorker_Verdicts(t *testing.T) {
	for _, tc := range []struct {
		code        int
		retryClient bool
		want        store.DeliveryStatus
		class       outbound.FailureClass
	}{
		{200, false, store.DeliveryDelivered, ""},
		{204, false, store.DeliveryDelivered, ""},
		{302, false, store.DeliveryPending, outbound.ClassRedirect},
		{400, false, store.DeliveryDead, outbound.ClassHTTP4xx},
		{400, true, store.DeliveryPending, outbound.ClassHTTP4xx},
		{404, false, store.DeliveryDead, outbound.ClassHTTP4xx},
		{408, false, store.DeliveryPending, outbound.ClassHTTP4xx},
		{410, false, store.DeliveryDead, outbound.ClassHTTP410},
		{410, true, store.DeliveryDead, outbound.ClassHTTP410},
		{425, false, store.DeliveryPending, outbound.ClassHTTP4xx},
		{429, false, store.DeliveryPending, outbound.ClassHTTP429},
		{500, false, store.DeliveryPending, outbound.ClassHTTP5xx},
		{501, false, store.DeliveryDead, outbound.ClassHTTP5xx},
		{503, false, store.DeliveryPending, outbound.ClassHTTP5xx},
	} {
		t.Run(fmt.Sprintf("%d/retryClientErrors=%v", tc.code, tc.retryClient), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ep := endpoint(t, "aff-1", func(e *outbound.Endpoint) { e.RetryClientErrors = tc.retryClient })
				h := newHarness(t, nil, ep)
				h.rc.answer = always(tc.code)
				ds := enqueue(t, h.st, time.Now(), ep)
				h.start()
				r := <-h.results
				require.NoError(t, r.Err)
				require.Equal(t, tc.want, r.Delivery.Status)
				require.Equal(t, tc.class, r.Class)
				require.Equal(t, tc.code, r.Delivery.Attempts[0].StatusCode)
				require.Equal(t, tc.want, h.delivery(ds[0].ID).Status)
				require.Equal(t, tc.code == 410, r.Disabled, "rule: a 410, and only a 410, disables at once")
			})
		})
	}
}

// TestWorker_NetworkErrorRetried: no response is a retry, classed.
func TestWorker_NetworkErrorRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ep := endpoint(t, "aff-1")
		h := newHarness(t, nil, ep)
		h.rc.answer = func(n int, _ *http.Request) (*http.Response, error) {
			if n == 1 {
				return nil, &netErr{}
			}
			return respond(http.StatusOK, "", nil), nil
		}
		ds := enqueue(t, h.st, time.Now(), ep)
		h.start()
		r := <-h.results
		require.Equal(t, store.DeliveryPending, r.Delivery.Status, "rule: a network error is retried")
		require.Equal(t, 0, r.Attempt.StatusCode)
		require.Equal(t, outbound.ClassTimeout, r.Class)
		advance(10 * time.Second)
		require.Equal(t, store.DeliveryDelivered, h.delivery(ds[0].ID).Status)
	})
}

// netErr is a network timeout.
type netErr struct{}

func (*netErr) Error() string   { return "i/o timeout" }
func (*netErr) Timeout() bool   { return true }
func (*netErr) Temporary() bool { return true }

// TestWorker_GoneDisables: a 410 dead-letters the delivery and disables the endpoint, with
// its reason and time; the endpoint's other deliveries wait, unsent, until it is enabled;
// other endpoints are not affected.
func TestWorker_GoneDisables(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gone, other := endpoint(t, "gone"), endpoint(t, "other")
		h := newHarness(t, nil, gone, other)
		h.rc.answer = func(n int, r *http.Request) (*http.Response, error) {
			if n == 1 {
				return respond(http.StatusGone, "", nil), nil
			}
			return respond(http.StatusOK, "", nil), nil
		}
		first := enqueue(t, h.st, time.Now(), gone)
		h.start()
		r := <-h.results
		require.True(t, r.Disabled)
		at := time.Now()
		s := h.endpointState("gone")
		require.True(t, s.Disabled, "rule: a 410 disables the endpoint")
		require.Contains(t, s.DisabledReason, outbound.ReasonGone+": the receiver answered 410 Gone")
		require.True(t, s.DisabledAt.Equal(at), "rule: the time of disabling is kept")
		require.Equal(t, store.DeliveryDead, h.delivery(first[0].ID).Status)

		later := enqueue(t, h.st, time.Now(), gone, other)
		h.w.Notify()
		advance(time.Hour)
		require.Len(t, h.rc.requests(), 2, "rule: a disabled endpoint receives nothing; the others do")
		require.Equal(t, store.DeliveryPending, h.delivery(later[0].ID).Status, "rule: its deliveries wait")
		require.Equal(t, store.DeliveryDelivered, h.delivery(later[1].ID).Status)

		_, err := h.w.Enable(t.Context(), "gone")
		require.NoError(t, err)
		synctest.Wait()
		require.Equal(t, store.DeliveryDelivered, h.delivery(later[0].ID).Status, "rule: enabled, its pending deliveries go out at once")
		require.Equal(t, store.DeliveryDead, h.delivery(first[0].ID).Status, "rule: its dead ones wait for a replay")
		_, err = h.w.Enable(t.Context(), "gone")
		require.ErrorIs(t, err, store.ErrDuplicate)
	})
}

// TestWorker_AutoDisable: an endpoint with no success for DisableAfter is disabled, with
// the reason; one success restarts the clock.
func TestWorker_AutoDisable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ep := endpoint(t, "aff-1")
		h := newHarness(t, &outbound.WorkerOptions{Horizon: time.Hour, DisableAfter: 3 * time.Hour}, ep)
		var mu sync.Mutex
		code := http.StatusInternalServerError
		h.rc.answer = func(int, *http.Request) (*http.Response, error) {
			mu.Lock()
			defer mu.Unlock()
			return respond(code, "", nil), nil
		}
		start := time.Now()
		enqueue(t, h.st, start, ep)
		h.start()
		synctest.Wait()
		require.True(t, h.endpointState("aff-1").FailingSince.Equal(start), "rule: the first failure starts the clock")
		// A new delivery every half hour, each failing for its hour's horizon.
		for range 5 {
			advance(30 * time.Minute)
			enqueue(t, h.st, time.Now(), ep)
		}
		advance(30*time.Minute - time.Second)
		require.False(t, h.endpointState("aff-1").Disabled, "rule: not disabled before DisableAfter")
		enqueue(t, h.st, time.Now(), ep)
		advance(2 * time.Second)
		s := h.endpointState("aff-1")
		require.True(t, s.Disabled, "rule: disabled after DisableAfter with no success")
		require.Contains(t, s.DisabledReason, outbound.ReasonFailing+": no successful delivery since never")
		n := len(h.rc.requests())
		advance(24 * time.Hour)
		require.Len(t, h.rc.requests(), n, "rule: a disabled endpoint receives nothing")

		// Enabled, a success clears the clock; failures after it start it again.
		mu.Lock()
		code = http.StatusOK
		mu.Unlock()
		_, err := h.w.Enable(t.Context(), "aff-1")
		require.NoError(t, err)
		require.True(t, h.endpointState("aff-1").FailingSince.IsZero(), "rule: enabling restarts the clock")
		enqueue(t, h.st, time.Now(), ep)
		h.w.Notify()
		synctest.Wait()
		s = h.endpointState("aff-1")
		require.False(t, s.Disabled)
		require.True(t, s.FailingSince.IsZero(), "rule: a success clears FailingSince")
		require.False(t, s.LastSuccessAt.IsZero())
	})
}

// TestWorker_ReplaySameEventID: a dead delivery replayed is sent again with the same event
// ID and a new schedule, its attempt history kept; ReplayEndpoint replays all of an
// endpoint's dead deliveries and says how many.
func TestWorker_ReplaySameEventID(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ep := endpoint(t, "aff-1")
		h := newHarness(t, nil, ep)
		var mu sync.Mutex
		code := http.StatusBadRequest
		h.rc.answer = func(int, *http.Request) (*http.Response, error) {
			mu.Lock()
			defer mu.Unlock()
			return respond(code, "", nil), nil
		}
		ds := enqueue(t, h.st, time.Now(), ep, ep)
		more := enqueue(t, h.st, time.Now(), ep)
		h.start()
		synctest.Wait()
		for _, d := range append(ds, more...) {
			require.Equal(t, store.DeliveryDead, h.delivery(d.ID).Status)
		}
		mu.Lock()
		code = http.StatusOK
		mu.Unlock()

		d, err := h.w.Replay(t.Context(), ds[0].ID)
		require.NoError(t, err)
		require.Equal(t, store.DeliveryPending, d.Status)
		synctest.Wait()
		d = h.delivery(ds[0].ID)
		require.Equal(t, store.DeliveryDelivered, d.Status)
		require.Len(t, d.Attempts, 2, "rule: the attempt history is kept")
		sent := 0
		for _, r := range h.rc.requests() {
			if r.EventID == ds[0].ID.String() {
				sent++
			}
		}
		require.Equal(t, 2, sent, "rule: a replay carries the same event ID")

		n, err := h.w.ReplayEndpoint(t.Context(), "aff-1")
		require.NoError(t, err)
		require.Equal(t, 2, n, "rule: ReplayEndpoint replays every dead delivery of the endpoint")
		synctest.Wait()
		require.Equal(t, store.DeliveryDelivered, h.delivery(ds[1].ID).Status)
		require.Equal(t, store.DeliveryDelivered, h.delivery(more[0].ID).Status)
		_, err = h.w.Replay(t.Context(), ds[0].ID)
		require.ErrorIs(t, err, store.ErrConflict, "rule: only a dead delivery is replayed")
	})
}

// TestWorker_Concurrency: an endpoint never has more than its Concurrency attempts in
// flight, and a slow endpoint does not hold back the others.
func TestWorker_Concurrency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		slow := endpoint(t, "slow", func(e *outbound.Endpoint) {
			e.Concurrency = 2
			e.URL = "http://receiver.test/slow?eid={event_id}"
		})
		fast := endpoint(t, "fast")
		h := newHarness(t, &outbound.WorkerOptions{Workers: 4}, slow, fast)
		release := make(chan struct{})
		var releaseOnce sync.Once
		free := func() { releaseOnce.Do(func() { close(release) }) }
		t.Cleanup(free) // a failing test must not leave the receiver blocked
		var mu sync.Mutex
		inflight, peak := 0, 0
		h.rc.answer = func(_ int, r *http.Request) (*http.Response, error) {
			if r.URL.Path == "/slow" {
				mu.Lock()
				inflight++
				peak = max(peak, inflight)
				mu.Unlock()
				<-release
				mu.Lock()
				inflight--
				mu.Unlock()
			}
			return respond(http.StatusOK, "", nil), nil
		}
		// The slow endpoint's deliveries are due first, so that the first lease takes
		// nothing else: more than its Concurrency of them wait in the worker, which must
		// still lease the fast endpoint's.
		var slowIDs []uuid.UUID
		for range 10 {
			slowIDs = append(slowIDs, enqueue(t, h.st, time.Now().Add(-time.Minute), slow)[0].ID)
		}
		var fastIDs []uuid.UUID
		for range 10 {
			fastIDs = append(fastIDs, enqueue(t, h.st, time.Now(), fast)[0].ID)
		}
		h.start()
		advance(time.Second)
		mu.Lock()
		require.Equal(t, 2, inflight, "rule: the slow endpoint has its Concurrency in flight")
		mu.Unlock()
		for _, id := range fastIDs {
			require.Equal(t, store.DeliveryDelivered, h.delivery(id).Status, "rule: a slow endpoint does not starve the others")
		}
		free()
		advance(time.Second)
		for _, id := range slowIDs {
			require.Equal(t, store.DeliveryDelivered, h.delivery(id).Status)
		}
		require.Equal(t, 2, peak, "rule: never more than Concurrency in flight to one endpoint")
	})
}

// TestWorker_Rate: an endpoint's attempts start at most RatePerSecond per second.
func TestWorker_Rate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ep := endpoint(t, "aff-1", func(e *outbound.Endpoint) { e.RatePerSecond = 5 })
		h := newHarness(t, nil, ep)
		for range 20 {
			enqueue(t, h.st, time.Now(), ep)
		}
		start := time.Now()
		h.start()
		advance(10 * time.Second)
		got := h.rc.requests()
		require.Len(t, got, 20)
		// A second's worth at once, then one every 200 ms: attempt i starts at
		// (i-4)×200 ms.
		for i, r := range got {
			want := time.Duration(max(0, i-4)) * 200 * time.Millisecond
			require.InDelta(t, want.Seconds(), r.At.Sub(start).Seconds(), 0.001, "attempt %d", i)
		}
	})
}

// TestWorker_SendDelay: a new delivery waits for its endpoint's SendDelay.
func TestWorker_SendDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ep := endpoint(t, "aff-1", func(e *outbound.Endpoint) { e.SendDelay = time.Minute })
		h := newHarness(t, nil, ep)
		start := time.Now()
		enqueue(t, h.st, start, ep)
		h.start()
		advance(time.Minute - time.Second)
		require.Empty(t, h.rc.requests(), "rule: nothing is sent before the send delay")
		advance(time.Second)
		got := h.rc.requests()
		require.Len(t, got, 1)
		require.Equal(t, time.Minute, got[0].At.Sub(start))
	})
}

// TestWorker_UnknownEndpoint: a delivery whose endpoint the worker does not know is left
// pending, with no attempt, and is sent once the configuration has the endpoint.
func TestWorker_UnknownEndpoint(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ep := endpoint(t, "later")
		h := newHarness(t, &outbound.WorkerOptions{LeaseFor: time.Minute})
		ds := enqueue(t, h.st, time.Now(), ep)
		h.start()
		advance(10 * time.Minute)
		d := h.delivery(ds[0].ID)
		require.Equal(t, store.DeliveryPending, d.Status, "rule: nothing is dead-lettered for a configuration error")
		require.Empty(t, d.Attempts)
		require.Empty(t, h.rc.requests())

		h.setEndpoint(ep)
		advance(2 * time.Minute) // the lease taken while unknown lapses
		require.Equal(t, store.DeliveryDelivered, h.delivery(ds[0].ID).Status, "rule: sent once the endpoint is known")
	})
}

// TestWorker_MissingSecret: a delivery that needs a secret the endpoint no longer has is
// not sent nor dead-lettered; a configuration with the secret sends it.
func TestWorker_MissingSecret(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		withSecret := endpoint(t, "aff-1", func(e *outbound.Endpoint) {
			e.URL = "https://receiver.test/pb/{secret:path}?eid={event_id}"
			e.Secrets = map[string]string{"path": "s3cr3t-path-0123456789abcdef"}
		})
		without := endpoint(t, "aff-1", func(e *outbound.Endpoint) {
			e.URL = "https://receiver.test/pb/x?eid={event_id}"
		})
		h := newHarness(t, &outbound.WorkerOptions{LeaseFor: time.Minute}, without)
		ds := enqueue(t, h.st, time.Now(), withSecret)
		h.start()
		advance(10 * time.Minute)
		require.Empty(t, h.rc.requests())
		require.Empty(t, h.delivery(ds[0].ID).Attempts)
		h.setEndpoint(withSecret)
		advance(2 * time.Minute)
		require.Equal(t, store.DeliveryDelivered, h.delivery(ds[0].ID).Status)
	})
}

// TestWorker_ShutdownFinishesInFlight: cancelled, the worker leases nothing new and waits
// for its attempts in flight, which are recorded.
func TestWorker_ShutdownFinishesInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ep := endpoint(t, "aff-1")
		h := newHarness(t, nil, ep)
		entered, release := make(chan struct{}), make(chan struct{})
		h.rc.answer = func(int, *http.Request) (*http.Response, error) {
			close(entered)
			<-release
			return respond(http.StatusOK, "", nil), nil
		}
		ds := enqueue(t, h.st, time.Now(), ep)
		h.start()
		<-entered
		stopped := make(chan struct{})
		var stopErr error
		go func() { stopErr = h.stop(); close(stopped) }()
		synctest.Wait()
		later := enqueue(t, h.st, time.Now(), ep) // due while the worker is stopping
		h.w.Notify()
		advance(time.Minute)
		select {
		case <-stopped:
			t.Fatal("rule: Run waits for the attempts in flight")
		default:
		}
		close(release)
		<-stopped
		require.ErrorIs(t, stopErr, context.Canceled, "rule: Run returns the context's cause")
		require.Equal(t, store.DeliveryDelivered, h.delivery(ds[0].ID).Status, "rule: an attempt in flight at shutdown is recorded")
		leases, err := h.st.LeaseDeliveries(t.Context(), store.LeaseParams{Now: time.Now(), LeaseFor: time.Minute})
		require.NoError(t, err)
		require.Len(t, leases, 1, "rule: a stopping worker leases nothing: the delivery due meanwhile is free")
		require.Equal(t, later[0].ID, leases[0].Delivery.ID)
		require.Len(t, h.rc.requests(), 1)
	})
}

// TestWorker_Timeout: an attempt is cut at the worker's Timeout, and retried.
func TestWorker_Timeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ep := endpoint(t, "aff-1")
		h := newHarness(t, &outbound.WorkerOptions{Timeout: 2 * time.Second}, ep)
		h.rc.answer = func(_ int, r *http.Request) (*http.Response, error) {
			<-r.Context().Done()
			return nil, r.Context().Err()
		}
		start := time.Now()
		enqueue(t, h.st, start, ep)
		h.start()
		r := <-h.results
		require.Equal(t, 2*time.Second, r.Attempt.FinishedAt.Sub(start), "rule: cut at the timeout")
		require.Equal(t, outbound.ClassTimeout, r.Class)
		require.Equal(t, store.DeliveryPending, r.Delivery.Status)
	})
}

// TestWorker_Options: bad options are refused, naming the field.
func TestWorker_Options(t *testing.T) {
	st := memstore.New(nil)
	lookup := func(string) (*outbound.Endpoint, bool) { return nil, false }
	for name, o := range map[string]outbound.WorkerOptions{
		"LeaseFor (20s) must exceed Timeout": {LeaseFor: 20 * time.Second, Timeout: 15 * time.Second},
		"LeaseFor is -1s":                    {LeaseFor: -time.Second},
		"PollInterval is -1s":                {PollInterval: -time.Second},
		"Timeout is -1s":                     {Timeout: -time.Second},
		"Horizon is -1h0m0s":                 {Horizon: -time.Hour},
		"MaxRetryAfter is -1s":               {MaxRetryAfter: -time.Second},
		"Workers is -1":                      {Workers: -1},
		"Workers is 1001":                    {Workers: 1001},
		"MaxResponse is 16385":               {MaxResponse: store.MaxTextLen + 1},
		"MaxResponse is -1":                  {MaxResponse: -1},
	} {
		_, err := outbound.NewWorker(st, lookup, &o)
		require.ErrorContains(t, err, name)
	}
	_, err := outbound.NewWorker(nil, lookup, nil)
	require.Error(t, err)
	_, err = outbound.NewWorker(st, nil, nil)
	require.Error(t, err)
	_, err = outbound.NewWorker(st, lookup, nil)
	require.NoError(t, err, "rule: nil options are the defaults")
}

// TestWorker_GoneDropsQueued: after a 410, the endpoint's deliveries that the worker had
// leased already are not sent.
func TestWorker_GoneDropsQueued(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ep := endpoint(t, "aff-1", func(e *outbound.Endpoint) { e.Concurrency = 1 })
		h := newHarness(t, nil, ep)
		h.rc.answer = always(http.StatusGone)
		for range 5 {
			enqueue(t, h.st, time.Now(), ep)
		}
		h.start()
		advance(time.Hour)
		require.Len(t, h.rc.requests(), 1, "rule: nothing more goes to an endpoint that answered 410")
		require.True(t, h.endpointState("aff-1").Disabled)
	})
}

// TestWorker_Notify: Notify makes an idle worker lease at once, not at its next poll.
func TestWorker_Notify(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ep := endpoint(t, "aff-1")
		h := newHarness(t, &outbound.WorkerOptions{PollInterval: time.Hour}, ep)
		h.start()
		synctest.Wait()
		enqueue(t, h.st, time.Now(), ep)
		advance(time.Minute)
		require.Empty(t, h.rc.requests(), "the worker polls hourly")
		start := time.Now()
		h.w.Notify()
		synctest.Wait()
		got := h.rc.requests()
		require.Len(t, got, 1, "rule: Notify leases at once")
		require.Equal(t, start, got[0].At)
	})
}

// TestWorker_LateLeasesLapse: a lease that waited in the worker (for a rate token) until it
// could no longer finish within its lease is not attempted: it lapses and is leased again,
// so no attempt is ever made under a lease that ends before it does.
func TestWorker_LateLeasesLapse(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ep := endpoint(t, "aff-1", func(e *outbound.Endpoint) { e.RatePerSecond = 1 })
		// LeaseFor = Timeout + margin (10 s) + 2 s: a queued lease must start within 2 s.
		h := newHarness(t, &outbound.WorkerOptions{Timeout: 5 * time.Second, LeaseFor: 17 * time.Second, Workers: 8}, ep)
		var ids []uuid.UUID
		for range 8 {
			ids = append(ids, enqueue(t, h.st, time.Now(), ep)[0].ID)
		}
		h.start()
		advance(5 * time.Minute)
		for _, id := range ids {
			d := h.delivery(id)
			require.Equal(t, store.DeliveryDelivered, d.Status)
			require.Len(t, d.Attempts, 1)
		}
		require.Len(t, h.rc.requests(), 8, "rule: each sent once")
		for range 8 {
			r := <-h.results
			require.NoError(t, r.Err, "rule: no attempt outlives its lease")
		}
	})
}

// TestWorker_FixedClock: an injected clock that does not move (far from the runtime's) is
// what the worker records by; its waits and rate limits still run on the runtime's timers.
func TestWorker_FixedClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fixed := time.Date(2031, 7, 1, 12, 0, 0, 0, time.UTC)
		ep := endpoint(t, "aff-1", func(e *outbound.Endpoint) { e.RatePerSecond = 2 })
		h := newHarness(t, &outbound.WorkerOptions{Now: func() time.Time { return fixed }}, ep)
		var ids []uuid.UUID
		for range 4 {
			ids = append(ids, enqueue(t, h.st, fixed, ep)[0].ID)
		}
		h.start()
		advance(3 * time.Second)
		for _, id := range ids {
			d := h.delivery(id)
			require.Equal(t, store.DeliveryDelivered, d.Status, "rule: recorded by the injected clock")
			require.True(t, d.Attempts[0].StartedAt.Equal(fixed))
		}
	})
}

// TestWorker_StaleHost: a delivery whose URL's host is no longer its endpoint's is not sent
// (the endpoint's current secrets and signature never go to the old host): it is
// dead-lettered with an attempt of class bad_url and no status.
func TestWorker_StaleHost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		old := endpoint(t, "aff-1", func(e *outbound.Endpoint) { e.URL = "https://old.example/pb?eid={event_id}" })
		moved := endpoint(t, "aff-1", func(e *outbound.Endpoint) {
			e.URL = "https://new.example/pb?eid={event_id}"
			e.Signing = outbound.Signing{Scheme: outbound.SchemeStandardWebhooks, Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
		})
		h := newHarness(t, nil, moved)
		ds := enqueue(t, h.st, time.Now(), old)
		h.start()
		r := <-h.results
		require.False(t, r.Sent)
		require.Equal(t, outbound.ClassURL, r.Class)
		require.Empty(t, h.rc.requests(), "rule: nothing is sent to a host the endpoint no longer names")
		d := h.delivery(ds[0].ID)
		require.Equal(t, store.DeliveryDead, d.Status)
		require.Equal(t, 0, d.Attempts[0].StatusCode)
		require.False(t, h.endpointState("aff-1").Disabled, "rule: a stale delivery disables nothing")
	})
}

// TestWorker_SecretCutByCap: a secret that the response cap cuts in two is blanked all the
// same: nothing of it is kept.
func TestWorker_SecretCutByCap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		secret := "s3cr3t-path-0123456789abcdef"
		ep := endpoint(t, "aff-1", func(e *outbound.Endpoint) {
			e.URL = "https://receiver.test/pb/{secret:path}?eid={event_id}"
			e.Secrets = map[string]string{"path": secret}
		})
		h := newHarness(t, &outbound.WorkerOptions{MaxResponse: 100}, ep)
		h.rc.answer = func(int, *http.Request) (*http.Response, error) {
			return respond(http.StatusNotFound, strings.Repeat("x", 90)+secret+" not found", nil), nil
		}
		ds := enqueue(t, h.st, time.Now(), ep)
		h.start()
		<-h.results
		got := h.delivery(ds[0].ID).Attempts[0].Response
		require.LessOrEqual(t, len(got), 100)
		require.True(t, strings.HasPrefix(got, strings.Repeat("x", 90)+outbound.Redacted), "rule: the secret is blanked whole: %q", got)
		require.NotContains(t, got, secret[:5], "rule: no part of a secret is kept")
	})
}

// TestWorker_ClientNeverFollowsRedirects: a given client that would follow redirects does
// not, in the worker.
func TestWorker_ClientNeverFollowsRedirects(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ep := endpoint(t, "aff-1")
		rc := &receiver{answer: func(int, *http.Request) (*http.Response, error) {
			return respond(http.StatusFound, "", http.Header{"Location": {"http://169.254.169.254/latest/meta-data/"}}), nil
		}}
		st := memstore.New(nil)
		results := make(chan outbound.Result, 1)
		w, err := outbound.NewWorker(st, outbound.Endpoints{ep}.Lookup(), &outbound.WorkerOptions{
			Client:   &http.Client{Transport: rc}, // CheckRedirect nil: it would follow
			OnResult: func(r outbound.Result) { results <- r },
		})
		require.NoError(t, err)
		enqueue(t, st, time.Now(), ep)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- w.Run(ctx) }()
		r := <-results
		cancel()
		<-done
		require.Equal(t, outbound.ClassRedirect, r.Class)
		require.Len(t, rc.requests(), 1, "rule: the redirect is not followed")
	})
}

// TestWorker_ReplayNewSchedule: a replayed delivery gets a whole new schedule and horizon,
// whatever its earlier attempts were and however the endpoint changed since.
func TestWorker_ReplayNewSchedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ep := endpoint(t, "aff-1")
		h := newHarness(t, &outbound.WorkerOptions{Horizon: time.Hour}, ep)
		var mu sync.Mutex
		code := http.StatusBadRequest
		h.rc.answer = func(int, *http.Request) (*http.Response, error) {
			mu.Lock()
			defer mu.Unlock()
			return respond(code, "", nil), nil
		}
		ds := enqueue(t, h.st, time.Now(), ep)
		h.start()
		synctest.Wait()
		require.Equal(t, store.DeliveryDead, h.delivery(ds[0].ID).Status, "a 400 dead-letters at once")

		// The endpoint now retries client errors, the receiver is down, and days pass.
		h.setEndpoint(endpoint(t, "aff-1", func(e *outbound.Endpoint) { e.RetryClientErrors = true }))
		mu.Lock()
		code = http.StatusServiceUnavailable
		mu.Unlock()
		advance(100 * time.Hour)
		replayed := time.Now()
		_, err := h.w.Replay(t.Context(), ds[0].ID)
		require.NoError(t, err)
		advance(30 * time.Minute)
		d := h.delivery(ds[0].ID)
		require.Equal(t, store.DeliveryPending, d.Status, "rule: a replay is retried on a new schedule, not dead after one attempt")
		require.True(t, d.ReplayedAt.Equal(replayed))
		require.Greater(t, len(d.Attempts), 3)
		advance(time.Hour)
		d = h.delivery(ds[0].ID)
		require.Equal(t, store.DeliveryDead, d.Status, "rule: dead again at the new run's horizon")
		require.True(t, replayed.Add(time.Hour).Equal(d.Attempts[len(d.Attempts)-1].StartedAt), "rule: the new run's last attempt is at its horizon")
	})
}
