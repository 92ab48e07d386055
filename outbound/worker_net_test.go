package outbound_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/outbound"
	"github.com/s2skit/s2s/store"
	"github.com/s2skit/s2s/store/memstore"
)

// These tests run the worker with the real client (NewClient, its SSRF guard allowing
// loopback) against httptest servers on loopback, on the real clock: they wait for
// OnResult, never for time.

// netWorker runs a worker delivering through NewClient to loopback, and returns its store
// and a channel of its results.
func netWorker(t *testing.T, ep *outbound.Endpoint, opts outbound.WorkerOptions) (store.Store, <-chan outbound.Result) {
	t.Helper()
	st := memstore.New(nil)
	if opts.Client == nil {
		opts.Client = outbound.NewClient(&outbound.ClientOptions{
			Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, Timeout: opts.Timeout,
		})
	}
	results := make(chan outbound.Result, 100)
	opts.OnResult = func(r outbound.Result) { results <- r }
	w, err := outbound.NewWorker(st, func(name string) (*outbound.Endpoint, bool) { return ep, name == ep.Name }, &opts)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return st, results
}

func loopbackEndpoint(t *testing.T, srv *httptest.Server, path string) *outbound.Endpoint {
	t.Helper()
	ep := &outbound.Endpoint{Name: "aff-1", URL: srv.URL + path + "?eid={event_id}", AllowHTTP: true}
	require.NoError(t, ep.Compile())
	return ep
}

// TestWorker_Loopback: a delivery goes through the guarded client to a real server.
func TestWorker_Loopback(t *testing.T) {
	var got atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.URL.Query().Get("eid"))
		_, _ = w.Write([]byte("ok"))
	}))
	defer srv.Close()
	ep := loopbackEndpoint(t, srv, "/pb")
	st, results := netWorker(t, ep, outbound.WorkerOptions{})
	ds := enqueue(t, st, time.Now(), ep)
	r := <-results
	require.NoError(t, r.Err)
	require.Equal(t, store.DeliveryDelivered, r.Delivery.Status)
	require.Equal(t, ds[0].ID.String(), got.Load())
	require.Equal(t, "ok", r.Delivery.Attempts[0].Response)
}

// TestWorker_RedirectNotFollowed: a receiver that redirects to an internal address gets no
// request there: the 3xx is the attempt's answer, retried later.
func TestWorker_RedirectNotFollowed(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		inner, err = net.Listen("tcp", "127.0.0.1:0")
	}
	require.NoError(t, err)
	var accepted atomic.Int32
	go func() {
		for {
			c, err := inner.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			_ = c.Close()
		}
	}()
	defer inner.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://"+inner.Addr().String()+"/latest/meta-data/", http.StatusFound)
	}))
	defer srv.Close()
	ep := loopbackEndpoint(t, srv, "/pb")
	st, results := netWorker(t, ep, outbound.WorkerOptions{})
	enqueue(t, st, time.Now(), ep)
	r := <-results
	require.Equal(t, outbound.ClassRedirect, r.Class)
	require.Equal(t, http.StatusFound, r.Attempt.StatusCode)
	require.Equal(t, store.DeliveryPending, r.Delivery.Status, "rule: a 3xx is retried, never followed")
	require.Zero(t, accepted.Load(), "rule: the redirect's target receives no connection")
}

// TestWorker_ResponseCapped: a 10 MB response is read up to MaxResponse and stored so.
func TestWorker_ResponseCapped(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		chunk := []byte(strings.Repeat("x", 1<<20))
		for range 10 {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	ep := loopbackEndpoint(t, srv, "/pb")
	st, results := netWorker(t, ep, outbound.WorkerOptions{MaxResponse: 1000})
	ds := enqueue(t, st, time.Now(), ep)
	r := <-results
	require.NoError(t, r.Err)
	require.Equal(t, store.DeliveryDelivered, r.Delivery.Status)
	d, err := st.GetDelivery(t.Context(), ds[0].ID)
	require.NoError(t, err)
	require.Len(t, d.Attempts[0].Response, 1000, "rule: the stored response is capped")
}

// TestWorker_SlowReceiverCut: a receiver that never answers is cut at the Timeout.
func TestWorker_SlowReceiverCut(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	ep := loopbackEndpoint(t, srv, "/pb")
	timeout := 200 * time.Millisecond
	st, results := netWorker(t, ep, outbound.WorkerOptions{Timeout: timeout, LeaseFor: time.Minute})
	enqueue(t, st, time.Now(), ep)
	r := <-results
	require.Equal(t, outbound.ClassTimeout, r.Class)
	require.Equal(t, store.DeliveryPending, r.Delivery.Status, "rule: a timeout is retried")
	// The timeout runs on the monotonic clock, the recorded times are wall-clock readings
	// kept to the microsecond: they may show the attempt a little shorter than the timeout.
	require.GreaterOrEqual(t, r.Attempt.Latency(), timeout-20*time.Millisecond)
	require.Less(t, r.Attempt.Latency(), 10*time.Second, "rule: the attempt is cut at the timeout")
}
