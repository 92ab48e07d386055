package outbound

import (
	"context"
	"encoding/json"
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/templates")

// goldenValues are the values of the golden files: a full set, with characters to escape, and
// a sparse one.
func goldenValues() []Values {
	return []Values{{
		EventID:        uuid.MustParse("0193a9f0-1111-7000-8000-000000000001"),
		ConversionID:   uuid.MustParse("0193a9f0-2222-7000-8000-000000000002"),
		Event:          event.FTD,
		Status:         event.StatusApproved,
		ClickID:        clickid.MustParse("01jdz8m2qzk5b3y0c9e7r4t6wv"),
		ForeignClickID: "974efaa86716e372442ab44c8a3f563b",
		SubIDs:         []string{"fb ads/summer", "", "a&b"},
		PlayerID:       "player-42",
		AffiliateID:    "aff-7",
		TransactionID:  "dep-9001",
		Source:         "casino",
		Amount:         money.New(15000, money.EUR),
		Payout:         money.New(2550, money.EUR),
		OccurredAt:     time.Date(2026, 12, 1, 23, 30, 0, 0, time.UTC),
		ReceivedAt:     time.Date(2026, 12, 1, 23, 30, 5, 0, time.UTC),
	}, {
		EventID:        uuid.MustParse("0193a9f0-1111-7000-8000-000000000003"),
		ConversionID:   uuid.MustParse("0193a9f0-2222-7000-8000-000000000004"),
		Event:          event.Registration,
		Status:         event.StatusPending,
		ForeignClickID: "cid with spaces & symbols=?",
	}}
}

var goldenNow = time.Date(2026, 12, 2, 10, 30, 0, 0, time.UTC)

// golden compares got with the golden file name under testdata/templates, or rewrites it
// with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "templates", name)
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -run %s -update to write the golden file", t.Name())
	require.Equal(t, string(want), got, "golden file %s (rewrite it with -update if the change is meant)", path)
}

// describe renders e for the golden values: the compiled templates, each delivery as stored,
// and the request Request makes of it.
func describe(t *testing.T, e *Endpoint) string {
	t.Helper()
	require.NoError(t, e.Compile())
	cfg, err := json.Marshal(e)
	require.NoError(t, err)
	var b strings.Builder
	b.WriteString("endpoint: " + string(cfg) + "\n")
	b.WriteString("url template: " + e.c.url.src + "\n")
	if e.c.body != nil {
		b.WriteString("body template: " + e.c.body.src + "\n")
	}
	for i, v := range goldenValues() {
		d, err := e.Delivery(v, goldenNow)
		require.NoError(t, err)
		require.NoError(t, d.Validate())
		req, err := e.Request(context.Background(), d, goldenNow)
		require.NoError(t, err)
		b.WriteString("\nvalues " + string(rune('A'+i)) + ":\n")
		b.WriteString("  stored url:  " + d.URL + "\n")
		if d.Body != nil {
			b.WriteString("  stored body: " + string(d.Body) + "\n")
		}
		b.WriteString("  sent url:    " + req.URL.String() + "\n")
	}
	return b.String()
}

// presetDocs are the postback URLs the receivers' documentation shows, with the account
// constants our base URL supplies. Each preset's URL must have the documented path and every
// documented parameter.
var presetDocs = map[string]struct {
	base    string
	secrets map[string]string
	doc     string // the URL as the documentation shows it
}{
	// https://helpdesk.everflow.io/customer/accessing-editing-s2s-postback-urls
	"everflow": {"https://trk.example.com/?nid=123", map[string]string{"verification_token": "vt-0123456789"},
		"https://www.example.com/?nid=123&transaction_id=TRANSACTION_ID&amount=AMOUNT"},
	// https://doc.voluum.com/en/submitting_postback_url.html and tracking_conversions_postback.html
	"voluum": {"https://trk.example.com", nil,
		"https://voluum_dedicated_domain.com/postback?cid=REPLACE&payout=OPTIONAL&txid=OPTIONAL&currency="},
	// https://docs.keitaro.io/en/conversions/postback.html
	"keitaro": {"https://trk.example.com", map[string]string{"postback_key": "k3y0123456789"},
		"https://example.com/key/postback?subid=SUBID&status=lead&payout=10&currency=EUR&tid=TID"},
	// https://docs.binom.org/postback-url.php
	"binom": {"https://trk.example.com", nil,
		"https://docs.binom.org/click.php?cnv_id={NETWORK_TOKEN}&payout={PAYOUT_TOKEN}&cnv_status={CONVERSION_STAUS}&cnv_currency="},
	// https://help.redtrack.io/knowledgebase/kb/basic-setup-9785/supported-dynamic-parameters/%d1%81lick-id-parameter/
	"redtrack": {"https://trk.example.com/?type=Purchase", nil,
		"http://your.dedicated.tracking.domain.com/postback?clickid={affiliate_network_parameter}&sum=&type=Purchase"},
	// https://affise.zendesk.com/hc/en-us/articles/115002634845-Affise-Affise and
	// https://help-center.affise.com/en/articles/6475468-affise-postback-url-parameters
	"affise": {"https://trk.example.com/?goal=1", map[string]string{"secure": "s3cure0123456789"},
		"http://offers.admin.affise.com/postback?clickid={sub1}&action_id={transactionid}&goal=1&sum=&status=&secure="},
	// https://support.getcake.com/support/solutions/articles/5000546059 (the request ID in r)
	"cake": {"https://trk.example.com/?o=12&e=3", nil,
		"https://demo.cakemarketing.com/p.ashx?o=12&e=3&f=pb&r=REQUEST_ID&t=TRANSACTION_ID&p=PRICE"},
	// https://support.tune.com/hc/en-us/articles/4413247665431-Receiving-Conversions-via-Postback-URL
	"tune": {"https://trk.example.com/?offer_id=26", map[string]string{"security_token": "st-0123456789"},
		"http://examplenetwork.go2cloud.org/aff_lsr?offer_id=26&transaction_id=TRANSACTION_ID"},
	// http://help.scaleo.io/article/484-ultimate-postbacks-add-change-conversion
	"scaleo": {"https://trk.example.com/?goal_id=1673", map[string]string{"token": "344387eb0123"},
		"https://workspace.scaletrk.com/track/conv-addchange?click_id=974efaa86716e372442ab44c8a3f563b&token=344387eb&goal_id=1673&conv_status=pending"},
}

func TestPresets_Golden(t *testing.T) {
	require.ElementsMatch(t, Presets(), slices.Collect(mapsKeys(presetDocs)), "rule: every preset has its documented URL here")
	for _, name := range Presets() {
		t.Run(name, func(t *testing.T) {
			pd := presetDocs[name]
			p, _ := presetNamed(name)
			require.NotEmpty(t, p.doc, "rule: a preset cites its documentation")
			e := &Endpoint{Name: "aff-" + name, Preset: name, URL: pd.base, Secrets: pd.secrets}
			golden(t, "preset_"+name+".golden", "# preset "+name+": "+p.doc+"\n"+describe(t, e))

			// The URL as sent has the documentation's path and every parameter it shows.
			d, err := e.Delivery(goldenValues()[0], goldenNow)
			require.NoError(t, err)
			req, err := e.Request(context.Background(), d, goldenNow)
			require.NoError(t, err)
			doc, err := url.Parse(pd.doc)
			require.NoError(t, err)
			wantPath := doc.Path
			if name == "keitaro" {
				wantPath = "/" + pd.secrets["postback_key"] + "/postback"
			}
			require.Equal(t, wantPath, req.URL.Path, "rule: the documented path")
			got := req.URL.Query()
			for k := range doc.Query() {
				require.True(t, got.Has(k), "rule: the documented parameter %s is sent: %s", k, req.URL)
			}
			require.Equal(t, "974efaa86716e372442ab44c8a3f563b", got.Get(clickParam(doc.Query())),
				"rule: the receiver's click ID goes in its click parameter")
		})
	}
}

// clickParam returns the parameter of a documented URL that carries the receiver's click ID.
func clickParam(q url.Values) string {
	for _, k := range []string{"transaction_id", "cid", "subid", "cnv_id", "clickid", "r", "click_id"} {
		if q.Has(k) {
			return k
		}
	}
	return ""
}

func mapsKeys[M ~map[K]V, K comparable, V any](m M) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func TestPresets_OptionalSecrets(t *testing.T) {
	// Without the optional secret, the parameter (or Keitaro's key segment) is left out.
	e := &Endpoint{Name: "aff", Preset: "keitaro", URL: "https://trk.example.com/tracker/"}
	require.NoError(t, e.Compile())
	d, err := e.Delivery(goldenValues()[1], goldenNow)
	require.NoError(t, err)
	require.Equal(t, "https://trk.example.com/tracker/postback?subid=cid+with+spaces+%26+symbols%3D%3F&status=lead&payout=&currency=&tid=0193a9f0-2222-7000-8000-000000000004", d.URL)
	e = &Endpoint{Name: "aff", Preset: "affise", URL: "https://trk.example.com"}
	require.NoError(t, e.Compile())
	d, err = e.Delivery(goldenValues()[0], goldenNow)
	require.NoError(t, err)
	require.NotContains(t, d.URL, "secure=")
}

// dialectTemplates is one URL and one JSON body, written in the braces dialect; the test
// writes them in every dialect.
const (
	dialectURL  = "https://trk.example.com/pb/{sub1}?cid={foreign_click_id}&amount={amount:minor}&status={status}&at={occurred_at:unix}&sub2={sub2|none}&h={sha256:player_id}&key={query_secret:token}"
	dialectBody = `{"click":"{foreign_click_id}","amount":{amount},"subs":["{sub1}","{sub2|none}"],"at":"{occurred_at:2006-01-02T15:04:05Z07:00}","auth":"{secret:token}"}`
)

// inDialect rewrites a braces template in dialect d: every "{" before a lowercase letter
// opens a macro that the next "}" closes; other braces are JSON's.
func inDialect(src string, d dialect) string {
	var b strings.Builder
	for i := 0; i < len(src); i++ {
		if src[i] == '{' && i+1 < len(src) && 'a' <= src[i+1] && src[i+1] <= 'z' {
			end := i + strings.IndexByte(src[i:], '}')
			b.WriteString(d.open + src[i+1:end] + d.close)
			i = end
			continue
		}
		b.WriteByte(src[i])
	}
	return b.String()
}

func TestDialects_Golden(t *testing.T) {
	var first []string
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			e := &Endpoint{
				Name: "aff", Dialect: d.name, Method: "POST", BodyType: "json",
				URL: inDialect(dialectURL, d), Body: inDialect(dialectBody, d),
				Secrets:   map[string]string{"token": "t0k3n-0123456789"},
				StatusMap: map[event.Status]string{event.StatusApproved: "1"},
				Zone:      "Europe/Berlin",
			}
			got := describe(t, e)
			golden(t, "dialect_"+d.name+".golden", "# dialect "+d.name+": "+d.open+"x"+d.close+"\n"+got)
			// Every dialect renders the same postback.
			var out []string
			for _, v := range goldenValues() {
				dl, err := e.Delivery(v, goldenNow)
				require.NoError(t, err)
				out = append(out, dl.URL, string(dl.Body))
			}
			if first == nil {
				first = out
			}
			require.Equal(t, first, out, "rule: a template means the same in every dialect")
		})
	}
}
