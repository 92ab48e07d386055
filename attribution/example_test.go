package attribution_test

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/s2skit/s2s/attribution"
	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/store"
)

// A typical iGaming campaign: an FTD is credited to the player's last click if it comes
// within 30 calendar days of it in Malta, one FTD per player, and the player belongs for
// life to the affiliate who acquired them. The rules are data.
func ExampleDecider_Decide_igaming() {
	var cfg attribution.Config
	err := json.Unmarshal([]byte(`{
		"dedup": {"events": {"ftd": "player_event"}},
		"campaigns": [{"id": "casino", "zone": "Europe/Malta", "windows": {"ftd": "30d"}, "lifetime": true}]
	}`), &cfg)
	if err != nil {
		panic(err)
	}
	d, err := attribution.New(cfg, nil)
	if err != nil {
		panic(err)
	}
	malta, err := time.LoadLocation("Europe/Malta")
	if err != nil {
		panic(err)
	}
	clickAt := time.Date(2026, 3, 2, 10, 0, 0, 0, malta)
	k := store.Click{ID: clickid.MustParse("01m8vvjveve3gvt48akbcqhvfw"), AffiliateID: "aff-17", CampaignID: "casino", CreatedAt: clickAt}
	deposit := func(typ event.Type, player, txn string, at time.Time, click *store.Click, b *store.PlayerBinding) attribution.Decision {
		in := attribution.Input{Click: click, Binding: b, Conversion: store.Conversion{
			Source: "casino-x", Event: typ, PlayerID: player, TransactionID: txn,
			Amount: money.MustParse("50.00", money.EUR), Status: event.StatusApproved, OccurredAt: at, ReceivedAt: at,
		}}
		if click != nil {
			in.Conversion.ClickID = click.ID
		}
		return d.Decide(&in)
	}

	// 10:00 on 1 April is 30 calendar days after the click (719 hours: the clocks went
	// forward on 29 March), the window's last instant: credited, and the player is bound.
	end := time.Date(2026, 4, 1, 10, 0, 0, 0, malta)
	first := deposit(event.FTD, "P-1", "T-1", end, &k, nil)
	fmt.Println(first.Code, first.AffiliateID, first.Model, first.WindowEnd.In(malta).Format(time.DateTime))
	fmt.Println("bound to", first.Binding.AffiliateID, "by", first.Binding.Method)

	// A second FTD of the player, under another transaction, has the first one's key: the
	// store answers it as that FTD (a conflict: same key, other content), never a second.
	again := deposit(event.FTD, "P-1", "T-2", end.Add(time.Hour), &k, nil)
	fmt.Println("one FTD per player:", again.DedupKey() == first.DedupKey())

	// Another player's FTD a second past the window is not credited.
	late := deposit(event.FTD, "P-2", "T-3", end.Add(time.Second), &k, nil)
	fmt.Println(late.Code, late.Status, late.Attributed())

	// A year later, the bound player deposits through another affiliate's click: the
	// deposit follows the binding.
	other := store.Click{ID: clickid.MustParse("01m8vvjveve5cr5rs2hqqpvweh"), AffiliateID: "aff-99", CampaignID: "casino", CreatedAt: end.AddDate(1, 0, 0)}
	later := deposit(event.Deposit, "P-1", "T-9", other.CreatedAt.Add(time.Hour), &other, &first.Binding)
	fmt.Println(later.Code, later.AffiliateID, later.Model)
	// Output:
	// click aff-17 last_click 2026-04-01 10:00:00
	// bound to aff-17 by click
	// one FTD per player: true
	// window_expired rejected false
	// binding aff-17 lifetime_binding
}

// A Forex introducing-broker programme: a trader who followed one IB's link but entered
// another IB's promo code belongs to the promo code's IB (promo code ranks first by
// default), for life, and their trades follow. The decision says why.
func ExampleDecider_Decide_forexIB() {
	d, err := attribution.New(attribution.Config{Campaigns: []attribution.Campaign{{ID: "fx-ib", Rules: attribution.Rules{
		Zone: "Europe/London", Windows: attribution.Windows{Default: attribution.Days(60)}, Lifetime: true,
	}}}}, nil)
	if err != nil {
		panic(err)
	}
	at := time.Date(2026, 5, 4, 9, 30, 0, 0, time.UTC)
	link := store.Click{ID: clickid.MustParse("01m8vvjvevekzacv04kkmxk04p"), AffiliateID: "ib-link", CampaignID: "fx-ib", CreatedAt: at.Add(-2 * time.Hour)}
	reg := attribution.Input{Click: &link,
		Claims: []attribution.Claim{{Method: store.BindByPromoCode, AffiliateID: "ib-promo", CampaignID: "fx-ib"}}, // entered at sign-up
		Conversion: store.Conversion{Source: "broker", Event: event.Registration, ClickID: link.ID, PlayerID: "TR-7",
			Status: event.StatusApproved, OccurredAt: at, ReceivedAt: at}}
	dec := d.Decide(&reg)
	fmt.Println(dec.AffiliateID, dec.Model, dec.Code)
	fmt.Println(dec.Reason())

	// A trade months later, through the first IB's link again, follows the binding.
	trade := attribution.Input{Click: &link, Binding: &dec.Binding, Conversion: store.Conversion{
		Source: "broker", Event: event.Trade, ClickID: link.ID, PlayerID: "TR-7", TransactionID: "D-1001",
		Status: event.StatusApproved, OccurredAt: at.AddDate(0, 3, 0), ReceivedAt: at.AddDate(0, 3, 0)}}
	dec = d.Decide(&trade)
	fmt.Println(dec.AffiliateID, dec.Model, dec.Code)
	// Output:
	// ib-promo promo_code claim
	// credited to affiliate "ib-promo" (campaign "fx-ib") by promo_code: a promo code claim outranks the other claims and clicks, event occurred at 2026-05-04T09:30:00.000Z; no window applies
	// ib-promo lifetime_binding binding
}
