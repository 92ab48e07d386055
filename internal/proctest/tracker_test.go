package proctest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/internal/pgtest"
	"github.com/s2skit/s2s/internal/proctest"
	"github.com/s2skit/s2s/postback"
	"github.com/s2skit/s2s/store"
	"github.com/s2skit/s2s/store/pgstore"
)

// sampleConfig is examples/tracker's sample configuration, relative to this package.
const sampleConfig = "../../examples/tracker/config.json"

// The sample configuration's source casino (s2s v1 signed queries), its signed-click
// campaign, and its endpoint, told of affiliate aff-42's conversions.
const (
	source   = "casino"
	campaign = "casino-summer"
	endpoint = "aff-42-tracker"
	aff      = "aff-42"
)

// casinoKey returns the sample configuration's key of source casino.
func casinoKey(t *testing.T, cfg map[string]any) postback.Key {
	t.Helper()
	for _, s := range cfg["sources"].([]any) {
		s := s.(map[string]any)
		if s["name"] == source {
			k := s["auth"].(map[string]any)["keys"].([]any)[0].(map[string]any)
			return postback.Key{ID: k["id"].(string), Secret: []byte(k["secret"].(string))}
		}
	}
	t.Fatalf("the sample configuration has no source %s", source)
	return postback.Key{}
}

// config writes the sample configuration with its endpoint sent to receiver (and edit
// applied to the endpoint) into a file of t's, and returns its path and the decoded file.
func config(t *testing.T, receiver string, edit func(ep map[string]any)) (string, map[string]any) {
	t.Helper()
	b, err := os.ReadFile(sampleConfig)
	require.NoError(t, err)
	var cfg map[string]any
	require.NoError(t, json.Unmarshal(b, &cfg))
	found := false
	for _, e := range cfg["endpoints"].([]any) {
		e := e.(map[string]any)
		if e["name"] == endpoint {
			e["url"] = receiver + "/pb?eid={event_id}&txn={transaction_id}&event={event}"
			e["allow_http"] = true
			if edit != nil {
				edit(e)
			}
			found = true
		}
	}
	require.True(t, found, "the sample configuration has endpoint %s", endpoint)
	b, err = json.Marshal(cfg)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "config.json")
	require.NoError(t, os.WriteFile(path, b, 0o600))
	return path, cfg
}

// receiver is the affiliate's tracker: it counts the postbacks it gets by event ID.
type receiver struct {
	*httptest.Server
	mu    sync.Mutex
	count map[string]int // event ID -> requests
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	r := &receiver{count: map[string]int{}}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.count[req.URL.Query().Get("eid")]++
		r.mu.Unlock()
	}))
	t.Cleanup(r.Close)
	return r
}

// counts returns a copy of the counts.
func (r *receiver) counts() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]int, len(r.count))
	for k, v := range r.count {
		out[k] = v
	}
	return out
}

// trackerArgs are the flags of a tracker on schema sch with configuration cfg, on a free
// loopback port, delivering to loopback.
func trackerArgs(sch pgtest.Schema, cfg string) []string {
	return []string{"-addr", "127.0.0.1:0", "-config", cfg, "-db", sch.URL, "-db-schema", sch.Name,
		"-allow-net", "127.0.0.0/8", "-poll", "50ms"}
}

// noRedirect is a client that returns a tracking link's redirect instead of following it.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// click follows the tracking link of aff at tracker p and returns the click ID the
// landing URL carries.
func click(t *testing.T, p *proctest.Proc) string {
	t.Helper()
	resp, err := noRedirect.Get(p.URL + "/click/" + campaign + "?aff=" + aff)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	cid := loc.Query().Get("cid")
	require.NotEmpty(t, cid, "the landing URL %s carries the click ID", loc)
	return cid
}

// ftdURL is the signed FTD postback of click cid, for transaction txn, at tracker base.
func ftdURL(t *testing.T, base string, key postback.Key, cid, txn string) string {
	t.Helper()
	q := url.Values{"click_id": {cid}, "player_id": {"player-" + txn}, "event": {"ftd"}, "txn_id": {txn},
		"amount": {"150.00"}, "currency": {"EUR"}}
	path := "/postback/" + source
	signed, err := postback.SignQuery(path, q.Encode(), key, time.Now())
	require.NoError(t, err)
	return base + path + "?" + signed
}

// send sends a postback and returns its answer's status, or 0 if there was none.
func send(u string) int {
	resp, err := http.Get(u)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// delivered returns the IDs of the deliveries that process p logged as delivered.
func delivered(p *proctest.Proc) map[string]bool {
	out := map[string]bool{}
	for _, l := range p.Lines("delivery attempted") {
		if l["status"] == string(store.DeliveryDelivered) {
			out[l["delivery"].(string)] = true
		}
	}
	return out
}

// allDeliveries returns every delivery of the store in status s.
func allDeliveries(t *testing.T, st *pgstore.Store, s store.DeliveryStatus) []store.Delivery {
	t.Helper()
	var out []store.Delivery
	p := store.ListDeliveriesParams{Status: s, Limit: 1000}
	for {
		ds, err := st.ListDeliveries(t.Context(), p)
		require.NoError(t, err)
		out = append(out, ds...)
		if len(ds) < p.Limit {
			return out
		}
		last := ds[len(ds)-1]
		p.After = store.Cursor{At: last.CreatedAt, ID: last.ID}
	}
}

// conversions returns every conversion of aff from the last hour on (fewer than 1000).
func conversions(t *testing.T, st *pgstore.Store) []store.Conversion {
	t.Helper()
	now := time.Now()
	cs, err := st.ListConversions(t.Context(), store.ListConversionsParams{AffiliateID: aff, From: now.Add(-time.Hour), To: now.Add(time.Hour), Limit: 1000})
	require.NoError(t, err)
	return cs
}

// TestTracker_TwoProcesses runs two examples/tracker processes, built with -race, on one
// PostgreSQL schema, behind no balancer: clicks and postbacks go to both, and every
// postback is sent four times, to both processes at once. Each conversion is recorded once,
// each delivery reaches the affiliate's tracker once per event ID, and both processes'
// workers delivered some.
func TestTracker_TwoProcesses(t *testing.T) {
	sch := pgtest.New(t)
	bin := proctest.Build(t, "./examples/tracker")
	rcv := newReceiver(t)
	cfg, raw := config(t, rcv.URL, nil)
	key := casinoKey(t, raw)
	procs := []*proctest.Proc{proctest.Start(t, bin, trackerArgs(sch, cfg)), proctest.Start(t, bin, trackerArgs(sch, cfg))}

	const n = 40
	cids := make([]string, n)
	for i := range cids {
		cids[i] = click(t, procs[i%2])
	}

	// Every postback four times, two to each process, all at once.
	var wg sync.WaitGroup
	codes := make([][4]int, n)
	for i := range n {
		txn := "TX-" + strconv.Itoa(i)
		for k := range 4 {
			u := ftdURL(t, procs[(i+k)%2].URL, key, cids[i], txn)
			wg.Go(func() { codes[i][k] = send(u) })
		}
	}
	wg.Wait()
	for i, cs := range codes {
		accepted := 0
		for _, c := range cs {
			require.Contains(t, []int{http.StatusAccepted, http.StatusOK}, c, "TX-%d: accepted or duplicate, answers %v", i, cs)
			if c == http.StatusAccepted {
				accepted++
			}
		}
		require.Equal(t, 1, accepted, "rule: of the copies of TX-%d, one is accepted and the others are duplicates (%v)", i, cs)
	}

	st, _ := sch.Open(t)
	var ids []string
	for i := range n {
		cs, err := st.ListConversionsByTransaction(t.Context(), store.ListConversionsByTransactionParams{Source: source, TransactionID: "TX-" + strconv.Itoa(i)})
		require.NoError(t, err)
		require.Len(t, cs, 1, "rule: TX-%d is recorded once", i)
		require.Equal(t, aff, cs[0].AffiliateID)
		ds, err := st.ListConversionDeliveries(t.Context(), store.ListConversionDeliveriesParams{ConversionID: cs[0].ID})
		require.NoError(t, err)
		require.Len(t, ds, 1, "rule: TX-%d has one delivery to the affiliate's tracker", i)
		ids = append(ids, ds[0].ID.String())
	}

	require.Len(t, conversions(t, st), n, "rule: the %d postbacks, sent %d times, are %d conversions", n, 4*n, n)
	proctest.Eventually(t, func() bool { return len(allDeliveries(t, st, store.DeliveryDelivered)) == n },
		"all %d deliveries are delivered", n)
	got := rcv.counts()
	require.Len(t, got, n, "the receiver got every event ID")
	for _, id := range ids {
		require.Equal(t, 1, got[id], "rule: event %s is delivered exactly once", id)
	}
	a, b := delivered(procs[0]), delivered(procs[1])
	require.NotEmpty(t, a, "rule: the first process's worker delivered some")
	require.NotEmpty(t, b, "rule: the second process's worker delivered some")
	for id := range a {
		require.False(t, b[id], "rule: delivery %s was delivered by one process, not both", id)
	}
	require.Equal(t, n, len(a)+len(b), "the two processes delivered all %d between them", n)
	t.Logf("deliveries: %d by the first process, %d by the second", len(a), len(b))
	for _, p := range procs {
		p.Stop(t)
	}
}

// TestTracker_Crash kills an examples/tracker process on PostgreSQL with SIGKILL while it
// answers postbacks, and starts it again: every postback that was answered 2xx is in the
// store with its ledger line and its delivery, and the restarted process sends them all.
//
// The endpoint delays its postbacks (send_delay) past the kill, so that the killed
// process leased none of them: what the restarted process sends is what the first one
// only wrote. (A worker killed with leases in hand is outbound's crash test: its leases
// lapse after WorkerOptions.LeaseFor, two minutes by default.)
func TestTracker_Crash(t *testing.T) {
	sch := pgtest.New(t)
	bin := proctest.Build(t, "./examples/tracker")
	rcv := newReceiver(t)
	const delay = 8 * time.Second
	cfg, raw := config(t, rcv.URL, func(ep map[string]any) { ep["send_delay"] = delay.String() })
	key := casinoKey(t, raw)
	p := proctest.Start(t, bin, trackerArgs(sch, cfg))

	const n = 300
	urls := make([]string, n)
	for i := range urls {
		urls[i] = ftdURL(t, p.URL, key, click(t, p), fmt.Sprintf("TX-%d", i))
	}

	// Eight senders send distinct FTDs until the process dies; it is killed after a second
	// of it, or once 100 are answered, with requests in flight.
	start := time.Now()
	var next, answered atomic.Int64
	var mu sync.Mutex
	ok := map[string]bool{} // the transactions answered 2xx
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				txn := fmt.Sprintf("TX-%d", i)
				c := send(urls[i])
				if c == 0 {
					return // the process is gone
				}
				if c >= 200 && c < 300 {
					mu.Lock()
					ok[txn] = true
					mu.Unlock()
					answered.Add(1)
				}
			}
		})
	}
	proctest.Eventually(t, func() bool { return answered.Load() >= 100 || time.Since(start) > time.Second },
		"the process answers postbacks")
	p.Kill(t)
	killed := time.Since(start)
	wg.Wait()
	require.Less(t, killed, delay, "the process was killed before any delivery was due")
	require.Empty(t, p.Lines("delivery attempted"), "the killed process attempted no delivery")
	require.NotEmpty(t, ok)
	t.Logf("killed after %s: %d postbacks answered 2xx, %d sent", killed.Round(time.Millisecond), len(ok), min(int(next.Load()), n))

	// Everything answered 2xx is in the store, whole.
	st, _ := sch.Open(t)
	want := map[string]bool{}
	for txn := range ok {
		cs, err := st.ListConversionsByTransaction(t.Context(), store.ListConversionsByTransactionParams{Source: source, TransactionID: txn})
		require.NoError(t, err)
		require.Len(t, cs, 1, "rule: %s, answered 2xx, is in the store", txn)
		lines, err := st.ListConversionLines(t.Context(), store.ListConversionLinesParams{ConversionID: cs[0].ID})
		require.NoError(t, err)
		require.NotEmpty(t, lines, "rule: %s's CPA line is in the store with it", txn)
		ds, err := st.ListConversionDeliveries(t.Context(), store.ListConversionDeliveriesParams{ConversionID: cs[0].ID})
		require.NoError(t, err)
		require.Len(t, ds, 1, "rule: %s's delivery is in the store with it", txn)
		want[ds[0].ID.String()] = true
	}

	// And nothing is half-written: a postback cut by the kill before its answer is stored
	// whole or not at all.
	all := conversions(t, st)
	require.GreaterOrEqual(t, len(all), len(ok))
	for _, c := range all {
		lines, err := st.ListConversionLines(t.Context(), store.ListConversionLinesParams{ConversionID: c.ID})
		require.NoError(t, err)
		ds, err := st.ListConversionDeliveries(t.Context(), store.ListConversionDeliveriesParams{ConversionID: c.ID})
		require.NoError(t, err)
		require.True(t, len(lines) > 0 && len(ds) == 1, "rule: conversion %s (%s) is whole: %d lines, %d deliveries", c.ID, c.TransactionID, len(lines), len(ds))
		want[ds[0].ID.String()] = true
	}

	// Restarted, the tracker sends every delivery the first process wrote.
	p = proctest.Start(t, bin, trackerArgs(sch, cfg))
	proctest.Eventually(t, func() bool {
		return len(allDeliveries(t, st, store.DeliveryPending)) == 0
	}, "the restarted tracker sends every pending delivery")
	got := rcv.counts()
	for id := range want {
		require.GreaterOrEqual(t, got[id], 1, "rule: delivery %s of a stored postback went out", id)
	}
	require.Empty(t, allDeliveries(t, st, store.DeliveryDead))
	p.Stop(t)
}
