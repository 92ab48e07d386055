package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/store"
)

// inboundAt returns a record of the inbound log of a postback from source, received at at,
// with outcome, with a new ID.
func inboundAt(source, outcome string, at time.Time) store.InboundRecord {
	r := store.InboundRecord{
		ID: uuid.New(), ReceivedAt: at, Source: source, Method: "GET", RemoteAddr: "[2001:db8::1]:50412", Outcome: outcome, HTTPStatus: 202,
		Params: "clickid=06enwx3m8zc6w83y6r5qzq2c3r&amount=150.00&currency=EUR&sig=REDACTED", ConversionID: uuid.New(),
		Duration: 1234567 * time.Nanosecond,
	}
	if outcome != "accepted" {
		r.Reason, r.HTTPStatus, r.ConversionID = "bad_signature", 401, uuid.Nil
	}
	return r
}

// logInbound logs r, which must be new.
func logInbound(t *testing.T, st store.Store, r store.InboundRecord) {
	t.Helper()
	require.NoError(t, st.LogInbound(ctx(t), r), "rule: a valid LogInbound succeeds")
}

// listInboundAll pages through the listing p with pages of 1000 and returns every record.
func listInboundAll(t *testing.T, st store.Store, p store.ListInboundParams) []store.InboundRecord {
	t.Helper()
	p.Limit = 1000
	var out []store.InboundRecord
	for {
		page, err := st.ListInbound(ctx(t), p)
		require.NoError(t, err, "rule: a valid ListInbound succeeds")
		out = append(out, page...)
		if len(page) < p.Limit {
			return out
		}
		last := page[len(page)-1]
		p.After = store.Cursor{At: last.ReceivedAt, ID: last.ID}
	}
}

// inboundIDs returns the IDs of rs, in their order.
func inboundIDs(rs ...store.InboundRecord) []uuid.UUID {
	out := make([]uuid.UUID, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

// newestFirst returns the IDs of rs in the inbound log's order: by ReceivedAt, then ID,
// newest first.
func newestFirst(rs ...store.InboundRecord) []uuid.UUID {
	ks := make([]keyed, len(rs))
	for i, r := range rs {
		ks[i] = keyed{store.NormalizeTime(r.ReceivedAt), r.ID}
	}
	ids := order(ks)
	slices.Reverse(ids)
	return ids
}

func (s suite) inbound(t *testing.T) {
	t.Run("RoundTripNormalized", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		r := inboundAt("network-a", "accepted", base)
		r.Params = "sub1=tab\there&sub2=new\nline&sub3=ünïcödé 🎰&q=\"'\\"
		logInbound(t, st, r)
		got := listInboundAll(t, st, store.ListInboundParams{})
		want := r
		want.ReceivedAt = at(0)
		require.Equal(t, []store.InboundRecord{want}, got, "rule: a logged record reads back field for field, its time in UTC at microsecond precision, its duration exact")
		require.Equal(t, time.UTC, got[0].ReceivedAt.Location(), "rule: times are returned in UTC")

		bare := store.InboundRecord{ID: uuid.New(), ReceivedAt: base.Add(time.Second), Outcome: "rejected"}
		long := inboundAt("network-a", "rejected", base.Add(2*time.Second))
		long.Params = strings.Repeat("p", store.MaxTextLen)
		logInbound(t, st, bare)
		logInbound(t, st, long)
		got = listInboundAll(t, st, store.ListInboundParams{})
		require.Len(t, got, 3, "rule: every logged record is listed")
		require.Equal(t, long.Params, got[0].Params, "rule: parameters of MaxTextLen bytes are kept whole")
		bare.ReceivedAt = at(time.Second)
		require.Equal(t, bare, got[1], "rule: a record without its optional fields reads back without them")
	})
	t.Run("DuplicateAndConflict", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		r := inboundAt("network-a", "rejected", base)
		logInbound(t, st, r)
		require.ErrorIs(t, st.LogInbound(ctx(t), r), store.ErrDuplicate, "rule: the same record again is ErrDuplicate")
		retry := r
		retry.ReceivedAt = r.ReceivedAt.Add(time.Nanosecond)
		require.ErrorIs(t, st.LogInbound(ctx(t), retry), store.ErrDuplicate, "rule: records are compared at the store's microsecond precision")
		for name, mutate := range map[string]func(*store.InboundRecord){
			"Outcome":    func(r *store.InboundRecord) { r.Outcome = "accepted" },
			"Reason":     func(r *store.InboundRecord) { r.Reason = "other" },
			"Status":     func(r *store.InboundRecord) { r.HTTPStatus = 400 },
			"Params":     func(r *store.InboundRecord) { r.Params += "&x=1" },
			"Duration":   func(r *store.InboundRecord) { r.Duration++ },
			"ReceivedAt": func(r *store.InboundRecord) { r.ReceivedAt = r.ReceivedAt.Add(time.Microsecond) },
			"Conversion": func(r *store.InboundRecord) { r.ConversionID = uuid.New() },
			"Source":     func(r *store.InboundRecord) { r.Source = "network-b" },
			"Method":     func(r *store.InboundRecord) { r.Method = "POST" },
		} {
			other := r
			mutate(&other)
			require.ErrorIs(t, st.LogInbound(ctx(t), other), store.ErrConflict, "rule: another record with the ID of a logged one is ErrConflict (%s)", name)
		}
		got := listInboundAll(t, st, store.ListInboundParams{})
		require.Equal(t, []store.InboundRecord{r.Normalize()}, got, "rule: a refused record writes nothing")
	})
	t.Run("InvalidRefused", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		for name, mutate := range map[string]func(*store.InboundRecord){
			"NoID":              func(r *store.InboundRecord) { r.ID = uuid.Nil },
			"NoReceivedAt":      func(r *store.InboundRecord) { r.ReceivedAt = time.Time{} },
			"NoOutcome":         func(r *store.InboundRecord) { r.Outcome = "" },
			"NewlineInOutcome":  func(r *store.InboundRecord) { r.Outcome = "rejected\n" },
			"LongSource":        func(r *store.InboundRecord) { r.Source = strings.Repeat("s", store.MaxKeyLen+1) },
			"ControlInMethod":   func(r *store.InboundRecord) { r.Method = "G\x01T" },
			"BadUTF8InReason":   func(r *store.InboundRecord) { r.Reason = "bad\xff" },
			"NULInParams":       func(r *store.InboundRecord) { r.Params = "a=\x00" },
			"BadUTF8InParams":   func(r *store.InboundRecord) { r.Params = "a=\xc3" },
			"LongParams":        func(r *store.InboundRecord) { r.Params = strings.Repeat("p", store.MaxTextLen+1) },
			"NegativeStatus":    func(r *store.InboundRecord) { r.HTTPStatus = -1 },
			"StatusTooLarge":    func(r *store.InboundRecord) { r.HTTPStatus = 1000 },
			"NegativeDuration":  func(r *store.InboundRecord) { r.Duration = -time.Nanosecond },
			"ControlInSource":   func(r *store.InboundRecord) { r.Source = "net\x7fwork" },
			"LongReason":        func(r *store.InboundRecord) { r.Reason = strings.Repeat("r", store.MaxKeyLen+1) },
			"C1ControlInReason": func(r *store.InboundRecord) { r.Reason = "bad\u0085" },
			"NewlineInRemote":   func(r *store.InboundRecord) { r.RemoteAddr = "192.0.2.1:80\n" },
			"LongRemote":        func(r *store.InboundRecord) { r.RemoteAddr = strings.Repeat("1", store.MaxKeyLen+1) },
		} {
			r := inboundAt("network-a", "rejected", base)
			mutate(&r)
			require.ErrorIs(t, st.LogInbound(ctx(t), r), store.ErrInvalid, "rule: an invalid record (%s) is ErrInvalid", name)
		}
		require.Empty(t, listInboundAll(t, st, store.ListInboundParams{}), "rule: invalid records write nothing")
	})
	t.Run("ListNewestFirstAndFiltered", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		a1 := inboundAt("network-a", "accepted", base)
		a2 := inboundAt("network-a", "rejected", base.Add(time.Minute))
		b1 := inboundAt("network-b", "rejected", base.Add(2*time.Minute))
		b2 := inboundAt("network-b", "accepted", base.Add(3*time.Minute))
		a3 := inboundAt("network-a", "duplicate", base.Add(3*time.Minute)) // a tie with b2: the ID decides
		// Logged out of order of receipt: the log's order is by ReceivedAt, not by logging.
		for _, r := range []store.InboundRecord{b1, a3, a1, b2, a2} {
			logInbound(t, st, r)
		}
		for _, tc := range []struct {
			name string
			p    store.ListInboundParams
			want []store.InboundRecord
			rule string
		}{
			{"All", store.ListInboundParams{}, []store.InboundRecord{a1, a2, b1, b2, a3}, "the log is listed newest first, by ReceivedAt then ID"},
			{"Source", store.ListInboundParams{Source: "network-a"}, []store.InboundRecord{a1, a2, a3}, "a listing of a source gives its records alone"},
			{"Outcome", store.ListInboundParams{Outcome: "rejected"}, []store.InboundRecord{a2, b1}, "a listing of an outcome gives its records alone"},
			{"SourceAndOutcome", store.ListInboundParams{Source: "network-b", Outcome: "rejected"}, []store.InboundRecord{b1}, "source and outcome apply together"},
			{"UnknownSource", store.ListInboundParams{Source: "network-c"}, nil, "a source with no record lists none"},
			{"Range", store.ListInboundParams{From: base.Add(time.Minute), To: base.Add(3 * time.Minute)}, []store.InboundRecord{a2, b1},
				"the range is [From, To) of ReceivedAt: the record at From is in it, the one at To is not"},
			{"From", store.ListInboundParams{From: base.Add(2 * time.Minute)}, []store.InboundRecord{b1, b2, a3}, "a zero To is no bound"},
			{"To", store.ListInboundParams{To: base.Add(time.Minute)}, []store.InboundRecord{a1}, "a zero From is no bound"},
			{"RangeAndSource", store.ListInboundParams{Source: "network-a", From: base.Add(30 * time.Second), To: base.Add(time.Hour)}, []store.InboundRecord{a2, a3},
				"range and source apply together"},
			{"RangeAtMicroseconds", store.ListInboundParams{From: at(time.Minute + time.Microsecond)}, []store.InboundRecord{b1, b2, a3},
				"a range is compared at the store's microsecond precision"},
		} {
			got := listInboundAll(t, st, tc.p)
			if tc.want == nil {
				require.Empty(t, got, "rule: %s (%s)", tc.rule, tc.name)
				continue
			}
			require.Equal(t, newestFirst(tc.want...), inboundIDs(got...), "rule: %s (%s)", tc.rule, tc.name)
		}
		_, err := st.ListInbound(ctx(t), store.ListInboundParams{From: base, To: base})
		require.ErrorIs(t, err, store.ErrInvalid, "rule: an empty range is ErrInvalid")
	})
	t.Run("Prune", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		var old, kept []store.InboundRecord
		for i := range 12 {
			outcome := []string{"accepted", "rejected", "duplicate"}[i%3]
			r := inboundAt(fmt.Sprintf("network-%d", i%2), outcome, base.Add(time.Duration(i-6)*time.Hour))
			logInbound(t, st, r)
			if i < 6 {
				old = append(old, r)
			} else {
				kept = append(kept, r)
			}
		}
		n, err := st.PruneInbound(ctx(t), store.PruneInboundParams{Before: base})
		require.NoError(t, err, "rule: a valid PruneInbound succeeds")
		require.Equal(t, len(old), n, "rule: PruneInbound returns how many records it deleted: those received before Before")
		require.Equal(t, newestFirst(kept...), inboundIDs(listInboundAll(t, st, store.ListInboundParams{})...),
			"rule: PruneInbound deletes the records received before Before, and keeps the one received at Before and after")
		for _, p := range []store.ListInboundParams{{Source: "network-0"}, {Outcome: "rejected"}, {Source: "network-1", Outcome: "duplicate"}} {
			var want []store.InboundRecord
			for _, r := range kept {
				if (p.Source == "" || r.Source == p.Source) && (p.Outcome == "" || r.Outcome == p.Outcome) {
					want = append(want, r)
				}
			}
			require.Equal(t, newestFirst(want...), inboundIDs(listInboundAll(t, st, p)...), "rule: a pruned record is listed by neither its source nor its outcome (%+v)", p)
		}
		n, err = st.PruneInbound(ctx(t), store.PruneInboundParams{Before: base})
		require.NoError(t, err, "rule: a valid PruneInbound succeeds")
		require.Zero(t, n, "rule: a prune with nothing to delete deletes nothing, and is no error")

		logInbound(t, st, old[0]) // a pruned ID is free again
		n, err = st.PruneInbound(ctx(t), store.PruneInboundParams{Before: base.Add(time.Hour + time.Nanosecond)})
		require.NoError(t, err, "rule: a valid PruneInbound succeeds")
		require.Equal(t, 2, n, "rule: PruneInbound compares at the store's microsecond precision: the record at Before, truncated, is kept")
		require.Equal(t, newestFirst(kept[1:]...), inboundIDs(listInboundAll(t, st, store.ListInboundParams{})...), "rule: PruneInbound deletes exactly the records before Before")
	})
}

// inboundConcurrency is the concurrency rule of the inbound log: of concurrent logs of one
// ID exactly one writes, and concurrent logs, listings and prunes lose no record that the
// prunes did not delete.
func (s suite) inboundConcurrency(t *testing.T) {
	t.Run("OneLogPerID", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		hs := []store.Store{st}
		if s.h.Reopen != nil {
			hs = append(hs, s.h.Reopen(t, st))
		}
		r := inboundAt("network-a", "accepted", base)
		wins := race(t, 64, func(i int) error {
			q := r
			if i%4 == 3 {
				q.HTTPStatus = 200 // other content
			}
			return hs[i%len(hs)].LogInbound(t.Context(), q)
		}, "concurrent logs of one ID fail only with ErrDuplicate or ErrConflict", store.ErrDuplicate, store.ErrConflict)
		require.Equal(t, 1, wins, "rule: of concurrent logs of one ID, exactly one writes")
		require.Len(t, listInboundAll(t, st, store.ListInboundParams{}), 1, "rule: concurrent logs of one ID write one record")
	})
	t.Run("NoRecordLost", func(t *testing.T) {
		t.Parallel()
		st := s.h.NewStore(t)
		hs := []store.Store{st}
		if s.h.Reopen != nil {
			hs = append(hs, s.h.Reopen(t, st))
		}
		// Old records, which prunes racing the logs delete; new ones, logged by 16 writers
		// while readers list and prunes prune: every new record is kept, every old one goes.
		const old, writers, perWriter = 200, 16, 25
		for i := range old {
			logInbound(t, st, inboundAt("network-a", "accepted", base.Add(-time.Duration(i+1)*time.Second)))
		}
		logged := make([][]store.InboundRecord, writers)
		for w := range writers {
			for i := range perWriter {
				logged[w] = append(logged[w], inboundAt(fmt.Sprintf("network-%d", w%3), []string{"accepted", "rejected"}[i%2], base.Add(time.Duration(i*writers+w)*time.Millisecond)))
			}
		}
		var wg sync.WaitGroup
		for w := range writers {
			h := hs[w%len(hs)]
			wg.Go(func() {
				for i, r := range logged[w] {
					if err := h.LogInbound(t.Context(), r); err != nil {
						t.Errorf("rule: concurrent logs of distinct records all succeed: %v", err)
					}
					if i%10 == 0 {
						if _, err := h.ListInbound(t.Context(), store.ListInboundParams{Source: r.Source, Limit: 10}); err != nil {
							t.Errorf("rule: a listing during logs succeeds: %v", err)
						}
					}
				}
			})
		}
		pruned := make([]int, 4)
		for i := range pruned {
			h := hs[i%len(hs)]
			wg.Go(func() {
				n, err := h.PruneInbound(t.Context(), store.PruneInboundParams{Before: base})
				if err != nil {
					t.Errorf("rule: a prune during logs succeeds: %v", err)
				}
				pruned[i] = n
			})
		}
		wg.Wait()
		total := 0
		for _, n := range pruned {
			total += n
		}
		require.Equal(t, old, total, "rule: concurrent prunes delete each old record once: their counts add up to the records before Before")
		var want []store.InboundRecord
		for _, rs := range logged {
			want = append(want, rs...)
		}
		require.Equal(t, newestFirst(want...), inboundIDs(listInboundAll(t, st, store.ListInboundParams{})...),
			"rule: concurrent logs lose no record, and prunes delete only those before Before")
	})
}

// inboundRefusalCases are the refusal cases (see refusals) of the inbound log's methods.
var inboundRefusalCases = []struct {
	method  string
	prepare func(t *testing.T, st store.Store) refusal
}{
	{"LogInbound", func(t *testing.T, st store.Store) refusal {
		r := inboundAt("network-a", "rejected", base)
		return refusal{
			invalid: map[string]func(context.Context) error{
				"Empty": func(ctx context.Context) error { return st.LogInbound(ctx, store.InboundRecord{}) },
				"NoOutcome": func(ctx context.Context) error {
					q := r
					q.Outcome = ""
					return st.LogInbound(ctx, q)
				},
			},
			valid: func(ctx context.Context) error { return st.LogInbound(ctx, r) },
			written: func(t *testing.T) bool {
				return len(listInboundAll(t, st, store.ListInboundParams{})) == 1
			},
		}
	}},
	{"ListInbound", func(t *testing.T, st store.Store) refusal {
		logInbound(t, st, inboundAt("network-a", "rejected", base))
		list := func(p store.ListInboundParams) func(context.Context) error {
			return func(ctx context.Context) error { _, err := st.ListInbound(ctx, p); return err }
		}
		return refusal{
			invalid: map[string]func(context.Context) error{
				"ReversedRange": list(store.ListInboundParams{From: base, To: base.Add(-time.Second)}),
				"BadSource":     list(store.ListInboundParams{Source: "network\na"}),
				"BadOutcome":    list(store.ListInboundParams{Outcome: strings.Repeat("o", store.MaxKeyLen+1)}),
				"NegativeLimit": list(store.ListInboundParams{Limit: -1}),
			},
			valid: func(ctx context.Context) error {
				rs, err := st.ListInbound(ctx, store.ListInboundParams{Source: "network-a", Outcome: "rejected", From: base, To: base.Add(time.Second)})
				if err == nil && len(rs) != 1 {
					return fmt.Errorf("listed %d records, want the 1 logged", len(rs))
				}
				return err
			},
		}
	}},
	{"PruneInbound", func(t *testing.T, st store.Store) refusal {
		logInbound(t, st, inboundAt("network-a", "rejected", base))
		return refusal{
			invalid: map[string]func(context.Context) error{
				"NoBefore": func(ctx context.Context) error {
					_, err := st.PruneInbound(ctx, store.PruneInboundParams{})
					return err
				},
			},
			valid: func(ctx context.Context) error {
				n, err := st.PruneInbound(ctx, store.PruneInboundParams{Before: base.Add(time.Second)})
				if err == nil && n != 1 {
					return fmt.Errorf("pruned %d records, want the 1 logged", n)
				}
				return err
			},
			written: func(t *testing.T) bool {
				return len(listInboundAll(t, st, store.ListInboundParams{})) == 0
			},
		}
	}},
}
