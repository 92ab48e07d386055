package attribution_test

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/attribution"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/store"
)

// fraudulent is casino() with fraud bounds on the casino campaign: an FTD within 10 s of its
// click is rejected, one more than 30 days after it held; a registration within 3 s is
// flagged; a self-referral is held.
func fraudulent() attribution.Config {
	cfg := casino()
	cfg.Campaigns[0].Windows.FTD = attribution.Days(60)
	cfg.Campaigns[0].Fraud = attribution.Fraud{
		FTD: attribution.TimeToConvert{
			Min: attribution.Exactly(10 * time.Second), TooFast: attribution.Reject,
			Max: attribution.Days(30), TooSlow: attribution.Hold,
		},
		Registration: attribution.TimeToConvert{Min: attribution.Exactly(3 * time.Second), TooFast: attribution.Flag},
		SelfReferral: attribution.Hold,
	}
	return cfg
}

// TestFraud_TimeToConvert: each bound at its boundary instants (both ends inclusive), with
// its code, action and status.
func TestFraud_TimeToConvert(t *testing.T) {
	t.Parallel()
	d := decider(t, fraudulent())
	malta := zone(t, "Europe/Malta")
	k := click(1, "aff-1", "casino", t0)
	maxEnd := attribution.Days(30).End(t0, malta)
	for _, tc := range []struct {
		name   string
		event  event.Type
		at     time.Time
		code   attribution.Code // "" if no rule speaks
		status event.Status
	}{
		{"ftd at exactly the minimum passes", event.FTD, t0.Add(10 * time.Second), "", event.StatusApproved},
		{"ftd a nanosecond sooner is too fast: rejected", event.FTD, t0.Add(10*time.Second - 1), attribution.CodeTooFast, event.StatusRejected},
		{"ftd at the click is too fast", event.FTD, t0, attribution.CodeTooFast, event.StatusRejected},
		{"ftd within the skew before its click is too fast", event.FTD, t0.Add(-time.Minute), attribution.CodeTooFast, event.StatusRejected},
		{"ftd at the maximum's last instant passes", event.FTD, maxEnd, "", event.StatusApproved},
		{"ftd a nanosecond later is too slow: held", event.FTD, maxEnd.Add(1), attribution.CodeTooSlow, event.StatusPending},
		{"registration at 3s passes", event.Registration, t0.Add(3 * time.Second), "", event.StatusApproved},
		{"registration sooner is flagged, status kept", event.Registration, t0.Add(2 * time.Second), attribution.CodeTooFast, event.StatusApproved},
		{"registration much later: no maximum set", event.Registration, t0.AddDate(0, 0, 29), "", event.StatusApproved},
		{"a deposit is not bounded", event.Deposit, t0.Add(time.Second), "", event.StatusApproved},
	} {
		in := ftd(&k, tc.at)
		in.Conversion.Event = tc.event
		in.Now = tc.at.Add(time.Minute)
		dec := d.Decide(&in)
		require.Equal(t, "aff-1", dec.AffiliateID, tc.name)
		require.Equal(t, tc.status, dec.Status, "%s: %s", tc.name, dec.Reason())
		if tc.code == "" {
			require.Equal(t, attribution.CodeClick, dec.Code, tc.name)
			require.Nil(t, dec.Verdicts, "%s: rule: no verdict, no slice", tc.name)
			continue
		}
		require.Equal(t, tc.code, dec.Code, "%s: rule: the deciding rule's code", tc.name)
		require.Len(t, dec.Verdicts, 1, tc.name)
		require.Equal(t, tc.code, dec.Verdicts[0].Code, tc.name)
		require.Contains(t, dec.Reason(), "is in its window", "%s: the attribution's own sentence comes first", tc.name)
		require.Contains(t, dec.Reason(), "("+string(tc.code)+")", tc.name)
		require.Contains(t, dec.Reason(), "time to convert", tc.name)
		if tc.status == event.StatusRejected {
			require.Empty(t, dec.Binding.PlayerID, "%s: rule: a rejected event binds nobody", tc.name)
			require.Contains(t, dec.Reason(), `affiliate "aff-1" (campaign "casino") not credited`, tc.name)
		} else {
			require.Equal(t, "aff-1", dec.Binding.AffiliateID, "%s: a held or flagged event still binds the player", tc.name)
		}
	}
	// A day bound is calendar days in the campaign's zone: across the spring change 30 days
	// are 719 hours, and the hand-written 720h check would pass an hour too long.
	spring := time.Date(2026, 3, 20, 10, 0, 0, 0, malta)
	ks := click(1, "aff-1", "casino", spring)
	in := ftd(&ks, spring.Add(719*time.Hour+time.Second))
	in.Now = in.Conversion.OccurredAt
	require.Equal(t, attribution.CodeTooSlow, d.Decide(&in).Code)
	require.Less(t, in.Conversion.OccurredAt.Sub(spring), 720*time.Hour)
}

// TestFraud_TimeToConvertClock: the time is measured from the click or token that
// credited the event, and not at all when no such time is known.
func TestFraud_TimeToConvertClock(t *testing.T) {
	t.Parallel()
	d := decider(t, fraudulent())
	b := store.PlayerBinding{PlayerID: "P-1", AffiliateID: "aff-1", CampaignID: "casino", ClickID: cid(1), Method: store.BindByClick, BoundAt: t0}
	k := click(1, "aff-1", "casino", t0)

	// A bound player's FTD that carries the binding's click is measured from it.
	in := ftd(&k, t0.Add(5*time.Second))
	in.Binding = &b
	dec := d.Decide(&in)
	require.Equal(t, attribution.ModelBinding, dec.Model)
	require.Equal(t, attribution.CodeTooFast, dec.Code)
	// Without it, there is no click time to measure from.
	in.Click, in.Conversion.ClickID = nil, cid(0)
	dec = d.Decide(&in)
	require.Equal(t, attribution.CodeBinding, dec.Code)
	require.Nil(t, dec.Verdicts)

	// A signed token counts from its time; a promo code entered with the event from none.
	in = ftd(nil, t0.Add(5*time.Second))
	in.Claims = []attribution.Claim{{Method: store.BindByToken, AffiliateID: "aff-1", CampaignID: "casino", At: t0}}
	require.Equal(t, attribution.CodeTooFast, d.Decide(&in).Code)
	in.Claims = []attribution.Claim{{Method: store.BindByPromoCode, AffiliateID: "aff-1", CampaignID: "casino"}}
	dec = d.Decide(&in)
	require.Equal(t, attribution.CodeClaim, dec.Code)
	require.Nil(t, dec.Verdicts)

	// Bounds are the credited campaign's: a click of another campaign is not bounded.
	other := click(2, "aff-2", "toronto", t0)
	in = ftd(&other, t0.Add(time.Second))
	require.Equal(t, attribution.CodeClick, d.Decide(&in).Code)

	// Rules judge only what attribution did not reject, and never an update.
	in = ftd(&k, t0.AddDate(0, 0, 61))
	in.Now = in.Conversion.OccurredAt
	dec = d.Decide(&in)
	require.Equal(t, attribution.CodeWindowExpired, dec.Code, "rule: past its window, the event is rejected for that, not also too slow")
	require.Nil(t, dec.Verdicts)
	o := ftd(&k, t0.Add(time.Second)) // too fast, had it been new
	c := o.Conversion
	c.ID, c.AffiliateID, c.CampaignID, c.Status = uuid.New(), "aff-1", "casino", event.StatusApproved
	o.Original = &c
	o.Conversion.Status = event.StatusReversed
	dec = d.Decide(&o)
	require.Equal(t, attribution.CodeStatusChanged, dec.Code)
	require.Nil(t, dec.Verdicts)
}

func TestFraud_SelfReferral(t *testing.T) {
	t.Parallel()
	d := decider(t, fraudulent())
	k := click(1, "aff-1", "casino", t0)
	for _, tc := range []struct {
		name    string
		mutate  func(*attribution.Input)
		referal bool
	}{
		{"the player ID is the affiliate's", func(in *attribution.Input) { in.Conversion.PlayerID = "aff-1" }, true},
		{"another player", func(in *attribution.Input) {}, false},
		{"a hash of the player is the affiliate's", func(in *attribution.Input) {
			in.PlayerHashes = []string{"h-phone", "h-mail"}
			in.AffiliateHashes = map[string][]string{"aff-1": {"h-mail"}, "aff-2": {"h-phone"}}
		}, true},
		{"a hash of the player is another affiliate's", func(in *attribution.Input) {
			in.PlayerHashes = []string{"h-phone"}
			in.AffiliateHashes = map[string][]string{"aff-1": {"h-mail"}, "aff-2": {"h-phone"}}
		}, false},
		{"empty hashes never match", func(in *attribution.Input) {
			in.PlayerHashes = []string{""}
			in.AffiliateHashes = map[string][]string{"aff-1": {""}}
		}, false},
		{"the affiliate has no hashes", func(in *attribution.Input) {
			in.PlayerHashes = []string{"h-mail"}
		}, false},
		{"no player ID matches no affiliate", func(in *attribution.Input) { in.Conversion.PlayerID = "" }, false},
	} {
		in := ftd(&k, t0.Add(time.Hour))
		in.Conversion.Event = event.Deposit
		tc.mutate(&in)
		dec := d.Decide(&in)
		if !tc.referal {
			require.Equal(t, attribution.CodeClick, dec.Code, tc.name)
			require.Equal(t, event.StatusApproved, dec.Status, tc.name)
			continue
		}
		require.Equal(t, attribution.CodeSelfReferral, dec.Code, tc.name)
		require.Equal(t, event.StatusPending, dec.Status, "%s: held", tc.name)
		require.Equal(t, []attribution.Verdict{dec.Verdicts[0]}, dec.Verdicts, tc.name)
		require.Equal(t, attribution.Hold, dec.Verdicts[0].Action, tc.name)
		require.Equal(t, "aff-1", dec.AffiliateID, "%s: the decision names the affiliate", tc.name)
		require.Contains(t, dec.Reason(), "hold (self_referral)", tc.name)
	}
	// Off by default.
	in := ftd(&k, t0.Add(time.Hour))
	in.Conversion.PlayerID = "aff-1"
	require.Equal(t, attribution.CodeClick, decider(t, casino()).Decide(&in).Code)
}

// TestFraud_MostSevereDecides: every verdict is kept, in the rules' order; the most severe
// action decides the status, and the first verdict of it the code.
func TestFraud_MostSevereDecides(t *testing.T) {
	t.Parallel()
	cfg := fraudulent()
	k := click(1, "aff-1", "casino", t0)
	in := ftd(&k, t0.Add(time.Second))
	in.Conversion.Event = event.Registration
	in.Conversion.PlayerID = "aff-1"

	// Too fast (flag), then a self-referral (hold): held, for the self-referral.
	dec := decider(t, cfg).Decide(&in)
	require.Equal(t, []attribution.Code{attribution.CodeTooFast, attribution.CodeSelfReferral}, codes(dec.Verdicts))
	require.Equal(t, attribution.CodeSelfReferral, dec.Code)
	require.Equal(t, event.StatusPending, dec.Status)

	// Too fast (reject), then a self-referral (flag): rejected, for being too fast.
	cfg.Campaigns[0].Fraud.Registration.TooFast = attribution.Reject
	cfg.Campaigns[0].Fraud.SelfReferral = attribution.Flag
	dec = decider(t, cfg).Decide(&in)
	require.Equal(t, []attribution.Code{attribution.CodeTooFast, attribution.CodeSelfReferral}, codes(dec.Verdicts))
	require.Equal(t, attribution.CodeTooFast, dec.Code)
	require.Equal(t, event.StatusRejected, dec.Status)
	require.Empty(t, dec.Binding.PlayerID)

	// Two holds: the first decides.
	cfg.Campaigns[0].Fraud.Registration.TooFast = attribution.Hold
	cfg.Campaigns[0].Fraud.SelfReferral = attribution.Hold
	dec = decider(t, cfg).Decide(&in)
	require.Equal(t, attribution.CodeTooFast, dec.Code)
	require.Equal(t, event.StatusPending, dec.Status)

	// The sender's pending stays pending under a flag.
	cfg.Campaigns[0].Fraud.Registration.TooFast = attribution.Flag
	cfg.Campaigns[0].Fraud.SelfReferral = attribution.Allow
	in.Conversion.Status = event.StatusPending
	dec = decider(t, cfg).Decide(&in)
	require.Equal(t, attribution.CodeTooFast, dec.Code)
	require.Equal(t, event.StatusPending, dec.Status)

	// Whatever spoke, the record passes the store's rules.
	c := in.Conversion
	c.ID = uuid.New()
	dec.Apply(&c)
	require.NoError(t, c.Validate())
	require.Equal(t, string(attribution.CodeTooFast), c.Decision.Code)
	require.Contains(t, c.Decision.Reason, "flag (too_fast)")
}

func codes(vs []attribution.Verdict) []attribution.Code {
	var out []attribution.Code
	for _, v := range vs {
		out = append(out, v.Code)
	}
	return out
}

// TestFraud_Config: the bounds round-trip through JSON, and their errors name the field.
func TestFraud_Config(t *testing.T) {
	t.Parallel()
	cfg := fraudulent()
	out, err := json.Marshal(cfg)
	require.NoError(t, err)
	require.Contains(t, string(out), `"fraud":{"ftd":{"min":"10s","max":"30d","too_fast":"reject","too_slow":"hold"},"registration":{"min":"3s","too_fast":"flag"},"self_referral":"hold"}`)
	var back attribution.Config
	require.NoError(t, json.Unmarshal(out, &back))
	require.Equal(t, cfg, back)
	require.NoError(t, back.Validate())
	var file attribution.Config
	require.NoError(t, json.Unmarshal(readConfig(t), &file))
	require.Equal(t, attribution.Fraud{
		FTD:          attribution.TimeToConvert{Min: attribution.Exactly(30 * time.Second), TooFast: attribution.Reject, Max: attribution.Days(30), TooSlow: attribution.Hold},
		Registration: attribution.TimeToConvert{Min: attribution.Exactly(2 * time.Second), TooFast: attribution.Flag},
		SelfReferral: attribution.Reject,
	}, file.Campaigns[2].Fraud)

	for _, tc := range []struct{ json, field string }{
		{`{"default":{"fraud":{"ftd":{"min":"10s","too_fast":"rejct"}}}}`, `default.fraud.ftd.too_fast: action "rejct"`},
		{`{"default":{"fraud":{"self_referral":3}}}`, "default.fraud.self_referral: want an action"},
		{`{"campaigns":[{"id":"a","fraud":{"registration":{"max":"1x"}}}]}`, "campaigns[0].fraud.registration.max"},
		{`{"default":{"fraud":{"ftd":{"mni":"10s"}}}}`, "default.fraud.ftd.mni: unknown field"},
		{`{"default":{"fraud":{"ttc":{}}}}`, "default.fraud.ttc: unknown field"},
	} {
		var cfg attribution.Config
		err := json.Unmarshal([]byte(tc.json), &cfg)
		require.ErrorIs(t, err, attribution.ErrInvalidConfig, tc.json)
		require.ErrorContains(t, err, "attribution: config: "+tc.field, tc.json)
	}

	for _, tc := range []struct {
		field string
		fraud attribution.Fraud
	}{
		{"default.fraud.ftd.too_fast: the min bound needs an action", attribution.Fraud{FTD: attribution.TimeToConvert{Min: attribution.Exactly(time.Second)}}},
		{"default.fraud.ftd.too_slow: hold without a max bound", attribution.Fraud{FTD: attribution.TimeToConvert{TooSlow: attribution.Hold}}},
		{"default.fraud.registration.max: 1m is not longer than min 1m", attribution.Fraud{Registration: attribution.TimeToConvert{
			Min: attribution.Exactly(time.Minute), TooFast: attribution.Flag, Max: attribution.Exactly(time.Minute), TooSlow: attribution.Flag}}},
		{"default.fraud.ftd.max: 1d is not longer than min 25h", attribution.Fraud{FTD: attribution.TimeToConvert{
			Min: attribution.Exactly(25 * time.Hour), TooFast: attribution.Flag, Max: attribution.Days(1), TooSlow: attribution.Flag}}},
		{"default.fraud.ftd.min: invalid span", attribution.Fraud{FTD: attribution.TimeToConvert{Min: attribution.Exactly(-1), TooFast: attribution.Flag}}},
		{"default.fraud.self_referral: unknown action 9", attribution.Fraud{SelfReferral: 9}},
		{"default.fraud.ftd.too_fast: unknown action 4", attribution.Fraud{FTD: attribution.TimeToConvert{Min: attribution.Exactly(time.Second), TooFast: 4}}},
	} {
		cfg := attribution.Config{Default: attribution.Rules{Fraud: tc.fraud}}
		require.ErrorContains(t, cfg.Validate(), "attribution: config: "+tc.field, tc.field)
	}
	require.NoError(t, attribution.Config{Default: attribution.Rules{Fraud: attribution.Fraud{SelfReferral: attribution.Allow}}}.Validate())

	_, err = json.Marshal(attribution.Action(7))
	require.ErrorIs(t, err, attribution.ErrInvalidConfig)
	var a attribution.Action
	require.NoError(t, json.Unmarshal([]byte(`"hold"`), &a))
	require.Equal(t, attribution.Hold, a)
	require.ErrorIs(t, json.Unmarshal([]byte(`"HOLD"`), &a), attribution.ErrInvalidConfig)
}

// TestFraud_WithCaps: a rule and a cap both speak, and the most severe still decides. A
// held event keeps its place against the caps; a rejected one counts against none.
func TestFraud_WithCaps(t *testing.T) {
	t.Parallel()
	cfg := fraudulent()
	cfg.Campaigns[0].Caps = []attribution.Cap{dailyFTDs(attribution.CapUnpaid)}
	d := decider(t, cfg)
	k := click(1, "aff-1", "casino", t0)

	slow := ftd(&k, attribution.Days(30).End(t0, zone(t, "Europe/Malta")).Add(time.Hour))
	slow.Now = slow.Conversion.OccurredAt
	dec := d.Decide(&slow)
	require.Equal(t, attribution.CodeTooSlow, dec.Code)
	incs := dec.Increments(nil)
	require.Len(t, incs, 1, "rule: a held event keeps its place against the caps")
	over, ok := dec.OverCap(incs[0].Counter)
	require.True(t, ok)
	require.True(t, over.Unpaid)
	require.Equal(t, []attribution.Code{attribution.CodeTooSlow, attribution.CodeCapReached}, codes(over.Verdicts))
	require.Equal(t, attribution.CodeTooSlow, over.Code, "rule: the hold is more severe than an unpaid cap's flag")
	require.Equal(t, event.StatusPending, over.Status)
	require.Len(t, dec.Verdicts, 1, "rule: OverCap leaves the decision it was asked on as it was")

	fast := ftd(&k, t0.Add(time.Second))
	dec = d.Decide(&fast)
	require.Equal(t, attribution.CodeTooFast, dec.Code)
	require.Empty(t, dec.Increments(nil), "rule: a rejected event counts against no cap")

	cfg.Campaigns[0].Caps = []attribution.Cap{dailyFTDs(attribution.CapReject)}
	dec = decider(t, cfg).Decide(&slow)
	over, ok = dec.OverCap(dec.Increments(nil)[0].Counter)
	require.True(t, ok)
	require.Equal(t, attribution.CodeCapReached, over.Code, "rule: the cap's reject is more severe than the hold")
	require.Equal(t, event.StatusRejected, over.Status)
}

// TestFraud_Deterministic: with verdicts, the decision is still the same whatever the order
// of the clicks and claims.
func TestFraud_Deterministic(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	d1, d2 := decider(t, fraudulent()), decider(t, fraudulent())
	spoke := 0
	for range 300 {
		at := t0.AddDate(0, 0, 40)
		in := ftd(nil, at)
		in.Conversion.PlayerID = "aff-" + string(rune('a'+rng.IntN(5)))
		in.PlayerHashes = []string{"h-" + string(rune('a'+rng.IntN(5)))}
		in.AffiliateHashes = map[string][]string{"aff-a": {"h-b"}, "aff-c": {"h-c", "h-d"}}
		for range 1 + rng.IntN(6) {
			ago := []time.Duration{time.Second, 5 * time.Second, time.Hour, 31 * 24 * time.Hour, 45 * 24 * time.Hour}[rng.IntN(5)]
			in.Clicks = append(in.Clicks, click(byte(rng.IntN(256)), "aff-"+string(rune('a'+rng.IntN(5))), "casino", at.Add(-ago)))
		}
		want := d1.Decide(&in)
		if len(want.Verdicts) > 0 {
			spoke++
		}
		for range 3 {
			shuffled := in
			shuffled.Clicks = append([]store.Click(nil), in.Clicks...)
			rng.Shuffle(len(shuffled.Clicks), func(i, j int) { shuffled.Clicks[i], shuffled.Clicks[j] = shuffled.Clicks[j], shuffled.Clicks[i] })
			require.Equal(t, view(want), view(d2.Decide(&shuffled)))
		}
	}
	require.Greater(t, spoke, 50, "the rules spoke often enough for the property to mean something")
}

// BenchmarkDecide_Rules: the cost of rules on the two common decisions, beside the same
// decisions without rules (the baseline): fraud bounds that pass and a custom rule that
// allows add no allocation; a rule that speaks allocates its verdict.
func BenchmarkDecide_Rules(b *testing.B) {
	last, life := benchInputs()
	quiet := func(attribution.Input, attribution.Decision) attribution.Verdict { return attribution.Verdict{} }
	plain := decider(b, casino())
	ruled := withRules(b, fraudulent(), quiet)
	for _, bc := range []struct {
		name string
		d    *attribution.Decider
		in   *attribution.Input
	}{
		{"baseline_last_click_ftd", plain, &last},
		{"baseline_lifetime_deposit", plain, &life},
		{"last_click_ftd_fraud_bounds_and_a_custom_rule", ruled, &last},
		{"lifetime_deposit_fraud_bounds_and_a_custom_rule", ruled, &life},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkDecision = bc.d.Decide(bc.in)
			}
		})
	}
	fast := last
	fast.Conversion.OccurredAt = last.Click.CreatedAt.Add(time.Second)
	b.Run("last_click_ftd_too_fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkDecision = ruled.Decide(&fast)
		}
	})
}
