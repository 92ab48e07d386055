package statuspage_test

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/outbound"
	"github.com/s2skit/s2s/statuspage"
	"github.com/s2skit/s2s/store"
	"github.com/s2skit/s2s/store/memstore"
)

// Hostile values, from a sender or a receiver: each must render as text.
const (
	hostileScript = `<script>alert(1)</script>`
	hostileAttr   = `"'><img src=x onerror=alert(2)>`
	hostileURL    = `javascript:alert(3)`
)

// Secrets of the configured endpoint: none may ever appear on a page.
const (
	secretPath    = "pathsecret0123456789"
	secretToken   = "tokensecret0123456789"
	secretSigning = "signingsecret0123456789abcdef0123"
	secretHeader  = "Bearer headersecret0123456789"
	secretSig     = "deadbeefcafe0123456789sig"
)

var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// clock is a settable clock.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

// fixture is a store with one of everything the page shows, hostile values included.
type fixture struct {
	st        store.Store
	clk       *clock
	conv      store.Conversion
	click     clickid.ID
	dead      store.Delivery // dead after a 500 whose response is hostile and echoes secrets
	pending   store.Delivery
	rejected  store.InboundRecord
	accepted  store.InboundRecord
	endpoint  string // disabled, with a reason
	endpoints outbound.Endpoints
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureOn(t, memstore.New(nil))
}

// newFixtureOn fills st with the fixture's records.
func newFixtureOn(t *testing.T, st store.Store) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{st: st, clk: &clock{t: t0.Add(time.Hour)}, endpoint: "aff-tracker"}
	e := &outbound.Endpoint{
		Name: f.endpoint, URL: "https://tracker.example/hook/{secret:path}?cid={click_id}&token={query_secret:token}",
		Secrets: map[string]string{"path": secretPath, "token": secretToken},
		Signing: outbound.Signing{Scheme: outbound.SchemeS2SV1, KeyID: "k1", Secret: secretSigning},
	}
	require.NoError(t, e.Compile())
	f.endpoints = outbound.Endpoints{e}

	id, err := clickid.New()
	require.NoError(t, err)
	f.click = id
	require.NoError(t, f.st.InsertClick(ctx, store.Click{ID: id, AffiliateID: "aff-1", CampaignID: "camp-1", SubIDs: []string{hostileScript}, Landing: hostileURL, CreatedAt: t0.Add(-time.Hour)}))

	convID := uuid.New()
	f.dead = store.Delivery{
		ID: uuid.New(), ConversionID: convID, Endpoint: f.endpoint, Method: http.MethodGet,
		// A stored URL as an older configuration (or a careless caller) wrote it: its
		// secrets in the clear, in the path, in a query parameter and as a signature.
		URL:    "https://user:pw@tracker.example/hook/" + secretPath + "?cid=" + url.QueryEscape(hostileAttr) + "&token=" + secretToken + "&sig=" + secretSig + "&next=" + url.QueryEscape(hostileURL),
		Header: http.Header{"Authorization": {secretHeader}, "X-Note": {hostileScript}},
		Status: store.DeliveryPending, NextAttemptAt: t0, CreatedAt: t0,
	}
	f.pending = store.Delivery{
		ID: uuid.New(), ConversionID: convID, Endpoint: "other-endpoint", Method: http.MethodGet,
		URL: "https://other.example/pb?x=1", Status: store.DeliveryPending, NextAttemptAt: t0.Add(48 * time.Hour), CreatedAt: t0,
	}
	conv := store.Conversion{
		ID: convID, DedupKey: "src-1:" + hostileAttr, Source: "src-1", Event: event.FTD, ClickID: id,
		SubIDs: []string{hostileScript, hostileAttr, hostileURL}, PlayerID: "player-1", AffiliateID: "aff-1",
		CampaignID: "camp-1", TransactionID: "tx-" + hostileScript, Amount: money.New(15000, money.EUR),
		Status: event.StatusApproved, OccurredAt: t0.Add(-time.Minute), ReceivedAt: t0,
		Decision: store.Decision{Model: "last_click", Code: "in_window", Reason: "click within the 30-day window " + hostileAttr},
	}
	line := store.LedgerLine{ID: uuid.New(), ConversionID: convID, CreatedAt: t0, Line: commission.Line{
		Kind: commission.KindAccrual, Rule: commission.RuleCPACountry, Plan: "default", AffiliateID: "aff-1",
		PlayerID: "player-1", EventID: "tx-1", At: t0, Payable: t0,
		Amount: money.New(5000, money.EUR), Base: money.New(15000, money.EUR), Mode: money.HalfUp,
		Detail: commission.Detail{Country: "DE"},
	}}
	f.conv, err = f.st.RecordConversion(ctx, store.RecordConversionParams{Conversion: conv, Ledger: []store.LedgerLine{line}, Deliveries: []store.Delivery{f.dead, f.pending}})
	require.NoError(t, err)

	leases, err := f.st.LeaseDeliveries(ctx, store.LeaseParams{Now: t0.Add(time.Second), LeaseFor: time.Minute, Limit: 10})
	require.NoError(t, err)
	require.Len(t, leases, 1, "fixture: the dead-to-be delivery is the one due")
	resp := hostileScript + hostileAttr + " echo: token=" + secretToken + " sig=" + secretSig + " path /hook/" + secretPath
	f.dead, err = f.st.RecordAttempt(ctx, store.RecordAttemptParams{
		DeliveryID: f.dead.ID, Token: leases[0].Token, Status: store.DeliveryDead,
		Attempt: store.Attempt{StartedAt: t0.Add(time.Second), FinishedAt: t0.Add(time.Second + 250*time.Millisecond), StatusCode: 500, Response: resp, Error: string(outbound.ClassHTTP5xx)},
	})
	require.NoError(t, err)
	_, err = f.st.DisableEndpoint(ctx, store.DisableEndpointParams{Name: f.endpoint, Reason: "failing: no success for 5 days " + hostileScript, At: t0.Add(2 * time.Second)})
	require.NoError(t, err)

	f.rejected = store.InboundRecord{
		ID: uuid.New(), ReceivedAt: t0.Add(-2 * time.Minute), Source: "src-" + hostileAttr, Method: http.MethodGet,
		Outcome: "rejected", Reason: "bad_signature", HTTPStatus: 401, RemoteAddr: "203.0.113.9:4711",
		Params: "clickid=" + url.QueryEscape(hostileScript) + "&sub1=" + hostileAttr + "&token=" + secretToken + "&sig=" + secretSig, Duration: 3 * time.Millisecond,
	}
	f.accepted = store.InboundRecord{
		ID: uuid.New(), ReceivedAt: t0, Source: "src-1", Method: http.MethodGet, Outcome: "accepted", HTTPStatus: 200,
		Params: "clickid=" + id.String() + "&tx=" + url.QueryEscape("tx-"+hostileScript), ConversionID: convID, Duration: 5 * time.Millisecond,
	}
	_, err = f.st.BindPlayer(ctx, store.PlayerBinding{PlayerID: "player-1", AffiliateID: "aff-1", ClickID: id, Method: store.BindByClick, BoundAt: t0})
	require.NoError(t, err)
	require.NoError(t, f.st.LogInbound(ctx, f.rejected))
	require.NoError(t, f.st.LogInbound(ctx, f.accepted))
	return f
}

func (f *fixture) handler(t *testing.T, opts *statuspage.Options) *statuspage.Handler {
	t.Helper()
	var o statuspage.Options
	if opts != nil {
		o = *opts
	}
	if o.Authorize == nil {
		o.Unauthenticated = true
	}
	if o.Endpoints == nil {
		o.Endpoints = func() outbound.Endpoints { return f.endpoints }
	}
	if o.Now == nil {
		o.Now = f.clk.Now
	}
	h, err := statuspage.New(f.st, &o)
	require.NoError(t, err)
	return h
}

// client is a browser for the tests: it keeps the CSRF cookie.
type client struct {
	t      *testing.T
	h      http.Handler
	cookie *http.Cookie
}

type page struct {
	code   int
	header http.Header
	body   string
}

func (c *client) get(target string) page {
	c.t.Helper()
	r := httptest.NewRequest(http.MethodGet, target, nil)
	if c.cookie != nil {
		r.AddCookie(c.cookie)
	}
	w := httptest.NewRecorder()
	c.h.ServeHTTP(w, r)
	for _, ck := range w.Result().Cookies() {
		c.cookie = ck
	}
	b, _ := io.ReadAll(w.Result().Body)
	return page{code: w.Code, header: w.Header(), body: string(b)}
}

func (c *client) post(target string, form url.Values, hdr map[string]string) page {
	c.t.Helper()
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	if c.cookie != nil {
		r.AddCookie(c.cookie)
	}
	w := httptest.NewRecorder()
	c.h.ServeHTTP(w, r)
	b, _ := io.ReadAll(w.Result().Body)
	return page{code: w.Code, header: w.Header(), body: string(b)}
}

var (
	csrfField = regexp.MustCompile(`name="csrf" value="([^"]*)"`)
	hrefAttr  = regexp.MustCompile(`(?i)\bhref\s*=\s*"([^"]*)"`)
	tableRow  = regexp.MustCompile(`(?s)<tr>(.*?)</tr>`)
	cellText  = regexp.MustCompile(`(?s)<t[dh][^>]*>(.*?)</t[dh]>`)
	tags      = regexp.MustCompile(`(?s)<[^>]*>`)
)

func csrfOf(t *testing.T, p page) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(p.body)
	require.NotNil(t, m, "the page has a form with a CSRF token")
	return m[1]
}

// rows returns the text of each cell of each row of the page's tables, tags removed and
// entities decoded: what a reader sees.
func rows(body string) [][]string {
	var out [][]string
	for _, m := range tableRow.FindAllStringSubmatch(body, -1) {
		var cells []string
		for _, c := range cellText.FindAllStringSubmatch(m[1], -1) {
			cells = append(cells, strings.Join(strings.Fields(html.UnescapeString(tags.ReplaceAllString(c[1], " "))), " "))
		}
		out = append(out, cells)
	}
	return out
}

// rowWith returns the first row that has a cell containing s.
func rowWith(t *testing.T, body, s string) []string {
	t.Helper()
	for _, r := range rows(body) {
		for _, c := range r {
			if strings.Contains(c, s) {
				return r
			}
		}
	}
	require.Failf(t, "no row shows the value", "%q; rows: %q", s, rows(body))
	return nil
}

func hrefs(body string) []string {
	var out []string
	for _, m := range hrefAttr.FindAllStringSubmatch(body, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}

func readBody(dst io.Writer, resp *http.Response) (int64, error) { return io.Copy(dst, resp.Body) }
