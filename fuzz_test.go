package s2s_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/s2skit/s2s"
	"github.com/s2skit/s2s/store"
	"github.com/s2skit/s2s/store/memstore"
)

// errorCounter is a slog handler that counts the records at level Error: a receiver that
// failed, an inbound log not written.
type errorCounter struct {
	n    atomic.Int64
	last atomic.Value
}

func (h *errorCounter) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelError }
func (h *errorCounter) Handle(_ context.Context, r slog.Record) error {
	h.n.Add(1)
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool { b.WriteString(" " + a.String()); return true })
	h.last.Store(b.String())
	return nil
}
func (h *errorCounter) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *errorCounter) WithGroup(string) slog.Handler      { return h }

// fuzzSources are a source without authentication (so that random input reaches the
// Receiver and the store), one with a token and an inline dialect that reads JSON and form
// bodies, and a signed one.
const fuzzSources = `[
	{"name": "open", "auth": {"method": "none"}, "click_kinds": ["native", "foreign"]},
	{"name": "acme", "auth": {"method": "none"}, "dialect": {"name": "acme", "click_id": ["cid"], "player_id": ["uid"],
		"event": ["goal"], "status": ["st"], "amount": ["payout"], "currency": ["cur"], "transaction_id": ["tid"],
		"occurred_at": ["at"], "subs": ["s1", "s2"], "events": {"dep": "deposit", "reg": "registration"},
		"statuses": {"1": "approved", "2": "rejected", "3": "reversed"}, "unknown_status": "pending", "default_event": "ftd"}},
	{"name": "casino-x", "auth": {"method": "signed_query", "keys": [{"id": "k1", "secret": "a-secret-of-at-least-24-bytes!!"}]}}
]`

// FuzzPostbackHandler drives random queries and bodies through the Tracker's postback
// handler on a healthy memstore: no input is answered 5xx, every answer is a status the
// handler documents, and every postback is written to the inbound log. The store keeps what
// each input wrote, so an input's coverage depends on those before it: run it with a short
// -fuzzminimizetime (such as 2s), or minimizing stalls the run.
func FuzzPostbackHandler(f *testing.F) {
	click := "01j3st4z2efcd9y00w5mz4ypkb"
	for _, seed := range []struct{ path, query, ctype, body string }{
		{"/open", "click_id=" + click + "&event=ftd&player_id=p1&txn_id=t1&amount=150.00&currency=EUR", "", ""},
		{"/open", "click_id=" + click + "&event=deposit&player_id=p1&txn_id=t2&amount=-5&currency=EUR&status=reversed", "", ""},
		{"/open", "event=reversal&player_id=p1&txn_id=t2&amount=5&currency=EUR", "", ""},
		{"/open", "click_id=gclid-abc&event=registration&player_id=p2&occurred_at=1773144000", "", ""},
		{"/open", "click_id=" + click + "&event=ftd&player_id=p1&txn_id=t1&sub1=%00&sub2=%ff", "", ""},
		{"/open", "click_id={clickid}&event=ftd", "", ""},
		{"/open", "a=1;b=2", "", ""},
		{"/acme", "", "application/json", `{"cid":"` + click + `","uid":"p3","goal":"dep","payout":12.5,"cur":"USD","tid":"x","st":"2"}`},
		{"/acme", "cid=" + click, "application/x-www-form-urlencoded", "uid=p4&goal=reg&st=9&at=2026-03-10T11:00:00Z"},
		{"/acme", "", "application/json", `{"cid":{"a":1}}`},
		{"/casino-x", "click_id=" + click + "&event=ftd&ts=1773144000&sig=00", "", ""},
		{"/nope", "x=1", "", ""},
		{"/open/x", "", "text/plain", "hello"},
	} {
		f.Add(seed.path, seed.query, seed.ctype, []byte(seed.body))
	}
	var cfg s2s.Config
	js := strings.TrimSuffix(strings.TrimSpace(trackerConfig), "}") + `, "sources": ` + fuzzSources + `}`
	if err := json.Unmarshal([]byte(js), &cfg); err != nil {
		f.Fatal(err)
	}
	st := memstore.New(nil)
	errs := &errorCounter{}
	tr, err := s2s.New(st, cfg, &s2s.Options{Now: func() time.Time { return seamNow }, Logger: slog.New(errs)})
	if err != nil {
		f.Fatal(err)
	}
	h := tr.PostbackHandler()
	documented := map[int]bool{200: true, 202: true, 400: true, 401: true, 403: true, 404: true, 405: true, 409: true,
		413: true, 414: true, 415: true, 422: true}
	var logged int
	f.Fuzz(func(t *testing.T, path, query, ctype string, body []byte) {
		if len(path) > 64 || !strings.HasPrefix(path, "/") || strings.ContainsAny(path, "?#") {
			return
		}
		r := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: path, RawQuery: query}, RequestURI: path + "?" + query,
			Header: http.Header{}, RemoteAddr: "192.0.2.1:1234", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
		r = r.WithContext(t.Context())
		if ctype != "" || len(body) > 0 {
			r.Method = http.MethodPost
			r.Header.Set("Content-Type", ctype)
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.ContentLength = int64(len(body))
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code >= 500 || !documented[w.Code] {
			t.Fatalf("rule: no input is answered 5xx or an undocumented status on a healthy store: %d %s for %s?%s %q", w.Code, w.Body, path, query, body)
		}
		if n := errs.n.Load(); n > 0 {
			t.Fatalf("rule: a healthy store fails nothing and the inbound log stays writable: %d errors, last: %v", n, errs.last.Load())
		}
		logged++
		if logged%1000 == 0 { // the log is listed now and then, not every time: it is large
			rs, err := st.ListInbound(t.Context(), store.ListInboundParams{Limit: 1})
			if err != nil || len(rs) != 1 || rs[0].HTTPStatus != w.Code {
				t.Fatalf("rule: the last postback is the newest record of the inbound log: %v %v", rs, err)
			}
		}
	})
}
