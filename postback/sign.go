package postback

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"time"

	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/store"
)

// Names of the s2s v1 parameters.
const (
	paramSig = "sig"
	paramTS  = "ts"
	paramKID = "kid"
)

const (
	// MinSecretLen is the shortest secret or token accepted, in bytes, as in Standard
	// Webhooks: the library's one minimum, clickid.MinSecretLen. Use 32 random bytes.
	MinSecretLen = clickid.MinSecretLen
	// MaxKeys is the largest number of keys a source may hold.
	MaxKeys = 10
	// MaxSignatures is the largest number of signatures examined in one request; a Standard
	// Webhooks header with more is rejected (ReasonTooManySignatures).
	MaxSignatures = 10
	// DefaultTolerance is how far a signed timestamp may be from the receiver's clock, in
	// either direction, unless SourceOptions.Tolerance says otherwise.
	DefaultTolerance = 300 * time.Second
)

// Key is one HMAC-SHA256 secret of a source, with the ID that names it and the period in
// which it is active. Several keys overlap during a rotation: give the new key a new ID,
// give the old one a NotAfter at the end of the overlap.
//
// It is the secret that a sender and a receiver share to sign postbacks, not
// clickid.SignerKey, the tracker's own secret for minting signed click IDs: a Key's ID is a
// free-form name (under the store's rule for identifiers) sent beside the signature, where a
// SignerKey's is a five-bit field inside every ID it signs.
type Key struct {
	// ID names the key. With the s2s v1 scheme a signed query may carry it in "kid"; then
	// only that key is tried. It may be empty for a source with a single key.
	ID string
	// Secret is at least MinSecretLen bytes of random data. The source keeps its own copy.
	Secret []byte
	// NotBefore and NotAfter bound the key's activity: it verifies from NotBefore (inclusive)
	// until NotAfter (exclusive). Zero means unbounded.
	NotBefore, NotAfter time.Time
}

func (k *Key) active(now time.Time) bool {
	return (k.NotBefore.IsZero() || !now.Before(k.NotBefore)) && (k.NotAfter.IsZero() || now.Before(k.NotAfter))
}

// active reports whether the key verifies at now.
func (k *ringKey) active(now time.Time) bool {
	return k.always || k.Key.active(now)
}

// ringKey is a configured key.
type ringKey struct {
	Key
	encID  string // the canonical encoding of ID, as it appears in a canonical query
	always bool   // no NotBefore, no NotAfter
}

// macState is an HMAC-SHA256 state for one key, kept in a work so that verifying needs
// neither an allocation nor a pool of its own.
type macState struct {
	h   hash.Hash
	sum [sha256.Size]byte
}

// equal computes HMAC-SHA256(key, msg) and reports whether it equals want, in constant
// time.
func (m *macState) equal(msg []byte, want *[sha256.Size]byte) bool {
	m.h.Reset()
	m.h.Write(msg)
	return hmac.Equal(m.h.Sum(m.sum[:0]), want[:])
}

// newKeyring checks keys and returns them as a source keeps them. Its errors are the broken
// rule, for NewSource to wrap.
func newKeyring(keys []Key) ([]*ringKey, error) {
	if len(keys) == 0 {
		return nil, errors.New("no keys")
	}
	if len(keys) > MaxKeys {
		return nil, fmt.Errorf("%d keys, at most %d", len(keys), MaxKeys)
	}
	ring := make([]*ringKey, 0, len(keys))
	seen := map[string]bool{}
	for _, k := range keys {
		if len(k.Secret) < MinSecretLen {
			return nil, fmt.Errorf("key %q: secret has %d bytes, at least %d required", k.ID, len(k.Secret), MinSecretLen)
		}
		if err := store.CheckKey(k.ID); err != nil {
			return nil, fmt.Errorf("key ID: %w", err)
		}
		if seen[k.ID] {
			return nil, fmt.Errorf("key ID %q given twice", k.ID)
		}
		seen[k.ID] = true
		secret := append([]byte(nil), k.Secret...)
		ring = append(ring, &ringKey{
			Key:    Key{ID: k.ID, Secret: secret, NotBefore: k.NotBefore, NotAfter: k.NotAfter},
			encID:  rfc3986(k.ID),
			always: k.NotBefore.IsZero() && k.NotAfter.IsZero(),
		})
	}
	return ring, nil
}

// mac returns the HMAC state of ring[i], the i-th key of the work's source.
func (w *work) mac(i int, k *ringKey) *macState {
	m := w.macs[i]
	if m == nil {
		m = &macState{h: hmac.New(sha256.New, k.Secret)}
		w.macs[i] = m
	}
	return m
}

// StringToSign returns the s2s v1 string to sign for a request to path (its percent-encoded
// form, as sent) with the raw query rawQuery: "s2s-v1", a newline, path, a newline and the
// canonical query. A sig parameter is left out. It applies the parser's rules: a malformed
// query, repeated keys, ';' and the limits are errors wrapping ErrInvalidQuery, whose
// Reason (ReasonOf) is the one a receiver would give.
func StringToSign(path, rawQuery string) (string, error) {
	w := new(work)
	if rej := w.load(rawQuery); rej != nil {
		return "", asQuery(rej)
	}
	return string(w.appendMessage(nil, path)), nil
}

// load parses and canonicalises a raw query into w.
func (w *work) load(rawQuery string) *RejectError {
	if len(rawQuery) > MaxQueryBytes {
		return errQueryTooLarge
	}
	if err := w.split(rawQuery, false); err != nil {
		return err
	}
	return w.canonicalize()
}

// SignQuery signs a request to path with the s2s v1 scheme: it returns rawQuery with ts
// (at's Unix seconds), kid (if key.ID is set) and sig appended. A secret shorter than
// MinSecretLen bytes is an error wrapping ErrConfig; a query that breaks the scheme's rules
// (ts, kid or sig already in it, a malformed escape, a repeated key...) one wrapping
// ErrInvalidQuery, with the Reason a receiver would give.
func SignQuery(path, rawQuery string, key Key, at time.Time) (string, error) {
	if len(key.Secret) < MinSecretLen {
		return "", fmt.Errorf("%w: secret has %d bytes, at least %d required", ErrConfig, len(key.Secret), MinSecretLen)
	}
	if err := store.CheckKey(key.ID); err != nil {
		return "", fmt.Errorf("%w: key ID: %w", ErrConfig, err)
	}
	q := rawQuery
	if q != "" {
		q += "&"
	}
	q += paramTS + "=" + strconv.FormatInt(at.Unix(), 10)
	if key.ID != "" {
		q += "&" + paramKID + "=" + rfc3986(key.ID)
	}
	w := new(work)
	if rej := w.load(q); rej != nil {
		return "", asQuery(rej)
	}
	if w.sig() != nil {
		return "", asQuery(rejectField(ReasonRepeatedKey, paramSig, "the query already has a sig parameter", nil))
	}
	mac := hmac.New(sha256.New, key.Secret)
	mac.Write(w.appendMessage(nil, path))
	return q + "&" + paramSig + "=" + hex.EncodeToString(mac.Sum(nil)), nil
}

// verifyQuery checks the s2s v1 signature of the canonicalised parameters in w against the
// keyring and returns the ID of the key that verified.
func (w *work) verifyQuery(ring []*ringKey, path string, now time.Time, tol time.Duration) (string, *RejectError) {
	sigp := w.sig()
	if sigp == nil {
		return "", errMissingSig
	}
	tsp := w.ts()
	if tsp == nil {
		return "", errMissingTS
	}
	ts, ok := parseUnix(tsp.ev)
	if !ok {
		return "", errBadTS
	}
	if rej := checkTolerance(ts, now, tol); rej != nil {
		return "", rej
	}
	var want [sha256.Size]byte
	if !sigp.raw || !decodeHex(&want, sigp.val) {
		return "", errBadSig
	}
	var kid string
	kidp := w.kid()
	if kidp != nil {
		kid = kidp.ev
	}
	w.msg = w.appendMessage(w.msg[:0], path)
	tried := 0
	for i, k := range ring {
		if kidp != nil && kid != k.encID {
			continue
		}
		if !k.active(now) {
			continue
		}
		tried++
		if w.mac(i, k).equal(w.msg, &want) {
			return k.ID, nil
		}
	}
	if tried == 0 {
		return "", errUnknownKey
	}
	return "", errBadSig
}

// checkTolerance accepts ts if it is at most tol from now (in whole seconds), in either
// direction: with the default 300 s, now-300 and now+300 are accepted, now±301 rejected.
func checkTolerance(ts int64, now time.Time, tol time.Duration) *RejectError {
	d := now.Unix() - ts
	t := int64(tol / time.Second)
	if d > t || d < -t {
		return errTolerance
	}
	return nil
}

// parseUnix parses 1 to 12 ASCII digits.
func parseUnix(b string) (int64, bool) {
	if len(b) == 0 || len(b) > 12 {
		return 0, false
	}
	var n int64
	for _, c := range []byte(b) {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// decodeHex decodes exactly 64 lower-case hex digits into dst: the one spelling of a
// signature that the s2s v1 scheme allows. It works on eight digits at a time, in the bits of
// a uint64, with no branch on the digits.
func decodeHex(dst *[sha256.Size]byte, src string) bool {
	if len(src) != 2*sha256.Size {
		return false
	}
	const ones = 0x0101010101010101
	bad := uint64(0)
	for i := 0; i < sha256.Size; i += 4 {
		s := src[2*i : 2*i+8]
		x := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
			uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
		// Every byte must be ASCII, then a digit or a letter a-f. For bytes under 0x80,
		// x + (0x80-lo) has its top bit set where x >= lo, and x + (0x7f-hi) where x > hi,
		// with no carry between bytes.
		digit := (x + (0x80-'0')*ones) &^ (x + (0x7f-'9')*ones)
		alpha := (x + (0x80-'a')*ones) &^ (x + (0x7f-'f')*ones)
		bad |= x&(0x80*ones) | ^(digit|alpha)&(0x80*ones)
		// The value of each digit: its low nibble, plus 9 for a letter (bit 6 set).
		v := x&(0x0f*ones) + (x>>6&ones)*9
		// Two digits to a byte, then the four bytes together.
		b := (v<<4 | v>>8) & 0x00ff00ff00ff00ff
		b |= b >> 8
		binary.LittleEndian.PutUint32(dst[i:], uint32(b)&0xffff|uint32(b>>16)&0xffff0000)
	}
	return bad == 0
}
