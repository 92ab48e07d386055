package event_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/event"
)

// The names are part of the wire and storage formats (postback parameters, JSON, database
// rows): renaming one is a breaking change, so each spelling is pinned here.
func TestType_Names(t *testing.T) {
	t.Parallel()
	want := []string{"registration", "verification", "ftd", "deposit", "wager", "purchase", "trade",
		"revenue", "refund", "reset", "funded", "adjustment", "reversal", "conversion"}
	got := make([]string, 0, len(want))
	for _, ty := range event.Types() {
		require.True(t, ty.Known(), "rule: every listed type is known: %s", ty)
		got = append(got, ty.String())
	}
	require.Equal(t, want, got, "rule: the event names never change spelling")
	require.False(t, event.Type("").Known())
	require.False(t, event.Type("FTD").Known(), "rule: names are case-sensitive; dialects map senders' spellings")
}

func TestStatus_Names(t *testing.T) {
	t.Parallel()
	got := []string{}
	for _, s := range event.Statuses() {
		require.True(t, s.Valid())
		got = append(got, s.String())
	}
	require.Equal(t, []string{"pending", "approved", "rejected", "reversed"}, got)
	require.False(t, event.Status("").Valid())
	require.False(t, event.Status("Approved").Valid())
}

func TestTypes_ReturnsACopy(t *testing.T) {
	t.Parallel()
	ts := event.Types()
	ts[0] = "x"
	require.Equal(t, event.Registration, event.Types()[0])
}
