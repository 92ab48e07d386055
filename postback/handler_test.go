package postback_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/s2skit/s2s/postback"
	"github.com/s2skit/s2s/postback/postbacktest"
	"github.com/s2skit/s2s/store"
	"github.com/stretchr/testify/require"
)

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestHandler_Answers(t *testing.T) {
	t.Parallel()
	c := &clock{t: t0}
	key := postback.Key{ID: "k1", Secret: secret}
	src := signedSource(t, c, key)
	rec := &postbacktest.Recorder{}
	logs := &syncBuffer{}
	h := newHandler(t, src, rec, &postback.HandlerOptions{Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})

	signed := func(q string) *http.Request { return postbacktest.SignedRequest(t, "/postback?"+q, key, t0) }
	good := signed(pbQuery)
	sigOfGood := good.URL.Query().Get("sig")
	tests := []struct {
		name    string
		r       *http.Request
		code    int
		result  string
		reason  postback.Reason
		records int // postbacks the receiver has seen afterwards
	}{
		{"accepted", signed(pbQuery), http.StatusAccepted, "accepted", "", 1},
		{"duplicate", signed(pbQuery), http.StatusOK, "duplicate", "", 2},
		{"conflict", signed(strings.Replace(pbQuery, "150.00", "151.00", 1)), http.StatusConflict, "conflict", "", 3},
		{"bad signature", httptest.NewRequest(http.MethodGet, "/postback?"+strings.Replace(good.URL.RawQuery, "150.00", "950.00", 1), nil),
			http.StatusUnauthorized, "rejected", postback.ReasonBadSignature, 3},
		{"unsigned", httptest.NewRequest(http.MethodGet, "/postback?"+pbQuery, nil), http.StatusUnauthorized, "rejected", postback.ReasonMissingSignature, 3},
		{"repeated key", httptest.NewRequest(http.MethodGet, "/postback?"+pbQuery+"&event=ftd", nil), http.StatusBadRequest, "rejected", postback.ReasonRepeatedKey, 3},
		{"unfilled macro", signed("click_id={clickid}&event=ftd&txn_id=T1"), http.StatusUnprocessableEntity, "rejected", postback.ReasonUnfilledMacro, 3},
		{"bad amount", signed("click_id=a&event=ftd&txn_id=T1&amount=1e3&currency=EUR"), http.StatusUnprocessableEntity, "rejected", postback.ReasonBadAmount, 3},
		{"too large", httptest.NewRequest(http.MethodGet, "/postback?x="+strings.Repeat("y", postback.MaxQueryBytes), nil), http.StatusRequestURITooLong, "rejected", postback.ReasonQueryTooLarge, 3},
		{"method", httptest.NewRequest(http.MethodDelete, "/postback?"+pbQuery, nil), http.StatusMethodNotAllowed, "rejected", postback.ReasonMethod, 3},
		{"body too large", func() *http.Request {
			r := formRequest("/postback", "x="+strings.Repeat("y", postback.MaxBodyBytes))
			return r
		}(), http.StatusRequestEntityTooLarge, "rejected", postback.ReasonBodyTooLarge, 3},
	}
	for _, tt := range tests {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, tt.r)
		require.Equal(t, tt.code, w.Code, tt.name)
		require.Equal(t, "application/json", w.Header().Get("Content-Type"), tt.name)
		var body struct {
			Result string          `json:"result"`
			Reason postback.Reason `json:"reason"`
		}
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body), tt.name)
		require.Equal(t, tt.result, body.Result, tt.name)
		require.Equal(t, tt.reason, body.Reason, tt.name)
		require.Equal(t, tt.records, rec.Len(), "%s: receiver calls", tt.name)
		if tt.result == "rejected" {
			require.NotEqual(t, http.StatusOK, w.Code)
		}
	}
	// Nothing secret reached the logs, but the rejections did.
	out := logs.String()
	require.Contains(t, out, "bad_signature")
	require.NotContains(t, out, string(secret))
	require.NotContains(t, out, sigOfGood)
	require.NotContains(t, out, "950.00")
}

func TestHandler_ReceiverOutcomes(t *testing.T) {
	t.Parallel()
	src := openSource(t, nil)
	tests := []struct {
		name   string
		recv   postback.Receiver
		code   int
		reason string
	}{
		{"downstream rejection with reason", &postbacktest.Recorder{Result: postback.Result{Outcome: postback.Rejected, Reason: "outside_window"}}, http.StatusUnprocessableEntity, "outside_window"},
		{"downstream rejection without reason", &postbacktest.Recorder{Result: postback.Result{Outcome: postback.Rejected}}, http.StatusUnprocessableEntity, "rejected"},
		{"receiver error", &postbacktest.Recorder{Err: errors.New("db down")}, http.StatusServiceUnavailable, ""},
		// Even a store's refusal: parsing accepts only what a store accepts, so it is a bug on
		// the receiving side, and the sender's retry after the fix recovers the postback.
		{"store refuses the record", &postbacktest.Recorder{Err: fmt.Errorf("record: %w", store.ErrInvalid)}, http.StatusServiceUnavailable, ""},
		{"no outcome", postback.ReceiverFunc(func(context.Context, *postback.Postback) (postback.Result, error) { return postback.Result{}, nil }), http.StatusServiceUnavailable, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := httptest.NewRecorder()
			newHandler(t, src, tt.recv, nil).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/p?click_id=a&event=ftd&txn_id=T1", nil))
			require.Equal(t, tt.code, w.Code)
			require.Contains(t, w.Body.String(), tt.reason)
		})
	}
}

func TestHandler_OKBody(t *testing.T) {
	t.Parallel()
	src := openSource(t, nil)
	h := newHandler(t, src, &postbacktest.Recorder{}, &postback.HandlerOptions{OKBody: "OK"})
	for _, want := range []int{http.StatusAccepted, http.StatusOK} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/p?click_id=a&event=ftd&txn_id=1", nil))
		require.Equal(t, want, w.Code)
		require.Equal(t, "OK", w.Body.String())
	}
	// A rejection keeps its JSON body and its status.
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/p?click_id=a", nil))
	require.Equal(t, http.StatusUnprocessableEntity, w.Code)
	require.NotEqual(t, "OK", w.Body.String())
	require.Contains(t, w.Body.String(), `"missing_event"`)
}

// TestHandler_Server runs the handler behind a real HTTP server.
func TestHandler_Server(t *testing.T) {
	t.Parallel()
	c := &clock{t: t0}
	key := postback.Key{Secret: secret}
	rec := &postbacktest.Recorder{}
	srv := httptest.NewServer(newHandler(t, signedSource(t, c, key), rec, nil))
	defer srv.Close()
	q := sign(t, "/postback", pbQuery, key, t0)
	resp, err := srv.Client().Get(srv.URL + "/postback?" + q)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	resp, err = srv.Client().Get(srv.URL + "/postback?" + strings.Replace(q, "ftd", "fte", 1))
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Equal(t, 1, rec.Len())
	require.Equal(t, "TX-99812", rec.Postbacks()[0].TransactionID)
}

// TestStatusCode pins the HTTP status of every Reason, and fails when a Reason is added to
// errors.go without one here.
func TestStatusCode(t *testing.T) {
	t.Parallel()
	const (
		badRequest = http.StatusBadRequest
		auth       = http.StatusUnauthorized
		content    = http.StatusUnprocessableEntity
	)
	want := map[postback.Reason]int{
		postback.ReasonMalformedQuery: badRequest, postback.ReasonSemicolon: badRequest, postback.ReasonRepeatedKey: badRequest,
		postback.ReasonTooManyParams: badRequest, postback.ReasonMalformedBody: badRequest, postback.ReasonBodyRepeatsKey: badRequest,
		postback.ReasonQueryTooLarge: http.StatusRequestURITooLong, postback.ReasonBodyTooLarge: http.StatusRequestEntityTooLarge,
		postback.ReasonMethod: http.StatusMethodNotAllowed, postback.ReasonMediaType: http.StatusUnsupportedMediaType,
		postback.ReasonIPNotAllowed: http.StatusForbidden,

		postback.ReasonMissingTimestamp: auth, postback.ReasonBadTimestamp: auth, postback.ReasonTimestampTolerance: auth,
		postback.ReasonMissingSignature: auth, postback.ReasonBadSignature: auth, postback.ReasonUnknownKey: auth,
		postback.ReasonTooManySignatures: auth, postback.ReasonMissingToken: auth, postback.ReasonBadToken: auth,
		postback.ReasonMissingWebhookID: auth, postback.ReasonBadWebhookID: auth,

		postback.ReasonUnknownParam: content, postback.ReasonUnfilledMacro: content, postback.ReasonMissingClickID: content,
		postback.ReasonBadClickID: content, postback.ReasonBadClickIDSig: content, postback.ReasonNativeClickID: content,
		postback.ReasonForeignClickID: content, postback.ReasonSignedClickID: content, postback.ReasonTokenClickID: content,
		postback.ReasonMissingEvent: content, postback.ReasonMissingTxnID: content, postback.ReasonUnknownStatus: content,
		postback.ReasonBadAmount: content, postback.ReasonBadCurrency: content, postback.ReasonMissingCurrency: content,
		postback.ReasonBadOccurredAt: content, postback.ReasonBadLots: content, postback.ReasonBadRounds: content, postback.ReasonValueTooLong: content, postback.ReasonBadValue: content,
		postback.ReasonRejectedDownstream: content, "outside_window": content,
	}
	for r, code := range want {
		require.Equal(t, code, postback.StatusCode(r), r)
	}
	// Every Reason constant declared in errors.go has its row above.
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "errors.go", nil, 0)
	require.NoError(t, err)
	declared := 0
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			vs := spec.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Reason" {
				continue
			}
			lit := vs.Values[0].(*ast.BasicLit)
			v, err := strconv.Unquote(lit.Value)
			require.NoError(t, err)
			_, ok := want[postback.Reason(v)]
			require.True(t, ok, "%s (%q) has no expected status in TestStatusCode", vs.Names[0].Name, v)
			declared++
		}
	}
	require.Equal(t, len(want)-1, declared, "one row per declared Reason, and one for a receiver's own")
}

// TestHandler_Replay: a replayed signed postback inside the tolerance reaches the Receiver,
// whose dedup answers Duplicate; outside the tolerance it is rejected before the Receiver.
func TestHandler_Replay(t *testing.T) {
	t.Parallel()
	c := &clock{t: t0}
	key := postback.Key{Secret: secret}
	rec := &postbacktest.Recorder{}
	h := newHandler(t, signedSource(t, c, key), rec, nil)
	target := "/postback?" + sign(t, "/postback", pbQuery, key, t0)
	for _, step := range []struct {
		at      time.Duration
		code    int
		records int
	}{
		{0, http.StatusAccepted, 1},
		{299 * time.Second, http.StatusOK, 2},
		{-300 * time.Second, http.StatusOK, 3},
		{301 * time.Second, http.StatusUnauthorized, 3},
		{10 * time.Minute, http.StatusUnauthorized, 3},
	} {
		c.t = t0.Add(step.at)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, target, nil))
		require.Equal(t, step.code, w.Code, step.at)
		require.Equal(t, step.records, rec.Len(), step.at)
	}
}

// TestNewHandler_Required: a handler without a source or a receiver is refused when it is
// made, not by a panic on its first request.
func TestNewHandler_Required(t *testing.T) {
	t.Parallel()
	src := openSource(t, nil)
	for name, tc := range map[string]struct {
		src  *postback.Source
		recv postback.Receiver
	}{
		"no source":   {nil, &postbacktest.Recorder{}},
		"no receiver": {src, nil},
		"neither":     {nil, nil},
	} {
		h, err := postback.NewHandler(tc.src, tc.recv, nil)
		require.ErrorIs(t, err, postback.ErrConfig, name)
		require.Nil(t, h, name)
	}
}

// TestHandler_Serve: Serve answers as ServeHTTP does and says how: the status sent, the
// result (with the receiver's conversion ID), the field of a rejection, whether the receiver
// got the postback, and its error.
func TestHandler_Serve(t *testing.T) {
	t.Parallel()
	c := &clock{t: t0}
	key := postback.Key{ID: "k1", Secret: secret}
	src := signedSource(t, c, key)
	conv := [16]byte{7}
	failing := errors.New("store down")
	for _, tc := range []struct {
		name     string
		recv     postback.ReceiverFunc
		query    string
		status   int
		result   postback.Result
		field    string
		received bool
		err      error
	}{
		{"accepted", func(context.Context, *postback.Postback) (postback.Result, error) {
			return postback.Result{Outcome: postback.Accepted, ConversionID: conv}, nil
		}, "", http.StatusAccepted, postback.Result{Outcome: postback.Accepted, ConversionID: conv}, "", true, nil},
		{"duplicate", func(context.Context, *postback.Postback) (postback.Result, error) {
			return postback.Result{Outcome: postback.Duplicate, ConversionID: conv}, nil
		}, "", http.StatusOK, postback.Result{Outcome: postback.Duplicate, ConversionID: conv}, "", true, nil},
		{"downstream rejection", func(context.Context, *postback.Postback) (postback.Result, error) {
			return postback.Result{Outcome: postback.Rejected}, nil
		}, "", http.StatusUnprocessableEntity, postback.Result{Outcome: postback.Rejected, Reason: postback.ReasonRejectedDownstream}, "", true, nil},
		{"receiver error", func(context.Context, *postback.Postback) (postback.Result, error) {
			return postback.Result{}, failing
		}, "", http.StatusServiceUnavailable, postback.Result{}, "", true, failing},
		{"rejected by the source", nil, "&sub1=%00", http.StatusUnprocessableEntity,
			postback.Result{Outcome: postback.Rejected, Reason: postback.ReasonBadValue}, "sub1", false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			recv := tc.recv
			if recv == nil {
				recv = func(context.Context, *postback.Postback) (postback.Result, error) {
					t.Error("rule: a rejected postback reaches no receiver")
					return postback.Result{}, nil
				}
			}
			h := newHandler(t, src, recv, nil)
			w := httptest.NewRecorder()
			a := h.Serve(w, postbacktest.SignedRequest(t, "/postback?"+pbQuery+tc.query, key, t0))
			require.Equal(t, tc.status, w.Code)
			require.Equal(t, tc.status, a.Status, "rule: the status answered is the one sent")
			require.Equal(t, tc.result, a.Result)
			require.Equal(t, tc.field, a.Field)
			require.Equal(t, tc.received, a.Received)
			require.Equal(t, tc.err, a.Err)
			if tc.received {
				require.Equal(t, "test", a.Postback.Source)
			} else {
				require.Zero(t, a.Postback)
			}
		})
	}
}
