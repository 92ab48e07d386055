// Command quickstart is the whole story of s2s in one run, in memory, with no setup:
//
//	go run ./examples/quickstart
//
// An affiliate's tracking link is clicked and redirected to the casino with a click ID; the
// casino's signed registration and first-deposit postbacks carry that same ID back; a retry,
// a forgery and a conflicting resend are each answered honestly; attribution says why the
// affiliate is credited; the hybrid deal pays its CPA at once and its RevShare when the month
// is closed; the affiliate's own tracker receives an outbound postback; and a report closes
// the month per affiliate. It prints where to look next.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/s2skit/s2s"
	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/outbound"
	"github.com/s2skit/s2s/postback"
	"github.com/s2skit/s2s/store"
)

// The casino's postback key: in real life from a vault, at least 24 random bytes.
const secret = "quickstart-secret-0123456789abcdef"

// config is the programme as data: one campaign's tracking link, the casino as a signed
// source, 30-day last-click attribution with the player bound to the affiliate for life
// (their revenue reports are theirs), a hybrid deal (CPA 50.00 EUR for a first deposit
// of at least 20.00 EUR, plus 30% of NGR = GGR − bonuses, in Europe/Malta's months) and the
// affiliate's own tracker as an outbound endpoint ({receiver} is filled in by main).
const config = `{
	"clicks": {"campaigns": [{"id": "summer", "allow_http": true,
		"destination": "http://casino.example/welcome?click_id={click_id}&s1={sub1}"}]},
	"sources": [{"name": "casino", "default_currency": "EUR",
		"auth": {"method": "signed_query", "keys": [{"id": "k1", "secret": "` + secret + `"}]}}],
	"attribution": {"default": {"lifetime": true, "windows": {"default": "30d"}}},
	"commission": {"zone": "Europe/Malta", "default": [{"from": "2026-01-01T00:00:00Z", "plan": {
		"id": "hybrid", "currency": "EUR",
		"cpa": {"amount": "50.00", "baseline": {"min_ftd": "20.00"}},
		"revshare": {"rate": "30%",
			"ngr": [{"field": "ggr", "rate": "1"}, {"field": "bonuses", "rate": "-1"}]}}}]},
	"endpoints": [{"name": "aff-42-tracker", "url": "{receiver}/pb?cid={click_id}&event={event}&payout={payout}",
		"allow_http": true}],
	"routes": [{"affiliate": "aff-42", "endpoints": ["aff-42-tracker"]}]
}`

func main() {
	log.SetFlags(0)
	if err := run(os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(w io.Writer) error {
	ctx := context.Background()

	// The affiliate's own tracker, on loopback: it counts the postbacks it receives.
	got := make(chan string, 8)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.URL.RequestURI()
	}))
	defer receiver.Close()

	var cfg s2s.Config
	if err := json.Unmarshal([]byte(strings.ReplaceAll(config, "{receiver}", receiver.URL)), &cfg); err != nil {
		return err
	}
	// A clock the story moves on: November 20th, then the first of December.
	var clock atomic.Pointer[time.Time]
	setNow := func(t time.Time) { clock.Store(&t) }
	now := func() time.Time { return *clock.Load() }
	setNow(time.Date(2026, 11, 20, 14, 0, 0, 0, time.UTC))

	tr, err := s2s.New(nil, cfg, &s2s.Options{ // nil: the in-memory store
		Now: now,
		// Outbound delivery refuses private and loopback addresses; the local receiver is
		// allowed by name, as a test or a private deployment would allow its own network.
		HTTPClient: outbound.NewClient(&outbound.ClientOptions{
			Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, AllowHTTP: true}),
	})
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /click/{campaign}", tr.ClickHandler())
	mux.Handle("/postback/{source}", tr.PostbackHandler())
	serve := func(method, target string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
		return rec
	}

	section(w, "1. A click, redirected with its click ID")
	rec := serve(http.MethodGet, "/click/summer?aff=aff-42&sub1=banner-top")
	dest, err := url.Parse(rec.Header().Get("Location"))
	if err != nil {
		return err
	}
	clickID := dest.Query().Get("click_id")
	fmt.Fprintf(w, "GET /click/summer?aff=aff-42&sub1=banner-top\n  %d -> %s\n", rec.Code, dest)
	rec = serve(http.MethodGet, "/click/summer?aff=aff-42&next=//evil.example")
	fmt.Fprintf(w, "a destination in the request is ignored:\n  %d -> %s\n", rec.Code, rec.Header().Get("Location"))

	section(w, "2. The casino's postbacks carry that click ID back")
	sign := func(q url.Values) string {
		signed, err := postback.SignQuery("/postback/casino", q.Encode(), postback.Key{ID: "k1", Secret: []byte(secret)}, now())
		if err != nil {
			panic(err)
		}
		return "/postback/casino?" + signed
	}
	registration := sign(url.Values{"click_id": {clickID}, "player_id": {"p-1"}, "event": {"registration"}})
	ftd := sign(url.Values{"click_id": {clickID}, "player_id": {"p-1"}, "event": {"ftd"},
		"amount": {"150.00"}, "txn_id": {"TX-1"}})
	for _, tc := range []struct{ what, target string }{
		{"registration", registration},
		{"first deposit 150.00", ftd},
		{"the same, retried", ftd},
		{"forged: 15000.00", strings.Replace(ftd, "150.00", "15000.00", 1)},
		{"TX-1 again, 1500.00", sign(url.Values{"click_id": {clickID}, "player_id": {"p-1"}, "event": {"ftd"},
			"amount": {"1500.00"}, "txn_id": {"TX-1"}})},
	} {
		rec := serve(http.MethodGet, tc.target)
		fmt.Fprintf(w, "%-22s %d %s", tc.what, rec.Code, rec.Body.String())
	}

	section(w, "3. Why this affiliate: the attribution decision")
	malta, err := time.LoadLocation("Europe/Malta") // the programme's statement zone
	if err != nil {
		return err
	}
	from, to := time.Date(2026, 11, 1, 0, 0, 0, 0, malta), time.Date(2026, 12, 1, 0, 0, 0, 0, malta) // November
	convs, err := tr.Store().ListConversions(ctx, store.ListConversionsParams{AffiliateID: "aff-42", From: from, To: to})
	if err != nil {
		return err
	}
	for _, c := range convs {
		ds, err := tr.Store().ListConversionDeliveries(ctx, store.ListConversionDeliveriesParams{ConversionID: c.ID})
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%-13s %-8s model %s, code %q, %d outbound postback(s)\n  %s\n",
			c.Event, c.Status, c.Decision.Model, c.Decision.Code, len(ds), c.Decision.Reason)
	}

	section(w, "4. The CPA, paid at once and explained")
	lines, err := tr.Store().ListLedgerLines(ctx, store.ListLedgerLinesParams{AffiliateID: "aff-42", From: from, To: to})
	if err != nil {
		return err
	}
	for _, l := range lines {
		fmt.Fprintln(w, l.Line.Explain())
	}

	section(w, "5. RevShare: the month's revenue reports, then November is closed")
	for _, q := range []url.Values{
		{"player_id": {"p-1"}, "event": {"revenue"}, "currency": {"EUR"}, "txn_id": {"R-1"}, "ggr": {"1234.56"}, "bonuses": {"100.00"}},
		{"player_id": {"p-1"}, "event": {"revenue"}, "currency": {"EUR"}, "txn_id": {"R-2"}, "ggr": {"-334.56"}}, // the player won some back
	} {
		rec := serve(http.MethodGet, sign(q))
		fmt.Fprintf(w, "revenue %-8s GGR %-8s %d %s", q.Get("txn_id"), q.Get("ggr"), rec.Code, rec.Body.String())
	}
	month := commission.PeriodOf(now(), commission.Month, malta)
	fmt.Fprintf(w, "close November on the 20th: %v\n", tr.ClosePeriod(ctx, month))
	setNow(to) // December 1st in Malta: November is over
	if err := tr.ClosePeriod(ctx, month); err != nil {
		return err
	}
	fmt.Fprintln(w, "close November on December 1st: closed; again: nothing new:", tr.ClosePeriod(ctx, month) == nil)
	lines, err = tr.Store().ListLedgerLines(ctx, store.ListLedgerLinesParams{AffiliateID: "aff-42", By: store.ByStatementTime, From: from, To: to})
	if err != nil {
		return err
	}
	for _, l := range lines {
		if l.Rule == commission.RuleRevShare {
			fmt.Fprint(w, l.Line.Explain())
		}
	}

	section(w, "6. The affiliate's tracker is told")
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- tr.Run(runCtx) }() // the delivery worker, parked events, retention
	for range 2 {                          // one per conversion: the registration and the FTD
		select {
		case uri := <-got:
			fmt.Fprintf(w, "received GET %s\n", uri)
		case <-time.After(10 * time.Second):
			stop()
			return errors.New("an outbound postback did not arrive")
		}
	}
	stop()
	if err := <-done; !errors.Is(err, context.Canceled) {
		return err
	}

	section(w, "7. The month's report per affiliate")
	rep, err := tr.Report(ctx, s2s.ReportQuery{Period: commission.Month, From: from, To: to})
	if err != nil {
		return err
	}
	for _, r := range rep.Rows {
		if r.CampaignID == "" {
			r.CampaignID = "(no campaign: the period's lines)"
		}
		fmt.Fprintf(w, "%s %s / %s: %d clicks, %d registration(s), %d FTD(s), FTDs per click %s\n",
			r.Period.Start.Format("2006-01"), r.AffiliateID, r.CampaignID, r.Clicks, r.Registrations, r.FTDs, r.FTDRate)
		for _, c := range r.Commission {
			fmt.Fprintf(w, "  %-9s net %s (%d line(s))\n", c.Rule, c.Net, c.Lines)
		}
	}

	fmt.Fprintf(w, "\nNext: go run ./examples/tracker (a service, with its status page at /status/),\n"+
		"and the README for the parts.\n")
	return nil
}

func section(w io.Writer, title string) {
	fmt.Fprintf(w, "\n== %s\n", title)
}
