package outbound_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/outbound"
)

func TestEndpoint_JSONRoundTrip(t *testing.T) {
	t.Parallel()
	e := outbound.Endpoint{
		Name: "aff-7", Dialect: "double_braces", Method: "POST",
		URL:  "https://trk.example.com/pb?c={{foreign_click_id}}&t={{query_secret:token}}",
		Body: `{"amount":{{amount}}}`, BodyType: "json", AllowHTTP: true,
		Secrets:   map[string]string{"token": "t0k3n-0123456789"},
		Signing:   outbound.Signing{Scheme: "standard-webhooks", KeyID: "k1", Secret: "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"},
		StatusMap: map[event.Status]string{event.StatusApproved: "1"},
		Zone:      "Europe/Malta", RetryClientErrors: true, Concurrency: 2, RatePerSecond: 10,
		SendDelay: 90 * time.Second,
	}
	b, err := json.Marshal(e)
	require.NoError(t, err)
	require.Contains(t, string(b), `"send_delay":"1m30s"`)
	var got outbound.Endpoint
	require.NoError(t, json.Unmarshal(b, &got))
	b2, err := json.Marshal(got)
	require.NoError(t, err)
	require.JSONEq(t, string(b), string(b2), "rule: an endpoint survives a JSON round trip")
	_, err = got.Delivery(testValues(), testNow)
	require.NoError(t, err, "rule: a decoded endpoint is compiled")
	require.Equal(t, 90*time.Second, got.SendDelay)
}

func TestEndpoint_JSONIsStrict(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ json, field, problem string }{
		{`{"name":"a","url":"https://h.example.com/","send_dealy":"1s"}`, "", `unknown field "send_dealy"`},
		{`{"name":"a","url":"https://h.example.com/","send_delay":"soon"}`, "send_delay", "Go duration"},
		{`{"name":"a","url":"https://h.example.com/","concurrency":"4"}`, "concurrency", "a JSON string"},
		{`{"name":"a","url":"https://h.example.com/?s={subacc4}"}`, "url", `unknown macro "subacc4"`},
		{`[1]`, "", "cannot unmarshal"},
	} {
		var e outbound.Endpoint
		err := json.Unmarshal([]byte(tt.json), &e)
		require.ErrorIs(t, err, outbound.ErrInvalidEndpoint, tt.json)
		var ee *outbound.EndpointError
		require.True(t, errors.As(err, &ee))
		require.Equal(t, tt.field, ee.Field, "%v", err)
		require.Contains(t, err.Error(), tt.problem)
		require.Equal(t, outbound.Endpoint{}, e, "rule: a failed decoding leaves the endpoint as it was")
	}
}

func TestEndpoints_JSON(t *testing.T) {
	t.Parallel()
	var es outbound.Endpoints
	require.NoError(t, json.Unmarshal([]byte(`[
		{"name":"a","url":"https://a.example.com/?c={foreign_click_id}"},
		{"name":"b","preset":"voluum","url":"https://b.example.com"}
	]`), &es))
	require.Len(t, es, 2)
	lookup := es.Lookup()
	b, ok := lookup("b")
	require.True(t, ok)
	d, err := b.Delivery(testValues(), testNow)
	require.NoError(t, err)
	require.Equal(t, "b", d.Endpoint)
	_, ok = lookup("c")
	require.False(t, ok)

	for _, tt := range []struct{ json, field, problem string }{
		{`[{"name":"a","url":"https://a.example.com/"},{"name":"b","url":"https://b.example.com/?s={subacc4}"}]`, "endpoints[1].url", "subacc4"},
		{`[{"name":"a","url":"https://a.example.com/"},{"name":"b","url":"http://b.example.com/"}]`, "endpoints[1].url", "http://"},
		{`[{"name":"a","url":"https://a.example.com/"},{"name":"a","url":"https://b.example.com/"}]`, "endpoints[1].name", "repeats endpoints[0].name"},
		{`[{"name":"a","url":"https://a.example.com/"},{"name":"b","urll":"x"}]`, "endpoints[1]", `unknown field "urll"`},
		{`[{"name":"a","url":"https://a.example.com/","status_map":{"approved":""}}]`, "endpoints[0].status_map.approved", "empty"},
		{`{}`, "endpoints", "cannot unmarshal"},
	} {
		var es outbound.Endpoints
		err := json.Unmarshal([]byte(tt.json), &es)
		require.ErrorIs(t, err, outbound.ErrInvalidEndpoint, tt.json)
		var ee *outbound.EndpointError
		require.True(t, errors.As(err, &ee))
		require.Equal(t, tt.field, ee.Field, "rule: the error names the field path: %v", err)
		require.Contains(t, err.Error(), tt.problem)
		require.Nil(t, es)
	}

	list := outbound.Endpoints{{Name: "x", URL: "https://x.example.com/"}, {Name: "x", URL: "https://y.example.com/"}}
	err = list.Compile()
	require.ErrorContains(t, err, "endpoints[1].name: repeats endpoints[0].name")
	list = outbound.Endpoints{{Name: "x", URL: "https://x.example.com/"}, {Name: "y", URL: "nope"}}
	require.ErrorContains(t, list.Compile(), "endpoints[1].url")
}
