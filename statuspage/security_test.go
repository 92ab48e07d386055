package statuspage_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/statuspage"
	"github.com/s2skit/s2s/store"
)

// everyPage lists a URL of each page, showing the fixture's records.
func everyPage(f *fixture) []string {
	return []string{
		"/", "/inbound", "/inbound?outcome=rejected", "/inbound?source=" + url.QueryEscape(f.rejected.Source),
		"/conversions?affiliate=aff-1&from=2026-11-01&to=2026-12-01",
		"/deliveries?status=dead", "/deliveries?status=pending", "/deliveries?status=dead&endpoint=" + f.endpoint,
		"/delivery?id=" + f.dead.ID.String(), "/delivery?id=" + f.pending.ID.String(),
		"/replay-all?endpoint=" + f.endpoint,
		"/endpoints", "/endpoint?name=" + f.endpoint,
		"/statements?affiliate=aff-1&from=2026-12-01&to=2026-12-31",
		"/find?q=" + f.conv.ID.String(), "/find?q=" + url.QueryEscape(f.conv.DedupKey), "/find?q=" + url.QueryEscape(hostileScript),
		"/timeline?id=" + f.conv.ID.String(),
		// Hostile values in the query string itself, echoed into forms.
		"/inbound?source=" + url.QueryEscape(hostileAttr), "/deliveries?status=dead&endpoint=" + url.QueryEscape(hostileAttr),
		"/conversions?affiliate=" + url.QueryEscape(hostileAttr), "/find?q=" + url.QueryEscape(hostileURL),
		"/endpoint?name=" + url.QueryEscape(hostileScript), "/replay-all?endpoint=" + url.QueryEscape(hostileAttr),
	}
}

func TestHandler_HostileValuesRenderAsText(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := &client{t: t, h: f.handler(t, nil)}
	shown := map[string]bool{}
	for _, target := range everyPage(f) {
		p := c.get(target)
		require.Less(t, p.code, 500, target)
		assert.NotContains(t, p.body, "<script", "rule: a hostile value never becomes a script element, on %s", target)
		assert.NotContains(t, p.body, "<img", "rule: a hostile value never becomes an element, on %s", target)
		assert.NotContains(t, p.body, `"'>`, "rule: a hostile value never breaks out of an attribute, on %s", target)
		assert.NotContains(t, p.body, "onerror=alert(2)>", "rule: on %s", target)
		for _, h := range hrefs(p.body) {
			assert.NotContains(t, strings.ToLower(h), "javascript:", "rule: a value never becomes a javascript: link, on %s: %q", target, h)
			assert.False(t, strings.Contains(h, "://") || strings.HasPrefix(h, "//"), "rule: every link is relative, on %s: %q", target, h)
		}
		for _, r := range rows(p.body) {
			for _, cell := range r {
				for _, v := range []string{hostileScript, hostileAttr, hostileURL} {
					if strings.Contains(cell, v) {
						shown[v] = true
					}
				}
			}
		}
	}
	// The hostile values are shown, as text: escaping, not dropping.
	for _, v := range []string{hostileScript, hostileAttr, hostileURL} {
		assert.True(t, shown[v], "the hostile value %q is shown as text somewhere", v)
	}
	p := c.get("/conversions?affiliate=aff-1&from=2026-11-01&to=2026-12-01")
	row := rowWith(t, p.body, "in_window")
	assert.Equal(t, "tx-"+hostileScript, row[6], "a hostile transaction ID, as text")
	assert.Equal(t, "sub1="+hostileScript+", sub2="+hostileAttr+", sub3="+hostileURL, row[8], "hostile sub IDs, as text")
	d := c.get("/delivery?id=" + f.dead.ID.String())
	assert.Contains(t, rowWith(t, d.body, "http_5xx")[6], hostileScript+hostileAttr, "a hostile response body, as text")
}

func TestHandler_NoSecretIsRendered(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := &client{t: t, h: f.handler(t, nil)}
	for _, target := range everyPage(f) {
		p := c.get(target)
		for _, s := range []string{secretPath, secretToken, secretSigning, secretHeader, "headersecret", secretSig, "user:pw", ":pw@"} {
			assert.NotContains(t, p.body, s, "rule: no secret on a page: %q on %s", s, target)
			assert.NotContains(t, p.body, url.QueryEscape(s), "rule: no secret on a page, escaped: %q on %s", s, target)
		}
	}
	p := c.get("/delivery?id=" + f.dead.ID.String())
	assert.Contains(t, p.body, "token=REDACTED", "the redacted form is shown in its place")
	assert.Contains(t, p.body, "sig=REDACTED")
	assert.Contains(t, p.body, "/hook/REDACTED")
	assert.Contains(t, p.body, "Authorization: REDACTED")
	in := c.get("/inbound?outcome=rejected")
	assert.Contains(t, in.body, "token=REDACTED")
}

// postSetup returns a client holding the CSRF cookie and the token of a page's form.
func postSetup(t *testing.T, h http.Handler, target string) (*client, string) {
	t.Helper()
	c := &client{t: t, h: h}
	p := c.get(target)
	require.Equal(t, http.StatusOK, p.code)
	require.NotNil(t, c.cookie, "the page sets the CSRF cookie")
	assert.True(t, c.cookie.HttpOnly)
	assert.Equal(t, http.SameSiteStrictMode, c.cookie.SameSite)
	return c, csrfOf(t, p)
}

func TestHandler_ActionsNeedCSRF(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	h := f.handler(t, nil)
	c, token := postSetup(t, h, "/deliveries?status=dead")
	id := f.dead.ID.String()
	stillDead := func(why string) {
		t.Helper()
		d, err := f.st.GetDelivery(context.Background(), f.dead.ID)
		require.NoError(t, err)
		require.Equal(t, store.DeliveryDead, d.Status, "rule: a refused action changes nothing (%s)", why)
		e, err := f.st.GetEndpoint(context.Background(), f.endpoint)
		require.NoError(t, err)
		require.True(t, e.Disabled, "rule: a refused action changes nothing (%s)", why)
	}
	other, _ := postSetup(t, h, "/deliveries?status=dead") // another browser: another cookie
	for name, try := range map[string]func() page{
		"NoToken": func() page { return c.post("/replay", url.Values{"id": {id}}, nil) },
		"BadToken": func() page {
			return c.post("/replay", url.Values{"id": {id}, "csrf": {token[:len(token)-2] + "AA"}}, nil)
		},
		"NoCookie": func() page {
			return (&client{t: t, h: h}).post("/replay", url.Values{"id": {id}, "csrf": {token}}, nil)
		},
		"OtherCookiesToken": func() page { return other.post("/replay", url.Values{"id": {id}, "csrf": {token}}, nil) },
		"CrossSite": func() page {
			return c.post("/replay", url.Values{"id": {id}, "csrf": {token}}, map[string]string{"Sec-Fetch-Site": "cross-site"})
		},
		"CrossOrigin": func() page {
			return c.post("/replay", url.Values{"id": {id}, "csrf": {token}}, map[string]string{"Origin": "https://evil.example"})
		},
		"EnableNoToken": func() page { return c.post("/enable", url.Values{"name": {f.endpoint}}, nil) },
		"ReplayAllNoToken": func() page {
			return c.post("/replay-all", url.Values{"endpoint": {f.endpoint}, "before": {"99999999999999"}}, nil)
		},
	} {
		p := try()
		require.Equal(t, http.StatusForbidden, p.code, "rule: %s is refused 403", name)
		stillDead(name)
	}
	// GET never acts.
	require.Equal(t, http.StatusNotFound, c.get("/replay?id="+id).code)
	require.Equal(t, http.StatusNotFound, c.get("/enable?name="+f.endpoint).code)
	stillDead("GET")

	p := c.post("/replay", url.Values{"id": {id}, "csrf": {token}}, map[string]string{"Sec-Fetch-Site": "same-origin"})
	require.Equal(t, http.StatusSeeOther, p.code)
	require.Equal(t, "delivery?id="+id+"&notice=replayed", p.header.Get("Location"), "rule: a relative redirect")
	d, err := f.st.GetDelivery(context.Background(), f.dead.ID)
	require.NoError(t, err)
	require.Equal(t, store.DeliveryPending, d.Status)
	require.Equal(t, f.dead.ID, d.ID, "a replay keeps the event ID")
	shown := c.get("/" + p.header.Get("Location"))
	assert.Contains(t, shown.body, "Replayed: the delivery is pending again")
	assert.Equal(t, "pending", rowWith(t, shown.body, "Status")[1], "rule: pending again, as the notice says, with its attempt kept")
	assert.Contains(t, shown.body, "Attempts, oldest first", "its history is kept")

	again := c.post("/replay", url.Values{"id": {id}, "csrf": {token}}, nil)
	require.Equal(t, http.StatusSeeOther, again.code)
	assert.Contains(t, c.get("/"+again.header.Get("Location")).body, "only a dead delivery can be replayed", "a failed action says why, on the page")
}

func TestHandler_Enable(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	h := f.handler(t, nil)
	c, token := postSetup(t, h, "/endpoint?name="+f.endpoint)
	p := c.post("/enable", url.Values{"name": {f.endpoint}, "csrf": {token}}, nil)
	require.Equal(t, http.StatusSeeOther, p.code)
	e, err := f.st.GetEndpoint(context.Background(), f.endpoint)
	require.NoError(t, err)
	require.False(t, e.Disabled, "rule: Re-enable enables the endpoint")
	require.Equal(t, f.clk.t, e.EnabledAt, "at the handler's clock")
	page := c.get("/" + p.header.Get("Location"))
	assert.Contains(t, page.body, "Enabled: the endpoint")
	assert.Equal(t, "enabled", rowWith(t, page.body, "State")[1])
	assert.NotContains(t, page.body, "Re-enable</button>")
	p = c.post("/enable", url.Values{"name": {f.endpoint}, "csrf": {token}}, nil)
	assert.Contains(t, c.get("/"+p.header.Get("Location")).body, "was enabled already")
}

func TestHandler_ReplayAllActsOnWhatItCounted(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	// Two more dead deliveries of the endpoint, and one of another endpoint.
	kill := func(endpoint string, created time.Time) uuid.UUID {
		t.Helper()
		d := store.Delivery{ID: uuid.New(), ConversionID: f.conv.ID, Endpoint: endpoint, Method: http.MethodGet, URL: "https://tracker.example/x", Status: store.DeliveryPending, NextAttemptAt: created, CreatedAt: created}
		_, err := f.st.ChangeStatus(ctx, store.ChangeStatusParams{ConversionID: f.conv.ID, From: f.conv.Status, To: f.conv.Status, At: created, Deliveries: []store.Delivery{d}})
		require.NoError(t, err)
		_, err = f.st.EnableEndpoint(ctx, store.EnableEndpointParams{Name: endpoint, At: created})
		if err != nil {
			require.ErrorIs(t, err, store.ErrDuplicate)
		}
		ls, err := f.st.LeaseDeliveries(ctx, store.LeaseParams{Now: created, LeaseFor: time.Minute, Limit: 100})
		require.NoError(t, err)
		for _, l := range ls {
			if l.Delivery.ID == d.ID {
				_, err = f.st.RecordAttempt(ctx, store.RecordAttemptParams{DeliveryID: d.ID, Token: l.Token, Status: store.DeliveryDead, Attempt: store.Attempt{StartedAt: created, FinishedAt: created, StatusCode: 404, Error: "http_4xx"}})
				require.NoError(t, err)
				return d.ID
			}
		}
		require.FailNow(t, "fixture: the delivery was not leased")
		return uuid.Nil
	}
	kill(f.endpoint, t0.Add(10*time.Minute))
	kill(f.endpoint, t0.Add(20*time.Minute))
	otherID := kill("elsewhere", t0.Add(20*time.Minute))
	actions := &recordingActions{}
	h := f.handler(t, &statuspage.Options{Actions: actions})
	c, token := postSetup(t, h, "/replay-all?endpoint="+f.endpoint)
	confirm := c.get("/replay-all?endpoint=" + f.endpoint)
	require.Contains(t, confirm.body, "<strong>3</strong> of them now", "rule: the confirmation shows the count")
	assert.NotContains(t, confirm.body, "stay pending, and are not sent", "kill enabled the endpoint: no warning")
	before := regexpField(t, confirm.body, "before")

	// A delivery that dies after the page was shown is not in what the page counted.
	f.clk.t = f.clk.t.Add(time.Hour)
	late := kill(f.endpoint, f.clk.t)

	p := c.post("/replay-all", url.Values{"endpoint": {f.endpoint}, "before": {before}, "csrf": {token}}, nil)
	require.Equal(t, http.StatusSeeOther, p.code)
	loc := p.header.Get("Location")
	assert.Contains(t, loc, "n=3")
	ds, err := f.st.ListDeliveries(ctx, store.ListDeliveriesParams{Status: store.DeliveryDead, Limit: 100})
	require.NoError(t, err)
	var stillDead []uuid.UUID
	for _, d := range ds {
		stillDead = append(stillDead, d.ID)
	}
	assert.ElementsMatch(t, []uuid.UUID{late, otherID}, stillDead, "rule: the bulk replay acts on exactly what it counted: not the later one, not another endpoint's")
	assert.Equal(t, 1, actions.notified(), "the sender is woken once")
	assert.Contains(t, c.get("/"+loc).body, "Count: 3.")
}

func regexpField(t *testing.T, body, name string) string {
	t.Helper()
	i := strings.Index(body, `name="`+name+`" value="`)
	require.GreaterOrEqual(t, i, 0, "the form has the field %s", name)
	rest := body[i+len(`name="`+name+`" value="`):]
	return rest[:strings.IndexByte(rest, '"')]
}

type recordingActions struct {
	mu     sync.Mutex
	notify int
}

func (a *recordingActions) Replay(context.Context, uuid.UUID) (store.Delivery, error) {
	panic("not used")
}

func (a *recordingActions) Enable(context.Context, string) (store.EndpointState, error) {
	panic("not used")
}

func (a *recordingActions) Notify() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.notify++
}

func (a *recordingActions) notified() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.notify
}

func TestHandler_ReadOnly(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	h := f.handler(t, &statuspage.Options{ReadOnly: true})
	c := &client{t: t, h: h}
	for _, target := range everyPage(f) {
		p := c.get(target)
		assert.NotContains(t, p.body, `method="post"`, "rule: a read-only page shows no action, on %s", target)
	}
	p := c.post("/replay", url.Values{"id": {f.dead.ID.String()}}, nil)
	require.Equal(t, http.StatusForbidden, p.code)
}

func TestHandler_MountedAtAPrefix(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	mux := http.NewServeMux()
	mux.Handle("/ops/status/", http.StripPrefix("/ops/status", f.handler(t, nil)))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c := srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	resp, err := c.Get(srv.URL + "/ops/status")
	require.NoError(t, err)
	resp.Body.Close()
	require.Contains(t, []int{http.StatusMovedPermanently, http.StatusTemporaryRedirect, http.StatusPermanentRedirect}, resp.StatusCode)
	loc, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	require.Equal(t, "/ops/status/", loc.Path, "rule: the bare prefix redirects to itself with a slash")
	// Without a mux's help: StripPrefix alone leaves the handler an empty path.
	w := httptest.NewRecorder()
	http.StripPrefix("/ops/status", f.handler(t, nil)).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/ops/status", nil))
	require.Equal(t, http.StatusMovedPermanently, w.Code)
	base, _ := url.Parse("http://host/ops/status")
	loc, err = base.Parse(w.Header().Get("Location"))
	require.NoError(t, err)
	require.Equal(t, "/ops/status/", loc.Path, "rule: the handler redirects the bare prefix to itself with a slash")

	resp, err = c.Get(srv.URL + "/ops/status/deliveries?status=dead")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var cookie *http.Cookie
	for _, ck := range resp.Cookies() {
		cookie = ck
	}
	require.NotNil(t, cookie)
	require.Equal(t, "/ops/status/", cookie.Path, "rule: the CSRF cookie is scoped to the mount point")
	buf := new(strings.Builder)
	_, _ = readBody(buf, resp)
	for _, h := range hrefs(buf.String()) {
		u, err := resp.Request.URL.Parse(h)
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(u.Path, "/ops/status/"), "rule: every link stays under the prefix: %q → %q", h, u.Path)
	}
	// An action, under the prefix, through a real server.
	token := csrfField.FindStringSubmatch(buf.String())[1]
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/ops/status/replay", strings.NewReader(url.Values{"id": {f.dead.ID.String()}, "csrf": {token}}.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(cookie)
	resp2, err := c.Do(req)
	require.NoError(t, err)
	resp2.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp2.StatusCode)
	after, err := resp2.Request.URL.Parse(resp2.Header.Get("Location"))
	require.NoError(t, err)
	require.Equal(t, "/ops/status/delivery", after.Path)
}
