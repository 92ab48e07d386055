package attribution

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/store"
)

// oracleReason is Reason as it was written first, with fmt: the plain oracle that
// TestDecision_ReasonOracle holds the append-based Reason to. It returns the decision's human sentence: who was credited (or nobody), by which model,
// through which click or claim and window, and why, with the instants involved. It is built
// when asked for, so that Decide allocates nothing. It is at most store.MaxTextLen bytes.
func (d Decision) oracleReason() string {
	var b strings.Builder
	d.oWriteWho(&b)
	d.oWriteWhy(&b)
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

// at formats an instant for a reason: RFC 3339 in UTC, to the millisecond.
func oAt(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

// eventAt describes the event time.
func (d *Decision) oEventAt() string {
	if d.ReceiptTime {
		return "received at " + oAt(d.EventTime) + " (the sender gave no event time)"
	}
	return "occurred at " + oAt(d.EventTime)
}

func (d *Decision) oWriteWho(b *strings.Builder) {
	switch {
	case d.Park || !d.Change.IsZero():
		d.oWriteSubject(b)
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

func (d *Decision) oVia() string {
	switch {
	case d.Method == store.BindByClick || d.Method == "":
		if d.ClickID.IsZero() {
			return "a click"
		}
		return fmt.Sprintf("click %s at %s", d.ClickID, oAt(d.ClickAt))
	case d.ClickAt.IsZero():
		return fmt.Sprintf("a %s claim", strings.ReplaceAll(string(d.Method), "_", " "))
	}
	return fmt.Sprintf("a %s claim at %s", strings.ReplaceAll(string(d.Method), "_", " "), oAt(d.ClickAt))
}

func (d *Decision) oWindow() string {
	if d.Window == "" {
		return "no window applies"
	}
	zone := "UTC"
	if d.rules != nil && d.rules.loc != nil {
		zone = d.rules.loc.String()
	}
	return fmt.Sprintf("the %s window of %s ends at %s (inclusive; zone %s)", d.Window, d.Span, oAt(d.WindowEnd), zone)
}

func (d *Decision) oWriteWhy(b *strings.Builder) {
	code := d.Code
	if d.basis != "" { // a verdict (a rule's, a cap's) replaced the code: the sentence says how the attribution went first
		code = d.basis
	}
	switch code {
	case CodeStatusChanged, CodeStatusUnchanged, CodeAlreadyReversed, CodeInvalidTransition, CodeParkedReversal:
		d.oWriteStatus(b)
	case CodeClick:
		fmt.Fprintf(b, "%s %s is in its window, event %s; %s", d.Model, d.oVia(), d.oEventAt(), d.oWindow())
	case CodeClaim:
		fmt.Fprintf(b, "%s outranks the other claims and clicks, event %s; %s", d.oVia(), d.oEventAt(), d.oWindow())
	case CodeBinding:
		fmt.Fprintf(b, "the player has been bound since %s (by %s), event %s", oAt(d.BoundAt), d.Method, d.oEventAt())
		if d.Window != "" {
			b.WriteString("; " + d.oWindow())
		}
	case CodeReattributed:
		fmt.Fprintf(b, "the player, bound since %s, was inactive long enough to be re-attributed to %s; event %s; %s",
			oAt(d.BoundAt), d.oVia(), d.oEventAt(), d.oWindow())
	case CodeNoClick:
		fmt.Fprintf(b, "the event (%s) carries no click, the player has no binding and nothing claims them; recorded unattributed", d.oEventAt())
	case CodeClickNotFound:
		fmt.Fprintf(b, "the event (%s) names a click that is not known and nothing else claims the player; recorded unattributed", d.oEventAt())
	case CodeWindowExpired:
		if d.Window == WindowRegistrationFTD {
			fmt.Fprintf(b, "the player was bound at %s, the FTD %s is past the window: %s", oAt(d.BoundAt), d.oEventAt(), d.oWindow())
		} else {
			fmt.Fprintf(b, "the best candidate, %s, is out of its window: event %s, %s", d.oVia(), d.oEventAt(), d.oWindow())
		}
	case CodeEventInFuture:
		fmt.Fprintf(b, "the event claims to have %s, %s after its receipt at %s, beyond the clock-skew tolerance of %s; rejected, not clamped",
			d.oEventAt(), d.EventTime.Sub(d.now), oAt(d.now), d.skew)
	case CodeEventBeforeClick:
		fmt.Fprintf(b, "the event claims to have %s, %s before its %s, beyond the clock-skew tolerance of %s; rejected, not clamped",
			d.oEventAt(), d.ClickAt.Sub(d.EventTime), d.oVia(), d.skew)
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

func (d *Decision) oWriteSubject(b *strings.Builder) {
	switch {
	case d.Park:
		b.WriteString("parked")
	case d.AffiliateID == "":
		b.WriteString("the unattributed conversion")
	default:
		fmt.Fprintf(b, "the conversion of affiliate %q", d.AffiliateID)
		if d.CampaignID != "" {
			fmt.Fprintf(b, " (campaign %q)", d.CampaignID)
		}
	}
}

func (d *Decision) oWriteStatus(b *strings.Builder) {
	s := &d.Change
	switch d.Code {
	case CodeParkedReversal:
		fmt.Fprintf(b, "a reversal (event %s) arrived before the conversion it reverses; it is kept and applied when its original is recorded", d.oEventAt())
	case CodeStatusChanged:
		fmt.Fprintf(b, "moves from %s to %s, event %s", s.From, s.To, d.oEventAt())
		if s.To != s.Requested {
			if s.To == event.StatusReversed {
				fmt.Fprintf(b, "; the sender asked for %s, and a conversion that counted is reversed", s.Requested)
			} else {
				fmt.Fprintf(b, "; the sender asked for %s, and a conversion that never counted is rejected", s.Requested)
			}
		}
	case CodeStatusUnchanged:
		fmt.Fprintf(b, "is %s already, as the event (asking for %s) would have it; a duplicate, nothing changes", s.From, s.Requested)
	case CodeAlreadyReversed:
		fmt.Fprintf(b, "was reversed already; a second reversal (asking for %s) is a duplicate, nothing changes", s.Requested)
	case CodeInvalidTransition:
		switch {
		case !s.From.Valid():
			fmt.Fprintf(b, "has the status %q, which is not one of event's; refused, nothing changes", s.From)
		case !s.Requested.Valid():
			fmt.Fprintf(b, "cannot take the status %q, which is not one of event's; refused, nothing changes", s.Requested)
		case s.From == event.StatusRejected || s.From == event.StatusReversed:
			fmt.Fprintf(b, "is %s, a final status, and cannot become %s; refused, nothing changes", s.From, s.Requested)
		default:
			fmt.Fprintf(b, "is %s and cannot go back to %s; refused, nothing changes", s.From, s.Requested)
		}
	}
}

// TestDecision_ReasonOracle: the append-based Reason writes, byte for byte, the sentence of
// oracleReason (fmt), for random decisions over every code, basis, model, method, window,
// zone, status change and verdict, long enough for the cut at store.MaxTextLen too.
func TestDecision_ReasonOracle(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	codes := []Code{"", CodeCapReached, CodeCapCurrency, CodeClick, CodeBinding, CodeReattributed, CodeClaim, CodeNoClick,
		CodeClickNotFound, CodeWindowExpired, CodeEventInFuture, CodeEventBeforeClick, CodeMissingTransactionID,
		CodeMissingPlayerID, CodeMissingConversionID, CodeTooFast, CodeTooSlow, CodeSelfReferral, CodeInvalidVerdict,
		CodeStatusChanged, CodeStatusUnchanged, CodeAlreadyReversed, CodeInvalidTransition, CodeParkedReversal, "custom_code"}
	statuses := []event.Status{"", event.StatusApproved, event.StatusPending, event.StatusRejected, event.StatusReversed, "odd\"one"}
	names := []string{"", "aff-1", `a "quoted" one`, "ünïcode", "tab\there", strings.Repeat("x", 300)}
	methods := []store.BindingMethod{"", store.BindByClick, store.BindByToken, store.BindByPromoCode, store.BindManually}
	windows := []Window{"", WindowDefault, WindowRegistration, WindowFTD, WindowRegistrationFTD, WindowEvent}
	spans := []Span{{}, Days(30), {dur: 90 * time.Minute}, {dur: 2 * time.Hour}, {dur: 45 * time.Second}}
	malta, err := time.LoadLocation("Europe/Malta")
	require.NoError(t, err)
	rulesOf := []*rules{nil, {}, {loc: malta}}
	pick := func(n int) int { return r.IntN(n) }
	instant := func() time.Time {
		if pick(5) == 0 {
			return time.Time{}
		}
		return time.Unix(1_700_000_000+r.Int64N(100_000_000), r.Int64N(1e9)).In(malta)
	}
	for i := range 20000 {
		d := Decision{
			AffiliateID: names[pick(len(names))], CampaignID: names[pick(len(names))],
			Model:  []Model{ModelLastClick, ModelFirstClick, ModelBinding, ModelNone, ""}[pick(5)],
			Status: statuses[pick(len(statuses))], Code: codes[pick(len(codes))], Method: methods[pick(len(methods))],
			ClickAt: instant(), BoundAt: instant(), Window: windows[pick(len(windows))], Span: spans[pick(len(spans))],
			WindowEnd: instant(), EventTime: instant(), ReceiptTime: pick(2) == 0, Park: pick(8) == 0, Unpaid: pick(4) == 0,
			basis: codes[pick(len(codes))], rules: rulesOf[pick(len(rulesOf))], skew: time.Duration(r.Int64N(int64(time.Hour))), now: instant(),
		}
		if pick(3) > 0 {
			d.basis = ""
		}
		if pick(2) == 0 {
			d.ClickID[0], d.ClickID[6], d.ClickID[15] = byte(i), 0x70, byte(i>>8)
		}
		if pick(3) == 0 {
			d.Change = StatusChange{From: statuses[pick(len(statuses))], Requested: statuses[pick(len(statuses))],
				To: statuses[pick(len(statuses))], Code: codes[19+pick(4)]}
		}
		for range pick(4) {
			d.Verdicts = append(d.Verdicts, Verdict{Action: Action(pick(5)), Code: codes[pick(len(codes))], Reason: names[pick(len(names))]})
		}
		require.Equal(t, d.oracleReason(), d.Reason(), "decision %d: %#v", i, d)
	}
}
