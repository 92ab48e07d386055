package clickid_test

import (
	"strings"
	"testing"

	"github.com/s2skit/s2s/clickid"
)

// FuzzParse checks that Parse never panics, and that whatever it accepts round-trips: the
// input is one of the id's two text forms, up to case.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"01j3st4z2efcd9y00w5mz4ypkb", "01J3ST4Z2EFCD9Y00W5MZ4YPKB", "7zzzzzzzzzzzzzzzzzzzzzzzzz",
		"81j3st4z2efcd9y00w5mz4ypkb", "0190f3a2-7c4e-7b1a-9f00-1c2d3e4f5a6b",
		"00000000-0000-0000-0000-000000000000", "", "{clickid}", "01j3st4z2efcd9y00w5mz4ypki",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := clickid.Parse(s)
		if err != nil {
			if !id.IsZero() {
				t.Fatalf("Parse(%q) failed with a non-zero id %v", s, id)
			}
			return
		}
		if id.IsZero() {
			t.Fatalf("Parse(%q) accepted the zero id", s)
		}
		if !strings.EqualFold(s, id.String()) && !strings.EqualFold(s, id.UUIDString()) {
			t.Fatalf("Parse(%q) = %s / %s: input is neither form", s, id, id.UUIDString())
		}
		for _, form := range []string{id.String(), id.UUIDString()} {
			back, err := clickid.Parse(form)
			if err != nil || back != id {
				t.Fatalf("Parse(%q) = %v, %v; want %v", form, back, err, id)
			}
		}
	})
}

// FuzzVerify checks that Verify never panics, that anything it accepts is the signed form of
// the id it returns (up to case), and that changing any one character of a signed id to any
// other byte never verifies.
func FuzzVerify(f *testing.F) {
	s, err := clickid.NewSigner(clickid.SignerKey{ID: 1, Secret: secretA}, clickid.SignerKey{ID: 2, Secret: secretB})
	if err != nil {
		f.Fatal(err)
	}
	seed := clickid.MustParse("0190f3a2-7c4e-7b1a-9f00-1c2d3e4f5a6b")
	f.Add(seed[:], s.Sign(seed), uint8(0), byte('x'))
	f.Add(seed[:], "", uint8(42), byte('0'))
	f.Add(make([]byte, 16), strings.Repeat("z", clickid.SignedLen), uint8(26), byte('1'))
	f.Fuzz(func(t *testing.T, raw []byte, input string, pos uint8, c byte) {
		if id, err := s.Verify(input); err == nil && !strings.EqualFold(input, s.Sign(id)) {
			t.Fatalf("Verify(%q) accepted a string that is not Sign(%s)", input, id)
		}
		if len(raw) != 16 {
			return
		}
		id := clickid.ID(raw)
		signed := s.Sign(id)
		if got, err := s.Verify(signed); !id.IsZero() && (err != nil || got != id) {
			t.Fatalf("Verify(Sign(%x)) = %v, %v", raw, got, err)
		}
		i := int(pos) % len(signed)
		if strings.EqualFold(string(signed[i]), string(c)) {
			return
		}
		mutated := signed[:i] + string(c) + signed[i+1:]
		if _, err := s.Verify(mutated); err == nil {
			t.Fatalf("mutation of position %d to %q verified: %q", i, c, mutated)
		}
	})
}

// FuzzVerifyToken checks that VerifyToken never panics and that anything it accepts is the
// signed form of the token it returns, up to case.
func FuzzVerifyToken(f *testing.F) {
	s, err := clickid.NewSigner(clickid.SignerKey{ID: 1, Secret: secretA})
	if err != nil {
		f.Fatal(err)
	}
	tok, err := s.SignToken(clickid.Token{ID: clickid.MustParse("01j3st4z2efcd9y00w5mz4ypkb"), AffiliateID: "aff", CampaignID: "c"})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(tok)
	f.Add(strings.ToUpper(tok))
	f.Add(strings.Repeat("0", 50))
	f.Fuzz(func(t *testing.T, input string) {
		got, err := s.VerifyToken(input)
		if err != nil {
			return
		}
		again, err := s.SignToken(got)
		if err != nil || !strings.EqualFold(again, input) {
			t.Fatalf("VerifyToken(%q) = %+v, which signs as %q (%v)", input, got, again, err)
		}
	})
}
