package s2s_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s"
	"github.com/s2skit/s2s/statuspage"
)

// TestTracker_StatusPage: the Tracker's status page refuses to be built without a word on
// authentication, and lists the running configuration's endpoints, as SetConfig changes them.
func TestTracker_StatusPage(t *testing.T) {
	t.Parallel()
	var cfg s2s.Config
	require.NoError(t, json.Unmarshal([]byte(trackerConfig), &cfg))
	tr, err := s2s.New(nil, cfg, nil)
	require.NoError(t, err)
	_, err = tr.StatusPage(nil)
	require.ErrorIs(t, err, statuspage.ErrNoAuth)

	page, err := tr.StatusPage(&statuspage.Options{Unauthenticated: true})
	require.NoError(t, err)
	get := func() string {
		w := httptest.NewRecorder()
		page.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/endpoints", nil))
		require.Equal(t, http.StatusOK, w.Code)
		return w.Body.String()
	}
	require.Contains(t, get(), "aff-1-tracker")

	cfg.Endpoints[0].Name = "renamed-tracker"
	cfg.Routes[0].Endpoints = []string{"renamed-tracker"}
	require.NoError(t, tr.SetConfig(cfg))
	body := get()
	require.Contains(t, body, "renamed-tracker", "rule: the page shows the running configuration")
	require.NotContains(t, body, "aff-1-tracker")
}
