package commission

import (
	"fmt"
	"time"

	"github.com/s2skit/s2s/money"
)

// CPAInput is what the CPA calculator needs: the player's facts so far, in the plan's
// currency, and what the affiliate already earned from CPA in the current period.
type CPAInput struct {
	AffiliateID string
	PlayerID    string
	// EventID is the event being checked (the deposit, wager or verification that may
	// qualify the player), and At its time.
	EventID string
	At      time.Time
	// Country is the player's ISO 3166 alpha-2 country.
	Country string
	// Registered is when the player registered; Baseline.Within counts from it, so it is
	// required when the plan sets Within.
	Registered time.Time
	// FTD is the first deposit (zero when none yet).
	FTD money.Amount
	// Deposits is the sum of deposits within the plan's Baseline.DepositWindow.
	Deposits money.Amount
	// Wagered and Rounds are the player's wagering so far.
	Wagered money.Amount
	Rounds  int64
	// Verified says the player passed KYC.
	Verified bool
	// Paid says the player already earned a CPA: a player earns one CPA at most.
	Paid bool
	// PeriodCount and PeriodTotal are the CPAs already paid to the affiliate in the period
	// of At, for tiers and caps.
	PeriodCount int64
	PeriodTotal money.Amount
	// FX is recorded on the line when the event was converted (by reference: do not modify
	// it afterwards; Replay records a copy).
	FX *money.ExchangeRate
}

// The reasons a CPA is not paid, in Line.Reason.
const (
	reasonNoCPA       = "plan.no_cpa"
	reasonPaid        = "cpa.already_paid"
	reasonWithin      = "baseline.within"
	reasonMinFTD      = "baseline.min_ftd"
	reasonMinDeposits = "baseline.min_deposits"
	reasonMinWager    = "baseline.min_wager"
	reasonMinRounds   = "baseline.min_rounds"
	reasonVerified    = "baseline.verified"
	reasonCapCount    = "cap.count"
	reasonCapAmount   = "cap.amount"
)

// CPALine decides whether the player qualifies for the plan's CPA at in.At and returns the
// accrual line. A player who does not qualify (yet) gets a line with a zero Amount and a
// Reason naming the first unmet requirement, such as "baseline.min_ftd" or "cap.count";
// such lines belong in no ledger. Amounts of in in another currency than the plan's are an
// error wrapping ErrCurrency.
//
// The amount is the country's amount if the player's country is listed, else the tier's for
// the (PeriodCount+1)-th CPA of the period if there are tiers, else CPA.Amount. A CPA that
// would exceed the period's amount cap is not paid. CPALine does not allocate.
func (p *Plan) CPALine(in CPAInput) (l Line, err error) {
	p.unpaidCPA(&l, in.AffiliateID, in.PlayerID, in.EventID, in.At, in.FX)
	c := p.CPA
	if c == nil {
		l.Reason = reasonNoCPA
		return l, nil
	}
	for _, a := range [...]money.Amount{in.FTD, in.Deposits, in.Wagered, in.PeriodTotal} {
		if a.Currency() != p.Currency && !(a.Currency() == 0 && a.IsZero()) {
			return Line{}, fmt.Errorf("%w: plan %q pays in %s, player %s has amounts in %s", ErrCurrency, p.ID, p.Currency, in.PlayerID, a.Currency())
		}
	}
	b := &c.Baseline
	switch {
	case in.Paid:
		l.Reason = reasonPaid
	case b.Within > 0 && in.At.After(in.Registered.Add(b.Within.Std())):
		l.Reason = reasonWithin
	case in.FTD.IsZero() || in.FTD.Minor() < b.MinFTD.Minor():
		l.Reason = reasonMinFTD
	case in.Deposits.Minor() < b.MinDeposits.Minor():
		l.Reason = reasonMinDeposits
	case in.Wagered.Minor() < b.MinWager.Minor():
		l.Reason = reasonMinWager
	case in.Rounds < b.MinRounds:
		l.Reason = reasonMinRounds
	case b.Verified && !in.Verified:
		l.Reason = reasonVerified
	case c.Cap.Count > 0 && in.PeriodCount >= c.Cap.Count:
		l.Reason = reasonCapCount
	}
	if l.Reason != "" {
		return l, nil
	}
	amount := c.Amount
	for _, ca := range c.Countries {
		if ca.Country == in.Country {
			amount, l.Rule, l.Detail.Country = ca.Amount, RuleCPACountry, ca.Country
			break
		}
	}
	if l.Rule == RuleCPA && len(c.Tiers) > 0 {
		n := in.PeriodCount + 1
		for i, t := range c.Tiers {
			if t.From <= n {
				amount, l.Tier = t.Amount, int32(i+1)
			}
		}
		l.Rule, l.Detail.Rank = RuleCPATier, n
	}
	if c.Cap.Amount.Minor() > 0 {
		total, err := in.PeriodTotal.Add(amount)
		if err != nil {
			return Line{}, overflow("cpa cap", err)
		}
		if total.Minor() > c.Cap.Amount.Minor() {
			l.Reason, l.Rule, l.Tier, l.Detail = reasonCapAmount, RuleCPA, 0, Detail{}
			return l, nil
		}
	}
	l.Amount, l.Base = amount, amount
	if c.Hold > 0 {
		l.Payable = in.At.Add(c.Hold.Std())
	}
	return l, nil
}

// unpaidCPA sets the fields of a CPA line that pays nothing, as CPALine returns it before it
// sets the Reason (or pays).
func (p *Plan) unpaidCPA(l *Line, affiliate, player, event string, at time.Time, fx *money.ExchangeRate) {
	l.Kind, l.Rule, l.Plan, l.AffiliateID, l.PlayerID, l.EventID = KindAccrual, RuleCPA, p.ID, affiliate, player, event
	l.At, l.Payable, l.Mode, l.FX = at, at, p.Rounding, fx
	l.Amount, l.Base = money.New(0, p.Currency), money.New(0, p.Currency)
}
