package commission

import (
	"fmt"

	"github.com/s2skit/s2s/money"
)

// Plan is one commission deal, as data: the currency it pays in, how it rounds, and the models
// it combines. A plan with both CPA and RevShare is a hybrid deal. Plans encode to and from
// JSON (amounts as money's JSON objects, rates as strings such as "35%" or "0.35", durations
// as strings such as "720h" or "30d") and are checked with Validate before use.
//
// A Plan is a plain value; the calculators never modify it.
type Plan struct {
	// ID names the plan in ledger lines, explanations and errors.
	ID string `json:"id"`
	// Currency is the currency the plan computes and pays in. Events in another currency
	// need an exchange rate.
	Currency money.Currency `json:"currency"`
	// Rounding is the rounding mode of every computed amount (each rounded once). The zero
	// value is money.HalfEven.
	Rounding money.RoundingMode `json:"rounding"`
	// CPA pays a fixed amount per qualified player.
	CPA *CPA `json:"cpa,omitempty"`
	// RevShare pays a share of the net gaming revenue of the affiliate's players.
	RevShare *RevShare `json:"revshare,omitempty"`
	// IB pays a Forex introducing broker per lot traded and as a share of the spread.
	IB *IB `json:"ib,omitempty"`
	// Prop pays a prop-firm affiliate per challenge purchase and when accounts are funded.
	Prop *Prop `json:"prop,omitempty"`
	// Sub pays this affiliate a share of what the affiliates it referred earn or bring in.
	Sub *Sub `json:"sub,omitempty"`
}

// CPA is a cost-per-acquisition model: one payment per player who meets the baseline.
type CPA struct {
	// Amount is paid per qualified player unless Countries or Tiers say otherwise.
	Amount money.Amount `json:"amount"`
	// Countries overrides Amount for players from the listed countries (ISO 3166 alpha-2).
	// A country amount takes precedence over Tiers.
	Countries []CountryAmount `json:"countries,omitempty"`
	// Tiers price the n-th qualified player of the affiliate in a period: the tier with the
	// largest From not above n applies. Their From values strictly increase from 1.
	Tiers []CountTier `json:"tiers,omitempty"`
	// Baseline is what a player must do to qualify.
	Baseline Baseline `json:"baseline"`
	// Hold delays approval: a CPA qualified at t is payable (counted in a statement) from
	// t + Hold. Zero pays at once.
	Hold Duration `json:"hold,omitzero"`
	// Cap limits what the affiliate can earn from CPA per period.
	Cap Cap `json:"cap"`
}

// CountryAmount is a CPA amount for one country.
type CountryAmount struct {
	// Country is an ISO 3166-1 alpha-2 code in upper case, such as "DE".
	Country string `json:"country"`
	// Amount is the CPA for players from Country.
	Amount money.Amount `json:"amount"`
}

// CountTier is a volume tier of CPA: from the From-th qualified player of a period, Amount.
// In JSON, the first tier may leave out "from" (it is 1).
type CountTier struct {
	From   int64        `json:"from"`
	Amount money.Amount `json:"amount"`
}

// Baseline is the qualification rule of a CPA. Every zero field is no requirement.
type Baseline struct {
	// MinFTD is the minimum first-time deposit.
	MinFTD money.Amount `json:"min_ftd,omitzero"`
	// MinDeposits is the minimum sum of deposits within DepositWindow of the first deposit
	// (or since registration, when DepositWindow is zero).
	MinDeposits money.Amount `json:"min_deposits,omitzero"`
	// DepositWindow bounds the deposits that count towards MinDeposits.
	DepositWindow Duration `json:"deposit_window,omitzero"`
	// MinWager is the minimum sum wagered.
	MinWager money.Amount `json:"min_wager,omitzero"`
	// MinRounds is the minimum number of rounds (or bets) played.
	MinRounds int64 `json:"min_rounds,omitempty"`
	// Verified requires a verified (KYC) player.
	Verified bool `json:"verified,omitempty"`
	// Within is the time allowed from registration to qualification (the post-click
	// period). Zero is unlimited.
	Within Duration `json:"within,omitzero"`
}

// Cap limits CPA per affiliate and period. Zero fields are no limit.
type Cap struct {
	// Count is the most CPAs paid per period.
	Count int64 `json:"count,omitempty"`
	// Amount is the most CPA paid per period; a CPA that would exceed it is not paid.
	Amount money.Amount `json:"amount,omitzero"`
}

// RevShare is a revenue-share model: a share of the net gaming revenue (NGR) of the
// affiliate's players in each statement period.
type RevShare struct {
	// Rate is the share when there are no Tiers.
	Rate money.Rate `json:"rate"`
	// Tiers are bands on the period's NGR base (after carryover and admin fee). Their From
	// values strictly increase, the first is zero.
	Tiers []RateTier `json:"tiers,omitempty"`
	// Marginal applies each band's rate to the part of the base inside the band. Otherwise
	// the rate of the highest band reached applies to the whole base.
	Marginal bool `json:"marginal,omitempty"`
	// NGR is the formula from a player's revenue report to NGR. Empty means GGR.
	NGR Formula `json:"ngr,omitempty"`
	// AdminFee is deducted from a positive base before the share is taken: base × (1 − fee).
	AdminFee money.Rate `json:"admin_fee,omitzero"`
	// Carryover is what happens to a negative period.
	Carryover Carryover `json:"carryover,omitempty"`
	// HighRoller is the ring-fence threshold of Carryover RingFence: a player whose NGR in a
	// period is at or below minus HighRoller becomes fenced, and stays fenced until his
	// balance is absorbed (see RingFence). It is required, and positive, with RingFence.
	HighRoller money.Amount `json:"high_roller,omitzero"`
}

// RateTier is a band of a tiered RevShare: from base From, Rate. In JSON, the first tier may
// leave out "from" (it is zero in the plan's currency).
type RateTier struct {
	From money.Amount `json:"from"`
	Rate money.Rate   `json:"rate"`
}

// Carryover is a negative-carryover policy of RevShare. The empty Carryover, the zero value,
// is CarryNone.
type Carryover string

// The carryover policies.
const (
	// CarryNone starts each period at zero: a negative period pays nothing and is
	// forgotten. It is also what the empty Carryover means.
	CarryNone Carryover = "none"
	// CarryForward carries a negative period base into the next period.
	CarryForward Carryover = "carry"
	// RingFence carries nothing for the affiliate, except for high rollers. A player becomes
	// fenced in a period whose NGR is at or below minus HighRoller: his NGR is left out of
	// the affiliate's base and becomes his own negative balance. Once fenced, a player stays
	// fenced until the balance is absorbed: every later NGR of his, whatever its size or
	// sign, goes to his balance and not to the affiliate's base; in the period where the
	// balance reaches zero or more, only what is left over counts for the affiliate, and
	// the player is no longer fenced (a later period at or below minus HighRoller fences him
	// again). A player who is not fenced counts in the affiliate's base, negative or not.
	RingFence Carryover = "ring_fence"
)

// Formula computes NGR as a sum of terms, each a revenue field times a signed rate, exactly,
// rounded once. In JSON it is its list of terms or the name of a preset (FormulaMGA,
// FormulaOntario); the MGA formula GGR×83.5% − bonuses − (deposits+withdrawals)×10% is
// "mga", or
//
//	[{"field":"ggr","rate":"83.5%"},{"field":"bonuses","rate":"-1"},
//	 {"field":"deposits","rate":"-10%"},{"field":"withdrawals","rate":"-10%"}]
type Formula []Term

// Term is one term of a Formula: Field × Rate. A deduction has a negative rate: "-1" deducts
// the whole reported amount, "-7%" deducts 7% of it.
type Term struct {
	Field Field      `json:"field"`
	Rate  money.Rate `json:"rate"`
}

// Field names an amount of a Revenue report.
type Field string

// The revenue fields.
const (
	GGR         Field = "ggr"
	Bonuses     Field = "bonuses"
	Deposits    Field = "deposits"
	Withdrawals Field = "withdrawals"
	Fees        Field = "fees"
	Taxes       Field = "taxes"
	Adjustments Field = "adjustments"
)

// Sub is a sub-affiliate model: the affiliate earns from the affiliates it referred (see
// Program.Parents), several levels deep.
type Sub struct {
	// Levels[0] applies to direct referrals, Levels[1] to their referrals, and so on.
	Levels []SubLevel `json:"levels"`
}

// SubLevel is one level of a sub-affiliate model.
type SubLevel struct {
	// Rate is the share, at most 100%.
	Rate money.Rate `json:"rate"`
	// Basis is what the share is taken of.
	Basis Basis `json:"basis"`
}

// Basis is what a sub-affiliate share is taken of.
type Basis string

// The sub-affiliate bases.
const (
	// OfEarnings takes the share of the sub-affiliate's own commission in the period.
	OfEarnings Basis = "earnings"
	// OfRevenue takes the share of the positive NGR the sub-affiliate's players brought.
	OfRevenue Basis = "revenue"
)

// planError is a validation error: it names the plan and the field.
type planError struct {
	where, plan, field, problem string
}

func (e *planError) Error() string {
	if e.where != "" {
		return fmt.Sprintf("commission: program: %s: plan %q: %s: %s", e.where, e.plan, e.field, e.problem)
	}
	return fmt.Sprintf("commission: plan %q: %s: %s", e.plan, e.field, e.problem)
}

func (e *planError) Unwrap() error { return ErrInvalidPlan }

// Validate checks the plan and returns an error wrapping ErrInvalidPlan that names the first
// bad field, such as `commission: plan "vip": revshare.tiers[2].from: overlaps tiers[1]`.
func (p *Plan) Validate() error {
	v := validator{plan: p.ID, cur: p.Currency}
	if p.ID == "" {
		v.fail("id", "empty")
	}
	if !p.Currency.Valid() {
		v.fail("currency", "unknown currency")
	}
	if _, err := p.Rounding.MarshalText(); err != nil {
		v.fail("rounding", "unknown rounding mode")
	}
	if p.CPA == nil && p.RevShare == nil && p.IB == nil && p.Prop == nil && p.Sub == nil {
		v.fail("plan", "no model: set cpa, revshare, ib, prop or sub")
	}
	if p.CPA != nil {
		p.CPA.validate(&v)
	}
	if p.RevShare != nil {
		p.RevShare.validate(&v)
	}
	if p.IB != nil {
		p.IB.validate(&v)
	}
	if p.Prop != nil {
		p.Prop.validate(&v)
	}
	if p.Sub != nil {
		p.Sub.validate(&v)
	}
	return v.err
}

func (c *CPA) validate(v *validator) {
	v.amount("cpa.amount", c.Amount, true)
	for i, ca := range c.Countries {
		f := fmt.Sprintf("cpa.countries[%d]", i)
		if !validCountry(ca.Country) {
			v.fail(f+".country", fmt.Sprintf("%q is not an upper-case ISO 3166 alpha-2 code", ca.Country))
		}
		for j := range i {
			if c.Countries[j].Country == ca.Country {
				v.fail(f+".country", fmt.Sprintf("duplicates countries[%d]", j))
			}
		}
		v.amount(f+".amount", ca.Amount, true)
	}
	for i, t := range c.Tiers {
		f := fmt.Sprintf("cpa.tiers[%d]", i)
		switch {
		case i == 0 && t.From != 1:
			v.fail(f+".from", "the first tier must start at 1")
		case i > 0 && t.From <= c.Tiers[i-1].From:
			v.fail(f+".from", fmt.Sprintf("overlaps tiers[%d]", i-1))
		}
		v.amount(f+".amount", t.Amount, true)
	}
	b := c.Baseline
	v.amount("cpa.baseline.min_ftd", b.MinFTD, false)
	v.amount("cpa.baseline.min_deposits", b.MinDeposits, false)
	v.amount("cpa.baseline.min_wager", b.MinWager, false)
	if b.MinRounds < 0 {
		v.fail("cpa.baseline.min_rounds", "negative")
	}
	if b.DepositWindow < 0 || b.Within < 0 || c.Hold < 0 {
		v.fail("cpa", "negative duration")
	}
	if c.Cap.Count < 0 {
		v.fail("cpa.cap.count", "negative")
	}
	v.amount("cpa.cap.amount", c.Cap.Amount, false)
}

func (r *RevShare) validate(v *validator) {
	v.share("revshare.rate", r.Rate)
	for i, t := range r.Tiers {
		f := fmt.Sprintf("revshare.tiers[%d]", i)
		v.amount(f+".from", t.From, true)
		switch {
		case i == 0 && !t.From.IsZero():
			v.fail(f+".from", "the first tier must start at 0")
		case i > 0 && !less(r.Tiers[i-1].From, t.From):
			v.fail(f+".from", fmt.Sprintf("overlaps tiers[%d]", i-1))
		}
		v.share(f+".rate", t.Rate)
	}
	if len(r.Tiers) > 0 && !r.Rate.IsZero() {
		v.fail("revshare.rate", "set either rate or tiers")
	}
	for i, t := range r.NGR {
		f := fmt.Sprintf("revshare.ngr[%d]", i)
		if !t.Field.valid() {
			v.fail(f+".field", fmt.Sprintf("unknown field %q", t.Field))
		}
		if t.Rate.Cmp(intRate(-1)) < 0 || t.Rate.Cmp(intRate(1)) > 0 {
			v.fail(f+".rate", fmt.Sprintf("%s is outside -100%%..100%%", t.Rate))
		}
	}
	v.share("revshare.admin_fee", r.AdminFee)
	switch r.Carryover {
	case "", CarryNone, CarryForward:
		if !r.HighRoller.IsZero() {
			v.fail("revshare.high_roller", "only used with carryover \"ring_fence\"")
		}
	case RingFence:
		if r.HighRoller.IsZero() { // zero is unset, as in the JSON encoding (omitzero)
			v.fail("revshare.high_roller", "missing")
		}
		v.amount("revshare.high_roller", r.HighRoller, true)
	default:
		v.fail("revshare.carryover", fmt.Sprintf("unknown policy %q (want none, carry or ring_fence)", r.Carryover))
	}
}

func (s *Sub) validate(v *validator) {
	if len(s.Levels) == 0 {
		v.fail("sub.levels", "empty")
	}
	for i, l := range s.Levels {
		f := fmt.Sprintf("sub.levels[%d]", i)
		v.share(f+".rate", l.Rate)
		if l.Basis != OfEarnings && l.Basis != OfRevenue {
			v.fail(f+".basis", fmt.Sprintf("unknown basis %q (want earnings or revenue)", l.Basis))
		}
	}
}

func (f Field) valid() bool {
	switch f {
	case GGR, Bonuses, Deposits, Withdrawals, Fees, Taxes, Adjustments:
		return true
	}
	return false
}

func validCountry(c string) bool {
	return len(c) == 2 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z'
}

// less reports a < b for amounts of one currency (an unset amount counts as zero).
func less(a, b money.Amount) bool { return a.Minor() < b.Minor() }

// validator keeps the first validation error.
type validator struct {
	plan string
	cur  money.Currency
	err  error
}

func (v *validator) fail(field, problem string) {
	if v.err == nil {
		v.err = &planError{plan: v.plan, field: field, problem: problem}
	}
}

// amount checks that a is in the plan's currency (or unset, unless required) and not
// negative.
func (v *validator) amount(field string, a money.Amount, required bool) {
	switch {
	case a.Currency() == 0 && a.IsZero():
		if required {
			v.fail(field, "missing")
		}
	case !a.Currency().Valid():
		v.fail(field, "unknown currency")
	case a.Currency() != v.cur:
		v.fail(field, fmt.Sprintf("currency %s, the plan pays in %s", a.Currency(), v.cur))
	case a.Sign() < 0:
		v.fail(field, fmt.Sprintf("negative (%s)", a))
	}
}

// share checks that r is within 0..100%.
func (v *validator) share(field string, r money.Rate) {
	if r.Sign() < 0 || r.Cmp(intRate(1)) > 0 {
		v.fail(field, fmt.Sprintf("%s is outside 0..100%%", r))
	}
}
