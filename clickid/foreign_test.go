package clickid_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/clickid"
)

func TestParseForeign(t *testing.T) {
	t.Parallel()
	accepted := map[string]string{
		"gclid":       "Cj0KCQiA" + strings.Repeat("x_Y-z", 30) + "BwE",
		"fbclid":      "IwAR2F4-Kb8YqXl3o_Vp1Q9nU0pdKk7b5i6RrYmO",
		"Everflow":    "0123456789abcdef0123456789abcdef",
		"btag":        "a_1234b_567c_",
		"Punctuation": "id.with:all|the~!things*(){}[]@$=?&%",
		"MaxLength":   strings.Repeat("a", clickid.MaxForeignLen),
		"OneByte":     "x",
	}
	for name, s := range accepted {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f, err := clickid.ParseForeign(s)
			require.NoError(t, err)
			require.Equal(t, s, f.String(), "kept whole")
		})
	}

	rejected := map[string]struct {
		in  string
		err error
		msg string
	}{
		"Empty":     {"", clickid.ErrSyntax, "empty"},
		"TooLong":   {strings.Repeat("a", clickid.MaxForeignLen+1), clickid.ErrTooLong, "1025 bytes"},
		"Space":     {"abc def", clickid.ErrSyntax, "0x20 at offset 3"},
		"Newline":   {"abc\n", clickid.ErrSyntax, "0x0a"},
		"NUL":       {"\x00", clickid.ErrSyntax, "0x00"},
		"DEL":       {"a\x7f", clickid.ErrSyntax, "0x7f"},
		"NonASCII":  {"clïck", clickid.ErrSyntax, "0xc3"},
		"InvalidUT": {"a\xff", clickid.ErrSyntax, "0xff"},
	}
	for name, tc := range rejected {
		t.Run("Rejects"+name, func(t *testing.T) {
			t.Parallel()
			f, err := clickid.ParseForeign(tc.in)
			require.ErrorIs(t, err, tc.err)
			require.ErrorContains(t, err, tc.msg)
			require.Empty(t, f)
		})
	}
}

func TestForeign_Marshalling(t *testing.T) {
	t.Parallel()
	f, err := clickid.ParseForeign("gclid-123")
	require.NoError(t, err)

	b, err := json.Marshal(struct{ Click clickid.Foreign }{f})
	require.NoError(t, err)
	require.JSONEq(t, `{"Click":"gclid-123"}`, string(b))

	var got struct{ Click clickid.Foreign }
	require.NoError(t, json.Unmarshal(b, &got))
	require.Equal(t, f, got.Click)
	require.ErrorIs(t, json.Unmarshal([]byte(`{"Click":"has space"}`), &got), clickid.ErrSyntax)

	v, err := f.Value()
	require.NoError(t, err)
	require.Equal(t, "gclid-123", v)
	var scanned clickid.Foreign
	require.NoError(t, scanned.Scan([]byte("gclid-123")))
	require.Equal(t, f, scanned)
	require.NoError(t, scanned.Scan("other"))
	require.Equal(t, clickid.Foreign("other"), scanned)
	require.ErrorIs(t, scanned.Scan(42), clickid.ErrSyntax)
	require.ErrorIs(t, scanned.Scan(nil), clickid.ErrSyntax)
}
