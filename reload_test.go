package s2s_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s"
	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/store/memstore"
)

// TestTracker_SetConfig: a configuration replaced while postbacks are being received drops
// none of them, and each is paid by one configuration whole (50 EUR or 70 EUR, never a mix);
// an invalid configuration is refused, naming its field, and the running one stays.
func TestTracker_SetConfig(t *testing.T) {
	t.Parallel()
	st := memstore.New(nil)
	f := newFixture(t, st)
	var fifty, seventy s2s.Config
	require.NoError(t, json.Unmarshal([]byte(trackerConfig), &fifty))
	require.NoError(t, json.Unmarshal([]byte(strings.Replace(trackerConfig, `"50.00"`, `"70.00"`, 1)), &seventy))

	const n = 40
	clicks := make([]clickid.ID, n)
	for i := range clicks {
		clicks[i] = f.click(t, fmt.Sprintf("aff-%d", i%3+1), seamNow.Add(-2*time.Hour))
	}
	var wg sync.WaitGroup
	codes := make([]int, n)
	for i := range n {
		wg.Go(func() {
			q := ftd(clicks[i], fmt.Sprintf("p-%d", i), fmt.Sprintf("t-%d", i))
			codes[i] = f.send(t, q)
		})
	}
	wg.Go(func() {
		for i := range 20 {
			cfg := fifty
			if i%2 == 0 {
				cfg = seventy
			}
			if err := f.tr.SetConfig(cfg); err != nil {
				t.Errorf("SetConfig: %v", err)
			}
		}
	})
	wg.Wait()
	for i, c := range codes {
		require.Equal(t, http.StatusAccepted, c, "postback %d", i)
	}
	for a := 1; a <= 3; a++ {
		for _, l := range f.ledger(t, fmt.Sprintf("aff-%d", a)) {
			require.Contains(t, []string{"50.00 EUR", "70.00 EUR"}, l.Amount.String(), "rule: a postback is paid under one configuration")
		}
	}

	bad := fifty
	bad.Routes = []s2s.Route{{AffiliateID: "aff-1", Endpoints: []string{"nowhere"}}}
	err := f.tr.SetConfig(bad)
	require.ErrorIs(t, err, s2s.ErrInvalidConfig)
	require.ErrorContains(t, err, "routes[0].endpoints[0]")
	// The running configuration still routes aff-1's conversions to its tracker.
	before := len(f.pending(t))
	q := ftd(f.click(t, "aff-1", seamNow.Add(-2*time.Hour)), "p-after", "t-after")
	require.Equal(t, http.StatusAccepted, f.send(t, q))
	require.Len(t, f.pending(t), before+1, "rule: a refused configuration leaves the running one in place")
}

// TestTracker_SetConfigShared: one Config value handed to New and to SetConfig from many
// goroutines at once is the caller's still: the Tracker compiles copies of its endpoints, so
// that no two calls write the same endpoint (the race detector's rule), and the caller's
// endpoints are left as they were.
func TestTracker_SetConfigShared(t *testing.T) {
	t.Parallel()
	var cfg s2s.Config
	require.NoError(t, json.Unmarshal([]byte(trackerConfig), &cfg))
	require.NotEmpty(t, cfg.Endpoints, "the test needs endpoints to compile")
	tr, err := s2s.New(memstore.New(nil), cfg, nil)
	require.NoError(t, err)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if err := tr.SetConfig(cfg); err != nil {
				t.Errorf("SetConfig: %v", err)
			}
			if _, err := s2s.New(memstore.New(nil), cfg, nil); err != nil {
				t.Errorf("New: %v", err)
			}
		})
	}
	wg.Wait()
}
