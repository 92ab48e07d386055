package statuspage

import (
	"context"
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

	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/outbound"
	"github.com/s2skit/s2s/store"
)

// badRequest shows page name with problem, 400: a bad filter keeps the page and its form.
func (h *Handler) badRequest(w http.ResponseWriter, r *http.Request, name string, v *view, problem string) {
	v.Error = problem
	h.render(w, r, http.StatusBadRequest, name, v)
}

// storeFailed shows page name with a store failure: ErrInvalid is the caller's (400, with
// the store's message, which names the field), anything else is logged and shown as a
// failure to load (500), without the store's text.
func (h *Handler) storeFailed(w http.ResponseWriter, r *http.Request, name string, v *view, err error) {
	if errors.Is(err, store.ErrInvalid) {
		h.badRequest(w, r, name, v, err.Error())
		return
	}
	h.log.LogAttrs(r.Context(), slog.LevelError, "statuspage: store call failed", slog.String("page", name), slog.String("error", err.Error()))
	v.Error = "The store could not be read; the page is incomplete. Reload to try again."
	h.render(w, r, http.StatusInternalServerError, name, v)
}

func (h *Handler) overview(w http.ResponseWriter, r *http.Request, v *view) {
	v.Title = "Delivery status"
	rows, _, err := h.endpointRows(r.Context(), "")
	v.Data = struct{ Endpoints []endpointRow }{rows}
	if err != nil {
		h.storeFailed(w, r, "overview", v, err)
		return
	}
	h.render(w, r, http.StatusOK, "overview", v)
}

// Inbound log.

var outcomes = []string{"accepted", "duplicate", "rejected", "conflict"}

type inboundRow struct {
	store.InboundRecord
	Shown clipped
}

type inboundData struct {
	Source, Outcome string
	Outcomes        []string
	Rows            []inboundRow
	Next            string
}

func (h *Handler) inbound(w http.ResponseWriter, r *http.Request, v *view) {
	q := r.URL.Query()
	d := &inboundData{Source: q.Get("source"), Outcome: q.Get("outcome"), Outcomes: outcomes}
	v.Title, v.Data = "Inbound postbacks", d
	if d.Outcome != "" && !slices.Contains(outcomes, d.Outcome) {
		h.badRequest(w, r, "inbound", v, "outcome: want one of accepted, duplicate, rejected or conflict")
		return
	}
	after, err := parseTimeCursor(q.Get("after"))
	if err != nil {
		h.badRequest(w, r, "inbound", v, err.Error())
		return
	}
	recs, err := h.st.ListInbound(r.Context(), store.ListInboundParams{Source: d.Source, Outcome: d.Outcome, After: after, Limit: h.pageSize + 1})
	if err != nil {
		h.storeFailed(w, r, "inbound", v, err)
		return
	}
	if len(recs) > h.pageSize {
		recs = recs[:h.pageSize]
		last := recs[len(recs)-1]
		d.Next = link("inbound", url.Values{"source": {d.Source}, "outcome": {d.Outcome}, "after": {timeCursor(store.Cursor{At: last.ReceivedAt, ID: last.ID})}})
	}
	rd := h.redactor()
	for _, rec := range recs {
		d.Rows = append(d.Rows, inboundRow{InboundRecord: rec, Shown: clip(rd.params(rec.Params))})
	}
	h.render(w, r, http.StatusOK, "inbound", v)
}

// Conversions and statements: one affiliate over a period of UTC days.

type period struct {
	Affiliate string
	From, To  string    // the form's dates, inclusive
	Start     time.Time // From's midnight, UTC
	End       time.Time // the midnight after To, UTC: exclusive
}

const dateLayout = "2006-01-02"

// maxPeriod bounds a period: 400 days.
const maxPeriod = 400 * 24 * time.Hour

func (h *Handler) period(q url.Values) (period, string) {
	p := period{Affiliate: q.Get("affiliate"), From: q.Get("from"), To: q.Get("to")}
	today := h.now().UTC().Truncate(24 * time.Hour)
	if p.To == "" {
		p.To = today.Format(dateLayout)
	}
	if p.From == "" {
		p.From = today.AddDate(0, 0, -29).Format(dateLayout)
	}
	from, err1 := time.Parse(dateLayout, p.From)
	to, err2 := time.Parse(dateLayout, p.To)
	switch {
	case err1 != nil:
		return p, "from: want a date, YYYY-MM-DD (UTC)"
	case err2 != nil:
		return p, "to: want a date, YYYY-MM-DD (UTC)"
	case to.Before(from):
		return p, "to: the period ends before it starts"
	case to.Sub(from) >= maxPeriod:
		return p, "to: a period of at most 400 days"
	}
	if err := store.CheckKey(p.Affiliate); err != nil {
		return p, "affiliate: not an affiliate ID (at most 255 bytes, no control characters)"
	}
	p.Start, p.End = from, to.AddDate(0, 0, 1)
	return p, ""
}

func (p period) query() url.Values {
	return url.Values{"affiliate": {p.Affiliate}, "from": {p.From}, "to": {p.To}}
}

type conversionsData struct {
	period
	Rows []store.Conversion
	Next string
}

func (h *Handler) conversions(w http.ResponseWriter, r *http.Request, v *view) {
	q := r.URL.Query()
	p, problem := h.period(q)
	d := &conversionsData{period: p}
	v.Title, v.Data = "Conversions", d
	if problem != "" {
		h.badRequest(w, r, "conversions", v, problem)
		return
	}
	if p.Affiliate == "" {
		h.render(w, r, http.StatusOK, "conversions", v)
		return
	}
	after, err := parseTimeCursor(q.Get("after"))
	if err != nil {
		h.badRequest(w, r, "conversions", v, err.Error())
		return
	}
	cs, err := h.st.ListConversions(r.Context(), store.ListConversionsParams{AffiliateID: p.Affiliate, From: p.Start, To: p.End, After: after, Limit: h.pageSize + 1})
	if err != nil {
		h.storeFailed(w, r, "conversions", v, err)
		return
	}
	if len(cs) > h.pageSize {
		cs = cs[:h.pageSize]
		last := cs[len(cs)-1]
		nq := p.query()
		nq.Set("after", timeCursor(store.Cursor{At: last.EventTime(), ID: last.ID}))
		d.Next = link("conversions", nq)
	}
	d.Rows = cs
	h.render(w, r, http.StatusOK, "conversions", v)
}

type statementsData struct {
	period
	Rows      []store.LedgerLine
	Next      string
	Totals    []money.Amount // per currency, over the whole period
	TotalsCut bool           // the period has more than maxTotalLines lines: no totals
}

// maxTotalLines bounds the lines a statement's totals are summed over.
const maxTotalLines = 10_000

func (h *Handler) statements(w http.ResponseWriter, r *http.Request, v *view) {
	q := r.URL.Query()
	p, problem := h.period(q)
	d := &statementsData{period: p}
	v.Title, v.Data = "Statements", d
	if problem != "" {
		h.badRequest(w, r, "statements", v, problem)
		return
	}
	if p.Affiliate == "" {
		h.render(w, r, http.StatusOK, "statements", v)
		return
	}
	after, err := parseTimeCursor(q.Get("after"))
	if err != nil {
		h.badRequest(w, r, "statements", v, err.Error())
		return
	}
	lp := store.ListLedgerLinesParams{AffiliateID: p.Affiliate, By: store.ByStatementTime, From: p.Start, To: p.End, After: after, Limit: h.pageSize + 1}
	lines, err := h.st.ListLedgerLines(r.Context(), lp)
	if err != nil {
		h.storeFailed(w, r, "statements", v, err)
		return
	}
	if len(lines) > h.pageSize {
		lines = lines[:h.pageSize]
		last := lines[len(lines)-1]
		nq := p.query()
		nq.Set("after", timeCursor(store.Cursor{At: last.StatementTime(), ID: last.ID}))
		d.Next = link("statements", nq)
	}
	d.Rows = lines
	if d.Totals, d.TotalsCut, err = h.totals(r.Context(), p); err != nil {
		h.storeFailed(w, r, "statements", v, err)
		return
	}
	h.render(w, r, http.StatusOK, "statements", v)
}

// totals sums the amounts of the affiliate's lines in the period, per currency.
func (h *Handler) totals(ctx context.Context, p period) ([]money.Amount, bool, error) {
	lp := store.ListLedgerLinesParams{AffiliateID: p.Affiliate, By: store.ByStatementTime, From: p.Start, To: p.End, Limit: 1000}
	sums := map[money.Currency]money.Amount{}
	var order []money.Currency
	seen := 0
	for {
		lines, err := h.st.ListLedgerLines(ctx, lp)
		if err != nil {
			return nil, false, err
		}
		for _, l := range lines {
			if seen++; seen > maxTotalLines {
				return nil, true, nil
			}
			cur := l.Amount.Currency()
			s, ok := sums[cur]
			if !ok {
				order = append(order, cur)
				sums[cur] = l.Amount
				continue
			}
			if sums[cur], err = s.Add(l.Amount); err != nil {
				return nil, true, nil // an overflow: no total rather than a wrong one
			}
		}
		if len(lines) < lp.Limit {
			break
		}
		last := lines[len(lines)-1]
		lp.After = store.Cursor{At: last.StatementTime(), ID: last.ID}
	}
	out := make([]money.Amount, 0, len(order))
	for _, c := range order {
		out = append(out, sums[c])
	}
	return out, false, nil
}

// Deliveries.

var deliveryStatuses = []store.DeliveryStatus{store.DeliveryPending, store.DeliveryDelivered, store.DeliveryDead}

type deliveryRow struct {
	store.Delivery
	Word string         // the status word: pending, retrying, delivered, dead
	Last *store.Attempt // the last attempt; nil if none
}

// rowOf is d as the listings show it. A pending delivery is "retrying" once an attempt of
// its current run has failed: one made since its last replay, if it was replayed. A replayed
// delivery is "pending" again until its first attempt since the replay, its history kept.
func rowOf(d store.Delivery) deliveryRow {
	row := deliveryRow{Delivery: d, Word: string(d.Status)}
	if n := len(d.Attempts); n > 0 {
		row.Last = &d.Attempts[n-1]
		if d.Status == store.DeliveryPending && (d.ReplayedAt.IsZero() || !row.Last.StartedAt.Before(d.ReplayedAt)) {
			row.Word = "retrying"
		}
	}
	return row
}

type deliveriesData struct {
	Status   store.DeliveryStatus
	Statuses []store.DeliveryStatus
	Endpoint string
	Rows     []deliveryRow
	Next     string
}

func (h *Handler) deliveries(w http.ResponseWriter, r *http.Request, v *view) {
	q := r.URL.Query()
	d := &deliveriesData{Status: store.DeliveryStatus(q.Get("status")), Statuses: deliveryStatuses, Endpoint: q.Get("endpoint")}
	if d.Status == "" {
		d.Status = store.DeliveryDead
	}
	v.Title, v.Data = "Deliveries", d
	if !d.Status.Valid() {
		d.Status = store.DeliveryDead
		h.badRequest(w, r, "deliveries", v, "status: want pending, delivered or dead")
		return
	}
	after, err := parseTimeCursor(q.Get("after"))
	if err != nil {
		h.badRequest(w, r, "deliveries", v, err.Error())
		return
	}
	ds, err := h.st.ListDeliveries(r.Context(), store.ListDeliveriesParams{Status: d.Status, Endpoint: d.Endpoint, After: after, Limit: h.pageSize + 1})
	if err != nil {
		h.storeFailed(w, r, "deliveries", v, err)
		return
	}
	if len(ds) > h.pageSize {
		ds = ds[:h.pageSize]
		last := ds[len(ds)-1]
		d.Next = link("deliveries", url.Values{"status": {string(d.Status)}, "endpoint": {d.Endpoint}, "after": {timeCursor(store.Cursor{At: last.CreatedAt, ID: last.ID})}})
	}
	for _, dl := range ds {
		d.Rows = append(d.Rows, rowOf(dl))
	}
	h.render(w, r, http.StatusOK, "deliveries", v)
}

type attemptRow struct {
	N int
	store.Attempt
	Shown clipped // the response, redacted and cut
	Class string  // the failure class, redacted
}

type deliveryData struct {
	ID     string
	Row    deliveryRow
	URL    string
	Header []string
	Body   clipped
	Tries  []attemptRow
}

func (h *Handler) delivery(w http.ResponseWriter, r *http.Request, v *view) {
	d := &deliveryData{ID: r.URL.Query().Get("id")}
	v.Title, v.Data = "Delivery", d
	id, err := uuid.Parse(d.ID)
	if err != nil || len(d.ID) != 36 {
		h.badRequest(w, r, "delivery", v, "id: want a delivery's UUID")
		return
	}
	dl, err := h.st.GetDelivery(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		v.Error = "No delivery has this ID."
		h.render(w, r, http.StatusNotFound, "delivery", v)
		return
	}
	if err != nil {
		h.storeFailed(w, r, "delivery", v, err)
		return
	}
	h.fillDelivery(d, dl)
	h.render(w, r, http.StatusOK, "delivery", v)
}

func (h *Handler) fillDelivery(d *deliveryData, dl store.Delivery) {
	rd := h.redactor()
	d.Row = rowOf(dl)
	d.URL = rd.url(dl.URL)
	d.Header = rd.header(dl.Header)
	slices.Sort(d.Header)
	d.Body = clip(rd.text(string(dl.Body)))
	d.Tries = d.Tries[:0]
	for i, a := range dl.Attempts {
		d.Tries = append(d.Tries, attemptRow{N: i + 1, Attempt: a, Shown: clip(rd.text(a.Response)), Class: rd.text(a.Error)})
	}
}

// Bulk replay: a confirmation page that counts what the replay will act on, and the action,
// which acts on exactly that selection: the endpoint's dead deliveries created before the
// cutoff the page showed.

// maxCount bounds the count of a bulk replay's confirmation.
const maxCount = 100_000

type replayAllData struct {
	Endpoint string
	Before   time.Time
	BeforeUS string // Before in Unix microseconds, for the form
	Count    int
	AtLeast  bool // Count reached maxCount: there are at least that many
	// Disabled reports that the endpoint is disabled, with why: replayed deliveries wait
	// until it is enabled again.
	Disabled       bool
	DisabledReason string
}

func (h *Handler) replayAllConfirm(w http.ResponseWriter, r *http.Request, v *view) {
	d := &replayAllData{Endpoint: r.URL.Query().Get("endpoint")}
	v.Title, v.Data = "Replay dead deliveries", d
	if h.readOnly {
		d.Endpoint = ""
		v.Error = "The status page is read-only: it replays nothing."
		h.render(w, r, http.StatusForbidden, "replayall", v)
		return
	}
	if d.Endpoint == "" || store.CheckKey(d.Endpoint) != nil {
		h.badRequest(w, r, "replayall", v, "endpoint: an endpoint's name is required")
		return
	}
	d.Before = store.NormalizeTime(h.now()).Add(store.TimePrecision)
	d.BeforeUS = strconv.FormatInt(d.Before.UnixMicro(), 10)
	n, err := h.countDead(r.Context(), d.Endpoint, d.Before)
	if err != nil {
		h.storeFailed(w, r, "replayall", v, err)
		return
	}
	d.Count, d.AtLeast = n, n >= maxCount
	ep, err := h.st.GetEndpoint(r.Context(), d.Endpoint)
	if err != nil {
		h.storeFailed(w, r, "replayall", v, err)
		return
	}
	d.Disabled, d.DisabledReason = ep.Disabled, ep.DisabledReason
	h.render(w, r, http.StatusOK, "replayall", v)
}

// countDead counts the dead deliveries of endpoint created before before, up to maxCount.
func (h *Handler) countDead(ctx context.Context, endpoint string, before time.Time) (int, error) {
	p := store.ListDeliveriesParams{Status: store.DeliveryDead, Endpoint: endpoint, Limit: 1000}
	n := 0
	for n < maxCount {
		ds, err := h.st.ListDeliveries(ctx, p)
		if err != nil {
			return 0, err
		}
		for _, d := range ds {
			if !d.CreatedAt.Before(before) {
				return n, nil
			}
			if n++; n >= maxCount {
				return n, nil
			}
		}
		if len(ds) < p.Limit {
			break
		}
		last := ds[len(ds)-1]
		p.After = store.Cursor{At: last.CreatedAt, ID: last.ID}
	}
	return n, nil
}

func (h *Handler) replayAll(w http.ResponseWriter, r *http.Request) {
	name := r.PostForm.Get("endpoint")
	us, err := strconv.ParseInt(r.PostForm.Get("before"), 10, 64)
	if name == "" || store.CheckKey(name) != nil || err != nil || us <= 0 {
		http.Error(w, "bad request: endpoint and before are required", http.StatusBadRequest)
		return
	}
	n, err := h.st.ReplayDeliveries(r.Context(), store.ReplayDeliveriesParams{Endpoint: name, CreatedBefore: time.UnixMicro(us).UTC(), At: h.now()})
	back := url.Values{"status": {"dead"}, "endpoint": {name}}
	if err != nil {
		h.log.LogAttrs(r.Context(), slog.LevelError, "statuspage: bulk replay failed", slog.String("endpoint", name), slog.String("error", err.Error()))
		back.Set("notice", "replayed-all-err")
		redirect(w, link("deliveries", back))
		return
	}
	if n > 0 {
		h.actions.Notify()
	}
	h.log.LogAttrs(r.Context(), slog.LevelInfo, "statuspage: dead deliveries replayed", slog.String("endpoint", name), slog.Int("count", n))
	back.Set("notice", "replayed-all")
	back.Set("n", strconv.Itoa(n))
	redirect(w, link("deliveries", back))
}

func (h *Handler) replay(w http.ResponseWriter, r *http.Request) {
	raw := r.PostForm.Get("id")
	id, err := uuid.Parse(raw)
	if err != nil || len(raw) != 36 {
		http.Error(w, "bad request: id: want a delivery's UUID", http.StatusBadRequest)
		return
	}
	_, err = h.actions.Replay(r.Context(), id)
	code := "replayed"
	switch {
	case err == nil:
		h.log.LogAttrs(r.Context(), slog.LevelInfo, "statuspage: delivery replayed", slog.String("delivery", id.String()))
	case errors.Is(err, store.ErrConflict):
		code = "not-dead"
	case errors.Is(err, store.ErrNotFound):
		code = "not-found"
	default:
		h.log.LogAttrs(r.Context(), slog.LevelError, "statuspage: replay failed", slog.String("delivery", id.String()), slog.String("error", err.Error()))
		code = "action-failed"
	}
	redirect(w, link("delivery", url.Values{"id": {id.String()}, "notice": {code}}))
}

func (h *Handler) enable(w http.ResponseWriter, r *http.Request) {
	name := r.PostForm.Get("name")
	if name == "" || store.CheckKey(name) != nil {
		http.Error(w, "bad request: name: an endpoint's name is required", http.StatusBadRequest)
		return
	}
	_, err := h.actions.Enable(r.Context(), name)
	code := "enabled"
	switch {
	case err == nil:
		h.log.LogAttrs(r.Context(), slog.LevelInfo, "statuspage: endpoint enabled", slog.String("endpoint", name))
	case errors.Is(err, store.ErrDuplicate):
		code = "already-enabled"
	default:
		h.log.LogAttrs(r.Context(), slog.LevelError, "statuspage: enable failed", slog.String("endpoint", name), slog.String("error", err.Error()))
		code = "action-failed"
	}
	redirect(w, link("endpoint", url.Values{"name": {name}, "notice": {code}}))
}

// Endpoints.

type endpointConfig struct {
	Preset, Method, URL, Signing string
}

type endpointRow struct {
	store.EndpointState
	Config *endpointConfig // nil for an endpoint the configuration no longer names
}

func (h *Handler) configured() map[string]*endpointConfig {
	out := map[string]*endpointConfig{}
	if h.endpoints == nil {
		return out
	}
	rd := h.redactor()
	for _, e := range h.endpoints() {
		if e == nil {
			continue
		}
		out[e.Name] = &endpointConfig{Preset: e.Preset, Method: strings.ToUpper(cmpOr(e.Method, "GET")), URL: rd.url(e.URL), Signing: e.Signing.String()}
	}
	return out
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// endpointRows returns a page of endpoints after the name after: those the store knows and
// those configured, merged by name, and the name to continue after ("" at the end).
func (h *Handler) endpointRows(ctx context.Context, after string) ([]endpointRow, string, error) {
	known, err := h.st.ListEndpoints(ctx, store.ListEndpointsParams{After: after, Limit: h.pageSize + 1})
	if err != nil {
		return nil, "", err
	}
	conf := h.configured()
	byName := map[string]store.EndpointState{}
	var names []string
	for _, s := range known {
		byName[s.Name] = s
		names = append(names, s.Name)
	}
	for name := range conf {
		if name > after {
			if _, ok := byName[name]; !ok {
				names = append(names, name)
			}
		}
	}
	slices.Sort(names)
	// Past the store's page, a configured name might come before a known one the store did
	// not return: cut there.
	if len(known) > h.pageSize {
		lastKnown := known[h.pageSize-1].Name
		names = slices.DeleteFunc(names, func(n string) bool { return n > lastKnown })
	}
	next := ""
	if len(names) > h.pageSize {
		names = names[:h.pageSize]
		next = names[len(names)-1]
	} else if len(known) > h.pageSize {
		next = names[len(names)-1]
	}
	rows := make([]endpointRow, 0, len(names))
	for _, n := range names {
		s, ok := byName[n]
		if !ok {
			if s, err = h.st.GetEndpoint(ctx, n); err != nil {
				return nil, "", err
			}
		}
		rows = append(rows, endpointRow{EndpointState: s, Config: conf[n]})
	}
	return rows, next, nil
}

type endpointsData struct {
	Rows []endpointRow
	Next string
}

func (h *Handler) endpointList(w http.ResponseWriter, r *http.Request, v *view) {
	d := &endpointsData{}
	v.Title, v.Data = "Endpoints", d
	after := r.URL.Query().Get("after")
	if store.CheckKey(after) != nil {
		h.badRequest(w, r, "endpoints", v, "after: not an endpoint's name")
		return
	}
	rows, next, err := h.endpointRows(r.Context(), after)
	if err != nil {
		h.storeFailed(w, r, "endpoints", v, err)
		return
	}
	d.Rows = rows
	if next != "" {
		d.Next = link("endpoints", url.Values{"after": {next}})
	}
	h.render(w, r, http.StatusOK, "endpoints", v)
}

type endpointData struct {
	Name     string
	Row      endpointRow
	Failures failures
}

// failures is an endpoint's failure rate over a window: the attempts that finished in
// [From, To), and how many of them failed (no 2xx).
type failures struct {
	From, To time.Time
	store.AttemptCounts
}

// Rate is the failure rate as a percentage with two decimals, exact to the basis point.
func (f failures) Rate() string { return f.FailureRate().String() }

func (h *Handler) endpoint(w http.ResponseWriter, r *http.Request, v *view) {
	d := &endpointData{Name: r.URL.Query().Get("name")}
	v.Title, v.Data = "Endpoint", d
	if d.Name == "" || store.CheckKey(d.Name) != nil {
		h.badRequest(w, r, "endpoint", v, "name: an endpoint's name is required")
		return
	}
	s, err := h.st.GetEndpoint(r.Context(), d.Name)
	if err != nil {
		h.storeFailed(w, r, "endpoint", v, err)
		return
	}
	d.Row = endpointRow{EndpointState: s, Config: h.configured()[d.Name]}
	now := h.now()
	d.Failures = failures{From: now.Add(-h.window), To: now}
	if d.Failures.AttemptCounts, err = h.st.CountAttempts(r.Context(), store.CountAttemptsParams{Endpoint: d.Name, From: d.Failures.From, To: d.Failures.To}); err != nil {
		h.storeFailed(w, r, "endpoint", v, err)
		return
	}
	h.render(w, r, http.StatusOK, "endpoint", v)
}

// Find by ID.

type found struct {
	Kind string // what was found: "conversion", "delivery", "click", "player binding"
	Link string // where it is shown; empty if it has no page of its own
	Text string // a line about it
}

type findData struct {
	Q      string
	Source string // the source of a transaction ID; optional
	Found  []found
	TODO   string
}

// maxFound bounds the conversions find lists for one transaction.
const maxFound = 20

// maxQuery bounds the text find accepts.
const maxQuery = store.MaxKeyLen

func (h *Handler) find(w http.ResponseWriter, r *http.Request, v *view) {
	d := &findData{Q: strings.TrimSpace(r.URL.Query().Get("q")), Source: strings.TrimSpace(r.URL.Query().Get("source"))}
	v.Title, v.Data = "Find", d
	if store.CheckKey(d.Source) != nil {
		h.badRequest(w, r, "find", v, "source: at most 255 bytes, no control characters")
		return
	}
	if d.Q == "" {
		h.render(w, r, http.StatusOK, "find", v)
		return
	}
	if len(d.Q) > maxQuery || store.CheckKey(d.Q) != nil {
		h.badRequest(w, r, "find", v, "q: at most 255 bytes, no control characters")
		return
	}
	ctx := r.Context()
	miss := func(err error) bool { return errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrInvalid) }
	if id, err := uuid.Parse(d.Q); err == nil {
		c, err := h.st.GetConversion(ctx, id)
		switch {
		case err == nil:
			d.Found = append(d.Found, found{Kind: "conversion", Link: link("timeline", url.Values{"id": {id.String()}}), Text: string(c.Event) + " of affiliate " + c.AffiliateID + ", " + string(c.Status)})
		case !miss(err):
			h.storeFailed(w, r, "find", v, err)
			return
		}
		dl, err := h.st.GetDelivery(ctx, id)
		switch {
		case err == nil:
			d.Found = append(d.Found, found{Kind: "delivery (event ID)", Link: link("delivery", url.Values{"id": {id.String()}}), Text: "to endpoint " + dl.Endpoint + ", " + rowOf(dl).Word})
		case !miss(err):
			h.storeFailed(w, r, "find", v, err)
			return
		}
	}
	if id, err := clickid.Parse(d.Q); err == nil {
		c, err := h.st.GetClick(ctx, id)
		switch {
		case err == nil:
			d.Found = append(d.Found, found{Kind: "click", Text: "of affiliate " + c.AffiliateID + ", campaign " + c.CampaignID + ", at " + utcText(c.CreatedAt)})
		case !miss(err):
			h.storeFailed(w, r, "find", v, err)
			return
		}
	}
	if c, err := h.st.GetConversionByKey(ctx, d.Q); err == nil {
		d.Found = append(d.Found, found{Kind: "conversion (dedup key)", Link: link("timeline", url.Values{"id": {c.ID.String()}}), Text: string(c.Event) + " of affiliate " + c.AffiliateID + ", " + string(c.Status)})
	} else if !miss(err) {
		h.storeFailed(w, r, "find", v, err)
		return
	}
	if b, err := h.st.GetBinding(ctx, d.Q); err == nil {
		d.Found = append(d.Found, found{Kind: "player binding", Text: "player bound to affiliate " + b.AffiliateID + " by " + string(b.Method) + " at " + utcText(b.BoundAt)})
	} else if !miss(err) {
		h.storeFailed(w, r, "find", v, err)
		return
	}
	if d.Source == "" {
		d.TODO = "Transaction IDs are the senders': give the source to find one."
	} else {
		cs, err := h.st.ListConversionsByTransaction(ctx, store.ListConversionsByTransactionParams{Source: d.Source, TransactionID: d.Q, Limit: maxFound + 1})
		if err != nil && !miss(err) {
			h.storeFailed(w, r, "find", v, err)
			return
		}
		if len(cs) > maxFound {
			cs = cs[:maxFound]
			d.TODO = fmt.Sprintf("The transaction has more than %d conversions: the first %d are shown.", maxFound, maxFound)
		}
		for _, c := range cs {
			d.Found = append(d.Found, found{Kind: "conversion (transaction of " + d.Source + ")", Link: link("timeline", url.Values{"id": {c.ID.String()}}), Text: string(c.Event) + " of affiliate " + c.AffiliateID + ", " + string(c.Status)})
		}
	}
	h.render(w, r, http.StatusOK, "find", v)
}

// Timeline of a conversion: the postbacks that recorded or found it, the conversion with
// its decision and status history, its ledger lines, and its deliveries with every attempt.

type timelineDelivery struct {
	deliveryData
}

type timelineData struct {
	ID         string
	Conversion store.Conversion
	Inbound    []inboundRow
	Lines      []store.LedgerLine
	Deliveries []timelineDelivery
	// More names the sections cut at the page size, with where to see the rest.
	More []string
}

func (h *Handler) timeline(w http.ResponseWriter, r *http.Request, v *view) {
	d := &timelineData{ID: r.URL.Query().Get("id")}
	v.Title, v.Data = "Timeline", d
	id, err := uuid.Parse(d.ID)
	if err != nil || len(d.ID) != 36 {
		h.badRequest(w, r, "timeline", v, "id: want a conversion's UUID")
		return
	}
	ctx := r.Context()
	c, err := h.st.GetConversion(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		v.Error = "No conversion has this ID."
		h.render(w, r, http.StatusNotFound, "timeline", v)
		return
	}
	if err != nil {
		h.storeFailed(w, r, "timeline", v, err)
		return
	}
	d.Conversion = c
	recs, err := h.st.ListInbound(ctx, store.ListInboundParams{ConversionID: id, Limit: h.pageSize + 1})
	if err != nil {
		h.storeFailed(w, r, "timeline", v, err)
		return
	}
	if len(recs) > h.pageSize {
		recs = recs[:h.pageSize]
		d.More = append(d.More, "postbacks: the newest shown")
	}
	rd := h.redactor()
	for _, rec := range slices.Backward(recs) { // oldest first, as a timeline reads
		d.Inbound = append(d.Inbound, inboundRow{InboundRecord: rec, Shown: clip(rd.params(rec.Params))})
	}
	lines, err := h.st.ListConversionLines(ctx, store.ListConversionLinesParams{ConversionID: id, Limit: h.pageSize + 1})
	if err != nil {
		h.storeFailed(w, r, "timeline", v, err)
		return
	}
	if len(lines) > h.pageSize {
		lines = lines[:h.pageSize]
		d.More = append(d.More, "ledger lines: the first shown; the affiliate's statements list them all")
	}
	d.Lines = lines
	ds, err := h.st.ListConversionDeliveries(ctx, store.ListConversionDeliveriesParams{ConversionID: id, Limit: h.pageSize + 1})
	if err != nil {
		h.storeFailed(w, r, "timeline", v, err)
		return
	}
	if len(ds) > h.pageSize {
		ds = ds[:h.pageSize]
		d.More = append(d.More, "deliveries: the first shown")
	}
	for _, dl := range ds {
		var td timelineDelivery
		h.fillDelivery(&td.deliveryData, dl)
		td.ID = dl.ID.String()
		d.Deliveries = append(d.Deliveries, td)
	}
	h.render(w, r, http.StatusOK, "timeline", v)
}

var _ Actions = (*outbound.Worker)(nil)
