package postback_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/attribution"
	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/postback"
)

// TestParseQuery_TransactionID: every event that a player can cause more than once needs a
// transaction ID, or two of them would share one dedup key; only a registration, a
// verification and a vendor's main conversion may come without one.
func TestParseQuery_TransactionID(t *testing.T) {
	t.Parallel()
	src := openSource(t, nil)
	once := map[event.Type]bool{event.Registration: true, event.Verification: true, event.Conversion: true}
	for _, typ := range append(event.Types(), "custom_goal", "revenue_report") {
		_, err := src.ParseQuery("/p", "click_id=a&player_id=p&event="+string(typ))
		if once[typ] {
			require.NoError(t, err, typ)
		} else {
			require.Equal(t, postback.ReasonMissingTxnID, postback.ReasonOf(err), typ)
			require.Equal(t, 422, postback.StatusCode(postback.ReasonOf(err)))
		}
		_, err = src.ParseQuery("/p", "click_id=a&player_id=p&txn_id=T-1&event="+string(typ))
		require.NoError(t, err, typ)
	}
	// The money-moving events, named.
	for _, typ := range []event.Type{event.FTD, event.Deposit, event.Purchase, event.Trade, event.Revenue, event.Reversal, event.Refund} {
		_, err := src.ParseQuery("/p", "click_id=a&event="+string(typ)+"&amount=1.00&currency=EUR&occurred_at=1732350000")
		require.Equal(t, postback.ReasonMissingTxnID, postback.ReasonOf(err), "%s, even with an event time", typ)
	}
	// A preset's default event is a conversion: one per click, as vendors count it.
	binom, err := postback.Preset("binom")
	require.NoError(t, err)
	pb, err := openSource(t, &postback.SourceOptions{Dialect: binom}).ParseQuery("/click.php", "cnv_id=c1&payout=1.00&cnv_currency=EUR")
	require.NoError(t, err)
	require.Equal(t, event.Conversion, pb.Event)
}

// TestPostback_ConversionKey: the record of a postback leaves its dedup key to attribution,
// whose default mode keys the record of every postback parsing accepts; a retry of a
// registration sent without a transaction ID or an event time, some minutes later, has
// the key of the first.
func TestPostback_ConversionKey(t *testing.T) {
	t.Parallel()
	id := clickid.MustParse("01j3st4z2efcd9y00w5mz4ypkb")
	c := &clock{t: t0}
	src := openSource(t, &postback.SourceOptions{Now: c.Now})
	key := func(pb postback.Postback) string {
		t.Helper()
		conv := pb.Conversion()
		require.Empty(t, conv.DedupKey, "the dedup key is the receiver's")
		k, code := attribution.Dedup{}.Key(&conv)
		require.Empty(t, code)
		return k
	}
	first, err := src.ParseQuery("/p", "click_id="+id.String()+"&player_id=P-1&event=registration")
	require.NoError(t, err)
	c.t = t0.Add(5 * time.Minute)
	retry, err := src.ParseQuery("/p", "click_id="+id.String()+"&player_id=P-1&event=registration")
	require.NoError(t, err)
	require.NotEqual(t, first.ReceivedAt, retry.ReceivedAt)
	require.Equal(t, key(first), key(retry))
	deposit, err := src.ParseQuery("/p", "click_id="+id.String()+"&event=deposit&amount=5.00&currency=EUR&txn_id=D-1")
	require.NoError(t, err)
	reversal, err := src.ParseQuery("/p", "click_id="+id.String()+"&event=reversal&amount=5.00&currency=EUR&txn_id=D-1")
	require.NoError(t, err)
	require.NotEqual(t, key(deposit), key(reversal), "another event of the transaction")
	require.NotEqual(t, key(first), key(deposit))
}
