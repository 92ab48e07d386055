package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s"
)

// TestPostbacks: what the command sends is what the tracker it measures accepts: a click
// through the tracking link, then each signed postback answered 202 once, and 200 (a
// duplicate) when sent again, so that the figures are of the path that records.
func TestPostbacks(t *testing.T) {
	var cfg s2s.Config
	require.NoError(t, json.Unmarshal([]byte(defaultConfig), &cfg))
	tr, err := s2s.New(nil, cfg, nil)
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("GET /click/{campaign}", tr.ClickHandler())
	mux.Handle("/postback/{source}", tr.PostbackHandler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	key, source, campaign, err := signing([]byte(defaultConfig))
	require.NoError(t, err)
	click, err := makeClick(srv.Listener.Addr().String(), campaign)
	require.NoError(t, err)
	l := &loader{postbacks: 20, dir: t.TempDir()}
	file, err := l.signPostbacks(key, source, click)
	require.NoError(t, err)
	f, err := os.Open(file)
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		for _, want := range []int{http.StatusAccepted, http.StatusOK} {
			resp, err := http.Get(srv.URL + sc.Text())
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, want, resp.StatusCode, "postback %d: %s", n, sc.Text())
		}
		n++
	}
	require.Equal(t, 20, n)
}
