package outbound_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/s2skit/s2s/outbound"
	"github.com/stretchr/testify/require"
)

func TestRedact(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		extra    []string
		want     string
	}{
		{"no query", "https://t.example/cb", nil, "https://t.example/cb"},
		{"signature and time", "https://t.example/cb?click_id=abc&ts=1780000000&kid=k1&sig=0f1e", nil,
			"https://t.example/cb?click_id=abc&ts=1780000000&kid=k1&sig=REDACTED"},
		{"tokens, keys, passwords", "https://t.example/p?token=t0k&api_key=k3y&secret=s&password=p&sub1=x&key=k&Access_Token=a", nil,
			"https://t.example/p?token=REDACTED&api_key=REDACTED&secret=REDACTED&password=REDACTED&sub1=x&key=REDACTED&Access_Token=REDACTED"},
		{"suffixes and dashes", "https://t.example/p?auth_token=1&client-secret=2&x_api_key=3&user_password=4&amount=5", nil,
			"https://t.example/p?auth_token=REDACTED&client-secret=REDACTED&x_api_key=REDACTED&user_password=REDACTED&amount=5"},
		{"configured", "https://t.example/p?secure=1&aff_pass=2&nid=3", []string{"AFF_PASS"},
			"https://t.example/p?secure=REDACTED&aff_pass=REDACTED&nid=3"},
		{"escaped name", "https://t.example/p?%74oken=abc&sub2=a%26b", nil, "https://t.example/p?%74oken=REDACTED&sub2=a%26b"},
		{"repeated", "https://t.example/p?sig=a&sig=b", nil, "https://t.example/p?sig=REDACTED&sig=REDACTED"},
		{"no value", "https://t.example/p?token&sub1=", nil, "https://t.example/p?token&sub1="},
		{"userinfo", "https://bob:hunter2@t.example/p", nil, "https://REDACTED@t.example/p"},
		{"fragment", "https://t.example/p#access_token=abc&x=1", nil, "https://t.example/p#access_token=REDACTED&x=1"},
		{"unparseable", "https://t.example/%zz?token=abc", nil, "REDACTED"},
		{"placeholder kept", "https://t.example/p?token=<secret:token>&a=1", nil, "https://t.example/p?token=REDACTED&a=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, outbound.Redact(tt.in, tt.extra...))
		})
	}
}

func TestRedactHeader(t *testing.T) {
	t.Parallel()
	h := http.Header{
		"Authorization":     {"Bearer abc"},
		"Cookie":            {"a=1", "b=2"},
		"Webhook-Signature": {"v1,xyz"},
		"Webhook-Id":        {"evt-1"},
		"X-Api-Key":         {"k"},
		"X-Postback-Token":  {"t"},
		"X-Affiliate":       {"42"},
		"Content-Type":      {"application/json"},
		"X-Custom":          {"c"},
	}
	got := outbound.RedactHeader(h, "x-custom")
	require.Equal(t, http.Header{
		"Authorization":     {"REDACTED"},
		"Cookie":            {"REDACTED", "REDACTED"},
		"Webhook-Signature": {"REDACTED"},
		"Webhook-Id":        {"evt-1"},
		"X-Api-Key":         {"REDACTED"},
		"X-Postback-Token":  {"REDACTED"},
		"X-Affiliate":       {"42"},
		"Content-Type":      {"application/json"},
		"X-Custom":          {"REDACTED"},
	}, got)
	require.Equal(t, "Bearer abc", h.Get("Authorization"), "rule: the original is not changed")
	got["Content-Type"][0] = "x"
	require.Equal(t, "application/json", h.Get("Content-Type"), "rule: the copy shares no slice")
	require.Nil(t, outbound.RedactHeader(nil))
}

func TestRedactSecrets(t *testing.T) {
	t.Parallel()
	sec := "s3cr3t/with&specials"
	echo := "error: bad request to /cb/" + url.PathEscape(sec) + "?token=" + url.QueryEscape(sec) + " (" + sec + ")"
	got := outbound.RedactSecrets(echo, sec, "")
	require.NotContains(t, got, "s3cr3t")
	require.Equal(t, "error: bad request to /cb/REDACTED?token=REDACTED (REDACTED)", got)
	// A secret inside another leaves nothing of the longer one.
	got = outbound.RedactSecrets("abc abcdef", "abc", "abcdef")
	require.Equal(t, "REDACTED REDACTED", got)
	require.Equal(t, "x", outbound.RedactSecrets("x"))
}

// FuzzRedact: a redacted URL never holds the value of a secret parameter, and keeps the
// others.
func FuzzRedact(f *testing.F) {
	f.Add("sig", "abcdef", "sub1", "x")
	f.Add("Token", "a b", "amount", "1.00")
	f.Fuzz(func(t *testing.T, secretName, secretVal, otherName, otherVal string) {
		if secretVal == "" || len(secretVal) < 4 || strings.Contains(outbound.Redacted, secretVal) {
			return
		}
		for _, name := range []string{"sig", "token", "api_key", "password", "secret"} {
			u := "https://t.example/cb?" + url.QueryEscape(otherName) + "=" + url.QueryEscape(otherVal) +
				"&" + name + "=" + url.QueryEscape(secretVal) + "&" + url.QueryEscape(secretName) + "=" + url.QueryEscape(secretVal)
			got := outbound.Redact(u, secretName)
			if strings.Contains(url.QueryEscape(otherVal), url.QueryEscape(secretVal)) || strings.Contains(url.QueryEscape(otherName), url.QueryEscape(secretVal)) ||
				strings.Contains("https://t.example/cb?", url.QueryEscape(secretVal)) || strings.Contains(url.QueryEscape(secretName), url.QueryEscape(secretVal)) ||
				strings.Contains(name, url.QueryEscape(secretVal)) {
				continue
			}
			if otherName == "" {
				continue
			}
			require.NotContains(t, got, url.QueryEscape(secretVal), "%s", u)
		}
	})
}
