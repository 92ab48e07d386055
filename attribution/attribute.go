package attribution

import (
	"bytes"
	"cmp"
	"strings"
	"time"

	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/store"
)

// Decide decides who earns the event in, and why. It is pure and deterministic: the same
// Input gives the same Decision, whatever the order of in.Clicks and in.Claims and of any
// map in the Config. It never fails: a refusal (Decision.Refused), a rejection and an
// unattributed event are decisions like the others, each with its Code.
//
// In order:
//  1. the dedup key, by the Config's Dedup: an event without the field its mode needs is
//     refused (CodeMissingTransactionID, CodeMissingPlayerID, CodeMissingConversionID);
//  2. the clock: the event time is the event's OccurredAt, or its ReceivedAt when the sender
//     gave none (Decision.ReceiptTime); an event more than the skew tolerance after the
//     receive time (Input.Now) is rejected (CodeEventInFuture), as is one more than the
//     tolerance before the click it carries (CodeEventBeforeClick);
//  3. an event about a stored conversion (Input.Original: a status update or a reversal) is
//     judged by the status machine (Transition, Decision.Change) and credits the original's
//     affiliate, whatever click it carries; a reversal without its original is parked (CodeParkedReversal,
//     Decision.Park); see the package doc, # Status;
//  4. a bound player (Input.Binding) follows the binding (ModelBinding, CodeBinding), unless
//     the binding's campaign re-attributes after inactivity and a click made after that
//     inactivity is in its window (ModelReattribution, CodeReattributed); an FTD past the
//     binding campaign's registration → FTD window is rejected (CodeWindowExpired);
//  5. otherwise the claims and clicks compete: the best-ranked method (Config.Priority) with
//     a candidate in its window wins, and among the clicks (or claims) of that method the
//     Config's Model chooses: the latest (last click) or the earliest (first click), by
//     their time to the millisecond and then by click ID, so that ties are broken the same
//     way in every store. A winner in a campaign with Lifetime binds the player
//     (Decision.Binding);
//  6. no candidate in its window: rejected if one was outside it (CodeWindowExpired, naming
//     the best of them), else unattributed with the sender's status (CodeClickNotFound if
//     the event named a click nobody knows, else CodeNoClick);
//  7. a decision that 4 to 6 did not reject is judged by the rules: the credited
//     campaign's fraud bounds (Rules.Fraud), then the custom rules (Options.Rules) in their
//     order, each non-Allow Verdict kept on Decision.Verdicts, the most severe deciding the
//     status and Code; see the package doc, # Fraud rules.
func (d *Decider) Decide(in *Input) (dec Decision) {
	c := &in.Conversion
	// Field by field into the result: a composite literal of the decision (some 600 bytes)
	// would be built aside and copied, twice.
	dec.Status, dec.Model, dec.Amount, dec.event = c.Status, ModelNone, c.Amount, c.Event
	dec.rules, dec.skew, dec.now = d.def, d.skew, in.Now
	if dec.now.IsZero() {
		dec.now = c.ReceivedAt
	}
	dec.EventTime = c.OccurredAt
	if dec.EventTime.IsZero() {
		dec.EventTime, dec.ReceiptTime = c.ReceivedAt, true
	}
	if code := dec.key.set(d.dedup.mode(c.Event), c); code != "" {
		dec.reject(code)
		return
	}
	if dec.EventTime.After(dec.now.Add(d.skew)) {
		dec.reject(CodeEventInFuture)
		return
	}
	if in.Original != nil || reversal(c) {
		d.decideChange(in, &dec)
		return
	}
	if k := in.Click; k != nil && dec.EventTime.Before(k.CreatedAt.Add(-d.skew)) {
		var cand candidate
		d.clickCandidate(&cand, k, c.Event)
		dec.credit(&cand, d.model, CodeClick)
		dec.reject(CodeEventBeforeClick)
		return
	}
	if b := in.Binding; b != nil && b.AffiliateID != "" {
		d.decideBound(in, &dec, b)
	} else {
		d.decideUnbound(in, &dec)
	}
	d.judge(in, &dec)
	dec.checkCaps()
	return
}

// decideBound decides for a player bound by b.
func (d *Decider) decideBound(in *Input, dec *Decision, b *store.PlayerBinding) {
	rb := d.rulesOf(b.CampaignID)
	if span := rb.Reattribute; !span.IsZero() && !in.LastActivity.IsZero() {
		idle := rb.zone.end(span, in.LastActivity)
		var p picker
		d.collect(in, dec.EventTime, idle, &p)
		if p.in.ok {
			dec.credit(&p.in.cand, ModelReattribution, CodeReattributed)
			dec.BoundAt = b.BoundAt
			dec.bind(&in.Conversion, &p.in.cand)
			dec.Rebind = dec.Binding.PlayerID != ""
			return
		}
	}
	dec.AffiliateID, dec.CampaignID = b.AffiliateID, b.CampaignID
	dec.Model, dec.Code, dec.Method = ModelBinding, CodeBinding, b.Method
	dec.ClickID, dec.BoundAt, dec.rules = b.ClickID, b.BoundAt, rb
	if k := in.Click; k != nil && k.ID == b.ClickID {
		dec.ClickAt = k.CreatedAt
	}
	if span := rb.Windows.RegistrationFTD; in.Conversion.Event == event.FTD && !span.IsZero() {
		dec.Window, dec.Span, dec.WindowEnd = WindowRegistrationFTD, span, rb.zone.end(span, b.BoundAt)
		if dec.EventTime.After(dec.WindowEnd) {
			dec.reject(CodeWindowExpired)
		}
	}
}

// decideUnbound decides for a player without a binding.
func (d *Decider) decideUnbound(in *Input, dec *Decision) {
	var p picker
	d.collect(in, dec.EventTime, time.Time{}, &p)
	switch {
	case p.in.ok:
		model, code := d.modelOf(p.in.cand.method)
		dec.credit(&p.in.cand, model, code)
		dec.bind(&in.Conversion, &p.in.cand)
	case p.out.ok:
		model, code := d.modelOf(p.out.cand.method)
		dec.credit(&p.out.cand, model, code)
		dec.reject(CodeWindowExpired)
	case clickNamed(in):
		dec.Code = CodeClickNotFound
	default:
		dec.Code = CodeNoClick
	}
}

// modelOf returns the model and code of a candidate of method m.
func (d *Decider) modelOf(m store.BindingMethod) (Model, Code) {
	switch m {
	case store.BindByPromoCode:
		return ModelPromoCode, CodeClaim
	case store.BindByToken:
		return ModelToken, CodeClaim
	case store.BindManually:
		return ModelManual, CodeClaim
	}
	return d.model, CodeClick
}

// clickNamed reports whether the event names a click (ours or a foreign one) that is not
// among the clicks known.
func clickNamed(in *Input) bool {
	c := &in.Conversion
	if in.Click != nil {
		return false
	}
	if !c.ClickID.IsZero() {
		for i := range in.Clicks {
			if in.Clicks[i].ID == c.ClickID {
				return false
			}
		}
		return true
	}
	return c.ForeignClickID != ""
}

// candidate is one way of crediting an affiliate: a click or a claim, with the window that
// applies to it.
type candidate struct {
	method      store.BindingMethod
	rank        uint8
	affiliateID string
	campaignID  string
	click       clickid.ID
	at          time.Time // the click's or claim's time; zero for a claim made with the event
	rules       *rules
	window      Window
	span        Span
	end         time.Time // the window's end; zero if no window applies
}

// slot holds the best candidate seen of one kind.
type slot struct {
	ok   bool
	cand candidate
}

// picker keeps the best candidate in its window and the best outside it.
type picker struct {
	in, out slot
}

// collect offers every click and claim of in to p: those made after the event (beyond the
// skew tolerance) are no candidates, nor, when after is set, those made before it.
func (d *Decider) collect(in *Input, at, after time.Time, p *picker) {
	t := in.Conversion.Event
	latest := at.Add(d.skew)
	var cand candidate // every field set for each candidate in turn
	if k := in.Click; k != nil {
		d.clickCandidate(&cand, k, t)
		d.offer(p, &cand, at, latest, after)
	}
	for i := range in.Clicks {
		d.clickCandidate(&cand, &in.Clicks[i], t)
		d.offer(p, &cand, at, latest, after)
	}
	for i := range in.Claims {
		cl := &in.Claims[i]
		j, ok := methodIndex(cl.Method)
		if !ok || cl.AffiliateID == "" {
			continue
		}
		if cl.At.IsZero() && !after.IsZero() {
			continue // a claim made with the event is no click made after the inactivity
		}
		cand.method, cand.rank, cand.click, cand.at = cl.Method, d.rank[j], cl.ClickID, cl.At
		cand.affiliateID, cand.campaignID, cand.rules = cl.AffiliateID, cl.CampaignID, d.rulesOf(cl.CampaignID)
		cand.window, cand.span, cand.end = "", Span{}, time.Time{}
		if !cl.At.IsZero() {
			cand.setWindow(t)
		}
		d.offer(p, &cand, at, latest, after)
	}
}

// clickRank is the index of a click in Decider.rank.
const clickRank = 2

// clickCandidate sets every field of c to make it k, a candidate for an event of type t.
// Field by field, into the caller's candidate: building one and returning it would copy
// it twice.
func (d *Decider) clickCandidate(c *candidate, k *store.Click, t event.Type) {
	c.method, c.rank, c.click, c.at = store.BindByClick, d.rank[clickRank], k.ID, k.CreatedAt
	c.affiliateID, c.campaignID, c.rules = k.AffiliateID, k.CampaignID, d.rulesOf(k.CampaignID)
	c.setWindow(t)
}

// setWindow sets the click window of c's campaign for an event of type t, and its end.
func (c *candidate) setWindow(t event.Type) {
	c.span, c.window = c.rules.Windows.click(t)
	c.end = time.Time{}
	if !c.span.IsZero() {
		c.end = c.rules.zone.end(c.span, c.at)
	}
}

// offer considers c for an event at the time at: inside its window or outside it, if it is
// a candidate at all (made by latest, and after after when that is set).
func (d *Decider) offer(p *picker, c *candidate, at, latest, after time.Time) {
	if !c.at.IsZero() && (c.at.After(latest) || (!after.IsZero() && !c.at.After(after))) {
		return
	}
	s := &p.in
	if !c.end.IsZero() && at.After(c.end) {
		s = &p.out
	}
	if !s.ok || d.better(c, &s.cand) {
		s.ok, s.cand = true, *c
	}
}

// better reports whether a beats b: a better-ranked method, else by the model, the later
// (last click) or the earlier (first click) by time to the millisecond, then by click ID,
// affiliate and campaign, so that the order of the candidates never matters.
func (d *Decider) better(a, b *candidate) bool {
	if a.rank != b.rank {
		return a.rank < b.rank
	}
	r := cmp.Compare(a.at.UnixMilli(), b.at.UnixMilli())
	if r == 0 {
		r = bytes.Compare(a.click[:], b.click[:])
	}
	if r == 0 {
		r = strings.Compare(a.affiliateID, b.affiliateID)
	}
	if r == 0 {
		r = strings.Compare(a.campaignID, b.campaignID)
	}
	if d.model == ModelFirstClick {
		return r < 0
	}
	return r > 0
}

// credit makes c the decision's affiliate, with the model and code given.
func (dec *Decision) credit(c *candidate, m Model, code Code) {
	dec.AffiliateID, dec.CampaignID, dec.Method = c.affiliateID, c.campaignID, c.method
	dec.Model, dec.Code = m, code
	dec.ClickID, dec.ClickAt = c.click, c.at
	dec.Window, dec.Span, dec.WindowEnd = c.window, c.span, c.end
	dec.rules = c.rules
}

// bind sets the binding to create when the credited campaign binds for life.
func (dec *Decision) bind(c *store.Conversion, cand *candidate) {
	if !cand.rules.Lifetime || c.PlayerID == "" {
		return
	}
	dec.Binding = store.PlayerBinding{PlayerID: c.PlayerID, AffiliateID: cand.affiliateID, CampaignID: cand.campaignID,
		ClickID: cand.click, Method: cand.method, BoundAt: dec.EventTime}
}

// reject rejects the decision with code: nothing is bound.
func (dec *Decision) reject(code Code) {
	dec.Status, dec.Code = event.StatusRejected, code
	dec.Binding, dec.Rebind = store.PlayerBinding{}, false
}
