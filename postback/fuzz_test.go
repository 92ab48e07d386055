package postback_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/s2skit/s2s/attribution"
	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/postback"
	"github.com/s2skit/s2s/store"
	"github.com/stretchr/testify/require"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{pbQuery, "a=1&a=2", "a=%zz", "click_id={x}&event=ftd", "=", "&&", "a;b", "amount=-1&currency=EUR&click_id=a&event=reversal"} {
		f.Add(s)
	}
	src := openSource(f, nil)
	f.Fuzz(func(t *testing.T, q string) {
		pb, err := src.ParseQuery("/p", q)
		if err != nil {
			if postback.ReasonOf(err) == "" {
				t.Fatalf("error without a reason: %v", err)
			}
			return
		}
		if pb.ClickKind == postback.ClickNone && pb.PlayerID == "" {
			t.Fatal("accepted without click or player ID")
		}
	})
}

func FuzzCanonical(f *testing.F) {
	for _, s := range []string{pbQuery, "b=2&a=1", "a=x+y&b=x%20y", "id-type=1&id=2", "a=%c3%a9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		s1, err := postback.StringToSign("/p", q)
		if err != nil {
			return
		}
		// It agrees with a plain implementation over net/url.
		canon := s1[strings.LastIndexByte(s1, '\n')+1:]
		if want, ok := referenceCanonical(q); !ok || canon != want {
			t.Fatalf("canonical query of %q is %q, the reference gives %q (ok %v)", q, canon, want, ok)
		}
		// Idempotent: the canonical query is itself a query with the same canonical form.
		if len(canon) > postback.MaxQueryBytes {
			return // encoding can triple the length past the query limit
		}
		s2, err := postback.StringToSign("/p", canon)
		if err != nil {
			t.Fatalf("canonical query %q does not parse: %v", canon, err)
		}
		if s1 != s2 {
			t.Fatalf("not idempotent: %q then %q", s1, s2)
		}
	})
}

func FuzzVerify(f *testing.F) {
	f.Add(pbQuery, 0, byte(1))
	f.Add("click_id=a&event=ftd&sub1=x+y", 5, byte(0x20))
	c := &clock{t: t0}
	key := postback.Key{Secret: secret}
	src := signedSource(f, c, key)
	f.Fuzz(func(t *testing.T, q string, pos int, delta byte) {
		signed, err := postback.SignQuery("/p", q, key, t0)
		if err != nil {
			return
		}
		_, verr := src.ParseQuery("/p", signed)
		if r := postback.ReasonOf(verr); r == postback.ReasonBadSignature || r == postback.ReasonMissingSignature {
			t.Fatalf("a signed query fails verification: %v", verr)
		}
		if delta == 0 || len(signed) == 0 {
			return
		}
		if pos < 0 {
			pos = -pos
		}
		b := []byte(signed)
		b[pos%len(b)] ^= delta
		mutated := string(b)
		if _, err := src.ParseQuery("/p", mutated); err == nil {
			s1, err1 := postback.StringToSign("/p", mutated)
			s2, _ := postback.StringToSign("/p", signed)
			if err1 != nil || s1 != s2 || !sameSig(mutated, signed) {
				t.Fatalf("mutation accepted: %q -> %q", signed, mutated)
			}
		}
	})
}

// referenceCanonical is the s2s v1 canonical query (sig left out) written plainly with
// url.ParseQuery, for queries the parser accepts.
func referenceCanonical(q string) (string, bool) {
	vals, err := url.ParseQuery(q)
	if err != nil {
		return "", false
	}
	enc := func(s string) string {
		var b strings.Builder
		for i := range len(s) {
			c := s[i]
			if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
				b.WriteByte(c)
			} else {
				fmt.Fprintf(&b, "%%%02X", c)
			}
		}
		return b.String()
	}
	var keys []string
	for k, vs := range vals {
		if len(vs) != 1 {
			return "", false
		}
		if k != "sig" {
			keys = append(keys, k)
		}
	}
	// Sorted by encoded key; keys are distinct.
	slices.SortFunc(keys, func(a, b string) int { return strings.Compare(enc(a), enc(b)) })
	pairs := make([]string, len(keys))
	for i, k := range keys {
		pairs[i] = enc(k) + "=" + enc(vals.Get(k))
	}
	return strings.Join(pairs, "&"), true
}

// FuzzParse_StoreAccepts holds postback to the store's rules: every Postback that parsing
// accepts, from a GET query, a form POST or a JSON POST, through several dialects, maps into a
// store.Conversion (keyed by attribution's default dedup mode, which refuses none of them), a
// store.Click and a store.PlayerBinding that Validate accepts. A change on any side that lets
// the parser accept what a store refuses or attribution cannot key (a sender's retry of it
// would be answered 503 forever) fails here.
func FuzzParse_StoreAccepts(f *testing.F) {
	long := strings.Repeat("x", store.MaxKeyLen)
	// Sources, by index: 0 native, 1 Everflow, 2 Affise, 3 Keitaro, 4 Binom, 5 a custom
	// dialect, 6 a signing source; modes: 0 GET, 1 form POST, 2 JSON POST.
	for _, seed := range []struct {
		src, mode   uint8
		query, body string
	}{
		{0, 0, pbQuery + "&player_id=P-1&sub1=a&sub15=z&occurred_at=2026-11-20T10:00:00Z&status=pending", ""},
		{0, 0, "click_id=a&event=reversal&amount=-5.00&currency=EUR&txn_id=T", ""},
		{0, 0, "player_id=" + long + "&event=registration", ""},
		{0, 0, "player_id=p%00&event=registration", ""},
		{0, 0, "click_id=a&event=ftd&txn_id=1&sub1=%FF&sub2=" + strings.Repeat("s", store.MaxSubIDLen+1), ""},
		{0, 0, "click_id=a&event=ftd&txn_id=" + long + "x", ""},
		{0, 0, "click_id=a&event=%E2%82%AC&txn_id=T%C2%85", ""},
		{0, 0, "click_id=Cj0KCQiA-long_gclid.value~x&event=ftd&txn_id=1&occurred_at=0001-01-01T00:00:00Z", ""},
		{1, 0, "transaction_id=0f3a8e1b&amount=12,34&order_id=O-1&adv1=x", ""},
		{2, 0, "clickid=5f4dcc3b&action_id=A-1&goal=2&sum=50.00&status=5&custom_field15=cf", ""},
		{3, 0, "subid=3k4j&tid=R-1&payout=20&status=rebill&currency=usd&sub_id_1=s", ""},
		{4, 0, "cnv_id=7Xy9&payout=1.25&cnv_status=deposit_2&cnv_currency=EUR", ""},
		{5, 0, "c=x&p=p1&e=dep&a=1,50&t=T1&at=1732350000&s2=two", ""},
		{0, 1, "click_id=abc", "event=ftd&amount=5.00&currency=USD&txn_id=F1&sub2=b+c"},
		{0, 2, "", `{"click_id":"abc","event":"deposit","amount":12.5,"currency":"GBP","txn_id":"J1","sub1":true}`},
		{0, 2, "", `{"player_id":"p\u0085","event":"registration"}`},
	} {
		f.Add(seed.src, seed.mode, seed.query, seed.body)
	}
	dialects := []*postback.Dialect{postback.Native()}
	for _, name := range []string{"everflow", "affise", "keitaro", "binom"} {
		d, err := postback.Preset(name)
		require.NoError(f, err)
		d.DefaultCurrency = "USD"
		dialects = append(dialects, d)
	}
	dialects = append(dialects, &postback.Dialect{Name: "custom", ClickID: []string{"c"}, PlayerID: []string{"p"},
		Event: []string{"e"}, Amount: []string{"a"}, TransactionID: []string{"t"}, OccurredAt: []string{"at"},
		Subs: []string{"s1", "s2"}, DefaultEvent: event.Conversion, DefaultCurrency: "EUR", DecimalComma: true,
		Events: map[string]event.Type{"dep": event.Deposit, "reg": event.Registration}})
	signer, err := clickid.NewSigner(clickid.SignerKey{ID: 1, Secret: secret})
	require.NoError(f, err)
	var sources []*postback.Source
	for _, d := range dialects {
		sources = append(sources, openSource(f, &postback.SourceOptions{Dialect: d}))
	}
	// A signing source that takes every kind of click ID, verified tokens included.
	sources = append(sources, openSource(f, &postback.SourceOptions{ClickSigner: signer, ClickKinds: []postback.ClickKind{
		postback.ClickSigned, postback.ClickToken, postback.ClickNative, postback.ClickForeign}}))
	id := clickid.MustParse("01j3st4z2efcd9y00w5mz4ypkb")
	token, err := signer.SignToken(clickid.Token{ID: id, AffiliateID: "aff-42", CampaignID: "c"})
	require.NoError(f, err)
	f.Add(uint8(6), uint8(0), "event=registration&player_id=p1&click_id="+signer.Sign(id), "")
	f.Add(uint8(6), uint8(0), "event=ftd&txn_id=1&amount=1.00&currency=EUR&click_id="+token, "")
	f.Add(uint8(6), uint8(2), "", `{"event":"registration","click_id":"`+token+`"}`)
	f.Fuzz(func(t *testing.T, which, mode uint8, query, body string) {
		src := sources[int(which)%len(sources)]
		var pb postback.Postback
		var err error
		switch mode % 3 {
		case 0:
			pb, err = src.ParseQuery("/p", query)
		case 1:
			r := httptest.NewRequest(http.MethodPost, "/p", strings.NewReader(body))
			r.URL.RawQuery = query
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			pb, err = src.ParseRequest(r)
		case 2:
			r := httptest.NewRequest(http.MethodPost, "/p", strings.NewReader(body))
			r.Header.Set("Content-Type", "application/json")
			pb, err = src.ParseRequest(r)
		}
		if err != nil {
			if postback.ReasonOf(err) == "" {
				t.Fatalf("error without a reason: %v", err)
			}
			return
		}
		requireStorable(t, &pb)
	})
}

// requireStorable maps pb onto the store records that the attribution pipeline will write for
// it, the conversion through pb.Conversion itself and attribution's default dedup key, and
// checks that the store accepts each.
func requireStorable(t *testing.T, pb *postback.Postback) {
	t.Helper()
	// The affiliate is attribution's to find; a verified token says it.
	affiliate := "aff-1"
	if pb.ClickKind == postback.ClickToken {
		affiliate = pb.TokenAffiliateID
	}
	c := pb.Conversion()
	// The dedup key is attribution's: its default mode keys every postback that parsing
	// accepts (parsing refuses what it cannot key: an event that needs a transaction ID
	// without one).
	key, code := attribution.Dedup{}.Key(&c)
	if code != "" {
		t.Fatalf("attribution's default dedup mode refuses an accepted postback (%s)\n%+v", code, *pb)
	}
	c.ID, c.DedupKey, c.AffiliateID = uuid.UUID{0x01, 0x93}, key, affiliate // the receiver's to choose
	if err := c.Validate(); err != nil {
		t.Fatalf("the store refuses the conversion of an accepted postback: %v\n%+v", err, *pb)
	}
	click := store.Click{ID: clickid.MustParse("01j3st4z2efcd9y00w5mz4ypkb"), AffiliateID: affiliate,
		CampaignID: pb.TokenCampaignID, SubIDs: pb.SubIDs(), ForeignClickID: pb.ForeignClickID, CreatedAt: pb.ReceivedAt}
	if !pb.ClickID.IsZero() {
		click.ID = pb.ClickID
	}
	if err := click.Validate(); err != nil {
		t.Fatalf("the store refuses the click of an accepted postback: %v\n%+v", err, *pb)
	}
	if pb.PlayerID != "" {
		b := store.PlayerBinding{PlayerID: pb.PlayerID, AffiliateID: affiliate, CampaignID: pb.TokenCampaignID,
			ClickID: pb.ClickID, Method: store.BindByClick, BoundAt: pb.ReceivedAt}
		if err := b.Validate(); err != nil {
			t.Fatalf("the store refuses the player binding of an accepted postback: %v\n%+v", err, *pb)
		}
	}
}
