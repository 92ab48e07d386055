package outbound_test

import (
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/outbound"
)

// benchURL is a typical affiliate postback: eight macros in the query, one value to escape.
const benchURL = "https://trk.example.com/postback?cid={foreign_click_id}&txid={conversion_id}&payout={payout}&currency={payout_currency}&status={status}&sub1={sub1}&sub2={sub2}&ts={occurred_at:unix}"

var testStatusMap = map[event.Status]string{event.StatusApproved: "sale", event.StatusPending: "lead"}

func benchValues() outbound.Values {
	v := testValues()
	v.SubIDs = []string{"fb ads/summer", "creative-12"}
	return v
}

// BenchmarkTemplate_Render renders the postback as a stored delivery: the URL is its one
// allocation.
func BenchmarkTemplate_Render(b *testing.B) {
	e := compiled(b, outbound.Endpoint{Name: "aff", URL: benchURL, StatusMap: testStatusMap})
	v := benchValues()
	b.ReportAllocs()
	for b.Loop() {
		d, err := e.Delivery(v, testNow)
		if err != nil || len(d.URL) == 0 {
			b.Fatal(err)
		}
	}
}

// BenchmarkTemplate_ReplacerBaseline is what a user writes instead: a strings.Replacer of the
// same macros with url.QueryEscape'd values, built for each postback (the values change).
func BenchmarkTemplate_ReplacerBaseline(b *testing.B) {
	v := benchValues()
	b.ReportAllocs()
	for b.Loop() {
		r := strings.NewReplacer(
			"{foreign_click_id}", url.QueryEscape(string(v.ForeignClickID)),
			"{conversion_id}", url.QueryEscape(v.ConversionID.String()),
			"{payout}", url.QueryEscape(v.Payout.Decimal()),
			"{payout_currency}", url.QueryEscape(v.Payout.Currency().String()),
			"{status}", url.QueryEscape(testStatusMap[v.Status]),
			"{sub1}", url.QueryEscape(v.SubIDs[0]),
			"{sub2}", url.QueryEscape(v.SubIDs[1]),
			"{occurred_at:unix}", url.QueryEscape(strconv.FormatInt(v.OccurredAt.Unix(), 10)),
		)
		if s := r.Replace(benchURL); len(s) == 0 {
			b.Fatal("empty")
		}
	}
}

func TestTemplate_RenderMatchesBaseline(t *testing.T) {
	t.Parallel()
	// The benchmark compares like with like: both produce the same URL.
	e := compiled(t, outbound.Endpoint{Name: "aff", URL: benchURL, StatusMap: testStatusMap})
	v := benchValues()
	d, err := e.Delivery(v, testNow)
	if err != nil {
		t.Fatal(err)
	}
	r := strings.NewReplacer(
		"{foreign_click_id}", url.QueryEscape(string(v.ForeignClickID)),
		"{conversion_id}", url.QueryEscape(v.ConversionID.String()),
		"{payout}", url.QueryEscape(v.Payout.Decimal()),
		"{payout_currency}", url.QueryEscape(v.Payout.Currency().String()),
		"{status}", url.QueryEscape(testStatusMap[v.Status]),
		"{sub1}", url.QueryEscape(v.SubIDs[0]),
		"{sub2}", url.QueryEscape(v.SubIDs[1]),
		"{occurred_at:unix}", url.QueryEscape(strconv.FormatInt(v.OccurredAt.Unix(), 10)),
	)
	if want := r.Replace(benchURL); d.URL != want {
		t.Fatalf("render %q, baseline %q", d.URL, want)
	}
}
