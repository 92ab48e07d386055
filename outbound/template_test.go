package outbound_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/outbound"
	"github.com/s2skit/s2s/store"
)

var (
	testNow     = time.Date(2026, 12, 2, 10, 30, 0, 0, time.UTC)
	testEventID = uuid.MustParse("0193a9f0-1111-7000-8000-000000000001")
	testConvID  = uuid.MustParse("0193a9f0-2222-7000-8000-000000000002")
)

// compiled returns e compiled, failing the test if it does not compile.
func compiled(t testing.TB, e outbound.Endpoint) *outbound.Endpoint {
	t.Helper()
	require.NoError(t, e.Compile())
	return &e
}

// testValues returns values with every field set.
func testValues() outbound.Values {
	return outbound.Values{
		EventID:        testEventID,
		ConversionID:   testConvID,
		Event:          event.FTD,
		Status:         event.StatusApproved,
		ClickID:        clickid.MustParse("01jdz8m2qzk5b3y0c9e7r4t6wv"),
		ForeignClickID: "ef-abc123",
		SubIDs:         []string{"s1", "s2"},
		PlayerID:       "player-42",
		AffiliateID:    "aff-7",
		CampaignID:     "camp-3",
		TransactionID:  "txn-9",
		Source:         "casino",
		Amount:         money.New(15000, money.EUR),
		Payout:         money.New(2550, money.EUR),
		OccurredAt:     time.Date(2026, 12, 1, 23, 30, 0, 0, time.UTC),
		ReceivedAt:     time.Date(2026, 12, 1, 23, 30, 5, 0, time.UTC),
	}
}

// hardValues are values that break URLs and JSON when they are not escaped (reliability E8).
var hardValues = []string{
	"plain", "a&b=c", "x#frag", "100%", "?q=1", "a/b/../c", "..", ".", "with space", "line\r\nbreak",
	"tab\there", "ünïcödé ✓", "plus+sign", `quote"back\slash`, "<secret:token>", "{sub4}",
	"%7Bsub4%7D", "semi;colon", "emoji 🎰", "\u2028sep", "",
}

func TestTemplate_EscapesEveryValueForItsPosition(t *testing.T) {
	t.Parallel()
	e := compiled(t, outbound.Endpoint{
		Name: "aff", Method: "POST", BodyType: "json",
		URL:  "https://trk.example.com/pb/{sub1}/x?q={sub1}&p={player_id}",
		Body: `{"sub":"{sub1}","player":"pre-{player_id}-post"}`,
	})
	for _, h := range hardValues {
		t.Run(h, func(t *testing.T) {
			v := testValues()
			v.SubIDs = []string{h}
			v.PlayerID = h
			d, err := e.Delivery(v, testNow)
			require.NoError(t, err)
			u, err := url.Parse(d.URL)
			require.NoError(t, err, "rule: a rendered URL always parses: %s", d.URL)
			require.Equal(t, "trk.example.com", u.Host, "rule: a value never changes the host")
			segs := strings.Split(u.EscapedPath(), "/")
			require.Len(t, segs, 4, "rule: a value in the path stays one segment: %s", u.EscapedPath())
			got, err := url.PathUnescape(segs[2])
			require.NoError(t, err)
			require.Equal(t, h, got, "rule: a path value round-trips")
			require.NotContains(t, []string{".", ".."}, segs[2], "rule: a value is never a dot segment")
			q, err := url.ParseQuery(u.RawQuery)
			require.NoError(t, err)
			require.Equal(t, []string{h}, q["q"], "rule: a query value round-trips")
			require.Equal(t, []string{h}, q["p"])
			var body map[string]string
			require.NoError(t, json.Unmarshal(d.Body, &body), "rule: a JSON body is JSON: %s", d.Body)
			require.Equal(t, h, body["sub"], "rule: a JSON value round-trips")
			require.Equal(t, "pre-"+h+"-post", body["player"])
			require.NotContains(t, d.URL, "<secret:", "rule: a value never forges a secret placeholder")
			require.NotContains(t, string(d.Body), "<secret:")
		})
	}
}

func TestTemplate_MatchesQueryEscape(t *testing.T) {
	t.Parallel()
	// The query escaping is url.QueryEscape's, byte for byte.
	e := compiled(t, outbound.Endpoint{Name: "aff", URL: "https://trk.example.com/?v={player_id}"})
	for _, h := range hardValues {
		v := testValues()
		v.PlayerID = h
		d, err := e.Delivery(v, testNow)
		require.NoError(t, err)
		require.Equal(t, "https://trk.example.com/?v="+url.QueryEscape(h), d.URL)
	}
}

func TestTemplate_FormBody(t *testing.T) {
	t.Parallel()
	e := compiled(t, outbound.Endpoint{
		Name: "aff", Method: "POST", BodyType: "form", URL: "https://trk.example.com/pb",
		Body: "click={foreign_click_id}&sub={sub1|none}&amount={amount}",
	})
	for _, h := range hardValues {
		v := testValues()
		v.ForeignClickID = clickid.Foreign(h)
		d, err := e.Delivery(v, testNow)
		require.NoError(t, err)
		require.Equal(t, http_form, d.Header.Get("Content-Type"))
		f, err := url.ParseQuery(string(d.Body))
		require.NoError(t, err)
		require.Equal(t, h, f.Get("click"), "rule: a form value round-trips")
		require.Equal(t, "s1", f.Get("sub"))
		require.Equal(t, "150.00", f.Get("amount"))
	}
}

const http_form = "application/x-www-form-urlencoded"

func TestTemplate_Functions(t *testing.T) {
	t.Parallel()
	sum := sha256.Sum256([]byte("player-42"))
	v := testValues()
	tests := []struct {
		name string
		e    outbound.Endpoint
		want string // the query value of x
	}{
		{"status as is", outbound.Endpoint{URL: "?x={status}"}, "approved"},
		{"status mapped", outbound.Endpoint{URL: "?x={status}", StatusMap: map[event.Status]string{event.StatusApproved: "1"}}, "1"},
		{"status map overrides the preset", outbound.Endpoint{Preset: "keitaro", StatusMap: map[event.Status]string{event.StatusApproved: "paid"}}, "paid"},
		{"amount major", outbound.Endpoint{URL: "?x={amount}"}, "150.00"},
		{"amount major named", outbound.Endpoint{URL: "?x={amount:major}"}, "150.00"},
		{"amount minor", outbound.Endpoint{URL: "?x={amount:minor}"}, "15000"},
		{"payout", outbound.Endpoint{URL: "?x={payout}"}, "25.50"},
		{"currency", outbound.Endpoint{URL: "?x={currency}"}, "EUR"},
		{"date unix", outbound.Endpoint{URL: "?x={occurred_at:unix}"}, "1796167800"},
		{"date unix ms", outbound.Endpoint{URL: "?x={occurred_at:unix_ms}"}, "1796167800000"},
		{"date rfc3339 in UTC", outbound.Endpoint{URL: "?x={occurred_at}"}, "2026-12-01T23:30:00Z"},
		{"date in a zone", outbound.Endpoint{URL: "?x={occurred_at}", Zone: "Europe/Berlin"}, "2026-12-02T00:30:00+01:00"},
		{"date only, the zone's day", outbound.Endpoint{URL: "?x={occurred_at:date}", Zone: "Europe/Berlin"}, "2026-12-02"},
		{"datetime", outbound.Endpoint{URL: "?x={received_at:datetime}", Zone: "America/New_York"}, "2026-12-01 18:30:05"},
		{"Go layout", outbound.Endpoint{URL: "?x={occurred_at:02/01/2006 15h04}", Zone: "Asia/Tokyo"}, "02/12/2026 08h30"},
		{"sent at", outbound.Endpoint{URL: "?x={sent_at:unix}"}, "1796207400"},
		{"sha256", outbound.Endpoint{URL: "?x={sha256:player_id}"}, hex.EncodeToString(sum[:])},
		{"default when empty", outbound.Endpoint{URL: "?x={sub3|none}"}, "none"},
		{"default escaped", outbound.Endpoint{URL: "?x={sub3|a b&c}"}, "a b&c"},
		{"no default when set", outbound.Endpoint{URL: "?x={sub2|none}"}, "s2"},
		{"raw", outbound.Endpoint{URL: "?x={raw:amount}"}, "150.00"},
		{"event ID", outbound.Endpoint{URL: "?x={event_id}"}, testEventID.String()},
		{"conversion ID", outbound.Endpoint{URL: "?x={conversion_id}"}, testConvID.String()},
		{"click ID", outbound.Endpoint{URL: "?x={click_id}"}, v.ClickID.String()},
		{"brackets dialect", outbound.Endpoint{URL: "?x=[sub1]", Dialect: "brackets"}, "s1"},
		{"percent dialect keeps escapes", outbound.Endpoint{URL: "?x=%2F%sub1%", Dialect: "percent"}, "/s1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := tt.e
			e.Name = "aff"
			if e.Preset != "" {
				e.URL = "https://trk.example.com"
			} else {
				e.URL = "https://trk.example.com/" + e.URL
			}
			d, err := compiled(t, e).Delivery(v, testNow)
			require.NoError(t, err)
			u, err := url.Parse(d.URL)
			require.NoError(t, err)
			x := u.Query().Get("x")
			if e.Preset != "" {
				x = u.Query().Get("status")
			}
			require.Equal(t, tt.want, x, d.URL)
		})
	}
}

func TestTemplate_AmountExponents(t *testing.T) {
	t.Parallel()
	e := compiled(t, outbound.Endpoint{Name: "aff", URL: "https://trk.example.com/?a={amount}&m={amount:minor}&c={currency}"})
	for _, tt := range []struct {
		a    money.Amount
		want string
	}{
		{money.New(1500, money.JPY), "a=1500&m=1500&c=JPY"},
		{money.New(1234, money.KWD), "a=1.234&m=1234&c=KWD"},
		{money.New(5, money.EUR), "a=0.05&m=5&c=EUR"},
		{money.New(0, money.EUR), "a=0.00&m=0&c=EUR"},
		{money.Amount{}, "a=&m=&c="}, // no amount at all
	} {
		v := testValues()
		v.Amount = tt.a
		d, err := e.Delivery(v, testNow)
		require.NoError(t, err)
		require.Equal(t, "https://trk.example.com/?"+tt.want, d.URL)
	}
}

func TestTemplate_JSONMacro(t *testing.T) {
	t.Parallel()
	e := compiled(t, outbound.Endpoint{Name: "aff", URL: "https://trk.example.com/?data={json}", Zone: "Europe/Malta"})
	v := testValues()
	v.PlayerID = `p"<&>`
	d, err := e.Delivery(v, testNow)
	require.NoError(t, err)
	u, err := url.Parse(d.URL)
	require.NoError(t, err)
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(u.Query().Get("data")), &got), "rule: json is URL-encoded JSON")
	require.Equal(t, map[string]any{
		"event_id": testEventID.String(), "conversion_id": testConvID.String(), "event": "ftd",
		"status": "approved", "click_id": v.ClickID.String(), "foreign_click_id": "ef-abc123",
		"sub_ids": []any{"s1", "s2"}, "player_id": `p"<&>`, "affiliate_id": "aff-7",
		"campaign_id": "camp-3", "transaction_id": "txn-9", "source": "casino", "amount": "150.00",
		"currency": "EUR", "payout": "25.50", "payout_currency": "EUR",
		"occurred_at": "2026-12-02T00:30:00+01:00", "received_at": "2026-12-02T00:30:05+01:00",
		"sent_at": "2026-12-02T11:30:00+01:00",
	}, got)

	// In a JSON body, outside quotes, json is the object itself.
	b := compiled(t, outbound.Endpoint{Name: "aff", Method: "POST", BodyType: "json", URL: "https://trk.example.com/", Body: `{"v":1,"data":{json}}`})
	d, err = b.Delivery(v, testNow)
	require.NoError(t, err)
	var body struct {
		Data map[string]any `json:"data"`
	}
	require.NoError(t, json.Unmarshal(d.Body, &body))
	require.Equal(t, `p"<&>`, body.Data["player_id"])
}

func TestTemplate_JSONBareValues(t *testing.T) {
	t.Parallel()
	e := compiled(t, outbound.Endpoint{
		Name: "aff", Method: "POST", BodyType: "json", URL: "https://trk.example.com/",
		Body:    `{"amount": {{amount}}, "minor": {{payout:minor}}, "at": {{occurred_at:unix}}, "none": {{payout|0}}, "nested": {"a": [1, {"b": "{{sub1}}"}]}}`,
		Dialect: "double_braces",
	})
	v := testValues()
	d, err := e.Delivery(v, testNow)
	require.NoError(t, err)
	require.JSONEq(t, `{"amount":150.00,"minor":2550,"at":1796167800,"none":25.50,"nested":{"a":[1,{"b":"s1"}]}}`, string(d.Body))
	v.Amount, v.Payout, v.OccurredAt = money.Amount{}, money.Amount{}, time.Time{}
	d, err = e.Delivery(v, testNow)
	require.NoError(t, err)
	require.JSONEq(t, `{"amount":null,"minor":null,"at":null,"none":0,"nested":{"a":[1,{"b":"s1"}]}}`, string(d.Body),
		"rule: a missing number is null (or its default), never an empty value")
}

func TestTemplate_InvalidUTF8InJSONIsAnError(t *testing.T) {
	t.Parallel()
	e := compiled(t, outbound.Endpoint{Name: "aff", Method: "POST", BodyType: "json", URL: "https://trk.example.com/", Body: `{"p":"{player_id}"}`})
	v := testValues()
	v.PlayerID = "bad\xffutf8"
	_, err := e.Delivery(v, testNow)
	require.ErrorIs(t, err, outbound.ErrRender, "rule: JSON cannot carry invalid UTF-8 exactly: refused, not mangled")
	require.Contains(t, err.Error(), "player_id")

	// A URL carries any byte exactly.
	u := compiled(t, outbound.Endpoint{Name: "aff", URL: "https://trk.example.com/?p={player_id}"})
	d, err := u.Delivery(v, testNow)
	require.NoError(t, err)
	q, err := url.ParseQuery(strings.SplitN(d.URL, "?", 2)[1])
	require.NoError(t, err)
	require.Equal(t, v.PlayerID, q.Get("p"))
}

func TestTemplate_ParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, dialect, url string
		offset             int
		macro, problem     string
	}{
		{"unknown macro", "", "https://h.example.com/p?s={subacc4}", 26, "{subacc4}", `unknown macro "subacc4"`},
		{"unknown macro with hint", "", "https://h.example.com/p?s={clickid}", 26, "{clickid}", "did you mean click_id?"},
		{"unknown sub", "", "https://h.example.com/p?s={sub31}", 26, "{sub31}", `unknown macro "sub31"`},
		{"sub0", "", "https://h.example.com/p?s={sub0}", 26, "{sub0}", `unknown macro "sub0"`},
		{"upper case", "", "https://h.example.com/p?s={Sub1}", 26, "{Sub1}", "invalid macro name"},
		{"unterminated", "", "https://h.example.com/p?s={sub1", 26, "{sub1", `unbalanced "{"`},
		{"stray closer", "", "https://h.example.com/p?s=sub1}", 30, "", `unbalanced "}"`},
		{"stray closer brackets", "brackets", "https://h.example.com/p?s=]", 26, "", `unbalanced "]"`},
		{"other dialect", "", "https://h.example.com/p?s={{sub1}}", 26, "{{sub1}", `parses in the "double_braces" dialect`},
		{"hash dialect hint", "", "https://h.example.com/p?s=#sub1#", 26, "", "fragment"},
		{"empty macro", "", "https://h.example.com/p?s={}", 26, "{}", "empty macro"},
		{"macro in host", "", "https://{sub1}.example.com/p", 8, "{sub1}", "scheme or host"},
		{"hash macro as the host", "hash", "https://#sub2#0", 8, "#sub2#", "scheme or host"},
		{"macro as the port", "", "https://h.example.com:{sub1}/", 22, "{sub1}", "scheme or host"},
		{"no host", "", "https:///p?c={sub1}", 8, "", "no host"},
		{"format of a string", "", "https://h.example.com/?s={sub1:x}", 25, "{sub1:x}", "takes no format"},
		{"bad money format", "", "https://h.example.com/?s={amount:cents}", 25, "{amount:cents}", `format "cents"`},
		{"bad time format", "", "https://h.example.com/?s={occurred_at:unixx}", 25, "{occurred_at:unixx}", `format "unixx"`},
		{"fn without field", "", "https://h.example.com/?s={sha256}", 25, "{sha256}", "needs a field"},
		{"percent stray", "percent", "https://h.example.com/?s=100%", 28, "", "percent-escape"},
		{"percent unknown", "percent", "https://h.example.com/?s=%subacc4%", 25, "%subacc4%", `unknown macro "subacc4"`},
		{"dollar unterminated", "dollar", "https://h.example.com/?s=${sub1", 25, "${sub1", `no closing "}"`},
		{"reserved text", "", "https://h.example.com/?s=<secret:x>", 25, "", "reserved"},
		{"control character", "", "https://h.example.com/?s=a\nb", 26, "", "control character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := outbound.Endpoint{Name: "aff", URL: tt.url, Dialect: tt.dialect}
			err := e.Compile()
			require.ErrorIs(t, err, outbound.ErrInvalidEndpoint)
			var ee *outbound.EndpointError
			require.True(t, errors.As(err, &ee))
			assert.Equal(t, "aff", ee.Endpoint)
			assert.Equal(t, "url", ee.Field)
			assert.Equal(t, tt.offset, ee.Offset, "rule: the error gives the byte position: %v", err)
			assert.Equal(t, tt.macro, ee.Macro)
			assert.Contains(t, err.Error(), tt.problem)
			if tt.macro != "" {
				assert.Equal(t, tt.macro, tt.url[ee.Offset:ee.Offset+len(tt.macro)], "rule: the offset points at the macro")
			}
		})
	}
}

func TestTemplate_Lint(t *testing.T) {
	t.Parallel()
	secrets := map[string]string{"token": "tok-0123456789abcdef"}
	tests := []struct {
		name    string
		e       outbound.Endpoint
		field   string
		problem string // "" means the endpoint compiles
	}{
		{"http refused", outbound.Endpoint{URL: "http://h.example.com/?c={sub1}"}, "url", "http:// is refused"},
		{"http allowed", outbound.Endpoint{URL: "http://h.example.com/?c={sub1}", AllowHTTP: true}, "", ""},
		{"other scheme", outbound.Endpoint{URL: "ftp://h.example.com/"}, "url", "https://"},
		{"empty port", outbound.Endpoint{URL: "https://h.example.com:/p"}, "url", "empty port"},
		{"user info", outbound.Endpoint{URL: "https://u:p@h.example.com/"}, "url", "user name or password"},
		{"fragment", outbound.Endpoint{URL: "https://h.example.com/p#x"}, "url", "fragment"},
		{"secret in query", outbound.Endpoint{URL: "https://h.example.com/?t={secret:token}", Secrets: secrets}, "url", "{query_secret:token}"},
		{"secret marked for the query", outbound.Endpoint{URL: "https://h.example.com/?t={query_secret:token}", Secrets: secrets}, "", ""},
		{"secret in path", outbound.Endpoint{URL: "https://h.example.com/{secret:token}/pb", Secrets: secrets}, "", ""},
		{"secret by bare name", outbound.Endpoint{URL: "https://h.example.com/?t={token}", Secrets: secrets}, "url", "is a secret"},
		{"unknown secret", outbound.Endpoint{URL: "https://h.example.com/{secret:nope}"}, "url", `unknown secret "nope"`},
		{"secret with a default", outbound.Endpoint{URL: "https://h.example.com/{secret:token|x}", Secrets: secrets}, "url", "no default"},
		{"secret value written out", outbound.Endpoint{URL: "https://h.example.com/?t=tok-0123456789abcdef", Secrets: secrets}, "secrets.token", "written in a template"},
		{"raw of a sent value", outbound.Endpoint{URL: "https://h.example.com/?s={raw:sub1}"}, "url", "never raw"},
		{"raw of a player ID", outbound.Endpoint{URL: "https://h.example.com/?s={raw:player_id}"}, "url", "never raw"},
		{"raw of a transaction ID", outbound.Endpoint{URL: "https://h.example.com/?s={raw:transaction_id}"}, "url", "never raw"},
		{"raw of an amount", outbound.Endpoint{URL: "https://h.example.com/?s={raw:amount}"}, "", ""},
		{"raw in JSON", outbound.Endpoint{Method: "POST", BodyType: "json", URL: "https://h.example.com/", Body: `{"a":"{raw:amount}"}`}, "body", "JSON-escaped"},
		{"string outside JSON quotes", outbound.Endpoint{Method: "POST", BodyType: "json", URL: "https://h.example.com/", Body: `{"a":{sub1}}`}, "body", "outside a JSON string"},
		{"bad bare default", outbound.Endpoint{Method: "POST", BodyType: "json", URL: "https://h.example.com/", Body: `{"a":{amount|zero}}`}, "body", "want a JSON number or null"},
		{"body not JSON", outbound.Endpoint{Method: "POST", BodyType: "json", URL: "https://h.example.com/", Body: `{"a":"{sub1}",}`}, "body", "not JSON"},
		{"secret outside JSON quotes", outbound.Endpoint{Method: "POST", BodyType: "json", URL: "https://h.example.com/", Body: `{"a":{secret:token}}`, Secrets: secrets}, "body", "put it in quotes"},
		{"body with GET", outbound.Endpoint{URL: "https://h.example.com/", BodyType: "json", Body: `{}`}, "method", "needs POST"},
		{"body type unknown", outbound.Endpoint{Method: "POST", URL: "https://h.example.com/", BodyType: "xml", Body: `<a/>`}, "body_type", "want json or form"},
		{"body type without body", outbound.Endpoint{URL: "https://h.example.com/", BodyType: "json"}, "body_type", "without a body"},
		{"method", outbound.Endpoint{URL: "https://h.example.com/", Method: "PUT"}, "method", "want GET or POST"},
		{"dialect", outbound.Endpoint{URL: "https://h.example.com/", Dialect: "angle"}, "dialect", "unknown dialect"},
		{"preset", outbound.Endpoint{URL: "https://h.example.com/", Preset: "nope"}, "preset", "unknown preset"},
		{"preset base with macros", outbound.Endpoint{URL: "https://h.example.com/?x={sub1}", Preset: "voluum"}, "url", "no macros"},
		{"preset base sets a preset parameter", outbound.Endpoint{URL: "https://h.example.com/?cid=1", Preset: "voluum"}, "url", "sets cid"},
		{"preset constant missing", outbound.Endpoint{URL: "https://h.example.com/", Preset: "everflow"}, "url", "nid="},
		{"preset secret missing", outbound.Endpoint{URL: "https://h.example.com/", Preset: "scaleo"}, "url", "needs the secret token"},
		{"zone", outbound.Endpoint{URL: "https://h.example.com/", Zone: "Mars/Olympus"}, "zone", "not an IANA zone"},
		{"status map key", outbound.Endpoint{URL: "https://h.example.com/", StatusMap: map[event.Status]string{"paid": "1"}}, "status_map", "unknown status"},
		{"status map word", outbound.Endpoint{URL: "https://h.example.com/", StatusMap: map[event.Status]string{event.StatusApproved: ""}}, "status_map.approved", "empty"},
		{"secret name", outbound.Endpoint{URL: "https://h.example.com/", Secrets: map[string]string{"Token": "x"}}, "secrets", "name"},
		{"empty secret", outbound.Endpoint{URL: "https://h.example.com/", Secrets: map[string]string{"token": ""}}, "secrets.token", "empty"},
		{"negative delay", outbound.Endpoint{URL: "https://h.example.com/", SendDelay: -time.Second}, "send_delay", "0 or more"},
		{"negative concurrency", outbound.Endpoint{URL: "https://h.example.com/", Concurrency: -1}, "concurrency", "0"},
		{"no URL", outbound.Endpoint{}, "url", "required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := tt.e
			e.Name = "aff"
			err := e.Compile()
			if tt.problem == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, outbound.ErrInvalidEndpoint)
			var ee *outbound.EndpointError
			require.True(t, errors.As(err, &ee))
			assert.Equal(t, tt.field, ee.Field, "%v", err)
			assert.Contains(t, err.Error(), tt.problem)
			for _, s := range e.Secrets {
				if s != "" && s != "x" {
					assert.NotContains(t, err.Error(), s, "rule: an error never shows a secret")
				}
			}
		})
	}
	e := outbound.Endpoint{URL: "https://h.example.com/"}
	require.ErrorContains(t, e.Compile(), "name: required")
}

func TestEndpoint_SecretsAreFilledAtSendTime(t *testing.T) {
	t.Parallel()
	e := compiled(t, outbound.Endpoint{
		Name: "aff", Method: "POST", BodyType: "json",
		URL:     "https://trk.example.com/{secret:key}/pb?c={foreign_click_id}&t={query_secret:token}",
		Body:    `{"auth":"{secret:token}","c":"{foreign_click_id}"}`,
		Secrets: map[string]string{"key": "k/ey 1", "token": `to"k&en<>`},
	})
	d, err := e.Delivery(testValues(), testNow)
	require.NoError(t, err)
	require.NoError(t, d.Validate(), "rule: a rendered delivery is one a store accepts")
	require.Equal(t, "https://trk.example.com/<secret:key>/pb?c=ef-abc123&t=<secret:token>", d.URL,
		"rule: the stored URL shows where secrets go, never what they are")
	require.Equal(t, `{"auth":"<secret:token>","c":"ef-abc123"}`, string(d.Body))
	for _, s := range e.Secrets {
		require.NotContains(t, d.URL, s)
		require.NotContains(t, string(d.Body), s)
	}

	req, err := e.Request(context.Background(), d, testNow)
	require.NoError(t, err)
	require.Equal(t, "/k%2Fey%201/pb", req.URL.EscapedPath(), "rule: a path secret is path-escaped")
	require.Equal(t, `to"k&en<>`, req.URL.Query().Get("t"), "rule: a query secret is query-escaped")
	require.Equal(t, "application/json", req.Header.Get("Content-Type"))
	var body map[string]string
	require.NoError(t, json.NewDecoder(req.Body).Decode(&body))
	require.Equal(t, `to"k&en<>`, body["auth"], "rule: a body secret is JSON-escaped")
	require.Equal(t, int64(len(`{"auth":"to\"k\u0026en\u003c\u003e","c":"ef-abc123"}`)), req.ContentLength)
	require.Equal(t, "https://trk.example.com/<secret:key>/pb?c=ef-abc123&t=<secret:token>", d.URL, "rule: Request does not change the delivery")

	// A delivery of another endpoint, or one needing a secret the endpoint lost, is refused.
	other := compiled(t, outbound.Endpoint{Name: "other", URL: "https://trk.example.com/"})
	_, err = other.Request(context.Background(), d, testNow)
	require.ErrorIs(t, err, outbound.ErrRender)
	lost := compiled(t, outbound.Endpoint{Name: "aff", URL: "https://trk.example.com/", Secrets: map[string]string{"key": "k"}})
	_, err = lost.Request(context.Background(), d, testNow)
	require.ErrorIs(t, err, outbound.ErrRender)
	require.Contains(t, err.Error(), `"token"`)
}

func TestEndpoint_Delivery(t *testing.T) {
	t.Parallel()
	e := compiled(t, outbound.Endpoint{Name: "aff", URL: "https://trk.example.com/?id={event_id}", SendDelay: 5 * time.Minute})
	v := testValues()
	d, err := e.Delivery(v, testNow)
	require.NoError(t, err)
	require.Equal(t, store.Delivery{
		ID: testEventID, ConversionID: testConvID, Endpoint: "aff", Method: "GET",
		URL:    "https://trk.example.com/?id=" + testEventID.String(),
		Status: store.DeliveryPending, NextAttemptAt: testNow.Add(5 * time.Minute), CreatedAt: testNow,
	}, d, "rule: the delivery's ID is the event ID, due after the send delay")

	v.EventID = uuid.Nil
	_, err = e.Delivery(v, testNow)
	require.ErrorIs(t, err, outbound.ErrRender, "rule: no event ID, no delivery")

	long := testValues()
	long.PlayerID = strings.Repeat("é", store.MaxURLLen)
	_, err = compiled(t, outbound.Endpoint{Name: "aff", URL: "https://trk.example.com/?p={player_id}"}).Delivery(long, testNow)
	require.ErrorIs(t, err, outbound.ErrRender, "rule: a URL over store.MaxURLLen is refused, never truncated")

	var never outbound.Endpoint
	never.Name, never.URL = "aff", "https://trk.example.com/"
	_, err = never.Delivery(v, testNow)
	require.ErrorIs(t, err, outbound.ErrInvalidEndpoint, "rule: an endpoint never compiled renders nothing")
	_, err = never.Request(context.Background(), d, testNow)
	require.ErrorIs(t, err, outbound.ErrInvalidEndpoint)
}

func TestValuesOf(t *testing.T) {
	t.Parallel()
	c := store.Conversion{
		ID: testConvID, DedupKey: "k", Source: "casino", Event: event.Deposit,
		ClickID: clickid.MustParse("01jdz8m2qzk5b3y0c9e7r4t6wv"), ForeignClickID: "gclid-1",
		SubIDs: []string{"a"}, PlayerID: "p", AffiliateID: "aff", CampaignID: "c",
		TransactionID: "t", Amount: money.New(100, money.USD), Status: event.StatusPending,
		ReceivedAt: testNow,
	}
	v := outbound.ValuesOf(c, money.New(10, money.USD))
	require.Equal(t, outbound.Values{
		ConversionID: testConvID, Event: event.Deposit, Status: event.StatusPending,
		ClickID: c.ClickID, ForeignClickID: "gclid-1", SubIDs: []string{"a"}, PlayerID: "p",
		AffiliateID: "aff", CampaignID: "c", TransactionID: "t", Source: "casino",
		Amount: money.New(100, money.USD), Payout: money.New(10, money.USD),
		OccurredAt: testNow, ReceivedAt: testNow,
	}, v, "rule: every field comes over; OccurredAt is the event time; the event ID is the caller's")
}

func TestTemplate_RawValues(t *testing.T) {
	t.Parallel()
	e := compiled(t, outbound.Endpoint{Name: "aff", URL: "https://trk.example.com/?a={raw:affiliate_id}&c={raw:campaign_id|x}"})
	for _, tt := range []struct {
		aff, want string
		ok        bool
	}{
		{"aff-7", "https://trk.example.com/?a=aff-7&c=camp-3", true},
		{"a%2Fb&k=v", "https://trk.example.com/?a=a%2Fb&k=v&c=camp-3", true}, // raw: pre-encoded, as its owner wrote it
		{"a#b", "", false},
		{"a;b", "", false},
		{"a%zz", "", false},
		{"a%2", "", false},
		{"a b", "", false},
		{"<secret:token>", "", false},
		{"é", "", false},
	} {
		v := testValues()
		v.AffiliateID = tt.aff
		d, err := e.Delivery(v, testNow)
		if !tt.ok {
			require.ErrorIs(t, err, outbound.ErrRender, "rule: a raw value that would break the URL is refused: %q", tt.aff)
			require.Contains(t, err.Error(), "affiliate_id")
			continue
		}
		require.NoError(t, err)
		require.Equal(t, tt.want, d.URL)
	}
}

func TestEndpoint_FormBodySecret(t *testing.T) {
	t.Parallel()
	e := compiled(t, outbound.Endpoint{
		Name: "aff", Method: "POST", BodyType: "form", URL: "https://trk.example.com/pb",
		Body: "c={foreign_click_id}&key={secret:key}", Secrets: map[string]string{"key": "a&b=c d"},
	})
	d, err := e.Delivery(testValues(), testNow)
	require.NoError(t, err)
	require.Equal(t, "c=ef-abc123&key=<secret:key>", string(d.Body))
	req, err := e.Request(context.Background(), d, testNow)
	require.NoError(t, err)
	require.NoError(t, req.ParseForm())
	require.Equal(t, "a&b=c d", req.PostForm.Get("key"), "rule: a form secret is form-escaped")
}
