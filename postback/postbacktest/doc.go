// Package postbacktest helps users test their own postback handling: it builds signed
// requests as a sender would (s2s v1 signed query, Standard Webhooks), offers Recorder, a
// fake postback.Receiver that records what it receives and answers like a deduplicating
// pipeline, and runs Server, a recording receiver on a local HTTP server.
//
//	src, _ := postback.NewSource("acme", postback.Auth{Method: postback.MethodSignedQuery, Keys: keys}, nil)
//	rec := &postbacktest.Recorder{}
//	h, _ := postback.NewHandler(src, rec, nil)
//	req := postbacktest.SignedRequest(t, "/postback?click_id=...&event=ftd", keys[0], time.Now())
//	w := httptest.NewRecorder()
//	h.ServeHTTP(w, req)
//	// w.Code == 202; rec.Postbacks() holds the postback
//
// Production code must never import it.
package postbacktest
