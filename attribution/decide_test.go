package attribution_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/attribution"
	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/store"
)

// t0 is noon UTC on 2 March 2026, in Malta's winter time.
var t0 = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

// cid returns a click ID that sorts by n.
func cid(n byte) clickid.ID {
	return clickid.ID{0x01, 0x9c, 0, 0, 0, 0, 0x70, 0, 0x80, 0, 0, 0, 0, 0, 0, n}
}

// casino is a typical iGaming configuration: windows in Malta's calendar days, lifetime
// binding, re-attribution after 180 days idle, and an "other" campaign with short windows.
func casino() attribution.Config {
	return attribution.Config{
		Campaigns: []attribution.Campaign{
			{ID: "casino", Rules: attribution.Rules{
				Zone: "Europe/Malta",
				Windows: attribution.Windows{
					Default:         attribution.Days(90),
					Registration:    attribution.Days(30),
					FTD:             attribution.Days(30),
					RegistrationFTD: attribution.Days(14),
					Events:          map[event.Type]attribution.Span{event.Trade: attribution.Exactly(72 * time.Hour)},
				},
				Lifetime:    true,
				Reattribute: attribution.Days(180),
			}},
			{ID: "toronto", Rules: attribution.Rules{Zone: "America/Toronto", Windows: attribution.Windows{Default: attribution.Days(30)}}},
		},
	}
}

func decider(t testing.TB, cfg attribution.Config) *attribution.Decider {
	t.Helper()
	d, err := attribution.New(cfg, nil)
	require.NoError(t, err)
	return d
}

func click(n byte, affiliate, campaign string, at time.Time) store.Click {
	return store.Click{ID: cid(n), AffiliateID: affiliate, CampaignID: campaign, CreatedAt: at}
}

// ftd returns an FTD of player P-1 carrying click k, occurred at at and received a minute
// later.
func ftd(k *store.Click, at time.Time) attribution.Input {
	in := attribution.Input{Conversion: store.Conversion{
		Source: "casino-x", Event: event.FTD, PlayerID: "P-1", TransactionID: "TX-1",
		Amount: money.MustParse("50.00", money.EUR), Status: event.StatusApproved,
		OccurredAt: at, ReceivedAt: at.Add(time.Minute),
	}}
	if k != nil {
		in.Conversion.ClickID = k.ID
		in.Click = k
	}
	return in
}

func TestDecide_Windows(t *testing.T) {
	t.Parallel()
	d := decider(t, casino())
	malta := zone(t, "Europe/Malta")
	k := click(1, "aff-1", "casino", t0)
	for _, tc := range []struct {
		name   string
		event  event.Type
		at     time.Time
		code   attribution.Code
		window attribution.Window
	}{
		{"ftd at the window's last instant", event.FTD, attribution.Days(30).End(t0, malta), attribution.CodeClick, attribution.WindowFTD},
		{"ftd a nanosecond later", event.FTD, attribution.Days(30).End(t0, malta).Add(1), attribution.CodeWindowExpired, attribution.WindowFTD},
		{"ftd at the click", event.FTD, t0, attribution.CodeClick, attribution.WindowFTD},
		{"registration at the end", event.Registration, t0.AddDate(0, 0, 30).Add(-time.Hour), attribution.CodeClick, attribution.WindowRegistration},
		{"registration after", event.Registration, t0.AddDate(0, 0, 30).Add(-time.Hour + 1), attribution.CodeWindowExpired, attribution.WindowRegistration},
		{"deposit: the default window, at its end", event.Deposit, attribution.Days(90).End(t0, malta), attribution.CodeClick, attribution.WindowDefault},
		{"deposit: the default window, after", event.Deposit, attribution.Days(90).End(t0, malta).Add(1), attribution.CodeWindowExpired, attribution.WindowDefault},
		{"trade: its own 72h window, at its end", event.Trade, t0.Add(72 * time.Hour), attribution.CodeClick, attribution.WindowEvent},
		{"trade: after", event.Trade, t0.Add(72*time.Hour + 1), attribution.CodeWindowExpired, attribution.WindowEvent},
	} {
		in := ftd(&k, tc.at)
		in.Conversion.Event = tc.event
		in.Binding = nil
		dec := d.Decide(&in)
		require.Equal(t, tc.code, dec.Code, tc.name)
		require.Equal(t, tc.window, dec.Window, tc.name)
		require.Equal(t, "aff-1", dec.AffiliateID, "%s: the decision names the affiliate, credited or not", tc.name)
		require.Equal(t, k.ID, dec.ClickID, tc.name)
		if tc.code == attribution.CodeWindowExpired {
			require.Equal(t, event.StatusRejected, dec.Status, tc.name)
			require.False(t, dec.Attributed(), tc.name)
			require.Empty(t, dec.Binding.PlayerID, "%s: a rejected event binds nobody", tc.name)
			require.Contains(t, dec.Reason(), "out of its window", tc.name)
		} else {
			require.Equal(t, event.StatusApproved, dec.Status, "%s: the sender's status", tc.name)
			require.True(t, dec.Attributed(), tc.name)
			require.Equal(t, attribution.ModelLastClick, dec.Model, tc.name)
		}
	}
}

// TestDecide_DayWindowsDST: 30 days are calendar days in the campaign's zone, not 720
// hours: the hand-written check is an hour off across a DST change, both ways.
func TestDecide_DayWindowsDST(t *testing.T) {
	t.Parallel()
	d := decider(t, casino())
	malta, toronto := zone(t, "Europe/Malta"), zone(t, "America/Toronto")
	for _, tc := range []struct {
		name     string
		campaign string
		click    time.Time
		event    time.Time
		code     attribution.Code
	}{
		{"Malta spring: 10:00 thirty days later is inside", "casino", time.Date(2026, 3, 20, 10, 0, 0, 0, malta), time.Date(2026, 4, 19, 10, 0, 0, 0, malta), attribution.CodeClick},
		{"Malta spring: 10:30 thirty days later is not, though 719.5h < 720h", "casino", time.Date(2026, 3, 20, 10, 0, 0, 0, malta), time.Date(2026, 4, 19, 10, 30, 0, 0, malta), attribution.CodeWindowExpired},
		{"Malta autumn: 720.5h later is 10:00 on the clock, inside", "casino", time.Date(2026, 10, 10, 10, 0, 0, 0, malta), time.Date(2026, 11, 9, 10, 0, 0, 0, malta), attribution.CodeClick},
		{"Malta autumn: a second past", "casino", time.Date(2026, 10, 10, 10, 0, 0, 0, malta), time.Date(2026, 11, 9, 10, 0, 1, 0, malta), attribution.CodeWindowExpired},
		{"Toronto spring: 09:00 thirty days later", "toronto", time.Date(2026, 2, 20, 9, 0, 0, 0, toronto), time.Date(2026, 3, 22, 9, 0, 0, 0, toronto), attribution.CodeClick},
		{"Toronto spring: 09:30 is past", "toronto", time.Date(2026, 2, 20, 9, 0, 0, 0, toronto), time.Date(2026, 3, 22, 9, 30, 0, 0, toronto), attribution.CodeWindowExpired},
		{"Toronto autumn: 721h later, inside", "toronto", time.Date(2026, 10, 20, 9, 0, 0, 0, toronto), time.Date(2026, 11, 19, 9, 0, 0, 0, toronto), attribution.CodeClick},
		{"Toronto autumn: a nanosecond past", "toronto", time.Date(2026, 10, 20, 9, 0, 0, 0, toronto), time.Date(2026, 11, 19, 9, 0, 0, 1, toronto), attribution.CodeWindowExpired},
	} {
		k := click(1, "aff-1", tc.campaign, tc.click)
		in := ftd(&k, tc.event)
		in.Conversion.Event = event.Deposit
		if tc.campaign == "casino" {
			in.Conversion.Event = event.FTD
		}
		dec := d.Decide(&in)
		require.Equal(t, tc.code, dec.Code, "%s: %s", tc.name, dec.Reason())
	}
}

// TestDecide_DayWindowsZones: the window ends a decision reports and applies are
// Span.End's, calendar days in the campaign's zone, for clicks at random instants of two
// years in zones with daylight saving in either hemisphere, a half-hour change (Lord Howe)
// and a skipped day (Apia, 30 December 2011): an event at the end is credited, one a
// nanosecond later is not.
func TestDecide_DayWindowsZones(t *testing.T) {
	t.Parallel()
	names := []string{"Europe/Malta", "America/Toronto", "Australia/Lord_Howe", "Pacific/Apia"}
	var cfg attribution.Config
	for _, name := range names {
		cfg.Campaigns = append(cfg.Campaigns, attribution.Campaign{ID: "c-" + strings.ReplaceAll(name, "/", "-"),
			Rules: attribution.Rules{Zone: name, Windows: attribution.Windows{FTD: attribution.Days(30), Registration: attribution.Days(1)}}})
	}
	d := decider(t, cfg)
	rng := rand.New(rand.NewPCG(3, 4))
	for i, name := range names {
		loc := zone(t, name)
		for range 3000 {
			// 2011–2012 holds Apia's skipped day; 2025–2027 the years of the other tests.
			base := time.Date(2011, 11, 1, 0, 0, 0, 0, time.UTC)
			if rng.IntN(2) == 0 {
				base = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
			}
			at := base.Add(time.Duration(rng.Int64N(int64(2 * 365 * 24 * time.Hour))))
			typ, span := event.FTD, attribution.Days(30)
			if rng.IntN(3) == 0 {
				typ, span = event.Registration, attribution.Days(1)
			}
			k := click(1, "aff-1", cfg.Campaigns[i].ID, at)
			end := span.End(at, loc)
			for _, tc := range []struct {
				at   time.Time
				code attribution.Code
			}{{end, attribution.CodeClick}, {end.Add(1), attribution.CodeWindowExpired}} {
				in := ftd(&k, tc.at)
				in.Conversion.Event = typ
				dec := d.Decide(&in)
				require.True(t, end.Equal(dec.WindowEnd), "%s: %s from %s: WindowEnd %s, Span.End %s", name, span, at.In(loc), dec.WindowEnd.In(loc), end.In(loc))
				require.Equal(t, tc.code, dec.Code, "%s: %s from %s, event %s", name, span, at.In(loc), tc.at.In(loc))
			}
		}
	}
}

func TestDecide_Skew(t *testing.T) {
	t.Parallel()
	d := decider(t, casino())
	k := click(1, "aff-1", "casino", t0)
	now := t0.Add(time.Hour)
	for _, tc := range []struct {
		name string
		at   time.Time
		code attribution.Code
	}{
		{"at the receive time", now, attribution.CodeClick},
		{"five minutes ahead: the tolerance", now.Add(attribution.DefaultSkew), attribution.CodeClick},
		{"a nanosecond beyond", now.Add(attribution.DefaultSkew + 1), attribution.CodeEventInFuture},
		{"five minutes before its click", t0.Add(-attribution.DefaultSkew), attribution.CodeClick},
		{"a nanosecond earlier", t0.Add(-attribution.DefaultSkew - 1), attribution.CodeEventBeforeClick},
	} {
		in := ftd(&k, tc.at)
		in.Now = now
		dec := d.Decide(&in)
		require.Equal(t, tc.code, dec.Code, tc.name)
		require.True(t, tc.at.Equal(dec.EventTime), "%s: never clamped", tc.name)
		if tc.code != attribution.CodeClick {
			require.Equal(t, event.StatusRejected, dec.Status, tc.name)
			require.Contains(t, dec.Reason(), "not clamped", tc.name)
		}
	}
	// A tolerance of its own.
	cfg := casino()
	cfg.Skew = attribution.Exactly(time.Minute)
	in := ftd(&k, t0.Add(-time.Minute-1))
	require.Equal(t, attribution.CodeEventBeforeClick, decider(t, cfg).Decide(&in).Code)
	in = ftd(&k, t0.Add(-time.Minute))
	require.Equal(t, attribution.CodeClick, decider(t, cfg).Decide(&in).Code)
	// Without Now, the receive time is the reference.
	in = ftd(&k, t0.Add(time.Hour))
	in.Conversion.ReceivedAt = t0.Add(time.Hour - attribution.DefaultSkew - 1)
	require.Equal(t, attribution.CodeEventInFuture, d.Decide(&in).Code)
}

// TestDecide_ReceiptTime: without an event time, windows run to the receive time, and the
// decision says so.
func TestDecide_ReceiptTime(t *testing.T) {
	t.Parallel()
	d := decider(t, casino())
	malta := zone(t, "Europe/Malta")
	k := click(1, "aff-1", "casino", t0)
	end := attribution.Days(30).End(t0, malta)
	in := ftd(&k, time.Time{})
	in.Conversion.ReceivedAt = end
	dec := d.Decide(&in)
	require.Equal(t, attribution.CodeClick, dec.Code)
	require.True(t, dec.ReceiptTime)
	require.True(t, end.Equal(dec.EventTime))
	require.Contains(t, dec.Reason(), "the sender gave no event time")
	in.Conversion.ReceivedAt = end.Add(1)
	require.Equal(t, attribution.CodeWindowExpired, d.Decide(&in).Code)
}

// TestDecide_ClickModels: last or first click among the player's clicks, ties at the same
// millisecond broken by click ID, whatever their order.
func TestDecide_ClickModels(t *testing.T) {
	t.Parallel()
	at := t0.Add(10 * 24 * time.Hour)
	sameMs := []store.Click{
		click(7, "aff-b", "casino", t0.Add(time.Hour+300*time.Microsecond)),
		click(3, "aff-a", "casino", t0.Add(time.Hour+900*time.Microsecond)), // later in the millisecond, smaller ID
	}
	earlier := click(1, "aff-early", "casino", t0)
	tooLate := click(9, "aff-after", "casino", at.Add(time.Hour)) // after the event: no candidate
	expired := click(0, "aff-old", "casino", t0.AddDate(0, 0, -40))
	for _, tc := range []struct {
		model attribution.Model
		want  string
	}{
		{attribution.ModelLastClick, "aff-b"},
		{attribution.ModelFirstClick, "aff-early"},
	} {
		cfg := casino()
		cfg.Model = tc.model
		d := decider(t, cfg)
		in := ftd(nil, at)
		in.Clicks = []store.Click{sameMs[0], sameMs[1], earlier, tooLate, expired}
		dec := d.Decide(&in)
		require.Equal(t, tc.want, dec.AffiliateID, tc.model)
		require.Equal(t, tc.model, dec.Model)
		require.Equal(t, attribution.CodeClick, dec.Code)

		// Ties within one millisecond: the larger ID is the later, the smaller the earlier.
		in.Clicks = []store.Click{sameMs[1], sameMs[0]}
		dec = d.Decide(&in)
		if tc.model == attribution.ModelLastClick {
			require.Equal(t, "aff-b", dec.AffiliateID, "rule: same millisecond, the larger click ID is the last")
		} else {
			require.Equal(t, "aff-a", dec.AffiliateID, "rule: same millisecond, the smaller click ID is the first")
		}
	}
	// The carried click competes with the player's other clicks.
	d := decider(t, casino())
	k := click(1, "aff-carried", "casino", t0)
	in := ftd(&k, at)
	in.Clicks = []store.Click{click(2, "aff-newer", "casino", t0.Add(time.Hour))}
	require.Equal(t, "aff-newer", d.Decide(&in).AffiliateID)
	// Only expired clicks: rejected, naming the best of them.
	in = ftd(nil, at)
	in.Clicks = []store.Click{expired, click(4, "aff-old2", "casino", t0.AddDate(0, 0, -35))}
	dec := d.Decide(&in)
	require.Equal(t, attribution.CodeWindowExpired, dec.Code)
	require.Equal(t, "aff-old2", dec.AffiliateID)
}

// TestDecide_Binding: a bound player's events follow the binding, not a newer click.
func TestDecide_Binding(t *testing.T) {
	t.Parallel()
	d := decider(t, casino())
	bound := t0
	b := store.PlayerBinding{PlayerID: "P-1", AffiliateID: "aff-1", CampaignID: "casino", ClickID: cid(1), Method: store.BindByClick, BoundAt: bound}
	newer := click(5, "aff-2", "casino", t0.Add(24*time.Hour))
	in := ftd(&newer, t0.Add(2*24*time.Hour))
	in.Binding = &b
	dec := d.Decide(&in)
	require.Equal(t, attribution.CodeBinding, dec.Code, "rule: a binding outranks a newer click")
	require.Equal(t, attribution.ModelBinding, dec.Model)
	require.Equal(t, "aff-1", dec.AffiliateID)
	require.Equal(t, cid(1), dec.ClickID)
	require.Empty(t, dec.Binding.PlayerID, "a bound player is not bound again")
	promo := in
	promo.Claims = []attribution.Claim{{Method: store.BindByPromoCode, AffiliateID: "aff-promo", CampaignID: "casino"}}
	require.Equal(t, "aff-1", d.Decide(&promo).AffiliateID, "rule: a binding outranks a promo code too")
	require.Contains(t, dec.Reason(), `credited to affiliate "aff-1"`)

	// A deposit months later still follows it: no click window applies to a binding.
	in = ftd(nil, t0.AddDate(1, 0, 0))
	in.Conversion.Event = event.Deposit
	in.Binding = &b
	require.Equal(t, attribution.CodeBinding, d.Decide(&in).Code)

	// Registration → FTD: 14 days in Malta from the binding, the end inclusive.
	malta := zone(t, "Europe/Malta")
	end := attribution.Days(14).End(bound, malta)
	in = ftd(nil, end)
	in.Binding = &b
	dec = d.Decide(&in)
	require.Equal(t, attribution.CodeBinding, dec.Code)
	require.Equal(t, attribution.WindowRegistrationFTD, dec.Window)
	in = ftd(nil, end.Add(1))
	in.Binding = &b
	dec = d.Decide(&in)
	require.Equal(t, attribution.CodeWindowExpired, dec.Code)
	require.Equal(t, attribution.WindowRegistrationFTD, dec.Window)
	require.Equal(t, event.StatusRejected, dec.Status)
	require.Equal(t, "aff-1", dec.AffiliateID)
}

func TestDecide_Reattribution(t *testing.T) {
	t.Parallel()
	d := decider(t, casino())
	b := store.PlayerBinding{PlayerID: "P-1", AffiliateID: "aff-1", CampaignID: "casino", ClickID: cid(1), Method: store.BindByClick, BoundAt: t0}
	last := t0.AddDate(0, 1, 0)
	malta := zone(t, "Europe/Malta")
	idleEnd := attribution.Days(180).End(last, malta)
	for _, tc := range []struct {
		name    string
		clickAt time.Time
		code    attribution.Code
		want    string
	}{
		{"a click after 180 idle days re-attributes", idleEnd.Add(time.Second), attribution.CodeReattributed, "aff-2"},
		{"a click at the 180th day's last instant does not", idleEnd, attribution.CodeBinding, "aff-1"},
		{"a click within the idle period does not", idleEnd.AddDate(0, 0, -10), attribution.CodeBinding, "aff-1"},
	} {
		k := click(5, "aff-2", "casino", tc.clickAt)
		in := ftd(&k, idleEnd.AddDate(0, 0, 1))
		in.Conversion.Event = event.Deposit
		in.Binding, in.LastActivity = &b, last
		dec := d.Decide(&in)
		require.Equal(t, tc.code, dec.Code, tc.name)
		require.Equal(t, tc.want, dec.AffiliateID, tc.name)
		if tc.code == attribution.CodeReattributed {
			require.Equal(t, attribution.ModelReattribution, dec.Model)
			require.True(t, dec.Rebind)
			require.Equal(t, store.PlayerBinding{PlayerID: "P-1", AffiliateID: "aff-2", CampaignID: "casino", ClickID: cid(5),
				Method: store.BindByClick, BoundAt: in.Conversion.OccurredAt}, dec.Binding)
			require.Contains(t, dec.Reason(), "re-attributed")
		} else {
			require.False(t, dec.Rebind)
			require.Empty(t, dec.Binding.PlayerID)
		}
	}
	// Off by default, and never without a known last activity.
	cfg := casino()
	cfg.Campaigns[0].Reattribute = attribution.Span{}
	k := click(5, "aff-2", "casino", idleEnd.Add(time.Second))
	in := ftd(&k, idleEnd.AddDate(0, 0, 1))
	in.Conversion.Event = event.Deposit
	in.Binding, in.LastActivity = &b, last
	require.Equal(t, attribution.CodeBinding, decider(t, cfg).Decide(&in).Code, "rule: re-attribution is off by default")
	in.LastActivity = time.Time{}
	require.Equal(t, attribution.CodeBinding, d.Decide(&in).Code, "rule: no last activity, no re-attribution")
}

// TestDecide_Priority: promo code beats token beats click beats manual by default; the
// priority is configurable.
func TestDecide_Priority(t *testing.T) {
	t.Parallel()
	k := click(1, "aff-link", "casino", t0)
	claims := []attribution.Claim{
		{Method: store.BindManually, AffiliateID: "aff-manual"},
		{Method: store.BindByPromoCode, AffiliateID: "aff-promo", CampaignID: "casino"},
		{Method: store.BindByToken, AffiliateID: "aff-token", CampaignID: "casino", ClickID: cid(2), At: t0},
	}
	in := func(claims ...attribution.Claim) attribution.Input {
		i := ftd(&k, t0.Add(time.Hour))
		i.Conversion.Event = event.Registration
		i.Claims = claims
		return i
	}
	d := decider(t, casino())
	for _, tc := range []struct {
		name   string
		in     attribution.Input
		want   string
		model  attribution.Model
		method store.BindingMethod
		code   attribution.Code
	}{
		{"promo code beats all", in(claims...), "aff-promo", attribution.ModelPromoCode, store.BindByPromoCode, attribution.CodeClaim},
		{"token beats click and manual", in(claims[0], claims[2]), "aff-token", attribution.ModelToken, store.BindByToken, attribution.CodeClaim},
		{"click beats manual", in(claims[0]), "aff-link", attribution.ModelLastClick, store.BindByClick, attribution.CodeClick},
	} {
		dec := d.Decide(&tc.in)
		require.Equal(t, tc.want, dec.AffiliateID, tc.name)
		require.Equal(t, tc.model, dec.Model, tc.name)
		require.Equal(t, tc.code, dec.Code, tc.name)
		require.Equal(t, tc.method, dec.Binding.Method, "%s: the binding says how", tc.name)
		require.Equal(t, tc.want, dec.Binding.AffiliateID, tc.name)
	}
	manualOnly := ftd(nil, t0)
	manualOnly.Claims = claims[:1]
	dec := d.Decide(&manualOnly)
	require.Equal(t, "aff-manual", dec.AffiliateID)
	require.Equal(t, attribution.ModelManual, dec.Model)

	cfg := casino()
	cfg.Priority = []store.BindingMethod{store.BindByClick, store.BindByPromoCode}
	all := in(claims...)
	dec = decider(t, cfg).Decide(&all)
	require.Equal(t, "aff-link", dec.AffiliateID, "rule: the configured priority decides")
	noClick := ftd(nil, t0)
	noClick.Claims = claims
	dec = decider(t, cfg).Decide(&noClick)
	require.Equal(t, "aff-promo", dec.AffiliateID)
	noClick.Claims = []attribution.Claim{claims[0], claims[2]}
	dec = decider(t, cfg).Decide(&noClick)
	require.Equal(t, "aff-token", dec.AffiliateID, "rule: methods left out rank after, in the default order")

	// A token is a claim made at its click's time: the click windows limit it.
	late := in(claims[2])
	late.Click = nil
	late.Conversion.OccurredAt = t0.AddDate(0, 0, 45)
	late.Conversion.ReceivedAt = late.Conversion.OccurredAt
	dec = d.Decide(&late)
	require.Equal(t, attribution.CodeWindowExpired, dec.Code)
	require.Equal(t, "aff-token", dec.AffiliateID)
}

func TestDecide_Unattributed(t *testing.T) {
	t.Parallel()
	d := decider(t, casino())
	in := ftd(nil, t0)
	dec := d.Decide(&in)
	require.Equal(t, attribution.CodeNoClick, dec.Code)
	require.Equal(t, attribution.ModelNone, dec.Model)
	require.Empty(t, dec.AffiliateID)
	require.False(t, dec.Attributed())
	require.False(t, dec.Refused(), "rule: recorded, never dropped")
	require.NotEmpty(t, dec.DedupKey())
	require.Equal(t, event.StatusApproved, dec.Status, "the sender's status: the event happened, nobody earns it")
	require.Contains(t, dec.Reason(), "nobody credited")

	in.Conversion.ClickID = cid(9)
	dec = d.Decide(&in)
	require.Equal(t, attribution.CodeClickNotFound, dec.Code, "a click ID that no click has")
	in.Conversion.ClickID = clickid.ID{}
	in.Conversion.ForeignClickID = "gclid-1"
	require.Equal(t, attribution.CodeClickNotFound, d.Decide(&in).Code, "a foreign click ID no click has")
	in.Conversion.ClickID = cid(9)
	in.Clicks = []store.Click{click(9, "aff-9", "casino", t0.Add(-time.Hour))}
	require.Equal(t, attribution.CodeClick, d.Decide(&in).Code, "the named click among the player's clicks")
	// A claim without an affiliate or with an unknown method is no claim.
	in = ftd(nil, t0)
	in.Claims = []attribution.Claim{{Method: store.BindByPromoCode}, {Method: "coupon", AffiliateID: "x"}}
	require.Equal(t, attribution.CodeNoClick, d.Decide(&in).Code)
}

// TestDecide_LifetimeBinding: the first attributed event of an unbound player in a lifetime
// campaign binds them; nothing else does.
func TestDecide_LifetimeBinding(t *testing.T) {
	t.Parallel()
	d := decider(t, casino())
	k := click(1, "aff-1", "casino", t0)
	in := ftd(&k, t0.Add(time.Hour))
	in.Conversion.Event = event.Registration
	dec := d.Decide(&in)
	require.Equal(t, store.PlayerBinding{PlayerID: "P-1", AffiliateID: "aff-1", CampaignID: "casino", ClickID: k.ID,
		Method: store.BindByClick, BoundAt: t0.Add(time.Hour)}, dec.Binding)
	require.NoError(t, dec.Binding.Validate())
	require.False(t, dec.Rebind)

	noPlayer := in
	noPlayer.Conversion.PlayerID = ""
	require.Empty(t, d.Decide(&noPlayer).Binding.PlayerID, "no player, no binding")

	other := click(2, "aff-2", "toronto", t0)
	in = ftd(&other, t0.Add(time.Hour))
	dec = d.Decide(&in)
	require.Equal(t, attribution.CodeClick, dec.Code)
	require.Empty(t, dec.Binding.PlayerID, "a campaign without lifetime binds nobody")

	unknown := click(3, "aff-3", "no-such-campaign", t0)
	in = ftd(&unknown, t0.Add(time.Hour))
	dec = d.Decide(&in)
	require.Equal(t, attribution.CodeClick, dec.Code, "a campaign not listed has the default rules")
	require.Empty(t, dec.Binding.PlayerID)
}

func TestDecide_Dedup(t *testing.T) {
	t.Parallel()
	cfg := casino()
	cfg.Dedup = attribution.Dedup{Events: map[event.Type]attribution.DedupMode{
		event.FTD: attribution.DedupPlayerEvent, event.Registration: attribution.DedupPlayerEvent,
	}}
	d := decider(t, cfg)
	k := click(1, "aff-1", "casino", t0)
	first := ftd(&k, t0.Add(time.Hour))
	second := ftd(&k, t0.Add(2*time.Hour))
	second.Conversion.TransactionID = "TX-2"
	require.Equal(t, d.Decide(&first).DedupKey(), d.Decide(&second).DedupKey(), "rule: one FTD per player")
	otherSource := first
	otherSource.Conversion.Source = "casino-y"
	require.NotEqual(t, d.Decide(&first).DedupKey(), d.Decide(&otherSource).DedupKey(), "rule: keys are namespaced by source")
	dep1, dep2 := first, second
	dep1.Conversion.Event, dep2.Conversion.Event = event.Deposit, event.Deposit
	require.NotEqual(t, d.Decide(&dep1).DedupKey(), d.Decide(&dep2).DedupKey(), "deposits stay per transaction")
	regByPlayer := first
	regByPlayer.Conversion.Event = event.Registration
	require.NotEqual(t, d.Decide(&first).DedupKey(), d.Decide(&regByPlayer).DedupKey(), "once per event per player")

	noPlayer := first
	noPlayer.Conversion.PlayerID = ""
	dec := d.Decide(&noPlayer)
	require.True(t, dec.Refused())
	require.Equal(t, attribution.CodeMissingPlayerID, dec.Code)
	require.Empty(t, dec.DedupKey(), "rule: never a key without the field")
	require.Equal(t, event.StatusRejected, dec.Status)
	require.Contains(t, dec.Reason(), "refused")
	noTxn := dep1
	noTxn.Conversion.TransactionID = ""
	dec = d.Decide(&noTxn)
	require.True(t, dec.Refused())
	require.Equal(t, attribution.CodeMissingTransactionID, dec.Code)

	// Every postback: one key per conversion ID, the same for the caller's own retry.
	every := decider(t, attribution.Config{Dedup: attribution.Dedup{Mode: attribution.DedupEvery}})
	a, b := first, first
	a.Conversion.ID, b.Conversion.ID = uuid.New(), uuid.New()
	require.NotEqual(t, every.Decide(&a).DedupKey(), every.Decide(&b).DedupKey(), "rule: every postback is its own")
	require.Equal(t, every.Decide(&a).DedupKey(), every.Decide(&a).DedupKey())
	require.True(t, strings.HasPrefix(every.Decide(&a).DedupKey(), "e1:"))
	dec = every.Decide(&first)
	require.Equal(t, attribution.CodeMissingConversionID, dec.Code)
}

// TestDecision_Apply: the record a store keeps, filled in, passes the store's rules on every
// path.
func TestDecision_Apply(t *testing.T) {
	t.Parallel()
	d := decider(t, casino())
	k := click(1, "aff-1", "casino", t0)
	b := store.PlayerBinding{PlayerID: "P-1", AffiliateID: "aff-b", CampaignID: "casino", Method: store.BindByPromoCode, BoundAt: t0}
	inputs := map[string]attribution.Input{}
	inputs["click"] = ftd(&k, t0.Add(time.Hour))
	inputs["expired"] = ftd(&k, t0.AddDate(0, 2, 0))
	inputs["none"] = ftd(nil, t0)
	bound := ftd(nil, t0.Add(time.Hour))
	bound.Binding = &b
	inputs["binding"] = bound
	future := ftd(&k, t0.Add(time.Hour))
	future.Now = t0
	inputs["future"] = future
	for name, in := range inputs {
		dec := d.Decide(&in)
		c := in.Conversion
		c.ID = uuid.New()
		dec.Apply(&c)
		require.NoError(t, c.Validate(), name)
		require.Equal(t, dec.AffiliateID, c.AffiliateID, name)
		require.Equal(t, dec.Status, c.Status, name)
		require.Equal(t, dec.DedupKey(), c.DedupKey, name)
		require.Equal(t, string(dec.Code), c.Decision.Code, name)
		require.NoError(t, store.CheckKey(c.Decision.Code), "%s: a code is a key", name)
		require.Equal(t, string(dec.Model), c.Decision.Model, name)
		require.Equal(t, dec.Reason(), c.Decision.Reason, name)
		require.NotEmpty(t, c.Decision.Reason, name)
	}
}

// TestDecide_Deterministic: the order of the clicks and claims never matters, nor the order
// of the Config's maps; the same input gives the same decision.
func TestDecide_Deterministic(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for _, model := range []attribution.Model{attribution.ModelLastClick, attribution.ModelFirstClick} {
		cfg := casino()
		cfg.Model = model
		d1, d2 := decider(t, cfg), decider(t, cfg)
		for range 300 {
			at := t0.AddDate(0, 0, 40)
			in := ftd(nil, at)
			for range 1 + rng.IntN(8) {
				// Few distinct milliseconds, so that ties are common.
				ms := time.Duration(rng.IntN(3)) * time.Millisecond
				day := time.Duration(rng.IntN(60)) * 24 * time.Hour
				in.Clicks = append(in.Clicks, click(byte(rng.IntN(256)), "aff-"+string(rune('a'+rng.IntN(5))), "casino",
					at.Add(-day).Add(ms).Add(time.Duration(rng.IntN(1000))*time.Microsecond)))
			}
			for range rng.IntN(3) {
				in.Claims = append(in.Claims, attribution.Claim{Method: store.BindByToken, AffiliateID: "tok-" + string(rune('a'+rng.IntN(3))), At: at.Add(-time.Hour)})
			}
			want := d1.Decide(&in)
			for range 5 {
				shuffled := in
				shuffled.Clicks = append([]store.Click(nil), in.Clicks...)
				shuffled.Claims = append([]attribution.Claim(nil), in.Claims...)
				rng.Shuffle(len(shuffled.Clicks), func(i, j int) { shuffled.Clicks[i], shuffled.Clicks[j] = shuffled.Clicks[j], shuffled.Clicks[i] })
				rng.Shuffle(len(shuffled.Claims), func(i, j int) { shuffled.Claims[i], shuffled.Claims[j] = shuffled.Claims[j], shuffled.Claims[i] })
				got := d2.Decide(&shuffled)
				require.Equal(t, view(want), view(got), "rule: the order of independent clicks never matters")
			}
		}
	}
}

// TestDecide_MapOrder: nothing depends on the order in which a map is walked: deciders
// compiled again and again from a Config with many per-event windows and dedup modes (each
// compile copies the maps, so each walks them in another order) decide alike, and an
// invalid Config with several bad entries in its maps is refused naming the same field
// every time, as is its JSON.
func TestDecide_MapOrder(t *testing.T) {
	t.Parallel()
	cfg := casino()
	cfg.Dedup.Events = map[event.Type]attribution.DedupMode{}
	var types []event.Type
	for i := range 24 {
		typ := event.Type(fmt.Sprintf("goal_%02d", i))
		types = append(types, typ)
		cfg.Campaigns[0].Windows.Events[typ] = attribution.Days(1 + i)
		cfg.Dedup.Events[typ] = []attribution.DedupMode{attribution.DedupEventTransaction, attribution.DedupTransaction, attribution.DedupPlayerEvent}[i%3]
	}
	k := click(1, "aff-1", "casino", t0)
	decide := func(d *attribution.Decider) []decisionView {
		var out []decisionView
		for i, typ := range types {
			in := ftd(&k, t0.AddDate(0, 0, i+1).Add(time.Duration(i%2)*time.Hour)) // at its window's end, or an hour past
			in.Conversion.Event = typ
			out = append(out, view(d.Decide(&in)))
		}
		return out
	}
	want := decide(decider(t, cfg))
	expired := 0
	for _, v := range want {
		if v.Code == attribution.CodeWindowExpired {
			expired++
		}
	}
	require.Equal(t, len(types)/2, expired, "each type has its own window")
	bad := cfg
	bad.Dedup.Events = maps.Clone(cfg.Dedup.Events)
	for _, typ := range types[3:9] {
		bad.Dedup.Events[typ] = "per_click"
	}
	var wantErr string
	for i := range 30 {
		require.Equal(t, want, decide(decider(t, cfg)), "compile %d", i)
		_, err := attribution.New(bad, nil)
		require.Error(t, err)
		if i == 0 {
			wantErr = err.Error()
			require.Contains(t, wantErr, "dedup.events.goal_03", "the first bad field, in order")
		}
		require.Equal(t, wantErr, err.Error(), "compile %d", i)
		var decoded attribution.Config
		err = json.Unmarshal([]byte(`{"campaigns":[{"id":"a","windows":{"events":{"g1":"x","g2":"y","g3":"z","g4":"w"}}}]}`), &decoded)
		require.ErrorContains(t, err, "campaigns[0].windows.events.g1", "decode %d", i)
	}
}

// view is a decision's exported content, for comparing.
type decisionView struct {
	attribution.Decision
	Key, Reason string
}

func view(d attribution.Decision) decisionView {
	v := decisionView{Decision: d, Key: d.DedupKey(), Reason: d.Reason()}
	v.Decision = attribution.Decision{AffiliateID: d.AffiliateID, CampaignID: d.CampaignID, Model: d.Model, Status: d.Status,
		Code: d.Code, Method: d.Method, ClickID: d.ClickID, ClickAt: d.ClickAt, BoundAt: d.BoundAt, Window: d.Window,
		Span: d.Span, WindowEnd: d.WindowEnd, EventTime: d.EventTime, ReceiptTime: d.ReceiptTime, Binding: d.Binding,
		Rebind: d.Rebind, Park: d.Park, Change: d.Change, Verdicts: d.Verdicts, Amount: d.Amount}
	return v
}
