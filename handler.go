package s2s

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/s2skit/s2s/postback"
	"github.com/s2skit/s2s/store"
)

// ReasonUnknownSource is the reason with which [Tracker.PostbackHandler] answers a postback
// for a source its configuration does not have (404 Not Found).
const ReasonUnknownSource postback.Reason = "unknown_source"

// outcomeError is the outcome of a postback answered 503 (its receiver failed), in the
// inbound log and to the Observer: the body the sender got says {"result":"error"}.
const outcomeError = "error"

var bodyUnknownSource = []byte(`{"result":"rejected","reason":"unknown_source"}` + "\n")

// PostbackHandler returns the http.Handler of the postbacks of every configured source
// (Config.Sources), one source per path. It finds the source's name in the request's
// {source} path value, as when the host mounts it with a Go 1.22 pattern:
//
//	mux.Handle("/postback/{source}", tracker.PostbackHandler())
//
// and, when the pattern has no {source} (or the handler is not behind a ServeMux), in the
// last segment of the URL's path, as when it is mounted with http.StripPrefix:
//
//	mux.Handle("/postback/", http.StripPrefix("/postback/", tracker.PostbackHandler()))
//
// A path with more than one segment, or a name no source has, is answered 404 Not Found
// with {"result":"rejected","reason":"unknown_source"}. A signed query is verified over the
// path as the sender sent it (postback.Source.ParseRequest), whatever the mounting strips.
//
// Each postback is handled as postback.Handler handles it, with the source's options, and
// answered with its status codes (see postback.Handler); the Tracker is the Receiver. The
// configuration is read once per request, and the whole request is served by it: the
// source that verifies the postback and the attribution, commission and routes that
// decide it are of one configuration, so that a SetConfig (a new source, a rotated key, a
// new plan) applies from the next request on, and never to half of one.
//
// After answering (the answer flushed to the sender), the handler tells Options.Observer
// and writes one record to the inbound log (store.InboundStore.LogInbound): the source, the
// outcome ("accepted", "duplicate", "rejected", "conflict", or "error" for a 503), the
// reason, the status the sender got, the parameters (query and body) with their secrets
// blanked, the address it came from (Request.RemoteAddr), when it was received and how long
// it took to answer, and the conversion it
// recorded or found, when the Tracker knows it. A failure to log changes nothing of the
// answer: it is logged with slog, at level Error.
func (t *Tracker) PostbackHandler() http.Handler { return postbackHandler{t} }

type postbackHandler struct{ t *Tracker }

// ServeHTTP implements http.Handler.
func (h postbackHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t := h.t
	start := t.now()
	cc := t.cfg.Load()
	name := sourceName(r)
	var (
		a    postback.Answer
		body *bodyCapture
		b    = cc.sources[name]
	)
	if b == nil {
		a.Status = http.StatusNotFound
		a.Result = postback.Result{Outcome: postback.Rejected, Reason: ReasonUnknownSource}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(bodyUnknownSource)))
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write(bodyUnknownSource)
	} else {
		if r.Body != nil && r.Body != http.NoBody {
			body = &bodyCapture{rc: r.Body}
			r.Body = body
		}
		a = b.handler.Serve(w, r)
	}
	if f, ok := w.(http.Flusher); ok {
		f.Flush() // the sender has its answer before the log is written
	}
	elapsed := max(t.now().Sub(start), 0)
	var sent []byte
	if body != nil {
		sent = body.buf
	}
	t.answered(r, name, b, &a, start, elapsed, sent)
}

// sourceName returns the name of the source a request is for: its {source} path value, or
// the last segment of its path (with no other segment before it).
func sourceName(r *http.Request) string {
	if v := r.PathValue("source"); v != "" {
		return v
	}
	p := strings.TrimPrefix(r.URL.Path, "/")
	if strings.IndexByte(p, '/') >= 0 {
		return ""
	}
	return p
}

// bodyCapture keeps the first store.MaxTextLen bytes of a request body read through it, for
// the inbound log.
type bodyCapture struct {
	rc  io.ReadCloser
	buf []byte
}

func (c *bodyCapture) Read(p []byte) (int, error) {
	n, err := c.rc.Read(p)
	if room := store.MaxTextLen + 1 - len(c.buf); room > 0 && n > 0 {
		c.buf = append(c.buf, p[:min(n, room)]...)
	}
	return n, err
}

func (c *bodyCapture) Close() error { return c.rc.Close() }

// compileSources builds the sources of the configuration cc and their handlers, with the
// Tracker's clock and logger. Their Receiver is the Tracker under cc itself: a postback that
// a source of cc verified is decided, paid and routed by cc, whatever SetConfig publishes
// meanwhile, so that no answer comes of two configurations.
func (t *Tracker) compileSources(cc *compiled, list []Source) (map[string]*builtSource, error) {
	m, err := buildSources(list, sourceEnv{now: t.now, log: t.log, signer: cc.clicks.signer})
	if err != nil {
		return nil, err
	}
	recv := postback.ReceiverFunc(func(ctx context.Context, pb *postback.Postback) (postback.Result, error) {
		return t.receiveWith(ctx, cc, pb)
	})
	for _, b := range m {
		h, err := postback.NewHandler(b.src, recv, &postback.HandlerOptions{OKBody: b.okBody, Logger: t.log})
		if err != nil {
			return nil, err
		}
		b.handler = h
	}
	return m, nil
}

// observe tells the Observer of an answered postback.
func (t *Tracker) observe(o PostbackObservation) {
	if f := t.obs.Postback; f != nil {
		f(o)
	}
}

// outcomeOf returns the outcome of an answer as the inbound log and the Observer name it.
func outcomeOf(a *postback.Answer) string {
	if a.Result.Outcome == 0 {
		return outcomeError
	}
	return a.Result.Outcome.String()
}

// keep reports whether v may be kept as a record's identifier.
func keep(v string) string {
	if store.CheckKey(v) != nil {
		return ""
	}
	return v
}

// Observer is told of what the Tracker does, for a host's metrics: each function, when set,
// is called synchronously (keep it fast: count, observe a histogram) from many goroutines at
// once. The zero Observer observes nothing. It depends on no metrics library: a host adapts
// it to Prometheus, OpenTelemetry or expvar (see the example).
type Observer struct {
	// Postback is called once per postback that PostbackHandler answered, after the answer.
	Postback func(PostbackObservation)
}

// PostbackObservation is one answered postback, for Observer.Postback.
type PostbackObservation struct {
	// Source is the source's name; empty for a postback to an unknown source (the name
	// comes from the request, and a metric's label should not).
	Source string
	// Outcome is "accepted", "duplicate", "rejected", "conflict", or "error" (answered
	// 503: the store failed).
	Outcome string
	// Reason says why, for a rejection: a postback.Reason, an attribution.Code, or
	// ReasonUnknownSource.
	Reason postback.Reason
	// Status is the HTTP status the sender got.
	Status int
	// Latency is how long the answer took, from the request's arrival to its flush.
	Latency time.Duration
}
