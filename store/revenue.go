package store

import (
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/s2skit/s2s/money"
)

// RevenueFact is one revenue report of a player (iGaming RevShare): what a player brought an
// operator over a period or at an instant, with its sign, as the sender reported it. A
// player's winnings make GGR negative; a correction is a new fact that names the one it
// corrects (Corrects), never an edit: facts are immutable once recorded.
//
// Its identity is its Source and TransactionID: the sender's report ID, under which exactly
// one fact exists ([RevenueStore.RecordRevenue]).
//
// The rules a store enforces (Validate): an ID; a Source, a TransactionID, an AffiliateID and
// a PlayerID, under [CheckKey]'s rules (a CampaignID and Corrects too, optional); an
// OccurredAt and a ReceivedAt; a GGR in a known currency (zero when the player played even),
// and every other amount either the zero money.Amount (not reported: the store keeps it as a
// zero of GGR's currency) or in GGR's currency: one currency per fact. Any amount may be
// negative: a sender's refunded fee or taxes returned are reported as they are.
type RevenueFact struct {
	ID            uuid.UUID // required, not zero; time-ordered (uuid.NewV7) keys index best
	Source        string    // required: the sender
	TransactionID string    // required: the sender's report ID; with Source, the fact's identity
	AffiliateID   string    // required: the affiliate the player is bound to
	PlayerID      string    // required
	CampaignID    string    // optional
	// OccurredAt is the instant the revenue is of, as the sender said: a report of a day or
	// a month gives an instant in it (its start, say), by which the fact is in a period.
	OccurredAt time.Time
	ReceivedAt time.Time // required: when it was received
	// Corrects is the TransactionID of the fact of the same Source that this fact corrects:
	// its amounts replace that fact's. Empty for a fact that corrects none. A fact is
	// corrected once at most; a correction may itself be corrected.
	Corrects string
	// SettledIn is the Start of the period whose close counted the fact, which
	// [PeriodStore.ClosePeriod] marks in the close's own write (ClosePeriodParams.Facts);
	// zero while no close has counted it. It is the store's, not the sender's: RecordRevenue
	// records every fact unsettled, whatever it is given, and SameContent and Equal do not
	// compare it.
	SettledIn time.Time

	// The amounts, signed, in one currency.
	GGR         money.Amount // gross gaming revenue: bets less wins; negative when the player won
	Bonuses     money.Amount // bonuses granted, a cost
	Fees        money.Amount // payment and platform fees, a cost
	Taxes       money.Amount // gaming taxes, a cost
	Deposits    money.Amount
	Withdrawals money.Amount
}

// amounts returns pointers to the amounts of f.
func (f *RevenueFact) amounts() [6]*money.Amount {
	return [...]*money.Amount{&f.GGR, &f.Bonuses, &f.Fees, &f.Taxes, &f.Deposits, &f.Withdrawals}
}

// revenueAmountNames are the names of the amounts, in the order of amounts.
var revenueAmountNames = [6]string{"ggr", "bonuses", "fees", "taxes", "deposits", "withdrawals"}

// Currency returns the currency of f's amounts: GGR's.
func (f RevenueFact) Currency() money.Currency { return f.GGR.Currency() }

// Validate checks f against the rules of RevenueFact. The error wraps ErrInvalid and names
// the first broken rule.
func (f RevenueFact) Validate() error {
	if f.ID == uuid.Nil {
		return invalid("revenue fact: id is required")
	}
	for _, k := range []struct {
		name, v  string
		required bool
	}{
		{"revenue fact: source", f.Source, true},
		{"revenue fact: transaction id", f.TransactionID, true},
		{"revenue fact: affiliate id", f.AffiliateID, true},
		{"revenue fact: player id", f.PlayerID, true},
		{"revenue fact: campaign id", f.CampaignID, false},
		{"revenue fact: corrects", f.Corrects, false},
	} {
		if err := checkKey(k.name, k.v, k.required); err != nil {
			return err
		}
	}
	if f.Corrects == f.TransactionID {
		return invalid("revenue fact %s: corrects itself (%q)", f.TransactionID, f.Corrects)
	}
	if err := checkTime("revenue fact: occurred at", f.OccurredAt); err != nil {
		return err
	}
	if err := checkTime("revenue fact: received at", f.ReceivedAt); err != nil {
		return err
	}
	if err := checkAmount("revenue fact: ggr", f.GGR, false); err != nil {
		return err
	}
	cur := f.GGR.Currency()
	for i, a := range f.amounts() {
		if *a != (money.Amount{}) && a.Currency() != cur {
			return invalid("revenue fact %s: %s is in %s, not in ggr's %s: one currency per fact", f.TransactionID, revenueAmountNames[i], a.Currency(), cur)
		}
	}
	return nil
}

// Normalize returns f as every store keeps it: times normalised, and every amount not
// reported as a zero of GGR's currency.
func (f RevenueFact) Normalize() RevenueFact {
	f.OccurredAt = NormalizeTime(f.OccurredAt)
	f.ReceivedAt = NormalizeTime(f.ReceivedAt)
	f.SettledIn = NormalizeTime(f.SettledIn)
	cur := f.GGR.Currency()
	for _, a := range f.amounts() {
		if *a == (money.Amount{}) {
			*a = money.New(0, cur)
		}
	}
	return f
}

// SameContent reports whether f and o are the same report: the same identity, affiliate,
// player, campaign, correction link, occurred time (at the store's precision) and amounts.
// The ID and the received time are the receiver's, not the sender's, and are not compared:
// a sender's retry, given a new ID and received later, is the same report. Amounts not
// reported and reported as zero are the same.
func (f RevenueFact) SameContent(o RevenueFact) bool {
	f, o = f.Normalize(), o.Normalize()
	return f.Source == o.Source && f.TransactionID == o.TransactionID && f.AffiliateID == o.AffiliateID &&
		f.PlayerID == o.PlayerID && f.CampaignID == o.CampaignID && f.Corrects == o.Corrects &&
		f.OccurredAt.Equal(o.OccurredAt) && f.GGR == o.GGR && f.Bonuses == o.Bonuses && f.Fees == o.Fees &&
		f.Taxes == o.Taxes && f.Deposits == o.Deposits && f.Withdrawals == o.Withdrawals
}

// Equal reports whether f and o are the same record: the same ID and received time, and
// the same content.
func (f RevenueFact) Equal(o RevenueFact) bool {
	return f.ID == o.ID && NormalizeTime(f.ReceivedAt).Equal(NormalizeTime(o.ReceivedAt)) && f.SameContent(o)
}

// RevenueTime names the time of a revenue fact by which a listing selects and orders facts.
type RevenueTime uint8

// The times revenue facts are listed by.
const (
	// ByOccurredAt lists facts by OccurredAt: the revenue of a period. It is the zero value.
	ByOccurredAt RevenueTime = iota
	// ByReceivedAt lists facts by ReceivedAt: what was received in a span of time, such as
	// the facts that came after their period was closed.
	ByReceivedAt
)

// ListTime returns the time of f that a listing by b selects and orders by.
func (b RevenueTime) ListTime(f RevenueFact) time.Time {
	if b == ByReceivedAt {
		return f.ReceivedAt
	}
	return f.OccurredAt
}

// ListRevenueParams is the argument of RevenueStore.ListRevenue.
type ListRevenueParams struct {
	AffiliateID string      // only this affiliate's facts; empty means every affiliate's
	By          RevenueTime // the time that From, To and After are about; the zero value is ByOccurredAt
	From, To    time.Time   // range [From, To) of the By time; both required
	After       Cursor      // the By time and ID of the last fact seen
	Limit       int         // 0 means 100; at most 1000
	// Unsettled lists only the facts that no close has counted yet (SettledIn zero): what a
	// period close has to settle, whenever the facts were committed.
	Unsettled bool
}

// Validate checks p.
func (p ListRevenueParams) Validate() error {
	if err := checkKey("list revenue: affiliate id", p.AffiliateID, false); err != nil {
		return err
	}
	if p.By != ByOccurredAt && p.By != ByReceivedAt {
		return invalid("list revenue: unknown RevenueTime %d", p.By)
	}
	return checkRange("list revenue", p.From, p.To, p.Limit)
}

// GetRevenueParams is the argument of RevenueStore.GetRevenue: a fact's identity.
type GetRevenueParams struct {
	Source        string // required
	TransactionID string // required
}

// Validate checks p.
func (p GetRevenueParams) Validate() error {
	if err := CheckLookupKey(p.Source); err != nil {
		return fmt.Errorf("get revenue: source: %w", err)
	}
	if err := CheckLookupKey(p.TransactionID); err != nil {
		return fmt.Errorf("get revenue: transaction id: %w", err)
	}
	return nil
}

// CompareRevenue orders facts listed by b: by b's time, then ID. Stores list in this order.
func CompareRevenue(b RevenueTime, x, y RevenueFact) int {
	if c := b.ListTime(x).Compare(b.ListTime(y)); c != 0 {
		return c
	}
	return slices.Compare(x.ID[:], y.ID[:])
}
