package clickid_test

import (
	"encoding/hex"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/clickid"
)

var (
	secretA = []byte("0123456789abcdef0123456789abcdef")
	secretB = []byte("fedcba9876543210fedcba9876543210")
)

func newSigner(t testing.TB, signing clickid.SignerKey, verifyOnly ...clickid.SignerKey) *clickid.Signer {
	t.Helper()
	s, err := clickid.NewSigner(signing, verifyOnly...)
	require.NoError(t, err)
	return s
}

func TestSigner_Vectors(t *testing.T) {
	t.Parallel()
	v := loadVectors(t)
	for _, vec := range v.Signed {
		secret, err := hex.DecodeString(vec.SecretHex)
		require.NoError(t, err)
		s := newSigner(t, clickid.SignerKey{ID: vec.KID, Secret: secret})
		id := clickid.ID(uuid.MustParse(vec.UUID))
		require.Equal(t, vec.Signed, s.Sign(id), "sign %s with key %d", vec.UUID, vec.KID)

		got, err := s.Verify(vec.Signed)
		require.NoError(t, err)
		require.Equal(t, id, got)
	}
	for _, vec := range v.Tokens {
		secret, err := hex.DecodeString(vec.SecretHex)
		require.NoError(t, err)
		s := newSigner(t, clickid.SignerKey{ID: vec.KID, Secret: secret})
		tok := clickid.Token{ID: clickid.ID(uuid.MustParse(vec.UUID)), AffiliateID: vec.Affiliate, CampaignID: vec.Campaign}
		signed, err := s.SignToken(tok)
		require.NoError(t, err)
		require.Equal(t, vec.Token, signed)

		got, err := s.VerifyToken(vec.Token)
		require.NoError(t, err)
		require.Equal(t, tok, got)
	}
}

func TestSigner_RoundTripAnyCase(t *testing.T) {
	t.Parallel()
	s := newSigner(t, clickid.SignerKey{ID: 3, Secret: secretA})
	for range 200 {
		id, err := clickid.New()
		require.NoError(t, err)
		signed := s.Sign(id)
		require.Len(t, signed, clickid.SignedLen)
		require.True(t, strings.HasPrefix(signed, id.String()), "a signed id starts with the plain id")
		for _, form := range []string{signed, strings.ToUpper(signed), mixedCase(signed)} {
			got, err := s.Verify(form)
			require.NoError(t, err, form)
			require.Equal(t, id, got)
		}
	}
}

// TestSigner_EveryMutationRejected replaces each character of a signed ID with every other
// byte value, and requires each result to fail verification. Only the other case of the
// same character is the same ID.
func TestSigner_EveryMutationRejected(t *testing.T) {
	t.Parallel()
	s := newSigner(t, clickid.SignerKey{ID: 1, Secret: secretA}, clickid.SignerKey{ID: 2, Secret: secretB})
	id := clickid.MustParse("0190f3a2-7c4e-7b1a-9f00-1c2d3e4f5a6b")
	signed := s.Sign(id)
	b := []byte(signed)
	checked := 0
	for i := range b {
		orig := b[i]
		for c := range 256 {
			if strings.EqualFold(string(rune(c)), string(rune(orig))) && c < 128 {
				continue
			}
			b[i] = byte(c)
			got, err := s.Verify(string(b))
			require.Error(t, err, "position %d changed from %q to %q verified", i, orig, c)
			require.True(t, got.IsZero())
			checked++
		}
		b[i] = orig
	}
	require.Greater(t, checked, clickid.SignedLen*250)
}

func TestSigner_TruncatedOrExtendedRejected(t *testing.T) {
	t.Parallel()
	s := newSigner(t, clickid.SignerKey{ID: 1, Secret: secretA})
	signed := s.Sign(clickid.MustParse("0190f3a2-7c4e-7b1a-9f00-1c2d3e4f5a6b"))
	for n := range len(signed) {
		_, err := s.Verify(signed[:n])
		require.ErrorIs(t, err, clickid.ErrSyntax, "truncated to %d", n)
	}
	for _, suffix := range []string{"0", "z", "&x=1", " "} {
		_, err := s.Verify(signed + suffix)
		require.ErrorIs(t, err, clickid.ErrSyntax)
	}
	// A plain, unsigned ID is not a signed ID.
	_, err := s.Verify(signed[:clickid.EncodedLen])
	require.ErrorIs(t, err, clickid.ErrSyntax)
}

func TestSigner_Rotation(t *testing.T) {
	t.Parallel()
	id := clickid.MustParse("0190f3a2-7c4e-7b1a-9f00-1c2d3e4f5a6b")
	oldKey := clickid.SignerKey{ID: 1, Secret: secretA}
	newKey := clickid.SignerKey{ID: 2, Secret: secretB}

	before := newSigner(t, oldKey)
	during := newSigner(t, newKey, oldKey)
	after := newSigner(t, newKey)

	signedOld := before.Sign(id)
	signedNew := during.Sign(id)
	require.NotEqual(t, signedOld, signedNew, "the signing key changed")
	require.Equal(t, byte('2'), signedNew[clickid.EncodedLen], "the key ID travels in the id")

	for _, tc := range []struct {
		name   string
		signer *clickid.Signer
		signed string
		err    error
	}{
		{"DuringAcceptsOld", during, signedOld, nil},
		{"DuringAcceptsNew", during, signedNew, nil},
		{"AfterRejectsOld", after, signedOld, clickid.ErrUnknownKey},
		{"AfterAcceptsNew", after, signedNew, nil},
		{"BeforeRejectsNew", before, signedNew, clickid.ErrUnknownKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.signer.Verify(tc.signed)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, id, got)
		})
	}
}

func TestSigner_WrongSecretSameKeyID(t *testing.T) {
	t.Parallel()
	mine := newSigner(t, clickid.SignerKey{ID: 1, Secret: secretA})
	theirs := newSigner(t, clickid.SignerKey{ID: 1, Secret: secretB})
	id := clickid.MustParse("0190f3a2-7c4e-7b1a-9f00-1c2d3e4f5a6b")
	_, err := mine.Verify(theirs.Sign(id))
	require.ErrorIs(t, err, clickid.ErrSignature)

	tok, err := theirs.SignToken(clickid.Token{ID: id, AffiliateID: "aff-1"})
	require.NoError(t, err)
	_, err = mine.VerifyToken(tok)
	require.ErrorIs(t, err, clickid.ErrSignature)
}

func TestNewSigner_RefusesBadKeys(t *testing.T) {
	t.Parallel()
	long := make([]byte, clickid.MinSecretLen)
	tests := []struct {
		name       string
		signing    clickid.SignerKey
		verifyOnly []clickid.SignerKey
		msg        string
	}{
		{"ShortSecret", clickid.SignerKey{ID: 1, Secret: make([]byte, clickid.MinSecretLen-1)}, nil, "at least 24"},
		{"NoSecret", clickid.SignerKey{ID: 1}, nil, "at least 24"},
		{"ShortVerifyOnly", clickid.SignerKey{ID: 1, Secret: long}, []clickid.SignerKey{{ID: 2, Secret: []byte("short")}}, "key 2"},
		{"KeyIDOutOfRange", clickid.SignerKey{ID: clickid.MaxKeyID + 1, Secret: long}, nil, "out of range"},
		{"DuplicateKeyID", clickid.SignerKey{ID: 4, Secret: long}, []clickid.SignerKey{{ID: 4, Secret: secretB}}, "given twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := clickid.NewSigner(tt.signing, tt.verifyOnly...)
			require.ErrorIs(t, err, clickid.ErrConfig)
			require.ErrorContains(t, err, tt.msg)
			require.Nil(t, s)
		})
	}
}

func TestNewSigner_CopiesSecret(t *testing.T) {
	t.Parallel()
	secret := append([]byte(nil), secretA...)
	s := newSigner(t, clickid.SignerKey{ID: 1, Secret: secret})
	id := clickid.MustParse("0190f3a2-7c4e-7b1a-9f00-1c2d3e4f5a6b")
	signed := s.Sign(id)
	clear(secret)
	_, err := s.Verify(signed)
	require.NoError(t, err, "changing the caller's slice must not change the key")
}

func TestSigner_Concurrent(t *testing.T) {
	t.Parallel()
	s := newSigner(t, clickid.SignerKey{ID: 1, Secret: secretA}, clickid.SignerKey{ID: 2, Secret: secretB})
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 500 {
				id, err := clickid.New()
				if err != nil {
					t.Error(err)
					return
				}
				got, err := s.Verify(s.Sign(id))
				if err != nil || got != id {
					t.Errorf("verify(sign(%s)) = %s, %v", id, got, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestSigner_Tokens(t *testing.T) {
	t.Parallel()
	s := newSigner(t, clickid.SignerKey{ID: 5, Secret: secretA})
	id := clickid.MustParse("0190f3a2-7c4e-7b1a-9f00-1c2d3e4f5a6b")

	t.Run("RoundTripAnyCase", func(t *testing.T) {
		t.Parallel()
		for _, tok := range []clickid.Token{
			{ID: id, AffiliateID: "a"},
			{ID: id, AffiliateID: "aff-42", CampaignID: "summer"},
			{ID: id, AffiliateID: strings.Repeat("x", clickid.MaxTokenField), CampaignID: strings.Repeat("y", clickid.MaxTokenField)},
			{ID: id, AffiliateID: "партнёр", CampaignID: "🎰"},
		} {
			signed, err := s.SignToken(tok)
			require.NoError(t, err)
			for _, form := range []string{signed, strings.ToUpper(signed)} {
				got, err := s.VerifyToken(form)
				require.NoError(t, err)
				require.Equal(t, tok, got)
			}
		}
	})

	t.Run("EveryMutationRejected", func(t *testing.T) {
		t.Parallel()
		signed, err := s.SignToken(clickid.Token{ID: id, AffiliateID: "aff-42", CampaignID: "c7"})
		require.NoError(t, err)
		b := []byte(signed)
		for i := range b {
			orig := b[i]
			for _, c := range []byte("0123456789abcdefghjkmnpqrstvwxyz") {
				if c == orig {
					continue
				}
				b[i] = c
				_, err := s.VerifyToken(string(b))
				require.Error(t, err, "position %d changed from %q to %q verified", i, orig, c)
			}
			b[i] = orig
		}
		for n := range len(signed) {
			_, err := s.VerifyToken(signed[:n])
			require.Error(t, err, "truncated to %d", n)
		}
	})

	t.Run("RefusesBadFields", func(t *testing.T) {
		t.Parallel()
		for name, tc := range map[string]struct {
			tok clickid.Token
			msg string
		}{
			"ZeroID":          {clickid.Token{AffiliateID: "a"}, "zero id"},
			"NoAffiliate":     {clickid.Token{ID: id}, "no affiliate"},
			"LongAffiliate":   {clickid.Token{ID: id, AffiliateID: strings.Repeat("a", clickid.MaxTokenField+1)}, "at most 64"},
			"LongCampaign":    {clickid.Token{ID: id, AffiliateID: "a", CampaignID: strings.Repeat("c", clickid.MaxTokenField+1)}, "campaign"},
			"ControlChar":     {clickid.Token{ID: id, AffiliateID: "a\nb"}, "control character"},
			"C1ControlChar":   {clickid.Token{ID: id, AffiliateID: "a\u0085b"}, "control character"},
			"InvalidUTF8":     {clickid.Token{ID: id, AffiliateID: "a\xffb"}, "UTF-8"},
			"CampaignControl": {clickid.Token{ID: id, AffiliateID: "a", CampaignID: "\x00"}, "campaign"},
		} {
			_, err := s.SignToken(tc.tok)
			require.ErrorIs(t, err, clickid.ErrSyntax, name)
			require.ErrorContains(t, err, tc.msg, name)
		}
	})

	t.Run("NotASignedID", func(t *testing.T) {
		t.Parallel()
		_, err := s.VerifyToken(s.Sign(id))
		require.ErrorIs(t, err, clickid.ErrSyntax, "a signed id is not a token")
		_, err = s.Verify(mustSignToken(t, s, clickid.Token{ID: id, AffiliateID: "a"}))
		require.ErrorIs(t, err, clickid.ErrSyntax, "a token is not a signed id")
	})

	t.Run("OtherIDsThatBeginLikeATokenAreNotTokens", func(t *testing.T) {
		t.Parallel()
		// 64 hex digits (a SHA-256 in hex, another system's ID) decode as base32, and 1 in 64
		// begin with a token's version byte; without a token's layout they are not tokens,
		// so a receiver that also accepts foreign IDs keeps them.
		for _, digest := range []string{
			"04" + strings.Repeat("a", 62),
			"07f3c2a1b0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a39281706f5e4d3c2b1a0f",
		} {
			_, err := s.VerifyToken(digest)
			require.ErrorIs(t, err, clickid.ErrSyntax, digest)
		}
	})

	t.Run("UnknownKey", func(t *testing.T) {
		t.Parallel()
		other := newSigner(t, clickid.SignerKey{ID: 9, Secret: secretA})
		_, err := s.VerifyToken(mustSignToken(t, other, clickid.Token{ID: id, AffiliateID: "a"}))
		require.ErrorIs(t, err, clickid.ErrUnknownKey)
	})
}

func mustSignToken(t *testing.T, s *clickid.Signer, tok clickid.Token) string {
	t.Helper()
	signed, err := s.SignToken(tok)
	require.NoError(t, err)
	return signed
}

// mixedCase upper-cases every other letter of s.
func mixedCase(s string) string {
	b := []byte(s)
	for i := 0; i < len(b); i += 2 {
		if b[i] >= 'a' && b[i] <= 'z' {
			b[i] -= 'a' - 'A'
		}
	}
	return string(b)
}
