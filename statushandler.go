package s2s

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/outbound"
	"github.com/s2skit/s2s/statuspage"
	"github.com/s2skit/s2s/store"
)

// Limits of the status handler's queries.
const (
	// DefaultStatusLimit is the number of records a listing of the status handler returns
	// when its query gives no limit.
	DefaultStatusLimit = 50
	// MaxStatusLimit is the largest limit a listing of the status handler accepts.
	MaxStatusLimit = 500
	maxStatusQuery = 2 << 10 // bytes of a status query
)

// StatusOptions configure [Tracker.StatusHandler]. Authorize or Unauthenticated is
// required; every other zero value is a default.
type StatusOptions struct {
	// Authorize is called first on every request; an error refuses it with 403 Forbidden
	// (the error is logged, never shown).
	Authorize func(*http.Request) error
	// Unauthenticated serves the handler without an Authorize hook: for a host that puts it
	// behind authentication of its own. It must be set explicitly.
	Unauthenticated bool
	// FailureWindow is the window of the endpoints' failure rate, up to now, as the status
	// page's (statuspage.Options.FailureWindow): zero means statuspage.DefaultFailureWindow,
	// at most statuspage.MaxFailureWindow.
	FailureWindow time.Duration
}

// StatusHandler returns the Tracker's status as JSON, for programs (a host's dashboard, an
// alert): read-only, every listing paged, every value from the Tracker's store. Its paths,
// relative to where it is mounted (with http.StripPrefix), answer GET and HEAD:
//
//   - report?from=&to=[&affiliate=][&campaign=][&period=day|week|month][&zone=]: the
//     [Report] of a [ReportQuery], from and to as RFC 3339 times;
//   - inbound?[source=][&outcome=][&from=][&to=][&limit=][&after=]: the inbound log,
//     newest first;
//   - deliveries?status=pending|delivered|dead[&endpoint=][&limit=][&after=]: deliveries
//     with every attempt, oldest first;
//   - endpoints?[after=][&limit=]: endpoint health: enabled or why disabled, last success,
//     failing since, and the attempts and failures (with their exact rate) over the
//     failure window, which the answer names.
//
// A listing returns at most limit records (DefaultStatusLimit, at most MaxStatusLimit) and
// a "next" cursor when there may be more: pass it as after. Queries are parsed strictly: an
// unknown or repeated parameter, a bad value or a query longer than 2 KiB is 400 with a
// JSON {"error": "..."} naming the parameter, never a guess. A store failure is 503.
//
// No secret is ever in an answer: deliveries are shown without their headers and body, their
// URLs with user information, secret-named parameters and the configured endpoints' secrets
// redacted, attempts' responses with the endpoints' secrets redacted; the inbound log's
// parameters are as the Tracker logged them, signatures and tokens blanked. The handler
// refuses to be built without an authentication hook unless Unauthenticated is set
// (an error wrapping statuspage.ErrNoAuth).
func (t *Tracker) StatusHandler(opts *StatusOptions) (http.Handler, error) {
	var o StatusOptions
	if opts != nil {
		o = *opts
	}
	if o.Authorize == nil && !o.Unauthenticated {
		return nil, fmt.Errorf("s2s: StatusHandler: %w", statuspage.ErrNoAuth)
	}
	switch {
	case o.FailureWindow < 0 || o.FailureWindow > statuspage.MaxFailureWindow:
		return nil, fmt.Errorf("s2s: StatusOptions.FailureWindow is %s, want 0 (the default) to %s", o.FailureWindow, statuspage.MaxFailureWindow)
	case o.FailureWindow == 0:
		o.FailureWindow = statuspage.DefaultFailureWindow
	}
	h := &statusHandler{t: t, auth: o.Authorize, window: o.FailureWindow, mux: http.NewServeMux()}
	h.mux.HandleFunc("GET /report", h.report)
	h.mux.HandleFunc("GET /inbound", h.inbound)
	h.mux.HandleFunc("GET /deliveries", h.deliveries)
	h.mux.HandleFunc("GET /endpoints", h.endpoints)
	return h, nil
}

type statusHandler struct {
	t      *Tracker
	auth   func(*http.Request) error
	window time.Duration
	mux    *http.ServeMux
}

func (h *statusHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Type", "application/json")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	if h.auth != nil {
		if err := h.auth(r); err != nil {
			h.t.log.LogAttrs(r.Context(), slog.LevelWarn, "s2s: status request refused", slog.String("error", err.Error()))
			writeStatusError(w, http.StatusForbidden, "forbidden")
			return
		}
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hd.Set("Allow", "GET, HEAD")
		writeStatusError(w, http.StatusMethodNotAllowed, "method not allowed: GET or HEAD")
		return
	}
	if _, pattern := h.mux.Handler(r); pattern == "" {
		writeStatusError(w, http.StatusNotFound, "not found: report, inbound, deliveries or endpoints")
		return
	}
	h.mux.ServeHTTP(w, r)
}

func writeStatusError(w http.ResponseWriter, code int, msg string) {
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(struct {
		Error string `json:"error"`
	}{msg})
}

func (h *statusHandler) write(w http.ResponseWriter, r *http.Request, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		h.t.log.LogAttrs(r.Context(), slog.LevelError, "s2s: status answer not encoded", slog.String("error", err.Error()))
		writeStatusError(w, http.StatusInternalServerError, "internal error")
		return
	}
	_, _ = w.Write(append(b, '\n'))
}

func (h *statusHandler) failed(w http.ResponseWriter, r *http.Request, what string, err error) {
	if errors.Is(err, ErrInvalidQuery) || errors.Is(err, store.ErrInvalid) {
		writeStatusError(w, http.StatusBadRequest, "bad request: "+err.Error())
		return
	}
	h.t.log.LogAttrs(r.Context(), slog.LevelError, "s2s: status query failed", slog.String("query", what), slog.String("error", err.Error()))
	writeStatusError(w, http.StatusServiceUnavailable, "store unavailable")
}

// statusQuery is a query string parsed strictly: every parameter once, and only those a
// path knows.
type statusQuery struct {
	v   url.Values
	err error
}

func parseStatusQuery(r *http.Request, known ...string) statusQuery {
	raw := r.URL.RawQuery
	if len(raw) > maxStatusQuery {
		return statusQuery{err: fmt.Errorf("%w: the query has %d bytes, at most %d", ErrInvalidQuery, len(raw), maxStatusQuery)}
	}
	v, err := url.ParseQuery(raw)
	if err != nil {
		return statusQuery{err: fmt.Errorf("%w: the query does not parse", ErrInvalidQuery)}
	}
	for k, vs := range v {
		if !slices.Contains(known, k) {
			return statusQuery{err: fmt.Errorf("%w: unknown parameter %q (want %s)", ErrInvalidQuery, k, strings.Join(known, ", "))}
		}
		if len(vs) > 1 {
			return statusQuery{err: fmt.Errorf("%w: %s is given %d times", ErrInvalidQuery, k, len(vs))}
		}
	}
	return statusQuery{v: v}
}

// key returns the identifier parameter name, empty if absent.
func (q *statusQuery) key(name string) string {
	s := q.v.Get(name)
	if q.err == nil && s != "" {
		if err := store.CheckKey(s); err != nil {
			q.err = fmt.Errorf("%w: %s: %w", ErrInvalidQuery, name, err)
		}
	}
	return s
}

// time returns the RFC 3339 time parameter name, zero if absent.
func (q *statusQuery) time(name string) time.Time {
	s := q.v.Get(name)
	if q.err != nil || s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		q.err = fmt.Errorf("%w: %s: %q is not an RFC 3339 time", ErrInvalidQuery, name, s)
	}
	return t
}

// limit returns the limit parameter: DefaultStatusLimit when absent, 1 to MaxStatusLimit.
func (q *statusQuery) limit() int {
	s := q.v.Get("limit")
	if q.err != nil || s == "" {
		return DefaultStatusLimit
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > MaxStatusLimit || s != strconv.Itoa(n) {
		q.err = fmt.Errorf("%w: limit: %q, want 1 to %d", ErrInvalidQuery, s, MaxStatusLimit)
		return 0
	}
	return n
}

// cursor returns the after parameter of a time-ordered listing: "<RFC 3339 time>,<ID>".
func (q *statusQuery) cursor() store.Cursor {
	s := q.v.Get("after")
	if q.err != nil || s == "" {
		return store.Cursor{}
	}
	at, id, ok := strings.Cut(s, ",")
	t, err := time.Parse(time.RFC3339Nano, at)
	u, uerr := uuid.Parse(id)
	if !ok || err != nil || uerr != nil || len(id) != 36 {
		q.err = fmt.Errorf("%w: after: not a cursor of this listing (use the answer's next)", ErrInvalidQuery)
		return store.Cursor{}
	}
	return store.Cursor{At: t, ID: u}
}

func cursorText(at time.Time, id uuid.UUID) string {
	return store.NormalizeTime(at).Format(time.RFC3339Nano) + "," + id.String()
}

func (h *statusHandler) report(w http.ResponseWriter, r *http.Request) {
	q := parseStatusQuery(r, "affiliate", "campaign", "period", "zone", "from", "to")
	rq := ReportQuery{AffiliateID: q.key("affiliate"), CampaignID: q.key("campaign"), From: q.time("from"), To: q.time("to")}
	if q.err == nil {
		rq.Period, rq.Zone = commission.PeriodUnit(q.v.Get("period")), q.v.Get("zone")
	}
	if q.err != nil {
		h.failed(w, r, "report", q.err)
		return
	}
	rep, err := h.t.Report(r.Context(), rq)
	if err != nil {
		h.failed(w, r, "report", err)
		return
	}
	h.write(w, r, rep)
}

// inboundJSON is a record of the inbound log, as the status handler shows it.
type inboundJSON struct {
	ID           uuid.UUID `json:"id"`
	ReceivedAt   time.Time `json:"received_at"`
	Source       string    `json:"source"`
	Method       string    `json:"method,omitempty"`
	RemoteAddr   string    `json:"remote_addr,omitempty"`
	Outcome      string    `json:"outcome"`
	Reason       string    `json:"reason,omitempty"`
	HTTPStatus   int       `json:"http_status"`
	Params       string    `json:"params"`
	ConversionID *string   `json:"conversion_id,omitempty"`
	DurationNS   int64     `json:"duration_ns"`
}

func (h *statusHandler) inbound(w http.ResponseWriter, r *http.Request) {
	q := parseStatusQuery(r, "source", "outcome", "from", "to", "limit", "after")
	p := store.ListInboundParams{Source: q.key("source"), Outcome: q.key("outcome"), From: q.time("from"), To: q.time("to"),
		After: q.cursor(), Limit: q.limit()}
	if q.err != nil {
		h.failed(w, r, "inbound", q.err)
		return
	}
	limit := p.Limit
	p.Limit++ // one more, to know whether there is a next page
	recs, err := h.t.st.ListInbound(r.Context(), p)
	if err != nil {
		h.failed(w, r, "inbound", err)
		return
	}
	out := struct {
		Records []inboundJSON `json:"records"`
		Next    string        `json:"next,omitempty"`
	}{Records: []inboundJSON{}}
	for i, rec := range recs {
		if i == limit {
			last := recs[limit-1]
			out.Next = cursorText(last.ReceivedAt, last.ID)
			break
		}
		j := inboundJSON{ID: rec.ID, ReceivedAt: rec.ReceivedAt.UTC(), Source: rec.Source, Method: rec.Method, RemoteAddr: rec.RemoteAddr,
			Outcome: rec.Outcome, Reason: rec.Reason, HTTPStatus: rec.HTTPStatus, Params: rec.Params, DurationNS: int64(rec.Duration)}
		if rec.ConversionID != uuid.Nil {
			s := rec.ConversionID.String()
			j.ConversionID = &s
		}
		out.Records = append(out.Records, j)
	}
	h.write(w, r, out)
}

// redactor removes the running configuration's endpoint secrets from text.
type redactor []string

func (t *Tracker) redactor() redactor {
	var rd redactor
	for _, e := range t.cfg.Load().endpoints {
		if e == nil {
			continue
		}
		for _, s := range e.Secrets {
			rd = append(rd, s)
		}
		if e.Signing.Secret != "" {
			rd = append(rd, e.Signing.Secret)
		}
	}
	return rd
}

func (rd redactor) text(s string) string { return outbound.RedactSecrets(s, rd...) }

func (rd redactor) url(u string) string { return outbound.Redact(outbound.RedactSecrets(u, rd...)) }

// deliveryJSON is a delivery as the status handler shows it: no header, no body.
type deliveryJSON struct {
	ID            uuid.UUID            `json:"id"`
	ConversionID  *string              `json:"conversion_id,omitempty"`
	Endpoint      string               `json:"endpoint"`
	Method        string               `json:"method"`
	URL           string               `json:"url"`
	Status        store.DeliveryStatus `json:"status"`
	NextAttemptAt *time.Time           `json:"next_attempt_at,omitempty"`
	CreatedAt     time.Time            `json:"created_at"`
	ReplayedAt    *time.Time           `json:"replayed_at,omitempty"`
	Attempts      []attemptJSON        `json:"attempts"`
}

type attemptJSON struct {
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	LatencyNS  int64     `json:"latency_ns"`
	StatusCode int       `json:"status_code"`
	Failed     bool      `json:"failed"`
	Response   string    `json:"response,omitempty"`
	Error      string    `json:"error,omitempty"`
}

var deliveryStatusWords = []string{string(store.DeliveryPending), string(store.DeliveryDelivered), string(store.DeliveryDead)}

func (h *statusHandler) deliveries(w http.ResponseWriter, r *http.Request) {
	q := parseStatusQuery(r, "status", "endpoint", "limit", "after")
	p := store.ListDeliveriesParams{Status: store.DeliveryStatus(q.v.Get("status")), Endpoint: q.key("endpoint"), After: q.cursor(), Limit: q.limit()}
	if q.err == nil && !p.Status.Valid() {
		q.err = fmt.Errorf("%w: status: %q, want %s", ErrInvalidQuery, p.Status, strings.Join(deliveryStatusWords, ", "))
	}
	if q.err != nil {
		h.failed(w, r, "deliveries", q.err)
		return
	}
	limit := p.Limit
	p.Limit++
	ds, err := h.t.st.ListDeliveries(r.Context(), p)
	if err != nil {
		h.failed(w, r, "deliveries", err)
		return
	}
	rd := h.t.redactor()
	out := struct {
		Status     store.DeliveryStatus `json:"status"`
		Deliveries []deliveryJSON       `json:"deliveries"`
		Next       string               `json:"next,omitempty"`
	}{Status: p.Status, Deliveries: []deliveryJSON{}}
	for i, d := range ds {
		if i == limit {
			last := ds[limit-1]
			out.Next = cursorText(last.CreatedAt, last.ID)
			break
		}
		j := deliveryJSON{ID: d.ID, Endpoint: d.Endpoint, Method: d.Method, URL: rd.url(d.URL), Status: d.Status,
			CreatedAt: d.CreatedAt.UTC(), Attempts: make([]attemptJSON, 0, len(d.Attempts))}
		if d.ConversionID != uuid.Nil {
			s := d.ConversionID.String()
			j.ConversionID = &s
		}
		if d.Status == store.DeliveryPending {
			next := d.NextAttemptAt.UTC()
			j.NextAttemptAt = &next
		}
		if !d.ReplayedAt.IsZero() {
			at := d.ReplayedAt.UTC()
			j.ReplayedAt = &at
		}
		for _, a := range d.Attempts {
			j.Attempts = append(j.Attempts, attemptJSON{StartedAt: a.StartedAt.UTC(), FinishedAt: a.FinishedAt.UTC(), LatencyNS: int64(a.Latency()),
				StatusCode: a.StatusCode, Failed: store.AttemptFailed(a), Response: rd.text(a.Response), Error: rd.text(a.Error)})
		}
		out.Deliveries = append(out.Deliveries, j)
	}
	h.write(w, r, out)
}

// endpointJSON is an endpoint's health as the status handler shows it.
type endpointJSON struct {
	Name           string      `json:"name"`
	Configured     bool        `json:"configured"`
	Disabled       bool        `json:"disabled"`
	DisabledReason string      `json:"disabled_reason,omitempty"`
	DisabledAt     *time.Time  `json:"disabled_at,omitempty"`
	EnabledAt      *time.Time  `json:"enabled_at,omitempty"`
	LastSuccessAt  *time.Time  `json:"last_success_at,omitempty"`
	FailingSince   *time.Time  `json:"failing_since,omitempty"`
	Attempts       int64       `json:"attempts"`
	Failed         int64       `json:"failed"`
	FailureRate    store.Ratio `json:"failure_rate"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func (h *statusHandler) endpoints(w http.ResponseWriter, r *http.Request) {
	q := parseStatusQuery(r, "after", "limit")
	after, limit := q.key("after"), q.limit()
	if q.err != nil {
		h.failed(w, r, "endpoints", q.err)
		return
	}
	eps, err := h.t.st.ListEndpoints(r.Context(), store.ListEndpointsParams{After: after, Limit: limit + 1})
	if err != nil {
		h.failed(w, r, "endpoints", err)
		return
	}
	now := h.t.now()
	type window struct {
		From time.Time `json:"from"`
		To   time.Time `json:"to"`
	}
	out := struct {
		// Window is the window of the attempts and failures, by when attempts finished (UTC).
		Window    window         `json:"failure_window"`
		Endpoints []endpointJSON `json:"endpoints"`
		Next      string         `json:"next,omitempty"`
	}{Window: window{From: now.Add(-h.window).UTC(), To: now.UTC()}, Endpoints: []endpointJSON{}}
	lookup := h.t.cfg.Load().lookup
	for i, e := range eps {
		if i == limit {
			out.Next = eps[limit-1].Name
			break
		}
		c, err := h.t.st.CountAttempts(r.Context(), store.CountAttemptsParams{Endpoint: e.Name, From: out.Window.From, To: out.Window.To})
		if err != nil {
			h.failed(w, r, "endpoints", err)
			return
		}
		_, configured := lookup(e.Name)
		out.Endpoints = append(out.Endpoints, endpointJSON{Name: e.Name, Configured: configured, Disabled: e.Disabled,
			DisabledReason: e.DisabledReason, DisabledAt: optTime(e.DisabledAt), EnabledAt: optTime(e.EnabledAt),
			LastSuccessAt: optTime(e.LastSuccessAt), FailingSince: optTime(e.FailingSince),
			Attempts: c.Attempts, Failed: c.Failed, FailureRate: c.FailureRate()})
	}
	h.write(w, r, out)
}
