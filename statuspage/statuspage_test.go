package statuspage_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/outbound"
	"github.com/s2skit/s2s/statuspage"
	"github.com/s2skit/s2s/store"
	"github.com/s2skit/s2s/store/memstore"
)

func TestNew(t *testing.T) {
	t.Parallel()
	st := memstore.New(nil)
	_, err := statuspage.New(st, nil)
	require.ErrorIs(t, err, statuspage.ErrNoAuth, "rule: no page without an Authorize hook unless Unauthenticated is set")
	_, err = statuspage.New(st, &statuspage.Options{})
	require.ErrorIs(t, err, statuspage.ErrNoAuth)
	_, err = statuspage.New(st, &statuspage.Options{Unauthenticated: true})
	require.NoError(t, err)
	_, err = statuspage.New(st, &statuspage.Options{Authorize: func(*http.Request) error { return nil }})
	require.NoError(t, err)
	_, err = statuspage.New(nil, &statuspage.Options{Unauthenticated: true})
	require.Error(t, err)
	_, err = statuspage.New(st, &statuspage.Options{Unauthenticated: true, PageSize: statuspage.MaxPageSize + 1})
	require.ErrorContains(t, err, "PageSize")
	_, err = statuspage.New(st, &statuspage.Options{Unauthenticated: true, CSRFKey: []byte("short")})
	require.ErrorContains(t, err, "CSRFKey")
}

func TestHandler_Authorize(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	allow := false
	var logs strings.Builder
	h := f.handler(t, &statuspage.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil)), Authorize: func(r *http.Request) error {
		if !allow {
			return errors.New("no session for token cred-0123456789")
		}
		return nil
	}})
	c := &client{t: t, h: h}
	for _, target := range []string{"/", "/inbound", "/deliveries?status=dead", "/delivery?id=" + f.dead.ID.String()} {
		p := c.get(target)
		require.Equal(t, http.StatusForbidden, p.code, "rule: Authorize refuses %s", target)
		require.NotContains(t, p.body, f.dead.ID.String(), "rule: a refused request shows no data")
		require.NotContains(t, p.body, "no session", "rule: the hook's error is not shown")
	}
	p := c.post("/replay", url.Values{"id": {f.dead.ID.String()}}, nil)
	require.Equal(t, http.StatusForbidden, p.code)
	allow = true
	require.Equal(t, http.StatusOK, c.get("/").code)
	require.Contains(t, logs.String(), "refused by Authorize", "a refusal is logged")
	require.NotContains(t, logs.String(), "cred-0123456789", "rule: the hook's error, which may quote a credential, is not logged")
}

func TestHandler_SecurityHeaders(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := &client{t: t, h: f.handler(t, nil)}
	for _, target := range []string{"/", "/inbound", "/nope", "/delivery?id=bad"} {
		p := c.get(target)
		csp := p.header.Get("Content-Security-Policy")
		assert.Contains(t, csp, "default-src 'none'", target)
		assert.Contains(t, csp, "frame-ancestors 'none'", target)
		assert.Contains(t, csp, "form-action 'self'", target)
		assert.NotContains(t, csp, "unsafe-inline", target)
		assert.Equal(t, "DENY", p.header.Get("X-Frame-Options"), target)
		assert.Equal(t, "nosniff", p.header.Get("X-Content-Type-Options"), target)
		assert.Equal(t, "no-referrer", p.header.Get("Referrer-Policy"), target)
		assert.Equal(t, "no-store", p.header.Get("Cache-Control"), target)
	}
	// The inline style is allowed by its hash, and nothing else is.
	p := c.get("/")
	m := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindStringSubmatch(p.body)
	require.NotNil(t, m)
	sum := sha256.Sum256([]byte(m[1]))
	require.Contains(t, p.header.Get("Content-Security-Policy"), "style-src 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'",
		"rule: the CSP allows the page's one inline style by its hash")
	require.NotContains(t, p.body, "<script", "rule: the page needs no script")
	require.Equal(t, "text/html; charset=utf-8", p.header.Get("Content-Type"))
}

func TestHandler_Pages(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := &client{t: t, h: f.handler(t, nil)}

	t.Run("InboundShowsRejectedWithReason", func(t *testing.T) {
		p := c.get("/inbound?outcome=rejected")
		require.Equal(t, http.StatusOK, p.code)
		row := rowWith(t, p.body, "bad_signature")
		assert.Contains(t, row, "rejected", "the outcome is a word")
		assert.Contains(t, row, "401", "the status the sender was answered")
		assert.Contains(t, row, "203.0.113.9:4711", "where it came from")
		assert.Contains(t, row, "2026-12-01 11:58:00.000 UTC", "received at, in UTC")
		assert.NotContains(t, p.body, f.accepted.ID.String())
		assert.NotContains(t, p.body, "src-1<", "rule: the outcome filter leaves the accepted one out")
		all := c.get("/inbound")
		rowWith(t, all.body, "accepted")
		rowWith(t, all.body, "bad_signature")
		bySource := c.get("/inbound?source=src-1")
		rowWith(t, bySource.body, "accepted")
		assert.NotContains(t, bySource.body, "bad_signature", "rule: the source filter")
		assert.Equal(t, http.StatusBadRequest, c.get("/inbound?outcome=bogus").code)
		assert.Equal(t, http.StatusBadRequest, c.get("/inbound?after=garbage").code)
	})

	t.Run("ConversionsShowTheDecision", func(t *testing.T) {
		p := c.get("/conversions?affiliate=aff-1&from=2026-11-01&to=2026-12-01")
		require.Equal(t, http.StatusOK, p.code)
		row := rowWith(t, p.body, "in_window")
		assert.Contains(t, strings.Join(row, "|"), "last_click · in_window · click within the 30-day window")
		assert.Contains(t, row, "150.00 EUR")
		assert.Contains(t, row, "approved")
		assert.Contains(t, hrefs(p.body), "timeline?id="+f.conv.ID.String())
		empty := c.get("/conversions?affiliate=aff-1&from=2026-11-01&to=2026-11-30")
		assert.NotContains(t, empty.body, "in_window", "rule: the period bounds the list")
		assert.Equal(t, http.StatusBadRequest, c.get("/conversions?affiliate=aff-1&from=2026-13-01").code)
	})

	t.Run("DeadDeliveryWithItsLastAttempt", func(t *testing.T) {
		p := c.get("/deliveries?status=dead")
		require.Equal(t, http.StatusOK, p.code)
		row := rowWith(t, p.body, f.dead.ID.String())
		assert.Equal(t, []string{f.dead.ID.String(), f.endpoint, "dead", "2026-12-01 12:00:00.000 UTC", "—", "1", "500", "http_5xx", "250ms", "Replay"}, row)
		assert.NotContains(t, p.body, f.pending.ID.String(), "rule: the status filter")
		pend := c.get("/deliveries?status=pending")
		row = rowWith(t, pend.body, f.pending.ID.String())
		assert.Contains(t, row, "pending")
		assert.Contains(t, row, "2026-12-03 12:00:00.000 UTC", "next attempt due")
		assert.Contains(t, row, "not attempted yet")
		assert.NotContains(t, pend.body, "Replay</button>", "rule: no replay for a delivery that is not dead")
	})

	t.Run("DeliveryDetailWithEveryAttempt", func(t *testing.T) {
		p := c.get("/delivery?id=" + f.dead.ID.String())
		require.Equal(t, http.StatusOK, p.code)
		row := rowWith(t, p.body, "http_5xx")
		assert.Equal(t, "1", row[0])
		assert.Equal(t, "2026-12-01 12:00:01.000 UTC", row[1])
		assert.Equal(t, "2026-12-01 12:00:01.250 UTC", row[2])
		assert.Equal(t, "250ms", row[3])
		assert.Equal(t, "500", row[4])
		assert.Contains(t, hrefs(p.body), "timeline?id="+f.conv.ID.String())
		assert.Equal(t, http.StatusNotFound, c.get("/delivery?id="+uuid.NewString()).code)
		assert.Equal(t, http.StatusBadRequest, c.get("/delivery?id=x").code)
	})

	t.Run("EndpointReasonBesideItsToggle", func(t *testing.T) {
		p := c.get("/endpoint?name=" + f.endpoint)
		require.Equal(t, http.StatusOK, p.code)
		row := rowWith(t, p.body, "Re-enable")
		assert.Equal(t, "State", row[0])
		assert.Contains(t, row[1], "disabled — why: failing: no success for 5 days")
		list := c.get("/endpoints")
		row = rowWith(t, list.body, "failing: no success")
		assert.Equal(t, f.endpoint, row[0])
		assert.Equal(t, "disabled", row[1])
		assert.Equal(t, "2026-12-01 12:00:02.000 UTC", row[3], "disabled at")
		assert.Equal(t, "never", row[4], "last success")
		assert.Equal(t, "2026-12-01 12:00:01.250 UTC", row[5], "failing since")
		assert.Contains(t, row[6], "GET https://tracker.example/hook/", "the configuration is shown")
		assert.Contains(t, row[6], "signed s2s-v1 (key k1)")
	})

	t.Run("ReplayAllWarnsOfADisabledEndpoint", func(t *testing.T) {
		p := c.get("/replay-all?endpoint=" + f.endpoint)
		require.Equal(t, http.StatusOK, p.code)
		assert.Contains(t, p.body, "<strong>1</strong> of them now")
		assert.Contains(t, p.body, "stay pending, and are not sent, until it is", "rule: a bulk replay to a disabled endpoint says its deliveries wait")
	})

	t.Run("Statements", func(t *testing.T) {
		p := c.get("/statements?affiliate=aff-1&from=2026-12-01&to=2026-12-31")
		require.Equal(t, http.StatusOK, p.code)
		row := rowWith(t, p.body, "cpa.country")
		assert.Contains(t, row, "50.00 EUR")
		assert.Contains(t, row, "150.00 EUR")
		assert.Contains(t, row[8], "CPA for country DE", "the line explains itself")
		total := rowWith(t, p.body, "EUR")
		assert.Equal(t, []string{"EUR", "50.00 EUR"}, total)
	})

	t.Run("FindByAnyID", func(t *testing.T) {
		for q, want := range map[string]string{
			f.conv.ID.String(): "timeline?id=" + f.conv.ID.String(),
			f.dead.ID.String(): "delivery?id=" + f.dead.ID.String(),
			f.conv.DedupKey:    "timeline?id=" + f.conv.ID.String(),
		} {
			p := c.get("/find?q=" + url.QueryEscape(q))
			require.Equal(t, http.StatusOK, p.code)
			assert.Contains(t, hrefs(p.body), want, "find %q", q)
		}
		p := c.get("/find?q=" + f.click.String())
		rowWith(t, p.body, "of affiliate aff-1, campaign camp-1")
		p = c.get("/find?q=player-1")
		rowWith(t, p.body, "player binding")
		p = c.get("/find?q=" + uuid.NewString())
		rowWith(t, p.body, "Nothing has this ID.")
		p = c.get("/find?source=src-1&q=" + url.QueryEscape(f.conv.TransactionID))
		require.Equal(t, http.StatusOK, p.code)
		assert.Contains(t, hrefs(p.body), "timeline?id="+f.conv.ID.String(), "find by (source, transaction ID)")
		rowWith(t, p.body, "conversion (transaction of src-1)")
		p = c.get("/find?source=src-2&q=" + url.QueryEscape(f.conv.TransactionID))
		assert.NotContains(t, hrefs(p.body), "timeline?id="+f.conv.ID.String(), "rule: a transaction ID is the source's")
		p = c.get("/find?q=" + url.QueryEscape(f.conv.TransactionID))
		assert.Contains(t, p.body, "give the source", "without a source, the page says what it needs")
	})

	t.Run("Timeline", func(t *testing.T) {
		p := c.get("/timeline?id=" + f.conv.ID.String())
		require.Equal(t, http.StatusOK, p.code)
		row := rowWith(t, p.body, "attribution decision")
		assert.Contains(t, row[1], "model last_click, code in_window")
		in := rowWith(t, p.body, "accepted")
		assert.Equal(t, "2026-12-01 12:00:00.000 UTC", in[0], "the postback that recorded it")
		assert.Equal(t, "200", in[5], "with the status the sender got")
		assert.NotContains(t, p.body, "bad_signature", "rule: another postback is not in the timeline")
		line := rowWith(t, p.body, "cpa.country")
		assert.Equal(t, "50.00 EUR", line[5], "its ledger line")
		att := rowWith(t, p.body, "http_5xx")
		assert.Equal(t, "500", att[4], "its dead delivery's attempt")
		assert.Contains(t, hrefs(p.body), "delivery?id="+f.pending.ID.String(), "its pending delivery too")
		assert.Contains(t, hrefs(p.body), "delivery?id="+f.dead.ID.String())
		order := []string{"1. Received", "2. Attributed", "3. Paid", "4. Notified"}
		last := -1
		for _, h := range order {
			i := strings.Index(p.body, h)
			require.Greater(t, i, last, "rule: the timeline reads in order: %s", h)
			last = i
		}
		assert.Equal(t, http.StatusNotFound, c.get("/timeline?id="+uuid.NewString()).code)
	})

	t.Run("EveryTimeColumnNamesItsZone", func(t *testing.T) {
		for _, target := range []string{"/inbound", "/conversions?affiliate=aff-1&from=2026-11-01&to=2026-12-01", "/deliveries?status=dead", "/delivery?id=" + f.dead.ID.String(), "/endpoints", "/statements?affiliate=aff-1&from=2026-12-01&to=2026-12-31"} {
			p := c.get(target)
			for _, th := range regexp.MustCompile(`(?s)<th scope="col">(.*?)</th>`).FindAllStringSubmatch(p.body, -1) {
				h := th[1]
				if strings.Contains(h, "(UTC") || strings.Contains(h, "UTC)") {
					continue
				}
				for _, word := range []string{"Received", "Created", "Started", "Finished", "due", "success", "since", "time", "Written", "Disabled at"} {
					assert.NotContains(t, h, word, "rule: a time column names its zone: %q on %s", h, target)
				}
			}
			for _, tm := range regexp.MustCompile(`<time datetime="([^"]*)">([^<]*)</time>`).FindAllStringSubmatch(p.body, -1) {
				assert.True(t, strings.HasSuffix(tm[1], "Z"), "datetime in UTC: %q", tm[1])
				assert.True(t, strings.HasSuffix(tm[2], " UTC"), "shown with its zone: %q", tm[2])
			}
		}
	})
}

func TestHandler_Paging(t *testing.T) {
	t.Parallel()
	st := memstore.New(nil)
	ctx := context.Background()
	for i := range 7 {
		r := store.InboundRecord{ID: uuid.New(), ReceivedAt: t0.Add(time.Duration(i%3) * time.Second), Source: fmt.Sprintf("source-%d", i), Outcome: "rejected", Reason: "bad_signature", HTTPStatus: 401}
		require.NoError(t, st.LogInbound(ctx, r))
	}
	h, err := statuspage.New(st, &statuspage.Options{Unauthenticated: true, PageSize: 3})
	require.NoError(t, err)
	c := &client{t: t, h: h}
	seen := map[string]int{}
	target, pages := "/inbound?outcome=rejected", 0
	for target != "" {
		pages++
		require.Less(t, pages, 10, "paging ends")
		p := c.get(target)
		require.Equal(t, http.StatusOK, p.code)
		for _, r := range rows(p.body) {
			if len(r) > 1 && strings.HasPrefix(r[1], "source-") {
				seen[r[1]]++
			}
		}
		target = ""
		for _, hr := range hrefs(p.body) {
			if strings.Contains(hr, "after=") {
				require.True(t, strings.HasPrefix(hr, "inbound?"), "rule: a relative link: %q", hr)
				require.Contains(t, hr, "outcome=rejected", "rule: the next page keeps the filter")
				target = "/" + hr
			}
		}
	}
	assert.Equal(t, 3, pages, "7 records in pages of 3")
	require.Len(t, seen, 7, "rule: paging shows every record")
	for src, n := range seen {
		assert.Equal(t, 1, n, "rule: paging shows each record once: %s", src)
	}
}

func TestHandler_EndpointsPageMergesStoreAndConfiguration(t *testing.T) {
	t.Parallel()
	st := memstore.New(nil)
	ctx := context.Background()
	for _, n := range []string{"a", "c", "e", "g"} {
		_, err := st.DisableEndpoint(ctx, store.DisableEndpointParams{Name: n, Reason: "paused by an operator", At: t0})
		require.NoError(t, err)
	}
	var conf outbound.Endpoints
	for _, n := range []string{"b", "c", "d", "f"} {
		e := &outbound.Endpoint{Name: n, URL: "https://" + n + ".example/pb?cid={click_id}"}
		require.NoError(t, e.Compile())
		conf = append(conf, e)
	}
	h, err := statuspage.New(st, &statuspage.Options{Unauthenticated: true, PageSize: 2, Endpoints: func() outbound.Endpoints { return conf }})
	require.NoError(t, err)
	c := &client{t: t, h: h}
	var got [][]string
	target := "/endpoints"
	for i := 0; target != ""; i++ {
		require.Less(t, i, 10, "paging ends")
		p := c.get(target)
		require.Equal(t, http.StatusOK, p.code)
		var page []string
		for _, r := range rows(p.body)[1:] {
			page = append(page, r[0]+":"+r[1])
		}
		got = append(got, page)
		target = ""
		for _, hr := range hrefs(p.body) {
			if strings.HasPrefix(hr, "endpoints?after=") {
				target = "/" + hr
			}
		}
	}
	assert.Equal(t, [][]string{{"a:disabled", "b:enabled"}, {"c:disabled", "d:enabled"}, {"e:disabled", "f:enabled"}, {"g:disabled"}}, got,
		"rule: the store's endpoints and the configured ones, merged by name, each once, paged")
}
