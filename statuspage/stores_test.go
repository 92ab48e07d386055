package statuspage_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/internal/pgtest"
	"github.com/s2skit/s2s/statuspage"
	"github.com/s2skit/s2s/store"
	"github.com/s2skit/s2s/store/memstore"
)

// stores runs a test on memstore and, when S2S_TEST_POSTGRES_URL is set, on pgstore.
func stores(t *testing.T, run func(t *testing.T, st store.Store)) {
	t.Run("memstore", func(t *testing.T) {
		t.Parallel()
		run(t, memstore.New(nil))
	})
	t.Run("pgstore", func(t *testing.T) {
		t.Parallel()
		st, _ := pgtest.Store(t)
		run(t, st)
	})
}

// TestHandler_Stores shows the pages that read the store's listings by conversion on both
// stores: the timeline, and find by transaction.
func TestHandler_Stores(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st store.Store) {
		f := newFixtureOn(t, st)
		c := &client{t: t, h: f.handler(t, nil)}
		p := c.get("/timeline?id=" + f.conv.ID.String())
		require.Equal(t, http.StatusOK, p.code)
		assert.Equal(t, "200", rowWith(t, p.body, "accepted")[5], "the postback that recorded it")
		assert.NotContains(t, p.body, "bad_signature", "rule: another postback is not in the timeline")
		assert.Equal(t, "50.00 EUR", rowWith(t, p.body, "cpa.country")[5], "its ledger line")
		assert.Equal(t, "500", rowWith(t, p.body, "http_5xx")[4], "its dead delivery's attempt")
		assert.Contains(t, hrefs(p.body), "delivery?id="+f.pending.ID.String())
		for _, s := range []string{secretPath, secretToken, secretSig, "headersecret", "<script"} {
			assert.NotContains(t, p.body, s, "rule: no secret and no hostile markup in the timeline")
		}
		p = c.get("/find?source=src-1&q=" + url.QueryEscape(f.conv.TransactionID))
		assert.Contains(t, hrefs(p.body), "timeline?id="+f.conv.ID.String(), "find by (source, transaction ID)")
		p = c.get("/deliveries?status=dead")
		assert.Equal(t, "http_5xx", rowWith(t, p.body, f.dead.ID.String())[7])
	})
}

// TestHandler_ConcurrentReplays: of many concurrent Replay presses on one dead delivery
// (two tabs, a double click, two operators), exactly one replays it and the others are told
// it is no longer dead, while pages are read meanwhile.
func TestHandler_ConcurrentReplays(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st store.Store) {
		f := newFixtureOn(t, st)
		h := f.handler(t, nil)
		c, token := postSetup(t, h, "/deliveries?status=dead")
		const n = 16
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			notices = map[string]int{}
		)
		for i := range n {
			wg.Add(2)
			go func() {
				defer wg.Done()
				r := (&client{t: t, h: h, cookie: c.cookie}).post("/replay", url.Values{"id": {f.dead.ID.String()}, "csrf": {token}}, nil)
				_, notice, _ := strings.Cut(r.header.Get("Location"), "notice=")
				mu.Lock()
				notices[notice]++
				mu.Unlock()
			}()
			go func() {
				defer wg.Done()
				target := []string{"/deliveries?status=dead", "/deliveries?status=pending", "/timeline?id=" + f.conv.ID.String(), "/endpoints"}[i%4]
				r := (&client{t: t, h: h}).get(target)
				assert.Equal(t, http.StatusOK, r.code, target)
			}()
		}
		wg.Wait()
		assert.Equal(t, map[string]int{"replayed": 1, "not-dead": n - 1}, notices,
			"rule: of concurrent replays of one dead delivery exactly one replays it")
		d, err := st.GetDelivery(t.Context(), f.dead.ID)
		require.NoError(t, err)
		assert.Equal(t, store.DeliveryPending, d.Status)
	})
}

// TestHandler_EndpointFailureRate: the endpoint's page shows its failure rate over the
// window it names, from the store's count of attempts (store.ReportStore.CountAttempts):
// the fixture's one attempt, a 500, failed; a window that ends before it has none.
func TestHandler_EndpointFailureRate(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st store.Store) {
		f := newFixtureOn(t, st)
		c := &client{t: t, h: f.handler(t, nil)}
		p := c.get("/endpoint?name=" + f.endpoint)
		require.Equal(t, http.StatusOK, p.code)
		row := rowWith(t, p.body, "Failure rate")
		assert.Contains(t, row[0], "attempts that finished from "+f.clk.Now().Add(-statuspage.DefaultFailureWindow).UTC().Format("2006-01-02 15:04:05"),
			"rule: the failure rate names its window, with its clock")
		assert.Contains(t, row[0], "UTC")
		assert.Equal(t, "1 of 1 attempts failed (100.00%)", row[1])

		f.clk.t = f.clk.t.Add(statuspage.DefaultFailureWindow + time.Hour)
		p = c.get("/endpoint?name=" + f.endpoint)
		assert.Equal(t, "no attempts in this window", rowWith(t, p.body, "Failure rate")[1], "rule: an attempt before the window is not counted")

		_, err := statuspage.New(st, &statuspage.Options{Unauthenticated: true, FailureWindow: statuspage.MaxFailureWindow + 1})
		require.Error(t, err, "rule: a failure window past the longest is refused")
	})
}
