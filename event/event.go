// Package event names, once for every package of s2s, what happens in an affiliate
// programme: the [Type] of an event a player causes (a registration, a first-time deposit, a
// trade...) and the [Status] of the conversion it becomes.
//
// postback parses events into these names, attribution decides on them, commission pays for
// them and store keeps them: no package defines a vocabulary of its own, so an event that a
// sender reports as "ftd" is the same event.FTD everywhere, and a test in each package fails
// if its spelling drifts.
//
// The package imports nothing and holds no state; every package of s2s may import it.
package event

// Type is what happened: one of the Type constants, or any other non-empty name for a custom
// event (a network's goal name, say), kept as sent. Record limits on the name (its length and
// characters) are the store's, see [github.com/s2skit/s2s/store.MaxKeyLen].
type Type string

// The event types the library knows. A Type outside this list is a custom event: it is
// parsed, stored and reported like any other, and earns only what a plan says of it (nothing,
// today).
const (
	// Registration is a player's sign-up.
	Registration Type = "registration"
	// Verification marks the player as verified (KYC).
	Verification Type = "verification"
	// FTD is a first-time deposit, as the sender reports it. Commission treats it as a
	// Deposit: which deposit is the first is its own count.
	FTD Type = "ftd"
	// Deposit is a deposit of an amount.
	Deposit Type = "deposit"
	// Wager is an amount wagered over a number of rounds.
	Wager Type = "wager"
	// Purchase is a purchase, such as a prop-trading challenge.
	Purchase Type = "purchase"
	// Trade is a closed trade, such as lots traded by a Forex client.
	Trade Type = "trade"
	// Revenue is a report of a player's revenue (GGR, bonuses, fees...) for a period.
	Revenue Type = "revenue"
	// Refund refunds an earlier purchase.
	Refund Type = "refund"
	// Reset resets the challenge an earlier purchase bought.
	Reset Type = "reset"
	// Funded is a prop-firm trader's account being funded.
	Funded Type = "funded"
	// Adjustment is a manual adjustment of what an affiliate is owed.
	Adjustment Type = "adjustment"
	// Reversal reverses an earlier event (a chargeback, a cancelled deposit, a corrected
	// report).
	Reversal Type = "reversal"
	// Conversion is a conversion of an offer's main goal: the event of vendor postbacks that
	// carry no event name.
	Conversion Type = "conversion"
)

// types lists the known types, in the order of the constants. It is never modified.
var types = [...]Type{
	Registration, Verification, FTD, Deposit, Wager, Purchase, Trade, Revenue, Refund, Reset,
	Funded, Adjustment, Reversal, Conversion,
}

// Types returns the event types the library knows, in a new slice.
func Types() []Type { return append([]Type(nil), types[:]...) }

// Known reports whether t is one of the Type constants.
func (t Type) Known() bool {
	for _, k := range types {
		if t == k {
			return true
		}
	}
	return false
}

// String returns t as a string.
func (t Type) String() string { return string(t) }

// Status is the status of a conversion: what the sender reports for it, and what the store
// keeps as its current status.
type Status string

// The statuses. Senders' own vocabularies ("confirmed", "declined", "chargeback"...) are mapped
// onto them by postback's dialects; attribution owns the rules for moving between them.
const (
	// StatusPending is a conversion not yet approved: on hold, or waiting for review.
	StatusPending Status = "pending"
	// StatusApproved is a conversion that counts.
	StatusApproved Status = "approved"
	// StatusRejected is a conversion refused (fraud, a failed check, a declined payment).
	StatusRejected Status = "rejected"
	// StatusReversed is a conversion undone after it counted (a chargeback, a refund).
	StatusReversed Status = "reversed"
)

// statuses lists the statuses, in the order of the constants. It is never modified.
var statuses = [...]Status{StatusPending, StatusApproved, StatusRejected, StatusReversed}

// Statuses returns every status, in a new slice.
func Statuses() []Status { return append([]Status(nil), statuses[:]...) }

// Valid reports whether s is one of the Status constants.
func (s Status) Valid() bool {
	for _, k := range statuses {
		if s == k {
			return true
		}
	}
	return false
}

// String returns s as a string.
func (s Status) String() string { return string(s) }
