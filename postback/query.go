package postback

import (
	"strings"
)

// param is one parameter of a query, form body or JSON body. For query and form parameters
// key and val alias the input, still percent-encoded; for JSON ones they are decoded.
type param struct {
	key, val   string
	ek, ev     string // canonical (RFC 3986) forms: the input itself when it needs no encoding
	raw        bool   // form-encoded (query or form body); false for JSON values
	body       bool   // from the body, not the query
	kesc, vesc bool   // raw and containing '%' or '+': decoding changes it
	// cleanK and cleanV report that the key or value has only unreserved bytes, so it is its
	// own canonical form (set by split; JSON parameters are checked by canonical).
	cleanK, cleanV bool
}

// work is the per-request scratch space, pooled per Source so that parsing and verifying
// allocate nothing on the common path.
type work struct {
	n     int
	ps    [MaxParams]param
	order [MaxParams]uint8
	msg   []byte
	// special holds the index+1 of the sig, ts and kid parameters (0: absent), found while
	// canonicalising.
	special [3]uint8
}

func (w *work) reset() {
	clear(w.ps[:w.n]) // drop references into the previous input
	w.n = 0
	w.special = [3]uint8{}
	w.msg = w.msg[:0]
}

// split appends the parameters of a form-encoded string (a raw query or a form body) to w.
// Empty segments ("a=1&&b=2", a trailing '&') are skipped; a key without '=' has the empty
// value. One pass over the bytes both splits and notes which keys and values are already in
// canonical form (only unreserved bytes), so that those need no more work.
func (w *work) split(q string, body bool) *RejectError {
	for i := 0; i < len(q); i++ {
		start, eq := i, -1
		cleanK, cleanV := true, true
	scan:
		for ; i < len(q); i++ {
			c := q[i]
			if unreserved[c] {
				continue
			}
			switch {
			case c == '&':
				break scan
			case c == ';':
				return errSemicolon
			case c == '=' && eq < 0:
				eq = i
				if q[start:eq] == paramSig {
					// The signature's value is never canonicalised: find its end fast.
					end := strings.IndexByte(q[i:], '&')
					if end < 0 {
						end = len(q) - i
					}
					if strings.IndexByte(q[i:i+end], ';') >= 0 {
						return errSemicolon
					}
					cleanV = false
					i += end
					break scan
				}
			case eq < 0:
				cleanK = false
			default:
				cleanV = false
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
		w.ps[w.n] = param{key: k, val: v, raw: true, body: body, cleanK: cleanK, cleanV: cleanV}
		w.n++
	}
	return nil
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
	return nil
}

// canonicalize encodes every key and value in canonical form, sorts the parameters by
// encoded key then encoded value, and rejects repeated keys.
func (w *work) canonicalize() *RejectError {
	w.special = [3]uint8{}
	for i := range w.n {
		p := &w.ps[i]
		w.order[i] = uint8(i)
		ok := true
		if p.cleanK {
			p.ek = p.key
		} else if p.ek, p.kesc, ok = canonical(p.key, p.raw); !ok {
			return errMalformed
		}
		if len(p.ek) <= 3 {
			switch p.ek {
			case paramSig:
				// The signature is not signed: its value is read as sent, never encoded.
				w.special[0] = uint8(i + 1)
				p.ev = ""
				continue
			case paramTS:
				w.special[1] = uint8(i + 1)
			case paramKID:
				w.special[2] = uint8(i + 1)
			}
		}
		if p.cleanV {
			p.ev = p.val
		} else if p.ev, p.vesc, ok = canonical(p.val, p.raw); !ok {
			if isMacro(p.val) {
				return rejectField(ReasonUnfilledMacro, safeName(p.key), "value is a macro the sender did not fill", nil)
			}
			return errMalformed
		}
	}
	// Insertion sort: n is at most 100 and usually under 10.
	for i := 1; i < w.n; i++ {
		for j := i; j > 0 && w.less(w.order[j], w.order[j-1]); j-- {
			w.order[j], w.order[j-1] = w.order[j-1], w.order[j]
		}
	}
	for i := 1; i < w.n; i++ {
		a, b := &w.ps[w.order[i-1]], &w.ps[w.order[i]]
		if a.ek == b.ek {
			if a.body != b.body {
				return errBodyRepeats
			}
			return errRepeated
		}
	}
	return nil
}

func (w *work) less(i, j uint8) bool {
	a, b := &w.ps[i], &w.ps[j]
	// Keys are never empty; most differ in their first byte.
	if a.ek[0] != b.ek[0] {
		return a.ek[0] < b.ek[0]
	}
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
	for _, i := range w.order[:w.n] {
		p := &w.ps[i]
		if p.ek == paramSig {
			continue
		}
		if !first {
			dst = append(dst, '&')
		}
		first = false
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

// formDecode decodes a form-encoded string already checked by appendEncoded.
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
