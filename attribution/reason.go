package attribution

import (
	"strconv"
	"time"

	"github.com/s2skit/s2s/store"
)

// Reason returns the decision's human sentence: who was credited (or nobody), by which model,
// through which click or claim and window, and why, with the instants involved. It is built
// when asked for, so that Decide allocates nothing, and built in one allocation (the
// string): a receiver renders it once, for the record it stores. It is at most
// store.MaxTextLen bytes.
func (d Decision) Reason() string {
	var buf [512]byte
	return string(d.appendReason(buf[:0]))
}

// appendReason appends Reason's sentence to b and returns the extended buffer.
func (d *Decision) appendReason(b []byte) []byte {
	n := len(b)
	b = d.appendWho(b)
	b = d.appendWhy(b)
	for _, v := range d.Verdicts {
		b = append(b, "; "...)
		b = append(b, v.Action.String()...)
		b = append(b, " ("...)
		b = append(b, v.Code...)
		b = append(b, "): "...)
		b = append(b, v.Reason...)
	}
	if len(b)-n > store.MaxTextLen {
		s := b[:n+store.MaxTextLen]
		for len(s) > n && !isRuneStart(s[len(s)-1]) {
			s = s[:len(s)-1]
		}
		if len(s) > n {
			s = s[:len(s)-1]
		}
		b = s
	}
	return b
}

func isRuneStart(c byte) bool { return c&0xc0 != 0x80 }

// appendAt appends an instant as a reason gives it: RFC 3339 in UTC, to the millisecond.
func appendAt(b []byte, t time.Time) []byte {
	return t.UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
}

// appendEventAt describes the event time.
func (d *Decision) appendEventAt(b []byte) []byte {
	if d.ReceiptTime {
		b = append(b, "received at "...)
		b = appendAt(b, d.EventTime)
		return append(b, " (the sender gave no event time)"...)
	}
	b = append(b, "occurred at "...)
	return appendAt(b, d.EventTime)
}

// appendAffiliate appends `affiliate "a"`, and ` (campaign "c")` when there is one.
func (d *Decision) appendAffiliate(b []byte) []byte {
	b = append(b, "affiliate "...)
	b = strconv.AppendQuote(b, d.AffiliateID)
	if d.CampaignID != "" {
		b = append(b, " (campaign "...)
		b = strconv.AppendQuote(b, d.CampaignID)
		b = append(b, ')')
	}
	return b
}

func (d *Decision) appendWho(b []byte) []byte {
	switch {
	case d.Park || !d.Change.IsZero():
		b = d.appendSubject(b)
	case d.AffiliateID == "":
		b = append(b, "nobody credited"...)
	case d.Status == "rejected":
		b = d.appendAffiliate(b)
		b = append(b, " not credited"...)
	default:
		b = append(b, "credited to "...)
		b = d.appendAffiliate(b)
		b = append(b, " by "...)
		b = append(b, d.Model...)
		if d.Unpaid {
			b = append(b, ", unpaid"...)
		}
	}
	return append(b, ": "...)
}

// appendMethod appends a claim's method as words: "promo code" for promo_code.
func appendMethod(b []byte, m store.BindingMethod) []byte {
	for i := 0; i < len(m); i++ {
		if c := m[i]; c == '_' {
			b = append(b, ' ')
		} else {
			b = append(b, c)
		}
	}
	return b
}

func (d *Decision) appendVia(b []byte) []byte {
	switch {
	case d.Method == store.BindByClick || d.Method == "":
		if d.ClickID.IsZero() {
			return append(b, "a click"...)
		}
		b = append(b, "click "...)
		b, _ = d.ClickID.AppendText(b)
		b = append(b, " at "...)
		return appendAt(b, d.ClickAt)
	case d.ClickAt.IsZero():
		b = append(b, "a "...)
		b = appendMethod(b, d.Method)
		return append(b, " claim"...)
	}
	b = append(b, "a "...)
	b = appendMethod(b, d.Method)
	b = append(b, " claim at "...)
	return appendAt(b, d.ClickAt)
}

func (d *Decision) appendWindow(b []byte) []byte {
	if d.Window == "" {
		return append(b, "no window applies"...)
	}
	zone := "UTC"
	if d.rules != nil && d.rules.loc != nil {
		zone = d.rules.loc.String()
	}
	b = append(b, "the "...)
	b = append(b, d.Window...)
	b = append(b, " window of "...)
	b = d.Span.appendText(b)
	b = append(b, " ends at "...)
	b = appendAt(b, d.WindowEnd)
	b = append(b, " (inclusive; zone "...)
	b = append(b, zone...)
	return append(b, ')')
}

func (d *Decision) appendWhy(b []byte) []byte {
	code := d.Code
	if d.basis != "" { // a verdict (a rule's, a cap's) replaced the code: the sentence says how the attribution went first
		code = d.basis
	}
	switch code {
	case CodeStatusChanged, CodeStatusUnchanged, CodeAlreadyReversed, CodeInvalidTransition, CodeParkedReversal:
		return d.appendStatus(b)
	case CodeClick:
		b = append(b, d.Model...)
		b = append(b, ' ')
		b = d.appendVia(b)
		b = append(b, " is in its window, event "...)
		b = d.appendEventAt(b)
		b = append(b, "; "...)
		return d.appendWindow(b)
	case CodeClaim:
		b = d.appendVia(b)
		b = append(b, " outranks the other claims and clicks, event "...)
		b = d.appendEventAt(b)
		b = append(b, "; "...)
		return d.appendWindow(b)
	case CodeBinding:
		b = append(b, "the player has been bound since "...)
		b = appendAt(b, d.BoundAt)
		b = append(b, " (by "...)
		b = append(b, d.Method...)
		b = append(b, "), event "...)
		b = d.appendEventAt(b)
		if d.Window != "" {
			b = append(b, "; "...)
			b = d.appendWindow(b)
		}
		return b
	case CodeReattributed:
		b = append(b, "the player, bound since "...)
		b = appendAt(b, d.BoundAt)
		b = append(b, ", was inactive long enough to be re-attributed to "...)
		b = d.appendVia(b)
		b = append(b, "; event "...)
		b = d.appendEventAt(b)
		b = append(b, "; "...)
		return d.appendWindow(b)
	case CodeNoClick:
		b = append(b, "the event ("...)
		b = d.appendEventAt(b)
		return append(b, ") carries no click, the player has no binding and nothing claims them; recorded unattributed"...)
	case CodeClickNotFound:
		b = append(b, "the event ("...)
		b = d.appendEventAt(b)
		return append(b, ") names a click that is not known and nothing else claims the player; recorded unattributed"...)
	case CodeWindowExpired:
		if d.Window == WindowRegistrationFTD {
			b = append(b, "the player was bound at "...)
			b = appendAt(b, d.BoundAt)
			b = append(b, ", the FTD "...)
			b = d.appendEventAt(b)
			b = append(b, " is past the window: "...)
			return d.appendWindow(b)
		}
		b = append(b, "the best candidate, "...)
		b = d.appendVia(b)
		b = append(b, ", is out of its window: event "...)
		b = d.appendEventAt(b)
		b = append(b, ", "...)
		return d.appendWindow(b)
	case CodeEventInFuture:
		b = append(b, "the event claims to have "...)
		b = d.appendEventAt(b)
		b = append(b, ", "...)
		b = append(b, d.EventTime.Sub(d.now).String()...)
		b = append(b, " after its receipt at "...)
		b = appendAt(b, d.now)
		b = append(b, ", beyond the clock-skew tolerance of "...)
		b = append(b, d.skew.String()...)
		return append(b, "; rejected, not clamped"...)
	case CodeEventBeforeClick:
		b = append(b, "the event claims to have "...)
		b = d.appendEventAt(b)
		b = append(b, ", "...)
		b = append(b, d.ClickAt.Sub(d.EventTime).String()...)
		b = append(b, " before its "...)
		b = d.appendVia(b)
		b = append(b, ", beyond the clock-skew tolerance of "...)
		b = append(b, d.skew.String()...)
		return append(b, "; rejected, not clamped"...)
	case CodeMissingTransactionID:
		return append(b, "refused: the dedup mode needs a transaction ID and the event has none"...)
	case CodeMissingPlayerID:
		return append(b, "refused: the dedup mode needs a player ID (or, for an event without a transaction ID, a player or click ID) and the event has none"...)
	case CodeMissingConversionID:
		return append(b, "refused: the dedup mode \"every\" needs the conversion's ID and it has none"...)
	}
	return append(b, d.Code...)
}

// at formats an instant as a reason gives it.
func at(t time.Time) string { return string(appendAt(nil, t)) }
