package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/store"
)

// clickCarrying returns a new click of campaign that carries the foreign click ID f, created
// at created.
func clickCarrying(t *testing.T, f clickid.Foreign, campaign string, created time.Time) store.Click {
	t.Helper()
	c := newClick(t)
	c.ForeignClickID, c.CampaignID, c.CreatedAt = f, campaign, created
	return c
}

// byForeign returns the click that GetClickByForeign finds for p, or the zero click if it
// finds none (ErrNotFound).
func byForeign(t *testing.T, st store.Store, p store.GetClickByForeignParams) store.Click {
	t.Helper()
	c, err := st.GetClickByForeign(ctx(t), p)
	if errors.Is(err, store.ErrNotFound) {
		return store.Click{}
	}
	require.NoError(t, err, "rule: a valid GetClickByForeign succeeds or is ErrNotFound")
	return c
}

// clicksByForeign is the contract of ClickStore.GetClickByForeign.
func (s suite) clicksByForeign(t *testing.T) {
	t.Run("LatestAsOfAndCampaign", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		const f clickid.Foreign = "gclid-EAIaIQobChMI"
		first := clickCarrying(t, f, "camp-1", base)
		other := clickCarrying(t, f, "camp-2", base.Add(time.Minute))
		latest := clickCarrying(t, f, "camp-1", base.Add(2*time.Minute))
		elsewhere := clickCarrying(t, "network-click-77", "camp-1", base.Add(3*time.Minute))
		none := newClick(t)
		none.ForeignClickID, none.CreatedAt = "", base.Add(4*time.Minute)
		// Out of order of creation, and the latest in a batch: the order of inserts is not the
		// order of clicks.
		require.NoError(t, st.InsertClicks(ctx(t), store.InsertClicksParams{Clicks: []store.Click{latest, none}}), "rule: a valid batch is stored")
		for _, c := range []store.Click{other, elsewhere, first} {
			require.NoError(t, st.InsertClick(ctx(t), c), "rule: a valid InsertClick succeeds")
		}

		got, err := st.GetClickByForeign(ctx(t), store.GetClickByForeignParams{ForeignClickID: f})
		require.NoError(t, err, "rule: a valid GetClickByForeign succeeds")
		require.Equal(t, latest.Normalize(), got, "rule: of the clicks that carry a foreign ID, the latest by CreatedAt is returned, field for field")
		require.Equal(t, elsewhere.Normalize(), byForeign(t, st, store.GetClickByForeignParams{ForeignClickID: "network-click-77"}),
			"rule: a click is found by the foreign ID it carries")
		require.Zero(t, byForeign(t, st, store.GetClickByForeignParams{ForeignClickID: "gclid-nobody"}), "rule: a foreign ID no click carries is ErrNotFound")
		require.Zero(t, byForeign(t, st, store.GetClickByForeignParams{ForeignClickID: f[:len(f)-1]}), "rule: a foreign ID is matched whole, never by prefix")
		require.Zero(t, byForeign(t, st, store.GetClickByForeignParams{ForeignClickID: clickid.Foreign(strings.ToUpper(string(f)))}),
			"rule: a foreign ID is matched exactly, case included")

		for _, tc := range []struct {
			name string
			p    store.GetClickByForeignParams
			want store.Click
			rule string
		}{
			{"Campaign", store.GetClickByForeignParams{ForeignClickID: f, CampaignID: "camp-2"}, other,
				"with a CampaignID, the latest click of that campaign is returned"},
			{"OtherCampaign", store.GetClickByForeignParams{ForeignClickID: f, CampaignID: "camp-3"}, store.Click{},
				"with a CampaignID that none of the clicks has, it is ErrNotFound"},
			{"AsOfBetween", store.GetClickByForeignParams{ForeignClickID: f, AsOf: base.Add(90 * time.Second)}, other,
				"a click created after AsOf is not returned: the latest before it is"},
			{"AsOfExactly", store.GetClickByForeignParams{ForeignClickID: f, AsOf: base.Add(2 * time.Minute)}, latest,
				"a click created at AsOf itself (at the store's microsecond precision) is returned"},
			{"AsOfAMicrosecondBefore", store.GetClickByForeignParams{ForeignClickID: f, AsOf: at(2*time.Minute - time.Microsecond)}, other,
				"a click created a microsecond after AsOf is not returned"},
			{"AsOfAndCampaign", store.GetClickByForeignParams{ForeignClickID: f, CampaignID: "camp-1", AsOf: base.Add(90 * time.Second)}, first,
				"AsOf and CampaignID apply together"},
			{"AsOfBeforeAll", store.GetClickByForeignParams{ForeignClickID: f, AsOf: base.Add(-time.Second)}, store.Click{},
				"no click created at or before AsOf is ErrNotFound, though later clicks carry the ID"},
			{"AsOfInAnotherZone", store.GetClickByForeignParams{ForeignClickID: f, AsOf: base.Add(time.Minute).In(time.UTC)}, other,
				"AsOf is an instant, whatever its zone"},
		} {
			want := tc.want
			if !want.ID.IsZero() {
				want = want.Normalize()
			}
			require.Equal(t, want, byForeign(t, st, tc.p), "rule: %s (%s)", tc.rule, tc.name)
		}
	})
	t.Run("TiesByID", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		a, b := clickCarrying(t, "fbclid-tie", "camp-1", base), clickCarrying(t, "fbclid-tie", "camp-1", base)
		if bytes.Compare(a.ID[:], b.ID[:]) < 0 {
			a, b = b, a // a has the greater ID, and is inserted first
		}
		require.NoError(t, st.InsertClick(ctx(t), a), "rule: a valid InsertClick succeeds")
		require.NoError(t, st.InsertClick(ctx(t), b), "rule: a valid InsertClick succeeds")
		require.Equal(t, a.ID, byForeign(t, st, store.GetClickByForeignParams{ForeignClickID: "fbclid-tie"}).ID,
			"rule: of clicks created at one instant, the one with the greatest ID is the latest")
	})
	t.Run("LongestForeignID", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		long := clickid.Foreign(strings.Repeat("x", clickid.MaxForeignLen))
		c := clickCarrying(t, long, "camp-1", base)
		require.NoError(t, st.InsertClick(ctx(t), c), "rule: a click may carry a foreign ID of clickid.MaxForeignLen bytes")
		require.Equal(t, c.Normalize(), byForeign(t, st, store.GetClickByForeignParams{ForeignClickID: long}),
			"rule: a click is found by a foreign ID of clickid.MaxForeignLen bytes")
	})
	t.Run("RefusedClicksNotFound", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		stored := clickCarrying(t, "gclid-stored", "camp-1", base)
		require.NoError(t, st.InsertClick(ctx(t), stored), "rule: a valid InsertClick succeeds")
		require.ErrorIs(t, st.InsertClick(ctx(t), stored), store.ErrDuplicate, "rule: the same click again is ErrDuplicate")

		conflicting := stored
		conflicting.ForeignClickID, conflicting.CreatedAt = "gclid-conflict", base.Add(time.Hour)
		require.ErrorIs(t, st.InsertClick(ctx(t), conflicting), store.ErrConflict, "rule: another click with the same ID is ErrConflict")
		inBatch := clickCarrying(t, "gclid-batch", "camp-1", base)
		require.ErrorIs(t, st.InsertClicks(ctx(t), store.InsertClicksParams{Clicks: []store.Click{inBatch, conflicting}}), store.ErrConflict,
			"rule: a batch with another click under an existing ID is ErrConflict")
		invalid := clickCarrying(t, "gclid-invalid", "camp-1", base)
		invalid.AffiliateID = ""
		require.ErrorIs(t, st.InsertClick(ctx(t), invalid), store.ErrInvalid, "rule: an invalid click is ErrInvalid")
		retried := clickCarrying(t, "gclid-stored", "camp-1", base.Add(time.Hour))
		retried.ID = stored.ID
		require.ErrorIs(t, st.InsertClicks(ctx(t), store.InsertClicksParams{Clicks: []store.Click{retried}}), store.ErrConflict,
			"rule: a batch with another click under an existing ID is ErrConflict")

		for _, f := range []clickid.Foreign{"gclid-conflict", "gclid-batch", "gclid-invalid"} {
			require.Zero(t, byForeign(t, st, store.GetClickByForeignParams{ForeignClickID: f}), "rule: a refused click is not found by its foreign ID (%s)", f)
		}
		require.Equal(t, stored.Normalize(), byForeign(t, st, store.GetClickByForeignParams{ForeignClickID: "gclid-stored"}),
			"rule: a refused click leaves the stored click with that foreign ID as it was")
	})
	t.Run("ReturnedCopyIsTheCallers", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		c := clickCarrying(t, "gclid-copy", "camp-1", base)
		require.NoError(t, st.InsertClick(ctx(t), c), "rule: a valid InsertClick succeeds")
		got := byForeign(t, st, store.GetClickByForeignParams{ForeignClickID: "gclid-copy"})
		got.SubIDs[0] = "changed by caller after get"
		require.Equal(t, "sub-a", byForeign(t, st, store.GetClickByForeignParams{ForeignClickID: "gclid-copy"}).SubIDs[0],
			"rule: a click returned by foreign ID does not share slices with the store")
	})
}

// foreignConcurrency races lookups by foreign ID with the inserts of the clicks that carry
// it, across handles: a lookup finds a stored click or none, never a torn one; once the
// inserts are done, the latest is found.
func (s suite) foreignConcurrency(t *testing.T) {
	t.Parallel()
	st := s.h.NewStore(t)
	handles := []store.Store{st}
	if s.h.Reopen != nil {
		handles = append(handles, s.h.Reopen(t, st))
	}
	const writers, perWriter, readers = 8, 10, 4
	const f clickid.Foreign = "gclid-raced"
	// Times interleave across writers, so that the latest is inserted by one of them at some
	// point of the race, not last.
	clicks := make([][]store.Click, writers)
	inserted := make(map[clickid.ID]store.Click)
	var latest store.Click
	for w := range writers {
		for i := range perWriter {
			c := clickCarrying(t, f, fmt.Sprintf("camp-%d", w), base.Add(time.Duration(i*writers+(writers-1-w))*time.Second))
			clicks[w] = append(clicks[w], c)
			inserted[c.ID] = c.Normalize()
			if latest.ID.IsZero() || c.CreatedAt.After(latest.CreatedAt) {
				latest = c.Normalize()
			}
		}
	}
	others := make([]store.Click, writers*perWriter)
	for i := range others {
		others[i] = clickCarrying(t, "gclid-other", "camp-x", base)
	}
	var wg sync.WaitGroup
	done := make(chan struct{})
	for w := range writers {
		h := handles[w%len(handles)]
		wg.Go(func() {
			for i, c := range clicks[w] {
				var err error
				if i%2 == 0 {
					err = h.InsertClick(t.Context(), c)
				} else {
					err = h.InsertClicks(t.Context(), store.InsertClicksParams{Clicks: []store.Click{c, others[w*perWriter+i]}})
				}
				if err != nil {
					t.Errorf("rule: concurrent inserts of clicks that carry one foreign ID all succeed: %v", err)
				}
			}
		})
	}
	var rwg sync.WaitGroup
	for r := range readers {
		h := handles[r%len(handles)]
		rwg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				c, err := h.GetClickByForeign(t.Context(), store.GetClickByForeignParams{ForeignClickID: f})
				if errors.Is(err, store.ErrNotFound) {
					continue
				}
				if err != nil {
					t.Errorf("rule: a lookup by foreign ID during inserts succeeds or is ErrNotFound: %v", err)
					return
				}
				if want, ok := inserted[c.ID]; !ok || !want.Equal(c) {
					t.Errorf("rule: a lookup by foreign ID during inserts returns a stored click whole: got %+v", c)
					return
				}
			}
		})
	}
	wg.Wait()
	close(done)
	rwg.Wait()
	for _, h := range handles {
		require.Equal(t, latest, byForeign(t, h, store.GetClickByForeignParams{ForeignClickID: f}),
			"rule: once concurrent inserts are done, the latest click that carries a foreign ID is found")
	}
}

// foreignRefusalCases are the refusal cases (see refusals) of GetClickByForeign.
var foreignRefusalCases = []struct {
	method  string
	prepare func(t *testing.T, st store.Store) refusal
}{
	{"GetClickByForeign", func(t *testing.T, st store.Store) refusal {
		c := clickCarrying(t, "gclid-1", "camp-1", base)
		require.NoError(t, st.InsertClick(ctx(t), c), "rule: a valid click is stored")
		get := func(p store.GetClickByForeignParams) func(context.Context) error {
			return func(ctx context.Context) error { _, err := st.GetClickByForeign(ctx, p); return err }
		}
		return refusal{
			invalid: map[string]func(context.Context) error{
				"NoForeignID":  get(store.GetClickByForeignParams{CampaignID: "camp-1"}),
				"Space":        get(store.GetClickByForeignParams{ForeignClickID: "gclid 1"}),
				"NUL":          get(store.GetClickByForeignParams{ForeignClickID: "gclid\x001"}),
				"TooLong":      get(store.GetClickByForeignParams{ForeignClickID: clickid.Foreign(strings.Repeat("x", clickid.MaxForeignLen+1))}),
				"BadCampaign":  get(store.GetClickByForeignParams{ForeignClickID: "gclid-1", CampaignID: "camp\n1"}),
				"LongCampaign": get(store.GetClickByForeignParams{ForeignClickID: "gclid-1", CampaignID: strings.Repeat("c", store.MaxKeyLen+1)}),
			},
			valid: func(ctx context.Context) error {
				got, err := st.GetClickByForeign(ctx, store.GetClickByForeignParams{ForeignClickID: "gclid-1", CampaignID: "camp-1", AsOf: base})
				if err == nil && got.ID != c.ID {
					return fmt.Errorf("found click %s, want %s", got.ID, c.ID)
				}
				return err
			},
		}
	}},
}
