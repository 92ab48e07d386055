package outbound_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/outbound"
	"github.com/s2skit/s2s/store"
)

func TestEndpoint_DeliveryAndRequest(t *testing.T) {
	t.Parallel()
	e := &outbound.Endpoint{Name: "aff1", URL: "https://trk.example.com/postback?txid={transaction_id}&id={event_id}", SendDelay: time.Minute}
	require.NoError(t, e.Compile())
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	id := uuid.MustParse("0193a9f0-0000-7000-8000-000000000001")
	d, err := e.Delivery(outbound.Values{EventID: id, TransactionID: "a b&c"}, now)
	require.NoError(t, err)
	require.NoError(t, d.Validate(), "rule: a rendered delivery is one a store accepts")
	require.Equal(t, "https://trk.example.com/postback?txid=a+b%26c&id="+id.String(), d.URL)
	require.Equal(t, now.Add(time.Minute), d.NextAttemptAt)
	require.Equal(t, store.DeliveryPending, d.Status)
	req, err := e.Request(context.Background(), d, now)
	require.NoError(t, err)
	require.Equal(t, "a b&c", req.URL.Query().Get("txid"))
}

func TestEndpoint_NotCompiled(t *testing.T) {
	t.Parallel()
	e := &outbound.Endpoint{Name: "aff1", URL: "https://trk.example.com/"}
	_, err := e.Delivery(outbound.Values{EventID: uuid.New()}, time.Now())
	require.ErrorIs(t, err, outbound.ErrInvalidEndpoint)
}
