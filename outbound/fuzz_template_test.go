package outbound_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/outbound"
	"github.com/s2skit/s2s/store"
)

// FuzzTemplate_Values renders values of every kind of byte into a path segment, query values,
// a JSON body and a form body, and decodes each with the standard library (net/url,
// encoding/json): the URL always parses, keeps the template's scheme, host and path shape,
// and every value comes back exactly as it went in.
func FuzzTemplate_Values(f *testing.F) {
	for _, h := range hardValues {
		f.Add(h, h, h)
	}
	f.Add("\xff\xfe", "a", "b")
	f.Add("%00", "\x00", "{sub1}")
	urlJSON := compiled(f, outbound.Endpoint{
		Name: "aff", Method: "POST", BodyType: "json",
		URL:  "https://trk.example.com/pb/{sub1}/x?c={foreign_click_id}&p={player_id}&s={sub1|none}",
		Body: `{"c":"{foreign_click_id}","p":"{player_id}","s":["{sub1}"]}`,
	})
	form := compiled(f, outbound.Endpoint{
		Name: "aff", Method: "POST", BodyType: "form", URL: "https://trk.example.com/pb",
		Body: "c={foreign_click_id}&p={player_id}&s={sub1}",
	})
	f.Fuzz(func(t *testing.T, sub, player, foreign string) {
		v := testValues()
		v.SubIDs, v.PlayerID, v.ForeignClickID = []string{sub}, player, clickid.Foreign(foreign)
		long := 3*(2*len(sub)+len(player)+len(foreign)) > store.MaxURLLen

		d, err := urlJSON.Delivery(v, testNow)
		valid := utf8.ValidString(sub) && utf8.ValidString(player) && utf8.ValidString(foreign)
		if err != nil {
			require.ErrorIs(t, err, outbound.ErrRender)
			require.True(t, !valid || long, "rule: only invalid UTF-8 in JSON or an oversized URL is refused: %v", err)
			return
		}
		require.True(t, valid, "rule: invalid UTF-8 never goes into JSON")
		u, err := url.Parse(d.URL)
		require.NoError(t, err, "rule: a rendered URL always parses: %q", d.URL)
		require.Equal(t, "https", u.Scheme)
		require.Equal(t, "trk.example.com", u.Host)
		require.Empty(t, u.Fragment)
		segs := strings.Split(u.EscapedPath(), "/")
		require.Len(t, segs, 4, "rule: a value never adds a path segment")
		require.Equal(t, []string{"", "pb", "x"}, []string{segs[0], segs[1], segs[3]})
		got, err := url.PathUnescape(segs[2])
		require.NoError(t, err)
		require.Equal(t, sub, got)
		q, err := url.ParseQuery(u.RawQuery)
		require.NoError(t, err)
		require.Equal(t, []string{foreign}, q["c"])
		require.Equal(t, []string{player}, q["p"])
		wantS := sub
		if sub == "" {
			wantS = "none"
		}
		require.Equal(t, []string{wantS}, q["s"])
		var body struct {
			C, P string
			S    []string
		}
		require.NoError(t, json.Unmarshal(d.Body, &body), "rule: a JSON body is JSON: %q", d.Body)
		require.Equal(t, foreign, body.C)
		require.Equal(t, player, body.P)
		require.Equal(t, []string{sub}, body.S)

		d, err = form.Delivery(v, testNow)
		require.NoError(t, err)
		fv, err := url.ParseQuery(string(d.Body))
		require.NoError(t, err)
		require.Equal(t, url.Values{"c": {foreign}, "p": {player}, "s": {sub}}, fv)
	})
}

// FuzzTemplate_Parse compiles arbitrary templates in every dialect. Whatever compiles renders
// deliveries whose URL parses and keeps the template's scheme and host, and which Request
// turns into a request; whatever does not compile is an *EndpointError with an offset inside
// the template.
func FuzzTemplate_Parse(f *testing.F) {
	for _, s := range []string{
		"https://h.example.com/p/{sub1}?a={amount:minor}&b={occurred_at:2006-01-02}&c={sha256:player_id}",
		"https://h.example.com/?a={{sub1|x}}&t={{query_secret:token}}",
		"https://h.example.com/%sub1%?x=%2F%amount%",
		"https://h.example.com/#sub1#?a=[sub2]&b=[[sub3]]&c=${sub4}",
		"https://h.example.com/?a={subacc4}",
		"https://h.example.com/{secret:token}?j={json}",
		"https://h.example.com/?r={raw:amount}&s={raw:status}",
		"https://u@h.example.com/?a={",
	} {
		for d := range 7 {
			f.Add(s, uint8(d))
		}
	}
	for _, s := range []string{
		`{"a":"{sub1}","n":{amount},"o":{"p":[1,"{player_id|x}"]},"t":"{secret:token}"}`,
		`{"j":{json},"u":{occurred_at:unix}}`,
		`[{"a":"[sub1]"}, [1, 2]]`,
	} {
		for d := range 7 {
			f.Add(s, uint8(d|0x80))
		}
	}
	dialects := []string{"braces", "double_braces", "hash", "brackets", "double_brackets", "percent", "dollar"}
	f.Fuzz(func(t *testing.T, tmpl string, dialect uint8) {
		e := outbound.Endpoint{
			Name: "aff", URL: tmpl, Dialect: dialects[int(dialect&0x7f)%len(dialects)],
			Secrets: map[string]string{"token": "t0k3n-0123456789"},
		}
		if dialect&0x80 != 0 {
			// The template is a JSON body.
			e.Method, e.BodyType, e.Body, e.URL = "POST", "json", tmpl, "https://h.example.com/"
			if e.Compile() != nil {
				return
			}
			for _, v := range []outbound.Values{testValues(), {EventID: testEventID}} {
				d, err := e.Delivery(v, testNow)
				require.NoError(t, err)
				require.True(t, json.Valid(d.Body), "rule: a JSON body that compiled renders JSON: %q from %q", d.Body, tmpl)
				req, err := e.Request(context.Background(), d, testNow)
				require.NoError(t, err)
				var body bytes.Buffer
				_, err = body.ReadFrom(req.Body)
				require.NoError(t, err)
				require.True(t, json.Valid(body.Bytes()), "rule: with its secrets filled in, too: %q", body.Bytes())
			}
			return
		}
		err := e.Compile()
		if err != nil {
			var ee *outbound.EndpointError
			require.True(t, errors.As(err, &ee), "rule: a refusal is an *EndpointError: %v", err)
			require.True(t, ee.Offset >= -1 && ee.Offset <= len(tmpl), "rule: the offset is inside the template")
			return
		}
		// The scheme and host as the template's literal head says them.
		j := strings.Index(tmpl, "://") + 3
		end := strings.IndexAny(tmpl[j:], "/?#")
		if end < 0 {
			end = len(tmpl) - j
		}
		head, err := url.Parse(tmpl[:j+end])
		require.NoError(t, err)
		for _, v := range []outbound.Values{testValues(), {EventID: testEventID}} {
			d, err := e.Delivery(v, testNow)
			if err != nil {
				require.ErrorIs(t, err, outbound.ErrRender)
				continue
			}
			require.NotContains(t, d.URL, "t0k3n", "rule: a stored URL holds no secret")
			u, err := url.Parse(d.URL)
			require.NoError(t, err, "rule: a rendered URL always parses: %q from %q", d.URL, tmpl)
			require.Equal(t, head.Scheme, u.Scheme)
			require.Equal(t, head.Host, u.Host, "rule: values never change the host")
			_, err = url.ParseQuery(u.RawQuery)
			require.NoError(t, err)
			req, err := e.Request(context.Background(), d, testNow)
			require.NoError(t, err)
			require.Equal(t, head.Host, req.URL.Host)
		}
	})
}
