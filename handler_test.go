package s2s_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"go.uber.org/mock/gomock"

	"github.com/s2skit/s2s"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/postback"
	"github.com/s2skit/s2s/store"
	"github.com/s2skit/s2s/store/memstore"
	"github.com/s2skit/s2s/store/mockstoretest"
)

// sourcesConfig is trackerConfig with one source, casino-x, that signs its queries with
// seamKey.
func sourcesConfig(t testing.TB, sources string) s2s.Config {
	t.Helper()
	js := strings.TrimSuffix(strings.TrimSpace(trackerConfig), "}") + `, "sources": ` + sources + `}`
	var cfg s2s.Config
	require.NoError(t, json.Unmarshal([]byte(js), &cfg))
	return cfg
}

const casinoX = `[{"name": "casino-x", "auth": {"method": "signed_query", "keys": [{"id": "k1", "secret": "a-secret-of-at-least-24-bytes!!"}]}}]`

// hfixture is a Tracker on one store, its PostbackHandler mounted at /postback/{source}.
type hfixture struct {
	*fixture
	mux *http.ServeMux
}

func newHandlerFixture(t testing.TB, st store.Store, opts *s2s.Options) *hfixture {
	t.Helper()
	f := &fixture{st: st, now: seamNow}
	var o s2s.Options
	if opts != nil {
		o = *opts
	}
	o.Now = func() time.Time { return f.now }
	tr, err := s2s.New(st, sourcesConfig(t, casinoX), &o)
	require.NoError(t, err)
	f.tr = tr
	mux := http.NewServeMux()
	mux.Handle("/postback/{source}", tr.PostbackHandler())
	return &hfixture{fixture: f, mux: mux}
}

// get signs q for path as casino-x's operator would, sends it and returns the answer.
func (f *hfixture) get(t testing.TB, path string, q url.Values) *httptest.ResponseRecorder {
	t.Helper()
	signed, err := postback.SignQuery(path, q.Encode(), seamKey, seamNow)
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	f.mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path+"?"+signed, nil))
	return rec
}

func (f *hfixture) inbound(t testing.TB) []store.InboundRecord {
	t.Helper()
	rs, err := f.st.ListInbound(t.Context(), store.ListInboundParams{Limit: 1000})
	require.NoError(t, err)
	return rs
}

// byStatus returns the one record answered with status code.
func byStatus(t testing.TB, rs []store.InboundRecord, code int) store.InboundRecord {
	t.Helper()
	var found []store.InboundRecord
	for _, r := range rs {
		if r.HTTPStatus == code {
			found = append(found, r)
		}
	}
	require.Len(t, found, 1, "rule: one inbound record per postback answered %d", code)
	return found[0]
}

// TestTracker_PostbackHandler: through the handler mounted at /postback/{source}, on both
// stores: a signed FTD is accepted (202), its retry a duplicate (200), a forged one refused
// (401), one for a source not configured 404; each of the four is in the inbound log with
// its source, outcome, reason, status, redacted parameters and conversion.
func TestTracker_PostbackHandler(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st store.Store) {
		f := newHandlerFixture(t, st, nil)
		click := f.click(t, "aff-1", seamNow.Add(-2*time.Hour))
		q := ftd(click, "p-1", "t-1")

		rec := f.get(t, "/postback/casino-x", q)
		require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
		require.JSONEq(t, `{"result":"accepted"}`, rec.Body.String())
		require.Equal(t, http.StatusOK, f.get(t, "/postback/casino-x", q).Code, "rule: a retry answers Duplicate")

		forged := httptest.NewRecorder()
		f.mux.ServeHTTP(forged, httptest.NewRequest(http.MethodGet, "/postback/casino-x?"+q.Encode()+"&ts=1773144000&sig="+strings.Repeat("ab", 32), nil))
		require.Equal(t, http.StatusUnauthorized, forged.Code)

		unknown := f.get(t, "/postback/casino-y", q)
		require.Equal(t, http.StatusNotFound, unknown.Code)
		require.JSONEq(t, `{"result":"rejected","reason":"unknown_source"}`, unknown.Body.String())
		require.Equal(t, "application/json", unknown.Header().Get("Content-Type"))

		stored := f.conversion(t, q)
		rs := f.inbound(t)
		require.Len(t, rs, 4, "rule: every postback answered is logged once, rejected ones included")
		for _, r := range rs {
			require.NoError(t, r.Validate())
			require.Equal(t, seamNow, r.ReceivedAt.UTC(), "rule: received at, by the Tracker's clock")
			require.Equal(t, http.MethodGet, r.Method)
			require.Equal(t, "192.0.2.1:1234", r.RemoteAddr, "rule: the address it came from")
			require.GreaterOrEqual(t, r.Duration, time.Duration(0))
			require.Contains(t, r.Params, "sig="+"[redacted]", "rule: the signature is blanked")
			require.NotContains(t, r.Params, strings.Repeat("ab", 32), "rule: no signature in the log")
			require.Contains(t, r.Params, "player_id=p-1", "rule: the other parameters are kept as sent")
		}
		acc := byStatus(t, rs, http.StatusAccepted)
		require.Equal(t, "casino-x", acc.Source)
		require.Equal(t, "accepted", acc.Outcome)
		require.Empty(t, acc.Reason)
		require.Equal(t, stored.ID, acc.ConversionID, "rule: the record names the conversion it recorded")
		dup := byStatus(t, rs, http.StatusOK)
		require.Equal(t, "duplicate", dup.Outcome)
		require.Equal(t, stored.ID, dup.ConversionID, "rule: a duplicate names the conversion it repeats")
		bad := byStatus(t, rs, http.StatusUnauthorized)
		require.Equal(t, "rejected", bad.Outcome)
		require.Equal(t, string(postback.ReasonBadSignature), bad.Reason)
		require.Zero(t, bad.ConversionID)
		nf := byStatus(t, rs, http.StatusNotFound)
		require.Equal(t, "casino-y", nf.Source, "rule: the source asked for, for the operator who mistyped it")
		require.Equal(t, string(s2s.ReasonUnknownSource), nf.Reason)
	})
}

// TestTracker_PostbackHandler_StripPrefix: mounted with http.StripPrefix, the handler finds
// the source in the path's last segment, and verifies the signature over the path as sent;
// a path of two segments is no source.
func TestTracker_PostbackHandler_StripPrefix(t *testing.T) {
	t.Parallel()
	f := newHandlerFixture(t, memstore.New(nil), nil)
	f.mux = http.NewServeMux()
	f.mux.Handle("/pb/", http.StripPrefix("/pb/", f.tr.PostbackHandler()))
	click := f.click(t, "aff-1", seamNow.Add(-2*time.Hour))
	require.Equal(t, http.StatusAccepted, f.get(t, "/pb/casino-x", ftd(click, "p-1", "t-1")).Code)
	require.Equal(t, http.StatusNotFound, f.get(t, "/pb/x/casino-x", ftd(click, "p-1", "t-1")).Code)

	// Behind no mux at all, the path is the name.
	rec := httptest.NewRecorder()
	signed, err := postback.SignQuery("/casino-x", ftd(click, "p-2", "t-2").Encode(), seamKey, seamNow)
	require.NoError(t, err)
	f.tr.PostbackHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/casino-x?"+signed, nil))
	require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
}

// TestTracker_PostbackHandler_SetConfig: the sources are read at each request: a source
// added by SetConfig is served at the next request, a key rotated away refuses the next one.
func TestTracker_PostbackHandler_SetConfig(t *testing.T) {
	t.Parallel()
	f := newHandlerFixture(t, memstore.New(nil), nil)
	click := f.click(t, "aff-1", seamNow.Add(-2*time.Hour))
	q := ftd(click, "p-1", "t-1")
	require.Equal(t, http.StatusNotFound, f.get(t, "/postback/casino-z", q).Code)
	require.NoError(t, f.tr.SetConfig(sourcesConfig(t, `[
		{"name": "casino-z", "auth": {"method": "signed_query", "keys": [{"id": "k1", "secret": "a-secret-of-at-least-24-bytes!!"}]}},
		{"name": "casino-x", "auth": {"method": "signed_query", "keys": [{"id": "k2", "secret": "another-secret-of-24-bytes-or-more"}]}}]`)))
	require.Equal(t, http.StatusAccepted, f.get(t, "/postback/casino-z", q).Code, "rule: a new source is served at once")
	rec := f.get(t, "/postback/casino-x", ftd(click, "p-2", "t-2"))
	require.Equal(t, http.StatusUnauthorized, rec.Code, "rule: a key rotated away verifies nothing")
}

// TestTracker_PostbackHandler_Observer: the Observer is told of every answered postback,
// with the source (empty for an unknown one), outcome, reason and status.
func TestTracker_PostbackHandler_Observer(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got []s2s.PostbackObservation
	f := newHandlerFixture(t, memstore.New(nil), &s2s.Options{Observer: s2s.Observer{Postback: func(o s2s.PostbackObservation) {
		mu.Lock()
		defer mu.Unlock()
		require.GreaterOrEqual(t, o.Latency, time.Duration(0))
		o.Latency = 0
		got = append(got, o)
	}}})
	click := f.click(t, "aff-1", seamNow.Add(-2*time.Hour))
	q := ftd(click, "p-1", "t-1")
	f.get(t, "/postback/casino-x", q)
	f.get(t, "/postback/casino-x", q)
	f.get(t, "/postback/nope", q)
	q.Set("amount", "1.2.3")
	f.get(t, "/postback/casino-x", q)
	require.Equal(t, []s2s.PostbackObservation{
		{Source: "casino-x", Outcome: "accepted", Status: 202},
		{Source: "casino-x", Outcome: "duplicate", Status: 200},
		{Source: "", Outcome: "rejected", Reason: s2s.ReasonUnknownSource, Status: 404},
		{Source: "casino-x", Outcome: "rejected", Reason: postback.ReasonBadAmount, Status: 422},
	}, got)
}

// TestTracker_PostbackHandler_Concurrent: 200 concurrent postbacks, half of them retries
// of the other half, on both stores: one conversion each, and exactly one inbound record
// per request.
func TestTracker_PostbackHandler_Concurrent(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st store.Store) {
		f := newHandlerFixture(t, st, nil)
		const n = 100
		qs := make([]url.Values, n)
		for i := range qs {
			qs[i] = ftd(f.click(t, "aff-2", seamNow.Add(-2*time.Hour)), fmt.Sprintf("p-%d", i), fmt.Sprintf("t-%d", i))
		}
		codes := make([]int, 2*n)
		var wg sync.WaitGroup
		for i := range 2 * n {
			wg.Go(func() { codes[i] = f.get(t, "/postback/casino-x", qs[i%n]).Code })
		}
		wg.Wait()
		for i := range n {
			require.ElementsMatch(t, []int{http.StatusAccepted, http.StatusOK}, []int{codes[i], codes[i+n]}, "postback %d", i)
		}
		rs := f.inbound(t)
		require.Len(t, rs, 2*n, "rule: one inbound record per request, under concurrency")
		ids := map[string]int{}
		for _, r := range rs {
			ids[r.ConversionID.String()]++
		}
		require.Len(t, ids, n, "rule: each pair of records names one conversion")
	})
}

// faultyStore returns a mock store that forwards every call of the postback path to st,
// after the expectations that fail installs (a failure on cue comes first, then the
// forwarding).
func faultyStore(t *testing.T, st store.Store, fail func(m *mockstoretest.MockStore)) *mockstoretest.MockStore {
	ctrl := gomock.NewController(t)
	m := mockstoretest.NewMockStore(ctrl)
	if fail != nil {
		fail(m)
	}
	m.EXPECT().InsertClick(gomock.Any(), gomock.Any()).DoAndReturn(st.InsertClick).AnyTimes()
	m.EXPECT().GetClick(gomock.Any(), gomock.Any()).DoAndReturn(st.GetClick).AnyTimes()
	m.EXPECT().GetBinding(gomock.Any(), gomock.Any()).DoAndReturn(st.GetBinding).AnyTimes()
	m.EXPECT().GetCounter(gomock.Any(), gomock.Any()).DoAndReturn(st.GetCounter).AnyTimes()
	m.EXPECT().RecordConversion(gomock.Any(), gomock.Any()).DoAndReturn(st.RecordConversion).AnyTimes()
	m.EXPECT().BindPlayer(gomock.Any(), gomock.Any()).DoAndReturn(st.BindPlayer).AnyTimes()
	m.EXPECT().ListParked(gomock.Any(), gomock.Any()).DoAndReturn(st.ListParked).AnyTimes()
	m.EXPECT().GetConversionByKey(gomock.Any(), gomock.Any()).DoAndReturn(st.GetConversionByKey).AnyTimes()
	m.EXPECT().LogInbound(gomock.Any(), gomock.Any()).DoAndReturn(st.LogInbound).AnyTimes()
	return m
}

// TestTracker_PostbackHandler_Faults: with the store failing on cue at each step of an
// FTD (the click's lookup, the binding's, a counter's, the conversion's write): the postback
// is answered 503 and leaves nothing written (no binding, line or delivery), it is logged as
// an error in the inbound log, and the sender's retry is received whole; a failure to log
// answers as if the log had been written, and is reported with slog.
func TestTracker_PostbackHandler_Faults(t *testing.T) {
	t.Parallel()
	down := errors.New("connection reset")
	for _, step := range []struct {
		name string
		fail func(m *mockstoretest.MockStore)
	}{
		{"GetClick", func(m *mockstoretest.MockStore) {
			m.EXPECT().GetClick(gomock.Any(), gomock.Any()).Return(store.Click{}, down).Times(1)
		}},
		{"GetBinding", func(m *mockstoretest.MockStore) {
			m.EXPECT().GetBinding(gomock.Any(), gomock.Any()).Return(store.PlayerBinding{}, down).Times(1)
		}},
		{"GetCounter", func(m *mockstoretest.MockStore) {
			m.EXPECT().GetCounter(gomock.Any(), gomock.Any()).Return(int64(0), down).Times(1)
		}},
		{"RecordConversion", func(m *mockstoretest.MockStore) {
			m.EXPECT().RecordConversion(gomock.Any(), gomock.Any()).Return(store.Conversion{}, down).Times(1)
		}},
	} {
		t.Run(step.name+" fails", func(t *testing.T) {
			t.Parallel()
			mem := memstore.New(nil)
			f := newHandlerFixture(t, faultyStore(t, mem, step.fail), nil)
			f.st = mem
			click := f.click(t, "aff-1", seamNow.Add(-2*time.Hour))
			q := ftd(click, "p-1", "t-1")
			rec := f.get(t, "/postback/casino-x", q)
			require.Equal(t, http.StatusServiceUnavailable, rec.Code, "rule: a store failure is 503, so that the sender retries")
			require.JSONEq(t, `{"result":"error"}`, rec.Body.String())
			_, err := mem.GetBinding(t.Context(), "p-1")
			require.ErrorIs(t, err, store.ErrNotFound, "rule: nothing half-written: no binding")
			require.Empty(t, f.pending(t), "rule: nothing half-written: no delivery")
			require.Empty(t, f.ledger(t, "aff-1"), "rule: nothing half-written: no ledger line")
			r := byStatus(t, f.inbound(t), http.StatusServiceUnavailable)
			require.Equal(t, "error", r.Outcome)
			require.Zero(t, r.ConversionID)

			require.Equal(t, http.StatusAccepted, f.get(t, "/postback/casino-x", q).Code, "rule: the sender's retry is received whole")
			require.Len(t, f.pending(t), 1)
			require.Len(t, f.ledger(t, "aff-1"), 1)
		})
	}
	t.Run("log fails", func(t *testing.T) {
		t.Parallel()
		answers := func(st store.Store, logs *bytes.Buffer) []string {
			f := newHandlerFixture(t, st, &s2s.Options{Logger: slog.New(slog.NewTextHandler(logs, nil))})
			var out []string
			for i, path := range []string{"/postback/casino-x", "/postback/casino-x", "/postback/nope"} {
				q := ftd(f.click(t, "aff-1", seamNow.Add(-2*time.Hour)), "p-1", "t-1")
				if i == 1 {
					q.Set("amount", "x")
				}
				rec := f.get(t, path, q)
				out = append(out, fmt.Sprint(rec.Code, " ", rec.Header().Get("Content-Type"), " ", rec.Body.String()))
			}
			return out
		}
		var healthyLogs, failingLogs bytes.Buffer
		want := answers(memstore.New(nil), &healthyLogs)
		mem := memstore.New(nil)
		m := faultyStore(t, mem, func(m *mockstoretest.MockStore) {
			m.EXPECT().LogInbound(gomock.Any(), gomock.Any()).Return(errors.New("disk full")).Times(3)
		})
		require.Equal(t, want, answers(m, &failingLogs), "rule: a failure to log never changes the answer")
		require.NotContains(t, healthyLogs.String(), "inbound log not written")
		require.Equal(t, 3, strings.Count(failingLogs.String(), "inbound log not written"), "rule: each failure to log is logged")
		require.Contains(t, failingLogs.String(), "disk full")
	})
}

// TestTracker_PostbackHandler_SlowLog: the answer is flushed to the sender before the
// inbound log is written, so a slow log does not delay it.
func TestTracker_PostbackHandler_SlowLog(t *testing.T) {
	t.Parallel()
	mem := memstore.New(nil)
	release := make(chan struct{})
	m := faultyStore(t, mem, func(m *mockstoretest.MockStore) {
		m.EXPECT().LogInbound(gomock.Any(), gomock.Any()).DoAndReturn(func(ctx context.Context, r store.InboundRecord) error {
			<-release
			return mem.LogInbound(ctx, r)
		}).Times(1)
	})
	f := newHandlerFixture(t, m, nil)
	srv := httptest.NewServer(f.mux)
	defer srv.Close()
	defer close(release)
	click := f.click(t, "aff-1", seamNow.Add(-2*time.Hour))
	signed, err := postback.SignQuery("/postback/casino-x", ftd(click, "p-1", "t-1").Encode(), seamKey, seamNow)
	require.NoError(t, err)
	resp, err := srv.Client().Get(srv.URL + "/postback/casino-x?" + signed)
	require.NoError(t, err, "rule: the answer arrives while the log is still being written")
	defer resp.Body.Close()
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
}

// TestTracker_PostbackHandler_SignedClicks: a source verifies the click path's signed IDs
// and tokens with Config.Clicks.Keys: the signed ID of a click the Tracker minted is
// accepted and credited, a tampered one refused before any lookup, and a plain ID refused
// (with keys, the default accepts only signed IDs and tokens).
func TestTracker_PostbackHandler_SignedClicks(t *testing.T) {
	t.Parallel()
	cfg := sourcesConfig(t, casinoX+`, "clicks": {"keys": [{"id": 1, "secret": "dGhlLWNsaWNrLXNpZ25pbmctc2VjcmV0LTMyLWJ5dGVz"}],
		"campaigns": [{"id": "c1", "destination": "https://casino.example/?cid={click_id}", "click_id": "signed"},
			{"id": "c2", "destination": "https://casino.example/?btag={click_id}", "click_id": "token"}]}`)
	st := memstore.New(nil)
	tr, err := s2s.New(st, cfg, &s2s.Options{Now: func() time.Time { return seamNow }})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/postback/{source}", tr.PostbackHandler())
	f := &hfixture{fixture: &fixture{st: st, tr: tr, now: seamNow}, mux: mux}

	for _, campaign := range []string{"c1", "c2"} {
		click, err := tr.Click(t.Context(), s2s.ClickRequest{CampaignID: campaign, AffiliateID: "aff-7"})
		require.NoError(t, err)
		q := ftd(click.ID, "p-"+campaign, "t-"+campaign)
		q.Set("click_id", click.Ref)
		rec := f.get(t, "/postback/casino-x", q)
		require.Equal(t, http.StatusAccepted, rec.Code, "rule: the click path's %s ID verifies: %s", campaign, rec.Body)
		require.Equal(t, "aff-7", f.conversion(t, ftd(click.ID, "p-"+campaign, "t-"+campaign)).AffiliateID)

		tampered := []byte(click.Ref)
		if last := &tampered[len(tampered)-1]; *last == '0' { // another character of the alphabet
			*last = '1'
		} else {
			*last = '0'
		}
		q.Set("click_id", string(tampered))
		q.Set("txn_id", "t-x-"+campaign)
		rec = f.get(t, "/postback/casino-x", q)
		require.Equal(t, http.StatusUnprocessableEntity, rec.Code, "rule: a tampered %s ID is refused", campaign)
		if campaign == "c1" {
			require.Contains(t, rec.Body.String(), string(postback.ReasonBadClickIDSig), "rule: a tampered signed ID fails its signature")
		}
	}
	rec := f.get(t, "/postback/casino-x", ftd(f.click(t, "aff-7", seamNow.Add(-time.Hour)), "p-9", "t-9"))
	require.Contains(t, rec.Body.String(), string(postback.ReasonNativeClickID), "rule: with keys, a plain ID is refused by default")
}

// TestTracker_PruneInbound: PruneInbound deletes the records older than the configured
// retention, and Run does it every SweepInterval (on synctest's clock).
func TestTracker_PruneInbound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := memstore.New(nil)
		cfg := sourcesConfig(t, casinoX+`, "inbound": {"retention": "2d"}`)
		tr, err := s2s.New(st, cfg, &s2s.Options{SweepInterval: time.Hour})
		require.NoError(t, err)
		now := time.Now()
		for i, age := range []time.Duration{72 * time.Hour, 49 * time.Hour, 47 * time.Hour, time.Minute} {
			require.NoError(t, st.LogInbound(t.Context(), store.InboundRecord{ID: uuid.Must(uuid.NewV7()),
				ReceivedAt: now.Add(-age), Outcome: "accepted", Params: fmt.Sprint(i)}))
		}
		n, err := tr.PruneInbound(t.Context())
		require.NoError(t, err)
		require.Equal(t, 2, n, "rule: the records older than the retention are deleted")

		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- tr.Run(ctx) }()
		time.Sleep(2 * time.Hour) // two sweeps: the record of 47h is older than 2d after the first
		synctest.Wait()
		rs, err := st.ListInbound(t.Context(), store.ListInboundParams{})
		require.NoError(t, err)
		require.Len(t, rs, 1, "rule: Run prunes the inbound log every SweepInterval")
		require.Equal(t, "3", rs[0].Params)
		cancel()
		<-done
	})
}

// TestTracker_PostbackHandler_OneConfigPerRequest: a SetConfig between the source's
// verification and the decision never mixes two configurations. Configuration A verifies
// key k1 and pays a 50 EUR CPA, B verifies k2 and pays 70 EUR; the Tracker's clock, which
// the source reads as it verifies, publishes the other configuration at each reading, and
// another goroutine keeps swapping them too. Every postback accepted is paid by the
// configuration whose key verified it, on both stores.
func TestTracker_PostbackHandler_OneConfigPerRequest(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st store.Store) {
		cfgA := sourcesConfig(t, casinoX)
		cfgB := sourcesConfig(t, `[{"name": "casino-x", "auth": {"method": "signed_query", "keys": [{"id": "k2", "secret": "another-secret-of-24-bytes-or-more"}]}}]`)
		cfgB.Commission.Default[0].Plan.CPA.Amount = money.MustParse("70.00", money.EUR)
		keyB := postback.Key{ID: "k2", Secret: []byte("another-secret-of-24-bytes-or-more")}
		var (
			tr    *s2s.Tracker
			flips atomic.Int64
			swap  atomic.Bool
		)
		var mu sync.Mutex // SetConfigs of one Config value are not concurrent: Validate compiles its endpoints in place
		flip := func() {
			mu.Lock()
			defer mu.Unlock()
			cfg := cfgA
			if flips.Add(1)%2 == 1 {
				cfg = cfgB
			}
			if err := tr.SetConfig(cfg); err != nil {
				t.Error(err)
			}
		}
		tr, err := s2s.New(st, cfgA, &s2s.Options{Now: func() time.Time {
			if swap.Load() {
				flip()
			}
			return seamNow
		}})
		require.NoError(t, err)
		mux := http.NewServeMux()
		mux.Handle("/postback/{source}", tr.PostbackHandler())
		f := &fixture{st: st, tr: tr, now: seamNow}

		const n = 10                // the daily cap of paid FTDs
		paid := map[string]string{} // transaction -> the CPA its key's configuration pays
		reqs := make([]*http.Request, n)
		for i := range n {
			txn, key, cpa := fmt.Sprintf("t-%d", i), seamKey, "50.00"
			if i%2 == 1 {
				key, cpa = keyB, "70.00"
			}
			paid[txn] = cpa
			q := ftd(f.click(t, "aff-1", seamNow.Add(-2*time.Hour)), fmt.Sprintf("p-%d", i), txn)
			signed, err := postback.SignQuery("/postback/casino-x", q.Encode(), key, seamNow)
			require.NoError(t, err)
			reqs[i] = httptest.NewRequest(http.MethodGet, "/postback/casino-x?"+signed, nil)
		}
		swap.Store(true)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
					flip()
				}
			}
		})
		accepted := 0
		for _, r := range reqs {
			// Each is sent until it is verified: a request meets the configuration of the
			// other key about half of the time.
			for range 100 {
				rec := httptest.NewRecorder()
				mux.ServeHTTP(rec, r.Clone(t.Context()))
				if rec.Code != http.StatusUnauthorized {
					require.Equal(t, http.StatusAccepted, rec.Code, "%s", rec.Body)
					accepted++
					break
				}
			}
		}
		close(stop)
		wg.Wait()
		swap.Store(false)
		require.Equal(t, n, accepted)
		lines := f.ledger(t, "aff-1")
		require.Len(t, lines, n, "one CPA per FTD")
		for _, l := range lines {
			require.Equal(t, money.MustParse(paid[l.EventID], money.EUR), l.Amount, "rule: postback %s is paid by the configuration that verified it", l.EventID)
		}
	})
}
