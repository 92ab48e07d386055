package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/store"
)

// lastActivity is the contract of ConversionStore.LastActivity.
func (s suite) lastActivity(t *testing.T) {
	t.Run("LatestAsOf", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		of := func(key, player string, occurred time.Time) store.RecordConversionParams {
			p := conversionFor(key, "aff-1", occurred)
			p.Conversion.PlayerID = player
			return p
		}
		reg := of("reg", "p1", base)
		reg.Conversion.Event = event.Registration
		dep := of("dep", "p1", base.Add(48*time.Hour))
		dep.Conversion.AffiliateID, dep.Conversion.Source = "aff-2", "network-b"
		noTime := of("no-time", "p1", base.Add(24*time.Hour))
		noTime.Conversion.OccurredAt = time.Time{} // its event time is its ReceivedAt
		other := of("other", "p2", base.Add(36*time.Hour))
		// Recorded out of the order of their event times.
		for _, p := range []store.RecordConversionParams{dep, other, reg, noTime} {
			_, err := st.RecordConversion(ctx(t), p)
			require.NoError(t, err, "rule: a valid RecordConversion succeeds")
		}
		_, err := st.ChangeStatus(ctx(t), store.ChangeStatusParams{ConversionID: dep.Conversion.ID, From: event.StatusPending,
			To: event.StatusRejected, Reason: "fraud", At: base.Add(72 * time.Hour)})
		require.NoError(t, err, "rule: a valid ChangeStatus succeeds")

		last := func(player string, asOf time.Time) time.Time {
			t.Helper()
			at, err := st.LastActivity(ctx(t), store.LastActivityParams{PlayerID: player, AsOf: asOf})
			require.NoError(t, err, "rule: a valid LastActivity succeeds")
			return at
		}
		for _, tc := range []struct {
			rule string
			asOf time.Time
			want time.Time
		}{
			{"rule: no conversion at or before AsOf is the zero time", base.Add(-time.Second), time.Time{}},
			{"rule: AsOf is inclusive, compared as stored", base, base},
			{"rule: the event time of the latest conversion at or before AsOf", base.Add(time.Hour), base},
			{"rule: a conversion without OccurredAt is active at its ReceivedAt", base.Add(25 * time.Hour), noTime.Conversion.ReceivedAt},
			{"rule: one just after AsOf does not count", store.NormalizeTime(noTime.Conversion.ReceivedAt).Add(-time.Microsecond), base},
			{"rule: the latest, whatever its source, affiliate, event or status", base.Add(1000 * time.Hour), base.Add(48 * time.Hour)},
		} {
			want := tc.want
			if !want.IsZero() {
				want = store.NormalizeTime(want)
			}
			got := last("p1", tc.asOf)
			require.True(t, want.Equal(got), "%s: LastActivity(%s) = %s, want %s", tc.rule, tc.asOf, got, want)
		}
		require.Equal(t, store.NormalizeTime(base), last("p1", base.Add(time.Second)), "rule: the time is as stored (NormalizeTime)")
		require.True(t, last("p2", base.Add(1000*time.Hour)).Equal(store.NormalizeTime(base.Add(36*time.Hour))), "rule: only the player's own conversions count")
		require.True(t, last("nobody", base.Add(1000*time.Hour)).IsZero(), "rule: a player without conversions has the zero time, and no error")
	})
	t.Run("Refusals", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		for _, p := range []store.LastActivityParams{{AsOf: base}, {PlayerID: "p1"}, {PlayerID: "bad\x00id", AsOf: base}} {
			_, err := st.LastActivity(ctx(t), p)
			require.ErrorIs(t, err, store.ErrInvalid, "rule: LastActivity without a valid player ID or AsOf is ErrInvalid: %+v", p)
		}
	})
}
