package commission

import (
	"time"

	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
)

// Event is one input of the engine: something a player did, at a time, brought by an
// affiliate. Fields that do not apply to the Type are ignored.
//
// Type is one of the event types of package event, which commission reads as follows:
//   - event.Registration: a sign-up; Country and Verified may be set.
//   - event.Verification: the player passed KYC.
//   - event.Deposit: a deposit of Amount, positive. commission counts which deposit is the first
//     (the FTD of CPA baselines) itself, from the history.
//   - event.FTD: a deposit, exactly as event.Deposit. The sender's word "first" is not
//     trusted: an FTD of a player who already deposited is a further deposit (it counts
//     towards Baseline.MinDeposits, not MinFTD), so a resent or mislabelled FTD never
//     replaces the first deposit's amount.
//   - event.Wager: Amount wagered over Rounds rounds, neither negative.
//   - event.Revenue: a report of the player's Revenue, counted in the period of At, or, when
//     Received is after that period's cutoff, as late revenue in a later one
//     (Program.RevenuePeriod).
//   - event.Trade: a closed Forex trade, described by Trade, of a positive number of lots.
//   - event.Purchase: a prop-firm challenge bought for Amount, for an account of
//     AccountSize, neither negative.
//   - event.Refund and event.Reset: the purchase named by Reverses was refunded or reset.
//   - event.Funded: the prop-firm trader's account was funded.
//   - event.Adjustment: a manual adjustment of Amount (either sign) to the affiliate.
//   - event.Reversal: the event named by Reverses is reversed (a chargeback, a cancelled
//     deposit, a corrected report): every line it produced is reversed by a negative line.
//     An adjustment, a reversal, a refund or a reset is not reversed (a reversal would pay
//     back what it took): it is corrected with an adjustment. So every reversal and
//     clawback line is negative or zero.
//
// An event that breaks these rules is refused with ErrInvalidEvent. Any other type
// (event.Conversion, a custom goal) earns nothing under any plan today: Replay
// keeps it in the history, so that a reversal may name it, and produces no line.
type Event struct {
	// ID identifies the event (the operator's transaction ID); reversals refer to it.
	ID string `json:"id"`
	// Type is what happened.
	Type event.Type `json:"type"`
	// At is when it happened. Plans, periods, windows and holds are all evaluated at At.
	At time.Time `json:"at"`
	// Received, on a revenue report or the reversal of one, is when it was received; zero
	// is on time. A report received after its period's cutoff counts, as late revenue, in
	// the period Program.RevenuePeriod gives (see Program.Grace).
	Received time.Time `json:"received,omitzero"`
	// AffiliateID is the affiliate the player is attributed to.
	AffiliateID string `json:"affiliate"`
	// PlayerID identifies the player (or trader).
	PlayerID string `json:"player"`
	// Country is the player's ISO 3166 alpha-2 country, set on registration.
	Country string `json:"country,omitempty"`
	// Verified, on a registration, says the player is already verified.
	Verified bool `json:"verified,omitempty"`
	// Amount is the deposit, the sum wagered, the purchase price or the adjustment.
	Amount money.Amount `json:"amount,omitzero"`
	// Rounds is the number of rounds of a wager.
	Rounds int64 `json:"rounds,omitempty"`
	// AccountSize is the size of the account a purchase buys.
	AccountSize money.Amount `json:"account_size,omitzero"`
	// Revenue is the report of an event.Revenue.
	Revenue Revenue `json:"revenue,omitzero"`
	// Trade is the trade of an event.Trade.
	Trade Trade `json:"trade,omitzero"`
	// Reverses names the event that a reversal, refund or reset refers to.
	Reverses string `json:"reverses,omitempty"`
	// FX converts the event's amounts into the plan's currency. It is required when they
	// are in another currency, and recorded on the lines the event produces.
	FX *money.ExchangeRate `json:"fx,omitempty"`
}

// Revenue is a player's revenue report for a period. Amounts are positive as reported
// (bonuses, fees and taxes are costs; the Formula gives them their sign); GGR may be negative.
type Revenue struct {
	GGR         money.Amount `json:"ggr,omitzero"`
	Bonuses     money.Amount `json:"bonuses,omitzero"`
	Deposits    money.Amount `json:"deposits,omitzero"`
	Withdrawals money.Amount `json:"withdrawals,omitzero"`
	Fees        money.Amount `json:"fees,omitzero"`
	Taxes       money.Amount `json:"taxes,omitzero"`
	Adjustments money.Amount `json:"adjustments,omitzero"`
}

// field returns the amount of f.
func (r *Revenue) field(f Field) money.Amount {
	switch f {
	case GGR:
		return r.GGR
	case Bonuses:
		return r.Bonuses
	case Deposits:
		return r.Deposits
	case Withdrawals:
		return r.Withdrawals
	case Fees:
		return r.Fees
	case Taxes:
		return r.Taxes
	case Adjustments:
		return r.Adjustments
	}
	return money.Amount{}
}

// revenueFields is the number of amounts of a Revenue.
const revenueFields = 7

// fields returns pointers to the amounts of r, in the order of the Field constants.
func (r *Revenue) fields() [revenueFields]*money.Amount {
	return [...]*money.Amount{&r.GGR, &r.Bonuses, &r.Deposits, &r.Withdrawals, &r.Fees, &r.Taxes, &r.Adjustments}
}

// combine sets each amount of r to op(that amount, the same amount of o).
func (r *Revenue) combine(o *Revenue, op func(a, b money.Amount) (money.Amount, error)) error {
	dst, src := r.fields(), o.fields()
	for i := range dst {
		v, err := op(*dst[i], *src[i])
		if err != nil {
			return err
		}
		*dst[i] = v
	}
	return nil
}

// IsZero reports whether every amount of r is zero.
func (r Revenue) IsZero() bool {
	for _, a := range r.fields() {
		if !a.IsZero() {
			return false
		}
	}
	return true
}

// Trade is a closed Forex trade.
type Trade struct {
	// Symbol is the instrument, such as "EURUSD"; Class its class, such as "fx" or "metals".
	Symbol string `json:"symbol"`
	Class  string `json:"class,omitempty"`
	// Lots is the volume in lots ("0.01" is a micro lot). On a Cent account, lots are cent
	// lots, worth 1/100 of a standard lot.
	Lots money.Rate `json:"lots"`
	Cent bool       `json:"cent,omitempty"`
	// Open and Close are when the position was opened and closed.
	Open  time.Time `json:"open"`
	Close time.Time `json:"close"`
	// Spread is the trade's spread in price units ("0.00012"); AvgSpread the symbol's usual
	// spread, for damping.
	Spread    money.Rate `json:"spread,omitzero"`
	AvgSpread money.Rate `json:"avg_spread,omitzero"`
}

// IsZero reports whether t is the zero Trade.
func (t Trade) IsZero() bool { return t == Trade{} }
