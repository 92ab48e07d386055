package postback_test

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/postback"
	"github.com/stretchr/testify/require"
)

type vector struct {
	Name           string `json:"name"`
	Secret         string `json:"secret"`
	KID            string `json:"kid"`
	Path           string `json:"path"`
	Query          string `json:"query"`
	CanonicalQuery string `json:"canonical_query"`
	StringToSign   string `json:"string_to_sign"`
	Sig            string `json:"sig"`
	SignedQuery    string `json:"signed_query"`
}

func loadVectors(t testing.TB) []vector {
	data, err := os.ReadFile("testdata/vectors.json")
	require.NoError(t, err)
	var vs []vector
	require.NoError(t, json.Unmarshal(data, &vs))
	require.GreaterOrEqual(t, len(vs), 12)
	return vs
}

// TestVectors checks the published s2s v1 vectors, made by an independent Python
// implementation (testdata/gen_vectors.py): string to sign, and verification.
func TestVectors(t *testing.T) {
	t.Parallel()
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			t.Parallel()
			sts, err := postback.StringToSign(v.Path, v.SignedQuery)
			require.NoError(t, err)
			require.Equal(t, v.StringToSign, sts)

			c := &clock{t: t0}
			// Verification needs the clock at the vector's ts.
			src, err := postback.NewSource("v", postback.Auth{Method: postback.MethodSignedQuery,
				Keys: []postback.Key{{ID: v.KID, Secret: []byte(v.Secret)}}},
				&postback.SourceOptions{Now: c.Now, Dialect: &postback.Dialect{ClickID: []string{"click_id"}, DefaultEvent: event.Conversion}})
			require.NoError(t, err)
			pb, err := src.ParseQuery(v.Path, v.SignedQuery)
			require.NoError(t, err)
			require.Equal(t, v.KID, pb.KeyID)

			// The same query fails under another secret.
			other, err := postback.NewSource("v", postback.Auth{Method: postback.MethodSignedQuery,
				Keys: []postback.Key{{ID: v.KID, Secret: []byte("a-completely-different-secret!!")}}},
				&postback.SourceOptions{Now: c.Now, Dialect: &postback.Dialect{ClickID: []string{"click_id"}, DefaultEvent: event.Conversion}})
			require.NoError(t, err)
			_, err = other.ParseQuery(v.Path, v.SignedQuery)
			require.Equal(t, postback.ReasonBadSignature, postback.ReasonOf(err))
			if v.Name == "vanilla" {
				// Our signer makes the published signed query byte for byte.
				require.Equal(t, v.SignedQuery, sign(t, v.Path, pbQuery, postback.Key{Secret: []byte(v.Secret)}, t0))
			}
		})
	}
}

func TestStringToSign_Rules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, q, want string
		reason        postback.Reason
	}{
		{name: "sig left out", q: "b=2&sig=00&a=1", want: "a=1&b=2"},
		{name: "space forms agree", q: "a=x+y", want: "a=x%20y"},
		{name: "percent 20", q: "a=x%20y", want: "a=x%20y"},
		{name: "plus sign kept", q: "a=x%2By", want: "a=x%2By"},
		{name: "lower hex upper-cased", q: "a=%c3%a9", want: "a=%C3%A9"},
		{name: "unreserved decoded", q: "a=%41%7e", want: "a=A~"},
		{name: "prefix key sorts first", q: "id-type=1&id=2", want: "id=2&id-type=1"},
		{name: "bytewise order", q: "b=1&B=2&_=3&a=4", want: "B=2&_=3&a=4&b=1"},
		{name: "key without value", q: "flag&a=1", want: "a=1&flag="},
		{name: "repeated key", q: "a=1&a=2", reason: postback.ReasonRepeatedKey},
		{name: "repeated after decoding", q: "a=1&%61=2", reason: postback.ReasonRepeatedKey},
		{name: "semicolon", q: "a=1;b=2", reason: postback.ReasonSemicolon},
		{name: "bad escape", q: "a=%zz", reason: postback.ReasonMalformedQuery},
		{name: "truncated escape", q: "a=%4", reason: postback.ReasonMalformedQuery},
		{name: "empty key", q: "=1", reason: postback.ReasonMalformedQuery},
		{name: "unfilled percent macro", q: "a=%clickid%", reason: postback.ReasonUnfilledMacro},
		{name: "too many", q: strings.Repeat("k=v&", 0) + manyParams(101), reason: postback.ReasonTooManyParams},
		{name: "too large", q: "a=" + strings.Repeat("x", postback.MaxQueryBytes), reason: postback.ReasonQueryTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := postback.StringToSign("/p", tt.q)
			if tt.reason != "" {
				require.ErrorIs(t, err, postback.ErrInvalidQuery)
				require.NotErrorIs(t, err, postback.ErrRejected)
				require.Equal(t, tt.reason, postback.ReasonOf(err))
				return
			}
			require.NoError(t, err)
			require.Equal(t, "s2s-v1\n/p\n"+tt.want, got)
		})
	}
	_, err := postback.StringToSign("/p", manyParams(100))
	require.NoError(t, err, "100 parameters are allowed")
}

func manyParams(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte('&')
		}
		fmt.Fprintf(&b, "k%d=v", i)
	}
	return b.String()
}

// TestCanonical_NoCollisions splits random strings into random key/value pairs 100,000 times:
// two different parameter lists never give the same canonical query.
func TestCanonical_NoCollisions(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = "ab=&%+ 1é;"
	seen := make(map[string]string, 100_000)
	n := 100_000
	if testing.Short() {
		n = 10_000
	}
	for range n {
		// A random list of 1-3 pairs of short random strings, encoded properly.
		var pairs []string
		keys := map[string]bool{}
		for range 1 + rng.IntN(3) {
			k := randString(rng, alphabet, 1+rng.IntN(4))
			if keys[k] || k == "sig" {
				continue
			}
			keys[k] = true
			pairs = append(pairs, url.QueryEscape(k)+"="+url.QueryEscape(randString(rng, alphabet, rng.IntN(4))))
		}
		q := strings.Join(pairs, "&")
		sts, err := postback.StringToSign("/p", q)
		require.NoError(t, err, q)
		// Identity of a parameter list: its decoded, sorted pairs.
		vals, err := url.ParseQuery(q)
		require.NoError(t, err)
		id := canonicalIdentity(vals)
		if prev, ok := seen[sts]; ok {
			require.Equal(t, prev, id, "collision: %q", sts)
		}
		seen[sts] = id
	}
	// Classic delimiter attacks.
	a, _ := postback.StringToSign("/p", "foo=bar")
	b, _ := postback.StringToSign("/p", "foob=ar")
	require.NotEqual(t, a, b)
	a, _ = postback.StringToSign("/p", "a=1&b=2")
	b, _ = postback.StringToSign("/p", "a=1%26b%3D2")
	require.NotEqual(t, a, b)
}

func canonicalIdentity(v url.Values) string {
	var b strings.Builder
	for k, vs := range v {
		b.WriteString(strconv.Quote(k) + "=" + strconv.Quote(vs[0]) + ";")
	}
	parts := strings.Split(b.String(), ";")
	slicesSort(parts)
	return strings.Join(parts, ";")
}

func slicesSort(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func randString(rng *rand.Rand, alphabet string, n int) string {
	r := []rune(alphabet)
	var b strings.Builder
	for range n {
		b.WriteRune(r[rng.IntN(len(r))])
	}
	return b.String()
}

const pbQuery = "click_id=01j3st4z2efcd9y00w5mz4ypkb&event=ftd&amount=150.00&currency=EUR&txn_id=TX-99812"

// TestSignedQuery_Tamper changes every byte of every parameter (value, the timestamp, the
// key ID and the signature) of a signed query: every change is rejected.
func TestSignedQuery_Tamper(t *testing.T) {
	t.Parallel()
	c := &clock{t: t0}
	key := postback.Key{ID: "k1", Secret: secret}
	src := signedSource(t, c, key)
	q := sign(t, "/postback", pbQuery, key, t0)
	_, err := src.ParseQuery("/postback", q)
	require.NoError(t, err)

	accepted := 0
	for i := range len(q) {
		for _, delta := range []byte{1, 0x20} {
			b := []byte(q)
			b[i] ^= delta
			tq := string(b)
			if _, err := src.ParseQuery("/postback", tq); err == nil {
				// A change that decodes to the same parameters and signature (the case of a
				// percent-escape's hex digits) is not a tamper.
				s1, _ := postback.StringToSign("/postback", tq)
				s2, _ := postback.StringToSign("/postback", q)
				if s1 != s2 || !sameSig(tq, q) {
					accepted++
					t.Errorf("tampered query accepted: byte %d ^ %#x: %q", i, delta, tq)
				}
			}
		}
	}
	require.Zero(t, accepted)
	// The path is signed too.
	_, err = src.ParseQuery("/postbacK", q)
	require.Equal(t, postback.ReasonBadSignature, postback.ReasonOf(err))
}

// sameSig reports whether two queries carry the same sig, byte for byte: a signature has one
// spelling, lower-case hex.
func sameSig(a, b string) bool {
	va, _ := url.ParseQuery(a)
	vb, _ := url.ParseQuery(b)
	return va.Get("sig") == vb.Get("sig")
}

// TestSignedQuery_SigSpelling: a signature verifies only in the spelling the scheme gives it,
// 64 lower-case hex digits, so that each signature has exactly one.
func TestSignedQuery_SigSpelling(t *testing.T) {
	t.Parallel()
	c := &clock{t: t0}
	src := signedSource(t, c)
	good := sign(t, "/postback", pbQuery, postback.Key{Secret: secret}, t0)
	i := strings.LastIndex(good, "&sig=") + len("&sig=")
	unsigned, sig := good[:i], good[i:]
	require.Regexp(t, "^[0-9a-f]{64}$", sig)
	_, err := src.ParseQuery("/postback", good)
	require.NoError(t, err)
	firstLetter := strings.IndexAny(sig, "abcdef")
	require.GreaterOrEqual(t, firstLetter, 0)
	for name, spelled := range map[string]string{
		"upper case":       strings.ToUpper(sig),
		"one letter upper": sig[:firstLetter] + strings.ToUpper(sig[firstLetter:firstLetter+1]) + sig[firstLetter+1:],
		"percent-encoded":  "%" + hex.EncodeToString([]byte(sig[:1])) + sig[1:],
		"with a plus":      sig + "+",
		"with a space":     sig + "%20",
	} {
		_, err := src.ParseQuery("/postback", unsigned+spelled)
		require.Equal(t, postback.ReasonBadSignature, postback.ReasonOf(err), name)
	}
}

// TestSignedQuery_Tolerance checks the boundary: 300 s either way is accepted, 301 s is not.
func TestSignedQuery_Tolerance(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		offset time.Duration // now - ts
		ok     bool
	}{
		{"now", 0, true},
		{"300s old", 300 * time.Second, true},
		{"300.9s old (whole seconds)", 300*time.Second + 900*time.Millisecond, true},
		{"301s old", 301 * time.Second, false},
		{"300s ahead", -300 * time.Second, true},
		{"301s ahead", -301 * time.Second, false},
		{"a day old", 24 * time.Hour, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := &clock{t: t0.Add(tt.offset)}
			src := signedSource(t, c)
			_, err := src.ParseQuery("/postback", sign(t, "/postback", pbQuery, postback.Key{Secret: secret}, t0))
			if tt.ok {
				require.NoError(t, err)
			} else {
				require.Equal(t, postback.ReasonTimestampTolerance, postback.ReasonOf(err))
			}
		})
	}
}

func TestSignedQuery_Rotation(t *testing.T) {
	t.Parallel()
	overlapEnd := t0.Add(24 * time.Hour)
	old := postback.Key{ID: "old", Secret: secret, NotAfter: overlapEnd}
	cur := postback.Key{ID: "new", Secret: secret2, NotBefore: t0}
	c := &clock{}
	src := signedSource(t, c, old, cur)

	for _, tc := range []struct {
		name   string
		key    postback.Key
		at     time.Time
		reason postback.Reason
	}{
		{"old key inside overlap", old, t0.Add(time.Hour), ""},
		{"new key inside overlap", cur, t0.Add(time.Hour), ""},
		{"old key at overlap end", old, overlapEnd, postback.ReasonUnknownKey},
		{"new key after overlap", cur, overlapEnd.Add(time.Hour), ""},
		{"new key before its start", cur, t0.Add(-time.Hour), postback.ReasonUnknownKey},
		{"unknown kid", postback.Key{ID: "nope", Secret: secret}, t0, postback.ReasonUnknownKey},
		{"kid of one key, secret of the other", postback.Key{ID: "new", Secret: secret}, t0.Add(time.Hour), postback.ReasonBadSignature},
	} {
		c.t = tc.at
		pb, err := src.ParseQuery("/postback", sign(t, "/postback", pbQuery, tc.key, tc.at))
		if tc.reason == "" {
			require.NoError(t, err, tc.name)
			require.Equal(t, tc.key.ID, pb.KeyID, tc.name)
		} else {
			require.Equal(t, tc.reason, postback.ReasonOf(err), tc.name)
		}
	}
	// Without a kid every active key is tried.
	c.t = t0.Add(time.Hour)
	_, err := src.ParseQuery("/postback", sign(t, "/postback", pbQuery, postback.Key{Secret: secret2}, c.t))
	require.NoError(t, err)
}

// TestSignedQuery_Downgrade: a source configured to sign accepts nothing less.
func TestSignedQuery_Downgrade(t *testing.T) {
	t.Parallel()
	c := &clock{t: t0}
	src := signedSource(t, c)
	good := sign(t, "/postback", pbQuery, postback.Key{Secret: secret}, t0)
	sig := good[strings.LastIndex(good, "&sig=")+5:]
	for _, tc := range []struct {
		name, q string
		reason  postback.Reason
	}{
		{"no signature at all", pbQuery, postback.ReasonMissingSignature},
		{"timestamp but no sig", pbQuery + "&ts=1732350000", postback.ReasonMissingSignature},
		{"sig but no timestamp", pbQuery + "&sig=" + sig, postback.ReasonMissingTimestamp},
		{"a static token instead", pbQuery + "&ts=1732350000&token=" + string(secret), postback.ReasonMissingSignature},
		{"empty sig", pbQuery + "&ts=1732350000&sig=", postback.ReasonBadSignature},
		{"sig of another version", pbQuery + "&ts=1732350000&sig=v0," + sig, postback.ReasonBadSignature},
		{"two sigs", good + "&sig=" + sig, postback.ReasonRepeatedKey},
		{"two timestamps", good + "&ts=1732350001", postback.ReasonRepeatedKey},
		{"short sig", pbQuery + "&ts=1732350000&sig=" + sig[:32], postback.ReasonBadSignature},
		{"non-numeric ts", pbQuery + "&ts=17323500x0&sig=" + sig, postback.ReasonBadTimestamp},
		{"negative ts", pbQuery + "&ts=-1732350000&sig=" + sig, postback.ReasonBadTimestamp},
	} {
		_, err := src.ParseQuery("/postback", tc.q)
		require.Equal(t, tc.reason, postback.ReasonOf(err), tc.name)
	}
}

// TestSignedQuery_Replay: a replayed signed postback verifies again inside the tolerance (the
// Receiver's dedup answers Duplicate) and is rejected outside it, before any Receiver.
func TestSignedQuery_Replay(t *testing.T) {
	t.Parallel()
	c := &clock{t: t0}
	src := signedSource(t, c)
	q := sign(t, "/postback", pbQuery, postback.Key{Secret: secret}, t0)
	c.t = t0.Add(299 * time.Second)
	_, err := src.ParseQuery("/postback", q)
	require.NoError(t, err)
	c.t = t0.Add(10 * time.Minute)
	_, err = src.ParseQuery("/postback", q)
	require.Equal(t, postback.ReasonTimestampTolerance, postback.ReasonOf(err))
}

func TestNewSource_Config(t *testing.T) {
	t.Parallel()
	short := []byte("only-23-bytes-of-secret")
	require.Len(t, short, 23)
	tests := []struct {
		name string
		auth postback.Auth
		opts *postback.SourceOptions
	}{
		{"no method", postback.Auth{}, nil},
		{"short secret", postback.Auth{Method: postback.MethodSignedQuery, Keys: []postback.Key{{Secret: short}}}, nil},
		{"short webhook secret", postback.Auth{Method: postback.MethodStandardWebhooks, Keys: []postback.Key{{Secret: short}}}, nil},
		{"short token", postback.Auth{Method: postback.MethodToken, Token: short}, nil},
		{"no keys", postback.Auth{Method: postback.MethodSignedQuery}, nil},
		{"duplicate key IDs", postback.Auth{Method: postback.MethodSignedQuery, Keys: []postback.Key{{ID: "a", Secret: secret}, {ID: "a", Secret: secret2}}}, nil},
		{"too many keys", postback.Auth{Method: postback.MethodSignedQuery, Keys: manyKeys(postback.MaxKeys + 1)}, nil},
		{"keys for a token source", postback.Auth{Method: postback.MethodToken, Token: secret, Keys: []postback.Key{{Secret: secret}}}, nil},
		{"dialect maps sig", postback.Auth{Method: postback.MethodSignedQuery, Keys: []postback.Key{{Secret: secret}}},
			&postback.SourceOptions{Dialect: &postback.Dialect{ClickID: []string{"sig"}}}},
		{"dialect maps the token parameter", postback.Auth{Method: postback.MethodToken, Token: secret},
			&postback.SourceOptions{Dialect: &postback.Dialect{ClickID: []string{"token"}}}},
		{"negative tolerance", postback.Auth{Method: postback.MethodNone}, &postback.SourceOptions{Tolerance: -time.Second}},
		{"key ID with a newline", postback.Auth{Method: postback.MethodSignedQuery, Keys: []postback.Key{{ID: "k\n1", Secret: secret}}}, nil},
		{"key ID too long for the store", postback.Auth{Method: postback.MethodStandardWebhooks, Keys: []postback.Key{{ID: strings.Repeat("k", 256), Secret: secret}}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := postback.NewSource("s", tt.auth, tt.opts)
			require.ErrorIs(t, err, postback.ErrConfig)
			require.NotContains(t, err.Error(), string(secret))
		})
	}
	_, err := postback.NewSource("s", postback.Auth{Method: postback.MethodSignedQuery, Keys: manyKeys(postback.MaxKeys)}, nil)
	require.NoError(t, err)

	// The source's name is part of every stored conversion: it follows the store's rules.
	for _, name := range []string{"", "casino\x00x", "casino\nx", "\xff", strings.Repeat("n", 256)} {
		_, err := postback.NewSource(name, postback.Auth{Method: postback.MethodNone}, nil)
		require.ErrorIs(t, err, postback.ErrConfig, "%q", name)
	}
	_, err = postback.NewSource(strings.Repeat("n", 255), postback.Auth{Method: postback.MethodNone}, nil)
	require.NoError(t, err)
}

func manyKeys(n int) []postback.Key {
	ks := make([]postback.Key, n)
	for i := range ks {
		ks[i] = postback.Key{ID: strconv.Itoa(i), Secret: secret}
	}
	return ks
}

func TestSignQuery(t *testing.T) {
	t.Parallel()
	_, err := postback.SignQuery("/p", "a=1", postback.Key{Secret: []byte("short")}, t0)
	require.ErrorIs(t, err, postback.ErrConfig)
	_, err = postback.SignQuery("/p", "a=1", postback.Key{ID: "k\x00", Secret: secret}, t0)
	require.ErrorIs(t, err, postback.ErrConfig, "a key ID that no receiver can configure")

	// A query the scheme cannot sign is the signer's own error, never "rejected": nothing was
	// received. Its Reason is the receiver's.
	for q, want := range map[string]postback.Reason{
		"a=1&sig=00": postback.ReasonRepeatedKey,
		"a=1&ts=1":   postback.ReasonRepeatedKey,
		"a=1&kid=k":  postback.ReasonRepeatedKey,
		"a=1&a=2":    postback.ReasonRepeatedKey,
		"a=%zz":      postback.ReasonMalformedQuery,
		"a=1;b=2":    postback.ReasonSemicolon,
	} {
		_, err := postback.SignQuery("/p", q, postback.Key{ID: "k", Secret: secret}, t0)
		require.ErrorIs(t, err, postback.ErrInvalidQuery, q)
		require.NotErrorIs(t, err, postback.ErrRejected, q)
		require.Equal(t, want, postback.ReasonOf(err), q)
		require.ErrorContains(t, err, "postback: invalid query: "+string(want), q)
	}
	q, err := postback.SignQuery("/p", "a=1", postback.Key{ID: "k 1", Secret: secret}, t0)
	require.NoError(t, err)
	require.Contains(t, q, "&ts=1732350000&kid=k%201&sig=")
}
