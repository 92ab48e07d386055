package s2s

import (
	"bytes"
	"crypto/rand"
	"errors"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/store"
)

// TestIDSource: the IDs are UUIDv7s of the RFC 9562 variant, with the time they were made,
// distinct and strictly increasing in the order they were given, from many goroutines at
// once; the randomness's failure is an error, not a weak ID.
func TestIDSource(t *testing.T) {
	t.Parallel()
	g := &idSource{rand: rand.Reader}
	before := time.Now().Truncate(time.Millisecond)
	const workers, each = 16, 500
	var (
		mu  sync.Mutex
		all []uuid.UUID
		wg  sync.WaitGroup
	)
	for range workers {
		wg.Go(func() {
			mine := make([]uuid.UUID, 0, each)
			for range each {
				id, err := g.new()
				if err != nil {
					t.Error(err)
					return
				}
				mine = append(mine, id)
			}
			for i := 1; i < len(mine); i++ {
				if bytes.Compare(mine[i-1][:], mine[i][:]) >= 0 {
					t.Errorf("rule: IDs increase in the order given: %s then %s", mine[i-1], mine[i])
				}
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	after := time.Now()
	seen := map[uuid.UUID]bool{}
	for _, id := range all {
		require.False(t, seen[id], "rule: IDs are distinct")
		seen[id] = true
		require.Equal(t, uuid.Version(7), id.Version())
		require.Equal(t, uuid.RFC4122, id.Variant())
		at := time.Unix(id.Time().UnixTime())
		require.False(t, at.Before(before.Add(-time.Second)) || at.After(after.Add(time.Second)), "rule: an ID carries the time it was made: %s", at)
	}
	require.Len(t, seen, workers*each)

	broken := &idSource{rand: iotest.ErrReader(errors.New("no entropy"))}
	_, err := broken.new()
	require.ErrorContains(t, err, "no entropy")
}

// TestCPACounters: the names cut from cpaCounters' one string are the ones the facts and
// playerKey make one by one, for each kind of player key, escapes included.
func TestCPACounters(t *testing.T) {
	t.Parallel()
	click := uuid.Must(uuid.NewV7())
	for _, c := range []store.Conversion{
		{PlayerID: "p-1"},
		{PlayerID: "p:1=%"},
		{ClickID: clickid.ID(click)},
		{ForeignClickID: "gclid:x=1"},
	} {
		f, paid, first := cpaCounters(&c, money.EUR)
		want := factsOf(&c, money.EUR)
		require.Equal(t, want.player, f.player)
		require.Equal(t, "s2s:cpa_paid:"+playerKey(&c), paid)
		require.Equal(t, "s2s:ftd:"+playerKey(&c)+":EUR", first)
		require.Equal(t, want.deposits(), f.deposits())
		require.Equal(t, "s2s:deposits:"+playerKey(&c)+":EUR", f.deposits())
		require.Equal(t, want.depositsBack(), f.depositsBack())
	}
}
