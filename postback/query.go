package postback

import (
	"encoding/binary"
	"strings"
)

// param is one parameter of a query, form body or JSON body. For query and form parameters
// key and val alias the input, still percent-encoded; for JSON ones they are decoded.
type param struct {
	key, val string
	ek, ev   string // canonical (RFC 3986) forms: the input itself when it needs no encoding
	// seg is "key=value" as sent, when that is already the canonical pair (set by split).
	seg        string
	raw        bool // form-encoded (query or form body); false for JSON values
	body       bool // from the body, not the query
	kesc, vesc bool // raw and containing '%' or '+': decoding changes it
	// cleanK and cleanV report that the key or value has only unreserved bytes, so it is its
	// own canonical form (set by split; JSON parameters are checked by canonical).
	cleanK, cleanV bool
}

// work is the per-request scratch space, pooled per Source so that parsing and verifying
// allocate nothing on the common path.
type work struct {
	n     int
	ps    [MaxParams]param
	pfx   [MaxParams]uint64 // prefix8 of each canonical key, for sorting
	order [MaxParams]uint8
	dirty int // parameters whose canonical forms split left to canonicalize
	msg   []byte
	// macs are the HMAC states of the source's keys, by their index in its keyring: a work
	// belongs to one source.
	macs [MaxKeys]*macState
	// special holds the index+1 of the sig, ts and kid parameters (0: absent), found while
	// splitting or canonicalising.
	special [3]uint8
}

// reset empties w. Every parameter past w.n is the zero param: split relies on it.
func (w *work) reset() {
	clear(w.ps[:w.n]) // and drop references into the previous input
	w.n = 0
	w.dirty = 0
	w.special = [3]uint8{}
	w.msg = w.msg[:0]
}

// split appends the parameters of a form-encoded string (a raw query or a form body) to w.
// Empty segments ("a=1&&b=2", a trailing '&') are skipped; a key without '=' has the empty
// value.
//
// One pass over the bytes both splits and notes which keys and values are already in
// canonical form (only unreserved bytes). For a parameter whose key and value are both
// clean, split sets the canonical forms, the sort prefix and the sig, ts and kid slots
// itself, so that canonicalize has nothing to encode on the common path.
func (w *work) split(q string, body bool) *RejectError {
	for i := 0; i < len(q); i++ {
		start := i
		for i = skip8(q, i); i < len(q) && unreserved[q[i]]; i++ {
		}
		eq := -1
		if i < len(q) && q[i] == '=' {
			eq = i
			for i = skip8(q, i+1); i < len(q) && unreserved[q[i]]; i++ {
			}
		}
		cleanK, cleanV := true, true
		if i < len(q) && q[i] != '&' {
			// Something to encode, or to refuse: scan the segment again byte by byte.
			var rej *RejectError
			if i, eq, cleanK, cleanV, rej = scanSegment(q, start); rej != nil {
				return rej
			}
		}
		if i == start {
			continue
		}
		if w.n == MaxParams {
			return errTooManyParams
		}
		k, v := q[start:i], ""
		if eq >= 0 {
			k, v = q[start:eq], q[eq+1:i]
		}
		if k == "" {
			return errMalformed
		}
		// Fields are set one by one: ps[n:] are zero (see reset), and building the param
		// whole on the stack stalls the copy on the bools just written.
		p := &w.ps[w.n]
		p.key, p.val = k, v
		p.raw, p.body, p.cleanK, p.cleanV = true, body, cleanK, cleanV
		if cleanK && cleanV {
			p.ek, p.ev = k, v
			if eq >= 0 {
				p.seg = q[start:i]
			}
			w.pfx[w.n] = prefixIn(q, start, len(k))
			w.noteSpecial(k, w.n)
		} else {
			w.dirty++
		}
		w.n++
	}
	return nil
}

// scanSegment scans the segment of q that starts at start up to its '&' (or the end of q),
// returning the end, the index of its first '=' (-1 if none) and whether the key and the
// value hold only unreserved bytes. An unencoded ';' is refused.
func scanSegment(q string, start int) (end, eq int, cleanK, cleanV bool, rej *RejectError) {
	eq, cleanK, cleanV = -1, true, true
	i := start
	for ; i < len(q); i++ {
		c := q[i]
		if unreserved[c] {
			continue
		}
		switch {
		case c == '&':
			return i, eq, cleanK, cleanV, nil
		case c == ';':
			return 0, 0, false, false, errSemicolon
		case c == '=' && eq < 0:
			eq = i
		case eq < 0:
			cleanK = false
		default:
			cleanV = false
		}
	}
	return i, eq, cleanK, cleanV, nil
}

// skip8 advances i over q eight unreserved bytes at a time, testing each eight with a
// single branch; it stops before the first eight that hold another byte.
func skip8(q string, i int) int {
	for ; i+8 <= len(q); i += 8 {
		s := q[i : i+8]
		if unreservedBit[s[0]]&unreservedBit[s[1]]&unreservedBit[s[2]]&unreservedBit[s[3]]&
			unreservedBit[s[4]]&unreservedBit[s[5]]&unreservedBit[s[6]]&unreservedBit[s[7]] == 0 {
			break
		}
	}
	return i
}

// noteSpecial records parameter i in the sig, ts or kid slot if its canonical key ek is
// one of those names. It is the one place that tells the s2s v1 parameters apart: every
// parameter passes through it once its canonical key is known (in split, or in encodeDirty),
// and the rest of the package reads the slots (appendMessage leaves sig out of the string to
// sign, verifyQuery reads all three, build leaves them out of a signing source's postback).
func (w *work) noteSpecial(ek string, i int) {
	if len(ek) > 3 {
		return
	}
	switch ek {
	case paramSig:
		w.special[0] = uint8(i + 1)
	case paramTS:
		w.special[1] = uint8(i + 1)
	case paramKID:
		w.special[2] = uint8(i + 1)
	}
}

// prefix8 returns the first eight bytes of s as a big-endian number, padded with zero
// bytes. Canonical keys hold no zero byte, so comparing prefixes orders keys as comparing
// the keys bytewise does, up to a tie.
func prefix8(s string) uint64 {
	return prefixIn(s, 0, len(s))
}

// prefixIn returns prefix8(s[i:i+n]), reading eight bytes at once where s has them.
func prefixIn(s string, i, n int) uint64 {
	if len(s)-i < 8 {
		return prefixSlow(s[i:], n)
	}
	return binary.BigEndian.Uint64([]byte(s[i:i+8])) &^ (^uint64(0) >> (8 * min(n, 8)))
}

func prefixSlow(s string, n int) uint64 {
	var p uint64
	for j := range min(n, 8) {
		p |= uint64(s[j]) << (56 - 8*j)
	}
	return p
}

// add appends a decoded parameter (from a JSON body).
func (w *work) add(k, v string) *RejectError {
	if w.n == MaxParams {
		return errTooManyParams
	}
	if k == "" {
		return errMalformedBody
	}
	w.ps[w.n] = param{key: k, val: v, body: true}
	w.n++
	w.dirty++
	return nil
}

// canonicalize encodes the keys and values split left in their sent form, sorts the
// parameters by encoded key then encoded value, and rejects repeated keys.
func (w *work) canonicalize() *RejectError {
	if w.dirty > 0 {
		if rej := w.encodeDirty(); rej != nil {
			return rej
		}
	}
	// Insertion sort on the prefixes, the keys and values breaking ties: n is at most 100
	// and usually under 10.
	for i := range w.n {
		x, px := uint8(i), w.pfx[i]
		j := i
		for ; j > 0; j-- {
			y := w.order[j-1]
			if py := w.pfx[y]; px > py || px == py && !w.lessTied(x, y) {
				break
			}
			w.order[j] = y
		}
		w.order[j] = x
	}
	for i := 1; i < w.n; i++ {
		x, y := w.order[i-1], w.order[i]
		if w.pfx[x] != w.pfx[y] {
			continue
		}
		if a, b := &w.ps[x], &w.ps[y]; a.ek == b.ek {
			if a.body != b.body {
				return errBodyRepeats
			}
			return errRepeated
		}
	}
	return nil
}

// encodeDirty sets the canonical forms of the parameters that split left to it (ek is
// empty): those with bytes to encode, and those of a JSON body.
func (w *work) encodeDirty() *RejectError {
	for i := range w.n {
		p := &w.ps[i]
		if p.ek != "" {
			continue
		}
		ok := true
		if p.cleanK {
			p.ek = p.key
		} else if p.ek, p.kesc, ok = canonical(p.key, p.raw); !ok {
			return errMalformed
		}
		w.pfx[i] = prefix8(p.ek)
		w.noteSpecial(p.ek, i)
		if p.cleanV {
			p.ev = p.val
		} else if p.ev, p.vesc, ok = canonical(p.val, p.raw); !ok {
			if isMacro(p.val) {
				return rejectField(ReasonUnfilledMacro, safeName(p.key), "value is a macro the sender did not fill", nil)
			}
			return errMalformed
		}
	}
	return nil
}

// lessTied orders parameters i and j, whose prefixes are equal, by key then value.
func (w *work) lessTied(i, j uint8) bool {
	a, b := &w.ps[i], &w.ps[j]
	if a.ek != b.ek {
		return a.ek < b.ek
	}
	return a.ev < b.ev
}

// sig, ts and kid return those parameters, or nil.
func (w *work) sig() *param { return w.specialParam(0) }
func (w *work) ts() *param  { return w.specialParam(1) }
func (w *work) kid() *param { return w.specialParam(2) }

func (w *work) specialParam(i int) *param {
	if j := w.special[i]; j > 0 {
		return &w.ps[j-1]
	}
	return nil
}

// find returns the parameter whose canonical key is k, or nil.
func (w *work) find(k string) *param {
	for i := range w.n {
		if p := &w.ps[i]; p.ek == k {
			return p
		}
	}
	return nil
}

// appendMessage appends the s2s v1 string to sign: "s2s-v1\n" path "\n" canonical query,
// leaving out the sig parameter. canonicalize must have run.
func (w *work) appendMessage(dst []byte, path string) []byte {
	dst = append(dst, "s2s-v1\n"...)
	dst = append(dst, path...)
	dst = append(dst, '\n')
	first := true
	sig := w.special[0] // index+1 of the sig parameter, which is not signed
	for _, i := range w.order[:w.n] {
		if i+1 == sig {
			continue
		}
		p := &w.ps[i]
		if !first {
			dst = append(dst, '&')
		}
		first = false
		if p.seg != "" {
			dst = append(dst, p.seg...)
			continue
		}
		dst = append(dst, p.ek...)
		dst = append(dst, '=')
		dst = append(dst, p.ev...)
	}
	return dst
}

// canonical returns the RFC 3986 encoding of s (form-decoded first if raw): s itself when
// every byte is unreserved, a new string otherwise. esc reports whether decoding changes s,
// ok is false for an invalid escape.
func canonical(s string, raw bool) (enc string, esc, ok bool) {
	i := 0
	for i < len(s) && unreserved[s[i]] {
		i++
	}
	if i == len(s) {
		return s, false, true
	}
	var b strings.Builder
	b.Grow(3 * len(s))
	b.WriteString(s[:i])
	if esc, ok = writeEncoded(&b, s[i:], raw); !ok {
		return "", esc, false
	}
	return b.String(), esc, true
}

// decodedKey and decodedVal return the decoded key and value of p: the input itself unless
// it holds '%' or '+', a new string otherwise.
func decodedKey(p *param) string {
	if p.kesc {
		return formDecode(p.key)
	}
	return p.key
}

func decodedVal(p *param) string {
	if p.vesc {
		return formDecode(p.val)
	}
	return p.val
}

// unreserved marks the bytes that RFC 3986 leaves unencoded: A-Z a-z 0-9 - . _ ~
var unreserved = func() (t [256]bool) {
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
		t[c+'a'-'A'] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	t['-'], t['.'], t['_'], t['~'] = true, true, true, true
	return t
}()

// unreservedBit is unreserved as 0 and 1, for testing several bytes with one branch.
var unreservedBit = func() (t [256]uint8) {
	for c, ok := range unreserved {
		if ok {
			t[c] = 1
		}
	}
	return t
}()

const upperHex = "0123456789ABCDEF"

// hexVal maps a hex digit of either case to its value, anything else to 0xff.
var hexVal = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = byte(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = byte(c-'a') + 10
		t[c-'a'+'A'] = byte(c-'a') + 10
	}
	return t
}()

func unhex(c byte) (byte, bool) {
	v := hexVal[c]
	return v, v != 0xff
}

// writeEncoded writes the RFC 3986 encoding of s to b. If raw, s is form-encoded and first
// decoded ('+' is a space, "%xx" a byte in either case); esc reports whether decoding changes
// s, and ok is false for an invalid escape.
func writeEncoded(b *strings.Builder, s string, raw bool) (esc, ok bool) {
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && unreserved[s[j]] {
			j++
		}
		b.WriteString(s[i:j])
		if j == len(s) {
			break
		}
		c := s[j]
		i = j + 1
		switch {
		case raw && c == '%':
			if j+2 >= len(s) {
				return esc, false
			}
			hi, ok1 := unhex(s[j+1])
			lo, ok2 := unhex(s[j+2])
			if !ok1 || !ok2 {
				return esc, false
			}
			c = hi<<4 | lo
			esc = true
			i = j + 3
			if unreserved[c] {
				b.WriteByte(c)
				continue
			}
		case raw && c == '+':
			c = ' '
			esc = true
		}
		b.WriteByte('%')
		b.WriteByte(upperHex[c>>4])
		b.WriteByte(upperHex[c&15])
	}
	return esc, true
}

// formDecode decodes a form-encoded string already checked by writeEncoded (through
// canonical), so every '%' starts a valid escape.
func formDecode(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '+':
			b.WriteByte(' ')
		case '%':
			hi, _ := unhex(s[i+1])
			lo, _ := unhex(s[i+2])
			b.WriteByte(hi<<4 | lo)
			i += 2
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// rfc3986 returns the canonical encoding of a decoded string.
func rfc3986(s string) string {
	enc, _, _ := canonical(s, false)
	return enc
}

// isMacro reports whether v looks like a template macro the sender forgot to fill: the
// whole value is {x}, {{x}}, [x], [[x]], #x#, %x%, ${x}, $x$ or (x), or it contains {x},
// where x is a name (a letter or '_', then letters, digits, '_', '.', ':' or '-').
func isMacro(v string) bool {
	if len(v) >= 3 {
		open, end := v[0], v[len(v)-1]
		inner := v[1 : len(v)-1]
		match := false
		switch open {
		case '{':
			match = end == '}'
			if match && len(inner) >= 2 && inner[0] == '{' && inner[len(inner)-1] == '}' {
				inner = inner[1 : len(inner)-1]
			}
		case '[':
			match = end == ']'
			if match && len(inner) >= 2 && inner[0] == '[' && inner[len(inner)-1] == ']' {
				inner = inner[1 : len(inner)-1]
			}
		case '#', '%':
			match = end == open
		case '(':
			match = end == ')'
		case '$':
			switch {
			case end == '$':
				match = true
			case len(inner) >= 2 && inner[0] == '{' && end == '}':
				match, inner = true, inner[1:]
			case len(inner) >= 2 && inner[0] == '(' && end == ')':
				match, inner = true, inner[1:]
			}
		}
		if match && isName(inner) {
			return true
		}
	}
	for s := v; ; {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			return false
		}
		s = s[i+1:]
		j := strings.IndexByte(s, '}')
		if j < 0 {
			return false
		}
		if isName(strings.TrimPrefix(s[:j], "{")) {
			return true
		}
	}
}

func isName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		switch {
		case c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '.' || c == ':' || c == '-'):
		default:
			return false
		}
	}
	return true
}

// safeName returns a parameter name for an error message: the name if it is short and
// plain, else a placeholder, so that no sender-controlled bytes of note reach logs.
func safeName(k string) string {
	if len(k) > 64 {
		return "(long name)"
	}
	for i := range len(k) {
		if !unreserved[k[i]] {
			return "(encoded name)"
		}
	}
	return k
}
