package storetest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/store"
)

// recordTo records a conversion that causes deliveries to endpoint, due at the given times.
func recordTo(t *testing.T, st store.Store, key, endpoint string, dues ...time.Time) []store.Delivery {
	t.Helper()
	p := conversionFor(key, "aff-1", base)
	p.Deliveries = nil
	for _, due := range dues {
		d := newDelivery(p.Conversion.ID, due)
		d.Endpoint = endpoint
		p.Deliveries = append(p.Deliveries, d)
	}
	_, err := st.RecordConversion(ctx(t), p)
	require.NoError(t, err, "rule: a valid RecordConversion succeeds")
	return p.Deliveries
}

// leaseAll leases every delivery due at now, for an hour, by ID.
func leaseAll(t *testing.T, st store.Store, now time.Time, exclude ...string) map[uuid.UUID]store.Lease {
	t.Helper()
	ls, err := st.LeaseDeliveries(ctx(t), store.LeaseParams{Now: now, LeaseFor: time.Hour, Limit: 1000, Exclude: exclude})
	require.NoError(t, err, "rule: a valid LeaseDeliveries succeeds")
	out := make(map[uuid.UUID]store.Lease, len(ls))
	for _, l := range ls {
		out[l.Delivery.ID] = l
	}
	return out
}

// leasedIDs returns the IDs of leases, in their order.
func leasedIDs(ls []store.Lease) []uuid.UUID {
	ids := make([]uuid.UUID, len(ls))
	for i, l := range ls {
		ids[i] = l.Delivery.ID
	}
	return ids
}

// ids returns the IDs of deliveries, in their order.
func ids(ds ...store.Delivery) []uuid.UUID {
	out := make([]uuid.UUID, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	return out
}

// finishedAt returns an attempt of code that finished at finished.
func finishedAt(finished time.Time, code int) store.Attempt {
	return store.Attempt{StartedAt: finished.Add(-time.Second), FinishedAt: finished, StatusCode: code}
}

// recordOutcome records, under lease l, an attempt that finished at finished: delivered, or
// failed (a retry, due an hour after it finished, or dead).
func recordOutcome(t *testing.T, st store.Store, l store.Lease, finished time.Time, status store.DeliveryStatus) store.Delivery {
	t.Helper()
	p := store.RecordAttemptParams{DeliveryID: l.Delivery.ID, Token: l.Token, Attempt: finishedAt(finished, 503), Status: status}
	switch status {
	case store.DeliveryDelivered:
		p.Attempt.StatusCode = 200
	case store.DeliveryPending:
		p.NextAttemptAt = finished.Add(time.Hour)
	}
	d, err := st.RecordAttempt(ctx(t), p)
	require.NoError(t, err, "rule: the lease holder records its attempt")
	return d
}

// endpointIs checks the state of an endpoint.
func endpointIs(t *testing.T, st store.Store, want store.EndpointState, rule string, args ...any) {
	t.Helper()
	got, err := st.GetEndpoint(ctx(t), want.Name)
	require.NoError(t, err, "rule: a valid GetEndpoint succeeds")
	require.Equal(t, want, got, append([]any{"rule: " + rule}, args...)...)
}

// knownEndpoints returns the names ListEndpoints lists, all of them.
func knownEndpoints(t *testing.T, st store.Store) []string {
	t.Helper()
	es, err := st.ListEndpoints(ctx(t), store.ListEndpointsParams{Limit: 1000})
	require.NoError(t, err, "rule: a valid ListEndpoints succeeds")
	names := make([]string, len(es))
	for i, e := range es {
		names[i] = e.Name
	}
	return names
}

func (s suite) endpoints(t *testing.T) {
	t.Run("UnknownIsEnabled", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		endpointIs(t, st, store.EndpointState{Name: "never-seen"}, "an endpoint the store does not know is enabled, with zero times")
		recordTo(t, st, "k1", "only-deliveries", base)
		endpointIs(t, st, store.EndpointState{Name: "only-deliveries"}, "an endpoint with deliveries but no attempt is enabled, with zero times")
		require.Empty(t, knownEndpoints(t, st), "rule: the store knows an endpoint once an attempt was recorded for it or it was disabled, not before")
		for name, bad := range map[string]string{"Empty": "", "NUL": "a\x00b", "BadUTF8": "a\xff", "Newline": "a\n", "TooLong": strings.Repeat("e", store.MaxKeyLen+1)} {
			_, err := st.GetEndpoint(ctx(t), bad)
			require.ErrorIs(t, err, store.ErrInvalid, "rule: a name no endpoint can have (%s) is ErrInvalid", name)
		}
		long := strings.Repeat("é", store.MaxKeyLen/2)
		endpointIs(t, st, store.EndpointState{Name: long}, "a name of MaxKeyLen bytes is a valid endpoint name")
	})
	t.Run("DisableAndEnable", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		disabled := store.EndpointState{Name: "down", Disabled: true, DisabledReason: "410 Gone", DisabledAt: at(time.Minute)}
		got, err := st.DisableEndpoint(ctx(t), store.DisableEndpointParams{Name: "down", Reason: "410 Gone", At: base.Add(time.Minute)})
		require.NoError(t, err, "rule: disabling an enabled endpoint succeeds")
		require.Equal(t, disabled, got, "rule: DisableEndpoint returns the state it stored, its time normalised")
		endpointIs(t, st, disabled, "a disabled endpoint reads back disabled, with its reason and time")
		require.Equal(t, []string{"down"}, knownEndpoints(t, st), "rule: the store knows an endpoint once it was disabled")

		got, err = st.DisableEndpoint(ctx(t), store.DisableEndpointParams{Name: "down", Reason: "failing for 3 days", At: base.Add(time.Hour)})
		require.ErrorIs(t, err, store.ErrDuplicate, "rule: disabling a disabled endpoint is ErrDuplicate")
		require.Equal(t, disabled, got, "rule: a disabled endpoint keeps its first reason and time, and is returned with ErrDuplicate")
		endpointIs(t, st, disabled, "disabling a disabled endpoint again changes nothing")

		enabled := store.EndpointState{Name: "down", EnabledAt: at(2 * time.Hour)}
		got, err = st.EnableEndpoint(ctx(t), store.EnableEndpointParams{Name: "down", At: base.Add(2 * time.Hour)})
		require.NoError(t, err, "rule: enabling a disabled endpoint succeeds")
		require.Equal(t, enabled, got, "rule: an enabled endpoint has no reason and no DisabledAt, and EnabledAt is when it was enabled")
		endpointIs(t, st, enabled, "an enabled endpoint reads back enabled")
		got, err = st.EnableEndpoint(ctx(t), store.EnableEndpointParams{Name: "down", At: base.Add(3 * time.Hour)})
		require.ErrorIs(t, err, store.ErrDuplicate, "rule: enabling an enabled endpoint is ErrDuplicate")
		require.Equal(t, enabled, got, "rule: enabling an enabled endpoint changes nothing and returns its state")

		got, err = st.DisableEndpoint(ctx(t), store.DisableEndpointParams{Name: "down", Reason: "again", At: base.Add(4 * time.Hour)})
		require.NoError(t, err, "rule: disabling a re-enabled endpoint succeeds")
		require.Equal(t, store.EndpointState{Name: "down", Disabled: true, DisabledReason: "again", DisabledAt: at(4 * time.Hour), EnabledAt: at(2 * time.Hour)}, got,
			"rule: disabling again takes the new reason and time, and keeps when it was last enabled")

		got, err = st.EnableEndpoint(ctx(t), store.EnableEndpointParams{Name: "never-disabled", At: base})
		require.ErrorIs(t, err, store.ErrDuplicate, "rule: enabling an endpoint the store does not know (enabled) is ErrDuplicate")
		require.Equal(t, store.EndpointState{Name: "never-disabled"}, got, "rule: enabling an unknown endpoint returns its state, enabled with zero times")
		require.Equal(t, []string{"down"}, knownEndpoints(t, st), "rule: enabling an enabled endpoint changes nothing: the store does not know it")
	})
	t.Run("DisabledNotLeased", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		down := recordTo(t, st, "k1", "down", base.Add(-2*time.Minute), base.Add(-time.Minute))
		up := recordTo(t, st, "k2", "up", base, base.Add(time.Second))
		_, err := st.DisableEndpoint(ctx(t), store.DisableEndpointParams{Name: "down", Reason: "410 Gone", At: base})
		require.NoError(t, err, "rule: disabling an enabled endpoint succeeds")
		late := recordTo(t, st, "k3", "down", base.Add(-3*time.Minute))

		ls, err := st.LeaseDeliveries(ctx(t), store.LeaseParams{Now: base.Add(time.Minute), LeaseFor: time.Minute, Limit: 10})
		require.NoError(t, err, "rule: a valid LeaseDeliveries succeeds")
		require.Equal(t, ids(up...), leasedIDs(ls), "rule: the deliveries of a disabled endpoint are not leased, even due first; the others are")
		for _, d := range append(down, late...) {
			got, err := st.GetDelivery(ctx(t), d.ID)
			require.NoError(t, err, "rule: a valid GetDelivery succeeds")
			require.Equal(t, d.Normalize(), got, "rule: the deliveries of a disabled endpoint stay pending, as they were")
		}

		_, err = st.EnableEndpoint(ctx(t), store.EnableEndpointParams{Name: "down", At: base.Add(time.Minute)})
		require.NoError(t, err, "rule: enabling a disabled endpoint succeeds")
		ls, err = st.LeaseDeliveries(ctx(t), store.LeaseParams{Now: base.Add(time.Minute), LeaseFor: time.Minute, Limit: 10})
		require.NoError(t, err, "rule: a valid LeaseDeliveries succeeds")
		require.Equal(t, ids(late[0], down[0], down[1]), leasedIDs(ls), "rule: the deliveries of an enabled endpoint are due again at once, oldest due first")
	})
	t.Run("WritesWhileDisabled", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		// Endpoint down: a delivery that will be retried, one that will be replayed alone, two
		// that will be replayed together, all leased before down is disabled, and one that
		// waits; endpoint up: one that waits.
		ds := recordTo(t, st, "k1", "down", base.Add(-5*time.Minute), base.Add(-5*time.Minute), base.Add(-5*time.Minute), base.Add(-5*time.Minute))
		retried, replayed, bulk := ds[0], ds[1], ds[2:]
		ls := leaseAll(t, st, base.Add(-5*time.Minute))
		require.Len(t, ls, len(ds), "rule: every due delivery is leased")
		waiting := recordTo(t, st, "k2", "down", base.Add(-4*time.Minute))
		up := recordTo(t, st, "k3", "up", base)
		for _, d := range ds[1:] {
			recordOutcome(t, st, ls[d.ID], base.Add(-4*time.Minute), store.DeliveryDead)
		}
		_, err := st.DisableEndpoint(ctx(t), store.DisableEndpointParams{Name: "down", Reason: "410 Gone", At: base.Add(-3 * time.Minute)})
		require.NoError(t, err, "rule: disabling an enabled endpoint succeeds")

		// While down is disabled: an attempt made under a lease taken before schedules a
		// retry, the dead deliveries are replayed, and a conversion causes a new delivery.
		_, err = st.RecordAttempt(ctx(t), store.RecordAttemptParams{DeliveryID: retried.ID, Token: ls[retried.ID].Token,
			Attempt: finishedAt(base.Add(-3*time.Minute), 503), Status: store.DeliveryPending, NextAttemptAt: base.Add(-2 * time.Minute)})
		require.NoError(t, err, "rule: the lease holder records its attempt, its endpoint disabled since it leased")
		_, err = st.ReplayDelivery(ctx(t), store.ReplayDeliveryParams{DeliveryID: replayed.ID, At: base.Add(-time.Minute)})
		require.NoError(t, err, "rule: a dead delivery of a disabled endpoint is replayed")
		n, err := st.ReplayDeliveries(ctx(t), store.ReplayDeliveriesParams{Endpoint: "down", At: base.Add(-time.Minute)})
		require.NoError(t, err, "rule: the dead deliveries of a disabled endpoint are replayed")
		require.Equal(t, len(bulk), n, "rule: ReplayDeliveries replays every dead delivery of the endpoint")
		late := recordTo(t, st, "k4", "down", base.Add(-6*time.Minute))

		now := base.Add(time.Hour) // every lease before has expired
		require.ElementsMatch(t, ids(up...), slices.Collect(maps.Keys(leaseAll(t, st, now))),
			"rule: a disabled endpoint's deliveries are not leased, whatever wrote them since it was disabled: a retry, a replay, a new delivery")

		_, err = st.EnableEndpoint(ctx(t), store.EnableEndpointParams{Name: "down", At: now})
		require.NoError(t, err, "rule: enabling a disabled endpoint succeeds")
		require.Empty(t, leaseAll(t, st, now, "down"), "rule: the deliveries of an excluded endpoint are not leased, enabled again or not")
		got, err := st.LeaseDeliveries(ctx(t), store.LeaseParams{Now: now, LeaseFor: time.Minute, Limit: 100})
		require.NoError(t, err, "rule: a valid LeaseDeliveries succeeds")
		want := []uuid.UUID{late[0].ID, waiting[0].ID, retried.ID}
		rest := ids(append([]store.Delivery{replayed}, bulk...)...)
		slices.SortFunc(rest, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
		require.Equal(t, append(want, rest...), leasedIDs(got),
			"rule: once its endpoint is enabled, every delivery written while it was disabled is leased, oldest due first, then by ID")
	})
	t.Run("Exclude", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		a := recordTo(t, st, "k1", "a", base, base.Add(2*time.Second))
		b := recordTo(t, st, "k2", "b", base.Add(time.Second), base.Add(3*time.Second))
		const weird = `c "quoted", {braced} \ 'and' NULL` // an array literal's special characters
		c := recordTo(t, st, "k3", weird, base.Add(4*time.Second))
		lease := func(exclude ...string) []uuid.UUID {
			ls, err := st.LeaseDeliveries(ctx(t), store.LeaseParams{Now: base.Add(time.Minute), LeaseFor: time.Minute, Limit: 10, Exclude: exclude})
			require.NoError(t, err, "rule: a valid LeaseDeliveries succeeds")
			return leasedIDs(ls)
		}
		require.Empty(t, lease("a", "b", weird), "rule: the deliveries of excluded endpoints are not leased")
		require.Equal(t, ids(b[0], b[1]), lease("a", weird, "unknown"), "rule: the deliveries of an endpoint not excluded are leased, oldest due first; the others are not")
		require.Equal(t, ids(a[0], a[1], c[0]), lease(), "rule: deliveries excluded before are due again as soon as they are no longer excluded")
		_, err := st.LeaseDeliveries(ctx(t), store.LeaseParams{Now: base, LeaseFor: time.Minute, Exclude: []string{"a", ""}})
		require.ErrorIs(t, err, store.ErrInvalid, "rule: an excluded endpoint must be a valid endpoint name")
		_, err = st.LeaseDeliveries(ctx(t), store.LeaseParams{Now: base, LeaseFor: time.Minute, Exclude: make([]string, store.MaxLines+1)})
		require.ErrorIs(t, err, store.ErrInvalid, "rule: at most MaxLines endpoints are excluded")
	})
	t.Run("AttemptsSetState", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		dues := make([]time.Time, 8)
		for i := range dues {
			dues[i] = base
		}
		ds := recordTo(t, st, "k1", "e", dues...)
		ls := leaseAll(t, st, base)
		require.Len(t, ls, len(ds), "rule: every due delivery is leased")
		state := store.EndpointState{Name: "e"}
		step := func(i int, finished time.Duration, status store.DeliveryStatus, rule string) {
			t.Helper()
			recordOutcome(t, st, ls[ds[i].ID], base.Add(finished), status)
			endpointIs(t, st, state, rule)
		}
		state.FailingSince = at(10 * time.Second)
		step(0, 10*time.Second, store.DeliveryPending, "a failed attempt (a retry) sets FailingSince to its FinishedAt")
		require.Equal(t, []string{"e"}, knownEndpoints(t, st), "rule: the store knows an endpoint once an attempt was recorded for it")
		step(1, 20*time.Second, store.DeliveryDead, "a failed attempt while FailingSince is set leaves it")
		state.LastSuccessAt, state.FailingSince = at(30*time.Second), time.Time{}
		step(2, 30*time.Second, store.DeliveryDelivered, "a delivered attempt sets LastSuccessAt and clears FailingSince")
		state.FailingSince = at(50 * time.Second)
		step(3, 50*time.Second, store.DeliveryDead, "a failed attempt after a success sets FailingSince (a dead outcome is a failure)")
		step(4, 25*time.Second, store.DeliveryDelivered, "a delivered attempt recorded late never moves LastSuccessAt back, nor clears a later FailingSince")
		step(5, 30*time.Second, store.DeliveryPending, "a failed attempt that finished at LastSuccessAt does not count")
		state.FailingSince = at(40 * time.Second)
		step(6, 40*time.Second, store.DeliveryPending, "a failed attempt recorded late, after LastSuccessAt, moves FailingSince earlier")
		state.LastSuccessAt = at(35 * time.Second)
		step(7, 35*time.Second, store.DeliveryDelivered, "a delivered attempt moves LastSuccessAt later, and keeps a FailingSince after its FinishedAt")
	})
	t.Run("LeaseLostWritesNoState", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		ds := recordTo(t, st, "k1", "fresh", base, base)
		ls := leaseAll(t, st, base)
		l := ls[ds[0].ID]
		_, err := st.RecordAttempt(ctx(t), store.RecordAttemptParams{DeliveryID: l.Delivery.ID, Token: l.Token + 1,
			Attempt: finishedAt(base.Add(time.Second), 200), Status: store.DeliveryDelivered})
		require.ErrorIs(t, err, store.ErrLeaseLost, "rule: an attempt under another token is ErrLeaseLost")
		_, err = st.RecordAttempt(ctx(t), store.RecordAttemptParams{DeliveryID: l.Delivery.ID, Token: l.Token,
			Attempt: finishedAt(base.Add(2*time.Hour), 503), Status: store.DeliveryDead})
		require.ErrorIs(t, err, store.ErrLeaseLost, "rule: an attempt that finished after its lease expired is ErrLeaseLost")
		endpointIs(t, st, store.EndpointState{Name: "fresh"}, "an attempt refused with ErrLeaseLost writes no endpoint state")
		require.Empty(t, knownEndpoints(t, st), "rule: an attempt refused with ErrLeaseLost does not make the endpoint known")

		recordOutcome(t, st, ls[ds[1].ID], base.Add(time.Second), store.DeliveryPending)
		want := store.EndpointState{Name: "fresh", FailingSince: at(time.Second)}
		_, err = st.RecordAttempt(ctx(t), store.RecordAttemptParams{DeliveryID: l.Delivery.ID, Token: l.Token + 1,
			Attempt: finishedAt(base.Add(2*time.Second), 200), Status: store.DeliveryDelivered})
		require.ErrorIs(t, err, store.ErrLeaseLost, "rule: an attempt under another token is ErrLeaseLost")
		endpointIs(t, st, want, "an attempt refused with ErrLeaseLost changes no endpoint state")
	})
	t.Run("EnableClearsFailingSince", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		ds := recordTo(t, st, "k1", "e", base, base, base, base)
		ls := leaseAll(t, st, base)
		recordOutcome(t, st, ls[ds[0].ID], base.Add(time.Second), store.DeliveryDelivered)
		recordOutcome(t, st, ls[ds[1].ID], base.Add(2*time.Second), store.DeliveryPending)
		_, err := st.DisableEndpoint(ctx(t), store.DisableEndpointParams{Name: "e", Reason: "failing", At: base.Add(3 * time.Second)})
		require.NoError(t, err, "rule: disabling an enabled endpoint succeeds")
		endpointIs(t, st, store.EndpointState{Name: "e", Disabled: true, DisabledReason: "failing", DisabledAt: at(3 * time.Second),
			LastSuccessAt: at(time.Second), FailingSince: at(2 * time.Second)}, "disabling keeps the endpoint's history")
		got, err := st.EnableEndpoint(ctx(t), store.EnableEndpointParams{Name: "e", At: base.Add(10 * time.Second)})
		require.NoError(t, err, "rule: enabling a disabled endpoint succeeds")
		want := store.EndpointState{Name: "e", EnabledAt: at(10 * time.Second), LastSuccessAt: at(time.Second)}
		require.Equal(t, want, got, "rule: enabling clears FailingSince and keeps LastSuccessAt")
		// An attempt under a lease taken before the endpoint was disabled, that finished
		// before it was enabled again, is a failure before the re-enabling: it does not count.
		recordOutcome(t, st, ls[ds[2].ID], base.Add(5*time.Second), store.DeliveryDead)
		endpointIs(t, st, want, "a failed attempt that finished before EnabledAt does not count")
		want.FailingSince = at(11 * time.Second)
		recordOutcome(t, st, ls[ds[3].ID], base.Add(11*time.Second), store.DeliveryDead)
		endpointIs(t, st, want, "a failed attempt after the re-enabling sets FailingSince")
	})
	t.Run("ListEndpointsByName", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		// Byte order, not a locale's: upper case before lower, '-' before '_', é after z.
		names := []string{"b", "B", "a_b", "a-b", "é", "z", "Z9", "a", "ab", "日本"}
		for i, name := range names {
			if i%2 == 0 {
				_, err := st.DisableEndpoint(ctx(t), store.DisableEndpointParams{Name: name, Reason: "r", At: base})
				require.NoError(t, err, "rule: disabling an enabled endpoint succeeds")
				continue
			}
			ds := recordTo(t, st, fmt.Sprint("k", i), name, base)
			recordOutcome(t, st, leaseAll(t, st, base)[ds[0].ID], base.Add(time.Second), store.DeliveryDelivered)
		}
		recordTo(t, st, "unknown", "has-only-deliveries", base)
		want := slices.Sorted(slices.Values(names))
		for _, size := range []int{1, 2, 3, len(want), len(want) + 5} {
			var got []string
			after := ""
			for pages := 0; ; pages++ {
				require.LessOrEqual(t, pages, len(want)+1, "rule: paging through ListEndpoints ends (limit %d)", size)
				page, err := st.ListEndpoints(ctx(t), store.ListEndpointsParams{After: after, Limit: size})
				require.NoError(t, err, "rule: a valid ListEndpoints succeeds")
				require.LessOrEqual(t, len(page), size, "rule: a page of ListEndpoints holds at most Limit endpoints (limit %d)", size)
				for _, e := range page {
					got = append(got, e.Name)
				}
				if len(page) < size {
					break
				}
				after = page[len(page)-1].Name
			}
			require.Equal(t, want, got, "rule: the pages of ListEndpoints together are every known endpoint, ordered by name (bytes), each once (limit %d)", size)
		}
		all, err := st.ListEndpoints(ctx(t), store.ListEndpointsParams{})
		require.NoError(t, err, "rule: a valid ListEndpoints succeeds")
		require.Len(t, all, len(want), "rule: Limit 0 lists up to the default page (100)")
		for _, e := range all {
			got, err := st.GetEndpoint(ctx(t), e.Name)
			require.NoError(t, err, "rule: a valid GetEndpoint succeeds")
			require.Equal(t, got, e, "rule: ListEndpoints lists each endpoint's state as GetEndpoint returns it")
		}
	})
	t.Run("ListDeliveriesByEndpoint", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		p := conversionFor("k1", "aff-1", base)
		p.Deliveries = nil
		var want []keyed
		for i, created := range pagingTimes() {
			for _, endpoint := range []string{"a", "b"} {
				d := newDelivery(p.Conversion.ID, base)
				d.Endpoint, d.CreatedAt = endpoint, created
				p.Deliveries = append(p.Deliveries, d)
				if endpoint == "a" && i != 4 {
					want = append(want, keyed{store.NormalizeTime(created), d.ID})
				}
			}
		}
		dead := p.Deliveries[8] // a's, created at pagingTimes()[4]
		dead.NextAttemptAt = base.Add(-time.Hour)
		p.Deliveries[8] = dead
		_, err := st.RecordConversion(ctx(t), p)
		require.NoError(t, err, "rule: a valid conversion is recorded with its deliveries")
		ls, err := st.LeaseDeliveries(ctx(t), store.LeaseParams{Now: base.Add(-time.Hour), LeaseFor: time.Minute})
		require.NoError(t, err, "rule: a valid LeaseDeliveries succeeds")
		require.Len(t, ls, 1, "rule: only the due delivery is leased")
		recordOutcome(t, st, ls[0], base.Add(-time.Hour), store.DeliveryDead)
		checkPaging(t, "ListDeliveries of endpoint a", order(want), func(after store.Cursor, limit int) ([]store.Delivery, error) {
			return st.ListDeliveries(ctx(t), store.ListDeliveriesParams{Status: store.DeliveryPending, Endpoint: "a", After: after, Limit: limit})
		}, func(d store.Delivery) keyed { return keyed{d.CreatedAt, d.ID} })
		deadOfA, err := st.ListDeliveries(ctx(t), store.ListDeliveriesParams{Status: store.DeliveryDead, Endpoint: "a"})
		require.NoError(t, err, "rule: a valid ListDeliveries succeeds")
		require.Equal(t, []uuid.UUID{dead.ID}, ids(deadOfA...), "rule: deliveries are listed by endpoint and status")
		deadOfB, err := st.ListDeliveries(ctx(t), store.ListDeliveriesParams{Status: store.DeliveryDead, Endpoint: "b"})
		require.NoError(t, err, "rule: a valid ListDeliveries succeeds")
		require.Empty(t, deadOfB, "rule: a listing by endpoint lists only that endpoint's deliveries")
		every, err := st.ListDeliveries(ctx(t), store.ListDeliveriesParams{Status: store.DeliveryPending, Limit: 1000})
		require.NoError(t, err, "rule: a valid ListDeliveries succeeds")
		require.Len(t, every, len(p.Deliveries)-1, "rule: an empty Endpoint lists the deliveries of every endpoint")
	})
	t.Run("ReplayDeliveries", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		// Endpoint a: four dead deliveries created a minute apart, one pending, one delivered;
		// endpoint b: two dead ones.
		p := conversionFor("k1", "aff-1", base)
		p.Deliveries = nil
		for i, endpoint := range []string{"a", "a", "a", "a", "a", "a", "b", "b"} {
			d := newDelivery(p.Conversion.ID, base)
			d.Endpoint, d.CreatedAt = endpoint, base.Add(time.Duration(i)*time.Minute)
			p.Deliveries = append(p.Deliveries, d)
		}
		_, err := st.RecordConversion(ctx(t), p)
		require.NoError(t, err, "rule: a valid conversion is recorded with its deliveries")
		ls := leaseAll(t, st, base)
		byID := map[uuid.UUID]store.Delivery{}
		for i, d := range p.Deliveries {
			status := store.DeliveryDead
			switch i {
			case 4:
				status = store.DeliveryPending
			case 5:
				status = store.DeliveryDelivered
			}
			byID[d.ID] = recordOutcome(t, st, ls[d.ID], base.Add(time.Second), status)
		}
		a, b := p.Deliveries[:6], p.Deliveries[6:]
		replay := func(endpoint string, before time.Time, want int, rule string) {
			t.Helper()
			n, err := st.ReplayDeliveries(ctx(t), store.ReplayDeliveriesParams{Endpoint: endpoint, CreatedBefore: before, At: base.Add(time.Hour)})
			require.NoError(t, err, "rule: a valid ReplayDeliveries succeeds")
			require.Equal(t, want, n, "rule: "+rule)
		}
		check := func(replayed []store.Delivery, rule string) {
			t.Helper()
			for _, d := range p.Deliveries {
				got, err := st.GetDelivery(ctx(t), d.ID)
				require.NoError(t, err, "rule: a valid GetDelivery succeeds")
				want := byID[d.ID]
				if slices.ContainsFunc(replayed, func(r store.Delivery) bool { return r.ID == d.ID }) {
					want.Status, want.NextAttemptAt, want.ReplayedAt = store.DeliveryPending, at(time.Hour), at(time.Hour)
				}
				require.Equal(t, want, got, "rule: %s; a replay keeps the ID and the attempt history, and sets ReplayedAt to its At", rule)
			}
		}
		replay("a", base.Add(2*time.Minute), 2, "ReplayDeliveries replays the dead deliveries created before CreatedBefore, and says how many")
		check(a[:2], "only the dead deliveries of the endpoint created before CreatedBefore are replayed")
		replay("a", time.Time{}, 2, "ReplayDeliveries with a zero CreatedBefore replays every dead delivery of the endpoint")
		check(a[:4], "only dead deliveries of the endpoint are replayed: not its pending or delivered ones, not another endpoint's")
		replay("a", time.Time{}, 0, "an endpoint without dead deliveries replays none, and that is not an error")
		replay("unknown", time.Time{}, 0, "an endpoint the store does not know replays none, and that is not an error")
		replay("b", time.Time{}, 2, "ReplayDeliveries replays every dead delivery of the endpoint")
		check(append(a[:4:4], b...), "every dead delivery of b is replayed")

		leased, err := st.LeaseDeliveries(ctx(t), store.LeaseParams{Now: base.Add(time.Hour), LeaseFor: time.Minute, Limit: 100})
		require.NoError(t, err, "rule: a valid LeaseDeliveries succeeds")
		require.ElementsMatch(t, ids(append(a[:4:4], b...)...), leasedIDs(leased), "rule: replayed deliveries are due at At (the retry of a[4] an hour after its attempt is not)")
	})
}

// endpointConcurrency is the concurrency rules of endpoints, raced across handles.
func (s suite) endpointConcurrency(t *testing.T) {
	handlesOf := func(t *testing.T, st store.Store) []store.Store {
		if s.h.Reopen != nil {
			return []store.Store{st, s.h.Reopen(t, st)}
		}
		return []store.Store{st}
	}
	t.Run("OneDisableWins", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		handles := handlesOf(t, st)
		for r := range 5 {
			name := fmt.Sprintf("e%d", r)
			var mu sync.Mutex
			var winner store.EndpointState
			wins := race(t, 40, func(i int) error {
				got, err := handles[i%len(handles)].DisableEndpoint(t.Context(), store.DisableEndpointParams{Name: name, Reason: fmt.Sprint("reason ", i), At: base.Add(time.Duration(i) * time.Second)})
				if err == nil {
					mu.Lock()
					winner = got
					mu.Unlock()
				}
				return err
			}, "losing disables are ErrDuplicate", store.ErrDuplicate)
			require.Equal(t, 1, wins, "rule: of concurrent disables of one endpoint, exactly one succeeds (repeat %d)", r)
			endpointIs(t, st, winner, "the winning disable's reason and time are kept (repeat %d)", r)
			wins = race(t, 40, func(i int) error {
				_, err := handles[i%len(handles)].EnableEndpoint(t.Context(), store.EnableEndpointParams{Name: name, At: base.Add(time.Hour)})
				return err
			}, "losing enables are ErrDuplicate", store.ErrDuplicate)
			require.Equal(t, 1, wins, "rule: of concurrent enables of one endpoint, exactly one succeeds (repeat %d)", r)
		}
	})
	t.Run("DisableAndEnableWhileRecordingAndLeasing", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		handles := handlesOf(t, st)
		// Each round disables endpoint flip, then enables it, each while 4 recorders record
		// deliveries to it (and to steady) and 4 leasers lease, each leaser recording a retry,
		// due at once, of every other flip delivery it leases. Leases are at base, for an
		// hour, so a delivery is leased again only after a retry.
		var mu sync.Mutex
		leasedNow := map[uuid.UUID]bool{} // flip deliveries by whether a lease holds them
		var disabled atomic.Bool          // set once DisableEndpoint returned, until EnableEndpoint is called
		var violations, errs []string     // what the goroutines saw
		lease := func(ls []store.Lease, sawDisabled bool) {
			mu.Lock()
			defer mu.Unlock()
			for _, l := range ls {
				if l.Delivery.Endpoint != "flip" {
					continue
				}
				if sawDisabled {
					violations = append(violations, fmt.Sprintf("%s leased by a lease that began after DisableEndpoint returned", l.Delivery.ID))
				}
				if leasedNow[l.Delivery.ID] {
					violations = append(violations, fmt.Sprintf("%s leased while another lease holds it", l.Delivery.ID))
				}
				leasedNow[l.Delivery.ID] = true
			}
		}
		work := func(switchState func() error) {
			var wg sync.WaitGroup
			fail := func(err error) {
				if err != nil {
					mu.Lock()
					errs = append(errs, err.Error())
					mu.Unlock()
				}
			}
			wg.Go(func() { fail(switchState()) })
			for g := range 8 {
				h := handles[g%len(handles)]
				wg.Go(func() {
					for i := range 6 {
						if g < 4 {
							p := conversionFor(uuid.NewString(), "aff-1", base)
							p.Deliveries = []store.Delivery{newDelivery(p.Conversion.ID, base), newDelivery(p.Conversion.ID, base), newDelivery(p.Conversion.ID, base)}
							p.Deliveries[0].Endpoint, p.Deliveries[1].Endpoint, p.Deliveries[2].Endpoint = "flip", "flip", "steady"
							_, err := h.RecordConversion(t.Context(), p)
							fail(err)
							mu.Lock()
							for _, d := range p.Deliveries[:2] {
								if _, ok := leasedNow[d.ID]; !ok && err == nil {
									leasedNow[d.ID] = false // unless a leaser was quicker
								}
							}
							mu.Unlock()
							continue
						}
						sawDisabled := disabled.Load()
						ls, err := h.LeaseDeliveries(t.Context(), store.LeaseParams{Now: base, LeaseFor: time.Hour, Limit: 5})
						fail(err)
						lease(ls, sawDisabled)
						for j, l := range ls {
							if l.Delivery.Endpoint != "flip" || (i+j)%2 == 0 {
								continue
							}
							// Recorded under mu, so that a lease of the retry, which can only
							// follow this commit, is counted after it.
							mu.Lock()
							_, err := h.RecordAttempt(t.Context(), store.RecordAttemptParams{DeliveryID: l.Delivery.ID, Token: l.Token,
								Attempt: finishedAt(base.Add(-2*time.Second), 503), Status: store.DeliveryPending, NextAttemptAt: base.Add(-time.Second)})
							if err == nil {
								leasedNow[l.Delivery.ID] = false
							}
							mu.Unlock()
							fail(err)
						}
					}
				})
			}
			wg.Wait()
		}
		for r := range 4 {
			work(func() error {
				_, err := handles[r%len(handles)].DisableEndpoint(t.Context(), store.DisableEndpointParams{Name: "flip", Reason: "failing", At: base})
				disabled.Store(err == nil)
				return err
			})
			require.Empty(t, errs, "rule: concurrent records, leases, attempts and a disable succeed (round %d)", r)
			require.Empty(t, violations, "rule: a delivery of a disabled endpoint is never leased after DisableEndpoint returned, and never by two leases at once (round %d)", r)
			for id := range leaseAll(t, st, base) {
				_, ok := leasedNow[id]
				require.False(t, ok, "rule: a disabled endpoint's deliveries, recorded or retried while it was being disabled, are not leased (round %d)", r)
			}
			disabled.Store(false) // before any goroutine of the round starts, and before EnableEndpoint is called
			work(func() error {
				_, err := handles[(r+1)%len(handles)].EnableEndpoint(t.Context(), store.EnableEndpointParams{Name: "flip", At: base})
				return err
			})
			require.Empty(t, errs, "rule: concurrent records, leases, attempts and an enable succeed (round %d)", r)
			require.Empty(t, violations, "rule: a delivery is never leased by two leases at once (round %d)", r)
			lease(slices.Collect(maps.Values(leaseAll(t, st, base))), false)
			require.Empty(t, violations, "rule: a delivery is never leased by two leases at once (round %d)", r)
			for id, held := range leasedNow {
				require.True(t, held, "rule: after EnableEndpoint returned, every delivery of the endpoint is leasable, whatever was written while it was being enabled or disabled (round %d, %s)", r, id)
			}
		}
	})
	t.Run("ReplayWhileLeasing", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		handles := handlesOf(t, st)
		const n = 200
		dues := make([]time.Time, n)
		for i := range dues {
			dues[i] = base
		}
		ds := recordTo(t, st, "k1", "flaky", dues...)
		recordTo(t, st, "k2", "steady", dues[:20]...)
		for _, l := range leaseAll(t, st, base, "steady") {
			recordOutcome(t, st, l, base.Add(time.Second), store.DeliveryDead)
		}
		// 4 replayers of every dead delivery of flaky race 8 workers leasing them (and
		// steady's) as they appear, each lease held for an hour.
		var mu sync.Mutex
		leased := map[uuid.UUID]int{}
		replayed := 0
		var errs []error
		var wg sync.WaitGroup
		for g := range 12 {
			h := handles[g%len(handles)]
			wg.Go(func() {
				if g < 4 {
					k, err := h.ReplayDeliveries(t.Context(), store.ReplayDeliveriesParams{Endpoint: "flaky", At: base})
					mu.Lock()
					replayed += k
					errs = append(errs, err)
					mu.Unlock()
					return
				}
				for range 10 {
					ls, err := h.LeaseDeliveries(t.Context(), store.LeaseParams{Now: base, LeaseFor: time.Hour, Limit: 7})
					mu.Lock()
					errs = append(errs, err)
					for _, l := range ls {
						leased[l.Delivery.ID]++
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		for _, err := range errs {
			require.NoError(t, err, "rule: concurrent replays and leases succeed")
		}
		for _, l := range leaseAll(t, st, base) {
			leased[l.Delivery.ID]++
		}
		require.Equal(t, n, replayed, "rule: concurrent replays of one endpoint replay each dead delivery once: their counts add up to the dead deliveries")
		require.Len(t, leased, n+20, "rule: every replayed delivery is leased, and steady's too")
		for _, d := range ds {
			require.Equal(t, 1, leased[d.ID], "rule: a replayed delivery is never leased twice while its lease holds (%s)", d.ID)
		}
	})
	t.Run("AttemptsOfOneEndpoint", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		handles := handlesOf(t, st)
		// Endpoint late-failures: 30 deliveries succeed, finishing in the first 30 seconds,
		// and 30 fail after them; endpoint late-successes: the failures finish first. Recorded
		// at once, in any order, each endpoint's state is what the attempts' times say.
		const half = 30
		for _, tc := range []struct {
			endpoint          string
			success, failure  time.Duration // when the first of each finishes
			wantLast, wantBad time.Time
		}{
			{"late-failures", 0, time.Minute, at((half - 1) * time.Second), at(time.Minute)},
			{"late-successes", time.Minute, 0, at(time.Minute + (half-1)*time.Second), time.Time{}},
		} {
			dues := make([]time.Time, 2*half)
			for i := range dues {
				dues[i] = base
			}
			ds := recordTo(t, st, tc.endpoint, tc.endpoint, dues...)
			ls := leaseAll(t, st, base)
			require.Len(t, ls, len(ds), "rule: every due delivery is leased")
			wins := race(t, len(ds), func(i int) error {
				l := ls[ds[i].ID]
				p := store.RecordAttemptParams{DeliveryID: l.Delivery.ID, Token: l.Token}
				if i < half {
					p.Attempt, p.Status = finishedAt(base.Add(tc.success+time.Duration(i)*time.Second), 200), store.DeliveryDelivered
				} else {
					p.Attempt = finishedAt(base.Add(tc.failure+time.Duration(i-half)*time.Second), 503)
					p.Status, p.NextAttemptAt = store.DeliveryPending, base.Add(2*time.Hour)
				}
				_, err := handles[i%len(handles)].RecordAttempt(t.Context(), p)
				return err
			}, "concurrent attempts under their own leases all succeed")
			require.Equal(t, len(ds), wins, "rule: concurrent attempts under their own leases are all recorded")
			endpointIs(t, st, store.EndpointState{Name: tc.endpoint, LastSuccessAt: tc.wantLast, FailingSince: tc.wantBad},
				"concurrent attempts of one endpoint leave LastSuccessAt at the latest success and FailingSince at the first failure after it (%s)", tc.endpoint)
		}
	})
}

// endpointRefusalCases are the refusal cases (see refusals) of the endpoint methods and of
// the delivery methods' endpoint parameters.
var endpointRefusalCases = []struct {
	method  string
	prepare func(t *testing.T, st store.Store) refusal
}{
	{"GetEndpoint", func(t *testing.T, st store.Store) refusal {
		_, err := st.DisableEndpoint(ctx(t), store.DisableEndpointParams{Name: "down", Reason: "410 Gone", At: base})
		require.NoError(t, err, "rule: disabling an enabled endpoint succeeds")
		return refusal{
			invalid: map[string]func(context.Context) error{
				"Empty":   func(ctx context.Context) error { _, err := st.GetEndpoint(ctx, ""); return err },
				"NUL":     func(ctx context.Context) error { _, err := st.GetEndpoint(ctx, "do\x00wn"); return err },
				"BadUTF8": func(ctx context.Context) error { _, err := st.GetEndpoint(ctx, "down\xff"); return err },
				"TooLong": func(ctx context.Context) error {
					_, err := st.GetEndpoint(ctx, strings.Repeat("e", store.MaxKeyLen+1))
					return err
				},
			},
			valid: func(ctx context.Context) error {
				e, err := st.GetEndpoint(ctx, "down")
				if err == nil && !e.Disabled {
					return fmt.Errorf("endpoint down is enabled, want it disabled")
				}
				return err
			},
		}
	}},
	{"ListEndpoints", func(t *testing.T, st store.Store) refusal {
		return refusal{
			invalid: map[string]func(context.Context) error{
				"NegativeLimit": func(ctx context.Context) error {
					_, err := st.ListEndpoints(ctx, store.ListEndpointsParams{Limit: -1})
					return err
				},
				"BadAfter": func(ctx context.Context) error {
					_, err := st.ListEndpoints(ctx, store.ListEndpointsParams{After: "a\x00"})
					return err
				},
			},
			valid: func(ctx context.Context) error {
				_, err := st.ListEndpoints(ctx, store.ListEndpointsParams{After: "a"})
				return err
			},
		}
	}},
	{"DisableEndpoint", func(t *testing.T, st store.Store) refusal {
		p := store.DisableEndpointParams{Name: "down", Reason: "410 Gone", At: base}
		return refusal{
			invalid: map[string]func(context.Context) error{
				"NoName": func(ctx context.Context) error {
					_, err := st.DisableEndpoint(ctx, store.DisableEndpointParams{Reason: "r", At: base})
					return err
				},
				"NoReason": func(ctx context.Context) error {
					_, err := st.DisableEndpoint(ctx, store.DisableEndpointParams{Name: "down", At: base})
					return err
				},
				"NoAt": func(ctx context.Context) error {
					_, err := st.DisableEndpoint(ctx, store.DisableEndpointParams{Name: "down", Reason: "r"})
					return err
				},
				"NULInReason": func(ctx context.Context) error {
					_, err := st.DisableEndpoint(ctx, store.DisableEndpointParams{Name: "down", Reason: "r\x00", At: base})
					return err
				},
				"LongReason": func(ctx context.Context) error {
					_, err := st.DisableEndpoint(ctx, store.DisableEndpointParams{Name: "down", Reason: strings.Repeat("r", store.MaxTextLen+1), At: base})
					return err
				},
			},
			valid: func(ctx context.Context) error { _, err := st.DisableEndpoint(ctx, p); return err },
			written: func(t *testing.T) bool {
				e, err := st.GetEndpoint(ctx(t), "down")
				require.NoError(t, err, "rule: a valid GetEndpoint succeeds")
				return e.Disabled
			},
		}
	}},
	{"EnableEndpoint", func(t *testing.T, st store.Store) refusal {
		_, err := st.DisableEndpoint(ctx(t), store.DisableEndpointParams{Name: "down", Reason: "410 Gone", At: base})
		require.NoError(t, err, "rule: disabling an enabled endpoint succeeds")
		return refusal{
			invalid: map[string]func(context.Context) error{
				"NoName": func(ctx context.Context) error {
					_, err := st.EnableEndpoint(ctx, store.EnableEndpointParams{At: base})
					return err
				},
				"NoAt": func(ctx context.Context) error {
					_, err := st.EnableEndpoint(ctx, store.EnableEndpointParams{Name: "down"})
					return err
				},
				"BadName": func(ctx context.Context) error {
					_, err := st.EnableEndpoint(ctx, store.EnableEndpointParams{Name: "down\n", At: base})
					return err
				},
			},
			valid: func(ctx context.Context) error {
				_, err := st.EnableEndpoint(ctx, store.EnableEndpointParams{Name: "down", At: base.Add(time.Hour)})
				return err
			},
			written: func(t *testing.T) bool {
				e, err := st.GetEndpoint(ctx(t), "down")
				require.NoError(t, err, "rule: a valid GetEndpoint succeeds")
				return !e.Disabled
			},
		}
	}},
	{"ReplayDeliveries", func(t *testing.T, st store.Store) refusal {
		l := leased(t, st)
		recordOutcome(t, st, l, base.Add(time.Second), store.DeliveryDead)
		return refusal{
			invalid: map[string]func(context.Context) error{
				"NoEndpoint": func(ctx context.Context) error {
					_, err := st.ReplayDeliveries(ctx, store.ReplayDeliveriesParams{At: base})
					return err
				},
				"NoAt": func(ctx context.Context) error {
					_, err := st.ReplayDeliveries(ctx, store.ReplayDeliveriesParams{Endpoint: l.Delivery.Endpoint})
					return err
				},
				"BadEndpoint": func(ctx context.Context) error {
					_, err := st.ReplayDeliveries(ctx, store.ReplayDeliveriesParams{Endpoint: "a\x00", At: base})
					return err
				},
			},
			valid: func(ctx context.Context) error {
				n, err := st.ReplayDeliveries(ctx, store.ReplayDeliveriesParams{Endpoint: l.Delivery.Endpoint, At: base.Add(time.Hour)})
				if err == nil && n != 1 {
					return fmt.Errorf("replayed %d deliveries, want the 1 that a refused replay left dead", n)
				}
				return err
			},
			written: func(t *testing.T) bool {
				d, err := st.GetDelivery(ctx(t), l.Delivery.ID)
				require.NoError(t, err, "rule: a recorded delivery is found")
				return d.Status == store.DeliveryPending
			},
		}
	}},
	{"ListDeliveriesByEndpoint", func(t *testing.T, st store.Store) refusal {
		return refusal{
			invalid: map[string]func(context.Context) error{
				"BadEndpoint": func(ctx context.Context) error {
					_, err := st.ListDeliveries(ctx, store.ListDeliveriesParams{Status: store.DeliveryDead, Endpoint: "a\x00"})
					return err
				},
				"LongEndpoint": func(ctx context.Context) error {
					_, err := st.ListDeliveries(ctx, store.ListDeliveriesParams{Status: store.DeliveryDead, Endpoint: strings.Repeat("e", store.MaxKeyLen+1)})
					return err
				},
			},
			valid: func(ctx context.Context) error {
				_, err := st.ListDeliveries(ctx, store.ListDeliveriesParams{Status: store.DeliveryDead, Endpoint: "a"})
				return err
			},
		}
	}},
	{"LeaseDeliveriesExcluding", func(t *testing.T, st store.Store) refusal {
		recordTo(t, st, "k1", "a", base)
		recordTo(t, st, "k2", "b", base)
		return refusal{
			invalid: map[string]func(context.Context) error{
				"EmptyName": func(ctx context.Context) error {
					_, err := st.LeaseDeliveries(ctx, store.LeaseParams{Now: base, LeaseFor: time.Minute, Exclude: []string{"a", ""}})
					return err
				},
				"TooMany": func(ctx context.Context) error {
					ex := make([]string, store.MaxLines+1)
					for i := range ex {
						ex[i] = fmt.Sprint("e", i)
					}
					_, err := st.LeaseDeliveries(ctx, store.LeaseParams{Now: base, LeaseFor: time.Minute, Exclude: ex})
					return err
				},
			},
			// The valid lease must find a's delivery: a refused lease took nothing.
			valid: func(ctx context.Context) error {
				ls, err := st.LeaseDeliveries(ctx, store.LeaseParams{Now: base, LeaseFor: time.Minute, Exclude: []string{"b"}})
				if err == nil && (len(ls) != 1 || ls[0].Delivery.Endpoint != "a") {
					return fmt.Errorf("leased %d deliveries, want the 1 of endpoint a that a refused lease left", len(ls))
				}
				return err
			},
		}
	}},
}
