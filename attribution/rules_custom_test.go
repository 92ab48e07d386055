package attribution_test

import (
	"fmt"
	"net/netip"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/attribution"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/store"
)

// says returns a custom rule that always returns the verdict given.
func says(a attribution.Action, code attribution.Code) attribution.Rule {
	return func(attribution.Input, attribution.Decision) attribution.Verdict {
		return attribution.Verdict{Action: a, Code: code, Reason: "rule " + string(code) + " says " + a.String()}
	}
}

func withRules(t testing.TB, cfg attribution.Config, rules ...attribution.Rule) *attribution.Decider {
	t.Helper()
	d, err := attribution.New(cfg, &attribution.Options{Rules: rules})
	require.NoError(t, err)
	return d
}

// TestRules_Order: the fraud bounds first, then the custom rules in the order given; every
// verdict but Allow is kept in that order; the most severe decides the status and the first
// of it the code.
func TestRules_Order(t *testing.T) {
	t.Parallel()
	k := click(1, "aff-1", "casino", t0)
	in := ftd(&k, t0.Add(5*time.Second)) // too fast for fraudulent(): reject
	in.Now = in.Conversion.OccurredAt

	d := withRules(t, casino(), says(attribution.Flag, "r1"), says(attribution.Allow, "quiet"),
		says(attribution.Hold, "r2"), says(attribution.Reject, "r3"), says(attribution.Hold, "r4"), says(attribution.Reject, "r5"))
	dec := d.Decide(&in)
	require.Equal(t, []attribution.Code{"r1", "r2", "r3", "r4", "r5"}, codes(dec.Verdicts), "rule: an Allow is not kept")
	require.Equal(t, attribution.Code("r3"), dec.Code, "rule: the first of the most severe decides")
	require.Equal(t, event.StatusRejected, dec.Status)
	require.Empty(t, dec.Binding.PlayerID)
	require.Equal(t, "aff-1", dec.AffiliateID, "rule: rules never change who the decision names")
	reason := dec.Reason()
	require.Contains(t, reason, `affiliate "aff-1" (campaign "casino") not credited: last_click click`)
	require.Contains(t, reason, "; flag (r1): rule r1 says flag; hold (r2): rule r2 says hold; reject (r3): rule r3 says reject; hold (r4)")
	require.NotContains(t, reason, "quiet")

	d = withRules(t, fraudulent(), says(attribution.Reject, "custom"))
	dec = d.Decide(&in)
	require.Equal(t, []attribution.Code{attribution.CodeTooFast, "custom"}, codes(dec.Verdicts), "rule: the fraud bounds come first")
	require.Equal(t, attribution.CodeTooFast, dec.Code)

	d = withRules(t, casino(), says(attribution.Flag, "f1"), says(attribution.Flag, "f2"))
	dec = d.Decide(&in)
	require.Equal(t, attribution.Code("f1"), dec.Code)
	require.Equal(t, event.StatusApproved, dec.Status, "rule: a flag keeps the status")
	require.Equal(t, "aff-1", dec.Binding.AffiliateID, "a flagged event binds the player")

	// The record passes the store's rules whatever spoke.
	c := in.Conversion
	c.ID = uuid.New()
	dec.Apply(&c)
	require.NoError(t, c.Validate())
	require.Equal(t, "f1", c.Decision.Code)
}

// TestRules_Contract: what a custom rule is given, and that nothing it does to its copies
// reaches the decision or the caller's Input.
func TestRules_Contract(t *testing.T) {
	t.Parallel()
	k := click(1, "aff-1", "casino", t0)
	k.IP = netip.MustParseAddr("203.0.113.7")
	in := ftd(&k, t0.Add(5*time.Second))
	in.Now = in.Conversion.OccurredAt
	in.PlayerHashes = []string{"h-1"}
	want := in

	var seenIn attribution.Input
	var seenDec attribution.Decision
	calls := 0
	vandal := func(in attribution.Input, dec attribution.Decision) attribution.Verdict {
		calls++
		seenIn, seenDec = in, dec
		in.Conversion.PlayerID, in.Click = "someone-else", nil
		dec.AffiliateID, dec.Status, dec.Code = "aff-evil", event.StatusApproved, "evil"
		dec.Verdicts = append(dec.Verdicts, attribution.Verdict{Action: attribution.Allow})
		return attribution.Verdict{}
	}
	d := withRules(t, fraudulent(), vandal, says(attribution.Flag, "second"))
	dec := d.Decide(&in)
	require.Equal(t, 1, calls)
	require.Equal(t, want, in, "rule: a rule cannot change the caller's Input")
	require.Equal(t, want, seenIn, "rule: a rule sees the Input as given")
	require.Equal(t, k.IP, seenIn.Click.IP, "a rule sees the click, so a host can match the affiliate's own address (reliability H5)")
	require.Equal(t, attribution.CodeClick, seenDec.Code, "rule: a rule sees the decision as attribution made it")
	require.Equal(t, "aff-1", seenDec.AffiliateID)
	require.Equal(t, event.StatusApproved, seenDec.Status, "before the fraud bounds rejected it")
	require.Nil(t, seenDec.Verdicts, "rule: a rule sees no other rule's verdict")

	require.Equal(t, "aff-1", dec.AffiliateID, "rule: a rule cannot change the decision")
	require.Equal(t, event.StatusRejected, dec.Status)
	require.Equal(t, attribution.CodeTooFast, dec.Code)
	require.Equal(t, []attribution.Code{attribution.CodeTooFast, "second"}, codes(dec.Verdicts))

	// The rules judge unattributed events too, but nothing attribution rejected or refused,
	// no status update and no parked reversal.
	calls = 0
	d = withRules(t, casino(), vandal)
	none := ftd(nil, t0)
	d.Decide(&none)
	require.Equal(t, 1, calls, "an unattributed event is judged")
	expired := ftd(&k, t0.AddDate(0, 0, 40))
	expired.Now = expired.Conversion.OccurredAt
	future := ftd(&k, t0.Add(time.Hour))
	future.Now = t0
	refused := ftd(&k, t0.Add(time.Hour))
	refused.Conversion.Event, refused.Conversion.TransactionID = event.Deposit, ""
	parked := ftd(nil, t0.Add(time.Hour))
	parked.Conversion.Status = event.StatusReversed
	orig := ftd(&k, t0.Add(time.Hour)).Conversion
	orig.ID, orig.AffiliateID = uuid.New(), "aff-1"
	upd := ftd(nil, t0.Add(2*time.Hour))
	upd.Conversion.Status, upd.Original = event.StatusRejected, &orig
	for name, in := range map[string]attribution.Input{"expired": expired, "future": future, "refused": refused, "parked": parked, "update": upd} {
		dec := d.Decide(&in)
		require.Nil(t, dec.Verdicts, name)
	}
	require.Equal(t, 1, calls, "rule: no rule judges what attribution rejected or refused, an update or a parked reversal")
}

// TestRules_InvalidVerdict: a verdict that cannot be kept is replaced by a hold that names
// the rule, and the record still passes the store's rules.
func TestRules_InvalidVerdict(t *testing.T) {
	t.Parallel()
	k := click(1, "aff-1", "casino", t0)
	in := ftd(&k, t0.Add(time.Hour))
	for _, tc := range []struct {
		name    string
		verdict attribution.Verdict
		problem string
	}{
		{"unknown action", attribution.Verdict{Action: 9, Code: "x", Reason: "r"}, "unknown action 9"},
		{"no code", attribution.Verdict{Action: attribution.Reject, Reason: "r"}, "no code"},
		{"a code no store keeps", attribution.Verdict{Action: attribution.Reject, Code: "a\nb", Reason: "r"}, `code "a\nb"`},
		{"no reason", attribution.Verdict{Action: attribution.Flag, Code: "x"}, "no reason"},
		{"a reason with NUL", attribution.Verdict{Action: attribution.Flag, Code: "x", Reason: "a\x00b"}, "not UTF-8 text without NUL"},
		{"a reason of broken UTF-8", attribution.Verdict{Action: attribution.Flag, Code: "x", Reason: "\xff"}, "not UTF-8 text without NUL"},
	} {
		v := tc.verdict
		d := withRules(t, casino(), says(attribution.Flag, "fine"), func(attribution.Input, attribution.Decision) attribution.Verdict { return v })
		dec := d.Decide(&in)
		require.Equal(t, attribution.CodeInvalidVerdict, dec.Code, tc.name)
		require.Equal(t, event.StatusPending, dec.Status, "%s: rule: held for review", tc.name)
		require.Len(t, dec.Verdicts, 2, tc.name)
		require.Equal(t, attribution.Hold, dec.Verdicts[1].Action, tc.name)
		require.Contains(t, dec.Verdicts[1].Reason, "custom rule 1 (Options.Rules[1])", tc.name)
		require.Contains(t, dec.Verdicts[1].Reason, tc.problem, tc.name)
		c := in.Conversion
		c.ID = uuid.New()
		dec.Apply(&c)
		require.NoError(t, c.Validate(), "%s: rule: a rule cannot make a record the store refuses", tc.name)
	}
}

func TestRules_Options(t *testing.T) {
	t.Parallel()
	_, err := attribution.New(casino(), &attribution.Options{Rules: []attribution.Rule{says(attribution.Flag, "a"), nil}})
	require.ErrorIs(t, err, attribution.ErrInvalidConfig)
	require.ErrorContains(t, err, "options: rules[1] is nil")

	rules := []attribution.Rule{says(attribution.Flag, "a")}
	d := withRules(t, casino(), rules...)
	opts := &attribution.Options{Rules: rules}
	d2, err := attribution.New(casino(), opts)
	require.NoError(t, err)
	opts.Rules[0] = says(attribution.Reject, "b")
	k := click(1, "aff-1", "casino", t0)
	in := ftd(&k, t0.Add(time.Hour))
	require.Equal(t, attribution.Code("a"), d2.Decide(&in).Code, "rule: New keeps a copy of the rules")
	require.Equal(t, attribution.Code("a"), d.Decide(&in).Code)
}

// TestRules_Concurrent: one Decider, with fraud bounds and custom rules, decides from many
// goroutines at once (run with -race), each getting what it gets alone.
func TestRules_Concurrent(t *testing.T) {
	t.Parallel()
	d := withRules(t, fraudulent(), func(in attribution.Input, dec attribution.Decision) attribution.Verdict {
		if in.Conversion.TransactionID[len(in.Conversion.TransactionID)-1] == '3' {
			return attribution.Verdict{Action: attribution.Hold, Code: "ends_in_3", Reason: "a transaction ID ending in 3"}
		}
		return attribution.Verdict{}
	})
	k := click(1, "aff-1", "casino", t0)
	inputs := make([]attribution.Input, 20)
	want := make([]decisionView, len(inputs))
	for i := range inputs {
		inputs[i] = ftd(&k, t0.Add(time.Duration(i)*time.Second))
		inputs[i].Now = inputs[i].Conversion.OccurredAt
		inputs[i].Conversion.TransactionID = fmt.Sprint("TX-", i)
		want[i] = view(d.Decide(&inputs[i]))
	}
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for n := range 200 {
				i := (g + n) % len(inputs)
				if got := view(d.Decide(&inputs[i])); !reflect.DeepEqual(got, want[i]) {
					t.Errorf("input %d decided differently under concurrency", i)
					return
				}
			}
		})
	}
	wg.Wait()
	require.Equal(t, attribution.Code("ends_in_3"), want[13].Code)
	require.Equal(t, attribution.CodeTooFast, want[3].Code)
}

// A host's own rule: hold an FTD whose click came from an address of the affiliate's own,
// which the host knows and attribution does not.
func ExampleRule() {
	own := map[string]netip.Addr{"aff-1": netip.MustParseAddr("203.0.113.7")}
	ownAddress := func(in attribution.Input, dec attribution.Decision) attribution.Verdict {
		if in.Click != nil && in.Click.IP.IsValid() && own[dec.AffiliateID] == in.Click.IP {
			return attribution.Verdict{Action: attribution.Hold, Code: "affiliate_address",
				Reason: "the click came from the affiliate's own address " + in.Click.IP.String()}
		}
		return attribution.Verdict{} // Allow
	}
	d, err := attribution.New(attribution.Config{}, &attribution.Options{Rules: []attribution.Rule{ownAddress}})
	if err != nil {
		panic(err)
	}
	at := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	k := store.Click{ID: cid(1), AffiliateID: "aff-1", CreatedAt: at, IP: netip.MustParseAddr("203.0.113.7")}
	in := attribution.Input{Click: &k, Conversion: store.Conversion{Source: "casino-x", Event: event.FTD, ClickID: k.ID,
		PlayerID: "P-1", TransactionID: "T-1", Status: event.StatusApproved, OccurredAt: at.Add(time.Hour), ReceivedAt: at.Add(time.Hour)}}
	dec := d.Decide(&in)
	fmt.Println(dec.Status, dec.Code)
	for _, v := range dec.Verdicts {
		fmt.Printf("%s %s: %s\n", v.Action, v.Code, v.Reason)
	}
	// Output:
	// pending affiliate_address
	// hold affiliate_address: the click came from the affiliate's own address 203.0.113.7
}
