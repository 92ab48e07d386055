package postback

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"

	"github.com/s2skit/s2s/event"
)

// needsTransactionID reports whether a postback of event t must carry a transaction ID:
// every event except those that happen at most once for a player or a click (a
// registration, a verification, and a vendor's main conversion, which vendors count once per
// click). A player makes many deposits, trades and purchases, and without a transaction ID
// two of them would be one.
func needsTransactionID(t event.Type) bool {
	switch t {
	case event.Registration, event.Verification, event.Conversion:
		return false
	}
	return true
}

// dedupKeyVersion starts every dedup key, so that the rule can change without a new key
// meeting an old one.
const dedupKeyVersion = "v1:"

// DedupKey returns the key under which exactly one conversion of p is recorded: a retry of p
// has the same key, and a different event has another. It is made of the source, the event
// and
//
//   - the transaction ID, if p has one;
//   - otherwise (a registration, a verification or a vendor's main conversion, the only
//     events accepted without one: see ReasonMissingTxnID) the player ID, if p has one, or
//     else its click ID.
//
// So one transaction ID may carry several events (a deposit and its reversal), and an event
// that happens once per player is recorded once per player. Status, amount and times are not
// part of the key: a retry with a different status or amount has the same key, and the store
// tells a duplicate from a conflict by the content (store.Conversion.SameContent). A
// postback sent without occurred_at has a zero OccurredAt, and so does the record
// Postback.Conversion makes of it: a store keeps the event time as sent, so a retry that
// arrives later is still a duplicate (store.Conversion.EventTime falls back on the receive
// time of the record stored).
//
// The key is "v1:" and 64 lower-case hex digits (a SHA-256 of the parts, each prefixed with
// its length, so that no two sets of parts give one key), which a store accepts as its
// DedupKey (store.CheckKey). It is the default dedup rule; a pipeline with a policy of its
// own (once per player for an FTD, say) builds its own key.
func (p *Postback) DedupKey() string {
	h := sha256.New()
	part := func(s string) {
		var n [binary.MaxVarintLen64]byte
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(s)))])
		h.Write([]byte(s))
	}
	part(p.Source)
	part(string(p.Event))
	switch {
	case p.TransactionID != "":
		part("txn")
		part(p.TransactionID)
	case p.PlayerID != "":
		part("player")
		part(p.PlayerID)
	case p.ClickKind == ClickForeign:
		part("foreign")
		part(string(p.ForeignClickID))
	default:
		part("click")
		part(p.ClickID.String())
	}
	var sum [sha256.Size]byte
	return dedupKeyVersion + hex.EncodeToString(h.Sum(sum[:0]))
}
