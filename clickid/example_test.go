package clickid_test

import (
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/s2skit/s2s/clickid"
)

func ExampleNew() {
	id, err := clickid.New()
	if err != nil {
		log.Fatal(err)
	}
	s := id.String()
	back, err := clickid.Parse(s)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(s), back == id)
	// Output: 26 true
}

func ExampleParse() {
	// The compact form and the canonical UUID form, in any case, are the same ID.
	a := clickid.MustParse("01j3st4z2efcd9y00w5mz4ypkb")
	b := clickid.MustParse("01J3ST4Z2EFCD9Y00W5MZ4YPKB")
	c := clickid.MustParse("0190f3a2-7c4e-7b1a-9f00-1c2d3e4f5a6b")
	fmt.Println(a == b, a == c)
	fmt.Println(a.Timestamp().Format(time.RFC3339Nano))

	_, err := clickid.Parse("{clickid}") // a macro the sender forgot to fill
	fmt.Println(errors.Is(err, clickid.ErrSyntax))
	// Output:
	// true true
	// 2024-07-27T10:00:30.542Z
	// true
}

func ExampleGenerator() {
	// A fixed clock makes the timestamp predictable in tests.
	gen := clickid.NewGenerator(&clickid.GeneratorOptions{
		Now: func() time.Time { return time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC) },
	})
	id, err := gen.New()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(id.Timestamp())
	// Output: 2026-11-23 12:00:00 +0000 UTC
}

func ExampleSigner() {
	// In production, secrets are 32 random bytes from a secret store.
	current := clickid.SignerKey{ID: 2, Secret: []byte("a-32-byte-secret-from-your-vault")}
	previous := clickid.SignerKey{ID: 1, Secret: []byte("the-previous-secret-still-valid!")}
	signer, err := clickid.NewSigner(current, previous)
	if err != nil {
		log.Fatal(err)
	}

	id := clickid.MustParse("01j3st4z2efcd9y00w5mz4ypkb")
	signed := signer.Sign(id)
	fmt.Println(signed)

	got, err := signer.Verify(signed)
	fmt.Println(got == id, err)

	// Change one character: rejected without any lookup.
	forged := signed[:30] + "0" + signed[31:]
	_, err = signer.Verify(forged)
	fmt.Println(errors.Is(err, clickid.ErrSignature))
	// Output:
	// 01j3st4z2efcd9y00w5mz4ypkb2q94y9cy5v578jn5n
	// true <nil>
	// true
}

func ExampleSigner_SignToken() {
	signer, err := clickid.NewSigner(clickid.SignerKey{ID: 1, Secret: []byte("a-32-byte-secret-from-your-vault")})
	if err != nil {
		log.Fatal(err)
	}
	token, err := signer.SignToken(clickid.Token{
		ID:          clickid.MustParse("01j3st4z2efcd9y00w5mz4ypkb"),
		AffiliateID: "aff-42",
		CampaignID:  "summer-casino",
	})
	if err != nil {
		log.Fatal(err)
	}
	// The token carries the affiliate: a tracker can attribute with it alone.
	t, err := signer.VerifyToken(token)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(t.AffiliateID, t.CampaignID, t.ID)
	// Output: aff-42 summer-casino 01j3st4z2efcd9y00w5mz4ypkb
}

func ExampleParseForeign() {
	gclid, err := clickid.ParseForeign("Cj0KCQiA5fetBhC9ARIsAP1UMgH_example_BwE")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(gclid)
	// Output: Cj0KCQiA5fetBhC9ARIsAP1UMgH_example_BwE
}
