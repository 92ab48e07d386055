package s2s_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s"
	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/store"
	"github.com/s2skit/s2s/store/memstore"
)

// clickConfig has a plain campaign (whole query of values, a foreign click ID in gclid), a
// signed one (a sub ID in the path, hashed addresses) and a token one for one affiliate.
const clickConfig = `{
	"clicks": {
		"ip": "truncated",
		"ip_key": "aXAta2V5LWlwLWtleS1pcC1rZXktaXAta2V5LTEyMzQ=",
		"keys": [{"id": 1, "secret": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}],
		"campaigns": [
			{"id": "summer", "destination": "https://casino.example/land?cid={click_id}&s1={sub1}&s2={sub2}&aff={affiliate_id}&g={foreign_click_id}", "foreign_param": "gclid"},
			{"id": "signed", "destination": "https://casino.example/p/{sub1}?cid={click_id}", "click_id": "signed", "ip": "hashed", "referrer_policy": "origin"},
			{"id": "token", "affiliates": ["aff-1"], "destination": "https://casino.example/?btag={click_id}&c={campaign_id}", "click_id": "token", "ip": "whole"}
		]
	}
}`

func clickCfg(t testing.TB) s2s.Config {
	t.Helper()
	var cfg s2s.Config
	require.NoError(t, json.Unmarshal([]byte(clickConfig), &cfg))
	return cfg
}

func clickSigner(t testing.TB) *clickid.Signer {
	t.Helper()
	s, err := clickid.NewSigner(clickid.SignerKey{ID: 1, Secret: []byte("0123456789abcdef0123456789abcdef")})
	require.NoError(t, err)
	return s
}

// clickTracker is a Tracker with clickConfig on st, at seamNow.
func clickTracker(t testing.TB, st store.Store, opts *s2s.Options) *s2s.Tracker {
	t.Helper()
	var o s2s.Options
	if opts != nil {
		o = *opts
	}
	if o.Now == nil {
		o.Now = func() time.Time { return seamNow }
	}
	tr, err := s2s.New(st, clickCfg(t), &o)
	require.NoError(t, err)
	return tr
}

// TestTracker_Click: a click is recorded as requested, and its URL is the campaign's
// destination with the click ID and the values filled in.
func TestTracker_Click(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st store.Store) {
		tr := clickTracker(t, st, nil)
		ctx := t.Context()
		req := s2s.ClickRequest{CampaignID: "summer", AffiliateID: "aff-1", SubIDs: []string{"banner top", "a&b=c"},
			ForeignClickID: "Cj0KCQ-gclid_1", IP: netip.MustParseAddr("203.0.113.77"), UserAgent: "Mozilla/5.0 (X11)"}
		res, err := tr.Click(ctx, req)
		require.NoError(t, err)
		require.Equal(t, res.ID.String(), res.Ref, "rule: a plain campaign's click ID is the plain ID")
		require.Equal(t, "https://casino.example/land?cid="+res.ID.String()+"&s1=banner+top&s2=a%26b%3Dc&aff=aff-1&g=Cj0KCQ-gclid_1", res.URL)

		got, err := st.GetClick(ctx, res.ID)
		require.NoError(t, err, "rule: a synchronous click is stored when Click returns")
		want := store.Click{ID: res.ID, AffiliateID: "aff-1", CampaignID: "summer", SubIDs: req.SubIDs,
			ForeignClickID: "Cj0KCQ-gclid_1", IP: netip.MustParseAddr("203.0.113.0"), UserAgent: "Mozilla/5.0 (X11)",
			Landing: res.URL, CreatedAt: seamNow}
		require.True(t, want.Equal(got), "rule: the click is stored as requested, its address truncated by default\nwant %+v\ngot  %+v", want, got)

		fc, err := st.GetClickByForeign(ctx, store.GetClickByForeignParams{ForeignClickID: "Cj0KCQ-gclid_1"})
		require.NoError(t, err)
		require.Equal(t, res.ID, fc.ID, "rule: the click is found by its foreign click ID")
	})
}

// TestTracker_ClickForms: signed and token campaigns carry click IDs that the same keys
// verify, naming the stored click.
func TestTracker_ClickForms(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st store.Store) {
		tr := clickTracker(t, st, nil)
		signer := clickSigner(t)
		ctx := t.Context()

		res, err := tr.Click(ctx, s2s.ClickRequest{CampaignID: "signed", AffiliateID: "aff-2", SubIDs: []string{"../x/y"}})
		require.NoError(t, err)
		id, err := signer.Verify(res.Ref)
		require.NoError(t, err, "rule: a signed campaign's click ID verifies")
		require.Equal(t, res.ID, id)
		require.Equal(t, "https://casino.example/p/%2E%2E%2Fx%2Fy?cid="+res.Ref, res.URL, "rule: a path value stays one segment")
		_, err = st.GetClick(ctx, id)
		require.NoError(t, err)

		res, err = tr.Click(ctx, s2s.ClickRequest{CampaignID: "token", AffiliateID: "aff-1"})
		require.NoError(t, err)
		tok, err := signer.VerifyToken(res.Ref)
		require.NoError(t, err, "rule: a token campaign's click ID is a token that verifies")
		require.Equal(t, clickid.Token{ID: res.ID, AffiliateID: "aff-1", CampaignID: "token"}, tok)
		require.Equal(t, "https://casino.example/?btag="+res.Ref+"&c=token", res.URL)
	})
}

// TestTracker_ClickIP: whole, truncated and hashed addresses, IPv4 and IPv6.
func TestTracker_ClickIP(t *testing.T) {
	t.Parallel()
	tr := clickTracker(t, nil, nil)
	stored := func(campaign, aff, ip string) netip.Addr {
		t.Helper()
		res, err := tr.Click(t.Context(), s2s.ClickRequest{CampaignID: campaign, AffiliateID: aff, IP: netip.MustParseAddr(ip)})
		require.NoError(t, err)
		c, err := tr.Store().GetClick(t.Context(), res.ID)
		require.NoError(t, err)
		return c.IP
	}
	require.Equal(t, "203.0.113.0", stored("summer", "a", "203.0.113.77").String(), "rule: IPv4 truncated to /24")
	require.Equal(t, "203.0.113.0", stored("summer", "a", "::ffff:203.0.113.77").String(), "rule: a mapped IPv4 address is IPv4")
	require.Equal(t, "2001:db8:abcd::", stored("summer", "a", "2001:db8:abcd:12::1").String(), "rule: IPv6 truncated to /48")
	require.Equal(t, "203.0.113.77", stored("token", "aff-1", "203.0.113.77").String(), "rule: whole keeps the address")

	h1 := stored("signed", "a", "203.0.113.77")
	require.True(t, netip.MustParsePrefix("2001:db8::/32").Contains(h1), "rule: a pseudonym is in the documentation prefix: %s", h1)
	require.Equal(t, h1, stored("signed", "b", "203.0.113.77"), "rule: equal addresses, equal pseudonyms")
	require.NotEqual(t, h1, stored("signed", "a", "203.0.113.78"), "rule: other address, other pseudonym")
	require.NotEqual(t, h1, stored("signed", "a", "::ffff:203.0.113.78"))
	require.NotContains(t, h1.String(), "cb00:714d", "rule: no byte of the address shows in its pseudonym")

	other := clickCfg(t)
	other.Clicks.IPKey = s2s.Secret("another-key-another-key-another-key")
	require.NoError(t, tr.SetConfig(other))
	require.NotEqual(t, h1, stored("signed", "a", "203.0.113.77"), "rule: the pseudonym is keyed: another key, another pseudonym")
}

// TestTracker_ClickUserAgent: a user agent is cleaned to what the store accepts, never
// refused, on both stores.
func TestTracker_ClickUserAgent(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st store.Store) {
		tr := clickTracker(t, st, nil)
		for name, tc := range map[string]struct{ ua, want string }{
			"plain":        {"Mozilla/5.0", "Mozilla/5.0"},
			"not utf-8":    {"Moz\xffilla\xc3", "Mozilla"},
			"nul":          {"Mo\x00zilla", "Mozilla"},
			"controls":     {"Mo\tzil\x1bla\x7f\u0085", "Mozilla"},
			"unicode kept": {"Navigateur é ✓", "Navigateur é ✓"},
			"too long":     {strings.Repeat("a", store.MaxUserAgentLen+100), strings.Repeat("a", store.MaxUserAgentLen)},
			"cut on a character": {strings.Repeat("a", store.MaxUserAgentLen-1) + "é",
				strings.Repeat("a", store.MaxUserAgentLen-1)},
		} {
			t.Run(name, func(t *testing.T) {
				res, err := tr.Click(t.Context(), s2s.ClickRequest{CampaignID: "summer", AffiliateID: "aff-1", UserAgent: tc.ua})
				require.NoError(t, err, "rule: a user agent never refuses a click")
				c, err := st.GetClick(t.Context(), res.ID)
				require.NoError(t, err)
				require.Equal(t, tc.want, c.UserAgent)
				require.True(t, utf8.ValidString(c.UserAgent))
			})
		}
	})
}

// TestTracker_ClickRefused: what Click refuses, and that it records nothing then.
func TestTracker_ClickRefused(t *testing.T) {
	t.Parallel()
	st := &faultStore{Store: memstore.New(nil)}
	tr := clickTracker(t, st, nil)
	for name, tc := range map[string]struct {
		req  s2s.ClickRequest
		want error
		msg  string
	}{
		"unknown campaign":         {s2s.ClickRequest{CampaignID: "winter", AffiliateID: "a"}, s2s.ErrUnknownCampaign, `"winter"`},
		"affiliate not admitted":   {s2s.ClickRequest{CampaignID: "token", AffiliateID: "aff-2"}, s2s.ErrUnknownCampaign, `aff-2`},
		"no affiliate":             {s2s.ClickRequest{CampaignID: "summer"}, s2s.ErrInvalidClick, "affiliate"},
		"affiliate with a newline": {s2s.ClickRequest{CampaignID: "summer", AffiliateID: "a\nb"}, s2s.ErrInvalidClick, "affiliate"},
		"sub id not utf-8":         {s2s.ClickRequest{CampaignID: "summer", AffiliateID: "a", SubIDs: []string{"ok", "\xff"}}, s2s.ErrInvalidClick, "sub2"},
		"sub id too long":          {s2s.ClickRequest{CampaignID: "summer", AffiliateID: "a", SubIDs: []string{strings.Repeat("x", store.MaxSubIDLen+1)}}, s2s.ErrInvalidClick, "sub1"},
		"too many sub ids":         {s2s.ClickRequest{CampaignID: "summer", AffiliateID: "a", SubIDs: make([]string, store.MaxSubIDs+1)}, s2s.ErrInvalidClick, "sub ids"},
		"foreign id malformed":     {s2s.ClickRequest{CampaignID: "summer", AffiliateID: "a", ForeignClickID: "a b\n"}, s2s.ErrInvalidClick, "foreign"},
	} {
		t.Run(name, func(t *testing.T) {
			res, err := tr.Click(t.Context(), tc.req)
			require.ErrorIs(t, err, tc.want)
			require.ErrorContains(t, err, tc.msg)
			require.Zero(t, res, "rule: a refused click has no result")
		})
	}
	require.Zero(t, st.inserts.Load(), "rule: a refused click records nothing")
}

// TestTracker_ClickStoreFailure: a store failure is returned with a usable result.
func TestTracker_ClickStoreFailure(t *testing.T) {
	t.Parallel()
	st := &faultStore{Store: memstore.New(nil)}
	st.fail.Store(true)
	tr := clickTracker(t, st, nil)
	res, err := tr.Click(t.Context(), s2s.ClickRequest{CampaignID: "summer", AffiliateID: "a"})
	require.ErrorIs(t, err, errStoreDown)
	require.False(t, res.ID.IsZero())
	require.True(t, strings.HasPrefix(res.URL, "https://casino.example/land?cid="+res.ID.String()), "rule: the result is usable on a store failure: %s", res.URL)
}

// TestConfig_Clicks: the click section decodes strictly, round-trips, and is validated with
// the field named.
func TestConfig_Clicks(t *testing.T) {
	t.Parallel()
	cfg := clickCfg(t)
	b, err := json.Marshal(cfg)
	require.NoError(t, err)
	var again s2s.Config
	require.NoError(t, json.Unmarshal(b, &again))
	require.Equal(t, cfg.Clicks, again.Clicks, "rule: the click config round-trips through JSON")

	var bad s2s.Config
	err = json.Unmarshal([]byte(`{"clicks": {"campaigns": [{"id": "x", "destinaton": "https://a.example/"}]}}`), &bad)
	require.ErrorIs(t, err, s2s.ErrInvalidConfig)
	require.ErrorContains(t, err, `clicks: json: unknown field "destinaton"`)

	camp := func(extra string) string {
		return `{"clicks": {"campaigns": [{"id": "c1", "destination": "https://casino.example/?cid={click_id}"` + extra + `}]}}`
	}
	for name, tc := range map[string]struct{ json, want string }{
		"http":                    {`{"clicks": {"campaigns": [{"id": "c1", "destination": "http://casino.example/"}]}}`, "clicks.campaigns[0]: outbound: invalid endpoint: destination: http:// is refused"},
		"macro in host":           {`{"clicks": {"campaigns": [{"id": "c1", "destination": "https://{sub1}.example/"}]}}`, "clicks.campaigns[0]: outbound: invalid endpoint: destination: byte 8: {sub1}: a macro in the scheme or host"},
		"not a click value":       {`{"clicks": {"campaigns": [{"id": "c1", "destination": "https://casino.example/?a={amount}"}]}}`, "destination: the macro amount has no value for a click"},
		"raw":                     {`{"clicks": {"campaigns": [{"id": "c1", "destination": "https://casino.example/?a={raw:affiliate_id}"}]}}`, "raw affiliate_id"},
		"userinfo":                {`{"clicks": {"campaigns": [{"id": "c1", "destination": "https://good.example@evil.example/"}]}}`, "a user name or password"},
		"no id":                   {`{"clicks": {"campaigns": [{"destination": "https://casino.example/"}]}}`, "clicks.campaigns[0].id: required"},
		"twice":                   {`{"clicks": {"campaigns": [{"id": "c1", "destination": "https://a.example/"}, {"id": "c1", "destination": "https://a.example/"}]}}`, `clicks.campaigns[1].id: "c1" given twice`},
		"signed, no keys":         {camp(`, "click_id": "signed"`), `clicks.campaigns[0].click_id: "signed" needs clicks.keys`},
		"unknown form":            {camp(`, "click_id": "uuid"`), `clicks.campaigns[0].click_id: "uuid": want plain, signed or token`},
		"hashed, no key":          {camp(`, "ip": "hashed"`), "clicks.campaigns[0].ip: hashed needs clicks.ip_key"},
		"unknown ip mode":         {camp(`, "ip": "masked"`), `clicks.campaigns[0].ip: "masked"`},
		"unknown default ip mode": {`{"clicks": {"ip": "all"}}`, `clicks.ip: "all"`},
		"short ip key":            {`{"clicks": {"ip_key": "c2hvcnQ="}}`, "clicks.ip_key: 5 bytes, at least 24 required"},
		"short secret":            {`{"clicks": {"keys": [{"id": 1, "secret": "c2hvcnQ="}]}}`, "clicks.keys: clickid"},
		"referrer policy":         {camp(`, "referrer_policy": "always"`), `clicks.campaigns[0].referrer_policy: "always"`},
		"foreign param reserved":  {camp(`, "foreign_param": "sub3"`), `clicks.campaigns[0].foreign_param: "sub3"`},
		"affiliate empty":         {camp(`, "affiliates": ["a", ""]`), "clicks.campaigns[0].affiliates[1]: empty"},
	} {
		t.Run(name, func(t *testing.T) {
			var c s2s.Config
			require.NoError(t, json.Unmarshal([]byte(tc.json), &c))
			err := c.Validate()
			require.ErrorIs(t, err, s2s.ErrInvalidConfig)
			require.ErrorContains(t, err, tc.want)
			_, err = s2s.New(nil, c, nil)
			require.ErrorIs(t, err, s2s.ErrInvalidConfig, "rule: New refuses what Validate refuses")
		})
	}
}

// TestConfig_ClickSecrets: secrets are never printed, logged or in an error.
func TestConfig_ClickSecrets(t *testing.T) {
	t.Parallel()
	cfg := clickCfg(t)
	secrets := []string{"0123456789abcdef", "ip-key-ip-key", "MDEyMzQ1Njc4", "aXAta2V5"}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("config", "clicks", cfg.Clicks, "key", cfg.Clicks.Keys[0])
	slog.New(slog.NewTextHandler(&logs, nil)).Info("config", "clicks", cfg.Clicks, "key", cfg.Clicks.Keys[0].Secret)
	for _, out := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg.Clicks), fmt.Sprintf("%#v", cfg.Clicks), fmt.Sprintf("%x", cfg.Clicks.IPKey), fmt.Sprintf("%v", cfg.Clicks.Keys), logs.String()} {
		for _, s := range secrets {
			require.NotContains(t, out, s, "rule: no secret in printed or logged configuration")
		}
	}
	require.Contains(t, logs.String(), "[redacted]")
}

var errStoreDown = errors.New("test: store down")

// faultStore counts the clicks it stores, and fails click writes while fail is set.
type faultStore struct {
	store.Store
	fail    atomic.Bool
	inserts atomic.Int64 // clicks stored
	batches atomic.Int64 // InsertClicks calls that stored
}

func (s *faultStore) InsertClick(ctx context.Context, c store.Click) error {
	if s.fail.Load() {
		return errStoreDown
	}
	err := s.Store.InsertClick(ctx, c)
	if err == nil {
		s.inserts.Add(1)
	}
	return err
}

func (s *faultStore) InsertClicks(ctx context.Context, p store.InsertClicksParams) error {
	if s.fail.Load() {
		return errStoreDown
	}
	err := s.Store.InsertClicks(ctx, p)
	if err == nil {
		s.inserts.Add(int64(len(p.Clicks)))
		s.batches.Add(1)
	}
	return err
}

// TestClickConfig_LogValue: a JSON log of the click configuration names the campaigns and
// the keys' IDs as numbers, and holds no secret.
func TestClickConfig_LogValue(t *testing.T) {
	t.Parallel()
	cfg := clickCfg(t)
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "clicks", cfg.Clicks)
	var line struct {
		Clicks struct {
			Campaigns []string `json:"campaigns"`
			IPKey     bool     `json:"ip_key"`
			Keys      []int    `json:"keys"`
		} `json:"clicks"`
	}
	require.NoError(t, json.Unmarshal(buf.Bytes(), &line), buf.String())
	require.Equal(t, []string{"summer", "signed", "token"}, line.Clicks.Campaigns)
	require.Equal(t, []int{1}, line.Clicks.Keys, "rule: key IDs as numbers, not base64 bytes")
	require.True(t, line.Clicks.IPKey)
	require.NotContains(t, buf.String(), "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
	require.NotContains(t, buf.String(), "aXAta2V5LWlwLWtleS1pcC1rZXktaXAta2V5LTEyMzQ=")
}
