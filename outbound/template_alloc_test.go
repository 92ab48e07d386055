//go:build !race

package outbound_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/outbound"
)

func TestTemplate_RenderAlloc(t *testing.T) {
	for _, tt := range []struct {
		name   string
		e      outbound.Endpoint
		allocs float64
	}{
		{"query macros", outbound.Endpoint{URL: benchURL, StatusMap: testStatusMap}, 1},
		{"every kind of value", outbound.Endpoint{
			URL:     "https://trk.example.com/p/{sub1}?e={event_id}&c={click_id}&a={amount}&m={amount:minor}&d={occurred_at}&z={received_at:date}&h={sha256:player_id}&x={sub9|none}&r={raw:affiliate_id}&t={query_secret:token}",
			Secrets: map[string]string{"token": "t0k3n-0123456789"}, Zone: "Europe/Malta",
		}, 1},
		{"a preset", outbound.Endpoint{Preset: "keitaro", URL: "https://trk.example.com"}, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := tt.e
			e.Name = "aff"
			require.NoError(t, e.Compile())
			v := benchValues()
			n := testing.AllocsPerRun(200, func() {
				if _, err := e.Delivery(v, testNow); err != nil {
					t.Fatal(err)
				}
			})
			require.Equal(t, tt.allocs, n, "rule: rendering a GET delivery allocates its URL and nothing else")
		})
	}
}
