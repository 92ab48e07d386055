package outbound_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/s2skit/s2s/outbound"
	"github.com/s2skit/s2s/store"
	"github.com/stretchr/testify/require"
)

// endless is a body of n bytes of b (endless if n < 0) that counts what was read from it.
type endless struct {
	b      byte
	n      int64
	read   int64
	closed bool
}

func (e *endless) Read(p []byte) (int, error) {
	if e.n >= 0 && e.read >= e.n {
		return 0, io.EOF
	}
	k := int64(len(p))
	if e.n >= 0 {
		k = min(k, e.n-e.read)
	}
	for i := range p[:k] {
		p[i] = e.b
	}
	e.read += k
	return int(k), nil
}

func (e *endless) Close() error { e.closed = true; return nil }

func respOf(body io.ReadCloser) *http.Response {
	return &http.Response{StatusCode: 200, Body: body}
}

func TestReadBody_Cap(t *testing.T) {
	t.Parallel()
	body := &endless{b: 'x', n: 10 << 20}
	s, truncated, err := outbound.ReadBody(respOf(body), 1000)
	require.NoError(t, err)
	require.True(t, truncated)
	require.Equal(t, strings.Repeat("x", 1000), s)
	require.LessOrEqual(t, body.read, int64(1001+512), "rule: a 10 MB body is not read past the cap")
	require.True(t, body.closed)

	// Exactly the cap is not truncated, and is read to its end.
	body = &endless{b: 'x', n: 1000}
	s, truncated, err = outbound.ReadBody(respOf(body), 1000)
	require.NoError(t, err)
	require.False(t, truncated)
	require.Len(t, s, 1000)

	// The default cap is the store's.
	body = &endless{b: 'x', n: -1}
	s, truncated, err = outbound.ReadBody(respOf(body), 0)
	require.NoError(t, err)
	require.True(t, truncated)
	require.Len(t, s, store.MaxTextLen)

	s, truncated, err = outbound.ReadBody(nil, 10)
	require.NoError(t, err)
	require.False(t, truncated)
	require.Empty(t, s)
}

// TestReadBody_HTTP: a 10 MB response from a real server is capped, and the client gets on
// with the next request.
func TestReadBody_HTTP(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := []byte(strings.Repeat("y", 64<<10))
		for range 160 { // 10 MiB
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	c := loopbackClient(nil)
	for range 3 {
		resp, err := get(t, c, srv.URL+"/")
		require.NoError(t, err)
		s, truncated, err := outbound.ReadBody(resp, store.MaxTextLen)
		require.NoError(t, err)
		require.True(t, truncated)
		require.Len(t, s, store.MaxTextLen)
	}
}

func TestReadBody_Text(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
		max        int
		want       string
		truncated  bool
	}{
		{"plain", "ok", 10, "ok", false},
		{"a character cut at the cap", "ab\u00e9", 3, "ab", true},
		{"a 4-byte character cut", "a\U0001F600", 4, "a", true},
		{"a whole character at the cap", "a\u00e9", 3, "a\u00e9", false},
		{"invalid bytes", "a\xffb", 10, "a\uFFFDb", false},
		{"NUL", "a\x00b", 10, "a\uFFFDb", false},
		{"replacements past the cap", strings.Repeat("a\xff", 10), 10, "a\uFFFDa\uFFFDa", true},
		{"replacement cut at the cap", "ab\xff\xff", 4, "ab", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, truncated, err := outbound.ReadBody(respOf(io.NopCloser(strings.NewReader(tt.body))), tt.max)
			require.NoError(t, err)
			require.Equal(t, tt.want, s)
			require.Equal(t, tt.truncated, truncated)
			require.True(t, utf8.ValidString(s))
			require.LessOrEqual(t, len(s), tt.max)
		})
	}
}

// FuzzReadBody: whatever the body and the cap, the text is valid UTF-8 without NUL, at most
// the cap, and a prefix of the body when the body was valid text.
func FuzzReadBody(f *testing.F) {
	f.Add([]byte("ab\u00e9"), 3)
	f.Add([]byte("a\x00\xff\xfe"), 2)
	f.Fuzz(func(t *testing.T, body []byte, max int) {
		if max <= 0 || max > 1<<16 {
			return
		}
		s, truncated, err := outbound.ReadBody(respOf(io.NopCloser(strings.NewReader(string(body)))), max)
		require.NoError(t, err)
		require.True(t, utf8.ValidString(s))
		require.NotContains(t, s, "\x00")
		require.LessOrEqual(t, len(s), max)
		if len(body) > max {
			require.True(t, truncated)
		}
		if utf8.Valid(body) && !strings.Contains(string(body), "\x00") {
			require.True(t, strings.HasPrefix(string(body), s))
			require.Greater(t, len(s)+utf8.UTFMax, min(len(body), max), "rule: only a cut character is dropped")
		}
	})
}
