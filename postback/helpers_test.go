package postback_test

import (
	"testing"
	"time"

	"github.com/s2skit/s2s/postback"
	"github.com/stretchr/testify/require"
)

var (
	secret  = []byte("s2s-test-secret-0123456789abcdef")
	secret2 = []byte("another-secret-for-rotation-42!!")
	t0      = time.Unix(1732350000, 0).UTC()
)

// clock is a settable clock for tests.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

func signedSource(t testing.TB, c *clock, keys ...postback.Key) *postback.Source {
	t.Helper()
	if len(keys) == 0 {
		keys = []postback.Key{{Secret: secret}}
	}
	src, err := postback.NewSource("test", postback.Auth{Method: postback.MethodSignedQuery, Keys: keys},
		&postback.SourceOptions{Now: c.Now})
	require.NoError(t, err)
	return src
}

func newHandler(t testing.TB, src *postback.Source, recv postback.Receiver, opts *postback.HandlerOptions) *postback.Handler {
	t.Helper()
	h, err := postback.NewHandler(src, recv, opts)
	require.NoError(t, err)
	return h
}

func sign(t testing.TB, path, q string, key postback.Key, at time.Time) string {
	t.Helper()
	s, err := postback.SignQuery(path, q, key, at)
	require.NoError(t, err)
	return s
}
