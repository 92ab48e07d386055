package postback_test

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/s2skit/s2s/postback"
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
