package postbacktest

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/s2skit/s2s/postback"
)

// Request is one request received by a Server, as sent.
type Request struct {
	Method string
	// URL is the request target: path and raw query.
	URL    string
	Header http.Header
	Body   []byte
}

// Server is a recording postback receiver on a local HTTP server, for tests of code that
// sends postbacks. It records every request; with a Source it also parses and verifies them
// with a postback.Handler over its Recorder, and answers as that Handler does; without one
// it answers every request 200 "OK". It is closed when the test ends.
type Server struct {
	*httptest.Server
	// Recorder receives the postbacks that the Source verified.
	Recorder *Recorder

	mu   sync.Mutex
	reqs []Request
}

// NewServer starts a Server. src may be nil.
func NewServer(tb testing.TB, src *postback.Source) *Server {
	tb.Helper()
	s := &Server{Recorder: &Recorder{}}
	var next http.Handler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "OK")
	})
	if src != nil {
		h, err := postback.NewHandler(src, s.Recorder, nil)
		if err != nil {
			tb.Fatalf("postbacktest: %v", err)
		}
		next = h
	}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, postback.MaxBodyBytes+1))
		s.mu.Lock()
		s.reqs = append(s.reqs, Request{Method: r.Method, URL: r.URL.RequestURI(), Header: r.Header.Clone(), Body: body})
		s.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	}))
	tb.Cleanup(s.Close)
	return s
}

// Requests returns a copy of the requests received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}
