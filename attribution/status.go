package attribution

import (
	"strconv"

	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/store"
)

// The reason codes of the status machine.
const (
	// CodeStatusChanged: the event moves a stored conversion (Input.Original) to a new status,
	// Decision.Change.To; the caller applies it with store.ConversionStore.ChangeStatus.
	CodeStatusChanged Code = "status_changed"
	// CodeStatusUnchanged: the event asks for the status the conversion has (or, for a
	// rejection or reversal of a rejected conversion, what it means from there): a
	// duplicate, nothing to write.
	CodeStatusUnchanged Code = "status_unchanged"
	// CodeAlreadyReversed: a reversal (or rejection) of a conversion that is reversed
	// already: a duplicate, nothing to write. Reversals are idempotent.
	CodeAlreadyReversed Code = "already_reversed"
	// CodeInvalidTransition: refused; the status machine has no move from the conversion's
	// status to the one asked for (a final status left, an approval taken back to pending,
	// a status that is not one of event's). Nothing changes.
	CodeInvalidTransition Code = "invalid_transition"
	// CodeParkedReversal: a reversal arrived before the conversion it reverses
	// (Input.Original is nil): Decision.Park is set, and the store keeps the event to apply
	// it when its original lands. See the package doc, # Status.
	CodeParkedReversal Code = "parked_reversal"
)

// StatusChange is the status machine's judgement of an event that asks a stored conversion
// to move from one status to another: what [Transition] returns, and what [Decision.Change]
// holds for a status update or a reversal.
type StatusChange struct {
	// From is the conversion's status as stored; Requested the status the event asks for.
	From, Requested event.Status
	// To is the status the conversion has after the event: what Requested means from From
	// when the change is allowed (it may differ from Requested: a conversion that counted is
	// reversed, never rejected), else From.
	To event.Status
	// Code is CodeStatusChanged (allowed), CodeStatusUnchanged or CodeAlreadyReversed (a
	// duplicate), or CodeInvalidTransition (refused); empty in the zero StatusChange, which
	// is no status change at all.
	Code Code
}

// Allowed reports whether s moves the conversion: From to To, a change to write.
func (s StatusChange) Allowed() bool { return s.Code == CodeStatusChanged }

// Duplicate reports whether s changes nothing because the conversion is where the event
// asks it to be (CodeStatusUnchanged, CodeAlreadyReversed): a retry or a second reversal,
// answered as a duplicate.
func (s StatusChange) Duplicate() bool {
	return s.Code == CodeStatusUnchanged || s.Code == CodeAlreadyReversed
}

// IsZero reports whether s is the zero StatusChange: the decision is not about a stored
// conversion's status.
func (s StatusChange) IsZero() bool { return s == StatusChange{} }

// Transition judges a request to move a conversion from the status from to the status to.
// Both are event.Status values; anything else is refused (CodeInvalidTransition).
//
// The moves are:
//
//	pending  → approved, rejected
//	approved → reversed
//
// and nothing leaves rejected or reversed, nor goes back to pending. A request for the
// status the conversion has is a duplicate (CodeStatusUnchanged; CodeAlreadyReversed for a
// reversed one), so a retry or a second reversal changes nothing.
//
// Rejected and reversed both undo a conversion, and which of them a conversion takes is not
// the sender's choice of word but a fact of the record: one that counted (approved, or
// reversed already) is reversed, with the negative ledger lines that follow; one that never
// counted (pending, rejected) is rejected. Senders use both words for both (Keitaro's sale →
// rejected is a chargeback; a chargeback of a deposit on hold is a rejection), so a
// rejection of an approved conversion is allowed and moves it to reversed, a reversal of a
// pending one moves it to rejected, and StatusChange.To says which.
func Transition(from, to event.Status) StatusChange {
	s := StatusChange{From: from, Requested: to, To: from}
	if !from.Valid() || !to.Valid() {
		s.Code = CodeInvalidTransition
		return s
	}
	target := to
	if to == event.StatusRejected || to == event.StatusReversed {
		target = event.StatusRejected
		if from == event.StatusApproved || from == event.StatusReversed {
			target = event.StatusReversed
		}
	}
	switch {
	case target == from && from == event.StatusReversed:
		s.Code = CodeAlreadyReversed
	case target == from:
		s.Code = CodeStatusUnchanged
	case from == event.StatusPending && target != event.StatusPending,
		from == event.StatusApproved && target == event.StatusReversed:
		s.Code, s.To = CodeStatusChanged, target
	default:
		s.Code = CodeInvalidTransition
	}
	return s
}

// reversal reports whether c asks to undo an earlier conversion: a Reversal event, or an
// event whose status is reversed (a sender's chargeback of its own transaction).
func reversal(c *store.Conversion) bool {
	return c.Event == event.Reversal || c.Status == event.StatusReversed
}

// decideChange decides an event about a stored conversion: a status update or a reversal,
// in.Original, or a reversal without its original, which is parked.
func (d *Decider) decideChange(in *Input, dec *Decision) {
	c := &in.Conversion
	o := in.Original
	if o == nil {
		dec.Park, dec.Code = true, CodeParkedReversal
		dec.Status = event.StatusReversed
		return
	}
	requested := c.Status
	if reversal(c) {
		requested = event.StatusReversed
	}
	dec.Change = Transition(o.Status, requested)
	dec.AffiliateID, dec.CampaignID = o.AffiliateID, o.CampaignID
	dec.Model = Model(o.Decision.Model)
	if dec.Model == "" {
		dec.Model = ModelNone
	}
	dec.Status, dec.Code = dec.Change.To, dec.Change.Code
	dec.ClickID, dec.rules = o.ClickID, d.rulesOf(o.CampaignID)
}

// appendSubject appends who a status decision is about, for Reason.
func (d *Decision) appendSubject(b []byte) []byte {
	switch {
	case d.Park:
		return append(b, "parked"...)
	case d.AffiliateID == "":
		return append(b, "the unattributed conversion"...)
	}
	b = append(b, "the conversion of "...)
	return d.appendAffiliate(b)
}

// appendStatus appends the why of a status decision, for Reason.
func (d *Decision) appendStatus(b []byte) []byte {
	s := &d.Change
	switch d.Code {
	case CodeParkedReversal:
		b = append(b, "a reversal (event "...)
		b = d.appendEventAt(b)
		b = append(b, ") arrived before the conversion it reverses; it is kept and applied when its original is recorded"...)
	case CodeStatusChanged:
		b = append(b, "moves from "...)
		b = append(b, s.From...)
		b = append(b, " to "...)
		b = append(b, s.To...)
		b = append(b, ", event "...)
		b = d.appendEventAt(b)
		if s.To != s.Requested {
			b = append(b, "; the sender asked for "...)
			b = append(b, s.Requested...)
			if s.To == event.StatusReversed {
				b = append(b, ", and a conversion that counted is reversed"...)
			} else {
				b = append(b, ", and a conversion that never counted is rejected"...)
			}
		}
	case CodeStatusUnchanged:
		b = append(b, "is "...)
		b = append(b, s.From...)
		b = append(b, " already, as the event (asking for "...)
		b = append(b, s.Requested...)
		b = append(b, ") would have it; a duplicate, nothing changes"...)
	case CodeAlreadyReversed:
		b = append(b, "was reversed already; a second reversal (asking for "...)
		b = append(b, s.Requested...)
		b = append(b, ") is a duplicate, nothing changes"...)
	case CodeInvalidTransition:
		switch {
		case !s.From.Valid():
			b = append(b, "has the status "...)
			b = strconv.AppendQuote(b, string(s.From))
			b = append(b, ", which is not one of event's; refused, nothing changes"...)
		case !s.Requested.Valid():
			b = append(b, "cannot take the status "...)
			b = strconv.AppendQuote(b, string(s.Requested))
			b = append(b, ", which is not one of event's; refused, nothing changes"...)
		case s.From == event.StatusRejected || s.From == event.StatusReversed:
			b = append(b, "is "...)
			b = append(b, s.From...)
			b = append(b, ", a final status, and cannot become "...)
			b = append(b, s.Requested...)
			b = append(b, "; refused, nothing changes"...)
		default:
			b = append(b, "is "...)
			b = append(b, s.From...)
			b = append(b, " and cannot go back to "...)
			b = append(b, s.Requested...)
			b = append(b, "; refused, nothing changes"...)
		}
	}
	return b
}
