package postback

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestLookup checks the dialect table of every preset and of Native: each mapped name is
// found with its field, and names one byte or one length away are not.
func TestLookup(t *testing.T) {
	dialects := map[string]*Dialect{"native": Native()}
	for _, n := range PresetNames() {
		d, err := Preset(n)
		if err != nil {
			t.Fatal(err)
		}
		d.DefaultCurrency = "EUR"
		dialects[n] = d
	}
	// Names longer than eight bytes that share a prefix, and a zero byte.
	dialects["long"] = &Dialect{ClickID: []string{"click_identifier"}, PlayerID: []string{"click_identifiers"},
		Event: []string{"click_identifieR"}, Amount: []string{"a"}, Currency: []string{"a\x00"}}
	for name, d := range dialects {
		c, err := d.compile()
		if err != nil {
			t.Fatal(name, err)
		}
		names, err := d.names() // the map the table is built from: the oracle
		if err != nil {
			t.Fatal(name, err)
		}
		for k, want := range names {
			if got, ok := c.fields.lookup(k, prefix8(k)); !ok || got != want {
				t.Errorf("%s: lookup(%q) = %v, %v; want %v", name, k, got, ok, want)
			}
			for _, miss := range []string{k + "x", k[:len(k)-1], "x" + k, strings.ToUpper(k), k[:len(k)-1] + "\xff"} {
				if _, mapped := names[miss]; mapped || miss == "" {
					continue
				}
				if got, ok := c.fields.lookup(miss, prefix8(miss)); ok {
					t.Errorf("%s: lookup(%q) = %v, want none", name, miss, got)
				}
			}
		}
	}
}

func TestPrefix8(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want uint64
	}{
		{"", 0},
		{"a", 0x61 << 56},
		{"ts", 0x7473 << 48},
		{"abcdefgh", 0x6162636465666768},
		{"abcdefghij", 0x6162636465666768},
	} {
		if got := prefix8(tc.s); got != tc.want {
			t.Errorf("prefix8(%q) = %#x, want %#x", tc.s, got, tc.want)
		}
		// Read from inside a longer string, as split does.
		q := "xx" + tc.s + "=value&more"
		if got := prefixIn(q, 2, len(tc.s)); got != tc.want {
			t.Errorf("prefixIn(%q, 2, %d) = %#x, want %#x", q, len(tc.s), got, tc.want)
		}
	}
	// Prefix order is key order, up to ties, for keys without zero bytes.
	r := rand.New(rand.NewPCG(1, 2))
	for range 100_000 {
		a, b := randKey(r), randKey(r)
		pa, pb := prefix8(a), prefix8(b)
		if pa != pb && (pa < pb) != (a < b) {
			t.Fatalf("prefix8 orders %q and %q wrongly", a, b)
		}
	}
}

func randKey(r *rand.Rand) string {
	const alphabet = "%-._~0AZaz"
	b := make([]byte, 1+r.IntN(12))
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

// TestSplitFastPath checks split against scanSegment, its byte-by-byte path, on random
// queries: the same parameters, the same clean flags, the same canonical forms.
func TestSplitFastPath(t *testing.T) {
	pieces := []string{"sig", "ts", "kid", "a", "b", "bb", "=", "=", "&", "&", "%2B", "%2", "+", ";", "~", "x.y", "0-9", "&sig=", "{m}", "abcdefghijk"}
	r := rand.New(rand.NewPCG(3, 4))
	for range 200_000 {
		var b strings.Builder
		for range r.IntN(12) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		q := b.String()
		w := new(work)
		rej := w.split(q, false)
		want, wantRej := splitSlow(q)
		if (rej != nil) != (wantRej != nil) || rej != nil && rej.reason != wantRej.reason {
			t.Fatalf("split(%q) = %v, want %v", q, rej, wantRej)
		}
		if rej != nil {
			continue
		}
		if w.n != len(want) {
			t.Fatalf("split(%q): %d params, want %d", q, w.n, len(want))
		}
		for i, p := range w.ps[:w.n] {
			wp := want[i]
			if p.key != wp.key || p.val != wp.val || p.cleanK != wp.cleanK || p.cleanV != wp.cleanV {
				t.Fatalf("split(%q)[%d] = %+v, want %+v", q, i, p, wp)
			}
			if p.ek != "" && (p.ek != p.key || p.ev != p.val) {
				t.Fatalf("split(%q)[%d]: canonical forms %q=%q", q, i, p.ek, p.ev)
			}
			if p.seg != "" && p.seg != p.key+"="+p.val {
				t.Fatalf("split(%q)[%d]: seg %q", q, i, p.seg)
			}
		}
		if w.canonicalize() == nil {
			var msg bytes.Buffer
			msg.Write(w.appendMessage(nil, "/"))
			w2 := new(work)
			for _, p := range want {
				w2.ps[w2.n] = param{key: p.key, val: p.val, raw: true, cleanK: p.cleanK, cleanV: p.cleanV}
				w2.n++
				w2.dirty++
			}
			if rej := w2.canonicalize(); rej != nil {
				t.Fatalf("%q: canonicalize after split passed, from slow params: %v", q, rej)
			}
			if got := string(w2.appendMessage(nil, "/")); got != msg.String() {
				t.Fatalf("%q: message %q, from slow params %q", q, msg.String(), got)
			}
		}
	}
}

// splitSlow is split written plainly with scanSegment.
func splitSlow(q string) ([]param, *RejectError) {
	var ps []param
	for i := 0; i < len(q); i++ {
		start := i
		end, eq, cleanK, cleanV, rej := scanSegment(q, start)
		if rej != nil {
			return nil, rej
		}
		i = end
		if i == start {
			continue
		}
		k, v := q[start:i], ""
		if eq >= 0 {
			k, v = q[start:eq], q[eq+1:i]
		}
		if k == "" {
			return nil, errMalformed
		}
		ps = append(ps, param{key: k, val: v, cleanK: cleanK, cleanV: cleanV})
	}
	if len(ps) > MaxParams {
		return nil, errTooManyParams
	}
	return ps, nil
}
