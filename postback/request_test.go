package postback_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/postback"
	"github.com/s2skit/s2s/postback/postbacktest"
	"github.com/stretchr/testify/require"
)

// The Standard Webhooks specification's published vector.
const (
	swSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	swID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	swTS     = 1614265330
	swBody   = `{"test": 2432232314}`
	swSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestSignWebhook_SpecVector(t *testing.T) {
	t.Parallel()
	key, err := postback.WebhookSecret(swSecret)
	require.NoError(t, err)
	require.Equal(t, swSig, postback.SignWebhook(key, swID, time.Unix(swTS, 0), []byte(swBody)))
	noPrefix, err := postback.WebhookSecret(strings.TrimPrefix(swSecret, "whsec_"))
	require.NoError(t, err)
	require.Equal(t, key, noPrefix)
	_, err = postback.WebhookSecret("whsec_!!")
	require.ErrorIs(t, err, postback.ErrConfig)
}

func webhookSource(t testing.TB, c *clock, keys ...postback.Key) *postback.Source {
	t.Helper()
	d := &postback.Dialect{ClickID: []string{"click_id"}, PlayerID: []string{"test"}, Amount: []string{"amount"},
		Currency: []string{"currency"}, Event: []string{"event"}, DefaultEvent: event.Conversion}
	src, err := postback.NewSource("wh", postback.Auth{Method: postback.MethodStandardWebhooks, Keys: keys},
		&postback.SourceOptions{Now: c.Now, Dialect: d})
	require.NoError(t, err)
	return src
}

func TestParseRequest_StandardWebhooks(t *testing.T) {
	t.Parallel()
	key, err := postback.WebhookSecret(swSecret)
	require.NoError(t, err)
	at := time.Unix(swTS, 0)
	c := &clock{t: at}
	src := webhookSource(t, c, postback.Key{ID: "spec", Secret: key})

	req := func(sig string, mod func(*http.Request)) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/wh", strings.NewReader(swBody))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set(postback.HeaderWebhookID, swID)
		r.Header.Set(postback.HeaderWebhookTimestamp, strconv.Itoa(swTS))
		r.Header.Set(postback.HeaderWebhookSignature, sig)
		if mod != nil {
			mod(r)
		}
		return r
	}
	pb, err := src.ParseRequest(req(swSig, nil))
	require.NoError(t, err)
	require.Equal(t, "2432232314", pb.PlayerID, "numbers are kept as their literal text")
	require.Equal(t, "spec", pb.KeyID)

	bogus := "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="
	tests := []struct {
		name   string
		r      *http.Request
		reason postback.Reason
	}{
		{"valid among bogus", req("v2,abc "+bogus+" "+swSig+" v1a,xyz", nil), ""},
		{"wrong signature", req(bogus, nil), postback.ReasonBadSignature},
		{"other version only", req("v1a,"+swSig[3:], nil), postback.ReasonBadSignature},
		{"no signature", req("", nil), postback.ReasonMissingSignature},
		{"no timestamp", req(swSig, func(r *http.Request) { r.Header.Del(postback.HeaderWebhookTimestamp) }), postback.ReasonMissingTimestamp},
		{"no id", req(swSig, func(r *http.Request) { r.Header.Del(postback.HeaderWebhookID) }), postback.ReasonMissingWebhookID},
		{"id with a dot", req(swSig, func(r *http.Request) { r.Header.Set(postback.HeaderWebhookID, "a.b") }), postback.ReasonBadWebhookID},
		{"other id", req(swSig, func(r *http.Request) { r.Header.Set(postback.HeaderWebhookID, "msg_other") }), postback.ReasonBadSignature},
		{"other timestamp", req(swSig, func(r *http.Request) { r.Header.Set(postback.HeaderWebhookTimestamp, strconv.Itoa(swTS+1)) }), postback.ReasonBadSignature},
		{"eleven signatures", req(strings.Repeat(bogus+" ", 10)+swSig, nil), postback.ReasonTooManySignatures},
		{"ten signatures", req(strings.Repeat(bogus+" ", 9)+swSig, nil), ""},
		{"a GET instead", httptest.NewRequest(http.MethodGet, "/wh?click_id=a", nil), postback.ReasonMethod},
		{"a form instead", formRequest("/wh", "click_id=a"), postback.ReasonMediaType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := src.ParseRequest(tt.r)
			if tt.reason == "" {
				require.NoError(t, err)
				return
			}
			require.Equal(t, tt.reason, postback.ReasonOf(err), "%v", err)
			if tt.r.Method == http.MethodPost && tt.reason != postback.ReasonMediaType {
				require.Equal(t, http.StatusUnauthorized, postback.StatusCode(tt.reason), "an authentication failure")
			}
		})
	}
	// Tolerance on the webhook timestamp, both directions.
	for _, d := range []time.Duration{-301 * time.Second, 301 * time.Second} {
		c2 := &clock{t: at.Add(d)}
		_, err := webhookSource(t, c2, postback.Key{Secret: key}).ParseRequest(req(swSig, nil))
		require.Equal(t, postback.ReasonTimestampTolerance, postback.ReasonOf(err))
	}
	// Every byte of the body is signed.
	for i := range len(swBody) {
		b := []byte(swBody)
		b[i] ^= 1
		r := req(swSig, nil)
		r.Body = io.NopCloser(bytes.NewReader(b))
		_, err := src.ParseRequest(r)
		require.Error(t, err, "byte %d", i)
	}
}

func TestParseRequest_WebhookRotation(t *testing.T) {
	t.Parallel()
	c := &clock{t: t0}
	src := webhookSource(t, c, postback.Key{ID: "old", Secret: secret, NotAfter: t0.Add(time.Hour)}, postback.Key{ID: "new", Secret: secret2})
	body := []byte(`{"click_id":"abc","amount":"10.00","currency":"EUR"}`)
	pb, err := src.ParseRequest(postbacktest.WebhookRequest(t, "/wh", "msg_1", body, t0, secret, secret2))
	require.NoError(t, err)
	require.Equal(t, "10.00 EUR", pb.Amount.String())
	c.t = t0.Add(2 * time.Hour)
	_, err = src.ParseRequest(postbacktest.WebhookRequest(t, "/wh", "msg_1", body, c.t, secret))
	require.Equal(t, postback.ReasonBadSignature, postback.ReasonOf(err), "old key after the overlap")
	_, err = src.ParseRequest(postbacktest.WebhookRequest(t, "/wh", "msg_1", body, c.t, secret, secret2))
	require.NoError(t, err)
}

func formRequest(target, body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

func jsonRequest(target, body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json; charset=utf-8")
	return r
}

func TestParseRequest_Bodies(t *testing.T) {
	t.Parallel()
	src := openSource(t, nil)
	tests := []struct {
		name   string
		r      *http.Request
		reason postback.Reason
		check  func(t *testing.T, pb postback.Postback)
	}{
		{name: "form", r: formRequest("/p?click_id=abc", "event=ftd&txn_id=T1&amount=5.00&currency=USD"),
			check: func(t *testing.T, pb postback.Postback) { require.Equal(t, "5.00 USD", pb.Amount.String()) }},
		{name: "form repeats a query key", r: formRequest("/p?click_id=abc&amount=5.00", "event=ftd&txn_id=T1&amount=500.00&currency=USD"),
			reason: postback.ReasonBodyRepeatsKey},
		{name: "form repeats its own key", r: formRequest("/p?click_id=abc", "event=ftd&txn_id=T1&event=ftd"), reason: postback.ReasonRepeatedKey},
		{name: "form with semicolon", r: formRequest("/p?click_id=abc", "event=ftd&txn_id=T1;x=1"), reason: postback.ReasonSemicolon},
		{name: "json", r: jsonRequest("/p", `{"click_id":"abc","event":"deposit","txn_id":"D1","amount":12.5,"currency":"GBP","sub1":true,"sub2":null}`),
			check: func(t *testing.T, pb postback.Postback) {
				require.Equal(t, "12.50 GBP", pb.Amount.String())
				require.Equal(t, "true", pb.Sub(1))
				require.Equal(t, "", pb.Sub(2))
			}},
		{name: "json ignores the query", r: jsonRequest("/p?amount=1.00", `{"click_id":"abc","event":"ftd","txn_id":"T1"}`),
			check: func(t *testing.T, pb postback.Postback) { require.False(t, pb.HasAmount) }},
		{name: "json float exponent", r: jsonRequest("/p", `{"click_id":"abc","event":"ftd","txn_id":"T1","amount":1e3,"currency":"EUR"}`), reason: postback.ReasonBadAmount},
		{name: "json repeated key", r: jsonRequest("/p", `{"click_id":"abc","event":"ftd","txn_id":"T1","event":"dep"}`), reason: postback.ReasonRepeatedKey},
		{name: "json nested", r: jsonRequest("/p", `{"click_id":"abc","event":{"x":1}}`), reason: postback.ReasonMalformedBody},
		{name: "json array", r: jsonRequest("/p", `["click_id"]`), reason: postback.ReasonMalformedBody},
		{name: "json trailing data", r: jsonRequest("/p", `{"click_id":"abc","event":"ftd","txn_id":"T1"} {}`), reason: postback.ReasonMalformedBody},
		{name: "json macro", r: jsonRequest("/p", `{"click_id":"{clickid}","event":"ftd","txn_id":"T1"}`), reason: postback.ReasonUnfilledMacro},
		{name: "body too large", r: formRequest("/p?click_id=abc&event=ftd&txn_id=T1", "x="+strings.Repeat("y", postback.MaxBodyBytes)), reason: postback.ReasonBodyTooLarge},
		{name: "body at the limit", r: formRequest("/p?click_id=abc&event=ftd&txn_id=T1", "x="+strings.Repeat("y", postback.MaxBodyBytes-2)), reason: ""},
		{name: "text body", r: func() *http.Request {
			r := formRequest("/p", "click_id=abc")
			r.Header.Set("Content-Type", "text/plain")
			return r
		}(), reason: postback.ReasonMediaType},
		{name: "PUT", r: httptest.NewRequest(http.MethodPut, "/p?click_id=abc&event=ftd&txn_id=T1", nil), reason: postback.ReasonMethod},
		{name: "HEAD", r: httptest.NewRequest(http.MethodHead, "/p?click_id=abc&event=ftd&txn_id=T1", nil), reason: postback.ReasonMethod},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pb, err := src.ParseRequest(tt.r)
			if tt.reason != "" {
				require.Equal(t, tt.reason, postback.ReasonOf(err), "%v", err)
				return
			}
			require.NoError(t, err)
			if tt.check != nil {
				tt.check(t, pb)
			}
		})
	}
}

// countingReader counts the bytes read from it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestParseRequest_ReadsNoMoreThanTheLimit(t *testing.T) {
	t.Parallel()
	src := openSource(t, nil)
	cr := &countingReader{r: strings.NewReader("x=" + strings.Repeat("y", 10*postback.MaxBodyBytes))}
	r := httptest.NewRequest(http.MethodPost, "/p", cr)
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	_, err := src.ParseRequest(r)
	require.Equal(t, postback.ReasonBodyTooLarge, postback.ReasonOf(err))
	require.LessOrEqual(t, cr.n, postback.MaxBodyBytes+1+512)
}

func TestParseRequest_SignedForm(t *testing.T) {
	t.Parallel()
	c := &clock{t: t0}
	src := signedSource(t, c)
	key := postback.Key{Secret: secret}
	r := postbacktest.SignedFormRequest(t, "/postback?click_id=abc", "event=ftd&txn_id=T1&amount=5.00&currency=EUR", key, t0)
	pb, err := src.ParseRequest(r)
	require.NoError(t, err)
	require.Equal(t, "5.00 EUR", pb.Amount.String())

	// The body is signed with the query: changing it fails.
	r = postbacktest.SignedFormRequest(t, "/postback?click_id=abc", "event=ftd&txn_id=T1&amount=5.00&currency=EUR", key, t0)
	r.Body = io.NopCloser(strings.NewReader("event=ftd&txn_id=T1&amount=500.00&currency=EUR"))
	_, err = src.ParseRequest(r)
	require.Equal(t, postback.ReasonBadSignature, postback.ReasonOf(err))

	// A JSON body cannot be signed by the query scheme.
	_, err = src.ParseRequest(jsonRequest("/postback?"+sign(t, "/postback", "click_id=abc&event=ftd&txn_id=T1", key, t0), `{"amount":"5.00"}`))
	require.Equal(t, postback.ReasonMediaType, postback.ReasonOf(err))

	// ParseRequest signs the path as sent.
	r = postbacktest.SignedRequest(t, "/post%20back/x?click_id=abc&event=ftd&txn_id=T1", key, t0)
	_, err = src.ParseRequest(r)
	require.NoError(t, err)
}

func TestParseRequest_Token(t *testing.T) {
	t.Parallel()
	token := []byte("tok-0123456789abcdefghijklmnop")
	param, err := postback.NewSource("t", postback.Auth{Method: postback.MethodToken, Token: token}, nil)
	require.NoError(t, err)
	everflow, err := postback.Preset("everflow")
	require.NoError(t, err)
	everflow.DefaultCurrency = "USD"
	preset, err := postback.NewSource("ef", postback.Auth{Method: postback.MethodToken, Token: token}, &postback.SourceOptions{Dialect: everflow})
	require.NoError(t, err)
	header, err := postback.NewSource("h", postback.Auth{Method: postback.MethodToken, Token: token, TokenHeader: "X-Token"}, nil)
	require.NoError(t, err)

	withHeader := func(r *http.Request, v string) *http.Request { r.Header.Set("X-Token", v); return r }
	get := func(target string) *http.Request { return httptest.NewRequest(http.MethodGet, target, nil) }
	tests := []struct {
		name   string
		src    *postback.Source
		r      *http.Request
		reason postback.Reason
	}{
		{"param", param, get("/p?click_id=a&event=ftd&txn_id=T1&token=" + string(token)), ""},
		{"param missing", param, get("/p?click_id=a&event=ftd&txn_id=T1"), postback.ReasonMissingToken},
		{"param empty", param, get("/p?click_id=a&event=ftd&txn_id=T1&token="), postback.ReasonMissingToken},
		{"param wrong", param, get("/p?click_id=a&event=ftd&txn_id=T1&token=" + string(token) + "x"), postback.ReasonBadToken},
		{"param prefix", param, get("/p?click_id=a&event=ftd&txn_id=T1&token=" + string(token[:10])), postback.ReasonBadToken},
		{"param twice", param, get("/p?click_id=a&event=ftd&txn_id=T1&token=x&token=" + string(token)), postback.ReasonRepeatedKey},
		{"json with token in query", param, jsonRequest("/p?token="+string(token), `{"click_id":"a","event":"ftd","txn_id":"T1"}`), ""},
		{"json without token", param, jsonRequest("/p", `{"click_id":"a","event":"ftd","txn_id":"T1"}`), postback.ReasonMissingToken},
		{"preset token param", preset, get("/p?transaction_id=a&amount=1,5&verification_token=" + string(token)), ""},
		{"preset, generic name", preset, get("/p?transaction_id=a&token=" + string(token)), postback.ReasonMissingToken},
		{"header", header, withHeader(get("/p?click_id=a&event=ftd&txn_id=T1"), string(token)), ""},
		{"header missing, param given", header, get("/p?click_id=a&event=ftd&txn_id=T1&token=" + string(token)), postback.ReasonMissingToken},
		{"header wrong", header, withHeader(get("/p?click_id=a&event=ftd&txn_id=T1"), "nope"), postback.ReasonBadToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pb, err := tt.src.ParseRequest(tt.r)
			if tt.reason != "" {
				require.Equal(t, tt.reason, postback.ReasonOf(err), "%v", err)
				require.NotContains(t, err.Error(), string(token))
				return
			}
			require.NoError(t, err)
			for _, p := range pb.Extra {
				require.NotEqual(t, string(token), p.Value, "the token is not kept")
			}
		})
	}
}

func TestParseRequest_IPAllowlist(t *testing.T) {
	t.Parallel()
	src := openSource(t, &postback.SourceOptions{
		AllowIPs:       []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24"), netip.MustParsePrefix("2001:db8::/32")},
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
	})
	req := func(remote string, xff ...string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/p?click_id=a&event=ftd&txn_id=T1", nil)
		r.RemoteAddr = remote
		for _, x := range xff {
			r.Header.Add("X-Forwarded-For", x)
		}
		return r
	}
	tests := []struct {
		name string
		r    *http.Request
		ok   bool
	}{
		{"allowed peer", req("203.0.113.7:4321"), true},
		{"allowed IPv6 peer", req("[2001:db8::1]:443"), true},
		{"IPv4-mapped peer", req("[::ffff:203.0.113.7]:443"), true},
		{"other peer", req("198.51.100.1:4321"), false},
		{"XFF from an untrusted peer is ignored", req("198.51.100.1:4321", "203.0.113.7"), false},
		{"XFF from a trusted proxy", req("10.1.2.3:80", "203.0.113.7"), true},
		{"XFF: rightmost untrusted address counts", req("10.1.2.3:80", "203.0.113.7, 198.51.100.1"), false},
		{"XFF: spoofed left entry ignored", req("10.1.2.3:80", "198.51.100.1, 203.0.113.7"), true},
		{"XFF: proxies skipped", req("10.1.2.3:80", "203.0.113.7, 10.9.9.9"), true},
		{"XFF: several headers", req("10.1.2.3:80", "198.51.100.1", "203.0.113.7"), true},
		{"XFF: garbage", req("10.1.2.3:80", "not-an-ip"), false},
		{"proxy itself not allowed", req("10.1.2.3:80"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := src.ParseRequest(tt.r)
			if tt.ok {
				require.NoError(t, err)
			} else {
				require.Equal(t, postback.ReasonIPNotAllowed, postback.ReasonOf(err))
			}
		})
	}
}

// TestNewSource_ShortToken: a token under MinSecretLen bytes (Affise's "secure", say) is
// accepted only by an explicit opt-in, which warns when the source is built, and then works.
func TestNewSource_ShortToken(t *testing.T) {
	t.Parallel()
	short := []byte("affise-5ecure")
	require.Less(t, len(short), postback.MinSecretLen)
	aff, err := postback.Preset("affise")
	require.NoError(t, err)
	aff.DefaultCurrency = "USD"

	_, err = postback.NewSource("affise", postback.Auth{Method: postback.MethodToken, Token: short}, &postback.SourceOptions{Dialect: aff})
	require.ErrorIs(t, err, postback.ErrConfig)
	require.ErrorContains(t, err, "AllowShortToken")

	for name, auth := range map[string]postback.Auth{
		"empty token":                {Method: postback.MethodToken, AllowShortToken: true},
		"opt-in on a signing source": {Method: postback.MethodSignedQuery, Keys: []postback.Key{{Secret: secret}}, AllowShortToken: true},
		"a token on an open source":  {Method: postback.MethodNone, Token: short},
	} {
		_, err := postback.NewSource("s", auth, nil)
		require.ErrorIs(t, err, postback.ErrConfig, name)
	}

	logs := &syncBuffer{}
	src, err := postback.NewSource("affise", postback.Auth{Method: postback.MethodToken, Token: short, AllowShortToken: true},
		&postback.SourceOptions{Dialect: aff, Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	require.NoError(t, err)
	out := logs.String()
	require.Contains(t, out, `"level":"WARN"`)
	require.Contains(t, out, `"source":"affise"`)
	require.Contains(t, out, `"token_bytes":13`)
	require.NotContains(t, out, string(short), "the warning never carries the token")

	_, err = src.ParseRequest(httptest.NewRequest(http.MethodGet, "/postback?clickid=c1&action_id=A1&goal=reg&secure="+string(short), nil))
	require.NoError(t, err)
	_, err = src.ParseRequest(httptest.NewRequest(http.MethodGet, "/postback?clickid=c1&action_id=A1&goal=reg&secure=affise-5ecurf", nil))
	require.Equal(t, postback.ReasonBadToken, postback.ReasonOf(err))

	// A token of full length builds without a warning.
	logs = &syncBuffer{}
	_, err = postback.NewSource("t", postback.Auth{Method: postback.MethodToken, Token: secret, AllowShortToken: true},
		&postback.SourceOptions{Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	require.NoError(t, err)
	require.Empty(t, logs.String())
}
