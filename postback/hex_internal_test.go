package postback

import (
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestDecodeHex checks the eight-at-a-time decoder against encoding/hex, restricted to the
// lower-case spelling that s2s v1 allows: random digests in mixed case, and every byte value
// in every position of a valid signature.
func TestDecodeHex(t *testing.T) {
	check := func(t *testing.T, s string) {
		t.Helper()
		var got [sha256.Size]byte
		ok := decodeHex(&got, s)
		want, err := hex.DecodeString(s)
		if ok != (err == nil && len(want) == sha256.Size && s == strings.ToLower(s)) {
			t.Fatalf("decodeHex(%q) ok = %v, encoding/hex err = %v", s, ok, err)
		}
		if ok && string(got[:]) != string(want) {
			t.Fatalf("decodeHex(%q) = %x, want %x", s, got, want)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 10_000 {
		var sum [sha256.Size]byte
		for i := range sum {
			sum[i] = byte(r.Uint32())
		}
		b := []byte(hex.EncodeToString(sum[:]))
		if r.IntN(2) == 0 { // half in mixed case, which must fail
			for i := range b {
				if r.IntN(2) == 0 {
					b[i] = strings.ToUpper(string(b[i]))[0]
				}
			}
		}
		check(t, string(b))
	}
	valid := []byte(strings.Repeat("0123456789abcdef", 4))
	for pos := range valid {
		for c := range 256 {
			b := append([]byte(nil), valid...)
			b[pos] = byte(c)
			check(t, string(b))
		}
	}
	for _, s := range []string{"", "00", strings.Repeat("0", 63), strings.Repeat("0", 65)} {
		check(t, s)
	}
}
