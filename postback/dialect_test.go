package postback_test

import (
	"testing"

	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/postback"
	"github.com/stretchr/testify/require"
)

// TestPresets parses, for each preset, a postback URL written from the vendor's documented
// format (see reference/domain.md §1a).
func TestPresets(t *testing.T) {
	t.Parallel()
	type want struct {
		click, player, txn, eventName, origStatus string
		event                                     event.Type
		status                                    event.Status
		amount                                    string // "" for none
		subs                                      map[int]string
		extra                                     []postback.Param
	}
	tests := []struct {
		preset, defaultCurrency, url string
		want                         want
	}{
		{"everflow", "USD", "/?nid=123&transaction_id=0f3a8e1b2c4d5e6f7a8b9c0d1e2f3a4b&amount=12,34&event_id=7&order_id=ORD-1&adv1=x&adv10=y&user_id=u9",
			want{click: "0f3a8e1b2c4d5e6f7a8b9c0d1e2f3a4b", player: "u9", txn: "ORD-1", eventName: "7", event: "7", status: event.StatusApproved,
				amount: "12.34 USD", subs: map[int]string{1: "x", 10: "y"}, extra: []postback.Param{{Key: "nid", Value: "123"}}}},
		{"tune", "USD", "/aff_lsr?transaction_id=10226a4b3b0e2c1d9f8e7d6c5b4a39&amount=25.00&adv_sub=SALE-9&aff_sub=s1&aff_sub5=s5&adv_sub2=a2",
			want{click: "10226a4b3b0e2c1d9f8e7d6c5b4a39", txn: "SALE-9", event: event.Conversion, status: event.StatusApproved,
				amount: "25.00 USD", subs: map[int]string{1: "s1", 5: "s5", 6: "a2"}}},
		{"cake", "EUR", "/p.ashx?o=12&e=3&f=pb&r=987654321&t=ORDER-1&p=99.90",
			want{click: "987654321", txn: "ORDER-1", eventName: "3", event: "3", status: event.StatusApproved, amount: "99.90 EUR",
				extra: []postback.Param{{Key: "o", Value: "12"}, {Key: "f", Value: "pb"}}}},
		{"affise", "USD", "/postback?clickid=5f4dcc3b5aa765d61d8327de&action_id=A-1&goal=2&sum=50.00&status=2&custom_field1=cf1&custom_field15=cf15",
			want{click: "5f4dcc3b5aa765d61d8327de", txn: "A-1", eventName: "2", event: "2", status: event.StatusPending, origStatus: "2",
				amount: "50.00 USD", subs: map[int]string{1: "cf1", 15: "cf15"}}},
		{"scaleo", "USD", "/track/conv?click_id=974efaa86716e372442ab44c8a3f563b&goal_id=1673&conv_status=hold&aff_param1=AP12&sub_id1=SID1&amount=10.00&adv_order_id=O-5",
			want{click: "974efaa86716e372442ab44c8a3f563b", txn: "O-5", eventName: "1673", event: "1673", status: event.StatusPending, origStatus: "hold",
				amount: "10.00 USD", subs: map[int]string{1: "SID1", 6: "AP12"}}},
		{"voluum", "", "/postback?cid=ABCDEF1234567890ABCDEF12&payout=3.50&txid=T1&currency=GBP&et=upsell&param1=p1",
			want{click: "ABCDEF1234567890ABCDEF12", txn: "T1", eventName: "upsell", event: "upsell", status: event.StatusApproved,
				amount: "3.50 GBP", subs: map[int]string{1: "p1"}}},
		{"keitaro", "", "/abc123/postback?subid=3k4j5h6g7f8d9s0a1q2&tid=R-1&payout=20&status=rebill&currency=usd&sub_id_15=z&return=OK",
			want{click: "3k4j5h6g7f8d9s0a1q2", txn: "R-1", event: event.Conversion, status: event.StatusApproved, origStatus: "rebill",
				amount: "20.00 USD", subs: map[int]string{15: "z"}, extra: []postback.Param{{Key: "return", Value: "OK"}}}},
		{"binom", "", "/click.php?cnv_id=7Xy9Zk2Lm4Np6Qr8&payout=1.25&cnv_status=deposit_2&cnv_currency=EUR",
			want{click: "7Xy9Zk2Lm4Np6Qr8", event: event.Conversion, status: event.StatusPending, origStatus: "deposit_2", amount: "1.25 EUR"}},
		{"redtrack", "USD", "/postback?clickid=64f1c2e3a4b5c6d7e8f90a1b&sum=42.00&type=Purchase&rdtk_event_id=E-77",
			want{click: "64f1c2e3a4b5c6d7e8f90a1b", txn: "E-77", eventName: "Purchase", event: "Purchase", status: event.StatusApproved, amount: "42.00 USD"}},
		{"myaffiliates", "", "/postback?payload=btag_123456_abc&player_id=PL-1&event=ftd&txn_id=T1",
			want{click: "btag_123456_abc", player: "PL-1", txn: "T1", eventName: "ftd", event: event.FTD, status: event.StatusApproved}},
	}
	require.Len(t, tests, len(postback.PresetNames()), "every preset is tested")
	for _, tt := range tests {
		t.Run(tt.preset, func(t *testing.T) {
			t.Parallel()
			d, err := postback.Preset(tt.preset)
			require.NoError(t, err)
			d.DefaultCurrency = tt.defaultCurrency
			src := openSource(t, &postback.SourceOptions{Dialect: d})
			path, q, _ := cutQuery(tt.url)
			pb, err := src.ParseQuery(path, q)
			require.NoError(t, err)
			require.Equal(t, postback.ClickForeign, pb.ClickKind)
			require.Equal(t, tt.want.click, string(pb.ForeignClickID))
			require.Equal(t, tt.want.player, pb.PlayerID)
			require.Equal(t, tt.want.txn, pb.TransactionID)
			require.Equal(t, tt.want.event, pb.Event)
			require.Equal(t, tt.want.eventName, pb.EventName)
			require.Equal(t, tt.want.status, pb.Status)
			require.Equal(t, tt.want.origStatus, pb.OriginalStatus)
			if tt.want.amount == "" {
				require.False(t, pb.HasAmount)
			} else {
				require.True(t, pb.HasAmount)
				require.Equal(t, tt.want.amount, pb.Amount.String())
			}
			for i := 1; i <= postback.MaxSubs; i++ {
				require.Equal(t, tt.want.subs[i], pb.Sub(i), "sub%d", i)
			}
			require.Equal(t, tt.want.extra, pb.Extra)
		})
	}
}

func cutQuery(u string) (string, string, bool) {
	for i := range len(u) {
		if u[i] == '?' {
			return u[:i], u[i+1:], true
		}
	}
	return u, "", false
}

func TestPresets_Specifics(t *testing.T) {
	t.Parallel()
	aff, err := postback.Preset("affise")
	require.NoError(t, err)
	aff.DefaultCurrency = "USD"
	src := openSource(t, &postback.SourceOptions{Dialect: aff})
	_, err = src.ParseQuery("/postback", "clickid=a&click_id=b")
	require.Equal(t, postback.ReasonRepeatedKey, postback.ReasonOf(err), "one field under two aliases")
	_, err = src.ParseQuery("/postback", "clickid=a&status=4")
	require.Equal(t, postback.ReasonUnknownStatus, postback.ReasonOf(err))

	// Presets are copies: changing one does not change the next.
	aff.Name = "changed"
	again, err := postback.Preset("affise")
	require.NoError(t, err)
	require.Equal(t, "affise", again.Name)

	_, err = postback.Preset("nope")
	require.ErrorIs(t, err, postback.ErrConfig)

	// The presets whose amounts are in the offer currency cannot be used without a default
	// currency: NewSource says so, instead of every postback with an amount failing later.
	for _, name := range []string{"affise", "cake", "everflow", "redtrack", "scaleo", "tune"} {
		d, err := postback.Preset(name)
		require.NoError(t, err)
		_, err = postback.NewSource("s", postback.Auth{Method: postback.MethodNone}, &postback.SourceOptions{Dialect: d})
		require.ErrorIs(t, err, postback.ErrConfig, name)
		require.ErrorContains(t, err, "set DefaultCurrency", name)
		d.DefaultCurrency = "USD"
		_, err = postback.NewSource("s", postback.Auth{Method: postback.MethodNone}, &postback.SourceOptions{Dialect: d})
		require.NoError(t, err, name)
	}
	// Binom's currency parameter is optional: the source is built, and a payout sent without a
	// currency is refused unless DefaultCurrency says which it is.
	binom, err := postback.Preset("binom")
	require.NoError(t, err)
	src = openSource(t, &postback.SourceOptions{Dialect: binom})
	_, err = src.ParseQuery("/click.php", "cnv_id=a&payout=1.25")
	require.Equal(t, postback.ReasonMissingCurrency, postback.ReasonOf(err))
	pb, err := src.ParseQuery("/click.php", "cnv_id=a&payout=1.25&cnv_currency=EUR")
	require.NoError(t, err)
	require.Equal(t, "1.25 EUR", pb.Amount.String())
	binom.DefaultCurrency = "USD"
	pb, err = openSource(t, &postback.SourceOptions{Dialect: binom}).ParseQuery("/click.php", "cnv_id=a&payout=1.25")
	require.NoError(t, err)
	require.Equal(t, "1.25 USD", pb.Amount.String())

	// The same rule for a dialect in JSON.
	_, err = postback.ParseDialect([]byte(`{"click_id":["c"],"amount":["a"]}`))
	require.ErrorIs(t, err, postback.ErrConfig)
	_, err = postback.ParseDialect([]byte(`{"click_id":["c"],"amount":["a"],"default_currency":"EUR"}`))
	require.NoError(t, err)
}

func TestParseDialect(t *testing.T) {
	t.Parallel()
	d, err := postback.ParseDialect([]byte(`{
		"name": "acme",
		"click_id": ["aff_click"],
		"amount": ["revenue"],
		"transaction_id": ["tid"],
		"currency": ["cur"],
		"status": ["state"],
		"statuses": {"ok": "approved", "wait": "pending"},
		"events": {"dep": "deposit"},
		"event": ["kind"],
		"default_event": "registration",
		"subs": ["s1", "s2"]
	}`))
	require.NoError(t, err)
	src := openSource(t, &postback.SourceOptions{Dialect: d})
	pb, err := src.ParseQuery("/", "aff_click=x1&tid=9&revenue=5.5&cur=EUR&state=wait&kind=dep&s2=two")
	require.NoError(t, err)
	require.Equal(t, money.MustParse("5.50", money.EUR), pb.Amount)
	require.Equal(t, event.StatusPending, pb.Status)
	require.Equal(t, event.Deposit, pb.Event)
	require.Equal(t, "dep", pb.EventName)
	require.Equal(t, "two", pb.Sub(2))
	pb, err = src.ParseQuery("/", "aff_click=x1")
	require.NoError(t, err)
	require.Equal(t, event.Registration, pb.Event)

	for name, bad := range map[string]string{
		"unknown field":                `{"click_id":["c"],"clickid":["x"]}`,
		"name mapped twice":            `{"click_id":["c"],"amount":["c"]}`,
		"no click or player":           `{"amount":["a"]}`,
		"bad status":                   `{"click_id":["c"],"statuses":{"x":"paid"}}`,
		"bad currency":                 `{"click_id":["c"],"default_currency":"EURO"}`,
		"empty name":                   `{"click_id":[""]}`,
		"not json":                     `{`,
		"too many subs":                `{"click_id":["c"],"subs":["1","2","3","4","5","6","7","8","9","10","11","12","13","14","15","16"]}`,
		"event with NUL":               `{"click_id":["c"],"events":{"dep":"deposit\u0000"}}`,
		"event mapped to nothing":      `{"click_id":["c"],"events":{"dep":""}}`,
		"default event with a newline": `{"click_id":["c"],"default_event":"reg\n"}`,
	} {
		_, err := postback.ParseDialect([]byte(bad))
		require.ErrorIs(t, err, postback.ErrConfig, name)
	}
}
