package attribution_test

import (
	"testing"
	"time"

	"github.com/s2skit/s2s/attribution"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/store"
)

// Sinks keep the compiler from removing what the benchmarks compute.
var (
	sinkBool     bool
	sinkDecision attribution.Decision
	sinkBytes    []byte
	sinkString   string
	sinkIncs     []store.Increment
)

// benchInputs returns the inputs of the benchmarks: a last-click FTD with its click in hand,
// and a deposit of a player bound for life.
func benchInputs() (lastClick, lifetime attribution.Input) {
	k := click(1, "aff-1", "casino", t0)
	lastClick = ftd(&k, t0.Add(48*time.Hour))
	lifetime = ftd(nil, t0.AddDate(0, 1, 0))
	lifetime.Conversion.Event = event.Deposit
	lifetime.Binding = &store.PlayerBinding{PlayerID: "P-1", AffiliateID: "aff-1", CampaignID: "casino", ClickID: k.ID,
		Method: store.BindByClick, BoundAt: t0.Add(time.Hour)}
	return lastClick, lifetime
}

// BenchmarkDecide: the two common decisions, beside a baseline of the hand-written window
// check (the click's time plus 30 calendar days in the zone) that a tracker without the
// package would do, and the cost of one cap: deciding, then the cap's bucket and counter
// name into the caller's buffer (0 allocations), then the store.Increment (its name is the
// one allocation).
func BenchmarkDecide(b *testing.B) {
	malta := zone(b, "Europe/Malta")
	last, life := benchInputs()
	b.Run("baseline_window_check", func(b *testing.B) {
		b.ReportAllocs()
		k, at := last.Click.CreatedAt, last.Conversion.OccurredAt
		for b.Loop() {
			end := k.In(malta).AddDate(0, 0, 30)
			sinkBool = !at.Before(k) && !at.After(end)
		}
	})
	d := decider(b, casino())
	b.Run("last_click_ftd", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkDecision = d.Decide(&last)
		}
	})
	b.Run("lifetime_deposit", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkDecision = d.Decide(&life)
		}
	})
	dc := decider(b, capped(dailyFTDs(attribution.CapUnpaid)))
	b.Run("last_click_ftd_one_cap", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkDecision = dc.Decide(&last)
		}
	})
	b.Run("last_click_ftd_one_cap_counter", func(b *testing.B) {
		b.ReportAllocs()
		var counts [attribution.MaxCaps]attribution.CapCount
		var name [256]byte
		for b.Loop() {
			dec := dc.Decide(&last)
			for _, c := range dec.AppendCapCounts(counts[:0]) {
				sinkBytes = c.AppendCounter(name[:0])
			}
		}
	})
	b.Run("last_click_ftd_one_cap_increments", func(b *testing.B) {
		b.ReportAllocs()
		incs := make([]store.Increment, 0, attribution.MaxCaps)
		for b.Loop() {
			dec := dc.Decide(&last)
			sinkIncs = dec.Increments(incs[:0])
		}
	})
}
