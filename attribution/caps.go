package attribution

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/store"
)

// MaxCaps is the most caps one campaign's Rules may have: the caps an event counts against
// fit a caller's fixed array ([Decision.AppendCapCounts]), and an over-cap decision is
// re-recorded at most once per write.
const MaxCaps = 8

// maxCapName is the longest cap name, in bytes.
const maxCapName = 64

// The reason codes of caps.
const (
	// CodeCapReached: the event would take one of its caps past its limit (the store said
	// so: store.ErrLimit), and the cap's policy (Cap.Over) decided: rejected, held (pending)
	// or recorded unpaid (Decision.Unpaid). Decision.OverCap makes such decisions.
	CodeCapReached Code = "cap_reached"
	// CodeCapCurrency: the event's amount is in another currency than one of its amount
	// caps, which therefore cannot measure it; it is treated as over that cap, and the cap's
	// policy decided. Amounts are never converted: configure a cap per currency the
	// campaign's events come in, each with the event types it counts.
	CodeCapCurrency Code = "cap_currency"
)

// Cap limits what a campaign credits in a period: at most Count events, or events of at
// most Amount in all, per day, ISO week, month or lifetime, per affiliate, campaign or both.
// See the package doc, # Caps, for how it is counted and enforced.
type Cap struct {
	// Name names the cap in its counters and reasons: required, 1 to 64 bytes of ASCII
	// letters, digits, '_', '-' and '.', unique among a campaign's caps. Caps of scope
	// CapPerAffiliate that share a name share the affiliate's counters across campaigns.
	Name string `json:"name"`
	// Events are the event types the cap counts (event.FTD for "10 FTDs a day"); empty is
	// every event type but reversals, which undo events and count against no cap.
	Events []event.Type `json:"events,omitempty"`
	// Scope says whose events share a counter: the affiliate's, the campaign's, or the
	// affiliate's in the campaign.
	Scope CapScope `json:"scope"`
	// Period is the length of a counter's life: a calendar day, an ISO week (from Monday) or
	// a calendar month in the campaign's zone (Rules.Zone), or the lifetime.
	Period CapPeriod `json:"period"`
	// Count, for a count cap, is the most events the cap credits in a period. Exactly one of
	// Count and Amount is set.
	Count int64 `json:"count,omitempty"`
	// Amount, for an amount cap, is the most the events' amounts may add up to in a period,
	// exactly, in its currency: an event in another currency is not measured but treated as
	// over the cap (CodeCapCurrency). An event without an amount adds nothing.
	Amount money.Amount `json:"amount,omitzero"`
	// Over is what becomes of an event over the cap.
	Over CapPolicy `json:"over"`
}

// CapScope says whose events share a cap's counter.
type CapScope string

// The scopes.
const (
	// CapPerAffiliate counts each affiliate's events, in every campaign whose rules have a
	// cap of that name.
	CapPerAffiliate CapScope = "affiliate"
	// CapPerCampaign counts the campaign's events, all affiliates together: a campaign
	// budget. A cap of the default rules counts each campaign it applies to on its own.
	CapPerCampaign CapScope = "campaign"
	// CapPerAffiliateCampaign counts each affiliate's events in the campaign.
	CapPerAffiliateCampaign CapScope = "affiliate_campaign"
)

// CapPeriod is how long a cap's counter lives: the bucket an event counts in.
type CapPeriod string

// The periods. Buckets are calendar periods in the campaign's zone, by the event time
// (Decision.EventTime), so a day of 23 or 25 hours (a DST change) is one bucket.
const (
	CapDay      CapPeriod = "day"      // the calendar day
	CapWeek     CapPeriod = "week"     // the ISO 8601 week, Monday to Sunday, of its ISO year
	CapMonth    CapPeriod = "month"    // the calendar month
	CapLifetime CapPeriod = "lifetime" // one counter for ever
)

// CapPolicy is what becomes of an event over a cap.
type CapPolicy string

// The policies.
const (
	// CapReject records the event rejected (CodeCapReached): nobody is credited.
	CapReject CapPolicy = "reject"
	// CapUnpaid records the event credited, with its status, but unpaid (Decision.Unpaid):
	// the affiliate sees the player, the commission step pays nothing for the event.
	CapUnpaid CapPolicy = "unpaid"
	// CapHold records the event pending, for an operator to review.
	CapHold CapPolicy = "hold"
)

// action returns the Action of a policy's verdict: Reject, Hold, or Flag for an unpaid
// event, which goes through.
func (p CapPolicy) action() Action {
	switch p {
	case CapReject:
		return Reject
	case CapHold:
		return Hold
	}
	return Flag
}

// isAmount reports whether c is an amount cap (one that sets Amount at all).
func (c *Cap) isAmount() bool { return c.Amount != (money.Amount{}) }

// limit returns the cap's limit in its unit: a count, or minor units.
func (c *Cap) limit() int64 {
	if c.isAmount() {
		return c.Amount.Minor()
	}
	return c.Count
}

// counts reports whether the cap counts events of type t.
func (c *Cap) counts(t event.Type) bool {
	if len(c.Events) == 0 {
		return t != event.Reversal
	}
	return slices.Contains(c.Events, t)
}

// describe returns a short description for reasons: `cap "daily" (10 a day per affiliate)`.
func (c *Cap) describe() string {
	of := strconv.FormatInt(c.Count, 10) + " events"
	if c.isAmount() {
		of = c.Amount.String()
	}
	if len(c.Events) > 0 {
		of += " of " + fmt.Sprint(c.Events)
	}
	return fmt.Sprintf("cap %q (%s per %s, per %s)", c.Name, of, c.Period, c.Scope)
}

func (c *Cap) validate(v *validator, path string) {
	switch {
	case c.Name == "":
		v.fail(path+".name", "empty")
	case len(c.Name) > maxCapName:
		v.fail(path+".name", "%d bytes, at most %d", len(c.Name), maxCapName)
	default:
		for i := range len(c.Name) {
			if b := c.Name[i]; !('a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == '_' || b == '-' || b == '.') {
				v.fail(path+".name", "%q: want ASCII letters, digits, '_', '-' and '.'", c.Name)
				break
			}
		}
	}
	for i, t := range c.Events {
		f := fmt.Sprintf("%s.events[%d]", path, i)
		v.key(f, string(t), true)
		if t == event.Reversal {
			v.fail(f, "reversals undo events and count against no cap")
		}
		if j := slices.Index(c.Events[:i], t); j >= 0 {
			v.fail(f, "duplicates events[%d]", j)
		}
	}
	switch c.Scope {
	case CapPerAffiliate, CapPerCampaign, CapPerAffiliateCampaign:
	default:
		v.fail(path+".scope", "unknown scope %q (want %q, %q or %q)", c.Scope, CapPerAffiliate, CapPerCampaign, CapPerAffiliateCampaign)
	}
	switch c.Period {
	case CapDay, CapWeek, CapMonth, CapLifetime:
	default:
		v.fail(path+".period", "unknown period %q (want %q, %q, %q or %q)", c.Period, CapDay, CapWeek, CapMonth, CapLifetime)
	}
	switch {
	case c.Count != 0 && c.isAmount():
		v.fail(path, "both count and amount are set: a cap counts events or adds up amounts, not both")
	case c.isAmount() && !c.Amount.Currency().Valid():
		v.fail(path+".amount", "an amount cap needs a currency")
	case c.isAmount() && c.Amount.Sign() <= 0:
		v.fail(path+".amount", "%s: want a positive limit", c.Amount)
	case c.Count < 0:
		v.fail(path+".count", "%d: want a positive limit", c.Count)
	case !c.isAmount() && c.Count == 0:
		v.fail(path, "set count (a count cap) or amount (an amount cap)")
	}
	switch c.Over {
	case CapReject, CapUnpaid, CapHold:
	default:
		v.fail(path+".over", "unknown policy %q (want %q, %q or %q)", c.Over, CapReject, CapUnpaid, CapHold)
	}
}

// validateCaps checks the caps of one Rules.
func validateCaps(v *validator, path string, caps []Cap) {
	if len(caps) > MaxCaps {
		v.fail(path+".caps", "%d caps, at most %d", len(caps), MaxCaps)
	}
	for i := range caps {
		f := fmt.Sprintf("%s.caps[%d]", path, i)
		caps[i].validate(v, f)
		for j := range i {
			if caps[j].Name == caps[i].Name {
				v.fail(f+".name", "%q duplicates %s.caps[%d]", caps[i].Name, path, j)
			}
		}
	}
}

// validateSharedCaps checks that caps of scope CapPerAffiliate sharing a name and period
// across the campaigns, whose counters are one, measure alike: the same events, count or
// amount. Their policies may differ.
func (c *Config) validateSharedCaps(v *validator) {
	type seen struct {
		path string
		cap  *Cap
	}
	first := map[string]seen{}
	visit := func(path string, caps []Cap) {
		for i := range caps {
			cp := &caps[i]
			if cp.Scope != CapPerAffiliate {
				continue
			}
			f := fmt.Sprintf("%s.caps[%d]", path, i)
			key := cp.Name + "\x00" + string(cp.Period)
			s, ok := first[key]
			if !ok {
				first[key] = seen{f, cp}
				continue
			}
			if !slices.Equal(s.cap.Events, cp.Events) || s.cap.Count != cp.Count || s.cap.Amount != cp.Amount {
				v.fail(f, "cap %q per affiliate shares its counters with %s: give it the same events, count and amount", cp.Name, s.path)
			}
		}
	}
	visit("default", c.Default.Caps)
	for i := range c.Campaigns {
		visit(fmt.Sprintf("campaigns[%d]", i), c.Campaigns[i].Caps)
	}
}

// cloneCaps returns a deep copy of caps.
func cloneCaps(caps []Cap) []Cap {
	caps = slices.Clone(caps)
	for i := range caps {
		caps[i].Events = slices.Clone(caps[i].Events)
	}
	return caps
}

// CapCount is one cap an event counts against, and its bucket: a small value, computed
// without allocating ([Decision.AppendCapCounts]). Its counter's name is built only when
// asked for (Counter, AppendCounter, Increment).
type CapCount struct {
	rules       *rules
	cap         uint8 // index in rules.Caps
	a, b        uint8 // day: month and day; week: ISO week; month: month
	year        int32 // the bucket's (ISO, for a week) year
	affiliateID string
	campaignID  string
	delta       int64
}

// capOf returns the cap c counts against.
func (c *CapCount) capOf() *Cap { return &c.rules.Caps[c.cap] }

// Name returns the cap's name.
func (c CapCount) Name() string { return c.capOf().Name }

// Delta returns what the event adds to the counter: 1 for a count cap, the amount in minor
// units for an amount cap.
func (c CapCount) Delta() int64 { return c.delta }

// Limit returns the cap's limit, in the counter's unit: its Count, or its Amount in minor
// units.
func (c CapCount) Limit() int64 { return c.capOf().limit() }

// Increment returns the store.Increment that counts the event: the counter, Delta and Limit.
// It allocates the counter's name.
func (c CapCount) Increment() store.Increment {
	return store.Increment{Counter: c.Counter(), Delta: c.delta, Limit: c.capOf().limit()}
}

// Counter returns the name of the cap's counter for the bucket (see AppendCounter).
func (c CapCount) Counter() string {
	var buf [counterBuf]byte
	return string(c.AppendCounter(buf[:0]))
}

// counterBuf is the room a counter's name needs: "cap:" and the name, two identifiers of
// at most maxEscaped bytes with their labels, and the longest bucket.
const counterBuf = 4 + maxCapName + 2*(6+maxEscaped) + 24

// maxEscaped is the longest an identifier is written in a counter's name: one whose escaped
// form is longer is written as "#" and the hex SHA-256 of the identifier.
const maxEscaped = 128

// AppendCounter appends the name of the cap's counter for the bucket to b, such as
//
//	cap:daily_ftd:aff=A-17:day=2026-03-29
//	cap:budget:camp=casino:week=2026-W53
//	cap:vip:aff=A-17:camp=casino:month=2026-03
//	cap:first_100:camp=casino:life
//
// The affiliate and campaign IDs are escaped ('%', ':', '=' and '#' as %XX), so that no two
// scopes, IDs or buckets give one name; an ID whose escaped form is longer than 128 bytes is
// written as "#" and its SHA-256 in hex instead, so that a name stays well within
// store.MaxCounterLen. The "cap:" names are attribution's: give other counters other
// prefixes.
func (c CapCount) AppendCounter(b []byte) []byte {
	cp := c.capOf()
	b = append(b, "cap:"...)
	b = append(b, cp.Name...)
	switch cp.Scope {
	case CapPerAffiliate:
		b = appendID(append(b, ":aff="...), c.affiliateID)
	case CapPerCampaign:
		b = appendID(append(b, ":camp="...), c.campaignID)
	case CapPerAffiliateCampaign:
		b = appendID(append(b, ":aff="...), c.affiliateID)
		b = appendID(append(b, ":camp="...), c.campaignID)
	}
	switch cp.Period {
	case CapDay:
		b = appendYear(append(b, ":day="...), c.year)
		b = append2(append(b, '-'), c.a)
		b = append2(append(b, '-'), c.b)
	case CapWeek:
		b = appendYear(append(b, ":week="...), c.year)
		b = append2(append(b, "-W"...), c.a)
	case CapMonth:
		b = appendYear(append(b, ":month="...), c.year)
		b = append2(append(b, '-'), c.a)
	default:
		b = append(b, ":life"...)
	}
	return b
}

// escapes reports the bytes an identifier's escaped form writes as %XX.
func escapes(c byte) bool { return c == '%' || c == ':' || c == '=' || c == '#' }

// appendID appends id, escaped, or "#" and its SHA-256 in hex if that is too long.
func appendID(b []byte, id string) []byte {
	n := len(id)
	for i := range len(id) {
		if escapes(id[i]) {
			n += 2
		}
	}
	if n > maxEscaped {
		sum := sha256.Sum256([]byte(id))
		b = append(b, '#')
		return hex.AppendEncode(b, sum[:])
	}
	const digits = "0123456789ABCDEF"
	for i := range len(id) {
		if c := id[i]; escapes(c) {
			b = append(b, '%', digits[c>>4], digits[c&15])
		} else {
			b = append(b, c)
		}
	}
	return b
}

// appendYear appends y with at least four digits.
func appendYear(b []byte, y int32) []byte {
	if y < 0 {
		b = append(b, '-')
		y = -y
	}
	for p := int32(1000); p > 1 && y < p; p /= 10 {
		b = append(b, '0')
	}
	return strconv.AppendInt(b, int64(y), 10)
}

// append2 appends n with two digits.
func append2(b []byte, n uint8) []byte { return append(b, '0'+n/10, '0'+n%10) }

// Start returns the first instant of the bucket, in the campaign's zone: its midnight
// (or, on a day whose midnight the clocks skip, the instant they skip to); the zero time
// for a lifetime cap.
func (c CapCount) Start() time.Time {
	loc := c.rules.loc
	y := int(c.year)
	switch c.capOf().Period {
	case CapDay:
		return midnight(y, time.Month(c.a), int(c.b), loc)
	case CapWeek:
		return midnight(y, time.January, isoMonday(y, int(c.a)), loc)
	case CapMonth:
		return midnight(y, time.Month(c.a), 1, loc)
	}
	return time.Time{}
}

// End returns the first instant after the bucket: the next bucket's Start; the zero time
// for a lifetime cap. A day bucket is End-Start long: 24 hours, or 23 or 25 on the days
// the clocks change.
func (c CapCount) End() time.Time {
	loc := c.rules.loc
	y := int(c.year)
	switch c.capOf().Period {
	case CapDay:
		return midnight(y, time.Month(c.a), int(c.b)+1, loc)
	case CapWeek:
		return midnight(y, time.January, isoMonday(y, int(c.a))+7, loc)
	case CapMonth:
		return midnight(y, time.Month(c.a)+1, 1, loc)
	}
	return time.Time{}
}

// isoMonday returns the day of January (perhaps before the 1st, or after the 31st, which
// time.Date normalises) on which ISO week w of ISO year y begins: the week with 4 January
// in it is week 1.
func isoMonday(y, w int) int {
	wd := (int(time.Date(y, time.January, 4, 0, 0, 0, 0, time.UTC).Weekday()) + 6) % 7 // Monday is 0
	return 4 - wd + (w-1)*7
}

// midnight returns the first instant of the day y-m-d (normalised as time.Date does) in
// loc. time.Date does not say which instant it picks for a wall-clock time that exists twice
// or not at all; this does: the earlier of two, and for a midnight the clocks skip, the
// instant they skip to.
func midnight(y int, m time.Month, d int, loc *time.Location) time.Time {
	wall := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	var best time.Time
	// Real zones change their offset at most once in 72 hours, so the offsets a day and a
	// half either side are the candidates (as in addDays).
	for _, probe := range [2]time.Duration{-36 * time.Hour, 36 * time.Hour} {
		_, off := wall.Add(probe).In(loc).Zone()
		s := wall.Add(-time.Duration(off) * time.Second)
		if _, o := s.In(loc).Zone(); o == off && (best.IsZero() || s.Before(best)) {
			best = s
		}
	}
	if best.IsZero() {
		// Midnight fell in a gap: read with the offset before it, it is an instant after the
		// gap, whose zone began when the day did.
		_, off := wall.Add(-36 * time.Hour).In(loc).Zone()
		best, _ = wall.Add(-time.Duration(off) * time.Second).In(loc).ZoneBounds()
	}
	return best.In(loc)
}

// counting reports whether d counts against its caps at all: a new event (not a status
// change of a stored conversion, which counted when it was recorded), attributed (not
// rejected, nor refused), approved or pending, neither parked nor unpaid nor already over a
// cap, in a campaign with caps.
func (d *Decision) counting() bool {
	return d.rules != nil && len(d.rules.Caps) > 0 && d.Change.IsZero() && d.Attributed() && !d.Park && !d.Unpaid && !d.overCap &&
		(d.Status == event.StatusApproved || d.Status == event.StatusPending)
}

// capCount returns the count of d against cap i of its rules, and whether the event counts
// against it (its type, and for an amount cap an amount in the cap's currency). local is the
// event time in the campaign's zone (localTime), computed once for all the caps.
func (d *Decision) capCount(i int, local time.Time) (CapCount, bool) {
	cp := &d.rules.Caps[i]
	if !cp.counts(d.event) {
		return CapCount{}, false
	}
	cc := CapCount{rules: d.rules, cap: uint8(i), affiliateID: d.AffiliateID, campaignID: d.CampaignID, delta: 1}
	if cp.isAmount() {
		if d.Amount.Sign() <= 0 || d.Amount.Currency() != cp.Amount.Currency() {
			return CapCount{}, false // nothing to add, or another currency (Decide has dealt with it)
		}
		cc.delta = d.Amount.Minor()
	}
	switch cp.Period {
	case CapDay:
		y, m, day := local.Date()
		cc.year, cc.a, cc.b = int32(y), uint8(m), uint8(day)
	case CapWeek:
		y, w := local.ISOWeek()
		cc.year, cc.a = int32(y), uint8(w)
	case CapMonth:
		y, m, _ := local.Date()
		cc.year, cc.a = int32(y), uint8(m)
	}
	return cc, true
}

// localTime returns the event time's wall-clock time in the campaign's zone (as a time in
// UTC), for the caps' buckets: one lookup in the zone's table for all of them.
func (d *Decision) localTime() time.Time { return d.rules.zone.local(d.EventTime) }

// AppendCapCounts appends to dst the caps the event counts against, with their buckets, in
// the order of the campaign's Rules.Caps, and returns the extended slice. It allocates
// nothing if dst has room (at most MaxCaps):
//
//	var buf [attribution.MaxCaps]attribution.CapCount
//	counts := dec.AppendCapCounts(buf[:0])
//
// Only new events that are credited and may be paid count: attributed, approved or pending
// (a pending event keeps its place against its caps, so that approving it later never takes
// a cap past its limit), not parked, not unpaid, and not over one of their caps already
// (OverCap). Rejected and unattributed events count against none, nor does a status change
// of a stored conversion (Decision.Change), which counted when it was recorded.
func (d Decision) AppendCapCounts(dst []CapCount) []CapCount {
	if !d.counting() {
		return dst
	}
	local := d.localTime()
	for i := range d.rules.Caps {
		if cc, ok := d.capCount(i, local); ok {
			dst = append(dst, cc)
		}
	}
	return dst
}

// Increments appends to dst the store.Increments that count the event against its caps,
// with their limits (see AppendCapCounts for which count), and returns the extended slice.
// They go with the record (store.RecordConversionParams.Increments); the store applies them
// atomically, or refuses the whole write with a *store.LimitError naming the counter a cap
// would pass, and then OverCap says what to record instead. The counters' names are the
// only allocations.
func (d Decision) Increments(dst []store.Increment) []store.Increment {
	if !d.counting() {
		return dst
	}
	local := d.localTime()
	for i := range d.rules.Caps {
		if cc, ok := d.capCount(i, local); ok {
			dst = append(dst, cc.Increment())
		}
	}
	return dst
}

// OverCap returns the decision to record instead of d when the store refused d's write
// because counter, one of d's caps (Increments), would pass its limit: the
// store.LimitError's Counter. The cap's policy (Cap.Over) applies: rejected, held pending,
// or recorded unpaid (Unpaid), with Code CodeCapReached and the cap's Verdict. The decision
// returned counts against none of its caps (its Increments are empty): it is not paid as it
// stands. A reviewer who approves a held one later pays it past the cap; no counter
// changes.
//
// OverCap returns d and false if counter is none of d's caps: the limit was another
// counter's (the caller's own, such as a commission tier), which attribution knows nothing
// of.
//
// When several caps are full at once, the store names one of them (stores check in the
// order of the counters' names), and that cap's policy applies: give caps that may be
// reached together the same policy if which one decides matters.
func (d Decision) OverCap(counter string) (Decision, bool) {
	if !d.counting() {
		return d, false
	}
	var buf [counterBuf]byte
	local := d.localTime()
	for i := range d.rules.Caps {
		cc, ok := d.capCount(i, local)
		if !ok || string(cc.AppendCounter(buf[:0])) != counter {
			continue
		}
		cp := cc.capOf()
		d.overrule(cp.Over, CodeCapReached, fmt.Sprintf("%s reached in its bucket (counter %s, limit %d): %s",
			cp.describe(), counter, cp.limit(), policyOutcome(cp.Over)))
		return d, true
	}
	return d, false
}

// policyOutcome says what a policy does, for a reason.
func policyOutcome(p CapPolicy) string {
	switch p {
	case CapReject:
		return "rejected"
	case CapHold:
		return "held for review"
	}
	return "recorded unpaid"
}

// overrule applies a cap's policy to d, as a verdict with code and reason (verdict: the
// most severe verdict decides the status and the code, the sentence keeps the
// attribution's), and d counts against no cap any more. An unpaid event's code is the
// cap's unless a hold or a rejection decided: being unpaid changes what is paid, which a
// flag does not, and the stored code is what tells the commission step.
func (d *Decision) overrule(p CapPolicy, code Code, reason string) {
	worst := Allow
	for _, v := range d.Verdicts {
		worst = max(worst, v.Action)
	}
	d.verdict(Verdict{Action: p.action(), Code: code, Reason: reason})
	d.overCap = true
	if p == CapUnpaid {
		d.Unpaid = true
		if worst == Flag {
			d.Code = code
		}
	}
}

// checkCaps applies, at the end of Decide, what is known without the store: an event whose
// amount is in another currency than one of its amount caps cannot be measured against it,
// and is treated as over it (CodeCapCurrency), under the most severe policy among such
// caps.
func (d *Decision) checkCaps() {
	if !d.counting() || d.Amount.Sign() <= 0 {
		return
	}
	worst := -1
	for i := range d.rules.Caps {
		cp := &d.rules.Caps[i]
		if !cp.isAmount() || !cp.counts(d.event) || cp.Amount.Currency() == d.Amount.Currency() {
			continue
		}
		if worst < 0 || cp.Over.action() > d.rules.Caps[worst].Over.action() {
			worst = i
		}
	}
	if worst < 0 {
		return
	}
	cp := &d.rules.Caps[worst]
	d.overrule(cp.Over, CodeCapCurrency, fmt.Sprintf("%s counts amounts in %s, and the event's %s cannot be measured against it (amounts are never converted): %s",
		cp.describe(), cp.Amount.Currency(), d.Amount, policyOutcome(cp.Over)))
}
