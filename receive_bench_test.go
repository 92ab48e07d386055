package s2s_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s"
	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/internal/pgtest"
	"github.com/s2skit/s2s/postback"
	"github.com/s2skit/s2s/store"
	"github.com/s2skit/s2s/store/memstore"
)

// receiveConfig is the Receive benchmarks' configuration: one window, one signed source, and
// a CPA of 50 EUR on an FTD of at least 10 EUR, so that each postback is resolved to its
// click, attributed, paid one ledger line, counted once per player and bound.
const receiveConfig = `{
	"attribution": {"default": {"windows": {"default": "30d"}}},
	"sources": [{"name": "casino-x", "auth": {"method": "signed_query", "keys": [{"id": "k1", "secret": "a-secret-of-at-least-24-bytes!!"}]}}],
	"commission": {"default": [{"from": "2025-01-01T00:00:00Z", "plan": {"id": "cpa", "currency": "EUR", "rounding": "half_even",
		"cpa": {"amount": {"amount": "50.00", "currency": "EUR"}, "baseline": {"min_ftd": {"amount": "10.00", "currency": "EUR"}}}}}]}
}`

// receivePath is the path the Receive benchmarks' postbacks are signed for.
const receivePath = "/postback/casino-x"

// querySigner makes the benchmarks' input: the i-th FTD postback of a new player for a
// click, signed with the s2s v1 scheme as the sender signs it. It builds the canonical
// query directly (its parameters are already in order and need no escape) with a reused
// HMAC, so that the input costs one allocation (the query string, as net/http's parsed URL
// would hold it) and a few hundred nanoseconds, the same in the subject and the baseline.
// TestQuerySigner checks it against postback.SignQuery.
type querySigner struct {
	mac   hash.Hash
	click string
	ts    string
	buf   []byte
	sum   [sha256.Size]byte
}

func newQuerySigner(click string, at time.Time) *querySigner {
	return &querySigner{mac: hmac.New(sha256.New, seamKey.Secret), click: click, ts: strconv.FormatInt(at.Unix(), 10)}
}

// query returns the signed raw query of postback i.
func (s *querySigner) query(i uint64) string {
	b := append(s.buf[:0], "s2s-v1\n"+receivePath+"\n"...)
	n := len(b)
	b = append(b, "amount=100.00&click_id="...)
	b = append(b, s.click...)
	b = append(b, "&currency=EUR&event=ftd&kid=k1&player_id=p-"...)
	b = strconv.AppendUint(b, i, 10)
	b = append(b, "&ts="...)
	b = append(b, s.ts...)
	b = append(b, "&txn_id=t-"...)
	b = strconv.AppendUint(b, i, 10)
	s.mac.Reset()
	s.mac.Write(b)
	sum := s.mac.Sum(s.sum[:0])
	b = append(b, "&sig="...)
	b = hex.AppendEncode(b, sum)
	s.buf = b
	return string(b[n:])
}

// TestQuerySigner: the benchmarks' signer signs as postback.SignQuery does, so that what the
// benchmarks receive is what a sender sends.
func TestQuerySigner(t *testing.T) {
	t.Parallel()
	click := mustClickID(t).String()
	want, err := postback.SignQuery(receivePath, "amount=100.00&click_id="+click+"&currency=EUR&event=ftd&player_id=p-7&txn_id=t-7", seamKey, seamNow)
	require.NoError(t, err)
	got := newQuerySigner(click, seamNow).query(7)
	wv, err := url.ParseQuery(want)
	require.NoError(t, err)
	gv, err := url.ParseQuery(got)
	require.NoError(t, err)
	require.Equal(t, wv, gv, "rule: the benchmarks' postbacks are signed as SignQuery signs them")
}

// receiveFixture is a Tracker on memstore with receiveConfig, a click, and the source that
// parses and verifies its postbacks.
type receiveFixture struct {
	tr    *s2s.Tracker
	src   *postback.Source
	click string
}

func newReceiveFixture(tb testing.TB) *receiveFixture {
	tb.Helper()
	return newReceiveFixtureOn(tb, memstore.New(nil))
}

// newReceiveFixtureOn is newReceiveFixture on st.
func newReceiveFixtureOn(tb testing.TB, st store.Store) *receiveFixture {
	tb.Helper()
	var cfg s2s.Config
	if err := json.Unmarshal([]byte(receiveConfig), &cfg); err != nil {
		tb.Fatal(err)
	}
	tr, err := s2s.New(st, cfg, &s2s.Options{Now: func() time.Time { return seamNow }})
	if err != nil {
		tb.Fatal(err)
	}
	src, err := postback.NewSource("casino-x", postback.Auth{Method: postback.MethodSignedQuery, Keys: []postback.Key{seamKey}},
		&postback.SourceOptions{Now: func() time.Time { return seamNow }})
	if err != nil {
		tb.Fatal(err)
	}
	click := mustClickID(tb)
	if err := st.InsertClick(context.Background(), store.Click{ID: click, AffiliateID: "aff-1", CampaignID: "summer", CreatedAt: seamNow.Add(-time.Hour)}); err != nil {
		tb.Fatal(err)
	}
	return &receiveFixture{tr: tr, src: src, click: click.String()}
}

// receive parses, verifies and receives one postback, which must be accepted.
func (f *receiveFixture) receive(ctx context.Context, q string) error {
	pb, err := f.src.ParseQuery(receivePath, q)
	if err != nil {
		return err
	}
	res, err := f.tr.Receive(ctx, &pb)
	if err != nil {
		return err
	}
	if res.Outcome != postback.Accepted {
		return fmt.Errorf("outcome %s %s", res.Outcome, res.Reason)
	}
	return nil
}

// BenchmarkReceive is an FTD postback end to end in memory: parse and verify the signed
// query (Source.ParseQuery), then Tracker.Receive on memstore: resolve the click and the
// player's binding, decide (last click, in its window), compute the CPA from the player's
// counters, and record the conversion with its ledger line, counter increments and binding.
// The input is made by querySigner, as in BenchmarkReceiveBaseline; BenchmarkReceiveHarness
// is its cost alone. "parallel" is the same from b.RunParallel's goroutines (run with
// -cpu 1,2 for the scaling).
func BenchmarkReceive(b *testing.B) {
	b.Run("serial", func(b *testing.B) {
		f := newReceiveFixture(b)
		s := newQuerySigner(f.click, seamNow)
		ctx := b.Context()
		b.ReportAllocs()
		var i uint64
		for b.Loop() {
			i++
			if err := f.receive(ctx, s.query(i)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		f := newReceiveFixture(b)
		ctx := b.Context()
		var n atomic.Uint64
		b.ReportAllocs()
		b.RunParallel(func(p *testing.PB) {
			s := newQuerySigner(f.click, seamNow)
			for p.Next() {
				if err := f.receive(ctx, s.query(n.Add(1))); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// baseline is what a user writes instead of the Tracker for the same work, with maps under
// one mutex: url.ParseQuery, the s2s v1 HMAC checked with crypto/hmac, the timestamp's
// tolerance, the amount in cents, a UUIDv7 for the conversion; then, under the mutex, the
// click, the player's binding, the dedup key, the click's window, a CPA once per player,
// and the conversion with its reason and ledger line kept. It keeps no inbound log, counts
// no caps, and has none of the Tracker's strictness about the input.
type baseline struct {
	secret []byte
	now    func() time.Time

	mu       sync.Mutex
	clicks   map[string]baseClick
	bindings map[string]string // player → affiliate
	convs    map[string]*baseConversion
	paid     map[string]bool // players whose CPA was paid
}

type baseClick struct {
	affiliate, campaign string
	at                  time.Time
}

type baseConversion struct {
	id                                              uuid.UUID
	affiliate, campaign, player, txn, event, reason string
	cents                                           int64
	at                                              time.Time
	lines                                           []baseLine
}

type baseLine struct {
	id    uuid.UUID
	kind  string
	cents int64
}

var errBaseline = errors.New("baseline: refused")

func (s *baseline) receive(path, rawQuery string) error {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return err
	}
	for _, vs := range q {
		if len(vs) != 1 {
			return errBaseline
		}
	}
	sig, err := hex.DecodeString(q.Get("sig"))
	if err != nil {
		return err
	}
	q.Del("sig")
	mac := hmac.New(sha256.New, s.secret)
	mac.Write([]byte("s2s-v1\n" + path + "\n" + q.Encode()))
	if !hmac.Equal(mac.Sum(nil), sig) {
		return errBaseline
	}
	ts, err := strconv.ParseInt(q.Get("ts"), 10, 64)
	now := s.now()
	if err != nil || now.Sub(time.Unix(ts, 0)).Abs() > postback.DefaultTolerance {
		return errBaseline
	}
	units, frac, _ := strings.Cut(q.Get("amount"), ".")
	u, err1 := strconv.ParseInt(units, 10, 64)
	c, err2 := strconv.ParseInt(frac, 10, 64)
	if err1 != nil || err2 != nil || len(frac) != 2 || q.Get("currency") != "EUR" {
		return errBaseline
	}
	cents := u*100 + c
	id, err := uuid.NewV7()
	if err != nil {
		return err
	}
	player, txn, ev := q.Get("player_id"), q.Get("txn_id"), q.Get("event")
	key := "casino-x|" + ev + "|" + txn

	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.convs[key]; dup {
		return errBaseline
	}
	conv := &baseConversion{id: id, player: player, txn: txn, event: ev, cents: cents, at: now}
	click, ok := s.clicks[q.Get("click_id")]
	switch aff, bound := s.bindings[player]; {
	case bound:
		conv.affiliate, conv.reason = aff, "credited to affiliate "+strconv.Quote(aff)+" by the player's binding"
	case ok && now.Sub(click.at) <= 30*24*time.Hour:
		conv.affiliate, conv.campaign = click.affiliate, click.campaign
		conv.reason = fmt.Sprintf("credited to affiliate %q (campaign %q) by last click at %s, within its 30d window",
			click.affiliate, click.campaign, click.at.UTC().Format(time.RFC3339))
		s.bindings[player] = click.affiliate
	default:
		conv.reason = "nobody credited"
	}
	if conv.affiliate != "" && ev == "ftd" && cents >= 1000 && !s.paid[player] {
		lid, err := uuid.NewV7()
		if err != nil {
			return err
		}
		conv.lines = append(conv.lines, baseLine{id: lid, kind: "cpa", cents: 5000})
		s.paid[player] = true
	}
	s.convs[key] = conv
	return nil
}

func newBaseline(click string) *baseline {
	return &baseline{
		secret: seamKey.Secret, now: func() time.Time { return seamNow },
		clicks:   map[string]baseClick{click: {affiliate: "aff-1", campaign: "summer", at: seamNow.Add(-time.Hour)}},
		bindings: map[string]string{}, convs: map[string]*baseConversion{}, paid: map[string]bool{},
	}
}

// BenchmarkReceiveBaseline is BenchmarkReceive's work written by hand (see baseline), from
// the same input.
func BenchmarkReceiveBaseline(b *testing.B) {
	click := mustClickID(b).String()
	b.Run("serial", func(b *testing.B) {
		s, in := newBaseline(click), newQuerySigner(click, seamNow)
		b.ReportAllocs()
		var i uint64
		for b.Loop() {
			i++
			if err := s.receive(receivePath, in.query(i)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		s := newBaseline(click)
		var n atomic.Uint64
		b.ReportAllocs()
		b.RunParallel(func(p *testing.PB) {
			in := newQuerySigner(click, seamNow)
			for p.Next() {
				if err := s.receive(receivePath, in.query(n.Add(1))); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkReceiveHarness is the input's cost alone (querySigner), included in both figures
// above.
func BenchmarkReceiveHarness(b *testing.B) {
	in := newQuerySigner(mustClickID(b).String(), seamNow)
	b.ReportAllocs()
	var i uint64
	for b.Loop() {
		i++
		sinkQuery = in.query(i)
	}
}

var sinkQuery string

func mustClickID(tb testing.TB) clickid.ID {
	tb.Helper()
	id, err := clickid.New()
	if err != nil {
		tb.Fatal(err)
	}
	return id
}

// pgInFlight is how many postbacks the PostgreSQL benchmark has in flight at once.
const pgInFlight = 16

// BenchmarkReceivePostgres is durable postbacks on pgstore with pgInFlight in flight
// ("tracker": parse, verify and Receive, as BenchmarkReceive, each answered only once its
// conversion, ledger line, counters and binding are committed) beside what a user would
// otherwise write ("autocommit-insert": one autocommit INSERT per postback of the
// conversion's row, with the same values, into a table of the same columns, over
// pgInFlight connections), in the same run and database.
func BenchmarkReceivePostgres(b *testing.B) {
	sch := pgtest.New(b)
	// The postbacks are numbered across the runs of a sub-benchmark (b.N grows run by
	// run, on one schema), so that each is new.
	var trackerN, insertN atomic.Uint64
	parallel := func(b *testing.B, n *atomic.Uint64, each func(i uint64, s *querySigner) error, click string) {
		b.SetParallelism((pgInFlight + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
		b.ReportAllocs()
		b.RunParallel(func(p *testing.PB) {
			s := newQuerySigner(click, seamNow)
			for p.Next() {
				if err := each(n.Add(1), s); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	b.Run("tracker", func(b *testing.B) {
		st, _ := sch.Open(b)
		f := newReceiveFixtureOn(b, st)
		ctx := b.Context()
		parallel(b, &trackerN, func(i uint64, s *querySigner) error { return f.receive(ctx, s.query(i)) }, f.click)
	})
	b.Run("autocommit-insert", func(b *testing.B) {
		_, db := sch.Open(b)
		ctx := b.Context()
		if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+sch.Name+`.raw_conversions (
			id uuid PRIMARY KEY, dedup_key text NOT NULL UNIQUE, source text NOT NULL, event text NOT NULL, click_id uuid,
			player_id text NOT NULL, affiliate_id text NOT NULL, campaign_id text NOT NULL, transaction_id text NOT NULL,
			amount_minor bigint, amount_currency text, status text NOT NULL, occurred_at timestamptz NOT NULL,
			received_at timestamptz NOT NULL, decision_model text NOT NULL, decision_reason text NOT NULL)`); err != nil {
			b.Fatal(err)
		}
		insert := `INSERT INTO ` + sch.Name + `.raw_conversions VALUES ($1, $2, 'casino-x', 'ftd', $3, $4, 'aff-1', 'summer', $5, 10000, 'EUR', 'approved', $6, $6, 'last_click', $7)`
		click := mustClickID(b)
		parallel(b, &insertN, func(i uint64, _ *querySigner) error {
			n := strconv.FormatUint(i, 10)
			id, err := uuid.NewV7()
			if err != nil {
				return err
			}
			_, err = db.ExecContext(ctx, insert, id, "casino-x|ftd|t-"+n, uuid.UUID(click), "p-"+n, "t-"+n, seamNow,
				"credited to affiliate \"aff-1\" (campaign \"summer\") by last_click: last_click click "+click.String()+" is in its window")
			return err
		}, click.String())
	})
}
