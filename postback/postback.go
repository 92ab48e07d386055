package postback

import (
	"time"

	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
)

// Limits on what a sender may send. Anything beyond is rejected with its own [Reason]. The
// limits on the values themselves are the store's: an identifier (player ID, transaction ID,
// event, status) has at most store.MaxKeyLen bytes of UTF-8 without control characters, a
// sub ID at most store.MaxSubIDLen bytes of UTF-8 without NUL (ReasonValueTooLong,
// ReasonBadValue).
const (
	// MaxQueryBytes is the longest raw query accepted (ReasonQueryTooLarge).
	MaxQueryBytes = 8 << 10
	// MaxParams is the largest number of parameters accepted, query and form body together
	// (ReasonTooManyParams).
	MaxParams = 100
	// MaxBodyBytes is the largest body accepted (ReasonBodyTooLarge); no more is read.
	MaxBodyBytes = 64 << 10
	// MaxRounds is the most rounds a postback's wager may report.
	MaxRounds = 1_000_000_000
	// MaxSubs is the number of sub ID slots of a Postback (sub1 to sub15).
	MaxSubs = 15
)

// ClickKind says how a postback's click ID was recognised; a source accepts the kinds that
// SourceOptions.ClickKinds lists.
type ClickKind uint8

// Click ID kinds.
const (
	// ClickNone means the postback carries no click ID (only a player ID).
	ClickNone ClickKind = iota
	// ClickNative is a plain clickid.ID in its compact or UUID form: anyone can make one.
	ClickNative
	// ClickSigned is a signed click ID (clickid.Signer.Sign) verified by the source's
	// ClickSigner: it was minted here.
	ClickSigned
	// ClickForeign is another system's click ID, kept whole in Postback.ForeignClickID.
	ClickForeign
	// ClickToken is a signed token (clickid.Signer.SignToken, a "btag") verified by the
	// source's ClickSigner: its click ID is in Postback.ClickID, the affiliate and campaign
	// it carries in Postback.TokenAffiliateID and TokenCampaignID.
	ClickToken
)

// String returns "none", "native", "signed", "foreign" or "token".
func (k ClickKind) String() string {
	switch k {
	case ClickNative:
		return "native"
	case ClickSigned:
		return "signed"
	case ClickForeign:
		return "foreign"
	case ClickToken:
		return "token"
	}
	return "none"
}

// Param is a parameter the dialect does not map to a field, kept as sent (decoded).
type Param struct {
	Key, Value string
}

// Postback is one inbound postback in canonical form, whatever the sender's dialect and
// whether it came as a GET query, a form POST or a JSON POST.
//
// Its strings may share memory with the request they were parsed from; they are immutable,
// so a Postback may be kept after the request is done.
type Postback struct {
	// Source is the name of the Source that received it.
	Source string
	// ClickKind says which of ClickID and ForeignClickID is set.
	ClickKind ClickKind
	// ClickID is the click ID when ClickKind is ClickNative, ClickSigned or ClickToken.
	ClickID clickid.ID
	// ForeignClickID is the click ID when ClickKind is ClickForeign, exactly as sent.
	ForeignClickID clickid.Foreign
	// TokenAffiliateID and TokenCampaignID are, when ClickKind is ClickToken, the affiliate
	// and campaign that the verified token carries (the campaign may be empty): a signed
	// claim, so the conversion can be attributed even when its click record is missing.
	// They are never read from any other parameter.
	TokenAffiliateID, TokenCampaignID string
	// PlayerID is the sender's ID of the player or customer, if sent.
	PlayerID string
	// Event is what happened: the dialect's mapping of EventName, the value as sent (empty
	// if the postback sent none and the dialect's default applied).
	Event     event.Type
	EventName string
	// Status is the mapped status; OriginalStatus the value as sent, if any.
	Status         event.Status
	OriginalStatus string
	// Amount is the amount and its currency; HasAmount reports whether one was sent. It is
	// never negative: senders give a reversal's amount either sign, so a negative one (which
	// only a reversal may send) is kept as its magnitude, and Event or Status says that it
	// goes back. A store keeps conversion amounts the same way.
	Amount    money.Amount
	HasAmount bool
	// Currency is the currency sent (or the dialect's default), whether or not an amount
	// was: the currency of Amount when one was sent, and of the signed components of a
	// revenue report (ggr, bonuses... in Extra), which carry no currency of their own. Zero
	// if neither was given.
	Currency money.Currency
	// TransactionID is the sender's ID of this conversion or event, the usual dedup key.
	TransactionID string
	// OccurredAt is when the event happened, if the sender said (zero if not); it can be
	// days old. Keep it as it is: a stored conversion keeps a zero event time too, and falls
	// back on its first receive time (store.Conversion.EventTime), so that a retry, received
	// later, is still a duplicate.
	OccurredAt time.Time
	// ReceivedAt is when the postback was parsed, by the source's clock.
	ReceivedAt time.Time
	// Lots and Symbol are a trade's volume in lots (positive; zero if not sent) and its
	// instrument; AccountSize is a challenge purchase's account size (zero if not sent), in
	// the amount's currency. Package commission reads them as a Trade and a purchase's
	// AccountSize.
	Lots        money.Rate
	Symbol      string
	AccountSize money.Amount
	// Rounds is the number of rounds of a wager (zero if not sent).
	Rounds int64
	// Subs are sub IDs 1 to MaxSubs: Subs[0] is sub1.
	Subs [MaxSubs]string
	// Extra holds the parameters the dialect does not map, in the order sent.
	Extra []Param
	// KeyID is the ID of the key whose signature verified, if the source signs.
	KeyID string
}

// Sub returns sub ID n (1 to MaxSubs), or "" if n is out of range.
func (p *Postback) Sub(n int) string {
	if n < 1 || n > MaxSubs {
		return ""
	}
	return p.Subs[n-1]
}
