package outbound_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/s2skit/s2s/outbound"
	"github.com/s2skit/s2s/postback"
	"github.com/stretchr/testify/require"
)

const (
	signQuery = "click_id=01j3st4z2efcd9y00w5mz4ypkb&event=ftd&amount=150.00&currency=EUR&txn_id=TX-99812"
	s2sSecret = "0123456789abcdef0123456789abcdef"
	// The Standard Webhooks known-answer vector (standard-webhooks libraries/go/webhook_test.go).
	swSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	swID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	swTS     = 1614265330
	swBody   = `{"test": 2432232314}`
	swSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

var signAt = time.Unix(1_780_000_000, 0)

func fixedNow() time.Time { return signAt }

// source returns a receiving s2s source with the outbound signing's key.
func source(t *testing.T, m postback.Method, kid string, secret []byte) *postback.Source {
	t.Helper()
	src, err := postback.NewSource("peer", postback.Auth{Method: m, Keys: []postback.Key{{ID: kid, Secret: secret}}},
		&postback.SourceOptions{Now: fixedNow})
	require.NoError(t, err)
	return src
}

// TestSigning_S2SV1_VerifiedByPostback: what one s2s signs, another s2s verifies, through
// postback.Source.ParseRequest, for GET and for a form POST; a changed byte is refused.
func TestSigning_S2SV1_VerifiedByPostback(t *testing.T) {
	t.Parallel()
	sg := outbound.Signing{Scheme: outbound.SchemeS2SV1, KeyID: "k2026", Secret: s2sSecret}
	src := source(t, postback.MethodSignedQuery, "k2026", []byte(s2sSecret))

	t.Run("GET", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodGet, "https://tracker.example/p%C3%A5th/cb?"+signQuery, nil)
		require.NoError(t, sg.Sign(req, "evt-1", nil, signAt))
		require.Contains(t, req.URL.RawQuery, "&kid=k2026&sig=")
		in := httptest.NewRequest(http.MethodGet, req.URL.RequestURI(), nil)
		pb, err := src.ParseRequest(in)
		require.NoError(t, err)
		require.Equal(t, "k2026", pb.KeyID)
		require.Equal(t, "TX-99812", pb.TransactionID)

		tampered := httptest.NewRequest(http.MethodGet, strings.Replace(req.URL.RequestURI(), "150.00", "151.00", 1), nil)
		_, err = src.ParseRequest(tampered)
		require.Equal(t, postback.ReasonBadSignature, postback.ReasonOf(err))
	})
	t.Run("form POST", func(t *testing.T) {
		body := []byte("amount=150.00&currency=EUR&txn_id=TX-99812")
		req := httptest.NewRequest(http.MethodPost, "https://tracker.example/cb?click_id=01j3st4z2efcd9y00w5mz4ypkb&event=ftd", nil)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		require.NoError(t, sg.Sign(req, "evt-1", body, signAt))
		in := httptest.NewRequest(http.MethodPost, req.URL.RequestURI(), strings.NewReader(string(body)))
		in.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		pb, err := src.ParseRequest(in)
		require.NoError(t, err)
		require.Equal(t, "TX-99812", pb.TransactionID)

		in = httptest.NewRequest(http.MethodPost, req.URL.RequestURI(), strings.NewReader("amount=999.00&currency=EUR&txn_id=TX-99812"))
		in.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		_, err = src.ParseRequest(in)
		require.Equal(t, postback.ReasonBadSignature, postback.ReasonOf(err), "rule: the body is signed with the query")
	})
	t.Run("JSON body refused", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodPost, "https://tracker.example/cb", nil)
		req.Header.Set("Content-Type", "application/json")
		err := sg.Sign(req, "evt-1", []byte(`{"a":1}`), signAt)
		require.ErrorIs(t, err, outbound.ErrSigning)
		require.Empty(t, req.URL.RawQuery, "rule: a refused request is not changed")
	})
	t.Run("query already signed", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodGet, "https://tracker.example/cb?"+signQuery+"&sig=00", nil)
		require.ErrorIs(t, sg.Sign(req, "evt-1", nil, signAt), outbound.ErrSigning)
	})
}

// TestSigning_StandardWebhooks_Vector: the published known answer, and the headers verified by
// postback's Standard Webhooks source.
func TestSigning_StandardWebhooks_Vector(t *testing.T) {
	t.Parallel()
	sg := outbound.Signing{Scheme: outbound.SchemeStandardWebhooks, Secret: swSecret}
	req := httptest.NewRequest(http.MethodPost, "https://tracker.example/hook", strings.NewReader(swBody))
	require.NoError(t, sg.Sign(req, swID, []byte(swBody), time.Unix(swTS, 0)))
	require.Equal(t, swID, req.Header.Get("webhook-id"))
	require.Equal(t, "1614265330", req.Header.Get("webhook-timestamp"))
	require.Equal(t, swSig, req.Header.Get("webhook-signature"))

	// Without the prefix, the same key.
	sg.Secret = strings.TrimPrefix(swSecret, "whsec_")
	require.NoError(t, sg.Sign(req, swID, []byte(swBody), time.Unix(swTS, 0)))
	require.Equal(t, swSig, req.Header.Get("webhook-signature"))
}

func TestSigning_StandardWebhooks_VerifiedByPostback(t *testing.T) {
	t.Parallel()
	key, err := postback.WebhookSecret(swSecret)
	require.NoError(t, err)
	src := source(t, postback.MethodStandardWebhooks, "", key)
	sg := outbound.Signing{Scheme: outbound.SchemeStandardWebhooks, Secret: swSecret}
	body := []byte(`{"click_id":"01j3st4z2efcd9y00w5mz4ypkb","event":"ftd","amount":"150.00","currency":"EUR","txn_id":"TX-99812"}`)
	req := httptest.NewRequest(http.MethodPost, "https://tracker.example/hook", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	require.NoError(t, sg.Sign(req, "0190f1e2-7a3b-7c4d-8e5f-6a7b8c9d0e1f", body, signAt))
	pb, err := src.ParseRequest(req)
	require.NoError(t, err)
	require.Equal(t, "TX-99812", pb.TransactionID)

	// One byte changed in the body is refused.
	req = httptest.NewRequest(http.MethodPost, "https://tracker.example/hook", strings.NewReader(strings.Replace(string(body), "150", "151", 1)))
	req.Header.Set("Content-Type", "application/json")
	require.NoError(t, sg.Sign(req, "0190f1e2-7a3b-7c4d-8e5f-6a7b8c9d0e1f", body, signAt))
	_, err = src.ParseRequest(req)
	require.Equal(t, postback.ReasonBadSignature, postback.ReasonOf(err))
}

func TestSigning_Validate(t *testing.T) {
	t.Parallel()
	short := "whsec_" + "c2hvcnQtc2VjcmV0" // "short-secret", 12 bytes
	tests := []struct {
		name    string
		s       outbound.Signing
		field   string // "" = valid
		signErr bool
	}{
		{"none", outbound.Signing{}, "", false},
		{"none with a secret", outbound.Signing{Secret: s2sSecret}, "signing", false},
		{"unknown scheme", outbound.Signing{Scheme: "hmac", Secret: s2sSecret}, "signing.scheme", false},
		{"s2s short secret", outbound.Signing{Scheme: outbound.SchemeS2SV1, Secret: s2sSecret[:postback.MinSecretLen-1]}, "signing.secret", false},
		{"s2s minimum secret", outbound.Signing{Scheme: outbound.SchemeS2SV1, Secret: s2sSecret[:postback.MinSecretLen]}, "", false},
		{"s2s bad key ID", outbound.Signing{Scheme: outbound.SchemeS2SV1, KeyID: "a b\n", Secret: s2sSecret}, "signing.key_id", false},
		{"sw short secret", outbound.Signing{Scheme: outbound.SchemeStandardWebhooks, Secret: short}, "signing.secret", false},
		{"sw not base64", outbound.Signing{Scheme: outbound.SchemeStandardWebhooks, Secret: "whsec_!!!"}, "signing.secret", false},
		{"sw key ID", outbound.Signing{Scheme: outbound.SchemeStandardWebhooks, KeyID: "k", Secret: swSecret}, "signing.key_id", false},
		{"sw", outbound.Signing{Scheme: outbound.SchemeStandardWebhooks, Secret: swSecret}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.s.Validate()
			req := httptest.NewRequest(http.MethodGet, "https://tracker.example/cb?a=1", nil)
			signErr := tt.s.Sign(req, "evt-1", nil, signAt)
			if tt.field == "" {
				require.NoError(t, err)
				require.NoError(t, signErr)
				return
			}
			require.ErrorIs(t, err, outbound.ErrSigning)
			require.Contains(t, err.Error(), ": "+tt.field+":")
			require.ErrorIs(t, signErr, outbound.ErrSigning, "rule: Sign refuses what Validate refuses")
			require.Equal(t, "a=1", req.URL.RawQuery)
			require.NotContains(t, err.Error(), tt.s.Secret, "rule: no secret in an error")
		})
	}
}

func TestSigning_StandardWebhooks_EventID(t *testing.T) {
	t.Parallel()
	sg := outbound.Signing{Scheme: outbound.SchemeStandardWebhooks, Secret: swSecret}
	for _, id := range []string{"", "a.b"} {
		req := httptest.NewRequest(http.MethodPost, "https://tracker.example/hook", nil)
		require.ErrorIs(t, sg.Sign(req, id, nil, signAt), outbound.ErrSigning, "id %q", id)
		require.Empty(t, req.Header.Get("webhook-signature"))
	}
}
