package attribution

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/store"
)

// The reason codes of the fraud bounds.
const (
	// CodeTooFast: a fraud bound's verdict; the event came sooner after its click than the
	// campaign's minimum time to convert (Fraud.FTD.Min, Fraud.Registration.Min): a
	// click-injection signal.
	CodeTooFast Code = "too_fast"
	// CodeTooSlow: a fraud bound's verdict; the event came later after its click than the
	// campaign's maximum time to convert (Fraud.FTD.Max, Fraud.Registration.Max): a stale
	// click, or click flooding.
	CodeTooSlow Code = "too_slow"
	// CodeSelfReferral: a fraud bound's verdict; the player is the credited affiliate, by
	// player ID or by a hashed identifier (Fraud.SelfReferral).
	CodeSelfReferral Code = "self_referral"
	// CodeInvalidVerdict: a custom rule (Options.Rules) returned a verdict that cannot be
	// kept (an unknown action, a code that is not a store key, a missing or malformed
	// reason). It is replaced by a Hold with this code, naming the rule, so that a bug in a
	// host's rule neither lets an event through unjudged nor loses it, and never makes the
	// record one that a store refuses.
	CodeInvalidVerdict Code = "invalid_verdict"
)

// Rule is a custom rule the host supplies (Options.Rules): a plain function that judges an
// event after attribution and returns its Verdict. Allow (the zero Verdict) says nothing;
// Flag, Hold or Reject, with a Code (store.CheckKey rules; the host's own names, such as
// "blocked_country") and a human Reason, are kept on Decision.Verdicts and decide as the
// package doc, # Fraud rules, says.
//
// A rule sees copies: in is the Input Decide was given, dec the decision as attribution
// made it, before any rule spoke (its Verdicts are nil, its Code attribution's), so no rule
// can change the decision, nor depend on another rule's verdict. What the Input points to
// (its Click, Binding, Original, slices and map) is the caller's, shared: a rule must not
// modify it. Decide calls rules from any number of goroutines at once, so a rule must be
// safe for concurrent use; it must not panic (Decide does not recover), and it should do
// no I/O: what it needs (a blocklist, the affiliates' addresses) is best loaded before and
// read by the rule.
type Rule func(in Input, dec Decision) Verdict

// Fraud are a campaign's fraud bounds: checks of an attributed event that hold, reject or
// flag it, each with its Verdict on the Decision. The zero Fraud checks nothing.
type Fraud struct {
	// FTD bounds the time from the click that credits a first-time deposit to the deposit.
	FTD TimeToConvert `json:"ftd,omitzero"`
	// Registration bounds the time from the click that credits a registration to the
	// registration.
	Registration TimeToConvert `json:"registration,omitzero"`
	// SelfReferral is the action on an event whose player is the affiliate it credits: the
	// player ID is the affiliate ID, or one of the player's hashed identifiers
	// (Input.PlayerHashes) is one of the affiliate's (Input.AffiliateHashes). Allow, the
	// zero Action, checks nothing.
	SelfReferral Action `json:"self_referral,omitzero"`
}

// TimeToConvert bounds the time from a click to the event it credits. Either bound may be
// left out (the zero Span); a bound that is set needs its action, and an action needs its
// bound.
//
// The time runs from the click (or the signed token's time) that credited the event,
// Decision.ClickAt, to the event time, Decision.EventTime; a bound player's event is
// measured from the binding's click when the event carries it (Input.Click), and not at all
// otherwise. Both ends are inclusive, as a window's are: with Min "10s" an event 10 s after
// its click passes and one a nanosecond sooner is too fast; with Max "30d" an event at the
// instant 30 calendar days after its click (in the campaign's zone) passes and one a
// nanosecond later is too slow.
type TimeToConvert struct {
	// Min is the shortest time to convert; sooner is CodeTooFast, with the action TooFast.
	Min Span `json:"min,omitzero"`
	// Max is the longest time to convert; later is CodeTooSlow, with the action TooSlow.
	Max Span `json:"max,omitzero"`
	// TooFast and TooSlow are Flag, Hold or Reject.
	TooFast Action `json:"too_fast,omitzero"`
	TooSlow Action `json:"too_slow,omitzero"`
}

// IsZero reports whether f checks nothing.
func (f Fraud) IsZero() bool { return f == Fraud{} }

// IsZero reports whether b bounds nothing.
func (b TimeToConvert) IsZero() bool { return b == TimeToConvert{} }

func (f *Fraud) validate(v *validator, path string) {
	f.FTD.validate(v, path+".ftd")
	f.Registration.validate(v, path+".registration")
	if !f.SelfReferral.valid() {
		v.fail(path+".self_referral", "unknown action %d", f.SelfReferral)
	}
}

func (b *TimeToConvert) validate(v *validator, path string) {
	v.span(path+".min", b.Min)
	v.span(path+".max", b.Max)
	bound := func(field string, s Span, action string, a Action) {
		switch {
		case !a.valid():
			v.fail(path+"."+action, "unknown action %d", a)
		case !s.IsZero() && a == Allow:
			v.fail(path+"."+action, "the %s bound needs an action: flag, hold or reject", field)
		case s.IsZero() && a != Allow:
			v.fail(path+"."+action, "%s without a %s bound", a, field)
		}
	}
	bound("min", b.Min, "too_fast", b.TooFast)
	bound("max", b.Max, "too_slow", b.TooSlow)
	if !b.Min.IsZero() && !b.Max.IsZero() && nominal(b.Min) >= nominal(b.Max) {
		v.fail(path+".max", "%s is not longer than min %s", b.Max, b.Min)
	}
}

// nominal returns the length of a valid Span with days of 24 hours, for comparing bounds.
func nominal(s Span) int64 {
	return int64(s.days)*86400e9 + int64(s.dur)
}

// valid reports whether a is one of the actions.
func (a Action) valid() bool { return a <= Reject }

// MarshalText implements encoding.TextMarshaler: "allow", "flag", "hold" or "reject". An
// unknown Action is an error.
func (a Action) MarshalText() ([]byte, error) {
	if !a.valid() {
		return nil, fmt.Errorf("%w: unknown action %d", ErrInvalidConfig, a)
	}
	return []byte(a.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler: "allow", "flag", "hold" or "reject".
// Anything else is an error wrapping ErrInvalidConfig.
func (a *Action) UnmarshalText(text []byte) error {
	v, ok := parseAction(string(text))
	if !ok {
		return fmt.Errorf("%w: action %q: want allow, flag, hold or reject", ErrInvalidConfig, text)
	}
	*a = v
	return nil
}

func parseAction(s string) (Action, bool) {
	for a := Allow; a <= Reject; a++ {
		if s == a.String() {
			return a, true
		}
	}
	return 0, false
}

// actionType is checked by checkTree like a Span, so that a bad action names its field.
var actionType = reflect.TypeFor[Action]()

// judge runs the rules on a decision that attribution did not reject: the fraud bounds of
// the campaign credited, then the custom rules (Options.Rules) in their order. See the
// package doc, # Fraud rules.
func (d *Decider) judge(in *Input, dec *Decision) {
	if dec.Status == event.StatusRejected {
		return
	}
	if len(d.custom) == 0 {
		dec.fraud(in)
		return
	}
	base := *dec // what the custom rules see: the decision before any rule spoke
	dec.fraud(in)
	for i, r := range d.custom {
		v := r(*in, base)
		if v.Action == Allow {
			continue
		}
		if p := v.problem(); p != "" {
			v = Verdict{Action: Hold, Code: CodeInvalidVerdict, Reason: fmt.Sprintf(
				"custom rule %d (Options.Rules[%d]) returned a verdict that cannot be kept (%s); held for review", i, i, p)}
		}
		dec.verdict(v)
	}
}

// fraud applies the fraud bounds of the campaign credited, if it has any.
func (dec *Decision) fraud(in *Input) {
	if r := dec.rules; dec.AffiliateID != "" && r.fraud {
		dec.timeToConvert(in.Conversion.Event, &r.Fraud)
		dec.selfReferral(in, r.Fraud.SelfReferral)
	}
}

// problem says why a custom rule's verdict cannot be kept, or "" if it can.
func (v *Verdict) problem() string {
	switch {
	case !v.Action.valid():
		return fmt.Sprintf("unknown action %d", v.Action)
	case v.Code == "":
		return "no code"
	case store.CheckKey(string(v.Code)) != nil:
		return fmt.Sprintf("code %q: %v", v.Code, store.CheckKey(string(v.Code)))
	case v.Reason == "":
		return "no reason"
	case !utf8.ValidString(v.Reason) || strings.IndexByte(v.Reason, 0) >= 0:
		return "a reason that is not UTF-8 text without NUL"
	}
	return ""
}

// timeToConvert applies the time-to-convert bounds of f that apply to an event of type t.
func (dec *Decision) timeToConvert(t event.Type, f *Fraud) {
	var b *TimeToConvert
	switch t {
	case event.FTD:
		b = &f.FTD
	case event.Registration:
		b = &f.Registration
	default:
		return
	}
	if b.IsZero() || dec.ClickAt.IsZero() {
		return
	}
	loc := dec.rules.loc
	if !b.Min.IsZero() {
		if end := dec.rules.zone.end(b.Min, dec.ClickAt); dec.EventTime.Before(end) {
			dec.verdict(Verdict{Action: b.TooFast, Code: CodeTooFast, Reason: fmt.Sprintf(
				"the %s came %s after its click at %s, sooner than the minimum time to convert of %s", t,
				dec.EventTime.Sub(dec.ClickAt), at(dec.ClickAt), b.Min)})
		}
	}
	if !b.Max.IsZero() && !surelyWithin(b.Max, dec.EventTime.Sub(dec.ClickAt)) {
		if end := dec.rules.zone.end(b.Max, dec.ClickAt); dec.EventTime.After(end) {
			dec.verdict(Verdict{Action: b.TooSlow, Code: CodeTooSlow, Reason: fmt.Sprintf(
				"the %s came %s after its click at %s, later than the maximum time to convert of %s (which ends at %s, inclusive; zone %s)", t,
				dec.EventTime.Sub(dec.ClickAt), at(dec.ClickAt), b.Max, at(end), loc)})
		}
	}
}

// maxOffsetSpread bounds how far apart two UTC offsets of one zone can be: offsets run from
// −12 h to +14 h (Pacific/Apia moved across the whole range in 2011), so n calendar days in
// any zone last at least n×24 h less this.
const maxOffsetSpread = 26 * time.Hour

// surelyWithin reports, without calendar arithmetic, that an elapsed time is no longer than
// the Span s measured from any start in any zone; false means it has to be computed. Most
// events come well inside a day bound, and for them this spares the calendar arithmetic.
func surelyWithin(s Span, elapsed time.Duration) bool {
	if s.dur > 0 {
		return elapsed <= s.dur
	}
	return elapsed <= time.Duration(s.days)*24*time.Hour-maxOffsetSpread
}

// selfReferral applies the self-referral bound, with action a (Allow is none).
func (dec *Decision) selfReferral(in *Input, a Action) {
	if a == Allow {
		return
	}
	c := &in.Conversion
	switch {
	case c.PlayerID != "" && c.PlayerID == dec.AffiliateID:
		dec.verdict(Verdict{Action: a, Code: CodeSelfReferral, Reason: fmt.Sprintf(
			"the player ID %q is the credited affiliate's own ID", c.PlayerID)})
	case len(in.PlayerHashes) > 0:
		own := in.AffiliateHashes[dec.AffiliateID]
		for i, h := range in.PlayerHashes {
			if h != "" && slices.Contains(own, h) {
				dec.verdict(Verdict{Action: a, Code: CodeSelfReferral, Reason: fmt.Sprintf(
					"the player's hashed identifier (PlayerHashes[%d]) is one of the credited affiliate's", i)})
				return
			}
		}
	}
}

// verdict keeps v on the decision and applies its action: the most severe action so far
// decides the status (Reject rejects, Hold holds pending, Flag leaves it), and the first
// verdict of that action gives the decision its Code. Reason keeps the attribution's own
// sentence first, then lists every verdict.
func (dec *Decision) verdict(v Verdict) {
	if v.Action == Allow {
		return
	}
	worst := Allow
	for _, w := range dec.Verdicts {
		worst = max(worst, w.Action)
	}
	// Clip, so that a copy of the decision taken before never sees this verdict.
	dec.Verdicts = append(slices.Clip(dec.Verdicts), v)
	if v.Action <= worst {
		return
	}
	if dec.basis == "" {
		dec.basis = dec.Code
	}
	switch v.Action {
	case Reject:
		dec.reject(v.Code)
	case Hold:
		dec.Status = event.StatusPending
	}
	dec.Code = v.Code
}
