package clickid

import (
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"hash"
	"sync"
	"unicode/utf8"
)

// Sizes of the signed forms.
const (
	// SignedLen is the length of a signed ID, as returned by [Signer.Sign]: the 26-character
	// compact ID, one character of key ID, then a 16-character (80-bit) tag.
	SignedLen = EncodedLen + 1 + tagChars
	// MinSecretLen is the shortest secret a [SignerKey] may have, in bytes: 24, as in
	// Standard Webhooks. It is the library's one minimum: postback.MinSecretLen is this.
	MinSecretLen = 24
	// MaxKeyID is the largest [SignerKey] ID: a key ID is one base32 character.
	MaxKeyID = 31
	// MaxTokenField is the longest affiliate or campaign ID a [Token] may carry, in bytes.
	MaxTokenField = 64
)

const (
	tagLen   = 10 // bytes of HMAC-SHA256 kept in a tag: 80 bits
	tagChars = 16 // base32 characters for tagLen bytes

	tokenVersion = 1
	// tokenMin and tokenMax bound the decoded size of a token: version, key ID, ID, two
	// length-prefixed fields and the tag.
	tokenMin = 1 + 1 + 16 + 1 + 1 + 1 + tagLen
	tokenMax = tokenMin - 1 + MaxTokenField + MaxTokenField

	// Domain separation: a secret shared with another scheme can never produce a valid tag
	// here by accident.
	idDomain    = "s2s-clickid-v1\x00"
	tokenDomain = "s2s-token-v1\x00"
)

var (
	errSignedLength = fmt.Errorf("%w: a signed id has %d characters", ErrSyntax, SignedLen)
	errTokenLength  = fmt.Errorf("%w: token length out of range", ErrSyntax)
	errTokenFormat  = fmt.Errorf("%w: malformed token", ErrSyntax)
)

// SignerKey is one secret of a [Signer], with the ID that signed values carry so that a
// verifier knows which secret to check them with.
//
// It is not postback.Key, the secret an operator shares with a tracker to sign postbacks:
// a SignerKey never leaves the tracker that mints the IDs, and its ID is part of the format
// of every signed ID and token (one base32 character, so 0 to [MaxKeyID]), where a postback
// key's ID is a free-form name sent beside the signature, and its validity is a time window.
// Two concepts, two names.
type SignerKey struct {
	// ID identifies the key in signed values, 0 to [MaxKeyID]. Give each new secret a new
	// ID and keep the old key as a verify-only key until values signed with it have expired.
	ID uint8
	// Secret is the HMAC-SHA256 secret, at least [MinSecretLen] bytes of random data. The
	// Signer keeps its own copy.
	Secret []byte
}

// Signer makes and checks self-validating click IDs and signed tokens. It holds one signing
// key and any number of verify-only keys, so secrets rotate without rejecting IDs already in
// circulation. A Signer is safe for concurrent use.
//
// A signed ID is the compact ID followed by the key ID and an 80-bit HMAC-SHA256 tag, all in
// the same case-insensitive base32 ([SignedLen] characters). A forged, truncated or mistyped
// ID fails [Signer.Verify] in a few hundred nanoseconds, with no allocation and before any
// store lookup; the chance that a guessed tag verifies is 2^-80 per attempt.
type Signer struct {
	signing *signerKey
	keys    [MaxKeyID + 1]*signerKey
}

// signerKey is a key with a pool of HMAC states for it.
type signerKey struct {
	id   uint8
	pool sync.Pool // of *macState
}

// macState is a reusable HMAC with scratch space, so that signing and verifying allocate
// nothing: the buffers live with the state, never on a stack that the hash interface would
// make escape.
type macState struct {
	h   hash.Hash
	in  [len(tokenDomain) + tokenMax]byte
	sum [sha256.Size]byte
}

// NewSigner returns a Signer that signs with signing and verifies with signing and each of
// verifyOnly. Secrets shorter than [MinSecretLen] bytes, key IDs above [MaxKeyID] and two keys
// with one ID are refused with an error wrapping [ErrConfig].
func NewSigner(signing SignerKey, verifyOnly ...SignerKey) (*Signer, error) {
	s := &Signer{}
	for i, k := range append([]SignerKey{signing}, verifyOnly...) {
		if k.ID > MaxKeyID {
			return nil, fmt.Errorf("%w: key ID %d out of range 0-%d", ErrConfig, k.ID, MaxKeyID)
		}
		if len(k.Secret) < MinSecretLen {
			return nil, fmt.Errorf("%w: key %d: secret has %d bytes, at least %d required", ErrConfig, k.ID, len(k.Secret), MinSecretLen)
		}
		if s.keys[k.ID] != nil {
			return nil, fmt.Errorf("%w: key ID %d given twice", ErrConfig, k.ID)
		}
		secret := append([]byte(nil), k.Secret...)
		sk := &signerKey{id: k.ID}
		sk.pool.New = func() any { return &macState{h: hmac.New(sha256.New, secret)} }
		s.keys[k.ID] = sk
		if i == 0 {
			s.signing = sk
		}
	}
	return s, nil
}

// Sign returns the signed form of id: [SignedLen] characters of lower-case base32.
func (s *Signer) Sign(id ID) string {
	var b [SignedLen]byte
	encodeCompact((*[EncodedLen]byte)(b[:EncodedLen]), &id)
	b[EncodedLen] = alphabet[s.signing.id]
	tag := s.signing.idTag(&id)
	appendBase32(b[EncodedLen+1:EncodedLen+1], tag[:])
	return string(b[:])
}

// Verify checks a signed ID made by [Signer.Sign] with any of the Signer's keys and returns
// the ID. It accepts the signed form in any case and allocates nothing. Errors wrap
// [ErrSyntax] (not a signed ID: wrong length or alphabet, including a plain unsigned ID),
// [ErrUnknownKey] or [ErrSignature].
func (s *Signer) Verify(signed string) (ID, error) {
	if len(signed) != SignedLen {
		return ID{}, errSignedLength
	}
	var id ID
	if err := decodeCompact(&id, signed[:EncodedLen]); err != nil {
		return ID{}, err
	}
	kid := decodeTable[signed[EncodedLen]]
	if kid == invalid {
		return ID{}, errAlphabet
	}
	var got [tagLen]byte
	if _, err := decodeBase32(got[:], signed[EncodedLen+1:]); err != nil {
		return ID{}, err
	}
	k := s.keys[kid]
	if k == nil {
		return ID{}, ErrUnknownKey
	}
	want := k.idTag(&id)
	if !hmac.Equal(got[:], want[:]) {
		return ID{}, ErrSignature
	}
	if id.IsZero() {
		return ID{}, errZero
	}
	return id, nil
}

// idTag computes the tag of a signed ID under k.
func (k *signerKey) idTag(id *ID) [tagLen]byte {
	m := k.pool.Get().(*macState)
	n := copy(m.in[:], idDomain)
	m.in[n] = k.id
	n++
	n += copy(m.in[n:], id[:])
	tag := m.tag(n)
	k.pool.Put(m)
	return tag
}

// tag returns the truncated HMAC of the first n bytes of m.in.
func (m *macState) tag(n int) [tagLen]byte {
	m.h.Reset()
	m.h.Write(m.in[:n])
	m.h.Sum(m.sum[:0])
	return [tagLen]byte(m.sum[:tagLen])
}

// Token is a click ID with the affiliate and campaign it belongs to, signed together as a
// tamper-proof "btag". A tracker that receives a verified token can attribute the conversion
// even when the click record was delayed or lost.
type Token struct {
	// ID is the click ID. It must not be zero.
	ID ID
	// AffiliateID identifies the affiliate: 1 to [MaxTokenField] bytes of UTF-8 without
	// control characters.
	AffiliateID string
	// CampaignID identifies the campaign or offer; it may be empty. Same rules as
	// AffiliateID otherwise.
	CampaignID string
}

// SignToken returns the signed form of t: case-insensitive base32, from 50 to 254
// characters long depending on the lengths of the fields. It refuses a zero ID, an empty
// affiliate ID and fields that break the rules of [Token] with an error wrapping [ErrSyntax].
func (s *Signer) SignToken(t Token) (string, error) {
	if t.ID.IsZero() {
		return "", fmt.Errorf("%w: token has a zero id", ErrSyntax)
	}
	if t.AffiliateID == "" {
		return "", fmt.Errorf("%w: token has no affiliate id", ErrSyntax)
	}
	if err := checkTokenField("affiliate", t.AffiliateID); err != nil {
		return "", err
	}
	if err := checkTokenField("campaign", t.CampaignID); err != nil {
		return "", err
	}
	k := s.signing
	m := k.pool.Get().(*macState)
	defer k.pool.Put(m)
	d := len(tokenDomain)
	n := copy(m.in[:], tokenDomain)
	m.in[n], m.in[n+1] = tokenVersion, k.id
	n += 2
	n += copy(m.in[n:], t.ID[:])
	m.in[n] = byte(len(t.AffiliateID))
	n++
	n += copy(m.in[n:], t.AffiliateID)
	m.in[n] = byte(len(t.CampaignID))
	n++
	n += copy(m.in[n:], t.CampaignID)
	tag := m.tag(n)
	payload := append(m.in[d:n:n], tag[:]...)
	return string(appendBase32(make([]byte, 0, encodedLen(len(payload))), payload)), nil
}

// VerifyToken checks a token made by [Signer.SignToken] with any of the Signer's keys and
// returns its contents. Errors wrap [ErrSyntax] (not a token: a wrong length, alphabet,
// version or layout, which a change to a length inside it also gives), [ErrUnknownKey] or
// [ErrSignature] (a token changed, or signed with another secret).
func (s *Signer) VerifyToken(signed string) (Token, error) {
	if len(signed) < encodedLen(tokenMin) || len(signed) > encodedLen(tokenMax) {
		return Token{}, errTokenLength
	}
	var raw [tokenMax]byte
	n, err := decodeBase32(raw[:], signed)
	if err != nil {
		return Token{}, err
	}
	p := raw[:n]
	if p[0] != tokenVersion {
		return Token{}, fmt.Errorf("%w: unknown token version %d", ErrSyntax, p[0])
	}
	// Layout: version, key ID, ID[16], len, affiliate, len, campaign, tag. A value that does
	// not parse as one is ErrSyntax, not a token: the tag is checked only on something with a
	// token's whole structure, so that another system's ID (a hex digest, say) that happens to
	// begin like a token is not taken for a forged one.
	affLen := int(p[18])
	if 19+affLen+1+tagLen > n {
		return Token{}, errTokenFormat
	}
	campLen := int(p[19+affLen])
	if 19+affLen+1+campLen+tagLen != n {
		return Token{}, errTokenFormat
	}
	if p[1] > MaxKeyID || s.keys[p[1]] == nil {
		return Token{}, ErrUnknownKey
	}
	k := s.keys[p[1]]
	m := k.pool.Get().(*macState)
	body := n - tagLen
	copy(m.in[:], tokenDomain)
	copy(m.in[len(tokenDomain):], p[:body])
	want := m.tag(len(tokenDomain) + body)
	k.pool.Put(m)
	if !hmac.Equal(p[body:n], want[:]) {
		return Token{}, ErrSignature
	}
	t := Token{
		ID:          ID(p[2:18]),
		AffiliateID: string(p[19 : 19+affLen]),
		CampaignID:  string(p[20+affLen : 20+affLen+campLen]),
	}
	// A token with a valid tag was made by SignToken, which checks these; checking again
	// guards against a secret shared with a careless signer.
	if t.ID.IsZero() || t.AffiliateID == "" || checkTokenField("affiliate", t.AffiliateID) != nil || checkTokenField("campaign", t.CampaignID) != nil {
		return Token{}, errTokenFormat
	}
	return t, nil
}

// checkTokenField applies the rules of [Token] to one field.
func checkTokenField(name, v string) error {
	if len(v) > MaxTokenField {
		return fmt.Errorf("%w: token %s id has %d bytes, at most %d allowed", ErrSyntax, name, len(v), MaxTokenField)
	}
	if !utf8.ValidString(v) {
		return fmt.Errorf("%w: token %s id is not valid UTF-8", ErrSyntax, name)
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return fmt.Errorf("%w: token %s id contains a control character", ErrSyntax, name)
		}
	}
	return nil
}
