package s2s_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s"
)

const (
	secretA = "a-secret-of-at-least-24-bytes!!"
	secretB = "another-secret-of-24-bytes-or-more"
	whsec   = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"       // 24 bytes of base64
	clickK  = "dGhlLWNsaWNrLXNpZ25pbmctc2VjcmV0LTMyLWJ5dGVz" // base64 of a 33-byte secret
)

// everySource is a source of each method and dialect form, with every field set somewhere.
const everySource = `[
	{"name": "casino-a", "auth": {"method": "signed_query", "keys": [
		{"id": "k1", "secret": "` + secretA + `", "not_after": "2027-01-01T00:00:00Z"},
		{"id": "k2", "secret": "` + secretB + `", "not_before": "2026-12-01T00:00:00Z"}]},
	 "dialect": "native", "click_kinds": ["signed", "token", "native"],
	 "tolerance": "2m0s", "allow_ips": ["203.0.113.0/24", "198.51.100.7"], "trusted_proxies": ["10.0.0.0/8"], "ok_body": "OK"},
	{"name": "net-b", "auth": {"method": "token", "token": "` + secretB + `", "token_param": "secure"}, "dialect": "cake", "default_currency": "USD"},
	{"name": "hooks", "auth": {"method": "standard_webhooks", "keys": [{"id": "w1", "secret": "` + whsec + `"}]},
	 "dialect": {"name": "acme", "click_id": ["cid"], "event": ["goal"], "amount": ["payout"], "currency": ["cur"], "transaction_id": ["tid"]}},
	{"name": "open", "auth": {"method": "none"}, "dialect": "voluum", "default_currency": "EUR"}
]`

// TestConfig_Sources_RoundTrip: a configuration with sources of every kind decodes, is
// valid, builds a Tracker, and encodes to JSON that decodes to the same Config, secrets
// included (it is the configuration).
func TestConfig_Sources_RoundTrip(t *testing.T) {
	t.Parallel()
	cfg := sourcesConfig(t, everySource+`, "clicks": {"keys": [{"id": 3, "secret": "`+clickK+`"}]}`)
	require.NoError(t, cfg.Validate())
	require.Len(t, cfg.Sources, 4)
	_, err := s2s.New(nil, cfg, nil)
	require.NoError(t, err)
	b, err := json.Marshal(cfg)
	require.NoError(t, err)
	for _, s := range []string{secretA, secretB, whsec, clickK} {
		require.Contains(t, string(b), s, "rule: the JSON is the configuration, secrets included")
	}
	var again s2s.Config
	require.NoError(t, json.Unmarshal(b, &again))
	require.Equal(t, cfg.Sources, again.Sources)
	b2, err := json.Marshal(again)
	require.NoError(t, err)
	require.JSONEq(t, string(b), string(b2))
	require.Contains(t, string(b), `"allow_ips":["203.0.113.0/24","198.51.100.7/32"]`)
	require.Contains(t, string(b), `"tolerance":"2m0s"`)
	require.Contains(t, string(b), `"click_kinds":["signed","token","native"]`)
}

// TestSource_NoSecretShown: fmt (%v, %+v, %s, %#v) and slog of a Config, its sources and
// their parts never show a secret or a token.
func TestSource_NoSecretShown(t *testing.T) {
	t.Parallel()
	cfg := sourcesConfig(t, everySource+`, "clicks": {"keys": [{"id": 3, "secret": "`+clickK+`"}]}`)
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	var shown []string
	for _, v := range []any{cfg.Sources, cfg.Sources[0], cfg.Sources[1], cfg.Sources[0].Auth, cfg.Sources[0].Auth.Keys[0]} {
		for _, verb := range []string{"%v", "%+v", "%s", "%#v"} {
			shown = append(shown, fmt.Sprintf(verb, v))
		}
		log.Info("source", "v", v)
	}
	log.Info("config", "config", cfg) // the whole Config too: its JSON would carry every secret
	shown = append(shown, fmt.Sprintf("%v %+v", cfg.Sources, &cfg.Sources[2]), logs.String())
	for _, s := range shown {
		for _, secret := range []string{secretA, secretB, whsec, clickK, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"} {
			require.NotContains(t, s, secret, "rule: no secret in fmt or slog")
		}
	}
	require.Contains(t, fmt.Sprint(cfg.Sources[0]), "casino-a")
	require.Contains(t, logs.String(), `"key_ids":["k1","k2"]`)
	require.Contains(t, logs.String(), `"endpoints":["aff-1-tracker"]`, "rule: a logged Config names its parts")
}

// TestConfig_Sources_Invalid: each broken rule of a source is refused, naming the field,
// and no error message carries the secret it concerns.
func TestConfig_Sources_Invalid(t *testing.T) {
	t.Parallel()
	signed := func(extra string) string {
		return `[{"name": "a", "auth": {"method": "signed_query", "keys": [{"id": "k1", "secret": "` + secretA + `"}]}` + extra + `}]`
	}
	for _, tc := range []struct {
		name, sources, field string
	}{
		{"no name", `[{"auth": {"method": "none"}}]`, "sources[0].name"},
		{"a slash in the name", `[{"name": "a/b", "auth": {"method": "none"}}]`, "sources[0].name"},
		{"names repeat", `[{"name": "a", "auth": {"method": "none"}}, {"name": "a", "auth": {"method": "none"}}]`, "sources[1].name"},
		{"no method", `[{"name": "a", "auth": {}}]`, "sources[0].auth.method"},
		{"unknown method", `[{"name": "a", "auth": {"method": "hmac"}}]`, "sources[0]: auth.method"},
		{"unknown field", `[{"name": "a", "auth": {"method": "none"}, "tolerence": "1s"}]`, "sources[0]: json: unknown field \"tolerence\""},
		{"short secret", `[{"name": "x", "auth": {"method": "signed_query", "keys": [{"id": "k1", "secret": "` + secretA + `"}, {"id": "k2", "secret": "short-secret"}]}}]`, "sources[0].auth.keys[1].secret"},
		{"no keys", `[{"name": "a", "auth": {"method": "signed_query"}}]`, "sources[0].auth.keys"},
		{"keys repeat", `[{"name": "a", "auth": {"method": "signed_query", "keys": [{"id": "k1", "secret": "` + secretA + `"}, {"id": "k1", "secret": "` + secretB + `"}]}}]`, "sources[0].auth.keys[1].id"},
		{"keys for none", `[{"name": "a", "auth": {"method": "none", "keys": [{"id": "k1", "secret": "` + secretA + `"}]}}]`, "sources[0].auth.keys"},
		{"webhook secret not base64", `[{"name": "a", "auth": {"method": "standard_webhooks", "keys": [{"id": "k1", "secret": "whsec_***` + secretA + `"}]}}]`, "sources[0].auth.keys[0].secret"},
		{"short token", `[{"name": "a", "auth": {"method": "token", "token": "abc123"}}]`, "sources[0].auth.token"},
		{"token for signed", `[{"name": "a", "auth": {"method": "signed_query", "token": "` + secretB + `", "keys": [{"id": "k1", "secret": "` + secretA + `"}]}}]`, "sources[0].auth.token"},
		{"unknown preset", signed(`, "dialect": "kaytaro"`), "sources[0].dialect"},
		{"bad inline dialect", signed(`, "dialect": {"clickid": ["c"]}`), "sources[0]: dialect"},
		{"preset without currency", signed(`, "dialect": "cake"`), "sources[0]"},
		{"unknown click kind", signed(`, "click_kinds": ["plain"]`), "sources[0]: click_kinds[0]"},
		{"signed kinds without keys", signed(`, "click_kinds": ["native", "token"]`), "sources[0].click_kinds[1]"},
		{"tolerance in ms", signed(`, "tolerance": "1500ms"`), "sources[0].tolerance"},
		{"bad tolerance", signed(`, "tolerance": "5 minutes"`), "sources[0]: tolerance"},
		{"bad allow ip", signed(`, "allow_ips": ["203.0.113.0/33"]`), "sources[0]: allow_ips[0]"},
		{"bad proxy", signed(`, "trusted_proxies": ["proxy.local"]`), "sources[0]: trusted_proxies[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			js := strings.TrimSuffix(strings.TrimSpace(trackerConfig), "}") + `, "sources": ` + tc.sources + `}`
			var cfg s2s.Config
			err := json.Unmarshal([]byte(js), &cfg)
			if err == nil {
				err = cfg.Validate()
			}
			require.ErrorIs(t, err, s2s.ErrInvalidConfig)
			require.Contains(t, err.Error(), tc.field, "rule: the error names the field")
			for _, s := range []string{secretA, secretB, "short-secret", "abc123", "short-click-secret"} {
				require.NotContains(t, err.Error(), s, "rule: no secret in an error")
			}
		})
	}
}

// TestConfig_Inbound: the inbound log's retention decodes from "30d" or a Go duration, and
// a negative or unknown field is refused.
func TestConfig_Inbound(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		inbound string
		ok      bool
	}{
		{`{"retention": "7d"}`, true},
		{`{"retention": "36h"}`, true},
		{`{}`, true},
		{`{"retention": "-1h"}`, false},
		{`{"retension": "7d"}`, false},
	} {
		js := strings.TrimSuffix(strings.TrimSpace(trackerConfig), "}") + `, "inbound": ` + tc.inbound + `}`
		var cfg s2s.Config
		err := json.Unmarshal([]byte(js), &cfg)
		if tc.ok {
			require.NoError(t, err, tc.inbound)
			require.NoError(t, cfg.Validate())
			continue
		}
		require.ErrorIs(t, err, s2s.ErrInvalidConfig, tc.inbound)
		require.Contains(t, err.Error(), "inbound")
	}
}
