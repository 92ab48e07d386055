package s2s

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/store"
)

// TestInboundParams: the parameters the inbound log keeps: the query as sent and the body,
// the values of secret parameters blanked (by their name, or the source's token parameter),
// a body that is neither form nor a flat JSON object only described; always text a store
// accepts.
func TestInboundParams(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, target, ctype, body string
		extra                     []string
		want                      string
	}{
		{"signed query", "/p?click_id=abc&ts=1&kid=k1&sig=deadbeef", "", "", nil, "click_id=abc&ts=1&kid=k1&sig=[redacted]"},
		{"secret names in any case", "/p?Token=x&api_key=y&Signature=z&client_secret=w&hash=h&pass=p&a=1", "", "", nil,
			"Token=[redacted]&api_key=[redacted]&Signature=[redacted]&client_secret=[redacted]&hash=[redacted]&pass=[redacted]&a=1"},
		{"encoded secret name", "/p?%73ig=abc&a=%41", "", "", nil, "%73ig=[redacted]&a=%41"},
		{"the source's token parameter", "/p?secure=s3cr3t&a=1", "", "", []string{"secure"}, "secure=[redacted]&a=1"},
		{"a key without value", "/p?sig&a=1", "", "", nil, "sig&a=1"},
		{"form body", "/p?ts=1", "application/x-www-form-urlencoded", "event=ftd&sig=abc", nil, "ts=1\nevent=ftd&sig=[redacted]"},
		{"json body", "/p", "application/json", `{"event":"ftd","amount":12.5,"token":"t0k3n","ok":true}`, nil,
			"\n" + `{"event":"ftd","amount":12.5,"token":"[redacted]","ok":true}`},
		{"nested json", "/p", "application/json", `{"a":{"token":"x"}}`, nil, "\n" + `(a body of 19 bytes, "application/json", not shown)`},
		{"other body", "/p", "text/plain", "token=x", nil, "\n" + `(a body of 7 bytes, "text/plain", not shown)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, tc.target, nil)
			r.Header.Set("Content-Type", tc.ctype)
			got := inboundParams(r, []byte(tc.body), tc.extra)
			require.Equal(t, tc.want, got)
			require.NoError(t, store.InboundRecord{ID: [16]byte{1}, ReceivedAt: seamTime, Outcome: "accepted", Params: got}.Validate())
		})
	}
}

var seamTime = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// TestStorableText: invalid UTF-8 and NUL become U+FFFD, and a long text is cut at a
// character's boundary to at most max bytes.
func TestStorableText(t *testing.T) {
	t.Parallel()
	require.Equal(t, "a\uFFFDb\uFFFDc", storableText("a\xffb\x00c", 100))
	long := strings.Repeat("é", store.MaxTextLen) // 2 bytes each
	got := storableText("x"+long, store.MaxTextLen)
	require.True(t, utf8.ValidString(got), "rule: cut at a character's boundary")
	require.Len(t, got, store.MaxTextLen-1)
	require.Equal(t, "abc", storableText("abc", 3))
	require.Equal(t, "ab", storableText("ab€", 4))
}
