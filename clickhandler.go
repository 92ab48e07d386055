package s2s

import (
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/s2skit/s2s/outbound"
	"github.com/s2skit/s2s/store"
)

// The query parameters of a tracking link, read by ClickHandler.
const (
	ClickParamCampaign  = "c"   // the campaign, when the handler's pattern has no {campaign}
	ClickParamAffiliate = "aff" // the affiliate: required
	// The sub IDs are sub1 ... sub30; a campaign's ForeignParam names the foreign click ID.
)

// maxClickQuery bounds a tracking link's query, in bytes: 30 sub IDs of 256 bytes fit.
const maxClickQuery = 8 << 10

// HeaderClick is the response header that says a request to the click handler was not
// counted as a click, and why: "not-counted; reason=head", "reason=prefetch", "reason=bot"
// or, for a click the store failed to record, "not-recorded; reason=store".
const HeaderClick = "X-S2S-Click"

// unfurlers are substrings of the user agents of the link previewers (chat and social
// apps) that fetch a link when it is posted, not when a person follows it. The list is kept
// short, of previewers that say who they are; it is no bot filter.
var unfurlers = []string{
	"Slackbot-LinkExpanding", "facebookexternalhit", "Twitterbot", "TelegramBot", "Discordbot",
	"LinkedInBot", "SkypeUriPreview",
}

// ClickHandler returns the click handler: the tracking link, which records a click and
// redirects the visitor to the campaign's destination.
//
// Mount it on a pattern with a {campaign} wildcard, or read the campaign from the query
// parameter "c":
//
//	mux.Handle("GET /click/{campaign}", tracker.ClickHandler()) // https://t.example/click/summer?aff=aff-42&sub1=banner
//	mux.Handle("GET /click", tracker.ClickHandler())            // https://t.example/click?c=summer&aff=aff-42
//
// The query carries the affiliate ("aff", required), the sub IDs (sub1 ... sub30) and,
// with a campaign's ForeignParam, a foreign click ID; every other parameter is ignored. In
// particular no parameter and no part of the path is ever a destination: the visitor goes
// only to the configured one (there is no open redirect to build).
//
// A GET is a click: Click records it and the answer is 302 Found to the rendered
// destination, with Cache-Control: no-store (a cached redirect would replay one click ID
// for many visits) and the campaign's Referrer-Policy. The visitor's address is the
// request's RemoteAddr: a host behind a proxy sets RemoteAddr from the header its proxy
// writes before the handler runs.
//
// Requests that are not clicks are not recorded, and say so in the X-S2S-Click header:
//   - HEAD (a link checker): 302 to the destination rendered without a click ID;
//   - the link previewers of chat and social apps (unfurlers: Slackbot-LinkExpanding,
//     facebookexternalhit, Twitterbot, WhatsApp, TelegramBot, Discordbot, LinkedInBot,
//     SkypeUriPreview): 302 to the destination without a click ID, so the preview shows
//     the landing page;
//   - browser prefetches and prerenders (Sec-Purpose or Purpose: prefetch, X-Purpose:
//     preview, X-Moz: prefetch): 503, which a browser discards, so that the visitor's own
//     navigation, if it comes, is a click; a redirect served from a prefetch would land
//     them without one.
//
// An unknown campaign (or an affiliate it does not admit) is 404; a malformed affiliate,
// sub ID or foreign click ID, or a query over 8 KiB, is 400 and records nothing; other
// methods are 405. A store failure still redirects the visitor (landing matters more than
// the record: the operator gets the visitor, and with "token" click IDs the postbacks are
// still attributed), is logged, and says "not-recorded; reason=store".
func (t *Tracker) ClickHandler() http.Handler {
	return http.HandlerFunc(t.serveClick)
}

func (t *Tracker) serveClick(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	switch r.Method {
	case http.MethodGet, http.MethodHead:
	default:
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if len(r.URL.RawQuery) > maxClickQuery {
		http.Error(w, "query too long", http.StatusBadRequest)
		return
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		http.Error(w, "malformed query", http.StatusBadRequest)
		return
	}
	campaign := r.PathValue("campaign")
	if campaign == "" {
		campaign = q.Get(ClickParamCampaign)
	}
	cc := t.cfg.Load()
	k := cc.clicks.campaigns[campaign]
	if k == nil {
		http.Error(w, "unknown campaign", http.StatusNotFound)
		return
	}
	req := ClickRequest{CampaignID: campaign, AffiliateID: q.Get(ClickParamAffiliate), UserAgent: r.UserAgent()}
	if err := subIDs(q, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if k.foreign != "" {
		req.ForeignClickID = q.Get(k.foreign)
	}
	h["Cache-Control"] = noStore
	if reason := notClick(r); reason != "" {
		if reason == "prefetch" {
			h.Set(HeaderClick, "not-counted; reason=prefetch")
			http.Error(w, "prefetch: not a click", http.StatusServiceUnavailable)
			return
		}
		t.redirectUncounted(w, k, &req, reason)
		return
	}
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		req.IP = ap.Addr()
	} else if a, err := netip.ParseAddr(r.RemoteAddr); err == nil {
		req.IP = a
	}
	res, err := t.Click(r.Context(), req)
	switch {
	case errors.Is(err, ErrUnknownCampaign):
		http.Error(w, "unknown campaign", http.StatusNotFound)
		return
	case errors.Is(err, ErrInvalidClick):
		http.Error(w, strings.TrimPrefix(err.Error(), "s2s: "), http.StatusBadRequest)
		return
	case err != nil && res.URL == "":
		t.log.LogAttrs(r.Context(), slog.LevelError, "s2s: click failed", slog.String("campaign", campaign), slog.String("error", err.Error()))
		http.Error(w, "click failed", http.StatusServiceUnavailable)
		return
	case err != nil:
		t.log.LogAttrs(r.Context(), slog.LevelError, "s2s: click not recorded, visitor redirected", slog.String("campaign", campaign),
			slog.String("affiliate", req.AffiliateID), slog.String("click_id", res.ID.String()), slog.String("error", err.Error()))
		h.Set(HeaderClick, "not-recorded; reason=store")
	}
	h["Referrer-Policy"] = k.referrerH
	h["Location"] = []string{res.URL}
	w.WriteHeader(http.StatusFound)
}

// noStore is the Cache-Control of a redirect, as a header's values shared by every answer:
// set by assignment, never modified (net/http does not modify a header's values, and a
// wrapper's Set or Add replaces or appends).
var noStore = []string{"no-store"}

// redirectUncounted answers a request that is no click with the destination rendered
// without a click ID.
func (t *Tracker) redirectUncounted(w http.ResponseWriter, k *clickCampaign, req *ClickRequest, reason string) {
	h := w.Header()
	h.Set(HeaderClick, "not-counted; reason="+reason)
	if req.AffiliateID == "" || store.CheckKey(req.AffiliateID) != nil {
		req.AffiliateID = ""
	}
	v := outbound.LinkValues{SubIDs: req.SubIDs, AffiliateID: req.AffiliateID, CampaignID: k.id}
	var buf [512]byte
	u, err := k.link.AppendURL(buf[:0], &v)
	if err != nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	h.Set("Referrer-Policy", k.referrer)
	h.Set("Location", string(u))
	w.WriteHeader(http.StatusFound)
}

// notClick says why r is not a click ("head", "prefetch", "bot"), or "" if it is one.
func notClick(r *http.Request) string {
	if r.Method == http.MethodHead {
		return "head"
	}
	for _, name := range [...]string{"Sec-Purpose", "Purpose", "X-Purpose", "X-Moz"} {
		if v := r.Header.Get(name); v != "" {
			v = strings.ToLower(v)
			if strings.Contains(v, "prefetch") || strings.Contains(v, "preview") || strings.Contains(v, "prerender") {
				return "prefetch"
			}
		}
	}
	ua := r.UserAgent()
	if strings.HasPrefix(ua, "WhatsApp/") {
		return "bot"
	}
	for _, u := range unfurlers {
		if strings.Contains(ua, u) {
			return "bot"
		}
	}
	return ""
}

// subIDs reads sub1 ... sub30 from q into req.SubIDs. A sub ID given twice is an error.
func subIDs(q url.Values, req *ClickRequest) error {
	n := 0
	for name, vs := range q {
		i, ok := subIndex(name)
		if !ok {
			continue
		}
		if len(vs) > 1 {
			return errors.New(name + " given twice")
		}
		n = max(n, i)
	}
	if n == 0 {
		return nil
	}
	req.SubIDs = make([]string, n)
	for name, vs := range q {
		if i, ok := subIndex(name); ok {
			req.SubIDs[i-1] = vs[0]
		}
	}
	return nil
}

// subIndex returns N of a parameter named subN, 1 to store.MaxSubIDs.
func subIndex(name string) (int, bool) {
	s, ok := strings.CutPrefix(name, "sub")
	if !ok || s == "" || s[0] == '0' || len(s) > 2 {
		return 0, false
	}
	i, err := strconv.Atoi(s)
	if err != nil || i < 1 || i > store.MaxSubIDs {
		return 0, false
	}
	return i, true
}

// reservedParam reports whether name is a parameter the click handler reads itself.
func reservedParam(name string) bool {
	_, sub := subIndex(name)
	return sub || name == ClickParamCampaign || name == ClickParamAffiliate
}
