package postback_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/postback"
	"github.com/s2skit/s2s/store"
	"github.com/stretchr/testify/require"
)

func openSource(t testing.TB, opts *postback.SourceOptions) *postback.Source {
	t.Helper()
	if opts == nil {
		opts = &postback.SourceOptions{}
	}
	if opts.Now == nil {
		opts.Now = (&clock{t: t0}).Now
	}
	src, err := postback.NewSource("open", postback.Auth{Method: postback.MethodNone}, opts)
	require.NoError(t, err)
	return src
}

func TestParseQuery_Fields(t *testing.T) {
	t.Parallel()
	src := openSource(t, nil)
	pb, err := src.ParseQuery("/postback", "click_id=01j3st4z2efcd9y00w5mz4ypkb&player_id=P-7&event=ftd&status=pending"+
		"&amount=150.00&currency=eur&txn_id=TX-99812&occurred_at=2026-11-20T10:00:00Z&sub1=a&sub15=o&landing=lp%202")
	require.NoError(t, err)
	require.Equal(t, "open", pb.Source)
	require.Equal(t, postback.ClickNative, pb.ClickKind)
	require.Equal(t, clickid.MustParse("01j3st4z2efcd9y00w5mz4ypkb"), pb.ClickID)
	require.Equal(t, "P-7", pb.PlayerID)
	require.Equal(t, event.FTD, pb.Event)
	require.Equal(t, event.StatusPending, pb.Status)
	require.Equal(t, "pending", pb.OriginalStatus)
	require.True(t, pb.HasAmount)
	require.Equal(t, money.MustParse("150.00", money.EUR), pb.Amount)
	require.Equal(t, "TX-99812", pb.TransactionID)
	require.Equal(t, time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC), pb.OccurredAt.UTC())
	require.Equal(t, t0, pb.ReceivedAt)
	require.Equal(t, "a", pb.Sub(1))
	require.Equal(t, "o", pb.Sub(15))
	require.Equal(t, "", pb.Sub(16))
	require.Equal(t, []postback.Param{{Key: "landing", Value: "lp 2"}}, pb.Extra)
}

// TestParseQuery_TradeFields: a trade's lots and symbol, and a purchase's account size in the
// amount's currency.
func TestParseQuery_TradeFields(t *testing.T) {
	t.Parallel()
	src := openSource(t, nil)
	pb, err := src.ParseQuery("/postback", "player_id=P-7&event=trade&txn_id=T-1&lots=0.25&symbol=EURUSD")
	require.NoError(t, err)
	require.Equal(t, money.MustParseRate("0.25"), pb.Lots)
	require.Equal(t, "EURUSD", pb.Symbol)
	pb, err = src.ParseQuery("/postback", "player_id=P-7&event=purchase&txn_id=T-2&amount=99.00&currency=usd&account_size=50000")
	require.NoError(t, err)
	require.Equal(t, money.MustParse("50000", money.USD), pb.AccountSize)
	require.True(t, pb.Lots.IsZero(), "rule: no lots sent is zero lots")
	pb, err = src.ParseQuery("/postback", "player_id=P-7&event=wager&txn_id=T-3&amount=10.00&currency=usd&rounds=42")
	require.NoError(t, err)
	require.Equal(t, int64(42), pb.Rounds)
}

func TestParseQuery_ClickKinds(t *testing.T) {
	t.Parallel()
	signer, err := clickid.NewSigner(clickid.SignerKey{ID: 1, Secret: secret})
	require.NoError(t, err)
	other, err := clickid.NewSigner(clickid.SignerKey{ID: 2, Secret: secret2})
	require.NoError(t, err)
	id := clickid.MustParse("01j3st4z2efcd9y00w5mz4ypkb")
	signed := signer.Sign(id)
	token, err := signer.SignToken(clickid.Token{ID: id, AffiliateID: "aff-42", CampaignID: "summer"})
	require.NoError(t, err)
	otherToken, err := other.SignToken(clickid.Token{ID: id, AffiliateID: "aff-42"})
	require.NoError(t, err)
	tampered := func(s string, i int) string { return s[:i] + flip(s[i]) + s[i+1:] }
	gclid := "Cj0KCQiA-long_gclid.value~x"

	unsigned := openSource(t, nil)
	strict := openSource(t, &postback.SourceOptions{ClickSigner: signer})
	migrating := openSource(t, &postback.SourceOptions{ClickSigner: signer,
		ClickKinds: []postback.ClickKind{postback.ClickSigned, postback.ClickToken, postback.ClickNative}})
	permissive := openSource(t, &postback.SourceOptions{ClickSigner: signer,
		ClickKinds: []postback.ClickKind{postback.ClickSigned, postback.ClickToken, postback.ClickNative, postback.ClickForeign}})
	idsOnly := openSource(t, &postback.SourceOptions{ClickSigner: signer, ClickKinds: []postback.ClickKind{postback.ClickSigned}})
	tokensOnly := openSource(t, &postback.SourceOptions{ClickSigner: signer, ClickKinds: []postback.ClickKind{postback.ClickToken}})
	ownOnly := openSource(t, &postback.SourceOptions{ClickKinds: []postback.ClickKind{postback.ClickNative}})

	tests := []struct {
		name   string
		src    *postback.Source
		click  string
		kind   postback.ClickKind
		reason postback.Reason
	}{
		// Without a signer: plain and foreign IDs, as sent.
		{"unsigned: native compact", unsigned, id.String(), postback.ClickNative, ""},
		{"unsigned: native upper case", unsigned, strings.ToUpper(id.String()), postback.ClickNative, ""},
		{"unsigned: native uuid", unsigned, id.UUIDString(), postback.ClickNative, ""},
		{"unsigned: foreign gclid", unsigned, gclid, postback.ClickForeign, ""},
		{"unsigned: foreign at the limit", unsigned, strings.Repeat("g", clickid.MaxForeignLen), postback.ClickForeign, ""},
		{"unsigned: foreign too long", unsigned, strings.Repeat("g", clickid.MaxForeignLen+1), 0, postback.ReasonBadClickID},
		{"unsigned: foreign with a space", unsigned, "a%20b", 0, postback.ReasonBadClickID},
		{"unsigned: a signed ID is opaque without a signer", unsigned, signed, postback.ClickForeign, ""},
		{"own IDs only: foreign refused", ownOnly, gclid, 0, postback.ReasonForeignClickID},
		{"own IDs only: native", ownOnly, id.String(), postback.ClickNative, ""},

		// With a signer, by default: signed IDs and verified tokens only.
		{"strict: signed", strict, signed, postback.ClickSigned, ""},
		{"strict: signed in upper case", strict, strings.ToUpper(signed), postback.ClickSigned, ""},
		{"strict: signed, tampered tag", strict, tampered(signed, len(signed)-1), 0, postback.ReasonBadClickIDSig},
		{"strict: signed, mistyped ID", strict, tampered(signed, 5), 0, postback.ReasonBadClickIDSig},
		{"strict: signed, truncated by one", strict, signed[:len(signed)-1], 0, postback.ReasonForeignClickID},
		{"strict: signed, truncated to the bare ID", strict, signed[:clickid.EncodedLen], 0, postback.ReasonNativeClickID},
		{"strict: bare native ID", strict, id.String(), 0, postback.ReasonNativeClickID},
		{"strict: bare native UUID", strict, id.UUIDString(), 0, postback.ReasonNativeClickID},
		{"strict: foreign", strict, gclid, 0, postback.ReasonForeignClickID},
		{"strict: token", strict, token, postback.ClickToken, ""},
		{"strict: token in upper case", strict, strings.ToUpper(token), postback.ClickToken, ""},
		{"strict: token, tampered", strict, tampered(token, len(token)-3), 0, postback.ReasonBadClickIDSig},
		{"strict: token, a length inside changed", strict, tampered(token, 30), 0, postback.ReasonForeignClickID},
		{"strict: token of an unknown key", strict, otherToken, 0, postback.ReasonBadClickIDSig},
		{"strict: token, truncated", strict, token[:len(token)-1], 0, postback.ReasonForeignClickID},

		// A migrating source also takes plain IDs; a permissive one foreign IDs too; never a
		// failed signature.
		{"migrating: bare native ID", migrating, id.String(), postback.ClickNative, ""},
		{"migrating: signed", migrating, signed, postback.ClickSigned, ""},
		{"migrating: signed, mistyped", migrating, tampered(signed, 5), 0, postback.ReasonBadClickIDSig},
		{"migrating: foreign", migrating, gclid, 0, postback.ReasonForeignClickID},
		{"permissive: foreign", permissive, gclid, postback.ClickForeign, ""},
		{"permissive: signed, truncated", permissive, signed[:len(signed)-1], postback.ClickForeign, ""},
		{"permissive: signed, mistyped", permissive, tampered(signed, 5), 0, postback.ReasonBadClickIDSig},
		{"permissive: token, tampered", permissive, tampered(token, len(token)-3), 0, postback.ReasonBadClickIDSig},
		{"permissive: token, a length inside changed: no token, so no claims", permissive, tampered(token, 30), postback.ClickForeign, ""},

		// Signed IDs and tokens may each be left out.
		{"signed IDs only: token", idsOnly, token, 0, postback.ReasonTokenClickID},
		{"signed IDs only: signed", idsOnly, signed, postback.ClickSigned, ""},
		{"tokens only: signed", tokensOnly, signed, 0, postback.ReasonSignedClickID},
		{"tokens only: token", tokensOnly, token, postback.ClickToken, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pb, err := tt.src.ParseQuery("/p", "event=registration&click_id="+tt.click)
			if tt.reason != "" {
				var re *postback.RejectError
				require.ErrorAs(t, err, &re)
				require.Equal(t, tt.reason, re.Reason(), "%v", err)
				require.Equal(t, "click_id", re.Field())
				require.Equal(t, http.StatusUnprocessableEntity, postback.StatusCode(re.Reason()))
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.kind, pb.ClickKind)
			switch tt.kind {
			case postback.ClickForeign:
				require.Equal(t, clickid.Foreign(tt.click), pb.ForeignClickID)
				require.True(t, pb.ClickID.IsZero())
			default:
				require.Equal(t, id, pb.ClickID)
				require.Empty(t, pb.ForeignClickID)
			}
			if tt.kind == postback.ClickToken {
				require.Equal(t, "aff-42", pb.TokenAffiliateID)
				require.Equal(t, "summer", pb.TokenCampaignID)
			} else {
				require.Empty(t, pb.TokenAffiliateID, "only a verified token carries an affiliate")
			}
		})
	}
	// A token changed anywhere is refused by a strict source, and never yields a token's
	// claims: it fails its signature, or (a length inside changed) is no token at all, which
	// a permissive source keeps as an opaque foreign ID.
	for i := range len(token) {
		changed := tampered(token, i)
		_, err := strict.ParseQuery("/p", "event=registration&click_id="+changed)
		require.Contains(t, []postback.Reason{postback.ReasonBadClickIDSig, postback.ReasonForeignClickID}, postback.ReasonOf(err), "position %d", i)
		pb, err := permissive.ParseQuery("/p", "event=registration&click_id="+changed)
		if err != nil {
			require.Equal(t, postback.ReasonBadClickIDSig, postback.ReasonOf(err), "position %d", i)
			continue
		}
		require.Equal(t, postback.ClickForeign, pb.ClickKind, "position %d", i)
		require.Empty(t, pb.TokenAffiliateID, "position %d", i)
	}
	// Another system's ID that merely begins like a token (1 in 64 hex digests do) is kept
	// by a permissive source, not refused as a forged token.
	digest := "07f3c2a1b0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a39281706f5e4d3c2b1a0f"
	pb, err := permissive.ParseQuery("/p", "event=registration&click_id="+digest)
	require.NoError(t, err)
	require.Equal(t, postback.ClickForeign, pb.ClickKind)
	// A token's affiliate comes from the token alone: no parameter sets it.
	pb, err = strict.ParseQuery("/p", "event=registration&click_id="+signed+"&TokenAffiliateID=x&token_affiliate_id=y")
	require.NoError(t, err)
	require.Empty(t, pb.TokenAffiliateID)
}

func TestNewSource_ClickKinds(t *testing.T) {
	t.Parallel()
	signer, err := clickid.NewSigner(clickid.SignerKey{ID: 1, Secret: secret})
	require.NoError(t, err)
	for name, opts := range map[string]*postback.SourceOptions{
		"signed without a signer":     {ClickKinds: []postback.ClickKind{postback.ClickSigned}},
		"tokens without a signer":     {ClickKinds: []postback.ClickKind{postback.ClickNative, postback.ClickToken}},
		"a signer and no signed kind": {ClickSigner: signer, ClickKinds: []postback.ClickKind{postback.ClickNative, postback.ClickForeign}},
		"ClickNone":                   {ClickKinds: []postback.ClickKind{postback.ClickNone}},
		"no such kind":                {ClickKinds: []postback.ClickKind{postback.ClickNative, 9}},
	} {
		_, err := postback.NewSource("s", postback.Auth{Method: postback.MethodNone}, opts)
		require.ErrorIs(t, err, postback.ErrConfig, name)
	}
}

func flip(c byte) string {
	if c == 'a' {
		return "b"
	}
	return "a"
}

func TestParseQuery_Reject(t *testing.T) {
	t.Parallel()
	src := openSource(t, nil)
	long := strings.Repeat("x", store.MaxKeyLen)
	longSub := strings.Repeat("s", store.MaxSubIDLen)
	tests := []struct {
		name, q string
		reason  postback.Reason
		field   string
	}{
		{"repeated key", "click_id=a&event=ftd&txn_id=T1&event=ftd", postback.ReasonRepeatedKey, ""},
		{"semicolon", "click_id=a;event=ftd&txn_id=T1", postback.ReasonSemicolon, ""},
		{"encoded semicolon is a value", "click_id=a%3Bb&event=ftd&txn_id=T1", "", ""},
		{"query too large", "click_id=a&event=ftd&txn_id=T1&x=" + strings.Repeat("y", 8190), postback.ReasonQueryTooLarge, ""},
		{"too many params", "click_id=a&event=ftd&txn_id=T1&" + manyParams(99), postback.ReasonTooManyParams, ""},
		{"bad escape", "click_id=a&event=ftd&txn_id=T1&x=%G0", postback.ReasonMalformedQuery, ""},
		{"no click or player", "event=ftd&txn_id=T1&amount=1.00&currency=EUR", postback.ReasonMissingClickID, ""},
		{"empty click", "click_id=&event=ftd&txn_id=T1", postback.ReasonMissingClickID, ""},
		{"player only", "player_id=p1&event=ftd&txn_id=T1", "", ""},
		{"no event", "click_id=a", postback.ReasonMissingEvent, ""},
		{"unknown status", "click_id=a&event=ftd&txn_id=T1&status=ok", postback.ReasonUnknownStatus, "status"},
		{"amount without currency", "click_id=a&event=ftd&txn_id=T1&amount=1.00", postback.ReasonMissingCurrency, ""},
		{"bad currency", "click_id=a&event=ftd&txn_id=T1&amount=1.00&currency=XXY", postback.ReasonBadCurrency, "currency"},
		{"bad lots", "click_id=a&event=trade&txn_id=T1&lots=1.2.3", postback.ReasonBadLots, "lots"},
		{"zero lots", "click_id=a&event=trade&txn_id=T1&lots=0", postback.ReasonBadLots, "lots"},
		{"negative lots", "click_id=a&event=trade&txn_id=T1&lots=-1", postback.ReasonBadLots, "lots"},
		{"lots with a unit", "click_id=a&event=trade&txn_id=T1&lots=50%25", postback.ReasonBadLots, "lots"},
		{"negative account size", "click_id=a&event=purchase&txn_id=T1&amount=99.00&currency=USD&account_size=-1", postback.ReasonBadAmount, "account_size"},
		{"account size without currency", "click_id=a&event=purchase&txn_id=T1&account_size=50000", postback.ReasonMissingCurrency, ""},
		{"bad rounds", "click_id=a&event=wager&txn_id=T1&rounds=-3", postback.ReasonBadRounds, "rounds"},
		{"too many rounds", "click_id=a&event=wager&txn_id=T1&rounds=1000000001", postback.ReasonBadRounds, "rounds"},
		{"bad symbol", "click_id=a&event=trade&txn_id=T1&lots=1&symbol=EUR%00USD", postback.ReasonBadValue, "symbol"},
		{"too long player id", "player_id=" + strings.Repeat("p", store.MaxKeyLen+1) + "&event=ftd&txn_id=T1", postback.ReasonValueTooLong, "player_id"},
		{"bad occurred_at", "click_id=a&event=ftd&txn_id=T1&occurred_at=yesterday", postback.ReasonBadOccurredAt, "occurred_at"},
		{"occurred_at zero", "click_id=a&event=ftd&txn_id=T1&occurred_at=0", postback.ReasonBadOccurredAt, "occurred_at"},
		{"occurred_at the zero time", "click_id=a&event=ftd&txn_id=T1&occurred_at=0001-01-01T00:00:00Z", postback.ReasonBadOccurredAt, "occurred_at"},
		{"occurred_at before 1970", "click_id=a&event=ftd&txn_id=T1&occurred_at=1969-12-31T23:59:59Z", postback.ReasonBadOccurredAt, "occurred_at"},
		{"occurred_at past 9999", "click_id=a&event=ftd&txn_id=T1&occurred_at=999999999999", postback.ReasonBadOccurredAt, "occurred_at"},
		{"occurred_at one second after the epoch", "click_id=a&event=ftd&txn_id=T1&occurred_at=1", "", ""},
		{"occurred_at in 9999", "click_id=a&event=ftd&txn_id=T1&occurred_at=9999-12-31T23:59:59Z", "", ""},
		{"macro braces", "click_id={clickid}&event=ftd&txn_id=T1", postback.ReasonUnfilledMacro, "click_id"},
		{"macro double braces", "click_id=a&event=ftd&txn_id=T1&sub1={{sub1}}", postback.ReasonUnfilledMacro, "sub1"},
		{"macro hashes", "click_id=%23s2%23&event=ftd&txn_id=T1", postback.ReasonUnfilledMacro, "click_id"},
		{"macro brackets", "click_id=a&event=ftd&txn_id=T1&sub1=[[sub1]]", postback.ReasonUnfilledMacro, "sub1"},
		{"macro single brackets", "click_id=[CLICK_ID]&event=ftd&txn_id=T1", postback.ReasonUnfilledMacro, "click_id"},
		{"macro percent", "click_id=%clickid%&event=ftd&txn_id=T1", postback.ReasonUnfilledMacro, "click_id"},
		{"macro percent encoded", "click_id=%25clickid%25&event=ftd&txn_id=T1", postback.ReasonUnfilledMacro, "click_id"},
		{"macro dollar", "click_id=${SUBID}&event=ftd&txn_id=T1", postback.ReasonUnfilledMacro, "click_id"},
		{"macro parentheses", "click_id=(clickid)&event=ftd&txn_id=T1", postback.ReasonUnfilledMacro, "click_id"},
		{"macro inside a value", "click_id=abc-{subacc4}&event=ftd&txn_id=T1", postback.ReasonUnfilledMacro, "click_id"},
		{"macro in an extra", "click_id=a&event=ftd&txn_id=T1&foo={bar}", postback.ReasonUnfilledMacro, "foo"},
		{"braces that are not a macro", "click_id=a&event=ftd&txn_id=T1&sub1=%7B%7D&sub2=%7B1%7D", "", ""},
		{"two aliases", "click_id=a&event=ftd&txn_id=T1", "", ""},

		// What becomes a stored identifier or sub ID is held to the store's rules, each
		// breach with its own reason, so that the store never refuses what parsing accepted.
		{"player id at the limit", "player_id=" + long + "&event=registration", "", ""},
		{"player id over the limit", "player_id=" + long + "x&event=registration", postback.ReasonValueTooLong, "player_id"},
		{"transaction id at the limit", "click_id=a&event=ftd&txn_id=" + long, "", ""},
		{"transaction id over the limit", "click_id=a&event=ftd&txn_id=" + long + "x", postback.ReasonValueTooLong, "txn_id"},
		{"transaction id of 256 bytes, once accepted", "click_id=a&event=ftd&txn_id=" + strings.Repeat("t", 256), postback.ReasonValueTooLong, "txn_id"},
		{"custom event over the limit", "click_id=a&event=" + long + "x", postback.ReasonValueTooLong, "event"},
		{"status over the limit", "click_id=a&event=ftd&txn_id=T1&status=" + long + "x", postback.ReasonValueTooLong, "status"},
		{"player id with NUL", "player_id=p%00&event=registration", postback.ReasonBadValue, "player_id"},
		{"player id with a newline", "player_id=p%0A1&event=registration", postback.ReasonBadValue, "player_id"},
		{"player id with a tab", "player_id=p%091&event=registration", postback.ReasonBadValue, "player_id"},
		{"player id with DEL", "player_id=p%7F&event=registration", postback.ReasonBadValue, "player_id"},
		{"player id with a C1 control", "player_id=p%C2%85&event=registration", postback.ReasonBadValue, "player_id"},
		{"player id not UTF-8", "player_id=p%FF&event=registration", postback.ReasonBadValue, "player_id"},
		{"player id in UTF-8", "player_id=J%C3%BCrgen+M%C3%BCller&event=registration", "", ""},
		{"transaction id with NUL", "click_id=a&event=ftd&txn_id=T%00", postback.ReasonBadValue, "txn_id"},
		{"event with a newline", "click_id=a&event=ftd%0A&txn_id=T1", postback.ReasonBadValue, "event"},
		{"event not UTF-8", "click_id=a&event=%C3", postback.ReasonBadValue, "event"},
		{"status with a bell", "click_id=a&event=ftd&txn_id=T1&status=%07", postback.ReasonBadValue, "status"},
		{"sub id at the limit", "click_id=a&event=ftd&txn_id=T1&sub3=" + longSub, "", ""},
		{"sub id over the limit", "click_id=a&event=ftd&txn_id=T1&sub3=" + longSub + "s", postback.ReasonValueTooLong, "sub3"},
		{"sub id with NUL", "click_id=a&event=ftd&txn_id=T1&sub15=%00", postback.ReasonBadValue, "sub15"},
		{"sub id not UTF-8", "click_id=a&event=ftd&txn_id=T1&sub1=%E2%82", postback.ReasonBadValue, "sub1"},
		{"sub id with a newline, as stores allow", "click_id=a&event=ftd&txn_id=T1&sub1=a%0Ab", "", ""},
		{"an extra parameter is not stored", "click_id=a&event=ftd&txn_id=T1&note=%00%FF", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := src.ParseQuery("/p", tt.q)
			if tt.reason == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, postback.ErrRejected)
			require.Equal(t, tt.reason, postback.ReasonOf(err), "%v", err)
			require.Less(t, postback.StatusCode(tt.reason), 500)
			if tt.field != "" {
				var re *postback.RejectError
				require.ErrorAs(t, err, &re)
				require.Equal(t, tt.field, re.Field())
				require.Equal(t, tt.reason, re.Reason())
			}
		})
	}
}

// TestParseQuery_Amounts runs money's grammar through the parser.
func TestParseQuery_Amounts(t *testing.T) {
	t.Parallel()
	src := openSource(t, nil)
	tests := []struct {
		amount, currency, event string
		want                    string // minor units and currency, or "" for a rejection
	}{
		{"150.00", "EUR", "ftd", "15000 EUR"},
		{"150", "EUR", "ftd", "15000 EUR"},
		{"0.5", "EUR", "ftd", "50 EUR"},
		{"1500", "JPY", "ftd", "1500 JPY"},
		{"1.234", "KWD", "ftd", "1234 KWD"},
		{"-20.00", "EUR", "reversal", "2000 EUR"}, // a reversal's amount is its magnitude, whatever sign it is sent with
		{"20.00", "EUR", "reversal", "2000 EUR"},
		{"-20.00", "EUR", "ftd", ""},
		{"10.005", "EUR", "ftd", ""},
		{"1.5", "JPY", "ftd", ""},
		{"1e3", "EUR", "ftd", ""},
		{"NaN", "EUR", "ftd", ""},
		{"Inf", "EUR", "ftd", ""},
		{"0x10", "EUR", "ftd", ""},
		{"1_000", "EUR", "ftd", ""},
		{"%2010", "EUR", "ftd", ""},
		{"10%20", "EUR", "ftd", ""},
		{"10,5", "EUR", "ftd", ""},
		{"1,000.00", "EUR", "ftd", ""},
		{"%2B10", "EUR", "ftd", ""},
		{".5", "EUR", "ftd", ""},
		{"5.", "EUR", "ftd", ""},
		{"99999999999999999999", "EUR", "ftd", ""},
	}
	for _, tt := range tests {
		t.Run(tt.amount+" "+tt.currency, func(t *testing.T) {
			t.Parallel()
			pb, err := src.ParseQuery("/p", "click_id=a&txn_id=T1&event="+tt.event+"&amount="+tt.amount+"&currency="+tt.currency)
			if tt.want == "" {
				require.Equal(t, postback.ReasonBadAmount, postback.ReasonOf(err), "%v", err)
				return
			}
			require.NoError(t, err)
			cur, _ := money.ParseCurrency(tt.currency)
			require.Equal(t, tt.want, strings.Join([]string{itoa(pb.Amount.Minor()), cur.String()}, " "))
		})
	}
	// A dialect with DecimalComma accepts "12,34" (Everflow).
	comma := openSource(t, &postback.SourceOptions{Dialect: &postback.Dialect{ClickID: []string{"c"}, Amount: []string{"a"},
		DefaultEvent: event.Conversion, DefaultCurrency: "USD", DecimalComma: true}})
	pb, err := comma.ParseQuery("/p", "c=x&a=12,34")
	require.NoError(t, err)
	require.Equal(t, money.MustParse("12.34", money.USD), pb.Amount)
}

func itoa(n int64) string {
	if n < 0 {
		return "-" + itoa(-n)
	}
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

func TestParseQuery_RejectUnknown(t *testing.T) {
	t.Parallel()
	d := postback.Native()
	d.RejectUnknown = true
	src := openSource(t, &postback.SourceOptions{Dialect: d})
	_, err := src.ParseQuery("/p", "click_id=a&event=ftd&txn_id=T1&utm_source=x")
	require.Equal(t, postback.ReasonUnknownParam, postback.ReasonOf(err))
	_, err = src.ParseQuery("/p", "click_id=a&event=ftd&txn_id=T1")
	require.NoError(t, err)
	// Allowed by default: kept in Extra.
	pb, err := openSource(t, nil).ParseQuery("/p", "click_id=a&event=ftd&txn_id=T1&utm_source=x")
	require.NoError(t, err)
	require.Equal(t, []postback.Param{{Key: "utm_source", Value: "x"}}, pb.Extra)
}

// TestParseQuery_Concurrent parses from many goroutines (run with -race).
func TestParseQuery_Concurrent(t *testing.T) {
	t.Parallel()
	c := &clock{t: t0}
	src := signedSource(t, c)
	q := sign(t, "/postback", pbQuery, postback.Key{Secret: secret}, t0)
	bad := strings.Replace(q, "150.00", "950.00", 1)
	done := make(chan error, 16)
	for g := range 16 {
		go func() {
			for i := range 200 {
				query := q
				if (g+i)%3 == 0 {
					query = bad
				}
				pb, err := src.ParseQuery("/postback", query)
				if query == q && (err != nil || pb.TransactionID != "TX-99812") {
					done <- err
					return
				}
				if query == bad && err == nil {
					done <- errUnexpected
					return
				}
			}
			done <- nil
		}()
	}
	for range 16 {
		require.NoError(t, <-done)
	}
}

var errUnexpected = errors.New("a tampered postback was accepted")

// TestParseQuery_Vocabulary: the native dialect reads every event type and status of package
// event by its own name, so that postback and the packages after it speak one vocabulary.
func TestParseQuery_Vocabulary(t *testing.T) {
	t.Parallel()
	src := openSource(t, nil)
	for _, typ := range event.Types() {
		for _, st := range event.Statuses() {
			pb, err := src.ParseQuery("/p", "click_id=a&txn_id=T1&event="+string(typ)+"&status="+string(st))
			require.NoError(t, err, "%s %s", typ, st)
			require.Equal(t, typ, pb.Event)
			require.True(t, pb.Event.Known())
			require.Equal(t, st, pb.Status)
		}
	}
	pb, err := src.ParseQuery("/p", "click_id=a&txn_id=T1&event=revenue")
	require.NoError(t, err)
	require.Equal(t, event.Revenue, pb.Event, `"revenue" is the revenue report's one spelling`)
	pb, err = src.ParseQuery("/p", "click_id=a&txn_id=T1&event=revenue_report")
	require.NoError(t, err)
	require.False(t, pb.Event.Known(), "revenue_report is a custom event now")
}

// TestParseRequest_StoreRules: the store's rules hold for a JSON body too, whose escapes
// are JSON's.
func TestParseRequest_StoreRules(t *testing.T) {
	t.Parallel()
	src := openSource(t, nil)
	_, err := src.ParseRequest(jsonRequest("/p", `{"player_id":"p\u0000","event":"registration"}`))
	require.Equal(t, postback.ReasonBadValue, postback.ReasonOf(err))
	_, err = src.ParseRequest(jsonRequest("/p", `{"click_id":"a","event":"ftd","txn_id":"T1","sub2":"\u0000"}`))
	require.Equal(t, postback.ReasonBadValue, postback.ReasonOf(err))
}
