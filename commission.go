package s2s

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/s2skit/s2s/attribution"
	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/postback"
	"github.com/s2skit/s2s/store"
)

// pay is what an event earns: its ledger lines, the counters they increment and the payout
// an outbound postback reports.
type pay struct {
	lines      []store.LedgerLine
	increments []store.Increment
	payout     money.Amount
}

// commission computes the per-event lines of conversion c (received as pb), as decided,
// from the counters and lines the store holds: the CPA, checked where Replay checks it (cpa), the
// IB lines of a trade (trade), the prop CPA of a challenge purchase (purchase), the payment
// of a funded account (funded), and the clawback of a refunded or reset purchase (refund).
// An event that is not attributed, or that attribution records unpaid, earns nothing.
//
// The CPA's increments and line are made in sc's arrays (see scratch).
func (t *Tracker) commission(ctx context.Context, cc *compiled, c *store.Conversion, dec *attribution.Decision, pb *postback.Postback, now time.Time, sc *scratch) (pay, error) {
	if cc.program == nil || !dec.Attributed() || dec.Unpaid {
		return pay{}, nil
	}
	switch c.Event {
	case event.FTD, event.Deposit, event.Registration, event.Verification, event.Wager:
		return t.cpa(ctx, cc, c, pb.Rounds, now, sc)
	case event.Trade:
		return t.trade(ctx, cc, c, pb, now)
	case event.Purchase:
		return t.purchase(ctx, cc, c, pb, now)
	case event.Funded:
		return t.funded(ctx, cc, c, now)
	case event.Refund, event.Reset:
		return t.refund(ctx, cc, c, now)
	}
	return pay{}, nil
}

// planAt returns the plan in force for c's affiliate at c's event time; nil (and no error)
// when the affiliate has none yet.
func planAt(cc *compiled, c *store.Conversion) (*commission.Plan, error) {
	plan, err := cc.program.PlanAt(c.AffiliateID, c.EventTime())
	switch {
	case errors.Is(err, commission.ErrNoPlan):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("s2s: commission: %w", err)
	}
	return plan, nil
}

// lines returns ls as ledger lines of conversion c, created at now, with the payout of
// those that pay c's own affiliate.
func (t *Tracker) lines(c *store.Conversion, ls []commission.Line, now time.Time) (pay, error) {
	var p pay
	for _, l := range ls {
		id, err := t.newID()
		if err != nil {
			return pay{}, err
		}
		p.lines = append(p.lines, store.LedgerLine{ID: id, ConversionID: c.ID, CreatedAt: now, Line: l})
		if l.AffiliateID != c.AffiliateID {
			continue
		}
		if p.payout.IsZero() && p.payout.Currency() == 0 {
			p.payout = l.Amount
		} else if p.payout, err = p.payout.Add(l.Amount); err != nil {
			return pay{}, fmt.Errorf("s2s: commission: payout: %w", err)
		}
	}
	return p, nil
}

// cpa checks the CPA at conversion c, as commission.Replay checks it: at every deposit (an
// FTD or a deposit: the sender's word "first" is not trusted), registration, verification
// and wager of a player not paid yet, with the player's first deposit as the FTD. The first
// deposit is the first one recorded in the plan's currency: its amount is a counter of the
// player's, incremented once, by that deposit, with a limit of its own amount, so that of
// two concurrent first deposits one is first and the other is computed again. The CPA is
// paid once per player (a counter with a limit of 1), with the period's count and total
// for tiers and caps (counters of the affiliate and statement period, with limits, so that
// a tier or cap is exact under concurrency: a write that loses to a concurrent one is
// refused by the store and computed again). A CPA a cap refuses is checked again at the
// player's next event, which may fall in a period with room, as in Replay.
func (t *Tracker) cpa(ctx context.Context, cc *compiled, c *store.Conversion, rounds int64, now time.Time, sc *scratch) (pay, error) {
	at := c.EventTime()
	plan, err := planAt(cc, c)
	if err != nil || plan == nil {
		return pay{}, err
	}
	deposit := c.Event == event.FTD || c.Event == event.Deposit
	if !deposit && plan.CPA == nil {
		return pay{}, nil // only deposits change what a CPA is checked with
	}
	amount, fx, ok, err := cc.inPlan(plan, c.Amount)
	if err != nil {
		return pay{}, err
	}
	if !ok {
		// Never paid at a guessed rate: Config.Rates has none from this currency.
		t.log.LogAttrs(ctx, slog.LevelWarn, "s2s: no CPA computed: the amount is not in the plan's currency, and no rate converts it",
			slog.String("plan", plan.ID), slog.String("amount", c.Amount.String()), slog.String("affiliate", c.AffiliateID))
		return pay{}, nil
	}
	if deposit && amount.Sign() <= 0 {
		return pay{}, nil // commission counts no deposit of nothing
	}
	f, paid, first := cpaCounters(c, plan.Currency)
	n, err := t.counter(ctx, paid)
	if err != nil || n > 0 {
		return pay{}, err // a player paid once is never checked again
	}
	ftd, err := t.counter(ctx, first)
	if err != nil {
		return pay{}, err
	}
	// An FTD's increments: its deposit, the first deposit, the CPA paid, the period's
	// count and total.
	p := pay{increments: f.increments(sc.incs[:0], c, amount, rounds)}
	if ftd == 0 {
		if !deposit {
			return p, nil // no deposit yet: no CPA
		}
		ftd = amount.Minor()
		p.increments = append(p.increments, store.Increment{Counter: first, Delta: ftd, Limit: ftd})
	}
	cpa := plan.CPA
	if cpa == nil {
		return p, nil
	}
	in := commission.CPAInput{AffiliateID: c.AffiliateID, PlayerID: c.PlayerID, EventID: eventID(c), At: at,
		FTD: money.New(ftd, plan.Currency), Deposits: money.New(0, plan.Currency), Wagered: money.New(0, plan.Currency), FX: fx}
	if err := t.readFacts(ctx, f, &cpa.Baseline, c.Event, amount, rounds, &in); err != nil {
		return pay{}, err
	}
	periodic := len(cpa.Tiers) > 0 || cpa.Cap.Count > 0 || !cpa.Cap.Amount.IsZero()
	var count, total string
	if periodic {
		per := commission.PeriodOf(at, cc.program.Period, cc.periodLoc)
		bucket := "aff=" + escape(c.AffiliateID) + ":period=" + per.Start.UTC().Format(time.RFC3339)
		count, total = "s2s:cpa_count:"+bucket, "s2s:cpa_total:"+bucket+":"+plan.Currency.String()
		if in.PeriodCount, err = t.counter(ctx, count); err != nil {
			return pay{}, err
		}
		minor, err := t.counter(ctx, total)
		if err != nil {
			return pay{}, err
		}
		in.PeriodTotal = money.New(minor, plan.Currency)
	}
	l, err := plan.CPALine(in)
	if err != nil {
		return pay{}, fmt.Errorf("s2s: commission: %w", err)
	}
	if l.Reason != "" {
		return p, nil // no CPA: a line with a Reason belongs in no ledger
	}
	if p.lines, err = t.lineOf(sc.lines[:0], c, l, now); err != nil {
		return pay{}, err
	}
	p.payout = l.Amount
	p.increments = append(p.increments, store.Increment{Counter: paid, Delta: 1, Limit: 1})
	if periodic {
		// The count's limit is the count read plus one when tiers price by rank (whoever
		// took the rank first keeps it), else the cap's count.
		limit := cpa.Cap.Count
		if len(cpa.Tiers) > 0 {
			limit = in.PeriodCount + 1
		}
		p.increments = append(p.increments, store.Increment{Counter: count, Delta: 1, Limit: limit})
		if l.Amount.Minor() > 0 {
			p.increments = append(p.increments, store.Increment{Counter: total, Delta: l.Amount.Minor(), Limit: cpa.Cap.Amount.Minor()})
		}
	}
	return p, nil
}

// lineOf returns l as the one ledger line of conversion c, created at now, appended to dst.
func (t *Tracker) lineOf(dst []store.LedgerLine, c *store.Conversion, l commission.Line, now time.Time) ([]store.LedgerLine, error) {
	id, err := t.newID()
	if err != nil {
		return nil, err
	}
	return append(dst, store.LedgerLine{ID: id, ConversionID: c.ID, CreatedAt: now, Line: l}), nil
}

func (t *Tracker) counter(ctx context.Context, name string) (int64, error) {
	n, err := t.st.GetCounter(ctx, name)
	if err != nil {
		return 0, fmt.Errorf("s2s: get counter %s: %w", name, err)
	}
	return n, nil
}

// cpaCounters returns the facts of the player of c in currency cur, and the names of the
// counters of their CPA: paid once ("s2s:cpa_paid:" and the player's key) and the first
// deposit ("s2s:ftd:", the key, ":" and cur). The names, the player's key and the name of
// the deposits' sum are cut from one string, made in one allocation: every deposit checks
// the CPA with them.
func cpaCounters(c *store.Conversion, cur money.Currency) (f facts, paid, first string) {
	kind, id := playerKeyParts(c)
	cs := cur.String()
	const paidPrefix, firstPrefix, depositsPrefix = "s2s:cpa_paid:", "s2s:ftd:", "s2s:deposits:"
	all := paidPrefix + kind + id + firstPrefix + kind + id + ":" + cs + depositsPrefix + kind + id + ":" + cs
	key := len(kind) + len(id)
	paid, all = all[:len(paidPrefix)+key], all[len(paidPrefix)+key:]
	first, all = all[:len(firstPrefix)+key+1+len(cs)], all[len(firstPrefix)+key+1+len(cs):]
	return facts{player: first[len(firstPrefix) : len(firstPrefix)+key], cur: cs, depositsName: all}, paid, first
}

// playerKey names the player a CPA is paid once for: the player ID, or for a sender that
// names no player, the click.
func playerKey(c *store.Conversion) string {
	kind, id := playerKeyParts(c)
	return kind + id
}

// playerKeyParts returns playerKey's two parts: "player=", "click=" or "foreign=", and the
// ID, escaped.
func playerKeyParts(c *store.Conversion) (kind, id string) {
	switch {
	case c.PlayerID != "":
		return "player=", escape(c.PlayerID)
	case !c.ClickID.IsZero():
		return "click=", c.ClickID.String()
	}
	return "foreign=", escape(string(c.ForeignClickID))
}

// eventID is the commission event ID of c: the sender's transaction ID, which reversals
// name, else the conversion's ID. A refund or reset names its purchase by the purchase's
// transaction ID, so its own ID is that transaction's with "/refund" or "/reset": each
// event of a history has an ID of its own, as commission.Replay requires.
func eventID(c *store.Conversion) string {
	id := c.TransactionID
	if id == "" {
		id = c.ID.String()
	}
	if c.Event == event.Refund || c.Event == event.Reset {
		id += "/" + string(c.Event)
	}
	return id
}

// escape writes the bytes that separate a counter name's parts as %XX.
func escape(s string) string {
	if !strings.ContainsAny(s, "%:=") {
		return s
	}
	r := strings.NewReplacer("%", "%25", ":", "%3A", "=", "%3D")
	return r.Replace(s)
}

// jsonClone returns a deep copy of v, through its JSON form.
func jsonClone[T any](v *T) (*T, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	out := new(T)
	if err := json.Unmarshal(b, out); err != nil {
		return nil, err
	}
	return out, nil
}
