package outbound_test

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/outbound"
)

// exampleValues are the values of one conversion: an approved first deposit.
func exampleValues() outbound.Values {
	return outbound.Values{
		EventID:        uuid.MustParse("0193a9f0-1111-7000-8000-000000000001"),
		ConversionID:   uuid.MustParse("0193a9f0-2222-7000-8000-000000000002"),
		Event:          event.FTD,
		Status:         event.StatusApproved,
		ForeignClickID: "a1b2c3d4e5",
		SubIDs:         []string{"fb ads/summer"},
		PlayerID:       "player-42",
		Amount:         money.New(15000, money.EUR),
		Payout:         money.New(2550, money.EUR),
		OccurredAt:     time.Date(2026, 12, 1, 23, 30, 0, 0, time.UTC),
	}
}

// A receiver preset: the affiliate's Keitaro tracker, with its postback key kept as a
// secret. The stored delivery shows where the key goes, never the key.
func ExampleEndpoint_preset() {
	e := outbound.Endpoint{
		Name:    "aff-7-keitaro",
		Preset:  "keitaro",
		URL:     "https://trk.example.com",
		Secrets: map[string]string{"postback_key": "7d3e2a1f9c"},
	}
	if err := e.Compile(); err != nil {
		fmt.Println(err)
		return
	}
	now := time.Date(2026, 12, 2, 10, 30, 0, 0, time.UTC)
	d, err := e.Delivery(exampleValues(), now)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("stored:", d.URL)
	req, err := e.Request(context.Background(), d, now)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("sent:  ", req.URL)
	// Output:
	// stored: https://trk.example.com/<secret:postback_key>/postback?subid=a1b2c3d4e5&status=sale&payout=25.50&currency=EUR&tid=0193a9f0-2222-7000-8000-000000000002
	// sent:   https://trk.example.com/7d3e2a1f9c/postback?subid=a1b2c3d4e5&status=sale&payout=25.50&currency=EUR&tid=0193a9f0-2222-7000-8000-000000000002
}

// A custom receiver that wants a JSON POST, a status code of its own, a date in its zone and
// a hashed player ID. Values are escaped for where they stand: the sub ID in the query, the
// player's hash and the date in JSON strings, the amount as a JSON number.
func ExampleEndpoint_custom() {
	e := outbound.Endpoint{
		Name:     "aff-9",
		Method:   "POST",
		Dialect:  "double_braces",
		URL:      "https://api.example.com/conversions?source={{sub1|direct}}",
		BodyType: "json",
		Body: `{"click":"{{foreign_click_id}}","event":"{{event}}","status":"{{status}}","amount":{{amount}},` +
			`"currency":"{{currency}}","day":"{{occurred_at:date}}","player":"{{sha256:player_id}}","id":"{{event_id}}"}`,
		StatusMap: map[event.Status]string{event.StatusApproved: "confirmed"},
		Zone:      "Asia/Tokyo",
	}
	if err := e.Compile(); err != nil {
		fmt.Println(err)
		return
	}
	d, err := e.Delivery(exampleValues(), time.Date(2026, 12, 2, 10, 30, 0, 0, time.UTC))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.Method, d.URL)
	fmt.Println(d.Header.Get("Content-Type"))
	fmt.Println(string(d.Body))
	// Output:
	// POST https://api.example.com/conversions?source=fb+ads%2Fsummer
	// application/json
	// {"click":"a1b2c3d4e5","event":"ftd","status":"confirmed","amount":150.00,"currency":"EUR","day":"2026-12-02","player":"c3214538d133c9d934db63a435cddcae80ec8b6f073babcc7c3a02a17791be79","id":"0193a9f0-1111-7000-8000-000000000001"}
}

// Endpoints from a configuration file are decoded strictly and compiled: a macro the engine
// does not know is refused with its position, so it never goes out literally.
func ExampleEndpoints() {
	var es outbound.Endpoints
	err := json.Unmarshal([]byte(`[
		{"name": "aff-1", "preset": "voluum", "url": "https://aff1.example.com"},
		{"name": "aff-2", "url": "https://aff2.example.com/pb?cid={foreign_click_id}&s4={subacc4}"}
	]`), &es)
	fmt.Println(err)
	// Output:
	// outbound: invalid endpoint "aff-2": endpoints[1].url: byte 54: {subacc4}: unknown macro "subacc4"
}
