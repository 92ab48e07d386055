package s2s_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"go.uber.org/mock/gomock"

	"github.com/s2skit/s2s"
	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/outbound"
	"github.com/s2skit/s2s/statuspage"
	"github.com/s2skit/s2s/store"
	"github.com/s2skit/s2s/store/memstore"
	"github.com/s2skit/s2s/store/mockstoretest"
)

// statusSecret is a secret of the status tests' endpoint, which no answer may show.
const statusSecret = "s3cr3t-Signing-Key-0123456789abcdef"

// get asks h for path and decodes its JSON answer into v (when not nil); it returns the
// status and the raw body.
func get(t *testing.T, h http.Handler, path string, v any) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	require.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	require.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	if v != nil && rec.Code == http.StatusOK {
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), v), rec.Body.String())
	}
	return rec.Code, rec.Body.String()
}

// statusFixture is a fixture whose endpoint signs with statusSecret, with the report's
// records, an inbound log of three records and an attempt of each of its three deliveries:
// the second succeeds, the others fail (503, the response echoing the secret).
func statusFixture(t *testing.T, st store.Store) (*fixture, http.Handler) {
	t.Helper()
	f := newFixture(t, st)
	var cfg s2s.Config
	require.NoError(t, json.Unmarshal([]byte(trackerConfig), &cfg))
	cfg.Endpoints[0].URL += "&token=abc123token"
	cfg.Endpoints[0].Signing = outbound.Signing{Scheme: outbound.SchemeS2SV1, KeyID: "k1", Secret: statusSecret}
	require.NoError(t, f.tr.SetConfig(cfg))
	fillReport(t, f)
	for i, outcome := range []string{"accepted", "rejected", "accepted"} {
		require.NoError(t, st.LogInbound(t.Context(), store.InboundRecord{ID: uuid.New(), ReceivedAt: seamNow.Add(time.Duration(i) * time.Second),
			Source: "casino-x", Method: http.MethodGet, Outcome: outcome, HTTPStatus: 202, Params: "event=ftd&sig=" + "[REDACTED]"}))
	}
	leases, err := st.LeaseDeliveries(t.Context(), store.LeaseParams{Now: seamNow, LeaseFor: time.Minute})
	require.NoError(t, err)
	require.Len(t, leases, 3, "a registration and two FTDs of aff-1")
	for i, l := range leases {
		a := store.Attempt{StartedAt: seamNow, FinishedAt: seamNow.Add(time.Duration(i+1) * time.Millisecond), StatusCode: 503,
			Response: "echo: " + statusSecret}
		p := store.RecordAttemptParams{DeliveryID: l.Delivery.ID, Token: l.Token, Attempt: a, Status: store.DeliveryPending, NextAttemptAt: seamNow.Add(time.Minute)}
		if i == 1 {
			p.Attempt.StatusCode, p.Attempt.Response, p.Status = 200, "ok", store.DeliveryDelivered
		}
		_, err := st.RecordAttempt(t.Context(), p)
		require.NoError(t, err)
	}
	f.now = seamNow.Add(time.Hour)
	h, err := f.tr.StatusHandler(&s2s.StatusOptions{Unauthenticated: true})
	require.NoError(t, err)
	return f, h
}

// TestTracker_StatusHandler: the report as Report returns it, the inbound log paged newest
// first, deliveries by status with their attempts and no secret, and endpoint health with
// the failure rate over its labelled window; on both stores.
func TestTracker_StatusHandler(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st store.Store) {
		f, h := statusFixture(t, st)

		var rep s2s.Report
		code, _ := get(t, h, "/report?affiliate=aff-1&period=day&zone=Europe%2FMalta&from=2026-03-09T12:00:00Z&to=2026-03-10T12:00:00Z", &rep)
		require.Equal(t, http.StatusOK, code)
		want, err := f.tr.Report(t.Context(), s2s.ReportQuery{AffiliateID: "aff-1", Period: commission.Day, Zone: "Europe/Malta",
			From: seamNow.Add(-24 * time.Hour), To: seamNow})
		require.NoError(t, err)
		wantJSON, err := json.Marshal(want)
		require.NoError(t, err)
		_, body := get(t, h, "/report?affiliate=aff-1&period=day&zone=Europe%2FMalta&from=2026-03-09T12:00:00Z&to=2026-03-10T12:00:00Z", nil)
		require.JSONEq(t, string(wantJSON), body, "rule: the report answer is Report's, as JSON")
		require.Len(t, rep.Rows, 1)

		type inbound struct {
			Records []struct {
				ID      string `json:"id"`
				Outcome string `json:"outcome"`
				Params  string `json:"params"`
			} `json:"records"`
			Next string `json:"next"`
		}
		var page1, page2 inbound
		code, _ = get(t, h, "/inbound?source=casino-x&limit=2", &page1)
		require.Equal(t, http.StatusOK, code)
		require.Len(t, page1.Records, 2, "rule: a listing returns at most its limit")
		require.Equal(t, "accepted", page1.Records[0].Outcome, "rule: the inbound log is newest first")
		require.Equal(t, "rejected", page1.Records[1].Outcome)
		require.NotEmpty(t, page1.Next, "rule: a full page says where the next starts")
		code, _ = get(t, h, "/inbound?source=casino-x&limit=2&after="+page1.Next, &page2)
		require.Equal(t, http.StatusOK, code)
		require.Len(t, page2.Records, 1)
		require.Empty(t, page2.Next, "rule: the last page has no next")
		var rejected inbound
		get(t, h, "/inbound?outcome=rejected", &rejected)
		require.Len(t, rejected.Records, 1, "rule: the inbound log is filtered by outcome")

		var pending, delivered struct {
			Deliveries []map[string]any `json:"deliveries"`
		}
		code, body = get(t, h, "/deliveries?status=pending&endpoint=aff-1-tracker", &pending)
		require.Equal(t, http.StatusOK, code)
		require.Len(t, pending.Deliveries, 2)
		d := pending.Deliveries[0]
		require.NotContains(t, d, "header", "rule: no delivery's header is shown")
		require.NotContains(t, d, "body", "rule: no delivery's body is shown")
		require.Contains(t, d["url"], "txn=REG-1")
		require.Len(t, d["attempts"], 1, "rule: a delivery is shown with its attempts")
		attempt := d["attempts"].([]any)[0].(map[string]any)
		require.Equal(t, float64(503), attempt["status_code"])
		require.Equal(t, true, attempt["failed"])
		require.NotContains(t, body, statusSecret, "rule: no secret is in an answer, not even echoed by a receiver")
		require.NotContains(t, body, "abc123token", "rule: a secret-named parameter of a URL is redacted")
		get(t, h, "/deliveries?status=delivered", &delivered)
		require.Len(t, delivered.Deliveries, 1, "rule: deliveries are listed by status")

		var eps struct {
			Window struct {
				From time.Time `json:"from"`
				To   time.Time `json:"to"`
			} `json:"failure_window"`
			Endpoints []struct {
				Name        string      `json:"name"`
				Configured  bool        `json:"configured"`
				Disabled    bool        `json:"disabled"`
				Attempts    int64       `json:"attempts"`
				Failed      int64       `json:"failed"`
				FailureRate store.Ratio `json:"failure_rate"`
				LastSuccess *time.Time  `json:"last_success_at"`
			} `json:"endpoints"`
		}
		code, body = get(t, h, "/endpoints", &eps)
		require.Equal(t, http.StatusOK, code)
		require.Equal(t, f.now.Add(-statuspage.DefaultFailureWindow), eps.Window.From, "rule: the failure rate names its window")
		require.Equal(t, f.now, eps.Window.To)
		require.Len(t, eps.Endpoints, 1)
		e := eps.Endpoints[0]
		require.Equal(t, "aff-1-tracker", e.Name)
		require.True(t, e.Configured)
		require.Equal(t, int64(3), e.Attempts)
		require.Equal(t, int64(2), e.Failed)
		require.Equal(t, store.Ratio{Num: 2, Den: 3}, e.FailureRate)
		require.Contains(t, body, `"failure_rate":{"num":2,"den":3,"bps":6667}`)
		require.NotNil(t, e.LastSuccess)
		require.NotContains(t, body, statusSecret)
	})
}

// TestTracker_StatusHandler_StrictQueries: every bad query is 400 with a JSON error naming
// it, and nothing else is answered but GET and HEAD of the four paths.
func TestTracker_StatusHandler_StrictQueries(t *testing.T) {
	t.Parallel()
	f := newFixture(t, memstore.New(nil))
	h, err := f.tr.StatusHandler(&s2s.StatusOptions{Unauthenticated: true})
	require.NoError(t, err)
	for _, c := range []struct{ path, says string }{
		{"/inbound?bogus=1", "unknown parameter"},
		{"/inbound?limit=1&limit=2", "given 2 times"},
		{"/inbound?limit=0", "limit"},
		{"/inbound?limit=501", "limit"},
		{"/inbound?limit=+5", "limit"},
		{"/inbound?limit=abc", "limit"},
		{"/inbound?after=yesterday", "after"},
		{"/inbound?from=2026-03-10", "from"},
		{"/inbound?source=a%00b", "source"},
		{"/inbound?a=1;b=2", "does not parse"},
		{"/inbound?source=" + strings.Repeat("x", 3000), "bytes"},
		{"/deliveries", "status"},
		{"/deliveries?status=lost", "status"},
		{"/endpoints?after=%00", "after"},
		{"/report", "from and to"},
		{"/report?from=2026-03-10T00:00:00Z&to=2026-03-11T00:00:00Z&period=year", "period"},
		{"/report?from=2026-03-10T00:00:00Z&to=2026-03-11T00:00:00Z&zone=..%2F..%2Fetc%2Fpasswd", "zone"},
		{"/report?from=2016-03-10T00:00:00Z&to=2026-03-11T00:00:00Z&period=day", "periods"},
	} {
		code, body := get(t, h, c.path, nil)
		require.Equal(t, http.StatusBadRequest, code, c.path)
		var e struct{ Error string }
		require.NoError(t, json.Unmarshal([]byte(body), &e), body)
		require.Contains(t, e.Error, c.says, c.path)
	}
	code, _ := get(t, h, "/nowhere", nil)
	require.Equal(t, http.StatusNotFound, code)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/inbound", nil))
	require.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	require.Equal(t, "GET, HEAD", rec.Header().Get("Allow"))
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodHead, "/endpoints", nil))
	require.Equal(t, http.StatusOK, rec.Code, "rule: HEAD is answered as GET")
}

// TestTracker_StatusHandler_Auth: the handler is not built without an authentication hook
// unless told it runs unauthenticated, and a refused request is 403 and reads nothing.
func TestTracker_StatusHandler_Auth(t *testing.T) {
	t.Parallel()
	f := newFixture(t, memstore.New(nil))
	_, err := f.tr.StatusHandler(nil)
	require.ErrorIs(t, err, statuspage.ErrNoAuth)
	_, err = f.tr.StatusHandler(&s2s.StatusOptions{Unauthenticated: true, FailureWindow: -time.Second})
	require.Error(t, err)
	h, err := f.tr.StatusHandler(&s2s.StatusOptions{Authorize: func(r *http.Request) error {
		if r.Header.Get("Authorization") != "Bearer ok" {
			return errors.New("no session")
		}
		return nil
	}})
	require.NoError(t, err)
	code, body := get(t, h, "/endpoints", nil)
	require.Equal(t, http.StatusForbidden, code)
	require.NotContains(t, body, "no session", "rule: the hook's error is logged, never shown")
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/endpoints", nil)
	req.Header.Set("Authorization", "Bearer ok")
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code)
}

// TestTracker_StatusHandler_StoreDown: a store failure is 503, and its error is not shown.
func TestTracker_StatusHandler_StoreDown(t *testing.T) {
	t.Parallel()
	down := errors.New("dial tcp 10.0.0.7:5432: connection refused")
	m := faultyStore(t, memstore.New(nil), func(m *mockstoretest.MockStore) {
		m.EXPECT().ListInbound(gomock.Any(), gomock.Any()).Return(nil, down).AnyTimes()
		m.EXPECT().Aggregate(gomock.Any(), gomock.Any()).Return(store.Aggregates{}, down).AnyTimes()
	})
	f := newFixture(t, m)
	h, err := f.tr.StatusHandler(&s2s.StatusOptions{Unauthenticated: true})
	require.NoError(t, err)
	for _, path := range []string{"/inbound", "/report?from=2026-03-10T00:00:00Z&to=2026-03-11T00:00:00Z"} {
		code, body := get(t, h, path, nil)
		require.Equal(t, http.StatusServiceUnavailable, code, path)
		require.NotContains(t, body, "10.0.0.7", "rule: a store's error is logged, never shown")
	}
}
