package clickid

import "encoding/binary"

// alphabet is Crockford's base32 alphabet in lower case: no i, l, o or u, so IDs are hard to
// misread and never spell words by accident. Its order matches ASCII order, so encoded IDs
// sort like their bytes.
const alphabet = "0123456789abcdefghjkmnpqrstvwxyz"

// invalid marks a byte outside the alphabet in decodeTable.
const invalid = 0xff

// decodeTable maps both cases of every alphabet character to its value.
var decodeTable = func() (t [256]byte) {
	for i := range t {
		t[i] = invalid
	}
	for i := range len(alphabet) {
		c := alphabet[i]
		t[c] = byte(i)
		if c >= 'a' && c <= 'z' {
			t[c-'a'+'A'] = byte(i)
		}
	}
	return t
}()

// hexTable maps both cases of a hex digit to its value.
var hexTable = func() (t [256]byte) {
	for i := range t {
		t[i] = invalid
	}
	for i, c := range "0123456789abcdef" {
		t[c] = byte(i)
		if c >= 'a' {
			t[c-'a'+'A'] = byte(i)
		}
	}
	return t
}()

// encodeCompact writes the 26-character form of id: 130 bits, the top two always zero. The
// bits are split as in decodeCompact, so the three runs of characters encode independently.
func encodeCompact(dst *[EncodedLen]byte, id *ID) {
	hi := binary.BigEndian.Uint64(id[:8])
	lo := binary.BigEndian.Uint64(id[8:])
	x := hi >> 1                        // characters 0-12
	y := (hi<<59 | lo>>5) & (1<<60 - 1) // characters 13-24
	dst[25] = alphabet[lo&31]
	for i := 24; i >= 13; i-- {
		dst[i] = alphabet[y&31]
		y >>= 5
	}
	for i := 12; i >= 0; i-- {
		dst[i] = alphabet[x&31]
		x >>= 5
	}
}

// decodeCompact parses the 26-character form. It rejects a first character above 7, which
// would need more than 128 bits, so that every ID has exactly one compact form per case.
func decodeCompact(id *ID, s string) error {
	if len(s) != EncodedLen {
		return errLength
	}
	// Three independent accumulators, so the lookups overlap: x takes characters 0-12
	// (3 + 12×5 = 63 bits), y characters 13-24 (60 bits) and z the last one (5 bits).
	_ = s[EncodedLen-1]
	var x, y uint64
	var bad byte
	for i := range 13 {
		v := decodeTable[s[i]]
		bad |= v
		x = x<<5 | uint64(v)
	}
	for i := 13; i < 25; i++ {
		v := decodeTable[s[i]]
		bad |= v
		y = y<<5 | uint64(v)
	}
	z := decodeTable[s[25]]
	bad |= z
	if bad&0xe0 != 0 { // invalid is 0xff; valid values fit in 5 bits
		return errAlphabet
	}
	if decodeTable[s[0]] > 7 {
		return errRange
	}
	binary.BigEndian.PutUint64(id[:8], x<<1|y>>59)
	binary.BigEndian.PutUint64(id[8:], y<<5|uint64(z))
	return nil
}

// encodeUUID writes the canonical 8-4-4-4-12 form of id in lower case.
func encodeUUID(dst *[UUIDLen]byte, id *ID) {
	const hex = "0123456789abcdef"
	j := 0
	for i, b := range id {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst[j] = '-'
			j++
		}
		dst[j] = hex[b>>4]
		dst[j+1] = hex[b&15]
		j += 2
	}
}

// uuidOffsets are the positions of the 16 hex pairs in the canonical UUID form.
var uuidOffsets = [16]byte{0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34}

// decodeUUID parses the canonical 8-4-4-4-12 form, in either case.
func decodeUUID(id *ID, s string) error {
	if len(s) != UUIDLen || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return errHex
	}
	var bad byte
	for i, j := range uuidOffsets {
		h, l := hexTable[s[j]], hexTable[s[j+1]]
		bad |= h | l
		id[i] = h<<4 | l
	}
	if bad&0xf0 != 0 { // invalid is 0xff; valid values fit in 4 bits
		return errHex
	}
	return nil
}

// encodedLen returns the length of the base32 form of n bytes, without padding.
func encodedLen(n int) int { return (n*8 + 4) / 5 }

// appendBase32 appends the unpadded base32 form of src to dst.
func appendBase32(dst, src []byte) []byte {
	var acc uint32
	bits := 0
	for _, b := range src {
		acc = acc<<8 | uint32(b)
		bits += 8
		for bits >= 5 {
			bits -= 5
			dst = append(dst, alphabet[(acc>>bits)&31])
		}
	}
	if bits > 0 {
		dst = append(dst, alphabet[(acc<<(5-bits))&31])
	}
	return dst
}

// decodeBase32 decodes the unpadded base32 string s into dst, which must have room for
// len(s)*5/8 bytes, and returns the number of bytes written. It is strict: a length that no
// byte count encodes to, a character outside the alphabet, or non-zero unused bits in the last
// character are errors, so each byte string has exactly one encoding per case.
func decodeBase32(dst []byte, s string) (int, error) {
	n := len(s) * 5 / 8
	if encodedLen(n) != len(s) || len(dst) < n {
		return 0, errLength
	}
	var acc uint32
	bits, w := 0, 0
	for i := range len(s) {
		v := decodeTable[s[i]]
		if v == invalid {
			return 0, errAlphabet
		}
		acc = acc<<5 | uint32(v)
		bits += 5
		if bits >= 8 {
			bits -= 8
			dst[w] = byte(acc >> bits)
			w++
		}
	}
	if acc&(1<<bits-1) != 0 {
		return 0, errAlphabet
	}
	return w, nil
}
