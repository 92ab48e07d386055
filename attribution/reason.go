package attribution

import (
	"fmt"
	"strings"
	"time"

	"github.com/s2skit/s2s/store"
)

// Reason returns the decision's human sentence: who was credited (or nobody), by which model,
// through which click or claim and window, and why, with the instants involved. It is built
// when asked for, so that Decide allocates nothing. It is at most store.MaxTextLen bytes.
func (d Decision) Reason() string {
	var b strings.Builder
	d.writeWho(&b)
	d.writeWhy(&b)
	for _, v := range d.Verdicts {
		fmt.Fprintf(&b, "; %s (%s): %s", v.Action, v.Code, v.Reason)
	}
	s := b.String()
	if len(s) > store.MaxTextLen {
		s = s[:store.MaxTextLen]
		for len(s) > 0 && !isRuneStart(s[len(s)-1]) {
			s = s[:len(s)-1]
		}
		if len(s) > 0 {
			s = s[:len(s)-1]
		}
	}
	return s
}

func isRuneStart(c byte) bool { return c&0xc0 != 0x80 }

// at formats an instant for a reason: RFC 3339 in UTC, to the millisecond.
func at(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

// eventAt describes the event time.
func (d *Decision) eventAt() string {
	if d.ReceiptTime {
		return "received at " + at(d.EventTime) + " (the sender gave no event time)"
	}
	return "occurred at " + at(d.EventTime)
}

func (d *Decision) writeWho(b *strings.Builder) {
	switch {
	case d.Park || !d.Change.IsZero():
		d.writeSubject(b)
	case d.AffiliateID == "":
		b.WriteString("nobody credited")
	case d.Status == "rejected":
		fmt.Fprintf(b, "affiliate %q", d.AffiliateID)
		if d.CampaignID != "" {
			fmt.Fprintf(b, " (campaign %q)", d.CampaignID)
		}
		b.WriteString(" not credited")
	default:
		fmt.Fprintf(b, "credited to affiliate %q", d.AffiliateID)
		if d.CampaignID != "" {
			fmt.Fprintf(b, " (campaign %q)", d.CampaignID)
		}
		fmt.Fprintf(b, " by %s", d.Model)
		if d.Unpaid {
			b.WriteString(", unpaid")
		}
	}
	b.WriteString(": ")
}

func (d *Decision) via() string {
	switch {
	case d.Method == store.BindByClick || d.Method == "":
		if d.ClickID.IsZero() {
			return "a click"
		}
		return fmt.Sprintf("click %s at %s", d.ClickID, at(d.ClickAt))
	case d.ClickAt.IsZero():
		return fmt.Sprintf("a %s claim", strings.ReplaceAll(string(d.Method), "_", " "))
	}
	return fmt.Sprintf("a %s claim at %s", strings.ReplaceAll(string(d.Method), "_", " "), at(d.ClickAt))
}

func (d *Decision) window() string {
	if d.Window == "" {
		return "no window applies"
	}
	zone := "UTC"
	if d.rules != nil && d.rules.loc != nil {
		zone = d.rules.loc.String()
	}
	return fmt.Sprintf("the %s window of %s ends at %s (inclusive; zone %s)", d.Window, d.Span, at(d.WindowEnd), zone)
}

func (d *Decision) writeWhy(b *strings.Builder) {
	code := d.Code
	if d.basis != "" { // a verdict (a rule's, a cap's) replaced the code: the sentence says how the attribution went first
		code = d.basis
	}
	switch code {
	case CodeStatusChanged, CodeStatusUnchanged, CodeAlreadyReversed, CodeInvalidTransition, CodeParkedReversal:
		d.writeStatus(b)
	case CodeClick:
		fmt.Fprintf(b, "%s %s is in its window, event %s; %s", d.Model, d.via(), d.eventAt(), d.window())
	case CodeClaim:
		fmt.Fprintf(b, "%s outranks the other claims and clicks, event %s; %s", d.via(), d.eventAt(), d.window())
	case CodeBinding:
		fmt.Fprintf(b, "the player has been bound since %s (by %s), event %s", at(d.BoundAt), d.Method, d.eventAt())
		if d.Window != "" {
			b.WriteString("; " + d.window())
		}
	case CodeReattributed:
		fmt.Fprintf(b, "the player, bound since %s, was inactive long enough to be re-attributed to %s; event %s; %s",
			at(d.BoundAt), d.via(), d.eventAt(), d.window())
	case CodeNoClick:
		fmt.Fprintf(b, "the event (%s) carries no click, the player has no binding and nothing claims them; recorded unattributed", d.eventAt())
	case CodeClickNotFound:
		fmt.Fprintf(b, "the event (%s) names a click that is not known and nothing else claims the player; recorded unattributed", d.eventAt())
	case CodeWindowExpired:
		if d.Window == WindowRegistrationFTD {
			fmt.Fprintf(b, "the player was bound at %s, the FTD %s is past the window: %s", at(d.BoundAt), d.eventAt(), d.window())
		} else {
			fmt.Fprintf(b, "the best candidate, %s, is out of its window: event %s, %s", d.via(), d.eventAt(), d.window())
		}
	case CodeEventInFuture:
		fmt.Fprintf(b, "the event claims to have %s, %s after its receipt at %s, beyond the clock-skew tolerance of %s; rejected, not clamped",
			d.eventAt(), d.EventTime.Sub(d.now), at(d.now), d.skew)
	case CodeEventBeforeClick:
		fmt.Fprintf(b, "the event claims to have %s, %s before its %s, beyond the clock-skew tolerance of %s; rejected, not clamped",
			d.eventAt(), d.ClickAt.Sub(d.EventTime), d.via(), d.skew)
	case CodeMissingTransactionID:
		b.WriteString("refused: the dedup mode needs a transaction ID and the event has none")
	case CodeMissingPlayerID:
		b.WriteString("refused: the dedup mode needs a player ID (or, for an event without a transaction ID, a player or click ID) and the event has none")
	case CodeMissingConversionID:
		b.WriteString("refused: the dedup mode \"every\" needs the conversion's ID and it has none")
	default:
		fmt.Fprintf(b, "%s", d.Code)
	}
}
