package outbound_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/outbound"
)

// TestEndpoint_NoSecretInLogs: however an endpoint is printed or logged, its secrets and
// signing secret do not show; its JSON (the configuration) keeps them, unescaped.
func TestEndpoint_NoSecretInLogs(t *testing.T) {
	const token, whsec = "tok-9f8e7d6c5b4a39281706", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	ep := outbound.Endpoint{
		Name: "aff-42", URL: "https://tracker.example/cb?cid={foreign_click_id}&token={query_secret:token}&x=1",
		Secrets: map[string]string{"token": token},
		Signing: outbound.Signing{Scheme: outbound.SchemeStandardWebhooks, Secret: whsec},
	}
	require.NoError(t, ep.Compile())
	var logs bytes.Buffer
	l := slog.New(slog.NewJSONHandler(&logs, nil))
	l.Info("endpoint", "ep", ep, "ptr", &ep, "signing", ep.Signing)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("endpoint", "ep", ep)
	for _, s := range []string{
		logs.String(),
		fmt.Sprint(ep), fmt.Sprintf("%v %+v %#v %s", ep, ep, ep, ep),
		fmt.Sprintf("%v %+v %#v", &ep, &ep, &ep),
		fmt.Sprintf("%v %+v %#v", ep.Signing, ep.Signing, ep.Signing),
		fmt.Sprint([]outbound.Endpoint{ep}), fmt.Sprint(outbound.Endpoints{&ep}),
	} {
		require.NotContains(t, s, token, "rule: no secret in %q", s)
		require.NotContains(t, s, whsec, "rule: no signing secret in %q", s)
		require.NotContains(t, s, whsec[6:], "rule: no signing secret in %q", s)
	}
	require.Contains(t, logs.String(), `"name":"aff-42"`)
	require.Contains(t, logs.String(), `"secrets":["token"]`, "rule: a log names the secrets, not their values")

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	require.NoError(t, enc.Encode(ep))
	require.Contains(t, buf.String(), token, "rule: the JSON is the configuration: it keeps the secrets")
	require.Contains(t, buf.String(), "&token=", "rule: an encoder that does not escape HTML keeps & as it is")
	var back outbound.Endpoint
	require.NoError(t, json.Unmarshal(buf.Bytes(), &back))
	require.Equal(t, ep.URL, back.URL)
}
