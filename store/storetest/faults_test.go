package storetest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"go.uber.org/mock/gomock"

	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/store"
	"github.com/s2skit/s2s/store/memstore"
	"github.com/s2skit/s2s/store/mockstoretest"
	"github.com/s2skit/s2s/store/storetest"
)

// A fault is a way for a store to break the contract that no real store breaks on cue: the
// mock store installs it in front of a memstore. Each fault names the subtest of the suite
// that must catch it and the rule that subtest must report.
type fault struct {
	name    string
	subtest string // the path of the storetest subtest, as -test.run takes it
	rule    string // what the suite's failure must say
	install func(m *mockstoretest.MockStore, real store.Store)
}

var faults = []fault{
	{
		name:    "WriteFailsPartWay",
		subtest: "Conversion/FailureMidRecordLeavesNothing",
		rule:    "rule: a failed record leaves no conversion behind",
		install: func(m *mockstoretest.MockStore, real store.Store) {
			// A store that is not atomic: when a delivery cannot be written, the conversion
			// it already wrote stays behind.
			m.EXPECT().RecordConversion(gomock.Any(), gomock.Any()).DoAndReturn(func(ctx context.Context, p store.RecordConversionParams) (store.Conversion, error) {
				for _, d := range p.Deliveries {
					if _, err := real.GetDelivery(ctx, d.ID); err == nil {
						p.Ledger, p.Deliveries = nil, nil
						if _, err := real.RecordConversion(ctx, p); err != nil {
							return store.Conversion{}, err
						}
						return store.Conversion{}, fmt.Errorf("faulty: delivery %s exists, after the conversion was written: %w", d.ID, store.ErrConflict)
					}
				}
				return real.RecordConversion(ctx, p)
			}).AnyTimes()
		},
	},
	{
		name:    "BindingAfterTheRecord",
		subtest: "Conversion/WithBinding/RefusedRecordBindsNoOne",
		rule:    "rule: a refused record (ErrLimit) binds no one",
		install: func(m *mockstoretest.MockStore, real store.Store) {
			// A store that binds the player first and records the conversion after, as two
			// writes: a record refused for a limit leaves its binding behind.
			m.EXPECT().RecordConversion(gomock.Any(), gomock.Any()).DoAndReturn(func(ctx context.Context, p store.RecordConversionParams) (store.Conversion, error) {
				if p.Binding != nil && p.RebindFrom == nil {
					if _, err := real.BindPlayer(ctx, *p.Binding); err != nil && !errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrDuplicate) {
						return store.Conversion{}, err
					}
					p.Binding = nil
				}
				return real.RecordConversion(ctx, p)
			}).AnyTimes()
		},
	},
	{
		name:    "RebindUnconditional",
		subtest: "Concurrency/RecordedBindings/OneRebindFromOneBinding",
		rule:    "rule: of concurrent rebinds from one binding exactly one applies",
		install: func(m *mockstoretest.MockStore, real store.Store) {
			// A store that replaces whatever binding it finds: a rebind decided from a binding
			// that another rebind replaced meanwhile applies all the same.
			m.EXPECT().RecordConversion(gomock.Any(), gomock.Any()).DoAndReturn(func(ctx context.Context, p store.RecordConversionParams) (store.Conversion, error) {
				if p.RebindFrom != nil {
					if b, err := real.GetBinding(ctx, p.RebindFrom.PlayerID); err == nil {
						p.RebindFrom = &b
					}
				}
				return real.RecordConversion(ctx, p)
			}).AnyTimes()
		},
	},
	{
		name:    "LeaseLostAtTheWrongMoment",
		subtest: "Delivery/LeaseExpiryAndFencing",
		rule:    "rule: the holder of an expired, re-leased lease cannot record its attempt",
		install: func(m *mockstoretest.MockStore, real store.Store) {
			// A store without fencing: an attempt under a lease that was lost is recorded.
			m.EXPECT().RecordAttempt(gomock.Any(), gomock.Any()).DoAndReturn(func(ctx context.Context, p store.RecordAttemptParams) (store.Delivery, error) {
				d, err := real.RecordAttempt(ctx, p)
				if errors.Is(err, store.ErrLeaseLost) {
					return real.GetDelivery(ctx, p.DeliveryID)
				}
				return d, err
			}).AnyTimes()
		},
	},
	{
		name:    "LimitCheckedOutsideTheLock",
		subtest: "Concurrency/Counters/LimitIsExact",
		rule:    "rule: of concurrent writes against a limit of 10, exactly 10 apply",
		install: func(m *mockstoretest.MockStore, real store.Store) {
			// A store that reads the counter, then writes: a check and an increment that
			// concurrent writers interleave, so that a limit of 10 lets more than 10 through.
			m.EXPECT().RecordConversion(gomock.Any(), gomock.Any()).DoAndReturn(func(ctx context.Context, p store.RecordConversionParams) (store.Conversion, error) {
				for i, inc := range p.Increments {
					n, err := real.GetCounter(ctx, inc.Counter)
					if err != nil {
						return store.Conversion{}, err
					}
					if err := inc.Check(n); err != nil {
						return store.Conversion{}, err
					}
					runtime.Gosched()
					p.Increments[i].Limit = 0
				}
				return real.RecordConversion(ctx, p)
			}).AnyTimes()
		},
	},
	{
		name:    "DuplicateBatchIsConflict",
		subtest: "Click/BatchAllOrNothing",
		rule:    "is ErrDuplicate (a retry)",
		install: func(m *mockstoretest.MockStore, real store.Store) {
			// pgstore's old answer to a batch retried whole.
			m.EXPECT().InsertClicks(gomock.Any(), gomock.Any()).DoAndReturn(func(ctx context.Context, p store.InsertClicksParams) error {
				err := real.InsertClicks(ctx, p)
				if errors.Is(err, store.ErrDuplicate) {
					return fmt.Errorf("faulty: unique violation: %w", store.ErrConflict)
				}
				return err
			}).AnyTimes()
		},
	},
	{
		name:    "CancellationIgnored",
		subtest: "Refusals/GetConversion",
		rule:    "rule: GetConversion honours a canceled context",
		install: func(m *mockstoretest.MockStore, real store.Store) {
			m.EXPECT().GetConversion(gomock.Any(), gomock.Any()).DoAndReturn(func(ctx context.Context, id uuid.UUID) (store.Conversion, error) {
				return real.GetConversion(context.WithoutCancel(ctx), id)
			}).AnyTimes()
		},
	},
	{
		name:    "DisabledEndpointLeased",
		subtest: "Endpoint/DisabledNotLeased",
		rule:    "rule: the deliveries of a disabled endpoint are not leased",
		install: func(m *mockstoretest.MockStore, real store.Store) {
			// A store that disables an endpoint in its state but leases its deliveries all the
			// same: it records the reason and leaves the endpoint enabled.
			m.EXPECT().DisableEndpoint(gomock.Any(), gomock.Any()).DoAndReturn(func(ctx context.Context, p store.DisableEndpointParams) (store.EndpointState, error) {
				return store.EndpointState{Name: p.Name, Disabled: true, DisabledReason: p.Reason, DisabledAt: store.NormalizeTime(p.At)}, nil
			}).AnyTimes()
		},
	},
	{
		name:    "WrittenWhileDisabledLostOnEnable",
		subtest: "Endpoint/WritesWhileDisabled",
		rule:    "rule: once its endpoint is enabled, every delivery written while it was disabled is leased",
		install: func(m *mockstoretest.MockStore, real store.Store) {
			// A store that keeps the deliveries recorded for a disabled endpoint apart, and
			// forgets them when the endpoint is enabled: they are never leased again.
			var mu sync.Mutex
			disabled, lost := map[string]bool{}, map[uuid.UUID]bool{}
			m.EXPECT().DisableEndpoint(gomock.Any(), gomock.Any()).DoAndReturn(func(ctx context.Context, p store.DisableEndpointParams) (store.EndpointState, error) {
				mu.Lock()
				defer mu.Unlock()
				disabled[p.Name] = true
				return real.DisableEndpoint(ctx, p)
			}).AnyTimes()
			m.EXPECT().EnableEndpoint(gomock.Any(), gomock.Any()).DoAndReturn(func(ctx context.Context, p store.EnableEndpointParams) (store.EndpointState, error) {
				mu.Lock()
				defer mu.Unlock()
				disabled[p.Name] = false
				return real.EnableEndpoint(ctx, p)
			}).AnyTimes()
			m.EXPECT().RecordConversion(gomock.Any(), gomock.Any()).DoAndReturn(func(ctx context.Context, p store.RecordConversionParams) (store.Conversion, error) {
				mu.Lock()
				defer mu.Unlock()
				for _, d := range p.Deliveries {
					lost[d.ID] = lost[d.ID] || disabled[d.Endpoint]
				}
				return real.RecordConversion(ctx, p)
			}).AnyTimes()
			m.EXPECT().LeaseDeliveries(gomock.Any(), gomock.Any()).DoAndReturn(func(ctx context.Context, p store.LeaseParams) ([]store.Lease, error) {
				ls, err := real.LeaseDeliveries(ctx, p)
				mu.Lock()
				defer mu.Unlock()
				return slices.DeleteFunc(ls, func(l store.Lease) bool { return lost[l.Delivery.ID] }), err
			}).AnyTimes()
		},
	},
	{
		name:    "EndpointStateByRecordingOrder",
		subtest: "Endpoint/AttemptsSetState",
		rule:    "rule: a delivered attempt recorded late never moves LastSuccessAt back",
		install: func(m *mockstoretest.MockStore, real store.Store) {
			// A store that updates an endpoint's state in the order attempts are recorded, not
			// by when they finished: a worker's attempt recorded late moves it back.
			states := map[string]store.EndpointState{}
			m.EXPECT().RecordAttempt(gomock.Any(), gomock.Any()).DoAndReturn(func(ctx context.Context, p store.RecordAttemptParams) (store.Delivery, error) {
				d, err := real.RecordAttempt(ctx, p)
				if err != nil {
					return d, err
				}
				st := states[d.Endpoint]
				st.Name = d.Endpoint
				if finished := p.Attempt.Normalize().FinishedAt; p.Status == store.DeliveryDelivered {
					st.LastSuccessAt, st.FailingSince = finished, time.Time{}
				} else if st.FailingSince.IsZero() {
					st.FailingSince = finished
				}
				states[d.Endpoint] = st
				return d, nil
			}).AnyTimes()
			m.EXPECT().GetEndpoint(gomock.Any(), gomock.Any()).DoAndReturn(func(ctx context.Context, name string) (store.EndpointState, error) {
				if st, ok := states[name]; ok {
					return st, nil
				}
				return real.GetEndpoint(ctx, name)
			}).AnyTimes()
		},
	},
	{
		name:    "ReplayNotRecorded",
		subtest: "Delivery/ReplayedAt",
		rule:    "rule: a replay sets ReplayedAt to its At",
		install: func(m *mockstoretest.MockStore, real store.Store) {
			// A store written before ReplayedAt: it replays, but keeps no time of the replay,
			// so every delivery reads as never replayed.
			forget := func(d store.Delivery) store.Delivery { d.ReplayedAt = time.Time{}; return d }
			m.EXPECT().ReplayDelivery(gomock.Any(), gomock.Any()).DoAndReturn(func(ctx context.Context, p store.ReplayDeliveryParams) (store.Delivery, error) {
				d, err := real.ReplayDelivery(ctx, p)
				return forget(d), err
			}).AnyTimes()
			m.EXPECT().GetDelivery(gomock.Any(), gomock.Any()).DoAndReturn(func(ctx context.Context, id uuid.UUID) (store.Delivery, error) {
				d, err := real.GetDelivery(ctx, id)
				return forget(d), err
			}).AnyTimes()
			m.EXPECT().RecordAttempt(gomock.Any(), gomock.Any()).DoAndReturn(func(ctx context.Context, p store.RecordAttemptParams) (store.Delivery, error) {
				d, err := real.RecordAttempt(ctx, p)
				return forget(d), err
			}).AnyTimes()
		},
	},
	{
		name:    "ForeignLookupByInsertOrder",
		subtest: "Click/ByForeignID/LatestAsOfAndCampaign",
		rule:    "rule: of the clicks that carry a foreign ID, the latest by CreatedAt is returned",
		install: func(m *mockstoretest.MockStore, real store.Store) {
			// A store whose foreign index keeps the click inserted last, not the latest one.
			last := map[clickid.Foreign]store.Click{}
			keep := func(cs ...store.Click) {
				for _, c := range cs {
					if c.ForeignClickID != "" {
						last[c.ForeignClickID] = c.Normalize()
					}
				}
			}
			m.EXPECT().InsertClick(gomock.Any(), gomock.Any()).DoAndReturn(func(ctx context.Context, c store.Click) error {
				err := real.InsertClick(ctx, c)
				if err == nil {
					keep(c)
				}
				return err
			}).AnyTimes()
			m.EXPECT().InsertClicks(gomock.Any(), gomock.Any()).DoAndReturn(func(ctx context.Context, p store.InsertClicksParams) error {
				err := real.InsertClicks(ctx, p)
				if err == nil {
					keep(p.Clicks...)
				}
				return err
			}).AnyTimes()
			m.EXPECT().GetClickByForeign(gomock.Any(), gomock.Any()).DoAndReturn(func(ctx context.Context, p store.GetClickByForeignParams) (store.Click, error) {
				if c, ok := last[p.ForeignClickID]; ok && p.CampaignID == "" && p.AsOf.IsZero() {
					return c, nil
				}
				return real.GetClickByForeign(ctx, p)
			}).AnyTimes()
		},
	},
	{
		name:    "ResolvedAfterTheChange",
		subtest: "Concurrency/Parked/OneResolutionWins",
		rule:    "rule: of concurrent calls that resolve one parked event, exactly one applies",
		install: func(m *mockstoretest.MockStore, real store.Store) {
			// A store that applies the change, then resolves its parked events in a second
			// step: two writes where the contract wants one, so that a change whose parked
			// event was resolved meanwhile has applied all the same.
			m.EXPECT().ChangeStatus(gomock.Any(), gomock.Any()).DoAndReturn(func(ctx context.Context, p store.ChangeStatusParams) (store.Conversion, error) {
				resolve := p.Resolve
				p.Resolve = nil
				c, err := real.ChangeStatus(ctx, p)
				if err != nil || len(resolve) == 0 {
					return c, err
				}
				runtime.Gosched()
				if err := real.ResolveParked(ctx, store.ResolveParkedParams{IDs: resolve, AppliedTo: c.ID, At: p.At}); err != nil && !errors.Is(err, store.ErrConflict) {
					return store.Conversion{}, err
				}
				return c, nil
			}).AnyTimes()
		},
	},
	{
		name:    "InboundOldestFirst",
		subtest: "Paging/ListInbound",
		rule:    "together are the whole listing, in order",
		install: func(m *mockstoretest.MockStore, real store.Store) {
			// A store that lists the inbound log in the order of the other listings, oldest
			// first: the status page would show the first postbacks ever received.
			m.EXPECT().ListInbound(gomock.Any(), gomock.Any()).DoAndReturn(func(ctx context.Context, p store.ListInboundParams) ([]store.InboundRecord, error) {
				after, limit := p.After, store.ListLimit(p.Limit, 100)
				p.After, p.Limit = store.Cursor{}, 1000
				rs, err := real.ListInbound(ctx, p)
				slices.Reverse(rs)
				rs = slices.DeleteFunc(rs, func(r store.InboundRecord) bool {
					if after == (store.Cursor{}) {
						return false
					}
					if c := r.ReceivedAt.Compare(after.At); c != 0 {
						return c < 0
					}
					return slices.Compare(r.ID[:], after.ID[:]) <= 0
				})
				return rs[:min(len(rs), limit)], err
			}).AnyTimes()
		},
	},
	{
		name:    "CursorStartsIn1970",
		subtest: "Paging/ListDeliveries",
		rule:    "together are the whole listing, in order",
		install: func(m *mockstoretest.MockStore, real store.Store) {
			// pgstore's old first page: nothing created before the Unix epoch.
			m.EXPECT().ListDeliveries(gomock.Any(), gomock.Any()).DoAndReturn(func(ctx context.Context, p store.ListDeliveriesParams) ([]store.Delivery, error) {
				ds, err := real.ListDeliveries(ctx, p)
				return slices.DeleteFunc(ds, func(d store.Delivery) bool { return d.CreatedAt.Before(time.Unix(0, 0)) }), err
			}).AnyTimes()
		},
	},
	{
		name:    "ConversionDeliveriesWithoutAttempts",
		subtest: "ByConversion/LinesAndDeliveries",
		rule:    "a listed delivery has its attempts",
		install: func(m *mockstoretest.MockStore, real store.Store) {
			// A store that lists a conversion's deliveries from their own table alone: the
			// timeline would show a dead delivery with no attempt to say why.
			m.EXPECT().ListConversionDeliveries(gomock.Any(), gomock.Any()).DoAndReturn(func(ctx context.Context, p store.ListConversionDeliveriesParams) ([]store.Delivery, error) {
				ds, err := real.ListConversionDeliveries(ctx, p)
				for i := range ds {
					ds[i].Attempts = nil
				}
				return ds, err
			}).AnyTimes()
		},
	},
}

// faultEnv names the fault that TestConformance_MockStore installs when it runs as the
// subprocess of TestRun_CatchesFaults.
const faultEnv = "S2S_STORETEST_FAULT"

// newMockStore returns a mock store that behaves as a memstore, but for the named fault.
func newMockStore(t *testing.T, faultName string) store.Store {
	ctrl := gomock.NewController(t)
	m := mockstoretest.NewMockStore(ctrl)
	real := memstore.New(nil)
	for _, f := range faults {
		if f.name == faultName {
			f.install(m, real) // first, so that it is matched before the delegation below
		}
	}
	delegate(m, real)
	return m
}

// delegate makes every method of m call real's.
func delegate(m *mockstoretest.MockStore, real store.Store) {
	e := m.EXPECT()
	e.InsertClick(gomock.Any(), gomock.Any()).DoAndReturn(real.InsertClick).AnyTimes()
	e.InsertClicks(gomock.Any(), gomock.Any()).DoAndReturn(real.InsertClicks).AnyTimes()
	e.GetClick(gomock.Any(), gomock.Any()).DoAndReturn(real.GetClick).AnyTimes()
	e.GetClickByForeign(gomock.Any(), gomock.Any()).DoAndReturn(real.GetClickByForeign).AnyTimes()
	e.BindPlayer(gomock.Any(), gomock.Any()).DoAndReturn(real.BindPlayer).AnyTimes()
	e.GetBinding(gomock.Any(), gomock.Any()).DoAndReturn(real.GetBinding).AnyTimes()
	e.RecordConversion(gomock.Any(), gomock.Any()).DoAndReturn(real.RecordConversion).AnyTimes()
	e.GetConversion(gomock.Any(), gomock.Any()).DoAndReturn(real.GetConversion).AnyTimes()
	e.GetConversionByKey(gomock.Any(), gomock.Any()).DoAndReturn(real.GetConversionByKey).AnyTimes()
	e.ChangeStatus(gomock.Any(), gomock.Any()).DoAndReturn(real.ChangeStatus).AnyTimes()
	e.ListConversions(gomock.Any(), gomock.Any()).DoAndReturn(real.ListConversions).AnyTimes()
	e.ListConversionsByTransaction(gomock.Any(), gomock.Any()).DoAndReturn(real.ListConversionsByTransaction).AnyTimes()
	e.LastActivity(gomock.Any(), gomock.Any()).DoAndReturn(real.LastActivity).AnyTimes()
	e.InsertLedgerLines(gomock.Any(), gomock.Any()).DoAndReturn(real.InsertLedgerLines).AnyTimes()
	e.ListLedgerLines(gomock.Any(), gomock.Any()).DoAndReturn(real.ListLedgerLines).AnyTimes()
	e.ListConversionLines(gomock.Any(), gomock.Any()).DoAndReturn(real.ListConversionLines).AnyTimes()
	e.LeaseDeliveries(gomock.Any(), gomock.Any()).DoAndReturn(real.LeaseDeliveries).AnyTimes()
	e.RecordAttempt(gomock.Any(), gomock.Any()).DoAndReturn(real.RecordAttempt).AnyTimes()
	e.GetDelivery(gomock.Any(), gomock.Any()).DoAndReturn(real.GetDelivery).AnyTimes()
	e.ListDeliveries(gomock.Any(), gomock.Any()).DoAndReturn(real.ListDeliveries).AnyTimes()
	e.ListConversionDeliveries(gomock.Any(), gomock.Any()).DoAndReturn(real.ListConversionDeliveries).AnyTimes()
	e.ReplayDelivery(gomock.Any(), gomock.Any()).DoAndReturn(real.ReplayDelivery).AnyTimes()
	e.ReplayDeliveries(gomock.Any(), gomock.Any()).DoAndReturn(real.ReplayDeliveries).AnyTimes()
	e.GetEndpoint(gomock.Any(), gomock.Any()).DoAndReturn(real.GetEndpoint).AnyTimes()
	e.ListEndpoints(gomock.Any(), gomock.Any()).DoAndReturn(real.ListEndpoints).AnyTimes()
	e.DisableEndpoint(gomock.Any(), gomock.Any()).DoAndReturn(real.DisableEndpoint).AnyTimes()
	e.EnableEndpoint(gomock.Any(), gomock.Any()).DoAndReturn(real.EnableEndpoint).AnyTimes()
	e.GetCounter(gomock.Any(), gomock.Any()).DoAndReturn(real.GetCounter).AnyTimes()
	e.ParkEvent(gomock.Any(), gomock.Any()).DoAndReturn(real.ParkEvent).AnyTimes()
	e.ListParked(gomock.Any(), gomock.Any()).DoAndReturn(real.ListParked).AnyTimes()
	e.ResolveParked(gomock.Any(), gomock.Any()).DoAndReturn(real.ResolveParked).AnyTimes()
	e.LogInbound(gomock.Any(), gomock.Any()).DoAndReturn(real.LogInbound).AnyTimes()
	e.ListInbound(gomock.Any(), gomock.Any()).DoAndReturn(real.ListInbound).AnyTimes()
	e.PruneInbound(gomock.Any(), gomock.Any()).DoAndReturn(real.PruneInbound).AnyTimes()
	e.RecordRevenue(gomock.Any(), gomock.Any()).DoAndReturn(real.RecordRevenue).AnyTimes()
	e.GetRevenue(gomock.Any(), gomock.Any()).DoAndReturn(real.GetRevenue).AnyTimes()
	e.ListRevenue(gomock.Any(), gomock.Any()).DoAndReturn(real.ListRevenue).AnyTimes()
	e.ClosePeriod(gomock.Any(), gomock.Any()).DoAndReturn(real.ClosePeriod).AnyTimes()
	e.LastClose(gomock.Any()).DoAndReturn(real.LastClose).AnyTimes()
	e.Aggregate(gomock.Any(), gomock.Any()).DoAndReturn(real.Aggregate).AnyTimes()
	e.CountAttempts(gomock.Any(), gomock.Any()).DoAndReturn(real.CountAttempts).AnyTimes()
}

// TestConformance_MockStore runs the suite on the mock store. Without a fault it must pass:
// the delegation is faithful, so the suite's failures below come from the faults alone. As
// the subprocess of TestRun_CatchesFaults, it installs the fault that faultEnv names.
func TestConformance_MockStore(t *testing.T) {
	t.Parallel()
	name := os.Getenv(faultEnv)
	storetest.Run(t, storetest.Harness{
		NewStore: func(t *testing.T) store.Store { return newMockStore(t, name) },
	})
}

// TestRun_CatchesFaults checks that the suite can fail: for each fault, it runs the subtest
// that must catch it on the faulty store, in a subprocess (a failing suite fails its test),
// and checks that the subtest fails with its rule, and passes without the fault.
func TestRun_CatchesFaults(t *testing.T) {
	t.Parallel()
	for _, f := range faults {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			run := func(fault string) (string, error) {
				pattern := "^TestConformance_MockStore$"
				for _, part := range strings.Split(f.subtest, "/") {
					pattern += "/^" + part + "$"
				}
				cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run="+pattern, "-test.count=1", "-test.v")
				cmd.Env = append(os.Environ(), faultEnv+"="+fault)
				out, err := cmd.CombinedOutput()
				return string(out), err
			}
			out, err := run("none")
			require.NoError(t, err, "without the fault, %s passes on the mock store:\n%s", f.subtest, out)
			require.Contains(t, out, "--- PASS: TestConformance_MockStore/"+f.subtest, "the subtest %s exists and ran", f.subtest)
			out, err = run(f.name)
			require.Error(t, err, "rule: the suite fails a store with the fault %s", f.name)
			require.Contains(t, out, "--- FAIL: TestConformance_MockStore/"+f.subtest, "rule: the fault %s fails the subtest %s", f.name, f.subtest)
			require.Contains(t, out, f.rule, "rule: the suite names the rule that the fault %s breaks", f.name)
		})
	}
}
