package postback

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/google/uuid"
)

// Outcome is what became of a postback.
type Outcome uint8

// Outcomes, each answered with its own HTTP status by the [Handler].
const (
	// Accepted: the postback was new and has been recorded (202 Accepted).
	Accepted Outcome = iota + 1
	// Duplicate: the same postback was recorded before; nothing changed (200 OK).
	Duplicate
	// Rejected: the postback was refused, for Result.Reason (a 4xx status, never 200).
	Rejected
	// Conflict: a postback with the same transaction ID but different content was recorded
	// before; nothing changed (409 Conflict).
	Conflict
)

// String returns "accepted", "duplicate", "rejected" or "conflict".
func (o Outcome) String() string {
	switch o {
	case Accepted:
		return "accepted"
	case Duplicate:
		return "duplicate"
	case Rejected:
		return "rejected"
	case Conflict:
		return "conflict"
	}
	return "invalid"
}

// Result is the answer to a postback.
type Result struct {
	Outcome Outcome
	// Reason says why, for Rejected; for other outcomes it is empty.
	Reason Reason
	// ConversionID is the stored conversion that the postback recorded, changed or repeats,
	// when the Receiver knows it; zero otherwise. The Handler does not answer with it: it is
	// for the receiving side, such as an inbound log (see Handler.Serve).
	ConversionID uuid.UUID
}

// Receiver is what happens to a verified postback: deduplication, attribution, commission,
// storage. The attribution pipeline implements it; tests use a fake such as
// postbacktest.Recorder.
//
// Receive is called only for postbacks that parsed and verified, from many goroutines at
// once. It returns the Result to answer with, or an error for a failure on its side (the
// sender is then answered 503 so that it retries; the error is logged, so it must not carry
// secrets). Every error is answered so, store.ErrInvalid included: parsing accepts only what a
// store accepts, so such an error is a bug on the receiving side, and a retry after the fix
// recovers the postback that a rejection would lose.
type Receiver interface {
	Receive(ctx context.Context, pb *Postback) (Result, error)
}

// ReceiverFunc adapts a function to a Receiver.
type ReceiverFunc func(ctx context.Context, pb *Postback) (Result, error)

// Receive calls f.
func (f ReceiverFunc) Receive(ctx context.Context, pb *Postback) (Result, error) { return f(ctx, pb) }

// HandlerOptions configures a Handler. The zero value (and nil) are the defaults.
type HandlerOptions struct {
	// OKBody, if set, is the plain-text body of Accepted and Duplicate answers, for senders
	// that expect a fixed body such as "OK". Status codes are unchanged, and other outcomes
	// keep their JSON bodies.
	OKBody string
	// Logger receives one record per rejection or receiver error (never a value, token or
	// signature); nil discards.
	Logger *slog.Logger
}

// Handler is the http.Handler of one Source: it parses and verifies each request, hands
// verified postbacks to the Receiver, and answers honestly:
//
//	outcome                      status                      JSON body
//	Accepted                     202 Accepted                {"result":"accepted"}
//	Duplicate                    200 OK                      {"result":"duplicate"}
//	Conflict                     409 Conflict                {"result":"conflict"}
//	Rejected, authentication     401 Unauthorized            {"result":"rejected","reason":"bad_signature"}
//	Rejected, IP allowlist       403 Forbidden               {"result":"rejected","reason":"ip_not_allowed"}
//	Rejected, method             405 Method Not Allowed      {"result":"rejected","reason":"method_not_allowed"}
//	Rejected, body too large     413 Content Too Large       {"result":"rejected","reason":"body_too_large"}
//	Rejected, query too large    414 URI Too Long            {"result":"rejected","reason":"query_too_large"}
//	Rejected, media type         415 Unsupported Media Type  {"result":"rejected","reason":"unsupported_media_type"}
//	Rejected, syntax             400 Bad Request             {"result":"rejected","reason":"repeated_key"}
//	Rejected, content            422 Unprocessable Content   {"result":"rejected","reason":"bad_amount"}
//	receiver error               503 Service Unavailable     {"result":"error"}
//
// A rejection is never answered 200, and on a rejection the Receiver is not called. A
// Handler is safe for concurrent use.
type Handler struct {
	src    *Source
	recv   Receiver
	okBody string
	log    *slog.Logger
}

// NewHandler returns the Handler of src that hands verified postbacks to recv. Both are
// required: a nil src or recv is an error wrapping ErrConfig.
func NewHandler(src *Source, recv Receiver, opts *HandlerOptions) (*Handler, error) {
	if src == nil {
		return nil, fmt.Errorf("%w: a handler needs a source", ErrConfig)
	}
	if recv == nil {
		return nil, fmt.Errorf("%w: handler of source %q: no receiver", ErrConfig, src.name)
	}
	if opts == nil {
		opts = &HandlerOptions{}
	}
	h := &Handler{src: src, recv: recv, okBody: opts.OKBody, log: opts.Logger}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	return h, nil
}

var (
	bodyAccepted  = []byte(`{"result":"accepted"}` + "\n")
	bodyDuplicate = []byte(`{"result":"duplicate"}` + "\n")
	bodyConflict  = []byte(`{"result":"conflict"}` + "\n")
	bodyError     = []byte(`{"result":"error"}` + "\n")
)

// Answer is how a Handler answered one request, as [Handler.Serve] returns it: for the host
// that logs every postback it receives (an inbound log) or counts outcomes.
type Answer struct {
	// Status is the HTTP status the sender was answered.
	Status int
	// Result is the outcome and the reason answered. Its Outcome is zero when the sender was
	// answered 503: the Receiver failed (Err), or returned no outcome.
	Result Result
	// Field names the parameter or header that a rejection by the Source concerns, if any
	// (never its value).
	Field string
	// Received reports whether the request parsed and verified, so that the Receiver was
	// called with Postback.
	Received bool
	// Postback is the postback handed to the Receiver, if Received.
	Postback Postback
	// Err is the Receiver's error, if it failed.
	Err error
}

// ServeHTTP implements http.Handler: it is [Handler.Serve] without its Answer.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var a Answer
	h.serve(w, r, &a)
}

// Serve handles the request as ServeHTTP does, and returns how it answered. The answer has
// been written to w when Serve returns, but not flushed.
func (h *Handler) Serve(w http.ResponseWriter, r *http.Request) Answer {
	var a Answer
	h.serve(w, r, &a)
	return a
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, a *Answer) {
	if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes+1)
	}
	pb := &a.Postback
	if rej := h.src.parseRequest(pb, r); rej != nil {
		*pb = Postback{}
		h.log.LogAttrs(r.Context(), slog.LevelInfo, "postback rejected",
			slog.String("source", h.src.name), slog.String("reason", string(rej.reason)),
			slog.String("field", rej.field), slog.String("remote", r.RemoteAddr))
		a.Result, a.Field = Result{Outcome: Rejected, Reason: rej.reason}, rej.field
		a.Status = h.reject(w, rej.reason)
		return
	}
	a.Received = true
	res, err := h.recv.Receive(r.Context(), pb)
	if err != nil {
		h.log.LogAttrs(r.Context(), slog.LevelError, "postback receiver failed",
			slog.String("source", h.src.name), slog.String("error", err.Error()))
		a.Err = err
		a.Status = h.write(w, http.StatusServiceUnavailable, bodyError)
		return
	}
	switch res.Outcome {
	case Accepted:
		a.Result = res
		a.Status = h.ok(w, http.StatusAccepted, bodyAccepted)
	case Duplicate:
		a.Result = res
		a.Status = h.ok(w, http.StatusOK, bodyDuplicate)
	case Conflict:
		a.Result = res
		a.Status = h.write(w, http.StatusConflict, bodyConflict)
	case Rejected:
		reason := res.Reason
		if reason == "" {
			reason = ReasonRejectedDownstream
		}
		h.log.LogAttrs(r.Context(), slog.LevelInfo, "postback rejected downstream",
			slog.String("source", h.src.name), slog.String("reason", string(reason)))
		a.Result = Result{Outcome: Rejected, Reason: reason, ConversionID: res.ConversionID}
		a.Status = h.reject(w, reason)
	default:
		h.log.LogAttrs(r.Context(), slog.LevelError, "postback receiver returned no outcome",
			slog.String("source", h.src.name))
		a.Status = h.write(w, http.StatusServiceUnavailable, bodyError)
	}
}

func (h *Handler) ok(w http.ResponseWriter, code int, body []byte) int {
	if h.okBody != "" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(h.okBody)))
		w.WriteHeader(code)
		_, _ = w.Write([]byte(h.okBody))
		return code
	}
	return h.write(w, code, body)
}

func (h *Handler) write(w http.ResponseWriter, code int, body []byte) int {
	hd := w.Header()
	hd["Content-Type"] = typeJSON
	hd["Content-Length"] = contentLength(len(body))
	w.WriteHeader(code)
	_, _ = w.Write(body)
	return code
}

func (h *Handler) reject(w http.ResponseWriter, reason Reason) int {
	body, _ := json.Marshal(struct {
		Result string `json:"result"`
		Reason Reason `json:"reason"`
	}{"rejected", reason})
	return h.write(w, StatusCode(reason), append(body, '\n'))
}

// StatusCode returns the HTTP status with which the Handler answers a rejection for reason:
// 401 for authentication, 403 for the IP allowlist, 405, 413, 414 and 415 for their
// reasons, 400 for other syntax errors and 422 for content the sender must fix.
func StatusCode(reason Reason) int {
	switch reason {
	case ReasonMissingTimestamp, ReasonBadTimestamp, ReasonTimestampTolerance, ReasonMissingSignature,
		ReasonBadSignature, ReasonUnknownKey, ReasonTooManySignatures, ReasonMissingToken, ReasonBadToken,
		ReasonMissingWebhookID, ReasonBadWebhookID:
		return http.StatusUnauthorized
	case ReasonIPNotAllowed:
		return http.StatusForbidden
	case ReasonMethod:
		return http.StatusMethodNotAllowed
	case ReasonBodyTooLarge:
		return http.StatusRequestEntityTooLarge
	case ReasonQueryTooLarge:
		return http.StatusRequestURITooLong
	case ReasonMediaType:
		return http.StatusUnsupportedMediaType
	case ReasonMalformedQuery, ReasonSemicolon, ReasonRepeatedKey, ReasonTooManyParams, ReasonMalformedBody,
		ReasonBodyRepeatsKey:
		return http.StatusBadRequest
	}
	return http.StatusUnprocessableEntity
}

// typeJSON is the Content-Type of the JSON answers, as a header's values shared by every
// answer: set by assignment, never modified (net/http does not modify a header's values,
// and a wrapper's Set or Add replaces or appends).
var typeJSON = []string{"application/json"}

// contentLengths are the Content-Length values of the bodies up to 127 bytes, every answer
// but a long rejection's, shared as typeJSON is.
var contentLengths = func() (t [128][]string) {
	for i := range t {
		t[i] = []string{strconv.Itoa(i)}
	}
	return t
}()

// contentLength returns the Content-Length header's values for a body of n bytes.
func contentLength(n int) []string {
	if n < len(contentLengths) {
		return contentLengths[n]
	}
	return []string{strconv.Itoa(n)}
}
