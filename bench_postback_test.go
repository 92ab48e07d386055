package s2s_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/s2skit/s2s"
	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/postback"
	"github.com/s2skit/s2s/store"
	"github.com/s2skit/s2s/store/memstore"
)

// benchConfig is attribution with one window and one signed source: the postback path
// without commission or deliveries, so that the figure is the handler's own.
const benchConfig = `{
	"attribution": {"default": {"windows": {"default": "30d"}}},
	"sources": [{"name": "casino-x", "auth": {"method": "signed_query", "keys": [{"id": "k1", "secret": "a-secret-of-at-least-24-bytes!!"}]}}]
}`

// benchQuery returns the i-th postback's query: a registration of a new player for click,
// so that every one is accepted.
func benchQuery(click string, i int) string {
	return "click_id=" + click + "&event=registration&player_id=p-" + strconv.Itoa(i) + "&txn_id=t-" + strconv.Itoa(i)
}

// BenchmarkPostbackHandler is a signed GET postback through the Tracker's PostbackHandler
// on memstore, end to end: signing (the operator's side, as in the baseline), routing to
// the source, parsing, HMAC verification, the click lookup, attribution, the conversion's
// write and the inbound log's record. Sub-benchmark "no-inbound-log" is the same through
// postback.NewHandler with the Tracker as Receiver: the cost of the log, written
// synchronously after the answer.
func BenchmarkPostbackHandler(b *testing.B) {
	run := func(b *testing.B, mount func(tr *s2s.Tracker) http.Handler) {
		var cfg s2s.Config
		if err := json.Unmarshal([]byte(benchConfig), &cfg); err != nil {
			b.Fatal(err)
		}
		now := seamNow
		st := memstore.New(nil)
		tr, err := s2s.New(st, cfg, &s2s.Options{Now: func() time.Time { return now }})
		if err != nil {
			b.Fatal(err)
		}
		click, err := clickid.New()
		if err != nil {
			b.Fatal(err)
		}
		if err := st.InsertClick(b.Context(), store.Click{ID: click, AffiliateID: "aff-1", CreatedAt: now.Add(-time.Hour)}); err != nil {
			b.Fatal(err)
		}
		h := mount(tr)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			signed, err := postback.SignQuery("/postback/casino-x", benchQuery(click.String(), i), seamKey, now)
			if err != nil {
				b.Fatal(err)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/postback/casino-x?"+signed, nil))
			if w.Code != http.StatusAccepted {
				b.Fatalf("%d %s", w.Code, w.Body)
			}
		}
	}
	b.Run("tracker", func(b *testing.B) {
		run(b, func(tr *s2s.Tracker) http.Handler {
			mux := http.NewServeMux()
			mux.Handle("/postback/{source}", tr.PostbackHandler())
			return mux
		})
	})
	b.Run("no-inbound-log", func(b *testing.B) {
		run(b, func(tr *s2s.Tracker) http.Handler {
			src, err := postback.NewSource("casino-x", postback.Auth{Method: postback.MethodSignedQuery, Keys: []postback.Key{seamKey}},
				&postback.SourceOptions{Now: func() time.Time { return seamNow }})
			if err != nil {
				b.Fatal(err)
			}
			h, err := postback.NewHandler(src, tr, nil)
			if err != nil {
				b.Fatal(err)
			}
			mux := http.NewServeMux()
			mux.Handle("/postback/{source}", h)
			return mux
		})
	})
}

// BenchmarkBaselinePostbackNetHTTP is what a user would write instead: a bare net/http
// handler that parses the query (url.ParseQuery), checks the s2s v1 HMAC (crypto/hmac) and
// keeps the postback in a map under a mutex. It checks no timestamp, refuses nothing else,
// resolves no click, decides nothing and logs nothing.
func BenchmarkBaselinePostbackNetHTTP(b *testing.B) {
	var (
		mu   sync.Mutex
		seen = map[string]url.Values{}
	)
	h := func(w http.ResponseWriter, r *http.Request) {
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			http.Error(w, "bad query", http.StatusBadRequest)
			return
		}
		sig, err := hex.DecodeString(q.Get("sig"))
		if err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		q.Del("sig")
		mac := hmac.New(sha256.New, seamKey.Secret)
		mac.Write([]byte("s2s-v1\n" + r.URL.Path + "\n" + q.Encode()))
		if !hmac.Equal(mac.Sum(nil), sig) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		mu.Lock()
		_, dup := seen[q.Get("txn_id")]
		if !dup {
			seen[q.Get("txn_id")] = q
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if dup {
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte(`{"result":"duplicate"}` + "\n"))
			return
		}
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(`{"result":"accepted"}` + "\n"))
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/postback/{source}", h)
	id, err := clickid.New()
	if err != nil {
		b.Fatal(err)
	}
	click := id.String()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		signed, err := postback.SignQuery("/postback/casino-x", benchQuery(click, i), seamKey, seamNow)
		if err != nil {
			b.Fatal(err)
		}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/postback/casino-x?"+signed, nil))
		if w.Code != http.StatusAccepted {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
	}
}

// BenchmarkBaselinePostbackHarness is the benchmarks' own cost: signing the query, building
// the request and the recorder, and a handler that only answers 202. Subtract it from the
// figures above to compare the handlers alone.
func BenchmarkBaselinePostbackHarness(b *testing.B) {
	mux := http.NewServeMux()
	mux.HandleFunc("/postback/{source}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusAccepted) })
	id, err := clickid.New()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		signed, err := postback.SignQuery("/postback/casino-x", benchQuery(id.String(), i), seamKey, seamNow)
		if err != nil {
			b.Fatal(err)
		}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/postback/casino-x?"+signed, nil))
		if w.Code != http.StatusAccepted {
			b.Fatal(w.Code)
		}
	}
}
