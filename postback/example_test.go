package postback_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/s2skit/s2s/attribution"
	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/postback"
	"github.com/s2skit/s2s/postback/postbacktest"
)

func ExampleSource_ParseQuery() {
	key := postback.Key{ID: "2026-11", Secret: []byte("s2s-test-secret-0123456789abcdef")}
	sentAt := time.Unix(1732350000, 0)
	src, err := postback.NewSource("casino-x", postback.Auth{Method: postback.MethodSignedQuery, Keys: []postback.Key{key}},
		&postback.SourceOptions{Now: func() time.Time { return sentAt.Add(2 * time.Second) }})
	if err != nil {
		log.Fatal(err)
	}
	// What the sender does.
	q, err := postback.SignQuery("/postback", "click_id=01j3st4z2efcd9y00w5mz4ypkb&event=ftd&amount=150.00&currency=EUR&txn_id=TX-1", key, sentAt)
	if err != nil {
		log.Fatal(err)
	}
	// What the receiver does.
	pb, err := src.ParseQuery("/postback", q)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(pb.ClickKind, pb.ClickID, pb.Event, pb.Amount, pb.TransactionID, pb.KeyID)

	_, err = src.ParseQuery("/postback", q+"&amount=1500.00")
	fmt.Println(postback.ReasonOf(err))
	// Output:
	// native 01j3st4z2efcd9y00w5mz4ypkb ftd 150.00 EUR TX-1 2026-11
	// repeated_key
}

func ExampleStringToSign() {
	s, err := postback.StringToSign("/postback", "event=ftd&click_id=abc&sub1=a+b&ts=1732350000&sig=00")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(s)
	// Output:
	// s2s-v1
	// /postback
	// click_id=abc&event=ftd&sub1=a%20b&ts=1732350000
}

func ExampleNewHandler() {
	src, err := postback.NewSource("voluum", postback.Auth{Method: postback.MethodNone}, &postback.SourceOptions{
		Dialect: func() *postback.Dialect { d, _ := postback.Preset("voluum"); return d }(),
	})
	if err != nil {
		log.Fatal(err)
	}
	pipeline := &postbacktest.Recorder{} // the attribution pipeline in production
	h, err := postback.NewHandler(src, pipeline, nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, target := range []string{
		"/postback?cid=abc123&payout=3.50&currency=EUR&txid=T1",
		"/postback?cid=abc123&payout=3.50&currency=EUR&txid=T1",
		"/postback?cid=abc123&payout=9.50&currency=EUR&txid=T1",
		"/postback?cid={cid}&payout=3.50&currency=EUR&txid=T2",
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, target, nil))
		fmt.Print(w.Code, " ", w.Body.String())
	}
	// Output:
	// 202 {"result":"accepted"}
	// 200 {"result":"duplicate"}
	// 409 {"result":"conflict"}
	// 422 {"result":"rejected","reason":"unfilled_macro"}
}

// A tracker that signs its click IDs accepts only signed IDs and verified tokens: a plain ID
// anyone could make, and a signed one cut short, are refused with their own reasons, and a
// token brings the affiliate and campaign it was signed with.
func ExampleSourceOptions_clickSigner() {
	signer, err := clickid.NewSigner(clickid.SignerKey{ID: 1, Secret: []byte("tracker-only-secret-0123456789ab")})
	if err != nil {
		log.Fatal(err)
	}
	src, err := postback.NewSource("casino-x", postback.Auth{Method: postback.MethodNone},
		&postback.SourceOptions{ClickSigner: signer})
	if err != nil {
		log.Fatal(err)
	}
	id := clickid.MustParse("01j3st4z2efcd9y00w5mz4ypkb")
	token, err := signer.SignToken(clickid.Token{ID: id, AffiliateID: "aff-42", CampaignID: "summer"})
	if err != nil {
		log.Fatal(err)
	}
	signed := signer.Sign(id)
	for _, click := range []string{signed, token, id.String(), signed[:len(signed)-1]} {
		pb, err := src.ParseQuery("/postback", "event=registration&player_id=P-1&click_id="+click)
		if err != nil {
			fmt.Println(postback.ReasonOf(err))
			continue
		}
		if pb.ClickKind == postback.ClickToken {
			fmt.Println(pb.ClickKind, pb.ClickID, "of", pb.TokenAffiliateID, pb.TokenCampaignID)
			continue
		}
		fmt.Println(pb.ClickKind, pb.ClickID)
	}
	// Output:
	// signed 01j3st4z2efcd9y00w5mz4ypkb
	// token 01j3st4z2efcd9y00w5mz4ypkb of aff-42 summer
	// native_click_id_not_accepted
	// foreign_click_id_not_accepted
}

// A postback's record is keyed by attribution's dedup policy (here the default): a retry has
// the key of its original, whenever it arrives; another event of the same transaction has
// another. An event that can happen more than once for a player needs a transaction ID.
func ExamplePostback_Conversion() {
	clock := time.Unix(1732350000, 0)
	src, err := postback.NewSource("casino-x", postback.Auth{Method: postback.MethodNone},
		&postback.SourceOptions{Now: func() time.Time { return clock }})
	if err != nil {
		log.Fatal(err)
	}
	key := func(q string) string {
		pb, err := src.ParseQuery("/postback", q)
		if err != nil {
			return string(postback.ReasonOf(err))
		}
		c := pb.Conversion()
		k, _ := attribution.Dedup{}.Key(&c) // or Decision.DedupKey, which Decision.Apply sets on c
		return k
	}
	deposit := key("click_id=abc&event=deposit&amount=50.00&currency=EUR&txn_id=D-7")
	clock = clock.Add(10 * time.Minute)
	retry := key("click_id=abc&event=deposit&amount=50.00&currency=EUR&txn_id=D-7")
	reversal := key("click_id=abc&event=reversal&amount=-50.00&currency=EUR&txn_id=D-7")
	fmt.Println(deposit == retry, deposit == reversal)

	// A registration is once per player: no transaction ID needed.
	fmt.Println(key("click_id=abc&player_id=P-1&event=registration")[:3])
	fmt.Println(key("click_id=abc&player_id=P-1&event=deposit&amount=50.00&currency=EUR"))
	// Output:
	// true false
	// v1:
	// missing_transaction_id
}
