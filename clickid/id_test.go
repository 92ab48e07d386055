package clickid_test

import (
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/clickid"
)

// vectors is testdata/vectors.json, written by testdata/gen_vectors.py from the formats in
// the package documentation, independently of this package's code.
type vectors struct {
	Compact []struct {
		UUID    string `json:"uuid"`
		Compact string `json:"compact"`
	} `json:"compact"`
	Signed []struct {
		SecretHex string `json:"secret_hex"`
		KID       uint8  `json:"kid"`
		UUID      string `json:"uuid"`
		Signed    string `json:"signed"`
	} `json:"signed"`
	Tokens []struct {
		SecretHex string `json:"secret_hex"`
		KID       uint8  `json:"kid"`
		UUID      string `json:"uuid"`
		Affiliate string `json:"affiliate"`
		Campaign  string `json:"campaign"`
		Token     string `json:"token"`
	} `json:"tokens"`
}

func loadVectors(t *testing.T) vectors {
	t.Helper()
	b, err := os.ReadFile("testdata/vectors.json")
	require.NoError(t, err)
	var v vectors
	require.NoError(t, json.Unmarshal(b, &v))
	require.NotEmpty(t, v.Compact)
	require.NotEmpty(t, v.Signed)
	require.NotEmpty(t, v.Tokens)
	return v
}

func TestID_StringVectors(t *testing.T) {
	t.Parallel()
	for _, v := range loadVectors(t).Compact {
		id := clickid.ID(uuid.MustParse(v.UUID))
		require.Equal(t, v.Compact, id.String(), "compact form of %s", v.UUID)
		require.Equal(t, v.UUID, id.UUIDString())

		for _, s := range []string{v.Compact, strings.ToUpper(v.Compact), v.UUID, strings.ToUpper(v.UUID)} {
			got, err := clickid.Parse(s)
			require.NoError(t, err, s)
			require.Equal(t, id, got, s)
		}
	}
}

func TestParse_Rejects(t *testing.T) {
	t.Parallel()
	valid := "01j3st4z2efcd9y00w5mz4ypkb"
	tests := []struct {
		name, in, msg string
	}{
		{"Empty", "", "length"},
		{"TooShort", valid[:25], "length"},
		{"TooLong", valid + "0", "length"},
		{"LetterI", "01j3st4z2efcd9y00w5mz4ypki", "alphabet"},
		{"LetterL", "01j3st4z2efcd9y00w5mz4ypkl", "alphabet"},
		{"LetterO", "01j3st4z2efcd9y00w5mz4ypko", "alphabet"},
		{"LetterU", "01j3st4z2efcd9y00w5mz4ypku", "alphabet"},
		{"Dash", "01j3st4z2efcd9y00w5mz4ypk-", "alphabet"},
		{"Space", " 1j3st4z2efcd9y00w5mz4ypkb", "alphabet"},
		{"NonASCII", "01j3st4z2efcd9y00w5mz4yp\u00e9", "alphabet"},
		{"NUL", "01j3st4z2efcd9y00w5mz4ypk\x00", "alphabet"},
		{"FirstCharAbove7", "81j3st4z2efcd9y00w5mz4ypkb", "0-7"},
		{"FirstCharZ", "z1j3st4z2efcd9y00w5mz4ypkb", "0-7"},
		{"ZeroCompact", "00000000000000000000000000", "zero"},
		{"ZeroUUID", "00000000-0000-0000-0000-000000000000", "zero"},
		{"UUIDMisplacedDash", "0190f3a27-c4e-7b1a-9f00-1c2d3e4f5a6b", "UUID"},
		{"UUIDNonHex", "0190f3a2-7c4e-7b1a-9f00-1c2d3e4f5a6g", "UUID"},
		{"UUIDBraces", "{0190f3a2-7c4e-7b1a-9f00-1c2d3e4f5a6b}", "length"},
		{"UUIDNoDashes", "0190f3a27c4e7b1a9f001c2d3e4f5a6b", "length"},
		{"URN", "urn:uuid:0190f3a2-7c4e-7b1a-9f00-1c2d3e4f5a6b", "length"},
		{"UnfilledMacro", "{clickid}", "length"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			id, err := clickid.Parse(tt.in)
			require.ErrorIs(t, err, clickid.ErrSyntax)
			require.ErrorContains(t, err, tt.msg)
			require.True(t, id.IsZero())
			require.ErrorIs(t, clickid.Validate(tt.in), clickid.ErrSyntax)
		})
	}
}

func TestID_CompactSortsLikeBytes(t *testing.T) {
	t.Parallel()
	gen := clickid.NewGenerator(nil)
	ids := make([]clickid.ID, 2000)
	for i := range ids {
		var err error
		ids[i], err = gen.New()
		require.NoError(t, err)
	}
	// Random IDs too, so that every character position varies.
	for i := range 1000 {
		ids = append(ids, clickid.ID(uuid.New()))
		ids[len(ids)-1][0] = byte(i)
	}
	byBytes := slices.Clone(ids)
	slices.SortFunc(byBytes, func(a, b clickid.ID) int { return slices.Compare(a[:], b[:]) })
	byString := slices.Clone(ids)
	slices.SortFunc(byString, func(a, b clickid.ID) int { return strings.Compare(a.String(), b.String()) })
	require.Equal(t, byBytes, byString)
}

func TestID_Timestamp(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 23, 19, 30, 15, 123_456_789, time.FixedZone("CET", 3600))
	gen := clickid.NewGenerator(&clickid.GeneratorOptions{Now: func() time.Time { return at }})
	id, err := gen.New()
	require.NoError(t, err)
	require.Equal(t, at.Truncate(time.Millisecond).UTC(), id.Timestamp())
	require.Equal(t, time.UTC, id.Timestamp().Location())

	// The RFC 9562 UUIDv7 example: Tuesday, February 22, 2022 2:22:22.00 PM GMT-05:00.
	rfc := clickid.MustParse("017f22e2-79b0-7cc3-98c4-dc0c0c07398f")
	require.Equal(t, time.Date(2022, 2, 22, 19, 22, 22, 0, time.UTC), rfc.Timestamp())

	v4 := clickid.MustParse("f81d4fae-7dec-41d0-a765-00a0c91e6bf6")
	require.True(t, v4.Timestamp().IsZero(), "a UUIDv4 carries no timestamp")
}

func TestID_MatchesGoogleUUID(t *testing.T) {
	t.Parallel()
	for range 1000 {
		id, err := clickid.New()
		require.NoError(t, err)
		u := uuid.UUID(id)
		require.Equal(t, uuid.Version(7), u.Version())
		require.Equal(t, uuid.RFC4122, u.Variant())
		require.Equal(t, u.String(), id.UUIDString())
		sec, nsec := u.Time().UnixTime()
		require.Equal(t, time.Unix(sec, nsec).UTC(), id.Timestamp())
	}
}

func TestID_TextAndJSON(t *testing.T) {
	t.Parallel()
	id := clickid.MustParse("0190f3a2-7c4e-7b1a-9f00-1c2d3e4f5a6b")

	b, err := json.Marshal(map[string]clickid.ID{"click_id": id})
	require.NoError(t, err)
	require.JSONEq(t, `{"click_id":"01j3st4z2efcd9y00w5mz4ypkb"}`, string(b))

	var got map[string]clickid.ID
	require.NoError(t, json.Unmarshal(b, &got))
	require.Equal(t, id, got["click_id"])

	var fromUUID clickid.ID
	require.NoError(t, json.Unmarshal([]byte(`"0190F3A2-7C4E-7B1A-9F00-1C2D3E4F5A6B"`), &fromUUID))
	require.Equal(t, id, fromUUID)

	var bad clickid.ID
	require.ErrorIs(t, json.Unmarshal([]byte(`"not-an-id"`), &bad), clickid.ErrSyntax)
	require.True(t, bad.IsZero(), "a failed unmarshal leaves the id untouched")

	appended, err := id.AppendText([]byte("id="))
	require.NoError(t, err)
	require.Equal(t, "id=01j3st4z2efcd9y00w5mz4ypkb", string(appended))
}

func TestID_SQL(t *testing.T) {
	t.Parallel()
	id := clickid.MustParse("0190f3a2-7c4e-7b1a-9f00-1c2d3e4f5a6b")
	v, err := id.Value()
	require.NoError(t, err)
	require.Equal(t, "0190f3a2-7c4e-7b1a-9f00-1c2d3e4f5a6b", v)

	for name, src := range map[string]any{
		"UUIDString":    "0190f3a2-7c4e-7b1a-9f00-1c2d3e4f5a6b",
		"CompactString": "01j3st4z2efcd9y00w5mz4ypkb",
		"UUIDBytes":     []byte("0190f3a2-7c4e-7b1a-9f00-1c2d3e4f5a6b"),
		"Binary":        id[:],
	} {
		t.Run(name, func(t *testing.T) {
			var got clickid.ID
			require.NoError(t, got.Scan(src))
			require.Equal(t, id, got)
		})
	}
	for name, src := range map[string]any{
		"Nil":        nil,
		"Int":        int64(7),
		"ShortBytes": []byte{1, 2, 3},
		"ZeroBinary": make([]byte, 16),
		"BadString":  "nope",
	} {
		t.Run("Rejects"+name, func(t *testing.T) {
			var got clickid.ID
			err := got.Scan(src)
			require.ErrorIs(t, err, clickid.ErrSyntax)
			require.True(t, got.IsZero())
		})
	}
}

func TestMustParse(t *testing.T) {
	t.Parallel()
	require.Panics(t, func() { clickid.MustParse("bad") })
	require.NotPanics(t, func() { clickid.MustParse("01j3st4z2efcd9y00w5mz4ypkb") })
}

func TestParse_ErrorsAreSentinelsOnly(t *testing.T) {
	t.Parallel()
	_, err := clickid.Parse("01j3st4z2efcd9y00w5mz4ypki")
	require.True(t, errors.Is(err, clickid.ErrSyntax))
	require.False(t, errors.Is(err, clickid.ErrSignature))
	require.True(t, strings.HasPrefix(err.Error(), "clickid: "), err.Error())
}
