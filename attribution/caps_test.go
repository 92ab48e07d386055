package attribution_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/attribution"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/store"
)

// dailyFTDs is the common cap: 10 FTDs a day per affiliate.
func dailyFTDs(over attribution.CapPolicy) attribution.Cap {
	return attribution.Cap{Name: "daily_ftd", Events: []event.Type{event.FTD}, Scope: attribution.CapPerAffiliate,
		Period: attribution.CapDay, Count: 10, Over: over}
}

// capped is casino() with caps on both its campaigns (Malta's and Toronto's).
func capped(caps ...attribution.Cap) attribution.Config {
	cfg := casino()
	for i := range cfg.Campaigns {
		cfg.Campaigns[i].Caps = caps
	}
	return cfg
}

// capFTD is an FTD of affiliate aff in campaign, at at, its click an hour before.
func capFTD(campaign, aff string, at time.Time) attribution.Input {
	k := click(1, aff, campaign, at.Add(-time.Hour))
	return ftd(&k, at)
}

// counts returns the caps dec counts against.
func counts(dec attribution.Decision) []attribution.CapCount {
	return dec.AppendCapCounts(nil)
}

// counterNames returns the names of the counters dec increments.
func counterNames(dec attribution.Decision) []string {
	var names []string
	for _, c := range counts(dec) {
		names = append(names, c.Counter())
	}
	return names
}

// TestCaps_DayBucketsDST: a day bucket is the calendar day in the campaign's zone, 23 or 25
// hours long on the days the clocks change; the last millisecond of a day and the midnight
// after it are in two buckets.
func TestCaps_DayBucketsDST(t *testing.T) {
	t.Parallel()
	d := decider(t, capped(dailyFTDs(attribution.CapReject)))
	malta, toronto := zone(t, "Europe/Malta"), zone(t, "America/Toronto")
	last := 999 * time.Millisecond
	for _, tc := range []struct {
		name     string
		campaign string
		at       time.Time
		day      string
		hours    time.Duration
	}{
		{"Malta: the evening before spring forward", "casino", time.Date(2026, 3, 28, 23, 59, 59, int(last), malta), "2026-03-28", 24},
		{"Malta: spring forward, midnight", "casino", time.Date(2026, 3, 29, 0, 0, 0, 0, malta), "2026-03-29", 23},
		{"Malta: spring forward, after the gap", "casino", time.Date(2026, 3, 29, 3, 0, 0, 0, malta), "2026-03-29", 23},
		{"Malta: spring forward, its last millisecond", "casino", time.Date(2026, 3, 29, 23, 59, 59, int(last), malta), "2026-03-29", 23},
		{"Malta: the midnight after", "casino", time.Date(2026, 3, 30, 0, 0, 0, 0, malta), "2026-03-30", 24},
		{"Malta: fall back, midnight", "casino", time.Date(2026, 10, 25, 0, 0, 0, 0, malta), "2026-10-25", 25},
		{"Malta: fall back, the repeated hour (second time)", "casino", time.Date(2026, 10, 25, 1, 30, 0, 0, time.UTC), "2026-10-25", 25},
		{"Malta: fall back, its last millisecond", "casino", time.Date(2026, 10, 25, 23, 59, 59, int(last), malta), "2026-10-25", 25},
		{"Malta: the midnight after fall back", "casino", time.Date(2026, 10, 26, 0, 0, 0, 0, malta), "2026-10-26", 24},
		{"Toronto: spring forward, midnight", "toronto", time.Date(2026, 3, 8, 0, 0, 0, 0, toronto), "2026-03-08", 23},
		{"Toronto: spring forward, its last millisecond (03:59Z the next day)", "toronto", time.Date(2026, 3, 8, 23, 59, 59, int(last), toronto), "2026-03-08", 23},
		{"Toronto: the midnight after spring forward", "toronto", time.Date(2026, 3, 9, 0, 0, 0, 0, toronto), "2026-03-09", 24},
		{"Toronto: fall back, the repeated hour (second time)", "toronto", time.Date(2026, 11, 1, 6, 30, 0, 0, time.UTC), "2026-11-01", 25},
		{"Toronto: fall back, its last millisecond", "toronto", time.Date(2026, 11, 1, 23, 59, 59, int(last), toronto), "2026-11-01", 25},
		{"Toronto: the midnight after fall back", "toronto", time.Date(2026, 11, 2, 0, 0, 0, 0, toronto), "2026-11-02", 24},
	} {
		in := capFTD(tc.campaign, "aff-1", tc.at)
		dec := d.Decide(&in)
		require.Equal(t, attribution.CodeClick, dec.Code, "%s: %s", tc.name, dec.Reason())
		cs := counts(dec)
		require.Len(t, cs, 1, tc.name)
		c := cs[0]
		require.Equal(t, "cap:daily_ftd:aff=aff-1:day="+tc.day, c.Counter(), tc.name)
		require.Equal(t, tc.hours*time.Hour, c.End().Sub(c.Start()), "%s: the day is %d hours long", tc.name, tc.hours)
		require.False(t, tc.at.Before(c.Start()), "%s: the event is in its bucket", tc.name)
		require.True(t, tc.at.Before(c.End()), "%s: the event is in its bucket", tc.name)
		loc := zone(t, map[string]string{"casino": "Europe/Malta", "toronto": "America/Toronto"}[tc.campaign])
		require.Equal(t, tc.day+" 00:00:00", c.Start().In(loc).Format(time.DateTime), "%s: the bucket starts at midnight", tc.name)
		require.Equal(t, int64(1), c.Delta(), tc.name)
		require.Equal(t, int64(10), c.Limit(), tc.name)
		require.Equal(t, "daily_ftd", c.Name(), tc.name)
	}
}

// TestCaps_Midnight: in a zone whose clocks change at midnight, a day starts at the first
// instant of its date: after the gap when midnight is skipped, at the first of two midnights
// when it is repeated.
func TestCaps_Midnight(t *testing.T) {
	t.Parallel()
	cfg := capped(dailyFTDs(attribution.CapReject))
	cfg.Campaigns[1].Zone = "America/Santiago"
	cfg.Campaigns = append(cfg.Campaigns, attribution.Campaign{ID: "havana", Rules: attribution.Rules{Zone: "America/Havana",
		Caps: []attribution.Cap{dailyFTDs(attribution.CapReject)}}})
	d := decider(t, cfg)
	for _, tc := range []struct {
		name       string
		campaign   string
		at         time.Time // UTC
		day        string
		start, end time.Time // UTC
	}{
		{"Santiago: midnight skipped, the day starts at 01:00", "toronto", time.Date(2026, 9, 6, 12, 0, 0, 0, time.UTC), "2026-09-06",
			time.Date(2026, 9, 6, 4, 0, 0, 0, time.UTC), time.Date(2026, 9, 7, 3, 0, 0, 0, time.UTC)},
		{"Santiago: the day before, 24 hours", "toronto", time.Date(2026, 9, 5, 12, 0, 0, 0, time.UTC), "2026-09-05",
			time.Date(2026, 9, 5, 4, 0, 0, 0, time.UTC), time.Date(2026, 9, 6, 4, 0, 0, 0, time.UTC)},
		{"Santiago: 23:00 repeated, a 25-hour day", "toronto", time.Date(2026, 4, 5, 3, 30, 0, 0, time.UTC), "2026-04-04",
			time.Date(2026, 4, 4, 3, 0, 0, 0, time.UTC), time.Date(2026, 4, 5, 4, 0, 0, 0, time.UTC)},
		{"Havana: midnight skipped", "havana", time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC), "2026-03-08",
			time.Date(2026, 3, 8, 5, 0, 0, 0, time.UTC), time.Date(2026, 3, 9, 4, 0, 0, 0, time.UTC)},
		{"Havana: midnight repeated, the day starts at the first", "havana", time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC), "2026-11-01",
			time.Date(2026, 11, 1, 4, 0, 0, 0, time.UTC), time.Date(2026, 11, 2, 5, 0, 0, 0, time.UTC)},
	} {
		in := capFTD(tc.campaign, "aff-1", tc.at)
		dec := d.Decide(&in)
		cs := counts(dec)
		require.Len(t, cs, 1, "%s: %s", tc.name, dec.Reason())
		require.Equal(t, "cap:daily_ftd:aff=aff-1:day="+tc.day, cs[0].Counter(), tc.name)
		require.Equal(t, tc.start, cs[0].Start().UTC(), "%s: start", tc.name)
		require.Equal(t, tc.end, cs[0].End().UTC(), "%s: end", tc.name)
	}
}

// TestCaps_Periods: ISO weeks (Monday start, ISO year, across a year boundary), calendar
// months and the lifetime, in the campaign's zone.
func TestCaps_Periods(t *testing.T) {
	t.Parallel()
	week := attribution.Cap{Name: "weekly", Scope: attribution.CapPerCampaign, Period: attribution.CapWeek, Count: 50, Over: attribution.CapHold}
	month := attribution.Cap{Name: "monthly", Scope: attribution.CapPerAffiliateCampaign, Period: attribution.CapMonth, Count: 200, Over: attribution.CapUnpaid}
	life := attribution.Cap{Name: "first_100", Scope: attribution.CapPerAffiliate, Period: attribution.CapLifetime, Count: 100, Over: attribution.CapReject}
	d := decider(t, capped(week, month, life))
	malta := zone(t, "Europe/Malta")
	last := 999 * time.Millisecond
	at := func(y int, m time.Month, day, h, min, s, ns int) time.Time {
		return time.Date(y, m, day, h, min, s, ns, malta)
	}
	for _, tc := range []struct {
		name        string
		at          time.Time
		week, month string
		weekStart   time.Time
		monthHours  time.Duration
	}{
		{"Thursday 31 December 2026 is in 2026-W53", at(2026, 12, 31, 12, 0, 0, 0), "2026-W53", "2026-12", at(2026, 12, 28, 0, 0, 0, 0), 31 * 24},
		{"Friday 1 January 2027 is still 2026-W53", at(2027, 1, 1, 0, 0, 0, 0), "2026-W53", "2027-01", at(2026, 12, 28, 0, 0, 0, 0), 31 * 24},
		{"Sunday 3 January 2027, its last millisecond", at(2027, 1, 3, 23, 59, 59, int(last)), "2026-W53", "2027-01", at(2026, 12, 28, 0, 0, 0, 0), 31 * 24},
		{"Monday 4 January 2027 is 2027-W01", at(2027, 1, 4, 0, 0, 0, 0), "2027-W01", "2027-01", at(2027, 1, 4, 0, 0, 0, 0), 31 * 24},
		{"Monday 29 December 2025 is 2026-W01", at(2025, 12, 29, 0, 0, 0, 0), "2026-W01", "2025-12", at(2025, 12, 29, 0, 0, 0, 0), 31 * 24},
		{"Sunday 28 December 2025, its last millisecond, is 2025-W52", at(2025, 12, 28, 23, 59, 59, int(last)), "2025-W52", "2025-12", at(2025, 12, 22, 0, 0, 0, 0), 31 * 24},
		{"January's last millisecond", at(2026, 1, 31, 23, 59, 59, int(last)), "2026-W05", "2026-01", at(2026, 1, 26, 0, 0, 0, 0), 31 * 24},
		{"1 February at midnight", at(2026, 2, 1, 0, 0, 0, 0), "2026-W05", "2026-02", at(2026, 1, 26, 0, 0, 0, 0), 28 * 24},
		{"28 February's last millisecond", at(2026, 2, 28, 23, 59, 59, int(last)), "2026-W09", "2026-02", at(2026, 2, 23, 0, 0, 0, 0), 28 * 24},
		{"March, an hour short (spring forward); its week too", at(2026, 3, 29, 12, 0, 0, 0), "2026-W13", "2026-03", at(2026, 3, 23, 0, 0, 0, 0), 31*24 - 1},
		{"October, an hour long (fall back)", at(2026, 10, 25, 12, 0, 0, 0), "2026-W43", "2026-10", at(2026, 10, 19, 0, 0, 0, 0), 31*24 + 1},
		{"the zone, not UTC: 23:30Z on 3 January 2027 is Monday in Malta", time.Date(2027, 1, 3, 23, 30, 0, 0, time.UTC), "2027-W01", "2027-01", at(2027, 1, 4, 0, 0, 0, 0), 31 * 24},
		{"the zone, not UTC: 23:30Z on 31 January is February in Malta", time.Date(2026, 1, 31, 23, 30, 0, 0, time.UTC), "2026-W05", "2026-02", at(2026, 1, 26, 0, 0, 0, 0), 28 * 24},
	} {
		in := capFTD("casino", "aff-1", tc.at)
		dec := d.Decide(&in)
		require.Equal(t, attribution.CodeClick, dec.Code, "%s: %s", tc.name, dec.Reason())
		require.Equal(t, []string{
			"cap:weekly:camp=casino:week=" + tc.week,
			"cap:monthly:aff=aff-1:camp=casino:month=" + tc.month,
			"cap:first_100:aff=aff-1:life",
		}, counterNames(dec), tc.name)
		cs := counts(dec)
		require.Equal(t, tc.weekStart, cs[0].Start(), "%s: the week starts on Monday at midnight", tc.name)
		require.Equal(t, time.Monday, cs[0].Start().In(malta).Weekday(), tc.name)
		wantWeek := 7 * 24 * time.Hour
		switch tc.week {
		case "2026-W13":
			wantWeek -= time.Hour
		case "2026-W43":
			wantWeek += time.Hour
		}
		require.Equal(t, wantWeek, cs[0].End().Sub(cs[0].Start()), "%s: week length", tc.name)
		require.Equal(t, tc.monthHours*time.Hour, cs[1].End().Sub(cs[1].Start()), "%s: month length", tc.name)
		require.Equal(t, 1, cs[1].Start().In(malta).Day(), tc.name)
		require.True(t, cs[2].Start().IsZero() && cs[2].End().IsZero(), "%s: a lifetime has no bounds", tc.name)
		for _, c := range cs[:2] {
			require.False(t, tc.at.Before(c.Start()), "%s: %s holds the event", tc.name, c.Counter())
			require.True(t, tc.at.Before(c.End()), "%s: %s holds the event", tc.name, c.Counter())
		}
	}
}

// TestCaps_WhatCounts: each rule of which events count against which caps, with its reason
// code.
func TestCaps_WhatCounts(t *testing.T) {
	t.Parallel()
	eur := attribution.Cap{Name: "eur_deposits", Events: []event.Type{event.FTD, event.Deposit}, Scope: attribution.CapPerAffiliate,
		Period: attribution.CapMonth, Amount: money.MustParse("1000.00", money.EUR), Over: attribution.CapUnpaid}
	all := attribution.Cap{Name: "all", Scope: attribution.CapPerCampaign, Period: attribution.CapLifetime, Count: 1000, Over: attribution.CapHold}
	d := decider(t, capped(dailyFTDs(attribution.CapReject), eur, all))
	at := time.Date(2026, 5, 5, 12, 0, 0, 0, time.UTC)
	type change func(*attribution.Input)
	for _, tc := range []struct {
		name   string
		change change
		code   attribution.Code
		status event.Status
		want   map[string]int64 // cap name → delta
	}{
		{"an approved FTD counts against all three, its amount in minor units", func(*attribution.Input) {},
			attribution.CodeClick, event.StatusApproved, map[string]int64{"daily_ftd": 1, "eur_deposits": 5000, "all": 1}},
		{"a pending FTD keeps its place too", func(in *attribution.Input) { in.Conversion.Status = event.StatusPending },
			attribution.CodeClick, event.StatusPending, map[string]int64{"daily_ftd": 1, "eur_deposits": 5000, "all": 1}},
		{"a deposit: not an FTD", func(in *attribution.Input) { in.Conversion.Event = event.Deposit },
			attribution.CodeClick, event.StatusApproved, map[string]int64{"eur_deposits": 5000, "all": 1}},
		{"a registration: no amount cap of its type, the catch-all cap", func(in *attribution.Input) {
			in.Conversion.Event, in.Conversion.Amount = event.Registration, money.Amount{}
		}, attribution.CodeClick, event.StatusApproved, map[string]int64{"all": 1}},
		{"a reversal counts against no cap, not even one of every event", func(in *attribution.Input) { in.Conversion.Event = event.Reversal },
			attribution.CodeParkedReversal, event.StatusReversed, nil},
		{"an FTD without an amount adds nothing to the amount cap", func(in *attribution.Input) { in.Conversion.Amount = money.Amount{} },
			attribution.CodeClick, event.StatusApproved, map[string]int64{"daily_ftd": 1, "all": 1}},
		{"a zero amount in another currency adds nothing either", func(in *attribution.Input) { in.Conversion.Amount = money.New(0, money.USD) },
			attribution.CodeClick, event.StatusApproved, map[string]int64{"daily_ftd": 1, "all": 1}},
		{"rejected by its window: counts against none", func(in *attribution.Input) { in.Click.CreatedAt = at.AddDate(0, -2, 0) },
			attribution.CodeWindowExpired, event.StatusRejected, nil},
		{"rejected by the sender: counts against none", func(in *attribution.Input) { in.Conversion.Status = event.StatusRejected },
			attribution.CodeClick, event.StatusRejected, nil},
		{"unattributed: counts against none", func(in *attribution.Input) { in.Click, in.Conversion.ClickID = nil, [16]byte{} },
			attribution.CodeNoClick, event.StatusApproved, nil},
		{"refused: counts against none", func(in *attribution.Input) { in.Conversion.TransactionID = "" },
			attribution.CodeMissingTransactionID, event.StatusRejected, nil},
		{"another currency: over the amount cap without the store, its policy (unpaid), and counts against none",
			func(in *attribution.Input) { in.Conversion.Amount = money.MustParse("50.00", money.USD) },
			attribution.CodeCapCurrency, event.StatusApproved, nil},
		{"a campaign without caps: none", func(in *attribution.Input) { in.Click.CampaignID = "nocaps" },
			attribution.CodeClick, event.StatusApproved, nil},
		{"a status update of a stored conversion: it counted when recorded", func(in *attribution.Input) {
			in.Original = &store.Conversion{AffiliateID: "aff-1", CampaignID: "casino", Status: event.StatusPending, Event: event.FTD}
		}, attribution.CodeStatusChanged, event.StatusApproved, nil},
		{"a reversal before its original: parked, counts against none", func(in *attribution.Input) {
			in.Conversion.Status = event.StatusReversed
		}, attribution.CodeParkedReversal, event.StatusReversed, nil},
	} {
		in := capFTD("casino", "aff-1", at)
		tc.change(&in)
		dec := d.Decide(&in)
		require.Equal(t, tc.code, dec.Code, "%s: %s", tc.name, dec.Reason())
		require.Equal(t, tc.status, dec.Status, tc.name)
		got := map[string]int64{}
		for _, c := range counts(dec) {
			got[c.Name()] = c.Delta()
		}
		if tc.want == nil {
			tc.want = map[string]int64{}
		}
		require.Equal(t, tc.want, got, tc.name)
		incs := dec.Increments(nil)
		require.Len(t, incs, len(tc.want), "%s: an increment per cap counted", tc.name)
		for i, c := range counts(dec) {
			require.Equal(t, store.Increment{Counter: c.Counter(), Delta: c.Delta(), Limit: c.Limit()}, incs[i], tc.name)
			require.NoError(t, incs[i].Validate(), tc.name)
		}
	}

	// Another currency: the cap's policy, with the cap's verdict and the attribution's sentence.
	in := capFTD("casino", "aff-1", at)
	in.Conversion.Amount = money.MustParse("50.00", money.USD)
	dec := d.Decide(&in)
	require.True(t, dec.Unpaid, "rule: the unpaid policy records the event unpaid")
	require.True(t, dec.Attributed(), "rule: an unpaid event is still credited")
	require.Equal(t, "P-1", dec.Binding.PlayerID, "rule: an unpaid event binds its player")
	require.Len(t, dec.Verdicts, 1)
	require.Equal(t, attribution.Verdict{Action: attribution.Flag, Code: attribution.CodeCapCurrency, Reason: dec.Verdicts[0].Reason}, dec.Verdicts[0])
	require.Contains(t, dec.Verdicts[0].Reason, `cap "eur_deposits"`)
	require.Contains(t, dec.Verdicts[0].Reason, "50.00 USD")
	require.Contains(t, dec.Reason(), "by last_click, unpaid: last_click click", "rule: the sentence still says how the event was attributed")
	_, ok := dec.OverCap("cap:daily_ftd:aff=aff-1:day=2026-05-05")
	require.False(t, ok, "rule: an event over a cap already counts against none, so no counter of it can be over")

	// The most severe policy among the caps that cannot measure the event decides.
	usd := eur
	usd.Name, usd.Over = "usd_strict", attribution.CapReject
	usd.Events = []event.Type{event.FTD}
	d2 := decider(t, capped(eur, usd))
	in = capFTD("casino", "aff-1", at)
	in.Conversion.Amount = money.MustParse("50.00", money.USD)
	dec = d2.Decide(&in)
	require.Equal(t, event.StatusRejected, dec.Status, "rule: reject beats unpaid")
	require.Equal(t, attribution.CodeCapCurrency, dec.Code)
	require.False(t, dec.Unpaid)
	require.Empty(t, dec.Binding.PlayerID, "rule: a rejected event binds nobody")
	require.Contains(t, dec.Reason(), `not credited: last_click click`)
	require.Contains(t, dec.Reason(), `reject (cap_currency): cap "usd_strict"`)
}

// TestCaps_Counters: a counter's name encodes the cap, scope and bucket, escaped, so that no
// two distinct ones meet, and stays within store.MaxCounterLen.
func TestCaps_Counters(t *testing.T) {
	t.Parallel()
	per := func(s attribution.CapScope, p attribution.CapPeriod) attribution.Cap {
		return attribution.Cap{Name: string(s) + "." + string(p), Scope: s, Period: p, Count: 1, Over: attribution.CapReject}
	}
	var caps []attribution.Cap
	for _, s := range []attribution.CapScope{attribution.CapPerAffiliate, attribution.CapPerCampaign, attribution.CapPerAffiliateCampaign} {
		for _, p := range []attribution.CapPeriod{attribution.CapDay, attribution.CapMonth} {
			caps = append(caps, per(s, p))
		}
	}
	cfg := attribution.Config{Default: attribution.Rules{Caps: caps}}
	d := decider(t, cfg)
	at := time.Date(2026, 5, 5, 12, 0, 0, 0, time.UTC)
	long := strings.Repeat("é:", store.MaxKeyLen/3)
	seen := map[string]string{}
	for _, ids := range [][2]string{
		{"a", "b"}, {"a:camp=b", ""}, {"a%3Acamp%3Db", ""}, {"a", "b:day=2026-05-05"}, {"a:", "b"}, {"a", ":b"},
		{"a=b", "c"}, {"a", "=b:c"}, {"#x", "y"}, {"%23x", "y"}, {"x", ""}, {"x", "#"},
		{long, "c"}, {long + "x", "c"}, {"c", long}, {long, long},
	} {
		in := capFTD(ids[1], ids[0], at)
		dec := d.Decide(&in)
		require.True(t, dec.Attributed(), "%q: %s", ids, dec.Reason())
		for _, c := range counts(dec) {
			name := c.Counter()
			require.NoError(t, store.CheckCounter(name), "%q", ids)
			require.LessOrEqual(t, len(name), 512, "%q: a name stays well within MaxCounterLen", ids)
			require.Equal(t, name, string(c.AppendCounter([]byte{})), "rule: Counter is AppendCounter")
			require.True(t, strings.HasPrefix(name, "cap:"+c.Name()+":"), name)
			// The same counter may only come from the same cap, affiliate (for scopes with one)
			// and campaign (likewise).
			cp := caps[slicesIndex(caps, c.Name())]
			who := c.Name()
			if cp.Scope != attribution.CapPerCampaign {
				who += "|aff=" + ids[0]
			}
			if cp.Scope != attribution.CapPerAffiliate {
				who += "|camp=" + ids[1]
			}
			if prev, dup := seen[name]; dup {
				require.Equal(t, prev, who, "rule: counter %s is one scope's only", name)
			}
			seen[name] = who
		}
	}
	in := capFTD("c", long, at)
	dec := d.Decide(&in)
	require.Contains(t, counts(dec)[0].Counter(), "cap:affiliate.day:aff=#", "rule: a long ID is written as its hash")
	in = capFTD("c:d", "a=b%", at)
	dec = d.Decide(&in)
	require.Equal(t, "cap:affiliate_campaign.day:aff=a%3Db%25:camp=c%3Ad:day=2026-05-05", counts(dec)[4].Counter())
}

func slicesIndex(caps []attribution.Cap, name string) int {
	for i := range caps {
		if caps[i].Name == name {
			return i
		}
	}
	return -1
}

// TestDecision_OverCap: the decision to record instead when the store says a cap's counter
// is full, by policy.
func TestDecision_OverCap(t *testing.T) {
	t.Parallel()
	monthly := attribution.Cap{Name: "monthly", Events: []event.Type{event.FTD}, Scope: attribution.CapPerCampaign,
		Period: attribution.CapMonth, Count: 100, Over: attribution.CapReject}
	at := time.Date(2026, 5, 5, 12, 0, 0, 0, time.UTC)
	daily := "cap:daily_ftd:aff=aff-1:day=2026-05-05"
	for _, tc := range []struct {
		over   attribution.CapPolicy
		status event.Status
		action attribution.Action
		unpaid bool
		bound  bool
	}{
		{attribution.CapReject, event.StatusRejected, attribution.Reject, false, false},
		{attribution.CapUnpaid, event.StatusApproved, attribution.Flag, true, true},
		{attribution.CapHold, event.StatusPending, attribution.Hold, false, true},
	} {
		d := decider(t, capped(dailyFTDs(tc.over), monthly))
		in := capFTD("casino", "aff-1", at)
		dec := d.Decide(&in)
		require.Equal(t, []string{daily, "cap:monthly:camp=casino:month=2026-05"}, counterNames(dec))

		_, ok := dec.OverCap("cap:weekly:aff=aff-1:week=2026-W19")
		require.False(t, ok, "%s: rule: a counter that is none of the decision's caps is not its business", tc.over)
		over, ok := dec.OverCap(daily)
		require.True(t, ok, tc.over)
		require.Equal(t, attribution.CodeCapReached, over.Code, tc.over)
		require.Equal(t, tc.status, over.Status, tc.over)
		require.Equal(t, tc.unpaid, over.Unpaid, tc.over)
		require.Equal(t, tc.bound, over.Binding.PlayerID != "", "%s: binding", tc.over)
		require.Equal(t, "aff-1", over.AffiliateID, "%s: the decision names the affiliate", tc.over)
		require.Equal(t, dec.DedupKey(), over.DedupKey(), "%s: rule: the same event, the same key", tc.over)
		require.Empty(t, over.Increments(nil), "%s: rule: an event over a cap counts against none", tc.over)
		require.Empty(t, over.AppendCapCounts(nil), tc.over)
		_, ok = over.OverCap(daily)
		require.False(t, ok, "%s: rule: nothing left to be over", tc.over)
		require.Len(t, over.Verdicts, 1, tc.over)
		require.Equal(t, tc.action, over.Verdicts[0].Action, tc.over)
		require.Equal(t, attribution.CodeCapReached, over.Verdicts[0].Code, tc.over)
		require.Contains(t, over.Reason(), "last_click click", "%s: the sentence still says how it was attributed", tc.over)
		require.Contains(t, over.Reason(), `cap "daily_ftd" (10 events of [ftd] per day, per affiliate) reached`, tc.over)
		require.Contains(t, over.Reason(), daily, "%s: the sentence names the counter", tc.over)
		require.Empty(t, dec.Verdicts, "%s: rule: OverCap leaves the decision it was called on as it was", tc.over)
		require.Equal(t, attribution.CodeClick, dec.Code, tc.over)

		c := in.Conversion
		c.ID = uuid.New()
		over.Apply(&c)
		require.NoError(t, c.Validate(), tc.over)
		require.Equal(t, "cap_reached", c.Decision.Code, "%s: the stored code says why", tc.over)
		require.Equal(t, tc.status, c.Status, tc.over)

		// The other cap's counter decides for its own policy.
		over, ok = dec.OverCap("cap:monthly:camp=casino:month=2026-05")
		require.True(t, ok)
		require.Equal(t, event.StatusRejected, over.Status, "%s: the monthly cap rejects", tc.over)
	}
}

// TestCaps_WithFraudRules: a cap's verdict meets the fraud rules' on one decision: the most
// severe decides the status and code, an unpaid event's code is the cap's over a mere flag,
// and an event a rule rejects counts against no cap.
func TestCaps_WithFraudRules(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 5, 5, 12, 0, 0, 0, time.UTC)
	daily := "cap:daily_ftd:aff=aff-1:day=2026-05-05"
	for _, tc := range []struct {
		name   string
		fraud  attribution.Action // on an FTD an hour after its click, "too fast" under a 2h minimum
		over   attribution.CapPolicy
		status event.Status
		code   attribution.Code
		unpaid bool
	}{
		{"flagged, then unpaid: the cap's code", attribution.Flag, attribution.CapUnpaid, event.StatusApproved, attribution.CodeCapReached, true},
		{"held, then unpaid: held, the hold's code, unpaid", attribution.Hold, attribution.CapUnpaid, event.StatusPending, attribution.CodeTooFast, true},
		{"held, then rejected by the cap", attribution.Hold, attribution.CapReject, event.StatusRejected, attribution.CodeCapReached, false},
		{"flagged, then held by the cap", attribution.Flag, attribution.CapHold, event.StatusPending, attribution.CodeCapReached, false},
	} {
		cfg := capped(dailyFTDs(tc.over))
		cfg.Campaigns[0].Fraud = attribution.Fraud{FTD: attribution.TimeToConvert{Min: attribution.Exactly(2 * time.Hour), TooFast: tc.fraud}}
		d := decider(t, cfg)
		in := capFTD("casino", "aff-1", at)
		dec := d.Decide(&in)
		require.Equal(t, attribution.CodeTooFast, dec.Code, "%s: %s", tc.name, dec.Reason())
		require.Equal(t, []string{daily}, counterNames(dec), "%s: a flagged or held event counts", tc.name)
		over, ok := dec.OverCap(daily)
		require.True(t, ok, tc.name)
		require.Equal(t, tc.status, over.Status, tc.name)
		require.Equal(t, tc.code, over.Code, tc.name)
		require.Equal(t, tc.unpaid, over.Unpaid, tc.name)
		require.Len(t, over.Verdicts, 2, "%s: both verdicts are kept", tc.name)
		require.Contains(t, over.Reason(), "last_click click", "%s: the sentence starts with the attribution", tc.name)
		require.Empty(t, over.Increments(nil), tc.name)
	}
	cfg := capped(dailyFTDs(attribution.CapUnpaid))
	cfg.Campaigns[0].Fraud = attribution.Fraud{FTD: attribution.TimeToConvert{Min: attribution.Exactly(2 * time.Hour), TooFast: attribution.Reject}}
	in := capFTD("casino", "aff-1", at)
	dec := decider(t, cfg).Decide(&in)
	require.Equal(t, event.StatusRejected, dec.Status)
	require.Empty(t, dec.Increments(nil), "rule: an event a rule rejects counts against no cap")
}
