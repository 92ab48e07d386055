package s2s_test

import (
	"context"
	"encoding/json"
	"expvar"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"time"

	"github.com/s2skit/s2s"
	"github.com/s2skit/s2s/postback"
	"github.com/s2skit/s2s/store"
)

// A Tracker serving its sources' postbacks at /postback/{source}, counting outcomes in an
// expvar map through its Observer, and what its inbound log says of each postback.
func ExampleTracker_PostbackHandler() {
	var cfg s2s.Config
	err := json.Unmarshal([]byte(`{
		"attribution": {"default": {"windows": {"default": "30d"}}},
		"sources": [{"name": "casino-x", "auth": {"method": "signed_query",
			"keys": [{"id": "k1", "secret": "a-secret-of-at-least-24-bytes!!"}]}}]
	}`), &cfg)
	if err != nil {
		panic(err)
	}
	// A host publishes it: expvar.NewMap("postbacks"), served at /debug/vars.
	counts := new(expvar.Map)
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	tr, err := s2s.New(nil, cfg, &s2s.Options{
		Now: func() time.Time { return now },
		Observer: s2s.Observer{Postback: func(o s2s.PostbackObservation) {
			counts.Add(o.Source+" "+o.Outcome+" "+string(o.Reason), 1)
		}},
	})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/postback/{source}", tr.PostbackHandler())

	// The operator signs its postback with the shared key (postback.SignQuery).
	q := url.Values{"player_id": {"p-1"}, "event": {"registration"}}
	signed, err := postback.SignQuery("/postback/casino-x", q.Encode(),
		postback.Key{ID: "k1", Secret: []byte("a-secret-of-at-least-24-bytes!!")}, now)
	if err != nil {
		panic(err)
	}
	for _, target := range []string{
		"/postback/casino-x?" + signed,                                 // accepted
		"/postback/casino-x?" + signed,                                 // its retry: a duplicate
		"/postback/casino-x?" + q.Encode() + "&ts=1773144000&sig=0123", // forged
		"/postback/casino-y?" + signed,                                 // no such source
	} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
		fmt.Print(rec.Code, " ", rec.Body.String())
	}
	fmt.Println(counts.String())

	rs, _ := tr.Store().ListInbound(context.Background(), store.ListInboundParams{Source: "casino-x", Outcome: "rejected"})
	for _, r := range rs {
		fmt.Println(r.Source, r.HTTPStatus, r.Reason, r.Params)
	}
	// Output:
	// 202 {"result":"accepted"}
	// 200 {"result":"duplicate"}
	// 401 {"result":"rejected","reason":"bad_signature"}
	// 404 {"result":"rejected","reason":"unknown_source"}
	// {" rejected unknown_source": 1, "casino-x accepted ": 1, "casino-x duplicate ": 1, "casino-x rejected bad_signature": 1}
	// casino-x 401 bad_signature event=registration&player_id=p-1&ts=1773144000&sig=[redacted]
}
