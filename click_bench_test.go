package s2s_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/s2skit/s2s"
	"github.com/s2skit/s2s/store/memstore"
)

// BenchmarkClick: Click end to end on memstore (mint, render, record).
func BenchmarkClick(b *testing.B) {
	tr := clickTracker(b, memstore.New(nil), nil)
	req := s2s.ClickRequest{CampaignID: "summer", AffiliateID: "aff-1", SubIDs: []string{"banner", "top"}, UserAgent: "Mozilla/5.0"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tr.Click(b.Context(), req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkClickBaseline: what a user would write instead: a UUID, a map under a mutex,
// and the URL built with net/url.
func BenchmarkClickBaseline(b *testing.B) {
	var mu sync.Mutex
	clicks := map[uuid.UUID][]string{}
	b.ReportAllocs()
	for b.Loop() {
		id := uuid.Must(uuid.NewV7())
		q := url.Values{"cid": {id.String()}, "s1": {"banner"}, "s2": {"top"}, "aff": {"aff-1"}}
		u := "https://casino.example/land?" + q.Encode()
		mu.Lock()
		clicks[id] = []string{"aff-1", "summer", "banner", "top", "Mozilla/5.0", u}
		mu.Unlock()
	}
}

// BenchmarkClickHandler: the click handler on memstore, through an httptest recorder.
func BenchmarkClickHandler(b *testing.B) {
	h := clickTracker(b, memstore.New(nil), nil).ClickHandler()
	r := httptest.NewRequest(http.MethodGet, "/click?c=summer&aff=aff-1&sub1=banner&sub2=top", nil)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != http.StatusFound {
			b.Fatal(rec.Code)
		}
	}
}

// BenchmarkClickHandlerBaseline: a bare net/http handler that answers a 302.
func BenchmarkClickHandlerBaseline(b *testing.B) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://casino.example/land?cid="+uuid.Must(uuid.NewV7()).String()+"&s1="+url.QueryEscape(r.URL.Query().Get("sub1")), http.StatusFound)
	})
	r := httptest.NewRequest(http.MethodGet, "/click?c=summer&aff=aff-1&sub1=banner&sub2=top", nil)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != http.StatusFound {
			b.Fatal(rec.Code)
		}
	}
}
