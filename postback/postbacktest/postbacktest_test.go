package postbacktest_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/s2skit/s2s/attribution"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/postback"
	"github.com/s2skit/s2s/postback/postbacktest"
	"github.com/stretchr/testify/require"
)

var (
	key = postback.Key{ID: "k", Secret: []byte("s2s-test-secret-0123456789abcdef")}
	at  = time.Unix(1732350000, 0)
)

func source(t *testing.T, method postback.Method) *postback.Source {
	t.Helper()
	src, err := postback.NewSource("s", postback.Auth{Method: method, Keys: []postback.Key{key}},
		&postback.SourceOptions{Now: func() time.Time { return at }})
	require.NoError(t, err)
	return src
}

func TestSignedRequest(t *testing.T) {
	t.Parallel()
	src := source(t, postback.MethodSignedQuery)
	for _, target := range []string{"/postback?click_id=a&event=ftd&txn_id=T1", "https://tracker.example/p%20b?click_id=a&event=ftd&txn_id=T1&sub1=x+y"} {
		pb, err := src.ParseRequest(postbacktest.SignedRequest(t, target, key, at))
		require.NoError(t, err, target)
		require.Equal(t, "k", pb.KeyID)
	}
	// Signed at another time: outside the tolerance.
	_, err := src.ParseRequest(postbacktest.SignedRequest(t, "/p?click_id=a&event=ftd&txn_id=T1", key, at.Add(-time.Hour)))
	require.Equal(t, postback.ReasonTimestampTolerance, postback.ReasonOf(err))
}

func TestSignedFormRequest(t *testing.T) {
	t.Parallel()
	src := source(t, postback.MethodSignedQuery)
	pb, err := src.ParseRequest(postbacktest.SignedFormRequest(t, "/p?click_id=a", "event=ftd&txn_id=9", key, at))
	require.NoError(t, err)
	require.Equal(t, "9", pb.TransactionID)
}

func TestWebhookRequest(t *testing.T) {
	t.Parallel()
	src := source(t, postback.MethodStandardWebhooks)
	pb, err := src.ParseRequest(postbacktest.WebhookRequest(t, "/wh", "msg_1", []byte(`{"click_id":"a","event":"ftd","txn_id":"T1"}`), at, []byte("some-other-secret-of-32-bytes!!!"), key.Secret))
	require.NoError(t, err)
	require.Equal(t, event.Type("ftd"), pb.Event)
}

func TestRecorder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := &postbacktest.Recorder{}
	pb := postback.Postback{Source: "s", Event: event.Deposit, TransactionID: "T1", PlayerID: "p", Status: event.StatusApproved}
	for _, want := range []postback.Outcome{postback.Accepted, postback.Duplicate} {
		res, err := r.Receive(ctx, &pb)
		require.NoError(t, err)
		require.Equal(t, want, res.Outcome)
	}
	// The same transaction with another status is a status update (a chargeback), as the
	// store's SameContent has it: accepted, then a duplicate when retried.
	update := pb
	update.Status = event.StatusReversed
	for _, want := range []postback.Outcome{postback.Accepted, postback.Duplicate} {
		res, err := r.Receive(ctx, &update)
		require.NoError(t, err)
		require.Equal(t, want, res.Outcome, "rule: a status update is accepted once")
	}
	other := pb
	other.PlayerID = "q"
	res, err := r.Receive(ctx, &other)
	require.NoError(t, err)
	require.Equal(t, postback.Conflict, res.Outcome)
	// Another event of the same transaction is another conversion.
	reversal := pb
	reversal.Event = event.Reversal
	res, err = r.Receive(ctx, &reversal)
	require.NoError(t, err)
	require.Equal(t, postback.Accepted, res.Outcome)
	// A registration without a transaction ID is once per player, however late its retry.
	reg := postback.Postback{Source: "s", Event: event.Registration, PlayerID: "p", ReceivedAt: at}
	for _, want := range []postback.Outcome{postback.Accepted, postback.Duplicate} {
		res, err = r.Receive(ctx, &reg)
		require.NoError(t, err)
		require.Equal(t, want, res.Outcome)
		reg.ReceivedAt = reg.ReceivedAt.Add(time.Minute)
	}
	require.Equal(t, 8, r.Len())
	require.Equal(t, "q", r.Postbacks()[4].PlayerID)

	fixed := &postbacktest.Recorder{Result: postback.Result{Outcome: postback.Rejected, Reason: "x"}}
	res, err = fixed.Receive(ctx, &pb)
	require.NoError(t, err)
	require.Equal(t, postback.Reason("x"), res.Reason)
	failing := &postbacktest.Recorder{Err: errors.New("down")}
	_, err = failing.Receive(ctx, &pb)
	require.Error(t, err)
	require.Equal(t, 1, failing.Len())
}

// TestRecorder_Dedup: the Recorder keys postbacks by the pipeline's dedup policy: one FTD
// per player (a second, with another transaction, is the same key with other content: a
// conflict), a postback the policy cannot key is rejected, and under "every" each postback
// is its own.
func TestRecorder_Dedup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	once := &postbacktest.Recorder{Dedup: attribution.Dedup{Events: map[event.Type]attribution.DedupMode{event.FTD: attribution.DedupPlayerEvent}}}
	ftd := postback.Postback{Source: "s", Event: event.FTD, TransactionID: "T1", PlayerID: "p", Status: event.StatusApproved}
	second := ftd
	second.TransactionID = "T2"
	noPlayer := ftd
	noPlayer.PlayerID = ""
	deposit := second
	deposit.Event = event.Deposit
	for _, tc := range []struct {
		pb   postback.Postback
		want postback.Outcome
	}{{ftd, postback.Accepted}, {ftd, postback.Duplicate}, {second, postback.Conflict}, {noPlayer, postback.Rejected}, {deposit, postback.Accepted}} {
		res, err := once.Receive(ctx, &tc.pb)
		require.NoError(t, err)
		require.Equal(t, tc.want, res.Outcome, "%s %s of %q", tc.pb.Event, tc.pb.TransactionID, tc.pb.PlayerID)
	}
	every := &postbacktest.Recorder{Dedup: attribution.Dedup{Mode: attribution.DedupEvery}}
	for range 2 {
		res, err := every.Receive(ctx, &ftd)
		require.NoError(t, err)
		require.Equal(t, postback.Accepted, res.Outcome, "rule: under every, a retry is a new conversion")
	}
}

// TestRecorder_Concurrent: exactly one of many identical postbacks is Accepted.
func TestRecorder_Concurrent(t *testing.T) {
	t.Parallel()
	r := &postbacktest.Recorder{}
	h, err := postback.NewHandler(source(t, postback.MethodSignedQuery), r, nil)
	require.NoError(t, err)
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	reqs := make([]*http.Request, 50)
	for i := range reqs {
		reqs[i] = postbacktest.SignedRequest(t, "/p?click_id=a&event=ftd&txn_id=T1", key, at)
	}
	for _, req := range reqs {
		wg.Go(func() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			mu.Lock()
			codes[w.Code]++
			mu.Unlock()
		})
	}
	wg.Wait()
	require.Equal(t, map[int]int{http.StatusAccepted: 1, http.StatusOK: 49}, codes)
}

func TestServer(t *testing.T) {
	t.Parallel()
	srv := postbacktest.NewServer(t, source(t, postback.MethodSignedQuery))
	signed := postbacktest.SignedRequest(t, srv.URL+"/p?click_id=a&event=ftd&txn_id=T1", key, at)
	resp, err := srv.Client().Get(signed.URL.String())
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	resp, err = srv.Client().Get(srv.URL + "/p?click_id=a&event=ftd&txn_id=T2")
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	reqs := srv.Requests()
	require.Len(t, reqs, 2)
	require.Equal(t, http.MethodGet, reqs[1].Method)
	require.Equal(t, "/p?click_id=a&event=ftd&txn_id=T2", reqs[1].URL)
	require.Equal(t, 1, srv.Recorder.Len(), "only the verified postback reached the recorder")

	open := postbacktest.NewServer(t, nil)
	resp, err = open.Client().Post(open.URL+"/out", "application/json", strings.NewReader(`{"a":1}`))
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, []byte(`{"a":1}`), open.Requests()[0].Body)
}
