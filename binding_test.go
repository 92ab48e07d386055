package s2s_test

import (
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/attribution"
	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/store"
)

// sendAll sends the postbacks qs at once, each from a goroutine of its own, and requires
// each to be accepted.
func sendAll(t *testing.T, f *fixture, qs []url.Values) {
	t.Helper()
	codes := make([]int, len(qs))
	var wg sync.WaitGroup
	for i := range qs {
		wg.Go(func() { codes[i] = f.send(t, qs[i]) })
	}
	wg.Wait()
	for i, code := range codes {
		require.Equal(t, http.StatusAccepted, code, "postback %d", i)
	}
}

// TestTracker_BindingConcurrent: 40 concurrent registrations of one player, each from a
// click of another affiliate, on both stores: exactly one binding is stored, with the
// conversion that made it, and every registration is credited to the affiliate of that
// binding: one by its click, the others by the binding. The binding is written in the
// conversion's own write: none of them leaves the player unbound or bound to another.
func TestTracker_BindingConcurrent(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st store.Store) {
		f, _ := newFixtureWith(t, st, reattributeConfig)
		const n = 40
		qs := make([]url.Values, n)
		clicks := map[clickid.ID]string{}
		for i := range qs {
			aff := fmt.Sprintf("aff-%d", i)
			click := f.click(t, aff, day(0).Add(-time.Hour))
			clicks[click] = aff
			qs[i] = playerEvent(event.Registration, click, "p-1", fmt.Sprintf("reg-%d", i), day(0))
		}
		sendAll(t, f, qs)

		b, err := st.GetBinding(t.Context(), "p-1")
		require.NoError(t, err, "rule: the player is bound")
		require.Equal(t, clicks[b.ClickID], b.AffiliateID, "the binding is one click's")
		byClick := 0
		for _, q := range qs {
			c := f.conversion(t, q)
			require.Equal(t, b.AffiliateID, c.AffiliateID, "rule: every registration is credited to the affiliate of the one binding")
			switch c.Decision.Code {
			case string(attribution.CodeClick):
				byClick++
				require.Equal(t, b.ClickID, c.ClickID, "rule: the conversion credited by its click is the one that bound the player")
			case string(attribution.CodeBinding):
			default:
				t.Fatalf("registration %s: decision %q", c.TransactionID, c.Decision.Code)
			}
		}
		require.Equal(t, 1, byClick, "rule: exactly one registration binds the player")
	})
}

// TestTracker_Rebind: re-attribution replaces the player's binding in the conversion's own
// write (RebindFrom), on both stores. A player bound to aff-1 and idle for longer than the
// campaign's span is bound to aff-2 by a deposit through aff-2's click, and follows aff-2
// from then on; of 20 concurrent re-attributing deposits through 20 affiliates' clicks, one
// rebinds the player and every other, refused its rebind (a *store.RebindError), is decided
// again from the new binding and credited to it.
func TestTracker_Rebind(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st store.Store) {
		f, _ := newFixtureWith(t, st, reattributeConfig)
		bound := func(player string) {
			t.Helper()
			first := f.click(t, "aff-1", day(0).Add(-time.Hour))
			require.Equal(t, http.StatusAccepted, f.send(t, playerEvent(event.Registration, first, player, player+"-reg", day(0))))
			require.Equal(t, http.StatusAccepted, f.send(t, playerEvent(event.Deposit, clickid.ID{}, player, player+"-dep", day(10))))
			b, err := st.GetBinding(t.Context(), player)
			require.NoError(t, err)
			require.Equal(t, "aff-1", b.AffiliateID)
		}

		t.Run("one", func(t *testing.T) {
			bound("p-one")
			second := f.click(t, "aff-2", day(50))
			q := playerEvent(event.Deposit, second, "p-one", "p-one-dep-2", day(55))
			require.Equal(t, http.StatusAccepted, f.send(t, q))
			require.Equal(t, "aff-2", f.conversion(t, q).AffiliateID)
			b, err := st.GetBinding(t.Context(), "p-one")
			require.NoError(t, err)
			require.Equal(t, "aff-2", b.AffiliateID, "rule: re-attribution rebinds the player")
			require.Equal(t, second, b.ClickID)
			require.True(t, b.BoundAt.Equal(day(55)), "rule: the new binding is of the event that made it")
			require.Equal(t, http.StatusOK, f.send(t, q), "rule: the retry is a duplicate")
			later := playerEvent(event.Deposit, clickid.ID{}, "p-one", "p-one-dep-3", day(56))
			require.Equal(t, http.StatusAccepted, f.send(t, later))
			c := f.conversion(t, later)
			require.Equal(t, "aff-2", c.AffiliateID, "rule: the player follows the new binding")
			require.Equal(t, string(attribution.CodeBinding), c.Decision.Code)
		})

		t.Run("concurrent", func(t *testing.T) {
			bound("p-many")
			const n = 20
			qs := make([]url.Values, n)
			for i := range qs {
				click := f.click(t, fmt.Sprintf("aff-new-%d", i), day(50))
				qs[i] = playerEvent(event.Deposit, click, "p-many", fmt.Sprintf("p-many-dep-%d", i), day(55))
			}
			sendAll(t, f, qs)
			b, err := st.GetBinding(t.Context(), "p-many")
			require.NoError(t, err)
			require.NotEqual(t, "aff-1", b.AffiliateID, "rule: one of them rebound the player")
			rebound := 0
			for _, q := range qs {
				c := f.conversion(t, q)
				require.Equal(t, b.AffiliateID, c.AffiliateID, "rule: every deposit is credited to the affiliate of the one binding")
				if c.Decision.Code == string(attribution.CodeReattributed) {
					rebound++
					require.Equal(t, b.ClickID, c.ClickID)
				} else {
					require.Equal(t, string(attribution.CodeBinding), c.Decision.Code)
				}
			}
			require.Equal(t, 1, rebound, "rule: exactly one re-attribution rebinds the player")
		})
	})
}
