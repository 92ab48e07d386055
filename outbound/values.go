package outbound

import (
	"time"

	"github.com/google/uuid"

	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/store"
)

// Values are the inputs of an endpoint's templates: what one outbound postback says about one
// conversion. Every macro of a template reads one of them (see the package documentation,
// section Templates, for the macro names).
//
// Values is plain data: [ValuesOf] fills it from a store.Conversion, and a caller may set the
// fields a conversion does not carry (the click's ForeignClickID and SubIDs, say).
type Values struct {
	// EventID is the ID of the outbound event: required, not zero. It becomes the Delivery's
	// ID, the {event_id} macro and the ID a signature carries (webhook-id), so a receiver
	// dedups on it across retries and replays. Give every delivery its own, such as
	// uuid.NewV7(): two endpoints never share a delivery ID.
	EventID uuid.UUID

	ConversionID   uuid.UUID       // {conversion_id}
	Event          event.Type      // {event}
	Status         event.Status    // {status}: mapped by the endpoint's status map
	ClickID        clickid.ID      // {click_id}: our click ID; empty when zero
	ForeignClickID clickid.Foreign // {foreign_click_id}: the receiver's (or another party's) click ID
	SubIDs         []string        // {sub1} ... {sub30}: by position
	PlayerID       string          // {player_id}
	AffiliateID    string          // {affiliate_id}
	CampaignID     string          // {campaign_id}
	TransactionID  string          // {transaction_id}
	Source         string          // {source}
	Amount         money.Amount    // {amount}, {amount:minor}, {currency}: the event's amount
	Payout         money.Amount    // {payout}, {payout:minor}, {payout_currency}: what the affiliate earns
	OccurredAt     time.Time       // {occurred_at}: when the event happened (the conversion's EventTime)
	ReceivedAt     time.Time       // {received_at}: when the postback that caused it was received
}

// ValuesOf returns the values of conversion c with the affiliate's payout: every field of c
// that a template may read, OccurredAt set to c.EventTime(). EventID is left zero: the caller
// gives each delivery a new one.
func ValuesOf(c store.Conversion, payout money.Amount) Values {
	return Values{
		ConversionID:   c.ID,
		Event:          c.Event,
		Status:         c.Status,
		ClickID:        c.ClickID,
		ForeignClickID: c.ForeignClickID,
		SubIDs:         c.SubIDs,
		PlayerID:       c.PlayerID,
		AffiliateID:    c.AffiliateID,
		CampaignID:     c.CampaignID,
		TransactionID:  c.TransactionID,
		Source:         c.Source,
		Amount:         c.Amount,
		Payout:         payout,
		OccurredAt:     c.EventTime(),
		ReceivedAt:     c.ReceivedAt,
	}
}
