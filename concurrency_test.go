package s2s_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/store"
)

// TestTracker_ConcurrentFirstFTDs: one player's first deposits, sent at once as distinct
// transactions (an operator that retries with a new ID, or two deposits in one second),
// are all recorded, and exactly one CPA is paid for the player, on every store.
func TestTracker_ConcurrentFirstFTDs(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st store.Store) {
		f := newFixture(t, st)
		for round := range 5 {
			// An affiliate per round, under the fixture's cap of 10 FTDs a day.
			aff, player := fmt.Sprint("aff-", round), fmt.Sprint("p-", round)
			click := f.click(t, aff, seamNow.Add(-2*time.Hour))
			const n = 8
			codes := make([]int, n)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				wg.Go(func() {
					<-start
					codes[i] = f.send(t, ftd(click, player, fmt.Sprintf("TX-%d-%d", round, i)))
				})
			}
			close(start)
			wg.Wait()
			for _, code := range codes {
				require.Equal(t, http.StatusAccepted, code, "rule: every first deposit is recorded")
			}
			paid := 0
			for _, l := range f.ledger(t, aff) {
				require.Equal(t, player, l.PlayerID)
				paid++
			}
			require.Equal(t, 1, paid, "round %d: rule: concurrent first deposits of one player pay one CPA", round)
		}
	})
}
