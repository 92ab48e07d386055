package s2s

import (
	"context"

	"github.com/google/uuid"

	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/store"
)

// facts are the names of the counters that keep what a CPA baseline reads of a player, in
// the plan's currency: the sum of the deposits and of the wagers, and the rounds wagered,
// each with the sum of those reversed since (counters only grow, so a reversal adds to a counter of its own, and the
// player's figure is the difference), and whether the player passed verification. Each is
// incremented with the record that causes it.
type facts struct {
	player       string // playerKey of the conversion
	cur          string // the plan's currency, for the sums
	depositsName string // deposits(), when made already (cpaCounters)
}

func (f facts) deposits() string {
	if f.depositsName != "" {
		return f.depositsName
	}
	return "s2s:deposits:" + f.player + ":" + f.cur
}
func (f facts) depositsBack() string { return "s2s:deposits_back:" + f.player + ":" + f.cur }
func (f facts) wagered() string      { return "s2s:wagered:" + f.player + ":" + f.cur }
func (f facts) wageredBack() string  { return "s2s:wagered_back:" + f.player + ":" + f.cur }
func (f facts) rounds() string       { return "s2s:rounds:" + f.player }
func (f facts) roundsBack() string   { return "s2s:rounds_back:" + f.player }
func (f facts) verified() string     { return "s2s:verified:" + f.player }

// wagerRounds names the counter that keeps the rounds of wager conversion id, for its
// reversal.
func wagerRounds(id uuid.UUID) string { return "s2s:wager_rounds:conv=" + id.String() }

// factsOf returns the counters of the player of c, in currency cur. Their names are made
// when asked for, so that an event pays only for the counters it reads or increments.
func factsOf(c *store.Conversion, cur money.Currency) facts {
	return facts{player: playerKey(c), cur: cur.String()}
}

// increments appends to out what conversion c adds to the facts f: its deposit or wager amount
// (in the plan's currency) and a wager's rounds (kept for its reversal too), or the
// verification it reports.
func (f facts) increments(out []store.Increment, c *store.Conversion, amount money.Amount, rounds int64) []store.Increment {
	switch ty := c.Event; {
	case (ty == event.FTD || ty == event.Deposit) && amount.Minor() > 0:
		out = append(out, store.Increment{Counter: f.deposits(), Delta: amount.Minor()})
	case ty == event.Wager:
		if amount.Minor() > 0 {
			out = append(out, store.Increment{Counter: f.wagered(), Delta: amount.Minor()})
		}
		if rounds > 0 {
			out = append(out, store.Increment{Counter: f.rounds(), Delta: rounds}, store.Increment{Counter: wagerRounds(c.ID), Delta: rounds})
		}
	case ty == event.Verification:
		out = append(out, store.Increment{Counter: f.verified(), Delta: 1})
	}
	return out
}

// readFacts fills in the player's facts that the baseline b needs, as they are with the
// event of type ty and amount (in the plan's currency) being recorded: the counters are read
// before it is, so its own deposit or wager is added.
func (t *Tracker) readFacts(ctx context.Context, f facts, b *commission.Baseline, ty event.Type, amount money.Amount, rounds int64, in *commission.CPAInput) error {
	cur := amount.Currency()
	diff := func(sum, back string, own event.Type, own2 event.Type) (money.Amount, error) {
		s, err := t.counter(ctx, sum)
		if err != nil {
			return money.Amount{}, err
		}
		r, err := t.counter(ctx, back)
		if err != nil {
			return money.Amount{}, err
		}
		if ty == own || ty == own2 {
			s += amount.Minor()
		}
		return money.New(s-r, cur), nil
	}
	var err error
	if !b.MinDeposits.IsZero() {
		if in.Deposits, err = diff(f.deposits(), f.depositsBack(), event.FTD, event.Deposit); err != nil {
			return err
		}
	}
	if !b.MinWager.IsZero() {
		if in.Wagered, err = diff(f.wagered(), f.wageredBack(), event.Wager, event.Wager); err != nil {
			return err
		}
	}
	if b.MinRounds > 0 {
		n, err := t.counter(ctx, f.rounds())
		if err != nil {
			return err
		}
		r, err := t.counter(ctx, f.roundsBack())
		if err != nil {
			return err
		}
		in.Rounds = n - r
		if ty == event.Wager {
			in.Rounds += rounds
		}
	}
	if b.Verified {
		n, err := t.counter(ctx, f.verified())
		if err != nil {
			return err
		}
		in.Verified = n > 0 || ty == event.Verification
	}
	return nil
}

// unwind returns the increments that take the reversed conversion o out of its player's
// facts, as Replay's reversal takes a deposit or a wager out of the player's totals: its
// amount added to the reversed sum, when o was counted (attributed, paid by attribution, in
// the plan's currency, or converted by a configured rate: the rate configured now, which
// is the one it was counted with unless SetConfig changed it since).
func unwind(cc *compiled, o *store.Conversion) []store.Increment {
	if cc.program == nil || o.AffiliateID == "" || capped(o) || o.Amount.Minor() <= 0 {
		return nil
	}
	plan, err := planAt(cc, o)
	if err != nil || plan == nil {
		return nil
	}
	amount, _, ok, err := cc.inPlan(plan, o.Amount)
	if err != nil || !ok || amount.Minor() <= 0 {
		return nil
	}
	f := factsOf(o, plan.Currency)
	switch o.Event {
	case event.FTD, event.Deposit:
		return []store.Increment{{Counter: f.depositsBack(), Delta: amount.Minor()}}
	case event.Wager:
		return []store.Increment{{Counter: f.wageredBack(), Delta: amount.Minor()}}
	}
	return nil
}

// unwindRounds returns the increment that takes the rounds of the reversed wager o out of
// its player's facts, the rounds it added, kept in its own counter.
func (t *Tracker) unwindRounds(ctx context.Context, o *store.Conversion) ([]store.Increment, error) {
	n, err := t.counter(ctx, wagerRounds(o.ID))
	if err != nil || n == 0 {
		return nil, err
	}
	return []store.Increment{{Counter: factsOf(o, 0).roundsBack(), Delta: n}}, nil
}
