package s2s_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s"
	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/store"
	"github.com/s2skit/s2s/store/memstore"
)

// clickMux mounts tr's click handler as the docs say: on a {campaign} path and on a query.
func clickMux(tr *s2s.Tracker) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /click/{campaign}", tr.ClickHandler())
	mux.Handle("/click", tr.ClickHandler())
	return mux
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

// TestTracker_ClickHandler: a GET is a click, recorded, and redirected with its headers.
func TestTracker_ClickHandler(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st store.Store) {
		tr := clickTracker(t, st, nil)
		mux := clickMux(tr)
		for i, target := range []string{"/click/summer?aff=aff-1&sub2=b&sub1=a&gclid=G-0", "/click?c=summer&aff=aff-1&sub1=a&sub2=b&gclid=G-1"} {
			gclid := fmt.Sprint("G-", i)
			r := httptest.NewRequest(http.MethodGet, target, nil)
			r.RemoteAddr = "198.51.100.7:51234"
			r.Header.Set("User-Agent", "Mozilla/5.0")
			rec := serve(mux, r)
			require.Equal(t, http.StatusFound, rec.Code, rec.Body.String())
			require.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
			require.Equal(t, "no-referrer", rec.Header().Get("Referrer-Policy"))
			require.Empty(t, rec.Header().Get(s2s.HeaderClick), "rule: a counted click says nothing")
			loc, err := url.Parse(rec.Header().Get("Location"))
			require.NoError(t, err)
			require.Equal(t, "casino.example", loc.Host)
			q := loc.Query()
			require.Equal(t, []string{"a"}, q["s1"])
			require.Equal(t, []string{"b"}, q["s2"])
			require.Equal(t, []string{"aff-1"}, q["aff"])
			require.Equal(t, []string{gclid}, q["g"])
			c, err := st.GetClickByForeign(t.Context(), store.GetClickByForeignParams{ForeignClickID: clickid.Foreign(gclid)})
			require.NoError(t, err)
			require.Equal(t, q.Get("cid"), c.ID.String(), "rule: the destination carries the stored click's ID")
			require.Equal(t, []string{"a", "b"}, c.SubIDs)
			require.Equal(t, "198.51.100.0", c.IP.String(), "rule: the address is the request's, truncated")
			require.Equal(t, "Mozilla/5.0", c.UserAgent)
		}
		r := httptest.NewRequest(http.MethodGet, "/click/signed?aff=a", nil)
		require.Equal(t, "origin", serve(mux, r).Header().Get("Referrer-Policy"), "rule: the campaign's referrer policy")
	})
}

// TestTracker_ClickHandlerNotCounted: HEAD, prefetches and link previewers are answered and
// not recorded, and the answer says so.
func TestTracker_ClickHandlerNotCounted(t *testing.T) {
	t.Parallel()
	st := &faultStore{Store: memstore.New(nil)}
	h := clickTracker(t, st, nil).ClickHandler()
	for name, tc := range map[string]struct {
		method, header, value string
		code                  int
		reason                string
	}{
		"head":           {http.MethodHead, "", "", http.StatusFound, "head"},
		"sec-purpose":    {http.MethodGet, "Sec-Purpose", "prefetch", http.StatusServiceUnavailable, "prefetch"},
		"prerender":      {http.MethodGet, "Sec-Purpose", "prefetch;prerender", http.StatusServiceUnavailable, "prefetch"},
		"purpose":        {http.MethodGet, "Purpose", "prefetch", http.StatusServiceUnavailable, "prefetch"},
		"x-moz":          {http.MethodGet, "X-Moz", "prefetch", http.StatusServiceUnavailable, "prefetch"},
		"safari preview": {http.MethodGet, "X-Purpose", "preview", http.StatusServiceUnavailable, "prefetch"},
		"slack":          {http.MethodGet, "User-Agent", "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", http.StatusFound, "bot"},
		"facebook":       {http.MethodGet, "User-Agent", "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", http.StatusFound, "bot"},
		"twitter":        {http.MethodGet, "User-Agent", "Twitterbot/1.0", http.StatusFound, "bot"},
		"whatsapp":       {http.MethodGet, "User-Agent", "WhatsApp/2.23.20.0 A", http.StatusFound, "bot"},
		"telegram":       {http.MethodGet, "User-Agent", "TelegramBot (like TwitterBot)", http.StatusFound, "bot"},
		"discord":        {http.MethodGet, "User-Agent", "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)", http.StatusFound, "bot"},
		"linkedin":       {http.MethodGet, "User-Agent", "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)", http.StatusFound, "bot"},
		"skype":          {http.MethodGet, "User-Agent", "Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5", http.StatusFound, "bot"},
	} {
		t.Run(name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, "/click?c=summer&aff=aff-1&sub1=x", nil)
			if tc.header != "" {
				r.Header.Set(tc.header, tc.value)
			}
			rec := serve(h, r)
			require.Equal(t, tc.code, rec.Code)
			require.Equal(t, "not-counted; reason="+tc.reason, rec.Header().Get(s2s.HeaderClick))
			require.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
			if tc.code == http.StatusFound {
				require.Equal(t, "https://casino.example/land?cid=&s1=x&s2=&aff=aff-1&g=", rec.Header().Get("Location"),
					"rule: an uncounted request goes to the destination without a click ID")
			} else {
				require.Empty(t, rec.Header().Get("Location"), "rule: a prefetch is never redirected")
			}
		})
	}
	require.Zero(t, st.inserts.Load(), "rule: nothing uncounted is recorded")

	rec := serve(h, httptest.NewRequest(http.MethodGet, "/click?c=summer&aff=aff-1", nil))
	require.Equal(t, http.StatusFound, rec.Code)
	require.EqualValues(t, 1, st.inserts.Load(), "rule: a GET by a browser is a click")
}

// TestTracker_ClickHandlerErrors: the statuses of requests that are no click, and of a
// store failure.
func TestTracker_ClickHandlerErrors(t *testing.T) {
	t.Parallel()
	st := &faultStore{Store: memstore.New(nil)}
	h := clickMux(clickTracker(t, st, nil))
	for name, tc := range map[string]struct {
		method, target string
		code           int
	}{
		"unknown campaign":       {http.MethodGet, "/click/winter?aff=a", http.StatusNotFound},
		"no campaign":            {http.MethodGet, "/click?aff=a", http.StatusNotFound},
		"affiliate not admitted": {http.MethodGet, "/click/token?aff=aff-2", http.StatusNotFound},
		"no affiliate":           {http.MethodGet, "/click/summer", http.StatusBadRequest},
		"sub id not utf-8":       {http.MethodGet, "/click/summer?aff=a&sub1=%ff", http.StatusBadRequest},
		"sub id twice":           {http.MethodGet, "/click/summer?aff=a&sub1=x&sub1=y", http.StatusBadRequest},
		"foreign id malformed":   {http.MethodGet, "/click/summer?aff=a&gclid=%0a", http.StatusBadRequest},
		"query not a query":      {http.MethodGet, "/click/summer?aff=a&x=%zz", http.StatusBadRequest},
		"query too long":         {http.MethodGet, "/click/summer?aff=a&x=" + strings.Repeat("y", 9000), http.StatusBadRequest},
		"post":                   {http.MethodPost, "/click?c=summer&aff=a", http.StatusMethodNotAllowed},
	} {
		t.Run(name, func(t *testing.T) {
			rec := serve(h, httptest.NewRequest(tc.method, tc.target, nil))
			require.Equal(t, tc.code, rec.Code, rec.Body.String())
			require.Empty(t, rec.Header().Get("Location"))
		})
	}
	require.Zero(t, st.inserts.Load(), "rule: a refused click records nothing")

	st.fail.Store(true)
	rec := serve(h, httptest.NewRequest(http.MethodGet, "/click/summer?aff=a", nil))
	require.Equal(t, http.StatusFound, rec.Code, "rule: a store failure still sends the visitor on")
	require.Equal(t, "not-recorded; reason=store", rec.Header().Get(s2s.HeaderClick))
	require.True(t, strings.HasPrefix(rec.Header().Get("Location"), "https://casino.example/land?cid="))
}

// TestTracker_ClickHandlerNoOpenRedirect: whatever a request spells, in its query, its sub
// IDs or its path, the visitor goes to the configured destination's scheme and host, with
// the values inside their query parameters.
func TestTracker_ClickHandlerNoOpenRedirect(t *testing.T) {
	t.Parallel()
	tr := clickTracker(t, nil, nil)
	h := clickMux(tr)
	vectors := []string{
		"//evil.example", "///evil.example", `/\evil.example`, `\\evil.example`, `\/evil.example`,
		"https://evil.example", "https://casino.example@evil.example", "https://casino.example.evil.example",
		"http://evil.example", "https:evil.example", "%2F%2Fevil.example", "%252F%252Fevil.example", "/%2F/evil.example",
		"\r\nLocation: https://evil.example", "%0d%0aLocation:%20https://evil.example", "x\x00y",
		"javascript:alert(1)", "JaVaScRiPt:alert(document.domain)", "data:text/html,<script>alert(1)</script>",
		"vbscript:msgbox(1)", "#@evil.example", "?@evil.example", "..%2f..%2f", "%E2%80%AE", "evil.example:443",
		"[::1]", "//evil.example/%2e%2e", "ⓔvil.example", "https://evil.example/?https://casino.example/",
	}
	var targets []string
	for _, v := range vectors {
		e := url.QueryEscape(v)
		for _, param := range []string{"url", "dest", "destination", "redirect", "redirect_uri", "return", "next", "to", "u", "r", "target", "goto", "continue", "landing"} {
			targets = append(targets, "/click/summer?aff=aff-1&"+param+"="+e)
		}
		for _, sub := range []string{"sub1", "sub2", "gclid"} {
			targets = append(targets, "/click/summer?aff=aff-1&"+sub+"="+e, "/click/signed?aff=aff-1&"+sub+"="+e)
		}
		targets = append(targets, "/click?c=summer&aff="+e, "/click?c=summer&aff=aff-1&c="+e)
	}
	for _, p := range []string{"//evil.example", "/%2F%2Fevil.example", `/\evil.example`, "/..%2F..%2Fevil.example", "/http:%2F%2Fevil.example"} {
		targets = append(targets, "/click/summer"+p+"?aff=aff-1", "/click/summer?aff=aff-1&x="+p)
	}
	for _, target := range targets {
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			r, err := http.NewRequest(method, "http://t.example"+target, nil)
			if err != nil {
				continue // a URL net/http would never hand a handler
			}
			rec := serve(h, r)
			loc := rec.Header().Get("Location")
			if loc == "" {
				require.NotEqual(t, http.StatusFound, rec.Code, "%s %s: a redirect without a Location", method, target)
				continue
			}
			base, _ := url.Parse("https://t.example" + r.URL.Path)
			if rec.Code == http.StatusTemporaryRedirect || rec.Code == http.StatusMovedPermanently {
				// The mux's own redirect to the cleaned path, on the tracker's host.
				u, err := url.Parse(loc)
				require.NoError(t, err)
				require.Equal(t, "t.example", base.ResolveReference(u).Host, "%s %s: Location %q", method, target, loc)
				continue
			}
			require.Equal(t, http.StatusFound, rec.Code)
			require.NotContains(t, loc, "\r", target)
			require.NotContains(t, loc, "\n", target)
			u, err := url.Parse(loc)
			require.NoError(t, err, "%s %s: Location %q", method, target, loc)
			require.Equal(t, "https", u.Scheme, "%s %s: Location %q", method, target, loc)
			require.Equal(t, "casino.example", u.Host, "%s %s: Location %q", method, target, loc)
			require.Nil(t, u.User, "%s %s: Location %q", method, target, loc)
			require.Empty(t, u.Fragment, "%s %s: Location %q", method, target, loc)
			ep := u.EscapedPath()
			require.True(t, ep == "/land" || strings.HasPrefix(ep, "/p/") && strings.Count(ep, "/") == 2,
				"%s %s: a value left its path segment: %q", method, target, loc)
			// What a browser resolves the Location against the tracker's own URL to.
			require.Equal(t, "casino.example", base.ResolveReference(u).Host, "%s %s: Location %q", method, target, loc)
		}
	}
}
