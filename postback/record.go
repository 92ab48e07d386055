package postback

import (
	"slices"

	"github.com/s2skit/s2s/store"
)

// Conversion returns the record of p that a store keeps, with everything the sender said, as
// parsed: the source, the event, the click ID (ours, or the sender's foreign one), the sub IDs
// by position, the player and transaction IDs, the amount, the status, the event time as sent
// (zero if the sender gave none) and the receive time.
//
// What the receiver decides is left to the caller: the conversion's ID, its DedupKey,
// AffiliateID, CampaignID and Decision, and a Status of its own if its policy overrides the
// sender's. attribution.Decision.Apply fills them in, the dedup key by the programme's dedup
// policy (attribution.Dedup.Key makes the key alone). With an ID and a dedup key set, every
// record returned for a postback that parsing accepted passes store.Conversion.Validate
// (FuzzParse_StoreAccepts holds the packages to it). Its SubIDs are a copy, not p's.
//
// A status is not part of a conversion's content (store.Conversion.SameContent): a sender
// that reports a new status for a transaction it sent before (approved, then reversed by a
// chargeback) sends the same dedup key and content, and the store answers ErrDuplicate with
// the stored conversion. That is a status update, not a retry: when the stored Status differs
// from this one, the receiver applies it with store.ConversionStore.ChangeStatus, from the
// stored status, as its status machine allows.
func (p *Postback) Conversion() store.Conversion {
	return store.Conversion{
		Source:         p.Source,
		Event:          p.Event,
		ClickID:        p.ClickID,
		ForeignClickID: p.ForeignClickID,
		SubIDs:         slices.Clone(p.SubIDs()),
		PlayerID:       p.PlayerID,
		TransactionID:  p.TransactionID,
		Amount:         p.Amount,
		Status:         p.Status,
		OccurredAt:     p.OccurredAt,
		ReceivedAt:     p.ReceivedAt,
	}
}
