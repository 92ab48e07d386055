package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/internal/pgtest"
	"github.com/s2skit/s2s/internal/proctest"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/outbound"
	"github.com/s2skit/s2s/store"
)

// trackerConfig is examples/tracker's sample configuration, which the operator test runs
// the tracker with: its source "casino" is this operator's.
const trackerConfig = "../tracker/config.json"

// casinoKey returns the key ID and secret of the sample configuration's source "casino",
// as the operator holds them.
func casinoKey(t *testing.T) (string, string) {
	t.Helper()
	b, err := os.ReadFile(trackerConfig)
	require.NoError(t, err)
	var cfg struct {
		Sources []struct {
			Name string
			Auth struct{ Keys []struct{ ID, Secret string } }
		}
	}
	require.NoError(t, json.Unmarshal(b, &cfg))
	for _, s := range cfg.Sources {
		if s.Name == "casino" && len(s.Auth.Keys) > 0 {
			return s.Auth.Keys[0].ID, s.Auth.Keys[0].Secret
		}
	}
	t.Fatal("the sample configuration has no signed source casino")
	return "", ""
}

// zeros is a randomness source of zero bytes: the worker's full-jitter backoff then draws
// its shortest wait (a second) every time, so a retry after the tracker's outage comes
// within a second, on the real clock that the tracker checks signatures by.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// freeAddr returns a loopback address that nothing listens on now, for a tracker that is
// started later: the operator's deliveries are rendered with the tracker's address before
// it runs.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// visitor is a browser: a cookie jar, redirects not followed.
func visitor(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// clickRef follows the tracker's tracking link of campaign for aff and returns the
// parameter of the landing URL it redirects to that carries the click (cid, or btag).
func clickRef(t *testing.T, tracker, campaign, aff, param string) string {
	t.Helper()
	resp, err := visitor(t).Get(tracker + "/click/" + campaign + "?aff=" + aff)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	v := loc.Query().Get(param)
	require.NotEmpty(t, v, "the landing URL %s carries the click in %s", loc, param)
	return v
}

// form posts a form and decodes the JSON answer.
func form(t *testing.T, c *http.Client, u string, vals url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := c.PostForm(u, vals)
	require.NoError(t, err)
	defer resp.Body.Close()
	var m map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&m))
	return resp.StatusCode, m
}

// TestOperator_AgainstTracker runs the casino against examples/tracker on loopback, each on
// PostgreSQL: a deposit's postback is written in the deposit's transaction, so a rolled-back
// deposit sends nothing, and a committed one arrives at the tracker exactly once, although
// the tracker is down when the casino's worker starts and comes up only after the worker
// has failed to reach it.
func TestOperator_AgainstTracker(t *testing.T) {
	trackerDB := pgtest.New(t) // the tracker's schema; skips t without PostgreSQL
	trackerBin := proctest.Build(t, "./examples/tracker")
	keyID, secret := casinoKey(t)
	addr := freeAddr(t)
	trackerArgs := []string{"-addr", addr, "-config", trackerConfig, "-db", trackerDB.URL,
		"-db-schema", trackerDB.Name, "-poll", "50ms"}

	// A tracker up for the clicks only: a visitor clicks an affiliate's links, signed click
	// ID and btag, then the tracker goes down.
	tr := proctest.Start(t, trackerBin, trackerArgs)
	cid := clickRef(t, tr.URL, "casino-summer", "aff-7", "cid")
	btag := clickRef(t, tr.URL, "casino-vip", "aff-8", "btag")
	tr.Stop(t)

	// The casino, on a database of its own, with its worker running while the tracker is down.
	db, err := sql.Open("pgx", proctest.Database(t))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	ctx, cancel := context.WithCancel(t.Context())
	c, err := newCasino(ctx, db, casinoOptions{
		Tracker: "http://" + addr + "/postback/casino", KeyID: keyID, Secret: secret,
		Client: outbound.NewClient(&outbound.ClientOptions{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}),
		Worker: outbound.WorkerOptions{Rand: zeros{}, PollInterval: 20 * time.Millisecond},
	})
	require.NoError(t, err)
	worked := make(chan error, 1)
	go func() { worked <- c.Run(ctx) }()
	t.Cleanup(func() { cancel(); require.ErrorIs(t, <-worked, context.Canceled) })
	site := httptest.NewServer(c.handler())
	t.Cleanup(site.Close)

	// Three players: one from the signed link, one from the btag, one from no affiliate.
	signup := func(landing string) string {
		v := visitor(t)
		resp, err := v.Get(site.URL + landing)
		require.NoError(t, err)
		resp.Body.Close()
		code, m := form(t, v, site.URL+"/signup", url.Values{"deposit_limit": {"1000.00"}})
		require.Equal(t, http.StatusCreated, code, "%v", m)
		return m["player_id"].(string)
	}
	pSigned := signup("/?click_id=" + url.QueryEscape(cid))
	pBtag := signup("/?btag=" + url.QueryEscape(btag))
	pNone := signup("/")
	var refs [3]string
	for i, p := range []string{pSigned, pBtag, pNone} {
		require.NoError(t, db.QueryRowContext(t.Context(), "SELECT ref_param FROM casino.players WHERE id = $1", p).Scan(&refs[i]))
	}
	require.Equal(t, [3]string{"click_id", "btag", ""}, refs, "rule: the player keeps the reference it landed with")

	deposit := func(player, id, amount string) (int, map[string]any) {
		return form(t, http.DefaultClient, site.URL+"/deposit", url.Values{"player_id": {player}, "deposit_id": {id}, "amount": {amount}})
	}
	// Over the deposit limit: the wallet's credit fails after the postback was enqueued, and
	// the transaction rolls it back with the deposit.
	code, _ := deposit(pSigned, "dep-over", "5000.00")
	require.Equal(t, http.StatusUnprocessableEntity, code)
	_, err = c.outbox.GetConversionByKey(t.Context(), "deposit:dep-over")
	require.ErrorIs(t, err, store.ErrNotFound, "rule: a rolled-back deposit leaves no postback")

	code, m := deposit(pSigned, "dep-1", "150.00")
	require.Equal(t, http.StatusCreated, code, "%v", m)
	require.Equal(t, "ftd", m["event"])
	code, m = deposit(pSigned, "dep-1", "150.00")
	require.Equal(t, http.StatusOK, code, "the provider's retried callback")
	require.Equal(t, true, m["duplicate"])
	code, m = deposit(pSigned, "dep-2", "30.00")
	require.Equal(t, http.StatusCreated, code)
	require.Equal(t, "deposit", m["event"])
	code, _ = deposit(pBtag, "dep-3", "100.00")
	require.Equal(t, http.StatusCreated, code)
	code, m = deposit(pNone, "dep-4", "50.00")
	require.Equal(t, http.StatusCreated, code)
	require.Nil(t, m["postback"], "rule: a player from no affiliate is reported to nobody")

	// The tracker is down: the worker tries each postback and fails to connect.
	proctest.Eventually(t, func() bool {
		ds, err := c.outbox.ListDeliveries(t.Context(), store.ListDeliveriesParams{Status: store.DeliveryPending})
		require.NoError(t, err)
		tried := 0
		for _, d := range ds {
			if len(d.Attempts) > 0 && d.Attempts[0].StatusCode == 0 {
				tried++
			}
		}
		return len(ds) == 3 && tried == 3
	}, "the worker tries the three postbacks while the tracker is down")

	// The tracker comes back on its address: the retries reach it.
	tr = proctest.Start(t, trackerBin, trackerArgs)
	proctest.Eventually(t, func() bool {
		ds, err := c.outbox.ListDeliveries(t.Context(), store.ListDeliveriesParams{Status: store.DeliveryDelivered})
		require.NoError(t, err)
		return len(ds) == 3
	}, "the three postbacks are delivered once the tracker is up")

	// The tracker received each postback exactly once: one inbound record each, accepted,
	// and one conversion per deposit, attributed by the click or the btag.
	tst, _ := trackerDB.Open(t)
	inbound, err := tst.ListInbound(t.Context(), store.ListInboundParams{Source: "casino"})
	require.NoError(t, err)
	require.Len(t, inbound, 3, "rule: each committed postback arrives once, and the rolled-back one never")
	for _, r := range inbound {
		require.Equal(t, "accepted", r.Outcome, "%+v", r)
		require.Equal(t, http.StatusAccepted, r.HTTPStatus)
	}
	want := map[string]struct {
		aff string
		ev  event.Type
		amt money.Amount
	}{
		"dep-1": {"aff-7", event.FTD, money.MustParse("150.00", money.EUR)},
		"dep-2": {"aff-7", event.Deposit, money.MustParse("30.00", money.EUR)},
		"dep-3": {"aff-8", event.FTD, money.MustParse("100.00", money.EUR)},
	}
	for txn, w := range want {
		cs, err := tst.ListConversionsByTransaction(t.Context(), store.ListConversionsByTransactionParams{Source: "casino", TransactionID: txn})
		require.NoError(t, err)
		require.Len(t, cs, 1, "rule: deposit %s is one conversion", txn)
		require.Equal(t, w.aff, cs[0].AffiliateID, "rule: deposit %s is attributed through the player's reference", txn)
		require.Equal(t, w.ev, cs[0].Event)
		require.Equal(t, w.amt, cs[0].Amount)
	}
	for _, txn := range []string{"dep-over", "dep-4"} {
		cs, err := tst.ListConversionsByTransaction(t.Context(), store.ListConversionsByTransactionParams{Source: "casino", TransactionID: txn})
		require.NoError(t, err)
		require.Empty(t, cs, "rule: deposit %s was never sent", txn)
	}
	var deposits int
	require.NoError(t, db.QueryRowContext(t.Context(), "SELECT count(*) FROM casino.deposits").Scan(&deposits))
	require.Equal(t, 4, deposits, "the casino's own rows: the refused deposit is not among them")
	tr.Stop(t)
}

// TestCaptureRef: the middleware keeps a landing URL's click_id or btag in a cookie, gives
// it to the request's handlers then and on later visits, and ignores a value that is not a
// click ID.
func TestCaptureRef(t *testing.T) {
	t.Parallel()
	var got reference
	h := captureRef(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = r.Context().Value(refKey{}).(reference)
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, tc := range []struct {
		landing string
		want    reference
	}{
		{"/?click_id=abc.DEF-1", reference{"click_id", "abc.DEF-1"}},
		{"/?btag=a_42b_7c_%3B%22%2C", reference{"btag", `a_42b_7c_;",`}}, // cookie-hostile bytes survive
		{"/?click_id=" + strings.Repeat("x", 2000), reference{}},         // too long: ignored
		{"/?click_id=a%20b", reference{}},                                // a space: mangled, ignored
		{"/?click_id=a&click_id=b", reference{}},                         // repeated: ignored
		{"/", reference{}},
	} {
		v := visitor(t)
		got = reference{}
		resp, err := v.Get(srv.URL + tc.landing)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, tc.want, got, "landing %.40s", tc.landing)
		got = reference{}
		resp, err = v.Get(srv.URL + "/signup")
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, tc.want, got, "rule: a later request of the visitor has the landing's reference (%.40s)", tc.landing)
	}
	// A later landing with another reference replaces it (the last click is the tracker's
	// to weigh: it gets what the visitor came with last).
	v := visitor(t)
	for _, l := range []string{"/?click_id=first", "/?btag=second"} {
		resp, err := v.Get(srv.URL + l)
		require.NoError(t, err)
		resp.Body.Close()
	}
	require.Equal(t, reference{"btag", "second"}, got)
}

// TestOperator_ConcurrentCallbacks: the payment provider's callbacks, all at once: twenty
// copies of one deposit record it once with one postback, and twenty distinct first
// deposits of one player make one FTD (the player's row is locked while its deposit is
// counted), each with its postback.
func TestOperator_ConcurrentCallbacks(t *testing.T) {
	db, err := sql.Open("pgx", proctest.Database(t))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	c, err := newCasino(t.Context(), db, casinoOptions{Tracker: "https://tracker.example/postback/casino", KeyID: "k1", Secret: strings.Repeat("s", 32)})
	require.NoError(t, err)
	ref := reference{Param: "click_id", Value: "trk-1"}
	limit := money.MustParse("100000.00", money.EUR)
	require.NoError(t, c.signup(t.Context(), player{ID: "p-1", Ref: ref, DepositLimit: limit}))
	require.NoError(t, c.signup(t.Context(), player{ID: "p-2", Ref: ref, DepositLimit: limit}))

	const n = 20
	var wg sync.WaitGroup
	res := make([]depositResult, 2*n)
	errs := make([]error, 2*n)
	for i := range n {
		wg.Go(func() {
			res[i], errs[i] = c.recordDeposit(t.Context(), deposit{ID: "same", PlayerID: "p-1", Amount: money.MustParse("10.00", money.EUR)})
		})
		wg.Go(func() {
			res[n+i], errs[n+i] = c.recordDeposit(t.Context(), deposit{ID: "d-" + strconv.Itoa(i), PlayerID: "p-2", Amount: money.MustParse("10.00", money.EUR)})
		})
	}
	wg.Wait()
	recorded, ftds := 0, 0
	for i := range 2 * n {
		require.NoError(t, errs[i])
		if i < n && !res[i].Duplicate {
			recorded++
		}
		if i >= n && res[i].Event == event.FTD {
			ftds++
		}
	}
	require.Equal(t, 1, recorded, "rule: copies of one deposit record it once")
	require.Equal(t, 1, ftds, "rule: a player's concurrent first deposits make one FTD")
	ds, err := c.outbox.ListDeliveries(t.Context(), store.ListDeliveriesParams{Status: store.DeliveryPending})
	require.NoError(t, err)
	require.Len(t, ds, 1+n, "rule: one postback per deposit recorded")
}
