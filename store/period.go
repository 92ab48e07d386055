package store

import (
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/s2skit/s2s/money"
)

// MaxCloseLines is the most ledger lines one ClosePeriod writes: the RevShare, adjustment,
// carryover and sub-affiliate lines of every affiliate of a period.
const MaxCloseLines = 100 * MaxLines

// MaxBalances is the most balances one PeriodClose carries.
const MaxBalances = 100 * MaxLines

// MaxCloseFacts is the most revenue facts one ClosePeriod settles.
const MaxCloseFacts = 1 << 20

// PeriodClose is the record of a closed statement period: the period, when it was closed,
// and the RevShare balances every affiliate carries out of it into the next (the negative
// base of a carry-forward plan, ring-fenced players' balances), which the next close starts
// from. Closes form one chain, period after period: each close's Start is the End of the
// close before it ([PeriodStore.ClosePeriod]).
type PeriodClose struct {
	Start, End time.Time // the period [Start, End); both required, Start before End
	ClosedAt   time.Time // required: when it was closed; not part of its content
	// Balances are the balances carried out, of every affiliate that has one, ordered by
	// affiliate then player (Normalize sorts them); none is empty.
	Balances []Balance
}

// Balance is a RevShare balance carried out of a closed period: an affiliate's carried base
// (PlayerID empty) or a ring-fenced player's balance. It is negative.
type Balance struct {
	AffiliateID string       // required
	PlayerID    string       // empty for the affiliate's own carried base
	Amount      money.Amount // required, negative
}

// Validate checks c: the period, the close time, and balances that are valid and distinct.
// The error wraps ErrInvalid.
func (c PeriodClose) Validate() error {
	if err := checkTime("period close: start", c.Start); err != nil {
		return err
	}
	if err := checkTime("period close: closed at", c.ClosedAt); err != nil {
		return err
	}
	if !c.Start.Before(c.End) {
		return invalid("period close: end %s is not after start %s", c.End, c.Start)
	}
	if len(c.Balances) > MaxBalances {
		return invalid("period close: %d balances, at most %d", len(c.Balances), MaxBalances)
	}
	seen := make(map[[2]string]bool, len(c.Balances))
	for i, b := range c.Balances {
		if err := checkKey("period close: balance: affiliate id", b.AffiliateID, true); err != nil {
			return err
		}
		if err := checkKey("period close: balance: player id", b.PlayerID, false); err != nil {
			return err
		}
		if !b.Amount.Currency().Valid() || b.Amount.Sign() >= 0 {
			return invalid("period close: balances[%d]: %s is not a negative amount in a known currency", i, b.Amount)
		}
		k := [2]string{b.AffiliateID, b.PlayerID}
		if seen[k] {
			return invalid("period close: balances[%d]: affiliate %q, player %q given twice", i, b.AffiliateID, b.PlayerID)
		}
		seen[k] = true
	}
	return nil
}

// Normalize returns c as every store keeps it: times normalised, balances sorted, in a slice
// of their own.
func (c PeriodClose) Normalize() PeriodClose {
	c.Start, c.End, c.ClosedAt = NormalizeTime(c.Start), NormalizeTime(c.End), NormalizeTime(c.ClosedAt)
	c.Balances = slices.Clone(c.Balances)
	slices.SortFunc(c.Balances, func(a, b Balance) int {
		if a.AffiliateID != b.AffiliateID {
			if a.AffiliateID < b.AffiliateID {
				return -1
			}
			return 1
		}
		switch {
		case a.PlayerID < b.PlayerID:
			return -1
		case a.PlayerID > b.PlayerID:
			return 1
		}
		return 0
	})
	if len(c.Balances) == 0 {
		c.Balances = nil
	}
	return c
}

// SameContent reports whether c and o close the same period with the same balances. The
// close time is not compared: two processes that close one period from one history at
// different instants close it alike.
func (c PeriodClose) SameContent(o PeriodClose) bool {
	c, o = c.Normalize(), o.Normalize()
	return c.Start.Equal(o.Start) && c.End.Equal(o.End) && slices.Equal(c.Balances, o.Balances)
}

// ClosePeriodParams is the argument of PeriodStore.ClosePeriod: the close and the ledger
// lines it writes, together or not at all.
type ClosePeriodParams struct {
	Close PeriodClose
	// Lines are the period's lines (RevShare, adjustments, carryover, sub-affiliate
	// shares): at most MaxCloseLines, with distinct IDs, none of a conversion.
	Lines []LedgerLine
	// Facts are the IDs of the revenue facts the close counts, at most MaxCloseFacts,
	// distinct: the close marks each settled in its period (RevenueFact.SettledIn is
	// Close.Start) in its own write, so that a fact committed after the close listed the
	// unsettled facts stays unsettled, for a later close to count, and no fact is counted
	// twice. Each must be a stored fact that no close has settled, else the whole call is
	// refused.
	Facts []uuid.UUID
}

// Validate checks p: a valid close, and valid lines of no conversion. The error wraps
// ErrInvalid.
func (p ClosePeriodParams) Validate() error {
	if err := p.Close.Validate(); err != nil {
		return err
	}
	if err := checkBatch("close period", "ledger line", p.Lines, MaxCloseLines, LedgerLine.Validate, func(l LedgerLine) uuid.UUID { return l.ID }); err != nil {
		return err
	}
	for _, l := range p.Lines {
		if l.ConversionID != uuid.Nil {
			return invalid("close period: ledger line %s belongs to conversion %s", l.ID, l.ConversionID)
		}
	}
	if len(p.Facts) > MaxCloseFacts {
		return invalid("close period: %d revenue facts, at most %d", len(p.Facts), MaxCloseFacts)
	}
	seen := make(map[uuid.UUID]bool, len(p.Facts))
	for i, id := range p.Facts {
		if id == uuid.Nil {
			return invalid("close period: facts[%d]: the nil UUID", i)
		}
		if seen[id] {
			return invalid("close period: facts[%d]: revenue fact %s given twice", i, id)
		}
		seen[id] = true
	}
	return nil
}

// Normalize returns p with its close and lines normalised, in slices of their own.
func (p ClosePeriodParams) Normalize() ClosePeriodParams {
	p.Close = p.Close.Normalize()
	p.Lines = normalizeAll(p.Lines, LedgerLine.Normalize)
	p.Facts = slices.Clone(p.Facts)
	return p
}
